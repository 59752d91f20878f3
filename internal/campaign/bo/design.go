package bo

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distmv"
	"gonum.org/v1/gonum/stat/samplemv"
)

// InitialDesignSize is the rule n = max(5, min(2d, budget/5)); with
// no budget it is max(5, 2d).
func InitialDesignSize(d, budget int) int {
	n := 2 * d
	if budget > 0 && budget/5 < n {
		n = budget / 5
	}
	if n < 5 {
		n = 5
	}
	return n
}

// halton returns n scrambled (Owen) Halton points in [0,1)^d, deterministic
// in seed. The sequence for a seed is prefix-consistent: the first k points do
// not depend on n.
func halton(n, d int, seed uint64) [][]float64 {
	if n == 0 {
		return nil
	}
	m := mat.NewDense(n, d, nil)
	h := samplemv.Halton{Kind: samplemv.Owen, Q: distmv.NewUnitUniform(d, nil), Src: rand.NewPCG(seed, 0x68616c746f6e)}
	h.Sample(m)
	out := make([][]float64, n)
	for i := range out {
		out[i] = append([]float64(nil), m.RawRowView(i)...)
	}
	return out
}

// quasiPoints maps n quasi-random unit vectors (one coordinate per param) to
// points of the space, projecting onto linear constraints. Infeasible results
// are dropped, so fewer than n points may come back.
func (o *Optimizer) quasiPoints(us [][]float64) []Point {
	e := o.enc
	var out []Point
	u := make([]float64, e.nRefine)
	cats := make([]int, len(o.cfg.Space.Params))
	for _, v := range us {
		for i, p := range o.cfg.Space.Params {
			if p.Kind == Categorical {
				cats[i] = min(int(v[i]*float64(len(p.Categories))), len(p.Categories)-1)
			} else {
				u[e.featOf[i]] = v[i]
				if p.Kind == Integer {
					// Spread integers evenly over their levels.
					lo, hi := math.Ceil(p.Low), math.Floor(p.High)
					lv := math.Min(math.Floor(lo+v[i]*(hi-lo+1)), hi)
					u[e.featOf[i]] = toUnit(p, lv)
				}
			}
		}
		if !e.project(u) {
			continue
		}
		pt := e.decode(u, cats)
		if o.cfg.Space.Contains(pt) {
			out = append(out, pt)
		}
	}
	return out
}

// design returns the first n points of the initial design for the seed.
func (o *Optimizer) design(n int) []Point {
	if len(o.pool) > 0 {
		return o.poolDesign(n)
	}
	var out []Point
	// Over-generate a little: projection may reject some points.
	m := n
	for tries := 0; tries < 6 && len(out) < n; tries++ {
		out = o.quasiPoints(o.designUnit(m))
		m *= 2
	}
	seen := map[string]bool{}
	var uniq []Point
	for _, p := range out {
		k := pointKey(p)
		if !seen[k] {
			seen[k] = true
			uniq = append(uniq, p)
		}
	}
	if len(uniq) > n {
		uniq = uniq[:n]
	}
	return uniq
}

// poolDesign maps Halton points to the nearest distinct pool rows.
func (o *Optimizer) poolDesign(n int) []Point {
	n = min(n, len(o.pool))
	targets := o.quasiPoints(o.designUnit(n))
	used := make([]bool, len(o.pool))
	var out []Point
	feat := make([]float64, o.enc.nFeat)
	cat := make([]int, o.enc.nCat)
	for _, t := range targets {
		o.enc.encode(t, feat, cat)
		bi, bd := -1, math.Inf(1)
		for i := range o.pool {
			if used[i] {
				continue
			}
			var d float64
			for k, v := range o.poolFeat[i] {
				d += (v - feat[k]) * (v - feat[k])
			}
			for k, c := range o.poolCat[i] {
				if c != cat[k] {
					d++
				}
			}
			if d < bd {
				bi, bd = i, d
			}
		}
		if bi >= 0 {
			used[bi] = true
			out = append(out, o.pool[bi])
		}
	}
	return out
}

// designUnit returns the first n unit-cube points of the configured initial design.
func (o *Optimizer) designUnit(n int) [][]float64 {
	d := len(o.cfg.Space.Params)
	if o.cfg.InitialDesign == "sobol" && d <= MaxSobolDim {
		return sobol(n, d, o.cfg.Seed)
	}
	return halton(n, d, o.cfg.Seed)
}
