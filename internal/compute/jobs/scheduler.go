package jobs

import (
	"context"
	"encoding/json"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/sched"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"golang.org/x/sync/errgroup"
)

// Run is the scheduler loop: every tick — and at once after a submission —
// it places pending jobs, follows running ones and finishes those that are
// done. All its state is in the store, so a restarted server resumes where
// it stopped.
func (s *Service) Run(ctx context.Context, tick time.Duration, onError func(error)) error {
	if err := s.Reconcile(ctx); err != nil && ctx.Err() == nil && onError != nil {
		onError(err)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
		if err := s.Step(ctx); err != nil && ctx.Err() == nil && onError != nil {
			onError(err)
		}
	}
}

// nudge asks the loop for a round now (a no-op when one is already asked).
func (s *Service) nudge() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Step runs one scheduling round: jobs on sites that went down are placed
// again, a batch of running jobs is followed, and a batch of pending jobs
// is placed. A placement is recorded (the job stays pending, with its
// site) before the job is submitted there, and the round records the
// backend's job IDs in one transaction afterwards: if the server stops in
// between, the next round submits the job again to the same site, which
// recognises it by its ID (Submit is idempotent), so a job never runs on
// two sites.
func (s *Service) Step(ctx context.Context) error {
	s.stepMu.Lock()
	defer s.stepMu.Unlock()
	ss, err := s.sites.All(ctx)
	if err != nil {
		return err
	}
	bk := s.roundBackends(ss)
	var down []any
	for _, st := range ss {
		if st.Status == sites.Down {
			down = append(down, st.Name)
		}
	}
	if len(down) > 0 {
		dead, err := s.query(ctx, `state = ? AND site IN (`+store.Placeholders(len(down))+`) ORDER BY created_at LIMIT ?`,
			append(append([]any{Running}, down...), followBatch)...)
		if err != nil {
			return err
		}
		for i := range dead {
			s.retry(ctx, &dead[i], bk, "site "+dead[i].Site+" went down")
		}
	}
	running, err := s.query(ctx, `state = ? AND id > ? ORDER BY id LIMIT ?`, Running, s.followFrom, followBatch)
	if err != nil {
		return err
	}
	s.followFrom = ""
	if len(running) == followBatch {
		s.followFrom = running[len(running)-1].ID
	}
	s.followAll(ctx, running, bk)
	// Jobs not yet judged come first, oldest first; the rest of the batch
	// goes, in rotation, to jobs that found no site or could not be
	// submitted before — so neither kind can starve the other.
	t0 := time.Now()
	pending, err := s.query(ctx, `state = ? AND reason = '' ORDER BY created_at LIMIT ?`, Pending, placeBatch)
	if err != nil {
		return err
	}
	if n := placeBatch - len(pending); n > 0 {
		again, err := s.query(ctx, `state = ? AND reason <> '' AND id > ? ORDER BY id LIMIT ?`, Pending, s.placeFrom, n)
		if err != nil {
			return err
		}
		s.placeFrom = ""
		if len(again) == n {
			s.placeFrom = again[len(again)-1].ID
		}
		pending = append(pending, again...)
	}
	if len(pending) == 0 {
		return nil
	}
	return s.placeAll(ctx, ss, pending, bk, t0)
}

// QueueDepths returns how many jobs wait to be placed or submitted
// ("pending") and how many run ("running"), for every owner: an
// operator's figure (metrics), not for callers who must not see others'
// jobs.
func (s *Service) QueueDepths(ctx context.Context) (map[string]float64, error) {
	out := map[string]float64{string(Pending): 0, string(Running): 0}
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT state, COUNT(*) FROM jobs WHERE state IN (?, ?) GROUP BY state`, Pending, Running)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var st string
			var n int64
			if err := rows.Scan(&st, &n); err != nil {
				return err
			}
			out[st] = float64(n)
			return nil
		})
	})
	return out, err
}

// followBatch and placeBatch bound how many running jobs a round asks
// their backends about, and how many pending jobs it places.
var (
	followBatch = 2000
	placeBatch  = 5000
)

// query loads the jobs matching where.
func (s *Service) query(ctx context.Context, where string, args ...any) ([]Job, error) {
	var out []Job
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+cols+` FROM jobs WHERE `+where, args...)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			j, err := scan(rows)
			if err == nil {
				out = append(out, *j)
			}
			return err
		})
	})
	return out, err
}

// placement is one pending job's decision in a round.
type placement struct {
	job     *Job
	site    *sites.Site
	explain string
	// After submission: the backend's ID, or why it failed.
	bid    compute.BackendJobID
	failed string // the job fails with this detail
	retry  string // the job stays pending with this reason
	// unsent: the job never reached the site, so it may be placed
	// elsewhere next round. A job whose submission failed transiently
	// stays with its site (the site may have started it), until the site
	// is marked down.
	unsent bool
}

// placeAll decides where each pending job runs (in memory, charging sites
// and allocations as it goes), records the decisions in one transaction,
// stages and submits the placed jobs (a few at a time), and records the
// outcomes in a second transaction.
func (s *Service) placeAll(ctx context.Context, ss []sites.Site, pending []Job, bk backends, t0 time.Time) error {
	cands, err := s.candidates(ctx, ss)
	if err != nil {
		return err
	}
	left := remainders{}
	var placed []*placement
	var unplaced []*Job
	for i := range pending {
		j := &pending[i]
		if j.Site != "" {
			// Placed in an earlier round that did not finish: submit it
			// to the same site again (idempotent), unless that site is
			// gone or down, in which case it is placed afresh.
			if c := candidate(cands, j.Site); c != nil && c.Site.Status != sites.Down {
				placed = append(placed, &placement{job: j, site: &c.Site})
				continue
			}
			j.Site = ""
		}
		sj := s.schedJob(ctx, j, left)
		chosen := sched.Choose(sj, cands)
		if chosen == "" {
			if j.Reason != noSite {
				unplaced = append(unplaced, j)
			}
			continue
		}
		// Recorded: the chosen site's verdict, with its score as it was
		// (explain judges the other sites again when asked).
		c := candidate(cands, chosen)
		_, vs := sched.Place(sj, []sched.Candidate{*c})
		explain, _ := json.Marshal(vs)
		placed = append(placed, &placement{job: j, site: &c.Site, explain: string(explain)})
		// The site is busier, and the project's allocation smaller, for
		// the rest of this round.
		if sj.Charged {
			r := sj.Remaining[chosen]
			r.NodeHours -= sj.NodeHours
			r.GPUHours -= sj.GPUHours
			sj.Remaining[chosen] = r
		}
		c.Load.RunningJobs++
		c.Load.RunningNodes += max(1, j.Spec.Resources.Nodes())
	}
	now := store.T(s.now())
	err = s.db.Update(ctx, func(tx store.Tx) error {
		if s.Fence != nil {
			if err := s.Fence(ctx, tx); err != nil {
				return err
			}
		}
		var rows [][]any
		for _, j := range unplaced {
			rows = append(rows, []any{j.ID})
		}
		if _, err := updatePending(ctx, tx, nil, `reason = ?, updated_at = ?`, rows, noSite, now); err != nil {
			return err
		}
		rows = rows[:0]
		for _, pl := range placed {
			if pl.explain != "" { // else recorded in an earlier round
				rows = append(rows, []any{pl.job.ID, pl.site.Name, pl.explain})
			}
		}
		_, err := updatePending(ctx, tx, []string{"site", "explain"}, `reason = '', updated_at = ?`, rows, now)
		return err
	})
	if err != nil {
		return err
	}
	t1 := time.Now()
	s.phases.decided.Add(int64(len(pending)))
	s.phases.decide.Add(int64(t1.Sub(t0)))
	defer func() { s.phases.dispatch.Add(int64(time.Since(t1))) }()
	owners := map[string]*genesis.Principal{}
	for _, pl := range placed {
		if _, ok := owners[pl.job.Owner]; !ok {
			owners[pl.job.Owner], _ = s.owner(ctx, pl.job)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(SubmitParallelism)
	for _, pl := range placed {
		g.Go(func() error {
			b, err := bk(ctx, pl.site.Name)
			if err != nil {
				pl.retry, pl.unsent = "site backend unavailable: "+errors.SafeMessage(err), true
				return nil
			}
			s.start(gctx, pl, owners[pl.job.Owner], b)
			return nil
		})
	}
	g.Wait()
	var started, failed, retried, unsent [][]any
	for _, pl := range placed {
		switch {
		case pl.failed != "":
			failed = append(failed, []any{pl.job.ID, truncate(pl.failed, 4096)})
		case pl.unsent:
			unsent = append(unsent, []any{pl.job.ID, pl.retry})
		case pl.retry != "":
			retried = append(retried, []any{pl.job.ID, pl.retry})
		default:
			started = append(started, []any{pl.job.ID, string(pl.bid)})
		}
	}
	var done map[string]bool
	err = s.db.Update(ctx, func(tx store.Tx) error {
		var err error
		if done, err = updatePending(ctx, tx, []string{"backend_id"}, `state = ?, reason = '', started_at = ?, updated_at = ?`, started, Running, now, now); err != nil {
			return err
		}
		if _, err := updatePending(ctx, tx, []string{"detail"}, `state = ?, reason = ?, exit_code = -1, finished_at = ?, updated_at = ?`, failed, Failed, compute.ReasonBackend, now, now); err != nil {
			return err
		}
		if _, err := updatePending(ctx, tx, []string{"reason"}, `site = '', updated_at = ?`, unsent, now); err != nil {
			return err
		}
		_, err = updatePending(ctx, tx, []string{"reason"}, `updated_at = ?`, retried, now)
		return err
	})
	if err != nil {
		return err
	}
	if f := s.Decisions; f != nil {
		for _, d := range []struct {
			name string
			n    int
		}{{"no_site", len(unplaced)}, {"started", len(done)}, {"failed", len(failed)}, {"retried", len(retried)}, {"unsent", len(unsent)}} {
			if d.n > 0 {
				f(d.name, d.n)
			}
		}
	}
	// A job cancelled while it was being submitted is cancelled at its
	// site too.
	for _, pl := range placed {
		if pl.bid != "" && !done[pl.job.ID] {
			if b, err := bk(ctx, pl.site.Name); err == nil {
				b.Cancel(ctx, pl.bid)
			}
		}
	}
	return nil
}

// updatePending updates every job of rows that is still pending, 16 jobs
// per statement (each statement's CASE arms are tried in turn for every row,
// so larger ones cost more per job): each row is the job's ID and then its values of the
// columns cols; set is the rest of the assignment, whose placeholders take
// args. It returns the IDs it updated.
func updatePending(ctx context.Context, tx store.Tx, cols []string, set string, rows [][]any, args ...any) (map[string]bool, error) {
	done := map[string]bool{}
	const per = 16
	for len(rows) > 0 {
		n := min(per, len(rows))
		var q strings.Builder
		var vals []any
		q.WriteString(`UPDATE jobs SET `)
		for c, col := range cols {
			q.WriteString(col + ` = CASE id`)
			for _, r := range rows[:n] {
				q.WriteString(` WHEN ? THEN ?`)
				vals = append(vals, r[0], r[1+c])
			}
			q.WriteString(` END, `)
		}
		q.WriteString(set + ` WHERE state = ? AND id IN (` + store.Placeholders(n) + `) RETURNING id`)
		vals = append(append(vals, args...), Pending)
		for _, r := range rows[:n] {
			vals = append(vals, r[0])
		}
		res, err := tx.Query(ctx, q.String(), vals...)
		if err != nil {
			return nil, err
		}
		if err := res.Each(func() error {
			var id string
			err := res.Scan(&id)
			done[id] = true
			return err
		}); err != nil {
			return nil, err
		}
		rows = rows[n:]
	}
	return done, nil
}

// SubmitParallelism bounds the submissions in flight in one round.
const SubmitParallelism = 16

const noSite = "no feasible site"

func candidate(cands []sched.Candidate, name string) *sched.Candidate {
	for i := range cands {
		if cands[i].Site.Name == name {
			return &cands[i]
		}
	}
	return nil
}

// start stages a placed job's inputs and submits it to its site's backend,
// recording the outcome in pl.
func (s *Service) start(ctx context.Context, pl *placement, owner *genesis.Principal, b compute.Backend) {
	j := pl.job
	if owner == nil {
		pl.failed = "the job's owner is gone"
		return
	}
	dir := s.jobDir(j.ID)
	// The job's directory is its own (it holds its staged inputs); the
	// directories above it can be passed through, not listed. Mkdir
	// first: one system call where MkdirAll makes two.
	if err := os.Mkdir(dir, 0o700); err != nil && !os.IsExist(err) {
		if err := os.MkdirAll(filepath.Dir(dir), 0o711); err != nil || os.Mkdir(dir, 0o700) != nil {
			pl.failed = "cannot create the job directory"
			return
		}
	}
	// Stage inputs read-only under inputs/NAME/ (as the owner: access is
	// decided again now — fail closed if it was revoked — and nothing above
	// the job's label is staged, should a name mean another asset now).
	jl, _ := label.Parse(j.Label)
	for _, r := range j.inputRefs {
		dest := filepath.Join(dir, "inputs", assetName(r))
		if _, err := os.Stat(dest); err == nil {
			continue
		}
		if err := s.catalog.StageWithin(ctx, owner, r, jl, dest); err != nil {
			pl.failed = "staging input " + r.String() + ": " + errors.SafeMessage(err)
			return
		}
	}
	if pl.site.Kind == sites.KindSlurm || pl.site.Kind == sites.KindIRI {
		shareJobDir(dir, b)
	}
	if err := s.system(ctx, j, "place", "site "+pl.site.Name+", submission "+string(j.submissionID())); err != nil {
		pl.retry, pl.unsent = "the audit log cannot be written; not starting the job", true
		return
	}
	bid, err := b.Submit(ctx, compute.Request{ID: j.submissionID(), Spec: j.Spec, WorkDir: dir})
	switch {
	case errors.Is(errors.Transient, err):
		pl.retry = "site " + pl.site.Name + " unavailable, will retry"
	case err != nil:
		pl.failed = "site " + pl.site.Name + " refused the job: " + errors.SafeMessage(err)
	default:
		pl.bid = bid
	}
}

// MaxAttempts bounds how often a job is placed again after its site died.
const MaxAttempts = 3

// retry handles a running job whose site is down: it is cancelled there
// (best effort) and placed again elsewhere, up to MaxAttempts placements.
// Outputs are still committed once: CommitOutput is idempotent per job.
func (s *Service) retry(ctx context.Context, j *Job, bk backends, why string) {
	if b, err := bk(ctx, j.Site); err == nil {
		b.Cancel(ctx, j.backendID)
	}
	if j.attempts+1 >= MaxAttempts {
		s.finish(ctx, j, Failed, compute.ReasonLost, why+", "+strconv.Itoa(j.attempts+1)+" times: not placing it again", -1)
		return
	}
	// A fresh working directory: the dead site may still hold the old one.
	os.RemoveAll(s.dirOf(j))
	s.update(ctx, j, `state = ?, site = '', backend_id = '', attempts = attempts + 1, reason = ?`, Pending, why+"; placing again")
}

// assetName is the directory an input is staged into.
func assetName(r catalog.VersionRef) string { return filepath.Base(r.Asset) }

// followAll asks the sites about their running jobs — all of a site's at
// once where its backend can list them (compute.StatusLister), otherwise
// up to FollowParallelism requests at a time — and then acts on the
// answers one job at a time. A site that cannot be reached is asked again
// next round.
func (s *Service) followAll(ctx context.Context, running []Job, bk backends) {
	type answer struct {
		st    compute.Status
		err   error
		asked bool
	}
	answers := make([]answer, len(running))
	bySite := map[string][]int{}
	for i := range running {
		bySite[running[i].Site] = append(bySite[running[i].Site], i)
	}
	var g errgroup.Group
	g.SetLimit(FollowParallelism)
	one := func(b compute.Backend, i int) {
		g.Go(func() error {
			st, err := b.Status(ctx, running[i].backendID)
			answers[i] = answer{st, err, true}
			return nil
		})
	}
	for site, idx := range bySite {
		b, err := bk(ctx, site)
		if err != nil {
			continue // the site may come back
		}
		l, ok := b.(compute.StatusLister)
		if !ok || len(idx) < listFrom {
			for _, i := range idx {
				one(b, i)
			}
			continue
		}
		g.Go(func() error {
			ids := make([]compute.BackendJobID, len(idx))
			for k, i := range idx {
				ids[k] = running[i].backendID
			}
			sts, err := l.Statuses(ctx, ids)
			if err != nil {
				// Perhaps too many jobs for one answer: ask one by one
				// (here: a goroutine of g waiting for a slot of g could
				// wait for ever).
				for _, i := range idx {
					st, err := b.Status(ctx, running[i].backendID)
					answers[i] = answer{st, err, true}
				}
				return nil
			}
			for k, i := range idx {
				st, found := sts[ids[k]]
				answers[i] = answer{st: st, asked: true}
				if !found {
					answers[i].err = errors.E(errors.NotExist, errors.Msg("no such job"))
				}
			}
			return nil
		})
	}
	g.Wait()
	for i := range running {
		if a := answers[i]; a.asked {
			s.follow(ctx, &running[i], bk, a.st, a.err)
		}
	}
}

// FollowParallelism bounds the status requests in flight in one round;
// listFrom is how many jobs on one site make it worth listing them all at
// once, where the site's backend can.
const (
	FollowParallelism = 16
	listFrom          = 8
)

// follow acts on what a running job's site said of it: st, or err.
func (s *Service) follow(ctx context.Context, j *Job, bk backends, st compute.Status, err error) {
	if errors.Is(errors.NotExist, err) || err == nil && st.State == compute.Failed && st.Reason == compute.ReasonLost {
		// The site restarted or lost its node: run it again (a bounded
		// number of times; its outputs are still committed once).
		s.retry(ctx, j, bk, "site "+j.Site+" lost the job")
		return
	}
	if err != nil {
		return
	}
	switch st.State {
	case compute.Completed:
		s.complete(ctx, j)
	case compute.Failed:
		s.finish(ctx, j, Failed, st.Reason, st.Detail, st.ExitCode)
	case compute.Canceled:
		s.finish(ctx, j, Canceled, st.Reason, st.Detail, st.ExitCode)
	}
}

// complete commits the job's outputs and models — all of them or none —
// and marks it completed. Every output is checked before any is committed
// (its path exists; a dataset may take it without a write down; a model's
// metrics and card are readable and valid): a job whose outputs fail the
// check fails with nothing committed. Committing then goes on until all
// are: each commit is idempotent per job, and one that fails transiently
// leaves the job running, so the next round commits the rest.
func (s *Service) complete(ctx context.Context, j *Job) {
	owner, err := s.owner(ctx, j)
	if err != nil {
		s.finish(ctx, j, Failed, compute.ReasonBackend, "the job's owner is gone", 0)
		return
	}
	// The label as it is now: an input raised while the job ran raised the
	// job (Service.raise), and its outputs are at least that high.
	if cur, err := s.load(ctx, j.ID); err == nil {
		j.Label = cur.Label
	}
	l, err := label.Parse(j.Label)
	if err != nil {
		s.finish(ctx, j, Failed, compute.ReasonBackend, "the job's label does not parse", 0)
		return
	}
	dir := s.dirOf(j)
	fail := func(what string, err error) {
		if errors.Is(errors.Transient, err) {
			return // not the outputs' fault: the next round checks again
		}
		s.finish(ctx, j, Failed, "outputs", what+": "+errors.SafeMessage(err)+" (no output was committed)", 0)
	}
	outPaths := sortedKeys(j.Spec.Outputs)
	for _, path := range outPaths {
		name := j.Spec.Outputs[path]
		if err := s.catalog.CheckOutput(ctx, owner, catalog.KindDataset, name, l); err != nil {
			fail("output "+path+" → "+name, err)
			return
		}
		if _, err := os.Stat(filepath.Join(dir, path)); err != nil {
			fail("output "+path+" → "+name, errors.E(errors.Invalid, errors.Msg("the job did not write "+path)))
			return
		}
	}
	modelPaths := sortedKeys(j.Spec.Models)
	models := make([]catalog.ModelOutput, len(modelPaths))
	for i, path := range modelPaths {
		m := j.Spec.Models[path]
		models[i] = catalog.ModelOutput{Name: m.Name, Floor: l, Meta: catalog.ModelMeta{Framework: m.Framework, Task: m.Task},
			Dir: filepath.Join(dir, path), Metrics: m.Metrics, Card: m.Card}
		if err := s.catalog.CheckOutput(ctx, owner, catalog.KindModel, m.Name, l); err != nil {
			fail("model "+path+" → "+m.Name, err)
			return
		}
		if _, err := os.Stat(filepath.Join(dir, path)); err != nil {
			fail("model "+path+" → "+m.Name, errors.E(errors.Invalid, errors.Msg("the job did not write "+path)))
			return
		}
		if _, err := models[i].Load(); err != nil {
			fail("model "+path+" → "+m.Name, err)
			return
		}
	}
	var outs []catalog.Output
	commitFailed := func(what string, err error) {
		if errors.Is(errors.Transient, err) || errors.Is(errors.Conflict, err) {
			return // the next round goes on
		}
		var done []string
		for _, o := range outs {
			done = append(done, o.Asset+"@"+strconv.FormatInt(o.Version, 10))
		}
		detail := what + ": " + errors.SafeMessage(err)
		if len(done) > 0 {
			detail += " (after its checks passed; committed before this: " + strings.Join(done, ", ") + ")"
		}
		s.finish(ctx, j, Failed, "outputs", detail, 0)
	}
	for _, path := range outPaths {
		name := j.Spec.Outputs[path]
		o, err := s.catalog.CommitOutput(ctx, owner, name, filepath.Join(dir, path), l, j.inputRefs, catalog.ActivityJob, j.ID)
		if err != nil {
			commitFailed("output "+path+" → "+name, err)
			return
		}
		outs = append(outs, *o)
	}
	for i, path := range modelPaths {
		o, err := s.catalog.CommitModelOutput(ctx, owner, models[i], filepath.Join(dir, path), j.inputRefs, catalog.ActivityJob, j.ID)
		if err != nil {
			commitFailed("model "+path+" → "+models[i].Name, err)
			return
		}
		outs = append(outs, *o)
	}
	b, _ := json.Marshal(outs)
	if s.update(ctx, j, `state = ?, outputs = ?, exit_code = 0, reason = '', finished_at = ?`, Completed, string(b), store.T(s.now())) == nil {
		s.system(ctx, j, "finish", Completed)
	}
}

// sortedKeys returns m's keys in order: outputs are checked and committed
// in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (s *Service) owner(ctx context.Context, j *Job) (*genesis.Principal, error) {
	return s.ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, j.Owner)
}

// backends returns a site's backend.
type backends func(ctx context.Context, site string) (compute.Backend, error)

// roundBackends returns the backends of the sites ss, the sites a round
// read once.
func (s *Service) roundBackends(ss []sites.Site) backends {
	return func(ctx context.Context, name string) (compute.Backend, error) { return s.backendIn(ctx, ss, name) }
}

// shareJobDir lets the user a site runs jobs as, on this file system, use
// the job's directory: a server running as root gives the directory to
// that user, when the backend names it (compute.RunAs) and it exists
// here; otherwise the directories are opened to everyone (0777), reachable
// only by whoever knows the job's ID, since the directories above cannot
// be listed.
func shareJobDir(dir string, b compute.Backend) {
	var uid, gid = -1, -1
	if r, ok := b.(compute.RunAs); ok && os.Geteuid() == 0 {
		if u, err := user.Lookup(r.RunAs()); err == nil {
			uid, _ = strconv.Atoi(u.Uid)
			gid, _ = strconv.Atoi(u.Gid)
		}
	}
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		switch {
		case err != nil:
		case uid >= 0:
			os.Lchown(p, uid, gid)
		case fi.IsDir():
			os.Chmod(p, 0o777)
		}
		return nil
	})
}
