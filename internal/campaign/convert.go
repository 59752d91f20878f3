package campaign

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
)

// OptimizerConfig returns the optimizer configuration of a validated
// Spec: its search space (params in order, categorical descriptors in
// category order, linear constraints), objectives, outcome constraints,
// seed, budget (experiments; it sizes the initial design) and the
// optimizer settings. bo.New accepts every configuration of a Spec that
// Validate accepted. (Optimizer.Random is the runner's business: bo has no
// random mode.)
func (s *Spec) OptimizerConfig() (bo.Config, error) {
	const op errors.Op = "campaign.Spec.OptimizerConfig"
	var cfg bo.Config
	for i, p := range s.Params {
		bp := bo.Param{Name: p.Name, Kind: bo.Kind(p.Kind), Log: p.Log}
		switch bp.Kind {
		case bo.Continuous, bo.Integer:
			if p.Low == nil || p.High == nil {
				return bo.Config{}, errors.E(op, invalid(fmt.Sprintf("params[%d]", i), "missing bounds"))
			}
			bp.Low, bp.High = *p.Low, *p.High
		case bo.Categorical:
			bp.Categories = slices.Clone(p.Categories)
			if len(p.Descriptors) > 0 {
				bp.Descriptors = make([][]float64, len(p.Categories))
				for j, c := range p.Categories {
					bp.Descriptors[j] = slices.Clone(p.Descriptors[c])
				}
			}
		default:
			return bo.Config{}, errors.E(op, invalid(fmt.Sprintf("params[%d].kind", i), fmt.Sprintf("%q: want continuous, integer or categorical", clip(p.Kind))))
		}
		cfg.Space.Params = append(cfg.Space.Params, bp)
	}
	for _, c := range s.Constraints {
		coef := make(map[string]float64, len(c.Coef))
		for k, v := range c.Coef {
			coef[k] = v
		}
		cfg.Space.Constraints = append(cfg.Space.Constraints, bo.LinearConstraint{Coef: coef, Rel: bo.Relation(c.Rel), RHS: c.RHS})
	}
	pool, err := s.poolPoints()
	if err != nil {
		return bo.Config{}, errors.E(op, err)
	}
	cfg.Space.Pool = pool
	for _, o := range s.Objectives {
		cfg.Objectives = append(cfg.Objectives, bo.Objective{Name: o.Name, Goal: bo.Goal(o.Goal)})
	}
	for _, c := range s.OutcomeConstraints {
		cfg.Constraints = append(cfg.Constraints, bo.OutcomeConstraint{Name: c.Name, Rel: bo.Relation(c.Rel), Bound: c.Bound})
	}
	cfg.Seed = s.Seed
	cfg.Budget = s.Budget.Experiments
	cfg.Acquisition = bo.Acquisition(strings.ToLower(s.Optimizer.Acquisition))
	cfg.Kernel = bo.KernelType(strings.ToLower(s.Optimizer.Kernel))
	cfg.InitialPoints = s.Optimizer.InitialPoints
	cfg.Warp = s.Optimizer.Warp
	return cfg, nil
}

// ToPoint converts named parameter values (as an experiment records them:
// numbers for continuous and integer params, category names for
// categorical ones) to an optimizer point. Every param must be present,
// within its bounds (integers integral), no unknown name may appear, and
// the point must satisfy the linear constraints. Numbers may be any Go
// integer or float type, json.Number, or a numeric string.
func (s *Spec) ToPoint(params map[string]any) (bo.Point, error) {
	const op errors.Op = "campaign.Spec.ToPoint"
	p := make(bo.Point, len(s.Params))
	known := make(map[string]bool, len(s.Params))
	for i, prm := range s.Params {
		known[prm.Name] = true
		f := "params." + prm.Name
		v, ok := params[prm.Name]
		if !ok {
			return nil, errors.E(op, invalid(f, "missing"))
		}
		switch bo.Kind(prm.Kind) {
		case bo.Categorical:
			c, ok := v.(string)
			if !ok {
				return nil, errors.E(op, invalid(f, fmt.Sprintf("want one of the categories of %q, got a %T", prm.Name, v)))
			}
			j := slices.Index(prm.Categories, c)
			if j < 0 {
				j = slices.Index(prm.Categories, strings.TrimSpace(c))
			}
			if j < 0 {
				return nil, errors.E(op, invalid(f, fmt.Sprintf("%q is not a category of %q", clip(c), prm.Name)))
			}
			p[i] = float64(j)
		default:
			x, err := number(v)
			if err != nil {
				return nil, errors.E(op, invalid(f, err.Error()))
			}
			if prm.Low == nil || prm.High == nil || x < *prm.Low || x > *prm.High {
				return nil, errors.E(op, invalid(f, fmt.Sprintf("%s is outside the bounds [%s, %s]", fmtF(x), fmtF(deref(prm.Low)), fmtF(deref(prm.High)))))
			}
			if bo.Kind(prm.Kind) == bo.Integer && x != math.Round(x) {
				return nil, errors.E(op, invalid(f, fmt.Sprintf("%s is not an integer", fmtF(x))))
			}
			p[i] = x
		}
	}
	for _, k := range sortedKeys(params) {
		if !known[k] {
			return nil, errors.E(op, invalid("params."+clip(k), fmt.Sprintf("unknown parameter %q", clip(k))))
		}
	}
	if len(s.Constraints) > 0 {
		// The optimizer's own test (and tolerance), so that a point
		// accepted here is one bo.Observe accepts.
		sp := bo.Space{Params: make([]bo.Param, len(s.Params))}
		for i, prm := range s.Params {
			sp.Params[i] = bo.Param{Name: prm.Name, Kind: bo.Kind(prm.Kind), Low: deref(prm.Low), High: deref(prm.High), Categories: prm.Categories}
		}
		for ci, c := range s.Constraints {
			sp.Constraints = []bo.LinearConstraint{{Coef: c.Coef, Rel: bo.Relation(c.Rel), RHS: c.RHS}}
			if !sp.Contains(p) {
				return nil, errors.E(op, invalid(fmt.Sprintf("constraints[%d]", ci), "the parameters do not satisfy this constraint"))
			}
		}
	}
	return p, nil
}

// poolPoints converts the pool's rows to points, refusing (naming the row
// and param) a row ToPoint would refuse and a row listed twice. A number
// written for a categorical param names the category of its text ("90"
// for 90).
func (s *Spec) poolPoints() ([]bo.Point, error) {
	if len(s.Pool) == 0 {
		return nil, nil
	}
	cat := map[string]bool{}
	for _, p := range s.Params {
		cat[p.Name] = bo.Kind(p.Kind) == bo.Categorical
	}
	pts := make([]bo.Point, len(s.Pool))
	seen := make(map[string]int, len(s.Pool))
	row := map[string]any{}
	for i, r := range s.Pool {
		f := fmt.Sprintf("pool[%d]", i)
		clear(row)
		for k, v := range r {
			if cat[k] {
				if _, isStr := v.(string); !isStr {
					if x, err := number(v); err == nil {
						v = strconv.FormatFloat(x, 'g', -1, 64)
					}
				}
			}
			row[k] = v
		}
		p, err := s.ToPoint(row)
		if err != nil {
			field := f
			if ef := errors.FieldOf(err); ef != "" {
				field = f + "." + strings.TrimPrefix(ef, "params.")
			}
			return nil, errors.E(errors.Invalid, errors.Field(field), errors.Msg(f+": "+strings.TrimPrefix(errors.SafeMessage(err), "params.")))
		}
		key := fmt.Sprint(p)
		if j, dup := seen[key]; dup {
			return nil, invalid(f, fmt.Sprintf("the same candidate as pool[%d]", j))
		}
		seen[key] = i
		pts[i] = p
	}
	return pts, nil
}

func deref(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

// number converts a recorded number to float64, refusing non-finite ones.
func number(v any) (float64, error) {
	var x float64
	switch n := v.(type) {
	case float64:
		x = n
	case float32:
		x = float64(n)
	case int:
		x = float64(n)
	case int8:
		x = float64(n)
	case int16:
		x = float64(n)
	case int32:
		x = float64(n)
	case int64:
		x = float64(n)
	case uint:
		x = float64(n)
	case uint8:
		x = float64(n)
	case uint16:
		x = float64(n)
	case uint32:
		x = float64(n)
	case uint64:
		x = float64(n)
	case json.Number:
		f, err := n.Float64()
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", clip(string(n)))
		}
		x = f
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(n), 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not a number", clip(n))
		}
		x = f
	default:
		return 0, fmt.Errorf("want a number, got a %T", v)
	}
	if !finite(x) {
		return 0, fmt.Errorf("%s is not a finite number", fmtF(x))
	}
	return x, nil
}

// FromPoint names the values of an optimizer point: float64 for
// continuous and integer params (integers rounded), the category name for
// categorical ones. It is the inverse of ToPoint.
func (s *Spec) FromPoint(p bo.Point) map[string]any {
	m := make(map[string]any, len(s.Params))
	for i, prm := range s.Params {
		if i >= len(p) {
			break
		}
		switch bo.Kind(prm.Kind) {
		case bo.Categorical:
			j := int(math.Round(p[i]))
			if j >= 0 && j < len(prm.Categories) {
				m[prm.Name] = prm.Categories[j]
			}
		case bo.Integer:
			m[prm.Name] = math.Round(p[i])
		default:
			m[prm.Name] = p[i]
		}
	}
	return m
}

// outputName is the action output that measures quantity q.
func (s *Spec) outputName(q string) string {
	if o, ok := s.Executor.Outputs[q]; ok && o != "" {
		return o
	}
	return q
}

// Outputs lists the action outputs the executor must report: the
// objectives' then the outcome constraints', through Executor.Outputs,
// without repeats.
func (s *Spec) Outputs() []string {
	var out []string
	add := func(q string) {
		o := s.outputName(q)
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	for _, o := range s.Objectives {
		add(o.Name)
	}
	for _, c := range s.OutcomeConstraints {
		add(c.Name)
	}
	return out
}

// Measure turns an experiment's reported values (keyed by action output
// name) into an optimizer row: the objectives in order, then the outcome
// constraints. A missing or non-finite value is errors.Invalid naming it.
func (s *Spec) Measure(values map[string]float64) ([]float64, error) {
	const op errors.Op = "campaign.Spec.Measure"
	row := make([]float64, 0, len(s.Objectives)+len(s.OutcomeConstraints))
	get := func(q string) error {
		o := s.outputName(q)
		v, ok := values[o]
		if !ok {
			return errors.E(op, invalid("values."+o, fmt.Sprintf("the experiment reported no %q", o)))
		}
		if !finite(v) {
			return errors.E(op, invalid("values."+o, fmt.Sprintf("%q is not a finite number", o)))
		}
		row = append(row, v)
		return nil
	}
	for _, o := range s.Objectives {
		if err := get(o.Name); err != nil {
			return nil, err
		}
	}
	for _, c := range s.OutcomeConstraints {
		if err := get(c.Name); err != nil {
			return nil, err
		}
	}
	return row, nil
}

// Reached reports whether one experiment's values (as Measure takes them)
// reach the target: at least one objective has a target, every objective
// with a target reaches it (≥ for max, ≤ for min), and the outcome
// constraints hold. Values missing or not finite reach nothing.
func (s *Spec) Reached(values map[string]float64) bool {
	row, err := s.Measure(values)
	if err != nil {
		return false
	}
	any := false
	for i, o := range s.Objectives {
		if o.Target == nil {
			continue
		}
		any = true
		v, t := row[i], *o.Target
		if (o.Goal == "min" && v > t) || (o.Goal != "min" && v < t) {
			return false
		}
	}
	for j, c := range s.OutcomeConstraints {
		v := row[len(s.Objectives)+j]
		if (c.Rel == "<=" && v > c.Bound) || (c.Rel == ">=" && v < c.Bound) {
			return false
		}
	}
	return any
}

// ActionParams maps an experiment's parameters to the action's (the
// params of a lab.Request): each Executor.Params entry is "${name}" (that
// campaign parameter's value) or a constant (a float64 when it parses as
// a finite number, else the string); every campaign parameter that no
// mapping uses and whose name no mapping takes passes under its own name.
// The caller drops or fills what the action's schema does not have.
// Numbers come out as float64, categories as strings.
func (s *Spec) ActionParams(params map[string]any) (map[string]any, error) {
	const op errors.Op = "campaign.Spec.ActionParams"
	out := make(map[string]any, len(params)+len(s.Executor.Params))
	used := map[string]bool{}
	for _, k := range sortedKeys(s.Executor.Params) {
		v := s.Executor.Params[k]
		if m := refRE.FindStringSubmatch(v); m != nil {
			x, ok := params[m[1]]
			if !ok {
				return nil, errors.E(op, invalid("executor.params."+k, fmt.Sprintf("the experiment has no parameter %q", clip(m[1]))))
			}
			used[m[1]] = true
			nv, err := normalise(s, m[1], x)
			if err != nil {
				return nil, errors.E(op, invalid("params."+m[1], err.Error()))
			}
			out[k] = nv
			continue
		}
		if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && finite(f) {
			out[k] = f
		} else {
			out[k] = v
		}
	}
	for _, k := range sortedKeys(params) {
		if used[k] {
			continue
		}
		if _, taken := s.Executor.Params[k]; taken {
			continue
		}
		nv, err := normalise(s, k, params[k])
		if err != nil {
			return nil, errors.E(op, invalid("params."+k, err.Error()))
		}
		out[k] = nv
	}
	return out, nil
}

// normalise makes a recorded parameter value a float64 (numeric params)
// or a string (categorical).
func normalise(s *Spec, name string, v any) (any, error) {
	for _, p := range s.Params {
		if p.Name != name {
			continue
		}
		if bo.Kind(p.Kind) == bo.Categorical {
			if c, ok := v.(string); ok {
				return c, nil
			}
			return nil, fmt.Errorf("want a category of %q, got a %T", name, v)
		}
		return number(v)
	}
	switch x := v.(type) {
	case string:
		return x, nil
	default:
		return number(v)
	}
}

// sortedKeys returns m's keys in order (deterministic errors and output).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	return keys
}
