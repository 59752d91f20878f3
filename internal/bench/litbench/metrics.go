// Package litbench implements `genesis bench lit`: it imports the
// literature test corpus (internal/lit/testdata/corpus) into a fresh store
// through the real library service, reports how fast passages are indexed,
// scores retrieval on the judged query set (internal/lit/testdata/
// queries.jsonl) for BM25 alone and for hybrid search, and reports the
// fact extractor's precision and recall on its gold set.
//
// This file holds the retrieval measures. Relevance judgements name
// passages stably — by the publication's source identity and a
// distinctive substring of the passage text — because passage IDs are
// assigned by the library at import.
package litbench

import (
	"math"
	"strings"
	"unicode"
)

// Judged is one judged passage of a query: the publication's source
// identity (Doc: "doi:10.7554/elife.00005", "arxiv:2101.00001",
// "pmid:…", "pmcid:PMC…") and a distinctive substring of the passage's
// text (Contains), with a graded relevance: 2 answers the query, 1 is
// related or answers part of it, 0 was judged and found not relevant.
type Judged struct {
	Doc      string `json:"doc"`
	Contains string `json:"contains"`
	Grade    int    `json:"grade"`
}

// Ranked is one retrieved passage as the measures see it: its
// publication's source identity and its text.
type Ranked struct {
	Doc  string
	Text string
}

// Normalize prepares text for substring matching: lower case, runs of
// white space (and non-breaking spaces) as one space, trimmed. Judgements
// and passages are compared in this form, so a parser's whitespace
// choices do not change a score.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u00a0' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// NormalizeDoc normalises a source identity: "doi:" identities compare
// case-insensitively (DOIs are case-insensitive), others exactly after
// trimming.
func NormalizeDoc(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ':'); i > 0 {
		scheme := strings.ToLower(s[:i])
		rest := strings.TrimSpace(s[i+1:])
		if scheme == "doi" || scheme == "arxiv" {
			rest = strings.ToLower(rest)
		}
		return scheme + ":" + rest
	}
	return s
}

// Gains assigns each ranked passage its graded gain: a passage matches a
// judged one when the source identities are equal and the passage's text
// contains the judged substring (both normalised). Each judged passage is
// credited at most once, to the best-ranked passage that matches it (a
// substring may occur in two passages, e.g. a sentence repeated in the
// abstract and the body; the second is not a second relevant result). A
// passage matching several judged ones takes the highest grade of those
// not yet credited. credited[j] reports whether judged[j] was credited
// within ranked.
func Gains(ranked []Ranked, judged []Judged) (gains []int, credited []bool) {
	type key struct{ doc, sub string }
	nj := make([]key, len(judged))
	for j, x := range judged {
		nj[j] = key{NormalizeDoc(x.Doc), Normalize(x.Contains)}
	}
	gains = make([]int, len(ranked))
	credited = make([]bool, len(judged))
	for i, r := range ranked {
		doc, text := NormalizeDoc(r.Doc), Normalize(r.Text)
		best := -1
		for j, k := range nj {
			if credited[j] || k.doc != doc || k.sub == "" || !strings.Contains(text, k.sub) {
				continue
			}
			if best < 0 || judged[j].Grade > judged[best].Grade {
				best = j
			}
		}
		if best >= 0 {
			credited[best] = true
			gains[i] = max(judged[best].Grade, 0)
		}
	}
	return gains, credited
}

// Scores are the retrieval measures of one ranking.
type Scores struct {
	Recall float64 `json:"recall"`
	NDCG   float64 `json:"ndcg"`
	RR     float64 `json:"rr"`
}

// Score computes recall@k, nDCG@k and the reciprocal rank of ranked
// against judged:
//
//   - recall@k: the share of relevant judged passages (grade ≥ 1) found in
//     the top k;
//   - nDCG@k: DCG = Σ_{i=1..k} (2^gain_i − 1) / log2(i + 1), divided by the
//     ideal DCG of the best possible top k made from all relevant judged
//     passages (not only those retrieved);
//   - RR: 1 / rank of the first relevant passage in the whole ranking
//     given (0 if none).
//
// A query without relevant judged passages scores 0 on every measure (the
// query set has none; Load rejects them).
func Score(ranked []Ranked, judged []Judged, k int) Scores {
	gains, _ := Gains(ranked, judged)
	var rel []int
	for _, j := range judged {
		if j.Grade > 0 {
			rel = append(rel, j.Grade)
		}
	}
	if len(rel) == 0 || k <= 0 {
		return Scores{}
	}
	var s Scores
	found := 0
	for i, g := range gains {
		if g > 0 && s.RR == 0 {
			s.RR = 1 / float64(i+1)
		}
		if i < k && g > 0 {
			found++
		}
	}
	s.Recall = float64(found) / float64(len(rel))
	dcg := DCG(gains, k)
	// Ideal: the relevant grades in decreasing order.
	ideal := append([]int(nil), rel...)
	sortDesc(ideal)
	if idcg := DCG(ideal, k); idcg > 0 {
		s.NDCG = dcg / idcg
	}
	return s
}

// DCG is Σ_{i=1..min(k,len)} (2^g_i − 1) / log2(i + 1).
func DCG(gains []int, k int) float64 {
	var d float64
	for i, g := range gains {
		if i >= k {
			break
		}
		if g > 0 {
			d += (math.Exp2(float64(g)) - 1) / math.Log2(float64(i+2))
		}
	}
	return d
}

func sortDesc(v []int) {
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] > v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
}

// JudgedAt is the share of the top k passages of ranked that match some
// judgement of any grade (same document, text containing the substring) —
// how much of what a ranker shows was judged at all. Unjudged passages
// count as not relevant, so a low share warns that a ranker is being
// scored on passages the judges never saw (pooling bias). An empty
// ranking has share 0.
func JudgedAt(ranked []Ranked, judged []Judged, k int) float64 {
	n := min(k, len(ranked))
	if n == 0 {
		return 0
	}
	hit := 0
	for _, r := range ranked[:n] {
		doc, text := NormalizeDoc(r.Doc), Normalize(r.Text)
		for _, j := range judged {
			if sub := Normalize(j.Contains); sub != "" && NormalizeDoc(j.Doc) == doc && strings.Contains(text, sub) {
				hit++
				break
			}
		}
	}
	return float64(hit) / float64(n)
}

// Mean is the arithmetic mean of the scores (zero for none).
func Mean(ss []Scores) Scores {
	var m Scores
	if len(ss) == 0 {
		return m
	}
	for _, s := range ss {
		m.Recall += s.Recall
		m.NDCG += s.NDCG
		m.RR += s.RR
	}
	n := float64(len(ss))
	return Scores{Recall: m.Recall / n, NDCG: m.NDCG / n, RR: m.RR / n}
}
