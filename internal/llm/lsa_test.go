package llm

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"

	"github.com/google/go-cmp/cmp"
)

// topicCorpus makes n documents of pseudo-words: each document draws most
// of its words (Zipf-weighted) from one of the topics' word lists, the
// rest from a shared background list. It returns the documents, each
// document's topic and the topics' words.
func topicCorpus(rng *rand.Rand, n, topics, docLen int) ([]string, []int, [][]string) {
	word := func() string {
		var b strings.Builder
		for range 4 + rng.IntN(6) {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
		b.WriteByte('q') // no plural ending, so the stemmer leaves it
		return b.String()
	}
	background := make([]string, 60)
	for i := range background {
		background[i] = word()
	}
	words := make([][]string, topics)
	for t := range words {
		for range 80 {
			words[t] = append(words[t], word())
		}
	}
	zipf := rand.NewZipf(rng, 1.1, 2, 79)
	docs := make([]string, n)
	topic := make([]int, n)
	for i := range docs {
		t := rng.IntN(topics)
		topic[i] = t
		var ws []string
		for range docLen {
			if rng.Float64() < 0.7 {
				ws = append(ws, words[t][zipf.Uint64()])
			} else {
				ws = append(ws, background[rng.IntN(len(background))])
			}
		}
		docs[i] = strings.Join(ws, " ")
	}
	return docs, topic, words
}

// referenceTFIDF is the weighting NewLSA documents, computed directly.
func referenceTFIDF(corpus []string) []map[string]float64 {
	df := map[string]int{}
	tfs := make([]map[string]int, len(corpus))
	for i, d := range corpus {
		tfs[i] = map[string]int{}
		for _, t := range Terms(d) {
			tfs[i][t]++
		}
		for t := range tfs[i] {
			df[t]++
		}
	}
	minDF := 1
	if len(corpus) >= 20 {
		minDF = 2
	}
	out := make([]map[string]float64, len(corpus))
	for i, tf := range tfs {
		out[i] = map[string]float64{}
		for t, c := range tf {
			if df[t] >= minDF {
				out[i][t] = (1 + math.Log(float64(c))) * math.Log(1+float64(len(corpus))/float64(df[t]))
			}
		}
	}
	return out
}

func cosMap(a, b map[string]float64) float64 {
	var ab, aa, bb float64
	for t, x := range a {
		ab += x * b[t]
		aa += x * x
	}
	for _, y := range b {
		bb += y * y
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

func dot(a, b []float32) float64 {
	s := 0.0
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func vnorm(a []float32) float64 { return math.Sqrt(dot(a, a)) }

// TestLSAPreservesCosines: with at least as many dimensions as documents
// the truncation loses nothing, so embeddings must have exactly the
// cosines of the documents' TF-IDF vectors (the reference model), each
// document its own nearest neighbour among distinct documents, unit
// length, and a deterministic, savable model.
func TestLSAPreservesCosines(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(15) {
		rng := rand.New(rand.NewPCG(seed, 7))
		n := 2 + rng.IntN(40)
		docs, _, _ := topicCorpus(rng, n, 1+rng.IntN(4), 5+rng.IntN(40))
		l := NewLSA(docs, 64)
		vecs, err := l.Embed(ctx, docs)
		if err != nil {
			t.Fatal(err)
		}
		ref := referenceTFIDF(docs)
		for i := range docs {
			if len(ref[i]) == 0 {
				if vnorm(vecs[i]) != 0 {
					t.Fatalf("seed %d: doc %d has no vocabulary term but a non-zero embedding", seed, i)
				}
				continue
			}
			if math.Abs(vnorm(vecs[i])-1) > 1e-5 {
				t.Fatalf("seed %d: doc %d has norm %v", seed, i, vnorm(vecs[i]))
			}
			for j := range docs {
				if len(ref[j]) == 0 {
					continue
				}
				want, got := cosMap(ref[i], ref[j]), dot(vecs[i], vecs[j])
				if math.Abs(want-got) > 1e-3 {
					t.Fatalf("seed %d (%d docs, %d dims): cos(doc %d, doc %d) = %.5f, TF-IDF %.5f", seed, n, l.Dim(), i, j, got, want)
				}
				if i != j && want < 1-1e-9 && got >= dot(vecs[i], vecs[i])-1e-6 {
					t.Fatalf("seed %d: doc %d is as near doc %d as to itself", seed, j, i)
				}
			}
		}
		checkDeterministicAndSaved(t, l, docs)
	}
}

func checkDeterministicAndSaved(t *testing.T, l *LSA, docs []string) {
	t.Helper()
	var a, b bytes.Buffer
	if err := l.Save(&a); err != nil {
		t.Fatal(err)
	}
	if err := NewLSA(docs, l.dim).Save(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two builds of one corpus differ")
	}
	l2, err := LoadLSA(bytes.NewReader(a.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if l2.Model() != l.Model() {
		t.Fatalf("loaded model %q, saved %q", l2.Model(), l.Model())
	}
	probe := append(slices.Clone(docs[:min(5, len(docs))]), "unknown words only")
	v1, _ := l.Embed(context.Background(), probe)
	v2, _ := l2.Embed(context.Background(), probe)
	if diff := cmp.Diff(v1, v2); diff != "" {
		t.Fatalf("the loaded model embeds differently:\n%s", diff)
	}
}

// TestLSATopics: with far fewer dimensions than documents, LSA keeps the
// topics: a query of three topic words (which need not occur together in
// any document) finds documents of that topic, and each document is its
// own nearest neighbour among distinct documents.
func TestLSATopics(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(42, 1))
	docs, topic, words := topicCorpus(rng, 400, 10, 80)
	l := NewLSA(docs, 24)
	if l.Dim() != 24 || !strings.HasPrefix(l.Model(), "lsa-24-") {
		t.Fatalf("dim %d model %q", l.Dim(), l.Model())
	}
	vecs, err := l.Embed(ctx, docs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		self := dot(vecs[i], vecs[i])
		for j := range docs {
			if j != i && docs[j] != docs[i] && dot(vecs[i], vecs[j]) >= self-1e-6 {
				t.Fatalf("doc %d is as near doc %d as to itself", j, i)
			}
		}
	}
	hits, total := 0, 0
	for tp, ws := range words {
		for q := range 5 {
			query := strings.Join([]string{ws[q], ws[10+q], ws[20+q]}, " ")
			qv, _ := l.Embed(ctx, []string{query})
			idx := make([]int, len(docs))
			for i := range idx {
				idx[i] = i
			}
			slices.SortFunc(idx, func(a, b int) int {
				return -cmpFloat(dot(qv[0], vecs[a]), dot(qv[0], vecs[b]))
			})
			for _, i := range idx[:10] {
				total++
				if topic[i] == tp {
					hits++
				}
			}
		}
	}
	if p := float64(hits) / float64(total); p < 0.9 {
		t.Errorf("precision@10 of topic queries %.2f, want ≥ 0.9", p)
	}
	checkDeterministicAndSaved(t, l, docs)
}

// TestLSASampledFit: a corpus larger than the fitting sample still gives a
// deterministic model of unit vectors that keeps the topics.
func TestLSASampledFit(t *testing.T) {
	defer func(n int) { maxFitDocs = n }(maxFitDocs)
	maxFitDocs = 150
	rng := rand.New(rand.NewPCG(5, 6))
	docs, topic, _ := topicCorpus(rng, 600, 6, 60)
	l := NewLSA(docs, 16)
	vecs, err := l.Embed(context.Background(), docs)
	if err != nil {
		t.Fatal(err)
	}
	same, diff, ns, nd := 0.0, 0.0, 0, 0
	for i := range docs {
		if math.Abs(vnorm(vecs[i])-1) > 1e-5 {
			t.Fatalf("doc %d has norm %v", i, vnorm(vecs[i]))
		}
		for j := i + 1; j < len(docs); j += 7 {
			if topic[i] == topic[j] {
				same += dot(vecs[i], vecs[j])
				ns++
			} else {
				diff += dot(vecs[i], vecs[j])
				nd++
			}
		}
	}
	t.Logf("within %.3f across %.3f", same/float64(ns), diff/float64(nd))
	if same/float64(ns) < diff/float64(nd)+0.3 {
		t.Errorf("mean cosine within topics %.2f, across %.2f", same/float64(ns), diff/float64(nd))
	}
	checkDeterministicAndSaved(t, l, docs)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestLSAEdges(t *testing.T) {
	ctx := context.Background()
	empty := NewLSA(nil, 0)
	if _, err := empty.Embed(ctx, []string{"x"}); err == nil {
		t.Error("an empty model embeds")
	}
	l := NewLSA([]string{"perovskite solar cells", "perovskite band gaps"}, 0)
	if l.Dim() != 2 {
		t.Errorf("dim %d, want 2 (the number of documents)", l.Dim())
	}
	v, err := l.Embed(ctx, []string{"", "the of and", "Perovskite!"})
	if err != nil {
		t.Fatal(err)
	}
	if vnorm(v[0]) != 0 || vnorm(v[1]) != 0 || math.Abs(vnorm(v[2])-1) > 1e-6 {
		t.Errorf("norms %v %v %v", vnorm(v[0]), vnorm(v[1]), vnorm(v[2]))
	}
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Embed(ctx2, []string{"x"}); err == nil {
		t.Error("Embed ignores a canceled context")
	}
}

func TestTerms(t *testing.T) {
	got := Terms("The band gaps of CsPbI₃ films (Fig. 2) were 1.73 eV; Café properties, analyses and studies.")
	want := []string{"band", "gap", "cspbi3", "film", "ev", "cafe", "property", "analyse", "study"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Terms (-want +got):\n%s", diff)
	}
}

func TestHashEmbedder(t *testing.T) {
	h := NewHashEmbedder(64)
	v, err := h.Embed(context.Background(), []string{"perovskite films", "films perovskite", "", "other words"})
	if err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(v[0], v[1]) || vnorm(v[2]) != 0 || math.Abs(vnorm(v[3])-1) > 1e-6 || h.Model() != "hash-64" {
		t.Errorf("hash embeddings %v", v)
	}
}

// FuzzLoadLSA: a model file either fails to load with an error or loads a
// model that saves to a file loading to the same model.
func FuzzLoadLSA(f *testing.F) {
	var b bytes.Buffer
	NewLSA([]string{"perovskite solar cells", "perovskite band gaps", "zeolite catalysts for cracking"}, 2).Save(&b)
	f.Add(b.Bytes())
	f.Add(b.Bytes()[:len(b.Bytes())/2])
	f.Add([]byte(lsaMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := LoadLSA(bytes.NewReader(data))
		if err != nil {
			if !strings.HasPrefix(errors.SafeMessage(err), "LSA model file: ") {
				t.Fatalf("error %q does not say what failed", err)
			}
			return
		}
		var out bytes.Buffer
		if err := l.Save(&out); err != nil {
			t.Fatal(err)
		}
		l2, err := LoadLSA(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("a saved model does not load: %v", err)
		}
		var out2 bytes.Buffer
		l2.Save(&out2)
		if !bytes.Equal(out.Bytes(), out2.Bytes()) {
			t.Fatal("save/load is not stable")
		}
		if l.Dim() > 0 {
			v, err := l.Embed(context.Background(), []string{"perovskite cells"})
			if err != nil || len(v[0]) != l.Dim() {
				t.Fatalf("embedding %v, %v", v, err)
			}
			if n := vnorm(v[0]); n != 0 && math.Abs(n-1) > 1e-5 {
				t.Fatalf("norm %v", n)
			}
		}
	})
}

// BenchmarkNewLSA builds a 128-dimensional model of 10,000 passage-sized
// documents (150 words, 40 topics): the size of the literature bench's
// passage index.
func BenchmarkNewLSA(b *testing.B) {
	docs, _, _ := topicCorpus(rand.New(rand.NewPCG(1, 2)), 10000, 40, 150)
	b.ResetTimer()
	for b.Loop() {
		l := NewLSA(docs, 128)
		b.ReportMetric(float64(l.Vocabulary()), "terms")
	}
	b.ReportMetric(float64(len(docs))*float64(b.N)/b.Elapsed().Seconds(), "docs/s")
}

// BenchmarkLSAEmbed embeds passage-sized texts with a 128-dimensional model.
func BenchmarkLSAEmbed(b *testing.B) {
	docs, _, _ := topicCorpus(rand.New(rand.NewPCG(1, 2)), 2000, 40, 150)
	l := NewLSA(docs, 128)
	b.ResetTimer()
	n := 0
	for b.Loop() {
		l.Embed(context.Background(), docs[n%len(docs):n%len(docs)+1])
		n++
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "texts/s")
}
