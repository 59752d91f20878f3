package madsci

// The MADSci REST node interface as this driver reads it, followed from
// AD-SDL/MADSci at commit 6826aeb (2026-04-09): madsci.common.types
// (node_types, action_types, admin_command_types, base_types) and
// madsci.node_module.rest_node_module. Every response goes through decode:
// one size limit, unknown fields ignored, the fields Genesis relies on
// checked for type.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/text"
)

// MaxBody is the largest response body the driver reads.
const MaxBody = 1 << 20

const (
	maxReason  = 1024 // bytes of a node's error text kept in a Reason
	maxValues  = 256  // numeric leaves taken from one result
	maxDepth   = 8    // nesting followed when flattening a result
	maxActions = 1024
	maxArgs    = 256
)

// wireError is madsci.common.types.base_types.Error. The node also sends
// bare strings where an Error is expected (ActionResult's validator turns
// them into Errors).
type wireError struct {
	Message   string `json:"message"`
	ErrorType string `json:"error_type"`
}

type wireErrors []wireError

func (e *wireErrors) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*e = nil
		return nil
	}
	var one json.RawMessage
	var list []json.RawMessage
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
	} else {
		one = b
		list = []json.RawMessage{one}
	}
	out := make(wireErrors, 0, len(list))
	for _, raw := range list {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, wireError{Message: s})
			continue
		}
		var we struct {
			Message   *string `json:"message"`
			ErrorType *string `json:"error_type"`
		}
		if err := json.Unmarshal(raw, &we); err != nil {
			return fmt.Errorf("errors: %w", err)
		}
		var w wireError
		if we.Message != nil {
			w.Message = *we.Message
		}
		if we.ErrorType != nil {
			w.ErrorType = *we.ErrorType
		}
		out = append(out, w)
	}
	*e = out
	return nil
}

// text joins the errors' messages, sanitised and bounded.
func (e wireErrors) text() string {
	var parts []string
	for _, w := range e {
		m := w.Message
		if m == "" {
			m = w.ErrorType
		} else if w.ErrorType != "" {
			m = w.ErrorType + ": " + m
		}
		if m != "" {
			parts = append(parts, m)
		}
	}
	return clean(strings.Join(parts, "; "), maxReason)
}

func (e wireErrors) has(errorType string) bool {
	for _, w := range e {
		if w.ErrorType == errorType {
			return true
		}
	}
	return false
}

// clean sanitises text from a node and bounds it to max bytes (on a rune
// boundary).
func clean(s string, max int) string {
	s, _ = text.Sanitize(s, false)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// wireArg is ArgumentDefinition (and its Location/File subclasses).
type wireArg struct {
	Name         string          `json:"name"`
	Description  *string         `json:"description"`
	ArgumentType string          `json:"argument_type"`
	Required     bool            `json:"required"`
	Default      json.RawMessage `json:"default"`
}

// wireArgs is a dict of name → definition, or a list of definitions (the
// ActionDefinition validators accept both).
type wireArgs []wireArg

func (a *wireArgs) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*a = nil
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var list []wireArg
		if err := json.Unmarshal(b, &list); err != nil {
			return err
		}
		*a = list
		return nil
	}
	var m map[string]wireArg
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	out := make(wireArgs, 0, len(m))
	for k, v := range m {
		if v.Name == "" {
			v.Name = k
		}
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	*a = out
	return nil
}

// wireAction is ActionDefinition.
type wireAction struct {
	Name        string   `json:"name"`
	Description *string  `json:"description"`
	Args        wireArgs `json:"args"`
	Locations   wireArgs `json:"locations"`
	Files       wireArgs `json:"files"`
}

// wireInfo is NodeInfo (NodeDefinition plus node_url, actions, config).
type wireInfo struct {
	NodeName      string                `json:"node_name"`
	NodeID        string                `json:"node_id"`
	ModuleName    string                `json:"module_name"`
	ModuleVersion json.RawMessage       `json:"module_version"`
	Actions       map[string]wireAction `json:"actions"`
}

// wireStatus is NodeStatus.
type wireStatus struct {
	Busy             bool       `json:"busy"`
	RunningActions   []string   `json:"running_actions"`
	Paused           bool       `json:"paused"`
	Locked           bool       `json:"locked"`
	Stopped          bool       `json:"stopped"`
	Errored          bool       `json:"errored"`
	Disconnected     bool       `json:"disconnected"`
	Errors           wireErrors `json:"errors"`
	Initializing     bool       `json:"initializing"`
	WaitingForConfig []string   `json:"waiting_for_config"`
}

// wireResult is RestActionResult. Data is the json_result of nodes before
// MADSci 0.5 ("data").
type wireResult struct {
	ActionID   string          `json:"action_id"`
	Status     string          `json:"status"`
	Errors     wireErrors      `json:"errors"`
	JSONResult json.RawMessage `json:"json_result"`
	Data       json.RawMessage `json:"data"`
}

// adminResponse is AdminCommandResponse.
type adminResponse struct {
	Success *bool      `json:"success"`
	Errors  wireErrors `json:"errors"`
}

// garbage is the error for a body that is not what the interface says.
func garbage(op errors.Op, what string, err error) error {
	msg := "the node answered " + what + " that is not valid MADSci"
	if err != nil {
		msg += ": " + clean(err.Error(), 200)
	}
	return errors.E(op, errors.Transient, errors.Msg(msg), err)
}

// decodeJSON decodes b into v, refusing trailing data.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// DecodeInfo reads a node's /info body. Actions whose arguments Genesis
// cannot send are left out of Info.Actions and listed, with the reason, in
// Info.Unavailable.
func DecodeInfo(b []byte) (*lab.Info, error) {
	const op errors.Op = "madsci.DecodeInfo"
	var w wireInfo
	if err := decodeJSON(b, &w); err != nil {
		return nil, garbage(op, "node info", err)
	}
	if len(w.Actions) > maxActions {
		return nil, garbage(op, "node info", fmt.Errorf("more than %d actions", maxActions))
	}
	model := clean(w.ModuleName, 128)
	if v := version(w.ModuleVersion); v != "" && model != "" {
		model += " " + v
	}
	if model == "" {
		model = clean(w.NodeName, 128)
	}
	if model == "" {
		model = "MADSci node"
	}
	in := &lab.Info{Model: model, Actions: []lab.Action{}}
	names := make([]string, 0, len(w.Actions))
	for k := range w.Actions {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, key := range names {
		wa := w.Actions[key]
		name := key
		if ValidName(name) != nil {
			markUnavailable(in, clean(name, 128), "its name is not usable in a Genesis request")
			continue
		}
		a, reason := mapAction(name, wa)
		if reason != "" {
			markUnavailable(in, name, reason)
			continue
		}
		in.Actions = append(in.Actions, a)
	}
	return in, nil
}

func markUnavailable(in *lab.Info, name, reason string) {
	if in.Unavailable == nil {
		in.Unavailable = map[string]string{}
	}
	in.Unavailable[name] = reason
}

func version(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return clean(s, 64)
	}
	return ""
}

func mapAction(name string, wa wireAction) (lab.Action, string) {
	a := lab.Action{Name: name}
	if wa.Description != nil {
		a.Description = clean(*wa.Description, text.MaxLine)
	}
	if len(wa.Args) > maxArgs {
		return a, fmt.Sprintf("it has more than %d arguments", maxArgs)
	}
	for _, f := range wa.Files {
		if f.Required {
			return a, "its argument " + clean(f.Name, 64) + " is a file, which Genesis does not send"
		}
	}
	for _, l := range wa.Locations {
		if l.Required {
			return a, "its argument " + clean(l.Name, 64) + " is a location, which Genesis does not send"
		}
	}
	for _, arg := range wa.Args {
		if ValidName(arg.Name) != nil {
			return a, "an argument's name is not usable in a Genesis request"
		}
		p, ok := mapArg(arg)
		if !ok {
			if !arg.Required {
				continue // the node uses its default
			}
			return a, "its argument " + arg.Name + " has type " + strconv.Quote(clean(arg.ArgumentType, 64)) + ", which Genesis does not send"
		}
		a.Params = append(a.Params, p)
	}
	return a, ""
}

// mapArg maps an argument type (pretty_type_repr of the Python annotation)
// to a Genesis parameter: float → Number, int → Integer, Literal[…] of
// strings → Choice. Optional[X] and Union[X, NoneType] are X.
func mapArg(arg wireArg) (lab.Param, bool) {
	p := lab.Param{Name: arg.Name, Optional: !arg.Required}
	if arg.Description != nil {
		p.Description = clean(*arg.Description, text.MaxLine)
	}
	t := strings.TrimSpace(arg.ArgumentType)
	for {
		switch {
		case strings.HasPrefix(t, "Optional[") && strings.HasSuffix(t, "]"):
			t = strings.TrimSpace(t[len("Optional[") : len(t)-1])
			continue
		case strings.HasPrefix(t, "Union[") && strings.HasSuffix(t, ", NoneType]"):
			t = strings.TrimSpace(t[len("Union[") : len(t)-len(", NoneType]")])
			continue
		}
		break
	}
	switch t {
	case "float", "number":
		p.Kind = lab.Number
		return p, true
	case "int", "integer":
		p.Kind = lab.Integer
		return p, true
	}
	if strings.HasPrefix(t, "Literal[") && strings.HasSuffix(t, "]") {
		inner := t[len("Literal[") : len(t)-1]
		seen := map[string]bool{}
		for _, c := range strings.Split(inner, ",") {
			c = strings.Trim(strings.TrimSpace(c), `'"`)
			if c == "" || len(c) > 128 || seen[c] {
				return p, false
			}
			if s, changed := text.Sanitize(c, false); changed || s != c {
				return p, false
			}
			seen[c] = true
			p.Choices = append(p.Choices, c)
		}
		if len(p.Choices) == 0 || len(p.Choices) > 256 {
			return p, false
		}
		p.Kind = lab.Choice
		return p, true
	}
	return p, false
}

// ValidName checks an action, argument or ID is made of [A-Za-z0-9._-],
// 1–128 bytes: safe in a URL path segment and in a log line.
func ValidName(s string) error {
	if len(s) == 0 || len(s) > 128 {
		return fmt.Errorf("must be 1–128 characters")
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("may contain only letters, digits, '.', '_' and '-'")
		}
	}
	if s == "." || s == ".." {
		return fmt.Errorf("may not be . or ..")
	}
	return nil
}

// DecodeStatus reads a node's /status body. Running holds the node's action
// IDs.
func DecodeStatus(b []byte) (*lab.NodeStatus, error) {
	const op errors.Op = "madsci.DecodeStatus"
	var w wireStatus
	if err := decodeJSON(b, &w); err != nil {
		return nil, garbage(op, "a node status", err)
	}
	st := &lab.NodeStatus{}
	reason := w.Errors.text()
	switch {
	case w.Stopped:
		st.Status, st.Reason = lab.EStopped, "the node is stopped (safety stop)"
	case w.Errored:
		st.Status, st.Reason = lab.Error, "the node is in an error state"
	case w.Disconnected:
		st.Status, st.Reason = lab.Offline, "the node is disconnected"
	case w.Initializing:
		st.Status, st.Reason = lab.Offline, "the node is initializing"
	case len(w.WaitingForConfig) > 0:
		st.Status, st.Reason = lab.Offline, "the node is waiting for configuration"
	case w.Paused:
		st.Status, st.Reason = lab.Paused, "the node is paused"
	case w.Locked:
		st.Status, st.Reason = lab.Paused, "the node is locked"
	case w.Busy:
		st.Status = lab.Busy
	default:
		st.Status = lab.Idle
	}
	if reason != "" && st.Status != lab.Idle && st.Status != lab.Busy {
		st.Reason = clean(st.Reason+": "+reason, maxReason)
	}
	if st.Status == lab.Idle && len(w.RunningActions) > 0 {
		st.Status = lab.Busy
	}
	for _, id := range w.RunningActions {
		if ValidName(id) == nil {
			st.Running = append(st.Running, id)
		}
		if len(st.Running) >= maxActions {
			break
		}
	}
	sort.Strings(st.Running)
	return st, nil
}

// nodeResult is a decoded action result, before it is tied to a Genesis
// request.
type nodeResult struct {
	ActionID string
	Status   string // the MADSci status, one of statuses
	State    lab.RunState
	Reason   string
	// NotFound: the node does not know the action (status unknown,
	// ActionHistoryNotFound, or start's NotFound).
	NotFound bool
	// NotReady: the node refused to run it (not_ready).
	NotReady bool
	Values   map[string]float64
	// result is the json_result (or data) for action_outputs paths.
	result any
}

// statuses maps MADSci's ActionStatus (and "queued", which the workcell
// uses) to Genesis run states. unknown is handled by the caller.
var statuses = map[string]lab.RunState{
	"not_started": lab.Pending,
	"queued":      lab.Pending,
	"running":     lab.Running,
	"paused":      lab.Running,
	"succeeded":   lab.Succeeded,
	"failed":      lab.Failed,
	"cancelled":   lab.Cancelled,
	"not_ready":   lab.Failed,
}

// DecodeResult reads an action result body (RestActionResult): the
// action's run state, its reason and the numeric leaves of its json_result
// as Values.
func DecodeResult(b []byte) (*nodeResult, error) {
	const op errors.Op = "madsci.DecodeResult"
	var w wireResult
	if err := decodeJSON(b, &w); err != nil {
		return nil, garbage(op, "an action result", err)
	}
	if w.Status == "" {
		return nil, garbage(op, "an action result", fmt.Errorf("no status"))
	}
	r := &nodeResult{Status: w.Status, Reason: w.Errors.text()}
	if w.ActionID != "" {
		if ValidName(w.ActionID) != nil {
			return nil, garbage(op, "an action result", fmt.Errorf("action_id is not an ID"))
		}
		r.ActionID = w.ActionID
	}
	if w.Status == "unknown" {
		if w.Errors.has("ActionHistoryNotFound") || w.Errors.has("NotFound") {
			r.NotFound = true
			return r, nil
		}
		return nil, errors.E(op, errors.Transient, errors.Msg("the node reports the action's status as unknown"))
	}
	st, ok := statuses[w.Status]
	if !ok {
		return nil, garbage(op, "an action result", fmt.Errorf("unknown status %s", strconv.Quote(clean(w.Status, 32))))
	}
	if w.Status == "failed" && w.Errors.has("NotFound") {
		// start of an action the node has no pending record of
		r.NotFound = true
	}
	r.State = st
	r.NotReady = w.Status == "not_ready"
	if st == lab.Succeeded {
		raw := w.JSONResult
		if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
			raw = w.Data
		}
		if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
			if err := decodeJSON(raw, &r.result); err != nil {
				return nil, garbage(op, "an action result", err)
			}
			r.Values = map[string]float64{}
			flatten(r.Values, "", r.result, 0)
		}
	}
	return r, nil
}

// flatten collects the finite numeric leaves of v, keyed by their dotted
// path ("result" for a bare number). Strings, booleans, lists and nulls are
// ignored.
func flatten(out map[string]float64, prefix string, v any, depth int) {
	if len(out) >= maxValues || depth > maxDepth {
		return
	}
	switch v := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return
		}
		key := prefix
		if key == "" {
			key = "result"
		}
		if ValidName(key) == nil {
			out[key] = f
		}
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			flatten(out, p, v[k], depth+1)
		}
	}
}

// lookup follows a dotted path into a decoded json_result and returns the
// finite number there.
func lookup(v any, path string) (float64, bool) {
	if path != "" {
		for _, seg := range strings.Split(path, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				return 0, false
			}
			if v, ok = m[seg]; !ok {
				return 0, false
			}
		}
	}
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}
