package sim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/journal"
	"github.com/genesis-science/genesis/internal/lab/sim"
)

var ctx = context.Background()

// clock is a manual clock: tests move time, nothing sleeps.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// open builds a driver from settings JSON on a manual clock.
func open(t *testing.T, settings string, dir string, c *clock) *sim.Driver {
	t.Helper()
	s, err := sim.ParseSettings([]byte(settings))
	if err != nil {
		t.Fatal(err)
	}
	o := s.Options()
	o.StateDir, o.Now = dir, c.Now
	d, err := sim.New(s.Instrument(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func mustStart(t *testing.T, d lab.Driver, req lab.Request) *lab.Result {
	t.Helper()
	r, err := d.Start(ctx, req)
	if err != nil {
		t.Fatalf("Start(%s): %v", req.ID, err)
	}
	return r
}

func result(t *testing.T, d lab.Driver, id string) *lab.Result {
	t.Helper()
	r, err := d.Result(ctx, id)
	if err != nil {
		t.Fatalf("Result(%s): %v", id, err)
	}
	return r
}

func status(t *testing.T, d lab.Driver) *lab.NodeStatus {
	t.Helper()
	st, err := d.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// sample draws a random valid parameter set of a model.
func sample(rng *rand.Rand, info lab.Info, model string) map[string]any {
	p := map[string]any{}
	for _, prm := range info.Actions[0].Params {
		if prm.Kind == lab.Choice {
			p[prm.Name] = prm.Choices[rng.IntN(len(prm.Choices))]
		} else {
			p[prm.Name] = *prm.Min + rng.Float64()*(*prm.Max-*prm.Min)
		}
	}
	if model == sim.ThinFilm { // uniform on the simplex
		a, b := rng.Float64(), rng.Float64()
		if a+b > 1 {
			a, b = 1-a, 1-b
		}
		p["fraction_a"], p["fraction_b"], p["fraction_c"] = a, b, 1-a-b
	}
	return p
}

// The stated optimum is a valid request, no point of a dense random
// search beats it, no small step away from it improves it, and the
// search comes close to it (the optimum is where the function peaks, not
// a number written beside it).
func TestOptimum(t *testing.T) {
	for _, model := range sim.Models() {
		t.Run(model, func(t *testing.T) {
			m := sim.NewModel(model)
			info := m.Info()
			params, outputs := sim.Optimum(model)
			primary := sim.Primary(model)
			req := lab.Request{ID: "opt", Action: info.Actions[0].Name, Params: params}
			norm, err := sim.CheckRequest(&info, req)
			if err != nil {
				t.Fatalf("the optimum is not a valid request: %v", err)
			}
			req.Params = norm
			if err := m.Check(req); err != nil {
				t.Fatalf("the optimum is refused: %v", err)
			}
			if got := m.Measure(req); !reflect.DeepEqual(got, outputs) {
				t.Fatalf("Optimum outputs %v, Measure at the optimum %v", outputs, got)
			}
			best := outputs[primary]
			rng := rand.New(rand.NewPCG(1, 9))
			found := math.Inf(-1)
			for i := 0; i < 200000; i++ {
				p := sample(rng, info, model)
				v := m.Measure(lab.Request{Params: p})[primary]
				if v > best+1e-9 {
					t.Fatalf("%v gives %s %v, above the optimum %v", p, primary, v, best)
				}
				found = math.Max(found, v)
			}
			for i := 0; i < 20000; i++ { // small steps around the optimum
				p := map[string]any{}
				for k, v := range params {
					p[k] = v
				}
				for _, prm := range info.Actions[0].Params {
					if prm.Kind != lab.Choice {
						p[prm.Name] = p[prm.Name].(float64) + (*prm.Max-*prm.Min)*0.01*rng.NormFloat64()
					}
				}
				if v := m.Measure(lab.Request{Params: p})[primary]; v > best+1e-9 {
					t.Fatalf("a step to %v gives %v, above the optimum %v", p, v, best)
				}
			}
			if found < 0.9*best {
				t.Fatalf("dense search found at best %v; the optimum %v looks unreachable", found, best)
			}
			t.Logf("%s: optimum %s = %.4g at %v; best of 200000 random points %.4g", model, primary, best, params, found)
		})
	}
}

// Noise, faults and values derive from (seed, ID) alone: two instruments
// with the same seed agree on every run, whatever the order and timing of
// the requests; another seed gives other noise.
func TestReplayIsDeterministic(t *testing.T) {
	const s = `{"model":"flow-reactor","speed":1000,"seed":42,"fault_rate":0.2,"consumables":{"substrate":100000}}`
	c1, c2 := newClock(), newClock()
	d1, d2 := open(t, s, "", c1), open(t, s, "", c2)
	c3 := newClock()
	d3 := open(t, strings.Replace(s, "42", "43", 1), "", c3)
	const n = 200
	for i := 0; i < n; i++ {
		mustStart(t, d1, request(sim.FlowReactor, i))
		c1.Add(time.Second) // each run ends before the next (600 s / 1000)
	}
	for i := n - 1; i >= 0; i-- {
		mustStart(t, d2, request(sim.FlowReactor, i))
		mustStart(t, d3, request(sim.FlowReactor, i))
		c2.Add(3 * time.Second)
		c3.Add(3 * time.Second)
	}
	c1.Add(time.Hour)
	c2.Add(time.Hour)
	c3.Add(time.Hour)
	differ, failed := 0, 0
	for i := 0; i < n; i++ {
		id := request(sim.FlowReactor, i).ID
		r1, r2 := result(t, d1, id), result(t, d2, id)
		if r1.State != r2.State || r1.Reason != r2.Reason || !reflect.DeepEqual(r1.Values, r2.Values) {
			t.Fatalf("%s: %s %v %q on one instrument, %s %v %q on its replay", id, r1.State, r1.Values, r1.Reason, r2.State, r2.Values, r2.Reason)
		}
		if r1.State == lab.Failed {
			failed++
		}
		if r3 := result(t, d3, id); r1.State == lab.Succeeded && r3.State == lab.Succeeded && r3.Values["yield"] != r1.Values["yield"] {
			differ++
		}
	}
	if failed == 0 || failed == n {
		t.Fatalf("%d of %d runs faulted at fault_rate 0.2", failed, n)
	}
	if differ == 0 {
		t.Fatal("another seed gave the same noise on every run")
	}
}

// Measured values scatter around the true response with the configured
// relative noise; the fault rate is what was asked for.
func TestNoiseAndFaultStatistics(t *testing.T) {
	const n = 3000
	c := newClock()
	d := open(t, `{"model":"printer-tester","speed":1e6,"noise":0.05,"fault_rate":0.25,"recovery_seconds":0,"seed":3,"consumables":{"filament":1e9}}`, "", c)
	m := sim.NewModel(sim.PrinterTester)
	var rel []float64
	failed := 0
	for i := 0; i < n; i++ {
		req := request(sim.PrinterTester, i)
		req.ID = fmt.Sprint("s", i)
		mustStart(t, d, req)
		c.Add(time.Second)
		r := result(t, d, req.ID)
		switch r.State {
		case lab.Failed:
			failed++
			if !strings.HasPrefix(r.Reason, "instrument fault") {
				t.Fatalf("fault reason %q", r.Reason)
			}
		case lab.Succeeded:
			truth := m.Measure(req)["toughness"]
			rel = append(rel, r.Values["toughness"]/truth-1)
		default:
			t.Fatalf("run %s is %s a second after a 2.4 ms action", req.ID, r.State)
		}
	}
	mean, sd := meanSD(rel)
	if math.Abs(mean) > 0.01 || math.Abs(sd-0.05) > 0.01 {
		t.Fatalf("relative error mean %.4f sd %.4f, want about 0 and 0.05", mean, sd)
	}
	if rate := float64(failed) / n; math.Abs(rate-0.25) > 0.04 {
		t.Fatalf("fault rate %.3f, want about 0.25", rate)
	}
}

func meanSD(xs []float64) (float64, float64) {
	var s, ss float64
	for _, x := range xs {
		s += x
	}
	mean := s / float64(len(xs))
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

// Runs queue on the instrument one after another, each for its nominal
// duration over the speed factor.
func TestQueueAndDurations(t *testing.T) {
	c := newClock()
	d := open(t, `{"model":"flow-reactor","speed":10}`, "", c) // 60 s a run
	t0 := c.Now()
	for i := 0; i < 3; i++ {
		mustStart(t, d, request(sim.FlowReactor, i))
	}
	want := []lab.RunState{lab.Running, lab.Pending, lab.Pending}
	for step := 0; step < 4; step++ {
		for i := 0; i < 3; i++ {
			r := result(t, d, request(sim.FlowReactor, i).ID)
			if r.State != want[i] {
				t.Fatalf("at %v, run %d is %s, want %s", c.Now().Sub(t0), i, r.State, want[i])
			}
			if r.State.Final() && (!r.StartedAt.Equal(t0.Add(time.Duration(i)*time.Minute)) || !r.EndedAt.Equal(t0.Add(time.Duration(i+1)*time.Minute))) {
				t.Fatalf("run %d ran %v–%v", i, r.StartedAt.Sub(t0), r.EndedAt.Sub(t0))
			}
		}
		if st := status(t, d); (st.Status == lab.Busy) != (step < 3) || len(st.Running) != 3-step {
			t.Fatalf("step %d: status %s running %v", step, st.Status, st.Running)
		}
		c.Add(time.Minute)
		for i := range want {
			if i == step {
				want[i] = lab.Succeeded
			} else if i == step+1 {
				want[i] = lab.Running
			}
		}
	}
}

// Consumables run down; a run that needs more than is left fails and the
// instrument is in error until Reset refills it.
func TestConsumablesRunOut(t *testing.T) {
	c := newClock()
	d := open(t, `{"model":"thin-film","speed":1e6,"consumables":{"substrate":3}}`, "", c)
	for i := 0; i < 3; i++ {
		mustStart(t, d, request(sim.ThinFilm, i))
		c.Add(time.Second)
		if r := result(t, d, request(sim.ThinFilm, i).ID); r.State != lab.Succeeded {
			t.Fatalf("run %d: %s %s", i, r.State, r.Reason)
		}
		if lvl := status(t, d).Consumables[0].Level; lvl != float64(2-i) {
			t.Fatalf("after %d runs, substrate level %v", i+1, lvl)
		}
	}
	r := mustStart(t, d, request(sim.ThinFilm, 3))
	if r.State != lab.Failed || r.Reason != "substrate exhausted" {
		t.Fatalf("run past the last substrate: %s %q", r.State, r.Reason)
	}
	c.Add(time.Hour)
	st := status(t, d)
	if st.Status != lab.Error || !strings.Contains(st.Reason, "exhausted") {
		t.Fatalf("status after exhaustion: %s %q", st.Status, st.Reason)
	}
	if _, err := d.Start(ctx, request(sim.ThinFilm, 4)); !errors.Is(errors.Conflict, err) {
		t.Fatalf("Start while out of substrate: %v, want Conflict", err)
	}
	if err := d.Admin(ctx, lab.Reset); err != nil {
		t.Fatal(err)
	}
	if st := status(t, d); st.Status != lab.Idle || st.Consumables[0].Level != 3 {
		t.Fatalf("after reset: %s, level %v", st.Status, st.Consumables[0].Level)
	}
	mustStart(t, d, request(sim.ThinFilm, 4))
}

// A fault fails the run and keeps the instrument in error for the
// recovery time (over the speed factor); then it takes runs again.
func TestFaultRecovery(t *testing.T) {
	c := newClock()
	d := open(t, `{"model":"flow-reactor","speed":10,"fault_rate":1,"recovery_seconds":300}`, "", c)
	mustStart(t, d, request(sim.FlowReactor, 0))
	c.Add(time.Minute) // the run (60 s at most) has faulted
	r := result(t, d, request(sim.FlowReactor, 0).ID)
	if r.State != lab.Failed || !strings.HasPrefix(r.Reason, "instrument fault") {
		t.Fatalf("run at fault_rate 1: %s %q", r.State, r.Reason)
	}
	c.Set(*r.EndedAt)
	st := status(t, d)
	if st.Status != lab.Error {
		t.Fatalf("just after a fault, status %s", st.Status)
	}
	if _, err := d.Start(ctx, request(sim.FlowReactor, 1)); !errors.Is(errors.Conflict, err) {
		t.Fatalf("Start while recovering: %v, want Conflict", err)
	}
	c.Add(30*time.Second - 1)
	if st := status(t, d); st.Status != lab.Error {
		t.Fatalf("a moment before recovery, status %s", st.Status)
	}
	c.Add(1) // recovery is 300 s / 10 = 30 s after the fault
	if st := status(t, d); st.Status != lab.Idle {
		t.Fatalf("after recovery, status %s %q", st.Status, st.Reason)
	}
	mustStart(t, d, request(sim.FlowReactor, 1))
}

// Safety stop cancels the running and queued runs, survives a restart,
// and only Reset clears it; a running action survives a restart and ends
// on time with the same values.
func TestDurableState(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	d := open(t, `{"model":"flow-reactor","speed":10,"seed":5}`, dir, c)
	for i := 0; i < 3; i++ {
		mustStart(t, d, request(sim.FlowReactor, i))
	}
	c.Add(30 * time.Second)
	d.Close()
	d = open(t, `{"model":"flow-reactor","speed":10,"seed":5}`, dir, c)
	c.Add(31 * time.Second)
	r0 := result(t, d, request(sim.FlowReactor, 0).ID)
	if r0.State != lab.Succeeded {
		t.Fatalf("a run in flight at the restart: %s", r0.State)
	}
	if err := d.Admin(ctx, lab.SafetyStop); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d = open(t, `{"model":"flow-reactor","speed":10,"seed":5}`, dir, c)
	if st := status(t, d); st.Status != lab.EStopped || len(st.Running) != 0 {
		t.Fatalf("after a restart, e-stop lost: %s %v", st.Status, st.Running)
	}
	if got := result(t, d, r0.ID); !reflect.DeepEqual(got, r0) {
		t.Fatalf("after restarts, %+v became %+v", r0, got)
	}
	r1, r2 := result(t, d, request(sim.FlowReactor, 1).ID), result(t, d, request(sim.FlowReactor, 2).ID)
	if r1.State != lab.Cancelled || r1.StartedAt == nil || r2.State != lab.Cancelled || r2.StartedAt != nil {
		t.Fatalf("e-stop: running run %s (started %v), queued run %s (started %v)", r1.State, r1.StartedAt, r2.State, r2.StartedAt)
	}
	// The queued run never used its substrate.
	if lvl := status(t, d).Consumables[0].Level; lvl != 490 {
		t.Fatalf("substrate level %v after two runs used", lvl)
	}
	if _, err := d.Start(ctx, request(sim.FlowReactor, 3)); !errors.Is(errors.Conflict, err) {
		t.Fatalf("Start while e-stopped after a restart: %v", err)
	}
	runs, err := sim.JournalRuns(dir)
	if err != nil || len(runs) != 3 {
		t.Fatalf("JournalRuns: %v %v", runs, err)
	}
	for id, n := range runs {
		if n != 1 {
			t.Fatalf("%s started %d times", id, n)
		}
	}
}

// A journal whose last line was torn by a crash opens with every whole
// record, and the driver works on.
func TestTornJournalTail(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	d := open(t, `{"model":"thin-film","speed":1e6}`, dir, c)
	mustStart(t, d, request(sim.ThinFilm, 0))
	d.Close()
	f, err := os.OpenFile(filepath.Join(dir, journal.FileName), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`0badc0de {"k":"start","t":1,"id":"torn","a":"deposit_an`)
	f.Close()
	c.Add(time.Second)
	d = open(t, `{"model":"thin-film","speed":1e6}`, dir, c)
	if r := result(t, d, request(sim.ThinFilm, 0).ID); r.State != lab.Succeeded {
		t.Fatalf("whole record lost: %+v", r)
	}
	if _, err := d.Result(ctx, "torn"); !errors.Is(errors.NotExist, err) {
		t.Fatalf("torn record: %v", err)
	}
	mustStart(t, d, request(sim.ThinFilm, 1))
}

func TestAdminCommands(t *testing.T) {
	c := newClock()
	d := open(t, `{"model":"flow-reactor","speed":10}`, "", c)
	for _, cmd := range []lab.AdminCommand{lab.Lock, lab.Unlock, lab.Shutdown, "dance"} {
		if err := d.Admin(ctx, cmd); !errors.Is(errors.Invalid, err) {
			t.Errorf("Admin(%s): %v, want Invalid", cmd, err)
		}
	}
	if err := d.Admin(ctx, lab.Pause); err != nil {
		t.Fatal(err)
	}
	if st := status(t, d); st.Status != lab.Paused {
		t.Fatalf("paused: %s", st.Status)
	}
	if _, err := d.Start(ctx, request(sim.FlowReactor, 0)); !errors.Is(errors.Conflict, err) {
		t.Fatalf("Start while paused: %v", err)
	}
	d.Admin(ctx, lab.Resume)
	mustStart(t, d, request(sim.FlowReactor, 0))
	mustStart(t, d, request(sim.FlowReactor, 1))
	if err := d.Admin(ctx, lab.CancelAll); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if r := result(t, d, request(sim.FlowReactor, i).ID); r.State != lab.Cancelled {
			t.Fatalf("after cancel, run %d %s", i, r.State)
		}
	}
	if st := status(t, d); st.Status != lab.Idle {
		t.Fatalf("after cancel: %s", st.Status)
	}
}

// Requests are checked against the action's parameters: each refusal
// is Invalid and names the field.
func TestRequestChecks(t *testing.T) {
	d := open(t, `{"model":"thin-film","speed":1e6}`, "", newClock())
	good := request(sim.ThinFilm, 1)
	with := func(k string, v any) map[string]any {
		p := map[string]any{}
		for a, b := range good.Params {
			p[a] = b
		}
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
		return p
	}
	for _, c := range []struct {
		params map[string]any
		field  string
	}{
		{with("fraction_a", nil), "params.fraction_a"},
		{with("color", "red"), "params.color"},
		{with("anneal_temperature", 601.0), "params.anneal_temperature"},
		{with("anneal_temperature", 199.0), "params.anneal_temperature"},
		{with("anneal_temperature", "hot"), "params.anneal_temperature"},
		{with("anneal_temperature", math.NaN()), "params.anneal_temperature"},
		{with("fraction_c", 0.5), "params.fraction_c"},
	} {
		_, err := d.Start(ctx, lab.Request{ID: "x", Action: good.Action, Params: c.params})
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field {
			t.Errorf("Start(%v): %v (field %q), want Invalid naming %s", c.params, err, errors.FieldOf(err), c.field)
		}
	}
	_, err := d.Start(ctx, lab.Request{ID: "x", Action: good.Action, Params: with("anneal_temperature", 700.0)})
	if msg := errors.SafeMessage(err); !strings.Contains(msg, "anneal_temperature") || !strings.Contains(msg, "600") {
		t.Errorf("out-of-bounds message %q names neither the parameter nor the bound", msg)
	}
}

func TestSettings(t *testing.T) {
	for _, c := range []struct {
		in, field string
	}{
		{`{}`, "model"},
		{`{"model":"toaster"}`, "model"},
		{`{"model":"thin-film","colour":1}`, "colour"},
		{`{"model":"thin-film","speed":0}`, "speed"},
		{`{"model":"thin-film","speed":-1}`, "speed"},
		{`{"model":"thin-film","speed":"fast"}`, "speed"},
		{`{"model":"thin-film","noise":2}`, "noise"},
		{`{"model":"thin-film","fault_rate":-0.1}`, "fault_rate"},
		{`{"model":"thin-film","recovery_seconds":-1}`, "recovery_seconds"},
		{`{"model":"thin-film","seed":-1}`, "seed"},
		{`{"model":"thin-film","consumables":{"filament":3}}`, "consumables.filament"},
		{`{"model":"thin-film","consumables":{"substrate":0}}`, "consumables.substrate"},
		{`{"model":"thin-film","speed":null}`, "speed"},
		{`[1]`, "settings"},
	} {
		_, err := sim.ParseSettings([]byte(c.in))
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field {
			t.Errorf("ParseSettings(%s): %v (field %q), want Invalid naming %q", c.in, err, errors.FieldOf(err), c.field)
		}
	}
	s, err := sim.ParseSettings([]byte(`{"model":"printer-tester"}`))
	if err != nil {
		t.Fatal(err)
	}
	want := sim.Settings{Model: "printer-tester", Speed: 1, Noise: 0.01, RecoverySeconds: 30}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("defaults: %+v, want %+v", s, want)
	}
	if _, err := lab.Open(lab.Config{Kind: "sim", Settings: json.RawMessage(`{"model":"x"}`)}); !errors.Is(errors.Invalid, err) {
		t.Fatalf("lab.Open with bad settings: %v", err)
	}
}

// FuzzParseSettings: any input is accepted with values in range, or
// refused as Invalid naming a field; accepted settings survive a round
// trip through JSON unchanged.
func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{
		`{"model":"flow-reactor","speed":1000,"noise":0.02,"fault_rate":0.1,"recovery_seconds":5,"seed":18446744073709551615,"consumables":{"substrate":20}}`,
		`{"model":"thin-film"}`, `{"model":"printer-tester","consumables":{}}`, `{"model":1}`, `null`, ``, `{"speed":1e400}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		s, err := sim.ParseSettings(raw)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) == "" {
				t.Fatalf("refusal %v is not Invalid naming a field", err)
			}
			return
		}
		if s.Validate() != nil || !(s.Speed > 0) || s.Noise < 0 || s.Noise > 1 || s.FaultRate < 0 || s.FaultRate > 1 || s.RecoverySeconds < 0 {
			t.Fatalf("accepted out-of-range settings %+v", s)
		}
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := sim.ParseSettings(b)
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip: %+v became %+v (%v)", s, s2, err)
		}
	})
}

// Two opens of one state directory in a process are handles on one
// instrument: what one starts the other sees, an ID started through one
// is not run again through the other, and the instrument lives until the
// last handle closes. Other settings over the same state are refused.
func TestSharedStateDir(t *testing.T) {
	dir := t.TempDir()
	const s = `{"model":"flow-reactor","speed":1e6}`
	c := newClock()
	d1, d2 := open(t, s, dir, c), open(t, s, dir, c)
	r := mustStart(t, d1, request(sim.FlowReactor, 0))
	if got := mustStart(t, d2, request(sim.FlowReactor, 0)); !reflect.DeepEqual(got, r) {
		t.Fatalf("second handle: %+v, first %+v", got, r)
	}
	d1.Close()
	if _, err := d1.Status(ctx); !errors.Is(errors.Unavailable, err) {
		t.Fatalf("closed handle: %v", err)
	}
	c.Add(time.Second)
	if r := result(t, d2, request(sim.FlowReactor, 0).ID); r.State != lab.Succeeded {
		t.Fatalf("after the first handle closed: %s", r.State)
	}
	ps, err := sim.ParseSettings([]byte(`{"model":"flow-reactor","speed":2}`))
	if err != nil {
		t.Fatal(err)
	}
	o := ps.Options()
	o.StateDir = dir
	if _, err := sim.New(ps.Instrument(), o); !errors.Is(errors.Conflict, err) {
		t.Fatalf("other settings over open state: %v, want Conflict", err)
	}
	d2.Close()
	d3 := open(t, s, dir, c)
	if n, _ := sim.JournalRuns(dir); n[request(sim.FlowReactor, 0).ID] != 1 {
		t.Fatalf("runs %v", n)
	}
	mustStart(t, d3, request(sim.FlowReactor, 1))
}

// A run's outcome is decided when it is accepted and journaled with it:
// reopening the instrument with other settings — speed, noise, seed,
// fault rate, even another model — changes no run already accepted.
func TestSettingsChangeKeepsPastRuns(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	d := open(t, `{"model":"flow-reactor","speed":10,"seed":1,"noise":0.05}`, dir, c)
	for i := 0; i < 3; i++ {
		mustStart(t, d, request(sim.FlowReactor, i))
	}
	c.Add(90 * time.Second) // run 0 done, run 1 running, run 2 queued
	var before []*lab.Result
	for i := 0; i < 3; i++ {
		before = append(before, result(t, d, request(sim.FlowReactor, i).ID))
	}
	d.Close()
	for _, other := range []string{
		`{"model":"flow-reactor","speed":1000,"seed":2,"noise":0.5,"fault_rate":1}`,
		`{"model":"thin-film","speed":3}`,
	} {
		d = open(t, other, dir, c)
		for i := 0; i < 3; i++ {
			if got := result(t, d, request(sim.FlowReactor, i).ID); !reflect.DeepEqual(got, before[i]) {
				t.Fatalf("with %s, run %d is %+v; it was %+v", other, i, got, before[i])
			}
		}
		d.Close()
	}
	d = open(t, `{"model":"flow-reactor","speed":10,"seed":1,"noise":0.05}`, dir, c)
	c.Add(time.Hour)
	for i := 0; i < 3; i++ {
		if r := result(t, d, request(sim.FlowReactor, i).ID); r.State != lab.Succeeded || r.EndedAt.Sub(*r.StartedAt) != time.Minute {
			t.Fatalf("run %d: %s after %v", i, r.State, r.EndedAt.Sub(*r.StartedAt))
		}
	}
}

// What Info returns is the caller's: changing it changes not the
// instrument's bounds.
func TestInfoIsACopy(t *testing.T) {
	d := open(t, `{"model":"flow-reactor","speed":1e6}`, "", newClock())
	info, err := d.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range info.Actions[0].Params {
		p := &info.Actions[0].Params[i]
		if p.Max != nil {
			*p.Max = -1
		}
		if len(p.Choices) > 0 {
			p.Choices[0] = "Pt-Z"
		}
	}
	info.Actions[0].Consumes["substrate"] = 1e9
	again, _ := d.Info(ctx)
	if *again.Actions[0].Params[0].Max != 150 || again.Actions[0].Params[3].Choices[0] != "Pd-A" || again.Actions[0].Consumes["substrate"] != 5 {
		t.Fatalf("Info changed through a copy: %+v", again.Actions[0])
	}
	mustStart(t, d, request(sim.FlowReactor, 0))
}

// CheckRequest on integer and optional parameters (no model has them).
func TestCheckRequestKinds(t *testing.T) {
	lo, hi := 1.0, 10.0
	info := &lab.Info{Actions: []lab.Action{{Name: "a", Params: []lab.Param{
		{Name: "n", Kind: lab.Integer, Min: &lo, Max: &hi},
		{Name: "opt", Kind: lab.Choice, Choices: []string{"x", "y"}, Optional: true},
	}}}}
	for _, c := range []struct {
		params map[string]any
		ok     bool
	}{
		{map[string]any{"n": 3.0}, true},
		{map[string]any{"n": 3}, true},
		{map[string]any{"n": int64(10), "opt": "y"}, true},
		{map[string]any{"n": 3.5}, false},
		{map[string]any{"n": 0.0}, false},
		{map[string]any{"n": 11}, false},
		{map[string]any{"n": "3"}, false},
		{map[string]any{"n": 3.0, "opt": "z"}, false},
		{map[string]any{"n": 3.0, "opt": 1.0}, false},
		{map[string]any{}, false},
	} {
		got, err := sim.CheckRequest(info, lab.Request{ID: "i", Action: "a", Params: c.params})
		if (err == nil) != c.ok || err != nil && !errors.Is(errors.Invalid, err) {
			t.Errorf("CheckRequest(%v) = %v, %v; want ok %v", c.params, got, err, c.ok)
		}
		if err == nil {
			if _, isFloat := got["n"].(float64); !isFloat {
				t.Errorf("CheckRequest(%v) left n as %T", c.params, got["n"])
			}
		}
	}
}
