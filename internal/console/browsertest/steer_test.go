package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/lab/instruments"
)

// reactorCampaign is the demo's flow-reactor campaign (internal/app's
// demo.yaml: maximise yield to 85 %, impurity at most 5 %) on workcell
// cell, named name, with budget experiments.
const reactorCampaign = `
name: %s
title: Flow reactor yield (%s)
label: OPEN
objectives:
  - {name: yield, goal: max, target: 85, unit: "%%"}
params:
  - {name: temperature, kind: continuous, low: 30, high: 150, unit: °C}
  - {name: residence_time, kind: continuous, low: 0.5, high: 30, log: true, unit: min}
  - {name: concentration, kind: continuous, low: 0.05, high: 1.0, unit: mol/L}
  - {name: catalyst, kind: categorical, categories: [Pd-A, Pd-B, Ni-C, Cu-D]}
outcome_constraints:
  - {name: impurity, rel: "<=", bound: 5}
budget: {experiments: %d}
batch: 2
seed: 1
executor: {workcell: %s, action: run}
retry: {attempts: 2}
`

// reactors registers workcell cell with n simulated flow reactors that
// run speed times faster than the real thing (a run is 600 s at 1).
func reactors(t *testing.T, sys *System, cell string, n int, speed float64) {
	t.Helper()
	ctx := context.Background()
	if _, err := sys.App.Instruments.EnsureWorkcell(ctx, instruments.WorkcellSpec{Name: cell, Lab: "browser test lab"}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": speed, "seed": i + 1,
			"consumables": map[string]float64{"substrate": 100000}})
		if _, err := sys.App.Instruments.Ensure(ctx, instruments.Spec{Name: fmt.Sprintf("%s-reactor-%d", cell, i+1), Kind: "sim",
			Settings: settings, Workcell: cell, Accreditation: "OPEN"}); err != nil {
			t.Fatal(err)
		}
	}
}

func createCampaign(t *testing.T, sys *System, p *genesis.Principal, name, cell string, budget int) {
	t.Helper()
	sp, err := campaign.Parse(fmt.Appendf(nil, reactorCampaign, name, name, budget, cell))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.App.Campaigns.Create(context.Background(), p, sp); err != nil {
		t.Fatalf("creating campaign %s: %v", name, err)
	}
}

// waitLong waits, up to limit, until the expression is true in the page:
// for a campaign to converge, which takes as long as its experiments do.
func waitLong(t *testing.T, p *Page, what, expr string, limit time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(p.Context(), limit)
	defer cancel()
	if err := chromedp.Do(ctx, Until(expr)); err != nil {
		t.Fatalf("%s: %v; the page says %q (console: %q)", what, err, p.Text(), p.Errors())
	}
}

func campaignState(p *Page) string {
	return Eval[string](p, `(document.getElementById("campaign-state") || {}).textContent || ""`)
}

// TestConsoleCampaignConverges: a campaign on simulated reactors, started
// from the console with its Start button, converges while the page
// watches — the experiments count grows, the best value and the state
// refresh — without a full reload (a window marker survives); another is
// paused, resumed and stopped with the buttons.
func TestConsoleCampaignConverges(t *testing.T) {
	sys := Boot(t)
	admin := sys.Admin(t)
	reactors(t, sys, "fast-cell", 2, 600)
	reactors(t, sys, "slow-cell", 1, 1)
	createCampaign(t, sys, admin, "converge", "fast-cell", 30)
	createCampaign(t, sys, admin, "steady", "slow-cell", 400)

	p := NewPage(t)
	p.SignIn(sys.URL, sys.AdminToken)
	p.Open(sys.URL + "/campaigns/converge")
	checkChrome(t, p, "open", "OPEN")
	if s := campaignState(p); s != "draft" {
		t.Fatalf("a new campaign's state %q, want draft", s)
	}
	if n := Eval[int](p, `document.querySelectorAll("#campaign-pause, #campaign-resume").length`); n != 0 {
		t.Errorf("a draft offers pause or resume (%d buttons)", n)
	}
	p.Navigating("starting the campaign", chromedp.Click(chromedp.CSS("#campaign-start")))
	if s := campaignState(p); s != "running" && s != "completed" {
		t.Fatalf("after Start the state is %q", s)
	}
	Run(p, "marking the window", chromedp.Evaluate[bool](`window.__steerMarker = true`))
	count := func() int {
		n, _ := strconv.Atoi(Eval[string](p, `document.getElementById("experiments-count").textContent`))
		return n
	}
	c0 := count()
	waitLong(t, p, "the experiments count to grow", fmt.Sprintf(`Number(document.getElementById("experiments-count").textContent) > %d`, c0), 3*time.Minute)
	waitLong(t, p, "the campaign to complete", `document.getElementById("campaign-state").textContent === "completed"`, 5*time.Minute)
	// The plots were reloaded in place while it ran.
	if !Eval[bool](p, `document.querySelector("#plot img").getAttribute("src").includes("?t=") && [...document.querySelectorAll("#param-plots img")].every(i => i.getAttribute("src").includes("?t="))`) {
		t.Error("the plots were not refreshed while the campaign ran")
	}
	if !Eval[bool](p, `window.__steerMarker === true`) {
		t.Fatal("the page was reloaded while it watched the campaign (the window marker is gone)")
	}
	cp, err := sys.App.Campaigns.Get(context.Background(), admin, "converge")
	if err != nil {
		t.Fatal(err)
	}
	if cp.Best == nil {
		t.Fatalf("the campaign completed with no best (%s)", cp.Reason)
	}
	// The live part shows the service's best and count.
	p.Settle()
	best, err := strconv.ParseFloat(Eval[string](p, `document.getElementById("campaign-best").textContent`), 64)
	if want := cp.Best.Values["yield"]; err != nil || best < want-0.01*want || best > want+0.01*want {
		t.Errorf("the page's best %v, the campaign's %v", best, want)
	}
	if got, want := count(), cp.Counts.Observed+cp.Counts.Failed; got != want {
		t.Errorf("the page's count %d, the campaign's %d", got, want)
	}
	if cp.Best.Values["yield"] >= 85 {
		t.Logf("converged: best yield %.2f after %d experiments (%s)", cp.Best.Values["yield"], cp.Counts.Observed, cp.Reason)
	} else {
		t.Logf("budget spent: best yield %.2f after %d experiments (%s)", cp.Best.Values["yield"], cp.Counts.Observed, cp.Reason)
	}
	// The plots drew: the convergence plot and one per parameter.
	if n := Eval[int](p, `[...document.querySelectorAll("#plot img, #param-plots img")].filter(i => i.complete && i.naturalWidth > 0).length`); n != 5 {
		t.Errorf("%d of 5 plots drew", n)
	}
	if n := Eval[int](p, `document.querySelectorAll("#campaign-steer button").length`); n != 0 {
		t.Errorf("a completed campaign offers %d buttons", n)
	}
	p.Open(sys.URL + "/campaigns/converge")
	if n := Eval[int](p, `document.querySelectorAll("#experiments tbody tr.experiment").length`); n == 0 {
		t.Error("the experiments table is empty")
	}
	p.Screenshot("campaign")

	// The campaign's surrogate model (made when it wraps up) is on the
	// models page with its metrics: the best yield is the campaign's.
	wrapped := time.Now().Add(5 * time.Minute)
	for cp.Model == "" {
		if time.Now().After(wrapped) {
			t.Fatal("the completed campaign made no surrogate model")
		}
		time.Sleep(100 * time.Millisecond)
		if cp, err = sys.App.Campaigns.Get(context.Background(), admin, "converge"); err != nil {
			t.Fatal(err)
		}
	}
	p.Open(sys.URL + "/campaigns/converge")
	p.Navigating("following the model link", chromedp.Click(chromedp.CSS(`#campaign-live a[href^="/models/"]`)))
	if got := path(t, p); got != "/models/"+cp.Model {
		t.Fatalf("the model link went to %q", got)
	}
	cols := Eval[[]string](p, `[...document.querySelectorAll("#model-metrics thead th")].map(h => h.textContent)`)
	vals := Eval[[]string](p, `[...document.querySelectorAll("#model-metrics tr.model-version")[0].children].map(c => c.textContent)`)
	found := false
	for i, c := range cols {
		if c == "best_yield" && i < len(vals) {
			got, err := strconv.ParseFloat(vals[i], 64)
			want := cp.Best.Values["yield"]
			found = err == nil && got > want-0.01*want && got < want+0.01*want
		}
	}
	if !found {
		t.Errorf("the surrogate's page lacks the campaign's best yield %v: columns %q, values %q", cp.Best.Values["yield"], cols, vals)
	}

	// Pause, resume and stop the other.
	p.Open(sys.URL + "/campaigns/steady")
	for _, step := range []struct{ button, want string }{
		{"#campaign-start", "running"}, {"#campaign-pause", "paused"}, {"#campaign-resume", "running"}, {"#campaign-stop", "stopped"},
	} {
		p.Navigating("clicking "+step.button, chromedp.WaitVisible(chromedp.CSS(step.button)), chromedp.Click(chromedp.CSS(step.button)))
		if s := campaignState(p); s != step.want {
			t.Fatalf("after %s the page says %q, want %q (%s)", step.button, s, step.want, p.Text())
		}
		c, err := sys.App.Campaigns.Get(context.Background(), admin, "steady")
		if err != nil || c.State != step.want {
			t.Fatalf("after %s the campaign is %v (%v)", step.button, c, err)
		}
		if step.button == "#campaign-start" {
			// Wait until its first experiment is on the (slow) reactor.
			inflight := time.Now().Add(2 * time.Minute)
			for c.Counts.Dispatched+c.Counts.Running == 0 {
				if time.Now().After(inflight) {
					t.Fatalf("no experiment was dispatched: %+v (%s)", c.Counts, c.Waiting)
				}
				time.Sleep(50 * time.Millisecond)
				if c, err = sys.App.Campaigns.Get(context.Background(), admin, "steady"); err != nil {
					t.Fatal(err)
				}
			}
		}
		if step.button == "#campaign-pause" && !Eval[bool](p, `document.getElementById("campaign-live").hasAttribute("data-live")`) {
			t.Error("a paused campaign with an experiment in flight is not watched live")
		}
	}
	p.Screenshot("campaign-stopped")
}

// commitModel commits a version of model name (one weights file) with
// its metrics, trained on inputs.
func commitModel(t *testing.T, sys *System, p *genesis.Principal, name string, metrics map[string]float64, inputs ...catalog.VersionRef) {
	t.Helper()
	ctx := context.Background()
	data := fmt.Appendf(nil, "weights of %s %v", name, metrics)
	id := blob.Sum(data)
	man := &manifest.Manifest{Entries: []manifest.Entry{{Path: "model.pt", Type: manifest.File, Mode: 0o644,
		Size: int64(len(data)), Hash: id, Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
	raw, err := man.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{data, raw} {
		if err := sys.App.Catalog.PutChunk(ctx, p, name, blob.Sum(b), b); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := json.Marshal(metrics)
	if _, err := sys.App.Catalog.Commit(ctx, p, name, catalog.CommitSpec{Manifest: blob.Sum(raw), Inputs: inputs, Activity: "training",
		Model: &catalog.ModelMeta{Framework: "pytorch", Task: "regression", Metrics: m}}); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleModels: the models page shows a model's card with its
// metrics and training data; its page has the metrics across versions as
// a table and a chart per metric.
func TestConsoleModels(t *testing.T) {
	sys := Boot(t)
	admin := sys.Admin(t)
	sys.Dataset(t, admin, "yield-data", "Reactor yields", "OPEN")
	in := []catalog.VersionRef{{Asset: "yield-data", Version: 1}}
	if _, err := sys.App.Catalog.RegisterModel(context.Background(), admin, catalog.RegisterSpec{Name: "yield-surrogate", Title: "Yield surrogate", TrainedOn: in}); err != nil {
		t.Fatal(err)
	}
	for _, m := range []map[string]float64{{"r2": 0.71, "rmse": 6.2}, {"r2": 0.83, "rmse": 4.1}, {"r2": 0.9, "rmse": 3.05}} {
		commitModel(t, sys, admin, "yield-surrogate", m, in...)
	}
	p := NewPage(t)
	p.SignIn(sys.URL, sys.AdminToken)
	p.Open(sys.URL + "/models")
	checkChrome(t, p, "open", "OPEN")
	if n := Eval[int](p, `document.querySelectorAll(".model-card").length`); n != 1 {
		t.Fatalf("%d model cards, want 1; the page says %q", n, p.Text())
	}
	if got := Eval[string](p, `document.querySelector('.model-card [data-metric="r2"]').textContent`); got != "0.9" {
		t.Errorf("the card's r2 %q, want the latest version's 0.9", got)
	}
	if got := Eval[string](p, `document.querySelector(".model-card a.trained-on").getAttribute("href")`); got != "/assets/yield-data" {
		t.Errorf("training data link %q", got)
	}
	p.Screenshot("models")
	p.Navigating("opening the model", chromedp.Click(chromedp.CSS(".model-card h2 a")))
	checkChrome(t, p, "open", "OPEN")
	rows := Eval[[]string](p, `[...document.querySelectorAll("#model-metrics tr.model-version")].map(r => [...r.querySelectorAll("td.metric-value")].map(c => c.textContent).join(" "))`)
	if fmt.Sprint(rows) != "[0.9 3.05 0.83 4.1 0.71 6.2]" {
		t.Errorf("metrics rows %q", rows)
	}
	waitLong(t, p, "the metric charts to draw", `[...document.querySelectorAll(".metric-charts img")].filter(i => i.complete && i.naturalWidth > 0).length === 2`, time.Minute)
	p.Screenshot("model")
}
