package campaign

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/campaign/bo"
)

// TestExamples parses every example campaign file, and checks that the
// optimizer accepts its configuration.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../../examples/campaigns/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no example campaign files found")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(b)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			cfg, err := s.OptimizerConfig()
			if err != nil {
				t.Fatalf("OptimizerConfig: %v", err)
			}
			if _, err := bo.New(cfg); err != nil {
				t.Fatalf("bo.New: %v", err)
			}
		})
	}
}

// TestREADME: the README's campaign file reference parses, and names every
// key a campaign file may use.
func TestREADME(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Campaign files\n")
	if start < 0 {
		t.Fatal(`README.md has no "## Campaign files" section`)
	}
	text = text[start+1:]
	if end := strings.Index(text[3:], "\n## "); end >= 0 {
		text = text[:end+3]
	}
	i := strings.Index(text, "```yaml\n")
	if i < 0 {
		t.Fatal("no yaml block in the section")
	}
	block := text[i+len("```yaml\n"):]
	block = block[:strings.Index(block, "```")]
	if _, err := Parse([]byte(block)); err != nil {
		t.Errorf("the reference block does not parse: %v", err)
	}
	for _, k := range allKeys {
		if !strings.Contains(text, k+":") {
			t.Errorf("the section does not document %q", k)
		}
	}
}

// simActions is the simulated instruments' contract (the sim models'
// actions, parameters with their safety bounds or choices, and outputs)
// that the example campaigns on the demo workcell are written against.
var simActions = map[string]struct {
	params  map[string][2]float64
	choices map[string][]string
	outputs []string
}{
	"run": {
		params:  map[string][2]float64{"temperature": {30, 150}, "residence_time": {0.5, 30}, "concentration": {0.05, 1.0}},
		choices: map[string][]string{"catalyst": {"Pd-A", "Pd-B", "Ni-C", "Cu-D"}},
		outputs: []string{"yield", "impurity"},
	},
	"deposit_and_measure": {
		params:  map[string][2]float64{"fraction_a": {0, 1}, "fraction_b": {0, 1}, "fraction_c": {0, 1}, "anneal_temperature": {200, 600}},
		outputs: []string{"band_gap", "conductivity"},
	},
	"print_and_test": {
		params:  map[string][2]float64{"nozzle_temperature": {190, 260}, "layer_height": {0.08, 0.32}, "infill": {10, 100}, "print_speed": {20, 120}},
		outputs: []string{"toughness", "print_time"},
	},
}

// TestExamplesFitTheSimulators: every experiment an example campaign on
// the demo workcell can propose is a request its simulated action takes —
// exactly its parameters, within their bounds, known choices — and the
// campaign reads only outputs the action reports.
func TestExamplesFitTheSimulators(t *testing.T) {
	files, _ := filepath.Glob("../../examples/campaigns/*.yaml")
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		if s.Executor.Workcell != "demo-cell" {
			continue
		}
		checked++
		a, ok := simActions[s.Executor.Action]
		if !ok {
			t.Errorf("%s: no simulated action %q", f, s.Executor.Action)
			continue
		}
		for _, o := range s.Outputs() {
			if !slices.Contains(a.outputs, o) {
				t.Errorf("%s: the action does not report %q", f, o)
			}
		}
		// The corners of the box are the extreme requests.
		for _, p := range append(designPoints(t, s, 16), corners(s)...) {
			req, err := s.ActionParams(s.FromPoint(p))
			if err != nil {
				t.Fatal(err)
			}
			if len(req) != len(a.params)+len(a.choices) {
				t.Errorf("%s: request %v, want the parameters %v and %v", f, req, a.params, a.choices)
			}
			for k, v := range req {
				if c, ok := a.choices[k]; ok {
					if s, _ := v.(string); !slices.Contains(c, s) {
						t.Errorf("%s: %s = %v, not one of %q", f, k, v, c)
					}
					continue
				}
				bounds, ok := a.params[k]
				x, isNum := v.(float64)
				if !ok || !isNum || x < bounds[0] || x > bounds[1] {
					t.Errorf("%s: %s = %v, want a number in %v", f, k, v, bounds)
				}
			}
		}
	}
	if checked < 3 {
		t.Errorf("checked %d example campaigns on the demo workcell, want at least 3", checked)
	}
}

// corners returns the box's corner points (bounds only; categories
// first), up to 64.
func corners(s *Spec) []bo.Point {
	out := []bo.Point{{}}
	for _, p := range s.Params {
		var vals []float64
		if p.Kind == "categorical" {
			vals = []float64{0, float64(len(p.Categories) - 1)}
		} else {
			vals = []float64{*p.Low, *p.High}
		}
		var next []bo.Point
		for _, c := range out {
			for _, v := range vals {
				next = append(next, append(slices.Clone(c), v))
			}
		}
		out = next
		if len(out) > 64 {
			out = out[:64]
		}
	}
	return out
}
