package jobs_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestRetryWhenSiteDies: a running job whose site goes down is cancelled
// there and placed again on another feasible site, where it completes.
func TestRetryWhenSiteDies(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	ids := identity.New(db)
	ids.Bootstrap(ctx, "admin")
	admin, _ := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	alice, _ := ids.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Roles: []genesis.Role{genesis.RoleContributor}})
	az, _ := authz.New(ids, time.Now)
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: ids})
	reg, _ := sites.New(db, az, ids, make([]byte, 32))
	work := t.TempDir()
	backends := map[string]compute.Backend{}
	for _, name := range []string{"a-site", "b-site"} {
		b, err := local.New(filepath.Join(work, name), local.Options{})
		if err != nil {
			t.Fatal(err)
		}
		backends[name] = b
		reg.Add(ctx, admin, sites.Spec{Name: name, Kind: sites.KindLocal, Accreditation: "OPEN", Capacity: sites.Capacity{Nodes: 1, CoresPerNode: 2, MemoryGBNode: 4}})
	}
	svc := jobs.New(db, az, ids, cat, reg, filepath.Join(work, "jobs"))
	svc.Backend = func(_ context.Context, s *sites.Site) (compute.Backend, error) { return backends[s.Name], nil }

	spec, err := compute.ParseJobSpec([]byte("executable: /bin/sh\narguments: [\"-c\", \"sleep 1; echo done\"]\nattributes:\n  duration: 1m\n"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := svc.Submit(ctx, alice, spec)
	if err != nil {
		t.Fatal(err)
	}
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
	if st, err := backends["a-site"].Status(ctx, compute.BackendJobID(j.ID)); err != nil || st.State != compute.Canceled {
		t.Errorf("the job on the dead site: %+v, %v (want cancelled there)", st, err)
	}
}

// TestOneRoundCannotOversubscribe: jobs placed in the same scheduling round
// are charged against the allocation as they are placed.
func TestOneRoundCannotOversubscribe(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	ids := identity.New(db)
	ids.Bootstrap(ctx, "admin")
	admin, _ := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	alice, _ := ids.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Roles: []genesis.Role{genesis.RoleContributor}})
	az, _ := authz.New(ids, time.Now)
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: ids})
	reg, _ := sites.New(db, az, ids, make([]byte, 32))
	lb, _ := local.New(t.TempDir(), local.Options{})
	reg.Add(ctx, admin, sites.Spec{Name: "box", Kind: sites.KindLocal, Accreditation: "OPEN", Capacity: sites.Capacity{Nodes: 4, CoresPerNode: 2, MemoryGBNode: 4}})
	svc := jobs.New(db, az, ids, cat, reg, t.TempDir())
	svc.Backend = func(context.Context, *sites.Site) (compute.Backend, error) { return lb, nil }
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
