// Package madsci is the lab driver of kind "madsci": it runs the actions of
// an existing MADSci lab node (AD-SDL/MADSci, Argonne) over the node's REST
// interface, unchanged. docs/MADSCI.md maps every endpoint and field.
//
// Config.Endpoint is the node's base URL (http or https). Settings:
//
//	{"timeout": "10s",             // per request (default 10s)
//	 "token": "…",                 // optional: sent as a bearer token
//	 "action_outputs": {"yield": "measurements.yield"}}
//
// action_outputs maps Genesis output names to dotted paths in an action's
// json_result; when set, every action declares those outputs and a
// succeeded action lacking one of them is reported Failed. Without it the
// Values of a result are all its numeric leaves, keyed by dotted path.
//
// MADSci nodes choose action IDs themselves, so the driver keeps the map
// from Request.ID to the node's action_id in Config.StateDir (in memory
// when StateDir is empty: then exactly-once holds only while the driver
// lives). Before it asks the node for a new action it looks the ID up and
// reports the node's record instead.
package madsci

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/text"
)

// Kind is the driver kind this package registers.
const Kind = "madsci"

func init() { lab.RegisterKind(Kind, Open) }

// Settings are the driver's settings (Config.Settings).
type Settings struct {
	Timeout       string            `json:"timeout,omitempty"`
	Token         string            `json:"token,omitempty"`
	ActionOutputs map[string]string `json:"action_outputs,omitempty"`
}

// DefaultTimeout bounds one request to the node.
const DefaultTimeout = 10 * time.Second

// Driver speaks to one MADSci node.
type Driver struct {
	base    *url.URL
	timeout time.Duration
	token   string
	outputs map[string]string
	client  *http.Client
	j       *journal

	mu    sync.Mutex
	locks map[string]*idLock
}

type idLock struct {
	mu   sync.Mutex
	refs int
}

var _ lab.Driver = (*Driver)(nil)

// Open builds a driver from cfg without reaching the node.
func Open(cfg lab.Config) (lab.Driver, error) {
	const op errors.Op = "madsci.Open"
	u, err := url.Parse(strings.TrimSpace(cfg.Endpoint))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("endpoint"), errors.Msg("endpoint must be an http or https URL of a MADSci node, such as http://node.lab:2000"))
	}
	u.Path = strings.TrimRight(u.Path, "/")
	var s Settings
	if len(bytes.TrimSpace(cfg.Settings)) > 0 {
		d := json.NewDecoder(bytes.NewReader(cfg.Settings))
		d.DisallowUnknownFields()
		if err := d.Decode(&s); err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("settings"), errors.Msg("settings: "+clean(err.Error(), 200)+" (known: timeout, token, action_outputs)"))
		}
		if d.More() {
			return nil, errors.E(op, errors.Invalid, errors.Field("settings"), errors.Msg("settings: trailing data after the JSON object"))
		}
	}
	d := &Driver{base: u, timeout: DefaultTimeout, token: s.Token, locks: map[string]*idLock{}}
	if s.Timeout != "" {
		t, err := time.ParseDuration(s.Timeout)
		if err != nil || t <= 0 || t > 10*time.Minute {
			return nil, errors.E(op, errors.Invalid, errors.Field("settings.timeout"), errors.Msg("settings.timeout must be a duration between 1ms and 10m, such as 10s"))
		}
		d.timeout = t
	}
	if s.Token != "" {
		if err := text.Line("settings.token", s.Token, 4096); err != nil {
			return nil, err
		}
	}
	if len(s.ActionOutputs) > 0 {
		d.outputs = map[string]string{}
		for name, path := range s.ActionOutputs {
			if err := ValidName(name); err != nil {
				return nil, errors.E(op, errors.Invalid, errors.Field("settings.action_outputs"), errors.Msg("settings.action_outputs: output name "+quote(clean(name, 64))+" "+err.Error()))
			}
			if err := validPath(path); err != nil {
				return nil, errors.E(op, errors.Invalid, errors.Field("settings.action_outputs."+name), errors.Msg("settings.action_outputs."+name+": "+err.Error()))
			}
			d.outputs[name] = path
		}
	}
	j, err := openJournal(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	d.j = j
	d.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       30 * time.Second,
			ResponseHeaderTimeout: d.timeout,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return d, nil
}

func validPath(p string) error {
	if p == "" || len(p) > 512 {
		return fmt.Errorf("path must be 1–512 characters")
	}
	for _, seg := range strings.Split(p, ".") {
		if seg == "" {
			return fmt.Errorf("path %s has an empty segment", quote(clean(p, 64)))
		}
		if _, changed := text.Sanitize(seg, false); changed {
			return fmt.Errorf("path contains a control character")
		}
	}
	return nil
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// call makes one request and returns the body of a 2xx answer (at most
// MaxBody bytes). Unreachable, hanging (past the timeout or ctx) and
// non-2xx answers are errors.Transient, except 404 (notFound) and 422
// (the node refused the request: errors.Invalid with its message).
func (d *Driver) call(ctx context.Context, op errors.Op, method, path string, body any) ([]byte, int, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, 0, errors.E(op, errors.Internal, err)
		}
		rd = bytes.NewReader(b)
	}
	u := *d.base
	u.Path = d.base.Path + path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, 0, errors.E(op, errors.Internal, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if d.token != "" {
		req.Header.Set("Authorization", "Bearer "+d.token)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		msg := "the MADSci node at " + d.base.Host + " did not answer"
		if ctx.Err() != nil {
			msg += " in time"
		}
		return nil, 0, errors.E(op, errors.Transient, errors.Msg(msg), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, resp.StatusCode, errors.E(op, errors.Transient, errors.Msg("the MADSci node at "+d.base.Host+" broke off its answer"), err)
	}
	if len(b) > MaxBody {
		return nil, resp.StatusCode, errors.E(op, errors.Transient, errors.Msg(fmt.Sprintf("the MADSci node at %s answered more than %d bytes", d.base.Host, MaxBody)))
	}
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return b, resp.StatusCode, nil
	case resp.StatusCode == http.StatusNotFound:
		return b, resp.StatusCode, errors.E(op, errors.NotExist, errors.Msg("the MADSci node has no "+path))
	case resp.StatusCode == http.StatusUnprocessableEntity || resp.StatusCode == http.StatusBadRequest:
		return b, resp.StatusCode, errors.E(op, errors.Invalid, errors.Msg("the MADSci node refused the request: "+detail(b)))
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return b, resp.StatusCode, errors.E(op, errors.Transient, errors.Msg(fmt.Sprintf("the MADSci node refused Genesis's credentials (HTTP %d)", resp.StatusCode)))
	}
	return b, resp.StatusCode, errors.E(op, errors.Transient, errors.Msg(fmt.Sprintf("the MADSci node at %s answered HTTP %d: %s", d.base.Host, resp.StatusCode, detail(b))))
}

// detail is a short, sanitised excerpt of an error body: FastAPI's
// {"detail": …} when there is one.
func detail(b []byte) string {
	var fa struct {
		Detail any `json:"detail"`
	}
	if json.Unmarshal(b, &fa) == nil && fa.Detail != nil {
		if s, ok := fa.Detail.(string); ok {
			return clean(s, 300)
		}
		if j, err := json.Marshal(fa.Detail); err == nil {
			return clean(string(j), 300)
		}
	}
	s := string(b)
	if strings.HasPrefix(strings.TrimSpace(s), "<") {
		s = stripTags(s) // an error page from a proxy or server
	}
	return clean(strings.Join(strings.Fields(s), " "), 120)
}

func stripTags(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Info reports the node's actions (GET /info).
func (d *Driver) Info(ctx context.Context) (*lab.Info, error) {
	const op errors.Op = "madsci.Info"
	b, _, err := d.call(ctx, op, http.MethodGet, "/info", nil)
	if err != nil {
		return nil, asTransient(op, err)
	}
	in, err := DecodeInfo(b)
	if err != nil {
		return nil, err
	}
	if d.outputs != nil {
		names := make([]string, 0, len(d.outputs))
		for n := range d.outputs {
			names = append(names, n)
		}
		sort.Strings(names)
		for i := range in.Actions {
			for _, n := range names {
				in.Actions[i].Outputs = append(in.Actions[i].Outputs, lab.Output{Name: n})
			}
		}
	}
	return in, nil
}

// asTransient keeps err's kind when it is Transient or Invalid and makes
// any other failure to reach the node Transient (a node without an
// endpoint Genesis needs is a node to fix, not a request to fail).
func asTransient(op errors.Op, err error) error {
	if errors.Is(errors.Transient, err) || errors.Is(errors.Invalid, err) {
		return err
	}
	return errors.E(op, errors.Transient, err)
}

// Status reports the node's state (GET /status). Running lists the
// request IDs of the node's running actions that this driver started.
func (d *Driver) Status(ctx context.Context) (*lab.NodeStatus, error) {
	const op errors.Op = "madsci.Status"
	b, _, err := d.call(ctx, op, http.MethodGet, "/status", nil)
	if err != nil {
		return nil, asTransient(op, err)
	}
	st, err := DecodeStatus(b)
	if err != nil {
		return nil, err
	}
	var running []string
	for _, aid := range st.Running {
		if id, ok := d.j.request(aid); ok {
			running = append(running, id)
		}
	}
	sort.Strings(running)
	st.Running = running
	return st, nil
}

func (d *Driver) lock(id string) func() {
	d.mu.Lock()
	l := d.locks[id]
	if l == nil {
		l = &idLock{}
		d.locks[id] = l
	}
	l.refs++
	d.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		d.mu.Lock()
		if l.refs--; l.refs == 0 {
			delete(d.locks, id)
		}
		d.mu.Unlock()
	}
}

// Start begins req on the node, or reports the action an earlier Start of
// req.ID began.
func (d *Driver) Start(ctx context.Context, req lab.Request) (*lab.Result, error) {
	const op errors.Op = "madsci.Start"
	if err := ValidName(req.ID); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("id"), errors.Msg("request id "+err.Error()))
	}
	defer d.lock(req.ID)()
	if e, ok := d.j.get(req.ID); ok {
		return d.resume(ctx, e)
	}
	if err := ValidName(req.Action); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("action"), errors.Msg("action "+err.Error()))
	}
	in, err := d.Info(ctx)
	if err != nil {
		return nil, err
	}
	args, err := checkParams(in, req)
	if err != nil {
		return nil, err
	}
	st, err := d.Status(ctx)
	if err != nil {
		return nil, err
	}
	if !st.Status.Takes() {
		return nil, errors.E(op, errors.Conflict, errors.Msg("the MADSci node takes no actions now: "+st.Reason))
	}
	b, _, err := d.call(ctx, op, http.MethodPost, "/action/"+req.Action, map[string]any{"args": args})
	if err != nil {
		return nil, asTransient(op, err)
	}
	var created0 struct {
		ActionID string `json:"action_id"`
	}
	if err := decodeJSON(b, &created0); err != nil || ValidName(created0.ActionID) != nil {
		return nil, garbage(op, "a new action", err)
	}
	e := entry{ID: req.ID, Action: req.Action, ActionID: created0.ActionID, Phase: created}
	if err := d.j.put(e); err != nil {
		return nil, err
	}
	return d.start(ctx, e)
}

// resume reports on an action the journal knows, starting it if the node
// holds it created but not started.
func (d *Driver) resume(ctx context.Context, e entry) (*lab.Result, error) {
	const op errors.Op = "madsci.Start"
	nr, err := d.fetch(ctx, op, e)
	if err != nil {
		return nil, err
	}
	if nr.NotFound && e.Phase == created {
		// Created (or not even that) but never started: start it now. A
		// node that lost its pending record answers NotFound, and the
		// action is reported Failed — it never ran.
		return d.start(ctx, e)
	}
	if nr.NotReady && e.Phase == created {
		return nil, d.refused(e, nr)
	}
	if e.Phase == created {
		e.Phase = started
		if err := d.j.put(e); err != nil {
			return nil, err
		}
	}
	return d.result(e, nr)
}

func (d *Driver) start(ctx context.Context, e entry) (*lab.Result, error) {
	const op errors.Op = "madsci.Start"
	b, _, err := d.call(ctx, op, http.MethodPost, "/action/"+e.Action+"/"+e.ActionID+"/start", nil)
	if err != nil {
		return nil, asTransient(op, err)
	}
	nr, err := DecodeResult(b)
	if err != nil {
		return nil, err
	}
	if nr.NotReady {
		return nil, d.refused(e, nr)
	}
	e.Phase = started
	if err := d.j.put(e); err != nil {
		return nil, err
	}
	return d.result(e, nr)
}

// refused forgets an action the node would not run (not_ready: it ran
// nothing), so that a later Start asks for a new one, and says why.
func (d *Driver) refused(e entry, nr *nodeResult) error {
	const op errors.Op = "madsci.Start"
	if err := d.j.put(entry{ID: e.ID, Phase: dropped}); err != nil {
		return err
	}
	msg := "the MADSci node is not ready"
	if nr.Reason != "" {
		msg += ": " + nr.Reason
	}
	return errors.E(op, errors.Conflict, errors.Msg(msg))
}

// Result reports on an action Start began (GET /action/{action_id}/result).
func (d *Driver) Result(ctx context.Context, id string) (*lab.Result, error) {
	const op errors.Op = "madsci.Result"
	e, ok := d.j.get(id)
	if !ok {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no action "+quote(clean(id, 128))+" was started on this instrument"))
	}
	nr, err := d.fetch(ctx, op, e)
	if err != nil {
		return nil, err
	}
	if nr.NotFound && e.Phase == created {
		return &lab.Result{ID: e.ID, Action: e.Action, State: lab.Pending}, nil
	}
	return d.result(e, nr)
}

func (d *Driver) fetch(ctx context.Context, op errors.Op, e entry) (*nodeResult, error) {
	b, _, err := d.call(ctx, op, http.MethodGet, "/action/"+e.ActionID+"/result", nil)
	if err != nil {
		// A RestNode answers an action it does not know with status
		// unknown; a 404 means the route is missing (a proxy, an older
		// node): nothing is known of the action, so ask again later.
		return nil, asTransient(op, err)
	}
	nr, err := DecodeResult(b)
	if err != nil {
		return nil, err
	}
	if nr.ActionID != "" && nr.ActionID != e.ActionID && !nr.NotFound {
		return nil, garbage(op, "the result of another action", nil)
	}
	return nr, nil
}

// result ties a node's result to the Genesis request.
func (d *Driver) result(e entry, nr *nodeResult) (*lab.Result, error) {
	r := &lab.Result{ID: e.ID, Action: e.Action, State: nr.State, Reason: nr.Reason}
	if nr.NotFound {
		r.State = lab.Failed
		r.Reason = "the MADSci node no longer knows action " + e.ActionID + " (it restarted or lost its history); it is not run again"
		return r, nil
	}
	if r.State != lab.Succeeded {
		if r.State.Final() && r.Reason == "" {
			r.Reason = "the MADSci node reports the action " + nr.Status
		}
		if !r.State.Final() {
			r.Reason = ""
		}
		return r, nil
	}
	r.Reason = ""
	if d.outputs == nil {
		r.Values = nr.Values
		return r, nil
	}
	r.Values = map[string]float64{}
	names := make([]string, 0, len(d.outputs))
	for n := range d.outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v, ok := lookup(nr.result, d.outputs[n])
		if !ok {
			return &lab.Result{ID: e.ID, Action: e.Action, State: lab.Failed,
				Reason: "the action succeeded but its json_result has no number at " + d.outputs[n] + " (output " + n + ")"}, nil
		}
		r.Values[n] = v
	}
	return r, nil
}

// checkParams checks req against the action's parameters and returns the
// MADSci args.
func checkParams(in *lab.Info, req lab.Request) (map[string]any, error) {
	const op errors.Op = "madsci.Start"
	a := in.Action(req.Action)
	if a == nil {
		if why, ok := in.Unavailable[req.Action]; ok {
			return nil, errors.E(op, errors.Invalid, errors.Field("action"), errors.Msg("action "+req.Action+" is unavailable: "+why))
		}
		return nil, errors.E(op, errors.Invalid, errors.Field("action"), errors.Msg("the MADSci node has no action "+req.Action))
	}
	args := map[string]any{}
	known := map[string]bool{}
	for _, p := range a.Params {
		known[p.Name] = true
		v, ok := req.Params[p.Name]
		if !ok {
			if !p.Optional {
				return nil, errors.E(op, errors.Invalid, errors.Field("params."+p.Name), errors.Msg("parameter "+p.Name+" is required"))
			}
			continue
		}
		switch p.Kind {
		case lab.Number, lab.Integer:
			f, ok := v.(float64)
			if !ok {
				return nil, errors.E(op, errors.Invalid, errors.Field("params."+p.Name), errors.Msg("parameter "+p.Name+" must be a number"))
			}
			if p.Kind == lab.Integer {
				if err := text.Integer("params."+p.Name, int64(f), -1<<53, 1<<53); err != nil || f != float64(int64(f)) {
					return nil, errors.E(op, errors.Invalid, errors.Field("params."+p.Name), errors.Msg("parameter "+p.Name+" must be an integer"))
				}
				args[p.Name] = int64(f)
			} else {
				if err := text.Number("params."+p.Name, f, -1e300, 1e300); err != nil {
					return nil, err
				}
				args[p.Name] = f
			}
		case lab.Choice:
			s, ok := v.(string)
			found := false
			for _, c := range p.Choices {
				found = found || (ok && c == s)
			}
			if !found {
				return nil, errors.E(op, errors.Invalid, errors.Field("params."+p.Name), errors.Msg("parameter "+p.Name+" must be one of "+strings.Join(p.Choices, ", ")))
			}
			args[p.Name] = s
		}
	}
	for name := range req.Params {
		if !known[name] {
			return nil, errors.E(op, errors.Invalid, errors.Field("params."+clean(name, 64)), errors.Msg("action "+req.Action+" has no parameter "+quote(clean(name, 64))))
		}
	}
	return args, nil
}

// Admin sends cmd to the node (POST /admin/{cmd}).
func (d *Driver) Admin(ctx context.Context, cmd lab.AdminCommand) error {
	const op errors.Op = "madsci.Admin"
	switch cmd {
	case lab.SafetyStop, lab.Reset, lab.Pause, lab.Resume, lab.CancelAll, lab.Lock, lab.Unlock, lab.Shutdown:
	default:
		return errors.E(op, errors.Invalid, errors.Field("command"), errors.Msg("unknown admin command "+quote(clean(string(cmd), 64))))
	}
	b, _, err := d.call(ctx, op, http.MethodPost, "/admin/"+string(cmd), nil)
	if err != nil {
		return asTransient(op, err)
	}
	var r adminResponse
	if err := decodeJSON(b, &r); err != nil || r.Success == nil {
		return garbage(op, "an admin command response", err)
	}
	if *r.Success {
		return nil
	}
	if r.Errors.has("AdminCommandNotImplemented") {
		return errors.E(op, errors.Invalid, errors.Msg("the MADSci node does not implement "+string(cmd)))
	}
	msg := "the MADSci node failed " + string(cmd)
	if t := r.Errors.text(); t != "" {
		msg += ": " + t
	}
	return errors.E(op, errors.Conflict, errors.Msg(msg))
}

// Close releases the driver's journal and connections.
func (d *Driver) Close() error {
	d.client.CloseIdleConnections()
	return d.j.close()
}
