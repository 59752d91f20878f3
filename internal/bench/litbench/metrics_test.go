package litbench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

// TestScoreHandComputed checks the measures against values computed by
// hand.
func TestScoreHandComputed(t *testing.T) {
	judged := []Judged{
		{Doc: "doi:10.1/a", Contains: "alpha helix bundle", Grade: 2},
		{Doc: "doi:10.1/b", Contains: "beta sheet barrel", Grade: 1},
		{Doc: "doi:10.1/c", Contains: "gamma turn motif x", Grade: 2},
		{Doc: "doi:10.1/d", Contains: "judged irrelevant", Grade: 0},
	}
	ranked := []Ranked{
		{Doc: "doi:10.1/x", Text: "nothing here"},                        // 1: 0
		{Doc: "doi:10.1/B", Text: "A  Beta\nsheet barrel was seen."},     // 2: grade 1 (DOI case, whitespace, case)
		{Doc: "doi:10.1/d", Text: "this was judged irrelevant, yes"},     // 3: grade 0
		{Doc: "doi:10.1/a", Text: "the alpha helix bundle folds"},        // 4: grade 2
		{Doc: "doi:10.1/a", Text: "again: the alpha helix bundle folds"}, // 5: already credited → 0
	}
	// Gains: 0 1 0 2 0.
	gains, credited := Gains(ranked, judged)
	if !slices.Equal(gains, []int{0, 1, 0, 2, 0}) {
		t.Fatalf("gains = %v", gains)
	}
	if !slices.Equal(credited, []bool{true, true, false, true}) {
		t.Fatalf("credited = %v", credited)
	}
	// DCG@10 = (2^1-1)/log2(3) + (2^2-1)/log2(5) = 0.630930 + 1.292030.
	dcg := 1/math.Log2(3) + 3/math.Log2(5)
	// Ideal from all relevant judged: grades 2, 2, 1 → 3/1 + 3/log2(3) + 1/log2(4).
	idcg := 3.0 + 3/math.Log2(3) + 1.0/2
	s := Score(ranked, judged, 10)
	if !near(s.NDCG, dcg/idcg) {
		t.Errorf("nDCG@10 = %v, want %v", s.NDCG, dcg/idcg)
	}
	if !near(s.Recall, 2.0/3) {
		t.Errorf("recall@10 = %v, want 2/3", s.Recall)
	}
	if !near(s.RR, 0.5) {
		t.Errorf("RR = %v, want 1/2", s.RR)
	}
	// @3: only rank 2 counts; RR looks at the whole ranking.
	s3 := Score(ranked, judged, 3)
	idcg3 := 3.0 + 3/math.Log2(3) + 1.0/2
	if !near(s3.NDCG, (1/math.Log2(3))/idcg3) || !near(s3.Recall, 1.0/3) || !near(s3.RR, 0.5) {
		t.Errorf("@3 = %+v", s3)
	}
	// @1: nothing relevant at rank 1.
	if s1 := Score(ranked, judged, 1); s1.NDCG != 0 || s1.Recall != 0 {
		t.Errorf("@1 = %+v", s1)
	}
	// Judged@k: ranks 2, 3, 4, 5 match a judgement (5 repeats 4's); 4 of 5.
	if j := JudgedAt(ranked, judged, 10); !near(j, 4.0/5) {
		t.Errorf("judged@10 = %v, want 4/5", j)
	}
	if j := JudgedAt(ranked, judged, 2); !near(j, 0.5) {
		t.Errorf("judged@2 = %v, want 1/2", j)
	}
	if JudgedAt(nil, judged, 10) != 0 {
		t.Error("judged of nothing")
	}
	// Mean.
	m := Mean([]Scores{{1, 1, 1}, {0, 0.5, 0}})
	if !near(m.Recall, 0.5) || !near(m.NDCG, 0.75) || !near(m.RR, 0.5) {
		t.Errorf("mean = %+v", m)
	}
	if (Mean(nil) != Scores{}) {
		t.Errorf("mean of none = %+v", Mean(nil))
	}
}

// TestScoreNoRelevant: a query without relevant judgements scores zero
// rather than dividing by zero.
func TestScoreNoRelevant(t *testing.T) {
	s := Score([]Ranked{{Doc: "doi:x", Text: "judged irrelevant text"}}, []Judged{{Doc: "doi:x", Contains: "judged irrelevant", Grade: 0}}, 10)
	if (s != Scores{}) {
		t.Fatalf("got %+v", s)
	}
}

// TestPassageMatchesSeveralJudged: one passage containing two judged
// substrings is credited once, with the higher grade; the other judged
// passage can still be credited by a later passage.
func TestPassageMatchesSeveralJudged(t *testing.T) {
	judged := []Judged{
		{Doc: "doi:a", Contains: "first sentence here", Grade: 1},
		{Doc: "doi:a", Contains: "second sentence here", Grade: 2},
	}
	ranked := []Ranked{
		{Doc: "doi:a", Text: "first sentence here. second sentence here."},
		{Doc: "doi:a", Text: "first sentence here, split differently"},
	}
	gains, _ := Gains(ranked, judged)
	if !slices.Equal(gains, []int{2, 1}) {
		t.Fatalf("gains = %v", gains)
	}
	// A different document never matches, however equal the text.
	gains, _ = Gains([]Ranked{{Doc: "doi:b", Text: "first sentence here"}}, judged)
	if gains[0] != 0 {
		t.Fatalf("other document credited: %v", gains)
	}
}

// randomCase makes judged passages with random grades and a pool of
// ranked passages: every judged one appears once (in random order) among
// non-relevant passages.
func randomCase(rng *rand.Rand) ([]Judged, []Ranked) {
	n := 1 + rng.IntN(8)
	var judged []Judged
	var pool []Ranked
	for i := range n {
		sub := fmt.Sprintf("distinctive phrase <%03d>", i)
		g := rng.IntN(3)
		if i == 0 && g == 0 {
			g = 1 + rng.IntN(2) // at least one relevant
		}
		judged = append(judged, Judged{Doc: "doi:10.9/q", Contains: sub, Grade: g})
		pool = append(pool, Ranked{Doc: "doi:10.9/q", Text: "text with " + sub + " inside"})
	}
	for i := range 5 + rng.IntN(20) {
		pool = append(pool, Ranked{Doc: "doi:10.9/other", Text: "filler " + strings.Repeat("y", i)})
	}
	rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	return judged, pool
}

// idealOrder sorts passages by their gain, best first (stable).
func idealOrder(judged []Judged, pool []Ranked) []Ranked {
	g, _ := Gains(pool, judged)
	idx := make([]int, len(pool))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return g[b] - g[a] })
	out := make([]Ranked, len(pool))
	for i, k := range idx {
		out[i] = pool[k]
	}
	return out
}

// TestScoreProperties: against random judgements and rankings, the
// measures are in [0, 1]; the ideal ranking has nDCG 1 and RR 1 and finds
// all relevant passages when k covers them; reversing the ideal ranking
// never scores higher; replacing a relevant passage of a ranking by an
// irrelevant one never raises a measure; and recall@k and nDCG·IDCG (DCG) do not decrease
// with k.
func TestScoreProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(14, 14))
	for trial := range 2000 {
		judged, pool := randomCase(rng)
		k := 1 + rng.IntN(15)
		ideal := idealOrder(judged, pool)
		rel := 0
		for _, j := range judged {
			if j.Grade > 0 {
				rel++
			}
		}
		si := Score(ideal, judged, k)
		if !near(si.NDCG, 1) || si.RR != 1 {
			t.Fatalf("trial %d: ideal ranking scored %+v", trial, si)
		}
		if k >= rel && si.Recall != 1 {
			t.Fatalf("trial %d: ideal ranking, k=%d ≥ %d relevant, recall %v", trial, k, rel, si.Recall)
		}
		rev := slices.Clone(ideal)
		slices.Reverse(rev)
		sr := Score(rev, judged, k)
		if sr.NDCG > si.NDCG+1e-12 || sr.RR > si.RR || sr.Recall > si.Recall {
			t.Fatalf("trial %d: reversed %+v beats ideal %+v", trial, sr, si)
		}
		// A random ranking.
		perm := slices.Clone(pool)
		rng.Shuffle(len(perm), func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		s := Score(perm, judged, k)
		for _, v := range []float64{s.NDCG, s.Recall, s.RR} {
			if v < 0 || v > 1+1e-12 || math.IsNaN(v) {
				t.Fatalf("trial %d: score out of range %+v", trial, s)
			}
		}
		if s.NDCG > si.NDCG+1e-12 {
			t.Fatalf("trial %d: random %v beats ideal %v", trial, s.NDCG, si.NDCG)
		}
		// Replacing a relevant passage by an irrelevant one, in place,
		// never helps.
		g, _ := Gains(perm, judged)
		if i := slices.IndexFunc(g, func(x int) bool { return x > 0 }); i >= 0 {
			cut := slices.Clone(perm)
			cut[i] = Ranked{Doc: "doi:10.9/other", Text: "irrelevant"}
			sc := Score(cut, judged, k)
			if sc.Recall > s.Recall+1e-12 || sc.NDCG > s.NDCG+1e-12 || sc.RR > s.RR {
				t.Fatalf("trial %d: replacing a relevant passage raised %+v → %+v", trial, s, sc)
			}
		}
		// Monotone in k.
		if k > 1 {
			sk := Score(perm, judged, k-1)
			if sk.Recall > s.Recall+1e-12 {
				t.Fatalf("trial %d: recall@%d %v > recall@%d %v", trial, k-1, sk.Recall, k, s.Recall)
			}
			gp, _ := Gains(perm, judged)
			if DCG(gp, k-1) > DCG(gp, k)+1e-12 {
				t.Fatalf("trial %d: DCG decreased with k", trial)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"  Band\u00a0Gap\n\tof  CsPbI3 ": "band gap of cspbi3",
		"":                               "",
		"ÉLAN":                           "élan",
	} {
		if got := Normalize(in); got != want {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, want)
		}
	}
	if NormalizeDoc(" DOI:10.7554/eLife.00005 ") != "doi:10.7554/elife.00005" {
		t.Error(NormalizeDoc(" DOI:10.7554/eLife.00005 "))
	}
	if NormalizeDoc("pmcid:PMC123") != "pmcid:PMC123" {
		t.Error(NormalizeDoc("pmcid:PMC123"))
	}
}
