package store_test

import (
	"context"
	"slices"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestCommitHook: what the hook writes commits with the transaction or
// not at all; its error rolls the transaction back; it runs for Updates on
// its own database only.
func TestCommitHook(t *testing.T) {
	for _, b := range []struct {
		name string
		open storetest.Opener
	}{{"sqlite", storetest.SQLite}, {"postgres", storetest.Postgres}} {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db, other := b.open(t), b.open(t)
			for _, d := range []store.DB{db, other} {
				if err := d.Update(ctx, func(tx store.Tx) error {
					_, err := tx.Exec(ctx, `CREATE TABLE hook_test (what TEXT NOT NULL)`)
					return err
				}); err != nil {
					t.Fatal(err)
				}
			}
			insert := func(ctx context.Context, d store.DB, what string, fail error) error {
				return d.Update(ctx, func(tx store.Tx) error {
					if _, err := tx.Exec(ctx, `INSERT INTO hook_test (what) VALUES (?)`, what); err != nil {
						return err
					}
					return fail
				})
			}
			var hookErr error
			hctx := store.WithCommitHook(ctx, db, func(ctx context.Context, tx store.Tx) error {
				if _, err := tx.Exec(ctx, `INSERT INTO hook_test (what) VALUES ('hook')`); err != nil {
					return err
				}
				return hookErr
			})
			refused := errors.E(errors.Conflict, errors.Msg("refused"))
			if err := insert(hctx, db, "a", nil); err != nil {
				t.Fatal(err)
			}
			if err := insert(hctx, db, "b", refused); err == nil {
				t.Fatal("the closure's error was lost")
			}
			hookErr = refused
			if err := insert(hctx, db, "c", nil); !errors.Is(errors.Conflict, err) {
				t.Fatalf("hook error: got %v", err)
			}
			hookErr = nil
			if err := insert(hctx, other, "d", nil); err != nil {
				t.Fatal(err)
			}
			if err := insert(ctx, db, "e", nil); err != nil {
				t.Fatal(err)
			}
			rows := func(d store.DB) (got []string) {
				if err := d.View(ctx, func(tx store.Tx) error {
					rs, err := tx.Query(ctx, `SELECT what FROM hook_test ORDER BY what`)
					if err != nil {
						return err
					}
					defer rs.Close()
					return rs.Each(func() error {
						var s string
						if err := rs.Scan(&s); err != nil {
							return err
						}
						got = append(got, s)
						return nil
					})
				}); err != nil {
					t.Fatal(err)
				}
				return got
			}
			if got, want := rows(db), []string{"a", "e", "hook"}; !slices.Equal(got, want) {
				t.Errorf("rows = %q, want %q", got, want)
			}
			if got, want := rows(other), []string{"d"}; !slices.Equal(got, want) {
				t.Errorf("the other database's rows = %q, want %q", got, want)
			}
		})
	}
}
