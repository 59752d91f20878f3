package bo

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randData(rng *rand.Rand, n, dim, nc int) gpData {
	d := gpData{dim: dim, nc: nc}
	for i := 0; i < n; i++ {
		x := make([]float64, dim)
		for k := range x {
			x[k] = rng.Float64()
		}
		c := make([]int, nc)
		for k := range c {
			c[k] = rng.IntN(3)
		}
		d.X = append(d.X, x)
		d.C = append(d.C, c)
		d.Y = append(d.Y, math.Sin(3*x[0])+0.1*rng.NormFloat64())
	}
	return d
}

// The posterior of a GP on one or two points has a closed form.
func TestGPPosteriorClosedForm(t *testing.T) {
	for _, kern := range []KernelType{Matern52, RBF} {
		data := gpData{X: [][]float64{{0.2}, {0.7}}, C: [][]int{{}, {}}, Y: []float64{1, -0.5}, dim: 1}
		ls, s, noise, mean := 0.3, 1.5, 0.01, 0.25
		h := hyper{math.Log(ls), math.Log(s), math.Log(noise - noiseFloor), mean}
		g := newGP(kern, data, h)
		k := func(a, b float64) float64 {
			r := math.Abs(a-b) / ls
			if kern == RBF {
				return s * math.Exp(-0.5*r*r)
			}
			return s * (1 + sqrt5*r + 5*r*r/3) * math.Exp(-sqrt5*r)
		}
		// Hand-computed 2×2 inverse.
		a, b, d := k(0.2, 0.2)+noise, k(0.2, 0.7), k(0.7, 0.7)+noise
		det := a*d - b*b
		inv := [2][2]float64{{d / det, -b / det}, {-b / det, a / det}}
		for _, x := range []float64{0, 0.2, 0.45, 0.9} {
			ks := [2]float64{k(x, 0.2), k(x, 0.7)}
			r := [2]float64{1 - mean, -0.5 - mean}
			wantMu := mean
			wantV := k(x, x)
			for i := 0; i < 2; i++ {
				for j := 0; j < 2; j++ {
					wantMu += ks[i] * inv[i][j] * r[j]
					wantV -= ks[i] * inv[i][j] * ks[j]
				}
			}
			mu, v := g.predict([]float64{x}, nil)
			if math.Abs(mu-wantMu) > 1e-10 || math.Abs(v-wantV) > 1e-10 {
				t.Errorf("%s x=%v: got (%v, %v), want (%v, %v)", kern, x, mu, v, wantMu, wantV)
			}
		}
	}
}

func TestLogMarginalLikelihoodClosedForm(t *testing.T) {
	// One point: log N(y; mean, s+noise) plus the prior.
	data := gpData{X: [][]float64{{0.5}}, C: [][]int{{}}, Y: []float64{0.8}, dim: 1}
	h := hyper{math.Log(0.4), math.Log(2), math.Log(0.05), 0.1}
	pr := newPairs(&data)
	got := -negLogPost(Matern52, &data, pr, h, make([]float64, len(h)))
	v := 2 + 0.05 + noiseFloor
	want := -0.5*(0.8-0.1)*(0.8-0.1)/v - 0.5*math.Log(v) - 0.5*log2Pi
	want += logPrior(h, 1, 0, 1, make([]float64, len(h)))
	if math.Abs(got-want) > 1e-10 {
		t.Fatalf("log posterior %v, want %v", got, want)
	}
}

func TestNegLogPostGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, kern := range []KernelType{Matern52, RBF} {
		for trial := 0; trial < 5; trial++ {
			data := randData(rng, 12, 3, 2)
			pr := newPairs(&data)
			h := priorSample(3, 2, 3+2, rng)
			h[len(h)-2] = math.Log(0.05) // well-conditioned: no jitter
			g := make([]float64, len(h))
			f0 := negLogPost(kern, &data, pr, h, g)
			if math.IsInf(f0, 0) {
				t.Fatal("infinite objective")
			}
			for i := range h {
				const eps = 1e-6
				hp := append(hyper(nil), h...)
				hm := append(hyper(nil), h...)
				hp[i] += eps
				hm[i] -= eps
				fd := (negLogPost(kern, &data, pr, hp, make([]float64, len(h))) - negLogPost(kern, &data, pr, hm, make([]float64, len(h)))) / (2 * eps)
				if math.Abs(fd-g[i]) > 1e-4*math.Max(1, math.Abs(fd)) {
					t.Errorf("%s param %d: analytic %v, finite difference %v", kern, i, g[i], fd)
				}
			}
		}
	}
}

func TestPredictGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, kern := range []KernelType{Matern52, RBF} {
		data := randData(rng, 15, 3, 1)
		g := newGP(kern, data, priorSample(3, 1, 3+1, rng))
		for trial := 0; trial < 10; trial++ {
			x := []float64{rng.Float64(), rng.Float64(), rng.Float64()}
			c := []int{rng.IntN(3)}
			dmu, dv := make([]float64, 3), make([]float64, 3)
			mu, v := g.predictGrad(x, c, dmu, dv)
			mu2, v2 := g.predict(x, c)
			if math.Abs(mu-mu2) > 1e-10 || math.Abs(v-v2) > 1e-10 {
				t.Fatalf("predictGrad and predict disagree")
			}
			for k := 0; k < 3; k++ {
				const eps = 1e-6
				xp := append([]float64(nil), x...)
				xm := append([]float64(nil), x...)
				xp[k] += eps
				xm[k] -= eps
				mp, vp := g.predict(xp, c)
				mm, vm := g.predict(xm, c)
				if fd := (mp - mm) / (2 * eps); math.Abs(fd-dmu[k]) > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Errorf("%s dmu[%d]: %v vs fd %v", kern, k, dmu[k], fd)
				}
				if fd := (vp - vm) / (2 * eps); v > 1e-6 && math.Abs(fd-dv[k]) > 1e-5*math.Max(1, math.Abs(fd)) {
					t.Errorf("%s dv[%d]: %v vs fd %v", kern, k, dv[k], fd)
				}
			}
		}
	}
}

func TestFitRecoversSmoothFunction(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	data := gpData{dim: 2}
	for i := 0; i < 30; i++ {
		x := []float64{rng.Float64(), rng.Float64()}
		data.X = append(data.X, x)
		data.C = append(data.C, nil)
		data.Y = append(data.Y, math.Sin(4*x[0])+x[1]*x[1])
	}
	data.Y = standardise(data.Y)
	g := fitGP(Matern52, data, nil, 2, rng)
	// Interpolates the training data closely and generalises: the held-out
	// error is far below the spread of the data (standardised to sd 1).
	var raw []float64
	for _, x := range data.X {
		raw = append(raw, math.Sin(4*x[0])+x[1]*x[1])
	}
	m, sd := meanSD(raw)
	var se float64
	for i := 0; i < 200; i++ {
		x := []float64{rng.Float64(), rng.Float64()}
		mu, _ := g.predict(x, nil)
		want := (math.Sin(4*x[0]) + x[1]*x[1] - m) / sd
		se += (mu - want) * (mu - want)
	}
	if rmse := math.Sqrt(se / 200); rmse > 0.1 {
		t.Errorf("held-out RMSE %v (standardised units)", rmse)
	}
	for i, x := range data.X {
		mu, _ := g.predict(x, nil)
		if math.Abs(mu-data.Y[i]) > 0.05 {
			t.Errorf("training point %d: mean %v, y %v", i, mu, data.Y[i])
		}
	}
	if g.noise > 1e-2 {
		t.Errorf("noise %v fitted on noiseless data", g.noise)
	}
}

// Duplicate points and zero noise make K singular: the jitter ladder must
// still give finite predictions.
func TestJitterLadderNeverNaN(t *testing.T) {
	data := gpData{dim: 1, X: [][]float64{{0.5}, {0.5}, {0.5}, {0.5000000001}}, C: make([][]int, 4), Y: []float64{1, 1, 1, 1}}
	h := hyper{math.Log(10), math.Log(1e3), math.Log(1e-10), 0}
	g := newGP(Matern52, data, h)
	mu, v := g.predict([]float64{0.3}, nil)
	if !finite(mu) || !finite(v) || v < 0 {
		t.Fatalf("got mu=%v v=%v", mu, v)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	g = fitGP(Matern52, data, nil, 2, rng)
	mu, v = g.predict([]float64{0.3}, nil)
	if !finite(mu) || !finite(v) {
		t.Fatalf("fitted: got mu=%v v=%v", mu, v)
	}
	// Non-finite inputs must not panic either.
	bad := gpData{dim: 1, X: [][]float64{{math.NaN()}, {0.2}}, C: make([][]int, 2), Y: []float64{0, 1}}
	_ = fitGP(RBF, bad, nil, 1, rng)
}

func TestLogEIMatchesEI(t *testing.T) {
	for _, sigma := range []float64{0.1, 1, 3} {
		for z := -5.0; z <= 5; z += 0.25 {
			mu := 1 + z*sigma
			got, _, _ := logEI(mu, sigma, 1)
			want := math.Log(ei(mu, sigma, 1))
			if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
				t.Errorf("sigma=%v z=%v: logEI %v, log(EI) %v", sigma, z, got, want)
			}
		}
	}
}

func TestLogEIStableInTail(t *testing.T) {
	prev := math.Inf(1)
	for z := -1.0; z > -1e6; z *= 1.3 {
		v, dmu, _ := logEI(z, 1, 0)
		if !finite(v) || !finite(dmu) || dmu <= 0 {
			t.Fatalf("z=%v: logEI=%v dmu=%v", z, v, dmu)
		}
		if v >= prev {
			t.Fatalf("logEI not decreasing at z=%v", z)
		}
		prev = v
	}
	// Asymptote: log h(z) ≈ −z²/2 − log√(2π) − 2 log|z|.
	z := -40.0
	want := -0.5*z*z - c1 - 2*math.Log(-z)
	if got := logH(z); math.Abs(got-want) > 1e-2 {
		t.Errorf("logH(%v)=%v, asymptote %v", z, got, want)
	}
}

func TestLogEIGradient(t *testing.T) {
	for _, z := range []float64{-30, -8, -2, -1, -0.5, 0, 1, 4} {
		mu, sigma, best := z*0.7, 0.7, 0.0
		_, dmu, ds := logEI(mu, sigma, best)
		const eps = 1e-6
		fp, _, _ := logEI(mu+eps, sigma, best)
		fm, _, _ := logEI(mu-eps, sigma, best)
		if fd := (fp - fm) / (2 * eps); math.Abs(fd-dmu) > 1e-5*math.Max(1, math.Abs(fd)) {
			t.Errorf("z=%v dmu %v fd %v", z, dmu, fd)
		}
		fp, _, _ = logEI(mu, sigma+eps, best)
		fm, _, _ = logEI(mu, sigma-eps, best)
		if fd := (fp - fm) / (2 * eps); math.Abs(fd-ds) > 1e-5*math.Max(1, math.Abs(fd)) {
			t.Errorf("z=%v dsigma %v fd %v", z, ds, fd)
		}
	}
}

func TestLogPhi(t *testing.T) {
	for z := -8.0; z < 8; z += 0.5 {
		want := math.Log(0.5 * math.Erfc(-z/math.Sqrt2))
		if got := logPhi(z); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("logPhi(%v)=%v want %v", z, got, want)
		}
		const eps = 1e-6
		if fd := (logPhi(z+eps) - logPhi(z-eps)) / (2 * eps); math.Abs(fd-dLogPhi(z)) > 1e-5*math.Max(1, fd) {
			t.Errorf("dLogPhi(%v)=%v fd %v", z, dLogPhi(z), fd)
		}
	}
	if v := logPhi(-1e4); !finite(v) {
		t.Errorf("logPhi(-1e4) = %v", v)
	}
}

func TestAcquisitionGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	data := randData(rng, 10, 2, 0)
	obj := newGP(Matern52, data, priorSample(2, 0, 2+0, rng))
	cdata := randData(rng, 10, 2, 0)
	cdata.X = data.X
	con := newGP(Matern52, cdata, priorSample(2, 0, 2+0, rng))
	for _, kind := range []Acquisition{LogEI, UCB} {
		a := &acqModel{kind: kind, beta: 2, obj: obj, best: 0.5, hasBest: true, cons: []*gp{con}, consB: []float64{0.2}, nRef: 2}
		for trial := 0; trial < 10; trial++ {
			x := []float64{rng.Float64(), rng.Float64()}
			g := make([]float64, 2)
			a.value(x, nil, g)
			for k := 0; k < 2; k++ {
				const eps = 1e-6
				xp := append([]float64(nil), x...)
				xm := append([]float64(nil), x...)
				xp[k] += eps
				xm[k] -= eps
				fd := (a.value(xp, nil, nil) - a.value(xm, nil, nil)) / (2 * eps)
				if math.Abs(fd-g[k]) > 1e-4*math.Max(1, math.Abs(fd)) {
					t.Errorf("%s grad[%d] %v fd %v at %v", kind, k, g[k], fd, x)
				}
			}
		}
	}
}

func TestReduceDescriptors(t *testing.T) {
	// Rows that differ along one direction only (plus a constant column)
	// reduce to one informative component whose distances match the data's.
	desc := [][]float64{{1, 2, 7}, {2, 4, 7}, {4, 8, 7}}
	r := ReduceDescriptors(desc, 5)
	if len(r) != 3 || len(r[0]) != 2 {
		t.Fatalf("got shape %dx%d, want 3x2", len(r), len(r[0]))
	}
	if math.Abs(r[0][1]) > 1e-9 || math.Abs(r[2][1]) > 1e-9 {
		t.Errorf("second component should be zero: %v", r)
	}
	d01, d12 := math.Abs(r[0][0]-r[1][0]), math.Abs(r[1][0]-r[2][0])
	if math.Abs(d12/d01-2) > 1e-9 {
		t.Errorf("distance ratio %v, want 2", d12/d01)
	}
}

func TestWarp(t *testing.T) {
	// Skewed data (many near zero, a few large) becomes more symmetric, and
	// the transform keeps the order.
	rng := rand.New(rand.NewPCG(9, 9))
	var y []float64
	for i := 0; i < 60; i++ {
		y = append(y, math.Exp(2*rng.NormFloat64()))
	}
	w := warp(y)
	skew := func(v []float64) float64 {
		m, sd := meanSD(v)
		var s float64
		for _, x := range v {
			s += math.Pow((x-m)/sd, 3)
		}
		return s / float64(len(v))
	}
	if math.Abs(skew(w)) > math.Abs(skew(y))/3 {
		t.Errorf("skew %v -> %v", skew(y), skew(w))
	}
	for i := range y {
		for j := range y {
			if (y[i] < y[j]) != (w[i] < w[j]) {
				t.Fatalf("order changed at %d,%d", i, j)
			}
		}
	}
	for _, lambda := range []float64{-1, 0, 0.5, 2, 3} {
		for _, v := range []float64{-3, -0.5, 0, 0.5, 3} {
			if got := yeoJohnson(v, lambda); !finite(got) {
				t.Errorf("yeoJohnson(%v, %v) = %v", v, lambda, got)
			}
		}
	}
}

// The first 2^k Sobol points put exactly one point in each interval
// [j/2^k, (j+1)/2^k) of every coordinate (a (0,k,1)-net per dimension), and
// the dimension-2 projections are (t,k,2)-nets with small t; check the 1-D
// property for every dimension and a known 2-D value.
func TestSobolStratification(t *testing.T) {
	for _, seed := range []uint64{0, 1, 99} {
		const k = 6
		pts := sobol(1<<k, MaxSobolDim, seed)
		for j := 0; j < MaxSobolDim; j++ {
			seen := make([]bool, 1<<k)
			for _, p := range pts {
				if p[j] < 0 || p[j] >= 1 {
					t.Fatalf("dim %d: %v outside [0,1)", j, p[j])
				}
				c := int(p[j] * (1 << k))
				if seen[c] {
					t.Fatalf("seed %d dim %d: interval %d holds two points", seed, j, c)
				}
				seen[c] = true
			}
		}
	}
	// Unshifted, the sequence starts 0, 1/2, then (3/4, 1/4) in dims 0 and 1.
	d0, d1 := directions(0), directions(1)
	if d0[1] != 1<<31 || d1[1] != 1<<31 || d1[2]^d1[1] != 1<<30 {
		t.Errorf("direction numbers: %x %x %x", d0[1], d1[1], d1[2])
	}
	a, b := sobol(20, 5, 7), sobol(7, 5, 7)
	for i := range b {
		for j := range b[i] {
			if a[i][j] != b[i][j] {
				t.Fatal("not prefix-consistent")
			}
		}
	}
}
