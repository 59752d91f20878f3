package partners_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/mission/partners"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// BenchmarkPortfolio: the whole portfolio over 20 organisations, 200
// principals, 10,000 assets and 10,000 jobs with mixed labels, for a
// viewer who reads about half of them (SQLite; one decision per distinct
// label, project and owner).
//
//	go test ./internal/mission/partners -run XXX -bench Portfolio -benchtime 20x
func BenchmarkPortfolio(b *testing.B) {
	db := storetest.Migrated(b, storetest.SQLite)
	w := newWorld(b, db)
	r := rand.New(rand.NewPCG(1, 2))
	var people []genesis.PrincipalID
	for i := range 20 {
		o, err := w.id.CreateOrg(ctx, genesis.Organization{Name: fmt.Sprintf("org%d", i), Country: "USA"})
		if err != nil {
			b.Fatal(err)
		}
		for j := range 10 {
			p, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: fmt.Sprintf("p%d-%d", i, j), Clearance: "OPEN", Org: o.ID, Roles: []genesis.Role{genesis.RoleContributor}})
			if err != nil {
				b.Fatal(err)
			}
			people = append(people, p.ID)
		}
	}
	markings := []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "NATIONAL-SECURITY"}
	err := db.Update(ctx, func(tx store.Tx) error {
		for i := range 10000 {
			owner := people[r.IntN(len(people))]
			m := markings[r.IntN(len(markings))]
			kind := []string{"dataset", "model"}[r.IntN(2)]
			id := fmt.Sprintf("ds_bench%08d", i)
			if _, err := tx.Exec(ctx, `INSERT INTO assets (id, kind, name, title, description, label, project_id, owner_id, latest_version, created_at, updated_at) VALUES (?, ?, ?, '', '', ?, NULL, ?, 1, 0, 0)`,
				id, kind, fmt.Sprintf("a%d", i), m, string(owner)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO asset_versions (asset_id, version, manifest, parent, message, total_bytes, file_count, label, created_by, created_at) VALUES (?, 1, 'm', NULL, '', ?, 1, ?, ?, 0)`,
				id, r.IntN(1<<20), m, string(owner)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `INSERT INTO jobs (id, name, owner_id, project_id, spec, label, inputs, input_bytes, nodes, node_hours, gpu_hours, state, site, backend_id, reason, detail, exit_code, explain, outputs, created_at, updated_at, started_at, finished_at)
				VALUES (?, '', ?, NULL, '{}', ?, '[]', 0, 2, 2, 0, 'completed', 's', '', '', '', 0, '[]', '[]', 0, 0, 1000, 3600001000)`,
				fmt.Sprintf("job_%d", i), string(owner), m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	viewer, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: "viewer", Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleViewer}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		pf, err := w.pf.List(ctx, viewer, partners.Options{})
		if err != nil || len(pf.Partners) != 20 {
			b.Fatal(err)
		}
	}
}
