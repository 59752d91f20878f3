package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/lab"
)

// These tests read the node's answers as a MADSci client would: plain JSON
// checked against the pydantic models of madsci.common.types (AD-SDL/MADSci
// 6826aeb), written out here, not through the Genesis driver's types.

var (
	ulid      = regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)
	semver    = regexp.MustCompile(`^\d+\.\d+\.\d+`)
	isoTime   = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?`)
	statuses  = []string{"not_started", "not_ready", "running", "succeeded", "failed", "cancelled", "paused", "unknown"}
	nodeTypes = []string{"device", "compute", "resource_manager", "event_manager", "workcell_manager", "data_manager", "transfer_manager"}
	adminCmds = []string{"safety_stop", "reset", "pause", "resume", "cancel", "shutdown", "lock", "unlock", "get_location"}
)

type obj = map[string]any

func startNode(t *testing.T, dir string) *httptest.Server {
	t.Helper()
	drv, err := lab.Open(lab.Config{Kind: "demo", Settings: json.RawMessage(`{"duration":"50ms"}`)})
	if err != nil {
		t.Fatal(err)
	}
	n, err := newNode("test_node", drv, dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(n.routes())
	t.Cleanup(func() { srv.Close(); n.close(); drv.Close() })
	return srv
}

func do(t *testing.T, method, url string, body any) (int, any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("%s %s: content type %q", method, url, ct)
	}
	var v any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp.StatusCode, v
}

// field checks that o[k] exists and has the JSON type want ("string",
// "bool", "number", "object", "array", "null", or "string|null"…).
func field(t *testing.T, where string, o obj, k, want string) any {
	t.Helper()
	v, ok := o[k]
	if !ok {
		t.Fatalf("%s: no field %q", where, k)
	}
	got := "null"
	switch v.(type) {
	case string:
		got = "string"
	case bool:
		got = "bool"
	case float64:
		got = "number"
	case map[string]any:
		got = "object"
	case []any:
		got = "array"
	}
	for _, w := range strings.Split(want, "|") {
		if w == got {
			return v
		}
	}
	t.Fatalf("%s: field %q is %s, want %s", where, k, got, want)
	return nil
}

func oneOf(t *testing.T, where, v string, set []string) {
	t.Helper()
	for _, s := range set {
		if s == v {
			return
		}
	}
	t.Fatalf("%s: %q is not one of %v", where, v, set)
}

// checkError is base_types.Error.
func checkErrors(t *testing.T, where string, v any) {
	t.Helper()
	for _, e := range v.([]any) {
		eo, ok := e.(obj)
		if !ok {
			t.Fatalf("%s: error %v is not an object", where, e)
		}
		field(t, where+".errors[]", eo, "message", "string|null")
		if lt := field(t, where+".errors[]", eo, "logged_at", "string").(string); !isoTime.MatchString(lt) {
			t.Fatalf("%s: logged_at %q", where, lt)
		}
		field(t, where+".errors[]", eo, "error_type", "string|null")
	}
}

// checkResult is RestActionResult.
func checkResult(t *testing.T, where string, v any) obj {
	t.Helper()
	o, ok := v.(obj)
	if !ok {
		t.Fatalf("%s: %v is not an object", where, v)
	}
	field(t, where, o, "action_id", "string")
	oneOf(t, where+".status", field(t, where, o, "status", "string").(string), statuses)
	checkErrors(t, where, field(t, where, o, "errors", "array"))
	field(t, where, o, "json_result", "object|null|number|string|array|bool")
	field(t, where, o, "files", "array|null")
	field(t, where, o, "datapoints", "object|null")
	if s := field(t, where, o, "history_created_at", "string").(string); !isoTime.MatchString(s) {
		t.Fatalf("%s: history_created_at %q", where, s)
	}
	return o
}

func TestInfoIsNodeInfo(t *testing.T) {
	srv := startNode(t, t.TempDir())
	code, v := do(t, "GET", srv.URL+"/info", nil)
	if code != 200 {
		t.Fatalf("GET /info: %d", code)
	}
	o := v.(obj)
	field(t, "info", o, "node_name", "string")
	if id := field(t, "info", o, "node_id", "string").(string); !ulid.MatchString(id) {
		t.Fatalf("node_id %q is not a ULID", id)
	}
	field(t, "info", o, "node_description", "string|null")
	oneOf(t, "node_type", field(t, "info", o, "node_type", "string").(string), nodeTypes)
	field(t, "info", o, "module_name", "string")
	if v := field(t, "info", o, "module_version", "string").(string); !semver.MatchString(v) {
		t.Fatalf("module_version %q", v)
	}
	caps := field(t, "info", o, "capabilities", "object|null")
	if c, ok := caps.(obj); ok {
		for _, a := range field(t, "capabilities", c, "admin_commands", "array").([]any) {
			oneOf(t, "admin_commands", a.(string), adminCmds)
		}
	}
	field(t, "info", o, "node_url", "string|null")
	actions := field(t, "info", o, "actions", "object").(obj)
	if len(actions) == 0 {
		t.Fatal("no actions")
	}
	for name, av := range actions {
		a := av.(obj)
		where := "actions." + name
		if field(t, where, a, "name", "string") != name {
			t.Fatalf("%s: name differs from its key", where)
		}
		field(t, where, a, "description", "string")
		for _, k := range []string{"args", "locations", "files"} {
			for an, argv := range field(t, where, a, k, "object").(obj) {
				arg := argv.(obj)
				if field(t, where+"."+k, arg, "name", "string") != an {
					t.Fatalf("%s.%s.%s: name differs from its key", where, k, an)
				}
				field(t, where+"."+k, arg, "description", "string")
				field(t, where+"."+k, arg, "argument_type", "string")
				field(t, where+"."+k, arg, "required", "bool")
			}
		}
		for rn, rv := range field(t, where, a, "results", "object").(obj) {
			r := rv.(obj)
			if field(t, where+".results", r, "result_label", "string") != rn {
				t.Fatalf("%s.results.%s: label differs from its key", where, rn)
			}
			oneOf(t, "result_type", field(t, where+".results", r, "result_type", "string").(string), []string{"file", "datapoint", "json"})
		}
		for _, k := range []string{"blocking", "asynchronous", "accepts_var_args", "accepts_var_kwargs"} {
			field(t, where, a, k, "bool")
		}
	}
	args := actions["synthesize"].(obj)["args"].(obj)
	types := map[string]string{}
	for n, a := range args {
		types[n] = a.(obj)["argument_type"].(string)
	}
	want := map[string]string{"temperature": "float", "time": "float", "solvent": "Literal[water, ethanol, toluene]"}
	for k, v := range want {
		if types[k] != v {
			t.Errorf("argument %s type %q, want %q", k, types[k], v)
		}
	}
}

func checkStatus(t *testing.T, url string) obj {
	t.Helper()
	code, v := do(t, "GET", url+"/status", nil)
	if code != 200 {
		t.Fatalf("GET /status: %d", code)
	}
	o := v.(obj)
	for _, k := range []string{"busy", "paused", "locked", "stopped", "errored", "disconnected", "initializing", "ready"} {
		field(t, "status", o, k, "bool")
	}
	field(t, "status", o, "running_actions", "array")
	field(t, "status", o, "waiting_for_config", "array")
	field(t, "status", o, "config_values", "object")
	field(t, "status", o, "description", "string")
	checkErrors(t, "status", field(t, "status", o, "errors", "array"))
	return o
}

// sendAction does what RestNodeClient.send_action does: create, start,
// then poll the per-action status until terminal, then read the result.
func sendAction(t *testing.T, url string, args obj) (string, obj) {
	t.Helper()
	code, v := do(t, "POST", url+"/action/synthesize", obj{"args": args})
	if code != 200 {
		t.Fatalf("create: %d %v", code, v)
	}
	id := field(t, "create", v.(obj), "action_id", "string").(string)
	if !ulid.MatchString(id) {
		t.Fatalf("action_id %q is not a ULID", id)
	}
	code, v = do(t, "POST", url+"/action/synthesize/"+id+"/start", nil)
	if code != 200 {
		t.Fatalf("start: %d", code)
	}
	checkResult(t, "start", v)
	end := time.Now().Add(2 * time.Minute)
	for {
		_, sv := do(t, "GET", url+"/action/synthesize/"+id+"/status", nil)
		s, ok := sv.(string)
		if !ok {
			t.Fatalf("action status %v is not a string", sv)
		}
		oneOf(t, "action status", s, statuses)
		if s == "succeeded" || s == "failed" || s == "cancelled" || s == "not_ready" {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("action %s still %s", id, s)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, rv := do(t, "GET", url+"/action/synthesize/"+id+"/result", nil)
	return id, checkResult(t, "result", rv)
}

func TestClientFlow(t *testing.T) {
	dir := t.TempDir()
	srv := startNode(t, dir)
	if st := checkStatus(t, srv.URL); st["ready"] != true {
		t.Fatalf("status %v", st)
	}
	id, res := sendAction(t, srv.URL, obj{"temperature": 120, "time": 15, "solvent": "ethanol"})
	if res["status"] != "succeeded" || res["action_id"] != id {
		t.Fatalf("result %v", res)
	}
	jr := res["json_result"].(obj)
	y, p := demoOutcome(120, 15, "ethanol")
	if jr["yield"] != y || jr["purity"] != p {
		t.Fatalf("json_result %v, want yield %v purity %v", jr, y, p)
	}
	// The global routes say the same.
	_, gs := do(t, "GET", srv.URL+"/action/"+id+"/status", nil)
	_, gr := do(t, "GET", srv.URL+"/action/"+id+"/result", nil)
	if gs != "succeeded" || gr.(obj)["status"] != "succeeded" {
		t.Fatalf("global routes: %v %v", gs, gr)
	}
	_, hist := do(t, "GET", srv.URL+"/action?action_id="+id, nil)
	if h := hist.(obj)[id].([]any); len(h) != 1 {
		t.Fatalf("history %v", hist)
	} else {
		checkResult(t, "history", h[0])
	}
	// Unknown IDs: unknown with ActionHistoryNotFound; start says NotFound.
	_, u := do(t, "GET", srv.URL+"/action/01ARZ3NDEKTSV4RRFFQ69G5FAV/result", nil)
	uo := checkResult(t, "unknown", u)
	if uo["status"] != "unknown" || uo["errors"].([]any)[0].(obj)["error_type"] != "ActionHistoryNotFound" {
		t.Fatalf("unknown result %v", uo)
	}
	_, us := do(t, "POST", srv.URL+"/action/synthesize/01ARZ3NDEKTSV4RRFFQ69G5FAV/start", nil)
	if checkResult(t, "unknown start", us)["status"] != "failed" {
		t.Fatalf("start of an unknown id: %v", us)
	}
	// Starting it again runs nothing and answers its result.
	_, again := do(t, "POST", srv.URL+"/action/synthesize/"+id+"/start", nil)
	if checkResult(t, "restart", again)["status"] != "succeeded" {
		t.Fatalf("second start %v", again)
	}
	_, st := do(t, "GET", srv.URL+"/state", nil)
	if st.(obj)["actions_started"] != 1.0 {
		t.Fatalf("state %v", st)
	}
	code, _ := do(t, "GET", srv.URL+"/action/"+id+"/download", nil)
	if code != http.StatusNotFound {
		t.Fatalf("download of a run without files: %d", code)
	}
}

func TestCreateRefusals(t *testing.T) {
	srv := startNode(t, t.TempDir())
	cases := []struct {
		path string
		body any
		code int
	}{
		{"/action/explode", obj{"args": obj{}}, 404},
		{"/action/synthesize", obj{"args": obj{"temperature": 50, "time": 5}}, 422},
		{"/action/synthesize", obj{"args": obj{"temperature": "hot", "time": 5, "solvent": "water"}}, 422},
		{"/action/synthesize", obj{"args": obj{"temperature": 50, "time": 5, "solvent": "mercury"}}, 422},
		{"/action/synthesize", obj{"args": obj{"temperature": 50, "time": 5, "solvent": "water", "x": 1}}, 422},
		{"/action/synthesize", obj{"args": obj{"temperature": 50, "time": 5, "solvent": "water"}, "var_args": []any{1}}, 422},
		{"/action/synthesize", []any{1}, 422},
	}
	for _, c := range cases {
		code, v := do(t, "POST", srv.URL+c.path, c.body)
		if code != c.code {
			t.Errorf("POST %s %v: %d %v, want %d", c.path, c.body, code, v, c.code)
			continue
		}
		if _, ok := v.(obj)["detail"]; !ok {
			t.Errorf("POST %s: no FastAPI detail in %v", c.path, v)
		}
	}
	_, st := do(t, "GET", srv.URL+"/state", nil)
	if st.(obj)["actions_created"] != 0.0 {
		t.Fatalf("refused creates created actions: %v", st)
	}
}

func TestAdminAndDurability(t *testing.T) {
	dir := t.TempDir()
	srv := startNode(t, dir)
	admin := func(url, cmd string) obj {
		code, v := do(t, "POST", url+"/admin/"+cmd, nil)
		if code != 200 {
			t.Fatalf("admin %s: %d", cmd, code)
		}
		o := v.(obj)
		field(t, "admin", o, "success", "bool")
		checkErrors(t, "admin", field(t, "admin", o, "errors", "array"))
		return o
	}
	if admin(srv.URL, "safety_stop")["success"] != true {
		t.Fatal("safety_stop failed")
	}
	if st := checkStatus(t, srv.URL); st["stopped"] != true || st["ready"] != false {
		t.Fatalf("status after safety_stop %v", st)
	}
	_, res := sendAction(t, srv.URL, obj{"temperature": 50, "time": 5, "solvent": "water"})
	if res["status"] != "not_ready" {
		t.Fatalf("action while stopped: %v", res)
	}
	if r := admin(srv.URL, "get_location"); r["success"] != false || r["errors"].([]any)[0].(obj)["error_type"] != "AdminCommandNotImplemented" {
		t.Fatalf("get_location %v", r)
	}
	if code, _ := do(t, "POST", srv.URL+"/admin/explode", nil); code != 422 {
		t.Fatalf("unknown admin command: %d", code)
	}

	// The e-stop and the record survive a restart of the node.
	id, _ := sendAction(t, srv.URL, obj{"temperature": 50, "time": 5, "solvent": "water"})
	srv.Close()
	srv2 := startNode(t, dir)
	if st := checkStatus(t, srv2.URL); st["stopped"] != true {
		t.Fatalf("e-stop lost in a restart: %v", st)
	}
	admin(srv2.URL, "reset")
	if st := checkStatus(t, srv2.URL); st["ready"] != true {
		t.Fatalf("after reset %v", st)
	}
	_, r := do(t, "GET", srv2.URL+"/action/"+id+"/result", nil)
	if checkResult(t, "after restart", r)["status"] != "not_ready" {
		t.Fatalf("record lost in a restart: %v", r)
	}
	// A started action the demo forgot in the restart is failed, not re-run.
	id2, _ := sendAction(t, srv2.URL, obj{"temperature": 60, "time": 5, "solvent": "water"})
	_, st := do(t, "GET", srv2.URL+"/state", nil)
	started := st.(obj)["actions_started"]
	srv2.Close()
	srv3 := startNode(t, dir)
	_, again := do(t, "POST", srv3.URL+"/action/synthesize/"+id2+"/start", nil)
	if checkResult(t, "restart", again)["status"] != "succeeded" {
		t.Fatalf("finished action after restart %v", again)
	}
	_, st3 := do(t, "GET", srv3.URL+"/state", nil)
	if st3.(obj)["actions_started"] != started {
		t.Fatalf("restart re-ran an action: %v then %v", started, st3.(obj)["actions_started"])
	}
}

// TestULID: node IDs are ULIDs, distinct, ordered by time.
func TestULID(t *testing.T) {
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 2000; i++ {
		u := newULID()
		if !ulid.MatchString(u) || seen[u] {
			t.Fatalf("%q malformed or repeated", u)
		}
		seen[u] = true
		if u[:10] < prev {
			t.Fatalf("time prefix went back: %s after %s", u[:10], prev)
		}
		prev = u[:10]
	}
}

// TestDemoSurface: the demo's outcome is bounded and smooth over its
// whole box.
func TestDemoSurface(t *testing.T) {
	for _, s := range []string{"water", "ethanol", "toluene"} {
		for temp := 20.0; temp <= 200; temp += 2.5 {
			for m := 1.0; m <= 60; m += 1.5 {
				y, p := demoOutcome(temp, m, s)
				y2, _ := demoOutcome(temp+0.01, m, s)
				if !(y >= 0 && y <= 1 && p > 0 && p <= 1) || math.Abs(y2-y) > 1e-3 {
					t.Fatalf("%s T=%v t=%v: yield %v purity %v (next %v)", s, temp, m, y, p, y2)
				}
			}
		}
	}
}
