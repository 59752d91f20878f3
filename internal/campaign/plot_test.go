package campaign

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

func plotSpec(goal string, target *float64) *Campaign {
	return &Campaign{Name: "c1", Spec: Spec{
		Name:       "c1",
		Objectives: []Objective{{Name: "yield", Goal: goal, Target: target, Unit: "%"}},
		Executor:   Executor{Outputs: map[string]string{"yield": "y_out"}},
	}}
}

// randomExperiments makes n experiments in random order with random
// states; observed ones carry a value under the objective's name or its
// mapped output, some not finite.
func randomExperiments(r *rand.Rand, n int) []Experiment {
	states := []string{Proposed, Dispatched, InFlight, Observed, Observed, Observed, ExpFailed, Cancelled}
	exps := make([]Experiment, n)
	for i := range exps {
		e := Experiment{Seq: i + 1, State: states[r.IntN(len(states))]}
		if e.State == Observed {
			v := r.NormFloat64() * 10
			switch r.IntN(10) {
			case 0:
				v = math.NaN()
			case 1:
				v = math.Inf(1)
			}
			key := "yield"
			if r.IntN(2) == 0 {
				key = "y_out"
			}
			e.Values = map[string]float64{key: v, "other": r.Float64()}
		}
		exps[i] = e
	}
	r.Shuffle(len(exps), func(i, j int) { exps[i], exps[j] = exps[j], exps[i] })
	return exps
}

// TestConvergenceProperties checks Convergence against a reference: the
// running best of the finite observations in Seq order.
func TestConvergenceProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		goal := []string{"max", "min"}[trial%2]
		c := plotSpec(goal, nil)
		exps := randomExperiments(r, r.IntN(40))
		tr := Convergence(&c.Spec, exps)

		byseq := make([]Experiment, len(exps)+1)
		for _, e := range exps {
			byseq[e.Seq] = e
		}
		var wantPoints, wantBest []CurvePoint
		var wantFailed []int
		for seq := 1; seq < len(byseq); seq++ {
			e := byseq[seq]
			if e.State == ExpFailed {
				wantFailed = append(wantFailed, seq)
			}
			if e.State != Observed {
				continue
			}
			v, ok := e.Values["y_out"]
			if !ok {
				v = e.Values["yield"]
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			wantPoints = append(wantPoints, CurvePoint{seq, v})
			if len(wantBest) == 0 || (goal == "max" && v > wantBest[len(wantBest)-1].Value) || (goal == "min" && v < wantBest[len(wantBest)-1].Value) {
				wantBest = append(wantBest, CurvePoint{seq, v})
			}
		}
		if !equalPoints(tr.Points, wantPoints) || !equalPoints(tr.Best, wantBest) || !equalInts(tr.Failed, wantFailed) {
			t.Fatalf("trial %d (%s): got %+v, want points %v best %v failed %v", trial, goal, tr, wantPoints, wantBest, wantFailed)
		}
		if tr.Last != len(exps) {
			t.Fatalf("trial %d: Last %d, want %d", trial, tr.Last, len(exps))
		}
		// The best is monotone and every point is no better than the best
		// at its time.
		for i := 1; i < len(tr.Best); i++ {
			if !improves(goal, tr.Best[i].Value, tr.Best[i-1].Value) || tr.Best[i].Seq <= tr.Best[i-1].Seq {
				t.Fatalf("trial %d: best not monotone: %v", trial, tr.Best)
			}
		}
	}
}

func equalPoints(a, b []CurvePoint) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestPlotFormats: PNG output decodes as a PNG of the plot's size, SVG
// output is a well-formed SVG document — for empty campaigns, campaigns of
// one value, with and without a target, and random ones.
func TestPlotFormats(t *testing.T) {
	t.Parallel() // CPU-bound and shares nothing: runs beside the other slow ones
	r := rand.New(rand.NewPCG(3, 4))
	target := 12.5
	one := []Experiment{{Seq: 1, State: Observed, Values: map[string]float64{"yield": 3}}}
	failedOnly := []Experiment{{Seq: 1, State: ExpFailed}, {Seq: 2, State: ExpFailed}}
	cases := []struct {
		name string
		c    *Campaign
		exps []Experiment
	}{
		{"empty", plotSpec("max", nil), nil},
		{"one", plotSpec("max", &target), one},
		{"failed only", plotSpec("min", &target), failedOnly},
		{"random max", plotSpec("max", &target), randomExperiments(r, 60)},
		{"random min", plotSpec("min", nil), randomExperiments(r, 60)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Plot(&b, "png", tc.c, tc.exps); err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(&b)
			if err != nil {
				t.Fatalf("PNG does not decode: %v", err)
			}
			if sz := img.Bounds().Size(); sz.X < 100 || sz.Y < 100 {
				t.Errorf("PNG is %v", sz)
			}
			b.Reset()
			if err := Plot(&b, "svg", tc.c, tc.exps); err != nil {
				t.Fatal(err)
			}
			if err := wellFormedSVG(b.Bytes()); err != nil {
				t.Fatalf("SVG: %v", err)
			}
		})
	}
}

func wellFormedSVG(b []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(b))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		return errors.Errorf("root element %q, want svg", root)
	}
	return nil
}

// TestPlotRefusals: an unknown format is Invalid naming the format and
// writes nothing; a campaign without objectives is Invalid.
func TestPlotRefusals(t *testing.T) {
	for _, f := range []string{"", "PNG", "jpeg", "svg ", "pdf"} {
		var b bytes.Buffer
		err := Plot(&b, f, plotSpec("max", nil), nil)
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "format" {
			t.Errorf("format %q: %v, want Invalid naming format", f, err)
		}
		if b.Len() != 0 {
			t.Errorf("format %q wrote %d bytes", f, b.Len())
		}
	}
	if err := Plot(io.Discard, "png", &Campaign{Name: "x"}, nil); !errors.Is(errors.Invalid, err) {
		t.Errorf("no objectives: %v, want Invalid", err)
	}
}
