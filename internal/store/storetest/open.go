// Package storetest is the conformance suite every metadata-store backend
// passes (Run), plus helpers that open a fresh, migrated database of each
// backend for other packages' tests (Backends).
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"sync"
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
// GENESIS_TEST_POSTGRES (skipping or failing per testenv when unset),
// already migrated to the embedded schema, drops it at cleanup, and returns
// its DSN. Running store.Migrate on it again is a cheap no-op.
//
// The database is a copy of a template migrated once per migration set
// (see migratedTemplate), so a test pays for CREATE DATABASE, not for
// every migration.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := testenv.Postgres(t)
	tmpl, err := migratedTemplate(dsn)
	if err != nil {
		t.Fatalf("migrated template database: %v", err)
	}
	return createDB(t, dsn, tmpl)
}

// Postgres opens a fresh, empty (unmigrated) database on the test server.
func Postgres(t testing.TB) store.DB {
	t.Helper()
	return openPostgres(t, createDB(t, testenv.Postgres(t), ""))
}

func openPostgres(t testing.TB, dsn string) store.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// createDB creates a database with a random name on the server of dsn,
// copied from template (the server's default when ""), drops it at
// cleanup, and returns its DSN.
func createDB(t testing.TB, dsn, template string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to GENESIS_TEST_POSTGRES: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	name := "genesis_test_" + hex.EncodeToString(b[:])
	create := "CREATE DATABASE " + name
	if template != "" {
		create += " TEMPLATE " + template
	}
	if _, err := admin.Exec(ctx, create); err != nil {
		admin.Close(ctx)
		t.Fatalf("create test database: %v", err)
	}
	admin.Close(ctx)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, dsn); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	u, err := withDatabase(dsn, name)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func withDatabase(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("GENESIS_TEST_POSTGRES must be a postgres:// URL: %v", err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// The template of this process's migration set, made (or found) once.
var template struct {
	sync.Mutex
	dsn, name string
}

// migratedTemplate returns the name of a database on the server of dsn
// holding exactly what store.Migrate makes of an empty database, marked as
// a template that accepts no connections, so CREATE DATABASE … TEMPLATE
// can copy it while other test processes do the same.
//
// Its name carries a hash of the embedded migrations: a binary whose
// migrations differ (another branch, an edited file) uses its own
// template, never a stale one. Concurrent test processes build it once
// between them: under an advisory lock they find a finished template
// (datistemplate is set last) or drop a half-built one (a process that
// died mid-build) and build it again. Templates of other migration sets
// are left alone (another checkout may be using one); each is a few MB.
func migratedTemplate(dsn string) (string, error) {
	template.Lock()
	defer template.Unlock()
	if template.name != "" && template.dsn == dsn {
		return template.name, nil
	}
	ms, err := store.Migrations()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, m := range ms {
		sql, _ := m.For(store.Postgres)
		fmt.Fprintf(h, "%d %s %d %d\n%s\n", m.Version, m.Name, m.Requires, len(sql), sql)
	}
	sum := h.Sum(nil)
	name := "genesis_template_" + hex.EncodeToString(sum[:10])

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", fmt.Errorf("connect to GENESIS_TEST_POSTGRES: %v", err)
	}
	defer admin.Close(ctx)
	// A session lock: released at disconnect even if this process dies.
	key := int64(binary.BigEndian.Uint64(sum[:8]))
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", key)
	var done bool
	err = admin.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&done)
	switch {
	case err == nil && done:
		template.dsn, template.name = dsn, name
		return name, nil
	case err == nil:
		if _, err := admin.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
			return "", err
		}
	case !errors.Is(err, pgx.ErrNoRows):
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	tdsn, err := withDatabase(dsn, name)
	if err != nil {
		return "", err
	}
	db, err := postgres.Open(ctx, tdsn)
	if err != nil {
		return "", err
	}
	_, err = store.Migrate(ctx, db)
	db.Close()
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	// Refuse new connections, then wait for the pool's last ones to end:
	// CREATE DATABASE … TEMPLATE fails while anyone is connected.
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend(pid, 60000) FROM pg_stat_activity WHERE datname = $1", name); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+name+" IS_TEMPLATE true"); err != nil {
		return "", err
	}
	template.dsn, template.name = dsn, name
	return name, nil
}

// Backends lists every backend's opener, for tests that must pass on all.
func Backends() map[string]Opener {
	return map[string]Opener{"sqlite": SQLite, "postgres": Postgres}
}

// Migrated opens a fresh database with open and applies all migrations.
// For the Postgres opener it copies the migrated template (PostgresDSN)
// instead of migrating an empty database: the same schema, at the cost of
// one CREATE DATABASE.
func Migrated(t testing.TB, open Opener) store.DB {
	t.Helper()
	if reflect.ValueOf(open).Pointer() == reflect.ValueOf(Postgres).Pointer() {
		open = func(t testing.TB) store.DB { return openPostgres(t, PostgresDSN(t)) }
	}
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
