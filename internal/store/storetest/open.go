// Package storetest is the conformance suite every metadata-store backend
// passes (Run), plus helpers that open a fresh, migrated database of each
// backend for other packages' tests (Backends).
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
	"github.com/genesis-science/genesis/internal/store/sqlite"
	"github.com/genesis-science/genesis/internal/testenv"
	"github.com/jackc/pgx/v5"
)

// Opener returns a fresh, empty (unmigrated) database, closed at cleanup.
type Opener func(t testing.TB) store.DB

// SQLite opens a fresh SQLite database in a temp dir.
func SQLite(t testing.TB) store.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "genesis.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// PostgresDSN creates a fresh database on the test server named by
// GENESIS_TEST_POSTGRES (skipping or failing per testenv when unset), drops
// it at cleanup, and returns its DSN.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := testenv.Postgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to GENESIS_TEST_POSTGRES: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "genesis_test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		t.Fatalf("create test database: %v", err)
	}
	admin.Close(ctx)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("GENESIS_TEST_POSTGRES must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	return u.String()
}

// Postgres opens a fresh database from PostgresDSN.
func Postgres(t testing.TB) store.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Backends lists every backend's opener, for tests that must pass on all.
func Backends() map[string]Opener {
	return map[string]Opener{"sqlite": SQLite, "postgres": Postgres}
}

// Migrated opens a fresh database with open and applies all migrations.
func Migrated(t testing.TB, open Opener) store.DB {
	t.Helper()
	db := open(t)
	if _, err := store.Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// ForEachBackend runs fn as a subtest on a fresh migrated database of every
// backend.
func ForEachBackend(t *testing.T, fn func(t *testing.T, db store.DB)) {
	for _, name := range []string{"sqlite", "postgres"} {
		open := Backends()[name]
		t.Run(name, func(t *testing.T) { fn(t, Migrated(t, open)) })
	}
}
