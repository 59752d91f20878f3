// Package labtest is the conformance suite every lab.Driver passes (lab/sim,
// lab/table, lab/madsci against a node in another process): a well-formed
// Info; Start then Result reaching a final state with every declared
// output; Start idempotent by ID, sequentially and concurrently, and
// across a restart of the driver; unknown IDs; refused requests and admin
// commands; the e-stop interlock; Status listing running actions;
// cancelled contexts.
//
// The suite waits for conditions with generous deadlines and never asserts
// how long anything took.
package labtest

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
)

// Timeout bounds how long the suite waits for an action to reach a state.
var Timeout = 3 * time.Minute

// Harness is one driver under test, with what the suite needs to drive it.
type Harness struct {
	Driver lab.Driver
	// Request returns a valid request for the i-th run, with an ID unique
	// to this harness (and to the instrument's durable state).
	Request func(i int) lab.Request
	// Invalid is a request the instrument must refuse (errors.Invalid).
	Invalid lab.Request
	// Reopen returns a new driver over the same durable state, as after a
	// restart; the suite closes the old driver first. nil skips that case
	// (loudly, with t.Log).
	Reopen func(t *testing.T) lab.Driver
	// Runs reports how many times the instrument really ran id (from its
	// journal); nil: not checked.
	Runs func(t *testing.T, id string) int
}

// Run runs the suite; open returns a fresh Harness for each case.
func Run(t *testing.T, open func(t *testing.T) Harness) {
	cases := []struct {
		name string
		f    func(t *testing.T, h *harness)
	}{
		{"Info", testInfo},
		{"StartResult", testStartResult},
		{"IdempotentSequential", testIdempotentSequential},
		{"IdempotentConcurrent", testIdempotentConcurrent},
		{"UnknownResult", testUnknownResult},
		{"Invalid", testInvalid},
		{"SafetyStop", testSafetyStop},
		{"Reopen", testReopen},
		{"StatusRunning", testStatusRunning},
		{"CancelledContext", testCancelledContext},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &harness{Harness: open(t)}
			if h.Driver == nil || h.Request == nil {
				t.Fatal("labtest: the harness needs a Driver and a Request function")
			}
			t.Cleanup(func() { h.Driver.Close() })
			c.f(t, h)
		})
	}
}

type harness struct {
	Harness
}

var bg = context.Background()

func (h *harness) start(t *testing.T, req lab.Request) *lab.Result {
	t.Helper()
	r, err := h.Driver.Start(bg, req)
	if err != nil {
		t.Fatalf("Start(%s): %v", req.ID, err)
	}
	if r == nil || r.ID != req.ID || r.Action != req.Action {
		t.Fatalf("Start(%s) = %+v, want a result for ID %q, action %q", req.ID, r, req.ID, req.Action)
	}
	checkState(t, r)
	return r
}

func checkState(t *testing.T, r *lab.Result) {
	t.Helper()
	switch r.State {
	case lab.Pending, lab.Running, lab.Succeeded, lab.Failed, lab.Cancelled:
	default:
		t.Fatalf("action %s: unknown state %q", r.ID, r.State)
	}
	if r.StartedAt != nil && r.EndedAt != nil && r.EndedAt.Before(*r.StartedAt) {
		t.Fatalf("action %s ended (%v) before it started (%v)", r.ID, r.EndedAt, r.StartedAt)
	}
	if r.State.Final() && r.State != lab.Succeeded && r.Reason == "" {
		t.Errorf("action %s is %s without a reason", r.ID, r.State)
	}
}

// WaitFinal polls until the action is final and returns its result.
func WaitFinal(t *testing.T, d lab.Driver, id string) *lab.Result {
	t.Helper()
	deadline := time.Now().Add(Timeout)
	var r *lab.Result
	var err error
	for time.Now().Before(deadline) {
		r, err = d.Result(bg, id)
		if err != nil {
			t.Fatalf("Result(%s): %v", id, err)
		}
		if r.ID != id {
			t.Fatalf("Result(%s) answered for %q", id, r.ID)
		}
		checkState(t, r)
		if r.State.Final() {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("action %s still %s after %v", id, r.State, Timeout)
	return nil
}

func (h *harness) succeeded(t *testing.T, r *lab.Result) {
	t.Helper()
	if r.State != lab.Succeeded {
		t.Fatalf("action %s ended %s (%s), want succeeded", r.ID, r.State, r.Reason)
	}
	info, err := h.Driver.Info(bg)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	a := info.Action(r.Action)
	if a == nil {
		t.Fatalf("action %s ran %q, which Info does not list", r.ID, r.Action)
	}
	for _, o := range a.Outputs {
		v, ok := r.Values[o.Name]
		if !ok || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("action %s: output %q = %v (present %v), want a finite value", r.ID, o.Name, v, ok)
		}
	}
}

func (h *harness) checkRuns(t *testing.T, id string, want int) {
	t.Helper()
	if h.Runs == nil {
		return
	}
	if n := h.Runs(t, id); n != want {
		t.Errorf("the instrument ran %s %d times, want %d", id, n, want)
	}
}

func sameResult(t *testing.T, what string, got, want *lab.Result) {
	t.Helper()
	if got.ID != want.ID || got.Action != want.Action || got.State != want.State || got.Reason != want.Reason {
		t.Fatalf("%s: got %s %s %s (%s), want %s %s %s (%s)", what, got.ID, got.Action, got.State, got.Reason, want.ID, want.Action, want.State, want.Reason)
	}
	if len(got.Values) != len(want.Values) {
		t.Fatalf("%s: values %v, want %v", what, got.Values, want.Values)
	}
	for k, v := range want.Values {
		if g, ok := got.Values[k]; !ok || g != v {
			t.Fatalf("%s: value %s = %v, want %v", what, k, g, v)
		}
	}
	if (got.StartedAt == nil) != (want.StartedAt == nil) || got.StartedAt != nil && !got.StartedAt.Equal(*want.StartedAt) {
		t.Fatalf("%s: started at %v, want %v", what, got.StartedAt, want.StartedAt)
	}
}

func testInfo(t *testing.T, h *harness) {
	info, err := h.Driver.Info(bg)
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if len(info.Actions) == 0 {
		t.Fatal("Info lists no actions")
	}
	actions := map[string]bool{}
	for _, a := range info.Actions {
		if a.Name == "" || actions[a.Name] {
			t.Errorf("action name %q is empty or repeated", a.Name)
		}
		actions[a.Name] = true
		params := map[string]bool{}
		for _, p := range a.Params {
			if p.Name == "" || params[p.Name] {
				t.Errorf("action %s: parameter name %q is empty or repeated", a.Name, p.Name)
			}
			params[p.Name] = true
			switch p.Kind {
			case lab.Number, lab.Integer:
				for _, b := range []*float64{p.Min, p.Max} {
					if b != nil && (math.IsNaN(*b) || math.IsInf(*b, 0)) {
						t.Errorf("action %s: parameter %s has a bound that is not finite", a.Name, p.Name)
					}
				}
				if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
					t.Errorf("action %s: parameter %s has Min %v > Max %v", a.Name, p.Name, *p.Min, *p.Max)
				}
				if len(p.Choices) > 0 {
					t.Errorf("action %s: numeric parameter %s has choices", a.Name, p.Name)
				}
			case lab.Choice:
				if len(p.Choices) == 0 {
					t.Errorf("action %s: choice parameter %s has no choices", a.Name, p.Name)
				}
				seen := map[string]bool{}
				for _, c := range p.Choices {
					if c == "" || seen[c] {
						t.Errorf("action %s: parameter %s: choice %q is empty or repeated", a.Name, p.Name, c)
					}
					seen[c] = true
				}
			default:
				t.Errorf("action %s: parameter %s has kind %q", a.Name, p.Name, p.Kind)
			}
		}
		outputs := map[string]bool{}
		for _, o := range a.Outputs {
			if o.Name == "" || outputs[o.Name] {
				t.Errorf("action %s: output name %q is empty or repeated", a.Name, o.Name)
			}
			outputs[o.Name] = true
		}
		for name, n := range a.Consumes {
			if name == "" || !(n >= 0) || math.IsInf(n, 0) {
				t.Errorf("action %s consumes %v of %q", a.Name, n, name)
			}
		}
		if !(a.NominalSeconds >= 0) || math.IsInf(a.NominalSeconds, 0) {
			t.Errorf("action %s: nominal seconds %v", a.Name, a.NominalSeconds)
		}
	}
	cons := map[string]bool{}
	for _, c := range info.Consumables {
		if c.Name == "" || cons[c.Name] {
			t.Errorf("consumable name %q is empty or repeated", c.Name)
		}
		cons[c.Name] = true
		if !(c.Level >= 0 && c.Level <= c.Capacity) {
			t.Errorf("consumable %s: level %v outside [0, capacity %v]", c.Name, c.Level, c.Capacity)
		}
	}
	// The harness's requests are for actions the instrument offers.
	for i := 0; i < 3; i++ {
		req := h.Request(i)
		if !actions[req.Action] {
			t.Errorf("harness request %d is for action %q, which Info does not list", i, req.Action)
		}
	}
}

func testStartResult(t *testing.T, h *harness) {
	req := h.Request(0)
	h.start(t, req)
	r := WaitFinal(t, h.Driver, req.ID)
	h.succeeded(t, r)
	h.checkRuns(t, req.ID, 1)
	// A final result stays as it is.
	again, err := h.Driver.Result(bg, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameResult(t, "Result read twice", again, r)
}

func testIdempotentSequential(t *testing.T, h *harness) {
	req := h.Request(0)
	first := h.start(t, req)
	second := h.start(t, req)
	if first.StartedAt != nil && second.StartedAt != nil && !first.StartedAt.Equal(*second.StartedAt) {
		t.Fatalf("a second Start of %s began a new action (started %v, then %v)", req.ID, first.StartedAt, second.StartedAt)
	}
	final := WaitFinal(t, h.Driver, req.ID)
	h.succeeded(t, final)
	// Starting the same ID again, even with other parameters, returns the
	// first action and runs nothing.
	other := h.Request(1)
	other.ID = req.ID
	for i, r := range []lab.Request{req, other} {
		got := h.start(t, r)
		sameResult(t, fmt.Sprintf("Start #%d of a finished ID", i+3), got, final)
	}
	h.checkRuns(t, req.ID, 1)
}

func testIdempotentConcurrent(t *testing.T, h *harness) {
	req := h.Request(0)
	const n = 8
	var wg sync.WaitGroup
	results := make([]*lab.Result, n)
	errs := make([]error, n)
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			results[i], errs[i] = h.Driver.Start(bg, req)
		}()
	}
	close(gate)
	wg.Wait()
	for i := range results {
		if errs[i] != nil {
			t.Fatalf("concurrent Start #%d: %v", i, errs[i])
		}
		if results[i].ID != req.ID || results[i].Action != req.Action {
			t.Fatalf("concurrent Start #%d answered %+v", i, results[i])
		}
	}
	final := WaitFinal(t, h.Driver, req.ID)
	h.succeeded(t, final)
	for i := range results {
		if s := results[i].StartedAt; s != nil && final.StartedAt != nil && !s.Equal(*final.StartedAt) {
			t.Fatalf("concurrent Start #%d began an action at %v; the action began at %v", i, s, final.StartedAt)
		}
	}
	h.checkRuns(t, req.ID, 1)
}

func testUnknownResult(t *testing.T, h *harness) {
	id := h.Request(0).ID + "-never-started"
	if _, err := h.Driver.Result(bg, id); !errors.Is(errors.NotExist, err) {
		t.Fatalf("Result of an ID never started: %v, want NotExist", err)
	}
}

func testInvalid(t *testing.T, h *harness) {
	good := h.Request(0)
	bad := []struct {
		what string
		req  lab.Request
	}{
		{"the harness's invalid request", h.Invalid},
		{"an empty ID", lab.Request{ID: "", Action: good.Action, Params: good.Params}},
		{"an ID with a slash", lab.Request{ID: good.ID + "/x", Action: good.Action, Params: good.Params}},
		{"an ID of 129 characters", lab.Request{ID: strings.Repeat("a", 129), Action: good.Action, Params: good.Params}},
		{"an unknown action", lab.Request{ID: good.ID + "-u", Action: "no-such-action-" + good.ID, Params: good.Params}},
	}
	for _, b := range bad {
		_, err := h.Driver.Start(bg, b.req)
		if !errors.Is(errors.Invalid, err) {
			t.Errorf("Start with %s: %v, want Invalid", b.what, err)
			continue
		}
		if msg := errors.SafeMessage(err); msg == "" {
			t.Errorf("Start with %s: error %v has no message for the user", b.what, err)
		}
		if b.req.ID != "" && len(b.req.ID) <= 128 && !strings.Contains(b.req.ID, "/") {
			if _, err := h.Driver.Result(bg, b.req.ID); !errors.Is(errors.NotExist, err) {
				t.Errorf("after a refused Start with %s, Result: %v, want NotExist", b.what, err)
			}
		}
	}
	// A command the driver does not know is refused the same way.
	if err := h.Driver.Admin(bg, "no-such-command"); !errors.Is(errors.Invalid, err) {
		t.Errorf("Admin with an unknown command: %v, want Invalid", err)
	}
	// A refused request takes nothing from the instrument: a valid one
	// still runs.
	h.start(t, good)
	h.succeeded(t, WaitFinal(t, h.Driver, good.ID))
}

func status(t *testing.T, d lab.Driver) *lab.NodeStatus {
	t.Helper()
	st, err := d.Status(bg)
	if err != nil {
		t.Fatalf("Status: %v", err)
	}
	return st
}

func testSafetyStop(t *testing.T, h *harness) {
	a, b := h.Request(0), h.Request(1)
	h.start(t, a)
	if err := h.Driver.Admin(bg, lab.SafetyStop); err != nil {
		t.Fatalf("Admin(safety_stop): %v", err)
	}
	if st := status(t, h.Driver); st.Status != lab.EStopped {
		t.Fatalf("after safety_stop, status is %q, want %q", st.Status, lab.EStopped)
	}
	if _, err := h.Driver.Start(bg, b); !errors.Is(errors.Conflict, err) {
		t.Fatalf("Start while e-stopped: %v, want Conflict", err)
	}
	if _, err := h.Driver.Result(bg, b.ID); !errors.Is(errors.NotExist, err) {
		t.Fatalf("Start refused while e-stopped, yet Result(%s): %v", b.ID, err)
	}
	// The action in flight ends (however it ends) and its ID still names it.
	WaitFinal(t, h.Driver, a.ID)
	h.start(t, a)
	if st := status(t, h.Driver); st.Status != lab.EStopped {
		t.Fatalf("still e-stopped expected, status is %q", st.Status)
	}
	if err := h.Driver.Admin(bg, lab.Reset); err != nil {
		t.Fatalf("Admin(reset): %v", err)
	}
	if st := status(t, h.Driver); !st.Status.Takes() {
		t.Fatalf("after reset, status is %q (%s)", st.Status, st.Reason)
	}
	h.start(t, b)
	h.succeeded(t, WaitFinal(t, h.Driver, b.ID))
	h.checkRuns(t, a.ID, 1)
	h.checkRuns(t, b.ID, 1)
}

func testReopen(t *testing.T, h *harness) {
	if h.Reopen == nil {
		t.Log("LOUD SKIP: the harness has no Reopen; durability across restarts is not checked for this driver")
		return
	}
	done, running := h.Request(0), h.Request(1)
	h.start(t, done)
	doneRes := WaitFinal(t, h.Driver, done.ID)
	h.succeeded(t, doneRes)
	first := h.start(t, running)
	if err := h.Driver.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	h.Driver = h.Reopen(t)
	got, err := h.Driver.Result(bg, done.ID)
	if err != nil {
		t.Fatalf("after a restart, Result of a finished action: %v", err)
	}
	sameResult(t, "finished action after a restart", got, doneRes)
	again := h.start(t, running)
	if first.StartedAt != nil && again.StartedAt != nil && !first.StartedAt.Equal(*again.StartedAt) {
		t.Fatalf("after a restart, Start of %s began a new action (started %v, then %v)", running.ID, first.StartedAt, again.StartedAt)
	}
	h.succeeded(t, WaitFinal(t, h.Driver, running.ID))
	h.checkRuns(t, done.ID, 1)
	h.checkRuns(t, running.ID, 1)
}

func testStatusRunning(t *testing.T, h *harness) {
	checked := 0
	for round := 0; round < 5 && checked == 0; round++ {
		var ids []string
		for i := 0; i < 3; i++ {
			req := h.Request(round*3 + i)
			h.start(t, req)
			ids = append(ids, req.ID)
		}
		before := map[string]*lab.Result{}
		for _, id := range ids {
			r, err := h.Driver.Result(bg, id)
			if err != nil {
				t.Fatal(err)
			}
			before[id] = r
		}
		st := status(t, h.Driver)
		for _, id := range ids {
			after, err := h.Driver.Result(bg, id)
			if err != nil {
				t.Fatal(err)
			}
			listed := slices.Contains(st.Running, id)
			if !after.State.Final() {
				checked++
				if !listed {
					t.Errorf("action %s is %s, but Status lists running %v", id, after.State, st.Running)
				}
				if st.Status == lab.Idle {
					t.Errorf("action %s is %s, but the instrument says it is idle", id, after.State)
				}
			}
			if before[id].State.Final() && listed {
				t.Errorf("action %s was already %s, but Status lists it as running", id, before[id].State)
			}
		}
		for _, id := range ids {
			WaitFinal(t, h.Driver, id)
		}
		st = status(t, h.Driver)
		for _, id := range ids {
			if slices.Contains(st.Running, id) {
				t.Errorf("action %s is final, but Status lists it as running", id)
			}
		}
	}
	if checked == 0 {
		t.Log("LOUD: every action was final before Status was read; use longer actions to check Status.Running")
	}
}

func testCancelledContext(t *testing.T, h *harness) {
	ctx, cancel := context.WithCancel(bg)
	cancel()
	req := h.Request(0)
	done := make(chan error, 1)
	go func() {
		h.Driver.Info(ctx)
		h.Driver.Status(ctx)
		h.Driver.Result(ctx, req.ID)
		_, err := h.Driver.Start(ctx, req)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Start with a cancelled context succeeded")
		}
		if !errors.Is(errors.Canceled, err) && !errors.Is(errors.Transient, err) {
			t.Errorf("Start with a cancelled context: %v, want Canceled or Transient", err)
		}
	case <-time.After(Timeout):
		t.Fatalf("calls with a cancelled context had not returned after %v", Timeout)
	}
	if _, err := h.Driver.Result(bg, req.ID); !errors.Is(errors.NotExist, err) {
		t.Fatalf("a Start with a cancelled context started %s: Result %v", req.ID, err)
	}
	// The driver still works.
	h.start(t, req)
	h.succeeded(t, WaitFinal(t, h.Driver, req.ID))
}
