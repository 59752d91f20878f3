package label

// Rules beyond the grammar. The lattice is closed over every level and set,
// and Parse is purely syntactic; but a deployment puts on objects, sites and
// clearances only markings that also follow these rules, checked with Check
// where a marking enters (the caller supplies the compartments it knows):
//
//   - OPEN carries no compartments. OPEN is open research, with no
//     need-to-know; a compartment restricts who may read, so it needs
//     PROPRIETARY or higher. ("OPEN//FUSION" is refused, not read as OPEN.)
//     Join and Meet of labels that follow this rule follow it too.
//   - Every compartment is known to the deployment, so a typo such as
//     "PROPRIETARY//FUSON" is refused (with a did-you-mean hint) instead of
//     creating a compartment nobody is read into.

// Check reports whether l follows the marking rules above, given the
// compartments the deployment knows. The error is a *ParseError whose Hint
// is a corrected marking when one is likely.
func Check(l Label, known []string) error { return rawOf(l).check(known) }

// check is Check on a parsed marking; it interns nothing.
func (r raw) check(known []string) error {
	comps := r.comps
	if len(comps) == 0 {
		return nil
	}
	if r.level == Open {
		h := r
		h.level = Proprietary
		return &ParseError{Input: r.format(), Token: "OPEN//" + comps[0],
			Reason: "OPEN carries no compartments: a compartment needs PROPRIETARY or higher", Hint: h.format()}
	}
	set := make(map[string]bool, len(known))
	for _, k := range known {
		set[k] = true
	}
	for i, c := range comps {
		if set[c] {
			continue
		}
		e := &ParseError{Input: r.format(), Token: c, Reason: unknownCompartment, Unknown: Compartment}
		if s := Suggest(c, known); s != "" {
			fixed := append(append(append([]string(nil), comps[:i]...), s), comps[i+1:]...)
			if fc, err := canonTokens(fixed, "compartment"); err == nil {
				h := r
				h.comps = fc
				e.Hint = h.format()
			}
		}
		return e
	}
	return nil
}
