package litbench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit/formats"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

// sliceQueries writes a query file for the first n corpus articles: the
// real judged queries, plus one known-item query per article — its title
// as typed, whose title passage is the relevant one — so that both search
// modes have queries a working pipeline must answer.
func sliceQueries(t *testing.T, n int) string {
	t.Helper()
	files, err := ReadCorpus(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	real, err := os.ReadFile(queriesPath)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	b.Write(real)
	for i, f := range files[:n] {
		docs, err := formats.Parse(ctx, f.Name, bytes.NewReader(f.Data), "")
		if err != nil || len(docs) != 1 || docs[0].DOI == "" {
			t.Fatalf("%s: %v, %d documents", f.Name, err, len(docs))
		}
		title := docs[0].Title
		if len(Normalize(title)) < minContains {
			continue
		}
		q := Query{ID: "known-" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Query: title, Kind: KindKeyword,
			Relevant: []Judged{{Doc: "doi:" + docs[0].DOI, Contains: title, Grade: 2}}}
		line, _ := json.Marshal(q)
		b.Write(line)
		b.WriteByte('\n')
	}
	path := filepath.Join(t.TempDir(), "queries.jsonl")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func inUnit(v float64) bool { return v >= 0 && v <= 1+1e-12 && !math.IsNaN(v) }

// TestBenchSlice runs the benchmark on a slice of the corpus twice, each
// time into a fresh store, and checks that the figures are sane (counts
// agree, rates positive, scores in [0, 1], known-item queries found by
// both modes) and reproducible (every query's scores identical).
func TestBenchSlice(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a slice of the corpus twice; skipped with -short")
	}
	const n = 12
	qpath := sliceQueries(t, n)
	run := func() *Result {
		r, err := Bench(ctx, Options{Corpus: corpusDir, Queries: qpath, Docs: n, Dim: 32})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r1 := run()
	c := r1.Corpus
	if c.Files != n || c.Documents != n || c.Publications != n || c.Passages < 10*n || c.Bytes <= 0 {
		t.Fatalf("corpus %+v", c)
	}
	if r1.Embedding.Passages != c.Passages || r1.Embedding.Dim != 32 || !strings.HasPrefix(r1.Embedding.Model, "lsa-") {
		t.Fatalf("embedding %+v, %d passages stored", r1.Embedding, c.Passages)
	}
	for _, v := range []float64{r1.Import.DocsPerSecond, r1.Import.PassagesPerSec, r1.Import.MBPerSecond, r1.Import.StorePassPerSec, r1.Embedding.PassagesPerSec} {
		if !(v > 0) || math.IsInf(v, 0) {
			t.Fatalf("rate %v in %+v / %+v", v, r1.Import, r1.Embedding)
		}
	}
	if r1.Queries < n || r1.K != 10 {
		t.Fatalf("%d queries, k %d", r1.Queries, r1.K)
	}
	for _, m := range []*Retrieval{&r1.BM25, &r1.Hybrid, &r1.Reference} {
		if !inUnit(m.Recall) || !inUnit(m.NDCG) || !inUnit(m.MRR) || !(m.Judged > 0) || !inUnit(m.Judged) || len(m.PerQuery) != r1.Queries {
			t.Fatalf("%s: %+v", m.Mode, m)
		}
		known := 0
		for _, q := range m.PerQuery {
			if strings.HasPrefix(q.ID, "known-") {
				known++
				if q.RR < 0.5 {
					t.Errorf("%s: known-item query %s (a title) ranked its title passage at 1/RR = %v", m.Mode, q.ID, 1/q.RR)
				}
			}
		}
		if known < n-1 {
			t.Fatalf("%s: %d known-item queries", m.Mode, known)
		}
	}
	r2 := run()
	if r2.Corpus != r1.Corpus || r2.Embedding.Model != r1.Embedding.Model {
		t.Fatalf("second run: corpus %+v model %s, first %+v %s", r2.Corpus, r2.Embedding.Model, r1.Corpus, r1.Embedding.Model)
	}
	for i, m := range []*Retrieval{&r1.BM25, &r1.Hybrid, &r1.Reference} {
		m2 := []*Retrieval{&r2.BM25, &r2.Hybrid, &r2.Reference}[i]
		for j, q := range m.PerQuery {
			if m2.PerQuery[j] != q {
				t.Errorf("%s: query %s scored %+v, then %+v", m.Mode, q.ID, q.Scores, m2.PerQuery[j].Scores)
			}
		}
	}
}

// TestRunJSONAndErrors drives the command: --json on a small slice
// decodes to a Result, and bad flags and inputs are Invalid errors naming
// what is wrong.
func TestRunJSONAndErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a slice of the corpus; skipped with -short")
	}
	var out, errb bytes.Buffer
	qpath := sliceQueries(t, 3)
	if err := Run(ctx, []string{"--corpus", corpusDir, "--queries", qpath, "--docs", "3", "--dim", "8", "--json"}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var r Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Corpus.Documents != 3 || r.BM25.Mode != "bm25" || r.Hybrid.Mode != "hybrid" || r.BM25.PerQuery != nil || r.Extraction == nil || !inUnit(r.Extraction.Precision) || !inUnit(r.Extraction.Recall) || r.Extraction.Gold < 100 || len(r.Extraction.HeldOut) != 2 || r.Extraction.HeldOut[0].Statements < 40 || !inUnit(r.Extraction.HeldOut[1].Recall) {
		t.Fatalf("json %v: %s", err, out.String())
	}
	if !strings.Contains(errb.String(), "bench: imported 3 publications") {
		t.Errorf("progress: %s", errb.String())
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--k", "101"}, "--k"},
		{[]string{"--depth", "500"}, "--depth"},
		{[]string{"--docs", "-1"}, "--docs"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"--queries", filepath.Join(t.TempDir(), "none.jsonl")}, "query set"},
		{[]string{"--corpus", t.TempDir(), "--queries", qpath}, "no .tar.gz"},
		{[]string{"--bogus"}, "bad flags"},
	} {
		err := Run(ctx, append([]string{"--corpus", corpusDir, "--queries", qpath}, tc.args...), &out, &bytes.Buffer{})
		if err == nil || !errors.Is(errors.Invalid, err) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want Invalid mentioning %q", tc.args, err, tc.want)
		}
	}
}

// TestBenchPostgres runs a small slice into a fresh PostgreSQL database
// (--store DSN): the same pipeline, the PostgreSQL full-text backend.
func TestBenchPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a slice of the corpus; skipped with -short")
	}
	dsn := storetest.PostgresDSN(t)
	const n = 4
	r, err := Bench(ctx, Options{Corpus: corpusDir, Queries: sliceQueries(t, n), Docs: n, Dim: 16, Store: dsn})
	if err != nil {
		t.Fatal(err)
	}
	if r.Store != "postgresql (given)" || r.Corpus.Publications != n || r.Embedding.Passages != r.Corpus.Passages {
		t.Fatalf("%+v", r)
	}
	for _, m := range []*Retrieval{&r.BM25, &r.Hybrid} {
		for _, q := range m.PerQuery {
			if strings.HasPrefix(q.ID, "known-") && q.RR < 0.5 {
				t.Errorf("%s: known-item query %s: RR %v", m.Mode, q.ID, q.RR)
			}
		}
	}
}
