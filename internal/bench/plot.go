package bench

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
)

// writePlot draws median best-so-far curves with 25–75% bands for each
// method and saves base.png and base.svg.
func writePlot(base string, p *Problem, traces map[Method][]Trace) error {
	const op errors.Op = "bench.writePlot"
	pl := plot.New()
	pl.Title.Text = p.Name
	pl.X.Label.Text = "experiments"
	pl.Y.Label.Text = "best so far"
	if len(p.Objectives) > 1 {
		pl.Y.Label.Text = "hypervolume"
	}
	colors := map[Method]color.RGBA{Genesis: {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}, Random: {R: 0x99, G: 0x99, B: 0x99, A: 0xff}}
	for _, m := range []Method{Random, Genesis} {
		s := Summarise(traces[m], p.Goal)
		med, lo, hi := plotter.XYs{}, plotter.XYs{}, plotter.XYs{}
		for k := range s.Median {
			if finiteF(s.Median[k]) {
				med = append(med, plotter.XY{X: float64(k + 1), Y: s.Median[k]})
			}
			if finiteF(s.Q25[k]) && finiteF(s.Q75[k]) {
				lo = append(lo, plotter.XY{X: float64(k + 1), Y: s.Q25[k]})
				hi = append(hi, plotter.XY{X: float64(k + 1), Y: s.Q75[k]})
			}
		}
		if len(med) == 0 {
			continue
		}
		c := colors[m]
		l, err := plotter.NewLine(med)
		if err != nil {
			return errors.E(op, errors.Internal, err)
		}
		l.Color, l.Width = c, vg.Points(1.5)
		pl.Add(l)
		pl.Legend.Add(string(m)+" median", l)
		for _, band := range []plotter.XYs{lo, hi} {
			if len(band) == 0 {
				continue
			}
			b, err := plotter.NewLine(band)
			if err != nil {
				return errors.E(op, errors.Internal, err)
			}
			b.Color, b.Dashes = c, []vg.Length{vg.Points(3), vg.Points(3)}
			pl.Add(b)
		}
	}
	if !math.IsNaN(p.Optimum) {
		opt := plotter.NewFunction(func(float64) float64 { return p.Optimum })
		opt.Color, opt.Dashes = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}, []vg.Length{vg.Points(1), vg.Points(2)}
		pl.Add(opt)
		pl.Legend.Add("optimum", opt)
	}
	pl.Legend.Top = p.Goal == bo.Minimize
	pl.Legend.Left = false
	for _, ext := range []string{".png", ".svg"} {
		if err := pl.Save(6*vg.Inch, 4*vg.Inch, base+ext); err != nil {
			return errors.E(op, errors.Internal, errors.Msg("cannot write plot"), err)
		}
	}
	return nil
}
