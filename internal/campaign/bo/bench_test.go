package bo_test

import (
	"context"
	"math"
	"math/rand/v2"
	"syscall"
	"testing"

	"github.com/genesis-science/genesis/internal/campaign/bo"
)

// benchState builds an optimiser state with n observations of a smooth d-dimensional
// function, optionally over a pool of poolSize candidates.
func benchState(b *testing.B, n, d, poolSize int) bo.State {
	b.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	var space bo.Space
	for i := 0; i < d; i++ {
		space.Params = append(space.Params, bo.Param{Name: string(rune('a' + i)), Kind: bo.Continuous, Low: 0, High: 1})
	}
	f := func(x bo.Point) float64 {
		var v float64
		for i, xi := range x {
			v += math.Sin(3*xi+float64(i)) * math.Cos(2*xi*float64(i+1))
		}
		return v
	}
	rnd := func() bo.Point {
		p := make(bo.Point, d)
		for i := range p {
			p[i] = rng.Float64()
		}
		return p
	}
	for i := 0; i < poolSize; i++ {
		space.Pool = append(space.Pool, rnd())
	}
	// InitialPoints 1: with n observations already there, the first
	// Suggest is model-based and leaves a warm start in the state.
	o, err := bo.New(bo.Config{Space: space, Seed: 1, InitialPoints: 1})
	if err != nil {
		b.Fatal(err)
	}
	var pts []bo.Point
	var vals [][]float64
	for i := 0; i < n; i++ {
		var p bo.Point
		if poolSize > 0 {
			p = space.Pool[i]
		} else {
			p = rnd()
		}
		pts = append(pts, p)
		vals = append(vals, []float64{f(p)})
	}
	if err := o.Observe(pts, vals); err != nil {
		b.Fatal(err)
	}
	// One suggestion fits the model, so that the timed calls warm-start as a
	// running campaign does.
	if _, err := o.Suggest(context.Background(), 1); err != nil {
		b.Fatal(err)
	}
	st := o.State()
	st.Pending = nil
	if len(st.Warm) == 0 {
		b.Fatal("no warm start in the benchmark state")
	}
	return st
}

// cpuSeconds is this process's user+system CPU time: on a shared machine it
// is a steadier measure than wall time, which is reported as well.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}

func benchSuggest(b *testing.B, st bo.State) {
	b.ResetTimer()
	c0 := cpuSeconds()
	defer func() { b.ReportMetric((cpuSeconds()-c0)/float64(b.N), "cpu-s/op") }()
	for i := 0; i < b.N; i++ {
		o, err := bo.Restore(st)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := o.Suggest(context.Background(), 1); err != nil {
			b.Fatal(err)
		}
	}
}

// Target: ≤ 1 s per suggestion at n ≤ 200, d ≤ 10. The state carries the
// previous fit, as in a running campaign; ColdFit measures the first call.
func BenchmarkSuggestContinuousN200D10(b *testing.B) { benchSuggest(b, benchState(b, 200, 10, 0)) }

func BenchmarkSuggestContinuousN50D6(b *testing.B) { benchSuggest(b, benchState(b, 50, 6, 0)) }

// Target: ≤ 2 s for a pool suggestion over 5,000 candidates.
func BenchmarkSuggestPool5000N200D6(b *testing.B) { benchSuggest(b, benchState(b, 200, 6, 5000)) }

// The first model-based call of a campaign resumed without hyperparameters.
func BenchmarkSuggestColdFitN200D10(b *testing.B) {
	st := benchState(b, 200, 10, 0)
	st.Warm = nil
	benchSuggest(b, st)
}
