package litbench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/extract"
	"github.com/genesis-science/genesis/internal/lit/formats"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
	"github.com/genesis-science/genesis/internal/store/sqlite"
)

// Options is what `genesis bench lit` runs.
type Options struct {
	// Corpus is the directory of .tar.gz archives; Queries the judged
	// query set (JSON Lines).
	Corpus, Queries string
	// Docs, if > 0, imports only the first Docs articles (archive order)
	// and keeps only the judgements on them (and the queries that still
	// have a relevant one): a quick slice.
	Docs int
	// K is the cut-off of recall@k and nDCG@k (default 10). MRR looks at
	// the whole result list (Depth passages, default and at most 100).
	K, Depth int
	// Dim is the LSA embedding's dimension (default llm.DefaultLSADim).
	Dim int
	// Store is a DSN (postgres://… or a SQLite file, which should be new:
	// the corpus is imported into it); "" is a temporary SQLite database.
	Store string
	// Extraction, if set, reports the fact extractor's precision and
	// recall on its gold set.
	Extraction func() (*Extraction, error)
	// Progress, if set, receives a line per phase.
	Progress func(format string, args ...any)
}

// Result is the benchmark's outcome (--json).
type Result struct {
	Store     string    `json:"store"`
	Corpus    Corpus    `json:"corpus"`
	Import    Rate      `json:"import"`
	Embedding Embedding `json:"embedding"`
	Queries   int       `json:"queries"`
	// Dropped lists the queries left out because none of their relevant
	// judgements names an imported document's identity (with --docs, the
	// documents outside the slice; otherwise a parser that reads a
	// different identity than the judgements name).
	Dropped []string  `json:"dropped_queries,omitempty"`
	K       int       `json:"k"`
	Depth   int       `json:"depth"`
	BM25    Retrieval `json:"bm25"`
	Hybrid  Retrieval `json:"hybrid"`
	// Reference is RefBM25 (any-term BM25 computed by the benchmark over
	// the same stored passages): not served by Genesis, a yardstick for
	// the served BM25's all-terms matching.
	Reference Retrieval `json:"reference_bm25_any_term"`
	// Extraction is nil when no extractor evaluation was available.
	Extraction *Extraction `json:"extraction,omitempty"`
	// Notes say what the figures are and are not.
	Notes []string `json:"notes"`
}

// Corpus describes what was imported.
type Corpus struct {
	Files        int   `json:"files"`
	Documents    int   `json:"documents"`
	Bytes        int64 `json:"bytes"`
	Passages     int   `json:"passages"`
	Facts        int   `json:"facts"`
	Publications int   `json:"publications"` // distinct publications stored
}

// Rate is the import's speed: parsing (internal/lit/formats) and storing
// (the library service: catalog asset, passages, search index rows,
// facts, citation edges; one transaction per document) timed apart.
type Rate struct {
	ParseSeconds    float64 `json:"parse_seconds"`
	StoreSeconds    float64 `json:"store_seconds"`
	DocsPerSecond   float64 `json:"docs_per_second"`
	PassagesPerSec  float64 `json:"passages_per_second"`
	MBPerSecond     float64 `json:"mb_per_second"` // source XML bytes over parse + store time
	StorePassPerSec float64 `json:"store_passages_per_second"`
}

// Embedding describes the vectors hybrid search used.
type Embedding struct {
	Model          string  `json:"model"`
	Dim            int     `json:"dim"`
	Vocabulary     int     `json:"vocabulary"`
	BuildSeconds   float64 `json:"build_seconds"` // fitting the LSA model on the passages
	Passages       int     `json:"passages"`      // passages embedded by ReindexVectors
	Seconds        float64 `json:"seconds"`
	PassagesPerSec float64 `json:"passages_per_second"`
}

// Retrieval is one search mode's scores over the query set, overall and
// per query kind, and its latency.
type Retrieval struct {
	Mode   string  `json:"mode"`
	Recall float64 `json:"recall_at_k"`
	NDCG   float64 `json:"ndcg_at_k"`
	MRR    float64 `json:"mrr"`
	// Judged is the mean share of each query's top k that was judged (any
	// grade): below 1, part of the ranking was never seen by a judge.
	Judged   float64           `json:"judged_at_k"`
	ByKind   map[string]Scores `json:"by_kind"`
	P50ms    float64           `json:"latency_p50_ms"`
	P95ms    float64           `json:"latency_p95_ms"`
	PerQuery []QueryScore      `json:"per_query,omitempty"`
}

// QueryScore is one query's scores.
type QueryScore struct {
	ID string `json:"id"`
	Scores
}

// Extraction is the fact extractor's quality on its gold set.
type Extraction struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Gold      int     `json:"gold_statements"`
	Expected  int     `json:"expected_assertions"`
	Extracted int     `json:"extracted_assertions"`
	Matched   int     `json:"matched_assertions"`
	// On the matched pairs: the share whose conditions, and methods, agree
	// exactly.
	ConditionAccuracy float64 `json:"condition_accuracy"`
	MethodAccuracy    float64 `json:"method_accuracy"`
	// HeldOut scores the two held-out sets (internal/lit/extract/testdata):
	// each was committed before the extractor first ran on it, and rules
	// were changed after that first run, so these scores are refits too;
	// the first-run figures, the unfitted estimate, are in that README.
	HeldOut []HeldOutScore `json:"held_out"`
}

// HeldOutScore is the extractor's precision and recall on one held-out set.
type HeldOutScore struct {
	Set        string  `json:"set"`
	Statements int     `json:"statements"`
	Precision  float64 `json:"precision"`
	Recall     float64 `json:"recall"`
}

// ExtractorQuality scores internal/lit/extract on its embedded gold set
// (extract.Evaluate over extract.Gold).
func ExtractorQuality() (*Extraction, error) {
	s := extract.Evaluate(extract.Gold())
	x := &Extraction{Precision: s.Precision, Recall: s.Recall, F1: s.F1, Gold: s.Items, Expected: s.Gold,
		Extracted: s.Predicted, Matched: s.TruePositives, ConditionAccuracy: s.ConditionAccuracy, MethodAccuracy: s.MethodAccuracy}
	for _, h := range []struct {
		name  string
		items []extract.GoldItem
	}{{"heldout", extract.HeldOut()}, {"heldout2", extract.HeldOut2()}} {
		hs := extract.Evaluate(h.items)
		x.HeldOut = append(x.HeldOut, HeldOutScore{Set: h.name, Statements: hs.Items, Precision: hs.Precision, Recall: hs.Recall})
	}
	return x, nil
}

const benchUser = "genesis-bench-lit"

// env is a store with the services the benchmark drives.
type env struct {
	db    *store.SQLDB
	ids   *identity.Service
	az    *authz.Authorizer
	user  *genesis.Principal
	close func()
}

func openEnv(ctx context.Context, dsn, dir string) (*env, string, error) {
	const op errors.Op = "litbench.openEnv"
	var db *store.SQLDB
	var err error
	desc := "sqlite (temporary)"
	switch {
	case dsn == "":
		db, err = sqlite.Open(ctx, filepath.Join(dir, "genesis.db"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err = postgres.Open(ctx, dsn)
		desc = "postgresql (given)"
	default:
		db, err = sqlite.Open(ctx, dsn)
		desc = "sqlite (given)"
	}
	if err != nil {
		return nil, "", errors.E(op, errors.Invalid, errors.Field("store"), errors.Msg("cannot open the store"), err)
	}
	e := &env{db: db, close: func() { db.Close() }}
	if _, err := store.Migrate(ctx, db); err != nil {
		e.close()
		return nil, "", errors.E(op, err)
	}
	e.ids = identity.New(db)
	if _, err := e.ids.Bootstrap(ctx, "admin"); err != nil {
		e.close()
		return nil, "", errors.E(op, err)
	}
	actor := &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}
	e.user, err = e.ids.Principal(ctx, actor, benchUser)
	if errors.Is(errors.NotExist, err) {
		e.user, err = e.ids.CreatePrincipal(ctx, genesis.Principal{Name: benchUser, Kind: genesis.KindUser, DisplayName: "genesis bench lit",
			Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleContributor}})
	}
	if err != nil {
		e.close()
		return nil, "", errors.E(op, err)
	}
	if e.az, err = authz.New(e.ids, time.Now); err != nil {
		e.close()
		return nil, "", errors.E(op, err)
	}
	return e, desc, nil
}

// library builds a literature service over the environment's store, with
// its own catalog and search index instances (emb nil: BM25 only).
func (e *env) library(emb llm.Embedder) (*library.Service, error) {
	cat := catalog.New(catalog.Config{DB: e.db, Blobs: memblob.New(false), Authz: e.az, Principals: e.ids})
	ix, err := search.New(e.db)
	if err != nil {
		return nil, err
	}
	cat.SetSearch(ix)
	return library.New(library.Config{DB: e.db, Catalog: cat, Index: ix, Authz: e.az, Principals: e.ids,
		Parse: formats.Parse, Extract: extract.Extract, Embedder: emb})
}

// Bench runs the benchmark.
func Bench(ctx context.Context, o Options) (*Result, error) {
	const op errors.Op = "litbench.Bench"
	if o.K == 0 {
		o.K = 10
	}
	if o.Depth == 0 {
		o.Depth = 100
	}
	switch {
	case o.K < 1 || o.K > 100:
		return nil, errors.E(op, errors.Invalid, errors.Field("k"), errors.Msg("--k must be between 1 and 100"))
	case o.Depth < o.K || o.Depth > 100:
		return nil, errors.E(op, errors.Invalid, errors.Field("depth"), errors.Msg("--depth must be between k and 100"))
	case o.Docs < 0:
		return nil, errors.E(op, errors.Invalid, errors.Field("docs"), errors.Msg("--docs must not be negative"))
	case o.Dim < 0 || o.Dim > llm.MaxDimension:
		return nil, errors.E(op, errors.Invalid, errors.Field("dim"), errors.Msg("--dim out of range"))
	}
	progress := o.Progress
	if progress == nil {
		progress = func(string, ...any) {}
	}
	qf, err := os.Open(o.Queries)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("queries"), errors.Msg("cannot open the query set"), err)
	}
	queries, err := LoadQueries(qf)
	qf.Close()
	if err != nil {
		return nil, errors.E(op, errors.Field("queries"), err)
	}
	files, err := ReadCorpus(o.Corpus)
	if err != nil {
		return nil, errors.E(op, errors.Field("corpus"), err)
	}
	if o.Docs > 0 && o.Docs < len(files) {
		files = files[:o.Docs]
	}
	r := &Result{K: o.K, Depth: o.Depth}

	// Parse.
	t0 := time.Now()
	var docs []lit.Document
	for _, f := range files {
		ds, err := formats.Parse(ctx, f.Name, bytes.NewReader(f.Data), "")
		if err != nil {
			return nil, errors.E(op, errors.Msg("corpus file "+f.Name+" does not parse"), err)
		}
		docs = append(docs, ds...)
		r.Corpus.Bytes += int64(len(f.Data))
	}
	r.Import.ParseSeconds = time.Since(t0).Seconds()
	r.Corpus.Files, r.Corpus.Documents = len(files), len(docs)
	progress("parsed %d files (%d documents, %.1f MB) in %.2f s", len(files), len(docs), float64(r.Corpus.Bytes)/1e6, r.Import.ParseSeconds)

	// Keep the judgements the slice can satisfy.
	inSlice := map[string]bool{}
	for _, d := range docs {
		if d.DOI != "" {
			inSlice[NormalizeDoc("doi:"+d.DOI)] = true
		}
	}
	queries, r.Dropped = restrict(queries, inSlice)
	if len(queries) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("no query has a relevant passage in the imported documents"))
	}
	r.Queries = len(queries)

	// Store.
	tmp, err := os.MkdirTemp("", "genesis-bench-lit-")
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	defer os.RemoveAll(tmp)
	e, desc, err := openEnv(ctx, o.Store, tmp)
	if err != nil {
		return nil, errors.E(op, err)
	}
	defer e.close()
	r.Store = desc
	bm, err := e.library(nil)
	if err != nil {
		return nil, errors.E(op, err)
	}
	t0 = time.Now()
	res, err := bm.ImportDocuments(ctx, e.user, "OPEN", "", docs)
	if err != nil {
		return nil, errors.E(op, err)
	}
	r.Import.StoreSeconds = time.Since(t0).Seconds()
	pubs := map[string]bool{}
	var order []string // publications in corpus order (IDs are random; the LSA fit must not depend on them)
	for _, im := range res.Publications {
		if im.Status == library.StatusRejected {
			return nil, errors.E(op, errors.Internal, errors.Msg("the library rejected corpus document "+im.Title+": "+im.Error))
		}
		r.Corpus.Passages += im.Passages
		r.Corpus.Facts += im.Facts
		if !pubs[im.ID] {
			order = append(order, im.ID)
		}
		pubs[im.ID] = true
	}
	r.Corpus.Publications = len(pubs)
	total := r.Import.ParseSeconds + r.Import.StoreSeconds
	r.Import.DocsPerSecond = float64(len(docs)) / total
	r.Import.PassagesPerSec = float64(r.Corpus.Passages) / total
	r.Import.MBPerSecond = float64(r.Corpus.Bytes) / 1e6 / total
	r.Import.StorePassPerSec = float64(r.Corpus.Passages) / r.Import.StoreSeconds
	progress("imported %d publications, %d passages in %.2f s", len(pubs), r.Corpus.Passages, r.Import.StoreSeconds)

	dois := map[string]string{}
	docOf := func(pub string) (string, error) {
		if d, ok := dois[pub]; ok {
			return d, nil
		}
		p, err := bm.Publication(ctx, e.user, pub)
		if err != nil {
			return "", err
		}
		d := ""
		if p.Citation.DOI != "" {
			d = "doi:" + p.Citation.DOI
		}
		dois[pub] = d
		return d, nil
	}
	// The embedder: LSA fitted on the stored passages, in process.
	var texts []string
	var stored []Ranked
	for _, id := range order {
		ps, err := bm.Passages(ctx, e.user, id)
		if err != nil {
			return nil, errors.E(op, err)
		}
		d, err := docOf(id)
		if err != nil {
			return nil, errors.E(op, err)
		}
		for _, p := range ps {
			texts = append(texts, p.Text)
			stored = append(stored, Ranked{Doc: d, Text: p.Text})
		}
	}
	t0 = time.Now()
	lsa := llm.NewLSA(texts, o.Dim)
	r.Embedding = Embedding{Model: lsa.Model(), Dim: lsa.Dim(), Vocabulary: lsa.Vocabulary(), BuildSeconds: time.Since(t0).Seconds()}
	hy, err := e.library(lsa)
	if err != nil {
		return nil, errors.E(op, err)
	}
	t0 = time.Now()
	n, err := hy.ReindexVectors(ctx)
	if err != nil {
		return nil, errors.E(op, err)
	}
	r.Embedding.Seconds = time.Since(t0).Seconds()
	r.Embedding.Passages = n
	if r.Embedding.Seconds > 0 {
		r.Embedding.PassagesPerSec = float64(n) / r.Embedding.Seconds
	}
	progress("LSA %s (%d terms) fitted in %.2f s; %d passages embedded in %.2f s", r.Embedding.Model, r.Embedding.Vocabulary, r.Embedding.BuildSeconds, n, r.Embedding.Seconds)

	// Retrieval.
	served := func(s *library.Service, mode string) func(string) ([]Ranked, error) {
		return func(q string) ([]Ranked, error) {
			hits, err := s.Search(ctx, e.user, lit.Query{Text: q, Mode: mode, Limit: o.Depth})
			if err != nil {
				return nil, err
			}
			ranked := make([]Ranked, len(hits))
			for i, h := range hits {
				d, err := docOf(h.Publication)
				if err != nil {
					return nil, err
				}
				ranked[i] = Ranked{Doc: d, Text: h.Text}
			}
			return ranked, nil
		}
	}
	ref := NewRefBM25(stored)
	for _, m := range []struct {
		search func(string) ([]Ranked, error)
		mode   string
		out    *Retrieval
	}{
		{served(bm, lit.ModeBM25), lit.ModeBM25, &r.BM25},
		{served(hy, lit.ModeHybrid), lit.ModeHybrid, &r.Hybrid},
		{func(q string) ([]Ranked, error) { return ref.Search(q, o.Depth), nil }, "ref-bm25-any", &r.Reference},
	} {
		ret, err := evaluate(m.search, m.mode, queries, o.K)
		if err != nil {
			return nil, errors.E(op, err)
		}
		*m.out = *ret
		progress("%s: recall@%d %.3f, nDCG@%d %.3f, MRR %.3f", m.mode, o.K, ret.Recall, o.K, ret.NDCG, ret.MRR)
	}

	if o.Extraction != nil {
		x, err := o.Extraction()
		if err != nil {
			return nil, errors.E(op, err)
		}
		r.Extraction = x
	}
	r.Notes = notes(r)
	return r, nil
}

func notes(r *Result) []string {
	n := []string{
		"hybrid = BM25 top 100 and vector top 100 among readable passages fused by reciprocal-rank fusion (k = 60), as the library serves it",
		"embedding model: " + r.Embedding.Model + " — latent semantic analysis fitted in process on this corpus's passages (no neural model, no network); a stronger embedding endpoint would change the hybrid figures",
		"ref-bm25-any is not served by Genesis: BM25 (k1 1.2, b 0.75) matching ANY query term, computed by the benchmark over the same stored passages with corpus-wide statistics — a yardstick for the served BM25 (the catalog's engine, term by term over readable passages, passages holding every term first); a similar any-term BM25 made the first judgement pool, which favours this reference",
		"judgements were pooled from an any-term BM25 (round 1) and from this library's hybrid search with an LSA embedder (round 2, top 10); unjudged passages count as not relevant",
		"passages per second counts parsing and storing (catalog asset, passages, search-index rows, fact extraction with internal/lit/extract, citation edges; one transaction per document); embedding is timed apart",
	}
	if len(r.Dropped) > 0 {
		which := ""
		if len(r.Dropped) <= 10 {
			which = " (" + strings.Join(r.Dropped, ", ") + ")"
		}
		n = append(n, fmt.Sprintf("%d queries left out: no relevant judgement names an imported document%s", len(r.Dropped), which))
	}
	if r.Extraction == nil {
		n = append(n, "extraction precision/recall: not measured (no extractor evaluation linked into this build)")
	}
	return n
}

// restrict keeps the judgements on documents in the slice and the queries
// that still have a relevant one, and lists the others.
func restrict(qs []Query, in map[string]bool) (out []Query, dropped []string) {
	for _, q := range qs {
		var rel []Judged
		ok := false
		for _, j := range q.Relevant {
			if in[NormalizeDoc(j.Doc)] {
				rel = append(rel, j)
				ok = ok || j.Grade > 0
			}
		}
		if !ok {
			dropped = append(dropped, q.ID)
			continue
		}
		q.Relevant = rel
		out = append(out, q)
	}
	return out, dropped
}

func evaluate(search func(string) ([]Ranked, error), mode string, qs []Query, k int) (*Retrieval, error) {
	ret := &Retrieval{Mode: mode, ByKind: map[string]Scores{}}
	var all []Scores
	kinds := map[string][]Scores{}
	var lat []float64
	judged := 0.0
	for _, q := range qs {
		t0 := time.Now()
		ranked, err := search(q.Query)
		if err != nil {
			return nil, errors.E(errors.Msg("query "+q.ID), err)
		}
		lat = append(lat, float64(time.Since(t0))/float64(time.Millisecond))
		sc := Score(ranked, q.Relevant, k)
		judged += JudgedAt(ranked, q.Relevant, k)
		all = append(all, sc)
		kinds[q.Kind] = append(kinds[q.Kind], sc)
		ret.PerQuery = append(ret.PerQuery, QueryScore{ID: q.ID, Scores: sc})
	}
	m := Mean(all)
	ret.Recall, ret.NDCG, ret.MRR = m.Recall, m.NDCG, m.RR
	ret.Judged = judged / float64(len(qs))
	for kind, ss := range kinds {
		ret.ByKind[kind] = Mean(ss)
	}
	slices.Sort(lat)
	ret.P50ms, ret.P95ms = quantile(lat, 0.5), quantile(lat, 0.95)
	return ret, nil
}

func quantile(s []float64, f float64) float64 {
	if len(s) == 0 {
		return 0
	}
	h := f * float64(len(s)-1)
	lo := int(h)
	hi := min(lo+1, len(s)-1)
	return s[lo] + (h-float64(lo))*(s[hi]-s[lo])
}
