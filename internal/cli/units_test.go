package cli

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestByteUnits: the progress bar and the summaries count bytes in the
// same (binary) units, for sizes across every unit.
func TestByteUnits(t *testing.T) {
	unit := regexp.MustCompile(`[0-9] ?([kKMGTPE]i?B|B)\b`)
	r := rand.New(rand.NewPCG(5, 6))
	for i := 0; i < 200; i++ {
		n := r.Int64N(1 << (10 + r.IntN(31)))
		var b strings.Builder
		bar := newProgressBar(&b, n, "put")
		bar.Add64(n / 2)
		bar.RenderBlank()
		out := b.String() + " " + humanBytes(n)
		units := unit.FindAllStringSubmatch(out, -1)
		if len(units) == 0 {
			t.Fatalf("%d bytes: no unit in %q", n, out)
		}
		for _, u := range units {
			if u[1] != "B" && !strings.HasSuffix(u[1], "iB") {
				t.Fatalf("%d bytes: unit %s is not binary in %q", n, u[1], out)
			}
		}
	}
}
