package litbench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/genesis-science/genesis/internal/errors"
)

// Default locations, relative to a source checkout's root.
const (
	DefaultCorpus  = "internal/lit/testdata/corpus"
	DefaultQueries = "internal/lit/testdata/queries.jsonl"
)

// Run is `genesis bench lit`; args are the arguments after "lit".
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const op errors.Op = "litbench.Run"
	fs := flag.NewFlagSet("genesis bench lit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := Options{Extraction: ExtractorQuality}
	fs.StringVar(&o.Corpus, "corpus", DefaultCorpus, "directory of .tar.gz corpus archives")
	fs.StringVar(&o.Queries, "queries", DefaultQueries, "judged query set (JSON Lines)")
	fs.IntVar(&o.Docs, "docs", 0, "import only the first N articles and keep the judgements on them (0: all)")
	fs.IntVar(&o.K, "k", 10, "cut-off of recall@k and nDCG@k")
	fs.IntVar(&o.Depth, "depth", 100, "passages retrieved per query (MRR looks this deep; at most 100)")
	fs.IntVar(&o.Dim, "dim", 0, "LSA embedding dimension (0: the default, 128)")
	fs.StringVar(&o.Store, "store", "", "metadata store DSN (postgres://… or a new SQLite file; default: a temporary SQLite database)")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	perQuery := fs.Bool("per-query", false, "include per-query scores (JSON) or list them (table)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: genesis bench lit [--corpus DIR] [--queries FILE] [--docs N] [--k 10] [--depth 100] [--dim 128] [--store DSN] [--json] [--per-query]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errors.E(op, errors.Invalid, errors.Msg("bad flags"), err)
	}
	if fs.NArg() > 0 {
		return errors.E(op, errors.Invalid, errors.Msg("unexpected argument "+strconv.Quote(fs.Arg(0))))
	}
	o.Progress = func(format string, a ...any) { fmt.Fprintf(stderr, "bench: "+format+"\n", a...) }
	r, err := Bench(ctx, o)
	if err != nil {
		return errors.E(op, err)
	}
	if *asJSON {
		out := *r
		if !*perQuery {
			out.BM25.PerQuery, out.Hybrid.PerQuery, out.Reference.PerQuery = nil, nil, nil
		}
		if err := json.NewEncoder(stdout).Encode(out); err != nil {
			return errors.E(op, errors.Internal, err)
		}
		return nil
	}
	PrintText(stdout, r, *perQuery)
	return nil
}

// PrintText writes the result as a table.
func PrintText(w io.Writer, r *Result, perQuery bool) {
	c := r.Corpus
	fmt.Fprintf(w, "literature benchmark (store %s)\n", r.Store)
	fmt.Fprintf(w, "  corpus: %d files, %d documents, %.1f MB; %d publications, %d passages, %d facts\n",
		c.Files, c.Documents, float64(c.Bytes)/1e6, c.Publications, c.Passages, c.Facts)
	im := r.Import
	fmt.Fprintf(w, "  import: parse %.2f s + store %.2f s → %.1f docs/s, %.0f passages/s, %.2f MB/s (store alone %.0f passages/s)\n",
		im.ParseSeconds, im.StoreSeconds, im.DocsPerSecond, im.PassagesPerSec, im.MBPerSecond, im.StorePassPerSec)
	em := r.Embedding
	fmt.Fprintf(w, "  embedding: %s (LSA, in process; dim %d, %d terms) fitted in %.2f s; %d passages embedded at %.0f passages/s\n",
		em.Model, em.Dim, em.Vocabulary, em.BuildSeconds, em.Passages, em.PassagesPerSec)
	fmt.Fprintf(w, "  retrieval: %d judged queries, recall@%d, nDCG@%d (graded), MRR over the top %d, judged = share of the top %d that was judged\n", r.Queries, r.K, r.K, r.Depth, r.K)
	fmt.Fprintf(w, "  %-12s  %-12s  %9s  %9s  %7s  %9s  %9s  %9s\n", "mode", "queries", "recall", "nDCG", "MRR", "judged", "p50 ms", "p95 ms")
	for _, m := range []*Retrieval{&r.BM25, &r.Hybrid, &r.Reference} {
		fmt.Fprintf(w, "  %-12s  %-12s  %9.3f  %9.3f  %7.3f  %9.3f  %9.1f  %9.1f\n", m.Mode, "all", m.Recall, m.NDCG, m.MRR, m.Judged, m.P50ms, m.P95ms)
		kinds := make([]string, 0, len(m.ByKind))
		for k := range m.ByKind {
			kinds = append(kinds, k)
		}
		slices.Sort(kinds)
		for _, k := range kinds {
			s := m.ByKind[k]
			fmt.Fprintf(w, "  %-12s  %-12s  %9.3f  %9.3f  %7.3f\n", "", k, s.Recall, s.NDCG, s.RR)
		}
	}
	if x := r.Extraction; x != nil {
		fmt.Fprintf(w, "  extraction (internal/lit/extract gold set: %d statements, %d expected assertions): precision %.3f, recall %.3f, F1 %.3f (%d extracted, %d matched; conditions agree on %.3f, methods on %.3f of matches)\n",
			x.Gold, x.Expected, x.Precision, x.Recall, x.F1, x.Extracted, x.Matched, x.ConditionAccuracy, x.MethodAccuracy)
		for _, h := range x.HeldOut {
			fmt.Fprintf(w, "  extraction, held-out set %s (%d statements; rules were revised after its first run, see internal/lit/extract/testdata/README.md): precision %.3f, recall %.3f\n",
				h.Set, h.Statements, h.Precision, h.Recall)
		}
	}
	if perQuery {
		fmt.Fprintf(w, "  per query (bm25 → hybrid nDCG@%d):\n", r.K)
		for i, q := range r.BM25.PerQuery {
			h := r.Hybrid.PerQuery[i]
			fmt.Fprintf(w, "    %-5s %.3f → %.3f\n", q.ID, q.NDCG, h.NDCG)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
