package campaign

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// base is a small valid campaign file; the refusal cases edit it.
const base = `name: demo
title: A demo
label: OPEN
objectives:
  - name: yield
    goal: max
    target: 90
params:
  - name: temperature
    kind: continuous
    low: 30
    high: 150
  - name: time
    kind: continuous
    low: 0.5
    high: 30
    log: true
  - name: stirs
    kind: integer
    low: 1
    high: 10
  - name: catalyst
    kind: categorical
    categories: [Pd-A, Pd-B, Ni-C]
constraints:
  - coef: {temperature: 1, stirs: 2}
    rel: "<="
    rhs: 160
outcome_constraints:
  - name: impurity
    rel: "<="
    bound: 5
budget:
  experiments: 30
batch: 2
executor:
  workcell: demo-cell
  action: run
  params:
    temp: ${temperature}
    pressure: "2.5"
  outputs:
    yield: yield_pct
`

func TestParseBase(t *testing.T) {
	s, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	if s.Label != "OPEN" || s.Batch != 2 || s.MaxInFlight != 2 || s.Retry.Attempts != 2 {
		t.Errorf("defaults: label %q batch %d max_in_flight %d attempts %d", s.Label, s.Batch, s.MaxInFlight, s.Retry.Attempts)
	}
	if got, want := s.Outputs(), []string{"yield_pct", "impurity"}; !cmp.Equal(got, want) {
		t.Errorf("Outputs = %q, want %q", got, want)
	}
}

func TestDefaults(t *testing.T) {
	s, err := Parse([]byte(`
name: d
objectives: [{name: y, goal: MAXIMISE}]
params: [{name: x, low: 0, high: 1}, {name: c, categories: [a, b]}]
budget: {wall_time: 90m}
executor: {instrument: i1, action: run}
optimizer: {acquisition: UCB, kernel: RBF}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{
		Name:       "d",
		Label:      "OPEN",
		Objectives: []Objective{{Name: "y", Goal: "max"}},
		Params: []Param{
			{Name: "x", Kind: "continuous", Low: refOf(0.0), High: refOf(1.0)},
			{Name: "c", Kind: "categorical", Categories: []string{"a", "b"}},
		},
		Budget:      Budget{WallTime: Duration{90 * time.Minute}},
		Batch:       1,
		MaxInFlight: 1,
		Optimizer:   OptimizerSpec{Acquisition: "ucb", Kernel: "rbf"},
		Executor:    Executor{Instrument: "i1", Action: "run"},
		Retry:       Retry{Attempts: 2},
	}
	if d := cmp.Diff(&want, s, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("defaults (-want +got):\n%s", d)
	}
	// Validate on a Spec built in Go fills the same defaults.
	g := want
	g.Label, g.Batch, g.MaxInFlight, g.Retry, g.Objectives = "", 0, 0, Retry{}, []Objective{{Name: "y", Goal: "max"}}
	if err := g.Validate(); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, g, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("Validate defaults (-want +got):\n%s", d)
	}
}

func refOf[T any](v T) *T { return &v }

// TestRefusals: every kind of mistake is errors.Invalid naming the field,
// with a message that says what is wrong.
func TestRefusals(t *testing.T) {
	cases := []struct {
		name     string
		old, new string // edit of base (old == "": new is the whole file)
		field    string
		msg      string
	}{
		{"invalid yaml", "", "name: [demo\n", "", "campaign file:"},
		{"not a mapping", "", "- a\n- b\n", "", "campaign file:"},
		{"anchors", "", "name: &a demo\ntitle: *a\n", "", "anchors"},
		{"unknown top-level field", "batch: 2", "batchsize: 2", "batchsize", `unknown field "batchsize"`},
		{"unknown field did you mean", "budget:\n  experiments: 30", "budget:\n  experiment: 30", "budget.experiment", `did you mean "experiments"?`},
		{"unknown nested field did you mean", "    goal: max", "    gaol: max", "objectives[0].gaol", `did you mean "goal"?`},
		{"missing name", "name: demo\n", "", "name", "missing"},
		{"bad name", "name: demo", "name: Demo Campaign", "name", "lower-case"},
		{"name too long", "name: demo", "name: " + strings.Repeat("a", 54), "name", "at most 53"},
		{"name like an ID", "name: demo", "name: cmp_0123", "name", "campaign IDs"},
		{"control char in title", "title: A demo", "title: \"A \\u001b[31mdemo\"", "title", "terminal escape"},
		{"bad label", "label: OPEN", "label: PROPRIETARY/FUSION", "label", "label:"},
		{"missing objectives", "objectives:\n  - name: yield\n    goal: max\n    target: 90\n", "", "objectives", "missing objectives"[8:]},
		{"too many objectives", "    target: 90\n", "    target: 90\n  - {name: a, goal: max}\n  - {name: b, goal: max}\n  - {name: c, goal: min}\n", "objectives", "at most 3"},
		{"bad goal", "    goal: max", "    goal: up", "objectives[0].goal", "want max or min"},
		{"missing goal", "    goal: max\n", "", "objectives[0].goal", "missing"},
		{"nan target", "    target: 90", "    target: .nan", "objectives[0].target", "finite"},
		{"duplicate objective", "    target: 90\n", "    target: 90\n  - {name: yield, goal: min}\n", "objectives[1].name", "listed twice"},
		{"objective named like a param", "    target: 90\n", "    target: 90\n  - {name: temperature, goal: min}\n", "params[0].name", "already the name of a objective"},
		{"missing params", "params:", "paramz:", "paramz", `did you mean "params"?`},
		{"inverted bounds", "    low: 30\n    high: 150", "    low: 150\n    high: 30", "params[0].high", "inverted bounds"},
		{"equal bounds", "    low: 30\n    high: 150", "    low: 30\n    high: 30", "params[0].high", "inverted bounds"},
		{"missing low", "    low: 30\n", "", "params[0].low", "missing"},
		{"infinite high", "    high: 150", "    high: .inf", "params[0].high", "finite"},
		{"log with low 0", "    low: 0.5\n    high: 30\n    log: true", "    low: 0\n    high: 30\n    log: true", "params[1].low", "low > 0"},
		{"integer fractional bound", "    low: 1\n    high: 10", "    low: 1.5\n    high: 10", "params[2].low", "integral"},
		{"integer huge span", "    low: 1\n    high: 10", "    low: 1\n    high: 1e9", "params[2].high", "spans at most"},
		{"bad kind", "    kind: integer", "    kind: int", "params[2].kind", "continuous, integer or categorical"},
		{"duplicate param", "  - name: stirs", "  - name: temperature", "params[2].name", "listed twice"},
		{"bad param name", "  - name: stirs", "  - name: \"stirs ${x}\"", "params[2].name", "letters, digits"},
		{"duplicate category", "[Pd-A, Pd-B, Ni-C]", "[Pd-A, Pd-B, Pd-A]", "params[3].categories[2]", "listed twice"},
		{"empty category", "[Pd-A, Pd-B, Ni-C]", "[Pd-A, '', Ni-C]", "params[3].categories[1]", "empty"},
		{"no categories", "    categories: [Pd-A, Pd-B, Ni-C]", "    categories: []", "params[3].categories", "missing"},
		{"bounds on categorical", "    categories: [Pd-A, Pd-B, Ni-C]", "    categories: [Pd-A, Pd-B, Ni-C]\n    low: 1", "params[3].low", "not bounds"},
		{"categories on continuous", "    low: 30\n", "    low: 30\n    categories: [a]\n", "params[0].categories", "only a categorical"},
		{"descriptor unknown category", "[Pd-A, Pd-B, Ni-C]", "[Pd-A, Pd-B, Ni-C]\n    descriptors: {Pd-A: [1], Pd-B: [2], Ni-C: [3], Fe: [4]}", "params[3].descriptors.Fe", "not a category"},
		{"descriptor missing", "[Pd-A, Pd-B, Ni-C]", "[Pd-A, Pd-B, Ni-C]\n    descriptors: {Pd-A: [1], Pd-B: [2]}", "params[3].descriptors.Ni-C", "every category"},
		{"descriptor lengths", "[Pd-A, Pd-B, Ni-C]", "[Pd-A, Pd-B, Ni-C]\n    descriptors: {Pd-A: [1, 2], Pd-B: [2, 3], Ni-C: [3]}", "params[3].descriptors.Ni-C", "equal lengths"},
		{"descriptor nan", "[Pd-A, Pd-B, Ni-C]", "[Pd-A, Pd-B, Ni-C]\n    descriptors: {Pd-A: [1], Pd-B: [.nan], Ni-C: [3]}", "params[3].descriptors.Pd-B", "finite"},
		{"constraint unknown parameter", "{temperature: 1, stirs: 2}", "{temperature: 1, stir: 2}", "constraints[0].coef.stir", `unknown parameter "stir"; did you mean "stirs"?`},
		{"constraint on categorical", "{temperature: 1, stirs: 2}", "{temperature: 1, catalyst: 2}", "constraints[0].coef.catalyst", "linear-scale"},
		{"constraint on log param", "{temperature: 1, stirs: 2}", "{temperature: 1, time: 2}", "constraints[0].coef.time", "linear-scale"},
		{"constraint bad rel", `rel: "<="` + "\n    rhs: 160", `rel: "<"` + "\n    rhs: 160", "constraints[0].rel", "want <=, >= or =="},
		{"constraint infeasible", "rhs: 160", "rhs: 10", "constraints[0]", "no point within"},
		{"constraint no coef", "{temperature: 1, stirs: 2}", "{}", "constraints[0].coef", "missing"},
		{"outcome is objective", "  - name: impurity", "  - name: yield", "outcome_constraints[0].name", "is an objective"},
		{"outcome bad rel", "    rel: \"<=\"\n    bound: 5", "    rel: \"==\"\n    bound: 5", "outcome_constraints[0].rel", "want <= or >="},
		{"missing budget", "budget:\n  experiments: 30\n", "", "budget", "missing"},
		{"budget too big", "experiments: 30", "experiments: 100001", "budget.experiments", "1-100000"},
		{"budget zero", "experiments: 30", "experiments: 0", "budget.experiments", "at least 1"},
		{"bad wall time", "experiments: 30", "wall_time: soon", "budget.wall_time", "want a duration such as 90s"},
		{"negative wall time", "experiments: 30", "wall_time: -1h", "budget.wall_time", "positive"},
		{"batch zero", "batch: 2", "batch: 0", "batch", "at least 1"},
		{"batch too big", "batch: 2", "batch: 101", "batch", "1-100"},
		{"in flight below batch", "batch: 2", "batch: 2\nmax_in_flight: 1", "max_in_flight", "at least batch"},
		{"in flight too big", "batch: 2", "batch: 2\nmax_in_flight: 1001", "max_in_flight", "at most 1000"},
		{"bad acquisition", "batch: 2", "batch: 2\noptimizer: {acquisition: ei}", "optimizer.acquisition", "logei, ucb or thompson"},
		{"bad kernel", "batch: 2", "batch: 2\noptimizer: {kernel: matern32}", "optimizer.kernel", "matern52 or rbf"},
		{"no executor", "executor:\n  workcell: demo-cell\n  action: run\n  params:\n    temp: ${temperature}\n    pressure: \"2.5\"\n  outputs:\n    yield: yield_pct\n", "", "executor", "missing"},
		{"two executors", "  workcell: demo-cell", "  workcell: demo-cell\n  instrument: r1", "executor", "exactly one"},
		{"no action", "  action: run\n", "", "executor.action", "missing"},
		{"bad workcell name", "workcell: demo-cell", "workcell: Demo Cell", "executor.workcell", "lower-case"},
		{"mapping unknown parameter", "${temperature}", "${temperatur}", "executor.params.temp", `unknown parameter "temperatur"; did you mean "temperature"?`},
		{"mapping partial template", "${temperature}", "x${temperature}", "executor.params.temp", "whole value"},
		{"outputs unknown", "    yield: yield_pct", "    yeild: yield_pct", "executor.outputs.yeild", `not an objective or outcome constraint; did you mean "yield"?`},
		{"job and action", "  workcell: demo-cell\n", "  job: {output: out.json, spec: {executable: /bin/true, attributes: {duration: 1m}}}\n", "executor.action", "no action"},
		{"job output absolute", "  workcell: demo-cell\n  action: run\n", "  job: {output: /tmp/out.json, spec: {executable: /bin/true, attributes: {duration: 1m}}}\n", "executor.job.output", "relative"},
		{"job output dotdot", "  workcell: demo-cell\n  action: run\n", "  job: {output: a/../../out.json, spec: {executable: /bin/true, attributes: {duration: 1m}}}\n", "executor.job.output", ".."},
		{"job unknown param", "  workcell: demo-cell\n  action: run\n", "  job: {output: o.json, spec: {executable: /bin/true, arguments: ['${temp}'], attributes: {duration: 1m}}}\n", "executor.job.spec.arguments[0]", `unknown parameter "temp"`},
		{"job var outside arguments", "  workcell: demo-cell\n  action: run\n", "  job: {output: o.json, spec: {executable: '/bin/${catalyst}', attributes: {duration: 1m}}}\n", "executor.job.spec.executable", "only arguments and environment"},
		{"job bad spec", "  workcell: demo-cell\n  action: run\n", "  job: {output: o.json, spec: {executable: /bin/true}}\n", "executor.job.spec.attributes.duration", "positive"},
		{"job unknown spec field", "  workcell: demo-cell\n  action: run\n", "  job: {output: o.json, spec: {executable: /bin/true, attributes: {duration: 1m}, cores: 3}}\n", "executor.job.spec.cores", "unknown field"},
		{"job no output", "  workcell: demo-cell\n  action: run\n", "  job: {spec: {executable: /bin/true, attributes: {duration: 1m}}}\n", "executor.job.output", "missing"},
		{"prior bad ref", "batch: 2", "batch: 2\nprior: [{dataset: 'shots@latest'}]", "prior[0].dataset", "positive number"},
		{"prior bad name", "batch: 2", "batch: 2\nprior: [{dataset: 'Shots'}]", "prior[0].dataset", "NAME or NAME@VERSION"},
		{"prior file dotdot", "batch: 2", "batch: 2\nprior: [{dataset: shots@2, file: ../x.csv}]", "prior[0].file", ".."},
		{"prior column unknown", "batch: 2", "batch: 2\nprior: [{dataset: shots, columns: {temperatur: T}}]", "prior[0].columns.temperatur", `did you mean "temperature"?`},
		{"retry zero", "batch: 2", "batch: 2\nretry: {attempts: 0}", "retry.attempts", "at least 1"},
		{"retry too many", "batch: 2", "batch: 2\nretry: {attempts: 11}", "retry.attempts", "1-10"},
		{"negative seed", "batch: 2", "batch: 2\nseed: -1", "seed", "want a whole number, not negative"},
		{"seed too large", "batch: 2", "batch: 2\nseed: 18446744073709551616", "seed", "whole number"},
		{"seed beyond uint64", "batch: 2", "batch: 2\nseed: 1e30", "seed", "seed"},
		{"fractional batch", "batch: 2", "batch: 2.5", "batch", "whole number"},
		{"fractional seed", "batch: 2", "batch: 2\nseed: 3.5", "seed", "whole number"},
		{"fractional experiments", "experiments: 30", "experiments: 30.5", "budget.experiments", "whole number"},
		{"fractional attempts", "batch: 2", "batch: 2\nretry: {attempts: 1.5}", "retry.attempts", "whole number"},
		{"fractional initial points", "batch: 2", "batch: 2\noptimizer: {initial_points: 0.5}", "optimizer.initial_points", "whole number"},
		{"batch too large for an int", "batch: 2", "batch: 99999999999999999999", "batch", "want a number in range"},
		{"text for a number", "    low: 30", "    low: thirty", "params[0].low", "params[0].low: [11:10] want a number"},
		{"mapping for a category", "[Pd-A, Pd-B, Ni-C]", "[Pd-A, {Pd: B}, Ni-C]", "params[3].categories[1]", "want text"},
		{"list for a mapping value", "    temp: ${temperature}", "    temp: [1]", "executor.params.temp", "want text"},
		{"text for a list", "    categories: [Pd-A, Pd-B, Ni-C]", "    categories: Pd-A", "params[3].categories", "where a list is expected"},
		{"duplicate key", "label: OPEN", "label: OPEN\nlabel: OPEN", "", "already defined"},
		{"unknown field in a list", "  - name: stirs", "  - nmae: stirs", "params[2].nmae", `did you mean "name"?`},
		{"suggestion from the right level", "executor:\n", "executor:\n  instrumnet: X\n", "executor.instrumnet", `unknown field "instrumnet"; did you mean "instrument"?`},
		{"pool out of bounds", "batch: 2", "batch: 2\npool:\n  - {temperature: 40, time: 2, stirs: 3, catalyst: Pd-A}\n  - {temperature: 400, time: 2, stirs: 3, catalyst: Pd-A}", "pool[1].temperature", "pool[1]: temperature: 400 is outside the bounds [30, 150]"},
		{"pool missing param", "batch: 2", "batch: 2\npool:\n  - {temperature: 40, time: 2, catalyst: Pd-A}", "pool[0].stirs", "missing"},
		{"pool unknown param", "batch: 2", "batch: 2\npool:\n  - {temperature: 40, time: 2, stirs: 3, catalyst: Pd-A, colour: red}", "pool[0].colour", "unknown parameter"},
		{"pool unknown category", "batch: 2", "batch: 2\npool:\n  - {temperature: 40, time: 2, stirs: 3, catalyst: Fe}", "pool[0].catalyst", "not a category"},
		{"pool duplicate", "batch: 2", "batch: 2\npool:\n  - {temperature: 40, time: 2, stirs: 3, catalyst: Pd-A}\n  - {temperature: 40.0, time: 2, stirs: 3, catalyst: Pd-A}", "pool[1]", "the same candidate as pool[0]"},
		{"pool breaks constraint", "batch: 2", "batch: 2\npool:\n  - {temperature: 150, time: 2, stirs: 10, catalyst: Pd-A}", "pool[0].constraints[0]", "do not satisfy"},
		{"two documents", "", base + "---\nname: other\n", "", "more than one YAML document"},
		{"empty file", "", "  \n", "name", "empty"},
		{"not utf-8", "", "name: \xff\n", "", "UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			doc := c.new
			if c.old != "" {
				if !strings.Contains(base, c.old) {
					t.Fatalf("base has no %q", c.old)
				}
				doc = strings.Replace(base, c.old, c.new, 1)
			}
			s, err := Parse([]byte(doc))
			if err == nil {
				t.Fatalf("accepted:\n%s\n%+v", doc, s)
			}
			if !errors.Is(errors.Invalid, err) {
				t.Errorf("kind %v, want Invalid: %v", errors.KindOf(err), err)
			}
			if got := errors.FieldOf(err); got != c.field {
				t.Errorf("field %q, want %q (%v)", got, c.field, err)
			}
			msg := errors.SafeMessage(err)
			if !strings.Contains(msg, c.msg) {
				t.Errorf("message %q does not contain %q", msg, c.msg)
			}
			if strings.Contains(msg, "\n") || len(msg) > 400 {
				t.Errorf("message is not one short line: %q", msg)
			}
		})
	}
}

// TestSuggestionsFromTheLevel: a misspelt key is compared with the keys of
// its own mapping only ("lable" under executor is not the campaign's label).
func TestSuggestionsFromTheLevel(t *testing.T) {
	for _, c := range []struct{ old, new, want string }{
		{"executor:\n", "executor:\n  lable: X\n", `campaign file: executor.lable: unknown field "lable"`},
		{"budget:\n  experiments: 30", "budget:\n  experiments: 30\n  nmae: x", `campaign file: budget.nmae: unknown field "nmae"`},
		{"    goal: max", "    goal: max\n    kind: x", `campaign file: objectives[0].kind: unknown field "kind"`},
	} {
		_, err := Parse([]byte(strings.Replace(base, c.old, c.new, 1)))
		if got := errors.SafeMessage(err); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

// TestPool: the optimizer proposes only the pool's candidates; numbers
// written for a categorical param name the category of their text.
func TestPool(t *testing.T) {
	doc := `name: pool
objectives: [{name: y, goal: max}]
params:
  - {name: temp, kind: categorical, categories: ["90", "105", "120"]}
  - {name: conc, low: 0, high: 1}
budget: {experiments: 5}
executor: {instrument: t, action: measure}
pool:
  - {temp: 90, conc: 0.1}
  - {temp: "105", conc: 0.5}
  - {temp: 120, conc: 0.9}
  - {temp: 90, conc: 1}
`
	s, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := s.OptimizerConfig()
	if err != nil {
		t.Fatal(err)
	}
	want := []bo.Point{{0, 0.1}, {1, 0.5}, {2, 0.9}, {0, 1}}
	if !cmp.Equal(cfg.Space.Pool, want) {
		t.Fatalf("pool %v, want %v", cfg.Space.Pool, want)
	}
	o, err := bo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := o.Suggest(context.Background(), 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if !slices.ContainsFunc(want, func(q bo.Point) bool { return cmp.Equal(p, q) }) {
			t.Errorf("suggested %v, not a pool candidate", p)
		}
	}
	// The pool survives the JSON round trip the store makes.
	s2, err := Parse(mustJSON(s))
	if err != nil {
		t.Fatal(err)
	}
	cfg2, err := s2.OptimizerConfig()
	if err != nil || !cmp.Equal(cfg2.Space.Pool, want) {
		t.Errorf("after JSON: pool %v, %v", cfg2.Space.Pool, err)
	}
}

func TestLeadingDocumentMarker(t *testing.T) {
	for _, doc := range []string{"---\n" + base, "# a comment\n---\n" + base, "%YAML 1.2\n---\n" + base, base + "...\n"} {
		if _, err := Parse([]byte(doc)); err != nil {
			t.Errorf("%q…: %v", doc[:20], err)
		}
	}
}

// TestIntegersAsWritten: whole numbers written with a point or an exponent
// are read as written; the seed keeps every bit.
func TestIntegersAsWritten(t *testing.T) {
	for _, c := range []struct {
		edit string
		seed uint64
		exp  int
	}{
		{"seed: 18446744073709551615", 18446744073709551615, 30},
		{"seed: 9007199254740993", 9007199254740993, 30},
		{"seed: 1e3\nbudget: {experiments: 2.0e1}", 1000, 20},
	} {
		doc := strings.Replace(strings.Replace(base, "budget:\n  experiments: 30\n", "", 1), "batch: 2", "batch: 2\n"+c.edit, 1)
		if !strings.Contains(doc, "budget") {
			doc += "budget: {experiments: 30}\n"
		}
		s, err := Parse([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", c.edit, err)
			continue
		}
		if s.Seed != c.seed || s.Budget.Experiments != c.exp {
			t.Errorf("%s: seed %d, experiments %d", c.edit, s.Seed, s.Budget.Experiments)
		}
	}
}

func TestParseTooLarge(t *testing.T) {
	doc := base + "description: " + strings.Repeat("x", MaxSpecSize) + "\n"
	_, err := Parse([]byte(doc))
	if !errors.Is(errors.TooLarge, err) {
		t.Fatalf("got %v, want TooLarge", err)
	}
}

// TestParseJSON: the same campaign written as JSON parses to the same Spec,
// and a parsed Spec re-encoded as JSON parses back to itself.
func TestParseJSON(t *testing.T) {
	s, err := Parse([]byte(base))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := Parse(b)
	if err != nil {
		t.Fatalf("re-parse of %s: %v", b, err)
	}
	if d := cmp.Diff(s, s2, cmpopts.EquateEmpty()); d != "" {
		t.Errorf("JSON round trip (-yaml +json):\n%s", d)
	}
	// Unknown fields in JSON are refused too.
	_, err = Parse([]byte(`{"name": "x", "objectivs": []}`))
	if errors.FieldOf(err) != "objectivs" || !strings.Contains(errors.SafeMessage(err), `did you mean "objectives"?`) {
		t.Errorf("unknown JSON field: %v", err)
	}
}

func TestDurationJSON(t *testing.T) {
	for _, d := range []time.Duration{0, time.Second, 90 * time.Minute, 36*time.Hour + 1} {
		b, err := json.Marshal(Duration{d})
		if err != nil {
			t.Fatal(err)
		}
		var got Duration
		if err := json.Unmarshal(b, &got); err != nil || got.Duration != d {
			t.Errorf("%v → %s → %v, %v", d, b, got, err)
		}
	}
	for in, want := range map[string]time.Duration{
		`"2d"`: 48 * time.Hour, `"1d12h"`: 36 * time.Hour, `"0d30m"`: 30 * time.Minute, `"90m"`: 90 * time.Minute, `"1h30m"`: 90 * time.Minute, `""`: 0,
	} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.Duration != want {
			t.Errorf("%s → %v, %v; want %v", in, d, err, want)
		}
	}
	for _, in := range []string{`"tomorrow"`, `"2days"`, `"1d-1h"`, `"d"`, `"12345d"`, `"90"`, `90`, `"1d 2h"`} {
		var d Duration
		if err := json.Unmarshal([]byte(in), &d); err == nil {
			t.Errorf("accepted the duration %s as %v", in, d)
		}
	}
}

func TestPriorRef(t *testing.T) {
	for _, c := range []struct {
		in   string
		name string
		v    int64
		ok   bool
	}{
		{"shots", "shots", 0, true},
		{"shots@3", "shots", 3, true},
		{"a.b-c_d@12", "a.b-c_d", 12, true},
		{"shots@0", "", 0, false},
		{"shots@+3", "", 0, false},
		{"shots@v3", "", 0, false},
		{"shots@", "", 0, false},
		{"@3", "", 0, false},
		{"Shots", "", 0, false},
		{"", "", 0, false},
	} {
		name, v, err := Prior{Dataset: c.in}.Ref()
		if (err == nil) != c.ok || name != c.name || v != c.v {
			t.Errorf("Ref(%q) = %q, %d, %v", c.in, name, v, err)
		}
	}
}
