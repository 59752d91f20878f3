package jobs_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
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
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// Invariant 2 for jobs: a job's record, spec, logs and explanation derive
// from its inputs, so raising an input's label raises the jobs that read
// it. Whoever may no longer read the input finds the job on no read path
// (show, list, logs, explain, cancel, the audit view); whoever still may
// sees it at the new label. A job still running when its input is raised
// commits its outputs at the new label.
func TestRelabelRaisesJobs(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ids := identity.New(db)
		ids.Bootstrap(ctx, "admin")
		admin, _ := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
		if _, err := ids.RegisterCompartment(ctx, admin, "FUSION"); err != nil {
			t.Fatal(err)
		}
		mk := func(name, clearance string, role genesis.Role) *genesis.Principal {
			p, err := ids.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: clearance, Roles: []genesis.Role{role}})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		alice := mk("alice", "PROPRIETARY//FUSION", genesis.RoleContributor) // owns the first jobs
		dave := mk("dave", "PROPRIETARY//FUSION", genesis.RoleViewer)
		ops := mk("ops", "PROPRIETARY//FUSION", genesis.RoleOperator)
		erin := mk("erin", "NATIONAL-SECURITY//FUSION", genesis.RoleViewer)
		top := mk("top", "NATIONAL-SECURITY//FUSION", genesis.RoleContributor)
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
		if _, err := reg.Add(ctx, admin, sites.Spec{Name: "secure-box", Kind: sites.KindLocal, Accreditation: "PROPRIETARY//FUSION", Capacity: capy}); err != nil {
			t.Fatal(err)
		}
		put := func(name, marking string) {
			if _, err := cat.Create(ctx, alice, catalog.CreateSpec{Name: name, Label: marking}); err != nil {
				t.Fatal(err)
			}
			src := t.TempDir()
			writeFile(t, filepath.Join(src, "shots.csv"), "shot,energy\n1,3.5\n")
			srcs, _ := pack.Sources([]string{src}, nil)
			res, err := pack.Pack(ctx, cat.Blobs(alice, name), srcs, pack.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cat.Commit(ctx, alice, name, catalog.CommitSpec{Manifest: res.ID}); err != nil {
				t.Fatal(err)
			}
		}
		put("raw", "PROPRIETARY//FUSION")
		put("other", "PROPRIETARY//FUSION")
		spec := func(yaml string) *compute.JobSpec {
			s, err := compute.ParseJobSpec([]byte(yaml))
			if err != nil {
				t.Fatal(err)
			}
			return s
		}

		// A finished job that read raw, with logs, and one still pending.
		done, err := svc.Submit(ctx, alice, spec("name: calibrate\nexecutable: /bin/sh\narguments: [\"-c\", \"cat inputs/raw/shots.csv\"]\ninputs: [\"raw@1\"]\nattributes:\n  duration: 10m\n"))
		if err != nil {
			t.Fatal(err)
		}
		runUntil(t, svc, alice, done.ID, jobs.Completed)
		pending, err := svc.Submit(ctx, alice, spec("executable: /bin/true\ninputs: [\"raw@1\"]\nresources:\n  node_count: 5\nattributes:\n  duration: 1m\n"))
		if err != nil {
			t.Fatal(err)
		}
		// A job that read something else is untouched.
		unrelated, err := svc.Submit(ctx, alice, spec("executable: /bin/true\ninputs: [\"other@1\"]\nresources:\n  node_count: 5\nattributes:\n  duration: 1m\n"))
		if err != nil {
			t.Fatal(err)
		}

		if _, err := cat.Relabel(ctx, top, "raw", "NATIONAL-SECURITY//FUSION"); err != nil {
			t.Fatal(err)
		}
		const raised = "NATIONAL-SECURITY//FUSION"
		nl, _ := label.Parse(raised)
		h := func(l label.Label) bool { return l.Equal(nl) } // recorded under the raised label
		for _, id := range []string{done.ID, pending.ID} {
			for _, p := range []*genesis.Principal{alice, dave, ops} {
				if j, err := svc.Get(ctx, p, id); !errors.Is(errors.NotExist, err) {
					t.Errorf("%s shows %s: %+v, %v", p.Name, id, j, err)
				}
				if _, err := svc.Logs(ctx, p, id, compute.Stdout, 0); !errors.Is(errors.NotExist, err) {
					t.Errorf("%s reads the logs of %s: %v", p.Name, id, err)
				}
				if _, _, err := svc.Explain(ctx, p, id); !errors.Is(errors.NotExist, err) {
					t.Errorf("%s explains %s: %v", p.Name, id, err)
				}
				if _, err := svc.Cancel(ctx, p, id); !errors.Is(errors.NotExist, err) {
					t.Errorf("%s cancels %s: %v", p.Name, id, err)
				}
				if svc.MayReadLabelOf(ctx, p, id, h) {
					t.Errorf("%s reads the audit records of %s", p.Name, id)
				}
				l, _, err := svc.List(ctx, p, jobs.ListOptions{})
				if err != nil || slices.ContainsFunc(l, func(j jobs.Job) bool { return j.ID == id }) {
					t.Errorf("%s lists %s: %v", p.Name, id, err)
				}
			}
			j, err := svc.Get(ctx, erin, id)
			if err != nil || j.Label != raised {
				t.Fatalf("erin's view of %s = %+v, %v", id, j, err)
			}
			if l, _, _ := svc.List(ctx, erin, jobs.ListOptions{}); !slices.ContainsFunc(l, func(j jobs.Job) bool { return j.ID == id && j.Label == raised }) {
				t.Errorf("erin's list lacks %s at %s", id, raised)
			}
			if !svc.MayReadLabelOf(ctx, erin, id, h) {
				t.Errorf("erin may not read the audit records of %s", id)
			}
		}
		rc, err := svc.Logs(ctx, erin, done.ID, compute.Stdout, 0)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		if !strings.Contains(string(b), "3.5") {
			t.Errorf("erin reads stdout %q", b)
		}
		if j, err := svc.Get(ctx, dave, unrelated.ID); err != nil || j.Label != "PROPRIETARY//FUSION" {
			t.Errorf("the unrelated job = %+v, %v", j, err)
		}
		// The raised pending job is placed only where its new label may go:
		// nowhere here.
		svc.Step(ctx)
		if j, _ := svc.Get(ctx, erin, pending.ID); j == nil || j.State != jobs.Pending {
			t.Errorf("raised pending job = %+v", j)
		}

		// A job running when its input is raised: its outputs are at least
		// the new label. The job waits for a file the test writes after the
		// relabel (no timing involved).
		put("shots", "PROPRIETARY//FUSION")
		gate := filepath.Join(t.TempDir(), "go")
		owner := mk("olga", "NATIONAL-SECURITY//FUSION", genesis.RoleContributor)
		run, err := svc.Submit(ctx, owner, spec(`
executable: /bin/sh
arguments: ["-c", "while [ ! -e `+gate+` ]; do sleep 0.05; done; cp inputs/shots/shots.csv out.csv"]
inputs: ["shots@1"]
outputs:
  out.csv: fitted
attributes:
  duration: 10m
`))
		if err != nil {
			t.Fatal(err)
		}
		runUntil(t, svc, owner, run.ID, jobs.Running)
		if _, err := cat.Relabel(ctx, top, "shots", raised); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(gate, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		j := runUntil(t, svc, owner, run.ID, jobs.Completed)
		if j.Label != raised {
			t.Errorf("running job's label = %s", j.Label)
		}
		out, err := cat.Get(ctx, owner, "fitted")
		if err != nil || out.Label != raised {
			t.Errorf("output of the raised running job = %+v, %v", out, err)
		}
		if _, err := cat.Get(ctx, dave, "fitted"); !errors.Is(errors.NotExist, err) {
			t.Errorf("dave reads the output: %v", err)
		}

		// A job an older server left below its raised input (as the
		// stored rows would be): Reconcile, run as the scheduler starts,
		// raises it.
		err = db.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE assets SET label = ? WHERE name = ?`, raised, "other"); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE asset_versions SET label = ? WHERE asset_id = (SELECT id FROM assets WHERE name = ?)`, raised, "other")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := svc.Reconcile(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Get(ctx, dave, unrelated.ID); !errors.Is(errors.NotExist, err) {
			t.Errorf("dave reads a job left below its input after Reconcile: %v", err)
		}
		if j, err := svc.Get(ctx, erin, unrelated.ID); err != nil || j.Label != raised {
			t.Errorf("erin's view of the reconciled job = %+v, %v", j, err)
		}
	})
}
