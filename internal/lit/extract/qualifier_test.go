package extract

import (
	"testing"

	"github.com/genesis-science/genesis/internal/lit"
)

// A cation word before a binary salt's name makes another compound: the
// fact is not the salt's ("formamidinium-caesium lead iodide … 1.55 eV" is
// no band gap of PbI2), while the salt alone and the table's own
// perovskite names keep their formulas.
func TestCationQualifier(t *testing.T) {
	for _, tc := range []struct{ text, material, formula string }{
		{"Formamidinium-caesium lead iodide absorbers with a band gap of 1.55 eV reach 24 % efficiency.", "Formamidinium-caesium lead iodide", ""},
		{"Caesium lead iodide has a band gap of 1.73 eV.", "Caesium lead iodide", "CsPbI3"},
		{"Lead iodide has a band gap of 2.3 eV.", "Lead iodide", "PbI2"},
		{"The band gap of lead iodide is 2.3 eV.", "lead iodide", "PbI2"},
		{"Methylammonium lead iodide has a band gap of 1.6 eV.", "Methylammonium lead iodide", "CH3NH3PbI3"},
	} {
		var bg []lit.Assertion
		for _, a := range Extract(tc.text) {
			if a.Property == "band_gap" {
				bg = append(bg, a)
			}
		}
		if len(bg) != 1 {
			t.Errorf("%q: %+v, want one band_gap", tc.text, bg)
			continue
		}
		if bg[0].Material != tc.material || bg[0].Formula != tc.formula {
			t.Errorf("%q: material %q formula %q, want %q %q", tc.text, bg[0].Material, bg[0].Formula, tc.material, tc.formula)
		}
	}
}
