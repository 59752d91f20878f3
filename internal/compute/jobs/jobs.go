// Package jobs runs scientists' jobs across the federation: Submit records
// a PSI/J job whose label is computed — the join of its inputs' labels and
// its floor, never typed down — and the Scheduler loop places it on a site
// whose accreditation dominates that label (sched.Place), stages its inputs,
// runs it through the site's backend (local processes, Slurm), follows it,
// and turns its declared outputs into new dataset versions labelled at
// least as high as the job, with lineage to the job and its inputs —
// committed once, however often a step is retried.
//
// Jobs are objects like any other: invisible (NotExist) to whoever may not
// read them; their owner and operators may cancel them.
package jobs

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compartment"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/sched"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// States of a job.
const (
	Pending   = "pending"   // waiting for a feasible site
	Running   = "running"   // handed to a site's backend
	Completed = "completed" // ran, outputs committed
	Failed    = "failed"
	Canceled  = "canceled"
)

// Job is a job as the API shows it.
type Job struct {
	ID         string           `json:"id"`
	Name       string           `json:"name,omitempty"`
	Owner      string           `json:"owner"`
	Project    string           `json:"project,omitempty"` // charged to (PSI/J attributes.account)
	Spec       *compute.JobSpec `json:"spec"`
	Label      string           `json:"label"`
	Inputs     []string         `json:"inputs,omitempty"` // pinned NAME@VERSION
	InputBytes int64            `json:"input_bytes"`
	State      string           `json:"state"`
	Site       string           `json:"site,omitempty"`
	Reason     string           `json:"reason,omitempty"`
	Detail     string           `json:"detail,omitempty"`
	ExitCode   int              `json:"exit_code"`
	Outputs    []catalog.Output `json:"outputs,omitempty"`
	Explain    []sched.Verdict  `json:"explain,omitempty"`
	// Warnings, on the answer to a submission only, say why no registered
	// site could ever run the job as things stand (it waits until one can).
	Warnings   []string   `json:"warnings,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	backendID  compute.BackendJobID
	inputRefs  []catalog.VersionRef
	attempts   int // placements after the first
}

// submissionID is the job's idempotency key at its site for this attempt:
// a job placed again after its site died or lost it is a new submission.
func (j *Job) submissionID() compute.JobID {
	if j.attempts == 0 {
		return compute.JobID(j.ID)
	}
	return compute.JobID(j.ID + ".a" + strconv.Itoa(j.attempts))
}

// Service is the job service and its scheduler.
type Service struct {
	db      store.DB
	authz   *authz.Authorizer
	ids     *identity.Service
	catalog *catalog.Service
	sites   *sites.Registry
	workDir string
	// Backend returns the backend that runs jobs on site s. It is called
	// for every use, so it keeps what it builds (app.backendFor does).
	Backend func(ctx context.Context, s *sites.Site) (compute.Backend, error)
	// Audit receives a record of every submission and cancellation, and of
	// each placement and end, with the job's label hash (durable first for
	// NATIONAL-SECURITY jobs).
	Audit audit.Appender
	// Fence, when set, is called first in the transaction that records a
	// round's placements (before anything is submitted); an error rolls
	// the round back. With several replicas it checks that this one
	// still holds the scheduler's lease (app: lease.Leases.Fence with the
	// token from the round's context), so a holder that lost the lease
	// without noticing yet places nothing.
	Fence func(ctx context.Context, tx store.Tx) error
	// Decisions, if set, is told of each scheduling round's decisions: n
	// jobs "started", "failed" (the site refused them), "retried" (a
	// transient failure, same site next round), "unsent" (never reached
	// the site, placed afresh) or "no_site" (nothing can run them now).
	// For metrics; it must be fast. Set it before Run.
	Decisions func(decision string, n int)
	now       func() time.Time

	// stepMu makes scheduling rounds one at a time; followFrom is where
	// the next round goes on following running jobs (by ID).
	stepMu                sync.Mutex
	followFrom, placeFrom string
	wake                  chan struct{}
	// phases times the placement rounds: reading, deciding and recording
	// (decide, for decided jobs), then staging, submitting and recording
	// the outcomes (dispatch), in nanoseconds.
	phases struct{ decided, decide, dispatch atomic.Int64 }
}

// record puts an action on a job on the audit log; for NATIONAL-SECURITY
// jobs the record is durable before the action proceeds, and if it cannot
// be written the action fails.
func (s *Service) record(ctx context.Context, p *genesis.Principal, action string, j *Job, dec audit.Decision) error {
	return s.audit(ctx, audit.Record{Principal: string(p.ID), Action: "job." + action, ObjectType: "job", ObjectID: j.ID, Decision: dec}, j)
}

// system records what the platform did to a job on its owner's behalf
// (placed it, finished it), with the same durability rule.
func (s *Service) system(ctx context.Context, j *Job, action, detail string) error {
	return s.audit(ctx, audit.Record{Principal: j.Owner, Action: "job." + action, ObjectType: "job", ObjectID: j.ID,
		Decision: audit.Allow, Detail: "by the scheduler: " + truncate(detail, 512)}, j)
}

// audit appends rec about j under j's label (catalog.Record).
func (s *Service) audit(ctx context.Context, rec audit.Record, j *Job) error {
	l, err := label.Parse(j.Label)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	return catalog.Record(ctx, s.Audit, rec, l)
}

// New returns the job service; jobs get working directories under workDir.
func New(db store.DB, az *authz.Authorizer, ids *identity.Service, cat *catalog.Service, reg *sites.Registry, workDir string) *Service {
	s := &Service{db: db, authz: az, ids: ids, catalog: cat, sites: reg, workDir: workDir, now: time.Now, wake: make(chan struct{}, 1)}
	if cat != nil {
		cat.OnRaise(s.raise)
	}
	return s
}

// raise lifts the jobs that read any version of assets to dominate the
// labels those versions and assets now carry. It runs inside the catalog's
// relabel transaction (catalog.RaiseHook).
//
// Why stored, not computed at read time: a job's record, spec, logs and
// explanation derive from its inputs, so its label must rise with theirs
// (invariant 2), and every path that decides on a job — show, list, logs,
// explain, cancel, the audit view, and the scheduler's placement on an
// accredited site — reads the stored label. Raising it in the relabel's own
// transaction keeps all of them right at once, with no window in which a
// reader sees a job below its inputs and no per-read cost in job lists.
// Submit checks its inputs' labels again inside its own transaction, so a
// job submitted during a relabel is either seen by it or sees it.
func (s *Service) raise(ctx context.Context, tx store.Tx, assets []string) error {
	if len(assets) == 0 {
		return nil
	}
	args := make([]any, len(assets))
	for i, id := range assets {
		args[i] = id
	}
	return s.raiseWhere(ctx, tx, `WHERE i.asset_id IN (`+store.Placeholders(len(assets))+`)`, args...)
}

// Reconcile raises every job that is below its inputs' labels: jobs whose
// inputs rose before job labels followed them (before migration 0019).
// Run calls it once as it starts; afterwards raise keeps them in step.
func (s *Service) Reconcile(ctx context.Context) error {
	return s.db.Update(ctx, func(tx store.Tx) error { return s.raiseWhere(ctx, tx, "") })
}

// raiseWhere raises the jobs reading the job_inputs rows that where
// selects to dominate those inputs' asset and version labels.
func (s *Service) raiseWhere(ctx context.Context, tx store.Tx, where string, args ...any) error {
	rows, err := tx.Query(ctx, `SELECT i.job_id, a.label, v.label FROM job_inputs i
		JOIN assets a ON a.id = i.asset_id JOIN asset_versions v ON v.asset_id = i.asset_id AND v.version = i.version `+where, args...)
	if err != nil {
		return err
	}
	floor := map[string]label.Label{}
	if err := rows.Each(func() error {
		var id, am, vm string
		if err := rows.Scan(&id, &am, &vm); err != nil {
			return err
		}
		for _, m := range []string{am, vm} {
			l, err := label.Parse(m)
			if err != nil {
				return errors.E(errors.Internal, err)
			}
			floor[id] = label.Join(floor[id], l)
		}
		return nil
	}); err != nil {
		return err
	}
	now := store.T(s.now())
	for id, f := range floor {
		var m string
		if err := tx.QueryRow(ctx, `SELECT label FROM jobs WHERE id = ?`, id).Scan(&m); err != nil {
			return err
		}
		cur, err := label.Parse(m)
		if err != nil {
			return errors.E(errors.Internal, err)
		}
		if label.Dominates(cur, f) {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE jobs SET label = ?, updated_at = ? WHERE id = ?`, label.Join(cur, f).Format(), now, id); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) resource(j *Job) (authz.Resource, error) {
	l, err := label.Parse(j.Label)
	if err != nil {
		return authz.Resource{}, errors.E(errors.Internal, err)
	}
	return authz.Resource{Type: authz.Job, ID: j.ID, Label: l, Owner: j.Owner, Project: j.Project}, nil
}

// Submit records a job. Its inputs must be readable by p (an unreadable
// input is "not found"); its label is the join of their labels and the
// spec's floor.
func (s *Service) Submit(ctx context.Context, p *genesis.Principal, spec *compute.JobSpec) (*Job, error) {
	// An input raised while the job was being submitted: decide again, as
	// the input is now (perhaps "not found" for p), rather than say that a
	// label changed.
	for range 2 {
		j, err := s.submit(ctx, p, spec)
		if !errors.IsErr(err, errRaced) {
			return j, err
		}
	}
	return s.submit(ctx, p, spec)
}

var errRaced = errors.E(errors.Conflict, errors.Field("inputs"), errors.Msg("the inputs changed while the job was submitted; submit it again"))

func (s *Service) submit(ctx context.Context, p *genesis.Principal, spec *compute.JobSpec) (*Job, error) {
	const op errors.Op = "jobs.Submit"
	if err := spec.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	refs := make([]catalog.VersionRef, 0, len(spec.Inputs))
	for _, in := range spec.Inputs {
		r, err := catalog.ParseRef(string(in))
		if err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("inputs"), err)
		}
		refs = append(refs, r)
	}
	pinned, join, bytes, err := s.catalog.Inputs(ctx, p, refs)
	if err != nil {
		return nil, errors.E(op, err)
	}
	// The spec names its inputs' assets: the job is labelled at least as
	// high as they are, not only as their versions.
	err = s.db.View(ctx, func(tx store.Tx) error {
		l, err := catalog.InputLabelTx(ctx, tx, pinned)
		join = label.Join(join, l)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if spec.Label != "" {
		// A floor from the user interns only known tokens.
		floor, err := compartment.ParseForDB(ctx, s.db, p, "label", spec.Label)
		if err != nil {
			return nil, errors.E(op, err)
		}
		join = label.Join(join, floor)
	}
	for path, out := range spec.Outputs {
		if !genesis.ValidName(out) {
			return nil, errors.E(op, errors.Invalid, errors.Field("outputs"), errors.Msg("output "+strconv.Quote(path)+" names an invalid dataset "+strconv.Quote(out)))
		}
		if filepath.IsAbs(path) || strings.Contains(path, "..") {
			return nil, errors.E(op, errors.Invalid, errors.Field("outputs"), errors.Msg("output paths are relative to the job's directory, without .."))
		}
	}
	for path, m := range spec.Models {
		if !genesis.ValidName(m.Name) {
			return nil, errors.E(op, errors.Invalid, errors.Field("models"), errors.Msg("model output "+strconv.Quote(path)+" names an invalid model "+strconv.Quote(m.Name)))
		}
		if len(refs) == 0 {
			return nil, errors.E(op, errors.Invalid, errors.Field("models"), errors.Msg("a job that trains a model names the data it trains on as inputs"))
		}
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	j := &Job{ID: identity.NewID("job"), Name: spec.Name, Owner: string(p.ID), Spec: spec, Label: join.Format(), InputBytes: bytes, State: Pending, CreatedAt: now, UpdatedAt: now}
	// Pinned to concrete versions, under the names the submitter used
	// (the names its inputs are staged under).
	for i, r := range pinned {
		j.Inputs = append(j.Inputs, catalog.VersionRef{Asset: refs[i].Asset, Version: r.Version}.String())
	}
	// attributes.account names the project the job is charged to; its
	// allocations decide where it may run. A project must hold some
	// allocation for the job to be accepted at all.
	if acct := spec.Attributes.Account; acct != "" {
		prj, err := s.ids.Project(ctx, p, acct)
		if err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("attributes.account"), errors.Msg("no such project (or you are not a member)"))
		}
		j.Project = string(prj.ID)
		as, err := s.allocations(ctx, j.Project)
		if err != nil {
			return nil, errors.E(op, err)
		}
		if len(as) == 0 {
			return nil, errors.E(op, errors.Invalid, errors.Field("attributes.account"), errors.Msg("project "+acct+" holds no compute allocation"))
		}
	}
	// No write down, decided now rather than after the job ran: every
	// output must be able to take the job's label.
	for _, path := range sortedKeys(spec.Outputs) {
		if err := s.catalog.CheckOutput(ctx, p, catalog.KindDataset, spec.Outputs[path], join); err != nil {
			return nil, errors.E(op, err)
		}
	}
	for _, path := range sortedKeys(spec.Models) {
		if err := s.catalog.CheckOutput(ctx, p, catalog.KindModel, spec.Models[path].Name, join); err != nil {
			return nil, errors.E(op, err)
		}
	}
	ap, err := s.ids.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	res, err := s.resource(j)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.authz.Can(ctx, ap, authz.Submit, res); err != nil {
		s.record(ctx, p, "submit", j, audit.Deny)
		return nil, errors.E(op, errors.Permission, errors.Msg("you may not submit a job labelled "+j.Label))
	}
	if err := s.record(ctx, p, "submit", j, audit.Allow); err != nil {
		return nil, errors.E(op, err)
	}
	specJSON, _ := json.Marshal(spec)
	inputs, _ := json.Marshal(j.Inputs)
	nh, gh := cost(spec)
	err = s.db.Update(ctx, func(tx store.Tx) error {
		// The inputs' labels as this transaction sees them: a relabel that
		// committed since they were read would leave the job below its
		// inputs (and one that commits after this finds the job through
		// job_inputs and raises it).
		cur, err := catalog.InputLabelTx(ctx, tx, pinned)
		if err != nil {
			return err
		}
		if !label.Dominates(join, cur) {
			return errRaced
		}
		if _, err := tx.Exec(ctx, `INSERT INTO jobs (id, name, owner_id, project_id, spec, label, inputs, input_bytes, nodes, node_hours, gpu_hours, state, site, backend_id, reason, detail, exit_code, explain, outputs, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', '', '', 0, '[]', '[]', ?, ?)`, j.ID, j.Name, j.Owner, nullIf(j.Project), string(specJSON), j.Label, string(inputs), j.InputBytes, max(1, spec.Resources.Nodes()), nh, gh, j.State, store.T(now), store.T(now)); err != nil {
			return err
		}
		for _, r := range pinned {
			if _, err := tx.Exec(ctx, `INSERT INTO job_inputs (asset_id, version, job_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, r.Asset, r.Version, j.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	s.nudge()
	if w := s.never(ctx, j); w != "" {
		j.Warnings = append(j.Warnings, w)
	}
	return j, nil
}

// never says why no registered site could ever run j as things stand — its
// accreditation, operators, capacity or j's project's allocation there
// (sched.Ever) — or "" if one could. A job that no site can run waits
// rather than fail: a site or an allocation may be added.
func (s *Service) never(ctx context.Context, j *Job) string {
	ss, err := s.sites.All(ctx)
	if err != nil {
		return ""
	}
	if len(ss) == 0 {
		return "no compute site is registered; the job waits until one that can run it is"
	}
	cands := make([]sched.Candidate, len(ss))
	for i := range ss {
		cands[i] = sched.NewCandidate(ss[i], sched.Load{})
	}
	ok, vs := sched.Ever(s.schedJob(ctx, j, remainders{}), cands)
	if ok {
		return ""
	}
	var why []string
	for _, v := range vs {
		why = append(why, v.Site+": "+strings.Join(v.Reasons, "; "))
	}
	return "no registered site can ever run this job as things stand; it waits until one can (" + strings.Join(why, " | ") + ")"
}

func nullIf(s string) any {
	if s == "" {
		return nil
	}
	return s
}

const cols = `id, name, owner_id, COALESCE(project_id, ''), spec, label, inputs, input_bytes, state, site, backend_id, reason, detail, exit_code, explain, outputs, created_at, updated_at, started_at, finished_at, attempts`

func scan(sc interface{ Scan(...any) error }) (*Job, error) {
	var j Job
	var spec, inputs, explain, outputs string
	var c, u int64
	var st, fin *int64
	var bid string
	if err := sc.Scan(&j.ID, &j.Name, &j.Owner, &j.Project, &spec, &j.Label, &inputs, &j.InputBytes, &j.State, &j.Site, &bid, &j.Reason, &j.Detail, &j.ExitCode,
		&explain, &outputs, &c, &u, &st, &fin, &j.attempts); err != nil {
		return nil, err
	}
	j.backendID = compute.BackendJobID(bid)
	json.Unmarshal([]byte(spec), &j.Spec)
	json.Unmarshal([]byte(inputs), &j.Inputs)
	json.Unmarshal([]byte(explain), &j.Explain)
	json.Unmarshal([]byte(outputs), &j.Outputs)
	for _, in := range j.Inputs {
		if r, err := catalog.ParseRef(in); err == nil {
			j.inputRefs = append(j.inputRefs, r)
		}
	}
	j.CreatedAt, j.UpdatedAt, j.StartedAt, j.FinishedAt = store.FromT(c), store.FromT(u), store.FromNullT(st), store.FromNullT(fin)
	return &j, nil
}

func (s *Service) load(ctx context.Context, id string) (*Job, error) {
	var j *Job
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		j, err = scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM jobs WHERE id = ?`, id))
		return err
	})
	return j, err
}

// Get returns a job p may read (NotExist otherwise).
//
// Reads are on the record as the catalog's are (invariant 6): a read of a
// job above OPEN under the job's label (durable first for
// NATIONAL-SECURITY jobs, and refused if it cannot be), and a job that is
// missing or hidden as one "not found" record of the ID as asked, under no
// label — the same record either way, shown to no one but auditors.
func (s *Service) Get(ctx context.Context, p *genesis.Principal, id string) (*Job, error) {
	const op errors.Op = "jobs.Get"
	j, err := s.get(ctx, p, id)
	if errors.Is(errors.NotExist, err) {
		s.notFound(ctx, p, "read", id)
		return nil, errors.E(op, errors.NotExist)
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	if l, err := label.Parse(j.Label); err != nil || l.Level() != label.Open {
		if err := s.record(ctx, p, "read", j, audit.Allow); err != nil {
			return nil, errors.E(op, err)
		}
	}
	return j, nil
}

// notFound records that p asked to act on job id (as asked) and found
// nothing it may read.
func (s *Service) notFound(ctx context.Context, p *genesis.Principal, action, id string) {
	if s.Audit == nil {
		return
	}
	s.Audit.Append(context.WithoutCancel(ctx), audit.Record{Principal: string(p.ID), Action: "job." + action, ObjectType: "job",
		ObjectID: id, Decision: audit.Deny, RequestID: catalog.RequestID(ctx), Detail: "not found"})
}

// get is Get without putting the read on the record, for the paths that
// record their own action (cancel) or only decide what to show (the audit
// view).
func (s *Service) get(ctx context.Context, p *genesis.Principal, id string) (*Job, error) {
	const op errors.Op = "jobs.Get"
	j, err := s.load(ctx, id)
	if err == nil {
		err = s.can(ctx, p, authz.Read, j)
	}
	if err == nil {
		err = s.seenBy(ctx, p, j)
	}
	if errors.Is(errors.NotExist, err) {
		return nil, errors.E(op, errors.NotExist)
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return j, nil
}

// seenBy leaves in j, which p may read, only the outputs p may read: they
// were at least the job's label when committed, but may have risen since.
func (s *Service) seenBy(ctx context.Context, p *genesis.Principal, j *Job) error {
	if len(j.Outputs) == 0 || s.catalog == nil {
		return nil
	}
	outs, err := s.catalog.ReadableOutputs(ctx, p, j.Outputs)
	if err != nil {
		return err
	}
	if len(outs) == 0 {
		outs = nil
	}
	j.Outputs = outs
	return nil
}

func (s *Service) can(ctx context.Context, p *genesis.Principal, act authz.Action, j *Job) error {
	ap, err := s.ids.AuthzPrincipal(ctx, p)
	if err != nil {
		return err
	}
	res, err := s.resource(j)
	if err != nil {
		return err
	}
	return s.authz.Can(ctx, ap, act, res)
}

// ListOptions narrows a job list.
type ListOptions struct {
	Owner  string // a principal ID; "" for anyone's
	State  string // "" for any
	Limit  int    // 1..1000; 0 means 100
	Cursor string // Next of the page before; "" for the first
}

// List returns the jobs p may read that match o, newest first, and the
// cursor of the next page ("" after the last); see store.Page. A job is
// found however many newer jobs others have.
func (s *Service) List(ctx context.Context, p *genesis.Principal, o ListOptions) ([]Job, string, error) {
	const op errors.Op = "jobs.List"
	switch o.State {
	case "", Pending, Running, Completed, Failed, Canceled:
	default:
		return nil, "", errors.E(op, errors.Invalid, errors.Field("state"), errors.Msg("state must be pending, running, completed, failed or canceled"))
	}
	// A key is "created_at.id", newest first.
	fetch := func(after string, n int) ([]Job, error) {
		at, atID := int64(math.MaxInt64), ""
		if after != "" {
			us, id, ok := strings.Cut(after, ".")
			t, err := strconv.ParseInt(us, 10, 64)
			if !ok || err != nil || id == "" {
				return nil, store.MalformedCursor()
			}
			at, atID = t, id
		}
		where, args := `(created_at, id) < (?, ?)`, []any{at, atID}
		if o.Owner != "" {
			where, args = where+` AND owner_id = ?`, append(args, o.Owner)
		}
		if o.State != "" {
			where, args = where+` AND state = ?`, append(args, o.State)
		}
		var js []Job
		err := s.db.View(ctx, func(tx store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT `+cols+` FROM jobs WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(n), args...)
			if err != nil {
				return err
			}
			return rows.Each(func() error {
				j, err := scan(rows)
				if err == nil {
					js = append(js, *j)
				}
				return err
			})
		})
		return js, err
	}
	key := func(j *Job) string { return strconv.FormatInt(store.T(j.CreatedAt), 10) + "." + j.ID }
	// The principal's authorization view is read once per batch, not
	// once per job (it was most of a 1,000-job list's time).
	keep := func(js []Job) ([]bool, error) {
		ok := make([]bool, len(js))
		ap, err := s.ids.AuthzPrincipal(ctx, p)
		if err != nil {
			return ok, nil // nothing is readable (as can would say per job)
		}
		for i := range js {
			res, err := s.resource(&js[i])
			ok[i] = err == nil && s.authz.Can(ctx, ap, authz.Read, res) == nil
		}
		return ok, nil
	}
	out, next, err := store.Page(o.Cursor, o.Limit, 100, fetch, key, keep)
	for i := 0; err == nil && i < len(out); i++ {
		err = s.seenBy(ctx, p, &out[i])
	}
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	return out, next, nil
}

// Cancel stops a job (its owner, or an operator).
func (s *Service) Cancel(ctx context.Context, p *genesis.Principal, id string) (*Job, error) {
	const op errors.Op = "jobs.Cancel"
	j, err := s.get(ctx, p, id)
	if err != nil {
		// Every refusal is on the record. Hidden and missing jobs alike are
		// recorded as asked, under no label: shown to no one.
		if errors.Is(errors.NotExist, err) {
			s.notFound(ctx, p, "cancel", id)
		}
		return nil, errors.E(op, err)
	}
	if j.Owner != string(p.ID) {
		if err := s.can(ctx, p, authz.Operate, j); err != nil {
			if aerr := s.record(ctx, p, "cancel", j, audit.Deny); aerr != nil {
				return nil, errors.E(op, aerr)
			}
			return nil, errors.E(op, errors.Permission, errors.Msg("only the job's owner or an operator may cancel it"))
		}
	}
	switch j.State {
	case Completed, Failed, Canceled:
		return j, nil
	}
	if err := s.record(ctx, p, "cancel", j, audit.Allow); err != nil {
		return nil, errors.E(op, err)
	}
	switch j.State {
	case Running:
		if b, err := s.backendOf(ctx, j.Site); err == nil {
			b.Cancel(ctx, j.backendID)
		}
	}
	if err := s.finish(ctx, j, Canceled, compute.ReasonCanceled, "canceled by "+p.Name, -1); err != nil {
		return nil, errors.E(op, err)
	}
	return s.Get(ctx, p, id)
}

// Logs returns a job's stdout or stderr from offset.
func (s *Service) Logs(ctx context.Context, p *genesis.Principal, id string, stream compute.Stream, offset int64) (io.ReadCloser, error) {
	const op errors.Op = "jobs.Logs"
	j, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if j.backendID == "" {
		return io.NopCloser(strings.NewReader("")), nil
	}
	b, err := s.backendOf(ctx, j.Site)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return b.Logs(ctx, j.backendID, stream, offset)
}

// Explain returns every site's verdict on the job: for a pending job, as it
// would be placed now; for a placed one, the chosen site's verdict as
// recorded at placement, and the other sites judged as they are now.
func (s *Service) Explain(ctx context.Context, p *genesis.Principal, id string) (*Job, []sched.Verdict, error) {
	const op errors.Op = "jobs.Explain"
	j, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	ss, err := s.sites.All(ctx)
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	cands, err := s.candidates(ctx, ss)
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	_, vs := sched.Place(s.schedJob(ctx, j, remainders{}), cands)
	if j.State != Pending && len(j.Explain) > 0 {
		rec := map[string]sched.Verdict{}
		for _, v := range j.Explain {
			rec[v.Site] = v
		}
		for i := range vs {
			if v, ok := rec[vs[i].Site]; ok {
				vs[i] = v
				delete(rec, v.Site)
			} else {
				vs[i].Chosen = false
			}
		}
		for _, v := range rec { // the site has since been removed
			vs = append(vs, v)
		}
	}
	return j, sched.Sorted(vs), nil
}

// remainders holds, for one scheduling round, what is left of each
// project's allocations by site: read once per project, and charged as the
// round places jobs, so that one round cannot oversubscribe an allocation.
type remainders map[string]map[string]sched.Remaining

func (s *Service) schedJob(ctx context.Context, j *Job, left remainders) sched.Job {
	l, _ := label.Parse(j.Label)
	sj := sched.Job{Label: l, Resources: j.Spec.Resources, InputBytes: j.InputBytes}
	if j.Project != "" {
		// Named as the submitter named it, for explanations.
		sj.Charged, sj.Project = true, j.Project
		if acct := j.Spec.Attributes.Account; acct != "" {
			sj.Project = acct
		}
		sj.NodeHours, sj.GPUHours = cost(j.Spec)
		rem, ok := left[j.Project]
		if !ok {
			rem = map[string]sched.Remaining{}
			// A failure to read allocations leaves nothing: the job fits
			// nowhere this round (fail closed).
			if as, err := s.allocations(ctx, j.Project); err == nil {
				for _, a := range as {
					rem[a.Site] = a.Remaining()
				}
			}
			left[j.Project] = rem
		}
		sj.Remaining = rem
	}
	return sj
}

// candidates are the sites ss with their load: the running jobs, and the
// pending ones already placed there.
func (s *Service) candidates(ctx context.Context, ss []sites.Site) ([]sched.Candidate, error) {
	load := map[string]sched.Load{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT site, COUNT(*), COALESCE(SUM(nodes), 0) FROM jobs WHERE state IN (?, ?) AND site <> '' GROUP BY site`, Running, Pending)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var site string
			var l sched.Load
			if err := rows.Scan(&site, &l.RunningJobs, &l.RunningNodes); err != nil {
				return err
			}
			load[site] = l
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	cands := make([]sched.Candidate, len(ss))
	for i := range ss {
		cands[i] = sched.NewCandidate(ss[i], load[ss[i].Name])
	}
	return cands, nil
}

func (s *Service) backendOf(ctx context.Context, siteName string) (compute.Backend, error) {
	ss, err := s.sites.All(ctx)
	if err != nil {
		return nil, err
	}
	return s.backendIn(ctx, ss, siteName)
}

// backendIn returns the backend of the site named siteName among ss.
func (s *Service) backendIn(ctx context.Context, ss []sites.Site, siteName string) (compute.Backend, error) {
	for i := range ss {
		if ss[i].Name == siteName {
			return s.Backend(ctx, &ss[i])
		}
	}
	return nil, errors.E(errors.Transient, errors.Msg("the job's site "+siteName+" is no longer registered"))
}

func (s *Service) update(ctx context.Context, j *Job, set string, args ...any) error {
	args = append(args, store.T(s.now()), j.ID)
	return s.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE jobs SET `+set+`, updated_at = ? WHERE id = ?`, args...)
		return err
	})
}

func (s *Service) finish(ctx context.Context, j *Job, state, reason, detail string, code int) error {
	if err := s.update(ctx, j, `state = ?, reason = ?, detail = ?, exit_code = ?, finished_at = ?`, state, reason, truncate(detail, 4096), code, store.T(s.now())); err != nil {
		return err
	}
	s.system(ctx, j, "finish", state+" "+reason)
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// jobDir is where a job placed now gets its working directory: under a
// subdirectory named by the last two characters of its ID, since one
// directory of 100,000 jobs makes every mkdir slower and concurrent ones
// wait on each other.
func (s *Service) jobDir(id string) string {
	if len(id) < 2 {
		return filepath.Join(s.workDir, id)
	}
	return filepath.Join(s.workDir, id[len(id)-2:], id)
}

// dirOf is a placed job's working directory: jobs an earlier version placed
// have theirs directly under workDir, and keep it.
func (s *Service) dirOf(j *Job) string {
	if old := filepath.Join(s.workDir, j.ID); exists(old) {
		return old
	}
	return s.jobDir(j.ID)
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

// MayReadLabelOf reports whether p may read job id and an audit record
// about it was made under its label (recordedUnder): audit entries about
// jobs are shown through it.
func (s *Service) MayReadLabelOf(ctx context.Context, p *genesis.Principal, id string, recordedUnder func(label.Label) bool) bool {
	j, err := s.get(ctx, p, id)
	if err != nil {
		return false
	}
	l, err := label.Parse(j.Label)
	if err != nil {
		return false
	}
	return recordedUnder(l)
}
