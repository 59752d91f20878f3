// Package lab describes laboratory instruments and the drivers that run
// their actions.
//
// An Instrument is a lab device (a flow reactor, a deposition station, a
// printer and tester…) that offers named Actions, each with typed
// parameters, units and safety bounds, and reports what it measured. A
// Driver talks to one instrument: lab/sim runs digital twins in this
// process, lab/madsci speaks the MADSci REST node interface to a lab node,
// lab/table answers from a table of published experiments. Every driver
// passes the conformance suite in lab/labtest. The guarantees a campaign
// runner relies on:
//
//   - Start is idempotent by Request.ID: starting the same ID again returns
//     the action the first Start began (in whatever state it is now) and
//     runs nothing new — also after the driver, its node or Genesis
//     restarted. This is what makes experiments exactly-once.
//   - Result of an ID the driver never started is errors.NotExist.
//   - An action ends Succeeded (with Values for each of the action's
//     declared results), Failed (instrument fault, with a reason) or
//     Cancelled; Running and Pending are not final.
//   - A driver that cannot be reached, hangs past the caller's context or
//     answers garbage returns errors.Transient (the caller retries or
//     pauses); a request the instrument refuses is errors.Invalid with its
//     message.
//   - While the instrument is e-stopped (Admin SafetyStop) it starts
//     nothing: Start returns errors.Conflict until Admin Reset.
//
// Drivers are registered by kind (RegisterKind) so the instrument registry
// can build one from its stored configuration without importing them all.
package lab

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// ParamKind is the type of an action parameter.
type ParamKind string

const (
	Number  ParamKind = "number"  // a real value, in Unit, within [Min, Max]
	Integer ParamKind = "integer" // an integer value, in Unit, within [Min, Max]
	Choice  ParamKind = "choice"  // one of Choices
)

// Param is one parameter of an action. Min and Max are the instrument's
// safety bounds: a value outside them is refused before dispatch.
type Param struct {
	Name        string    `json:"name" yaml:"name"`
	Kind        ParamKind `json:"kind" yaml:"kind"`
	Unit        string    `json:"unit,omitempty" yaml:"unit,omitempty"`
	Min         *float64  `json:"min,omitempty" yaml:"min,omitempty"`
	Max         *float64  `json:"max,omitempty" yaml:"max,omitempty"`
	Choices     []string  `json:"choices,omitempty" yaml:"choices,omitempty"`
	Description string    `json:"description,omitempty" yaml:"description,omitempty"`
	// Optional parameters may be left out; the instrument uses its default.
	Optional bool `json:"optional,omitempty" yaml:"optional,omitempty"`
}

// Output is one quantity an action measures.
type Output struct {
	Name string `json:"name" yaml:"name"`
	Unit string `json:"unit,omitempty" yaml:"unit,omitempty"`
}

// Action is a capability of an instrument.
type Action struct {
	Name        string   `json:"name" yaml:"name"`
	Description string   `json:"description,omitempty" yaml:"description,omitempty"`
	Params      []Param  `json:"params,omitempty" yaml:"params,omitempty"`
	Outputs     []Output `json:"outputs,omitempty" yaml:"outputs,omitempty"`
	// Hazardous actions need a named human approval before each dispatch.
	Hazardous bool `json:"hazardous,omitempty" yaml:"hazardous,omitempty"`
	// Consumes names the consumables one run uses, and how much of each.
	Consumes map[string]float64 `json:"consumes,omitempty" yaml:"consumes,omitempty"`
	// NominalSeconds is how long one run takes on the real instrument
	// (before a simulator's speed factor), 0 when unknown.
	NominalSeconds float64 `json:"nominal_seconds,omitempty" yaml:"nominal_seconds,omitempty"`
}

// Consumable is something an instrument uses up (a reagent, a substrate,
// filament). Level ≤ Capacity; an action that needs more than Level fails.
type Consumable struct {
	Name     string  `json:"name" yaml:"name"`
	Unit     string  `json:"unit,omitempty" yaml:"unit,omitempty"`
	Level    float64 `json:"level" yaml:"level"`
	Capacity float64 `json:"capacity" yaml:"capacity"`
}

// Status is an instrument's live state.
type Status string

const (
	Idle     Status = "idle"
	Busy     Status = "busy"
	Error    Status = "error"
	Offline  Status = "offline"
	EStopped Status = "e-stopped"
	Paused   Status = "paused"
)

// Takes reports whether an instrument in status s may be sent an action
// (the interlock: an instrument in error, offline, paused or e-stopped
// takes none).
func (s Status) Takes() bool { return s == Idle || s == Busy }

// Info is what a driver reports about its instrument.
type Info struct {
	// Model names the instrument's make or simulated model.
	Model       string       `json:"model"`
	Actions     []Action     `json:"actions"`
	Consumables []Consumable `json:"consumables,omitempty"`
	// Unavailable names the instrument's actions a driver cannot offer
	// (an argument type it cannot send…), each with the reason.
	Unavailable map[string]string `json:"unavailable,omitempty"`
}

// Action returns the named action, or nil.
func (in *Info) Action(name string) *Action {
	for i := range in.Actions {
		if in.Actions[i].Name == name {
			return &in.Actions[i]
		}
	}
	return nil
}

// NodeStatus is a driver's view of its instrument's state.
type NodeStatus struct {
	Status      Status       `json:"status"`
	Reason      string       `json:"reason,omitempty"`
	Consumables []Consumable `json:"consumables,omitempty"`
	// Running lists the IDs of actions not yet final.
	Running []string `json:"running,omitempty"`
}

// Request asks an instrument to run one action.
type Request struct {
	// ID is the idempotency key: the same ID never runs twice. 1–128 of
	// [A-Za-z0-9._-].
	ID     string `json:"id"`
	Action string `json:"action"`
	// Params maps parameter names to values: float64 for Number and
	// Integer parameters, string for Choice parameters.
	Params map[string]any `json:"params"`
}

// RunState is where an action is.
type RunState string

const (
	Pending   RunState = "pending" // accepted, not started (queued on the node)
	Running   RunState = "running"
	Succeeded RunState = "succeeded"
	Failed    RunState = "failed"
	Cancelled RunState = "cancelled"
)

// Final reports whether s is a final state.
func (s RunState) Final() bool { return s == Succeeded || s == Failed || s == Cancelled }

// Result is what a driver knows of one action.
type Result struct {
	ID     string   `json:"id"`
	Action string   `json:"action"`
	State  RunState `json:"state"`
	// Values are the measured outputs (set when Succeeded).
	Values map[string]float64 `json:"values,omitempty"`
	// Reason explains Failed and Cancelled (instrument's wording, sanitised
	// by the caller before it is shown).
	Reason    string     `json:"reason,omitempty"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
}

// AdminCommand is a command to the instrument itself (MADSci's admin
// commands).
type AdminCommand string

const (
	SafetyStop AdminCommand = "safety_stop" // halt everything now; nothing starts until Reset
	Reset      AdminCommand = "reset"       // clear an e-stop or error
	Pause      AdminCommand = "pause"
	Resume     AdminCommand = "resume"
	CancelAll  AdminCommand = "cancel" // cancel running actions
	Lock       AdminCommand = "lock"
	Unlock     AdminCommand = "unlock"
	Shutdown   AdminCommand = "shutdown"
)

// Driver runs actions on one instrument. Every method honours ctx.
type Driver interface {
	Info(ctx context.Context) (*Info, error)
	Status(ctx context.Context) (*NodeStatus, error)
	// Start begins req, idempotent by req.ID (see the package doc).
	Start(ctx context.Context, req Request) (*Result, error)
	// Result reports on an action Start began.
	Result(ctx context.Context, id string) (*Result, error)
	// Admin sends a command to the instrument; a driver that does not
	// support cmd returns errors.Invalid.
	Admin(ctx context.Context, cmd AdminCommand) error
	// Close releases the driver's resources.
	Close() error
}

// Config is what a driver is built from: the instrument's kind, its
// endpoint (for drivers that reach a node) and its driver-specific
// settings, as stored by the instrument registry. StateDir is a directory
// the driver may keep durable state in (a simulator's action journal); it
// survives restarts.
type Config struct {
	Kind     string          `json:"kind"`
	Endpoint string          `json:"endpoint,omitempty"`
	Settings json.RawMessage `json:"settings,omitempty"`
	StateDir string          `json:"-"`
}

// Opener builds a driver from its configuration. It validates the
// settings (errors.Invalid naming the field) without reaching the node.
type Opener func(cfg Config) (Driver, error)

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Opener{}
)

// RegisterKind makes a driver kind available to Open. Drivers call it
// from init; registering a kind twice panics.
func RegisterKind(kind string, open Opener) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[kind]; dup {
		panic("lab: driver kind " + kind + " registered twice")
	}
	kinds[kind] = open
}

// Kinds lists the registered driver kinds, sorted.
func Kinds() []string {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Open builds a driver of cfg.Kind.
func Open(cfg Config) (Driver, error) {
	kindsMu.RLock()
	open := kinds[cfg.Kind]
	kindsMu.RUnlock()
	if open == nil {
		return nil, errors.E(errors.Op("lab.Open"), errors.Invalid, errors.Field("kind"), errors.Msg("unknown instrument kind "+quote(cfg.Kind)))
	}
	return open(cfg)
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

// Fleet is what a campaign runner needs of the instrument registry
// (lab/instruments implements it). Instruments are named by ID.
type Fleet interface {
	// Select lists the instruments an executor names — one instrument
	// (by name or ID), or the members of a workcell that offer action —
	// that p may see, by ID. errors.NotExist when there are none.
	Select(ctx context.Context, p *genesis.Principal, instrument, workcell, action string) ([]string, error)
	// Action describes action on the instrument: its parameters with
	// their safety bounds, and its outputs. errors.NotExist if it has none
	// such.
	Action(ctx context.Context, instrumentID, action string) (*Action, error)
	// Admit decides whether req may be dispatched now to the instrument
	// for campaign campaignID, whose label is l. Its errors say what to do:
	//   - errors.Invalid: never (a parameter is unknown or outside its
	//     safety bound; the message names the parameter and the bound):
	//     the experiment fails.
	//   - errors.Permission: not for this campaign (the instrument is not
	//     accredited for l, or its operator does not hold l's agreements
	//     or nationality): the campaign pauses with the message as reason.
	//   - errors.Conflict: not now — an interlock (the instrument is in
	//     error, offline, paused or e-stopped), a lock held by another
	//     campaign, or a hazardous action awaiting its approval (the
	//     message says which): ask again later.
	// A request with an empty ID asks without dispatching (a campaign
	// being created): every check but the per-request approval of a
	// hazardous action, which is asked for only by a real dispatch.
	Admit(ctx context.Context, instrumentID, campaignID string, l label.Label, req Request) error
	// Driver returns the instrument's driver (shared; do not Close it).
	Driver(ctx context.Context, instrumentID string) (Driver, error)
	// OnHalt registers f, called after an instrument is e-stopped, or
	// found in error or offline, with a reason to show.
	OnHalt(f func(instrumentID, reason string))
}
