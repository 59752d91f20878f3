package campaign

import (
	"os"
	"testing"

	"github.com/genesis-science/genesis/internal/campaign/bo"
)

// BenchmarkParse parses the demo campaign file.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("../../examples/campaigns/flow-reactor.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExperimentConversions is what the runner converts per
// experiment: a suggestion to named params, to the action's params, the
// reported values to an optimizer row, the target check, and the params
// back to a point (as after a restart).
func BenchmarkExperimentConversions(b *testing.B) {
	data, err := os.ReadFile("../../examples/campaigns/flow-reactor.yaml")
	if err != nil {
		b.Fatal(err)
	}
	s, err := Parse(data)
	if err != nil {
		b.Fatal(err)
	}
	p := bo.Point{80, 5, 0.4, 2}
	values := map[string]float64{"yield": 71.5, "impurity": 2.1}
	for b.Loop() {
		m := s.FromPoint(p)
		if _, err := s.ActionParams(m); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Measure(values); err != nil {
			b.Fatal(err)
		}
		s.Reached(values)
		if _, err := s.ToPoint(m); err != nil {
			b.Fatal(err)
		}
	}
}
