package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/mission"
)

// TestUpDemo is what a new user meets: `genesis up` on a fresh data dir
// sets up the demo lab, whose campaign runs on its two simulated reactors
// until it reaches its target; its results dataset and surrogate model
// exist with lineage; `genesis campaign watch demo` without a terminal ends
// when the campaign does; a restart sets up no second demo.
//
// The demo's reactors run 12 s per experiment (slow enough to watch), so
// this takes minutes; -short skips it.
func TestUpDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo campaign takes minutes (its runs take 12 s each)")
	}
	u := &labUser{t: t, dir: filepath.Join(t.TempDir(), "data")}
	u.sys = startUpIn(t, "", "--data-dir", u.dir)
	b, err := os.ReadFile(filepath.Join(u.dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	u.token = strings.TrimSpace(string(b))

	// The demo is there at once: its workcell with two reactors, and its
	// campaign running.
	var cell struct {
		Name        string
		Instruments []string
	}
	u.mustJSON(&cell, "workcell", "show", "demo-cell", "--json")
	if strings.Join(cell.Instruments, " ") != "reactor-1 reactor-2" {
		t.Fatalf("workcell demo-cell: %+v", cell)
	}
	c := u.status("demo")
	if c.State != "running" && c.State != "completed" {
		t.Fatalf("the demo campaign is %s (%s), want running", c.State, c.Reason)
	}

	// watch, from the start, without a terminal (its output is a pipe).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	watch := exec.CommandContext(ctx, genesisBinary(t), "campaign", "watch", "demo")
	watch.Env = append(os.Environ(), "GENESIS_URL="+u.sys.url, "GENESIS_TOKEN="+u.token)
	var wout strings.Builder
	watch.Stdout, watch.Stderr = &wout, &wout
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	watched := make(chan error, 1)
	go func() { watched <- watch.Wait() }()

	c = u.waitCompleted("demo", 25*time.Minute)
	target := c.Spec.Objectives[0].Target
	if target == nil || c.Best == nil || c.Best.Values["yield"] < *target {
		t.Errorf("the demo completed without reaching its target: best %+v, target %v, reason %q", c.Best, target, c.Reason)
	}
	if c.Counts.Observed+c.Counts.Failed > c.Spec.Budget.Experiments {
		t.Errorf("the demo ran over its budget: %+v", c.Counts)
	}

	// watch ends by itself when the campaign does, successfully.
	select {
	case err := <-watched:
		if err != nil {
			t.Errorf("campaign watch: %v\n%s", err, wout.String())
		}
	case <-time.After(5 * time.Minute):
		t.Errorf("campaign watch did not end 5 min after the campaign completed\n%s", wout.String())
		cancel()
		<-watched
	}
	lines := strings.Split(strings.TrimSpace(wout.String()), "\n")
	if len(lines) < 2 || !strings.Contains(lines[len(lines)-1], "completed") {
		t.Errorf("campaign watch (no terminal) should print a line per change and end on completed:\n%s", wout.String())
	}
	if strings.Contains(wout.String(), "\x1b[") {
		t.Errorf("campaign watch without a terminal printed terminal escapes:\n%q", wout.String())
	}

	// The results dataset and the surrogate model, with lineage between
	// them (the model is registered as the campaign ends: wait for it).
	for deadline := time.Now().Add(5 * time.Minute); c.Model == ""; time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no surrogate model 5 min after the demo completed: %+v", c)
		}
		c = u.status("demo")
	}
	if c.Dataset != "demo-results" || c.Model != "demo-surrogate" {
		t.Errorf("demo dataset %q, model %q; want demo-results, demo-surrogate", c.Dataset, c.Model)
	}
	var es []campaign.Experiment
	u.mustJSON(&es, "campaign", "experiments", "demo", "--json", "--limit", "1000")
	checkResultsCSV(t, u.must("dataset", "cat", c.Dataset, "observations.csv"), es)
	lineage := string(u.must("lineage", "demo-surrogate", "--json"))
	if !strings.Contains(lineage, "demo-results") {
		t.Errorf("lineage of demo-surrogate does not reach demo-results:\n%s", lineage)
	}

	// The demo challenge on the campaign's yield shows it reached, by the
	// demo campaign's experiment: mission progress is meaningful out of
	// the box (issue 15).
	var pr mission.Progress
	u.mustJSON(&pr, "challenge", "progress", "autonomous-flow-synthesis", "--json")
	if tp := pr.Targets[0]; tp.Metric != "yield" || !tp.Reached || tp.ReachedBy == nil || tp.ReachedBy.Kind != "campaign" || tp.ReachedBy.Name != "demo" || len(tp.History) == 0 {
		t.Errorf("progress of the demo challenge: %+v", tp)
	}
	var chs []mission.Challenge
	u.mustJSON(&chs, "challenge", "list", "--json")

	// A restart sets up no second demo and leaves the finished one alone.
	u.kill()
	u.sys = startUpIn(t, "", "--data-dir", u.dir)
	var cs []campaign.Campaign
	u.mustJSON(&cs, "campaign", "list", "--json")
	n := 0
	for _, x := range cs {
		if strings.HasPrefix(x.Name, "demo") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("after a restart there are %d demo campaigns, want 1: %+v", n, cs)
	}
	if c2 := u.status("demo"); c2.State != "completed" || c2.Counts != c.Counts {
		t.Errorf("after a restart the demo is %s %+v, was completed %+v", c2.State, c2.Counts, c.Counts)
	}
	var chs2 []mission.Challenge
	u.mustJSON(&chs2, "challenge", "list", "--json")
	if len(chs) < 20 || len(chs2) != len(chs) {
		t.Errorf("demo challenges: %d, after a restart %d; want at least 20, the same", len(chs), len(chs2))
	}
	var ins []struct{ Name string }
	u.mustJSON(&ins, "instrument", "list", "--json")
	if len(ins) != 2 {
		t.Errorf("after a restart there are %d instruments, want the demo's 2: %+v", len(ins), ins)
	}
}
