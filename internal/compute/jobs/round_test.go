package jobs_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

type fixture struct {
	db       store.DB
	svc      *jobs.Service
	cat      *catalog.Service
	id       *identity.Service
	work     string
	admin    *genesis.Principal
	alice    *genesis.Principal
	reg      *sites.Registry
	backends map[string]compute.Backend
}

// newFixture sets up a job service with local sites of the given names
// (all OPEN, one node each).
func newFixture(t *testing.T, siteNames ...string) *fixture {
	return newFixtureOn(t, storetest.Migrated(t, storetest.SQLite), siteNames...)
}

// newFixtureOn is newFixture on a given (migrated) store.
func newFixtureOn(t *testing.T, db store.DB, siteNames ...string) *fixture {
	ids := identity.New(db)
	ids.Bootstrap(ctx, "admin")
	admin, _ := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	ids.RegisterCompartment(ctx, admin, "FUSION")
	alice, _ := ids.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "PROPRIETARY", Roles: []genesis.Role{genesis.RoleContributor}})
	az, _ := authz.New(ids, time.Now)
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: ids})
	reg, _ := sites.New(db, az, ids, make([]byte, 32))
	work := t.TempDir()
	f := &fixture{db: db, cat: cat, id: ids, work: work, admin: admin, alice: alice, reg: reg, backends: map[string]compute.Backend{}}
	for _, name := range siteNames {
		f.addSite(t, name, "OPEN")
	}
	f.svc = jobs.New(db, az, ids, cat, reg, filepath.Join(work, "jobs"))
	f.svc.Backend = func(_ context.Context, s *sites.Site) (compute.Backend, error) { return f.backends[s.Name], nil }
	return f
}

// addSite registers a local site of one node accredited for acc.
func (f *fixture) addSite(t *testing.T, name, acc string) {
	t.Helper()
	b, err := local.New(filepath.Join(f.work, name), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.backends[name] = b
	if _, err := f.reg.Add(ctx, f.admin, sites.Spec{Name: name, Kind: sites.KindLocal, Accreditation: acc, Capacity: sites.Capacity{Nodes: 1, CoresPerNode: 2, MemoryGBNode: 4}}); err != nil {
		t.Fatal(err)
	}
}

func mustSpec(t *testing.T, yaml string) *compute.JobSpec {
	t.Helper()
	spec, err := compute.ParseJobSpec([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func (f *fixture) submit(t *testing.T, yaml string) *jobs.Job {
	t.Helper()
	j, err := f.svc.Submit(ctx, f.alice, mustSpec(t, yaml))
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// TestRoundsFollowEveryRunningJob: with rounds that follow and place only a
// few jobs each, every job is still placed, followed and finished, and
// pending jobs are placed while more running jobs exist than a round
// follows (the old single query for both starved them).
func TestRoundsFollowEveryRunningJob(t *testing.T) {
	defer jobs.SetBatches(2, 3)()
	runAll(t, newFixture(t, "a-site"), 9, "0.5")
}

// TestInterruptedPlacementResubmitsToTheSameSite: a job recorded as placed
// on a site but not yet recorded as running (the server stopped between
// the two) is submitted again to that same site — which already runs it —
// and not placed anywhere else.
func TestInterruptedPlacementResubmitsToTheSameSite(t *testing.T) {
	f := newFixture(t, "a-site", "b-site")
	j := f.submit(t, "executable: /bin/sh\narguments: [\"-c\", \"sleep 1\"]\nattributes:\n  duration: 1m\n")
	// What the first round did before it stopped: the placement on b-site
	// (a-site would be chosen afresh: same score, listed first), and the
	// submission there.
	if err := f.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE jobs SET site = 'b-site' WHERE id = ?`, j.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	bid, err := f.backends["b-site"].Submit(ctx, compute.Request{ID: compute.JobID(j.ID), Spec: j.Spec, WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Step(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.svc.Get(ctx, f.alice, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != jobs.Running || got.Site != "b-site" {
		t.Fatalf("after the interrupted placement: %s on %q, want running on b-site", got.State, got.Site)
	}
	if _, err := f.backends["a-site"].Status(ctx, bid); err == nil {
		t.Errorf("the job was also started on a-site")
	}
	runUntil(t, f.svc, f.alice, j.ID, jobs.Completed)
}

// TestPlacedJobOnDownSiteIsPlacedAgain: a job placed on a site that went
// down before it was submitted there is placed elsewhere.
func TestPlacedJobOnDownSiteIsPlacedAgain(t *testing.T) {
	f := newFixture(t, "a-site", "b-site")
	j := f.submit(t, "executable: /bin/true\nattributes:\n  duration: 1m\n")
	if err := f.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE jobs SET site = 'a-site' WHERE id = ?`, j.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.reg.Heartbeat(ctx, f.admin, "a-site", sites.Down, "maintenance", 0); err != nil {
		t.Fatal(err)
	}
	got := runUntil(t, f.svc, f.alice, j.ID, jobs.Completed)
	if got.Site != "b-site" {
		t.Errorf("completed on %q, want b-site", got.Site)
	}
}

// TestLostJobRunsAgain: a job its site no longer knows (the site was
// rebuilt under it) is placed again under a new submission ID and
// completes; its outputs are committed once.
func TestLostJobRunsAgain(t *testing.T) {
	f := newFixture(t, "a-site")
	j := f.submit(t, "executable: /bin/sh\narguments: [\"-c\", \"sleep 1; echo ok > out.txt\"]\noutputs: {out.txt: results}\nattributes:\n  duration: 1m\n")
	runUntil(t, f.svc, f.alice, j.ID, jobs.Running)
	old := f.backends["a-site"].(*local.Backend)
	t.Cleanup(func() { old.Close() })
	nb, err := local.New(filepath.Join(f.work, "a-site-rebuilt"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nb.Close() })
	f.backends["a-site"] = nb
	got := runUntil(t, f.svc, f.alice, j.ID, jobs.Completed)
	if len(got.Outputs) != 1 {
		t.Fatalf("outputs = %+v", got.Outputs)
	}
	if vs, _ := f.cat.Versions(ctx, f.alice, "results"); len(vs) != 1 {
		t.Errorf("%d output versions, want 1", len(vs))
	}
	if _, err := nb.Status(ctx, compute.BackendJobID(j.ID+".a1")); err != nil {
		t.Errorf("the second placement was not submitted as %s.a1: %v", j.ID, err)
	}
}

// TestSchedulerAudits: what the platform does to a job on its owner's
// behalf — placing it, finishing it — lands on the audit log, and a
// NATIONAL-SECURITY job is not started while the log cannot be written.
func TestSchedulerAudits(t *testing.T) {
	f := newFixture(t)
	f.addSite(t, "ns-site", "NATIONAL-SECURITY")
	log := audit.NewMemory()
	f.svc.Audit = log
	if _, err := f.id.SetClearance(ctx, "alice", "NATIONAL-SECURITY"); err != nil {
		t.Fatal(err)
	}
	alice, _ := f.id.Principal(ctx, f.admin, "alice")
	f.alice = alice
	j := f.submit(t, "executable: /bin/true\nattributes:\n  duration: 1m\n")
	runUntil(t, f.svc, f.alice, j.ID, jobs.Completed)
	actions := map[string]bool{}
	n, _ := log.Size(ctx)
	for i := range n {
		e, err := log.Get(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if e.ObjectID == j.ID {
			actions[e.Action] = true
		}
	}
	for _, a := range []string{"job.submit", "job.place", "job.finish"} {
		if !actions[a] {
			t.Errorf("no %s record for the job (got %v)", a, actions)
		}
	}
	ns := f.submit(t, "executable: /bin/true\nlabel: NATIONAL-SECURITY\nattributes:\n  duration: 1m\n")
	log.Fail = errors.New("disk full")
	f.svc.Step(ctx)
	// Reading it is refused too while its read cannot be recorded (AU-5).
	if _, err := f.svc.Get(ctx, f.alice, ns.ID); err == nil {
		t.Error("a NATIONAL-SECURITY job was shown while the audit log could not record the read")
	}
	log.Fail = nil
	got, err := f.svc.Get(ctx, f.alice, ns.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != jobs.Pending || !strings.Contains(got.Reason, "audit log") {
		t.Errorf("NATIONAL-SECURITY job with a broken audit log: %s (%s), want pending, not started", got.State, got.Reason)
	}
}
