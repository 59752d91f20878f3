package browsertest

import (
	"encoding/json"

	"fmt"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"html"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// syntheticLineage is benchLineage's shape as lineage.json would give
// it (ids are names), without a Genesis behind it.
func syntheticLineage() []byte {
	type node struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Version int    `json:"version"`
		Kind    string `json:"kind"`
		Marking string `json:"marking"`
		Level   string `json:"level"`
		Side    string `json:"side"`
		Dist    int    `json:"dist"`
	}
	type edge struct {
		From     string `json:"from"`
		To       string `json:"to"`
		Activity string `json:"activity"`
	}
	var nodes []node
	var edges []edge
	rng := rand.New(rand.NewPCG(1, 1000))
	const upLayers, upWidth, downLayers, downWidth = 12, 42, 11, 45
	name := func(side string, l, i int) string { return fmt.Sprintf("bench-%s-%02d-%02d@1", side, l, i) }
	add := func(id, side string, dist int) {
		nodes = append(nodes, node{ID: id, Name: id[:len(id)-2], Version: 1, Kind: "dataset", Marking: "OPEN", Level: "open", Side: side, Dist: dist})
	}
	link := func(from, to string) { edges = append(edges, edge{From: from, To: to, Activity: "put"}) }
	add("bench-root@1", "root", 0)
	for l := 1; l <= upLayers; l++ {
		for i := range upWidth {
			add(name("up", l, i), "up", l)
			if l == 1 {
				link(name("up", 1, i), "bench-root@1")
				continue
			}
			link(name("up", l, i), name("up", l-1, i))
			for k := rng.IntN(3); k > 0; k-- {
				if j := rng.IntN(upWidth); j != i {
					link(name("up", l, i), name("up", l-1, j))
				}
			}
		}
	}
	for l := 1; l <= downLayers; l++ {
		for i := range downWidth {
			add(name("down", l, i), "down", l)
			if l == 1 {
				link("bench-root@1", name("down", 1, i))
				continue
			}
			link(name("down", l-1, i), name("down", l, i))
			for k := rng.IntN(3); k > 0; k-- {
				link(name("down", l-1, rng.IntN(downWidth)), name("down", l, i))
			}
			if l > 2 && rng.IntN(5) == 0 {
				link(name("down", l-2, rng.IntN(downWidth)), name("down", l, i))
			}
		}
	}
	b, _ := json.Marshal(map[string]any{"root": "bench-root@1", "dir": "both", "depth": 16, "nodes": nodes, "edges": edges,
		"up": upLayers * upWidth, "down": downLayers * downWidth, "truncated": false, "limit": 2000, "marking": "OPEN"})
	return b
}

// BenchmarkLineageDraw1000 is BenchmarkLineageGraph1000's browser half
// alone: static/lineage.js drawing benchLineage's shape from a page that
// embeds it (no Genesis, no server time), for working on the drawing.
func BenchmarkLineageDraw1000(b *testing.B) {
	srv := syntheticServer(b)
	p := NewPage(b)
	measureLineage(b, p, srv.URL+"/")
}

func syntheticServer(t testing.TB) *httptest.Server {
	graph := syntheticLineage()
	mux := http.NewServeMux()
	mux.Handle("/static/", http.StripPrefix("/static/", http.FileServer(http.Dir("../static"))))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>draw</title><link rel="icon" href="data:,"><link rel="stylesheet" href="/static/console.css"><link rel="stylesheet" href="/static/lineage.css"><script src="/static/lineage.js" defer></script></head>
<body><main id="main"><section id="lineage"><div id="lineage-graph" data-graph="%s"></div></section></main></body></html>`, html.EscapeString(string(graph)))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestLineageGraphLarge: at 1,000 nodes the drawing keeps only what is
// in view in the document, the arrow keys walk to the farthest layer
// (bringing its nodes in), scrolling brings far nodes in, Fit shows
// them all, and every edge goes left to right (upstream to downstream);
// collapsing the asset's upstream leaves the asset and its downstream.
func TestLineageGraphLarge(t *testing.T) {
	srv := syntheticServer(t)
	p := NewPage(t)
	openGraph(t, p, srv.URL+"/")
	if n := Eval[int](p, `+document.getElementById("lineage-graph").dataset.shown`); n != 1000 {
		t.Fatalf("%d nodes laid out, want 1000", n)
	}
	attached := func() int { return Eval[int](p, `document.querySelectorAll("#lineage-graph g.lineage-n").length`) }
	if n := attached(); n == 0 || n >= 1000 {
		t.Errorf("%d nodes in the document at first: want those in view only", n)
	}
	farLeft := `!!document.querySelector('#lineage-graph a.lineage-node[href^="/assets/bench-up-12-"]')`
	if Eval[bool](p, farLeft) {
		t.Error("the farthest upstream node is in the document before scrolling to it")
	}
	// Keyboard at scale: from the asset, twelve ArrowLeft reach the
	// farthest upstream layer, each node coming into view as it is
	// reached.
	p.Do("focusing the asset", Drop(chromedp.Evaluate[bool](`document.querySelector("#lineage-graph .lineage-side-root a.lineage-node").focus(), true`)))
	for range 12 {
		p.Do("ArrowLeft", chromedp.KeyEvent(kb.ArrowLeft))
	}
	focused := func() string {
		return Eval[string](p, `document.activeElement.closest("g.lineage-n")?.dataset.name || ""`)
	}
	at := focused()
	if !strings.HasPrefix(at, "bench-up-12-") {
		t.Errorf("12 ArrowLeft from the asset reached %q, want a bench-up-12 node", at)
	}
	p.Do("ArrowDown", chromedp.KeyEvent(kb.ArrowDown))
	if got := focused(); !strings.HasPrefix(got, "bench-up-12-") || got == at {
		t.Errorf("ArrowDown from %s went to %q, want another bench-up-12 node", at, got)
	}
	p.Do("scrolling to the far left", Drop(chromedp.Evaluate[bool](`(v => (v.scrollLeft = 0, v.scrollTop = 0, true))(document.querySelector("#lineage-graph .lineage-view"))`)))
	p.Do("waiting for the far nodes", Until(farLeft))
	p.Do("fit", chromedp.Click(chromedp.CSS("#lineage-fit")))
	p.Settle()
	if n := attached(); n != 1000 {
		t.Errorf("after Fit %d nodes in the document, want 1000", n)
	}
	bad := Eval[[]string](p, `(() => {
		const g = JSON.parse(document.getElementById("lineage-graph").dataset.graph), x = {};
		for (const n of document.querySelectorAll("#lineage-graph g.lineage-n")) x[n.dataset.id] = n.transform.baseVal[0].matrix.e;
		return g.edges.filter(e => !(x[e.from] < x[e.to])).map(e => e.from + "->" + e.to);
	})()`)
	if len(bad) != 0 {
		t.Errorf("%d edges do not go left to right: %q", len(bad), bad[:min(5, len(bad))])
	}
	p.Do("collapsing upstream", chromedp.Click(chromedp.CSS(rootToggle("up"))))
	if n := Eval[int](p, `+document.getElementById("lineage-graph").dataset.shown`); n != 1+11*45 {
		t.Errorf("upstream collapsed: %d nodes, want %d", n, 1+11*45)
	}
	if got := len(graphNodes(p)); got != 1+11*45 {
		t.Errorf("upstream collapsed: %d nodes on screen, want %d", got, 1+11*45)
	}
}
