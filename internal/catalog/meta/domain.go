package meta

import (
	"strings"
)

// Domain is a mission priority area. The list is append-only: values are
// stored.
type Domain string

const (
	AdvancedManufacturing    Domain = "advanced-manufacturing"
	Biotechnology            Domain = "biotechnology"
	CriticalMinerals         Domain = "critical-minerals-materials"
	NuclearFissionFusion     Domain = "nuclear-fission-fusion"
	QuantumInformation       Domain = "quantum-information-science"
	Semiconductors           Domain = "semiconductors-microelectronics"
	AI                       Domain = "ai"
	Energy                   Domain = "energy"
	EarthEnvironment         Domain = "earth-environment"
	HighPerformanceComputing Domain = "high-performance-computing"
	Other                    Domain = "other"
)

// Domains lists every known domain in a fixed order.
var Domains = []Domain{
	AdvancedManufacturing, Biotechnology, CriticalMinerals, NuclearFissionFusion,
	QuantumInformation, Semiconductors, AI, Energy, EarthEnvironment,
	HighPerformanceComputing, Other,
}

// Known reports whether d is one of Domains.
func (d Domain) Known() bool {
	for _, k := range Domains {
		if d == k {
			return true
		}
	}
	return false
}

func domainNames() []string {
	s := make([]string, len(Domains))
	for i, d := range Domains {
		s[i] = string(d)
	}
	return s
}

// domainSynonyms maps normalised phrases (lower case, letters and digits
// separated by single spaces) to a domain. Sources name the priority areas
// in many ways: themes in data.json, subjects in DataCite, tags in CKAN.
var domainSynonyms = map[string]Domain{
	"advanced manufacturing": AdvancedManufacturing, "manufacturing": AdvancedManufacturing,
	"additive manufacturing": AdvancedManufacturing,
	"biotechnology":          Biotechnology, "biotech": Biotechnology, "biology": Biotechnology,
	"synthetic biology": Biotechnology, "bioscience": Biotechnology, "biological sciences": Biotechnology,
	"critical minerals materials": CriticalMinerals, "critical minerals and materials": CriticalMinerals,
	"critical minerals": CriticalMinerals, "critical materials": CriticalMinerals, "materials science": CriticalMinerals,
	"nuclear fission fusion": NuclearFissionFusion, "nuclear fission and fusion": NuclearFissionFusion,
	"nuclear": NuclearFissionFusion, "fusion energy": NuclearFissionFusion, "fusion": NuclearFissionFusion,
	"nuclear energy": NuclearFissionFusion, "fission": NuclearFissionFusion, "plasma physics": NuclearFissionFusion,
	"quantum information science": QuantumInformation, "quantum information": QuantumInformation,
	"qis": QuantumInformation, "quantum computing": QuantumInformation,
	"semiconductors microelectronics": Semiconductors, "semiconductors and microelectronics": Semiconductors,
	"semiconductors": Semiconductors, "microelectronics": Semiconductors,
	"ai": AI, "artificial intelligence": AI, "machine learning": AI,
	"energy": Energy, "energy sciences": Energy,
	"earth environment": EarthEnvironment, "earth science": EarthEnvironment, "earth sciences": EarthEnvironment,
	"environment": EarthEnvironment, "climate": EarthEnvironment, "geoscience": EarthEnvironment,
	"high performance computing": HighPerformanceComputing, "hpc": HighPerformanceComputing,
	"other": Other,
}

func phrase(s string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if sep && b.Len() > 0 {
				b.WriteByte(' ')
			}
			sep = false
			b.WriteRune(r)
			continue
		}
		if r == '&' {
			if b.Len() > 0 {
				b.WriteString(" and")
			}
		}
		sep = true
	}
	return b.String()
}

// ParseDomain maps a domain id or a common name of a priority area
// ("Quantum Information Science", "QIS", "critical-minerals-materials") to a
// Domain.
func ParseDomain(s string) (Domain, bool) {
	p := phrase(s)
	if p == "" {
		return "", false
	}
	if d, ok := domainSynonyms[p]; ok {
		return d, true
	}
	d := Domain(strings.ReplaceAll(p, " ", "-"))
	return d, d.Known()
}

// inferDomain returns the first of candidates that names a domain, and its
// index, or -1.
func inferDomain(candidates []string) (Domain, int) {
	for i, c := range candidates {
		if d, ok := ParseDomain(c); ok {
			return d, i
		}
	}
	return "", -1
}
