package console_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
)

// BenchmarkSteerPages renders a finished campaign's console pages (200
// experiments on a simulated reactor, random proposals) as its owner:
// the page, its live part, a parameter plot and the convergence plot.
// go test ./internal/console -run XXX -bench SteerPages
func BenchmarkSteerPages(b *testing.B) {
	w := newSteerWorld(b)
	if _, err := w.camp.Create(ctx, w.alice, reactorSpecOpt(b, "bench", "OPEN", "open-cell", 200, "{random: true}")); err != nil {
		b.Fatal(err)
	}
	if _, err := w.camp.Start(ctx, w.alice, "bench"); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		cp, err := w.camp.Get(ctx, w.alice, "bench")
		if err != nil {
			b.Fatal(err)
		}
		if cp.State != campaign.Running {
			b.Logf("campaign %s (%s), %d observed", cp.State, cp.Reason, cp.Counts.Observed)
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("the campaign did not finish: %+v", cp.Counts)
		}
		time.Sleep(50 * time.Millisecond)
	}
	br := w.browser(b)
	br.signIn(w.aliceT)
	for _, p := range []struct{ name, path string }{
		{"campaign", "/campaigns/bench"},
		{"live", "/campaigns/bench/live"},
		{"param-plot", "/campaigns/bench/params/temperature"},
		{"convergence-plot", "/campaigns/bench/plot.svg"},
	} {
		b.Run(p.name, func(b *testing.B) { benchPage(b, br, p.path) })
	}
}

// BenchmarkModelsPages renders the models page (a full page of 30 models,
// 5 versions each) and one model's page and metric chart, as its owner.
// go test ./internal/console -run XXX -bench ModelsPages
func BenchmarkModelsPages(b *testing.B) {
	w := newSteerWorld(b)
	w.put(b, w.alice, "train-data", "OPEN", "x,y\n1,2\n")
	in := []catalog.VersionRef{{Asset: "train-data", Version: 1}}
	for i := range 30 {
		name := fmt.Sprintf("bench-model-%02d", i)
		if _, err := w.cat.RegisterModel(ctx, w.alice, catalog.RegisterSpec{Name: name, TrainedOn: in}); err != nil {
			b.Fatal(err)
		}
		for j := range 5 {
			m, _ := json.Marshal(map[string]float64{"r2": float64(j) / 5, "rmse": float64(10 - j)})
			w.commitModel(b, w.alice, name, fmt.Sprintf("w %d %d", i, j), &catalog.ModelMeta{Framework: "f", Task: "t", Metrics: m}, in...)
		}
	}
	br := w.browser(b)
	br.signIn(w.aliceT)
	for _, p := range []struct{ name, path string }{
		{"models", "/models"},
		{"model", "/models/bench-model-07"},
		{"metric-chart", "/models/bench-model-07/metrics/r2"},
	} {
		b.Run(p.name, func(b *testing.B) { benchPage(b, br, p.path) })
	}
}
