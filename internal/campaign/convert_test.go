package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// genSpec returns a random valid campaign: 1–6 params of every kind (log
// scales, descriptors, a simplex or an inequality over the numeric ones),
// 1–3 objectives with or without targets, 0–2 outcome constraints, an
// instrument or workcell executor with random parameter and output
// mappings.
func genSpec(rng *rand.Rand) *Spec {
	s := &Spec{Name: fmt.Sprintf("c%d", rng.IntN(1000)), Seed: rng.Uint64()}
	np := 1 + rng.IntN(6)
	var numeric []string
	for i := 0; i < np; i++ {
		p := Param{Name: fmt.Sprintf("p%d", i)}
		switch rng.IntN(4) {
		case 0, 1:
			p.Kind = "continuous"
			lo := math.Round(rng.NormFloat64()*100) / 10
			p.Log = rng.IntN(3) == 0
			if p.Log {
				lo = math.Abs(lo) + 0.01
			}
			p.Low, p.High = refOf(lo), refOf(lo+0.1+rng.Float64()*50)
		case 2:
			p.Kind = "integer"
			lo := float64(rng.IntN(20) - 10)
			p.Low, p.High = refOf(lo), refOf(lo+float64(1+rng.IntN(30)))
			p.Log = lo > 0 && rng.IntN(3) == 0
		case 3:
			p.Kind = "categorical"
			n := 1 + rng.IntN(5)
			for j := 0; j < n; j++ {
				p.Categories = append(p.Categories, fmt.Sprintf("cat %d-%c", j, 'a'+rune(rng.IntN(26))))
			}
			if rng.IntN(2) == 0 {
				p.Descriptors = map[string][]float64{}
				k := 1 + rng.IntN(3)
				for _, c := range p.Categories {
					var d []float64
					for m := 0; m < k; m++ {
						d = append(d, rng.NormFloat64())
					}
					p.Descriptors[c] = d
				}
			}
		}
		if p.Kind != "categorical" && !p.Log {
			numeric = append(numeric, p.Name)
		}
		s.Params = append(s.Params, p)
	}
	if len(numeric) >= 1 && rng.IntN(2) == 0 {
		// Σ x ≤ midpoint of its range: always satisfiable.
		c := LinearConstraint{Coef: map[string]float64{}, Rel: "<="}
		lo, hi := 0.0, 0.0
		for _, n := range numeric {
			c.Coef[n] = 1
			for _, p := range s.Params {
				if p.Name == n {
					lo += *p.Low
					hi += *p.High
				}
			}
		}
		c.RHS = (lo + hi) / 2
		if rng.IntN(2) == 0 {
			c.Rel, c.RHS = ">=", lo+(hi-lo)/4
		}
		s.Constraints = append(s.Constraints, c)
	}
	no := 1 + rng.IntN(3)
	for i := 0; i < no; i++ {
		o := Objective{Name: fmt.Sprintf("y%d", i), Goal: []string{"max", "min"}[rng.IntN(2)]}
		if rng.IntN(2) == 0 {
			o.Target = refOf(rng.NormFloat64())
		}
		s.Objectives = append(s.Objectives, o)
	}
	for i := 0; i < rng.IntN(3); i++ {
		s.OutcomeConstraints = append(s.OutcomeConstraints, OutcomeConstraint{Name: fmt.Sprintf("g%d", i), Rel: []string{"<=", ">="}[rng.IntN(2)], Bound: rng.NormFloat64()})
	}
	if rng.IntN(4) == 0 {
		// A pool of design points (constraints hold).
		ps := designPoints(nil, s, 1+rng.IntN(8))
		for _, p := range ps {
			s.Pool = append(s.Pool, s.FromPoint(p))
		}
	}
	s.Budget.Experiments = 1 + rng.IntN(100)
	s.Batch = 1 + rng.IntN(5)
	if rng.IntN(2) == 0 {
		s.Executor.Instrument = "inst-1"
	} else {
		s.Executor.Workcell = "cell-1"
	}
	s.Executor.Action = "run"
	s.Executor.Params = map[string]string{}
	for _, p := range s.Params {
		switch rng.IntN(3) {
		case 0:
			s.Executor.Params["a_"+p.Name] = "${" + p.Name + "}"
		case 1:
			s.Executor.Params["k_"+p.Name] = []string{"3.5", "fast", "-2", "1e3", "NaN"}[rng.IntN(5)]
		}
	}
	s.Executor.Outputs = map[string]string{}
	for _, o := range s.Objectives {
		if rng.IntN(2) == 0 {
			s.Executor.Outputs[o.Name] = "out_" + o.Name
		}
	}
	return s
}

// designPoints returns up to n points of the spec's space from the
// optimizer's initial design (so they satisfy its constraints).
func designPoints(t testing.TB, s *Spec, n int) []bo.Point {
	fail := func(format string, args ...any) {
		if t == nil {
			panic(fmt.Sprintf(format, args...))
		}
		t.Helper()
		t.Fatalf(format, args...)
	}
	cfg, err := s.OptimizerConfig()
	if err != nil {
		fail("OptimizerConfig: %v", err)
	}
	cfg.InitialPoints = n
	o, err := bo.New(cfg)
	if err != nil {
		fail("bo.New: %v", err)
	}
	ps, err := o.Suggest(context.Background(), n)
	if err != nil {
		fail("Suggest: %v", err)
	}
	return ps
}

// TestGeneratedSpecs: random valid specs validate, survive a JSON round
// trip through Parse unchanged, convert to a configuration bo.New accepts,
// and their points survive FromPoint/ToPoint both ways.
func TestGeneratedSpecs(t *testing.T) {
	t.Parallel() // CPU-bound and shares nothing: runs beside the other slow ones
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 300; i++ {
		s := genSpec(rng)
		if err := s.Validate(); err != nil {
			t.Fatalf("spec %d: %v\n%s", i, err, mustJSON(s))
		}
		b := mustJSON(s)
		// Validate is idempotent: a validated spec validates to itself.
		var again Spec // a deep copy
		if err := json.Unmarshal(b, &again); err != nil {
			t.Fatal(err)
		}
		if err := again.Validate(); err != nil || !cmp.Equal(*s, again, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Spec{}, "Pool")) {
			t.Fatalf("spec %d: a second Validate changed it or failed: %v", i, err)
		}
		s2, err := Parse(b)
		if err != nil {
			t.Fatalf("spec %d: Parse of its JSON: %v\n%s", i, err, b)
		}
		if d := cmp.Diff(s, s2, cmpopts.EquateEmpty(), cmpopts.IgnoreFields(Spec{}, "Pool")); d != "" {
			t.Fatalf("spec %d: JSON round trip (-want +got):\n%s", i, d)
		}
		c1, err1 := s.OptimizerConfig()
		c2, err2 := s2.OptimizerConfig()
		if err1 != nil || err2 != nil || !cmp.Equal(c1, c2, cmpopts.EquateEmpty()) {
			t.Fatalf("spec %d: configurations differ after the JSON round trip: %v, %v", i, err1, err2)
		}
		for _, p := range designPoints(t, s, 1+rng.IntN(6)) {
			m := s.FromPoint(p)
			q, err := s.ToPoint(m)
			if err != nil {
				t.Fatalf("spec %d: ToPoint(FromPoint(%v)) = %v\n%s", i, p, err, b)
			}
			if !cmp.Equal(p, q) {
				t.Fatalf("spec %d: round trip %v → %v → %v", i, p, m, q)
			}
			// And the other way, through JSON as the store keeps params.
			var back map[string]any
			if err := json.Unmarshal(mustJSON(m), &back); err != nil {
				t.Fatal(err)
			}
			if q, err := s.ToPoint(back); err != nil || !cmp.Equal(s.FromPoint(q), m) {
				t.Fatalf("spec %d: FromPoint(ToPoint(%v)) = %v, %v", i, back, q, err)
			}
			checkActionParams(t, s, m)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// checkActionParams checks ActionParams against its definition: mapped
// names get the named param or the constant (a number when it parses as a
// finite one); params no mapping uses or takes pass unchanged; nothing else.
func checkActionParams(t *testing.T, s *Spec, m map[string]any) {
	t.Helper()
	got, err := s.ActionParams(m)
	if err != nil {
		t.Fatalf("ActionParams(%v): %v", m, err)
	}
	want := map[string]any{}
	used := map[string]bool{}
	for k, v := range s.Executor.Params {
		if strings.HasPrefix(v, "${") {
			name := v[2 : len(v)-1]
			want[k] = m[name]
			used[name] = true
			continue
		}
		switch v {
		case "3.5":
			want[k] = 3.5
		case "-2":
			want[k] = -2.0
		case "1e3":
			want[k] = 1000.0
		default: // "fast", "NaN"
			want[k] = v
		}
	}
	for k, v := range m {
		if _, taken := s.Executor.Params[k]; !used[k] && !taken {
			want[k] = v
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("ActionParams (-want +got):\n%s", d)
	}
	for k, v := range got {
		switch v.(type) {
		case float64, string:
		default:
			t.Errorf("ActionParams[%q] is a %T", k, v)
		}
	}
}

func TestToPointRefusals(t *testing.T) {
	s, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	good := map[string]any{"temperature": 40.0, "time": 2, "stirs": int64(3), "catalyst": "Pd-B"}
	p, err := s.ToPoint(good)
	if err != nil {
		t.Fatal(err)
	}
	if want := (bo.Point{40, 2, 3, 1}); !cmp.Equal(p, want) {
		t.Errorf("ToPoint = %v, want %v", p, want)
	}
	for _, c := range []struct {
		name  string
		edit  func(m map[string]any)
		field string
	}{
		{"missing", func(m map[string]any) { delete(m, "time") }, "params.time"},
		{"unknown", func(m map[string]any) { m["pressure"] = 1.0 }, "params.pressure"},
		{"below low", func(m map[string]any) { m["temperature"] = 29.9 }, "params.temperature"},
		{"above high", func(m map[string]any) { m["time"] = 30.5 }, "params.time"},
		{"nan", func(m map[string]any) { m["temperature"] = math.NaN() }, "params.temperature"},
		{"not integer", func(m map[string]any) { m["stirs"] = 2.5 }, "params.stirs"},
		{"not a category", func(m map[string]any) { m["catalyst"] = "Fe" }, "params.catalyst"},
		{"category index", func(m map[string]any) { m["catalyst"] = 1.0 }, "params.catalyst"},
		{"string number", func(m map[string]any) { m["temperature"] = "hot" }, "params.temperature"},
		{"constraint", func(m map[string]any) { m["temperature"] = 150.0; m["stirs"] = 10 }, "constraints[0]"},
	} {
		m := map[string]any{}
		for k, v := range good {
			m[k] = v
		}
		c.edit(m)
		_, err := s.ToPoint(m)
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field {
			t.Errorf("%s: got %v (field %q), want Invalid on %q", c.name, err, errors.FieldOf(err), c.field)
		}
	}
}

func TestMeasure(t *testing.T) {
	s, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	// yield is reported as yield_pct (executor.outputs), impurity as itself.
	row, err := s.Measure(map[string]float64{"yield_pct": 71, "impurity": 3, "other": 9})
	if err != nil || !cmp.Equal(row, []float64{71, 3}) {
		t.Fatalf("Measure = %v, %v", row, err)
	}
	for _, vals := range []map[string]float64{
		{"yield": 71, "impurity": 3},
		{"yield_pct": 71},
		{"yield_pct": math.Inf(1), "impurity": 3},
		{"yield_pct": 1, "impurity": math.NaN()},
	} {
		if _, err := s.Measure(vals); !errors.Is(errors.Invalid, err) {
			t.Errorf("Measure(%v) = %v, want Invalid", vals, err)
		}
	}
}

func TestReached(t *testing.T) {
	spec := func(yaml string) *Spec {
		s, err := Parse([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	head := "name: r\nparams: [{name: x, low: 0, high: 1}]\nbudget: {experiments: 5}\nexecutor: {instrument: i, action: a}\n"
	maxT := spec(head + "objectives: [{name: y, goal: max, target: 90}]\noutcome_constraints: [{name: g, rel: '<=', bound: 5}]\n")
	minT := spec(head + "objectives: [{name: y, goal: min, target: 0.4}]\n")
	two := spec(head + "objectives: [{name: a, goal: max, target: 1}, {name: b, goal: min}, {name: c, goal: min, target: 3}]\n")
	none := spec(head + "objectives: [{name: y, goal: max}]\n")
	for _, c := range []struct {
		s    *Spec
		v    map[string]float64
		want bool
	}{
		{maxT, map[string]float64{"y": 90, "g": 5}, true},
		{maxT, map[string]float64{"y": 95, "g": 1}, true},
		{maxT, map[string]float64{"y": 89.9, "g": 1}, false},
		{maxT, map[string]float64{"y": 95, "g": 5.1}, false}, // infeasible
		{maxT, map[string]float64{"y": 95}, false},           // g missing
		{minT, map[string]float64{"y": 0.39}, true},
		{minT, map[string]float64{"y": 0.41}, false},
		{minT, map[string]float64{"y": math.NaN()}, false},
		{two, map[string]float64{"a": 1, "b": 100, "c": 3}, true},
		{two, map[string]float64{"a": 2, "b": -1, "c": 3.5}, false},
		{two, map[string]float64{"a": 0.5, "b": -1, "c": 0}, false},
		{none, map[string]float64{"y": 1e9}, false},
	} {
		if got := c.s.Reached(c.v); got != c.want {
			t.Errorf("%v: Reached(%v) = %v, want %v", c.s.Objectives, c.v, got, c.want)
		}
	}
}

// TestReachedMonotone: improving an objective never un-reaches a target,
// over random specs and values.
func TestReachedMonotone(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	reached := 0
	for i := 0; i < 2000; i++ {
		s := genSpec(rng)
		if err := s.Validate(); err != nil {
			t.Fatal(err)
		}
		v := map[string]float64{}
		for _, o := range s.Outputs() {
			v[o] = rng.NormFloat64()
		}
		if !s.Reached(v) {
			continue
		}
		reached++
		for _, o := range s.Objectives {
			w := map[string]float64{}
			for k, x := range v {
				w[k] = x
			}
			d := rng.Float64()
			if o.Goal == "min" {
				d = -d
			}
			w[s.outputName(o.Name)] += d
			if !s.Reached(w) {
				t.Fatalf("Reached(%v) but not after improving %s: %v", v, o.Name, w)
			}
		}
	}
	if reached == 0 {
		t.Fatal("no random case reached its target: the property was never checked")
	}
}

func TestActionParamsBase(t *testing.T) {
	s, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.ActionParams(map[string]any{"temperature": 40, "time": 2.0, "stirs": 3.0, "catalyst": "Pd-B"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"temp": 40.0, "pressure": 2.5, "time": 2.0, "stirs": 3.0, "catalyst": "Pd-B"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ActionParams (-want +got):\n%s", d)
	}
	if _, err := s.ActionParams(map[string]any{"time": 2.0}); !errors.Is(errors.Invalid, err) {
		t.Errorf("mapped param missing: %v", err)
	}
}

func TestOutputsDeduplicated(t *testing.T) {
	s := &Spec{
		Objectives:         []Objective{{Name: "a"}, {Name: "b"}},
		OutcomeConstraints: []OutcomeConstraint{{Name: "c"}},
		Executor:           Executor{Outputs: map[string]string{"b": "a", "c": "z"}},
	}
	if got := s.Outputs(); !cmp.Equal(got, []string{"a", "z"}) {
		t.Errorf("Outputs = %q", got)
	}
}
