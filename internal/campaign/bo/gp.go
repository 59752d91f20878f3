package bo

import (
	"math"
	"math/rand/v2"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"
)

// KernelType selects the stationary kernel on numeric features.
type KernelType string

const (
	Matern52 KernelType = "matern52"
	RBF      KernelType = "rbf"
)

var (
	sqrt5    = math.Sqrt(5)
	log2Pi   = math.Log(2 * math.Pi)
	sqrt2    = math.Sqrt2
	sqrt3    = math.Sqrt(3)
	jitters  = []float64{0, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1}
	logLsMin = math.Log(1e-3)
	logLsMax = math.Log(1e3)
)

// noiseFloor is the smallest noise variance (standardised units), as BoTorch's
// GreaterThan(1e-4) constraint on the likelihood noise... made smaller so that
// noiseless problems can be interpolated closely.
const noiseFloor = 1e-6

// outputScalePriorSD is the sd of the N(0, sd²) prior on log outputscale.
const outputScalePriorSD = 1.0

// gpData is the training data of a GP in feature space.
type gpData struct {
	X   [][]float64 // n × nFeat, unit-scaled numeric features
	C   [][]int     // n × nCat, category indices
	Y   []float64   // standardised targets
	dim int         // nFeat
	nc  int         // nCat
	// pdim is the dimension the length-scale prior scales with: the number
	// of search-space parameters (a categorical parameter with a descriptor
	// vector is one design dimension, however many features it has). 0 means
	// dim + nc.
	pdim int
}

func (d *gpData) priorDim() float64 {
	if d.pdim > 0 {
		return float64(d.pdim)
	}
	return math.Max(1, float64(d.dim+d.nc))
}

// hyper layout: [log ls (dim)] [log catls (nc)] [log outputscale] [log (noise - floor)] [mean]
type hyper []float64

func nHyper(dim, nc int) int { return dim + nc + 3 }

// gp is a fitted exact GP.
type gp struct {
	kern  KernelType
	data  gpData
	h     hyper
	ls    []float64 // length-scales
	cls   []float64 // categorical length-scales
	scale float64
	noise float64
	mean  float64
	chol  mat.Cholesky
	alpha []float64 // K^{-1}(y - mean)
	kinv  *mat.SymDense
	jit   float64
}

// priorMode returns the centres of the priors on the log-parameters (see
// lsPrior): length-scales from BoTorch's LogNormal(√2 + ½log d, √3), noise
// from LogNormal(−4, 1), log outputscale N(0, 1), mean 0.
func priorMode(dim, nc int, d float64) hyper {
	h := make(hyper, nHyper(dim, nc))
	mu, _ := lsPrior(d)
	for i := 0; i < dim+nc; i++ {
		h[i] = mu
	}
	h[dim+nc] = 0
	h[dim+nc+1] = -5
	h[dim+nc+2] = 0
	return h
}

func priorSample(dim, nc int, d float64, rng *rand.Rand) hyper {
	h := priorMode(dim, nc, d)
	for i := 0; i < dim+nc; i++ {
		h[i] = clamp(h[i]+0.5*sqrt3*rng.NormFloat64(), logLsMin, logLsMax)
	}
	h[dim+nc] += 0.5 * rng.NormFloat64()
	h[dim+nc+1] += rng.NormFloat64()
	return h
}

// logPrior returns the log prior density (up to constants) and adds its gradient to g.
func logPrior(h hyper, dim, nc int, d float64, g []float64) float64 {
	mu, lsd := lsPrior(d)
	var lp float64
	for i := 0; i < dim+nc; i++ {
		z := (h[i] - mu) / lsd
		lp -= 0.5 * z * z
		g[i] -= z / lsd
	}
	// outputscale: log s ~ N(0, 1)
	s := h[dim+nc]
	lp -= 0.5 * s * s / (outputScalePriorSD * outputScalePriorSD)
	g[dim+nc] -= s / (outputScalePriorSD * outputScalePriorSD)
	// noise: LogNormal(−4, 1) on σ², i.e. N(−5, 1) on log σ² after the
	// Jacobian (see lsPrior), applied to the part above the floor.
	z := h[dim+nc+1] + 5
	lp -= 0.5 * z * z
	g[dim+nc+1] -= z
	// mean: weak N(0, 2²) so that it cannot drift on tiny data sets.
	m := h[dim+nc+2]
	lp -= 0.5 * m * m / 4
	g[dim+nc+2] -= m / 4
	// Soft walls keep L-BFGS inside a sane box.
	const wall = 100.0
	for i := 0; i < len(h)-1; i++ {
		lo, hi := logLsMin, logLsMax
		if i == dim+nc {
			lo, hi = -8, 8
		} else if i == dim+nc+1 {
			lo, hi = math.Log(1e-10), math.Log(10)
		}
		if h[i] < lo {
			lp -= 0.5 * wall * (lo - h[i]) * (lo - h[i])
			g[i] += wall * (lo - h[i])
		} else if h[i] > hi {
			lp -= 0.5 * wall * (h[i] - hi) * (h[i] - hi)
			g[i] -= wall * (h[i] - hi)
		}
	}
	return lp
}

// pairs caches per-dimension squared differences and category mismatches.
type pairs struct {
	n   int
	d2  [][]float64 // (i*n+j) -> per-dim squared diff, only i<j stored
	mis [][]float64
}

func newPairs(data *gpData) *pairs {
	n := len(data.X)
	p := &pairs{n: n, d2: make([][]float64, n*n), mis: make([][]float64, n*n)}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			v := make([]float64, data.dim)
			for k := 0; k < data.dim; k++ {
				t := data.X[i][k] - data.X[j][k]
				v[k] = t * t
			}
			p.d2[i*n+j] = v
			if data.nc > 0 {
				m := make([]float64, data.nc)
				for k := 0; k < data.nc; k++ {
					if data.C[i][k] != data.C[j][k] {
						m[k] = 1
					}
				}
				p.mis[i*n+j] = m
			}
		}
	}
	return p
}

// baseKernel returns the unit-scale kernel value and the factor f such that
// dk/dlog ls_d = f · d2_d / ls_d² (and dk/dx_d = -f · Δ_d / ls_d²).
func baseKernel(kern KernelType, r2 float64) (k, f float64) {
	switch kern {
	case RBF:
		k = math.Exp(-0.5 * r2)
		return k, k
	default:
		r := math.Sqrt(r2)
		e := math.Exp(-sqrt5 * r)
		k = (1 + sqrt5*r + 5.0/3.0*r2) * e
		f = 5.0 / 3.0 * (1 + sqrt5*r) * e
		return k, f
	}
}

// negLogPost evaluates −(log marginal likelihood + log prior) and its gradient.
// It never returns NaN: failures come back as +Inf.
func negLogPost(kern KernelType, data *gpData, pr *pairs, h hyper, grad []float64) float64 {
	n, dim, nc := len(data.Y), data.dim, data.nc
	g := make([]float64, len(h))
	ls := make([]float64, dim)
	il2 := make([]float64, dim)
	for k := 0; k < dim; k++ {
		ls[k] = math.Exp(h[k])
		il2[k] = 1 / (ls[k] * ls[k])
	}
	icl := make([]float64, nc)
	for k := 0; k < nc; k++ {
		icl[k] = math.Exp(-h[dim+k])
	}
	s := math.Exp(h[dim+nc])
	en := math.Exp(h[dim+nc+1])
	noise := noiseFloor + en
	mean := h[dim+nc+2]

	K := mat.NewSymDense(n, nil)
	F := make([]float64, n*n) // f factor × cat kernel, for gradients
	C := make([]float64, n*n) // full base kernel incl. categorical part
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			var r2 float64
			for k, v := range pr.d2[i*n+j] {
				r2 += v * il2[k]
			}
			kb, f := baseKernel(kern, r2)
			kc := 1.0
			if nc > 0 {
				var m float64
				for k, v := range pr.mis[i*n+j] {
					m += v * icl[k]
				}
				kc = math.Exp(-m)
			}
			F[i*n+j] = f * kc
			C[i*n+j] = kb * kc
			K.SetSym(i, j, s*kb*kc)
		}
	}
	var chol mat.Cholesky
	ok := false
	var jit float64
	for _, j := range jitters {
		jit = j * s
		for i := 0; i < n; i++ {
			K.SetSym(i, i, s+noise+jit)
		}
		if chol.Factorize(K) {
			ok = true
			break
		}
	}
	if !ok {
		for i := range grad {
			grad[i] = 0
		}
		return math.Inf(1)
	}
	r := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		r.SetVec(i, data.Y[i]-mean)
	}
	alpha := mat.NewVecDense(n, nil)
	if err := chol.SolveVecTo(alpha, r); err != nil {
		return math.Inf(1)
	}
	var kinv mat.SymDense
	if err := chol.InverseTo(&kinv); err != nil {
		return math.Inf(1)
	}
	ll := -0.5*mat.Dot(r, alpha) - 0.5*chol.LogDet() - 0.5*float64(n)*log2Pi
	// W = αα^T − K^{-1}; dL/dθ = ½ Σ W_ij dK_ij/dθ.
	a := alpha.RawVector().Data
	var tr float64 // ½ tr(W) for the diagonal terms
	for i := 0; i < n; i++ {
		tr += 0.5 * (a[i]*a[i] - kinv.At(i, i))
	}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			w := a[i]*a[j] - kinv.At(i, j) // off-diagonal pairs count twice: ½·2
			if w == 0 {
				continue
			}
			fw := w * s * F[i*n+j]
			for k, v := range pr.d2[i*n+j] {
				g[k] += fw * v * il2[k]
			}
			cw := w * s * C[i*n+j]
			if nc > 0 {
				for k, v := range pr.mis[i*n+j] {
					g[dim+k] += cw * v * icl[k]
				}
			}
			g[dim+nc] += cw
		}
	}
	g[dim+nc] += tr * s // diagonal: dK_ii/dlog s = s
	g[dim+nc+1] += tr * en
	var sa float64
	for i := 0; i < n; i++ {
		sa += a[i]
	}
	g[dim+nc+2] += sa
	ll += logPrior(h, dim, nc, data.priorDim(), g)
	if math.IsNaN(ll) || math.IsInf(ll, 0) {
		return math.Inf(1)
	}
	for i := range grad {
		grad[i] = -g[i]
	}
	return -ll
}

// fitGP fits hyperparameters by MAP with multi-start L-BFGS. warm, if non-nil
// and of the right length, is tried first; restarts < 0 means the warm start
// alone (when there is one), else the prior mode plus restarts random draws. It never fails: if every start
// fails it falls back to the prior mode with the largest jitter needed.
func fitGP(kern KernelType, data gpData, warm hyper, restarts int, rng *rand.Rand) *gp {
	pr := newPairs(&data)
	nh := nHyper(data.dim, data.nc)
	var starts []hyper
	if len(warm) == nh {
		starts = append(starts, append(hyper(nil), warm...))
	}
	if len(starts) == 0 || restarts >= 0 {
		starts = append(starts, priorMode(data.dim, data.nc, data.priorDim()))
	}
	for i := 0; i < restarts; i++ {
		starts = append(starts, priorSample(data.dim, data.nc, data.priorDim(), rng))
	}
	best, bestF := hyper(nil), math.Inf(1)
	var lastX, lastG []float64
	var lastF float64
	eval := func(x []float64) float64 {
		if lastX != nil && equalSlices(lastX, x) {
			return lastF
		}
		lastX = append(lastX[:0], x...)
		if lastG == nil {
			lastG = make([]float64, len(x))
		}
		lastF = negLogPost(kern, &data, pr, x, lastG)
		return lastF
	}
	problem := optimize.Problem{
		Func: eval,
		Grad: func(grad, x []float64) {
			eval(x)
			copy(grad, lastG)
		},
	}
	for _, x0 := range starts {
		f0 := problem.Func(x0)
		if f0 < bestF {
			best, bestF = append(hyper(nil), x0...), f0
		}
		if math.IsInf(f0, 1) {
			continue
		}
		settings := &optimize.Settings{
			GradientThreshold: 1e-5,
			MajorIterations:   200,
			FuncEvaluations:   400,
			Converger:         &optimize.FunctionConverge{Absolute: 1e-6, Relative: 1e-8, Iterations: 5},
		}
		res, err := optimize.Minimize(problem, x0, settings, &optimize.LBFGS{})
		if res == nil {
			continue
		}
		_ = err // a line-search failure still leaves a usable, improved point
		if finite(res.F) && res.F < bestF {
			best, bestF = append(hyper(nil), res.X...), res.F
		}
	}
	if best == nil {
		best = priorMode(data.dim, data.nc, data.priorDim())
	}
	return newGP(kern, data, best)
}

// newGP conditions a GP with fixed hyperparameters on data.
func newGP(kern KernelType, data gpData, h hyper) *gp {
	dim, nc := data.dim, data.nc
	for i := 0; i < dim+nc; i++ {
		h[i] = clamp(h[i], logLsMin, logLsMax)
	}
	h[dim+nc] = clamp(h[dim+nc], -8, 8)
	h[dim+nc+1] = clamp(h[dim+nc+1], math.Log(1e-10), math.Log(10))
	g := &gp{kern: kern, data: data, h: h}
	g.ls = make([]float64, dim)
	for k := range g.ls {
		g.ls[k] = math.Exp(h[k])
	}
	g.cls = make([]float64, nc)
	for k := range g.cls {
		g.cls[k] = math.Exp(h[dim+k])
	}
	g.scale = math.Exp(h[dim+nc])
	g.noise = noiseFloor + math.Exp(h[dim+nc+1])
	g.mean = h[dim+nc+2]
	g.condition()
	return g
}

func (g *gp) kernel(x []float64, c []int, x2 []float64, c2 []int) float64 {
	var r2 float64
	for k := range x {
		t := (x[k] - x2[k]) / g.ls[k]
		r2 += t * t
	}
	kb, _ := baseKernel(g.kern, r2)
	var m float64
	for k := range c {
		if c[k] != c2[k] {
			m += 1 / g.cls[k]
		}
	}
	return g.scale * kb * math.Exp(-m)
}

func (g *gp) condition() {
	n := len(g.data.Y)
	K := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			K.SetSym(i, j, g.kernel(g.data.X[i], g.data.C[i], g.data.X[j], g.data.C[j]))
		}
	}
	ok := false
	for _, j := range append(jitters, 1, 10) {
		g.jit = j * g.scale
		for i := 0; i < n; i++ {
			K.SetSym(i, i, g.scale+g.noise+g.jit)
		}
		if g.chol.Factorize(K) {
			ok = true
			break
		}
	}
	if !ok {
		// Degenerate input (e.g. non-finite): fall back to an independent model.
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				K.SetSym(i, j, 0)
			}
			K.SetSym(i, i, g.scale+g.noise)
		}
		g.chol.Factorize(K)
	}
	r := mat.NewVecDense(n, nil)
	for i := 0; i < n; i++ {
		r.SetVec(i, g.data.Y[i]-g.mean)
	}
	alpha := mat.NewVecDense(n, nil)
	_ = g.chol.SolveVecTo(alpha, r)
	g.alpha = alpha.RawVector().Data
	g.kinv = mat.NewSymDense(n, nil)
	_ = g.chol.InverseTo(g.kinv)
}

// predict returns the posterior mean and variance of the latent function at (x, c).
func (g *gp) predict(x []float64, c []int) (mu, v float64) {
	n := len(g.data.Y)
	ks := make([]float64, n)
	for i := 0; i < n; i++ {
		ks[i] = g.kernel(x, c, g.data.X[i], g.data.C[i])
	}
	mu = g.mean
	for i := 0; i < n; i++ {
		mu += ks[i] * g.alpha[i]
	}
	raw := g.kinv.RawSymmetric()
	var q float64
	for i := 0; i < n; i++ {
		row := raw.Data[i*raw.Stride:]
		var t float64
		for j := 0; j < i; j++ {
			t += raw.Data[j*raw.Stride+i] * ks[j]
		}
		for j := i; j < n; j++ {
			t += row[j] * ks[j]
		}
		q += ks[i] * t
	}
	v = g.scale - q
	if !(v > 1e-12*g.scale) {
		v = 1e-12 * g.scale
	}
	return mu, v
}

// predictGrad is predict plus the gradients of mean and variance with respect
// to the first len(dmu) features of x (the refinable ones).
func (g *gp) predictGrad(x []float64, c []int, dmu, dv []float64) (mu, v float64) {
	n := len(g.data.Y)
	m := len(dmu)
	ks := make([]float64, n)
	dk := make([]float64, n*m)
	for i := 0; i < n; i++ {
		xi := g.data.X[i]
		var r2 float64
		for k := range x {
			t := (x[k] - xi[k]) / g.ls[k]
			r2 += t * t
		}
		kb, f := baseKernel(g.kern, r2)
		var mm float64
		for k := range c {
			if c[k] != g.data.C[i][k] {
				mm += 1 / g.cls[k]
			}
		}
		kc := g.scale * math.Exp(-mm)
		ks[i] = kb * kc
		for k := 0; k < m; k++ {
			dk[i*m+k] = -f * kc * (x[k] - xi[k]) / (g.ls[k] * g.ls[k])
		}
	}
	mu = g.mean
	for k := range dmu {
		dmu[k], dv[k] = 0, 0
	}
	// w = K^{-1} k*
	w := make([]float64, n)
	raw := g.kinv.RawSymmetric()
	for i := 0; i < n; i++ {
		var t float64
		for j := 0; j < n; j++ {
			if j < i {
				t += raw.Data[j*raw.Stride+i] * ks[j]
			} else {
				t += raw.Data[i*raw.Stride+j] * ks[j]
			}
		}
		w[i] = t
	}
	var q float64
	for i := 0; i < n; i++ {
		mu += ks[i] * g.alpha[i]
		q += ks[i] * w[i]
		for k := 0; k < m; k++ {
			dmu[k] += g.alpha[i] * dk[i*m+k]
			dv[k] -= 2 * w[i] * dk[i*m+k]
		}
	}
	v = g.scale - q
	if !(v > 1e-12*g.scale) {
		v = 1e-12 * g.scale
		for k := range dv {
			dv[k] = 0
		}
	}
	return mu, v
}

func equalSlices(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// lsPrior is BoTorch's dimension-scaled length-scale prior, LogNormal(√2 +
// ½log d, √3), expressed as the density of log ℓ that MAP fitting in GPyTorch
// effectively uses: the prior is evaluated on ℓ itself, so the Jacobian term
// −log ℓ shifts the Gaussian on log ℓ to centre μ − σ² (the log-normal's
// mode: ℓ ≈ 0.2·√d, e.g. 0.5 for d = 6).
func lsPrior(d float64) (mu, sd float64) {
	return sqrt2 + 0.5*math.Log(d) - 3, sqrt3
}
