package label

import "strings"

// Clearance is what a principal may read: a maximum level, the compartments
// they are read into, and their nationality. Agreements are not part of a
// stored clearance: they are held only while in force, so the decision
// computes them at decision time and adds them with WithAgreements.
type Clearance struct {
	level       Level
	comps       []string // sorted, unique
	agrs        []string // sorted, unique: held at decision time
	nationality string   // ISO 3166 alpha-3, "" if unknown
}

// NewClearance returns a clearance. Nationality must be an ISO 3166 alpha-3
// code or empty (unknown: such a reader never satisfies a REL TO).
func NewClearance(level Level, compartments []string, nationality string) (Clearance, error) {
	if !level.Valid() {
		return Clearance{}, &ParseError{Token: level.String(), Reason: "unknown level"}
	}
	c, err := canonTokens(compartments, "compartment")
	if err != nil {
		return Clearance{}, err
	}
	if nationality != "" {
		n, err := canonNations([]string{nationality})
		if err != nil {
			return Clearance{}, err
		}
		nationality = n[0]
	}
	return Clearance{level: level, comps: c, nationality: nationality}, nil
}

// Level returns the clearance's maximum level.
func (c Clearance) Level() Level { return c.level }

// Compartments returns a copy of the compartments, sorted.
func (c Clearance) Compartments() []string { return append([]string(nil), c.comps...) }

// Agreements returns a copy of the agreements added by WithAgreements.
func (c Clearance) Agreements() []string { return append([]string(nil), c.agrs...) }

// Nationality returns the nationality, or "".
func (c Clearance) Nationality() string { return c.nationality }

// WithAgreements returns c plus the agreements held now and the compartments
// those agreements grant. Call it per decision, from agreements in force.
func (c Clearance) WithAgreements(agreements, grantedCompartments []string) (Clearance, error) {
	a, err := canonTokens(agreements, "agreement")
	if err != nil {
		return Clearance{}, err
	}
	g, err := canonTokens(grantedCompartments, "compartment")
	if err != nil {
		return Clearance{}, err
	}
	c.agrs = union(c.agrs, a, strings.Compare)
	c.comps = union(c.comps, g, strings.Compare)
	return c, nil
}

// MayRead reports whether a reader with clearance c may read data labelled
// l: level ≥, compartments ⊇, agreements ⊇, and, when l has a REL TO, c's
// nationality is in it.
func (c Clearance) MayRead(l Label) bool {
	if !l.level.Valid() || c.level < l.level {
		return false
	}
	if !subsetSorted(c.comps, l.comps) || !subsetSorted(c.agrs, l.agrs) {
		return false
	}
	if !l.restricted {
		return true
	}
	if c.nationality == "" {
		return false
	}
	for _, n := range l.rel {
		if n == c.nationality {
			return true
		}
	}
	return false
}
