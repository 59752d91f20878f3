package jobs_test

import (
	"context"
	"path/filepath"
	"strings"
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
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestJobNamesHiddenAssets: a job's inputs and outputs are names as its
// submitter sees the catalog (docs/DESIGN.md, "Names"). An output named
// like an asset the submitter cannot read is a new dataset of the
// submitter's — the job neither fails nor says that asset exists — and an
// input resolves to the submitter's own asset, never to an older hidden one.
func TestJobNamesHiddenAssets(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ids := identity.New(db)
		ids.Bootstrap(ctx, "admin")
		admin, _ := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
		if _, err := ids.RegisterCompartment(ctx, admin, "FUSION"); err != nil {
			t.Fatal(err)
		}
		alice, _ := ids.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleContributor}})
		bob, _ := ids.CreatePrincipal(ctx, genesis.Principal{Name: "bob", Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleContributor}})
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

		// alice's assets, hidden from bob and older than his.
		hidden := map[string]*catalog.Asset{}
		for _, n := range []string{"result", "params"} {
			a, err := cat.Create(ctx, alice, catalog.CreateSpec{Name: n, Label: "PROPRIETARY//FUSION"})
			if err != nil {
				t.Fatal(err)
			}
			hidden[n] = a
		}
		fusion, _ := label.Parse("PROPRIETARY//FUSION")
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "p.txt"), "bob's parameters\n")
		if _, err := cat.CommitOutput(ctx, alice, "params", filepath.Join(dir, "p.txt"), fusion, nil, catalog.ActivityPut, "seed"); err != nil {
			t.Fatal(err)
		}
		if _, err := cat.CommitOutput(ctx, bob, "params", filepath.Join(dir, "p.txt"), label.Label{}, nil, catalog.ActivityPut, "seed"); err != nil {
			t.Fatal(err)
		}

		spec, err := compute.ParseJobSpec([]byte(`
name: fit
executable: /bin/sh
arguments: ["-c", "cat inputs/params/p.txt > out.txt"]
inputs: ["params@1"]
outputs:
  out.txt: result
attributes:
  duration: 10m
`))
		if err != nil {
			t.Fatal(err)
		}
		j, err := svc.Submit(ctx, bob, spec)
		if err != nil {
			t.Fatal(err)
		}
		j = runUntil(t, svc, bob, j.ID, jobs.Completed)
		if j.Reason != "" || len(j.Outputs) != 1 || j.Outputs[0].Asset != "result" || j.Outputs[0].ID == hidden["result"].ID || j.Outputs[0].Version != 1 {
			t.Fatalf("bob's job: reason %q, outputs %+v", j.Reason, j.Outputs)
		}
		out, err := cat.Get(ctx, bob, "result")
		if err != nil || out.ID != j.Outputs[0].ID || out.Owner != bob.ID {
			t.Errorf("bob's result = %+v, %v", out, err)
		}
		if a, err := cat.Get(ctx, alice, hidden["result"].ID); err != nil || a.LatestVersion != 0 {
			t.Errorf("alice's result after bob's job: %+v, %v", a, err)
		}
		// The input was bob's params, not alice's older one.
		g, err := cat.Lineage(ctx, bob, catalog.VersionRef{Asset: out.ID}, true, 1)
		if err != nil || len(g.Edges) != 1 || g.Edges[0].Parent.Asset == hidden["params"].ID {
			t.Errorf("lineage of bob's result = %+v, %v", g, err)
		}

		// bob's view changes before his next job runs: cleared for
		// FUSION, "params" now means alice's older one, labelled above the
		// job. Nothing above the job's label reaches its site.
		j, err = svc.Submit(ctx, bob, spec)
		if err != nil || j.Label != "OPEN" {
			t.Fatalf("bob's second job: %+v, %v", j, err)
		}
		if err := db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE principals SET clearance = ? WHERE id = ?`, "PROPRIETARY//FUSION", bob.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		j = runUntil(t, svc, bob, j.ID, jobs.Failed)
		if !strings.Contains(j.Detail+j.Reason, "above the job's label") {
			t.Errorf("bob's second job failed with %q / %q", j.Reason, j.Detail)
		}
	})
}
