package partners_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission/partners"
)

// FuzzParseWindow: a window parses to a whole number of its unit between
// one hour and ten years, and printing it back in hours parses to itself;
// anything else is Invalid naming the field.
func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"60d", "60", "8w", "36h", "0d", "1h", "3650d", "3651d", "-5d", "1.5d", "d", "", " 7d ", "9999999999999999999w", "60D", "٣d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := partners.ParseWindow(s)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "expiring" {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if d < time.Hour || d > partners.MaxExpiringWithin || d%time.Hour != 0 {
			t.Fatalf("%q → %v out of range", s, d)
		}
		again, err := partners.ParseWindow(strconv.FormatInt(int64(d/time.Hour), 10) + "h")
		if err != nil || again != d {
			t.Fatalf("%q → %v, printed back %v, %v", s, d, again, err)
		}
	})
}

func TestParseWindow(t *testing.T) {
	for s, want := range map[string]time.Duration{"60d": 60 * 24 * time.Hour, "60": 60 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour, " 7D ": 7 * 24 * time.Hour} {
		if got, err := partners.ParseWindow(s); err != nil || got != want {
			t.Errorf("%q: %v, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "0d", "0h", "-1d", "1.5d", "3651d", "60m", "d", "99999999999999999999d", "6O d"} {
		if _, err := partners.ParseWindow(s); !errors.Is(errors.Invalid, err) {
			t.Errorf("%q accepted", s)
		}
	}
}
