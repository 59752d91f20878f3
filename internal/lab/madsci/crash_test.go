package madsci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/madsci/madscitest"
)

// createOnly does what a Start that crashed between the node's create and
// start left behind: a node action created, not started, and journaled.
func createOnly(t *testing.T, d *Driver, id string) {
	t.Helper()
	b, _, err := d.call(context.Background(), "test", http.MethodPost, "/action/synthesize",
		map[string]any{"args": map[string]any{"temperature": 90.0, "time": 10.0, "solvent": "water"}})
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ActionID string `json:"action_id"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if err := d.j.put(entry{ID: id, Action: "synthesize", ActionID: c.ActionID, Phase: created}); err != nil {
		t.Fatal(err)
	}
}

func waitFinal(t *testing.T, d lab.Driver, id string) *lab.Result {
	t.Helper()
	end := time.Now().Add(2 * time.Minute)
	for time.Now().Before(end) {
		r, err := d.Result(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State.Final() {
			return r
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s not final", id)
	return nil
}

func nodeStarted(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		N int `json:"actions_started"`
	}
	json.NewDecoder(resp.Body).Decode(&st)
	return st.N
}

func TestCrashBetweenCreateAndStart(t *testing.T) {
	url, _ := madscitest.StartNode(t, "--settings", `{"duration":"100ms"}`)
	ctx := context.Background()
	open := func() *Driver {
		drv, err := Open(lab.Config{Kind: Kind, Endpoint: url, StateDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { drv.Close() })
		return drv.(*Driver)
	}
	req := lab.Request{ID: "crashed", Action: "synthesize", Params: map[string]any{"temperature": 90.0, "time": 10.0, "solvent": "water"}}

	// The node holds the action created: Result says pending, Start starts
	// that very action.
	d := open()
	createOnly(t, d, req.ID)
	if r, err := d.Result(ctx, req.ID); err != nil || r.State != lab.Pending {
		t.Fatalf("Result of a created action: %+v, %v", r, err)
	}
	if _, err := d.Start(ctx, req); err != nil {
		t.Fatal(err)
	}
	if r := waitFinal(t, d, req.ID); r.State != lab.Succeeded {
		t.Fatalf("%+v", r)
	}
	if n := nodeStarted(t, url); n != 1 {
		t.Fatalf("node started %d, want 1", n)
	}

	// The node is e-stopped when Start resumes: it refuses (not_ready),
	// the driver forgets the action and says Conflict; after reset a new
	// node action runs.
	d2 := open()
	createOnly(t, d2, req.ID)
	if err := d2.Admin(ctx, lab.SafetyStop); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Start(ctx, req); !errors.Is(errors.Conflict, err) {
		t.Fatalf("Start while stopped: %v, want Conflict", err)
	}
	if _, err := d2.Result(ctx, req.ID); !errors.Is(errors.NotExist, err) {
		t.Fatalf("Result after a refusal: %v, want NotExist", err)
	}
	if err := d2.Admin(ctx, lab.Reset); err != nil {
		t.Fatal(err)
	}
	if _, err := d2.Start(ctx, req); err != nil {
		t.Fatal(err)
	}
	if r := waitFinal(t, d2, req.ID); r.State != lab.Succeeded {
		t.Fatalf("%+v", r)
	}
	if n := nodeStarted(t, url); n != 2 {
		t.Fatalf("node started %d, want 2", n)
	}
}

// TestJournalModel checks the journal against a map: after any sequence of
// puts, reopening the file gives what the map holds.
func TestJournalModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 50; trial++ {
		dir := t.TempDir()
		j, err := openJournal(dir)
		if err != nil {
			t.Fatal(err)
		}
		model := map[string]entry{}
		for op := 0; op < 1+r.IntN(40); op++ {
			id := fmt.Sprintf("id-%d", r.IntN(6))
			e := entry{ID: id, Action: "a", ActionID: fmt.Sprintf("N%d-%d", trial, op), Phase: []phase{created, started, dropped}[r.IntN(3)]}
			if err := j.put(e); err != nil {
				t.Fatal(err)
			}
			if e.Phase == dropped {
				delete(model, id)
			} else {
				model[id] = e
			}
			if r.IntN(5) == 0 { // reopen mid-sequence
				j.close()
				if j, err = openJournal(dir); err != nil {
					t.Fatal(err)
				}
			}
		}
		j.close()
		j, err = openJournal(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(j.byID) != len(model) {
			t.Fatalf("trial %d: journal has %d entries, model %d", trial, len(j.byID), len(model))
		}
		for id, want := range model {
			if got, ok := j.get(id); !ok || got != want {
				t.Fatalf("trial %d: %s = %+v, want %+v", trial, id, got, want)
			}
			if back, ok := j.request(want.ActionID); !ok || back != id {
				t.Fatalf("trial %d: action %s maps to %q", trial, want.ActionID, back)
			}
		}
		j.close()
	}
}

// TestResponseLimits: what an HTTP server in front of a node may answer —
// too much, an error page, a redirect, a body cut short — is Transient
// with a short clean message.
func TestResponseLimits(t *testing.T) {
	cases := map[string]http.HandlerFunc{
		"too large": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"busy": false, "errors": ["`))
			w.Write(bytes.Repeat([]byte("x"), MaxBody+10))
			w.Write([]byte(`"]}`))
		},
		"error page": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html><body>\x1b[2J502 Bad Gateway</body></html>"))
		},
		"redirect": func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "http://elsewhere.invalid/status", http.StatusTemporaryRedirect)
		},
		"cut short": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte(`{"busy": fal`))
		},
	}
	for name, h := range cases {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			d, err := Open(lab.Config{Kind: Kind, Endpoint: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			_, err = d.Status(context.Background())
			if !errors.Is(errors.Transient, err) {
				t.Fatalf("Status: %v, want Transient", err)
			}
			t.Log(err)
			if msg := err.Error(); len(msg) > 1024 || strings.ContainsAny(msg, "\x1b\x00") {
				t.Fatalf("message %q is long or unclean", msg)
			}
		})
	}
}
