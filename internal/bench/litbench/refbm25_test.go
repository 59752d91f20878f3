package litbench

import (
	"math"
	"testing"
)

// TestRefBM25 checks the reference ranker against values computed by hand
// and its disjunctive matching.
func TestRefBM25(t *testing.T) {
	ps := []Ranked{
		{Doc: "d1", Text: "perovskite band gap"},        // 3 terms
		{Doc: "d2", Text: "band gap of silicon wafers"}, // 5 terms
		{Doc: "d3", Text: "unrelated text entirely here"},
		{Doc: "d4", Text: "Perovskite perovskite films"},
	}
	r := NewRefBM25(ps)
	if r.avgdl != 15.0/4 {
		t.Fatalf("avgdl %v", r.avgdl)
	}
	// "the perovskite gap": "the" is a stop word; any term matches.
	got := r.Search("the perovskite gap", 10)
	// Hand: N=4, df(perovskite)=2, df(gap)=2 → idf = ln(1 + 2.5/2.5) = ln 2.
	idf := math.Log(2)
	score := func(tf, dl float64) float64 { return idf * tf * 2.2 / (tf + 1.2*(0.25+0.75*dl/(15.0/4))) }
	s1 := 2 * score(1, 3) // d1: perovskite + gap
	s2 := score(1, 5)     // d2: gap
	s4 := score(2, 3)     // d4: perovskite ×2
	if !(s1 > s4 && s4 > s2) {
		t.Fatalf("hand scores %v %v %v", s1, s4, s2)
	}
	want := []string{"d1", "d4", "d2"}
	if len(got) != 3 {
		t.Fatalf("got %v", got)
	}
	for i, w := range want {
		if got[i].Doc != w {
			t.Fatalf("rank %d: %s, want %s (%v)", i+1, got[i].Doc, w, got)
		}
	}
	if len(r.Search("the of and", 10)) != 0 || len(r.Search("perovskite", 1)) != 1 {
		t.Fatal("stop words or limit")
	}
}
