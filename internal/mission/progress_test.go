package mission_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	_ "github.com/genesis-science/genesis/internal/lab/sim" // instrument kind sim
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// refProgress is the simple reference model of a target's progress: the
// best value over all observations, the first (in time, then source)
// observation that reaches the target, and the points where the running
// best strictly improves.
func refProgress(t mission.Target, obs []mission.Observation) (best *float64, bestAt int, reachedBy int, hist []int) {
	order := make([]int, len(obs))
	for i := range order {
		order[i] = i
	}
	key := func(s mission.Source) string {
		if s.Kind == "model" {
			return s.Name + "@" + s.Ref
		}
		return s.Ref
	}
	less := func(a, b int) bool {
		sa, sb := obs[a].Source, obs[b].Source
		if !sa.At.Equal(sb.At) {
			return sa.At.Before(sb.At)
		}
		ka, kb := key(sa), key(sb)
		// Trailing numbers compare as numbers: "e2" before "e10".
		trim := func(k string) (string, int) {
			j := strings.LastIndexAny(k, "e@") + 1
			n, err := strconv.Atoi(k[j:])
			if err != nil {
				return k, -1
			}
			return k[:j], n
		}
		pa, na := trim(ka)
		pb, nb := trim(kb)
		if pa == pb && na >= 0 && nb >= 0 && na != nb {
			return na < nb
		}
		return ka < kb
	}
	// insertion sort, stable
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && less(order[j], order[j-1]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	beats := func(a, b float64) bool {
		if t.Direction == "min" {
			return a < b
		}
		return a > b
	}
	reach := func(v float64) bool {
		if t.Direction == "min" {
			return v <= t.Target
		}
		return v >= t.Target
	}
	reachedBy, bestAt = -1, -1
	for k, i := range order {
		v := obs[i].Value
		if reachedBy < 0 && reach(v) {
			reachedBy = i
		}
		improves := true
		for _, j := range order[:k] {
			if !beats(v, obs[j].Value) {
				improves = false
			}
		}
		if improves {
			hist = append(hist, i)
			b := v
			best, bestAt = &b, i
		}
	}
	return best, bestAt, reachedBy, hist
}

func TestProgressOfAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for iter := 0; iter < 2000; iter++ {
		dir := []string{"max", "min"}[rng.IntN(2)]
		base, target := float64(rng.IntN(50)), float64(50+rng.IntN(50))
		if dir == "min" {
			base, target = target, base
		}
		tg := mission.Target{Metric: "yield", Unit: "%", Direction: dir, Target: target, Baseline: base}
		n := rng.IntN(40)
		obs := make([]mission.Observation, n)
		for i := range obs {
			// Few distinct times and values: ties are the hard cases.
			obs[i] = mission.Observation{Value: float64(rng.IntN(120)), Source: mission.Source{Kind: []string{"campaign", "model"}[rng.IntN(2)],
				Name: "m" + strconv.Itoa(rng.IntN(3)), Ref: "e" + strconv.Itoa(i), At: t0.Add(time.Duration(rng.IntN(10)) * time.Hour)}}
		}
		maxPts := 2 + rng.IntN(8)
		got := mission.ProgressOf(tg, obs, maxPts)
		best, bestAt, reachedBy, hist := refProgress(tg, obs)
		ctx := fmt.Sprintf("iter %d (%s %v→%v, %d obs)", iter, dir, base, target, n)
		if (best == nil) != (got.Best == nil) || best != nil && (*best != *got.Best || got.BestBy.Ref != obs[bestAt].Source.Ref) {
			t.Fatalf("%s: best %v by %+v, want %v by %d", ctx, got.Best, got.BestBy, best, bestAt)
		}
		if (reachedBy >= 0) != got.Reached || got.Reached && got.ReachedBy.Ref != obs[reachedBy].Source.Ref {
			t.Fatalf("%s: reached %v by %+v, want by %d", ctx, got.Reached, got.ReachedBy, reachedBy)
		}
		wantFrac := 0.0
		if best != nil {
			wantFrac = min(1, max(0, (*best-base)/(target-base)))
		}
		if got.Fraction != wantFrac || got.Fraction < 0 || got.Fraction > 1 {
			t.Fatalf("%s: fraction %v, want %v", ctx, got.Fraction, wantFrac)
		}
		if got.Observations != n {
			t.Fatalf("%s: observations %d", ctx, got.Observations)
		}
		// History: bounded, monotone, its ends the reference's ends, each
		// point a reference point.
		if len(got.History) > maxPts || len(got.History) != min(len(hist), maxPts) {
			t.Fatalf("%s: %d history points, reference %d, max %d", ctx, len(got.History), len(hist), maxPts)
		}
		isRef := map[string]bool{}
		for _, i := range hist {
			isRef[obs[i].Source.Ref] = true
		}
		for k, p := range got.History {
			if k > 0 && (p.At.Before(got.History[k-1].At) || !(dir == "max" && p.Value > got.History[k-1].Value || dir == "min" && p.Value < got.History[k-1].Value)) {
				t.Fatalf("%s: history not a best-so-far curve: %+v", ctx, got.History)
			}
			ref := p.Source
			if i := len("m0@"); len(ref) > i && ref[2] == '@' {
				ref = ref[i:]
			}
			if !isRef[ref] {
				t.Fatalf("%s: history point %+v is no improvement", ctx, p)
			}
		}
		if len(hist) > 0 {
			if last := got.History[len(got.History)-1]; last.Value != *best {
				t.Fatalf("%s: history ends at %v, best %v", ctx, last.Value, *best)
			}
		}
	}
}

// Progress from models: random models at random labels with random
// metrics, read by random viewers, against the reference over what each
// viewer may read.
func TestProgressFromModelsProperty(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.dataset(w.alice, "secret-data", "NATIONAL-SECURITY//FUSION")
		w.dataset(w.alice, "open-data", "OPEN")
		rng := rand.New(rand.NewPCG(7, 7))
		type rec struct {
			model  string
			secret bool
			v      int64
			value  float64
			has    bool
		}
		var recs []rec
		var links string
		for m := 0; m < 5; m++ {
			name := "model-" + strconv.Itoa(m)
			secret := rng.IntN(2) == 0
			data := "open-data"
			if secret {
				data = "secret-data"
			}
			if _, err := w.cat.RegisterModel(ctx, w.alice, catalog.RegisterSpec{Name: name, TrainedOn: []catalog.VersionRef{{Asset: data, Version: 1}}}); err != nil {
				t.Fatal(err)
			}
			for v := 0; v < 1+rng.IntN(3); v++ {
				val := float64(40 + rng.IntN(60))
				has := rng.IntN(5) != 0
				metrics := map[string]any{"rmse": 0.1}
				if has {
					metrics["yield"] = val
				}
				b, _ := json.Marshal(metrics)
				ver := w.commit(w.alice, name, fmt.Sprint(name, v), &catalog.ModelMeta{Framework: "f", Task: "t", Metrics: b}, catalog.VersionRef{Asset: data, Version: 1})
				recs = append(recs, rec{name, secret, ver.Version, val, has})
			}
			links += "  - {kind: model, ref: " + name + "}\n"
		}
		w.create(w.alice, spec("prop", "links:\n"+links))
		for _, viewer := range []*genesis.Principal{w.alice, w.bob, w.carol} {
			pr, err := w.svc.Progress(ctx, viewer, "prop")
			if err != nil {
				t.Fatal(err)
			}
			tp := pr.Targets[0]
			var want []float64
			wantLabel := "OPEN"
			for _, r := range recs {
				if r.has && (!r.secret || viewer == w.alice) {
					want = append(want, r.value)
					if r.secret {
						wantLabel = "NATIONAL-SECURITY//FUSION"
					}
				}
			}
			if pr.Label != wantLabel {
				t.Errorf("%s: progress labelled %s, want %s (the join of what it was computed from)", viewer.Name, pr.Label, wantLabel)
			}
			if tp.Observations != len(want) {
				t.Errorf("%s: %d observations, want %d", viewer.Name, tp.Observations, len(want))
			}
			var best *float64
			for _, v := range want {
				if best == nil || v > *best {
					b := v
					best = &b
				}
			}
			if (best == nil) != (tp.Best == nil) || best != nil && *best != *tp.Best {
				t.Errorf("%s: best %v, want %v", viewer.Name, tp.Best, best)
			}
			if reached := best != nil && *best >= 90; reached != tp.Reached {
				t.Errorf("%s: reached %v", viewer.Name, tp.Reached)
			}
			for _, l := range tp.History {
				for _, r := range recs {
					if r.secret && viewer != w.alice && l.Source == r.model+"@"+strconv.FormatInt(r.v, 10) {
						t.Errorf("%s sees %s in the history", viewer.Name, l.Source)
					}
				}
			}
		}
	})
}

// A real closed-loop campaign on simulated flow reactors: the challenge's
// yield target's progress is the campaign's observed experiments.
func TestProgressFromCampaign(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		if _, err := w.ins.EnsureWorkcell(ctx, instruments.WorkcellSpec{Name: "cell"}); err != nil {
			t.Fatal(err)
		}
		for i, name := range []string{"r1", "r2"} {
			settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": 1e6, "seed": i + 1, "consumables": map[string]float64{"substrate": 100000}})
			if _, err := w.ins.Ensure(ctx, instruments.Spec{Name: name, Kind: "sim", Settings: settings, Workcell: "cell", Accreditation: "OPEN"}); err != nil {
				t.Fatal(err)
			}
		}
		sp, err := campaign.Parse([]byte(`
name: flow
objectives: [{name: yield, goal: max, unit: "%"}]
params:
  - {name: temperature, kind: continuous, low: 30, high: 150}
  - {name: residence_time, kind: continuous, low: 0.5, high: 30}
  - {name: concentration, kind: continuous, low: 0.05, high: 1}
  - {name: catalyst, kind: categorical, categories: [Pd-A, Pd-B, Ni-C, Cu-D]}
budget: {experiments: 6}
batch: 2
seed: 3
executor: {workcell: cell, action: run}
`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.camp.Create(ctx, w.bob, sp); err != nil {
			t.Fatal(err)
		}
		if _, err := w.camp.Start(ctx, w.bob, "flow"); err != nil {
			t.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { w.camp.Run(runCtx); close(done) }()
		deadline := time.Now().Add(3 * time.Minute)
		for {
			c, err := w.camp.Get(ctx, w.bob, "flow")
			if err != nil {
				t.Fatal(err)
			}
			if c.State == campaign.Completed || c.State == campaign.FailedC || c.State == campaign.Stopped {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("campaign still %s", c.State)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		<-done
		es, _, err := w.camp.Experiments(ctx, w.bob, "flow", campaign.ExperimentOptions{State: campaign.Observed})
		if err != nil || len(es) == 0 {
			t.Fatalf("experiments: %d, %v", len(es), err)
		}
		best := es[0]
		for _, e := range es {
			if e.Values["yield"] > best.Values["yield"] {
				best = e
			}
		}
		// Target: just below the best, so that it is reached, by the
		// first experiment (in time) at or above it.
		target := best.Values["yield"] - 0.001
		c := w.create(w.bob, fmt.Sprintf(`name: flow-challenge
title: Flow yield
domain: advanced manufacturing
statement: Higher yield in flow.
lead: argonne
targets:
  - {metric: yield, unit: "%%", direction: max, target: %v, baseline: 1}
links:
  - {kind: campaign, ref: flow}
`, target))
		pr, err := w.svc.Progress(ctx, w.carol, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		tp := pr.Targets[0]
		if tp.Observations != len(es) || tp.Best == nil || *tp.Best != best.Values["yield"] || tp.BestBy.Ref != best.ID || !tp.Reached || pr.Reached != 1 {
			t.Fatalf("progress %+v (best %s %v of %d)", tp, best.ID, best.Values["yield"], len(es))
		}
		first := best
		for _, e := range es {
			if e.Values["yield"] >= target && (e.EndedAt.Before(*first.EndedAt) || e.EndedAt.Equal(*first.EndedAt) && e.ID < first.ID) {
				first = e
			}
		}
		if tp.ReachedBy.Ref != first.ID || !tp.ReachedBy.At.Equal(*first.EndedAt) {
			t.Errorf("reached by %+v, want %s at %v", tp.ReachedBy, first.ID, first.EndedAt)
		}
		if len(tp.History) == 0 || tp.History[len(tp.History)-1].Value != *tp.Best {
			t.Errorf("history %+v", tp.History)
		}
		// The agent's target is this challenge's target.
		at, err := w.svc.Target(ctx, w.bob, c.ID)
		if err != nil || at.Property != "yield" || at.Value != target || at.Direction != "max" || at.Label != "OPEN" {
			t.Errorf("agent target %+v, %v", at, err)
		}
	})
}
