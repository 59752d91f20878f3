package bo

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// refine locally maximises the acquisition from p over the refinable
// (continuous and integer) features, keeping categories fixed. Box-only spaces
// use L-BFGS on a clamped objective; spaces with linear constraints use
// projected gradient ascent. It returns the decoded point and its value.
func (o *Optimizer) refine(a *acqModel, p Point) (Point, float64) {
	e := o.enc
	feat := make([]float64, e.nFeat)
	cat := make([]int, e.nCat)
	e.encode(p, feat, cat)
	v0 := a.value(feat, cat, nil)
	if e.nRefine == 0 {
		return p, v0
	}
	cats := make([]int, len(p))
	for i, prm := range o.cfg.Space.Params {
		if prm.Kind == Categorical {
			cats[i] = int(p[i])
		}
	}
	x := append([]float64(nil), feat...)
	grad := make([]float64, e.nRefine)
	eval := func(u []float64, g []float64) float64 {
		copy(x, u)
		return a.value(x, cat, g)
	}
	u0 := append([]float64(nil), feat[:e.nRefine]...)
	var uBest []float64
	if len(e.consA) == 0 {
		const wall = 1e3
		clamped := make([]float64, e.nRefine)
		f := func(u []float64, g []float64) float64 {
			var pen float64
			for i, v := range u {
				clamped[i] = clamp(v, 0, 1)
			}
			val := eval(clamped, grad)
			if math.IsInf(val, -1) || math.IsNaN(val) {
				val = -1e300
			}
			for i, v := range u {
				gi := -grad[i]
				if v < 0 {
					pen += 0.5 * wall * v * v
					gi = wall * v
				} else if v > 1 {
					pen += 0.5 * wall * (v - 1) * (v - 1)
					gi = wall * (v - 1)
				}
				if g != nil {
					g[i] = gi
				}
			}
			return -val + pen
		}
		var lastU, lastG []float64
		var lastF float64
		fg := func(u []float64) float64 {
			if lastU != nil && equalSlices(lastU, u) {
				return lastF
			}
			lastU = append(lastU[:0], u...)
			if lastG == nil {
				lastG = make([]float64, len(u))
			}
			lastF = f(u, lastG)
			return lastF
		}
		prob := optimize.Problem{
			Func: fg,
			Grad: func(g, u []float64) { fg(u); copy(g, lastG) },
		}
		settings := &optimize.Settings{
			GradientThreshold: 1e-7,
			MajorIterations:   100,
			FuncEvaluations:   200,
			Converger:         &optimize.FunctionConverge{Absolute: 1e-9, Relative: 1e-9, Iterations: 10},
		}
		res, _ := optimize.Minimize(prob, u0, settings, &optimize.LBFGS{})
		if res != nil && finite(res.F) {
			uBest = make([]float64, len(res.X))
			for i, v := range res.X {
				uBest[i] = clamp(v, 0, 1)
			}
		}
	} else {
		uBest = o.projectedAscent(eval, u0)
	}
	if uBest == nil {
		return p, v0
	}
	q := e.decode(uBest, cats)
	if !o.cfg.Space.Contains(q) {
		return p, v0
	}
	e.encode(q, feat, cat)
	v := a.value(feat, cat, nil)
	if !(v > v0) {
		return p, v0
	}
	return q, v
}

// projectedAscent is gradient ascent with backtracking, projecting onto the
// feasible set after every step.
func (o *Optimizer) projectedAscent(eval func(u, g []float64) float64, u0 []float64) []float64 {
	e := o.enc
	u := append([]float64(nil), u0...)
	if !e.project(u) {
		return nil
	}
	g := make([]float64, len(u))
	fv := eval(u, g)
	step := 0.1
	trial := make([]float64, len(u))
	for it := 0; it < 60; it++ {
		var gn float64
		for _, v := range g {
			gn += v * v
		}
		gn = math.Sqrt(gn)
		if !(gn > 1e-12) {
			break
		}
		improved := false
		for ls := 0; ls < 20; ls++ {
			for i := range u {
				trial[i] = u[i] + step*g[i]/gn
			}
			if e.project(trial) {
				fn := eval(trial, nil)
				if fn > fv {
					copy(u, trial)
					fv = eval(u, g)
					improved = true
					step *= 1.5
					break
				}
			}
			step *= 0.5
		}
		if !improved || step < 1e-9 {
			break
		}
	}
	return u
}

// posteriorSample draws one joint sample of the latent function at X.
func posteriorSample(g *gp, X [][]float64, C [][]int, rng *rand.Rand) []float64 {
	m := len(X)
	n := len(g.data.Y)
	ks := mat.NewDense(n, m, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < m; j++ {
			ks.Set(i, j, g.kernel(g.data.X[i], g.data.C[i], X[j], C[j]))
		}
	}
	// V = L^{-1} K_XX*; cov = K** − VᵀV
	var L mat.TriDense
	g.chol.LTo(&L)
	var V mat.Dense
	if err := V.Solve(&L, ks); err != nil {
		V.Scale(0, ks)
	}
	cov := mat.NewSymDense(m, nil)
	mean := make([]float64, m)
	for j := 0; j < m; j++ {
		mean[j] = g.mean
		for i := 0; i < n; i++ {
			mean[j] += ks.At(i, j) * g.alpha[i]
		}
	}
	var vtv mat.SymDense
	vtv.SymOuterK(1, V.T())
	for i := 0; i < m; i++ {
		for j := i; j < m; j++ {
			cov.SetSym(i, j, g.kernel(X[i], C[i], X[j], C[j])-vtv.At(i, j))
		}
	}
	var chol mat.Cholesky
	ok := false
	for _, jit := range append(jitters[1:], 1) {
		c := mat.NewSymDense(m, nil)
		c.CopySym(cov)
		for i := 0; i < m; i++ {
			c.SetSym(i, i, c.At(i, i)+jit*g.scale)
		}
		if chol.Factorize(c) {
			ok = true
			break
		}
	}
	out := make([]float64, m)
	if !ok {
		// Fall back to independent marginals.
		for j := 0; j < m; j++ {
			out[j] = mean[j] + math.Sqrt(math.Max(cov.At(j, j), 0))*rng.NormFloat64()
		}
		return out
	}
	z := mat.NewVecDense(m, nil)
	for j := 0; j < m; j++ {
		z.SetVec(j, rng.NormFloat64())
	}
	var Lc mat.TriDense
	chol.LTo(&Lc)
	var s mat.VecDense
	s.MulVec(&Lc, z)
	for j := 0; j < m; j++ {
		out[j] = mean[j] + s.AtVec(j)
	}
	return out
}
