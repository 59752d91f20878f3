package store_test

import (
	"context"
	"testing"

	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestMigrationNames: migration 0020 (asset names no longer UNIQUE) keeps
// every asset row and every row that refers to one, leaves the foreign
// keys to assets(id) whole and enforced (on SQLite, where it rebuilds the
// table: foreign_key_check finds nothing), and lets two assets share a
// name.
func TestMigrationNames(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Backends()[name](t)
			if err := store.MigrateTo(ctx, db, 19); err != nil {
				t.Fatal(err)
			}
			exec := func(tx store.Tx, q string, args ...any) {
				t.Helper()
				if _, err := tx.Exec(ctx, q, args...); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			err := db.Update(ctx, func(tx store.Tx) error {
				exec(tx, `INSERT INTO principals (id, name, kind, display_name, email, nationality, roles, clearance, oidc_issuer, oidc_subject, disabled, created_at)
					VALUES ('usr_a', 'a', 'user', '', '', '', '', 'OPEN', '', '', ?, 1)`, false)
				for i, id := range []string{"ds_1", "ds_2"} {
					exec(tx, `INSERT INTO assets (id, kind, name, title, description, label, owner_id, latest_version, created_at, updated_at)
						VALUES (?, 'dataset', ?, '', '', 'OPEN', 'usr_a', 1, ?, ?)`, id, "n"+id, i, i)
					exec(tx, `INSERT INTO asset_versions (asset_id, version, manifest, message, total_bytes, file_count, label, created_by, created_at)
						VALUES (?, 1, 'm', '', 0, 0, 'OPEN', 'usr_a', 1)`, id)
					exec(tx, `INSERT INTO asset_chunks (asset_id, chunk, uploaded_by, uploaded_at, committed) VALUES (?, 'c', 'usr_a', 1, ?)`, id, true)
					exec(tx, `INSERT INTO asset_metadata (asset_id, core, provenance, format, source_id, original, quality, findings, extension_schema, extension, updated_by, updated_at)
						VALUES (?, '{}', '{}', '', ?, '', 0, '[]', '', '', 'usr_a', 1)`, id, "src"+id)
				}
				exec(tx, `INSERT INTO lineage_edges (child_asset, child_version, parent_asset, parent_version, activity, activity_id, agent, created_at)
					VALUES ('ds_2', 1, 'ds_1', 1, 'put', '', 'usr_a', 1)`)
				exec(tx, `INSERT INTO model_versions (asset_id, version, framework, task, metrics, card) VALUES ('ds_2', 1, 'f', 't', '{}', '')`)
				exec(tx, `INSERT INTO releases (id, asset_id, version, from_label, to_label, justification, state, requested_by, requested_at)
					VALUES ('rel_1', 'ds_1', 1, 'OPEN', 'OPEN', '', 'pending', 'usr_a', 1)`)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			err = db.View(ctx, func(tx store.Tx) error {
				for table, want := range map[string]int{"assets": 2, "asset_versions": 2, "asset_chunks": 2, "asset_metadata": 2, "lineage_edges": 1, "model_versions": 1, "releases": 1} {
					var n int
					if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM `+table).Scan(&n); err != nil {
						return err
					}
					if n != want {
						t.Errorf("%s holds %d rows after the migration, want %d", table, n, want)
					}
				}
				if db.Dialect() == store.SQLite {
					rows, err := tx.Query(ctx, `PRAGMA foreign_key_check`)
					if err != nil {
						return err
					}
					defer rows.Close()
					if rows.Next() {
						t.Error("foreign_key_check finds violations after the migration")
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			// Names may repeat now; references to assets are still checked.
			err = db.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO assets (id, kind, name, title, description, label, owner_id, latest_version, created_at, updated_at)
					VALUES ('ds_3', 'dataset', 'nds_1', '', '', 'OPEN', 'usr_a', 0, 5, 5)`)
				return err
			})
			if err != nil {
				t.Errorf("a second asset named nds_1: %v", err)
			}
			err = db.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO asset_versions (asset_id, version, manifest, message, total_bytes, file_count, label, created_by, created_at)
					VALUES ('ds_none', 1, 'm', '', 0, 0, 'OPEN', 'usr_a', 1)`)
				return err
			})
			if err == nil {
				t.Errorf("a version of a missing asset: %v, want a foreign-key violation", err)
			}
		})
	}
}
