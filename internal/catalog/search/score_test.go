package search

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// scoreCorpus is a document cache of n documents at g 1..n, with random
// classes (1–12), owners, domains, orgs, keywords and lengths, and the
// postings of one term that each document contains with probability p;
// with tokens > 1 the term is a prefix of that many tokens, each with its
// own blob per block.
func scoreCorpus(rng *rand.Rand, n int, p float64, tokens int) (*docCache, map[int64][][]byte) {
	dc := &docCache{pg: true, kinds: map[ClassID]int32{}}
	for c := range 12 {
		dc.kinds[ClassID(c+1)] = dc.intern([]string{"dataset", "model", "software"}[c%3])
	}
	var kwIDs []int32
	kwZipf := rand.NewZipf(rng, 1.2, 1, 2999)
	for i := range 3000 {
		kwIDs = append(kwIDs, dc.intern(fmt.Sprintf("kw%d", i)))
	}
	dc.docs = make([]docMeta, n+1)
	dc.classOf, dc.ownerOf = make([]int32, n+1), make([]int32, n+1)
	dc.classOf[0] = -1
	for g := 1; g <= n; g++ {
		m := docMeta{doc: 1<<40 + int64(g), class: int32(1 + rng.IntN(12)), owner: dc.intern(fmt.Sprintf("u%d", rng.IntN(500))),
			domain: dc.intern(fmt.Sprintf("domain-%d", rng.IntN(8))), org: dc.intern(fmt.Sprintf("org-%d", rng.IntN(40))),
			kwOff: uint32(len(dc.kws)), synthetic: rng.IntN(10) == 0, ok: true}
		for c := range m.lens {
			m.lens[c] = int32(1 + rng.IntN(60))
		}
		for range 3 + rng.IntN(3) {
			dc.kws = append(dc.kws, kwIDs[kwZipf.Uint64()])
			m.kwN++
		}
		dc.docs[g] = m
		dc.classOf[g], dc.ownerOf[g] = m.class, m.owner
	}
	dc.loaded = int64(n)
	list := map[int64][][]byte{}
	for g := int64(1); g <= int64(n); g++ {
		if rng.Float64() >= p {
			continue
		}
		blk := g >> blockShift
		if len(list[blk]) == 0 {
			list[blk] = make([][]byte, tokens)
		}
		for tok := range tokens {
			if tok > 0 && rng.IntN(2) == 0 {
				continue
			}
			var tf [nFields]int32
			tf[rng.IntN(nFields)] = int32(1 + rng.IntN(3))
			tf[rng.IntN(nFields)] += int32(rng.IntN(2))
			list[blk][tok] = appendPosting(list[blk][tok], g, &tf)
		}
	}
	return dc, list
}

// BenchmarkScoreOneTerm times docCache.score alone for a word in half of
// 10^6 cached documents (16 blocks of postings, ~2.5 MB), half of them
// readable: the in-memory share of a common-word query on PostgreSQL
// (bench_test.go), without the database.
//
//	go test ./internal/catalog/search -run '^$' -bench ScoreOneTerm -cpu 1,2
func BenchmarkScoreOneTerm(b *testing.B) {
	dc, list := scoreCorpus(rand.New(rand.NewPCG(5, 6)), 1<<20, 0.5, 1)
	vis := normalize(Visibility{ReadableClasses: []ClassID{1, 2, 3, 4, 5, 6}, OwnerReadableClasses: []ClassID{7, 8, 9, 10, 11, 12}, Owner: "u7"})
	terms, err := parseQuery("bench", "word")
	if err != nil {
		b.Fatal(err)
	}
	st := corpusStats{n: 1 << 19, lens: [nFields]int64{30 << 19, 30 << 19, 30 << 19, 30 << 19, 30 << 19, 30 << 19}}
	for b.Loop() {
		sc, missing, err := dc.score(Query{Text: "word"}, terms, []map[int64][][]byte{list}, vis, &st)
		if err != nil || len(missing) > 0 || len(sc.docs) < 1<<17 {
			b.Fatal(err, len(missing), len(sc.docs))
		}
	}
}

// TestScoreOneTermModel: a one-term query's matches, weighted
// frequencies, readable document frequency and facets, counted in one run
// or split into runs of blocks counted in parallel, are those of a plain
// walk of the postings in g order (the model).
func TestScoreOneTermModel(t *testing.T) {
	defer func(n int) { parallelMinBytes = n }(parallelMinBytes)
	rng := rand.New(rand.NewPCG(36, 3))
	for round := range 12 {
		tokens := 1 + round%3*2
		dc, list := scoreCorpus(rng, 1+rng.IntN(5<<blockShift), 0.05+rng.Float64()/2, tokens)
		var v Visibility
		for c := range ClassID(14) { // 13: a class no document has
			switch rng.IntN(3) {
			case 0:
				v.ReadableClasses = append(v.ReadableClasses, c+1)
			case 1:
				v.OwnerReadableClasses = append(v.OwnerReadableClasses, c+1)
			}
		}
		v.Owner = fmt.Sprintf("u%d", rng.IntN(3))
		vis := normalize(v)
		q := Query{Text: "word"}
		if rng.IntN(2) == 0 {
			q.Domain = "domain-3"
		}
		if rng.IntN(3) == 0 {
			q.Kind = "model"
		}
		if rng.IntN(3) == 0 {
			q.Keywords = []string{"kw1"}
		}
		if rng.IntN(4) == 0 {
			q.Synthetic = new(rng.IntN(2) == 0)
		}
		terms, err := parseQuery("test", q.Text)
		if err != nil {
			t.Fatal(err)
		}
		st := corpusStats{n: 1000, lens: [nFields]int64{30000, 20000, 10000, 5000, 1000, 60000}}
		want := scoreModel(dc, list, q, vis, &st)
		for _, min := range []int{1 << 30, 1} {
			parallelMinBytes = min
			got, missing, err := dc.score(q, terms, []map[int64][][]byte{list}, vis, &st)
			if err != nil || len(missing) > 0 {
				t.Fatal(err, missing)
			}
			type view struct {
				Docs   []int64
				TFW    []float64
				DF     []int64
				Facets map[string][]Facet
			}
			w, g := view{want.docs, want.tfw, want.df, want.facets.result()}, view{got.docs, got.tfw, got.df, got.facets.result()}
			if len(w.Docs) == 0 || w.DF[0] == 0 {
				t.Logf("round %d: no match", round)
			}
			if d := gocmp.Diff(w, g, cmpopts.EquateEmpty()); d != "" {
				t.Fatalf("round %d (%d tokens, %+v), split at %d bytes: model (-) vs score (+):\n%s", round, tokens, q, min, d)
			}
		}
	}
}

// scoreModel counts list (one term, a prefix's blobs summed per document)
// by decoding every posting of every block into one map and walking it in
// g order.
func scoreModel(dc *docCache, list map[int64][][]byte, q Query, vis visibility, st *corpusStats) *scored {
	tfs := map[int64]*[nFields]int32{}
	for blk, rows := range list {
		for _, r := range rows {
			var tf [nFields]int32
			for b := r; len(b) > 0; {
				off, rest, _ := nextPosting(b, &tf)
				b = rest
				g := blk<<blockShift | int64(off)
				if tfs[g] == nil {
					tfs[g] = new([nFields]int32)
				}
				for c := range tf {
					tfs[g][c] += tf[c]
				}
			}
		}
	}
	var avg [nFields]float64
	for c := range avg {
		avg[c] = float64(st.lens[c]) / float64(st.n)
	}
	out := &scored{df: []int64{0}, facets: facetCounter{}}
	kinds, domains, orgs, kws := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	syn := 0
	gs := make([]int64, 0, len(tfs))
	for g := range tfs {
		gs = append(gs, g)
	}
	slices.Sort(gs)
	for _, g := range gs {
		m := &dc.docs[g]
		c := ClassID(m.class)
		if !slices.Contains(vis.all, c) && !(slices.Contains(vis.owned, c) && dc.strs[m.owner] == vis.owner) {
			continue
		}
		out.df[0]++
		docKws := dc.kws[m.kwOff : m.kwOff+uint32(m.kwN)]
		var kwStrs []string
		for _, kw := range docKws {
			kwStrs = append(kwStrs, dc.strs[kw])
		}
		kind := dc.strs[dc.kinds[c]]
		if q.Kind != "" && kind != q.Kind || q.Domain != "" && dc.strs[m.domain] != q.Domain || q.Org != "" && dc.strs[m.org] != q.Org ||
			q.Synthetic != nil && m.synthetic != *q.Synthetic || len(q.Keywords) > 0 && !slices.Contains(kwStrs, q.Keywords[0]) {
			continue
		}
		out.docs = append(out.docs, g)
		var lens [nFields]int64
		for c := range lens {
			lens[c] = int64(m.lens[c])
		}
		out.tfw = append(out.tfw, fieldTFW(tfs[g], &lens, &avg))
		kinds[kind]++
		domains[dc.strs[m.domain]]++
		orgs[dc.strs[m.org]]++
		for _, kw := range kwStrs {
			kws[kw]++
		}
		if m.synthetic {
			syn++
		}
	}
	for _, f := range []struct {
		name   string
		counts map[string]int
	}{{FacetKind, kinds}, {FacetDomain, domains}, {FacetOrg, orgs}, {FacetKeyword, kws}} {
		for v, n := range f.counts {
			out.facets.add(f.name, v, n)
		}
	}
	out.facets.add(FacetSynthetic, "true", syn)
	return out
}

// TestPageModel checks docCache.page against sorting every match by
// score (descending) and ID: scores drawn from a few values (large ties),
// IDs of varying length and shared prefixes, pages anywhere.
func TestPageModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 300 {
		n := 1 + rng.IntN(400)
		dc := &docCache{docs: make([]docMeta, 2*n+1), idAt: make([]int64, 2*n+1)}
		var gs []int64
		var scores []float64
		type doc struct {
			id    string
			score float64
			g     int64
		}
		var all []doc
		levels := 1 + rng.IntN(5)
		for i := range n {
			g := int64(2*i + 1 + rng.IntN(2))
			id := fmt.Sprintf("%s%d", []string{"a", "ab", "b", ""}[rng.IntN(4)], rng.IntN(1000))
			dc.docs[g] = docMeta{doc: 1<<40 + g, ok: true}
			dc.idAt[g] = int64(len(dc.idBuf))<<8 | int64(len(id))
			dc.idBuf = append(dc.idBuf, id...)
			s := float64(rng.IntN(levels))
			gs, scores = append(gs, g), append(scores, s)
			all = append(all, doc{id, s, g})
		}
		slices.SortStableFunc(all, func(a, b doc) int {
			if a.score != b.score {
				return cmp.Compare(b.score, a.score)
			}
			return strings.Compare(a.id, b.id)
		})
		limit := 1 + rng.IntN(50)
		offset := rng.IntN(n + 10)
		var want []match
		for i := offset; i < len(all) && i < offset+limit; i++ {
			want = append(want, match{doc: 1<<40 + all[i].g, hit: Hit{ID: all[i].id, Score: all[i].score}})
		}
		got := dc.page(gs, scores, offset, offset+limit)
		// Equal IDs (the generator repeats some) may come in either order.
		key := func(ms []match) []string {
			var out []string
			for _, m := range ms {
				out = append(out, fmt.Sprintf("%v %s", m.hit.Score, m.hit.ID))
			}
			return out
		}
		if d := gocmp.Diff(key(want), key(got)); d != "" {
			t.Fatalf("round %d, n %d offset %d limit %d (-want +got):\n%s", round, n, offset, limit, d)
		}
		for _, m := range got {
			g := m.doc - 1<<40
			if string(dc.idOf(g)) != m.hit.ID {
				t.Fatalf("round %d: doc %d has ID %q, not %q", round, m.doc, dc.idOf(g), m.hit.ID)
			}
		}
	}
}
