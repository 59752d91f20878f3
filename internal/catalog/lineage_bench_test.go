package catalog_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// BenchmarkLineage10k walks depth 10 of a 10,000-version provenance graph on
// SQLite: 1,000 assets of 10 versions each, every version derived from the
// previous version of its asset and from versions of two earlier assets.
// Target (issue 5): ≤ 100 ms.
//
//	go test -run XXX -bench Lineage10k ./internal/catalog
func BenchmarkLineage10k(b *testing.B) {
	db := storetest.Migrated(b, storetest.SQLite)
	w := newWorld(b, db)
	const assets, versions = 1000, 10
	now := time.Now().UnixMicro()
	err := db.Update(ctx, func(tx store.Tx) error {
		for a := range assets {
			id := fmt.Sprintf("ds_bench%05d", a)
			if _, err := tx.Exec(ctx, `INSERT INTO assets (id, kind, name, title, description, label, project_id, owner_id, latest_version, created_at, updated_at)
				VALUES (?, 'dataset', ?, '', '', 'OPEN', NULL, ?, ?, ?, ?)`, id, fmt.Sprintf("bench-%05d", a), w.alice.ID, versions, now, now); err != nil {
				return err
			}
			for v := 1; v <= versions; v++ {
				if _, err := tx.Exec(ctx, `INSERT INTO asset_versions (asset_id, version, manifest, parent, message, total_bytes, file_count, label, created_by, created_at)
					VALUES (?, ?, 'm', NULL, '', 0, 0, 'OPEN', ?, ?)`, id, v, w.alice.ID, now); err != nil {
					return err
				}
				if v > 1 {
					if _, err := tx.Exec(ctx, `INSERT INTO lineage_edges VALUES (?, ?, ?, ?, 'put', '', ?, ?)`, id, v, id, v-1, w.alice.ID, now); err != nil {
						return err
					}
				}
				// Two inputs from earlier assets, chosen by a hash of (a, v):
				// a DAG in which a walk up fans out.
				for k := uint32(1); a > 0 && k <= 2; k++ {
					other := fmt.Sprintf("ds_bench%05d", int(((uint32(a)*2654435761)^(uint32(v)*40503*k))>>7)%a)
					if _, err := tx.Exec(ctx, `INSERT INTO lineage_edges VALUES (?, ?, ?, ?, 'job', '', ?, ?)`, id, v, other, v, w.alice.ID, now); err != nil && !errors.Is(errors.Exist, err) {
						return err
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	root := catalog.VersionRef{Asset: fmt.Sprintf("bench-%05d", assets-1), Version: versions}
	var times []time.Duration
	var nodes int
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		g, err := w.cat.Lineage(ctx, w.alice, root, true, 10)
		if err != nil {
			b.Fatal(err)
		}
		times = append(times, time.Since(start))
		nodes = len(g.Nodes)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(times[len(times)*95/100].Microseconds())/1000, "p95-ms")
	b.ReportMetric(float64(nodes), "nodes")
}
