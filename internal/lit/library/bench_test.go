package library_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// benchCorpus is n synthetic documents of realistic shape: a title, an
// abstract and eight paragraphs of about 600 bytes each, from a
// vocabulary of materials-science words, with a fact or two each.
func benchCorpus(seed uint64, n int) []lit.Document {
	rng := rand.New(rand.NewPCG(seed, 1))
	vocab := strings.Fields(`perovskite anneal lattice spectra catalyst membrane photoluminescence electrolyte cathode anode
		conductivity diffraction crystalline amorphous nanoparticle thin film substrate deposition sputtering oxide nitride
		sulfide halide dopant vacancy grain boundary interface heterojunction bandgap exciton carrier mobility lifetime
		stability humidity degradation encapsulation efficiency tandem silicon cesium lead iodide bromide titanium zirconia`)
	sentence := func() string {
		var ws []string
		for range 8 + rng.IntN(10) {
			ws = append(ws, vocab[rng.IntN(len(vocab))])
		}
		s := strings.Join(ws, " ")
		return strings.ToUpper(s[:1]) + s[1:] + "."
	}
	para := func() string {
		var ss []string
		for range 5 + rng.IntN(4) {
			ss = append(ss, sentence())
		}
		ss = append(ss, fmt.Sprintf("CsPbI3 has a band gap of 1.%d eV.", rng.IntN(10)))
		return strings.Join(ss, " ")
	}
	docs := make([]lit.Document, n)
	for i := range docs {
		d := lit.Document{Format: lit.FormatJATS, DOI: fmt.Sprintf("10.7/bench.%d.%d", seed, i), Title: sentence(), Authors: []string{"Ada Lovelace", "Alan Turing"},
			Year: 2000 + rng.IntN(25), Abstract: para()}
		var ps []string
		for range 8 {
			ps = append(ps, para())
		}
		d.Sections = []lit.Section{{Heading: "Results", Paragraphs: ps}}
		docs[i] = d
	}
	return docs
}

// BenchmarkImport: passages stored per second (one transaction per
// document: version, passages, search documents, facts, edges), SQLite.
func BenchmarkImport(b *testing.B) {
	for _, emb := range []bool{false, true} {
		name := "bm25-only"
		if emb {
			name = "with-embedder"
		}
		b.Run(name, func(b *testing.B) {
			o := worldOpts{}
			if emb {
				o.embedder = &hashEmbedder{model: "hash-64"}
			}
			w := newWorld(b, storetest.Migrated(b, storetest.SQLite), o)
			passages := 0
			b.ResetTimer()
			for i := range b.N {
				docs := benchCorpus(uint64(i+1), 20)
				res, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", docs)
				if err != nil {
					b.Fatal(err)
				}
				for _, p := range res.Publications {
					passages += p.Passages
				}
			}
			b.ReportMetric(float64(passages)/b.Elapsed().Seconds(), "passages/s")
		})
	}
}

// BenchmarkSearch: one query over 200 documents (about 2,000 passages),
// BM25 alone and hybrid (BM25 + brute-force cosine over readable
// passages' vectors + fusion), SQLite.
func BenchmarkSearch(b *testing.B) {
	w := newWorld(b, storetest.Migrated(b, storetest.SQLite), worldOpts{embedder: &hashEmbedder{model: "hash-64"}})
	if _, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", benchCorpus(99, 200)); err != nil {
		b.Fatal(err)
	}
	queries := []string{"perovskite stability humidity", "conductivity electrolyte", "band gap", "grain boundary vacancy dopant"}
	for _, mode := range []string{lit.ModeBM25, lit.ModeHybrid} {
		b.Run(mode, func(b *testing.B) {
			for i := range b.N {
				if _, err := w.lib.Search(ctx, w.bob, lit.Query{Text: queries[i%len(queries)], Mode: mode}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// The Bench helper reports what it measured.
func TestBench(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite), worldOpts{embedder: &hashEmbedder{model: "hash-64"}})
	r, err := library.Bench(ctx, w.lib, w.alice, "OPEN", benchCorpus(5, 5), []string{"perovskite", "band gap"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Documents != 5 || r.Passages < 50 || r.Facts < 45 || r.PassagesPerSecond <= 0 || r.Rejected != 0 || r.Queries != 2 || r.HybridMillis <= 0 {
		t.Errorf("%+v", r)
	}
}
