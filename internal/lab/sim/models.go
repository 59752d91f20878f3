package sim

import (
	"math"
	"strconv"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
)

// The simulated models. Each hidden response is a peak exp(-q/2) over a
// positive-definite quadratic form q of the normalised parameters (its
// off-diagonal terms are the interactions), so the optimum is where the
// form is zero — inside the bounds — and Optimum can state it exactly.
const (
	FlowReactor   = "flow-reactor"
	ThinFilm      = "thin-film"
	PrinterTester = "printer-tester"
)

// Models lists the simulated models.
func Models() []string { return []string{FlowReactor, ThinFilm, PrinterTester} }

type model struct {
	info    lab.Info
	primary string // the output the optimum maximises
	optimum map[string]any
	measure func(p map[string]any) map[string]float64
	check   func(p map[string]any) error
}

func (m *model) Info() lab.Info {
	info := m.info
	info.Actions = append([]lab.Action(nil), m.info.Actions...)
	info.Consumables = append([]lab.Consumable(nil), m.info.Consumables...)
	return info
}

func (m *model) Check(req lab.Request) error {
	if m.check == nil {
		return nil
	}
	return m.check(req.Params)
}

func (m *model) Measure(req lab.Request) map[string]float64 { return m.measure(req.Params) }

func ptr(f float64) *float64 { return &f }

func num(name, unit string, lo, hi float64, desc string) lab.Param {
	return lab.Param{Name: name, Kind: lab.Number, Unit: unit, Min: ptr(lo), Max: ptr(hi), Description: desc}
}

// peak returns exp(-dᵀMd/2).
func peak(d []float64, m [][]float64) float64 {
	q := 0.0
	for i := range d {
		for j := range d {
			q += d[i] * m[i][j] * d[j]
		}
	}
	return math.Exp(-q / 2)
}

type catalyst struct {
	name             string
	temp, time, conc float64 // where its yield peaks
	maxYield         float64
}

var catalysts = []catalyst{
	{"Pd-A", 95, 6, 0.6, 92},
	{"Pd-B", 115, 3, 0.45, 86},
	{"Ni-C", 75, 12, 0.75, 74},
	{"Cu-D", 130, 8, 0.35, 63},
}

var flowForm = [][]float64{{18, -6, 3}, {-6, 12, -2}, {3, -2, 9}}

func flowNorm(temp, tau, conc float64) (float64, float64, float64) {
	return (temp - 30) / 120, math.Log(tau/0.5) / math.Log(30/0.5), (conc - 0.05) / 0.95
}

func newFlowReactor() *model {
	var names []string
	for _, c := range catalysts {
		names = append(names, c.name)
	}
	best := catalysts[0]
	for _, c := range catalysts {
		if c.maxYield > best.maxYield {
			best = c
		}
	}
	return &model{
		info: lab.Info{
			Model: FlowReactor,
			Actions: []lab.Action{{
				Name:        "run",
				Description: "run one reaction in the flow reactor and measure yield and impurity by inline HPLC",
				Params: []lab.Param{
					num("temperature", "°C", 30, 150, "reactor temperature"),
					num("residence_time", "min", 0.5, 30, "residence time in the heated coil"),
					num("concentration", "mol/L", 0.05, 1.0, "substrate concentration"),
					{Name: "catalyst", Kind: lab.Choice, Choices: names, Description: "catalyst cartridge"},
				},
				Outputs:        []lab.Output{{Name: "yield", Unit: "%"}, {Name: "impurity", Unit: "%"}},
				Consumes:       map[string]float64{"substrate": 5},
				NominalSeconds: 600,
			}},
			Consumables: []lab.Consumable{{Name: "substrate", Unit: "mL", Level: 500, Capacity: 500}},
		},
		primary: "yield",
		optimum: map[string]any{"temperature": best.temp, "residence_time": best.time, "concentration": best.conc, "catalyst": best.name},
		measure: func(p map[string]any) map[string]float64 {
			temp, tau, conc := p["temperature"].(float64), p["residence_time"].(float64), p["concentration"].(float64)
			t, r, c := flowNorm(temp, tau, conc)
			var cat catalyst
			for _, k := range catalysts {
				if k.name == p["catalyst"] {
					cat = k
				}
			}
			t0, r0, c0 := flowNorm(cat.temp, cat.time, cat.conc)
			y := cat.maxYield * peak([]float64{t - t0, r - r0, c - c0}, flowForm)
			return map[string]float64{
				"yield":    y,
				"impurity": 0.5 + 8*t*t*r + 3*c*t,
			}
		},
	}
}

var filmForm = [][]float64{{40, 15, 4}, {15, 30, -5}, {4, -5, 10}}

func newThinFilm() *model {
	const a0, b0, t0 = 0.45, 0.35, 420.0
	return &model{
		info: lab.Info{
			Model: ThinFilm,
			Actions: []lab.Action{{
				Name:        "deposit_and_measure",
				Description: "co-deposit a three-component film (fractions sum to 1), anneal it, measure band gap and conductivity",
				Params: []lab.Param{
					num("fraction_a", "", 0, 1, "fraction of component A"),
					num("fraction_b", "", 0, 1, "fraction of component B"),
					num("fraction_c", "", 0, 1, "fraction of component C"),
					num("anneal_temperature", "°C", 200, 600, "anneal temperature"),
				},
				Outputs:        []lab.Output{{Name: "band_gap", Unit: "eV"}, {Name: "conductivity", Unit: "S/cm"}},
				Consumes:       map[string]float64{"substrate": 1},
				NominalSeconds: 1800,
			}},
			Consumables: []lab.Consumable{{Name: "substrate", Unit: "pcs", Level: 48, Capacity: 48}},
		},
		primary: "conductivity",
		optimum: map[string]any{"fraction_a": a0, "fraction_b": b0, "fraction_c": 1 - a0 - b0, "anneal_temperature": t0},
		check: func(p map[string]any) error {
			s := p["fraction_a"].(float64) + p["fraction_b"].(float64) + p["fraction_c"].(float64)
			if math.Abs(s-1) > 1e-6 {
				return errors.E(errors.Invalid, errors.Field("params.fraction_c"), errors.Msg("fraction_a + fraction_b + fraction_c must be 1 (within 1e-6), not "+strconv.FormatFloat(s, 'g', 8, 64)))
			}
			return nil
		},
		measure: func(p map[string]any) map[string]float64 {
			a, b, c := p["fraction_a"].(float64), p["fraction_b"].(float64), p["fraction_c"].(float64)
			tn := (p["anneal_temperature"].(float64) - 200) / 400
			return map[string]float64{
				"conductivity": 120 * peak([]float64{a - a0, b - b0, tn - (t0-200)/400}, filmForm),
				"band_gap":     1.12*a + 2.26*b + 3.37*c - 0.9*a*b - 0.4*b*c + 0.15*(tn-0.5),
			}
		},
	}
}

var printForm = [][]float64{
	{8, -2, 0, 3},
	{-2, 10, -1.5, 2},
	{0, -1.5, 6, 0},
	{3, 2, 0, 9},
}

func newPrinterTester() *model {
	norm := func(t, h, i, s float64) []float64 {
		return []float64{(t - 190) / 70, (h - 0.08) / 0.24, (i - 10) / 90, (s - 20) / 100}
	}
	opt := norm(232, 0.16, 85, 45)
	return &model{
		info: lab.Info{
			Model: PrinterTester,
			Actions: []lab.Action{{
				Name:        "print_and_test",
				Description: "print a test specimen and break it in the tensile tester",
				Params: []lab.Param{
					num("nozzle_temperature", "°C", 190, 260, "nozzle temperature"),
					num("layer_height", "mm", 0.08, 0.32, "layer height"),
					num("infill", "%", 10, 100, "infill density"),
					num("print_speed", "mm/s", 20, 120, "print speed"),
				},
				Outputs:        []lab.Output{{Name: "toughness", Unit: "MJ/m³"}, {Name: "print_time", Unit: "min"}},
				Consumes:       map[string]float64{"filament": 12},
				NominalSeconds: 2400,
			}},
			Consumables: []lab.Consumable{{Name: "filament", Unit: "g", Level: 1000, Capacity: 1000}},
		},
		primary: "toughness",
		optimum: map[string]any{"nozzle_temperature": 232.0, "layer_height": 0.16, "infill": 85.0, "print_speed": 45.0},
		measure: func(p map[string]any) map[string]float64 {
			t, h, i, s := p["nozzle_temperature"].(float64), p["layer_height"].(float64), p["infill"].(float64), p["print_speed"].(float64)
			x := norm(t, h, i, s)
			d := make([]float64, 4)
			for k := range x {
				d[k] = x[k] - opt[k]
			}
			return map[string]float64{
				"toughness":  18 * peak(d, printForm),
				"print_time": 8 * (0.25 + 0.75*i/100) * (0.2 / h) * (60 / s),
			}
		},
	}
}

func newModel(name string) *model {
	switch name {
	case FlowReactor:
		return newFlowReactor()
	case ThinFilm:
		return newThinFilm()
	case PrinterTester:
		return newPrinterTester()
	}
	return nil
}

// NewModel returns the named model, or nil.
func NewModel(name string) Model {
	if m := newModel(name); m != nil {
		return m
	}
	return nil
}

// Optimum returns the parameters where the model's primary output (yield,
// conductivity, toughness) is highest, and the noise-free outputs there;
// nil for an unknown model.
func Optimum(name string) (params map[string]any, outputs map[string]float64) {
	m := newModel(name)
	if m == nil {
		return nil, nil
	}
	params = map[string]any{}
	for k, v := range m.optimum {
		params[k] = v
	}
	return params, m.measure(params)
}

// Primary names the output Optimum maximises.
func Primary(name string) string {
	if m := newModel(name); m != nil {
		return m.primary
	}
	return ""
}
