package jobs

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/sched"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// Run is the scheduler loop: every tick it places pending jobs, follows
// running ones and finishes those that are done. All its state is in the
// store, so a restarted server resumes where it stopped.
func (s *Service) Run(ctx context.Context, tick time.Duration, onError func(error)) error {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := s.Step(ctx); err != nil && ctx.Err() == nil && onError != nil {
				onError(err)
			}
		}
	}
}

// Step runs one scheduling round.
func (s *Service) Step(ctx context.Context) error {
	var pending, running []Job
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+cols+` FROM jobs WHERE state IN (?, ?) ORDER BY created_at LIMIT 1000`, Pending, Running)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			j, err := scan(rows)
			if err != nil {
				return err
			}
			if j.State == Pending {
				pending = append(pending, *j)
			} else {
				running = append(running, *j)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	var down map[string]bool
	if len(running) > 0 {
		ss, err := s.sites.All(ctx)
		if err != nil {
			return err
		}
		down = map[string]bool{}
		for _, st := range ss {
			if st.Status == sites.Down {
				down[st.Name] = true
			}
		}
	}
	for i := range running {
		if down[running[i].Site] {
			s.retry(ctx, &running[i])
			continue
		}
		s.follow(ctx, &running[i])
	}
	if len(pending) == 0 {
		return nil
	}
	cands, err := s.candidates(ctx)
	if err != nil {
		return err
	}
	left := remainders{}
	for i := range pending {
		s.place(ctx, &pending[i], cands, left)
	}
	return nil
}

func (s *Service) owner(ctx context.Context, j *Job) (*genesis.Principal, error) {
	return s.ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, j.Owner)
}

// place chooses a site for a pending job and starts it there.
func (s *Service) place(ctx context.Context, j *Job, cands []sched.Candidate, left remainders) {
	sj := s.schedJob(ctx, j, left)
	chosen, vs := sched.Place(sj, cands)
	explain, _ := json.Marshal(vs)
	if chosen == "" {
		s.update(ctx, j, `explain = ?, reason = ?`, string(explain), "no feasible site")
		return
	}
	var site *sites.Site
	for i := range cands {
		if cands[i].Site.Name == chosen {
			site = &cands[i].Site
		}
	}
	owner, err := s.owner(ctx, j)
	if err != nil {
		s.finish(ctx, j, Failed, compute.ReasonBackend, "the job's owner is gone", -1)
		return
	}
	dir := s.jobDir(j.ID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.finish(ctx, j, Failed, compute.ReasonBackend, "cannot create the job directory", -1)
		return
	}
	// Stage inputs read-only under inputs/NAME/ (as the owner: access is
	// decided again now — fail closed if it was revoked).
	for _, r := range j.inputRefs {
		dest := filepath.Join(dir, "inputs", assetName(r))
		if _, err := os.Stat(dest); err == nil {
			continue
		}
		if err := s.catalog.Stage(ctx, owner, r, dest); err != nil {
			s.finish(ctx, j, Failed, compute.ReasonBackend, "staging input "+r.String()+": "+errors.SafeMessage(err), -1)
			return
		}
	}
	if site.Kind == sites.KindSlurm {
		// Slurm runs the job as its own user on the shared file system.
		filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				os.Chmod(p, 0o777)
			}
			return nil
		})
	}
	b, err := s.Backend(ctx, site)
	if err != nil {
		s.update(ctx, j, `explain = ?, reason = ?`, string(explain), "site backend unavailable: "+errors.SafeMessage(err))
		return
	}
	bid, err := b.Submit(ctx, compute.Request{ID: compute.JobID(j.ID), Spec: j.Spec, WorkDir: dir})
	if err != nil {
		if errors.Is(errors.Transient, err) {
			s.update(ctx, j, `explain = ?, reason = ?`, string(explain), "site "+chosen+" unavailable, will retry")
			return
		}
		s.finish(ctx, j, Failed, compute.ReasonBackend, "site "+chosen+" refused the job: "+errors.SafeMessage(err), -1)
		return
	}
	s.update(ctx, j, `state = ?, site = ?, backend_id = ?, explain = ?, reason = '', started_at = ?`, Running, chosen, string(bid), string(explain), store.T(s.now()))
	// The site is busier, and the project's allocation smaller, for the
	// rest of this round.
	if sj.Charged {
		r := sj.Remaining[chosen]
		r.NodeHours -= sj.NodeHours
		r.GPUHours -= sj.GPUHours
		sj.Remaining[chosen] = r
	}
	for i := range cands {
		if cands[i].Site.Name == chosen {
			cands[i].Load.RunningJobs++
			cands[i].Load.RunningNodes += max(1, j.Spec.Resources.Nodes())
		}
	}
}

// MaxAttempts bounds how often a job is placed again after its site died.
const MaxAttempts = 3

// retry handles a running job whose site is down: it is cancelled there
// (best effort) and placed again elsewhere, up to MaxAttempts placements.
// Outputs are still committed once: CommitOutput is idempotent per job.
func (s *Service) retry(ctx context.Context, j *Job) {
	var attempts int
	s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT attempts FROM jobs WHERE id = ?`, j.ID).Scan(&attempts)
	})
	if b, err := s.backendOf(ctx, j.Site); err == nil {
		b.Cancel(ctx, j.backendID)
	}
	if attempts+1 >= MaxAttempts {
		s.finish(ctx, j, Failed, compute.ReasonLost, "site "+j.Site+" went down "+strconv.Itoa(attempts+1)+" times under this job", -1)
		return
	}
	// A fresh working directory: the dead site may still hold the old one.
	os.RemoveAll(s.jobDir(j.ID))
	s.update(ctx, j, `state = ?, site = '', backend_id = '', attempts = attempts + 1, reason = ?`, Pending, "site "+j.Site+" went down; placing again")
}

// assetName is the directory an input is staged into.
func assetName(r catalog.VersionRef) string { return filepath.Base(r.Asset) }

// follow asks the backend about a running job and finishes it when final.
func (s *Service) follow(ctx context.Context, j *Job) {
	b, err := s.backendOf(ctx, j.Site)
	if err != nil {
		return // the site may come back
	}
	st, err := b.Status(ctx, j.backendID)
	if errors.Is(errors.NotExist, err) {
		s.finish(ctx, j, Failed, compute.ReasonLost, "the site no longer knows the job", -1)
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

// complete commits the job's outputs (once each: CommitOutput is idempotent
// per job) and marks it completed.
func (s *Service) complete(ctx context.Context, j *Job) {
	owner, err := s.owner(ctx, j)
	if err != nil {
		s.finish(ctx, j, Failed, compute.ReasonBackend, "the job's owner is gone", 0)
		return
	}
	l, _ := label.Parse(j.Label)
	var outs []catalog.Output
	for path, name := range j.Spec.Outputs {
		o, err := s.catalog.CommitOutput(ctx, owner, name, filepath.Join(s.jobDir(j.ID), path), l, j.inputRefs, catalog.ActivityJob, j.ID)
		if err != nil {
			s.finish(ctx, j, Failed, "outputs", "output "+path+" → "+name+": "+errors.SafeMessage(err), 0)
			return
		}
		outs = append(outs, *o)
	}
	b, _ := json.Marshal(outs)
	s.update(ctx, j, `state = ?, outputs = ?, exit_code = 0, reason = '', finished_at = ?`, Completed, string(b), store.T(s.now()))
}
