package sim

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/journal"
)

// Model is what an instrument computes: its description and the true,
// noise-free response of each action. lab/table supplies a Model too.
type Model interface {
	// Info describes the instrument: its model name, actions (with
	// Consumes and NominalSeconds) and consumables at full capacity.
	Info() lab.Info
	// Check refuses a request beyond what the parameter bounds say
	// (errors.Invalid naming the field). Params hold float64 for numbers
	// and string for choices, already checked against the action's Params.
	Check(req lab.Request) error
	// Measure returns the true value of each declared output of a run.
	Measure(req lab.Request) map[string]float64
}

// Options configure the simulated instrument around a Model.
type Options struct {
	// Speed divides every duration (1 = real time). Must be > 0.
	Speed float64
	// Noise is the relative standard deviation of measurement noise.
	Noise float64
	// FaultRate is the probability that a run faults.
	FaultRate float64
	// Recovery is how long the instrument stays in error after a fault
	// (before the speed factor).
	Recovery time.Duration
	// Seed, with the request ID, determines noise and faults.
	Seed uint64
	// StateDir holds the journal; "" keeps it in memory.
	StateDir string
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// engine is a simulated instrument. Everything it reports is a pure
// function of its journal (what was started or commanded, and when), the
// model, the options and the clock, so a restarted driver over the same
// journal reports the same runs, and completes running ones on time.
type engine struct {
	model Model
	info  lab.Info
	opts  Options
	j     *journal.Journal
	key   string // its state directory, absolute; "" in memory
	refs  int    // open Drivers (under openMu)

	mu     sync.Mutex
	closed bool
	runs   map[string]*run
	order  []*run
	st     state
}

// run is one accepted action, as the replay of the journal places it.
type run struct {
	id, action string
	params     map[string]any
	consumed   map[string]float64
	begin, end time.Time // begin == end and !ran: it never ran
	ran        bool
	final      lab.RunState
	values     map[string]float64
	reason     string
}

type window struct {
	from, until time.Time
	reason      string
}

type state struct {
	freeAt    time.Time // when the last scheduled run ends
	estop     bool
	paused    bool
	exhausted string // error until Reset (a consumable ran out)
	faults    []window
	levels    map[string]float64
}

// New starts a simulated instrument over m, replaying its journal. A
// state directory already open in this process is shared: the new Driver
// is one more handle on the same instrument (so two opens never keep two
// views of what ran), provided the model and options are the same
// (errors.Conflict otherwise). One open in another process is
// errors.Conflict.
func New(m Model, o Options) (*Driver, error) {
	const op errors.Op = "sim.New"
	if !(o.Speed > 0) || math.IsInf(o.Speed, 0) {
		return nil, errors.E(op, errors.Invalid, errors.Field("speed"), errors.Msg("speed must be a positive number"))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	key := ""
	if o.StateDir != "" {
		abs, err := filepath.Abs(o.StateDir)
		if err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
		key = abs
	}
	openMu.Lock()
	defer openMu.Unlock()
	if e := openEngines[key]; key != "" && e != nil {
		if !sameInstrument(e, m, o) {
			return nil, errors.E(op, errors.Conflict, errors.Msg("the instrument's state is open with other settings; close it first"))
		}
		e.refs++
		return &Driver{e: e}, nil
	}
	d := &engine{model: m, info: m.Info(), opts: o, runs: map[string]*run{}, key: key, refs: 1}
	d.st.levels = d.capacities()
	j, recs, err := journal.Open(o.StateDir)
	if err != nil {
		return nil, errors.E(op, err)
	}
	d.j = j
	for _, r := range recs {
		d.apply(r)
	}
	if key != "" {
		openEngines[key] = d
	}
	return &Driver{e: d}, nil
}

var (
	openMu      sync.Mutex
	openEngines = map[string]*engine{}
)

func sameInstrument(e *engine, m Model, o Options) bool {
	a := e.opts
	return a.Speed == o.Speed && a.Noise == o.Noise && a.FaultRate == o.FaultRate && a.Recovery == o.Recovery &&
		a.Seed == o.Seed && reflect.DeepEqual(e.info, m.Info())
}

// Driver is a handle on a simulated instrument.
type Driver struct {
	e      *engine
	closed atomic.Bool
}

var _ lab.Driver = (*Driver)(nil)

func (d *Driver) live(op errors.Op) error {
	if d.closed.Load() {
		return errors.E(op, errors.Unavailable, errors.Msg("the instrument's driver is closed"))
	}
	return nil
}

// Info describes the instrument, with its consumables' current levels.
func (d *Driver) Info(ctx context.Context) (*lab.Info, error) {
	if err := d.live("sim.Info"); err != nil {
		return nil, err
	}
	return d.e.Info(ctx)
}

// Status reports the instrument's state and the runs not yet final.
func (d *Driver) Status(ctx context.Context) (*lab.NodeStatus, error) {
	if err := d.live("sim.Status"); err != nil {
		return nil, err
	}
	return d.e.Status(ctx)
}

// Start accepts req, idempotent by ID: a known ID returns its run as it is
// now. A new run is journaled (and synced) before Start returns.
func (d *Driver) Start(ctx context.Context, req lab.Request) (*lab.Result, error) {
	if err := d.live("sim.Start"); err != nil {
		return nil, err
	}
	return d.e.Start(ctx, req)
}

// Result reports on a run; an ID never started is errors.NotExist.
func (d *Driver) Result(ctx context.Context, id string) (*lab.Result, error) {
	if err := d.live("sim.Result"); err != nil {
		return nil, err
	}
	return d.e.Result(ctx, id)
}

// Admin applies safety_stop, reset, pause, resume and cancel (journaled);
// lock, unlock and shutdown are the registry's business: errors.Invalid.
func (d *Driver) Admin(ctx context.Context, cmd lab.AdminCommand) error {
	if err := d.live("sim.Admin"); err != nil {
		return err
	}
	return d.e.Admin(ctx, cmd)
}

// Close releases the handle; the last handle closes the journal.
func (d *Driver) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	openMu.Lock()
	defer openMu.Unlock()
	d.e.refs--
	if d.e.refs > 0 {
		return nil
	}
	if d.e.key != "" {
		delete(openEngines, d.e.key)
	}
	return d.e.Close()
}

// JournalRuns reports how many times each action ID was started on the
// instrument whose state directory is stateDir (exactly-once: all 1).
func JournalRuns(stateDir string) (map[string]int, error) {
	recs, err := journal.Read(stateDir)
	if err != nil {
		return nil, err
	}
	return journal.Runs(recs), nil
}

func (d *engine) capacities() map[string]float64 {
	m := map[string]float64{}
	for _, c := range d.info.Consumables {
		m[c.Name] = c.Capacity
	}
	return m
}

func (d *engine) scaled(seconds float64) time.Duration {
	return time.Duration(seconds / d.opts.Speed * float64(time.Second))
}

// rng derives the random stream of one run from the seed and its ID only.
func (d *engine) rng(id string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(id))
	return rand.New(rand.NewPCG(d.opts.Seed, h.Sum64()))
}

var faultReasons = []string{
	"instrument fault: pressure out of range",
	"instrument fault: temperature controller tripped",
	"instrument fault: blocked line",
	"instrument fault: sensor read timeout",
}

// outcome decides what a new run of req (checked) will do: from the
// consumables left, the model, the options, and the seed and ID alone.
func (d *engine) outcome(a *lab.Action, req lab.Request) *journal.Outcome {
	for _, name := range sortedKeys(a.Consumes) {
		if d.st.levels[name] < a.Consumes[name] {
			return &journal.Outcome{Exhausted: name}
		}
	}
	o := &journal.Outcome{Duration: int64(d.scaled(a.NominalSeconds))}
	if len(a.Consumes) > 0 {
		o.Uses = make(map[string]float64, len(a.Consumes))
		for k, v := range a.Consumes {
			o.Uses[k] = v
		}
	}
	rng := d.rng(req.ID)
	if rng.Float64() < d.opts.FaultRate {
		after := int64(float64(o.Duration) * rng.Float64())
		o.FaultAfter = &after
		o.Reason = faultReasons[rng.IntN(len(faultReasons))]
		o.Recovery = int64(d.scaled(d.opts.Recovery.Seconds()))
		return o
	}
	truth := d.model.Measure(req)
	o.Values = make(map[string]float64, len(a.Outputs))
	for _, out := range a.Outputs {
		v := truth[out.Name]
		if d.opts.Noise > 0 {
			nv := v * (1 + d.opts.Noise*rng.NormFloat64())
			if v >= 0 && nv < 0 {
				nv = 0
			}
			v = nv
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			v = 0 // a model's bug must not make the journal unwritable
		}
		o.Values[out.Name] = v
	}
	return o
}

// apply replays one journal record.
func (d *engine) apply(rec journal.Record) {
	t := rec.At()
	switch rec.Kind {
	case journal.Start:
		if d.runs[rec.ID] != nil {
			return // a duplicate can only come from a hand-edited journal
		}
		r := &run{id: rec.ID, action: rec.Action, params: rec.Params}
		d.runs[r.id] = r
		d.order = append(d.order, r)
		o := rec.Outcome
		if o == nil {
			r.begin, r.end, r.final, r.reason = t, t, lab.Failed, "the journal holds no outcome for this run"
			return
		}
		if o.Exhausted != "" {
			r.begin, r.end, r.final = t, t, lab.Failed
			r.reason = o.Exhausted + " exhausted"
			d.st.exhausted = o.Exhausted + " exhausted: reload and reset"
			return
		}
		r.consumed = map[string]float64{}
		for name, n := range o.Uses {
			d.st.levels[name] = math.Max(0, d.st.levels[name]-n)
			r.consumed[name] = n
		}
		begin := t
		if d.st.freeAt.After(begin) {
			begin = d.st.freeAt
		}
		for _, w := range d.st.faults {
			if w.until.After(begin) && !w.from.After(begin) {
				begin = w.until
			}
		}
		r.begin, r.ran = begin, true
		if o.FaultAfter != nil {
			r.end = begin.Add(time.Duration(*o.FaultAfter))
			r.final, r.reason = lab.Failed, o.Reason
			d.st.faults = append(d.st.faults, window{from: r.end, until: r.end.Add(time.Duration(o.Recovery)), reason: r.reason})
		} else {
			r.end = begin.Add(time.Duration(o.Duration))
			r.final = lab.Succeeded
			r.values = make(map[string]float64, len(o.Values))
			for k, v := range o.Values {
				r.values[k] = v
			}
		}
		d.st.freeAt = r.end
	case journal.Admin:
		switch lab.AdminCommand(rec.Command) {
		case lab.SafetyStop:
			d.st.estop = true
			d.cancelAt(t, "safety stop")
		case lab.CancelAll:
			d.cancelAt(t, "cancelled by the operator")
		case lab.Reset:
			d.st.estop, d.st.paused, d.st.exhausted = false, false, ""
			for i, w := range d.st.faults {
				if !w.from.After(t) && w.until.After(t) {
					d.st.faults[i].until = t
				}
			}
			d.st.levels = d.capacities()
		case lab.Pause:
			d.st.paused = true
		case lab.Resume:
			d.st.paused = false
		}
	}
}

// cancelAt ends every run not final at t.
func (d *engine) cancelAt(t time.Time, reason string) {
	for _, r := range d.order {
		if !r.end.After(t) {
			continue
		}
		if !r.begin.Before(t) {
			r.begin, r.ran = t, false
			caps := d.capacities()
			for name, n := range r.consumed {
				// Never used: back in the reservoir (which a reset since
				// may have refilled).
				d.st.levels[name] = math.Min(caps[name], d.st.levels[name]+n)
			}
		}
		r.end, r.final, r.values, r.reason = t, lab.Cancelled, nil, reason
	}
	kept := d.st.faults[:0]
	for _, w := range d.st.faults {
		if !w.from.After(t) {
			kept = append(kept, w)
		}
	}
	d.st.faults = kept
	if d.st.freeAt.After(t) {
		d.st.freeAt = t
	}
}

func (r *run) result(now time.Time) *lab.Result {
	res := &lab.Result{ID: r.id, Action: r.action}
	switch {
	case now.Before(r.begin):
		res.State = lab.Pending
	case now.Before(r.end):
		res.State = lab.Running
		b := r.begin
		res.StartedAt = &b
	default:
		res.State, res.Reason = r.final, r.reason
		if r.values != nil {
			res.Values = make(map[string]float64, len(r.values))
			for k, v := range r.values {
				res.Values[k] = v
			}
		}
		if r.ran {
			b := r.begin
			res.StartedAt = &b
		}
		e := r.end
		res.EndedAt = &e
	}
	return res
}

// halted says why the instrument takes no action now, or "".
func (d *engine) halted(now time.Time) (lab.Status, string) {
	switch {
	case d.st.estop:
		return lab.EStopped, "safety stop: reset to resume"
	case d.st.exhausted != "":
		return lab.Error, d.st.exhausted
	}
	for _, w := range d.st.faults {
		if !w.from.After(now) && now.Before(w.until) {
			return lab.Error, w.reason + " (recovering)"
		}
	}
	if d.st.paused {
		return lab.Paused, "paused by the operator"
	}
	return "", ""
}

func (d *engine) enter(ctx context.Context, op errors.Op) error {
	if err := ctx.Err(); err != nil {
		return errors.E(op, errors.Canceled, err)
	}
	if d.closed {
		return errors.E(op, errors.Unavailable, errors.Msg("the instrument's driver is closed"))
	}
	return nil
}

// Info describes the instrument, with its consumables' current levels.
func (d *engine) Info(ctx context.Context) (*lab.Info, error) {
	const op errors.Op = "sim.Info"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, op); err != nil {
		return nil, err
	}
	info := d.info
	info.Actions = cloneActions(d.info.Actions)
	info.Consumables = d.consumables()
	return &info, nil
}

// cloneActions copies actions deeply: a caller that narrows a bound in
// what Info returned must not move the instrument's own.
func cloneActions(as []lab.Action) []lab.Action {
	out := make([]lab.Action, len(as))
	for i, a := range as {
		a.Params = append([]lab.Param(nil), a.Params...)
		for j := range a.Params {
			p := &a.Params[j]
			if p.Min != nil {
				v := *p.Min
				p.Min = &v
			}
			if p.Max != nil {
				v := *p.Max
				p.Max = &v
			}
			p.Choices = append([]string(nil), p.Choices...)
		}
		a.Outputs = append([]lab.Output(nil), a.Outputs...)
		if a.Consumes != nil {
			c := make(map[string]float64, len(a.Consumes))
			for k, v := range a.Consumes {
				c[k] = v
			}
			a.Consumes = c
		}
		out[i] = a
	}
	return out
}

func (d *engine) consumables() []lab.Consumable {
	out := append([]lab.Consumable(nil), d.info.Consumables...)
	for i := range out {
		out[i].Level = d.st.levels[out[i].Name]
	}
	return out
}

// Status reports the instrument's state and the runs not yet final.
func (d *engine) Status(ctx context.Context) (*lab.NodeStatus, error) {
	const op errors.Op = "sim.Status"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, op); err != nil {
		return nil, err
	}
	now := d.opts.Now()
	ns := &lab.NodeStatus{Consumables: d.consumables()}
	for _, r := range d.order {
		if now.Before(r.end) {
			ns.Running = append(ns.Running, r.id)
		}
	}
	ns.Status, ns.Reason = d.halted(now)
	if ns.Status == "" {
		ns.Status = lab.Idle
		if len(ns.Running) > 0 {
			ns.Status = lab.Busy
		}
	}
	return ns, nil
}

// Start accepts req, idempotent by ID: a known ID returns its run as it is
// now. A new run is journaled (and synced) before Start returns.
func (d *engine) Start(ctx context.Context, req lab.Request) (*lab.Result, error) {
	const op errors.Op = "sim.Start"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, op); err != nil {
		return nil, err
	}
	if err := CheckID(req.ID); err != nil {
		return nil, errors.E(op, err)
	}
	now := d.opts.Now()
	if r := d.runs[req.ID]; r != nil {
		return r.result(now), nil
	}
	params, err := CheckRequest(&d.info, req)
	if err != nil {
		return nil, errors.E(op, err)
	}
	req.Params = params
	if err := d.model.Check(req); err != nil {
		return nil, errors.E(op, errors.Invalid, err)
	}
	if st, why := d.halted(now); st != "" {
		return nil, errors.E(op, errors.Conflict, errors.Msg("the instrument is "+string(st)+": "+why))
	}
	rec := journal.Record{Kind: journal.Start, Time: now.UnixNano(), ID: req.ID, Action: req.Action, Params: params,
		Outcome: d.outcome(d.info.Action(req.Action), req)}
	if err := d.j.Append(rec); err != nil {
		return nil, errors.E(op, err)
	}
	d.apply(rec)
	return d.runs[req.ID].result(now), nil
}

// Result reports on a run; an ID never started is errors.NotExist.
func (d *engine) Result(ctx context.Context, id string) (*lab.Result, error) {
	const op errors.Op = "sim.Result"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, op); err != nil {
		return nil, err
	}
	r := d.runs[id]
	if r == nil {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no such action"))
	}
	return r.result(d.opts.Now()), nil
}

// Admin applies safety_stop, reset, pause, resume and cancel (journaled);
// lock, unlock and shutdown are the registry's business: errors.Invalid.
func (d *engine) Admin(ctx context.Context, cmd lab.AdminCommand) error {
	const op errors.Op = "sim.Admin"
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, op); err != nil {
		return err
	}
	switch cmd {
	case lab.SafetyStop, lab.Reset, lab.Pause, lab.Resume, lab.CancelAll:
	default:
		return errors.E(op, errors.Invalid, errors.Field("command"), errors.Msg("the simulated instrument does not support "+strconv.Quote(string(cmd))))
	}
	rec := journal.Record{Kind: journal.Admin, Time: d.opts.Now().UnixNano(), Command: string(cmd)}
	if err := d.j.Append(rec); err != nil {
		return errors.E(op, err)
	}
	d.apply(rec)
	return nil
}

func (d *engine) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.j.Close()
}

// CheckID checks an idempotency key: 1–128 of [A-Za-z0-9._-].
func CheckID(id string) error {
	if id == "" || len(id) > 128 {
		return errors.E(errors.Invalid, errors.Field("id"), errors.Msg("the action ID must have 1 to 128 characters"))
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errors.E(errors.Invalid, errors.Field("id"), errors.Msg("the action ID may hold only letters, digits, '.', '_' and '-'"))
		}
	}
	return nil
}

// CheckRequest checks req against the action info declares: the action
// exists, every parameter is known, present unless optional, of its kind
// and within its safety bounds. It returns the parameters normalised to
// float64 and string.
func CheckRequest(info *lab.Info, req lab.Request) (map[string]any, error) {
	a := info.Action(req.Action)
	if a == nil {
		return nil, errors.E(errors.Invalid, errors.Field("action"), errors.Msg("the instrument has no action "+strconv.Quote(req.Action)))
	}
	known := map[string]bool{}
	for _, p := range a.Params {
		known[p.Name] = true
	}
	for _, name := range sortedKeys(req.Params) {
		if !known[name] {
			return nil, errors.E(errors.Invalid, errors.Field("params."+name), errors.Msg("action "+strconv.Quote(a.Name)+" has no parameter "+strconv.Quote(name)))
		}
	}
	out := make(map[string]any, len(a.Params))
	for _, p := range a.Params {
		field := errors.Field("params." + p.Name)
		v, ok := req.Params[p.Name]
		if !ok || v == nil {
			if p.Optional {
				continue
			}
			return nil, errors.E(errors.Invalid, field, errors.Msg("parameter "+strconv.Quote(p.Name)+" is required"))
		}
		switch p.Kind {
		case lab.Choice:
			s, ok := v.(string)
			if !ok {
				return nil, errors.E(errors.Invalid, field, errors.Msg("parameter "+strconv.Quote(p.Name)+" must be one of its choices (a string)"))
			}
			found := false
			for _, c := range p.Choices {
				found = found || c == s
			}
			if !found {
				return nil, errors.E(errors.Invalid, field, errors.Msg(fmt.Sprintf("parameter %q must be one of %q", p.Name, p.Choices)))
			}
			out[p.Name] = s
		default:
			f, ok := number(v)
			if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
				return nil, errors.E(errors.Invalid, field, errors.Msg("parameter "+strconv.Quote(p.Name)+" must be a finite number"))
			}
			if p.Kind == lab.Integer && f != math.Trunc(f) {
				return nil, errors.E(errors.Invalid, field, errors.Msg("parameter "+strconv.Quote(p.Name)+" must be an integer"))
			}
			if p.Min != nil && f < *p.Min {
				return nil, errors.E(errors.Invalid, field, errors.Msg(fmt.Sprintf("parameter %q = %g is below its safety bound %g%s", p.Name, f, *p.Min, unit(p.Unit))))
			}
			if p.Max != nil && f > *p.Max {
				return nil, errors.E(errors.Invalid, field, errors.Msg(fmt.Sprintf("parameter %q = %g is above its safety bound %g%s", p.Name, f, *p.Max, unit(p.Unit))))
			}
			out[p.Name] = f
		}
	}
	return out, nil
}

func unit(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case float32:
		return float64(v), true
	case int:
		return float64(v), true
	case int64:
		return float64(v), true
	case int32:
		return float64(v), true
	}
	return 0, false
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
