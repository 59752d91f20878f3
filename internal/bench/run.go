package bench

import (
	"context"
	"math"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
)

// Method names an optimiser under test.
type Method string

const (
	Genesis Method = "genesis"
	Random  Method = "random"
)

// Trace is one run: the score after each experiment, the duration of each
// model-based Suggest call after the first, and the experiments in the
// order they were run.
type Trace struct {
	Best    []float64 // NaN until defined (e.g. no feasible point yet)
	Seconds []float64
	Points  []bo.Point
}

// score is the problem's figure of merit over evaluated values.
type scorer struct {
	p     *Problem
	best  float64
	front [][]float64
}

func newScorer(p *Problem) *scorer { return &scorer{p: p, best: math.NaN()} }

func (s *scorer) add(v []float64) float64 {
	p := s.p
	nObj := len(p.Objectives)
	if nObj > 1 {
		s.front = append(s.front, v[:nObj])
		goals := make([]bo.Goal, nObj)
		for i, o := range p.Objectives {
			goals[i] = o.Goal
		}
		return bo.Hypervolume(s.front, p.Ref, goals)
	}
	for j, c := range p.Constraints {
		x := v[nObj+j]
		if (c.Rel == bo.LessEq && x > c.Bound) || (c.Rel == bo.GreaterEq && x < c.Bound) {
			return s.best
		}
	}
	if math.IsNaN(s.best) || better(p.Goal, v[0], s.best) {
		s.best = v[0]
	}
	return s.best
}

func better(g bo.Goal, a, b float64) bool {
	if g == bo.Minimize {
		return a < b
	}
	return a > b
}

// RunOnce runs one method on one problem with one seed.
func RunOnce(ctx context.Context, p *Problem, m Method, seed uint64, batch, budget int) (Trace, error) {
	const op errors.Op = "bench.RunOnce"
	sc := newScorer(p)
	var tr Trace
	record := func(v []float64) { tr.Best = append(tr.Best, sc.add(v)) }
	if m == Random {
		rng := rand.New(rand.NewPCG(seed, 0x72616e646f6d))
		if len(p.Space.Pool) > 0 {
			perm := rng.Perm(len(p.Space.Pool))
			for i := 0; i < budget && i < len(perm); i++ {
				tr.Points = append(tr.Points, p.Space.Pool[perm[i]])
				record(p.Eval(p.Space.Pool[perm[i]]))
			}
			return tr, nil
		}
		for i := 0; i < budget; i++ {
			x := make(bo.Point, len(p.Space.Params))
			for k, prm := range p.Space.Params {
				x[k] = prm.Low + rng.Float64()*(prm.High-prm.Low)
			}
			tr.Points = append(tr.Points, x)
			record(p.Eval(x))
		}
		return tr, nil
	}
	cfg := bo.Config{Space: p.Space, Objectives: p.Objectives, Constraints: p.Constraints, Seed: seed, Budget: budget}
	if p.Tune != nil {
		p.Tune(&cfg)
	}
	o, err := bo.New(cfg)
	if err != nil {
		return tr, errors.E(op, err)
	}
	n := 0
	for n < budget {
		if err := ctx.Err(); err != nil {
			return tr, errors.E(op, errors.Canceled, err)
		}
		q := min(batch, budget-n)
		if len(p.Space.Pool) > 0 {
			q = min(q, len(p.Space.Pool)-n)
			if q <= 0 {
				break
			}
		}
		t0 := time.Now()
		pts, err := o.Suggest(ctx, q)
		if err != nil {
			return tr, errors.E(op, err)
		}
		if n > 0 {
			tr.Seconds = append(tr.Seconds, time.Since(t0).Seconds())
		}
		vals := make([][]float64, len(pts))
		for i, x := range pts {
			vals[i] = p.Eval(x)
			if vals[i] == nil {
				return tr, errors.E(op, errors.Internal, errors.Msg("optimiser left the pool"))
			}
			tr.Points = append(tr.Points, x)
			record(vals[i])
		}
		if err := o.Observe(pts, vals); err != nil {
			return tr, errors.E(op, err)
		}
		n += len(pts)
	}
	return tr, nil
}

// Summary aggregates traces over seeds at every budget.
type Summary struct {
	Mean, Median, Q25, Q75 []float64
}

// Summarise computes per-budget statistics. Undefined values (NaN) count as
// the worst possible for quantiles and make the mean undefined.
func Summarise(traces []Trace, goal bo.Goal) Summary {
	if len(traces) == 0 {
		return Summary{}
	}
	n := len(traces[0].Best)
	for _, t := range traces {
		n = min(n, len(t.Best))
	}
	var s Summary
	worst := math.Inf(-1)
	if goal == bo.Minimize {
		worst = math.Inf(1)
	}
	for k := 0; k < n; k++ {
		vals := make([]float64, len(traces))
		var sum float64
		for i, t := range traces {
			v := t.Best[k]
			sum += v
			if math.IsNaN(v) {
				v = worst
			}
			vals[i] = v
		}
		sort.Float64s(vals)
		s.Mean = append(s.Mean, sum/float64(len(traces)))
		s.Median = append(s.Median, quantile(vals, 0.5))
		s.Q25 = append(s.Q25, quantile(vals, 0.25))
		s.Q75 = append(s.Q75, quantile(vals, 0.75))
	}
	return s
}

// quantile of sorted values with linear interpolation (type 7, as numpy).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := q * float64(len(sorted)-1)
	lo := int(math.Floor(h))
	hi := min(lo+1, len(sorted)-1)
	if math.IsInf(sorted[lo], 0) || math.IsInf(sorted[hi], 0) {
		if h-float64(lo) == 0 {
			return sorted[lo]
		}
		return sorted[hi]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[hi]-sorted[lo])
}

// stepsToReach returns, per trace, the first budget at which the score
// reached th (in the problem's direction), or budget+1 if never (censored).
func stepsToReach(traces []Trace, goal bo.Goal, th float64) []float64 {
	var out []float64
	for _, t := range traces {
		steps := float64(len(t.Best) + 1)
		for k, v := range t.Best {
			if !math.IsNaN(v) && (v == th || better(goal, v, th)) {
				steps = float64(k + 1)
				break
			}
		}
		out = append(out, steps)
	}
	return out
}
