package console_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/console"
)

// nodeJSON is a node of lineage.json.
type nodeJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Kind    string `json:"kind"`
	Title   string `json:"title"`
	Marking string `json:"marking"`
	Level   string `json:"level"`
	Side    string `json:"side"`
	Dist    int    `json:"dist"`
}

// graphJSON is lineage.json as a client reads it.
type graphJSON struct {
	Root  string     `json:"root"`
	Dir   string     `json:"dir"`
	Depth int        `json:"depth"`
	Nodes []nodeJSON `json:"nodes"`
	Edges []struct {
		From     string `json:"from"`
		To       string `json:"to"`
		Activity string `json:"activity"`
	} `json:"edges"`
	Up        int    `json:"up"`
	Down      int    `json:"down"`
	Truncated bool   `json:"truncated"`
	Limit     int    `json:"limit"`
	Marking   string `json:"marking"`
}

func decodeGraph(t testing.TB, b []byte) *graphJSON {
	t.Helper()
	var g graphJSON
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("lineage.json %s: %v", b, err)
	}
	return &g
}

// byName is the graph with asset IDs replaced by names (IDs differ
// between two catalogs holding the same names): sorted nodes
// "side dist name@v marking" and edges "from->to".
func (g *graphJSON) byName() (nodes, edges []string) {
	name := map[string]string{}
	for _, n := range g.Nodes {
		name[n.ID] = fmt.Sprintf("%s@%d", n.Name, n.Version)
		nodes = append(nodes, fmt.Sprintf("%s %d %s@%d %s", n.Side, n.Dist, n.Name, n.Version, n.Marking))
	}
	for _, e := range g.Edges {
		edges = append(edges, name[e.From]+"->"+name[e.To])
	}
	sort.Strings(nodes)
	sort.Strings(edges)
	return nodes, edges
}

// TestLineageJSONHiddenIsMissing: to a viewer who may not read an asset,
// its lineage.json is the same answer, byte for byte, as for a name that
// does not exist; bad queries are refused with a message naming the
// parameter.
func TestLineageJSONHiddenIsMissing(t *testing.T) {
	w := sqliteWorld(t)
	raw := w.put(t, w.alice, "open-raw", "OPEN", "x\n1\n")
	w.put(t, w.alice, "secret-fit", "PROPRIETARY//FUSION", "x\n2\n", catalog.VersionRef{Asset: raw.ID, Version: 1})
	bob := w.browser(t)
	bob.signIn(w.bobT)
	hidden := bob.get("/assets/secret-fit/lineage.json")
	missing := bob.get("/assets/no-such-fit/lineage.json")
	if hidden.StatusCode != http.StatusNotFound || hidden.body != missing.body || hidden.StatusCode != missing.StatusCode ||
		hidden.Header.Get("Content-Type") != missing.Header.Get("Content-Type") {
		t.Errorf("hidden: %d %q %q; missing: %d %q %q", hidden.StatusCode, hidden.Header.Get("Content-Type"), hidden.body,
			missing.StatusCode, missing.Header.Get("Content-Type"), missing.body)
	}
	// Even a bad query: the parameters are checked first, the same for
	// both.
	if h, m := bob.get("/assets/secret-fit/lineage.json?depth=0"), bob.get("/assets/no-such-fit/lineage.json?depth=0"); h.body != m.body || h.StatusCode != m.StatusCode {
		t.Errorf("bad query: hidden %d %q, missing %d %q", h.StatusCode, h.body, m.StatusCode, m.body)
	}
	// Alice reads it.
	alice := w.browser(t)
	alice.signIn(w.aliceT)
	if r := alice.get("/assets/secret-fit/lineage.json"); r.StatusCode != http.StatusOK {
		t.Fatalf("alice: %d %s", r.StatusCode, r.body)
	}
	for _, c := range []struct{ query, field, says string }{
		{"dir=sideways", "dir", "dir must be up, down or both"},
		{"depth=0", "depth", "depth must be a whole number from 1 to 100"},
		{"depth=101", "depth", "from 1 to 100"},
		{"depth=ten", "depth", "whole number"},
		{"depth=3&depth=4", "depth", "more than once"},
		{"dir=up&color=red", "", "takes dir and depth"},
	} {
		r := alice.get("/assets/open-raw/lineage.json?" + c.query)
		var e struct{ Error, Field string }
		if err := json.Unmarshal([]byte(r.body), &e); err != nil || r.StatusCode != http.StatusBadRequest ||
			!strings.Contains(e.Error, c.says) || e.Field != c.field || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("?%s: %d %q, want 400 saying %q (field %q)", c.query, r.StatusCode, r.body, c.says, c.field)
		}
	}
	// Signed out: the sign-in redirect, as for every page.
	anon := w.browser(t)
	if r := anon.get("/assets/open-raw/lineage.json"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d", r.StatusCode)
	}
}

// TestLineageHiddenNodeLeavesNoTrace: a version derived from the asset
// that the viewer may not read is absent from lineage.json and from the
// asset page's counts and lists, which equal those of a catalog where it
// was never made.
func TestLineageHiddenNodeLeavesNoTrace(t *testing.T) {
	build := func(withSecret bool) (*world, *browser) {
		w := sqliteWorld(t)
		a := w.put(t, w.alice, "shots-a", "OPEN", "a\n")
		b := w.put(t, w.alice, "shots-b", "OPEN", "b\n", catalog.VersionRef{Asset: a.ID, Version: 1})
		w.put(t, w.alice, "shots-c", "OPEN", "c\n", catalog.VersionRef{Asset: b.ID, Version: 1})
		if withSecret {
			s := w.put(t, w.alice, "shots-secret", "PROPRIETARY//FUSION", "s\n", catalog.VersionRef{Asset: b.ID, Version: 1})
			w.put(t, w.alice, "shots-secret-child", "PROPRIETARY//FUSION", "s2\n", catalog.VersionRef{Asset: s.ID, Version: 1})
		}
		bob := w.browser(t)
		bob.signIn(w.bobT)
		return w, bob
	}
	_, with := build(true)
	_, without := build(false)
	gw := decodeGraph(t, []byte(with.get("/assets/shots-b/lineage.json").body))
	gwo := decodeGraph(t, []byte(without.get("/assets/shots-b/lineage.json").body))
	nw, ew := gw.byName()
	nwo, ewo := gwo.byName()
	if !slices.Equal(nw, nwo) || !slices.Equal(ew, ewo) || gw.Up != gwo.Up || gw.Down != gwo.Down || gw.Marking != gwo.Marking {
		t.Errorf("bob's graph with a hidden child:\n%v %v up %d down %d %s\nwithout:\n%v %v up %d down %d %s",
			nw, ew, gw.Up, gw.Down, gw.Marking, nwo, ewo, gwo.Up, gwo.Down, gwo.Marking)
	}
	want := []string{"down 1 shots-c@1 OPEN", "root 0 shots-b@1 OPEN", "up 1 shots-a@1 OPEN"}
	if !slices.Equal(nwo, want) || gwo.Up != 1 || gwo.Down != 1 {
		t.Errorf("bob's graph %v (up %d, down %d), want %v", nwo, gwo.Up, gwo.Down, want)
	}
	// The page: the counts, the lists and the embedded graph.
	pw, pwo := with.get("/assets/shots-b"), without.get("/assets/shots-b")
	for _, id := range []string{"lineage-count-up", "lineage-count-down", "lineage-summary"} {
		if a, b := text(byID(pw.doc, id)), text(byID(pwo.doc, id)); a != b || a == "" {
			t.Errorf("#%s: %q with a hidden child, %q without", id, a, b)
		}
	}
	if strings.Contains(pw.body, "secret") {
		t.Error("bob's page names the hidden child")
	}
	emb := func(r *response) []string {
		n, e := decodeGraph(t, []byte(attr(byID(r.doc, "lineage-graph"), "data-graph"))).byName()
		return append(n, e...)
	}
	if a, b := emb(pw), emb(pwo); !slices.Equal(a, b) {
		t.Errorf("embedded graph %v with a hidden child, %v without", a, b)
	}
	// The page's "as JSON" link is lineage.json of the same graph.
	js := without.get(attr(byID(pwo.doc, "lineage-json"), "href"))
	if strings.TrimSpace(js.body) != attr(byID(pwo.doc, "lineage-graph"), "data-graph") {
		t.Errorf("the page's JSON link answers\n%s\nthe page embeds\n%s", js.body, attr(byID(pwo.doc, "lineage-graph"), "data-graph"))
	}

	// Past its node bound the page draws the nearest and says so.
	console.SetPageGraphLimit(t, 2)
	pt := without.get("/assets/shots-b")
	if got := text(byID(pt.doc, "lineage-truncated")); got != "graph truncated at 2 nodes" {
		t.Errorf("truncated page says %q", got)
	}
	if n, _ := decodeGraph(t, []byte(attr(byID(pt.doc, "lineage-graph"), "data-graph"))).byName(); len(n) != 2 || !strings.HasPrefix(n[0], "root") && !strings.HasPrefix(n[1], "root") {
		t.Errorf("truncated graph %v, want the asset and one neighbour", n)
	}
	if byID(pwo.doc, "lineage-truncated") != nil {
		t.Error("an untruncated page says it is truncated")
	}
}

// TestLineageGraphMatchesModel: on random lineage DAGs (some versions
// PROPRIETARY, so hidden from bob, and their descendants with them),
// lineage.json equals a reference walk over what bob may read — nodes,
// sides, fewest steps, edges, counts — for every direction and depth; the
// page embeds the same graph; and a node limit keeps the nearest nodes.
func TestLineageGraphMatchesModel(t *testing.T) {
	for seed := range uint64(3) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 16))
			w := sqliteWorld(t)
			const n = 24
			type mnode struct {
				name    string
				open    bool
				parents []int
				id      string
			}
			ns := make([]mnode, n)
			for i := range ns {
				ns[i].name = fmt.Sprintf("m%02d", i)
				ns[i].open = rng.IntN(6) != 0
				var ins []catalog.VersionRef
				for k := rng.IntN(4); k > 0 && i > 0; k-- {
					j := rng.IntN(i)
					if !slices.Contains(ns[i].parents, j) {
						ns[i].parents = append(ns[i].parents, j)
						ins = append(ins, catalog.VersionRef{Asset: ns[j].id, Version: 1})
						ns[i].open = ns[i].open && ns[j].open
					}
				}
				l := "OPEN"
				if !ns[i].open {
					l = "PROPRIETARY//FUSION"
				}
				ns[i].id = w.put(t, w.alice, ns[i].name, l, ns[i].name, ins...).ID
			}
			children := make([][]int, n)
			for i, m := range ns {
				for _, p := range m.parents {
					children[p] = append(children[p], i)
				}
			}
			bob := w.browser(t)
			bob.signIn(w.bobT)
			// reference: breadth first from root over readable nodes.
			reference := func(root int, dir string, depth int) (nodes, edges []string, up, down int) {
				type st struct {
					side string
					dist int
				}
				seen := map[int]st{root: {"root", 0}}
				var es []string
				for _, side := range []string{"up", "down"} {
					if dir != "both" && dir != side {
						continue
					}
					dist := map[int]int{root: 0}
					for frontier := []int{root}; len(frontier) > 0; {
						var next []int
						for _, x := range frontier {
							if dist[x] >= depth {
								continue
							}
							nb := ns[x].parents
							if side == "down" {
								nb = children[x]
							}
							for _, y := range nb {
								if !ns[y].open {
									continue
								}
								if side == "up" {
									es = append(es, ns[y].name+"@1->"+ns[x].name+"@1")
								} else {
									es = append(es, ns[x].name+"@1->"+ns[y].name+"@1")
								}
								if _, ok := dist[y]; !ok {
									dist[y] = dist[x] + 1
									seen[y] = st{side, dist[y]}
									next = append(next, y)
								}
							}
						}
						frontier = next
					}
				}
				for i, s := range seen {
					nodes = append(nodes, fmt.Sprintf("%s %d %s@1 OPEN", s.side, s.dist, ns[i].name))
					switch s.side {
					case "up":
						up++
					case "down":
						down++
					}
				}
				sort.Strings(nodes)
				sort.Strings(es)
				return nodes, slices.Compact(es), up, down
			}
			for root := range ns {
				if !ns[root].open {
					if r := bob.get("/assets/" + ns[root].name + "/lineage.json"); r.StatusCode != http.StatusNotFound {
						t.Errorf("bob reads hidden %s's lineage: %d", ns[root].name, r.StatusCode)
					}
					continue
				}
				for _, q := range []struct {
					dir   string
					depth int
				}{{"both", 1}, {"up", 2}, {"down", 3}, {"both", 100}} {
					path := fmt.Sprintf("/assets/%s/lineage.json?dir=%s&depth=%d", ns[root].name, q.dir, q.depth)
					r := bob.get(path)
					if r.StatusCode != http.StatusOK {
						t.Fatalf("%s: %d %s", path, r.StatusCode, r.body)
					}
					g := decodeGraph(t, []byte(r.body))
					gotN, gotE := g.byName()
					wantN, wantE, up, down := reference(root, q.dir, q.depth)
					if !slices.Equal(gotN, wantN) || !slices.Equal(gotE, wantE) || g.Up != up || g.Down != down || g.Truncated || g.Marking != "OPEN" {
						t.Fatalf("%s:\n got %v\n     %v up %d down %d truncated %v %s\nwant %v\n     %v up %d down %d",
							path, gotN, gotE, g.Up, g.Down, g.Truncated, g.Marking, wantN, wantE, up, down)
					}
					if q.dir == "both" && q.depth == 100 && root%5 == 0 {
						// A limit keeps the nearest: no dropped node is
						// nearer than a kept one, edges only between kept.
						limit := 1 + len(wantN)/2
						b, err := console.LineageJSON(ctx, w.con, w.bob, ns[root].name, "both", 100, limit)
						if err != nil {
							t.Fatal(err)
						}
						lg := decodeGraph(t, b)
						kept := map[string]int{}
						far := 0
						for _, x := range lg.Nodes {
							kept[x.ID] = x.Dist
							far = max(far, x.Dist)
						}
						if len(lg.Nodes) != min(limit, len(wantN)) || lg.Truncated != (limit < len(wantN)) || lg.Limit != limit {
							t.Fatalf("limit %d of %d: %d nodes, truncated %v", limit, len(wantN), len(lg.Nodes), lg.Truncated)
						}
						for _, wn := range wantN {
							var side, nm string
							var d int
							fmt.Sscanf(wn, "%s %d %s", &side, &d, &nm)
							if d < far && !slices.ContainsFunc(lg.Nodes, func(x nodeJSON) bool {
								return x.Name+"@1" == strings.TrimSuffix(nm, " OPEN")
							}) {
								t.Fatalf("limit %d dropped %s (%d steps) but kept a node %d steps away", limit, nm, d, far)
							}
						}
						for _, e := range lg.Edges {
							if _, ok := kept[e.From]; !ok {
								t.Fatalf("edge from dropped %s", e.From)
							}
							if _, ok := kept[e.To]; !ok {
								t.Fatalf("edge to dropped %s", e.To)
							}
						}
					}
				}
				if root%6 == 0 {
					// The page embeds the page's graph: depth 16 both ways.
					pg := bob.get("/assets/" + ns[root].name)
					gotN, gotE := decodeGraph(t, []byte(attr(byID(pg.doc, "lineage-graph"), "data-graph"))).byName()
					wantN, wantE, _, _ := reference(root, "both", 16)
					if !slices.Equal(gotN, wantN) || !slices.Equal(gotE, wantE) {
						t.Fatalf("%s's page embeds %v %v, want %v %v", ns[root].name, gotN, gotE, wantN, wantE)
					}
				}
			}
		})
	}
}
