package extract

import (
	"fmt"
	"strconv"
)

// property is a canonical property (or condition) with its canonical unit.
type property struct {
	name string
	unit string // canonical unit, as printed
	u    unit   // canonical unit, parsed
	// fraction: a plain number ≤ 1 is a fraction of the percent unit
	// ("FF = 0.79" is 79 %).
	fraction bool
}

// convert converts v in unit from to the property's canonical unit.
func (p *property) convert(v float64, from unit) (float64, bool) {
	if from.d != p.u.d {
		if p.fraction && from.dimensionless() {
			return v * 100, true
		}
		return 0, false
	}
	// the ratio of scales first, so a value in the canonical unit comes
	// back unchanged; then rounded to 12 significant digits, so "10-20 nm"
	// has the midpoint 15, not 15.000000000000002
	return round12(v*(from.scale/p.u.scale) + (from.offset-p.u.offset)/p.u.scale), true
}

func round12(v float64) float64 {
	if v == 0 || !finite(v) {
		return v
	}
	r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	if err != nil {
		return v
	}
	return r
}

// accepts reports whether a quantity in unit from can be a value of p.
func (p *property) accepts(from unit, v float64) bool {
	if from.d == p.u.d {
		return true
	}
	return p.fraction && from.dimensionless() && v > 0 && v <= 1
}

// propertyUnits is the canonical unit of every property the extractor
// reports, and of the condition quantities. The unit strings are parsed
// by the same reader as text, so the table checks itself at start-up.
var propertyUnits = []struct {
	name, unit string
}{
	{"band_gap", "eV"},
	{"exciton_binding_energy", "eV"},
	{"activation_energy", "eV"},
	{"work_function", "eV"},
	{"adsorption_energy", "eV"},
	{"formation_energy", "eV"},
	{"yield", "%"},
	{"quantum_yield", "%"},
	{"efficiency", "%"},
	{"external_quantum_efficiency", "%"},
	{"fill_factor", "%"},
	{"coulombic_efficiency", "%"},
	{"faradaic_efficiency", "%"},
	{"capacity_retention", "%"},
	{"efficiency_retention", "%"},
	{"conversion", "%"},
	{"selectivity", "%"},
	{"relative_density", "%"},
	{"open_circuit_voltage", "V"},
	{"voltage", "V"},
	{"onset_potential", "V"},
	{"overpotential", "V"},
	{"short_circuit_current_density", "mA/cm2"},
	{"current_density", "mA/cm2"},
	{"conductivity", "S/cm"},
	{"resistivity", "Ω cm"},
	{"sheet_resistance", "Ω/sq"},
	{"mobility", "cm2/(V s)"},
	{"carrier_concentration", "cm-3"},
	{"trap_density", "cm-3"},
	{"lattice_constant", "Å"},
	{"thickness", "nm"},
	{"particle_size", "nm"},
	{"grain_size", "nm"},
	{"crystallite_size", "nm"},
	{"pore_size", "nm"},
	{"emission_wavelength", "nm"},
	{"melting_point", "K"},
	{"decomposition_temperature", "K"},
	{"glass_transition_temperature", "K"},
	{"curie_temperature", "K"},
	{"critical_temperature", "K"},
	{"phase_transition_temperature", "K"},
	{"density", "g/cm3"},
	{"capacity", "mAh/g"},
	{"specific_capacitance", "F/g"},
	{"energy_density", "Wh/kg"},
	{"power_density", "W/kg"},
	{"surface_area", "m2/g"},
	{"thermal_conductivity", "W/(m K)"},
	{"seebeck_coefficient", "µV/K"},
	{"elastic_modulus", "GPa"},
	{"bulk_modulus", "GPa"},
	{"shear_modulus", "GPa"},
	{"hardness", "GPa"},
	{"dielectric_constant", ""},
	{"refractive_index", ""},
	{"transference_number", ""},
	{"carrier_lifetime", "s"},
	{"hydrogen_evolution_rate", "mmol/(h g)"},
	{"contact_angle", "°"},
	{"diffusion_coefficient", "cm2/s"},
	{"turnover_frequency", "h-1"},
	{"charge_transfer_resistance", "Ω"},
	// conditions
	{"temperature", "K"},
	{"pressure", "Pa"},
	{"time", "s"},
}

// conditionNames are the quantity conditions; they are Normalize-able but
// never the property of an assertion.
var conditionNames = map[string]bool{"temperature": true, "pressure": true, "time": true}

var properties = func() map[string]*property {
	properties := map[string]*property{}
	for _, pu := range propertyUnits {
		u, ok := lookupUnit(pu.unit)
		if !ok {
			panic(fmt.Sprintf("extract: canonical unit %q of %s does not parse", pu.unit, pu.name))
		}
		properties[pu.name] = &property{name: pu.name, unit: pu.unit, u: u, fraction: pu.name == "fill_factor"}
	}
	return properties
}()

// Properties returns the canonical property names and units, for
// documentation and for validating queries.
func Properties() map[string]string {
	out := make(map[string]string, len(propertyUnits))
	for _, pu := range propertyUnits {
		if !conditionNames[pu.name] {
			out[pu.name] = pu.unit
		}
	}
	return out
}
