package madsci_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/madsci"
	"github.com/genesis-science/genesis/internal/lab/madsci/madscitest"
	"github.com/genesis-science/genesis/internal/text"
)

func TestMain(m *testing.M) { os.Exit(madscitest.Main(m)) }

// deadline bounds every wait on a condition: generous, the machine is
// loaded.
const deadline = 2 * time.Minute

func open(t *testing.T, url, stateDir string, settings string) lab.Driver {
	t.Helper()
	cfg := lab.Config{Kind: "madsci", Endpoint: url, StateDir: stateDir}
	if settings != "" {
		cfg.Settings = json.RawMessage(settings)
	}
	d, err := lab.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// demoOutcome is the reference model of the demo device's response
// surface (cmd/madsci-node/demo.go).
func demoOutcome(temp, minutes float64, solvent string) map[string]float64 {
	f := map[string]float64{"water": 0.7, "ethanol": 1.0, "toluene": 0.85}[solvent]
	y := f * math.Exp(-math.Pow((temp-120)/60, 2)) * (1 - math.Exp(-minutes/15))
	p := 0.98 - 0.002*math.Abs(temp-100) - 0.001*minutes
	return map[string]float64{"yield": math.Round(y*1e6) / 1e6, "purity": math.Round(p*1e6) / 1e6}
}

func req(id string, temp, minutes float64, solvent string) lab.Request {
	return lab.Request{ID: id, Action: "synthesize", Params: map[string]any{"temperature": temp, "time": minutes, "solvent": solvent}}
}

// wait polls Result until the action is final.
func wait(t *testing.T, d lab.Driver, id string) *lab.Result {
	t.Helper()
	end := time.Now().Add(deadline)
	for {
		r, err := d.Result(context.Background(), id)
		if err != nil {
			t.Fatalf("Result(%s): %v", id, err)
		}
		if r.State.Final() {
			return r
		}
		if time.Now().After(end) {
			t.Fatalf("action %s not final after %v: %+v", id, deadline, r)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// started asks the node's /state how many actions it has started.
func started(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url + "/state")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Started int `json:"actions_started"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Started
}

func TestHappyPath(t *testing.T) {
	url, _ := madscitest.StartNode(t, "--settings", `{"duration":"300ms"}`)
	d := open(t, url, t.TempDir(), "")
	ctx := context.Background()

	in, err := d.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	a := in.Action("synthesize")
	if a == nil {
		t.Fatalf("no synthesize action in %+v", in)
	}
	kinds := map[string]lab.ParamKind{}
	for _, p := range a.Params {
		kinds[p.Name] = p.Kind
		if p.Optional {
			t.Errorf("param %s optional, the node says required", p.Name)
		}
	}
	want := map[string]lab.ParamKind{"temperature": lab.Number, "time": lab.Number, "solvent": lab.Choice}
	for n, k := range want {
		if kinds[n] != k {
			t.Errorf("param %s kind %q, want %q", n, kinds[n], k)
		}
	}
	if len(kinds) != len(want) {
		t.Errorf("params %v, want %v", kinds, want)
	}

	st, err := d.Status(ctx)
	if err != nil || st.Status != lab.Idle {
		t.Fatalf("Status = %+v, %v; want idle", st, err)
	}

	cases := []lab.Request{req("run-1", 100, 10, "water"), req("run-2", 150.5, 30, "ethanol"), req("run-3", 20, 1, "toluene")}
	for _, r := range cases {
		res, err := d.Start(ctx, r)
		if err != nil {
			t.Fatalf("Start(%s): %v", r.ID, err)
		}
		if res.ID != r.ID || res.Action != r.Action || res.State.Final() && res.State != lab.Succeeded {
			t.Fatalf("Start(%s) = %+v", r.ID, res)
		}
	}
	for _, r := range cases {
		res := wait(t, d, r.ID)
		if res.State != lab.Succeeded {
			t.Fatalf("%s ended %s: %s", r.ID, res.State, res.Reason)
		}
		exp := demoOutcome(r.Params["temperature"].(float64), r.Params["time"].(float64), r.Params["solvent"].(string))
		// The node's json_result also holds "action" (a string): not a value.
		if len(res.Values) != len(exp) {
			t.Errorf("%s values %v, want %v", r.ID, res.Values, exp)
		}
		for k, v := range exp {
			if got, ok := res.Values[k]; !ok || math.Abs(got-v) > 1e-9 {
				t.Errorf("%s %s = %v, want %v", r.ID, k, got, v)
			}
		}
	}
	if n := started(t, url); n != len(cases) {
		t.Errorf("node started %d actions, want %d", n, len(cases))
	}
	if _, err := d.Result(ctx, "never-started"); !errors.Is(errors.NotExist, err) {
		t.Errorf("Result of an unknown ID: %v, want NotExist", err)
	}
}

func TestRefusedRequests(t *testing.T) {
	url, _ := madscitest.StartNode(t, "--settings", `{"duration":"100ms"}`)
	d := open(t, url, t.TempDir(), "")
	ctx := context.Background()
	bad := []struct {
		name  string
		req   lab.Request
		field string
	}{
		{"bad id", lab.Request{ID: "a/b", Action: "synthesize"}, "id"},
		{"empty id", lab.Request{ID: "", Action: "synthesize"}, "id"},
		{"no such action", lab.Request{ID: "x1", Action: "explode"}, "action"},
		{"missing param", lab.Request{ID: "x2", Action: "synthesize", Params: map[string]any{"temperature": 50.0, "time": 5.0}}, "params.solvent"},
		{"bad choice", req("x3", 50, 5, "mercury"), "params.solvent"},
		{"unknown param", lab.Request{ID: "x4", Action: "synthesize", Params: map[string]any{"temperature": 50.0, "time": 5.0, "solvent": "water", "pressure": 2.0}}, "params.pressure"},
		{"string number", lab.Request{ID: "x5", Action: "synthesize", Params: map[string]any{"temperature": "hot", "time": 5.0, "solvent": "water"}}, "params.temperature"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := d.Start(ctx, c.req)
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field {
				t.Fatalf("Start: %v (field %q), want Invalid on %s", err, errors.FieldOf(err), c.field)
			}
		})
	}
	if n := started(t, url); n != 0 {
		t.Errorf("node started %d actions for refused requests", n)
	}
	// Outside the device's bounds: the node accepts the request and the
	// device fails the action, with its reason.
	if _, err := d.Start(ctx, req("hot", 500, 5, "water")); err != nil {
		t.Fatal(err)
	}
	res := wait(t, d, "hot")
	if res.State != lab.Failed || !strings.Contains(res.Reason, "temperature") {
		t.Fatalf("out-of-bounds run: %+v", res)
	}
}

func TestIdempotentAcrossRestarts(t *testing.T) {
	nodeDir, drvDir := t.TempDir(), t.TempDir()
	url, stop := madscitest.StartNode(t, "--state-dir", nodeDir, "--settings", `{"duration":"200ms"}`)
	d := open(t, url, drvDir, "")
	ctx := context.Background()
	r := req("same-id", 110, 20, "ethanol")
	first, err := d.Start(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	again, err := d.Start(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != first.ID {
		t.Fatalf("second Start reports %s", again.ID)
	}
	done := wait(t, d, r.ID)
	if done.State != lab.Succeeded {
		t.Fatalf("ended %+v", done)
	}
	if n := started(t, url); n != 1 {
		t.Fatalf("node started %d actions for one ID, want 1", n)
	}

	// Restart the node process (same record) and the driver (same journal).
	stop()
	d.Close()
	url2, _ := madscitest.StartNode(t, "--state-dir", nodeDir, "--settings", `{"duration":"200ms"}`)
	d2 := open(t, url2, drvDir, "")
	res, err := d2.Start(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.State != lab.Succeeded || res.Values["yield"] != done.Values["yield"] {
		t.Fatalf("after restart Start = %+v, want the first run's %+v", res, done)
	}
	if n := started(t, url2); n != 1 {
		t.Fatalf("after restart the node started %d actions, want 1", n)
	}
	// A new ID after the restart runs.
	if _, err := d2.Start(ctx, req("other-id", 110, 20, "ethanol")); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, d2, "other-id"); res.State != lab.Succeeded {
		t.Fatalf("new ID: %+v", res)
	}
	if n := started(t, url2); n != 2 {
		t.Fatalf("node started %d actions, want 2", n)
	}
}

func TestAdminCommands(t *testing.T) {
	url, _ := madscitest.StartNode(t, "--settings", `{"duration":"100ms"}`)
	d := open(t, url, t.TempDir(), "")
	ctx := context.Background()

	if err := d.Admin(ctx, lab.SafetyStop); err != nil {
		t.Fatal(err)
	}
	st, err := d.Status(ctx)
	if err != nil || st.Status != lab.EStopped {
		t.Fatalf("after safety_stop Status = %+v, %v", st, err)
	}
	if _, err := d.Start(ctx, req("while-stopped", 80, 5, "water")); !errors.Is(errors.Conflict, err) {
		t.Fatalf("Start while e-stopped: %v, want Conflict", err)
	}
	if err := d.Admin(ctx, lab.Reset); err != nil {
		t.Fatal(err)
	}
	if st, err := d.Status(ctx); err != nil || st.Status != lab.Idle {
		t.Fatalf("after reset Status = %+v, %v", st, err)
	}
	if _, err := d.Start(ctx, req("while-stopped", 80, 5, "water")); err != nil {
		t.Fatalf("Start after reset: %v", err)
	}
	if res := wait(t, d, "while-stopped"); res.State != lab.Succeeded {
		t.Fatalf("after reset: %+v", res)
	}

	for _, c := range []struct {
		on, off lab.AdminCommand
		status  lab.Status
	}{{lab.Lock, lab.Unlock, lab.Paused}, {lab.Pause, lab.Resume, lab.Paused}} {
		if err := d.Admin(ctx, c.on); err != nil {
			t.Fatal(err)
		}
		if st, err := d.Status(ctx); err != nil || st.Status != c.status {
			t.Fatalf("after %s Status = %+v, %v", c.on, st, err)
		}
		if _, err := d.Start(ctx, req("while-"+string(c.on), 80, 5, "water")); !errors.Is(errors.Conflict, err) {
			t.Fatalf("Start after %s: %v, want Conflict", c.on, err)
		}
		if err := d.Admin(ctx, c.off); err != nil {
			t.Fatal(err)
		}
		if st, err := d.Status(ctx); err != nil || st.Status != lab.Idle {
			t.Fatalf("after %s Status = %+v, %v", c.off, st, err)
		}
	}
	if err := d.Admin(ctx, "self_destruct"); !errors.Is(errors.Invalid, err) {
		t.Fatalf("unknown command: %v, want Invalid", err)
	}
	if n := started(t, url); n != 1 {
		t.Errorf("node started %d actions, want 1", n)
	}
}

func TestHangingNode(t *testing.T) {
	url, _ := madscitest.StartNode(t, "--hang")
	ctx := context.Background()

	// The per-request timeout ends a request the node never answers.
	d := open(t, url, t.TempDir(), `{"timeout":"300ms"}`)
	if _, err := d.Status(ctx); !errors.Is(errors.Transient, err) {
		t.Fatalf("Status of a hanging node: %v, want Transient", err)
	} else if !strings.Contains(err.Error(), "did not answer") {
		t.Errorf("message %q does not say the node did not answer", err)
	}
	if _, err := d.Start(ctx, req("h1", 80, 5, "water")); !errors.Is(errors.Transient, err) {
		t.Fatalf("Start on a hanging node: %v, want Transient", err)
	}

	// The caller's context ends it too, long before the driver's timeout.
	slow := open(t, url, t.TempDir(), `{"timeout":"10m"}`)
	cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	errc := make(chan error, 1)
	go func() { _, err := slow.Status(cctx); errc <- err }()
	select {
	case err := <-errc:
		if !errors.Is(errors.Transient, err) {
			t.Fatalf("Status with an ended context: %v, want Transient", err)
		}
	case <-time.After(deadline):
		t.Fatal("Status ignored the caller's context")
	}
}

func TestGarbage(t *testing.T) {
	nodeDir, drvDir := t.TempDir(), t.TempDir()
	// Start an action on a sane node, then serve garbage from the same record.
	url, stop := madscitest.StartNode(t, "--state-dir", nodeDir, "--settings", `{"duration":"1h"}`)
	d := open(t, url, drvDir, "")
	ctx := context.Background()
	if _, err := d.Start(ctx, req("g1", 80, 5, "water")); err != nil {
		t.Fatal(err)
	}
	stop()
	d.Close()
	url2, _ := madscitest.StartNode(t, "--state-dir", nodeDir, "--garbage")
	d2 := open(t, url2, drvDir, "")

	calls := map[string]func() error{
		"Info":   func() error { _, err := d2.Info(ctx); return err },
		"Status": func() error { _, err := d2.Status(ctx); return err },
		"Result": func() error { _, err := d2.Result(ctx, "g1"); return err },
		"Start":  func() error { _, err := d2.Start(ctx, req("g2", 80, 5, "water")); return err },
		"Admin":  func() error { return d2.Admin(ctx, lab.Pause) },
	}
	for name, call := range calls {
		err := call()
		if !errors.Is(errors.Transient, err) {
			t.Errorf("%s on garbage: %v, want Transient", name, err)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "not valid MADSci") {
			t.Errorf("%s: message %q does not say the answer is not MADSci", name, msg)
		}
		if text.Line("message", msg, 2048) != nil {
			t.Errorf("%s: message %q is not sanitised or too long", name, msg)
		}
	}
}

func TestNodeExitsMidAction(t *testing.T) {
	nodeDir, drvDir := t.TempDir(), t.TempDir()
	url, _ := madscitest.StartNode(t, "--state-dir", nodeDir, "--exit-after-start", "--settings", `{"duration":"1h"}`)
	d := open(t, url, drvDir, `{"timeout":"5s"}`)
	ctx := context.Background()
	r := req("vanish", 90, 15, "toluene")
	res, err := d.Start(ctx, r)
	if err != nil && !errors.Is(errors.Transient, err) {
		t.Fatalf("Start: %v, want a running action or Transient", err)
	}
	if err == nil && res.State.Final() {
		t.Fatalf("Start = %+v, want not final", res)
	}
	// The node is gone: Result is Transient (the caller keeps the
	// experiment in flight), never a final state.
	end := time.Now().Add(deadline)
	for {
		res, err := d.Result(ctx, r.ID)
		if errors.Is(errors.Transient, err) {
			break
		}
		if err != nil || res.State.Final() {
			t.Fatalf("Result while the node is gone: %+v, %v", res, err)
		}
		if time.Now().After(end) {
			t.Fatal("the node did not exit")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Restart the node: the action is still known, reported failed (its
	// outcome was lost with the process), and not run again.
	url2, _ := madscitest.StartNode(t, "--state-dir", nodeDir, "--settings", `{"duration":"100ms"}`)
	d.Close()
	d2 := open(t, url2, drvDir, "")
	got := wait(t, d2, r.ID)
	if got.State != lab.Failed || !strings.Contains(got.Reason, "restarted") {
		t.Fatalf("after restart: %+v", got)
	}
	again, err := d2.Start(ctx, r)
	if err != nil || again.State != lab.Failed {
		t.Fatalf("Start again after restart: %+v, %v", again, err)
	}
	if n := started(t, url2); n != 1 {
		t.Fatalf("node started %d actions, want 1", n)
	}
}

func TestActionOutputs(t *testing.T) {
	url, _ := madscitest.StartNode(t, "--settings", `{"duration":"100ms"}`)
	ctx := context.Background()
	d := open(t, url, t.TempDir(), `{"action_outputs":{"y":"yield","p":"purity"}}`)
	in, err := d.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if a := in.Action("synthesize"); a == nil || len(a.Outputs) != 2 || a.Outputs[0].Name != "p" || a.Outputs[1].Name != "y" {
		t.Fatalf("outputs %+v", a)
	}
	if _, err := d.Start(ctx, req("o1", 120, 15, "ethanol")); err != nil {
		t.Fatal(err)
	}
	res := wait(t, d, "o1")
	exp := demoOutcome(120, 15, "ethanol")
	if res.State != lab.Succeeded || len(res.Values) != 2 || res.Values["y"] != exp["yield"] || res.Values["p"] != exp["purity"] {
		t.Fatalf("result %+v, want y=%v p=%v", res, exp["yield"], exp["purity"])
	}

	missing := open(t, url, t.TempDir(), `{"action_outputs":{"z":"spectrum.peak"}}`)
	if _, err := missing.Start(ctx, req("o2", 120, 15, "ethanol")); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, missing, "o2"); res.State != lab.Failed || !strings.Contains(res.Reason, "spectrum.peak") {
		t.Fatalf("missing output: %+v", res)
	}
}

func TestOpen(t *testing.T) {
	cases := []struct {
		name, endpoint, settings, field string
	}{
		{"no scheme", "node.lab:2000", "", "endpoint"},
		{"ftp", "ftp://node.lab", "", "endpoint"},
		{"credentials", "http://u:p@node.lab", "", "endpoint"},
		{"unknown setting", "http://node.lab", `{"timout":"1s"}`, "settings"},
		{"bad timeout", "http://node.lab", `{"timeout":"soon"}`, "settings.timeout"},
		{"zero timeout", "http://node.lab", `{"timeout":"0s"}`, "settings.timeout"},
		{"bad output name", "http://node.lab", `{"action_outputs":{"a b":"x"}}`, "settings.action_outputs"},
		{"empty path segment", "http://node.lab", `{"action_outputs":{"a":"x..y"}}`, "settings.action_outputs.a"},
		{"token with newline", "http://node.lab", `{"token":"a\nb"}`, "settings.token"},
		{"not an object", "http://node.lab", `[1]`, "settings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := lab.Open(lab.Config{Kind: madsci.Kind, Endpoint: c.endpoint, Settings: json.RawMessage(c.settings)})
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field {
				t.Fatalf("Open: %v (field %q), want Invalid on %s", err, errors.FieldOf(err), c.field)
			}
		})
	}
	d, err := lab.Open(lab.Config{Kind: madsci.Kind, Endpoint: "https://node.lab:2000/", Settings: json.RawMessage(`{"timeout":"3s","token":"t","action_outputs":{"y":"a.b"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
}

func TestToken(t *testing.T) {
	url, _ := madscitest.StartNode(t, "--token", "s3cret", "--settings", `{"duration":"100ms"}`)
	ctx := context.Background()
	for _, settings := range []string{"", `{"token":"wrong"}`} {
		d := open(t, url, t.TempDir(), settings)
		if _, err := d.Info(ctx); !errors.Is(errors.Transient, err) || !strings.Contains(err.Error(), "credentials") {
			t.Fatalf("settings %s: Info = %v, want Transient about credentials", settings, err)
		}
	}
	d := open(t, url, t.TempDir(), `{"token":"s3cret"}`)
	if _, err := d.Start(ctx, req("tok", 100, 10, "water")); err != nil {
		t.Fatal(err)
	}
	if res := wait(t, d, "tok"); res.State != lab.Succeeded {
		t.Fatalf("%+v", res)
	}
}

// BenchmarkStartResult: one action through a madsci-node process (create,
// start, result), a device that takes no time.
func BenchmarkStartResult(b *testing.B) {
	url, _ := madscitest.StartNode(b, "--settings", `{"duration":"0s"}`)
	d, err := lab.Open(lab.Config{Kind: "madsci", Endpoint: url, StateDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := "bench-" + strconv.Itoa(i)
		if _, err := d.Start(ctx, req(id, 100, 10, "water")); err != nil {
			b.Fatal(err)
		}
		for {
			r, err := d.Result(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if r.State.Final() {
				break
			}
		}
	}
}
