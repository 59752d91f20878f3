package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
)

// The CI smoke benchmark: a few seeds at a small budget, and the optimiser
// must beat random search by a clear margin.
func TestSmokeBetterThanRandom(t *testing.T) {
	if testing.Short() {
		t.Skip("smoke benchmark skipped in -short mode")
	}
	ctx := context.Background()
	cases := []struct {
		name   string
		budget int
		margin float64 // genesis median score must beat random's by this much
	}{
		{"branin", 20, 0.3},
		{"photo_pce10", 30, 0.01},
	}
	for _, tc := range cases {
		ps, err := selectProblems(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		p := &ps[0]
		p.Budget = tc.budget
		r, _, err := runProblem(ctx, p, 3)
		if err != nil {
			t.Fatal(err)
		}
		g := float64(r.Methods["genesis"].MedianBest[tc.budget-1])
		rnd := float64(r.Methods["random"].MedianBest[tc.budget-1])
		improvement := rnd - g // both problems minimise
		t.Logf("%s @%d: genesis median %.4g, random median %.4g", tc.name, tc.budget, g, rnd)
		if !(improvement > tc.margin) {
			t.Errorf("%s: genesis median %.4g does not beat random %.4g by %.3g", tc.name, g, rnd, tc.margin)
		}
	}
}

func TestCommandJSONShape(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "t.csv")
	var b strings.Builder
	b.WriteString("\uFEFFtemp,cat,yield\r\n")
	for i := 0; i < 30; i++ {
		x := float64(i) / 29
		c := []string{"a", "b", "c"}[i%3]
		y := -(x - 0.6) * (x - 0.6)
		if c == "b" {
			y += 0.2
		}
		b.WriteString(strings.Join([]string{ftoa(x), c, ftoa(y)}, ",") + "\r\n")
	}
	if err := os.WriteFile(csvPath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	err := RunOptimizer(context.Background(), []string{"--table", csvPath, "--params", "temp,cat:cat", "--objective", "yield", "--goal", "max", "--seeds", "2", "--budget", "8", "--batch", "2", "--json", "--plots", filepath.Join(dir, "plots")}, &out, &errb)
	if err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	var res map[string]any
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	for _, k := range []string{"problem", "goal", "seeds", "batch", "budget", "methods", "seconds_per_suggestion"} {
		if _, ok := res[k]; !ok {
			t.Errorf("missing %q in %s", k, out.String())
		}
	}
	methods := res["methods"].(map[string]any)
	for _, m := range []string{"genesis", "random"} {
		mr := methods[m].(map[string]any)
		for _, k := range []string{"mean_best", "median_best"} {
			if n := len(mr[k].([]any)); n != 8 {
				t.Errorf("%s.%s has %d entries, want 8", m, k, n)
			}
		}
		// Best so far never gets worse (maximise).
		arr := mr["median_best"].([]any)
		for i := 1; i < len(arr); i++ {
			if arr[i].(float64) < arr[i-1].(float64) {
				t.Errorf("%s median best decreases: %v", m, arr)
			}
		}
	}
	sps := res["seconds_per_suggestion"].(map[string]any)
	if _, ok := sps["median"]; !ok {
		t.Error("no median timing")
	}
	if res["goal"] != "max" || res["budget"].(float64) != 8 || res["batch"].(float64) != 2 {
		t.Errorf("header fields wrong: %v", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "plots", "t.png")); err != nil {
		t.Errorf("plot not written: %v", err)
	}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func TestOlympusDirectoryTable(t *testing.T) {
	dir := t.TempDir()
	cfg := `{"parameters":[{"name":"a","type":"continuous","low":0,"high":1},{"name":"b","type":"continuous","low":0,"high":1}],"measurements":[{"name":"m","type":"continuous"}],"default_goal":"minimize"}`
	var data strings.Builder
	for i := 0; i < 6; i++ {
		for j := 0; j < 6; j++ {
			a, b := float64(i)/5, float64(j)/5
			data.WriteString(ftoa(a) + "," + ftoa(b) + "," + ftoa((a-0.4)*(a-0.4)+(b-0.2)*(b-0.2)) + "\n")
		}
	}
	os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644)
	os.WriteFile(filepath.Join(dir, "data.csv"), []byte(data.String()), 0o644)
	for _, path := range []string{dir, filepath.Join(dir, "data.csv")} {
		p, err := LoadTableProblem(path, "", "", "")
		if err != nil {
			t.Fatal(err)
		}
		if p.Goal != bo.Minimize || len(p.Space.Pool) != 36 || len(p.Space.Params) != 2 || p.Optimum != 0 {
			t.Fatalf("%s: goal %s, pool %d, params %d, optimum %v", path, p.Goal, len(p.Space.Pool), len(p.Space.Params), p.Optimum)
		}
	}
}

func TestEmbeddedTables(t *testing.T) {
	ps, err := tableProblems()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		pool int
		opt  float64
	}{
		"direct_arylation": {1728, 100},
		"crossed_barrel":   {600, 46.7114},
		"photo_pce10":      {1020, 0.001622641},
		"hplc":             {1007, math.NaN()},
	}
	for _, p := range ps {
		w, ok := want[p.Name]
		if !ok {
			t.Errorf("unexpected problem %s", p.Name)
			continue
		}
		if len(p.Space.Pool) != w.pool {
			t.Errorf("%s: pool %d, want %d", p.Name, len(p.Space.Pool), w.pool)
		}
		if !math.IsNaN(w.opt) && math.Abs(p.Optimum-w.opt) > 1e-4 {
			t.Errorf("%s: optimum %v, want %v", p.Name, p.Optimum, w.opt)
		}
	}
	da := ps[0]
	for _, prm := range da.Space.Params[:3] {
		if prm.Kind != bo.Categorical || prm.Descriptors == nil {
			t.Errorf("direct arylation %s: kind %s, descriptors %v", prm.Name, prm.Kind, prm.Descriptors != nil)
		}
	}
}

func TestBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--seeds", "0"},
		{"--suite", "nope"},
		{"--params", "a"},
		{"--table", "/nonexistent/x.csv"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		err := RunOptimizer(context.Background(), args, &out, &errb)
		if err == nil {
			t.Errorf("%v: no error", args)
			continue
		}
		if k := errors.KindOf(err); k != errors.Invalid && k != errors.NotExist {
			t.Errorf("%v: kind %v", args, k)
		}
	}
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("\uFEFFa,b,y\r\n1,x,2\r\n3,y,4"), true)
	f.Add([]byte("1,2,3\n4,5,6\n"), false)
	f.Add([]byte("a,b\n\n1,2\n"), true)
	f.Add([]byte("\"q,\"\"x\",b\n1,2"), true)
	f.Add([]byte("a,a\n1,2"), true)
	f.Fuzz(func(t *testing.T, data []byte, header bool) {
		tb, err := ParseCSV(bytes.NewReader(data), header, []string{"p", "q", "y"})
		if err != nil {
			return
		}
		for _, r := range tb.Rows {
			if len(r) != len(tb.Header) {
				t.Fatalf("row width %d, header %d", len(r), len(tb.Header))
			}
		}
		// Whatever parses must build a lookup or fail cleanly.
		lk, err := BuildLookup(tb, nil, tb.Header[len(tb.Header)-1], bo.Maximize, nil)
		if err != nil {
			return
		}
		if len(lk.Values) != len(lk.Space.Pool) {
			t.Fatalf("values %d, pool %d", len(lk.Values), len(lk.Space.Pool))
		}
		if _, err := bo.New(bo.Config{Space: lk.Space}); err != nil && len(lk.Space.Params) > 0 {
			t.Fatalf("lookup space rejected: %v", err)
		}
	})
}

func FuzzParseOlympusConfig(f *testing.F) {
	for _, d := range []string{"crossed_barrel", "hplc", "photo_pce10"} {
		b, err := tables.ReadFile("testdata/" + d + "/config.json")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"parameters":[{"name":"x","type":"categorical","options":["a","b"]}],"measurements":[{"name":"y"}]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseOlympusConfig(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(c.Columns()) != len(c.Parameters)+len(c.Measurements) {
			t.Fatal("column count mismatch")
		}
		_ = c.Goal()
	})
}

func FuzzParseParamSpecs(f *testing.F) {
	f.Add("A,B:cat,C:num")
	f.Add(" a , b ")
	f.Add("a:x")
	f.Fuzz(func(t *testing.T, s string) {
		specs, err := ParseParamSpecs(s)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, sp := range specs {
			if sp.Name == "" || seen[sp.Name] {
				t.Fatalf("bad spec list %v", specs)
			}
			seen[sp.Name] = true
		}
	})
}
