package library_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// The label property: for every principal, everything the literature
// answers — search hits (BM25 and hybrid: IDs, order, ranks, scores),
// facts (all pages), passages, publications with their counts and
// citation edges — equals what a service holding only the documents that
// principal may read answers; and no hidden document's distinctive word
// appears in any output. The reference is a fresh deployment loaded with
// the readable documents alone, in the same order, at the same labels.
func TestLabelProperty(t *testing.T) {
	labels := []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "PROPRIETARY//BIO", "NATIONAL-SECURITY//FUSION", "NATIONAL-SECURITY//BIO"}
	type reader struct{ name, clearance string }
	// Random principals: a level and a subset of the compartments, plus
	// the two corners of the lattice.
	randomReaders := func(rng *rand.Rand) []reader {
		rs := []reader{{"r-open", "OPEN"}, {"r-all", "NATIONAL-SECURITY//FUSION/BIO"}}
		for i := range 3 {
			cl := []string{"OPEN", "PROPRIETARY", "NATIONAL-SECURITY"}[rng.IntN(3)]
			var cs []string
			for _, c := range []string{"FUSION", "BIO"} {
				if cl != "OPEN" && rng.IntN(2) == 0 {
					cs = append(cs, c)
				}
			}
			if len(cs) > 0 {
				cl += "//" + strings.Join(cs, "/")
			}
			rs = append(rs, reader{fmt.Sprintf("r-%d", i), cl})
		}
		return rs
	}
	seeds := 2
	if testing.Short() {
		seeds = 1
	}
	for name, open := range storetest.Backends() {
		t.Run(name, func(t *testing.T) {
			for seed := range seeds {
				rng := rand.New(rand.NewPCG(uint64(seed), 14))
				readers := randomReaders(rng)
				var corpus []item
				shared := []string{"perovskite", "anneal", "lattice", "spectra", "catalyst", "membrane"}
				n := 8 + rng.IntN(5)
				for i := range n {
					word := fmt.Sprintf("zq%dx%02dw", seed, i)
					var paras []string
					for range 1 + rng.IntN(3) {
						var ws []string
						for range 4 + rng.IntN(8) {
							ws = append(ws, shared[rng.IntN(len(shared))])
						}
						ws = append(ws, word)
						mat := []string{"CsPbI3", "MAPbI3", "TiO2"}[rng.IntN(3)]
						paras = append(paras, strings.Join(ws, " ")+fmt.Sprintf(". %s has a band gap of %d.%d eV.", mat, 1+rng.IntN(2), rng.IntN(10)))
					}
					d := doc(fmt.Sprintf("10.9/s%d-%d", seed, i), "Study "+word+" of "+shared[rng.IntN(len(shared))], paras...)
					for range rng.IntN(3) {
						d.References = append(d.References, lit.Reference{DOI: fmt.Sprintf("10.9/s%d-%d", seed, rng.IntN(n))})
					}
					corpus = append(corpus, item{doc: d, label: labels[rng.IntN(len(labels))], word: word})
				}
				load := func(w *world, keep func(string) bool) {
					t.Helper()
					writer := w.principals["writer"]
					for _, it := range corpus {
						if !keep(it.label) {
							continue
						}
						res, err := w.lib.ImportDocuments(ctx, writer, it.label, "", []lit.Document{it.doc})
						if err != nil || res.Publications[0].Status == "rejected" {
							t.Fatalf("import %s at %s: %+v %v", it.word, it.label, res, err)
						}
					}
				}
				newW := func() *world {
					w := newWorld(t, storetest.Migrated(t, open), worldOpts{embedder: &hashEmbedder{model: "hash-64"}})
					w.mk(t, "writer", "NATIONAL-SECURITY//FUSION/BIO", genesis.RoleContributor)
					for _, r := range readers {
						w.mk(t, r.name, r.clearance, genesis.RoleViewer)
					}
					return w
				}
				full := newW()
				load(full, func(string) bool { return true })
				// Every passage got its vector at import (so hybrid answers
				// below do rank by vectors).
				if n, err := full.lib.ReindexVectors(ctx); err != nil || n != 0 {
					t.Fatalf("passages without vectors after import: %d %v", n, err)
				}
				// Every passage ID and publication name there is.
				var psgIDs, pubNames []string
				for i := range corpus {
					name := fmt.Sprintf("doi-10.9-s%d-%d", seed, i)
					pubNames = append(pubNames, name)
					ps, err := full.lib.Passages(ctx, full.principals["writer"], name)
					if err != nil {
						t.Fatal(err)
					}
					for _, x := range ps {
						psgIDs = append(psgIDs, x.ID)
					}
				}
				pubNames = append(pubNames, "no-such-publication")
				psgIDs = append(psgIDs, "psg_000000000000000000000000")
				for _, r := range readers {
					cl, _ := label.Parse(r.clearance)
					may := func(l string) bool { x, _ := label.Parse(l); return label.Dominates(cl, x) }
					ref := newW()
					load(ref, may)
					var hidden []string
					for _, it := range corpus {
						if !may(it.label) {
							hidden = append(hidden, it.word)
						}
					}
					got := observe(t, full, full.principals[r.name], psgIDs, pubNames, queries(corpus, shared))
					want := observe(t, ref, ref.principals[r.name], psgIDs, pubNames, queries(corpus, shared))
					compare(t, fmt.Sprintf("seed %d %s (%s)", seed, r.name, r.clearance), got, want)
					// Keys name what was asked (hidden words among them): only
					// the answers count.
					var answers []any
					for _, v := range got.Searches {
						answers = append(answers, v)
					}
					for _, v := range got.Passages {
						answers = append(answers, v)
					}
					for _, v := range got.Pubs {
						answers = append(answers, v)
					}
					answers = append(answers, got.Facts)
					blob, _ := json.Marshal(answers)
					for _, h := range hidden {
						if strings.Contains(string(blob), h) {
							t.Errorf("seed %d %s: hidden word %s appears in the output", seed, r.name, h)
						}
					}
				}
			}
		})
	}
}

type item struct {
	doc   lit.Document
	label string
	word  string
}

func queries(corpus []item, shared []string) []string {
	var qs []string
	for _, it := range corpus {
		qs = append(qs, it.word)
	}
	qs = append(qs, shared...)
	qs = append(qs, "perovskite lattice", "band gap")
	return qs
}

// observation is what one principal sees, with publication IDs replaced
// by names (IDs are random per deployment).
type observation struct {
	Searches map[string][]obsHit
	Facts    []string
	Passages map[string]string // passage ID → publication name, or "" if not found
	Pubs     map[string]string // publication name → summary, or "" if not found
	Probe    string
}

type obsHit struct {
	Key          string
	BM25, Vector int
	Score        float64
}

func observe(t *testing.T, w *world, p *genesis.Principal, psgIDs, pubNames []string, qs []string) observation {
	t.Helper()
	o := observation{Searches: map[string][]obsHit{}, Passages: map[string]string{}, Pubs: map[string]string{}}
	names := map[string]string{}
	for _, mode := range []string{lit.ModeBM25, lit.ModeHybrid} {
		for _, q := range qs {
			hits, err := w.lib.Search(ctx, p, lit.Query{Text: q, Mode: mode, Limit: 100})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var hs []obsHit
			if mode == lit.ModeHybrid && len(hits) > 0 && hits[0].Vector == 0 && hits[0].BM25 == 0 {
				t.Fatalf("hybrid hit with neither rank: %+v", hits[0])
			}
			for _, h := range hits {
				names[h.Publication] = h.Name
				hs = append(hs, obsHit{Key: h.Name + "/" + h.ID + "/" + h.Label + "/" + h.Text + "/" + h.Snippet, BM25: h.BM25, Vector: h.Vector, Score: h.Score})
			}
			o.Searches[mode+":"+q] = hs
		}
	}
	cursor := ""
	for {
		fs, next, err := w.lib.Facts(ctx, p, lit.FactQuery{Property: "band_gap", Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			pub, err := w.lib.Publication(ctx, p, f.Publication)
			if err != nil {
				t.Fatalf("fact of unreadable publication: %v", err)
			}
			o.Facts = append(o.Facts, fmt.Sprintf("%s %s %s %s %v %s %s", pub.Name, f.ID, f.Passage, f.Material, f.Value.Value, f.Statement, f.Label))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for _, mat := range []string{"cspbi3", "TiO2"} {
		fs, _, err := w.lib.Facts(ctx, p, lit.FactQuery{Material: mat, Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		o.Facts = append(o.Facts, fmt.Sprintf("%s: %d", mat, len(fs)))
	}
	for _, id := range psgIDs {
		ps, err := w.lib.Passage(ctx, p, id)
		switch {
		case errors.Is(errors.NotExist, err):
			o.Passages[id] = ""
		case err != nil:
			t.Fatal(err)
		default:
			o.Passages[id] = ps.Name + " " + ps.Label + " " + ps.Text + " " + ps.Citation
		}
	}
	ids := map[string]string{}
	var pubs []*lit.Publication
	for _, name := range pubNames {
		pub, err := w.lib.Publication(ctx, p, name)
		found := err == nil
		switch {
		case errors.Is(errors.NotExist, err):
			o.Pubs[name] = ""
		case err != nil:
			t.Fatal(err)
		default:
			ids[pub.ID] = pub.Name
			pubs = append(pubs, pub)
		}
		if _, err := w.lib.Passages(ctx, p, name); (err == nil) != found {
			t.Errorf("passages of %s: %v", name, err)
		}
	}
	for _, pub := range pubs {
		var cites, citedBy []string
		for _, c := range pub.Cites {
			cites = append(cites, ids[c])
		}
		for _, c := range pub.CitedBy {
			citedBy = append(citedBy, ids[c])
		}
		sort.Strings(cites)
		sort.Strings(citedBy)
		o.Pubs[pub.Name] = fmt.Sprintf("%s v%d %s passages %d facts %d cites %v cited by %v %s", pub.Label, pub.Version, pub.Citation.Title,
			pub.Passages, pub.Facts, cites, citedBy, pub.Abstract)
	}
	return o
}

func compare(t *testing.T, what string, got, want observation) {
	t.Helper()
	for q, wh := range want.Searches {
		gh := got.Searches[q]
		if len(gh) != len(wh) {
			t.Errorf("%s: search %s: %d hits, reference %d", what, q, len(gh), len(wh))
			continue
		}
		// Equal scores may come in either order (ties break by document
		// ID, which holds the random publication ID): compare by score
		// groups.
		norm := func(hs []obsHit) []string {
			var out []string
			for _, h := range hs {
				out = append(out, fmt.Sprintf("%.9f %d %d %s", h.Score, h.BM25*0, h.Vector*0, h.Key))
			}
			sort.Strings(out)
			return out
		}
		g, w := norm(gh), norm(wh)
		for i := range g {
			if g[i] != w[i] {
				t.Errorf("%s: search %s: hit %s, reference %s", what, q, g[i], w[i])
				break
			}
		}
		for i := range gh {
			if math.Abs(gh[i].Score-wh[i].Score) > 1e-9 {
				t.Errorf("%s: search %s: rank %d score %v, reference %v", what, q, i+1, gh[i].Score, wh[i].Score)
			}
		}
	}
	for k, v := range want.Passages {
		if got.Passages[k] != v {
			t.Errorf("%s: passage %s: %q, reference %q", what, k, got.Passages[k], v)
		}
	}
	for k, v := range want.Pubs {
		if got.Pubs[k] != v {
			t.Errorf("%s: publication %s: %q, reference %q", what, k, got.Pubs[k], v)
		}
	}
	if strings.Join(got.Facts, "\n") != strings.Join(want.Facts, "\n") {
		t.Errorf("%s: facts\n%s\nreference\n%s", what, strings.Join(got.Facts, "\n"), strings.Join(want.Facts, "\n"))
	}
}
