package madsci

import (
	"math"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/text"
)

// Real-shaped bodies, written from madsci.common.types at AD-SDL/MADSci
// 6826aeb (NodeInfo as RestNode serves it; args as the dict the
// validator produces, or the list it accepts).
const infoBody = `{
 "node_name": "liquidhandler_1", "node_id": "01JQ3ZQ8W6X9D7QKZ4Y1V3M2RT",
 "node_description": "An OT-2", "node_type": "device",
 "module_name": "ot2_module", "module_version": "1.2.0",
 "capabilities": {"get_info": true, "admin_commands": ["lock", "reset", "safety_stop", "unlock"]},
 "node_url": "http://ot2:2000/",
 "actions": {
  "run_protocol": {"name": "run_protocol", "description": "Run a protocol",
   "args": {"volume": {"name": "volume", "description": "uL", "argument_type": "float", "required": true, "default": null},
            "repeats": {"name": "repeats", "description": "", "argument_type": "int", "required": false, "default": 1},
            "mode": {"name": "mode", "description": "", "argument_type": "Literal[fast, careful]", "required": true, "default": null},
            "note": {"name": "note", "description": "", "argument_type": "str", "required": false, "default": ""},
            "gain": {"name": "gain", "description": "", "argument_type": "Optional[float]", "required": false, "default": null}},
   "locations": {"source": {"name": "source", "description": "", "argument_type": "location", "required": false, "default": null}},
   "files": {}, "results": {}, "blocking": false, "asynchronous": true,
   "accepts_var_args": false, "accepts_var_kwargs": false, "var_args_schema": null, "var_kwargs_schema": null},
  "transfer": {"name": "transfer", "description": null,
   "args": [{"name": "speed", "description": "", "argument_type": "float", "required": true}],
   "locations": [{"name": "target", "description": "", "argument_type": "location", "required": true}]},
  "load_protocol": {"name": "load_protocol", "description": "",
   "args": {}, "files": {"protocol": {"name": "protocol", "description": "", "argument_type": "file", "required": true}}},
  "home": {"name": "home", "description": "Home the axes", "args": []},
  "set_flag": {"name": "set_flag", "args": {"on": {"name": "on", "description": "", "argument_type": "bool", "required": true}}}
 },
 "config": {"node_url": "http://ot2:2000/"}, "config_schema": {}
}`

const statusBody = `{"busy": false, "running_actions": ["01JQ40A0000000000000000000"], "paused": false,
 "locked": false, "stopped": false, "errored": false, "disconnected": false, "errors": [],
 "initializing": false, "waiting_for_config": [], "config_values": {}, "ready": true, "description": "Node is ready"}`

const resultBody = `{"action_id": "01JQ40A0000000000000000000", "status": "succeeded", "errors": [],
 "json_result": {"absorbance": 0.42, "plate": {"wells": 96, "barcode": "P-1"}, "ok": true, "trace": [1, 2]},
 "files": null, "datapoints": null, "history_created_at": "2026-04-09T14:47:11.123456"}`

func TestDecodeInfo(t *testing.T) {
	in, err := DecodeInfo([]byte(infoBody))
	if err != nil {
		t.Fatal(err)
	}
	if in.Model != "ot2_module 1.2.0" {
		t.Errorf("model %q", in.Model)
	}
	var names []string
	for _, a := range in.Actions {
		names = append(names, a.Name)
	}
	if strings.Join(names, ",") != "home,run_protocol" {
		t.Fatalf("available actions %v", names)
	}
	for _, n := range []string{"transfer", "load_protocol", "set_flag"} {
		if in.Unavailable[n] == "" {
			t.Errorf("%s should be unavailable: %v", n, in.Unavailable)
		}
	}
	rp := in.Action("run_protocol")
	got := map[string]lab.Param{}
	for _, p := range rp.Params {
		got[p.Name] = p
	}
	if len(got) != 4 {
		t.Fatalf("params %+v (note, a str, is optional and left out)", rp.Params)
	}
	if p := got["volume"]; p.Kind != lab.Number || p.Optional {
		t.Errorf("volume %+v", p)
	}
	if p := got["repeats"]; p.Kind != lab.Integer || !p.Optional {
		t.Errorf("repeats %+v", p)
	}
	if p := got["gain"]; p.Kind != lab.Number || !p.Optional {
		t.Errorf("gain %+v", p)
	}
	if p := got["mode"]; p.Kind != lab.Choice || strings.Join(p.Choices, ",") != "fast,careful" {
		t.Errorf("mode %+v", p)
	}
}

// TestArgTypes checks the argument type mapping against a table of what
// pretty_type_repr prints.
func TestArgTypes(t *testing.T) {
	cases := []struct {
		typ     string
		kind    lab.ParamKind
		choices string
	}{
		{"float", lab.Number, ""},
		{"int", lab.Integer, ""},
		{"Optional[int]", lab.Integer, ""},
		{"Union[float, NoneType]", lab.Number, ""},
		{"Literal[a, b, c]", lab.Choice, "a,b,c"},
		{"Literal['x', 'y']", lab.Choice, "x,y"},
		{"Optional[Literal[low, high]]", lab.Choice, "low,high"},
		{"str", "", ""},
		{"bool", "", ""},
		{"dict[str, Any]", "", ""},
		{"Literal[1, 1]", "", ""},
		{"Literal[]", "", ""},
		{"list[float]", "", ""},
		{"Color", "", ""},
	}
	for _, c := range cases {
		p, ok := mapArg(wireArg{Name: "x", ArgumentType: c.typ, Required: true})
		if (c.kind != "") != ok || ok && (p.Kind != c.kind || strings.Join(p.Choices, ",") != c.choices) {
			t.Errorf("%q → %+v, %v; want %q %q", c.typ, p, ok, c.kind, c.choices)
		}
	}
}

func TestDecodeStatus(t *testing.T) {
	cases := []struct {
		body string
		want lab.Status
	}{
		{statusBody, lab.Busy}, // an action is running
		{`{}`, lab.Idle},
		{`{"busy": true}`, lab.Busy},
		{`{"paused": true, "busy": true}`, lab.Paused},
		{`{"locked": true}`, lab.Paused},
		{`{"stopped": true, "errored": true, "paused": true}`, lab.EStopped},
		{`{"errored": true, "errors": [{"message": "gripper jam", "error_type": "DeviceError"}]}`, lab.Error},
		{`{"disconnected": true}`, lab.Offline},
		{`{"initializing": true}`, lab.Offline},
		{`{"waiting_for_config": ["port"]}`, lab.Offline},
	}
	for _, c := range cases {
		st, err := DecodeStatus([]byte(c.body))
		if err != nil || st.Status != c.want {
			t.Errorf("%s → %+v, %v; want %s", c.body, st, err, c.want)
		}
	}
	st, _ := DecodeStatus([]byte(`{"errored": true, "errors": [{"message": "gripper jam"}]}`))
	if !strings.Contains(st.Reason, "gripper jam") {
		t.Errorf("reason %q lacks the node's error", st.Reason)
	}
	for _, bad := range []string{`{"busy": "yes"}`, `[]`, `{"stopped": 1}`, `{"running_actions": "a"}`, `{} {}`, ``} {
		if _, err := DecodeStatus([]byte(bad)); !errors.Is(errors.Transient, err) {
			t.Errorf("%q: %v, want Transient", bad, err)
		}
	}
}

func TestDecodeResult(t *testing.T) {
	r, err := DecodeResult([]byte(resultBody))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"absorbance": 0.42, "plate.wells": 96}
	if r.State != lab.Succeeded || len(r.Values) != len(want) {
		t.Fatalf("%+v", r)
	}
	for k, v := range want {
		if r.Values[k] != v {
			t.Errorf("%s = %v, want %v", k, r.Values[k], v)
		}
	}
	states := map[string]lab.RunState{
		"not_started": lab.Pending, "queued": lab.Pending, "running": lab.Running, "paused": lab.Running,
		"succeeded": lab.Succeeded, "failed": lab.Failed, "cancelled": lab.Cancelled, "not_ready": lab.Failed,
	}
	for s, want := range states {
		r, err := DecodeResult([]byte(`{"action_id": "A1", "status": "` + s + `", "errors": "boom"}`))
		if err != nil || r.State != want {
			t.Errorf("%s → %+v, %v; want %s", s, r, err, want)
		}
		if want.Final() && want != lab.Succeeded && r.Reason != "boom" {
			t.Errorf("%s reason %q", s, r.Reason)
		}
	}
	nf, err := DecodeResult([]byte(`{"action_id": "X", "status": "unknown", "errors": [{"message": "Action history for action with id 'X' not found", "error_type": "ActionHistoryNotFound"}]}`))
	if err != nil || !nf.NotFound {
		t.Errorf("unknown history: %+v, %v", nf, err)
	}
	if _, err := DecodeResult([]byte(`{"status": "unknown"}`)); !errors.Is(errors.Transient, err) {
		t.Errorf("bare unknown: %v", err)
	}
	legacy, err := DecodeResult([]byte(`{"action_id": "A", "status": "succeeded", "data": {"x": 1.5}}`))
	if err != nil || legacy.Values["x"] != 1.5 {
		t.Errorf("legacy data: %+v, %v", legacy, err)
	}
	for _, bad := range []string{`{"status": "exploded"}`, `{"status": 3}`, `{"action_id": 5, "status": "running"}`,
		`{"action_id": "a/b", "status": "running"}`, `<html>502</html>`, `{"status": "succeeded", "errors": [5]}`} {
		if _, err := DecodeResult([]byte(bad)); !errors.Is(errors.Transient, err) {
			t.Errorf("%q: %v, want Transient", bad, err)
		}
	}
}

func checkText(t *testing.T, what, s string, max int) {
	t.Helper()
	if len(s) > max {
		t.Fatalf("%s is %d bytes, more than %d", what, len(s), max)
	}
	if err := text.Line(what, s, max); err != nil {
		t.Fatalf("%s %q not sanitised: %v", what, s, err)
	}
}

func FuzzDecodeInfo(f *testing.F) {
	f.Add([]byte(infoBody))
	f.Add([]byte(`{"module_name": "m\u001b[31m", "actions": {"a": {"args": [{"name": "b", "argument_type": "Literal[\u202e, x]", "required": true}]}}}`))
	f.Add([]byte(`{"actions": {"../x": {}, "ok": {"description": "\u0000"}}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		in, err := DecodeInfo(b)
		if err != nil {
			if !errors.Is(errors.Transient, err) {
				t.Fatalf("error of kind %v: %v", errors.KindOf(err), err)
			}
			checkText(t, "error", err.Error(), 1024)
			return
		}
		checkText(t, "model", in.Model, 256)
		for _, a := range in.Actions {
			if ValidName(a.Name) != nil {
				t.Fatalf("action name %q", a.Name)
			}
			checkText(t, "description", a.Description, text.MaxLine+4)
			for _, p := range a.Params {
				if ValidName(p.Name) != nil {
					t.Fatalf("param name %q", p.Name)
				}
				checkText(t, "param description", p.Description, text.MaxLine+4)
				switch p.Kind {
				case lab.Number, lab.Integer:
				case lab.Choice:
					if len(p.Choices) == 0 {
						t.Fatal("choice without choices")
					}
					for _, c := range p.Choices {
						checkText(t, "choice", c, 128)
					}
				default:
					t.Fatalf("param kind %q", p.Kind)
				}
			}
		}
		for n, why := range in.Unavailable {
			checkText(t, "unavailable name", n, 256)
			checkText(t, "unavailable reason", why, 512)
		}
	})
}

func FuzzDecodeStatus(f *testing.F) {
	f.Add([]byte(statusBody))
	f.Add([]byte(`{"errored": true, "errors": ["\u001b]0;pwned\u0007", {"message": null}]}`))
	f.Add([]byte(`{"stopped": true, "running_actions": ["a", "b/c"]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := DecodeStatus(b)
		if err != nil {
			if !errors.Is(errors.Transient, err) {
				t.Fatalf("error of kind %v: %v", errors.KindOf(err), err)
			}
			checkText(t, "error", err.Error(), 1024)
			return
		}
		switch st.Status {
		case lab.Idle, lab.Busy, lab.Error, lab.Offline, lab.EStopped, lab.Paused:
		default:
			t.Fatalf("status %q", st.Status)
		}
		checkText(t, "reason", st.Reason, maxReason+4)
		for _, id := range st.Running {
			if ValidName(id) != nil {
				t.Fatalf("running id %q", id)
			}
		}
	})
}

func FuzzDecodeResult(f *testing.F) {
	f.Add([]byte(resultBody))
	f.Add([]byte(`{"action_id": "A", "status": "failed", "errors": [{"message": "\u001b[2Jbad", "error_type": "ValueError"}]}`))
	f.Add([]byte(`{"status": "succeeded", "json_result": 1e999}`))
	f.Add([]byte(`{"status": "succeeded", "json_result": {"a": {"b": {"c": -0.5}}, "n": null}}`))
	f.Add([]byte(`{"status": "unknown", "errors": {"message": "x", "error_type": "ActionHistoryNotFound"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeResult(b)
		if err != nil {
			if !errors.Is(errors.Transient, err) {
				t.Fatalf("error of kind %v: %v", errors.KindOf(err), err)
			}
			checkText(t, "error", err.Error(), 1024)
			return
		}
		if !r.NotFound {
			switch r.State {
			case lab.Pending, lab.Running, lab.Succeeded, lab.Failed, lab.Cancelled:
			default:
				t.Fatalf("run state %q", r.State)
			}
		}
		checkText(t, "reason", r.Reason, maxReason+4)
		if len(r.Values) > maxValues {
			t.Fatalf("%d values", len(r.Values))
		}
		for k, v := range r.Values {
			if ValidName(k) != nil || math.IsInf(v, 0) || math.IsNaN(v) {
				t.Fatalf("value %q = %v", k, v)
			}
		}
	})
}

func BenchmarkDecodeResult(b *testing.B) {
	body := []byte(resultBody)
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if _, err := DecodeResult(body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeInfo(b *testing.B) {
	body := []byte(infoBody)
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if _, err := DecodeInfo(body); err != nil {
			b.Fatal(err)
		}
	}
}
