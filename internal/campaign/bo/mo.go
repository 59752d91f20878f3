package bo

import (
	"math"
	"sort"
)

// ParetoFront returns the indices of the non-dominated rows of ys (one value
// per objective; goals give each objective's direction), in input order.
func ParetoFront(ys [][]float64, goals []Goal) []int {
	s := signedRows(ys, goals)
	var out []int
	for i := range s {
		dominated := false
		for j := range s {
			if j != i && dominates(s[j], s[i]) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, i)
		}
	}
	return out
}

func signedRows(ys [][]float64, goals []Goal) [][]float64 {
	s := make([][]float64, len(ys))
	for i, y := range ys {
		s[i] = make([]float64, len(goals))
		for j, g := range goals {
			s[i][j] = y[j]
			if g == Minimize {
				s[i][j] = -y[j]
			}
		}
	}
	return s
}

// dominates reports a ≥ b everywhere and > somewhere (maximisation).
func dominates(a, b []float64) bool {
	strict := false
	for k := range a {
		if a[k] < b[k] {
			return false
		}
		if a[k] > b[k] {
			strict = true
		}
	}
	return strict
}

// Hypervolume returns the volume dominated by ys and bounded by ref, for two
// or three objectives (goals give directions; ref is in the same units).
// Points that do not strictly dominate ref contribute nothing.
func Hypervolume(ys [][]float64, ref []float64, goals []Goal) float64 {
	s := signedRows(ys, goals)
	r := signedRows([][]float64{ref}, goals)[0]
	var pts [][]float64
	for _, p := range s {
		ok := true
		for k := range p {
			if !(p[k] > r[k]) {
				ok = false
			}
		}
		if ok {
			pts = append(pts, p)
		}
	}
	switch len(goals) {
	case 1:
		best := r[0]
		for _, p := range pts {
			best = math.Max(best, p[0])
		}
		return best - r[0]
	case 2:
		return hv2(pts, r)
	case 3:
		// Slice along the third objective.
		sort.Slice(pts, func(i, j int) bool { return pts[i][2] > pts[j][2] })
		var vol float64
		for i := range pts {
			next := r[2]
			if i+1 < len(pts) {
				next = pts[i+1][2]
			}
			h := pts[i][2] - next
			if h <= 0 {
				continue
			}
			vol += h * hv2(pts[:i+1], r)
		}
		return vol
	}
	return math.NaN()
}

func hv2(pts [][]float64, r []float64) float64 {
	p := append([][]float64(nil), pts...)
	sort.Slice(p, func(i, j int) bool {
		if p[i][0] != p[j][0] {
			return p[i][0] > p[j][0]
		}
		return p[i][1] > p[j][1]
	})
	var vol float64
	y := r[1]
	for _, q := range p {
		if q[1] > y {
			vol += (q[0] - r[0]) * (q[1] - y)
			y = q[1]
		}
	}
	return vol
}

// Front returns the observed points on the Pareto front of the objectives
// (among those satisfying every outcome constraint), with their values.
func (o *Optimizer) Front() ([]Point, [][]float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	nObj := len(o.cfg.Objectives)
	goals := make([]Goal, nObj)
	for i, ob := range o.cfg.Objectives {
		goals[i] = ob.Goal
	}
	var idx []int
	var ys [][]float64
	for i, row := range o.obsY {
		ok := true
		for j, c := range o.cfg.Constraints {
			v := row[nObj+j]
			if (c.Rel == LessEq && v > c.Bound) || (c.Rel == GreaterEq && v < c.Bound) {
				ok = false
			}
		}
		if ok {
			idx = append(idx, i)
			ys = append(ys, row[:nObj])
		}
	}
	var pts []Point
	var vals [][]float64
	for _, k := range ParetoFront(ys, goals) {
		i := idx[k]
		pts = append(pts, append(Point(nil), o.obsX[i]...))
		vals = append(vals, append([]float64(nil), o.obsY[i]...))
	}
	return pts, vals
}
