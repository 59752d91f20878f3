package instruments

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
)

// num prints a value with its unit: "180 °C".
func num(v float64, unit string) string {
	s := strconv.FormatFloat(v, 'g', -1, 64)
	if unit != "" {
		s += " " + unit
	}
	return s
}

// narrowable checks an operator's bounds against the driver's: each names
// an action and parameter the instrument has, and only narrows — a
// widening is refused naming the parameter and the bound.
func narrowable(info *lab.Info, b Bounds) error {
	for _, an := range sortedKeys(b) {
		a := info.Action(an)
		if a == nil {
			return invalid("bounds", "bounds name action "+quote(an)+", which the instrument does not offer")
		}
		for _, pn := range sortedKeys(b[an]) {
			bd := b[an][pn]
			field := "bounds." + an + "." + pn
			i := slices.IndexFunc(a.Params, func(p lab.Param) bool { return p.Name == pn })
			if i < 0 {
				return invalid(field, "bounds name parameter "+quote(pn)+", which action "+quote(an)+" does not take")
			}
			p := a.Params[i]
			if p.Kind == lab.Choice {
				if bd.Min != nil || bd.Max != nil {
					return invalid(field, pn+" is a choice: bound it with choices, not min or max")
				}
				if bd.Choices != nil && len(bd.Choices) == 0 {
					return invalid(field, pn+": an empty list of choices would forbid the action; take the instrument offline instead")
				}
				for _, c := range bd.Choices {
					if !slices.Contains(p.Choices, c) {
						return invalid(field, pn+" choice "+quote(c)+" is not one the instrument offers; operator bounds may only narrow")
					}
				}
				continue
			}
			if bd.Choices != nil {
				return invalid(field, pn+" is a number: bound it with min and max, not choices")
			}
			for _, v := range []*float64{bd.Min, bd.Max} {
				if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
					return invalid(field, pn+": bounds must be finite numbers")
				}
			}
			if bd.Min != nil {
				if p.Min != nil && *bd.Min < *p.Min {
					return invalid(field+".min", pn+" minimum "+num(*bd.Min, p.Unit)+" is below the instrument's bound "+num(*p.Min, p.Unit)+"; operator bounds may only narrow")
				}
				if p.Max != nil && *bd.Min > *p.Max {
					return invalid(field+".min", pn+" minimum "+num(*bd.Min, p.Unit)+" is above the instrument's maximum "+num(*p.Max, p.Unit))
				}
			}
			if bd.Max != nil {
				if p.Max != nil && *bd.Max > *p.Max {
					return invalid(field+".max", pn+" maximum "+num(*bd.Max, p.Unit)+" is above the instrument's bound "+num(*p.Max, p.Unit)+"; operator bounds may only narrow")
				}
				if p.Min != nil && *bd.Max < *p.Min {
					return invalid(field+".max", pn+" maximum "+num(*bd.Max, p.Unit)+" is below the instrument's minimum "+num(*p.Min, p.Unit))
				}
			}
			if bd.Min != nil && bd.Max != nil && *bd.Min > *bd.Max {
				return invalid(field, pn+" minimum "+num(*bd.Min, p.Unit)+" is above its maximum "+num(*bd.Max, p.Unit))
			}
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// effective returns the driver's actions with each parameter's bounds
// narrowed by the operator's: the tighter of the two, always (bounds that
// no longer fit a refreshed description still only narrow).
func effective(info *lab.Info, b Bounds) []lab.Action {
	out := make([]lab.Action, len(info.Actions))
	for i, a := range info.Actions {
		a.Params = slices.Clone(a.Params)
		for j := range a.Params {
			p := &a.Params[j]
			bd, ok := b[a.Name][p.Name]
			if !ok {
				continue
			}
			if bd.Min != nil && (p.Min == nil || *bd.Min > *p.Min) {
				v := *bd.Min
				p.Min = &v
			}
			if bd.Max != nil && (p.Max == nil || *bd.Max < *p.Max) {
				v := *bd.Max
				p.Max = &v
			}
			if bd.Choices != nil && p.Kind == lab.Choice {
				p.Choices = slices.DeleteFunc(slices.Clone(p.Choices), func(c string) bool { return !slices.Contains(bd.Choices, c) })
			}
		}
		out[i] = a
	}
	return out
}

// CheckParams checks the parameters of a request for action a against its
// kinds and safety bounds: unknown, missing, non-finite, mistyped,
// non-integral and out-of-bounds values are errors.Invalid whose message
// names the parameter and the bound.
func CheckParams(a *lab.Action, params map[string]any) error {
	for _, k := range sortedKeys(params) {
		if !slices.ContainsFunc(a.Params, func(p lab.Param) bool { return p.Name == k }) {
			return paramErr(k, "unknown parameter "+quote(k)+" for action "+quote(a.Name))
		}
	}
	for _, p := range a.Params {
		v, ok := params[p.Name]
		if !ok || v == nil {
			if !p.Optional {
				return paramErr(p.Name, p.Name+" is required by action "+quote(a.Name))
			}
			continue
		}
		if p.Kind == lab.Choice {
			s, ok := v.(string)
			if !ok {
				return paramErr(p.Name, p.Name+" must be one of "+strings.Join(p.Choices, ", "))
			}
			if !slices.Contains(p.Choices, s) {
				return paramErr(p.Name, p.Name+" "+quote(s)+" is not one of the allowed choices "+strings.Join(p.Choices, ", "))
			}
			continue
		}
		f, ok := number(v)
		if !ok {
			return paramErr(p.Name, p.Name+" must be a number")
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return paramErr(p.Name, p.Name+" must be a finite number")
		}
		if p.Kind == lab.Integer && f != math.Trunc(f) {
			return paramErr(p.Name, p.Name+" "+num(f, p.Unit)+" must be an integer")
		}
		if p.Min != nil && f < *p.Min {
			return paramErr(p.Name, p.Name+" "+num(f, p.Unit)+" is below the safety bound "+num(*p.Min, p.Unit))
		}
		if p.Max != nil && f > *p.Max {
			return paramErr(p.Name, p.Name+" "+num(f, p.Unit)+" is above the safety bound "+num(*p.Max, p.Unit))
		}
	}
	return nil
}

func paramErr(name, msg string) error {
	return errors.E(errors.Op("instruments.Admit"), errors.Invalid, errors.Field("params."+name), errors.Msg(msg))
}

// number accepts the Go number types a request may carry (float64 from
// JSON, integers from code).
func number(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case int32:
		return float64(x), true
	}
	return 0, false
}
