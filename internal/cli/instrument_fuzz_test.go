package cli

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab/instruments"
)

// FuzzParseBound checks --bound: an accepted ACTION.PARAM.KIND=VALUE sets
// exactly that bound of that parameter (min/max to the number the value
// parses to, choices to the |-separated list) and nothing else; anything
// else is Invalid naming --bound and leaves the bounds as they were.
func FuzzParseBound(f *testing.F) {
	for _, s := range []string{"heat.temperature.max=120", "heat.temperature.min=-1e3", "heat.catalyst.choices=Pd|Ni", "heat.catalyst.choices=",
		"heat.temperature", "heat..max=1", ".t.max=1", "a.b.c.max=1", "a.b.mid=1", "a.b.max=x", "a.b.max=NaN", "a.b.max=1=2", "=", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := instruments.Bounds{}
		err := parseBound(b, s)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "bound" {
				t.Fatalf("%q: %v", s, err)
			}
			for _, m := range b {
				if len(m) > 0 {
					t.Fatalf("%q: refused but set %v", s, b)
				}
			}
			return
		}
		key, val, _ := strings.Cut(s, "=")
		parts := strings.Split(key, ".")
		if len(parts) != 3 || len(b) != 1 || len(b[parts[0]]) != 1 {
			t.Fatalf("%q: set %v", s, b)
		}
		bd := b[parts[0]][parts[1]]
		switch parts[2] {
		case "min", "max":
			want, _ := strconv.ParseFloat(val, 64)
			got := bd.Min
			if parts[2] == "max" {
				got = bd.Max
			}
			if got == nil || !(*got == want || math.IsNaN(*got) && math.IsNaN(want)) || bd.Choices != nil {
				t.Fatalf("%q: bound %+v", s, bd)
			}
		case "choices":
			if strings.Join(bd.Choices, "|") != val || bd.Min != nil || bd.Max != nil {
				t.Fatalf("%q: bound %+v", s, bd)
			}
		default:
			t.Fatalf("%q accepted", s)
		}
	})
}
