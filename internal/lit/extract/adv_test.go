package extract

import (
	"strings"
	"testing"
)

// adversarial are repeated fragments that once made the reader quadratic
// (bracket runs counted again for every token, plain-number lists re-read
// from every member). BenchmarkExtractAdversarial shows the throughput
// stays flat; TestAdversarial checks the invariants on them.
var adversarial = []string{"(", "((FA)", "1,000,", "1-", "10^", "× 10 ", "Cs(", "CsPbI3", "1.5 eV ", "( 1 ",
	"°C/", "cm2/(", "-δ", "Ba0.5", ".", "e.g. ", "1 and ", "1, ", "MA", "Pb²⁺", "band gap ", "of CsPbI3 "}

func TestAdversarial(t *testing.T) {
	for _, unit := range adversarial {
		in := strings.Repeat(unit, 20000/len(unit))
		checkAssertions(t, in, Extract(in))
		for _, m := range Materials(in) {
			if in[m.Start:m.End] != m.Text {
				t.Fatalf("%q: mention %+v", unit, m)
			}
		}
		Concepts(in)
	}
}

func BenchmarkExtractAdversarial(b *testing.B) {
	for _, unit := range adversarial {
		in := strings.Repeat(unit, 200000/len(unit))
		b.Run(strings.TrimSpace(unit), func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			for b.Loop() {
				Extract(in)
				Materials(in)
				Concepts(in)
			}
		})
	}
}
