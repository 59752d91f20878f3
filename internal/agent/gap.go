package agent

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/lit"
)

const (
	gapMaxFacts = 2000 // facts of the property read per run
	gapCite     = 4    // passages cited per material
)

// gapScore is the stated score of a property-gap hypothesis.
const gapScore = "closeness + support: closeness = 1/(1+|value−target|/tol), tol = 5% of |target| (1 when the target is 0); " +
	"a mix of two bracketing materials counts its predicted value (linear interpolation) as at the target and its closeness as 1/(1+(high−low)/(4·tol)); " +
	"for min/max targets closeness is the value's position in the range seen; support = 0.1·ln(1+facts)"

// material is what the facts say about one material.
type material struct {
	name     string
	values   []float64
	facts    []string
	passages []string
	conds    map[string][2]float64
	units    map[string]string
}

func (m *material) mean() float64 {
	s := 0.0
	for _, v := range m.values {
		s += v
	}
	return s / float64(len(m.values))
}

// gaps proposes materials and compositions near the target from the facts
// of its property p may read.
func (s *Service) gaps(ctx context.Context, rd *reader, t *Target, limit int) ([]Hypothesis, error) {
	facts, err := rd.factsOf(ctx, lit.FactQuery{Property: t.Property, Limit: 500}, gapMaxFacts)
	if err != nil {
		return nil, err
	}
	byName := map[string]*material{}
	var order []string
	for _, f := range facts {
		if !finite(f.Value.Value) {
			continue
		}
		if t.Unit != "" && f.Value.Unit != "" && !strings.EqualFold(f.Value.Unit, t.Unit) {
			continue // another unit than the target's: not comparable
		}
		name := f.Formula
		if name == "" {
			name = f.Material
		}
		if name == "" {
			continue
		}
		key := strings.ToLower(name)
		m := byName[key]
		if m == nil {
			m = &material{name: name, conds: map[string][2]float64{}, units: map[string]string{}}
			byName[key] = m
			order = append(order, key)
		}
		m.values = append(m.values, f.Value.Value)
		m.facts = append(m.facts, f.ID)
		if len(m.passages) < gapCite && !contains(m.passages, f.Passage) {
			m.passages = append(m.passages, f.Passage)
		}
		for _, c := range f.Conditions {
			if !finite(c.Value.Value) || c.Name == "" {
				continue
			}
			r, ok := m.conds[c.Name]
			if !ok {
				r = [2]float64{c.Value.Value, c.Value.Value}
			}
			r[0], r[1] = math.Min(r[0], c.Value.Value), math.Max(r[1], c.Value.Value)
			m.conds[c.Name] = r
			m.units[c.Name] = c.Value.Unit
		}
	}
	if len(order) == 0 {
		return nil, nil
	}
	tol := 0.05 * math.Abs(t.Value)
	if tol == 0 {
		tol = 1
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, k := range order {
		v := byName[k].mean()
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	support := func(n int) float64 { return 0.1 * math.Log1p(float64(n)) }
	var out []Hypothesis
	for _, k := range order {
		m := byName[k]
		v := m.mean()
		var closeness float64
		switch t.Direction {
		case "max":
			closeness = position(v, lo, hi)
		case "min":
			closeness = 1 - position(v, lo, hi)
		default:
			closeness = 1 / (1 + math.Abs(v-t.Value)/tol)
		}
		stmt := fmt.Sprintf("%s (%s %s %s, %d facts) is a candidate for %s %s %s", m.name, t.Property, fmtNum(v), t.Unit, len(m.values), t.Property, dirWord(t.Direction), fmtNum(t.Value))
		out = append(out, Hypothesis{Method: MethodGap, Statement: strings.Join(strings.Fields(stmt), " "), Score: closeness + support(len(m.values)), ScoreExplained: gapScore,
			Claims:   []Claim{{Text: fmt.Sprintf("%s has %s %s %s", m.name, t.Property, fmtNum(v), t.Unit), Citations: m.passages}},
			Passages: sortedStrings(m.passages), Facts: m.facts,
			Gap: &GapProposal{Property: t.Property, Target: t.Value, Unit: t.Unit, Kind: "near", Material: m.name, Value: v, Direction: t.Direction, Conditions: m.conds, Units: m.units}})
	}
	if t.Direction == "near" || t.Direction == "" {
		// Pairs bracketing the target: a composition between them.
		for i, ki := range order {
			for _, kj := range order[i+1:] {
				a, b := byName[ki], byName[kj]
				va, vb := a.mean(), b.mean()
				if va > vb {
					a, b, va, vb = b, a, vb, va
				}
				if !(va < t.Value && t.Value < vb) {
					continue
				}
				x := (t.Value - va) / (vb - va)
				conds := map[string][2]float64{}
				units := map[string]string{}
				for _, m := range []*material{a, b} {
					for n, r := range m.conds {
						c, ok := conds[n]
						if !ok {
							c = r
						}
						conds[n] = [2]float64{math.Min(c[0], r[0]), math.Max(c[1], r[1])}
						units[n] = m.units[n]
					}
				}
				cites := append(append([]string{}, a.passages...), b.passages...)
				stmt := fmt.Sprintf("a mix of %s and %s with fraction %.2f of %s may reach %s %s %s (linear interpolation between %s and %s)",
					a.name, b.name, x, b.name, t.Property, fmtNum(t.Value), t.Unit, fmtNum(va), fmtNum(vb))
				out = append(out, Hypothesis{Method: MethodGap, Statement: strings.Join(strings.Fields(stmt), " "),
					Score: 1/(1+(vb-va)/(4*tol)) + support(len(a.values)+len(b.values)), ScoreExplained: gapScore,
					Claims: []Claim{
						{Text: fmt.Sprintf("%s has %s %s %s", a.name, t.Property, fmtNum(va), t.Unit), Citations: a.passages},
						{Text: fmt.Sprintf("%s has %s %s %s", b.name, t.Property, fmtNum(vb), t.Unit), Citations: b.passages},
					},
					Passages: sortedStrings(cites), Facts: append(append([]string{}, a.facts...), b.facts...),
					Gap: &GapProposal{Property: t.Property, Target: t.Value, Unit: t.Unit, Kind: "mix", Material: a.name, Value: va,
						Other: b.name, OtherVal: vb, Fraction: x, Direction: "near", Conditions: conds, Units: units}})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func position(v, lo, hi float64) float64 {
	if hi <= lo {
		return 1
	}
	return (v - lo) / (hi - lo)
}

func dirWord(d string) string {
	switch d {
	case "max":
		return "at least"
	case "min":
		return "at most"
	}
	return "near"
}

func fmtNum(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func sortedStrings(xs []string) []string {
	m := map[string]bool{}
	for _, x := range xs {
		m[x] = true
	}
	return sortedKeys(m)
}
