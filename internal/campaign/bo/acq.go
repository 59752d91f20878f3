package bo

import "math"

// Acquisition names an acquisition function.
type Acquisition string

const (
	LogEI    Acquisition = "logei"
	UCB      Acquisition = "ucb"
	Thompson Acquisition = "thompson"
)

var (
	invSqrt2   = 1 / math.Sqrt2
	c1         = 0.5 * math.Log(2*math.Pi) // log √(2π)
	c2         = 0.5 * math.Log(math.Pi/2) // log √(π/2)
	sqrt2OverP = math.Sqrt(2 / math.Pi)    // √(2/π)
	invSqrtEps = 1 / math.Sqrt(0x1p-52)    // 1/√ε
	invSqrtPi  = 1 / math.Sqrt(math.Pi)    //
	invSqrt2Pi = 1 / math.Sqrt(2*math.Pi)  //
)

// erfcx is the scaled complementary error function exp(x²)·erfc(x), accurate
// for all x (it overflows to +Inf only for x < about -26.6).
func erfcx(x float64) float64 {
	switch {
	case x < 0:
		if x < -26.6 {
			return math.Inf(1)
		}
		return 2*math.Exp(x*x) - erfcx(-x)
	case x < 25:
		return math.Exp(x*x) * math.Erfc(x)
	default:
		// Asymptotic series; the terms shrink fast for x ≥ 25.
		x2 := x * x
		return invSqrtPi / x * (1 - 1/(2*x2) + 3/(4*x2*x2) - 15/(8*x2*x2*x2))
	}
}

// log1mexp computes log(1 − exp(x)) for x < 0 stably.
func log1mexp(x float64) float64 {
	if x > -math.Ln2 {
		return math.Log(-math.Expm1(x))
	}
	return math.Log1p(-math.Exp(x))
}

// logPhi is log Φ(z), the log standard normal CDF, stable in both tails.
func logPhi(z float64) float64 {
	if z > -5 {
		return math.Log(0.5 * math.Erfc(-z*invSqrt2))
	}
	t := -z * invSqrt2
	return math.Log(erfcx(t)) - t*t - math.Ln2
}

// dLogPhi is d/dz log Φ(z) = φ(z)/Φ(z) (the inverse Mills ratio).
func dLogPhi(z float64) float64 {
	if z > 38 {
		return 0
	}
	return sqrt2OverP / erfcx(-z*invSqrt2)
}

// logH is log h(z) with h(z) = φ(z) + zΦ(z), computed as in Ament et al.
// (2023), "Unexpected improvements to expected improvement", eq. (9).
func logH(z float64) float64 {
	switch {
	case z > -1:
		return math.Log(invSqrt2Pi*math.Exp(-0.5*z*z) + z*0.5*math.Erfc(-z*invSqrt2))
	case z > -invSqrtEps:
		return -0.5*z*z - c1 + log1mexp(math.Log(erfcx(-z*invSqrt2)*math.Abs(z))+c2)
	default:
		return -0.5*z*z - c1 - 2*math.Log(math.Abs(z))
	}
}

// dLogH is d/dz log h(z) = Φ(z)/h(z).
func dLogH(z float64) float64 {
	return math.Exp(logPhi(z) - logH(z))
}

// logEI returns log E[max(f − best, 0)] for f ~ N(mu, sigma²), and its partial
// derivatives with respect to mu and sigma.
func logEI(mu, sigma, best float64) (v, dmu, dsigma float64) {
	z := (mu - best) / sigma
	lh := logH(z)
	dl := dLogH(z)
	v = lh + math.Log(sigma)
	dmu = dl / sigma
	dsigma = -dl*z/sigma + 1/sigma
	return v, dmu, dsigma
}

// ei is the plain expected improvement, for tests where it is stable.
func ei(mu, sigma, best float64) float64 {
	z := (mu - best) / sigma
	return sigma * (invSqrt2Pi*math.Exp(-0.5*z*z) + z*0.5*math.Erfc(-z*invSqrt2))
}
