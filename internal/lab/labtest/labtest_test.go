package labtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/labtest"
	"github.com/genesis-science/genesis/internal/lab/sim"
)

// mutant wraps a correct driver and breaks one guarantee.
type mutant struct {
	lab.Driver
	kind string
	mu   sync.Mutex
	ran  map[string]int
}

func (m *mutant) Start(ctx context.Context, req lab.Request) (*lab.Result, error) {
	m.mu.Lock()
	m.ran[req.ID]++
	m.mu.Unlock()
	r, err := m.Driver.Start(ctx, req)
	if m.kind == "invalid-as-transient" && errors.Is(errors.Invalid, err) {
		return nil, errors.E(errors.Transient, errors.Msg("try later"))
	}
	if m.kind == "starts-when-cancelled" && errors.Is(errors.Canceled, err) {
		return m.Driver.Start(context.Background(), req)
	}
	return r, err
}

func (m *mutant) Result(ctx context.Context, id string) (*lab.Result, error) {
	r, err := m.Driver.Result(ctx, id)
	switch {
	case m.kind == "unknown-is-invalid" && errors.Is(errors.NotExist, err):
		return nil, errors.E(errors.Invalid, errors.Msg("bad id"))
	case m.kind == "drops-an-output" && err == nil && r.Values != nil:
		for k := range r.Values {
			delete(r.Values, k)
			break
		}
	}
	return r, err
}

func (m *mutant) Admin(ctx context.Context, cmd lab.AdminCommand) error {
	if m.kind == "ignores-estop" && cmd == lab.SafetyStop {
		return nil
	}
	return m.Driver.Admin(ctx, cmd)
}

func (m *mutant) Status(ctx context.Context) (*lab.NodeStatus, error) {
	st, err := m.Driver.Status(ctx)
	if m.kind == "hides-running" && err == nil {
		st.Running = nil
	}
	return st, err
}

// mutants maps each broken driver to the case of the suite that must
// catch it.
var mutants = map[string]string{
	"runs-again":            "IdempotentSequential",
	"runs-again-concurrent": "IdempotentConcurrent",
	"unknown-is-invalid":    "UnknownResult",
	"invalid-as-transient":  "Invalid",
	"ignores-estop":         "SafetyStop",
	"forgets-on-restart":    "Reopen",
	"hides-running":         "StatusRunning",
	"starts-when-cancelled": "CancelledContext",
	"drops-an-output":       "StartResult",
}

func harness(t *testing.T, kind string) labtest.Harness {
	dir := t.TempDir()
	settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": 3000, "seed": 1})
	open := func(t *testing.T, dir string) lab.Driver {
		d, err := lab.Open(lab.Config{Kind: "sim", Settings: settings, StateDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	m := &mutant{Driver: open(t, dir), kind: kind, ran: map[string]int{}}
	h := labtest.Harness{
		Driver: m,
		Request: func(i int) lab.Request {
			return lab.Request{ID: fmt.Sprint("m-", i), Action: "run", Params: map[string]any{
				"temperature": 90.0 + float64(i%5), "residence_time": 5.0, "concentration": 0.5, "catalyst": "Pd-B"}}
		},
		Invalid: lab.Request{ID: "too-hot", Action: "run", Params: map[string]any{
			"temperature": 400.0, "residence_time": 5.0, "concentration": 0.5, "catalyst": "Pd-B"}},
		Reopen: func(t *testing.T) lab.Driver {
			if kind == "forgets-on-restart" {
				return open(t, t.TempDir())
			}
			return open(t, dir)
		},
		Runs: func(t *testing.T, id string) int {
			n, err := sim.JournalRuns(dir)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(kind, "runs-again") {
				m.mu.Lock()
				defer m.mu.Unlock()
				return m.ran[id] // as if every Start ran the action
			}
			return n[id]
		},
	}
	return h
}

// TestMutantChild runs the suite against one broken driver; it is the
// child process of TestSuiteCatchesBrokenDrivers.
func TestMutantChild(t *testing.T) {
	kind := os.Getenv("LABTEST_MUTANT")
	if kind == "" {
		t.Skip("runs only as the child process of TestSuiteCatchesBrokenDrivers")
	}
	labtest.Run(t, func(t *testing.T) labtest.Harness { return harness(t, kind) })
}

// TestSuiteCatchesBrokenDrivers: each broken guarantee fails the case of
// the suite that checks it, and an unbroken driver passes that case (so
// the failure is the mutant's, not the setup's).
func TestSuiteCatchesBrokenDrivers(t *testing.T) {
	for kind, cas := range mutants {
		t.Run(kind, func(t *testing.T) {
			for _, env := range []string{kind, "none"} {
				cmd := exec.Command(os.Args[0], "-test.run=^TestMutantChild$/^"+cas+"$", "-test.v")
				cmd.Env = append(os.Environ(), "LABTEST_MUTANT="+env)
				out, err := cmd.CombinedOutput()
				failed := strings.Contains(string(out), "--- FAIL: TestMutantChild/"+cas)
				ran := strings.Contains(string(out), "TestMutantChild/"+cas)
				switch {
				case !ran:
					t.Fatalf("%s: case %s did not run:\n%s", env, cas, out)
				case env == kind && (!failed || err == nil):
					t.Fatalf("the suite did not catch %q in case %s:\n%s", kind, cas, out)
				case env == "none" && (failed || err != nil):
					t.Fatalf("an unbroken driver fails case %s:\n%s", cas, out)
				}
			}
		})
	}
}
