package extract

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// unitRef is the reference model for Normalize: a unit of a property, and
// the factor and offset that take a value in it to the canonical unit,
// written out by hand (not computed from the unit reader's tables).
type unitRef struct {
	property, unit string
	factor, offset float64
}

var unitRefs = []unitRef{
	{"band_gap", "eV", 1, 0}, {"band_gap", "meV", 1e-3, 0}, {"band_gap", "keV", 1e3, 0},
	{"band_gap", "J", 1 / 1.602176634e-19, 0},
	{"yield", "%", 1, 0}, {"yield", "percent", 1, 0}, {"yield", "per cent", 1, 0},
	{"efficiency", "%", 1, 0},
	{"fill_factor", "%", 1, 0}, {"fill_factor", "", 100, 0},
	{"conductivity", "S/cm", 1, 0}, {"conductivity", "S cm-1", 1, 0}, {"conductivity", "S cm⁻¹", 1, 0},
	{"conductivity", "S·cm−1", 1, 0}, {"conductivity", "S/m", 0.01, 0}, {"conductivity", "mS/cm", 1e-3, 0},
	{"conductivity", "mS cm-1", 1e-3, 0}, {"conductivity", "µS/cm", 1e-6, 0},
	{"mobility", "cm2/(V s)", 1, 0}, {"mobility", "cm2 V-1 s-1", 1, 0}, {"mobility", "cm²/(V·s)", 1, 0},
	{"mobility", "cm^2/V·s", 1, 0}, {"mobility", "cm2/Vs", 1, 0}, {"mobility", "cm² V⁻¹ s⁻¹", 1, 0},
	{"mobility", "m2/(V s)", 1e4, 0}, {"mobility", "m2 V-1 s-1", 1e4, 0},
	{"lattice_constant", "Å", 1, 0}, {"lattice_constant", "\u212b", 1, 0}, {"lattice_constant", "nm", 10, 0},
	{"lattice_constant", "pm", 0.01, 0},
	{"melting_point", "K", 1, 0}, {"melting_point", "°C", 1, 273.15}, {"melting_point", "℃", 1, 273.15},
	{"melting_point", "°F", 5.0 / 9, 273.15 - 32*5.0/9},
	{"temperature", "K", 1, 0}, {"temperature", "°C", 1, 273.15},
	{"pressure", "Pa", 1, 0}, {"pressure", "kPa", 1e3, 0}, {"pressure", "MPa", 1e6, 0}, {"pressure", "GPa", 1e9, 0},
	{"pressure", "bar", 1e5, 0}, {"pressure", "mbar", 100, 0}, {"pressure", "atm", 101325, 0},
	{"pressure", "Torr", 101325.0 / 760, 0}, {"pressure", "mTorr", 101325.0 / 760 / 1000, 0},
	{"time", "s", 1, 0}, {"time", "min", 60, 0}, {"time", "h", 3600, 0}, {"time", "hours", 3600, 0},
	{"time", "ms", 1e-3, 0}, {"time", "d", 86400, 0},
	{"density", "g/cm3", 1, 0}, {"density", "g cm-3", 1, 0}, {"density", "g cm⁻³", 1, 0},
	{"density", "kg/m3", 1e-3, 0}, {"density", "g/mL", 1, 0},
	{"capacity", "mAh/g", 1, 0}, {"capacity", "mAh g-1", 1, 0}, {"capacity", "mA h g−1", 1, 0},
	{"capacity", "Ah/kg", 1, 0},
	{"voltage", "V", 1, 0}, {"voltage", "mV", 1e-3, 0},
	{"thickness", "nm", 1, 0}, {"thickness", "µm", 1e3, 0}, {"thickness", "μm", 1e3, 0}, {"thickness", "um", 1e3, 0},
	{"thickness", "mm", 1e6, 0}, {"thickness", "Å", 0.1, 0},
	{"surface_area", "m2/g", 1, 0}, {"surface_area", "m² g⁻¹", 1, 0}, {"surface_area", "m2 g-1", 1, 0},
	{"surface_area", "cm2/g", 1e-4, 0},
	{"resistivity", "Ω cm", 1, 0}, {"resistivity", "Ω m", 100, 0}, {"resistivity", "mΩ cm", 1e-3, 0},
	{"resistivity", "ohm cm", 1, 0},
	{"thermal_conductivity", "W/(m K)", 1, 0}, {"thermal_conductivity", "W m-1 K-1", 1, 0},
	{"thermal_conductivity", "W/mK", 1, 0}, {"thermal_conductivity", "W/m·K", 1, 0},
	{"elastic_modulus", "GPa", 1, 0}, {"elastic_modulus", "MPa", 1e-3, 0}, {"elastic_modulus", "TPa", 1e3, 0},
	{"short_circuit_current_density", "mA/cm2", 1, 0}, {"short_circuit_current_density", "mA cm-2", 1, 0},
	{"short_circuit_current_density", "A/m2", 0.1, 0},
	{"carrier_lifetime", "s", 1, 0}, {"carrier_lifetime", "ns", 1e-9, 0}, {"carrier_lifetime", "µs", 1e-6, 0},
	{"specific_capacitance", "F/g", 1, 0}, {"specific_capacitance", "F g-1", 1, 0},
	{"energy_density", "Wh/kg", 1, 0}, {"energy_density", "Wh kg-1", 1, 0},
	{"seebeck_coefficient", "µV/K", 1, 0}, {"seebeck_coefficient", "mV/K", 1e3, 0},
	{"carrier_concentration", "cm-3", 1, 0}, {"carrier_concentration", "cm⁻³", 1, 0}, {"carrier_concentration", "m-3", 1e-6, 0},
	{"hydrogen_evolution_rate", "mmol h-1 g-1", 1, 0}, {"hydrogen_evolution_rate", "µmol h-1 g-1", 1e-3, 0},
	{"sheet_resistance", "Ω/sq", 1, 0}, {"sheet_resistance", "ohm/sq", 1, 0},
	{"dielectric_constant", "", 1, 0},
	{"contact_angle", "°", 1, 0},
}

func relClose(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
}

// TestNormalizeReference checks Normalize against the hand-written model
// on random values.
func TestNormalizeReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, r := range unitRefs {
		for i := 0; i < 50; i++ {
			v := (rng.Float64() - 0.3) * math.Pow(10, float64(rng.IntN(12)-6))
			got, unit, err := Normalize(r.property, v, r.unit)
			if err != nil {
				t.Fatalf("Normalize(%s, %g, %q): %v", r.property, v, r.unit, err)
			}
			if unit != properties[r.property].unit {
				t.Fatalf("Normalize(%s, …, %q) unit %q, want %q", r.property, r.unit, unit, properties[r.property].unit)
			}
			want := v*r.factor + r.offset
			if !relClose(got, want) && math.Abs(got-want) > 1e-9 {
				t.Fatalf("Normalize(%s, %g, %q) = %g, want %g", r.property, v, r.unit, got, want)
			}
		}
	}
}

// TestNormalizeRoundTrip: a value converted from any unit of a property to
// any other (through the reference model) normalises to the same
// canonical value, and the canonical value is a fixed point.
func TestNormalizeRoundTrip(t *testing.T) {
	byProp := map[string][]unitRef{}
	for _, r := range unitRefs {
		byProp[r.property] = append(byProp[r.property], r)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for prop, refs := range byProp {
		for i := 0; i < 200; i++ {
			a, b := refs[rng.IntN(len(refs))], refs[rng.IntN(len(refs))]
			v := rng.NormFloat64() * math.Pow(10, float64(rng.IntN(8)-4))
			canon := v*a.factor + a.offset
			inB := (canon - b.offset) / b.factor
			x, unit, err := Normalize(prop, v, a.unit)
			if err != nil {
				t.Fatal(err)
			}
			y, _, err := Normalize(prop, inB, b.unit)
			if err != nil {
				t.Fatal(err)
			}
			if !relClose(x, y) && math.Abs(x-y) > 1e-9 {
				t.Fatalf("%s: %g %s → %g, but %g %s → %g", prop, v, a.unit, x, inB, b.unit, y)
			}
			z, _, err := Normalize(prop, x, unit)
			if err != nil || !relClose(z, x) {
				t.Fatalf("%s: canonical %g %s is not a fixed point: %g, %v", prop, x, unit, z, err)
			}
		}
	}
}

func TestNormalizeErrors(t *testing.T) {
	for _, c := range []struct {
		property string
		v        float64
		unit     string
	}{
		{"band_gap", 1, "S/cm"},    // wrong dimension
		{"band_gap", 1, "furlong"}, // unknown unit
		{"colour", 1, "eV"},        // unknown property
		{"band_gap", math.NaN(), "eV"},
		{"band_gap", math.Inf(1), "eV"},
		{"yield", 50, ""}, // a percent is not a plain number
		{"dielectric_constant", 3, "%"},
		{"conductivity", 1, "S/cm/s/"},
		{"melting_point", 1, "°C/min"}, // a rate is not a temperature
		{"band_gap", 1e306, "keV"},     // overflows
	} {
		_, _, err := Normalize(c.property, c.v, c.unit)
		if !errors.Is(errors.Invalid, err) {
			t.Errorf("Normalize(%q, %g, %q) = %v, want Invalid", c.property, c.v, c.unit, err)
		}
	}
}

// FuzzNormalize: any property name, value and unit string either converts
// to a finite value in the canonical unit, which is then a fixed point, or
// is refused as Invalid.
func FuzzNormalize(f *testing.F) {
	for _, r := range unitRefs {
		f.Add(r.property, 1.5, r.unit)
	}
	f.Add("band_gap", -3.0, "meV/K")
	f.Add("mobility", 1.0, "cm2/(V s")
	f.Add("pressure", 1.0, "((((")
	f.Fuzz(func(t *testing.T, prop string, v float64, unit string) {
		got, canon, err := Normalize(prop, v, unit)
		if err != nil {
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("error of kind %v: %v", errors.KindOf(err), err)
			}
			return
		}
		if !finite(got) {
			t.Fatalf("non-finite result %g", got)
		}
		if canon != properties[prop].unit {
			t.Fatalf("unit %q, canonical is %q", canon, properties[prop].unit)
		}
		again, _, err := Normalize(prop, got, canon)
		if err != nil || !relClose(again, got) {
			t.Fatalf("canonical value %g %s not a fixed point: %g %v", got, canon, again, err)
		}
	})
}
