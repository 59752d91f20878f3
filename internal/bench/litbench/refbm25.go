package litbench

import (
	"math"
	"slices"
	"strings"
	"unicode"
)

// RefBM25 is a reference ranker the benchmark computes itself over the
// stored passages — Okapi BM25 (k1 = 1.2, b = 0.75, idf ln(1 + (N − df +
// 0.5)/(df + 0.5))) where a passage matches when it has ANY query term.
// It is not what Genesis serves (the library's BM25 searches the
// catalog's engine term by term, passages holding every term first); it
// shows what plain disjunctive matching with corpus-wide statistics gives
// on the same passages and judgements. Terms: runs of letters and digits, lower-cased; a short
// English stop list is dropped from queries.
type RefBM25 struct {
	docs  []refDoc
	df    map[string]int
	avgdl float64
}

type refDoc struct {
	item Ranked
	tf   map[string]int
	n    int
}

var refStop = map[string]bool{}

func init() {
	for _, w := range strings.Fields("a an the of and or in on to for with by from at as is are was were be been this that these those it its we our their which who what when where how why do does did not no can could may might will would should than then there into over under between about after before also such via using use used") {
		refStop[w] = true
	}
}

func refTerms(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// NewRefBM25 indexes passages.
func NewRefBM25(passages []Ranked) *RefBM25 {
	r := &RefBM25{df: map[string]int{}}
	total := 0
	for _, p := range passages {
		d := refDoc{item: p, tf: map[string]int{}}
		for _, t := range refTerms(p.Text) {
			d.tf[t]++
			d.n++
		}
		for t := range d.tf {
			r.df[t]++
		}
		total += d.n
		r.docs = append(r.docs, d)
	}
	if len(r.docs) > 0 {
		r.avgdl = float64(total) / float64(len(r.docs))
	}
	return r
}

// Search returns the top limit passages for q, best first (ties in
// index order).
func (r *RefBM25) Search(q string, limit int) []Ranked {
	var terms []string
	for _, t := range refTerms(q) {
		if !refStop[t] && !slices.Contains(terms, t) {
			terms = append(terms, t)
		}
	}
	type hit struct {
		i int
		s float64
	}
	var hits []hit
	n := float64(len(r.docs))
	for i, d := range r.docs {
		s := 0.0
		for _, t := range terms {
			tf := float64(d.tf[t])
			if tf == 0 {
				continue
			}
			df := float64(r.df[t])
			idf := math.Log(1 + (n-df+0.5)/(df+0.5))
			s += idf * tf * 2.2 / (tf + 1.2*(0.25+0.75*float64(d.n)/r.avgdl))
		}
		if s > 0 {
			hits = append(hits, hit{i, s})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		switch {
		case a.s > b.s:
			return -1
		case a.s < b.s:
			return 1
		}
		return 0
	})
	out := make([]Ranked, 0, min(limit, len(hits)))
	for _, h := range hits[:min(limit, len(hits))] {
		out = append(out, r.docs[h.i].item)
	}
	return out
}
