package store_test

import (
	"context"
	"testing"

	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestMigrationWithholdsKeptSecrets: migration 0022 removes the bodies an
// older server kept of answers that carried a new token's secret, and keeps
// every other replayable answer as it was.
func TestMigrationWithholdsKeptSecrets(t *testing.T) {
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := storetest.Backends()[name](t)
			if err := store.MigrateTo(ctx, db, 21); err != nil {
				t.Fatal(err)
			}
			rows := []struct{ key, path, body string }{
				{"k1", "/api/v1/tokens", `{"secret":"gnt_s3cret1"}`},
				{"k2", "/api/v1/principals/pr_x/tokens", `{"secret":"gnt_s3cret2"}`},
				{"k3", "/api/v1/datasets", `{"name":"shots"}`},
			}
			err := db.Update(ctx, func(tx store.Tx) error {
				for _, r := range rows {
					if _, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (principal_id, key, method, path, request_hash, status, content_type, body, created_at)
						VALUES ('pr_a', ?, 'POST', ?, ?, 201, 'application/json', ?, 1)`, r.key, r.path, []byte{1}, []byte(r.body)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := store.Migrate(ctx, db); err != nil {
				t.Fatal(err)
			}
			err = db.View(ctx, func(tx store.Tx) error {
				for _, r := range rows {
					var body []byte
					var ctype string
					if err := tx.QueryRow(ctx, `SELECT content_type, body FROM idempotency_keys WHERE key = ?`, r.key).Scan(&ctype, &body); err != nil {
						return err
					}
					secret := r.key != "k3"
					if secret && (body != nil || ctype != "genesis/withheld; secret shown once") {
						t.Errorf("%s: a kept secret survives the migration: %q %q", r.path, ctype, body)
					}
					if !secret && string(body) != r.body {
						t.Errorf("%s: body %q after the migration, want %q", r.path, body, r.body)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}
