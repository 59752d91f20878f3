package agent_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var propLabels = []string{"OPEN", "PROPRIETARY", "PROPRIETARY//ALPHA"}
var propClearances = []string{"OPEN", "PROPRIETARY", "PROPRIETARY//ALPHA"}

// shared words make links between documents; each document also has its
// own distinctive word, which must never reach a principal who may not
// read the document.
var sharedWords = []string{"kelvin", "lattice", "anneal", "dopant", "oxide", "sulfide", "sintering", "grain", "vacancy", "phonon", "exciton", "spinel"}

type propDoc struct {
	d       lit.Document
	marking string
	word    string // distinctive
	formula string // distinctive too: the material of its band-gap fact
	hasFact bool
}

// formulas are distinct perovskite-like formulas the extractor reads.
var formulas = func() []string {
	var out []string
	for _, a := range []string{"Cs", "Rb", "K", "Na"} {
		for _, b := range []string{"Pb", "Sn", "Ge"} {
			for _, x := range []string{"I", "Br", "Cl"} {
				out = append(out, a+b+x+"3")
			}
		}
	}
	return out
}()

func randomCorpus(rng *rand.Rand, n int) []propDoc {
	var out []propDoc
	perm := rng.Perm(len(formulas))
	for i := range n {
		formula := formulas[perm[i]]
		word := fmt.Sprintf("zq%dx%d", i, rng.IntN(1000))
		var paras []string
		for range 1 + rng.IntN(3) {
			var ws []string
			if rng.IntN(2) == 0 {
				ws = append(ws, "topicword")
			}
			for range 2 + rng.IntN(3) {
				ws = append(ws, sharedWords[rng.IntN(len(sharedWords))])
			}
			ws = append(ws, word)
			rng.Shuffle(len(ws), func(a, b int) { ws[a], ws[b] = ws[b], ws[a] })
			paras = append(paras, strings.Join(ws, " ")+".")
		}
		hasFact := rng.IntN(2) == 0
		if hasFact {
			// A fact about the document's own material.
			paras = append(paras, fmt.Sprintf("The band gap of %s is %.2f eV at %d K.", formula, 0.8+rng.Float64()*1.5, 280+rng.IntN(60)))
		}
		d := doc(fmt.Sprintf("Document %d", i), paras...)
		out = append(out, propDoc{d: d, marking: propLabels[rng.IntN(len(propLabels))], word: word, formula: formula, hasFact: hasFact})
	}
	return out
}

// propWorld adds one principal per clearance to w.
func propWorld(t *testing.T, w *world) []*genesis.Principal {
	t.Helper()
	var ps []*genesis.Principal
	for i, c := range propClearances {
		p, err := w.ids.CreatePrincipal(ctx, genesis.Principal{Name: fmt.Sprintf("p%d", i), Clearance: c, Roles: []genesis.Role{genesis.RoleContributor}})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func (w *world) load(docs []propDoc, keep func(propDoc) bool) {
	w.t.Helper()
	for _, d := range docs {
		if keep(d) {
			w.put(w.boss, d.marking, d.d)
		}
	}
}

// TestLabelProperty: random corpora with distinctive words, random labels
// and principals. A run as p reads and cites only passages p may read, its
// output holds no distinctive word of a document p may not read, its label
// dominates the join of what it read — and it equals the run of a
// reference service holding only the documents p may read.
func TestLabelProperty(t *testing.T) {
	trials := 3
	if testing.Short() {
		trials = 1
	}
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			open := storetest.Backends()[backend]
			var hyps, gaps, llms, hiddenDocs int
			for trial := range trials {
				rng := rand.New(rand.NewPCG(uint64(trial), 14))
				docs := randomCorpus(rng, 8+rng.IntN(6))
				w := newWorld(t, storetest.Migrated(t, open), nil)
				ps := propWorld(t, w)
				w.load(docs, func(propDoc) bool { return true })
				// A model that tries everything: it searches for every
				// document's distinctive word, reads and cites every
				// passage there is (as the steward sees them).
				chat, reqs := scripted(t, greedyScript(w, docs))
				ag, err := agent.New(agent.Config{Library: w.lib, Catalog: w.cat, Campaigns: w.camp, Chatter: chat, DB: w.db, WorkDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				w.ag = ag
				target := &agent.Target{Property: "band_gap", Value: 1.5, Unit: "eV"}
				for pi, p := range ps {
					cl, _ := label.Parse(p.Clearance)
					mayRead := func(d propDoc) bool {
						l, _ := label.Parse(d.marking)
						return label.Dominates(cl, l)
					}
					req := agent.HypothesizeRequest{Topic: "topicword", Target: target, Methods: []string{"lbd", "gap", "llm"}, Limit: 50}
					n0 := len(reqs())
					run, err := w.ag.Hypothesize(ctx, p, req)
					if err != nil {
						t.Fatal(err)
					}
					// Nothing hidden was sent to the model either.
					for _, r := range reqs()[n0:] {
						for _, m := range r.Messages {
							if m.Role != llm.RoleTool && m.Role != llm.RoleUser {
								continue
							}
							low := strings.ToLower(m.Content)
							for _, d := range docs {
								if !mayRead(d) && (strings.Contains(low, d.word) || d.hasFact && strings.Contains(low, strings.ToLower(d.formula))) {
									t.Fatalf("trial %d p%d: the model was sent hidden %s/%s: %q", trial, pi, d.word, d.formula, m.Content)
								}
							}
						}
					}
					// Read and cited only what p may read.
					readJoin := label.Label{}
					for _, id := range run.Read {
						ps, err := w.lib.Passage(ctx, p, id)
						if err != nil {
							t.Fatalf("trial %d p%d read %s, which it may not read: %v", trial, pi, id, err)
						}
						l, _ := label.Parse(ps.Label)
						readJoin = label.Join(readJoin, l)
					}
					rl, err := label.Parse(run.Label)
					if err != nil || !label.Dominates(rl, readJoin) {
						t.Fatalf("trial %d p%d: run label %s does not dominate what it read, %s", trial, pi, run.Label, readJoin.Format())
					}
					for _, h := range run.Hypotheses {
						hyps++
						switch h.Method {
						case agent.MethodGap:
							gaps++
						case agent.MethodLLM:
							llms++
						}
					}
					out := strings.ToLower(mustJSON(run))
					for _, d := range docs {
						if !mayRead(d) {
							hiddenDocs++
						}
						if !mayRead(d) && (strings.Contains(out, d.word) || d.hasFact && strings.Contains(out, strings.ToLower(d.formula))) {
							t.Fatalf("trial %d p%d: hidden word %s or formula %s in the run's output", trial, pi, d.word, d.formula)
						}
					}
					// The reference: a fresh service with only what p may
					// read, the same principal.
					ref := newWorld(t, storetest.Migrated(t, open), chat)
					rps := propWorld(t, ref)
					ref.load(docs, mayRead)
					rrun, err := ref.ag.Hypothesize(ctx, rps[pi], req)
					if err != nil {
						t.Fatal(err)
					}
					if run.Label != rrun.Label {
						t.Errorf("trial %d p%d: label %s, reference %s", trial, pi, run.Label, rrun.Label)
					}
					if fmt.Sprint(run.Read) != fmt.Sprint(rrun.Read) {
						t.Errorf("trial %d p%d: read %v, reference %v", trial, pi, run.Read, rrun.Read)
					}
					if fmt.Sprint(run.Drops) != fmt.Sprint(rrun.Drops) {
						t.Errorf("trial %d p%d: drops %+v, reference %+v", trial, pi, run.Drops, rrun.Drops)
					}
					if a, b := comparable(run), comparable(rrun); a != b {
						t.Errorf("trial %d p%d: hypotheses differ from the reference:\n%s\n%s", trial, pi, a, b)
					}
					for i := range min(len(run.Hypotheses), len(rrun.Hypotheses)) {
						if math.Abs(run.Hypotheses[i].Score-rrun.Hypotheses[i].Score) > 1e-9 {
							t.Errorf("trial %d p%d: score %d %v vs %v", trial, pi, i, run.Hypotheses[i].Score, rrun.Hypotheses[i].Score)
						}
					}
				}
			}
			// A property that held vacuously proves nothing.
			if hyps == 0 || gaps == 0 || llms == 0 || hiddenDocs == 0 {
				t.Fatalf("degenerate trials: %d hypotheses, %d gap, %d llm, %d hidden documents", hyps, gaps, llms, hiddenDocs)
			}
			t.Logf("%d hypotheses (%d gap, %d llm), %d hidden (principal, document) pairs", hyps, gaps, llms, hiddenDocs)
		})
	}
}

// comparable is a run's hypotheses without IDs and scores.
func comparable(r *agent.Run) string {
	var b strings.Builder
	for _, h := range r.Hypotheses {
		fmt.Fprintf(&b, "%s|%s|%s|%s|%v|%v|%v\n", h.Method, h.Statement, h.A, h.C, h.Via, h.Passages, mustJSON(h.Claims))
	}
	return b.String()
}

// greedyScript is a model that, asked once, searches for every document's
// distinctive word and reads passages of every document, then cites every
// passage there is, five claims a hypothesis.
func greedyScript(w *world, docs []propDoc) map[string]any {
	w.t.Helper()
	var all []string
	var calls []any
	for i, d := range docs {
		calls = append(calls, map[string]any{"id": fmt.Sprintf("s%d", i), "name": "search_passages", "arguments": map[string]any{"query": d.word}})
		ids := w.passagesWith(d.word)
		all = append(all, ids...)
		if len(ids) > 0 && len(calls) < 30 {
			calls = append(calls, map[string]any{"id": fmt.Sprintf("g%d", i), "name": "get_passage", "arguments": map[string]any{"id": ids[0]}})
		}
	}
	var hyps []any
	for i := 0; i < len(all); i += 5 {
		var claims []any
		for _, id := range all[i:min(i+5, len(all))] {
			claims = append(claims, map[string]any{"text": "claim", "citations": []string{id}})
		}
		hyps = append(hyps, map[string]any{"statement": fmt.Sprintf("hypothesis %d", i/5), "claims": claims})
	}
	return map[string]any{
		"rules": []any{
			map[string]any{"name": "greedy tools", "match": map[string]any{"tool_results": false}, "reply": map[string]any{"tool_calls": calls}},
			map[string]any{"name": "cite all", "match": map[string]any{"tool_results": true}, "reply": map[string]any{"content": mustJSON(map[string]any{"hypotheses": hyps})}},
		},
	}
}
