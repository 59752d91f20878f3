// Package label is Genesis's classification lattice: the labels every
// artifact carries, the clearances principals hold, and the one canonical text
// marking and binary encoding of a label.
//
// A Label has four parts:
//
//   - a Level: OPEN < PROPRIETARY < NATIONAL-SECURITY;
//   - compartments (need-to-know): a set, a reader needs all of them;
//   - agreements (partner-agreement IDs): a set, a reader must hold all of them;
//   - releasable-to (REL TO): an optional set of ISO 3166-1 alpha-3 nation
//     codes. Absent means no foreign-release restriction (the top element for
//     Join's intersection); present means a reader's nationality must be one
//     of them. Present and empty means releasable to no nation at all (it
//     arises as the Join of disjoint REL TO lists).
//
// Labels form a lattice: Dominates is the partial order, Join the least upper
// bound (max level, union of compartments, union of agreements, intersection
// of REL TO) and Meet the greatest lower bound. Everything derived from inputs
// must carry a label that dominates the Join of the inputs.
//
// # Marking grammar
//
// Format prints, and Parse reads, one canonical marking:
//
//	marking      = level [ "//" compartments ] [ "//" agreements ] [ "//" relto ]
//	level        = "OPEN" | "PROPRIETARY" | "NATIONAL-SECURITY"
//	compartments = token *( "/" token )
//	agreements   = "AGR:" token *( "/" token )
//	relto        = "REL TO " ( nation *( ", " nation ) | "NONE" )
//	token        = ( A-Z | 0-9 ) *63( A-Z | 0-9 | "-" | "_" | "." )
//	nation       = 3( A-Z )
//
// Examples: "OPEN", "PROPRIETARY//AGR:CRADA-0042",
// "NATIONAL-SECURITY//FUSION/ITAR//REL TO USA, GBR".
//
// Format is canonical: upper case, each set sorted and deduplicated,
// compartments and agreements in byte order, nations with USA first and the
// rest in alphabetical order (the usual marking convention). Parse is lenient
// about case, blanks around separators, order and duplicates, and strict about
// everything else; a *ParseError names the offending token. For every label l,
// Parse(Format(l)) equals l, and Format(Parse(s)) is a fixed point of
// Format∘Parse.
//
// Label values are immutable: accessors return copies, and operations never
// modify their operands (results may share storage with them).
//
// Sets are bitsets over tokens interned process-wide, so Dominates, Join,
// Meet and Clearance.MayRead are a few word operations that do not
// allocate while a process has seen at most 64 distinct tokens of a kind
// (compartments, agreements, nations), and one more word per 64 beyond.
// Interning only grows and is bounded by MaxDistinct per kind: Parse and New
// fail beyond it rather than let hostile input exhaust memory. Text from
// users or from outside is parsed with ParseAdmit or ParseChecked, which
// intern a new token only if the caller's admit function knows it (else a
// full table would refuse every compartment registered later), and compared
// with Canonical, which interns nothing. AppendKey is
// a cheap process-local identity for map keys; AppendBinary and Hash are the
// stable, canonical forms for anything stored or compared across processes.
//
// The package depends only on the standard library. Parse returns a
// *ParseError rather than an internal/errors value so that the lattice stays
// a leaf every other package (including errors-free tools) can import; API
// layers wrap it as an Invalid error naming their field.
package label

import (
	"slices"
	"strings"
)

// Level is the hierarchical part of a label.
type Level uint8

const (
	Open             Level = iota // OPEN: open research
	Proprietary                   // PROPRIETARY: partner or controlled data
	NationalSecurity              // NATIONAL-SECURITY
)

// MaxLevel is the highest valid Level.
const MaxLevel = NationalSecurity

var levelNames = [...]string{Open: "OPEN", Proprietary: "PROPRIETARY", NationalSecurity: "NATIONAL-SECURITY"}

// Valid reports whether l is one of the defined levels.
func (l Level) Valid() bool { return l <= MaxLevel }

func (l Level) String() string {
	if l.Valid() {
		return levelNames[l]
	}
	return "INVALID-LEVEL"
}

// ParseLevel parses a level name, case-insensitively.
func ParseLevel(s string) (Level, error) {
	u := strings.ToUpper(strings.TrimSpace(s))
	for i, n := range levelNames {
		if u == n {
			return Level(i), nil
		}
	}
	return 0, &ParseError{Input: s, Token: s, Reason: "unknown level"}
}

// Limits on a label's size, so that labels from untrusted input stay small.
const (
	MaxTokenLen = 64 // bytes in a compartment or agreement ID
	MaxSetSize  = 64 // members of each set
)

// Label is a classification label. The zero Label is OPEN with no
// compartments, no agreements and no release restriction.
type Label struct {
	level      Level
	restricted bool // REL TO present
	comps      bitset
	agrs       bitset
	rel        bitset // only if restricted
}

// New returns a label with the given level, compartments and agreements and
// no release restriction. Tokens are upper-cased, sorted and deduplicated.
func New(level Level, compartments, agreements []string) (Label, error) {
	if !level.Valid() {
		return Label{}, &ParseError{Token: level.String(), Reason: "unknown level"}
	}
	c, err := tokenSet(compTab, compartments, "compartment")
	if err != nil {
		return Label{}, err
	}
	a, err := tokenSet(agrTab, agreements, "agreement")
	if err != nil {
		return Label{}, err
	}
	return Label{level: level, comps: c, agrs: a}, nil
}

// tokenSet canonicalises tokens and interns them.
func tokenSet(t *interner, tokens []string, what string) (bitset, error) {
	c, err := canonTokens(tokens, what)
	if err != nil {
		return bitset{}, err
	}
	b, ok := t.set(c)
	if !ok {
		return bitset{}, &ParseError{Token: c[0], Reason: "too many distinct " + what + "s in this process"}
	}
	return b, nil
}

func nationSet(nations []string) (bitset, error) {
	c, err := canonNations(nations)
	if err != nil {
		return bitset{}, err
	}
	b, ok := nationTab.set(c)
	if !ok {
		return bitset{}, &ParseError{Token: c[0], Reason: "too many distinct nations in this process"}
	}
	return b, nil
}

// MustParse is Parse that panics on error, for constants and tests.
func MustParse(s string) Label {
	l, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return l
}

// WithReleasableTo returns l restricted to the given nations (REL TO). With
// no nations the result is releasable to no nation.
func (l Label) WithReleasableTo(nations ...string) (Label, error) {
	r, err := nationSet(nations)
	if err != nil {
		return Label{}, err
	}
	l.restricted, l.rel = true, r
	return l, nil
}

// Unrestricted returns l without a REL TO restriction.
func (l Label) Unrestricted() Label {
	l.restricted, l.rel = false, bitset{}
	return l
}

// Level returns the label's level.
func (l Label) Level() Level { return l.level }

// Compartments returns the label's compartments, sorted.
func (l Label) Compartments() []string { return compTab.sorted(l.comps) }

// Agreements returns the label's agreement IDs, sorted.
func (l Label) Agreements() []string { return agrTab.sorted(l.agrs) }

// ReleasableTo returns the REL TO nations (USA first, then alphabetical)
// and whether the restriction is present at all.
func (l Label) ReleasableTo() (nations []string, restricted bool) {
	if !l.restricted {
		return nil, false
	}
	n := nationTab.sorted(l.rel)
	if n == nil {
		n = []string{}
	}
	return n, true
}

// HasCompartment reports whether c (canonical, upper case) is one of l's
// compartments.
func (l Label) HasCompartment(c string) bool {
	id, ok := compTab.lookup(c)
	return ok && l.comps.has(id)
}

// Dominates reports whether a ≥ b in the lattice: a's level is at least b's,
// a's compartments and agreements include b's, and a's REL TO is at least as
// restrictive as b's (a subset of it; absent is the whole world).
func Dominates(a, b Label) bool {
	if a.level < b.level || !b.comps.subsetOf(a.comps) || !b.agrs.subsetOf(a.agrs) {
		return false
	}
	return !b.restricted || a.restricted && a.rel.subsetOf(b.rel)
}

// Dominates reports whether l dominates o; see the function Dominates.
func (l Label) Dominates(o Label) bool { return Dominates(l, o) }

// Equal reports whether a and b are the same label.
func Equal(a, b Label) bool {
	return a.level == b.level && a.restricted == b.restricted &&
		a.comps.equal(b.comps) && a.agrs.equal(b.agrs) && a.rel.equal(b.rel)
}

// Equal reports whether l and o are the same label.
func (l Label) Equal(o Label) bool { return Equal(l, o) }

// Join returns the least upper bound of a and b: max level, union of
// compartments and agreements, intersection of REL TO (absent is the top).
func Join(a, b Label) Label {
	j := Label{level: max(a.level, b.level), comps: a.comps.or(b.comps), agrs: a.agrs.or(b.agrs)}
	switch {
	case !a.restricted:
		j.restricted, j.rel = b.restricted, b.rel
	case !b.restricted:
		j.restricted, j.rel = true, a.rel
	default:
		j.restricted, j.rel = true, a.rel.and(b.rel)
	}
	return j
}

// JoinAll returns the Join of all labels, or the zero (bottom) label.
func JoinAll(labels ...Label) Label {
	var j Label
	for _, l := range labels {
		j = Join(j, l)
	}
	return j
}

// Meet returns the greatest lower bound of a and b: min level, intersection
// of compartments and agreements, union of REL TO (absent if either is).
func Meet(a, b Label) Label {
	m := Label{level: min(a.level, b.level), comps: a.comps.and(b.comps), agrs: a.agrs.and(b.agrs)}
	if a.restricted && b.restricted {
		m.restricted, m.rel = true, a.rel.or(b.rel)
	}
	return m
}

// compareNation orders nation codes with USA first, then alphabetically.
func compareNation(a, b string) int {
	if a == b {
		return 0
	}
	if a == "USA" {
		return -1
	}
	if b == "USA" {
		return 1
	}
	return strings.Compare(a, b)
}

// canonTokens upper-cases, validates, sorts and deduplicates tokens.
func canonTokens(in []string, what string) ([]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(in))
	for _, t := range in {
		u := strings.ToUpper(strings.TrimSpace(t))
		if reason := checkToken(u); reason != "" {
			return nil, &ParseError{Token: t, Reason: what + " " + reason}
		}
		out = append(out, u)
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > MaxSetSize {
		return nil, &ParseError{Token: out[MaxSetSize], Reason: "too many " + what + "s"}
	}
	return out, nil
}

func canonNations(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, t := range in {
		u := strings.ToUpper(strings.TrimSpace(t))
		if !isNation(u) {
			return nil, &ParseError{Token: t, Reason: "nation must be an ISO 3166 alpha-3 code"}
		}
		out = append(out, u)
	}
	slices.SortFunc(out, compareNation)
	out = slices.Compact(out)
	if len(out) > MaxSetSize {
		return nil, &ParseError{Token: out[MaxSetSize], Reason: "too many nations"}
	}
	return out, nil
}

// checkToken returns why the upper-cased token t is invalid, or "".
func checkToken(t string) string {
	if t == "" {
		return "is empty"
	}
	if len(t) > MaxTokenLen {
		return "is too long"
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case i > 0 && (c == '-' || c == '_' || c == '.'):
		default:
			return "has a character outside A-Z 0-9 - _ ."
		}
	}
	return ""
}

func isNation(s string) bool {
	if len(s) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// IsToken reports whether s is a well-formed compartment or agreement token
// (canonical: upper case). It interns nothing.
func IsToken(s string) bool { return checkToken(s) == "" }

// IsNation reports whether s is a well-formed ISO 3166 alpha-3 code (three
// upper-case letters). It does not check the code is assigned.
func IsNation(s string) bool { return isNation(s) }
