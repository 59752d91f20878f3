package campaign

import (
	"image/color"
	"io"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/genesis-science/genesis/internal/errors"
)

// Plot formats.
const (
	PlotPNG = "png"
	PlotSVG = "svg"
)

// Plot draws c's convergence for its first objective: every observation
// as a point at its experiment number, the best so far as a step line,
// failed experiments as crosses along the bottom and the target, if any,
// as a dashed line. format is "png" or "svg"; anything else is
// errors.Invalid naming the format and writes nothing.
func Plot(w io.Writer, format string, c *Campaign, exps []Experiment) error {
	const op errors.Op = "campaign.Plot"
	if format != PlotPNG && format != PlotSVG {
		return errors.E(op, errors.Invalid, errors.Field("format"), errors.Msg("the plot format must be png or svg"))
	}
	if c == nil || len(c.Spec.Objectives) == 0 {
		return errors.E(op, errors.Invalid, errors.Msg("the campaign has no objective to plot"))
	}
	tr := Convergence(&c.Spec, exps)
	obj := c.Spec.Objectives[0]

	pl := plot.New()
	pl.Title.Text = c.Name
	if c.Title != "" {
		pl.Title.Text = c.Title
	}
	pl.X.Label.Text = "experiment"
	pl.Y.Label.Text = obj.Name
	if obj.Unit != "" {
		pl.Y.Label.Text += " (" + obj.Unit + ")"
	}
	blue := color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	red := color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	grey := color.RGBA{R: 0x88, G: 0x88, B: 0x88, A: 0xff}

	var pts, best plotter.XYs
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range tr.Points {
		pts = append(pts, plotter.XY{X: float64(p.Seq), Y: p.Value})
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	for i, b := range tr.Best {
		// A step line: the best holds until the next improvement.
		if i > 0 {
			best = append(best, plotter.XY{X: float64(b.Seq), Y: tr.Best[i-1].Value})
		}
		best = append(best, plotter.XY{X: float64(b.Seq), Y: b.Value})
	}
	if len(best) > 0 && float64(tr.Last) > best[len(best)-1].X {
		best = append(best, plotter.XY{X: float64(tr.Last), Y: best[len(best)-1].Y})
	}
	if obj.Target != nil && !math.IsNaN(*obj.Target) && !math.IsInf(*obj.Target, 0) {
		lo, hi = math.Min(lo, *obj.Target), math.Max(hi, *obj.Target)
	}
	if len(pts) > 0 {
		s, err := plotter.NewScatter(pts)
		if err != nil {
			return errors.E(op, errors.Internal, err)
		}
		s.GlyphStyle.Color, s.GlyphStyle.Shape, s.GlyphStyle.Radius = grey, draw.CircleGlyph{}, vg.Points(2.5)
		pl.Add(s)
		pl.Legend.Add("observed", s)
	}
	if len(best) > 0 {
		l, err := plotter.NewLine(best)
		if err != nil {
			return errors.E(op, errors.Internal, err)
		}
		l.Color, l.Width = blue, vg.Points(1.5)
		pl.Add(l)
		pl.Legend.Add("best so far", l)
	}
	if len(tr.Failed) > 0 {
		y := lo
		if math.IsInf(y, 0) {
			y = 0
		}
		var fx plotter.XYs
		for _, seq := range tr.Failed {
			fx = append(fx, plotter.XY{X: float64(seq), Y: y})
		}
		s, err := plotter.NewScatter(fx)
		if err != nil {
			return errors.E(op, errors.Internal, err)
		}
		s.GlyphStyle.Color, s.GlyphStyle.Shape, s.GlyphStyle.Radius = red, draw.CrossGlyph{}, vg.Points(3)
		pl.Add(s)
		pl.Legend.Add("failed", s)
	}
	if t := obj.Target; t != nil && !math.IsNaN(*t) && !math.IsInf(*t, 0) {
		v := *t
		f := plotter.NewFunction(func(float64) float64 { return v })
		f.Color, f.Dashes = red, []vg.Length{vg.Points(4), vg.Points(3)}
		pl.Add(f)
		pl.Legend.Add("target", f)
		if pl.Y.Min > v {
			pl.Y.Min = v
		}
		if pl.Y.Max < v {
			pl.Y.Max = v
		}
	}
	if tr.Last > 0 {
		pl.X.Min, pl.X.Max = 0, float64(tr.Last)+1
	} else {
		pl.X.Min, pl.X.Max = 0, 1
	}
	if !math.IsInf(lo, 0) && lo == hi {
		pl.Y.Min, pl.Y.Max = lo-1, hi+1
	}
	pl.Legend.Top = obj.Goal == "min"
	pl.Legend.Left = false

	wt, err := pl.WriterTo(6*vg.Inch, 4*vg.Inch, format)
	if err != nil {
		return errors.E(op, errors.Internal, errors.Msg("cannot draw the plot"), err)
	}
	if _, err := wt.WriteTo(w); err != nil {
		return errors.E(op, errors.Msg("cannot write the plot"), err)
	}
	return nil
}

// Curve is a campaign's course for its first objective, in experiment
// order: what Plot draws and what `genesis campaign watch` sums up.
type Curve struct {
	// Points are the observed values of the first objective, by Seq.
	Points []CurvePoint
	// Best are the observations that improved on all before them.
	Best []CurvePoint
	// Failed are the Seqs of failed experiments.
	Failed []int
	// Last is the highest Seq seen (observed, failed or otherwise).
	Last int
}

// CurvePoint is one experiment's value of the first objective.
type CurvePoint struct {
	Seq   int
	Value float64
}

// Convergence computes the Curve of exps under spec: the first
// objective's value of each observed experiment (its output, as the
// executor maps it, or else its name), the running best (by its goal), and the failed
// experiments. Observations without a finite value are left out.
func Convergence(spec *Spec, exps []Experiment) Curve {
	var tr Curve
	if spec == nil || len(spec.Objectives) == 0 {
		return tr
	}
	obj := spec.Objectives[0]
	out := obj.Name
	if m := spec.Executor.Outputs[obj.Name]; m != "" {
		out = m
	}
	sorted := make([]Experiment, len(exps))
	copy(sorted, exps)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Seq < sorted[j].Seq })
	for _, e := range sorted {
		tr.Last = max(tr.Last, e.Seq)
		switch e.State {
		case ExpFailed:
			tr.Failed = append(tr.Failed, e.Seq)
			continue
		case Observed:
		default:
			continue
		}
		v, ok := e.Values[out]
		if !ok {
			v, ok = e.Values[obj.Name]
		}
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		p := CurvePoint{Seq: e.Seq, Value: v}
		tr.Points = append(tr.Points, p)
		if n := len(tr.Best); n == 0 || improves(obj.Goal, v, tr.Best[n-1].Value) {
			tr.Best = append(tr.Best, p)
		}
	}
	return tr
}

// improves reports whether a improves on b under goal ("min" or "max").
func improves(goal string, a, b float64) bool {
	if goal == "min" {
		return a < b
	}
	return a > b
}
