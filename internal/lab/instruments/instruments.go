// Package instruments is the registry of the lab's instruments and the
// keeper of their safety rules. An instrument is a driver kind (lab.Open),
// where it is and who runs it, the highest label it may process (its
// accreditation, with its operators' nationalities), the actions its
// driver reports — with safety bounds an operator may narrow but never
// widen — and its live status, polled from the driver by Poller.
//
// The registry implements lab.Fleet: Admit is the one gate every action
// passes before dispatch, and it enforces, in this order, the action's
// parameter bounds (errors.Invalid), the accreditation (errors.Permission),
// the interlocks — error, offline, paused, e-stopped (errors.Conflict) —,
// the lock of another campaign (errors.Conflict), and the named human
// approval a hazardous action needs (errors.Conflict while pending,
// errors.Invalid once denied). An emergency stop is recorded before the
// instrument is told, so dispatch halts even when the node cannot be
// reached.
//
// Instrument records are OPEN infrastructure knowledge, as sites are:
// every authenticated principal may read them; operators and
// administrators change and operate them. Hazardous-action approvals carry
// the requesting campaign's label: one the caller may not see is missing.
package instruments

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compartment"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Bound narrows one parameter's safety bounds: Min and Max for number and
// integer parameters, Choices (a subset of the driver's) for choice ones.
type Bound struct {
	Min     *float64 `json:"min,omitempty" yaml:"min,omitempty"`
	Max     *float64 `json:"max,omitempty" yaml:"max,omitempty"`
	Choices []string `json:"choices,omitempty" yaml:"choices,omitempty"`
}

// Bounds are an operator's safety bounds, by action and parameter.
type Bounds map[string]map[string]Bound

// Instrument is an instrument as the API shows it. Actions carry the
// effective safety bounds (the driver's, narrowed by the operator's).
type Instrument struct {
	ID            string           `json:"id"`
	Name          string           `json:"name"`
	Kind          string           `json:"kind"`
	Endpoint      string           `json:"endpoint,omitempty"`
	HasSettings   bool             `json:"has_settings"` // settings may hold a node's credentials: never shown
	Lab           string           `json:"lab,omitempty"`
	Location      string           `json:"location,omitempty"`
	OwnerOrg      string           `json:"owner_org,omitempty"`
	Nationalities []string         `json:"operator_nationalities,omitempty"`
	Workcell      string           `json:"workcell,omitempty"` // the workcell's name
	Accreditation string           `json:"accreditation"`
	Model         string           `json:"model,omitempty"`
	Actions       []lab.Action     `json:"actions"`
	Bounds        Bounds           `json:"operator_bounds,omitempty"`
	Consumables   []lab.Consumable `json:"consumables,omitempty"`
	// Status is what Admit goes by: e-stopped while an emergency stop
	// holds, offline while an operator holds it so, else what the driver
	// last reported.
	Status       lab.Status `json:"status"`
	StatusReason string     `json:"status_reason,omitempty"`
	// Running counts the actions the driver last reported not yet final.
	Running   int        `json:"running"`
	LockedBy  string     `json:"locked_by,omitempty"` // a campaign ID
	CheckedAt *time.Time `json:"checked_at,omitempty"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	UpdatedAt time.Time  `json:"updated_at"`

	// Kept for Admit and the drivers, not shown.
	settings  json.RawMessage
	workcell  string // ID
	liveState lab.Status
	estopped  bool
	held      bool
}

// Action returns the named action (with effective bounds), or nil.
func (in *Instrument) Action(name string) *lab.Action {
	for i := range in.Actions {
		if in.Actions[i].Name == name {
			return &in.Actions[i]
		}
	}
	return nil
}

// Registry keeps the instruments, their drivers and their safety state.
type Registry struct {
	db    store.DB
	authz *authz.Authorizer
	users interface {
		AuthzPrincipal(ctx context.Context, p *genesis.Principal) (authz.Principal, error)
	}
	stateRoot string

	// Audit receives a record of every change, emergency stop, reset,
	// lock and approval decision. Nil records nothing (tests).
	Audit audit.Appender
	// Log receives what cannot be returned (a node that did not take a
	// safety stop). Nil: slog.Default.
	Log *slog.Logger
	// Timeout bounds each call to a driver made for the registry
	// (Info, Status, admin commands). Default 10 s.
	Timeout time.Duration

	now func() time.Time

	mu      sync.Mutex
	drivers map[string]lab.Driver
	halts   []func(instrumentID, reason string)
}

var _ lab.Fleet = (*Registry)(nil)

// New returns the registry. Each instrument's driver keeps its durable
// state in stateRoot/<instrument ID>.
func New(db store.DB, az *authz.Authorizer, users interface {
	AuthzPrincipal(ctx context.Context, p *genesis.Principal) (authz.Principal, error)
}, stateRoot string) *Registry {
	return &Registry{db: db, authz: az, users: users, stateRoot: stateRoot, now: time.Now, drivers: map[string]lab.Driver{}}
}

var openLabel = label.MustParse("OPEN")

func (r *Registry) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

func (r *Registry) timeout() time.Duration {
	if r.Timeout > 0 {
		return r.Timeout
	}
	return 10 * time.Second
}

// can decides act on an instrument record (OPEN; see the package doc).
func (r *Registry) can(ctx context.Context, p *genesis.Principal, act authz.Action, id string) error {
	return r.canLabel(ctx, p, act, id, openLabel)
}

func (r *Registry) canLabel(ctx context.Context, p *genesis.Principal, act authz.Action, id string, l label.Label) error {
	if p == nil {
		return errors.E(errors.Unauthenticated)
	}
	ap, err := r.users.AuthzPrincipal(ctx, p)
	if err != nil {
		return err
	}
	err = r.authz.Can(ctx, ap, act, authz.Resource{Type: authz.Instrument, ID: id, Label: l})
	if err != nil && act != authz.Read && errors.Is(errors.Permission, err) {
		return errors.E(errors.Permission, errors.Msg("only operators and administrators change or operate instruments"))
	}
	return err
}

func (r *Registry) record(ctx context.Context, p *genesis.Principal, action, id, detail string, l label.Label) error {
	who := "genesis"
	if p != nil {
		who = string(p.ID)
	}
	return catalog.Record(ctx, r.Audit, audit.Record{Principal: who, Action: "instrument." + action, ObjectType: "instrument",
		ObjectID: id, Decision: audit.Allow, Detail: truncate(detail, 1024)}, l)
}

func invalid(field, msg string) error {
	return errors.E(errors.Op("instruments"), errors.Invalid, errors.Field(field), errors.Msg(msg))
}

// Spec describes an instrument to add (the body of POST
// /api/v1/instruments and the file of `genesis instrument add -f`).
type Spec struct {
	Name          string          `json:"name" yaml:"name"`
	Kind          string          `json:"kind" yaml:"kind"`
	Endpoint      string          `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	Settings      json.RawMessage `json:"settings,omitempty" yaml:"-"`
	Lab           string          `json:"lab,omitempty" yaml:"lab,omitempty"`
	Location      string          `json:"location,omitempty" yaml:"location,omitempty"`
	OwnerOrg      string          `json:"owner_org,omitempty" yaml:"owner_org,omitempty"`
	Nationalities []string        `json:"operator_nationalities,omitempty" yaml:"operator_nationalities,omitempty"`
	Workcell      string          `json:"workcell,omitempty" yaml:"workcell,omitempty"`
	Accreditation string          `json:"accreditation" yaml:"accreditation"`
	Bounds        Bounds          `json:"bounds,omitempty" yaml:"bounds,omitempty"`
}

// MaxSettings bounds an instrument's driver settings.
const MaxSettings = 64 << 10

// check validates s; it returns the accreditation's canonical marking,
// which the caller parses with compartment.Parse in its transaction.
func (s *Spec) check() (string, error) {
	if err := text.Name("name", s.Name); err != nil {
		return "", err
	}
	if err := text.First(text.Line("kind", s.Kind, 64), text.Line("endpoint", s.Endpoint, 2048), text.Line("lab", s.Lab, text.MaxLine),
		text.Line("location", s.Location, text.MaxLine), text.Line("owner_org", s.OwnerOrg, text.MaxLine), text.Line("workcell", s.Workcell, 128)); err != nil {
		return "", err
	}
	if s.Kind == "" {
		return "", invalid("kind", "kind is required (one of "+strings.Join(lab.Kinds(), ", ")+")")
	}
	if !slices.Contains(lab.Kinds(), s.Kind) {
		return "", invalid("kind", "unknown instrument kind "+quote(s.Kind)+" (known: "+strings.Join(lab.Kinds(), ", ")+")")
	}
	if len(s.Settings) > MaxSettings {
		return "", invalid("settings", "settings are at most 64 KiB")
	}
	if len(s.Settings) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(s.Settings, &obj); err != nil || obj == nil {
			return "", invalid("settings", "settings must be a JSON object")
		}
	}
	if s.Accreditation == "" {
		return "", invalid("accreditation", "accreditation is required (the highest label the instrument may process, e.g. OPEN)")
	}
	acc, err := label.Canonical(s.Accreditation)
	if err != nil {
		return "", invalid("accreditation", "accreditation: "+label.Message(err))
	}
	if len(s.Nationalities) > 64 {
		return "", invalid("operator_nationalities", "at most 64 operator nationalities")
	}
	nats := make([]string, len(s.Nationalities))
	for i, n := range s.Nationalities {
		nats[i] = strings.ToUpper(n)
		if !label.IsNation(nats[i]) {
			return "", invalid("operator_nationalities", "nationalities are ISO 3166-1 alpha-3 codes")
		}
	}
	s.Nationalities = nats
	return acc, nil
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func truncate(s string, n int) string {
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
}

// cleanConsumables cleans the names and units a driver reports.
func cleanConsumables(cs []lab.Consumable) []lab.Consumable {
	for i := range cs {
		cs[i].Name, cs[i].Unit = outside(cs[i].Name), outside(cs[i].Unit)
	}
	return cs
}

// outside bounds and cleans text from a driver or node: it is shown on
// terminals.
func outside(s string) string {
	s, _ = text.Sanitize(truncate(s, 1024), false)
	return s
}

// driverCall bounds one call to a driver.
func (r *Registry) driverCall(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.timeout())
}

// Add registers an instrument (operators and administrators). It opens the
// driver and reads its description — actions, parameters, units, bounds,
// outputs and consumables — which must be reachable now.
func (r *Registry) Add(ctx context.Context, p *genesis.Principal, s Spec) (*Instrument, error) {
	const op errors.Op = "instruments.Add"
	if err := r.can(ctx, p, authz.Write, "new-instrument"); err != nil {
		return nil, errors.E(op, err)
	}
	in, err := r.add(ctx, p, s)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return r.Get(ctx, p, in.ID)
}

// Ensure registers the instrument s describes when none of its name
// exists, on the platform's behalf: it is for `genesis up` (a demo
// workcell of simulated instruments), not the API.
func (r *Registry) Ensure(ctx context.Context, s Spec) (bool, error) {
	const op errors.Op = "instruments.Ensure"
	_, err := r.load(ctx, s.Name)
	if err == nil {
		return false, nil
	}
	if !errors.Is(errors.NotExist, err) {
		return false, errors.E(op, err)
	}
	_, err = r.add(ctx, nil, s)
	if errors.Is(errors.Exist, err) {
		return false, nil // added meanwhile
	}
	if err != nil {
		return false, errors.E(op, err)
	}
	return true, nil
}

// add registers s for p (nil: the platform itself).
func (r *Registry) add(ctx context.Context, p *genesis.Principal, s Spec) (*Instrument, error) {
	const op errors.Op = "instruments.Add"
	acc, err := s.check()
	if err != nil {
		return nil, errors.E(op, err)
	}
	createdBy := "genesis"
	if p != nil {
		createdBy = string(p.ID)
	}
	id := identity.NewID("ins")
	drv, err := lab.Open(lab.Config{Kind: s.Kind, Endpoint: s.Endpoint, Settings: s.Settings, StateDir: filepath.Join(r.stateRoot, id)})
	if err != nil {
		return nil, errors.E(op, err)
	}
	keep := false
	defer func() {
		if !keep {
			// The ID is new: whatever the driver kept is no one's.
			drv.Close()
			os.RemoveAll(filepath.Join(r.stateRoot, id))
		}
	}()
	cctx, cancel := r.driverCall(ctx)
	info, err := drv.Info(cctx)
	cancel()
	if err != nil {
		return nil, errors.E(op, errors.KindOf(err), errors.Field("endpoint"), errors.Msg("cannot read the instrument's description: "+outside(errors.SafeMessage(err))), err)
	}
	if err := checkInfo(info); err != nil {
		return nil, errors.E(op, err)
	}
	if err := narrowable(info, s.Bounds); err != nil {
		return nil, errors.E(op, err)
	}
	in := &Instrument{ID: id, Name: s.Name, Kind: s.Kind, Endpoint: s.Endpoint, settings: s.Settings, Lab: s.Lab, Location: s.Location,
		OwnerOrg: s.OwnerOrg, Nationalities: s.Nationalities, Accreditation: acc, Model: outside(info.Model), Bounds: s.Bounds,
		Consumables: info.Consumables, liveState: lab.Idle}
	cctx, cancel = r.driverCall(ctx)
	if st, err := drv.Status(cctx); err != nil {
		in.liveState, in.StatusReason = lab.Offline, "cannot reach the instrument: "+outside(errors.SafeMessage(err))
	} else {
		in.liveState, in.StatusReason, in.Running = st.Status, outside(st.Reason), len(st.Running)
		if st.Consumables != nil {
			in.Consumables = cleanConsumables(st.Consumables)
		}
	}
	cancel()
	infoJSON, _ := json.Marshal(info)
	boundsJSON, _ := json.Marshal(s.Bounds)
	consJSON, _ := json.Marshal(in.Consumables)
	now := r.now().UTC().Truncate(time.Microsecond)
	err = r.db.Update(ctx, func(tx store.Tx) error {
		if _, err := compartment.Parse(ctx, tx, "accreditation", acc); err != nil {
			return err
		}
		if s.Workcell != "" {
			wc, err := workcellIn(ctx, tx, s.Workcell)
			if errors.Is(errors.NotExist, err) {
				return invalid("workcell", "no workcell "+quote(s.Workcell)+" (create it with genesis workcell add)")
			}
			if err != nil {
				return err
			}
			in.workcell, in.Workcell = wc.ID, wc.Name
		}
		_, err := tx.Exec(ctx, `INSERT INTO instruments (id, name, kind, endpoint, settings, lab, location, owner_org, nationalities, workcell,
			accreditation, model, info, bounds, status, status_reason, consumables, running, held, held_reason, estopped_at, estop_reason,
			locked_by, checked_at, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', NULL, '', '', ?, ?, ?, ?)`,
			in.ID, in.Name, in.Kind, in.Endpoint, string(in.settings), in.Lab, in.Location, in.OwnerOrg, strings.Join(in.Nationalities, ","), in.workcell,
			acc, in.Model, string(infoJSON), string(boundsJSON), string(in.liveState), in.StatusReason, string(consJSON), in.Running,
			store.T(now), createdBy, store.T(now), store.T(now))
		return err
	})
	if errors.Is(errors.Exist, err) {
		return nil, errors.E(op, errors.Exist, errors.Field("name"), errors.Msg("an instrument with that name exists"))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	r.mu.Lock()
	r.drivers[id] = drv
	r.mu.Unlock()
	keep = true
	r.record(ctx, p, "add", id, "added "+in.Name+" ("+in.Kind+"), accredited "+acc, openLabel)
	return in, nil
}

// Bounds on a driver's description: it comes from outside.
const (
	maxActions = 256
	maxParams  = 64
)

// checkInfo refuses a description Admit could not enforce, and cleans the
// text in it (a node's descriptions and units are shown on terminals).
func checkInfo(info *lab.Info) error {
	if info == nil {
		return errors.E(errors.Transient, errors.Msg("the instrument's driver returned no description"))
	}
	if len(info.Actions) > maxActions {
		return errors.E(errors.Invalid, errors.Field("endpoint"), errors.Msg("the instrument's description has more than 256 actions"))
	}
	info.Model = outside(info.Model)
	info.Consumables = cleanConsumables(info.Consumables)
	seen := map[string]bool{}
	for i := range info.Actions {
		a := &info.Actions[i]
		a.Description = outside(a.Description)
		for j := range a.Outputs {
			a.Outputs[j].Name, a.Outputs[j].Unit = outside(a.Outputs[j].Name), outside(a.Outputs[j].Unit)
		}
		if len(a.Params) > maxParams {
			return errors.E(errors.Invalid, errors.Field("endpoint"), errors.Msg("action "+quote(a.Name)+" has more than 64 parameters"))
		}
		for j := range a.Params {
			p := &a.Params[j]
			p.Description, p.Unit = outside(p.Description), outside(p.Unit)
			if text.Line("name", p.Name, 128) != nil {
				return errors.E(errors.Invalid, errors.Field("endpoint"), errors.Msg("action "+quote(a.Name)+" has a parameter whose name is not plain text"))
			}
			for _, v := range []*float64{p.Min, p.Max} {
				if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
					return errors.E(errors.Invalid, errors.Field("endpoint"), errors.Msg("parameter "+quote(p.Name)+" of action "+quote(a.Name)+" has a bound that is not a finite number"))
				}
			}
		}
		if text.Line("name", a.Name, 128) != nil {
			return errors.E(errors.Invalid, errors.Field("endpoint"), errors.Msg("the instrument's description has an action whose name is not plain text"))
		}
		if a.Name == "" || seen[a.Name] {
			return errors.E(errors.Invalid, errors.Field("endpoint"), errors.Msg("the instrument's description names an action twice or not at all"))
		}
		seen[a.Name] = true
		ps := map[string]bool{}
		for _, prm := range a.Params {
			if prm.Name == "" || ps[prm.Name] {
				return errors.E(errors.Invalid, errors.Field("endpoint"), errors.Msg("action "+quote(a.Name)+" names a parameter twice or not at all"))
			}
			ps[prm.Name] = true
			switch prm.Kind {
			case lab.Number, lab.Integer, lab.Choice:
			default:
				return errors.E(errors.Invalid, errors.Field("endpoint"), errors.Msg("parameter "+quote(prm.Name)+" of action "+quote(a.Name)+" has an unknown kind"))
			}
		}
	}
	return nil
}

const cols = `id, name, kind, endpoint, settings, lab, location, owner_org, nationalities, workcell, COALESCE((SELECT name FROM workcells w WHERE w.id = instruments.workcell), ''),
	accreditation, model, info, bounds, status, status_reason, consumables, running, held, held_reason, estopped_at, estop_reason, locked_by,
	checked_at, created_by, created_at, updated_at`

func scan(sc interface{ Scan(...any) error }) (*Instrument, error) {
	var in Instrument
	var settings, nats, infoJSON, boundsJSON, consJSON, live, held, heldReason, estopReason string
	var estopAt, checked *int64
	var c, u int64
	if err := sc.Scan(&in.ID, &in.Name, &in.Kind, &in.Endpoint, &settings, &in.Lab, &in.Location, &in.OwnerOrg, &nats, &in.workcell, &in.Workcell,
		&in.Accreditation, &in.Model, &infoJSON, &boundsJSON, &live, &in.StatusReason, &consJSON, &in.Running, &held, &heldReason, &estopAt, &estopReason,
		&in.LockedBy, &checked, &in.CreatedBy, &c, &u); err != nil {
		return nil, err
	}
	if nats != "" {
		in.Nationalities = strings.Split(nats, ",")
	}
	in.settings, in.HasSettings = json.RawMessage(settings), settings != ""
	var info lab.Info
	json.Unmarshal([]byte(infoJSON), &info)
	json.Unmarshal([]byte(boundsJSON), &in.Bounds)
	json.Unmarshal([]byte(consJSON), &in.Consumables)
	in.Actions = effective(&info, in.Bounds)
	in.liveState, in.held, in.estopped = lab.Status(live), held != "", estopAt != nil
	in.Status = in.liveState
	switch {
	case in.estopped:
		in.Status, in.StatusReason = lab.EStopped, estopReason
	case in.held:
		in.Status, in.StatusReason = lab.Offline, heldReason
	}
	in.CheckedAt, in.CreatedAt, in.UpdatedAt = store.FromNullT(checked), store.FromT(c), store.FromT(u)
	return &in, nil
}

// load reads one instrument by name or ID, with no decision.
func (r *Registry) load(ctx context.Context, idOrName string) (*Instrument, error) {
	var in *Instrument
	err := r.db.View(ctx, func(tx store.Tx) error {
		var err error
		in, err = scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM instruments WHERE id = ? OR name = ?`, idOrName, idOrName))
		return err
	})
	if errors.Is(errors.NotExist, err) {
		return nil, errors.E(errors.NotExist, errors.Msg("no instrument "+quote(idOrName)))
	}
	return in, err
}

// Simulated reports whether the instrument is a simulator (kind sim): the
// campaign runner marks the results of a campaign on simulators only as
// synthetic data.
func (r *Registry) Simulated(ctx context.Context, instrumentID string) (bool, error) {
	in, err := r.load(ctx, instrumentID)
	if err != nil {
		return false, err
	}
	return in.Kind == "sim", nil
}

// All lists every instrument, by name, for the poller and the campaign
// runner (no principal).
func (r *Registry) All(ctx context.Context) ([]Instrument, error) {
	out := []Instrument{}
	err := r.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+cols+` FROM instruments ORDER BY name`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			in, err := scan(rows)
			if err == nil {
				out = append(out, *in)
			}
			return err
		})
	})
	return out, err
}

// List returns every instrument, by name.
func (r *Registry) List(ctx context.Context, p *genesis.Principal) ([]Instrument, error) {
	const op errors.Op = "instruments.List"
	if err := r.can(ctx, p, authz.Read, "instruments"); err != nil {
		return nil, errors.E(op, err)
	}
	out, err := r.All(ctx)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// Get returns one instrument by name or ID.
func (r *Registry) Get(ctx context.Context, p *genesis.Principal, idOrName string) (*Instrument, error) {
	const op errors.Op = "instruments.Get"
	in, err := r.load(ctx, idOrName)
	if err == nil {
		err = r.can(ctx, p, authz.Read, in.ID)
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return in, nil
}

// getFor returns the instrument if p may act on it.
func (r *Registry) getFor(ctx context.Context, p *genesis.Principal, act authz.Action, idOrName string) (*Instrument, error) {
	in, err := r.Get(ctx, p, idOrName)
	if err != nil {
		return nil, err
	}
	if err := r.can(ctx, p, act, in.ID); err != nil {
		return nil, err
	}
	return in, nil
}

// Remove deletes an instrument; it is refused while the instrument is
// locked by a campaign or running an action.
func (r *Registry) Remove(ctx context.Context, p *genesis.Principal, idOrName string) error {
	const op errors.Op = "instruments.Remove"
	in, err := r.getFor(ctx, p, authz.Delete, idOrName)
	if err != nil {
		return errors.E(op, err)
	}
	running := in.Running
	if d, err := r.Driver(ctx, in.ID); err == nil {
		cctx, cancel := r.driverCall(ctx)
		if st, err := d.Status(cctx); err == nil {
			running = len(st.Running)
		}
		cancel()
	}
	if running > 0 {
		return errors.E(op, errors.Conflict, errors.Msg(in.Name+" is running an action; remove it once it has finished"))
	}
	err = r.db.Update(ctx, func(tx store.Tx) error {
		var locked string
		if err := tx.QueryRow(ctx, `SELECT locked_by FROM instruments WHERE id = ?`, in.ID).Scan(&locked); err != nil {
			return err
		}
		if locked != "" {
			return errors.E(errors.Conflict, errors.Msg(in.Name+" is locked by campaign "+locked+"; unlock it first"))
		}
		_, err := tx.Exec(ctx, `DELETE FROM instruments WHERE id = ?`, in.ID)
		return err
	})
	if err != nil {
		return errors.E(op, err)
	}
	r.mu.Lock()
	d := r.drivers[in.ID]
	delete(r.drivers, in.ID)
	r.mu.Unlock()
	if d != nil {
		d.Close()
	}
	r.record(ctx, p, "remove", in.ID, "removed "+in.Name, openLabel)
	return nil
}

// Operator statuses SetStatus takes.
const (
	SetIdle        = "idle"        // clear an operator's hold
	SetOffline     = "offline"     // hold the instrument offline
	SetMaintenance = "maintenance" // hold it offline for maintenance
)

// SetStatus lets an operator take an instrument offline (offline or
// maintenance, with a reason) or bring it back (idle); the poller's
// reports do not clear the hold. An emergency stop is cleared only by
// Reset.
func (r *Registry) SetStatus(ctx context.Context, p *genesis.Principal, idOrName, status, reason string) (*Instrument, error) {
	const op errors.Op = "instruments.SetStatus"
	if err := text.Line("reason", reason, 1024); err != nil {
		return nil, errors.E(op, err)
	}
	var held string
	switch status {
	case SetIdle:
		reason = ""
	case SetOffline:
		held = SetOffline
		if reason == "" {
			reason = "taken offline by an operator"
		}
	case SetMaintenance:
		held = SetMaintenance
		if reason == "" {
			reason = "maintenance"
		} else {
			reason = "maintenance: " + reason
		}
	default:
		return nil, errors.E(op, invalid("status", "status must be idle, offline or maintenance"))
	}
	in, err := r.getFor(ctx, p, authz.Operate, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	now := store.T(r.now())
	err = r.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE instruments SET held = ?, held_reason = ?, updated_at = ? WHERE id = ?`, held, reason, now, in.ID)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	r.record(ctx, p, "set-status", in.ID, "status "+status+": "+reason, openLabel)
	if held != "" && !in.held && !in.estopped {
		r.halt(in.ID, in.Name+" is offline: "+reason)
	}
	return r.Get(ctx, p, in.ID)
}

// Refresh reads the instrument's description from its driver again (after
// a node's actions or consumables changed).
func (r *Registry) Refresh(ctx context.Context, p *genesis.Principal, idOrName string) (*Instrument, error) {
	const op errors.Op = "instruments.Refresh"
	in, err := r.getFor(ctx, p, authz.Operate, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	d, err := r.Driver(ctx, in.ID)
	if err != nil {
		return nil, errors.E(op, err)
	}
	cctx, cancel := r.driverCall(ctx)
	info, err := d.Info(cctx)
	cancel()
	if err == nil {
		err = checkInfo(info)
	}
	if err != nil {
		return nil, errors.E(op, errors.KindOf(err), errors.Msg("cannot read the instrument's description: "+outside(errors.SafeMessage(err))), err)
	}
	infoJSON, _ := json.Marshal(info)
	consJSON, _ := json.Marshal(info.Consumables)
	now := store.T(r.now())
	err = r.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE instruments SET model = ?, info = ?, consumables = ?, updated_at = ? WHERE id = ?`,
			outside(info.Model), string(infoJSON), string(consJSON), now, in.ID)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	r.record(ctx, p, "refresh", in.ID, "description read again", openLabel)
	return r.Get(ctx, p, in.ID)
}

// Driver returns the instrument's driver, opening it on first use
// (shared; do not Close it).
func (r *Registry) Driver(ctx context.Context, instrumentID string) (lab.Driver, error) {
	r.mu.Lock()
	d := r.drivers[instrumentID]
	r.mu.Unlock()
	if d != nil {
		return d, nil
	}
	in, err := r.load(ctx, instrumentID)
	if err != nil {
		return nil, errors.E(errors.Op("instruments.Driver"), err)
	}
	d, err = lab.Open(lab.Config{Kind: in.Kind, Endpoint: in.Endpoint, Settings: in.settings, StateDir: filepath.Join(r.stateRoot, in.ID)})
	if err != nil {
		return nil, errors.E(errors.Op("instruments.Driver"), err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if have := r.drivers[in.ID]; have != nil {
		d.Close()
		return have, nil
	}
	r.drivers[in.ID] = d
	return d, nil
}

// Close closes every driver the registry opened.
func (r *Registry) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, d := range r.drivers {
		d.Close()
		delete(r.drivers, id)
	}
	return nil
}
