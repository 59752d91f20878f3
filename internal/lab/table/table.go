// Package table is the "table" driver kind: an instrument that answers
// from a table of published experiments, to replay them through the whole
// platform (campaigns, dispatch, observation) as if a lab ran them.
//
// Settings (JSON): {"path": a CSV file with a header, or a directory (or
// its data.csv) with an Olympus-style config.json; "params": the
// parameter columns, as `genesis bench optimizer --params` takes them
// ("A,B:cat,C:num"; empty: every other column); "objective": the measured
// column (required); "goal": "max" or "min"; "speed": 1; "seconds": the
// nominal duration of one measurement (default 0: at once)}. The table is
// read with internal/bench's parsers, so a campaign replayed here sees
// exactly the problem `bench optimizer --table` sees: replicated rows
// averaged, numeric columns bounded by their range.
//
// The instrument has one action, "measure": a choice parameter per
// categorical column (its values in the table), a number parameter per
// numeric column (bounds from the data or config.json). Its one output is
// the objective column's value on the matching row; parameters matching
// no row are refused (errors.Invalid). Runs are idempotent by ID and
// durable through restarts with the same journal as lab/sim (whose
// engine this driver uses, with no noise and no faults).
package table

import (
	"bytes"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/bench"
	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/sim"
)

// Action is the table instrument's one action.
const Action = "measure"

// Settings are the "table" kind's driver settings.
type Settings struct {
	Path      string  `json:"path"`
	Params    string  `json:"params,omitempty"`
	Objective string  `json:"objective"`
	Goal      string  `json:"goal,omitempty"`
	Speed     float64 `json:"speed"`
	Seconds   float64 `json:"seconds,omitempty"`
}

// ParseSettings decodes and checks table settings (without reading the
// table). Unknown fields and bad values are errors.Invalid naming the
// field.
func ParseSettings(raw []byte) (Settings, error) {
	const op errors.Op = "table.ParseSettings"
	s := Settings{Speed: 1}
	var fields map[string]json.RawMessage
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Settings{}, errors.E(op, errors.Invalid, errors.Field("settings"), errors.Msg("settings must be a JSON object"))
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, name := range names {
		v := fields[name]
		var dst any
		switch name {
		case "path":
			dst = &s.Path
		case "params":
			dst = &s.Params
		case "objective":
			dst = &s.Objective
		case "goal":
			dst = &s.Goal
		case "speed":
			dst = &s.Speed
		case "seconds":
			dst = &s.Seconds
		default:
			field := errors.Field(name)
			if name == "" {
				field = "settings"
			}
			return Settings{}, errors.E(op, errors.Invalid, field, errors.Msg("unknown setting "+strconv.Quote(name)))
		}
		if err := json.Unmarshal(v, dst); err != nil || bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
			return Settings{}, errors.E(op, errors.Invalid, errors.Field(name), errors.Msg("setting "+strconv.Quote(name)+" has the wrong type"))
		}
	}
	if err := s.Validate(); err != nil {
		return Settings{}, errors.E(op, err)
	}
	return s, nil
}

// Validate checks the settings' values (not the table itself).
func (s *Settings) Validate() error {
	bad := func(field, msg string) error {
		return errors.E(errors.Invalid, errors.Field(field), errors.Msg(msg))
	}
	switch {
	case strings.TrimSpace(s.Path) == "":
		return bad("path", "path must name a CSV file or an Olympus dataset directory")
	case strings.TrimSpace(s.Objective) == "":
		return bad("objective", "objective must name the measured column")
	case s.Goal != "" && s.Goal != "max" && s.Goal != "min" && s.Goal != "maximize" && s.Goal != "minimize":
		return bad("goal", "goal must be max or min")
	case !(s.Speed > 0) || s.Speed > 1e9:
		return bad("speed", "speed must be a number above 0 and at most 1e9")
	case !(s.Seconds >= 0) || s.Seconds > 1e7:
		return bad("seconds", "seconds must be between 0 and 1e7")
	}
	if _, err := bench.ParseParamSpecs(s.Params); err != nil {
		return errors.E(errors.Invalid, errors.Field("params"), err)
	}
	return nil
}

// Model is a table as an instrument model.
type Model struct {
	name      string
	objective string
	seconds   float64
	problem   bench.Problem
	info      lab.Info
	byChoice  map[string][]int // pool rows by their categorical values
	// Optimum is the best objective value in the table (per Goal).
	Optimum float64
	Goal    bo.Goal
}

var _ sim.Model = (*Model)(nil)

// NewModel reads the table the settings name.
func NewModel(s Settings) (*Model, error) {
	const op errors.Op = "table.NewModel"
	if err := s.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	p, err := bench.LoadTableProblem(s.Path, s.Params, s.Objective, s.Goal)
	if err != nil {
		if !errors.Is(errors.Invalid, err) {
			return nil, errors.E(op, errors.Invalid, errors.Field("path"), errors.Msg("cannot read the table at "+strconv.Quote(s.Path)), err)
		}
		if errors.FieldOf(err) == "" {
			return nil, errors.E(op, errors.Invalid, errors.Field("path"), err)
		}
		return nil, errors.E(op, err)
	}
	m := &Model{name: p.Name, objective: s.Objective, seconds: s.Seconds, problem: p, Optimum: p.Optimum, Goal: p.Goal}
	a := lab.Action{
		Name:           Action,
		Description:    "look up the measured " + s.Objective + " of one published experiment",
		Outputs:        []lab.Output{{Name: s.Objective}},
		NominalSeconds: s.Seconds,
	}
	for _, prm := range p.Space.Params {
		switch prm.Kind {
		case bo.Categorical:
			a.Params = append(a.Params, lab.Param{Name: prm.Name, Kind: lab.Choice, Choices: append([]string(nil), prm.Categories...)})
		default:
			lo, hi := prm.Low, prm.High
			a.Params = append(a.Params, lab.Param{Name: prm.Name, Kind: lab.Number, Min: &lo, Max: &hi})
		}
	}
	m.info = lab.Info{Model: "table " + p.Name, Actions: []lab.Action{a}}
	m.byChoice = map[string][]int{}
	for r, pt := range p.Space.Pool {
		k := m.choiceKey(pt)
		m.byChoice[k] = append(m.byChoice[k], r)
	}
	return m, nil
}

// Info describes the table instrument.
func (m *Model) Info() lab.Info {
	info := m.info
	info.Actions = append([]lab.Action(nil), m.info.Actions...)
	return info
}

// row finds the pool row of params, -1 if none.
func (m *Model) row(params map[string]any) int {
	sp := m.problem.Space
	want := make(bo.Point, len(sp.Params))
	for i, prm := range sp.Params {
		switch prm.Kind {
		case bo.Categorical:
			s, _ := params[prm.Name].(string)
			idx := -1
			for k, c := range prm.Categories {
				if c == s {
					idx = k
				}
			}
			if idx < 0 {
				return -1
			}
			want[i] = float64(idx)
		default:
			f, ok := params[prm.Name].(float64)
			if !ok {
				return -1
			}
			want[i] = f
		}
	}
	for _, r := range m.byChoice[m.choiceKey(want)] {
		if same(sp.Pool[r], want) {
			return r
		}
	}
	return -1
}

// choiceKey keys a point by its categorical values, so a lookup scans
// only the rows that share them.
func (m *Model) choiceKey(p bo.Point) string {
	var b []byte
	for i, prm := range m.problem.Space.Params {
		if prm.Kind == bo.Categorical {
			b = strconv.AppendInt(b, int64(p[i]), 10)
			b = append(b, ',')
		}
	}
	return string(b)
}

func same(a, b bo.Point) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-9*math.Max(1, math.Max(math.Abs(a[i]), math.Abs(b[i]))) {
			return false
		}
	}
	return true
}

// Check refuses parameters that match no row of the table.
func (m *Model) Check(req lab.Request) error {
	if m.row(req.Params) < 0 {
		names := make([]string, 0, len(m.problem.Space.Params))
		for _, p := range m.problem.Space.Params {
			names = append(names, p.Name)
		}
		return errors.E(errors.Invalid, errors.Field("params"), errors.Msg("no experiment in the table has these values of "+strings.Join(names, ", ")))
	}
	return nil
}

// Measure returns the objective of the matching row (replicates averaged).
func (m *Model) Measure(req lab.Request) map[string]float64 {
	r := m.row(req.Params)
	if r < 0 {
		return map[string]float64{}
	}
	return map[string]float64{m.objective: m.problem.Eval(m.problem.Space.Pool[r])[0]}
}

// Rows returns the parameters of every distinct experiment in the table,
// as request parameters.
func (m *Model) Rows() []map[string]any {
	sp := m.problem.Space
	out := make([]map[string]any, len(sp.Pool))
	for r, p := range sp.Pool {
		params := make(map[string]any, len(p))
		for i, prm := range sp.Params {
			if prm.Kind == bo.Categorical {
				params[prm.Name] = prm.Categories[int(p[i])]
			} else {
				params[prm.Name] = p[i]
			}
		}
		out[r] = params
	}
	return out
}

// Options returns the engine options of a table instrument: no noise, no
// faults.
func (s Settings) Options() sim.Options { return sim.Options{Speed: s.Speed} }

// Open builds a table instrument from a "table" configuration.
func Open(cfg lab.Config) (lab.Driver, error) {
	const op errors.Op = "table.Open"
	s, err := ParseSettings(cfg.Settings)
	if err != nil {
		return nil, errors.E(op, err)
	}
	m, err := NewModel(s)
	if err != nil {
		return nil, errors.E(op, err)
	}
	o := s.Options()
	o.StateDir = cfg.StateDir
	d, err := sim.New(m, o)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return d, nil
}

// JournalRuns reports how many times each ID was started (see sim.JournalRuns).
func JournalRuns(stateDir string) (map[string]int, error) { return sim.JournalRuns(stateDir) }

func init() { lab.RegisterKind("table", Open) }
