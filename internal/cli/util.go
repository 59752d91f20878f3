package cli

import (
	"errors"
	"math"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"
)

func pathEscape(s string) string { return url.PathEscape(s) }

// count is n and noun, plural unless n is 1 ("1 file", "2 new chunks").
func count[N ~int | ~int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(int64(n), 10) + " " + noun + "s"
}

// finite is a float flag that refuses NaN and ±Inf when parsed (the server
// refuses out-of-range values, naming the field and the range); a plain
// float flag would pass NaN to the JSON encoder, which cannot send it.
type finite struct{ p *float64 }

func (f finite) String() string {
	if f.p == nil {
		return "0"
	}
	return strconv.FormatFloat(*f.p, 'g', -1, 64)
}

func (f finite) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return errors.New("want a finite number")
	}
	*f.p = v
	return nil
}

func (finite) Type() string { return "float" }

func finiteVar(c *cobra.Command, p *float64, name string, def float64, usage string) {
	*p = def
	c.Flags().Var(finite{p}, name, usage)
}
