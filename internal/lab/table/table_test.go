package table_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/bench"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/labtest"
	"github.com/genesis-science/genesis/internal/lab/sim"
	"github.com/genesis-science/genesis/internal/lab/table"
)

var ctx = context.Background()

const arylation = "../../bench/testdata/direct_arylation/data.csv"

func arylationSettings(extra string) string {
	return `{"path":"` + arylation + `","params":"Base:cat,Ligand:cat,Solvent:cat,Concentration,Temp_C","objective":"yield","goal":"max"` + extra + `}`
}

func model(t testing.TB, settings string) (table.Settings, *table.Model) {
	t.Helper()
	s, err := table.ParseSettings([]byte(settings))
	if err != nil {
		t.Fatal(err)
	}
	m, err := table.NewModel(s)
	if err != nil {
		t.Fatal(err)
	}
	return s, m
}

func TestConformance(t *testing.T) {
	// About 0.5 s a measurement: seen running, yet quick.
	settings := arylationSettings(`,"seconds":60,"speed":120`)
	_, m := model(t, settings)
	rows := m.Rows()
	labtest.Run(t, func(t *testing.T) labtest.Harness {
		dir := t.TempDir()
		cfg := lab.Config{Kind: "table", Settings: json.RawMessage(settings), StateDir: dir}
		open := func(t *testing.T) lab.Driver {
			d, err := lab.Open(cfg)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		bad := map[string]any{}
		for k, v := range rows[0] {
			bad[k] = v
		}
		bad["Temp_C"] = 100.0 // within bounds, but no experiment ran at 100 °C
		return labtest.Harness{
			Driver: open(t),
			Request: func(i int) lab.Request {
				return lab.Request{ID: fmt.Sprint("row-", i), Action: table.Action, Params: rows[(i*37)%len(rows)]}
			},
			Invalid: lab.Request{ID: "no-row", Action: table.Action, Params: bad},
			Reopen:  open,
			Runs: func(t *testing.T, id string) int {
				n, err := table.JournalRuns(dir)
				if err != nil {
					t.Fatal(err)
				}
				return n[id]
			},
		}
	})
}

// Every distinct experiment of the table, measured through the driver,
// gives exactly what `bench optimizer` scores for it, and the table's
// best is what the driver reports as optimum.
func TestReplayMatchesBench(t *testing.T) {
	for _, c := range []struct {
		name, settings, path, params, objective, goal string
	}{
		{"direct_arylation", arylationSettings(""), arylation, "Base:cat,Ligand:cat,Solvent:cat,Concentration,Temp_C", "yield", "max"},
		{"crossed_barrel", `{"path":"../../bench/testdata/crossed_barrel","objective":"toughness"}`, "../../bench/testdata/crossed_barrel", "", "toughness", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, m := model(t, c.settings)
			p, err := bench.LoadTableProblem(c.path, c.params, c.objective, c.goal)
			if err != nil {
				t.Fatal(err)
			}
			now := time.Unix(1e9, 0)
			o := s.Options()
			o.Now = func() time.Time { return now }
			d, err := sim.New(m, o)
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			best := p.Optimum
			for i, params := range m.Rows() {
				r, err := d.Start(ctx, lab.Request{ID: fmt.Sprint("r", i), Action: table.Action, Params: params})
				if err != nil {
					t.Fatalf("row %d %v: %v", i, params, err)
				}
				if r.State != lab.Succeeded {
					t.Fatalf("row %d: %s %s", i, r.State, r.Reason)
				}
				want := p.Eval(p.Space.Pool[i])[0]
				if got := r.Values[c.objective]; got != want {
					t.Fatalf("row %d %v: driver %v, bench %v", i, params, got, want)
				}
			}
			if m.Optimum != best || len(m.Rows()) != len(p.Space.Pool) {
				t.Fatalf("optimum %v rows %d; bench %v rows %d", m.Optimum, len(m.Rows()), best, len(p.Space.Pool))
			}
		})
	}
}

func TestInfo(t *testing.T) {
	_, m := model(t, arylationSettings(""))
	info := m.Info()
	a := info.Action(table.Action)
	if a == nil || len(a.Outputs) != 1 || a.Outputs[0].Name != "yield" {
		t.Fatalf("info %+v", info)
	}
	kinds := map[string]lab.ParamKind{}
	for _, p := range a.Params {
		kinds[p.Name] = p.Kind
		if p.Name == "Temp_C" && (*p.Min != 90 || *p.Max != 120) {
			t.Errorf("Temp_C bounds %v–%v, want the data's 90–120", *p.Min, *p.Max)
		}
		if p.Name == "Base" && len(p.Choices) != 4 {
			t.Errorf("Base choices %v", p.Choices)
		}
	}
	want := map[string]lab.ParamKind{"Base": lab.Choice, "Ligand": lab.Choice, "Solvent": lab.Choice, "Concentration": lab.Number, "Temp_C": lab.Number}
	if !reflect.DeepEqual(kinds, want) {
		t.Fatalf("param kinds %v, want %v", kinds, want)
	}
}

func TestBadSettings(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "t.csv")
	os.WriteFile(csv, []byte("a,b,y\n1,x,3\n2,z,4\n"), 0o600)
	for _, c := range []struct{ in, field string }{
		{`{}`, "path"},
		{`{"path":"` + csv + `"}`, "objective"},
		{`{"path":"` + csv + `","objective":"y","goal":"up"}`, "goal"},
		{`{"path":"` + csv + `","objective":"y","speed":0}`, "speed"},
		{`{"path":"` + csv + `","objective":"y","seconds":-1}`, "seconds"},
		{`{"path":"` + csv + `","objective":"y","params":"a:float"}`, "params"},
		{`{"path":"` + csv + `","objective":"y","colour":1}`, "colour"},
		{`{"path":"` + csv + `","objective":"nope"}`, "objective"},
		{`{"path":"` + csv + `","objective":"y","params":"a,c"}`, "params"},
		{`{"path":"` + filepath.Join(dir, "missing.csv") + `","objective":"y"}`, "path"},
		{`{"path":"` + dir + `","objective":"y"}`, "path"},
		{`"x"`, "settings"},
	} {
		_, err := lab.Open(lab.Config{Kind: "table", Settings: json.RawMessage(c.in)})
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field {
			t.Errorf("Open(%s): %v (field %q), want Invalid naming %q", c.in, err, errors.FieldOf(err), c.field)
		}
	}
	d, err := lab.Open(lab.Config{Kind: "table", Settings: json.RawMessage(`{"path":"` + csv + `","objective":"y"}`)})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := d.Start(ctx, lab.Request{ID: "a", Action: table.Action, Params: map[string]any{"a": 2.0, "b": "z"}})
	if err != nil || r.State != lab.Succeeded || r.Values["y"] != 4 {
		t.Fatalf("a small CSV: %+v %v", r, err)
	}
	_, err = d.Start(ctx, lab.Request{ID: "b", Action: table.Action, Params: map[string]any{"a": 2.0, "b": "x"}})
	if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "params" || !strings.Contains(errors.SafeMessage(err), "a, b") {
		t.Fatalf("no such row: %v", err)
	}
}

// FuzzParseSettings: refused as Invalid naming a field, or accepted with
// valid values that survive a JSON round trip.
func FuzzParseSettings(f *testing.F) {
	f.Add([]byte(arylationSettings(`,"speed":10,"seconds":5`)))
	f.Add([]byte(`{"path":"x","objective":"y","params":"a:cat, b"}`))
	f.Add([]byte(`{"path":1}`))
	f.Add([]byte(`{"":0}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := table.ParseSettings(raw)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) == "" {
				t.Fatalf("refusal %v is not Invalid naming a field", err)
			}
			return
		}
		if s.Validate() != nil || s.Path == "" || s.Objective == "" || !(s.Speed > 0) || s.Seconds < 0 {
			t.Fatalf("accepted %+v", s)
		}
		if s.Goal != "" && s.Goal != "max" && s.Goal != "min" && s.Goal != "maximize" && s.Goal != "minimize" {
			t.Fatalf("accepted goal %q", s.Goal)
		}
		b, _ := json.Marshal(s)
		s2, err := table.ParseSettings(b)
		if err != nil || s2 != s {
			t.Fatalf("round trip %+v → %+v (%v)", s, s2, err)
		}
	})
}
