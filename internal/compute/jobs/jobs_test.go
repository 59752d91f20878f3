package jobs_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

func TestJobs(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ids := identity.New(db)
		ids.Bootstrap(ctx, "admin")
		admin, _ := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
		ids.RegisterCompartment(ctx, admin, "FUSION")
		alice, _ := ids.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "NATIONAL-SECURITY//FUSION", Roles: []genesis.Role{genesis.RoleContributor}})
		bob, _ := ids.CreatePrincipal(ctx, genesis.Principal{Clearance: "OPEN", Name: "bob", Roles: []genesis.Role{genesis.RoleContributor}})
		az, _ := authz.New(ids, time.Now)
		cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: ids})
		reg, _ := sites.New(db, az, ids, make([]byte, 32))
		work := t.TempDir()
		lb, err := local.New(filepath.Join(work, "backend"), local.Options{})
		if err != nil {
			t.Fatal(err)
		}
		svc := jobs.New(db, az, ids, cat, reg, filepath.Join(work, "jobs"))
		svc.Backend = func(context.Context, *sites.Site) (compute.Backend, error) { return lb, nil }

		capy := sites.Capacity{Nodes: 1, CoresPerNode: 4, MemoryGBNode: 8}
		reg.Add(ctx, admin, sites.Spec{Name: "open-box", Kind: sites.KindLocal, Accreditation: "OPEN", Capacity: capy})
		reg.Add(ctx, admin, sites.Spec{Name: "secure-box", Kind: sites.KindLocal, Accreditation: "PROPRIETARY//FUSION", Capacity: capy})

		// An input dataset.
		if _, err := cat.Create(ctx, alice, catalog.CreateSpec{Name: "raw", Label: "PROPRIETARY//FUSION"}); err != nil {
			t.Fatal(err)
		}
		src := t.TempDir()
		writeFile(t, filepath.Join(src, "shots.csv"), "shot,energy\n1,3.5\n")
		srcs, _ := pack.Sources([]string{src}, nil)
		res, err := pack.Pack(ctx, cat.Blobs(alice, "raw"), srcs, pack.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cat.Commit(ctx, alice, "raw", catalog.CommitSpec{Manifest: res.ID}); err != nil {
			t.Fatal(err)
		}

		spec := func(yaml string) *compute.JobSpec {
			s, err := compute.ParseJobSpec([]byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		// The job's label is computed from its input: it may not run on the
		// OPEN site, only on the accredited one.
		j, err := svc.Submit(ctx, alice, spec(`
name: calibrate
executable: /bin/sh
arguments: ["-c", "wc -l < inputs/raw/shots.csv > count.txt; echo calibrated"]
inputs: ["raw@1"]
outputs:
  count.txt: calibrated
attributes:
  duration: 10m
`))
		if err != nil {
			t.Fatal(err)
		}
		if j.Label != "PROPRIETARY//FUSION" || j.State != jobs.Pending {
			t.Errorf("job = %+v", j)
		}
		j = runUntil(t, svc, alice, j.ID, jobs.Completed)
		if j.Site != "secure-box" {
			t.Errorf("placed on %s", j.Site)
		}
		if len(j.Outputs) != 1 || j.Outputs[0].Asset != "calibrated" || j.Outputs[0].Version != 1 {
			t.Fatalf("outputs = %+v", j.Outputs)
		}
		out, err := cat.Get(ctx, alice, "calibrated")
		if err != nil || out.Label != "PROPRIETARY//FUSION" {
			t.Errorf("output asset = %+v, %v (label must be the job's)", out, err)
		}
		g, _ := cat.Lineage(ctx, alice, catalog.VersionRef{Asset: "calibrated"}, true, 2)
		if g == nil || len(g.Edges) != 1 || g.Edges[0].Activity != catalog.ActivityJob || g.Edges[0].ActivityID != j.ID {
			t.Errorf("lineage = %+v", g)
		}
		logs, _ := svc.Logs(ctx, alice, j.ID, compute.Stdout, 0)
		b, _ := io.ReadAll(logs)
		if !strings.Contains(string(b), "calibrated") {
			t.Errorf("stdout = %q", b)
		}
		// Outputs are committed once, however often a step repeats.
		svc.Step(ctx)
		if vs, _ := cat.Versions(ctx, alice, "calibrated"); len(vs) != 1 {
			t.Errorf("%d output versions, want 1", len(vs))
		}

		// Invisible to bob; his unreadable input is "not found".
		if _, err := svc.Get(ctx, bob, j.ID); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob reads alice's job: %v", err)
		}
		if _, err := svc.Submit(ctx, bob, spec("executable: /bin/true\ninputs: [\"raw@1\"]\nattributes:\n  duration: 1m\n")); errors.FieldOf(err) != "inputs" {
			t.Errorf("bob's job on unreadable input: %v", err)
		}

		// No site is accredited for NATIONAL-SECURITY: pending, explained.
		ns, err := svc.Submit(ctx, alice, spec("executable: /bin/true\nlabel: NATIONAL-SECURITY\nattributes:\n  duration: 1m\n"))
		if err != nil {
			t.Fatal(err)
		}
		svc.Step(ctx)
		_, vs, err := svc.Explain(ctx, alice, ns.ID)
		if err != nil || len(vs) != 2 || vs[0].Feasible || !strings.Contains(strings.Join(vs[0].Reasons, ";"), "does not dominate") {
			t.Errorf("explain = %+v, %v", vs, err)
		}
		if got, _ := svc.Get(ctx, alice, ns.ID); got.State != jobs.Pending {
			t.Errorf("NS job state = %s", got.State)
		}

		// Cancel a running job.
		long, _ := svc.Submit(ctx, alice, spec("executable: /bin/sleep\narguments: [\"30\"]\nattributes:\n  duration: 1m\n"))
		runUntil(t, svc, alice, long.ID, jobs.Running)
		if c, err := svc.Cancel(ctx, bob, long.ID); !errors.Is(errors.Permission, err) { // bob (global contributor) may read it, not cancel it
			t.Errorf("bob cancels: %+v %v", c, err)
		}
		c, err := svc.Cancel(ctx, alice, long.ID)
		if err != nil || c.State != jobs.Canceled {
			t.Errorf("cancel = %+v, %v", c, err)
		}
		// A failing job.
		bad, _ := svc.Submit(ctx, alice, spec("executable: /bin/sh\narguments: [\"-c\", \"exit 3\"]\nattributes:\n  duration: 1m\n"))
		bad = runUntil(t, svc, alice, bad.ID, jobs.Failed)
		if bad.ExitCode != 3 {
			t.Errorf("failed job = %+v", bad)
		}
		if l, _, _ := svc.List(ctx, alice, jobs.ListOptions{}); len(l) != 4 {
			t.Errorf("alice lists %d jobs", len(l))
		}

		// Allocations: a job charged to a project runs only where the
		// project's allocation covers it; beyond it, it waits and says why.
		if _, err := ids.CreateProject(ctx, alice, genesis.Project{Name: "fusion"}); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Submit(ctx, alice, spec("executable: /bin/true\nattributes:\n  duration: 1m\n  account: fusion\n")); errors.FieldOf(err) != "attributes.account" {
			t.Errorf("job charged to a project without allocation: %v", err)
		}
		if _, err := svc.SetAllocation(ctx, alice, "fusion", "open-box", 1, 0); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor sets an allocation: %v", err)
		}
		al, err := svc.SetAllocation(ctx, admin, "fusion", "open-box", 0.05, 0)
		if err != nil || al.NodeHours != 0.05 {
			t.Fatalf("allocation = %+v, %v", al, err)
		}
		small, err := svc.Submit(ctx, alice, spec("executable: /bin/true\nattributes:\n  duration: 2m\n  account: fusion\n"))
		if err != nil {
			t.Fatal(err)
		}
		small = runUntil(t, svc, alice, small.ID, jobs.Completed)
		if small.Site != "open-box" {
			t.Errorf("charged job ran on %s, where fusion has no allocation", small.Site)
		}
		big, _ := svc.Submit(ctx, alice, spec("executable: /bin/true\nattributes:\n  duration: 10m\n  account: fusion\n"))
		svc.Step(ctx)
		_, vs, _ = svc.Explain(ctx, alice, big.ID)
		joined := ""
		for _, v := range vs {
			joined += v.Site + ": " + strings.Join(v.Reasons, "; ") + "\n"
		}
		if got, _ := svc.Get(ctx, alice, big.ID); got.State != jobs.Pending || !strings.Contains(joined, "node-hours left here") || !strings.Contains(joined, "no allocation at this site") {
			t.Errorf("job beyond the allocation: %s\n%s", got.State, joined)
		}
		as, _ := svc.Allocations(ctx, alice, "fusion")
		if len(as) != 1 || as[0].UsedNodeHours <= 0 || as[0].UsedNodeHours > 0.05 {
			t.Errorf("usage = %+v", as)
		}
	})
}

func runUntil(t *testing.T, svc *jobs.Service, p *genesis.Principal, id, state string) *jobs.Job {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if err := svc.Step(ctx); err != nil {
			t.Fatal(err)
		}
		j, err := svc.Get(ctx, p, id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == state {
			return j
		}
		if j.State == jobs.Failed || j.State == jobs.Completed || j.State == jobs.Canceled {
			t.Fatalf("job ended %s (%s: %s), want %s", j.State, j.Reason, j.Detail, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %s not %s in time", id, state)
	return nil
}
