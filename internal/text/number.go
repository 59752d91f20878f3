package text

import (
	"math"
	"strconv"
)

// Number checks that v is a finite number in [lo, hi]: NaN, ±Inf and
// out-of-range values (1e300 kW, negative counts) are refused naming the
// field and the allowed range.
func Number(field string, v, lo, hi float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return invalid(field, "must be a finite number from "+fmtF(lo)+" to "+fmtF(hi))
	}
	if v < lo || v > hi {
		return invalid(field, "must be from "+fmtF(lo)+" to "+fmtF(hi)+", not "+fmtF(v))
	}
	return nil
}

// Integer checks that v is in [lo, hi].
func Integer(field string, v, lo, hi int64) error {
	if v < lo || v > hi {
		return invalid(field, "must be from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10)+", not "+strconv.FormatInt(v, 10))
	}
	return nil
}

func fmtF(v float64) string {
	if math.Abs(v) >= 1e15 {
		return strconv.FormatFloat(v, 'g', 4, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
