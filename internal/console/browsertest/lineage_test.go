package browsertest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/genesis-science/genesis/internal/catalog"
)

// lineagePlatform is a booted Genesis with a small lineage around
// lineage-fits: two raw inputs upstream, a model input and a report
// downstream (report from model-in), and — when secret — a PROPRIETARY
// analysis derived from lineage-fits, hidden from bob (OPEN).
type lineagePlatform struct {
	*System
	BobToken string
}

const (
	lineageRoot      = "lineage-fits"
	lineageRootTitle = "Lineage fits"
)

func newLineagePlatform(t *testing.T, secret bool) *lineagePlatform {
	t.Helper()
	sys := Boot(t)
	if _, err := sys.App.Identity.SetClearance(context.Background(), "admin", "PROPRIETARY"); err != nil {
		t.Fatal(err)
	}
	admin := sys.Admin(t)
	v1 := func(name string) catalog.VersionRef { return catalog.VersionRef{Asset: name, Version: 1} }
	sys.Dataset(t, admin, "lineage-raw-a", "Raw shots A", "OPEN")
	sys.Dataset(t, admin, "lineage-raw-b", "Raw shots B", "OPEN")
	sys.Dataset(t, admin, lineageRoot, lineageRootTitle, "OPEN", v1("lineage-raw-a"), v1("lineage-raw-b"))
	sys.Dataset(t, admin, "lineage-model-in", "Model input", "OPEN", v1(lineageRoot))
	sys.Dataset(t, admin, "lineage-report", "Report", "OPEN", v1("lineage-model-in"))
	if secret {
		sys.Dataset(t, admin, "lineage-secret", "Secret analysis", "PROPRIETARY", v1(lineageRoot))
	}
	_, bob := sys.Principal(t, "bob", "OPEN")
	return &lineagePlatform{System: sys, BobToken: bob}
}

// openGraph opens an asset page and waits until its graph is drawn.
func openGraph(t *testing.T, p *Page, url string) {
	t.Helper()
	p.Open(url)
	p.Do("waiting for the lineage graph", Until(`document.getElementById("lineage-graph")?.dataset.ready === "1"`))
}

// graphNodes lists the drawn nodes' links (href attributes), sorted:
// those on screen (a collapsed-away node is not displayed).
func graphNodes(p *Page) []string {
	got := Eval[[]string](p, `[...document.querySelectorAll("#lineage-graph a.lineage-node")].filter(a => a.getClientRects().length > 0).map(a => a.getAttribute("href"))`)
	slices.Sort(got)
	return got
}

func hrefs(names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, "/assets/"+n)
	}
	slices.Sort(out)
	return out
}

// rootToggle is the selector of the asset's own toggle for a side.
func rootToggle(side string) string {
	return fmt.Sprintf(`#lineage-graph .lineage-side-root .lineage-toggle[data-side=%q]`, side)
}

// nodeX is the left edge, on screen, of the node linking to name.
func nodeX(p *Page, name string) float64 {
	return Eval[float64](p, fmt.Sprintf(`document.querySelector('#lineage-graph a.lineage-node[href="/assets/%s"]').closest("g.lineage-n").getBoundingClientRect().left`, name))
}

// TestLineageGraphDraws: the asset page draws its lineage — upstream to
// the left, downstream to the right, each node its name@version and its
// marking colour — and clicking a node opens that asset's page.
func TestLineageGraphDraws(t *testing.T) {
	pf := newLineagePlatform(t, false)
	p := NewPage(t)
	p.SignIn(pf.URL, pf.BobToken)
	openGraph(t, p, pf.URL+"/assets/"+lineageRoot)
	want := hrefs("lineage-raw-a", "lineage-raw-b", lineageRoot, "lineage-model-in", "lineage-report")
	if got := graphNodes(p); !slices.Equal(got, want) {
		t.Fatalf("graph nodes %q, want %q", got, want)
	}
	if n := Eval[int](p, `performance.getEntriesByName("lineage-ready").length`); n != 1 {
		t.Errorf("%d lineage-ready marks, want 1", n)
	}
	root := nodeX(p, lineageRoot)
	for _, up := range []string{"lineage-raw-a", "lineage-raw-b"} {
		if x := nodeX(p, up); x >= root {
			t.Errorf("upstream %s at x=%v is not left of the asset (x=%v)", up, x, root)
		}
	}
	mid := nodeX(p, "lineage-model-in")
	if rep := nodeX(p, "lineage-report"); !(root < mid && mid < rep) {
		t.Errorf("downstream not left to right: asset %v, model-in %v, report %v", root, mid, rep)
	}
	label := Eval[string](p, `document.querySelector('#lineage-graph a.lineage-node[href="/assets/lineage-report"] .lineage-name').textContent`)
	if label != "lineage-report@1" {
		t.Errorf("node text %q, want lineage-report@1", label)
	}
	colour := Eval[string](p, `getComputedStyle(document.querySelector('#lineage-graph a.lineage-node[href="/assets/lineage-report"]').closest("g.lineage-n").querySelector(".lineage-mark")).fill`)
	banner := Eval[string](p, `getComputedStyle(document.getElementById("banner-top")).backgroundColor`)
	if colour != banner {
		t.Errorf("an OPEN node's marking colour %q, the OPEN banner's %q", colour, banner)
	}
	if got := Eval[int](p, `document.querySelectorAll("#lineage-graph path.lineage-edge").length`); got < 1 {
		t.Error("no edges drawn")
	}
	p.Screenshot("lineage-graph")
	p.Navigating("clicking a node",
		chromedp.Click(chromedp.CSS(`#lineage-graph a.lineage-node[href="/assets/lineage-raw-a"]`)))
	if got := path(t, p); got != "/assets/lineage-raw-a" {
		t.Fatalf("clicking lineage-raw-a's node went to %q", got)
	}
	if got := Eval[string](p, `document.getElementById("asset-title").textContent`); got != "Raw shots A" {
		t.Errorf("the node's page is titled %q", got)
	}
}

// TestLineageGraphCollapses: a node's toggle hides its side's nodes and
// brings them back, by mouse and by keyboard (Tab to it, Enter), keeping
// the focus on the toggle.
func TestLineageGraphCollapses(t *testing.T) {
	pf := newLineagePlatform(t, false)
	p := NewPage(t)
	p.SignIn(pf.URL, pf.BobToken)
	openGraph(t, p, pf.URL+"/assets/"+lineageRoot)
	all := hrefs("lineage-raw-a", "lineage-raw-b", lineageRoot, "lineage-model-in", "lineage-report")

	p.Do("collapsing upstream", chromedp.Click(chromedp.CSS(rootToggle("up"))))
	if got, want := graphNodes(p), hrefs(lineageRoot, "lineage-model-in", "lineage-report"); !slices.Equal(got, want) {
		t.Errorf("upstream collapsed: nodes %q, want %q", got, want)
	}
	if got := Eval[string](p, `document.querySelector(`+jsString(rootToggle("up"))+`).getAttribute("aria-expanded")`); got != "false" {
		t.Errorf("collapsed toggle aria-expanded=%q", got)
	}
	p.Do("expanding upstream", chromedp.Click(chromedp.CSS(rootToggle("up"))))
	if got := graphNodes(p); !slices.Equal(got, all) {
		t.Errorf("expanded again: nodes %q, want %q", got, all)
	}
	// A downstream node's own toggle hides only what lies beyond it.
	p.Do("collapsing model-in's downstream", chromedp.Click(chromedp.CSS(
		`#lineage-graph g.lineage-n[data-name="lineage-model-in"] .lineage-toggle[data-side="down"]`)))
	if got, want := graphNodes(p), hrefs("lineage-raw-a", "lineage-raw-b", lineageRoot, "lineage-model-in"); !slices.Equal(got, want) {
		t.Errorf("model-in's downstream collapsed: nodes %q, want %q", got, want)
	}
	p.Do("expand all", chromedp.Click(chromedp.CSS(`#lineage-expand-all`)))
	if got := graphNodes(p); !slices.Equal(got, all) {
		t.Errorf("after expand all: %q", got)
	}

	// Keyboard: from the toolbar, Tab until the asset's downstream
	// toggle has the focus, then Enter.
	p.Do("focusing the toolbar", Drop(chromedp.Evaluate[bool](`document.getElementById("lineage-expand-all").focus(), true`)))
	isRootDown := `(() => { const a = document.activeElement; return !!a && a.matches(` + jsString(rootToggle("down")) + `); })()`
	for i := 0; !Eval[bool](p, isRootDown); i++ {
		if i == 40 {
			t.Fatalf("40 Tabs never reached the asset's downstream toggle (focus on %s)", Eval[string](p, `document.activeElement.outerHTML.slice(0, 200)`))
		}
		p.Do("Tab", chromedp.KeyEvent("\t"))
	}
	p.Do("Enter", chromedp.KeyEvent("\r"))
	if got, want := graphNodes(p), hrefs("lineage-raw-a", "lineage-raw-b", lineageRoot); !slices.Equal(got, want) {
		t.Errorf("Enter on the downstream toggle: nodes %q, want %q", got, want)
	}
	if !Eval[bool](p, isRootDown) {
		t.Errorf("after Enter the focus is on %s, not the toggle", Eval[string](p, `document.activeElement.outerHTML.slice(0, 200)`))
	}
	if got := Eval[string](p, `document.getElementById("lineage-status").textContent`); got != "Showing 2 of 2 upstream, 0 of 2 downstream." {
		t.Errorf("status %q", got)
	}
	p.Do("Enter again", chromedp.KeyEvent("\r"))
	if got := graphNodes(p); !slices.Equal(got, all) {
		t.Errorf("Enter again: nodes %q, want %q", got, all)
	}
	p.Do("Space", chromedp.KeyEvent(" "))
	if got := len(graphNodes(p)); got != 3 {
		t.Errorf("Space on the toggle: %d nodes, want 3", got)
	}
}

// TestLineageHiddenNodeAbsent: a version derived from the asset that bob
// may not read is neither drawn nor counted: bob's graph, counts and
// status are those he sees where it was never made.
func TestLineageHiddenNodeAbsent(t *testing.T) {
	type view struct {
		Nodes            []string
		Summary, Status  string
		Shown, Edges     int
		MentionsSecret   bool
		Banner, Down, Up string
	}
	look := func(secret bool) view {
		pf := newLineagePlatform(t, secret)
		p := NewPage(t)
		p.SignIn(pf.URL, pf.BobToken)
		openGraph(t, p, pf.URL+"/assets/"+lineageRoot)
		v := Eval[view](p, `(() => ({
			summary: document.getElementById("lineage-summary").textContent,
			status: document.getElementById("lineage-status").textContent,
			shown: +document.getElementById("lineage-graph").dataset.shown,
			edges: (document.querySelector("#lineage-graph path.lineage-edge")?.getAttribute("d").match(/M/g) || []).length,
			mentionsSecret: document.documentElement.outerHTML.toLowerCase().includes("secret"),
			banner: document.getElementById("banner-top").textContent.trim(),
			down: document.getElementById("lineage-count-down").textContent,
			up: document.getElementById("lineage-count-up").textContent,
		}))()`)
		v.Nodes = graphNodes(p)
		return v
	}
	with, without := look(true), look(false)
	if fmt.Sprint(with) != fmt.Sprint(without) {
		t.Errorf("bob's graph with a hidden derived asset:\n%+v\nwithout it:\n%+v", with, without)
	}
	if without.Down != "2" || without.Shown != 5 || without.Edges != 4 || without.MentionsSecret {
		t.Errorf("bob's view %+v: want 2 downstream, 5 nodes, 4 edges", without)
	}
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// benchLineage makes a 1,000-node lineage around "bench-root": 12
// upstream layers of 42 (each node an input of one to three nodes of the
// layer below it: fan-out) and 11 downstream layers of 45 (each derived
// from one to three of the layer above, some also from two layers up:
// fan-in and longer edges).
func benchLineage(b *testing.B, sys *System) {
	admin := sys.Admin(b)
	rng := rand.New(rand.NewPCG(1, 1000))
	v1 := func(name string) catalog.VersionRef { return catalog.VersionRef{Asset: name, Version: 1} }
	const upLayers, upWidth, downLayers, downWidth = 12, 42, 11, 45
	name := func(side string, l, i int) string { return fmt.Sprintf("bench-%s-%02d-%02d", side, l, i) }
	for l := upLayers; l >= 1; l-- {
		for i := range upWidth {
			var ins []catalog.VersionRef
			if l < upLayers {
				ins = append(ins, v1(name("up", l+1, i)))
				for k := rng.IntN(3); k > 0; k-- {
					if j := rng.IntN(upWidth); j != i {
						ins = append(ins, v1(name("up", l+1, j)))
					}
				}
			}
			sys.Dataset(b, admin, name("up", l, i), "", "OPEN", dedupe(ins)...)
		}
	}
	var rootIns []catalog.VersionRef
	for i := range upWidth {
		rootIns = append(rootIns, v1(name("up", 1, i)))
	}
	sys.Dataset(b, admin, "bench-root", "Benchmark root", "OPEN", rootIns...)
	for l := 1; l <= downLayers; l++ {
		for i := range downWidth {
			ins := []catalog.VersionRef{v1("bench-root")}
			if l > 1 {
				ins = []catalog.VersionRef{v1(name("down", l-1, i))}
				for k := rng.IntN(3); k > 0; k-- {
					ins = append(ins, v1(name("down", l-1, rng.IntN(downWidth))))
				}
				if l > 2 && rng.IntN(5) == 0 {
					ins = append(ins, v1(name("down", l-2, rng.IntN(downWidth))))
				}
			}
			sys.Dataset(b, admin, name("down", l, i), "", "OPEN", dedupe(ins)...)
		}
	}
}

func dedupe(refs []catalog.VersionRef) []catalog.VersionRef {
	var out []catalog.VersionRef
	for _, r := range refs {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// BenchmarkLineageGraph1000 opens the page of an asset with 1,000 nodes
// of lineage (benchLineage) and reports, from the page's own clock, the
// milliseconds from navigation start to the graph drawn and painted
// (lineage-ready), and from a click on a toggle to the next frame painted
// after the collapse and after the expansion. Without Chromium it skips,
// loudly (testenv).
func BenchmarkLineageGraph1000(b *testing.B) {
	sys := Boot(b)
	benchLineage(b, sys)
	p := NewPage(b)
	p.SignIn(sys.URL, sys.AdminToken)
	measureLineage(b, p, sys.URL+"/assets/bench-root")
}

// measureLineage opens url b.N times and reports the lineage graph's
// timings (BenchmarkLineageGraph1000).
func measureLineage(b *testing.B, p *Page, url string) {
	var ready, server, script, paint, collapse, expand []float64
	const click = `(sel) => new Promise(done => {
		const t = document.querySelector(sel), t0 = performance.now();
		t.dispatchEvent(new MouseEvent("click", {bubbles: true}));
		requestAnimationFrame(() => setTimeout(() => done(performance.now() - t0), 0));
	})`
	for b.Loop() {
		p.Open(url)
		p.Do("waiting for the graph", Until(`document.getElementById("lineage-graph")?.dataset.ready === "1"`))
		if n := Eval[int](p, `+document.getElementById("lineage-graph").dataset.shown`); n != 1000 {
			b.Fatalf("%d nodes drawn, want 1000 (summary %q)", n, Eval[string](p, `document.getElementById("lineage-summary").textContent`))
		}
		ready = append(ready, Eval[float64](p, `performance.getEntriesByName("lineage-ready")[0].startTime`))
		// Where the time goes: the server's answer, the script's layout
		// and DOM building, the browser's style, layout and paint.
		server = append(server, Eval[float64](p, `(n => n.responseEnd - n.requestStart)(performance.getEntriesByType("navigation")[0])`))
		script = append(script, Eval[float64](p, `performance.getEntriesByName("lineage-drawn")[0].startTime - performance.getEntriesByName("lineage-start")[0].startTime`))
		paint = append(paint, Eval[float64](p, `performance.getEntriesByName("lineage-ready")[0].startTime - performance.getEntriesByName("lineage-drawn")[0].startTime`))
		sel := jsString(rootToggle("down"))
		collapse = append(collapse, Run(p, "collapsing", chromedp.Evaluate[float64](`(`+click+`)(`+sel+`)`, chromedp.EvalAwaitPromise)))
		if n := Eval[int](p, `+document.getElementById("lineage-graph").dataset.shown`); n != 505 {
			b.Fatalf("%d nodes after collapsing downstream, want 505", n)
		}
		expand = append(expand, Run(p, "expanding", chromedp.Evaluate[float64](`(`+click+`)(`+sel+`)`, chromedp.EvalAwaitPromise)))
	}
	b.ReportMetric(median(ready), "ready-ms")
	b.ReportMetric(median(server), "server-ms")
	b.ReportMetric(median(script), "script-ms")
	b.ReportMetric(median(paint), "paint-ms")
	b.ReportMetric(median(collapse), "collapse-ms")
	b.ReportMetric(median(expand), "expand-ms")
	b.ReportMetric(0, "ns/op")
	if strings.Contains(fmt.Sprint(p.Errors()), "lineage") {
		b.Errorf("console: %q", p.Errors())
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}
