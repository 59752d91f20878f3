package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	gerrors "github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
)

// The wire shapes below are written from madsci.common.types (AD-SDL/MADSci
// 6826aeb): NodeInfo, ActionDefinition, ArgumentDefinition, NodeStatus,
// RestActionResult, AdminCommandResponse, Error.

type mError struct {
	Message   string `json:"message"`
	LoggedAt  string `json:"logged_at"`
	ErrorType string `json:"error_type"`
}

func newError(msg, typ string) mError {
	return mError{Message: msg, LoggedAt: time.Now().Format("2006-01-02T15:04:05.000000"), ErrorType: typ}
}

type mArg struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	ArgumentType string `json:"argument_type"`
	Required     bool   `json:"required"`
	Default      any    `json:"default"`
}

type mResultDef struct {
	ResultLabel string  `json:"result_label"`
	Description *string `json:"description"`
	ResultType  string  `json:"result_type"`
	JSONSchema  any     `json:"json_schema"`
}

type mAction struct {
	Name             string                `json:"name"`
	Description      string                `json:"description"`
	Args             map[string]mArg       `json:"args"`
	Locations        map[string]mArg       `json:"locations"`
	Files            map[string]mArg       `json:"files"`
	Results          map[string]mResultDef `json:"results"`
	Blocking         bool                  `json:"blocking"`
	Asynchronous     bool                  `json:"asynchronous"`
	AcceptsVarArgs   bool                  `json:"accepts_var_args"`
	AcceptsVarKwargs bool                  `json:"accepts_var_kwargs"`
	VarArgsSchema    any                   `json:"var_args_schema"`
	VarKwargsSchema  any                   `json:"var_kwargs_schema"`
}

// record is one action the node created.
type record struct {
	ActionID string         `json:"action_id"`
	Action   string         `json:"action_name"`
	Args     map[string]any `json:"args,omitempty"`
	Phase    string         `json:"phase"` // created, started, final
	Result   *mResult       `json:"result,omitempty"`
}

type mResult struct {
	ActionID         string         `json:"action_id"`
	Status           string         `json:"status"`
	Errors           []mError       `json:"errors"`
	JSONResult       map[string]any `json:"json_result"`
	Files            []string       `json:"files"`
	Datapoints       any            `json:"datapoints"`
	HistoryCreatedAt string         `json:"history_created_at"`
}

type flags struct {
	Stopped bool `json:"stopped"`
	Paused  bool `json:"paused"`
	Locked  bool `json:"locked"`
	Errored bool `json:"errored"`
}

type node struct {
	name, id string
	drv      lab.Driver
	dir      string
	log      *slog.Logger
	f        *os.File

	hang, garbage, exitAfterStart bool
	token                         string
	shutdown                      func()

	mu      sync.Mutex
	actions map[string]*record
	order   []string
	flags   flags
	started int
}

func newNode(name string, drv lab.Driver, dir string, log *slog.Logger) (*node, error) {
	n := &node{name: name, drv: drv, dir: dir, log: log, actions: map[string]*record{}}
	if b, err := os.ReadFile(filepath.Join(dir, "node-id")); err == nil {
		n.id = strings.TrimSpace(string(b))
	} else {
		n.id = newULID()
		if err := writeFileSync(filepath.Join(dir, "node-id"), []byte(n.id)); err != nil {
			return nil, err
		}
	}
	if b, err := os.ReadFile(filepath.Join(dir, "node-status.json")); err == nil {
		json.Unmarshal(b, &n.flags)
	}
	f, err := os.OpenFile(filepath.Join(dir, "node-actions.jsonl"), os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var r record
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.ActionID == "" {
			continue
		}
		if _, ok := n.actions[r.ActionID]; !ok {
			n.order = append(n.order, r.ActionID)
		}
		if r.Phase == "started" {
			n.started++
		}
		rc := r
		n.actions[r.ActionID] = &rc
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, err
	}
	n.f = f
	return n, nil
}

func (n *node) close() { n.f.Close() }

func writeFileSync(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	return os.Rename(tmp, path)
}

// persist appends r's current state, synced. Callers hold n.mu.
func (n *node) persist(r *record) error {
	b, _ := json.Marshal(r)
	if _, err := n.f.Write(append(b, '\n')); err != nil {
		return err
	}
	return n.f.Sync()
}

func (n *node) saveFlags() error {
	b, _ := json.Marshal(n.flags)
	return writeFileSync(filepath.Join(n.dir, "node-status.json"), b)
}

// newULID is a ULID: 48 bits of milliseconds and 80 random bits in
// Crockford's base32.
func newULID() string {
	const enc = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	rand.Read(b[6:])
	var out [26]byte
	// 128 bits → 26 characters, the first holding the top 3 bits.
	hi := uint64(b[0])<<56 | uint64(b[1])<<48 | uint64(b[2])<<40 | uint64(b[3])<<32 | uint64(b[4])<<24 | uint64(b[5])<<16 | uint64(b[6])<<8 | uint64(b[7])
	lo := uint64(b[8])<<56 | uint64(b[9])<<48 | uint64(b[10])<<40 | uint64(b[11])<<32 | uint64(b[12])<<24 | uint64(b[13])<<16 | uint64(b[14])<<8 | uint64(b[15])
	for i := 25; i >= 0; i-- {
		out[i] = enc[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

func (n *node) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /info", n.info)
	mux.HandleFunc("GET /status", n.status)
	mux.HandleFunc("GET /state", n.state)
	mux.HandleFunc("GET /log", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, map[string]any{}) })
	mux.HandleFunc("POST /config", n.config)
	mux.HandleFunc("POST /admin/{cmd}", n.admin)
	mux.HandleFunc("GET /action", n.history)
	mux.HandleFunc("POST /action/{name}", n.create)
	mux.HandleFunc("POST /action/{name}/{id}/start", n.start)
	mux.HandleFunc("GET /action/{id}/status", n.actionStatus)
	mux.HandleFunc("GET /action/{name}/{id}/status", n.actionStatus)
	mux.HandleFunc("GET /action/{id}/result", n.actionResult)
	mux.HandleFunc("GET /action/{name}/{id}/result", n.actionResult)
	mux.HandleFunc("GET /action/{id}/download", n.download)
	mux.HandleFunc("GET /action/{name}/{id}/download", n.download)
	return n.faults(mux)
}

// faults wraps the routes with the fault flags.
func (n *node) faults(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.token != "" && subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte("Bearer "+n.token)) != 1 {
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeJSON(w, http.StatusUnauthorized, map[string]any{"detail": "Not authenticated"})
			return
		}
		p := r.URL.Path
		if n.hang && r.Method == http.MethodGet && (p == "/status" || strings.HasSuffix(p, "/status") || strings.HasSuffix(p, "/result")) {
			<-r.Context().Done() // never answer
			return
		}
		if n.garbage {
			w.Header().Set("Content-Type", "application/json")
			switch {
			case p == "/info":
				w.Write([]byte(`{"node_name": 7, "actions": {"synthesize": {"args": "many"`))
			case p == "/status":
				w.Write([]byte(`{"busy": "very", "stopped": 1}`))
			case strings.HasPrefix(p, "/admin/"):
				w.Write([]byte(`{"success": "maybe"}`))
			case strings.HasSuffix(p, "/result") || strings.HasSuffix(p, "/start"):
				w.Header().Set("Content-Type", "text/html")
				w.Write([]byte("<html><body><h1>502 Bad Gateway</h1>\x1b[31m</body></html>"))
			default:
				w.Write([]byte("\x00\xff{]"))
			}
			return
		}
		h.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter, detail string) {
	writeJSON(w, http.StatusNotFound, map[string]any{"detail": detail})
}

func (n *node) labInfo(ctx context.Context) (*lab.Info, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return n.drv.Info(ctx)
}

// argType is how MADSci's pretty_type_repr prints the Python annotation
// the parameter would have.
func argType(p lab.Param) string {
	switch p.Kind {
	case lab.Number:
		return "float"
	case lab.Integer:
		return "int"
	case lab.Choice:
		return "Literal[" + strings.Join(p.Choices, ", ") + "]"
	}
	return string(p.Kind)
}

func (n *node) info(w http.ResponseWriter, r *http.Request) {
	in, err := n.labInfo(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"detail": "the instrument did not describe itself"})
		return
	}
	actions := map[string]mAction{}
	for _, a := range in.Actions {
		ma := mAction{Name: a.Name, Description: a.Description, Args: map[string]mArg{}, Locations: map[string]mArg{}, Files: map[string]mArg{}, Results: map[string]mResultDef{}, Asynchronous: true}
		for _, p := range a.Params {
			desc := p.Description
			if p.Min != nil && p.Max != nil {
				desc = strings.TrimSpace(fmt.Sprintf("%s Range [%g, %g]%s.", desc, *p.Min, *p.Max, unitSuffix(p.Unit)))
			}
			ma.Args[p.Name] = mArg{Name: p.Name, Description: desc, ArgumentType: argType(p), Required: !p.Optional}
		}
		for _, o := range a.Outputs {
			d := "Measured " + o.Name
			if o.Unit != "" {
				d += " (" + o.Unit + ")"
			}
			ma.Results[o.Name] = mResultDef{ResultLabel: o.Name, Description: &d, ResultType: "json"}
		}
		actions[a.Name] = ma
	}
	writeJSON(w, 200, map[string]any{
		"node_name":        n.name,
		"node_id":          n.id,
		"node_description": in.Model + ", served by Genesis madsci-node",
		"node_type":        "device",
		"module_name":      "genesis_madsci_node",
		"module_version":   "0.1.0",
		"capabilities": map[string]any{
			"get_info": true, "get_state": true, "get_status": true, "send_action": true,
			"get_action_status": true, "get_action_result": true, "get_action_history": true,
			"action_files": false, "send_admin_commands": true, "set_config": false, "get_log": true,
			"admin_commands": []string{"cancel", "lock", "pause", "reset", "resume", "safety_stop", "shutdown", "unlock"},
		},
		"node_url":      "http://" + r.Host,
		"actions":       actions,
		"config":        map[string]any{},
		"config_schema": map[string]any{},
	})
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

func (n *node) status(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	fl := n.flags
	n.mu.Unlock()
	var running []string
	n.mu.Lock()
	ids := append([]string(nil), n.order...)
	n.mu.Unlock()
	for _, id := range ids {
		res := n.current(r.Context(), id)
		if res != nil && (res.Status == "running" || res.Status == "not_started" || res.Status == "paused") {
			running = append(running, id)
		}
	}
	if running == nil {
		running = []string{}
	}
	var errs []mError
	if st, err := n.drv.Status(r.Context()); err == nil && (st.Status == lab.Error || st.Status == lab.Offline) {
		fl.Errored = true
		errs = append(errs, newError(st.Reason, "InstrumentError"))
	}
	if errs == nil {
		errs = []mError{}
	}
	ready := !(fl.Stopped || fl.Paused || fl.Locked || fl.Errored)
	var reasons []string
	for _, c := range []struct {
		on bool
		s  string
	}{{fl.Locked, "Node is locked"}, {fl.Errored, "Node is in an error state"}, {fl.Paused, "Node is paused"}} {
		if c.on {
			reasons = append(reasons, c.s)
		}
	}
	desc := "Node is ready"
	if len(reasons) > 0 {
		desc = strings.Join(reasons, "; ")
	}
	writeJSON(w, 200, map[string]any{
		"busy": false, "running_actions": running, "paused": fl.Paused, "locked": fl.Locked,
		"stopped": fl.Stopped, "errored": fl.Errored, "disconnected": false, "errors": errs,
		"initializing": false, "waiting_for_config": []string{}, "config_values": map[string]any{},
		"ready": ready, "description": desc,
	})
}

func (n *node) state(w http.ResponseWriter, r *http.Request) {
	n.mu.Lock()
	defer n.mu.Unlock()
	// MADSci's node state is free-form; this node reports what it ran.
	type run struct {
		ActionID string         `json:"action_id"`
		Action   string         `json:"action_name"`
		Args     map[string]any `json:"args"`
	}
	runs := []run{}
	for _, id := range n.order {
		if rec := n.actions[id]; rec.Phase != "created" && !(rec.Result != nil && rec.Result.Status == "not_ready") {
			runs = append(runs, run{rec.ActionID, rec.Action, rec.Args})
		}
	}
	writeJSON(w, 200, map[string]any{"actions_created": len(n.actions), "actions_started": n.started, "started_actions": runs})
}

func (n *node) config(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body)
	if len(body) == 0 {
		writeJSON(w, 200, map[string]any{"success": true, "errors": []mError{}})
		return
	}
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	writeJSON(w, 200, map[string]any{"success": false, "errors": []mError{newError("Configuration key '"+keys[0]+"' is not valid for this node.", "ValueError")}})
}

func (n *node) admin(w http.ResponseWriter, r *http.Request) {
	cmd := r.PathValue("cmd")
	ok := func() { writeJSON(w, 200, map[string]any{"success": true, "errors": []mError{}, "data": nil}) }
	fail := func(msg, typ string) {
		writeJSON(w, 200, map[string]any{"success": false, "errors": []mError{newError(msg, typ)}, "data": nil})
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	forward := func(c lab.AdminCommand) error {
		err := n.drv.Admin(ctx, c)
		if gerrors.Is(gerrors.Invalid, err) {
			return nil // the device has no such command: the node's flag is the whole effect
		}
		return err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	var err error
	switch cmd {
	case "safety_stop":
		n.flags.Stopped = true
		err = forward(lab.SafetyStop)
	case "reset":
		n.flags = flags{}
		err = forward(lab.Reset)
	case "pause":
		n.flags.Paused = true
		err = forward(lab.Pause)
	case "resume":
		n.flags.Paused = false
		err = forward(lab.Resume)
	case "lock":
		n.flags.Locked = true
	case "unlock":
		n.flags.Locked = false
	case "cancel":
		if e := n.drv.Admin(ctx, lab.CancelAll); e != nil {
			fail("Admin command cancel not implemented by this node", "AdminCommandNotImplemented")
			return
		}
	case "shutdown":
		ok()
		if n.shutdown != nil {
			n.shutdown()
		}
		return
	case "get_location":
		fail("Admin command get_location not implemented by this node", "AdminCommandNotImplemented")
		return
	default:
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{{
			"type": "enum", "loc": []string{"path", "admin_command"},
			"msg": "Input should be 'safety_stop', 'reset', 'pause', 'resume', 'cancel', 'shutdown', 'lock', 'unlock' or 'get_location'",
		}}})
		return
	}
	if e := n.saveFlags(); e != nil && err == nil {
		err = e
	}
	if err != nil {
		fail(err.Error(), "AdminCommandError")
		return
	}
	ok()
}

func (n *node) history(w http.ResponseWriter, r *http.Request) {
	if id := r.URL.Query().Get("action_id"); id != "" {
		res := n.current(r.Context(), id)
		if res == nil {
			res = unknown(id)
		}
		writeJSON(w, 200, map[string]any{id: []*mResult{res}})
		return
	}
	n.mu.Lock()
	ids := append([]string(nil), n.order...)
	n.mu.Unlock()
	out := map[string][]*mResult{}
	for _, id := range ids {
		if res := n.current(r.Context(), id); res != nil {
			out[id] = []*mResult{res}
		}
	}
	writeJSON(w, 200, out)
}

func unprocessable(w http.ResponseWriter, loc []string, msg string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": []map[string]any{{"type": "value_error", "loc": loc, "msg": msg}}})
}

// create is POST /action/{name}: the node chooses the action_id.
func (n *node) create(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	in, err := n.labInfo(r.Context())
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"detail": "the instrument did not describe itself"})
		return
	}
	a := in.Action(name)
	if a == nil {
		notFound(w, "Not Found")
		return
	}
	var body struct {
		Args      map[string]json.RawMessage `json:"args"`
		VarArgs   []any                      `json:"var_args"`
		VarKwargs map[string]any             `json:"var_kwargs"`
	}
	d := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	if err := d.Decode(&body); err != nil {
		unprocessable(w, []string{"body"}, "Input should be a valid dictionary or object")
		return
	}
	if len(body.VarArgs) > 0 || len(body.VarKwargs) > 0 {
		unprocessable(w, []string{"body", "var_args"}, "This action does not accept variable arguments")
		return
	}
	args := map[string]any{}
	for _, p := range a.Params {
		raw, ok := body.Args[p.Name]
		if !ok {
			if p.Optional {
				continue
			}
			unprocessable(w, []string{"body", "args", p.Name}, "Field required")
			return
		}
		v, msg := convert(p, raw)
		if msg != "" {
			unprocessable(w, []string{"body", "args", p.Name}, msg)
			return
		}
		args[p.Name] = v
	}
	for k := range body.Args {
		if !hasParam(a, k) {
			unprocessable(w, []string{"body", "args", k}, "Extra inputs are not permitted")
			return
		}
	}
	rec := &record{ActionID: newULID(), Action: name, Args: args, Phase: "created"}
	n.mu.Lock()
	defer n.mu.Unlock()
	if err := n.persist(rec); err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]any{"detail": "the node could not record the action"})
		return
	}
	n.actions[rec.ActionID] = rec
	n.order = append(n.order, rec.ActionID)
	writeJSON(w, 200, map[string]string{"action_id": rec.ActionID})
}

// convert reads one argument as the lab parameter's Go value.
func convert(p lab.Param, raw json.RawMessage) (any, string) {
	switch p.Kind {
	case lab.Number, lab.Integer:
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, "Input should be a valid number"
		}
		if p.Kind == lab.Integer && f != math.Trunc(f) {
			return nil, "Input should be a valid integer"
		}
		return f, ""
	case lab.Choice:
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			for _, c := range p.Choices {
				if c == s {
					return s, ""
				}
			}
		}
		return nil, "Input should be " + strings.Join(p.Choices, ", ")
	}
	return nil, "unsupported argument"
}

func unknown(id string) *mResult {
	return &mResult{ActionID: id, Status: "unknown",
		Errors:           []mError{newError("Action history for action with id '"+id+"' not found", "ActionHistoryNotFound")},
		HistoryCreatedAt: now()}
}

func now() string { return time.Now().Format("2006-01-02T15:04:05.000000") }

// start is POST /action/{name}/{id}/start. An action is started at most
// once: starting it again reports it.
func (n *node) start(w http.ResponseWriter, r *http.Request) {
	name, id := r.PathValue("name"), r.PathValue("id")
	n.mu.Lock()
	rec, ok := n.actions[id]
	if !ok || rec.Action != name {
		n.mu.Unlock()
		writeJSON(w, 200, &mResult{ActionID: id, Status: "failed",
			Errors: []mError{newError("Action "+id+" not found", "NotFound")}, HistoryCreatedAt: now()})
		return
	}
	if rec.Phase == "created" {
		if n.flags.Stopped || n.flags.Paused || n.flags.Locked || n.flags.Errored {
			rec.Phase = "final"
			rec.Result = &mResult{ActionID: id, Status: "not_ready", Errors: []mError{newError("Node is not ready: "+n.describe(), "NodeNotReady")}, HistoryCreatedAt: now()}
			n.persist(rec)
			n.mu.Unlock()
			writeJSON(w, 200, rec.Result)
			return
		}
		rec.Phase = "started"
		if err := n.persist(rec); err != nil {
			rec.Phase = "created"
			n.mu.Unlock()
			writeJSON(w, http.StatusInternalServerError, map[string]any{"detail": "the node could not record the action"})
			return
		}
		n.started++
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := n.drv.Start(ctx, lab.Request{ID: id, Action: name, Params: rec.Args})
		cancel()
		switch {
		case err == nil, gerrors.Is(gerrors.Transient, err):
			// running, or the device will tell on the next poll
		case gerrors.Is(gerrors.Conflict, err):
			rec.Phase = "final"
			rec.Result = &mResult{ActionID: id, Status: "not_ready", Errors: []mError{newError("Node is not ready: "+err.Error(), "NodeNotReady")}, HistoryCreatedAt: now()}
			n.persist(rec)
		default:
			rec.Phase = "final"
			rec.Result = &mResult{ActionID: id, Status: "failed", Errors: []mError{newError(err.Error(), "ValueError")}, HistoryCreatedAt: now()}
			n.persist(rec)
		}
	}
	n.mu.Unlock()
	res := n.current(r.Context(), id)
	writeJSON(w, 200, res)
	if n.exitAfterStart {
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		n.log.Warn("--exit-after-start: exiting with the action running", "action_id", id)
		time.Sleep(50 * time.Millisecond)
		os.Exit(3)
	}
}

func (n *node) describe() string {
	var r []string
	if n.flags.Stopped {
		r = append(r, "Node is stopped")
	}
	if n.flags.Locked {
		r = append(r, "Node is locked")
	}
	if n.flags.Errored {
		r = append(r, "Node is in an error state")
	}
	if n.flags.Paused {
		r = append(r, "Node is paused")
	}
	return strings.Join(r, "; ")
}

// current is the action's result now, or nil if the node never created it.
func (n *node) current(ctx context.Context, id string) *mResult {
	n.mu.Lock()
	rec, ok := n.actions[id]
	if !ok {
		n.mu.Unlock()
		return nil
	}
	switch rec.Phase {
	case "final":
		res := rec.Result
		n.mu.Unlock()
		return res
	case "created":
		n.mu.Unlock()
		// Created, not started: MADSci keeps it among the pending actions,
		// with no history yet.
		return unknown(id)
	}
	n.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	lr, err := n.drv.Result(ctx, id)
	res := &mResult{ActionID: id, Errors: []mError{}, HistoryCreatedAt: now()}
	switch {
	case gerrors.Is(gerrors.NotExist, err):
		res.Status = "failed"
		res.Errors = []mError{newError("the node restarted while the action ran; its outcome is unknown and it is not run again", "ActionInterrupted")}
	case err != nil:
		res.Status = "running" // the device did not answer; ask again
		return res
	default:
		switch lr.State {
		case lab.Pending:
			res.Status = "not_started"
		case lab.Running:
			res.Status = "running"
		case lab.Succeeded:
			res.Status = "succeeded"
			res.JSONResult = map[string]any{"action": lr.Action}
			for k, v := range lr.Values {
				res.JSONResult[k] = v
			}
		case lab.Failed, lab.Cancelled:
			res.Status = string(lr.State)
			if lr.Reason != "" {
				res.Errors = []mError{newError(lr.Reason, "ActionFailed")}
			}
		}
	}
	if res.Status == "succeeded" || res.Status == "failed" || res.Status == "cancelled" {
		n.mu.Lock()
		if rec.Phase == "started" {
			rec.Phase, rec.Result = "final", res
			if err := n.persist(rec); err != nil {
				rec.Phase, rec.Result = "started", nil
			}
		}
		res = recResult(rec, res)
		n.mu.Unlock()
	}
	return res
}

func recResult(rec *record, res *mResult) *mResult {
	if rec.Result != nil {
		return rec.Result
	}
	return res
}

func (n *node) actionStatus(w http.ResponseWriter, r *http.Request) {
	res := n.current(r.Context(), r.PathValue("id"))
	if res == nil {
		writeJSON(w, 200, "unknown")
		return
	}
	writeJSON(w, 200, res.Status)
}

func (n *node) actionResult(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	res := n.current(r.Context(), id)
	if res == nil {
		res = unknown(id)
	}
	writeJSON(w, 200, res)
}

func (n *node) download(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	res := n.current(r.Context(), id)
	if res == nil || res.Status != "succeeded" {
		status := "unknown"
		if res != nil {
			status = res.Status
		}
		writeJSON(w, http.StatusBadRequest, map[string]any{"detail": fmt.Sprintf("Action %s did not succeed (status: %s). Cannot download files from failed action.", id, status)})
		return
	}
	notFound(w, fmt.Sprintf("Action %s completed successfully but produced no file results", id))
}

func hasParam(a *lab.Action, name string) bool {
	for _, p := range a.Params {
		if p.Name == name {
			return true
		}
	}
	return false
}
