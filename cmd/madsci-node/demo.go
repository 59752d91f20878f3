package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
)

// The built-in "demo" device: one action, synthesize, with two number
// arguments and one choice, a smooth deterministic yield and a duration
// (settings {"duration": "500ms"}). It keeps its runs in memory; the node
// around it keeps the durable record.

func init() { lab.RegisterKind("demo", openDemo) }

type demo struct {
	duration time.Duration

	mu      sync.Mutex
	stopped bool
	runs    map[string]*demoRun
	nowFunc func() time.Time
}

type demoRun struct {
	req       lab.Request
	started   time.Time
	cancelled bool
}

func openDemo(cfg lab.Config) (lab.Driver, error) {
	const op errors.Op = "demo.Open"
	var s struct {
		Duration string `json:"duration"`
	}
	if len(bytes.TrimSpace(cfg.Settings)) > 0 {
		d := json.NewDecoder(bytes.NewReader(cfg.Settings))
		d.DisallowUnknownFields()
		if err := d.Decode(&s); err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("settings"), errors.Msg("settings: "+err.Error()+" (known: duration)"))
		}
	}
	dur := 500 * time.Millisecond
	if s.Duration != "" {
		d, err := time.ParseDuration(s.Duration)
		if err != nil || d < 0 || d > time.Hour {
			return nil, errors.E(op, errors.Invalid, errors.Field("settings.duration"), errors.Msg("settings.duration must be a duration between 0 and 1h"))
		}
		dur = d
	}
	return &demo{duration: dur, runs: map[string]*demoRun{}, nowFunc: time.Now}, nil
}

func ptr(f float64) *float64 { return &f }

var demoAction = lab.Action{
	Name:        "synthesize",
	Description: "Run one synthesis and measure its yield and purity.",
	Params: []lab.Param{
		{Name: "temperature", Kind: lab.Number, Unit: "°C", Min: ptr(20), Max: ptr(200), Description: "Reactor temperature."},
		{Name: "time", Kind: lab.Number, Unit: "min", Min: ptr(1), Max: ptr(60), Description: "Residence time."},
		{Name: "solvent", Kind: lab.Choice, Choices: []string{"water", "ethanol", "toluene"}, Description: "Solvent."},
	},
	Outputs:        []lab.Output{{Name: "yield", Unit: "fraction"}, {Name: "purity", Unit: "fraction"}},
	NominalSeconds: 0.5,
}

// demoOutcome is the smooth response surface of the demo device.
func demoOutcome(temp, minutes float64, solvent string) (yield, purity float64) {
	f := map[string]float64{"water": 0.7, "ethanol": 1.0, "toluene": 0.85}[solvent]
	yield = f * math.Exp(-math.Pow((temp-120)/60, 2)) * (1 - math.Exp(-minutes/15))
	purity = 0.98 - 0.002*math.Abs(temp-100) - 0.001*minutes
	return math.Round(yield*1e6) / 1e6, math.Round(purity*1e6) / 1e6
}

func (d *demo) Info(ctx context.Context) (*lab.Info, error) {
	a := demoAction
	a.NominalSeconds = d.duration.Seconds()
	return &lab.Info{Model: "Genesis demo reactor", Actions: []lab.Action{a}}, nil
}

func (d *demo) Status(ctx context.Context) (*lab.NodeStatus, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	st := &lab.NodeStatus{Status: lab.Idle}
	if d.stopped {
		st.Status, st.Reason = lab.EStopped, "safety stop"
	}
	for id, r := range d.runs {
		if !d.result(id, r).State.Final() {
			st.Running = append(st.Running, id)
		}
	}
	if len(st.Running) > 0 && st.Status == lab.Idle {
		st.Status = lab.Busy
	}
	return st, nil
}

func (d *demo) Start(ctx context.Context, req lab.Request) (*lab.Result, error) {
	const op errors.Op = "demo.Start"
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.runs[req.ID]; ok {
		return d.result(req.ID, r), nil
	}
	if d.stopped {
		return nil, errors.E(op, errors.Conflict, errors.Msg("the demo device is e-stopped"))
	}
	if req.Action != demoAction.Name {
		return nil, errors.E(op, errors.Invalid, errors.Field("action"), errors.Msg("no action "+req.Action))
	}
	for _, p := range demoAction.Params {
		v, ok := req.Params[p.Name]
		if !ok {
			return nil, errors.E(op, errors.Invalid, errors.Field("params."+p.Name), errors.Msg("parameter "+p.Name+" is required"))
		}
		switch p.Kind {
		case lab.Number:
			f, ok := v.(float64)
			if !ok || f < *p.Min || f > *p.Max {
				return nil, errors.E(op, errors.Invalid, errors.Field("params."+p.Name), errors.Msg("parameter "+p.Name+" must be a number in its bounds"))
			}
		case lab.Choice:
			s, _ := v.(string)
			if _, ok := map[string]bool{"water": true, "ethanol": true, "toluene": true}[s]; !ok {
				return nil, errors.E(op, errors.Invalid, errors.Field("params."+p.Name), errors.Msg("parameter "+p.Name+" must be one of water, ethanol, toluene"))
			}
		}
	}
	r := &demoRun{req: req, started: d.nowFunc()}
	d.runs[req.ID] = r
	return d.result(req.ID, r), nil
}

func (d *demo) result(id string, r *demoRun) *lab.Result {
	start := r.started
	res := &lab.Result{ID: id, Action: r.req.Action, StartedAt: &start}
	switch {
	case r.cancelled:
		res.State, res.Reason = lab.Cancelled, "cancelled by a safety stop"
	case d.nowFunc().Sub(r.started) < d.duration:
		res.State = lab.Running
	default:
		end := r.started.Add(d.duration)
		y, p := demoOutcome(r.req.Params["temperature"].(float64), r.req.Params["time"].(float64), r.req.Params["solvent"].(string))
		res.State, res.EndedAt = lab.Succeeded, &end
		res.Values = map[string]float64{"yield": y, "purity": p}
	}
	return res
}

func (d *demo) Result(ctx context.Context, id string) (*lab.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.runs[id]
	if !ok {
		return nil, errors.E(errors.Op("demo.Result"), errors.NotExist, errors.Msg("no such action"))
	}
	return d.result(id, r), nil
}

func (d *demo) Admin(ctx context.Context, cmd lab.AdminCommand) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch cmd {
	case lab.SafetyStop, lab.CancelAll:
		if cmd == lab.SafetyStop {
			d.stopped = true
		}
		for id, r := range d.runs {
			if !d.result(id, r).State.Final() {
				r.cancelled = true
			}
		}
	case lab.Reset:
		d.stopped = false
	default:
		return errors.E(errors.Op("demo.Admin"), errors.Invalid, errors.Msg("the demo device does not implement "+string(cmd)))
	}
	return nil
}

func (d *demo) Close() error { return nil }
