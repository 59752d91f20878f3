package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/genesis-science/genesis/internal/store"
)

// schema lists what a PostgreSQL database holds in its public schema:
// columns, constraints, indexes, views, functions and triggers, plus the
// migrations recorded as applied.
func schema(t *testing.T, db store.DB) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	queries := map[string]string{
		"column": `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '')
			FROM information_schema.columns WHERE table_schema = 'public'`,
		"constraint": `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid)
			FROM pg_constraint WHERE connamespace = 'public'::regnamespace`,
		"index":     `SELECT indexdef FROM pg_indexes WHERE schemaname = 'public'`,
		"view":      `SELECT viewname || ' ' || definition FROM pg_views WHERE schemaname = 'public'`,
		"function":  `SELECT proname || ' ' || md5(prosrc) FROM pg_proc WHERE pronamespace = 'public'::regnamespace`,
		"trigger":   `SELECT tgrelid::regclass::text || ' ' || tgname FROM pg_trigger WHERE NOT tgisinternal`,
		"extension": `SELECT extname || ' ' || extversion FROM pg_extension`,
		"migration": `SELECT version::text || ' ' || name FROM schema_migrations`,
	}
	err := db.View(ctx, func(tx store.Tx) error {
		for kind, q := range queries {
			rows, err := tx.Query(ctx, q)
			if err != nil {
				return fmt.Errorf("%s: %w", kind, err)
			}
			if err := rows.Each(func() error {
				var s string
				if err := rows.Scan(&s); err != nil {
					return err
				}
				out = append(out, kind+" "+s)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestPostgresTemplateIsMigrated: a database copied from the migrated
// template has exactly the schema store.Migrate makes of an empty one, and
// migrating it again applies nothing.
func TestPostgresTemplateIsMigrated(t *testing.T) {
	ctx := context.Background()
	fresh := Postgres(t)
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if n, err := store.Migrate(ctx, fresh); err != nil || n != len(ms) {
		t.Fatalf("migrate an empty database: %d, %v; want %d", n, err, len(ms))
	}
	copied := Migrated(t, Postgres)
	if n, err := store.Migrate(ctx, copied); err != nil || n != 0 {
		t.Fatalf("migrate a copy of the template: %d, %v; want 0", n, err)
	}
	want, got := schema(t, fresh), schema(t, copied)
	if len(want) < len(ms) {
		t.Fatalf("the schema listing found only %d objects", len(want))
	}
	for _, s := range want {
		if _, ok := slices.BinarySearch(got, s); !ok {
			t.Errorf("the template's copy lacks %s", s)
		}
	}
	for _, s := range got {
		if _, ok := slices.BinarySearch(want, s); !ok {
			t.Errorf("the template's copy has an extra %s", s)
		}
	}
	// The empty opener still gives an empty database.
	var tables int
	err = Postgres(t).View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables)
	})
	if err != nil || tables != 0 {
		t.Errorf("Postgres opened a database with %d tables (%v), want an empty one", tables, err)
	}
}

// BenchmarkPostgresDatabase compares what a test pays for a migrated
// PostgreSQL database: migrating an empty one against copying the
// template (and the no-op Migrate that Migrated runs on the copy).
//
//	go test -run '^$' -bench PostgresDatabase -benchtime 20x ./internal/store/storetest
func BenchmarkPostgresDatabase(b *testing.B) {
	ctx := context.Background()
	b.Run("migrate-empty", func(b *testing.B) {
		for range b.N {
			if _, err := store.Migrate(ctx, Postgres(b)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("template-copy", func(b *testing.B) {
		Migrated(b, Postgres) // the template exists before the clock runs
		b.ResetTimer()
		for range b.N {
			Migrated(b, Postgres)
		}
	})
}
