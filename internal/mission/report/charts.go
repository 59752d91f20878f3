package report

import (
	"bytes"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/genesis-science/genesis/internal/errors"
)

var palette = []color.RGBA{
	{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	{R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
}

var (
	red  = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
	grey = color.RGBA{R: 0x70, G: 0x70, B: 0x70, A: 0xff}
)

// draw renders c as "svg" or "png", w×h.
func (c *Chart) draw(format string, w, h vg.Length) ([]byte, error) {
	const op errors.Op = "report.chart"
	pl := plot.New()
	pl.Title.Text = c.Title
	pl.Y.Label.Text = c.YLabel
	pl.Legend.Top = len(c.Bars) > 0
	pl.Legend.Left = len(c.Bars) > 0
	if len(c.Bars) > 0 {
		n := float64(len(c.Bars))
		width := vg.Points(float64(w.Points()) * 0.7 / 12 / n)
		top := 0.0
		for i, b := range c.Bars {
			vs := make(plotter.Values, len(b.Values))
			copy(vs, b.Values)
			for _, v := range vs {
				top = math.Max(top, v)
			}
			bc, err := plotter.NewBarChart(vs, width)
			if err != nil {
				return nil, errors.E(op, errors.Internal, err)
			}
			bc.Color = palette[i%len(palette)]
			bc.LineStyle.Width = 0
			bc.Offset = vg.Length(float64(i)-(n-1)/2) * width
			pl.Add(bc)
			if len(c.Bars) > 1 {
				pl.Legend.Add(b.Name, bc)
			}
		}
		pl.NominalX(c.Months...)
		pl.Y.Min = 0
		if top == 0 {
			pl.Y.Max = 1
		}
	} else {
		lo, hi := math.Inf(1), math.Inf(-1)
		first, last := math.Inf(1), math.Inf(-1)
		for i, l := range c.Lines {
			var xy plotter.XYs
			for j, p := range l.Points {
				x := float64(p.At.Unix())
				if j > 0 { // a step: the best holds until the next improvement
					xy = append(xy, plotter.XY{X: x, Y: l.Points[j-1].Value})
				}
				xy = append(xy, plotter.XY{X: x, Y: p.Value})
				lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
				first, last = math.Min(first, x), math.Max(last, x)
			}
			if len(xy) == 0 {
				continue
			}
			ln, err := plotter.NewLine(xy)
			if err != nil {
				return nil, errors.E(op, errors.Internal, err)
			}
			ln.Color, ln.Width = palette[i%len(palette)], vg.Points(1.5)
			pl.Add(ln)
			pl.Legend.Add(l.Name, ln)
		}
		hline := func(v float64, name string, col color.Color, dashes []vg.Length) {
			f := plotter.NewFunction(func(float64) float64 { return v })
			f.Color, f.Dashes, f.Width = col, dashes, vg.Points(1)
			pl.Add(f)
			pl.Legend.Add(name, f)
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		if c.Target != nil && finite(*c.Target) {
			hline(*c.Target, "target", red, []vg.Length{vg.Points(4), vg.Points(3)})
		}
		if c.Baseline != nil && finite(*c.Baseline) {
			hline(*c.Baseline, "baseline", grey, []vg.Length{vg.Points(1), vg.Points(2)})
		}
		if !c.XFrom.IsZero() && c.XTo.After(c.XFrom) {
			first, last = math.Min(first, float64(c.XFrom.Unix())), math.Max(last, float64(c.XTo.Unix()))
		}
		if math.IsInf(first, 0) {
			pl.X.Min, pl.X.Max = 0, 1
			pl.X.Label.Text = "no result yet"
			pl.X.Tick.Marker = plot.ConstantTicks(nil)
		} else {
			if first == last {
				first, last = first-86400, last+86400
			}
			pl.X.Min, pl.X.Max = first, last
			pl.X.Tick.Marker = plot.TimeTicks{Format: "2006-01-02"}
		}
		if !math.IsInf(lo, 0) {
			pad := (hi - lo) * 0.1
			if pad == 0 {
				pad = math.Max(1, math.Abs(lo)*0.1)
			}
			pl.Y.Min, pl.Y.Max = lo-pad, hi+pad
		}
	}
	wt, err := pl.WriterTo(w, h, format)
	if err != nil {
		return nil, errors.E(op, errors.Internal, errors.Msg("cannot draw the chart"), err)
	}
	var b bytes.Buffer
	if _, err := wt.WriteTo(&b); err != nil {
		return nil, errors.E(op, errors.Internal, errors.Msg("cannot draw the chart"), err)
	}
	return b.Bytes(), nil
}

// svg renders c as an SVG element to inline in HTML (the XML prolog cut).
func (c *Chart) svg() ([]byte, error) {
	b, err := c.draw("svg", 6*vg.Inch, 3*vg.Inch)
	if err != nil {
		return nil, err
	}
	if i := bytes.Index(b, []byte("<svg")); i > 0 {
		b = b[i:]
	}
	return b, nil
}
