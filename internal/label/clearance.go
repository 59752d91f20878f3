package label

// Clearance is what a principal may read: a maximum level, the compartments
// they are read into, and their nationality. Agreements are not part of a
// stored clearance: they are held only while in force, so the decision
// computes them at decision time and adds them with WithAgreements.
type Clearance struct {
	level       Level
	comps       bitset
	agrs        bitset // held at decision time
	nationality string // ISO 3166 alpha-3, "" if unknown
	nation      uint32 // interned nationality, if nationality != ""
}

// NewClearance returns a clearance. Nationality must be an ISO 3166 alpha-3
// code or empty (unknown: such a reader never satisfies a REL TO).
func NewClearance(level Level, compartments []string, nationality string) (Clearance, error) {
	return NewClearanceAdmit(level, compartments, nationality, admitAll)
}

// NewClearanceAdmit is NewClearance for untrusted input: like ParseAdmit,
// it interns a token not yet interned only if admit says yes.
func NewClearanceAdmit(level Level, compartments []string, nationality string, admit func(kind TokenKind, token string) bool) (Clearance, error) {
	if !level.Valid() {
		return Clearance{}, &ParseError{Token: level.String(), Reason: "unknown level"}
	}
	r := raw{level: level}
	var err error
	if r.comps, err = canonTokens(compartments, "compartment"); err != nil {
		return Clearance{}, err
	}
	if nationality != "" {
		if r.rel, err = canonNations([]string{nationality}); err != nil {
			return Clearance{}, err
		}
	}
	l, err := r.build("", admit)
	if err != nil {
		return Clearance{}, err
	}
	cl := Clearance{level: level, comps: l.comps}
	if nationality != "" {
		cl.nationality = r.rel[0]
		l.rel.each(func(id uint32) { cl.nation = id })
	}
	return cl, nil
}

// Level returns the clearance's maximum level.
func (c Clearance) Level() Level { return c.level }

// Compartments returns the compartments, sorted.
func (c Clearance) Compartments() []string { return compTab.sorted(c.comps) }

// Agreements returns the agreements added by WithAgreements, sorted.
func (c Clearance) Agreements() []string { return agrTab.sorted(c.agrs) }

// Nationality returns the nationality, or "".
func (c Clearance) Nationality() string { return c.nationality }

// WithAgreements returns c plus the agreements held now and the compartments
// those agreements grant. Call it per decision, from agreements in force.
func (c Clearance) WithAgreements(agreements, grantedCompartments []string) (Clearance, error) {
	a, err := tokenSet(agrTab, agreements, "agreement")
	if err != nil {
		return Clearance{}, err
	}
	g, err := tokenSet(compTab, grantedCompartments, "compartment")
	if err != nil {
		return Clearance{}, err
	}
	c.agrs = c.agrs.or(a)
	c.comps = c.comps.or(g)
	return c, nil
}

// MayRead reports whether a reader with clearance c may read data labelled
// l: level ≥, compartments ⊇, agreements ⊇, and, when l has a REL TO, c's
// nationality is in it.
func (c Clearance) MayRead(l Label) bool {
	if !l.level.Valid() || c.level < l.level || !l.comps.subsetOf(c.comps) || !l.agrs.subsetOf(c.agrs) {
		return false
	}
	return !l.restricted || c.nationality != "" && l.rel.has(c.nation)
}
