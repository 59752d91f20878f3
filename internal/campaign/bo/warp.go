package bo

import "math"

// yeoJohnson applies the Yeo-Johnson power transform with parameter lambda.
func yeoJohnson(y, lambda float64) float64 {
	if y >= 0 {
		if math.Abs(lambda) < 1e-9 {
			return math.Log1p(y)
		}
		return (math.Pow(y+1, lambda) - 1) / lambda
	}
	if math.Abs(lambda-2) < 1e-9 {
		return -math.Log1p(-y)
	}
	return -(math.Pow(1-y, 2-lambda) - 1) / (2 - lambda)
}

// yjLogLik is the profile log-likelihood of lambda under a normal model.
func yjLogLik(y []float64, lambda float64) float64 {
	n := float64(len(y))
	t := make([]float64, len(y))
	var m float64
	for i, v := range y {
		t[i] = yeoJohnson(v, lambda)
		m += t[i]
	}
	m /= n
	var ss, jac float64
	for i, v := range y {
		ss += (t[i] - m) * (t[i] - m)
		jac += math.Copysign(1, v) * math.Log1p(math.Abs(v))
	}
	if !(ss > 0) {
		return math.Inf(-1)
	}
	return -0.5*n*math.Log(ss/n) + (lambda-1)*jac
}

// warp standardises y, fits a Yeo-Johnson lambda by maximum likelihood
// (golden-section search on [−2, 4]) and returns the transformed values. The
// transform is monotone increasing, so maximising the warped values maximises
// the originals. With fewer than 4 distinct values it returns y unchanged.
func warp(y []float64) []float64 {
	distinct := map[float64]bool{}
	for _, v := range y {
		distinct[v] = true
	}
	if len(distinct) < 4 {
		return y
	}
	z := standardise(y)
	lo, hi := -2.0, 4.0
	phi := (math.Sqrt(5) - 1) / 2
	a, b := hi-phi*(hi-lo), lo+phi*(hi-lo)
	fa, fb := yjLogLik(z, a), yjLogLik(z, b)
	for it := 0; it < 60; it++ {
		if fa > fb {
			hi, b, fb = b, a, fa
			a = hi - phi*(hi-lo)
			fa = yjLogLik(z, a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + phi*(hi-lo)
			fb = yjLogLik(z, b)
		}
	}
	lambda := (lo + hi) / 2
	out := make([]float64, len(z))
	for i, v := range z {
		out[i] = yeoJohnson(v, lambda)
		if !finite(out[i]) {
			return y
		}
	}
	return out
}
