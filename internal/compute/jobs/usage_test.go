package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestUsageAggregates: a project's usage summed in SQL from the cost
// columns equals the same jobs' usage computed one by one from their specs
// (how jobs recorded before those columns are charged), over random jobs
// in every state, on every backend.
func TestUsageAggregates(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		ids := identity.New(db)
		ids.Bootstrap(ctx, "admin")
		admin, _ := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
		alice, _ := ids.CreatePrincipal(ctx, genesis.Principal{Clearance: "OPEN", Name: "alice", Roles: []genesis.Role{genesis.RoleContributor}})
		az, _ := authz.New(ids, time.Now)
		svc := New(db, az, ids, nil, nil, t.TempDir())
		var projects []string
		for _, name := range []string{"columns", "specs"} {
			prj, err := ids.CreateProject(ctx, alice, genesis.Project{Name: name})
			if err != nil {
				t.Fatal(err)
			}
			projects = append(projects, string(prj.ID))
		}
		siteNames := []string{"a", "b", "c"}
		r := rand.New(rand.NewPCG(3, 4))
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		err := db.Update(ctx, func(tx store.Tx) error {
			for _, prj := range projects {
				for _, site := range siteNames {
					if _, err := tx.Exec(ctx, `INSERT INTO allocations (project_id, site, node_hours, gpu_hours, updated_by, updated_at) VALUES (?, ?, 1000, 1000, ?, 0)`, prj, site, string(admin.ID)); err != nil {
						return err
					}
				}
			}
			states := []string{Pending, Running, Completed, Failed, Canceled}
			for i := range 300 {
				spec := compute.JobSpec{Executable: "/bin/true", Resources: compute.Resources{NodeCount: 1 + r.IntN(16), ProcessesPerNode: 1 + r.IntN(4), GPUCoresPerProcess: r.IntN(3)},
					Attributes: compute.Attributes{Duration: compute.Duration(time.Duration(1+r.IntN(600)) * time.Minute)}}
				js, _ := json.Marshal(spec)
				nh, gh := cost(&spec)
				state := states[r.IntN(len(states))]
				site := siteNames[r.IntN(len(siteNames))]
				if state == Pending && r.IntN(2) == 0 {
					site = "" // not placed yet: not charged
				}
				var st, fin any
				if state != Pending {
					s := start.Add(time.Duration(r.IntN(1000)) * time.Minute)
					st = store.T(s)
					if state != Running && r.IntN(10) > 0 {
						fin = store.T(s.Add(time.Duration(r.Int64N(int64(10 * time.Hour)))))
					}
				}
				for k, prj := range projects {
					var nhv, ghv any = nh, gh
					if k == 1 {
						nhv, ghv = nil, nil
					}
					if _, err := tx.Exec(ctx, `INSERT INTO jobs (id, name, owner_id, project_id, spec, label, inputs, input_bytes, nodes, node_hours, gpu_hours, state, site, backend_id, reason, detail, exit_code, explain, outputs, created_at, updated_at, started_at, finished_at)
						VALUES (?, '', ?, ?, ?, 'OPEN', '[]', 0, ?, ?, ?, ?, ?, '', '', '', 0, '[]', '[]', 0, 0, ?, ?)`,
						fmt.Sprintf("job-%d-%d", k, i), string(alice.ID), prj, string(js), max(1, spec.Resources.Nodes()), nhv, ghv, state, site, st, fin); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		fromColumns, err := svc.allocations(ctx, projects[0])
		if err != nil {
			t.Fatal(err)
		}
		fromSpecs, err := svc.allocations(ctx, projects[1])
		if err != nil {
			t.Fatal(err)
		}
		if len(fromColumns) != len(siteNames) || len(fromSpecs) != len(siteNames) {
			t.Fatalf("allocations: %d and %d", len(fromColumns), len(fromSpecs))
		}
		near := func(a, b float64) bool { return math.Abs(a-b) <= 1e-6*math.Max(1, math.Abs(b)) }
		for i := range fromColumns {
			a, b := fromColumns[i], fromSpecs[i]
			if a.Site != b.Site || !near(a.HeldNodeHours, b.HeldNodeHours) || !near(a.HeldGPUHours, b.HeldGPUHours) ||
				!near(a.UsedNodeHours, b.UsedNodeHours) || !near(a.UsedGPUHours, b.UsedGPUHours) {
				t.Errorf("site %s: summed in SQL %+v, from specs %+v", a.Site, a, b)
			}
			if a.UsedNodeHours == 0 || a.HeldNodeHours == 0 || a.UsedGPUHours == 0 {
				t.Errorf("site %s: the random jobs charged nothing: %+v", a.Site, a)
			}
		}
	})
}
