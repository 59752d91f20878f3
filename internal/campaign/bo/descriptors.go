package bo

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// ReduceDescriptors compresses a descriptor table (one row per category, many
// columns, e.g. DFT features) to at most k principal-component scores per
// category: constant columns are dropped, the rest standardised, and the
// scores of the leading components returned. With c categories there are at
// most c−1 informative components. ARD length-scales on hundreds of raw
// columns cannot be fitted from a few dozen experiments; a handful of scores can.
func ReduceDescriptors(desc [][]float64, k int) [][]float64 {
	n := len(desc)
	if n == 0 || k < 1 {
		return nil
	}
	var cols [][]float64
	for j := range desc[0] {
		c := make([]float64, n)
		var m float64
		for i := range desc {
			c[i] = desc[i][j]
			m += c[i]
		}
		m /= float64(n)
		var ss float64
		for i := range c {
			c[i] -= m
			ss += c[i] * c[i]
		}
		sd := math.Sqrt(ss / float64(n))
		if !(sd > 1e-12*math.Max(1, math.Abs(m))) || !finite(sd) {
			continue
		}
		for i := range c {
			c[i] /= sd
		}
		cols = append(cols, c)
	}
	k = min(k, n-1, len(cols))
	out := make([][]float64, n)
	if k < 1 {
		for i := range out {
			out[i] = []float64{float64(i)}
		}
		return out
	}
	a := mat.NewDense(n, len(cols), nil)
	for j, c := range cols {
		for i, v := range c {
			a.Set(i, j, v)
		}
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		for i := range out {
			out[i] = append([]float64(nil), a.RawRowView(i)[:k]...)
		}
		return out
	}
	var u mat.Dense
	svd.UTo(&u)
	s := svd.Values(nil)
	for i := range out {
		out[i] = make([]float64, k)
		for j := 0; j < k; j++ {
			out[i][j] = u.At(i, j) * s[j]
		}
	}
	return out
}
