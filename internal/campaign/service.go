package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compartment"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Campaign states.
const (
	Draft     = "draft"
	Running   = "running"
	Paused    = "paused"
	Stopped   = "stopped"
	Completed = "completed"
	FailedC   = "failed"
)

// Experiment states.
const (
	Proposed   = "proposed"
	Dispatched = "dispatched"
	InFlight   = "running"
	Observed   = "observed"
	ExpFailed  = "failed"
	Cancelled  = "cancelled"
)

// ExperimentExecutor runs experiments of one kind; Start is idempotent by
// key. (The contract called it Executor; that name is taken by the spec's
// Executor struct in spec.go.)
type ExperimentExecutor interface {
	Start(ctx context.Context, c *Campaign, e *Experiment, key string) error
	// Poll reports the experiment's state: lab.Running/Pending (not final), or
	// lab.Succeeded with values, lab.Failed/Cancelled with a reason.
	Poll(ctx context.Context, c *Campaign, e *Experiment, key string) (*lab.Result, error)
}

// Counts counts a campaign's experiments by state.
type Counts struct {
	Proposed   int `json:"proposed"`
	Dispatched int `json:"dispatched"`
	Running    int `json:"running"`
	Observed   int `json:"observed"`
	Failed     int `json:"failed"`
	Cancelled  int `json:"cancelled"`
}

// Campaign is a stored campaign.
type Campaign struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Owner   string `json:"owner"`
	Project string `json:"project,omitempty"`
	Label   string `json:"label"`
	// State is draft, running, paused, stopped, completed or failed.
	State string `json:"state"`
	// Reason says why the campaign is paused, stopped or failed.
	Reason string `json:"reason,omitempty"`
	// Waiting says why a running campaign's next experiment is not being
	// dispatched now: an instrument offline, in error or e-stopped, locked
	// by another campaign, or a hazardous action awaiting its approval. It
	// is what this replica's runner last heard, cleared by a dispatch.
	Waiting string `json:"waiting,omitempty"`
	Spec    Spec   `json:"spec"`
	Counts  Counts `json:"counts"`
	// Best is the best observed experiment so far, nil if none.
	Best *Experiment `json:"best,omitempty"`
	// Dataset and Model name the output dataset and surrogate model, once made.
	Dataset   string     `json:"dataset,omitempty"`
	Model     string     `json:"model,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Experiment is one proposed point and what became of it.
type Experiment struct {
	ID       string         `json:"id"`
	Campaign string         `json:"campaign"`
	Seq      int            `json:"seq"`
	Batch    int            `json:"batch"`
	Attempt  int            `json:"attempt"`
	Params   map[string]any `json:"params"`
	// State is proposed, dispatched, running, observed, failed or cancelled.
	State        string             `json:"state"`
	Instrument   string             `json:"instrument,omitempty"`
	Job          string             `json:"job,omitempty"`
	Values       map[string]float64 `json:"values,omitempty"`
	Reason       string             `json:"reason,omitempty"`
	ProposedAt   time.Time          `json:"proposed_at"`
	DispatchedAt *time.Time         `json:"dispatched_at,omitempty"`
	EndedAt      *time.Time         `json:"ended_at,omitempty"`
}

// ListOptions filters and pages List.
type ListOptions struct {
	State  string
	Cursor string
	Limit  int
}

// ExperimentOptions filters and pages Experiments (by seq).
type ExperimentOptions struct {
	State  string
	Cursor string
	Limit  int
}

// Service creates, reads and runs campaigns.
type Service struct {
	db  store.DB
	az  *authz.Authorizer
	ids *identity.Service
	cat *catalog.Service
	log audit.Appender

	mu    sync.Mutex
	fleet lab.Fleet
	jobs  ExperimentExecutor

	// Runner settings; the zero values are the defaults (tests shorten them).
	Tick           time.Duration // how often the loop wakes when idle (25 ms)
	LeaseTTL       time.Duration // how long a campaign's lease lasts unrenewed (lease.DefaultTTL, 6 s)
	TransientLimit time.Duration // how long a node may answer Transient before the campaign pauses (2 min)
	CallTimeout    time.Duration // bound on one call to a driver or executor (5 s)
	// StuckAfter pauses a campaign whose experiment runs this many times
	// its action's nominal duration (and at least 10 minutes more) (10).
	StuckAfter float64
	StuckGrace time.Duration // added to StuckAfter × nominal (10 min)
	// WorkDir holds the files committed as outputs (os.TempDir()).
	WorkDir string
	// OnError receives errors of the runner loop that it retries.
	OnError func(error)

	now    func() time.Time
	me     string // this runner's lease holder ID
	leases *lease.Leases
	// leaseMu guards held and is never held across a store call;
	// acquireMu makes taking, renewing and releasing leases take turns
	// (see acquire).
	leaseMu sync.Mutex
	held    map[string]heldLease // the campaign leases this runner holds, by campaign ID
	trouble sync.Map

	acquireMu sync.Mutex

	// waiting holds, by campaign ID, why its next experiment waits (the
	// fleet's "not now"); a dispatch clears it.
	waiting sync.Map
	opts    optCache // the optimizers of the campaigns it drives
	pollMu  sync.Mutex
	polls   map[string]*polling // questions out to nodes, by key
	wake    chan struct{}
	// suggesting is the time spent in the optimizer's Suggest (ns), which
	// the overhead benchmark leaves out.
	suggesting atomic.Int64
}

// New returns a campaign service over db.
func New(db store.DB, az *authz.Authorizer, ids *identity.Service, cat *catalog.Service, log audit.Appender) *Service {
	return &Service{db: db, az: az, ids: ids, cat: cat, log: log, now: time.Now, me: identity.NewID("runner"), wake: make(chan struct{}, 1),
		leases: lease.New(db), held: map[string]heldLease{}}
}

// SetFleet sets the instrument registry the instrument executor uses, and
// pauses the campaigns an e-stopped instrument serves.
func (s *Service) SetFleet(f lab.Fleet) {
	s.mu.Lock()
	s.fleet = f
	s.mu.Unlock()
	if f != nil {
		f.OnHalt(s.halted)
	}
}

// SetJobs sets the compute-job executor.
func (s *Service) SetJobs(x ExperimentExecutor) {
	s.mu.Lock()
	s.jobs = x
	s.mu.Unlock()
}

func (s *Service) getFleet() lab.Fleet {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fleet
}

func (s *Service) executor(c *Campaign) (ExperimentExecutor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Spec.Executor.Job != nil {
		if s.jobs == nil {
			return nil, errors.E(errors.Unavailable, errors.Msg("compute-job campaigns are not available on this server"))
		}
		return s.jobs, nil
	}
	if s.fleet == nil {
		return nil, errors.E(errors.Unavailable, errors.Msg("no instruments are available on this server"))
	}
	return instrumentExecutor{fleet: s.fleet}, nil
}

func invalidOp(op errors.Op, field, msg string) error {
	return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(msg))
}

// Create stores a new campaign in state draft. Its spec is validated; its
// label is the join of the spec's label and its prior data's labels; its
// prior data is resolved as p sees the catalog (a dataset p may not read
// is not found) and read into the optimizer; its executor's instruments
// must exist, be visible to p and be accredited for its label.
func (s *Service) Create(ctx context.Context, p *genesis.Principal, spec *Spec) (*Campaign, error) {
	const op errors.Op = "campaign.Create"
	if spec == nil {
		return nil, invalidOp(op, "spec", "a campaign needs a spec")
	}
	sp := *spec
	if err := sp.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	if strings.HasPrefix(sp.Name, "cmp_") {
		return nil, invalidOp(op, "name", "names starting with cmp_ are campaign IDs")
	}
	if !genesis.ValidName(sp.Name) || len(sp.Name) > maxName {
		return nil, invalidOp(op, "name", "a campaign name is lower-case letters, digits, '-', '_' and '.', at most 53 characters (its outputs are named NAME-results and NAME-surrogate)")
	}
	ap, err := s.ids.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	project := ""
	if sp.Project != "" {
		prj, err := s.ids.Project(ctx, p, sp.Project)
		if err != nil {
			return nil, invalidOp(op, "project", "no such project (or you are not a member)")
		}
		project = string(prj.ID)
	}
	cfg, err := sp.OptimizerConfig()
	if err != nil {
		return nil, errors.E(op, err)
	}
	opt, err := bo.New(cfg)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("params"), err)
	}

	// Prior data, as p sees the catalog.
	join := label.Label{}
	var priors []catalog.VersionRef
	for i, pr := range sp.Prior {
		field := fmt.Sprintf("prior[%d].dataset", i)
		pts, vals, l, ref, err := s.readPrior(ctx, p, &sp, pr, field)
		if err != nil {
			return nil, errors.E(op, err)
		}
		if len(pts) > 0 {
			if err := opt.Observe(pts, vals); err != nil {
				return nil, errors.E(op, errors.Invalid, errors.Field(fmt.Sprintf("prior[%d]", i)), errors.Msg("prior data "+pr.Dataset+" does not fit the campaign: "+errors.SafeMessage(err)))
			}
		}
		join = label.Join(join, l)
		priors = append(priors, ref)
	}
	state, err := encodeOpt(opt)
	if err != nil {
		return nil, errors.E(op, err)
	}
	specJSON, err := json.Marshal(sp)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}

	now := s.now().UTC().Truncate(time.Microsecond)
	c := &Campaign{ID: identity.NewID("cmp"), Name: sp.Name, Title: sp.Title, Owner: string(p.ID), Project: project, State: Draft, Spec: sp, CreatedAt: now, UpdatedAt: now}
	marking := sp.Label
	if marking == "" {
		marking = "OPEN"
	}
	err = s.db.Update(ctx, func(tx store.Tx) error {
		l, err := compartment.ParseFor(ctx, tx, p, "label", marking)
		if err != nil {
			return err
		}
		c.Label = label.Join(l, join).Format()
		// Polyinstantiated names: a campaign p can read of that name is a
		// conflict; ones p cannot read are not there.
		if other, err := s.visibleNamed(ctx, tx, ap, sp.Name); err != nil {
			return err
		} else if other != nil {
			return errors.E(errors.Exist, errors.Field("name"), errors.Msg("a campaign named "+sp.Name+" exists ("+other.ID+")"))
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	res, err := s.resource(c)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.az.Can(ctx, ap, authz.Submit, res); err != nil {
		if errors.Is(errors.NotExist, err) {
			err = errors.E(errors.Permission, errors.Msg("you may not run campaigns at label "+c.Label))
		}
		return nil, errors.E(op, err)
	}

	// The executor's instruments, as p sees them, accredited for the label.
	var instruments []string
	if sp.Executor.Job == nil {
		fleet := s.getFleet()
		if fleet == nil {
			return nil, errors.E(op, errors.Unavailable, errors.Msg("no instruments are available on this server"))
		}
		instruments, err = s.selectInstruments(ctx, p, fleet, c, res.Label)
		if err != nil {
			return nil, errors.E(op, err)
		}
	} else if _, err := s.executor(c); err != nil {
		return nil, errors.E(op, errors.Field("executor.job"), err)
	}
	instJSON, _ := json.Marshal(instruments)
	priorJSON, _ := json.Marshal(priors)
	if instruments == nil {
		instJSON = []byte("[]")
	}
	if priors == nil {
		priorJSON = []byte("[]")
	}
	err = s.db.Update(ctx, func(tx store.Tx) error {
		if other, err := s.visibleNamed(ctx, tx, ap, sp.Name); err != nil {
			return err
		} else if other != nil {
			return errors.E(errors.Exist, errors.Field("name"), errors.Msg("a campaign named "+sp.Name+" exists ("+other.ID+")"))
		}
		// The label was checked against known compartments above; parse
		// it again here so that the insert and the check are one.
		if _, err := compartment.Parse(ctx, tx, "label", c.Label); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO campaigns (id, name, title, owner_id, project_id, label, spec, state, reason, optimizer, instruments, priors,
			dispatches, fed, next_seq, batches, committed_batch, finishing, wrapped, dataset, dataset_version, model, lease_owner, lease_until, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, 0, 0, 0, 0, 0, '', 0, '', 0, '', '', 0, ?, ?)`,
			c.ID, c.Name, c.Title, c.Owner, nullIf(project), c.Label, string(specJSON), c.State, state, string(instJSON), string(priorJSON), store.T(now), store.T(now))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.record(ctx, p, "create", c, audit.Allow, ""); err != nil {
		return nil, errors.E(op, err)
	}
	return c, nil
}

// maxName leaves room for the outputs' suffixes within a dataset name.
const maxName = 53

func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// readPrior reads one prior data file as p sees the catalog.
func (s *Service) readPrior(ctx context.Context, p *genesis.Principal, sp *Spec, pr Prior, field string) ([]bo.Point, [][]float64, label.Label, catalog.VersionRef, error) {
	ref, err := catalog.ParseRef(pr.Dataset)
	if err != nil {
		return nil, nil, label.Label{}, ref, errors.E(errors.Invalid, errors.Field(field), err)
	}
	if s.cat == nil {
		return nil, nil, label.Label{}, ref, errors.E(errors.NotExist, errors.Field(field), errors.Msg("dataset "+pr.Dataset+" not found"))
	}
	notFound := errors.E(errors.NotExist, errors.Field(field), errors.Msg("dataset "+pr.Dataset+" not found"))
	a, v, m, err := s.cat.Manifest(ctx, p, ref.Asset, ref.Version)
	if errors.Is(errors.NotExist, err) {
		return nil, nil, label.Label{}, ref, notFound
	}
	if err != nil {
		return nil, nil, label.Label{}, ref, err
	}
	file := pr.File
	if file == "" {
		for _, e := range m.Entries {
			if strings.HasSuffix(strings.ToLower(e.Path), ".csv") {
				if file != "" {
					return nil, nil, label.Label{}, ref, errors.E(errors.Invalid, errors.Field(strings.TrimSuffix(field, ".dataset")+".file"), errors.Msg("dataset "+pr.Dataset+" holds several CSV files; name one"))
				}
				file = e.Path
			}
		}
		if file == "" {
			return nil, nil, label.Label{}, ref, errors.E(errors.Invalid, errors.Field(strings.TrimSuffix(field, ".dataset")+".file"), errors.Msg("dataset "+pr.Dataset+" holds no CSV file"))
		}
	}
	r, _, _, _, err := s.cat.OpenFile(ctx, p, a.ID, v.Version, file)
	if errors.Is(errors.NotExist, err) {
		return nil, nil, label.Label{}, ref, errors.E(errors.Invalid, errors.Field(strings.TrimSuffix(field, ".dataset")+".file"), errors.Msg("dataset "+pr.Dataset+" has no file "+file))
	}
	if err != nil {
		return nil, nil, label.Label{}, ref, err
	}
	pts, vals, err := ReadPrior(sp, r, pr.Columns)
	if err != nil {
		return nil, nil, label.Label{}, ref, err
	}
	l, err := label.Parse(v.Label)
	if err != nil {
		return nil, nil, label.Label{}, ref, errors.E(errors.Internal, err)
	}
	al, err := label.Parse(a.Label)
	if err == nil {
		l = label.Join(l, al)
	}
	return pts, vals, l, catalog.VersionRef{Asset: a.ID, Version: v.Version}, nil
}

// selectInstruments resolves the executor's instruments through the fleet
// and refuses any not accredited for the campaign's label.
func (s *Service) selectInstruments(ctx context.Context, p *genesis.Principal, fleet lab.Fleet, c *Campaign, l label.Label) ([]string, error) {
	ex := c.Spec.Executor
	ids, err := fleet.Select(ctx, p, ex.Instrument, ex.Workcell, ex.Action)
	field, what := "executor.instrument", "instrument "+ex.Instrument
	if ex.Instrument == "" {
		field, what = "executor.workcell", "workcell "+ex.Workcell
	}
	if errors.Is(errors.NotExist, err) || err == nil && len(ids) == 0 {
		return nil, errors.E(errors.NotExist, errors.Field(field), errors.Msg(what+" not found, or none of its instruments offers action "+ex.Action))
	}
	if err != nil {
		return nil, err
	}
	sort.Strings(ids)
	params, err := c.Spec.ActionParams(c.Spec.middle())
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		a, err := fleet.Action(ctx, id, ex.Action)
		if err != nil {
			if errors.Is(errors.NotExist, err) {
				return nil, errors.E(errors.NotExist, errors.Field("executor.action"), errors.Msg("instrument "+id+" has no action "+ex.Action))
			}
			return nil, err
		}
		// Every experiment would be refused if the action's parameters do
		// not match the campaign's by name: say so now, not after the
		// budget is spent on refusals.
		if err := matchActionParams(&c.Spec, a, params, id); err != nil {
			return nil, err
		}
		// Accreditation: Admit says Permission when the instrument may not
		// serve the label (its interlocks and parameters are asked again
		// at each dispatch). It checks the parameters first, so it is
		// asked about a point inside the action's bounds: a campaign whose
		// space reaches past a bound is not refused here, nor let past the
		// accreditation check.
		err = fleet.Admit(ctx, id, c.ID, l, lab.Request{Action: ex.Action, Params: inBounds(a, params)})
		if errors.Is(errors.Permission, err) {
			return nil, errors.E(errors.Permission, errors.Field(field), errors.Msg("instrument "+id+" may not run this campaign: "+errors.SafeMessage(err)))
		}
	}
	return ids, nil
}

// matchActionParams checks that the action params of the campaign's
// experiments (params, one of them) are the action's by name, and that
// they give every parameter the action requires.
func matchActionParams(sp *Spec, a *lab.Action, params map[string]any, instrument string) error {
	names := map[string]*Param{}
	for _, p := range a.Params {
		names[p.Name] = nil
	}
	for _, k := range sortedKeys(params) {
		if _, ok := names[k]; ok {
			continue
		}
		field := "executor.params." + clip(k)
		if _, mapped := sp.Executor.Params[k]; !mapped {
			for i, p := range sp.Params {
				if p.Name == k {
					field = fmt.Sprintf("params[%d].name", i)
				}
			}
		}
		return invalid(field, fmt.Sprintf("unknown parameter %q for action %q of instrument %s%s (map campaign params to the action's in executor.params)",
			clip(k), a.Name, instrument, didYouMeanParam(k, names)))
	}
	for _, p := range a.Params {
		if _, ok := params[p.Name]; !ok && !p.Optional {
			return invalid("executor.params", fmt.Sprintf("instrument %s's action %q needs parameter %q: name a campaign param after it or set it in executor.params",
				instrument, a.Name, p.Name))
		}
	}
	return nil
}

// inBounds is params moved inside the action's safety bounds (and
// choices), for the admission check.
func inBounds(a *lab.Action, params map[string]any) map[string]any {
	out := maps.Clone(params)
	for _, p := range a.Params {
		v, ok := out[p.Name]
		if !ok {
			continue
		}
		if f, ok := v.(float64); ok {
			if p.Min != nil && f < *p.Min {
				f = *p.Min
			}
			if p.Max != nil && f > *p.Max {
				f = *p.Max
			}
			out[p.Name] = f
		}
		if s, ok := v.(string); ok && len(p.Choices) > 0 && !slices.Contains(p.Choices, s) {
			out[p.Name] = p.Choices[0]
		}
	}
	return out
}

// middle is a point of the search space (each param's middle, a
// categorical's first category) to ask the fleet about: Admit checks the
// parameters before the accreditation.
func (s *Spec) middle() map[string]any {
	out := map[string]any{}
	for _, p := range s.Params {
		switch {
		case len(p.Categories) > 0:
			out[p.Name] = p.Categories[0]
		case p.Low != nil && p.High != nil:
			v := (*p.Low + *p.High) / 2
			if p.Log && *p.Low > 0 {
				v = math.Sqrt(*p.Low * *p.High)
			}
			if p.Kind == "integer" {
				v = math.Round(v)
			}
			out[p.Name] = v
		}
	}
	return out
}

// resource is c as the authorizer sees it.
func (s *Service) resource(c *Campaign) (authz.Resource, error) {
	l, err := label.Parse(c.Label)
	if err != nil {
		return authz.Resource{}, errors.E(errors.Internal, err)
	}
	return authz.Resource{Type: authz.Campaign, ID: c.ID, Label: l, Owner: c.Owner, Project: c.Project}, nil
}

func (s *Service) can(ctx context.Context, p *genesis.Principal, act authz.Action, c *Campaign) error {
	ap, err := s.ids.AuthzPrincipal(ctx, p)
	if err != nil {
		return err
	}
	return s.canAs(ctx, ap, act, c)
}

func (s *Service) canAs(ctx context.Context, ap authz.Principal, act authz.Action, c *Campaign) error {
	res, err := s.resource(c)
	if err != nil {
		return err
	}
	return s.az.Can(ctx, ap, act, res)
}

// record puts an action on a campaign on the audit log under its label.
func (s *Service) record(ctx context.Context, p *genesis.Principal, action string, c *Campaign, dec audit.Decision, detail string) error {
	l, err := label.Parse(c.Label)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	return catalog.Record(ctx, s.log, audit.Record{Principal: string(p.ID), Action: "campaign." + action, ObjectType: "campaign", ObjectID: c.ID, Decision: dec, Detail: detail}, l)
}

// system records what the runner did to a campaign on its owner's behalf.
func (s *Service) system(ctx context.Context, c *Campaign, action, detail string) {
	l, err := label.Parse(c.Label)
	if err != nil {
		return
	}
	catalog.Record(ctx, s.log, audit.Record{Principal: c.Owner, Action: "campaign." + action, ObjectType: "campaign", ObjectID: c.ID, Decision: audit.Allow, Detail: "by the runner: " + truncate(detail, 512)}, l)
}

func (s *Service) notFound(ctx context.Context, p *genesis.Principal, action, asked string) {
	if s.log == nil {
		return
	}
	s.log.Append(context.WithoutCancel(ctx), audit.Record{Principal: string(p.ID), Action: "campaign." + action, ObjectType: "campaign",
		ObjectID: truncate(asked, 256), Decision: audit.Deny, RequestID: catalog.RequestID(ctx), Detail: "not found"})
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	s, _ = text.Sanitize(s, false)
	return s
}

// visibleNamed returns the oldest campaign named name that ap may read, or nil.
func (s *Service) visibleNamed(ctx context.Context, tx store.Tx, ap authz.Principal, name string) (*Campaign, error) {
	rows, err := tx.Query(ctx, `SELECT `+ccols+` FROM campaigns WHERE name = ? ORDER BY created_at, id`, name)
	if err != nil {
		return nil, err
	}
	var cs []*record
	if err := rows.Each(func() error {
		r, err := scanCampaign(rows)
		if err == nil {
			cs = append(cs, r)
		}
		return err
	}); err != nil {
		return nil, err
	}
	for _, r := range cs {
		if s.canAs(ctx, ap, authz.Read, &r.Campaign) == nil {
			return &r.Campaign, nil
		}
	}
	return nil, nil
}

// find resolves idOrName as p sees the campaigns (NotExist if hidden).
func (s *Service) find(ctx context.Context, p *genesis.Principal, idOrName string) (*record, error) {
	ap, err := s.ids.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, err
	}
	var r *record
	err = s.db.View(ctx, func(tx store.Tx) error {
		if strings.HasPrefix(idOrName, "cmp_") {
			var err error
			r, err = scanCampaign(tx.QueryRow(ctx, `SELECT `+ccols+` FROM campaigns WHERE id = ?`, idOrName))
			if err != nil {
				return err
			}
			if s.canAs(ctx, ap, authz.Read, &r.Campaign) != nil {
				return errors.E(errors.NotExist)
			}
			return nil
		}
		c, err := s.visibleNamed(ctx, tx, ap, idOrName)
		if err != nil {
			return err
		}
		if c == nil {
			return errors.E(errors.NotExist)
		}
		r, err = scanCampaign(tx.QueryRow(ctx, `SELECT `+ccols+` FROM campaigns WHERE id = ?`, c.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Get returns a campaign p may read, by ID or name (NotExist otherwise).
// Reads above OPEN are on the record, as jobs' are.
func (s *Service) Get(ctx context.Context, p *genesis.Principal, idOrName string) (*Campaign, error) {
	const op errors.Op = "campaign.Get"
	r, err := s.find(ctx, p, idOrName)
	if errors.Is(errors.NotExist, err) {
		s.notFound(ctx, p, "read", idOrName)
		return nil, errors.E(op, errors.NotExist, errors.Msg("campaign "+truncate(idOrName, 128)+" not found"))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.fill(ctx, &r.Campaign); err != nil {
		return nil, errors.E(op, err)
	}
	if l, err := label.Parse(r.Label); err != nil || l.Level() != label.Open {
		if err := s.record(ctx, p, "read", &r.Campaign, audit.Allow, ""); err != nil {
			return nil, errors.E(op, err)
		}
	}
	return &r.Campaign, nil
}

// fill computes c's counts and best experiment.
func (s *Service) fill(ctx context.Context, c *Campaign) error {
	c.Counts = Counts{}
	c.Waiting = ""
	if w, ok := s.waiting.Load(c.ID); ok && c.State == Running {
		c.Waiting = w.(string)
	}
	var best *Experiment
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT state, COUNT(*) FROM campaign_experiments WHERE campaign_id = ? GROUP BY state`, c.ID)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var st string
			var n int
			if err := rows.Scan(&st, &n); err != nil {
				return err
			}
			switch st {
			case Proposed:
				c.Counts.Proposed = n
			case Dispatched:
				c.Counts.Dispatched = n
			case InFlight:
				c.Counts.Running = n
			case Observed:
				c.Counts.Observed = n
			case ExpFailed:
				c.Counts.Failed = n
			case Cancelled:
				c.Counts.Cancelled = n
			}
			return nil
		}); err != nil {
			return err
		}
		if c.Counts.Observed == 0 || len(c.Spec.Objectives) == 0 {
			return nil
		}
		obj := c.Spec.Objectives[0]
		rows, err = tx.Query(ctx, `SELECT `+ecols+` FROM campaign_experiments WHERE campaign_id = ? AND state = ? ORDER BY seq`, c.ID, Observed)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			e, err := scanExperiment(rows)
			if err != nil {
				return err
			}
			v, ok := e.Values[c.Spec.outputName(obj.Name)]
			if !ok {
				return nil
			}
			if best == nil {
				best = e
				return nil
			}
			bv := best.Values[c.Spec.outputName(obj.Name)]
			if obj.Goal == "min" && v < bv || obj.Goal != "min" && v > bv {
				best = e
			}
			return nil
		})
	})
	c.Best = best
	return err
}

// List lists the campaigns p may read, newest first.
func (s *Service) List(ctx context.Context, p *genesis.Principal, o ListOptions) ([]Campaign, string, error) {
	const op errors.Op = "campaign.List"
	switch o.State {
	case "", Draft, Running, Paused, Stopped, Completed, FailedC:
	default:
		return nil, "", invalidOp(op, "state", "state must be draft, running, paused, stopped, completed or failed")
	}
	ap, err := s.ids.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	fetch := func(after string, n int) ([]Campaign, error) {
		at, atID := int64(math.MaxInt64), ""
		if after != "" {
			us, id, ok := strings.Cut(after, ".")
			t, err := strconv.ParseInt(us, 10, 64)
			if !ok || err != nil || id == "" {
				return nil, store.MalformedCursor()
			}
			at, atID = t, id
		}
		where, args := `(created_at < ? OR created_at = ? AND id < ?)`, []any{at, at, atID}
		if o.State != "" {
			where, args = where+` AND state = ?`, append(args, o.State)
		}
		var cs []Campaign
		err := s.db.View(ctx, func(tx store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT `+ccols+` FROM campaigns WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(n), args...)
			if err != nil {
				return err
			}
			return rows.Each(func() error {
				r, err := scanCampaign(rows)
				if err == nil {
					cs = append(cs, r.Campaign)
				}
				return err
			})
		})
		return cs, err
	}
	key := func(c *Campaign) string { return strconv.FormatInt(store.T(c.CreatedAt), 10) + "." + c.ID }
	keep := func(cs []Campaign) ([]bool, error) {
		ok := make([]bool, len(cs))
		for i := range cs {
			ok[i] = s.canAs(ctx, ap, authz.Read, &cs[i]) == nil
		}
		return ok, nil
	}
	out, next, err := store.Page(o.Cursor, o.Limit, 100, fetch, key, keep)
	for i := 0; err == nil && i < len(out); i++ {
		err = s.fill(ctx, &out[i])
	}
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	if out == nil {
		out = []Campaign{}
	}
	return out, next, nil
}

// act resolves a campaign p may read and checks that p may change it (its
// owner, or an operator); one it may read but not change is Permission.
func (s *Service) act(ctx context.Context, op errors.Op, p *genesis.Principal, idOrName, action string) (*record, error) {
	r, err := s.find(ctx, p, idOrName)
	if errors.Is(errors.NotExist, err) {
		s.notFound(ctx, p, action, idOrName)
		return nil, errors.E(op, errors.NotExist, errors.Msg("campaign "+truncate(idOrName, 128)+" not found"))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	if r.Owner != string(p.ID) {
		if err := s.can(ctx, p, authz.Operate, &r.Campaign); err != nil {
			if aerr := s.record(ctx, p, action, &r.Campaign, audit.Deny, ""); aerr != nil {
				return nil, errors.E(op, aerr)
			}
			return nil, errors.E(op, errors.Permission, errors.Msg("only the campaign's owner or an operator may "+action+" it"))
		}
	}
	return r, nil
}

// transition moves a campaign from one of states to state to with reason,
// and runs more in the same transaction.
func (s *Service) transition(ctx context.Context, p *genesis.Principal, op errors.Op, idOrName, action string, from []string, to, reason string, more func(tx store.Tx, c *record) error) (*Campaign, error) {
	r, err := s.act(ctx, op, p, idOrName, action)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	err = s.db.Update(ctx, func(tx store.Tx) error {
		var st string
		if err := tx.QueryRow(ctx, `SELECT state FROM campaigns WHERE id = ?`, r.ID).Scan(&st); err != nil {
			return err
		}
		if !slices.Contains(from, st) {
			return errors.E(errors.Conflict, errors.Field("state"), errors.Msg("campaign "+r.Name+" is "+st+"; only a campaign that is "+strings.Join(from, " or ")+" can be "+action+"ed"))
		}
		q := `UPDATE campaigns SET state = ?, reason = ?, updated_at = ?`
		args := []any{to, reason, store.T(now)}
		if to == Running && r.StartedAt == nil {
			q, args = q+`, started_at = ?`, append(args, store.T(now))
		}
		if to == Stopped {
			q, args = q+`, ended_at = ?`, append(args, store.T(now))
		}
		if _, err := tx.Exec(ctx, q+` WHERE id = ?`, append(args, r.ID)...); err != nil {
			return err
		}
		if more != nil {
			return more(tx, r)
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.record(ctx, p, action, &r.Campaign, audit.Allow, reason); err != nil {
		return nil, errors.E(op, err)
	}
	s.poke()
	c, err := s.load(ctx, r.ID)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.fill(ctx, &c.Campaign); err != nil {
		return nil, errors.E(op, err)
	}
	return &c.Campaign, nil
}

func (s *Service) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func checkReason(op errors.Op, reason string) error {
	if err := text.Line("reason", reason, 1024); err != nil {
		return errors.E(op, err)
	}
	return nil
}

// Start sets a draft campaign running.
func (s *Service) Start(ctx context.Context, p *genesis.Principal, idOrName string) (*Campaign, error) {
	return s.transition(ctx, p, "campaign.Start", idOrName, "start", []string{Draft}, Running, "", nil)
}

// Pause pauses a running campaign: nothing new is dispatched; experiments
// in flight finish and are observed.
func (s *Service) Pause(ctx context.Context, p *genesis.Principal, idOrName, reason string) (*Campaign, error) {
	const op errors.Op = "campaign.Pause"
	if err := checkReason(op, reason); err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "paused by " + p.Name
	}
	return s.transition(ctx, p, op, idOrName, "pause", []string{Running}, Paused, reason, nil)
}

// Resume sets a paused campaign running again. Experiments cancelled while
// it was paused (an e-stop) are tried again.
func (s *Service) Resume(ctx context.Context, p *genesis.Principal, idOrName string) (*Campaign, error) {
	c, err := s.transition(ctx, p, "campaign.Resume", idOrName, "resume", []string{Paused}, Running, "", nil)
	if err == nil {
		s.forget(c.ID)
	}
	return c, err
}

// Stop ends a campaign for good: its proposed experiments are cancelled;
// those in flight finish and are observed.
func (s *Service) Stop(ctx context.Context, p *genesis.Principal, idOrName, reason string) (*Campaign, error) {
	const op errors.Op = "campaign.Stop"
	if err := checkReason(op, reason); err != nil {
		return nil, err
	}
	if reason == "" {
		reason = "stopped by " + p.Name
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	return s.transition(ctx, p, op, idOrName, "stop", []string{Draft, Running, Paused}, Stopped, reason, func(tx store.Tx, c *record) error {
		_, err := tx.Exec(ctx, `UPDATE campaign_experiments SET state = ?, reason = ?, ended_at = ? WHERE campaign_id = ? AND state = ?`, Cancelled, "the campaign was stopped", store.T(now), c.ID, Proposed)
		return err
	})
}

// Experiments lists a campaign's experiments by seq.
func (s *Service) Experiments(ctx context.Context, p *genesis.Principal, idOrName string, o ExperimentOptions) ([]Experiment, string, error) {
	const op errors.Op = "campaign.Experiments"
	switch o.State {
	case "", Proposed, Dispatched, InFlight, Observed, ExpFailed, Cancelled:
	default:
		return nil, "", invalidOp(op, "state", "state must be proposed, dispatched, running, observed, failed or cancelled")
	}
	c, err := s.Get(ctx, p, idOrName)
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	fetch := func(after string, n int) ([]Experiment, error) {
		from := -1
		if after != "" {
			v, err := strconv.Atoi(after)
			if err != nil {
				return nil, store.MalformedCursor()
			}
			from = v
		}
		where, args := `campaign_id = ? AND seq > ?`, []any{c.ID, from}
		if o.State != "" {
			where, args = where+` AND state = ?`, append(args, o.State)
		}
		var es []Experiment
		err := s.db.View(ctx, func(tx store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT `+ecols+` FROM campaign_experiments WHERE `+where+` ORDER BY seq LIMIT `+strconv.Itoa(n), args...)
			if err != nil {
				return err
			}
			return rows.Each(func() error {
				e, err := scanExperiment(rows)
				if err == nil {
					es = append(es, *e)
				}
				return err
			})
		})
		return es, err
	}
	key := func(e *Experiment) string { return strconv.Itoa(e.Seq) }
	all := func(es []Experiment) ([]bool, error) {
		ok := make([]bool, len(es))
		for i := range ok {
			ok[i] = true
		}
		return ok, nil
	}
	out, next, err := store.Page(o.Cursor, o.Limit, 100, fetch, key, all)
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	if out == nil {
		out = []Experiment{}
	}
	return out, next, nil
}

// Suggestions returns the model's next n suggestions (1–20), not recorded:
// what the campaign would propose next, were it asked now.
func (s *Service) Suggestions(ctx context.Context, p *genesis.Principal, idOrName string, n int) ([]map[string]any, error) {
	const op errors.Op = "campaign.Suggestions"
	if n < 1 || n > 20 {
		return nil, invalidOp(op, "n", "n must be between 1 and 20")
	}
	c, err := s.Get(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	r, err := s.load(ctx, c.ID)
	if err != nil {
		return nil, errors.E(op, err)
	}
	opt, err := decodeOpt(r.ID, &r.Spec, r.opt)
	if err != nil {
		return nil, errors.E(op, err)
	}
	pts, err := opt.Suggest(ctx, n)
	if err != nil {
		return nil, errors.E(op, err)
	}
	out := make([]map[string]any, len(pts))
	for i, pt := range pts {
		out[i] = c.Spec.FromPoint(pt)
	}
	return out, nil
}
