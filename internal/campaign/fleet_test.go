package campaign_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/label"
)

// testFleet is a small lab.Fleet over test drivers: instruments with an
// accreditation, grouped in workcells, offering one action "run" with
// params x and y in [0, 1] and outputs yield and impurity.
type testFleet struct {
	mu    sync.Mutex
	insts map[string]*testInstrument
	halt  []func(string, string)
}

type testInstrument struct {
	mu           sync.Mutex
	id, workcell string
	acc          label.Label
	drv          *testDriver
}

var runAction = lab.Action{Name: "run", Params: []lab.Param{
	{Name: "x", Kind: lab.Number, Min: ptr(0.0), Max: ptr(1.0)},
	{Name: "y", Kind: lab.Number, Min: ptr(0.0), Max: ptr(1.0)},
}, Outputs: []lab.Output{{Name: "yield"}, {Name: "impurity"}}, NominalSeconds: 1}

func ptr[T any](v T) *T { return &v }

func newFleet() *testFleet { return &testFleet{insts: map[string]*testInstrument{}} }

// add registers an instrument whose driver keeps its journal in dir.
func (f *testFleet) add(id, workcell, accreditation, dir string) *testDriver {
	f.mu.Lock()
	defer f.mu.Unlock()
	d := newDriver(filepath.Join(dir, id))
	f.insts[id] = &testInstrument{id: id, workcell: workcell, acc: label.MustParse(accreditation), drv: d}
	return d
}

func (f *testFleet) Select(ctx context.Context, p *genesis.Principal, instrument, workcell, action string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id, in := range f.insts {
		if (instrument != "" && id == instrument) || (workcell != "" && in.workcell == workcell) {
			out = append(out, id)
		}
	}
	if len(out) == 0 {
		return nil, errors.E(errors.NotExist)
	}
	sort.Strings(out)
	return out, nil
}

func (f *testFleet) inst(id string) (*testInstrument, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.insts[id]
	if in == nil {
		return nil, errors.E(errors.NotExist)
	}
	return in, nil
}

func (f *testFleet) Action(ctx context.Context, id, action string) (*lab.Action, error) {
	if _, err := f.inst(id); err != nil || action != "run" {
		return nil, errors.E(errors.NotExist)
	}
	a := runAction
	return &a, nil
}

func (f *testFleet) Admit(ctx context.Context, id, campaignID string, l label.Label, req lab.Request) error {
	in, err := f.inst(id)
	if err != nil {
		return err
	}
	// The registry's order: parameters, then accreditation, then interlocks.
	for _, p := range runAction.Params {
		v, ok := req.Params[p.Name].(float64)
		if !ok {
			return errors.E(errors.Invalid, errors.Field(p.Name), errors.Msg("missing parameter "+p.Name))
		}
		if v < *p.Min || v > *p.Max {
			return errors.E(errors.Invalid, errors.Field(p.Name), errors.Msg(fmt.Sprintf("%s = %g is outside [%g, %g]", p.Name, v, *p.Min, *p.Max)))
		}
	}
	in.mu.Lock()
	acc := in.acc
	in.mu.Unlock()
	if !label.Dominates(acc, l) {
		return errors.E(errors.Permission, errors.Msg("instrument "+id+" is not accredited for "+l.Format()))
	}
	if in.drv.stopped() {
		return errors.E(errors.Conflict, errors.Msg("instrument "+id+" is e-stopped"))
	}
	return nil
}

func (f *testFleet) Driver(ctx context.Context, id string) (lab.Driver, error) {
	in, err := f.inst(id)
	if err != nil {
		return nil, err
	}
	return in.drv, nil
}

func (f *testFleet) OnHalt(fn func(string, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.halt = append(f.halt, fn)
}

// estop e-stops an instrument and tells the runner.
func (f *testFleet) estop(id string) {
	in, _ := f.inst(id)
	in.drv.Admin(context.Background(), lab.SafetyStop)
	f.mu.Lock()
	hs := slices.Clone(f.halt)
	f.mu.Unlock()
	for _, h := range hs {
		h(id, "e-stop pressed")
	}
}

// testDriver runs "run" deterministically: the result depends only on the
// params; an action takes Polls polls of Result to finish. Its journal of
// actions by ID survives the runner (and is written to dir, durable by ID).
// It counts how many times each ID was really started.
type testDriver struct {
	dir string

	mu       sync.Mutex
	actions  map[string]*lab.Result
	polls    map[string]int
	runs     map[string]int
	params   map[string]map[string]any
	estopped bool

	Polls int // polls before an action ends (0: final at once)
	// Fail makes an action fail when it returns true for its params.
	Fail func(params map[string]any) bool
	// Transient makes every call answer errors.Transient.
	Transient bool
	// Duration, when set, is how long an action runs (Polls is then
	// ignored); started records when each began.
	Duration time.Duration
	started  map[string]time.Time
	// Garbage makes actions succeed with a NaN yield and a reason full of
	// control characters.
	Garbage bool
	// NoJournal keeps the journal in memory only (benchmarks).
	NoJournal bool
	// Gate, when set, holds every call of Result until it is closed (a
	// node that hangs).
	Gate chan struct{}
}

func newDriver(dir string) *testDriver {
	os.MkdirAll(dir, 0o755)
	return &testDriver{dir: dir, actions: map[string]*lab.Result{}, polls: map[string]int{}, runs: map[string]int{}, params: map[string]map[string]any{}}
}

// objective is the hidden function: best at x = 0.3, y = 0.6.
func objective(params map[string]any) map[string]float64 {
	x, _ := params["x"].(float64)
	y, _ := params["y"].(float64)
	return map[string]float64{"yield": 100 - 100*((x-0.3)*(x-0.3)+(y-0.6)*(y-0.6)), "impurity": 10 * x * y}
}

func (d *testDriver) stopped() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.estopped
}

func (d *testDriver) Info(ctx context.Context) (*lab.Info, error) {
	return &lab.Info{Model: "test", Actions: []lab.Action{runAction}}, nil
}

func (d *testDriver) Status(ctx context.Context) (*lab.NodeStatus, error) {
	return &lab.NodeStatus{Status: lab.Idle}, nil
}

func (d *testDriver) Start(ctx context.Context, req lab.Request) (*lab.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.Transient {
		return nil, errors.E(errors.Transient, errors.Msg("node unreachable"))
	}
	if r, ok := d.actions[req.ID]; ok {
		c := *r
		return &c, nil
	}
	if d.estopped {
		return nil, errors.E(errors.Conflict, errors.Msg("e-stopped"))
	}
	if req.Action != "run" {
		return nil, errors.E(errors.Invalid, errors.Msg("no action "+req.Action))
	}
	now := time.Now()
	r := &lab.Result{ID: req.ID, Action: req.Action, State: lab.Running, StartedAt: &now}
	d.runs[req.ID]++
	if d.Garbage {
		r.State, r.Values, r.Reason = lab.Succeeded, map[string]float64{"yield": math.NaN(), "impurity": math.Inf(1)}, "\x1b[2Jok\u202e"
	} else if d.Fail != nil && d.Fail(req.Params) {
		r.State, r.Reason = lab.Failed, "instrument fault"
	} else if d.Duration > 0 {
		if d.started == nil {
			d.started = map[string]time.Time{}
		}
		d.started[req.ID] = now
	} else if d.Polls == 0 {
		r.State, r.Values = lab.Succeeded, objective(req.Params)
	}
	d.actions[req.ID] = r
	if r.State == lab.Running {
		// Keep the params to compute the result at the end.
		d.polls[req.ID] = 0
		d.params[req.ID] = req.Params
		if !d.NoJournal {
			b, _ := json.Marshal(req.Params)
			os.WriteFile(filepath.Join(d.dir, req.ID+".params"), b, 0o644)
		}
	}
	d.journal(r)
	c := *r
	return &c, nil
}

func (d *testDriver) journal(r *lab.Result) {
	if d.NoJournal {
		return
	}
	b, _ := json.Marshal(r)
	os.WriteFile(filepath.Join(d.dir, r.ID+".json"), b, 0o644)
}

func (d *testDriver) Result(ctx context.Context, id string) (*lab.Result, error) {
	if d.Gate != nil {
		select {
		case <-d.Gate:
		case <-ctx.Done():
			return nil, errors.E(errors.Transient, ctx.Err())
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.Transient {
		return nil, errors.E(errors.Transient, errors.Msg("node unreachable"))
	}
	r, ok := d.actions[id]
	if !ok {
		return nil, errors.E(errors.NotExist)
	}
	if r.State == lab.Running {
		d.polls[id]++
		if d.Duration > 0 && time.Since(d.started[id]) >= d.Duration || d.Duration == 0 && d.polls[id] >= d.Polls {
			r.State, r.Values = lab.Succeeded, objective(d.params[id])
			d.journal(r)
		}
	}
	c := *r
	return &c, nil
}

func (d *testDriver) Admin(ctx context.Context, cmd lab.AdminCommand) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch cmd {
	case lab.SafetyStop:
		d.estopped = true
		for _, r := range d.actions {
			if r.State == lab.Running {
				r.State, r.Reason = lab.Cancelled, "e-stop"
				d.journal(r)
			}
		}
	case lab.Reset:
		d.estopped = false
	default:
		return errors.E(errors.Invalid)
	}
	return nil
}

func (d *testDriver) Close() error { return nil }

// starts returns when each action began.
func (d *testDriver) starts() []time.Time {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []time.Time
	for _, t := range d.started {
		out = append(out, t)
	}
	return out
}

// runsOf returns how many times each key was started, and the most.
func (d *testDriver) runCounts() (map[string]int, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	most := 0
	out := map[string]int{}
	for k, n := range d.runs {
		out[k] = n
		most = max(most, n)
	}
	return out, most
}

func mustLabel(s string) label.Label { return label.MustParse(s) }
