// Package testfuncs holds the standard synthetic optimisation problems used to
// test and benchmark package bo: Branin, Hartmann3, Hartmann6, Ackley-5, a
// constrained problem (Gramacy et al. 2016) and BraninCurrin (two objectives).
// The functions are exact transcriptions of the usual definitions (as in
// BoTorch's test_functions); optima are the published ones.
package testfuncs

import (
	"math"

	"github.com/genesis-science/genesis/internal/campaign/bo"
)

// Problem is a synthetic benchmark.
type Problem struct {
	Name   string
	Space  bo.Space
	Goals  []bo.Goal
	Constr []bo.OutcomeConstraint
	// Eval returns the objectives, then the outcome-constraint values.
	Eval func(x []float64) []float64
	// Optimum is the best objective value (single objective), or the maximum
	// hypervolume for several objectives.
	Optimum float64
	// Ref is the hypervolume reference point (several objectives only).
	Ref []float64
}

func box(lo, hi []float64) bo.Space {
	var s bo.Space
	for i := range lo {
		s.Params = append(s.Params, bo.Param{Name: "x" + string(rune('1'+i)), Kind: bo.Continuous, Low: lo[i], High: hi[i]})
	}
	return s
}

func rep(v float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// BraninValue is the Branin-Hoo function on [-5,10]×[0,15].
func BraninValue(x1, x2 float64) float64 {
	b := 5.1 / (4 * math.Pi * math.Pi)
	c := 5 / math.Pi
	t := 1 / (8 * math.Pi)
	u := x2 - b*x1*x1 + c*x1 - 6
	return u*u + 10*(1-t)*math.Cos(x1) + 10
}

// Branin: minimise; optimum 0.397887.
func Branin() Problem {
	return Problem{Name: "branin", Space: box([]float64{-5, 0}, []float64{10, 15}), Goals: []bo.Goal{bo.Minimize},
		Eval: func(x []float64) []float64 { return []float64{BraninValue(x[0], x[1])} }, Optimum: 0.397887357729739}
}

var h3A = [4][3]float64{{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}}
var h3P = [4][3]float64{{0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470}, {0.1091, 0.8732, 0.5547}, {0.0381, 0.5743, 0.8828}}
var hAlpha = [4]float64{1.0, 1.2, 3.0, 3.2}
var h6A = [4][6]float64{
	{10, 3, 17, 3.5, 1.7, 8},
	{0.05, 10, 17, 0.1, 8, 14},
	{3, 3.5, 1.7, 10, 17, 8},
	{17, 8, 0.05, 10, 0.1, 14},
}
var h6P = [4][6]float64{
	{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
	{0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
	{0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
	{0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381},
}

// Hartmann3: minimise on [0,1]³; optimum −3.86278.
func Hartmann3() Problem {
	return Problem{Name: "hartmann3", Space: box(rep(0, 3), rep(1, 3)), Goals: []bo.Goal{bo.Minimize},
		Eval: func(x []float64) []float64 {
			var f float64
			for i := 0; i < 4; i++ {
				var s float64
				for j := 0; j < 3; j++ {
					d := x[j] - h3P[i][j]
					s += h3A[i][j] * d * d
				}
				f -= hAlpha[i] * math.Exp(-s)
			}
			return []float64{f}
		}, Optimum: -3.86278214782076}
}

// Hartmann6Value is the six-dimensional Hartmann function.
func Hartmann6Value(x []float64) float64 {
	var f float64
	for i := 0; i < 4; i++ {
		var s float64
		for j := 0; j < 6; j++ {
			d := x[j] - h6P[i][j]
			s += h6A[i][j] * d * d
		}
		f -= hAlpha[i] * math.Exp(-s)
	}
	return f
}

// Hartmann6: minimise on [0,1]⁶; optimum −3.32237.
func Hartmann6() Problem {
	return Problem{Name: "hartmann6", Space: box(rep(0, 6), rep(1, 6)), Goals: []bo.Goal{bo.Minimize},
		Eval: func(x []float64) []float64 { return []float64{Hartmann6Value(x)} }, Optimum: -3.32236801141551}
}

// Ackley5: minimise on [−32.768, 32.768]⁵; optimum 0 at the origin.
func Ackley5() Problem {
	return Problem{Name: "ackley5", Space: box(rep(-32.768, 5), rep(32.768, 5)), Goals: []bo.Goal{bo.Minimize},
		Eval: func(x []float64) []float64 {
			var s1, s2 float64
			for _, v := range x {
				s1 += v * v
				s2 += math.Cos(2 * math.Pi * v)
			}
			n := float64(len(x))
			return []float64{-20*math.Exp(-0.2*math.Sqrt(s1/n)) - math.Exp(s2/n) + 20 + math.E}
		}, Optimum: 0}
}

// Gramacy is the constrained toy problem of Gramacy et al. (2016): minimise
// x1 + x2 on [0,1]² subject to c1 ≤ 0 and c2 ≤ 0; optimum ≈ 0.5998.
func Gramacy() Problem {
	return Problem{Name: "gramacy-constrained", Space: box(rep(0, 2), rep(1, 2)), Goals: []bo.Goal{bo.Minimize},
		Constr: []bo.OutcomeConstraint{{Name: "c1", Rel: bo.LessEq, Bound: 0}, {Name: "c2", Rel: bo.LessEq, Bound: 0}},
		Eval: func(x []float64) []float64 {
			c1 := 1.5 - x[0] - 2*x[1] - 0.5*math.Sin(2*math.Pi*(x[0]*x[0]-2*x[1]))
			c2 := x[0]*x[0] + x[1]*x[1] - 1.5
			return []float64{x[0] + x[1], c1, c2}
		}, Optimum: 0.5998}
}

// BraninCurrin is BoTorch's two-objective problem on [0,1]² (both minimised).
// With reference point (18, 6) the maximum hypervolume is 59.36.
func BraninCurrin() Problem {
	return Problem{Name: "branincurrin", Space: box(rep(0, 2), rep(1, 2)), Goals: []bo.Goal{bo.Minimize, bo.Minimize},
		Eval: func(x []float64) []float64 {
			f1 := BraninValue(15*x[0]-5, 15*x[1])
			a, b := x[0], x[1]
			f2 := (1 - math.Exp(-1/(2*b))) * (2300*a*a*a + 1900*a*a + 2092*a + 60) / (100*a*a*a + 500*a*a + 4*a + 20)
			return []float64{f1, f2}
		}, Optimum: 59.36011874867746, Ref: []float64{18, 6}}
}

// All returns every problem.
func All() []Problem {
	return []Problem{Branin(), Hartmann3(), Hartmann6(), Ackley5(), Gramacy(), BraninCurrin()}
}
