package agent

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/genesis-science/genesis/internal/lit"
)

// LBD parameters: how much the run reads.
const (
	lbdTopicLimit = 100 // passages for the topic (and for each A concept)
	lbdMaxB       = 12  // linking terms followed
	lbdBLimit     = 50  // passages per linking term
	lbdMaxC       = 40  // C candidates checked with an A AND C search
	lbdCiteEach   = 2   // passages cited per A–B and B–C link
)

// lbdScore is the stated score of a literature-based-discovery hypothesis.
const lbdScore = "Σ over linking terms B (co-mentioned with A and with C) of (1 + min(npmi(A,B), npmi(B,C)))/2, npmi over the passages this run read (co-mention = same passage): each link counts in (0, 1], more the stronger its weaker association"

// lbd is Swanson's ABC model over the passages p may read: A = the topic's
// concepts; B = concepts co-mentioned with A; C = concepts co-mentioned
// with some B and never with A in any passage the run saw — including
// those found by a search for A and C together.
func (s *Service) lbd(ctx context.Context, rd *reader, topic string, limit int) ([]Hypothesis, error) {
	aTerms := concepts(topic)
	if len(aTerms) == 0 {
		return nil, nil
	}
	isA := map[string]bool{}
	for _, a := range aTerms {
		isA[a] = true
	}
	if _, err := rd.search(ctx, topic, lbdTopicLimit); err != nil {
		return nil, err
	}
	if len(aTerms) > 1 {
		for _, a := range aTerms {
			if _, err := rd.search(ctx, a, lbdTopicLimit); err != nil {
				return nil, err
			}
		}
	}
	cs := newCooc()
	cs.addAll(rd)
	mentionsA := func(id string) bool {
		for a := range isA {
			if cs.has[id][a] {
				return true
			}
		}
		return false
	}
	// B: concepts co-mentioned with A, most often first.
	bCount := map[string]int{}
	for id, set := range cs.has {
		if !mentionsA(id) {
			continue
		}
		for c := range set {
			if !isA[c] {
				bCount[c]++
			}
		}
	}
	bs := topKeys(bCount, lbdMaxB)
	for _, b := range bs {
		if _, err := rd.search(ctx, b, lbdBLimit); err != nil {
			return nil, err
		}
	}
	cs.addAll(rd)
	// C candidates: co-mentioned with a B, never with A so far.
	isB := map[string]bool{}
	for _, b := range bs {
		isB[b] = true
	}
	withA := map[string]bool{}
	cCount := map[string]int{}
	for id, set := range cs.has {
		a := mentionsA(id)
		hasB := false
		for c := range set {
			if a {
				withA[c] = true
			}
			if isB[c] {
				hasB = true
			}
		}
		if hasB && !a {
			for c := range set {
				if !isA[c] && !isB[c] {
					cCount[c]++
				}
			}
		}
	}
	for c := range withA {
		delete(cCount, c)
	}
	cands := topKeys(cCount, lbdMaxC)
	// Check each candidate with a search for A and C together: a passage
	// the run had not seen may co-mention them.
	// A passage mentions A when it mentions any of A's concepts, so with a
	// few concepts each is searched with C (a search for the whole topic
	// and C would miss a passage naming one of them and C).
	probes := []string{topic}
	if len(aTerms) > 1 && len(aTerms) <= 4 {
		probes = aTerms
	}
	for _, c := range cands {
		for _, a := range probes {
			if _, err := rd.search(ctx, a+" "+c, lbdTopicLimit); err != nil {
				return nil, err
			}
		}
	}
	cs.addAll(rd)
	for id, set := range cs.has {
		if mentionsA(id) {
			for c := range set {
				withA[c] = true
			}
		}
	}
	n := float64(len(cs.has))
	aPassages := map[string]bool{}
	for id := range cs.has {
		if mentionsA(id) {
			aPassages[id] = true
		}
	}
	npmi := func(x, y map[string]bool) float64 {
		nx, ny, nxy := float64(len(x)), float64(len(y)), 0.0
		for id := range x {
			if y[id] {
				nxy++
			}
		}
		if nxy == 0 || n == 0 {
			return -1
		}
		pxy := nxy / n
		if pxy >= 1 {
			return 1
		}
		return math.Log(pxy/((nx/n)*(ny/n))) / -math.Log(pxy)
	}
	var out []Hypothesis
	for _, c := range cands {
		if withA[c] {
			continue
		}
		cP := cs.with(c)
		var via []string
		score := 0.0
		var claims []Claim
		cited := map[string]bool{}
		for _, b := range bs {
			bP := cs.with(b)
			ab, bc := npmi(aPassages, bP), npmi(bP, cP)
			if ab <= -1 || bc <= -1 {
				continue // not co-mentioned on one side: no link
			}
			score += (1 + math.Min(ab, bc)) / 2
			via = append(via, b)
			abIDs := both(aPassages, bP, lbdCiteEach)
			bcIDs := both(bP, cP, lbdCiteEach)
			claims = append(claims,
				Claim{Text: fmt.Sprintf("%s is mentioned with %s", topic, b), Citations: abIDs},
				Claim{Text: fmt.Sprintf("%s is mentioned with %s", b, c), Citations: bcIDs})
			for _, id := range append(abIDs, bcIDs...) {
				cited[id] = true
			}
		}
		if len(via) == 0 {
			continue
		}
		out = append(out, Hypothesis{Method: MethodLBD, A: topic, C: c, Via: via, Score: score, ScoreExplained: lbdScore,
			Statement: fmt.Sprintf("%s may relate to %s via %s", topic, c, strings.Join(via, ", ")),
			Claims:    claims, Passages: sortedKeys(cited)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score > out[j].Score
		}
		return out[i].C < out[j].C
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// cooc is which concepts each passage the run read mentions.
type cooc struct {
	has map[string]map[string]bool
}

func newCooc() *cooc { return &cooc{has: map[string]map[string]bool{}} }

func (c *cooc) addAll(rd *reader) {
	for id, ps := range rd.passages {
		if _, ok := c.has[id]; ok {
			continue
		}
		set := map[string]bool{}
		for _, k := range concepts(ps.Text) {
			set[k] = true
		}
		c.has[id] = set
	}
}

func (c *cooc) with(concept string) map[string]bool {
	out := map[string]bool{}
	for id, set := range c.has {
		if set[concept] {
			out[id] = true
		}
	}
	return out
}

// both returns up to n passage IDs (sorted) in x and y.
func both(x, y map[string]bool, n int) []string {
	var out []string
	for id := range x {
		if y[id] {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func topKeys(m map[string]int, n int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	if len(keys) > n {
		keys = keys[:n]
	}
	return keys
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// passagesOf is a helper for tests and the LLM prompt: the run's passages
// in ID order.
func passagesOf(rd *reader) []lit.Passage {
	out := make([]lit.Passage, 0, len(rd.passages))
	for _, id := range rd.passageIDs() {
		out = append(out, *rd.passages[id])
	}
	return out
}
