package campaign

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
)

func fptr(v float64) *float64 { return &v }

// The flow reactor's action, as an instrument describes it.
var reactorRun = &lab.Action{Name: "run", Params: []lab.Param{
	{Name: "temperature", Kind: lab.Number, Min: fptr(30), Max: fptr(150)},
	{Name: "residence_time", Kind: lab.Number, Min: fptr(0.5), Max: fptr(30)},
	{Name: "catalyst", Kind: lab.Choice, Choices: []string{"Pd-A", "Pd-B"}},
	{Name: "pressure", Kind: lab.Number, Optional: true},
}}

// TestMatchActionParams: a campaign whose action params do not match the
// action's by name is refused at create, naming the field to fix.
func TestMatchActionParams(t *testing.T) {
	const head = "name: m\nobjectives: [{name: yield, goal: max}]\nbudget: {experiments: 4}\n"
	for _, tc := range []struct {
		name, params, executor string
		field, says            string // "" = accepted
	}{
		{"names match", "[{name: temperature, low: 30, high: 150}, {name: residence_time, low: 1, high: 2}, {name: catalyst, categories: [Pd-A]}]",
			"{workcell: w, action: run}", "", ""},
		{"mapped and a constant", "[{name: t, low: 30, high: 150}, {name: residence_time, low: 1, high: 2}, {name: catalyst, categories: [Pd-A]}]",
			`{workcell: w, action: run, params: {temperature: "${t}", pressure: "2"}}`, "", ""},
		{"campaign param the action lacks", "[{name: temp, low: 30, high: 150}, {name: residence_time, low: 1, high: 2}, {name: catalyst, categories: [Pd-A]}]",
			`{workcell: w, action: run, params: {temperature: "90"}}`, "params[0].name", `unknown parameter "temp"`},
		{"mapping to a name the action lacks", "[{name: temperature, low: 30, high: 150}, {name: residence_time, low: 1, high: 2}, {name: catalyst, categories: [Pd-A]}]",
			`{workcell: w, action: run, params: {temperatur: "${temperature}", temperature: "90"}}`, "executor.params.temperatur", `did you mean "temperature"`},
		{"a required param without a value", "[{name: temperature, low: 30, high: 150}, {name: catalyst, categories: [Pd-A]}]",
			"{workcell: w, action: run}", "executor.params", `needs parameter "residence_time"`},
	} {
		sp, err := Parse([]byte(head + "params: " + tc.params + "\nexecutor: " + tc.executor + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		params, err := sp.ActionParams(sp.middle())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = matchActionParams(sp, reactorRun, params, "ins_x")
		if tc.field == "" {
			if err != nil {
				t.Errorf("%s: refused: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != tc.field || !strings.Contains(errors.SafeMessage(err), tc.says) {
			t.Errorf("%s: %v (field %q), want Invalid naming %s and saying %s", tc.name, err, errors.FieldOf(err), tc.field, tc.says)
		}
	}
}

// TestInBoundsProperty: whatever the point, inBounds moves it to one the
// action's own check (instruments.CheckParams) takes, changing no value
// that was already inside, and keeping the names.
func TestInBoundsProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		p := map[string]any{
			"temperature":    r.Float64()*400 - 100,
			"residence_time": r.Float64() * 60,
			"catalyst":       []string{"Pd-A", "Pd-B", "Ni-C", ""}[r.IntN(4)],
		}
		if r.IntN(2) == 0 {
			p["pressure"] = r.Float64() * 10
		}
		got := inBounds(reactorRun, p)
		if err := instruments.CheckParams(reactorRun, got); err != nil {
			t.Fatalf("case %d: inBounds(%v) = %v, which the action refuses: %v", i, p, got, err)
		}
		if len(got) != len(p) {
			t.Fatalf("case %d: names changed: %v → %v", i, p, got)
		}
		if instruments.CheckParams(reactorRun, p) == nil {
			for k, v := range p {
				if got[k] != v {
					t.Fatalf("case %d: a point inside the bounds was moved: %v → %v", i, p, got)
				}
			}
		}
	}
}
