package bo

import (
	"fmt"
	"math"
	"strconv"

	"github.com/genesis-science/genesis/internal/errors"
)

// Kind is the type of a search-space parameter.
type Kind string

const (
	Continuous  Kind = "continuous"
	Integer     Kind = "integer"
	Categorical Kind = "categorical"
)

// Param is one dimension of a search space.
//
// A Point holds one float64 per Param: the value itself for Continuous and
// Integer parameters, and the index into Categories for Categorical ones.
type Param struct {
	Name string  `json:"name"`
	Kind Kind    `json:"kind"`
	Low  float64 `json:"low,omitempty"`
	High float64 `json:"high,omitempty"`
	// Log models the parameter on a logarithmic scale (Low must be > 0).
	Log        bool     `json:"log,omitempty"`
	Categories []string `json:"categories,omitempty"`
	// Descriptors optionally gives a numeric vector per category (same length
	// for all). With descriptors, the surrogate sees the (min-max scaled)
	// vectors instead of a Hamming distance. See ReduceDescriptors for tables
	// with many columns.
	Descriptors [][]float64 `json:"descriptors,omitempty"`
}

// Relation is the comparison of a LinearConstraint.
type Relation string

const (
	LessEq    Relation = "<="
	GreaterEq Relation = ">="
	Equal     Relation = "=="
)

// LinearConstraint requires Σ Coef[name]·x[name] Rel RHS over continuous or
// integer (non-log) parameters, in the parameters' own units.
type LinearConstraint struct {
	Coef map[string]float64 `json:"coef"`
	Rel  Relation           `json:"rel"`
	RHS  float64            `json:"rhs"`
}

// Space is a search space. If Pool is non-empty the optimiser only ever
// suggests rows of Pool (each row a Point of len(Params)).
type Space struct {
	Params      []Param            `json:"params"`
	Constraints []LinearConstraint `json:"constraints,omitempty"`
	Pool        []Point            `json:"pool,omitempty"`
}

// Point is a location in a Space, one value per Param (category index for
// categorical parameters).
type Point []float64

// constraintTol is the feasibility tolerance of linear constraints, relative
// to the scale of the constraint.
const constraintTol = 1e-7

// encoding maps points to model features: refinable features (continuous and
// integer parameters, in the unit cube), fixed features (descriptor vectors of
// categorical parameters) and categorical indices (Hamming kernel).
type encoding struct {
	space    *Space
	nRefine  int   // number of refinable features (one per continuous/integer param)
	nFeat    int   // total number of numeric features
	featOf   []int // param index -> first feature (or -1)
	catOf    []int // param index -> categorical slot (or -1)
	nCat     int   // number of Hamming categorical slots
	descLo   [][]float64
	descSpan [][]float64
	// linear constraints in the refinable-feature unit cube: A u (rel) b
	consA   [][]float64
	consB   []float64
	consRel []Relation
	consSc  []float64 // scale for tolerance
}

func validateSpace(s *Space) error {
	const op errors.Op = "bo.validateSpace"
	if len(s.Params) == 0 {
		return errors.E(op, errors.Invalid, errors.Msg("search space has no parameters"))
	}
	names := map[string]int{}
	for i, p := range s.Params {
		f := errors.Field(fmt.Sprintf("params[%d]", i))
		if p.Name == "" {
			return errors.E(op, errors.Invalid, f, errors.Msg("parameter has no name"))
		}
		if _, dup := names[p.Name]; dup {
			return errors.E(op, errors.Invalid, f, errors.Msg("duplicate parameter name "+strconv.Quote(p.Name)))
		}
		names[p.Name] = i
		switch p.Kind {
		case Continuous, Integer:
			if !finite(p.Low) || !finite(p.High) || !(p.High > p.Low) {
				return errors.E(op, errors.Invalid, f, errors.Msg("parameter "+strconv.Quote(p.Name)+" needs finite bounds with low < high"))
			}
			if p.Log && p.Low <= 0 {
				return errors.E(op, errors.Invalid, f, errors.Msg("log-scaled parameter "+strconv.Quote(p.Name)+" needs low > 0"))
			}
			if p.Kind == Integer && math.Ceil(p.Low) > math.Floor(p.High) {
				return errors.E(op, errors.Invalid, f, errors.Msg("integer parameter "+strconv.Quote(p.Name)+" has no integer in its bounds"))
			}
		case Categorical:
			if len(p.Categories) < 1 {
				return errors.E(op, errors.Invalid, f, errors.Msg("categorical parameter "+strconv.Quote(p.Name)+" has no categories"))
			}
			if p.Descriptors != nil {
				if len(p.Descriptors) != len(p.Categories) {
					return errors.E(op, errors.Invalid, f, errors.Msg("descriptors must have one row per category"))
				}
				for _, d := range p.Descriptors {
					if len(d) != len(p.Descriptors[0]) || len(d) == 0 {
						return errors.E(op, errors.Invalid, f, errors.Msg("descriptor rows must have the same non-zero length"))
					}
					for _, v := range d {
						if !finite(v) {
							return errors.E(op, errors.Invalid, f, errors.Msg("descriptors must be finite"))
						}
					}
				}
			}
		default:
			return errors.E(op, errors.Invalid, f, errors.Msg("unknown parameter kind "+strconv.Quote(string(p.Kind))))
		}
	}
	for ci, c := range s.Constraints {
		f := errors.Field(fmt.Sprintf("constraints[%d]", ci))
		if c.Rel != LessEq && c.Rel != GreaterEq && c.Rel != Equal {
			return errors.E(op, errors.Invalid, f, errors.Msg("constraint relation must be <=, >= or =="))
		}
		if len(c.Coef) == 0 || !finite(c.RHS) {
			return errors.E(op, errors.Invalid, f, errors.Msg("constraint needs coefficients and a finite right-hand side"))
		}
		for name, a := range c.Coef {
			i, ok := names[name]
			if !ok {
				return errors.E(op, errors.Invalid, f, errors.Msg("constraint names unknown parameter "+strconv.Quote(name)))
			}
			p := s.Params[i]
			if p.Kind == Categorical || p.Log {
				return errors.E(op, errors.Invalid, f, errors.Msg("constraints may only use linear-scale continuous or integer parameters"))
			}
			if !finite(a) {
				return errors.E(op, errors.Invalid, f, errors.Msg("constraint coefficients must be finite"))
			}
		}
	}
	for i, pt := range s.Pool {
		if err := s.check(pt, false); err != nil {
			return errors.E(op, errors.Invalid, errors.Field(fmt.Sprintf("pool[%d]", i)), err)
		}
	}
	return nil
}

// Contains reports whether p lies in the space: right length, in bounds,
// integers integral, valid category indices and linear constraints satisfied
// (pool membership is not checked).
func (s *Space) Contains(p Point) bool { return s.check(p, true) == nil }

func (s *Space) check(p Point, constraints bool) error {
	if len(p) != len(s.Params) {
		return errors.E(errors.Invalid, errors.Msg(fmt.Sprintf("point has %d values, want %d", len(p), len(s.Params))))
	}
	for i, prm := range s.Params {
		v := p[i]
		if !finite(v) {
			return errors.E(errors.Invalid, errors.Msg("value of "+strconv.Quote(prm.Name)+" is not finite"))
		}
		switch prm.Kind {
		case Continuous, Integer:
			if v < prm.Low || v > prm.High {
				return errors.E(errors.Invalid, errors.Msg("value of "+strconv.Quote(prm.Name)+" is out of bounds"))
			}
			if prm.Kind == Integer && v != math.Round(v) {
				return errors.E(errors.Invalid, errors.Msg("value of "+strconv.Quote(prm.Name)+" is not an integer"))
			}
		case Categorical:
			if v != math.Round(v) || v < 0 || int(v) >= len(prm.Categories) {
				return errors.E(errors.Invalid, errors.Msg("value of "+strconv.Quote(prm.Name)+" is not a category index"))
			}
		}
	}
	if constraints {
		idx := map[string]int{}
		for i, prm := range s.Params {
			idx[prm.Name] = i
		}
		for _, c := range s.Constraints {
			lhs, scale := 0.0, math.Abs(c.RHS)
			for name, a := range c.Coef {
				lhs += a * p[idx[name]]
				scale += math.Abs(a * p[idx[name]])
			}
			tol := constraintTol * math.Max(1, scale)
			switch c.Rel {
			case LessEq:
				if lhs > c.RHS+tol {
					return errors.E(errors.Invalid, errors.Msg("point violates a linear constraint"))
				}
			case GreaterEq:
				if lhs < c.RHS-tol {
					return errors.E(errors.Invalid, errors.Msg("point violates a linear constraint"))
				}
			case Equal:
				if math.Abs(lhs-c.RHS) > tol {
					return errors.E(errors.Invalid, errors.Msg("point violates a linear constraint"))
				}
			}
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func newEncoding(s *Space) *encoding {
	e := &encoding{space: s, featOf: make([]int, len(s.Params)), catOf: make([]int, len(s.Params))}
	for i, p := range s.Params {
		e.featOf[i], e.catOf[i] = -1, -1
		if p.Kind != Categorical {
			e.featOf[i] = e.nRefine
			e.nRefine++
		}
	}
	e.nFeat = e.nRefine
	e.descLo = make([][]float64, len(s.Params))
	e.descSpan = make([][]float64, len(s.Params))
	for i, p := range s.Params {
		if p.Kind != Categorical {
			continue
		}
		if p.Descriptors == nil {
			e.catOf[i] = e.nCat
			e.nCat++
		}
		if p.Descriptors == nil {
			continue
		}
		e.featOf[i] = e.nFeat
		m := len(p.Descriptors[0])
		lo, span := make([]float64, m), make([]float64, m)
		for j := 0; j < m; j++ {
			mn, mx := math.Inf(1), math.Inf(-1)
			for _, d := range p.Descriptors {
				mn, mx = math.Min(mn, d[j]), math.Max(mx, d[j])
			}
			lo[j], span[j] = mn, mx-mn
		}
		e.descLo[i], e.descSpan[i] = lo, span
		e.nFeat += m
	}
	idx := map[string]int{}
	for i, p := range s.Params {
		idx[p.Name] = i
	}
	for _, c := range s.Constraints {
		a := make([]float64, e.nRefine)
		b := c.RHS
		sc := math.Abs(c.RHS)
		for name, coef := range c.Coef {
			i := idx[name]
			p := s.Params[i]
			a[e.featOf[i]] += coef * (p.High - p.Low)
			b -= coef * p.Low
			sc += math.Abs(coef) * math.Max(math.Abs(p.Low), math.Abs(p.High))
		}
		e.consA = append(e.consA, a)
		e.consB = append(e.consB, b)
		e.consRel = append(e.consRel, c.Rel)
		e.consSc = append(e.consSc, math.Max(1, sc))
	}
	return e
}

// encode writes p's features into feat (len nFeat) and category indices into cat (len nCat).
func (e *encoding) encode(p Point, feat []float64, cat []int) {
	for i, prm := range e.space.Params {
		switch prm.Kind {
		case Continuous, Integer:
			feat[e.featOf[i]] = toUnit(prm, p[i])
		case Categorical:
			c := int(p[i])
			if e.catOf[i] >= 0 {
				cat[e.catOf[i]] = c
			}
			if prm.Descriptors == nil {
				continue
			}
			for j, v := range prm.Descriptors[c] {
				if e.descSpan[i][j] > 0 {
					feat[e.featOf[i]+j] = (v - e.descLo[i][j]) / e.descSpan[i][j]
				} else {
					feat[e.featOf[i]+j] = 0
				}
			}
		}
	}
}

func toUnit(p Param, v float64) float64 {
	if p.Log {
		return (math.Log(v) - math.Log(p.Low)) / (math.Log(p.High) - math.Log(p.Low))
	}
	return (v - p.Low) / (p.High - p.Low)
}

func fromUnit(p Param, u float64) float64 {
	u = clamp(u, 0, 1)
	var v float64
	if p.Log {
		v = math.Exp(math.Log(p.Low) + u*(math.Log(p.High)-math.Log(p.Low)))
	} else {
		v = p.Low + u*(p.High-p.Low)
	}
	if p.Kind == Integer {
		v = math.Round(v)
		lo, hi := math.Ceil(p.Low), math.Floor(p.High)
		v = clamp(v, lo, hi)
	}
	return clamp(v, p.Low, p.High)
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// decode builds a Point from refinable unit features u (len nRefine) and
// category choices cats (one per param; ignored for non-categorical).
func (e *encoding) decode(u []float64, cats []int) Point {
	p := make(Point, len(e.space.Params))
	for i, prm := range e.space.Params {
		if prm.Kind == Categorical {
			p[i] = float64(cats[i])
		} else {
			p[i] = fromUnit(prm, u[e.featOf[i]])
		}
	}
	return p
}

// feasibleUnit reports whether refinable unit features satisfy the box and linear constraints.
func (e *encoding) feasibleUnit(u []float64) bool {
	for _, v := range u {
		if v < 0 || v > 1 {
			return false
		}
	}
	for k, a := range e.consA {
		lhs := dot(a, u)
		tol := 0.1 * constraintTol * e.consSc[k]
		switch e.consRel[k] {
		case LessEq:
			if lhs > e.consB[k]+tol {
				return false
			}
		case GreaterEq:
			if lhs < e.consB[k]-tol {
				return false
			}
		case Equal:
			if math.Abs(lhs-e.consB[k]) > tol {
				return false
			}
		}
	}
	return true
}

// project moves u (in place) towards the feasible set: the unit box intersected
// with the linear constraints, by cyclic projections. It reports whether the
// result is feasible.
func (e *encoding) project(u []float64) bool {
	for i := range u {
		u[i] = clamp(u[i], 0, 1)
	}
	if len(e.consA) == 0 {
		return true
	}
	for it := 0; it < 500; it++ {
		moved := false
		for k, a := range e.consA {
			lhs := dot(a, u)
			var viol float64
			switch e.consRel[k] {
			case LessEq:
				viol = math.Max(0, lhs-e.consB[k])
			case GreaterEq:
				viol = math.Min(0, lhs-e.consB[k])
			case Equal:
				viol = lhs - e.consB[k]
			}
			if viol == 0 {
				continue
			}
			// Project onto the hyperplane, only moving coordinates that can move.
			var nn float64
			for i, ai := range a {
				if ai == 0 {
					continue
				}
				if (viol*ai > 0 && u[i] > 0) || (viol*ai < 0 && u[i] < 1) {
					nn += ai * ai
				}
			}
			if nn == 0 {
				continue
			}
			for i, ai := range a {
				if ai == 0 {
					continue
				}
				if (viol*ai > 0 && u[i] > 0) || (viol*ai < 0 && u[i] < 1) {
					u[i] = clamp(u[i]-viol*ai/nn, 0, 1)
				}
			}
			moved = true
		}
		if !moved || e.feasibleUnit(u) {
			break
		}
	}
	return e.feasibleUnit(u)
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// pointKey is an exact identity for a point (used for pools and de-duplication).
func pointKey(p Point) string {
	b := make([]byte, 0, 8*len(p))
	for _, v := range p {
		bits := math.Float64bits(v + 0) // +0 folds -0 into 0
		for k := 0; k < 8; k++ {
			b = append(b, byte(bits>>(8*k)))
		}
	}
	return string(b)
}
