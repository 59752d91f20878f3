package bo_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
)

// randomSpace draws a mixed search space, sometimes with linear constraints
// or a pool.
func randomSpace(rng *rand.Rand) bo.Space {
	var s bo.Space
	nCont := 1 + rng.IntN(3)
	for i := 0; i < nCont; i++ {
		lo := rng.Float64()*10 - 5
		p := bo.Param{Name: "c" + string(rune('a'+i)), Kind: bo.Continuous, Low: lo, High: lo + 0.1 + rng.Float64()*10}
		if rng.IntN(3) == 0 {
			p.Low, p.High, p.Log = 0.001+rng.Float64(), 10+rng.Float64()*100, true
		}
		s.Params = append(s.Params, p)
	}
	if rng.IntN(2) == 0 {
		s.Params = append(s.Params, bo.Param{Name: "n", Kind: bo.Integer, Low: -2.5, High: float64(1 + rng.IntN(6))})
	}
	if rng.IntN(2) == 0 || len(s.Params) == 0 {
		p := bo.Param{Name: "cat", Kind: bo.Categorical, Categories: []string{"a", "b", "c"}}
		if rng.IntN(2) == 0 {
			p.Descriptors = [][]float64{{1, 2}, {0, 5}, {3, 3}}
		}
		s.Params = append(s.Params, p)
	}
	if rng.IntN(3) == 0 {
		// A simplex on three fresh [0,1] parameters.
		for _, n := range []string{"m1", "m2", "m3"} {
			s.Params = append(s.Params, bo.Param{Name: n, Kind: bo.Continuous, Low: 0, High: 1})
		}
		s.Constraints = append(s.Constraints,
			bo.LinearConstraint{Coef: map[string]float64{"m1": 1, "m2": 1, "m3": 1}, Rel: bo.Equal, RHS: 1},
			bo.LinearConstraint{Coef: map[string]float64{"m1": 1, "m2": -1}, Rel: bo.LessEq, RHS: 0.2})
	}
	return s
}

func objective(p bo.Point) float64 {
	var v float64
	for i, x := range p {
		v += math.Sin(float64(i+1)*x) - 0.01*x*x
	}
	return v
}

func TestSuggestProperties(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := 0; trial < 12; trial++ {
		space := randomSpace(rng)
		pool := rng.IntN(3) == 0
		if pool {
			// Pool: points drawn from a throwaway optimiser's design.
			tmp, err := bo.New(bo.Config{Space: space, Seed: 99, InitialPoints: 40})
			if err != nil {
				t.Fatal(err)
			}
			pts, err := tmp.Suggest(ctx, 40)
			if err != nil {
				t.Fatal(err)
			}
			space.Pool = pts
			if len(pts) < 12 {
				// Tiny discrete space: 12 distinct suggestions do not exist.
				pool, space.Pool = false, nil
			}
		}
		cfg := bo.Config{Space: space, Seed: uint64(trial), Budget: 20, RawSamples: 128, Restarts: 1, Warp: trial%2 == 0}
		if trial%4 == 3 {
			cfg.Acquisition = bo.Thompson
		}
		if trial%3 == 1 {
			cfg.InitialDesign = "sobol"
		}
		o, err := bo.New(cfg)
		if err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		inPool := map[string]bool{}
		for _, p := range space.Pool {
			inPool[key(p)] = true
		}
		seen := map[string]bool{}
		for round := 0; round < 4; round++ {
			pts, err := o.Suggest(ctx, 3)
			if err != nil {
				t.Fatalf("trial %d round %d: %v", trial, round, err)
			}
			if len(pts) != 3 {
				t.Fatalf("got %d points, want 3", len(pts))
			}
			var vals [][]float64
			for _, p := range pts {
				if !space.Contains(p) {
					t.Fatalf("trial %d: suggestion %v outside space %+v", trial, p, space)
				}
				if pool && !inPool[key(p)] {
					t.Fatalf("trial %d: suggestion %v not in pool", trial, p)
				}
				if seen[key(p)] {
					t.Fatalf("trial %d: duplicate suggestion %v", trial, p)
				}
				seen[key(p)] = true
				vals = append(vals, []float64{objective(p)})
			}
			// Leave the last batch pending: later batches must avoid it too.
			if round < 3 {
				if err := o.Observe(pts, vals); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

func key(p bo.Point) string {
	b, _ := json.Marshal(p)
	return string(b)
}

func run(t *testing.T, o *bo.Optimizer, rounds, q int) []bo.Point {
	t.Helper()
	var all []bo.Point
	for r := 0; r < rounds; r++ {
		pts, err := o.Suggest(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		var vals [][]float64
		for _, p := range pts {
			vals = append(vals, []float64{objective(p)})
		}
		if err := o.Observe(pts, vals); err != nil {
			t.Fatal(err)
		}
		all = append(all, pts...)
	}
	return all
}

func testSpace() bo.Space {
	return bo.Space{Params: []bo.Param{
		{Name: "x", Kind: bo.Continuous, Low: -1, High: 2},
		{Name: "lr", Kind: bo.Continuous, Low: 1e-4, High: 1, Log: true},
		{Name: "k", Kind: bo.Integer, Low: 1, High: 9},
		{Name: "solvent", Kind: bo.Categorical, Categories: []string{"a", "b", "c"}},
	}}
}

func TestDeterministicPerSeed(t *testing.T) {
	cfg := bo.Config{Space: testSpace(), Seed: 42, Budget: 20, RawSamples: 256}
	a, _ := bo.New(cfg)
	b, _ := bo.New(cfg)
	pa, pb := run(t, a, 5, 2), run(t, b, 5, 2)
	if diff := cmp.Diff(pa, pb); diff != "" {
		t.Fatalf("same seed, different suggestions (-a +b):\n%s", diff)
	}
	cfg.Seed = 43
	c, _ := bo.New(cfg)
	if cmp.Equal(pa, run(t, c, 5, 2)) {
		t.Fatal("different seeds gave identical suggestions")
	}
}

func TestStateResumeReproducesNextSuggestion(t *testing.T) {
	ctx := context.Background()
	cfg := bo.Config{Space: testSpace(), Seed: 7, Budget: 20, RawSamples: 256}
	a, _ := bo.New(cfg)
	run(t, a, 5, 2)
	// Leave something pending, as after a crash mid-experiment.
	if _, err := a.Suggest(ctx, 1); err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(a)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bo.Resume(data)
	if err != nil {
		t.Fatal(err)
	}
	na, err := a.Suggest(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := b.Suggest(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(na, nb); diff != "" {
		t.Fatalf("resumed optimiser diverged (-orig +resumed):\n%s", diff)
	}
	if len(b.Pending()) != 3 {
		t.Fatalf("resumed optimiser has %d pending, want 3", len(b.Pending()))
	}
}

func TestInvalidInput(t *testing.T) {
	cases := []struct {
		name string
		cfg  bo.Config
	}{
		{"no params", bo.Config{}},
		{"bad bounds", bo.Config{Space: bo.Space{Params: []bo.Param{{Name: "x", Kind: bo.Continuous, Low: 1, High: 1}}}}},
		{"log nonpositive", bo.Config{Space: bo.Space{Params: []bo.Param{{Name: "x", Kind: bo.Continuous, Low: 0, High: 1, Log: true}}}}},
		{"no categories", bo.Config{Space: bo.Space{Params: []bo.Param{{Name: "x", Kind: bo.Categorical}}}}},
		{"ragged descriptors", bo.Config{Space: bo.Space{Params: []bo.Param{{Name: "x", Kind: bo.Categorical, Categories: []string{"a", "b"}, Descriptors: [][]float64{{1}, {1, 2}}}}}}},
		{"unknown constraint param", bo.Config{Space: bo.Space{Params: []bo.Param{{Name: "x", Kind: bo.Continuous, Low: 0, High: 1}}, Constraints: []bo.LinearConstraint{{Coef: map[string]float64{"y": 1}, Rel: bo.LessEq, RHS: 1}}}}},
		{"bad goal", bo.Config{Space: testSpace(), Objectives: []bo.Objective{{Name: "y", Goal: "up"}}}},
		{"four objectives", bo.Config{Space: testSpace(), Objectives: []bo.Objective{{"a", bo.Maximize}, {"b", bo.Maximize}, {"c", bo.Maximize}, {"d", bo.Maximize}}}},
		{"bad design", bo.Config{Space: testSpace(), InitialDesign: "lhs"}},
		{"pool outside", bo.Config{Space: bo.Space{Params: []bo.Param{{Name: "x", Kind: bo.Continuous, Low: 0, High: 1}}, Pool: []bo.Point{{2}}}}},
	}
	for _, tc := range cases {
		if _, err := bo.New(tc.cfg); !errors.Is(errors.Invalid, err) {
			t.Errorf("%s: got %v, want Invalid", tc.name, err)
		}
	}
	o, _ := bo.New(bo.Config{Space: testSpace()})
	if err := o.Observe([]bo.Point{{0, 0.1, 2, 0}}, [][]float64{{math.NaN()}}); !errors.Is(errors.Invalid, err) {
		t.Errorf("NaN value: got %v", err)
	}
	if err := o.Observe([]bo.Point{{5, 0.1, 2, 0}}, [][]float64{{1}}); !errors.Is(errors.Invalid, err) {
		t.Errorf("out of bounds: got %v", err)
	}
	if _, err := o.Suggest(context.Background(), 0); !errors.Is(errors.Invalid, err) {
		t.Errorf("n=0: got %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := o.Suggest(ctx, 1); !errors.Is(errors.Canceled, err) {
		t.Errorf("cancelled ctx: got %v", err)
	}
}

func TestPoolExhaustion(t *testing.T) {
	space := bo.Space{Params: []bo.Param{{Name: "c", Kind: bo.Categorical, Categories: []string{"a", "b", "c"}}}}
	o, err := bo.New(bo.Config{Space: space, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	pts, err := o.Suggest(context.Background(), 3)
	if err != nil || len(pts) != 3 {
		t.Fatalf("got %v, %v", pts, err)
	}
	if _, err := o.Suggest(context.Background(), 1); !errors.Is(errors.Invalid, err) {
		t.Fatalf("exhausted space: got %v", err)
	}
	o.Cancel(pts[:1])
	if p, err := o.Suggest(context.Background(), 1); err != nil || !cmp.Equal(p[0], pts[0]) {
		t.Fatalf("after cancel: got %v, %v", p, err)
	}
}

// Hypervolume against a brute-force grid count on random fronts.
func TestHypervolumeMatchesGrid(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for trial := 0; trial < 20; trial++ {
		m := 2 + trial%2
		var ys [][]float64
		for i := 0; i < 1+rng.IntN(6); i++ {
			y := make([]float64, m)
			for k := range y {
				y[k] = float64(rng.IntN(8)) / 8
			}
			ys = append(ys, y)
		}
		goals := make([]bo.Goal, m)
		for k := range goals {
			goals[k] = bo.Maximize
		}
		ref := make([]float64, m)
		got := bo.Hypervolume(ys, ref, goals)
		// Count grid cells of size 1/8 dominated by some point.
		var cells int
		var walk func(k int, c []int)
		walk = func(k int, c []int) {
			if k == m {
				for _, y := range ys {
					ok := true
					for j := 0; j < m; j++ {
						if float64(c[j]+1)/8 > y[j]+1e-12 {
							ok = false
						}
					}
					if ok {
						cells++
						return
					}
				}
				return
			}
			for v := 0; v < 8; v++ {
				walk(k+1, append(c, v))
			}
		}
		walk(0, nil)
		want := float64(cells) / math.Pow(8, float64(m))
		if math.Abs(got-want) > 1e-12 {
			t.Fatalf("trial %d: hypervolume %v, grid %v (%v)", trial, got, want, ys)
		}
		// Minimising the negated values must give the same volume.
		neg := make([][]float64, len(ys))
		for i, y := range ys {
			for _, v := range y {
				neg[i] = append(neg[i], -v)
			}
		}
		for k := range goals {
			goals[k] = bo.Minimize
		}
		if g2 := bo.Hypervolume(neg, make([]float64, m), goals); math.Abs(g2-got) > 1e-12 {
			t.Fatalf("minimise: %v vs %v", g2, got)
		}
	}
}

func TestParetoFront(t *testing.T) {
	ys := [][]float64{{1, 5}, {2, 4}, {1.5, 3}, {3, 1}, {0, 0}, {2, 4}}
	got := bo.ParetoFront(ys, []bo.Goal{bo.Maximize, bo.Maximize})
	if diff := cmp.Diff([]int{0, 1, 3, 5}, got); diff != "" {
		t.Fatal(diff)
	}
}

// Two objectives and an outcome constraint: the loop runs, the front is
// non-dominated and feasible, and the hypervolume beats random sampling.
func TestMultiObjectiveWithConstraint(t *testing.T) {
	ctx := context.Background()
	space := bo.Space{Params: []bo.Param{{Name: "a", Kind: bo.Continuous, Low: 0, High: 1}, {Name: "b", Kind: bo.Continuous, Low: 0, High: 1}}}
	eval := func(p bo.Point) []float64 {
		f1 := (p[0]-0.2)*(p[0]-0.2) + (p[1]-0.3)*(p[1]-0.3)
		f2 := (p[0]-0.8)*(p[0]-0.8) + (p[1]-0.6)*(p[1]-0.6)
		return []float64{f1, f2, p[0] + p[1]} // constraint: a + b ≤ 1.2
	}
	goals := []bo.Goal{bo.Minimize, bo.Minimize}
	ref := []float64{1, 1}
	cfg := bo.Config{Space: space, Seed: 3, Budget: 24, RawSamples: 256,
		Objectives:  []bo.Objective{{Name: "f1", Goal: bo.Minimize}, {Name: "f2", Goal: bo.Minimize}},
		Constraints: []bo.OutcomeConstraint{{Name: "sum", Rel: bo.LessEq, Bound: 1.2}}}
	o, err := bo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < 24; {
		pts, err := o.Suggest(ctx, 3)
		if err != nil {
			t.Fatal(err)
		}
		var vals [][]float64
		for _, p := range pts {
			vals = append(vals, eval(p))
		}
		if err := o.Observe(pts, vals); err != nil {
			t.Fatal(err)
		}
		n += len(pts)
	}
	front, vals := o.Front()
	if len(front) == 0 {
		t.Fatal("empty front")
	}
	var ys [][]float64
	for i, v := range vals {
		if v[2] > 1.2 {
			t.Errorf("infeasible point %v on the front", front[i])
		}
		ys = append(ys, v[:2])
	}
	if got := bo.ParetoFront(ys, goals); len(got) != len(ys) {
		t.Errorf("front has dominated points")
	}
	hv := bo.Hypervolume(ys, ref, goals)
	// Random baseline: 24 uniform points, feasible only.
	rng := rand.New(rand.NewPCG(5, 5))
	var rys [][]float64
	for i := 0; i < 24; i++ {
		v := eval(bo.Point{rng.Float64(), rng.Float64()})
		if v[2] <= 1.2 {
			rys = append(rys, v[:2])
		}
	}
	rhv := bo.Hypervolume(rys, ref, goals)
	t.Logf("hypervolume %.4f, random %.4f", hv, rhv)
	if !(hv > rhv) {
		t.Errorf("hypervolume %.4f not above random %.4f", hv, rhv)
	}
}

// A campaign seeded with enough earlier observations skips the initial
// design: its first suggestion already comes from the model.
func TestHistoricalDataSkipsDesign(t *testing.T) {
	space := testSpace()
	o, err := bo.New(bo.Config{Space: space, Seed: 1, InitialPoints: 5})
	if err != nil {
		t.Fatal(err)
	}
	seed, err := bo.New(bo.Config{Space: space, Seed: 2, InitialPoints: 8})
	if err != nil {
		t.Fatal(err)
	}
	pts, _ := seed.Suggest(context.Background(), 8)
	var vals [][]float64
	for _, p := range pts {
		vals = append(vals, []float64{objective(p)})
	}
	if err := o.Observe(pts, vals); err != nil {
		t.Fatal(err)
	}
	if _, err := o.Suggest(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if st := o.State(); len(st.Warm) == 0 || st.DesignServed != 0 {
		t.Fatalf("design served %d, fitted models %d: want a model-based suggestion", st.DesignServed, len(st.Warm))
	}
}

func FuzzResume(f *testing.F) {
	o, err := bo.New(bo.Config{Space: testSpace(), Seed: 3, RawSamples: 64})
	if err != nil {
		f.Fatal(err)
	}
	for r := 0; r < 3; r++ {
		pts, err := o.Suggest(context.Background(), 2)
		if err != nil {
			f.Fatal(err)
		}
		var vals [][]float64
		for _, p := range pts {
			vals = append(vals, []float64{objective(p)})
		}
		if err := o.Observe(pts, vals); err != nil {
			f.Fatal(err)
		}
	}
	good, _ := json.Marshal(o)
	f.Add(good)
	f.Add([]byte(`{"version":1,"config":{"space":{"params":[{"name":"x","kind":"continuous","low":0,"high":1}]}},"x":[[0.5]],"y":[[1]]}`))
	f.Add([]byte(`{"version":1,"config":{"space":{"params":[{"name":"x","kind":"categorical","categories":["a"]}],"pool":[[0],[0]]}},"pending":[[0]]}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		o, err := bo.Resume(data)
		if err != nil {
			return
		}
		// A state that restores must be usable: Suggest either works or fails cleanly.
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		pts, err := o.Suggest(ctx, 1)
		if err != nil {
			return
		}
		st := o.State()
		for _, p := range pts {
			if !st.Config.Space.Contains(p) {
				t.Fatalf("suggestion %v outside the space", p)
			}
		}
	})
}
