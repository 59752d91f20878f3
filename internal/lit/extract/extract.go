// Package extract reads facts from the text of publications without a
// language model: chemical formulas and material names, numeric property
// statements with units and conditions ("the band gap of CsPbI3 is
// 1.73 eV", "yield 87 %", "at 350 °C", "1.2 × 10⁻³ S/cm"), and the methods
// and instruments a sentence names.
//
// It guarantees: Extract never panics and reads any input (invalid UTF-8
// included) in time linear in its length for bounded sentences; every
// span is a byte range of the input on rune boundaries; the same text
// gives the same assertions; every string it returns is valid UTF-8
// without control characters; every value is finite and in its property's
// canonical unit (Properties lists them). Extraction is rule-based:
// phrase tables, a periodic-table formula reader, a dimensional unit
// reader and a few attachment rules, so its precision and recall are
// measured on a hand-checked gold set (Evaluate, Gold).
package extract

import (
	"math"
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/text"
)

// maxSentence bounds the work on one sentence: longer runs without a
// sentence end are read in windows of this size.
const maxSentence = 2048

// roomTemperature is what "at room temperature" means, in K.
const roomTemperature = 298.15

// Extract returns the assertions a passage's text states, in order of
// Start. Start and End span the sentence each was read from. It is safe
// for concurrent use.
func Extract(textIn string) []lit.Assertion {
	lower := lowerASCII(textIn)
	var out []lit.Assertion
	for _, sp := range sentences(textIn) {
		for _, w := range windows(textIn, sp) {
			out = append(out, extractSentence(textIn, lower, w)...)
		}
	}
	return out
}

// windows cuts an over-long sentence into pieces at spaces.
func windows(t string, sp span) []span {
	if sp.end-sp.start <= maxSentence {
		return []span{sp}
	}
	var out []span
	for s := sp.start; s < sp.end; {
		e := s + maxSentence
		if e >= sp.end {
			out = append(out, span{s, sp.end})
			break
		}
		k := strings.LastIndexByte(t[s:e], ' ')
		if k > 0 {
			e = s + k
		} else {
			for e > s && !utf8.RuneStart(t[e]) {
				e--
			}
			if e == s {
				e = s + maxSentence
				for e < sp.end && !utf8.RuneStart(t[e]) {
					e++
				}
			}
		}
		out = append(out, span{s, e})
		s = e
	}
	return out
}

// propMention is a property phrase in a sentence.
type propMention struct {
	start, end int
	p          *property
	used       bool
}

// sentenceFacts holds what one sentence says, before assembling.
type sentenceFacts struct {
	s, ls      string // sentence and its lower-cased copy
	props      []*propMention
	mats       []Mention
	subjects   []Mention // mentions that may be the subject of a statement
	quants     []quantity
	methods    []string
	conditions []condAt
	respective bool
}

type condAt struct {
	pos  int
	c    lit.Condition
	list []lit.Condition // a list of conditions read "respectively"
}

func extractSentence(t, lower string, sp span) []lit.Assertion {
	f := &sentenceFacts{s: t[sp.start:sp.end], ls: lower[sp.start:sp.end]}
	s, ls := f.s, f.ls
	if strings.IndexAny(s, "0123456789") < 0 {
		return nil // no number, no statement (numbers in words are not read)
	}
	ms := phrases.findAll(s, ls)
	for _, m := range ms[kindProperty] {
		if m.e.value == ignore {
			continue
		}
		f.props = append(f.props, &propMention{start: m.start, end: m.end, p: properties[m.e.value]})
	}
	f.mats = materials(s, ms)
	f.quants = scanQuantities(s, f.mats)
	if len(f.quants) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, m := range ms[kindMethod] {
		if !seen[m.e.value] {
			seen[m.e.value] = true
			f.methods = append(f.methods, m.e.value)
		}
	}
	f.respective = strings.Contains(ls, "respectively")
	atmos := f.atmospheres(ms[kindAtmosphere])
	f.roomTemperature()
	f.chooseSubjects(atmos)

	type found struct {
		a    lit.Assertion
		k, n int // the k-th of n values of one quantity
	}
	var facts []found
	claimed := make([]bool, len(f.quants))
	for qi := range f.quants {
		q := &f.quants[qi]
		pm := f.pair(q)
		if pm == nil {
			pm = f.implicit(q)
		}
		if pm == nil {
			continue
		}
		pm.used = true
		claimed[qi] = true
		for k := range q.values {
			a, ok := f.assertion(pm, q, k)
			if ok {
				a.Start, a.End = sp.start, sp.end
				facts = append(facts, found{a, k, len(q.values)})
			}
		}
	}
	if len(facts) == 0 {
		return nil
	}
	// unclaimed temperatures, pressures and times are conditions
	for qi := range f.quants {
		q := &f.quants[qi]
		if claimed[qi] || !q.hasUnit {
			continue
		}
		for _, name := range []string{"temperature", "pressure", "time"} {
			p := properties[name]
			if q.u.d != p.u.d {
				continue
			}
			c := condAt{pos: q.start}
			for k := range q.values {
				v, ok := p.convert(q.mid(k), q.u)
				if !ok || !finite(v) || name == "temperature" && v < 0 {
					c.list = nil
					break
				}
				c.list = append(c.list, lit.Condition{Name: name, Value: lit.Value{Value: v, Unit: p.unit, Raw: clean(q.raw)}})
			}
			if len(c.list) > 0 {
				c.c = c.list[0]
				f.conditions = append(f.conditions, c)
			}
		}
	}
	for _, a := range atmos {
		f.conditions = append(f.conditions, condAt{pos: a.start, c: lit.Condition{Name: "atmosphere", Value: lit.Value{Raw: a.e.value}}})
	}
	sortConds(f.conditions)
	out := make([]lit.Assertion, 0, len(facts))
	for _, fd := range facts {
		a := fd.a
		for _, c := range f.conditions {
			// "3.28, 3.30 and 3.31 eV for 100, 200 and 300 °C, respectively"
			if f.respective && fd.n > 1 && len(c.list) == fd.n {
				a.Conditions = append(a.Conditions, c.list[fd.k])
			} else {
				a.Conditions = append(a.Conditions, c.c)
			}
		}
		if len(f.methods) > 0 {
			a.Methods = append([]string(nil), f.methods...)
		}
		out = append(out, a)
	}
	return out
}

func sortConds(cs []condAt) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j-1].pos > cs[j].pos; j-- {
			cs[j-1], cs[j] = cs[j], cs[j-1]
		}
	}
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// atmospheres finds the gases and ambients a sentence puts its sample in:
// "in air", "under N2", "under flowing O2", "in N2/Ar atmosphere",
// "(350 °C, 30 min, N2)".
func (f *sentenceFacts) atmospheres(found []phraseMatch) []phraseMatch {
	var out []phraseMatch
	// mixtures: "N2/Ar", "H2/Ar" are one atmosphere
	var merged []phraseMatch
	for i := 0; i < len(found); i++ {
		m := found[i]
		for i+1 < len(found) && found[i+1].start == m.end+1 && f.s[m.end] == '/' {
			n := found[i+1]
			m = phraseMatch{start: m.start, end: n.end, e: &entry{value: m.e.value + "/" + n.e.value}}
			i++
		}
		merged = append(merged, m)
	}
	for _, m := range merged {
		before := strings.TrimRight(f.ls[:m.start], " ")
		after := f.ls[m.end:]
		ok := false
		for _, w := range []string{" in", " under", "flowing", " in an", " under an", " in a", " in dry", " in pure", " under dry", "(in", "(under"} {
			if strings.HasSuffix(" "+before, w) {
				ok = true
			}
		}
		if strings.HasPrefix(after, " atmosphere") || strings.HasPrefix(after, " gas") || strings.HasPrefix(after, " flow") || strings.HasPrefix(after, "-filled") {
			ok = true
		}
		if strings.HasSuffix(before, ",") && strings.HasPrefix(after, ")") {
			ok = true
		}
		if ok {
			out = append(out, m)
		}
	}
	return out
}

// roomTemperature adds "at room temperature" (298.15 K) as a condition.
func (f *sentenceFacts) roomTemperature() {
	for _, w := range []string{"room temperature", "room-temperature", "ambient temperature"} {
		if k := strings.Index(f.ls, w); k >= 0 {
			f.conditions = append(f.conditions, condAt{pos: k, c: lit.Condition{Name: "temperature",
				Value: lit.Value{Value: roomTemperature, Unit: "K", Raw: f.s[k : k+len(w)]}}})
			return
		}
	}
}

// chooseSubjects keeps the mentions that can be what a statement is about:
// not an ion, not a gas the sample sits in, not a ratio ("Si/Al ratio"),
// not a substrate ("grown on Cu foil").
func (f *sentenceFacts) chooseSubjects(atmos []phraseMatch) {
	for _, m := range f.mats {
		if strings.Contains(m.Formula, "^") {
			continue
		}
		if overlapsAny(m.Start, m.End, atmos) {
			continue
		}
		after := f.ls[m.End:]
		if strings.HasPrefix(after, " ratio") || strings.HasPrefix(after, " content") || strings.HasPrefix(after, " loading") {
			continue
		}
		if f.substrate(m) {
			continue
		}
		f.subjects = append(f.subjects, m)
	}
}

var substrateVerbs = []string{"grown on ", "deposited on ", "coated on ", "supported on ", "transferred onto ",
	"transferred on ", "deposited onto ", "grown onto ", "evaporated on ", "sputtered on ", "placed on "}

// substrate reports whether m is what something was grown or deposited
// on: "graphene grown on Cu foil", "deposited on Si". (A substrate named
// as the subject — "the InP wafer (band gap 1.34 eV)" — stays one.)
func (f *sentenceFacts) substrate(m Mention) bool {
	before := f.ls[:m.Start]
	for _, v := range substrateVerbs {
		if strings.HasSuffix(before, v) {
			return true
		}
	}
	return false
}

// pair finds the property a quantity is the value of: the nearest unused
// property of the quantity's dimension, preferring one before it. A
// quantity after "by" is a change ("lowers the formation energy by
// 0.2 eV"), not a value.
func (f *sentenceFacts) pair(q *quantity) *propMention {
	if before := strings.TrimRight(f.ls[:q.start], " ~≈"); strings.HasSuffix(before, " by") {
		return nil
	}
	var best *propMention
	bestScore := math.MaxInt
	for _, pm := range f.props {
		if pm.used || !pm.p.accepts(q.u, q.values[0]) {
			continue
		}
		if !q.hasUnit && !pm.p.u.dimensionless() && !pm.p.fraction {
			continue
		}
		if q.hasUnit && pm.p.u.dimensionless() {
			continue
		}
		score := 0
		switch {
		case pm.end <= q.start:
			d := q.start - pm.end
			limit := 150
			if !q.hasUnit {
				limit = 40
			}
			if d > limit || !q.hasUnit && f.plainNumberBetween(pm.end, q.start) {
				continue
			}
			score = d
		case pm.start >= q.end:
			d := pm.start - q.end
			if d > 30 || !q.hasUnit {
				continue
			}
			score = 2*d + 10
		default:
			continue
		}
		if score < bestScore {
			best, bestScore = pm, score
		}
	}
	return best
}

// plainNumberBetween reports whether a number without a unit stands
// between a and b (then a later plain number is not the property's value;
// "at 600 nm" between is a condition and does not count).
func (f *sentenceFacts) plainNumberBetween(a, b int) bool {
	for _, q := range f.quants {
		if !q.hasUnit && q.start >= a && q.end <= b {
			return true
		}
	}
	return false
}

var (
	layerWords    = map[string]bool{"layer": true, "layers": true, "film": true, "films": true, "coating": true, "shell": true, "interlayer": true}
	particleWords = map[string]bool{"nanoparticles": true, "particles": true, "nps": true, "nanocrystals": true, "nanospheres": true, "spheres": true, "crystallites": true, "nanocubes": true, "dots": true}
)

// unitProperties are the properties a unit names by itself: "delivers
// 117 mAh g−1" is a capacity, "1.2 × 10⁻³ S/cm" a conductivity. Units
// shared by several properties (eV, %, nm, K, g/cm3, cm-3, mA/cm2) are not
// here.
var unitProperties = []string{"conductivity", "mobility", "capacity", "surface_area", "specific_capacitance",
	"thermal_conductivity", "resistivity", "sheet_resistance", "seebeck_coefficient"}

// implicit reads a property no phrase names: a unit that names its
// property ("117 mAh g−1"); "the SnO2 layer (30 nm)" is a thickness,
// "ceria nanoparticles (8 nm)" a particle size.
func (f *sentenceFacts) implicit(q *quantity) *propMention {
	if !q.hasUnit {
		return nil
	}
	if before := strings.TrimRight(f.ls[:q.start], " ~≈"); !strings.HasSuffix(before, " by") {
		for _, name := range unitProperties {
			if p := properties[name]; q.u.d == p.u.d {
				return &propMention{start: q.start, end: q.start, p: p}
			}
		}
	}
	if !q.paren || q.u.d != dimLength {
		return nil
	}
	before := strings.TrimRight(f.ls[:q.start-1], " ")
	k := strings.LastIndexAny(before, " ")
	word := before[k+1:]
	name := ""
	switch {
	case layerWords[word]:
		name = "thickness"
	case particleWords[word]:
		name = "particle_size"
	default:
		return nil
	}
	pm := &propMention{start: q.start - 1, end: q.start - 1, p: properties[name]}
	return pm
}

// assertion builds the k-th value of q as a statement of pm.
func (f *sentenceFacts) assertion(pm *propMention, q *quantity, k int) (lit.Assertion, bool) {
	v, ok := pm.p.convert(q.mid(k), q.u)
	if !ok || !finite(v) {
		return lit.Assertion{}, false
	}
	val := lit.Value{Value: v, Unit: pm.p.unit, Raw: clean(q.raw)}
	if q.high > q.low && len(q.values) == 1 {
		lo, ok1 := pm.p.convert(q.low, q.u)
		hi, ok2 := pm.p.convert(q.high, q.u)
		if ok1 && ok2 && finite(lo) && finite(hi) && hi > lo {
			val.Low, val.High = lo, hi
		}
	}
	a := lit.Assertion{Property: pm.p.name, Value: val}
	if m, ok := f.subject(pm, q, k); ok {
		a.Material = clean(m.Text)
		a.Formula = clean(m.Formula)
	}
	return a, true
}

// subject picks the material a statement is about, in this order: a list
// read "respectively"; "<property> of/for/in <material>"; "<value> for
// <material>"; the nearest material before; the nearest after.
func (f *sentenceFacts) subject(pm *propMention, q *quantity, k int) (Mention, bool) {
	n := len(q.values)
	if n > 1 && f.respective {
		var before []Mention
		for _, m := range f.subjects {
			if m.End <= q.start {
				before = append(before, m)
			}
		}
		if len(before) >= n {
			return before[len(before)-n+k], true
		}
		// "… are 2.3 and 3.0 eV for CsPbBr3 and CsPbCl3, respectively"
		var after []Mention
		for _, m := range f.subjects {
			if m.Start >= q.end {
				after = append(after, m)
			}
		}
		if len(after) >= n {
			return after[k], true
		}
	}
	introduces := func(between string) bool {
		between = strings.TrimLeft(between, " ,")
		for _, w := range []string{"of ", "for ", "in ", "over "} {
			if strings.HasPrefix(between, w) {
				return !strings.ContainsAny(between, "0123456789")
			}
		}
		return false
	}
	// the product of a selectivity or a faradaic efficiency: "for CO",
	// "toward ethylene"
	target := func(m Mention) bool {
		if !targetModified[pm.p.name] {
			return false
		}
		before := strings.TrimRight(f.ls[:m.Start], " ")
		return strings.HasSuffix(before, " for") || strings.HasSuffix(before, " toward") ||
			strings.HasSuffix(before, " towards") || strings.HasSuffix(before, " to")
	}
	for _, m := range f.subjects {
		if m.Start >= pm.end && m.Start-pm.end <= 40 && (q.start < pm.start || m.End <= q.start) && introduces(f.ls[pm.end:m.Start]) && !target(m) {
			return m, true
		}
	}
	for _, m := range f.subjects {
		if m.Start >= q.end && m.Start-q.end <= 25 && !target(m) {
			if between := strings.TrimLeft(f.ls[q.end:m.Start], " ,"); introduces(between) || strings.HasPrefix(between, "on ") {
				return m, true
			}
		}
	}
	limit := pm.start
	if q.start < limit {
		limit = q.start
	}
	for i := len(f.subjects) - 1; i >= 0; i-- {
		m := f.subjects[i]
		if m.End > limit {
			continue
		}
		if targetModified[pm.p.name] && strings.TrimSpace(f.s[m.End:pm.start]) == "" {
			continue
		}
		return m, true
	}
	for _, m := range f.subjects {
		if m.Start >= pm.end && !target(m) {
			return m, true
		}
	}
	return Mention{}, false
}

// clean makes a string from the input safe to store and print.
func clean(s string) string {
	s, _ = text.Sanitize(s, false)
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
