package partners_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission/partners"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestUsageMatchesAllocations: a partner's used node- and GPU-hours, seen
// by a viewer who reads all its jobs, are what the job service charges its project's
// allocations (the jobs package's own sums); a viewer who may read only
// some of the jobs counts only those (jobs.Get decides, one by one). The
// sites it operates are listed.
func TestUsageMatchesAllocations(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		org, err := w.id.CreateOrg(ctx, genesis.Organization{Name: "anl", Country: "USA", Kind: "national-lab"})
		if err != nil || org.Kind != "laboratory" {
			t.Fatalf("national-lab: %+v, %v", org, err)
		}
		alice, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "NATIONAL-SECURITY", Org: org.ID, Roles: []genesis.Role{genesis.RoleContributor}})
		if err != nil {
			t.Fatal(err)
		}
		bob, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: "bob", Clearance: "PROPRIETARY", Roles: []genesis.Role{genesis.RoleViewer}})
		if err != nil {
			t.Fatal(err)
		}
		prj, err := w.id.CreateProject(ctx, alice, genesis.Project{Name: "columns"})
		if err != nil {
			t.Fatal(err)
		}
		reg, err := sites.New(db, w.pf2az(t), w.id, make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		siteNames := []string{"polaris", "aurora"}
		for i, n := range siteNames {
			op := "anl"
			if i == 1 {
				op = string(org.ID)
			}
			if _, err := reg.Add(ctx, w.admin, sites.Spec{Name: n, Kind: sites.KindLocal, Accreditation: "NATIONAL-SECURITY", OperatorOrg: op,
				Capacity: sites.Capacity{Nodes: 16, CoresPerNode: 4, MemoryGBNode: 8}}); err != nil {
				t.Fatal(err)
			}
		}
		js := jobs.New(db, w.pf2az(t), w.id, w.cat, reg, t.TempDir())
		for _, s := range siteNames {
			if _, err := js.SetAllocation(ctx, w.admin, "columns", s, 1e6, 1e6); err != nil {
				t.Fatal(err)
			}
		}
		r := rand.New(rand.NewPCG(15, 3))
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		states := []string{"pending", "running", "completed", "failed", "canceled"}
		var ids []string
		err = db.Update(ctx, func(tx store.Tx) error {
			for i := range 60 {
				spec := compute.JobSpec{Executable: "/bin/true", Resources: compute.Resources{NodeCount: 1 + r.IntN(8), ProcessesPerNode: 1 + r.IntN(4), GPUCoresPerProcess: r.IntN(3)},
					Attributes: compute.Attributes{Duration: compute.Duration(time.Duration(1+r.IntN(600)) * time.Minute)}}
				raw, _ := json.Marshal(spec)
				nodes := max(1, spec.Resources.Nodes())
				h := spec.Attributes.Duration.D().Hours()
				nh, gh := float64(nodes)*h, float64(nodes*max(1, spec.Resources.ProcessesPerNode)*spec.Resources.GPUCoresPerProcess)*h
				state := states[r.IntN(len(states))]
				var st, fin any
				if state != "pending" {
					s := start.Add(time.Duration(r.IntN(1000)) * time.Minute)
					st = store.T(s)
					if state != "running" {
						fin = store.T(s.Add(time.Duration(r.Int64N(int64(10 * time.Hour)))))
					}
				}
				marking := []string{"OPEN", "PROPRIETARY", "NATIONAL-SECURITY"}[r.IntN(3)]
				id := fmt.Sprintf("job_%d", i)
				ids = append(ids, id)
				if _, err := tx.Exec(ctx, `INSERT INTO jobs (id, name, owner_id, project_id, spec, label, inputs, input_bytes, nodes, node_hours, gpu_hours, state, site, backend_id, reason, detail, exit_code, explain, outputs, created_at, updated_at, started_at, finished_at)
					VALUES (?, '', ?, ?, ?, ?, '[]', 0, ?, ?, ?, ?, ?, '', '', '', 0, '[]', '[]', 0, 0, ?, ?)`,
					id, string(alice.ID), string(prj.ID), string(raw), marking, nodes, nh, gh, state, siteNames[r.IntN(2)], st, fin); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		allocs, err := js.Allocations(ctx, w.admin, "columns")
		if err != nil {
			t.Fatal(err)
		}
		var wantNode, wantGPU float64
		for _, a := range allocs {
			wantNode += a.UsedNodeHours
			wantGPU += a.UsedGPUHours
		}
		near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }
		// Alice, cleared for all of them, reads every job.
		p, err := w.pf.Get(ctx, alice, "anl", partners.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Used.Jobs != 60 || !near(p.Used.UsedNodeHours, wantNode) || !near(p.Used.UsedGPUHours, wantGPU) || wantNode == 0 || p.Used.Projects != 1 {
			t.Errorf("alice: used %+v, allocations charged %.3f node-h, %.3f GPU-h", p.Used, wantNode, wantGPU)
		}
		if len(p.Contributed.Sites) != 2 {
			t.Errorf("sites operated: %v", p.Contributed.Sites)
		}
		// Bob reads only some of the jobs: the portfolio counts those.
		readable := 0
		for _, id := range ids {
			_, err := js.Get(ctx, bob, id)
			switch {
			case err == nil:
				readable++
			case !errors.Is(errors.NotExist, err):
				t.Fatal(err)
			}
		}
		pb, err := w.pf.Get(ctx, bob, "anl", partners.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if pb.Used.Jobs != readable || readable == 0 || readable == 60 {
			t.Errorf("bob: %d jobs counted, %d readable of 60", pb.Used.Jobs, readable)
		}
		if pb.Used.UsedNodeHours > p.Used.UsedNodeHours || pb.Principals != nil {
			t.Errorf("bob's view: %+v", pb)
		}
	})
}
