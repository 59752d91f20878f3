package extract

import "strings"

// ignore is the value of phrases that look like a property but are not
// one here ("density of states", "binding energy" of an XPS peak); they win
// the longest match and then say nothing.
const ignore = "-"

// propertyPhrases: how papers name properties. Plurals are accepted where
// marked; symbols are case-sensitive.
var propertyPhrases = []entry{
	{phrase: "band gap", value: "band_gap", plural: true},
	{phrase: "bandgap", value: "band_gap", plural: true},
	{phrase: "band gap energy", value: "band_gap"},
	{phrase: "optical band gap", value: "band_gap", plural: true},
	{phrase: "optical gap", value: "band_gap", plural: true},
	{phrase: "direct gap", value: "band_gap"},
	{phrase: "indirect gap", value: "band_gap"},
	{phrase: "direct band gap", value: "band_gap"},
	{phrase: "indirect band gap", value: "band_gap"},
	{phrase: "energy gap", value: "band_gap"},
	{phrase: "Eg", value: "band_gap", cs: true},
	{phrase: "E_g", value: "band_gap", cs: true},
	{phrase: "exciton binding energy", value: "exciton_binding_energy", plural: true},
	{phrase: "binding energy", value: ignore, plural: true},
	{phrase: "activation energy", value: "activation_energy", plural: true},
	{phrase: "Ea", value: "activation_energy", cs: true, eq: true},
	{phrase: "work function", value: "work_function", plural: true},
	{phrase: "adsorption energy", value: "adsorption_energy", plural: true},
	{phrase: "adsorption free energy", value: "adsorption_energy"},
	{phrase: "free energy of adsorption", value: "adsorption_energy"},
	{phrase: "Gibbs free energy of adsorption", value: "adsorption_energy"},
	{phrase: "formation energy", value: "formation_energy", plural: true},
	{phrase: "defect formation energy", value: "formation_energy", plural: true},
	{phrase: "energy of formation", value: "formation_energy"},
	{phrase: "yield", value: "yield", plural: true},
	{phrase: "isolated yield", value: "yield", plural: true},
	{phrase: "quantum yield", value: "quantum_yield", plural: true},
	{phrase: "photoluminescence quantum yield", value: "quantum_yield", plural: true},
	{phrase: "PL quantum yield", value: "quantum_yield", plural: true},
	{phrase: "PLQY", value: "quantum_yield", cs: true, plural: true},
	{phrase: "efficiency", value: "efficiency"},
	{phrase: "efficiencies", value: "efficiency"},
	{phrase: "power conversion efficiency", value: "efficiency"},
	{phrase: "power conversion efficiencies", value: "efficiency"},
	{phrase: "PCE", value: "efficiency", cs: true, plural: true},
	{phrase: "external quantum efficiency", value: "external_quantum_efficiency"},
	{phrase: "EQE", value: "external_quantum_efficiency", cs: true},
	{phrase: "IPCE", value: "external_quantum_efficiency", cs: true},
	{phrase: "fill factor", value: "fill_factor", plural: true},
	{phrase: "FF", value: "fill_factor", cs: true},
	{phrase: "coulombic efficiency", value: "coulombic_efficiency"},
	{phrase: "faradaic efficiency", value: "faradaic_efficiency"},
	{phrase: "faradic efficiency", value: "faradaic_efficiency"},
	{phrase: "capacity retention", value: "capacity_retention"},
	{phrase: "of its initial capacity", value: "capacity_retention"},
	{phrase: "of the initial capacity", value: "capacity_retention"},
	{phrase: "of its initial efficiency", value: "efficiency_retention"},
	{phrase: "of the initial efficiency", value: "efficiency_retention"},
	{phrase: "of its initial PCE", value: "efficiency_retention"},
	{phrase: "conversion", value: "conversion", plural: true},
	{phrase: "selectivity", value: "selectivity"},
	{phrase: "relative density", value: "relative_density"},
	{phrase: "open circuit voltage", value: "open_circuit_voltage", plural: true},
	{phrase: "Voc", value: "open_circuit_voltage", cs: true},
	{phrase: "VOC", value: "open_circuit_voltage", cs: true},
	{phrase: "V_oc", value: "open_circuit_voltage", cs: true},
	{phrase: "voltage", value: "voltage", plural: true},
	{phrase: "onset potential", value: "onset_potential", plural: true},
	{phrase: "overpotential", value: "overpotential", plural: true},
	{phrase: "short circuit current density", value: "short_circuit_current_density"},
	{phrase: "short circuit current", value: "short_circuit_current_density"},
	{phrase: "Jsc", value: "short_circuit_current_density", cs: true},
	{phrase: "JSC", value: "short_circuit_current_density", cs: true},
	{phrase: "J_sc", value: "short_circuit_current_density", cs: true},
	{phrase: "current density", value: "current_density", plural: true},
	{phrase: "photocurrent density", value: "current_density", plural: true},
	{phrase: "photocurrent", value: "current_density"},
	{phrase: "conductivity", value: "conductivity"},
	{phrase: "conductivities", value: "conductivity"},
	{phrase: "σ", value: "conductivity", cs: true, eq: true},
	{phrase: "resistivity", value: "resistivity"},
	{phrase: "sheet resistance", value: "sheet_resistance"},
	{phrase: "mobility", value: "mobility"},
	{phrase: "mobilities", value: "mobility"},
	{phrase: "carrier concentration", value: "carrier_concentration", plural: true},
	{phrase: "carrier density", value: "carrier_concentration"},
	{phrase: "electron concentration", value: "carrier_concentration"},
	{phrase: "hole concentration", value: "carrier_concentration"},
	{phrase: "doping concentration", value: "carrier_concentration"},
	{phrase: "trap density", value: "trap_density", plural: true},
	{phrase: "trap state density", value: "trap_density"},
	{phrase: "defect density", value: "trap_density"},
	{phrase: "density of states", value: ignore},
	{phrase: "lattice constant", value: "lattice_constant", plural: true},
	{phrase: "lattice parameter", value: "lattice_constant", plural: true},
	{phrase: "cell parameter", value: "lattice_constant", plural: true},
	{phrase: "thickness", value: "thickness", plural: true},
	{phrase: "thick", value: "thickness"},
	{phrase: "particle size", value: "particle_size", plural: true},
	{phrase: "particle diameter", value: "particle_size", plural: true},
	{phrase: "average diameter", value: "particle_size"},
	{phrase: "diameter", value: "particle_size", plural: true},
	{phrase: "grain size", value: "grain_size", plural: true},
	{phrase: "crystallite size", value: "crystallite_size", plural: true},
	{phrase: "pore size", value: "pore_size", plural: true},
	{phrase: "pore diameter", value: "pore_size", plural: true},
	{phrase: "pore width", value: "pore_size"},
	{phrase: "emission wavelength", value: "emission_wavelength"},
	{phrase: "emission peak", value: "emission_wavelength"},
	{phrase: "emission maximum", value: "emission_wavelength"},
	{phrase: "PL peak", value: "emission_wavelength"},
	{phrase: "emit at", value: "emission_wavelength"},
	{phrase: "emits at", value: "emission_wavelength"},
	{phrase: "emitting at", value: "emission_wavelength"},
	{phrase: "emission at", value: "emission_wavelength"},
	{phrase: "melting point", value: "melting_point", plural: true},
	{phrase: "melting temperature", value: "melting_point", plural: true},
	{phrase: "melts at", value: "melting_point"},
	{phrase: "melt at", value: "melting_point"},
	{phrase: "Tm", value: "melting_point", cs: true},
	{phrase: "decomposition temperature", value: "decomposition_temperature"},
	{phrase: "decomposition", value: "decomposition_temperature"},
	{phrase: "decomposes", value: "decomposition_temperature"},
	{phrase: "glass transition temperature", value: "glass_transition_temperature"},
	{phrase: "glass transition", value: "glass_transition_temperature"},
	{phrase: "Tg", value: "glass_transition_temperature", cs: true},
	{phrase: "Curie temperature", value: "curie_temperature"},
	{phrase: "critical temperature", value: "critical_temperature"},
	{phrase: "superconducting transition temperature", value: "critical_temperature"},
	{phrase: "superconducting transition", value: "critical_temperature"},
	{phrase: "Tc", value: "critical_temperature", cs: true},
	{phrase: "phase transition", value: "phase_transition_temperature", plural: true},
	{phrase: "phase transition temperature", value: "phase_transition_temperature"},
	{phrase: "transition temperature", value: "phase_transition_temperature"},
	{phrase: "temperature coefficient", value: ignore},
	{phrase: "density", value: "density"},
	{phrase: "densities", value: "density"},
	{phrase: "capacity", value: "capacity"},
	{phrase: "capacities", value: "capacity"},
	{phrase: "heat capacity", value: ignore},
	{phrase: "specific capacitance", value: "specific_capacitance"},
	{phrase: "capacitance", value: "specific_capacitance"},
	{phrase: "energy density", value: "energy_density"},
	{phrase: "power density", value: "power_density"},
	{phrase: "surface area", value: "surface_area", plural: true},
	{phrase: "thermal conductivity", value: "thermal_conductivity"},
	{phrase: "κ", value: "thermal_conductivity", cs: true, eq: true},
	{phrase: "Seebeck coefficient", value: "seebeck_coefficient", plural: true},
	{phrase: "thermopower", value: "seebeck_coefficient"},
	{phrase: "Young's modulus", value: "elastic_modulus"},
	{phrase: "Young modulus", value: "elastic_modulus"},
	{phrase: "elastic modulus", value: "elastic_modulus"},
	{phrase: "bulk modulus", value: "bulk_modulus"},
	{phrase: "shear modulus", value: "shear_modulus"},
	{phrase: "hardness", value: "hardness"},
	{phrase: "dielectric constant", value: "dielectric_constant", plural: true},
	{phrase: "relative permittivity", value: "dielectric_constant"},
	{phrase: "permittivity", value: "dielectric_constant"},
	{phrase: "k", value: "dielectric_constant", cs: true, eq: true},
	{phrase: "εr", value: "dielectric_constant", cs: true, eq: true},
	{phrase: "refractive index", value: "refractive_index"},
	{phrase: "index of refraction", value: "refractive_index"},
	{phrase: "n", value: "refractive_index", cs: true, eq: true},
	{phrase: "transference number", value: "transference_number", plural: true},
	{phrase: "transport number", value: "transference_number", plural: true},
	{phrase: "carrier lifetime", value: "carrier_lifetime", plural: true},
	{phrase: "PL lifetime", value: "carrier_lifetime", plural: true},
	{phrase: "lifetime", value: "carrier_lifetime", plural: true},
	{phrase: "τ", value: "carrier_lifetime", cs: true, eq: true},
	{phrase: "hydrogen evolution rate", value: "hydrogen_evolution_rate", plural: true},
	{phrase: "H2 evolution rate", value: "hydrogen_evolution_rate", cs: true},
	{phrase: "hydrogen production rate", value: "hydrogen_evolution_rate"},
	{phrase: "contact angle", value: "contact_angle", plural: true},
}

// targetModified are properties whose adjacent material modifier names the
// product or probe, not the material that has the property ("CO
// selectivity", "water contact angle", "CO2 conversion").
var targetModified = map[string]bool{
	"selectivity": true, "conversion": true, "contact_angle": true, "faradaic_efficiency": true,
	"yield": true, "hydrogen_evolution_rate": true,
}

// methodPhrases: methods and instruments, with their canonical names.
var methodPhrases = []entry{
	{phrase: "DFT", value: "DFT", cs: true},
	{phrase: "density functional theory", value: "DFT"},
	{phrase: "XRD", value: "XRD", cs: true},
	{phrase: "PXRD", value: "XRD", cs: true},
	{phrase: "X-ray diffraction", value: "XRD"},
	{phrase: "XPS", value: "XPS", cs: true},
	{phrase: "X-ray photoelectron spectroscopy", value: "XPS"},
	{phrase: "UPS", value: "UPS", cs: true},
	{phrase: "ultraviolet photoelectron spectroscopy", value: "UPS"},
	{phrase: "SEM", value: "SEM", cs: true},
	{phrase: "scanning electron microscopy", value: "SEM"},
	{phrase: "TEM", value: "TEM", cs: true},
	{phrase: "HRTEM", value: "TEM", cs: true},
	{phrase: "transmission electron microscopy", value: "TEM"},
	{phrase: "STEM", value: "STEM", cs: true},
	{phrase: "AFM", value: "AFM", cs: true},
	{phrase: "atomic force microscopy", value: "AFM"},
	{phrase: "UV-vis", value: "UV-vis"},
	{phrase: "UV/vis", value: "UV-vis"},
	{phrase: "UV-visible", value: "UV-vis"},
	{phrase: "PL", value: "PL", cs: true},
	{phrase: "photoluminescence", value: "PL"},
	{phrase: "TRPL", value: "TRPL", cs: true},
	{phrase: "time-resolved photoluminescence", value: "TRPL"},
	{phrase: "Raman", value: "Raman"},
	{phrase: "FTIR", value: "FTIR", cs: true},
	{phrase: "FT-IR", value: "FTIR", cs: true},
	{phrase: "infrared spectroscopy", value: "FTIR"},
	{phrase: "NMR", value: "NMR", cs: true},
	{phrase: "nuclear magnetic resonance", value: "NMR"},
	{phrase: "EPR", value: "EPR", cs: true},
	{phrase: "ellipsometry", value: "ellipsometry"},
	{phrase: "Hall effect", value: "Hall effect"},
	{phrase: "Hall measurements", value: "Hall effect"},
	{phrase: "Kelvin probe", value: "Kelvin probe"},
	{phrase: "KPFM", value: "Kelvin probe", cs: true},
	{phrase: "sol-gel", value: "sol-gel"},
	{phrase: "spin coating", value: "spin coating"},
	{phrase: "spin coated", value: "spin coating"},
	{phrase: "spin cast", value: "spin coating"},
	{phrase: "CVD", value: "CVD", cs: true},
	{phrase: "chemical vapor deposition", value: "CVD"},
	{phrase: "chemical vapour deposition", value: "CVD"},
	{phrase: "MOCVD", value: "MOCVD", cs: true},
	{phrase: "MBE", value: "MBE", cs: true},
	{phrase: "molecular beam epitaxy", value: "MBE"},
	{phrase: "ALD", value: "ALD", cs: true},
	{phrase: "atomic layer deposition", value: "ALD"},
	{phrase: "PLD", value: "PLD", cs: true},
	{phrase: "pulsed laser deposition", value: "PLD"},
	{phrase: "sputtering", value: "sputtering"},
	{phrase: "sputtered", value: "sputtering"},
	{phrase: "thermal evaporation", value: "thermal evaporation"},
	{phrase: "close-space sublimation", value: "close-space sublimation"},
	{phrase: "chemical bath deposition", value: "chemical bath deposition"},
	{phrase: "electrodeposition", value: "electrodeposition"},
	{phrase: "electrodeposited", value: "electrodeposition"},
	{phrase: "hydrothermal", value: "hydrothermal"},
	{phrase: "hydrothermally", value: "hydrothermal"},
	{phrase: "solvothermal", value: "solvothermal"},
	{phrase: "annealing", value: "annealing"},
	{phrase: "annealed", value: "annealing"},
	{phrase: "sintering", value: "sintering"},
	{phrase: "sintered", value: "sintering"},
	{phrase: "calcination", value: "calcination"},
	{phrase: "calcined", value: "calcination"},
	{phrase: "ball milling", value: "ball milling"},
	{phrase: "ball milled", value: "ball milling"},
	{phrase: "TGA", value: "TGA", cs: true},
	{phrase: "thermogravimetric analysis", value: "TGA"},
	{phrase: "DSC", value: "DSC", cs: true},
	{phrase: "differential scanning calorimetry", value: "DSC"},
	{phrase: "BET", value: "BET", cs: true},
	{phrase: "EIS", value: "EIS", cs: true},
	{phrase: "impedance spectroscopy", value: "EIS"},
	{phrase: "cyclic voltammetry", value: "cyclic voltammetry"},
	{phrase: "EDX", value: "EDX", cs: true},
	{phrase: "EDS", value: "EDX", cs: true},
	{phrase: "ICP-OES", value: "ICP-OES", cs: true},
	{phrase: "ICP-MS", value: "ICP-MS", cs: true},
	{phrase: "Rietveld refinement", value: "Rietveld refinement"},
	{phrase: "Scherrer equation", value: "Scherrer equation"},
	{phrase: "Tauc plot", value: "Tauc plot"},
	{phrase: "nanoindentation", value: "nanoindentation"},
	{phrase: "SCLC", value: "SCLC", cs: true},
	{phrase: "space-charge-limited current", value: "SCLC"},
	{phrase: "Archimedes method", value: "Archimedes method"},
	{phrase: "column chromatography", value: "column chromatography"},
	{phrase: "N2 physisorption", value: "N2 physisorption", cs: true},
	{phrase: "nitrogen physisorption", value: "N2 physisorption"},
	{phrase: "GIWAXS", value: "GIWAXS", cs: true},
	{phrase: "EXAFS", value: "EXAFS", cs: true},
	{phrase: "XAS", value: "XAS", cs: true},
	{phrase: "dynamic light scattering", value: "DLS"},
	{phrase: "DLS", value: "DLS", cs: true},
	{phrase: "molecular dynamics", value: "molecular dynamics"},
	{phrase: "four-point probe", value: "four-point probe"},
}

// materialNames maps names and abbreviations to formulas ("" when the
// material has no single formula: graphene, ITO, PEDOT:PSS, ZIF-8).
// Abbreviations in capitals are matched case-sensitively.
var materialNames = map[string]string{
	"perovskite": "", "perovskites": "", "double perovskite": "", "kesterite": "",
	"titanium dioxide": "TiO2", "titania": "TiO2", "anatase": "TiO2", "rutile": "TiO2",
	"zinc oxide": "ZnO", "tin oxide": "SnO2", "tin dioxide": "SnO2", "nickel oxide": "NiO",
	"cuprous oxide": "Cu2O", "cupric oxide": "CuO", "indium oxide": "In2O3", "gallium oxide": "Ga2O3",
	"tungsten oxide": "WO3", "tungsten trioxide": "WO3", "magnesium oxide": "MgO", "magnesia": "MgO",
	"silicon": "Si", "crystalline silicon": "Si", "amorphous silicon": "Si", "germanium": "Ge",
	"gallium arsenide": "GaAs", "gallium nitride": "GaN", "indium phosphide": "InP", "aluminium nitride": "AlN",
	"aluminum nitride": "AlN", "cadmium telluride": "CdTe", "cadmium sulfide": "CdS", "cadmium selenide": "CdSe",
	"zinc sulfide": "ZnS", "lead sulfide": "PbS", "silicon carbide": "SiC", "silicon nitride": "Si3N4",
	"silica": "SiO2", "silicon dioxide": "SiO2", "quartz": "SiO2", "alumina": "Al2O3", "sapphire": "Al2O3",
	"aluminium oxide": "Al2O3", "aluminum oxide": "Al2O3", "zirconia": "ZrO2", "ceria": "CeO2", "hafnia": "HfO2",
	"hematite": "Fe2O3", "magnetite": "Fe3O4", "water": "H2O", "sodium chloride": "NaCl",
	"lead iodide": "PbI2", "lead bromide": "PbBr2", "barium titanate": "BaTiO3", "strontium titanate": "SrTiO3",
	"bismuth vanadate": "BiVO4", "lithium iron phosphate": "LiFePO4", "lithium cobalt oxide": "LiCoO2",
	"molybdenum disulfide": "MoS2", "tungsten disulfide": "WS2", "boron nitride": "BN",
	"hexagonal boron nitride": "BN", "graphitic carbon nitride": "C3N4",
	"graphene": "", "graphene oxide": "", "reduced graphene oxide": "", "graphite": "C", "diamond": "C",
	"carbon nanotubes": "", "carbon nanotube": "", "fullerene": "C60", "activated carbon": "", "carbon black": "",
	"black phosphorus": "P", "glass": "", "mica": "", "zeolite": "", "MXene": "",
	"indium tin oxide": "", "fluorine-doped tin oxide": "", "Nafion": "", "LiPON": "",
	"copper": "Cu", "gold": "Au", "silver": "Ag", "platinum": "Pt", "palladium": "Pd", "nickel": "Ni",
	"aluminium": "Al", "aluminum": "Al", "titanium": "Ti", "tungsten": "W", "iron": "Fe", "zinc": "Zn",
	"cobalt": "Co", "sodium": "Na", "lithium": "Li", "magnesium": "Mg", "molybdenum": "Mo", "tantalum": "Ta",
	"niobium": "Nb", "bismuth": "Bi", "gallium": "Ga", "indium": "In", "selenium": "Se", "tellurium": "Te",
	"chromium": "Cr", "manganese": "Mn", "vanadium": "V", "zirconium": "Zr", "hafnium": "Hf",
	"ruthenium": "Ru", "iridium": "Ir", "rhodium": "Rh", "cadmium": "Cd", "antimony": "Sb",
	// abbreviations (case-sensitive)
	"LLZO": "Li7La3Zr2O12", "LFP": "LiFePO4", "LCO": "LiCoO2", "CZTS": "Cu2ZnSnS4", "CIGS": "Cu(In,Ga)Se2",
	"h-BN": "BN", "hBN": "BN", "g-C3N4": "C3N4", "ITO": "", "FTO": "", "AZO": "", "PEDOT:PSS": "", "P3HT": "",
	"PCBM": "", "PC61BM": "", "PC71BM": "", "Spiro-OMeTAD": "", "spiro-OMeTAD": "", "PTAA": "", "PMMA": "",
	"PTFE": "", "PDMS": "", "PVDF": "", "PEO": "", "ZIF-8": "", "ZIF-67": "", "MOF-5": "", "HKUST-1": "",
	"UiO-66": "", "MIL-101": "", "MCM-41": "", "SBA-15": "", "ZSM-5": "", "NCM811": "", "NMC811": "",
	"NCM622": "", "NMC622": "", "NMC532": "", "NCA": "", "Ti3C2Tx": "",
}

// halidePerovskiteNames adds the generated halide perovskite names
// ("methylammonium lead iodide" → CH3NH3PbI3).
func halidePerovskiteNames() {
	cations := map[string]string{"methylammonium": "CH3NH3", "formamidinium": "HC(NH2)2", "cesium": "Cs", "caesium": "Cs"}
	metals := map[string]string{"lead": "Pb", "tin": "Sn"}
	halides := map[string]string{"iodide": "I", "bromide": "Br", "chloride": "Cl"}
	for c, cf := range cations {
		for m, mf := range metals {
			for h, hf := range halides {
				materialNames[c+" "+m+" "+h] = cf + mf + hf + "3"
				materialNames[c+" "+m+" tri"+h] = cf + mf + hf + "3"
			}
		}
	}
}

func isAbbreviation(name string) bool {
	for _, r := range name {
		if r >= 'A' && r <= 'Z' {
			return true
		}
	}
	return false
}

// atmospheres: gases and ambients, canonical names.
var atmospherePhrases = []entry{
	{phrase: "N2", value: "N2", cs: true}, {phrase: "nitrogen", value: "N2"},
	{phrase: "Ar", value: "Ar", cs: true}, {phrase: "argon", value: "Ar"},
	{phrase: "O2", value: "O2", cs: true}, {phrase: "oxygen", value: "O2"},
	{phrase: "H2", value: "H2", cs: true}, {phrase: "hydrogen", value: "H2"},
	{phrase: "He", value: "He", cs: true}, {phrase: "helium", value: "He"},
	{phrase: "air", value: "air"}, {phrase: "ambient air", value: "air"}, {phrase: "dry air", value: "air"},
	{phrase: "vacuum", value: "vacuum"}, {phrase: "forming gas", value: "forming gas"},
	{phrase: "NH3", value: "NH3", cs: true}, {phrase: "ammonia", value: "NH3"},
}

// phrases is every phrase table in one index, searched in one pass.
var phrases = merge(map[int]*phraseTable{
	kindProperty:   newPhraseTable(propertyPhrases),
	kindMethod:     newPhraseTable(methodPhrases),
	kindMaterial:   newPhraseTable(materialEntries()),
	kindAtmosphere: newPhraseTable(atmospherePhrases),
})

func materialEntries() []entry {
	halidePerovskiteNames()
	out := make([]entry, 0, len(materialNames))
	for name, f := range materialNames {
		out = append(out, entry{phrase: name, value: f, cs: isAbbreviation(name)})
	}
	// deterministic order among equal lengths
	sortEntries(out)
	return out
}

func sortEntries(es []entry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && strings.Compare(es[j-1].phrase, es[j].phrase) > 0; j-- {
			es[j-1], es[j] = es[j], es[j-1]
		}
	}
}
