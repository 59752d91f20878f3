package jobs_test

import (
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/sites"
)

// TestRetryWhenSiteDies: a running job whose site goes down is cancelled
// there and placed again on another feasible site, where it completes.
func TestRetryWhenSiteDies(t *testing.T) {
	f := newFixture(t, "a-site", "b-site")
	svc, reg, admin, alice := f.svc, f.reg, f.admin, f.alice
	j := f.submit(t, "executable: /bin/sh\narguments: [\"-c\", \"sleep 1; echo done\"]\nattributes:\n  duration: 1m\n")
	j = runUntil(t, svc, alice, j.ID, jobs.Running)
	if j.Site != "a-site" {
		t.Fatalf("first placement on %s", j.Site)
	}
	if _, err := reg.Heartbeat(ctx, admin, "a-site", sites.Down, "power loss", 0); err != nil {
		t.Fatal(err)
	}
	svc.Step(ctx) // sees the dead site: back to pending
	j = runUntil(t, svc, alice, j.ID, jobs.Completed)
	if j.Site != "b-site" {
		t.Errorf("after a-site died the job completed on %s", j.Site)
	}
	if st, err := f.backends["a-site"].Status(ctx, compute.BackendJobID(j.ID)); err != nil || st.State != compute.Canceled {
		t.Errorf("the job on the dead site: %+v, %v (want cancelled there)", st, err)
	}
}

// TestOneRoundCannotOversubscribe: jobs placed in the same scheduling round
// are charged against the allocation as they are placed.
func TestOneRoundCannotOversubscribe(t *testing.T) {
	f := newFixture(t)
	svc, ids, admin, alice := f.svc, f.id, f.admin, f.alice
	// Four nodes: room for both jobs, so only the allocation can refuse one.
	lb, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.backends["box"] = lb
	if _, err := f.reg.Add(ctx, admin, sites.Spec{Name: "box", Kind: sites.KindLocal, Accreditation: "OPEN", Capacity: sites.Capacity{Nodes: 4, CoresPerNode: 2, MemoryGBNode: 4}}); err != nil {
		t.Fatal(err)
	}
	ids.CreateProject(ctx, alice, genesis.Project{Name: "p"})
	if _, err := svc.SetAllocation(ctx, admin, "p", "box", 0.05, 0); err != nil {
		t.Fatal(err)
	}
	spec, _ := compute.ParseJobSpec([]byte("executable: /bin/sleep\narguments: [\"2\"]\nattributes:\n  duration: 2m\n  account: p\n"))
	a, _ := svc.Submit(ctx, alice, spec)
	b, _ := svc.Submit(ctx, alice, spec)
	if err := svc.Step(ctx); err != nil {
		t.Fatal(err)
	}
	ja, _ := svc.Get(ctx, alice, a.ID)
	jb, _ := svc.Get(ctx, alice, b.ID)
	if placed := (ja.State == jobs.Running) != (jb.State == jobs.Running); !placed {
		t.Errorf("states %s, %s: want exactly one placed within 0.05 node-hours (each may use 0.033)", ja.State, jb.State)
	}
}
