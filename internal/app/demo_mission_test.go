package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/mission"
)

// The embedded demo mission content is well formed: at least 20
// challenges covering every priority domain, each with 1–3 targets in the
// metric vocabulary, and every dataset file present.
func TestDemoMissionContent(t *testing.T) {
	d, err := loadDemoMission()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Challenges) < 20 {
		t.Errorf("%d demo challenges, want at least 20", len(d.Challenges))
	}
	domains := map[string]int{}
	for _, sp := range d.Challenges {
		sp := sp
		if err := sp.Validate(); err != nil {
			t.Errorf("demo challenge %s: %v", sp.Name, err)
		}
		if n := len(sp.Targets); n < 1 || n > 3 {
			t.Errorf("demo challenge %s has %d targets", sp.Name, n)
		}
		domains[sp.Domain]++
	}
	for _, dom := range mission.Domains {
		if domains[dom] == 0 {
			t.Errorf("no demo challenge in domain %s", dom)
		}
	}
	for _, ds := range d.Datasets {
		if _, err := demoData.ReadFile("demodata/" + ds.File); err != nil {
			t.Errorf("dataset %s: %v", ds.Name, err)
		}
	}
}

// A fresh data dir gets the demo challenges once: linked to the demo
// campaign and datasets, marked demo, with metadata good enough for the
// mission's milestones; setting up again (even without the marker) adds
// nothing; the agent aims at a demo challenge's target.
func TestDemoMissionSeededOnce(t *testing.T) {
	ctx := context.Background()
	cfg := config.Default(t.TempDir())
	a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := a.Identity.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.setUpDemo(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	d, _ := loadDemoMission()
	list := func() []mission.Challenge {
		t.Helper()
		cs, next, err := a.Challenges.List(ctx, admin, mission.ListOptions{Limit: 1000})
		if err != nil || next != "" {
			t.Fatalf("list: %v %q", err, next)
		}
		return cs
	}
	cs := list()
	if len(cs) != len(d.Challenges) {
		t.Fatalf("%d challenges after set-up, want %d", len(cs), len(d.Challenges))
	}
	for _, c := range cs {
		if !c.Demo {
			t.Errorf("%s is not marked demo", c.Name)
		}
	}
	flow, err := a.Challenges.Get(ctx, admin, "autonomous-flow-synthesis")
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]string{}
	for _, l := range flow.Links {
		kinds[l.Kind] = l.Name
	}
	if kinds["campaign"] != DemoCampaign || kinds["dataset"] != "demo-suzuki-flow-screen" {
		t.Errorf("flow challenge links %+v", flow.Links)
	}
	for _, ds := range d.Datasets {
		_, md, err := a.Catalog.GetMetadata(ctx, admin, ds.Name)
		if err != nil {
			t.Fatalf("metadata of %s: %v", ds.Name, err)
		}
		if md.Quality.Score < 80 || md.Core.Origin != "synthetic" {
			t.Errorf("%s: quality %d (%+v), origin %q", ds.Name, md.Quality.Score, md.Quality.Findings, md.Core.Origin)
		}
	}
	// Progress from the demo model: mae 0.09 eV against 0.15 → 0.05.
	pr, err := a.Challenges.Progress(ctx, admin, "perovskite-tandems")
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range pr.Targets {
		if tp.Metric == "mae" && (tp.Best == nil || *tp.Best != 0.09 || tp.Reached || tp.Fraction < 0.59 || tp.Fraction > 0.61) {
			t.Errorf("mae progress %+v", tp)
		}
	}
	// Again, without the marker: nothing new.
	if err := os.Remove(filepath.Join(cfg.DataDir, demoMissionMarker)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.setUpDemo(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if n := len(list()); n != len(d.Challenges) {
		t.Errorf("%d challenges after a second set-up", n)
	}
	// `agent hypothesize --challenge` aims at the challenge's first
	// unreached target, under its label.
	run, err := a.Agent.Hypothesize(ctx, admin, agent.HypothesizeRequest{Challenge: "autonomous-flow-synthesis", Methods: []string{"gap"}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Target == nil || run.Target.Property != "yield" || run.Target.Value != 85 || run.Target.Direction != "max" || run.Challenge != "autonomous-flow-synthesis" {
		t.Errorf("run target %+v", run.Target)
	}
	if _, err := a.Agent.Hypothesize(ctx, admin, agent.HypothesizeRequest{Challenge: "no-such-challenge", Methods: []string{"gap"}}); err == nil {
		t.Error("a missing challenge was accepted")
	}
}
