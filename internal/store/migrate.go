package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migration is one schema step. Versions are dense and increasing; a file
// named NNNN_name.sql applies to every dialect, NNNN_name.DIALECT.sql only to
// one (a version may have one portable file or one file per dialect).
type Migration struct {
	Version int
	Name    string
	SQL     map[Dialect]string // "" key: portable
}

// For returns the SQL of m for dialect d, and whether there is any.
func (m Migration) For(d Dialect) (string, bool) {
	if s, ok := m.SQL[d]; ok {
		return s, true
	}
	s, ok := m.SQL[""]
	return s, ok
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) { return loadMigrations(migrationFS, "migrations") }

func loadMigrations(fsys fs.FS, dir string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		base := strings.TrimSuffix(name, ".sql")
		var dialect Dialect
		if i := strings.LastIndexByte(base, '.'); i >= 0 {
			dialect = Dialect(base[i+1:])
			base = base[:i]
			if dialect != SQLite && dialect != Postgres {
				return nil, fmt.Errorf("migration %s: unknown dialect %q", name, dialect)
			}
		}
		num, label, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: want NNNN_name[.dialect].sql", name)
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		m := byVersion[v]
		if m == nil {
			m = &Migration{Version: v, Name: label, SQL: map[Dialect]string{}}
			byVersion[v] = m
		}
		if m.Name != label {
			return nil, fmt.Errorf("migration %d has two names: %q and %q", v, m.Name, label)
		}
		if _, dup := m.SQL[dialect]; dup {
			return nil, fmt.Errorf("migration %s: duplicate", name)
		}
		m.SQL[dialect] = string(body)
	}
	var out []Migration
	for _, m := range byVersion {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("migration versions must be dense from 1: found %d at position %d", m.Version, i+1)
		}
	}
	return out, nil
}

// Migrate brings db's schema up to date. It is safe to call on every start
// and from several processes at once: each migration runs in its own write
// transaction that first re-checks the recorded version (and on PostgreSQL
// takes an advisory lock), so a step is applied exactly once.
func Migrate(ctx context.Context, db DB) (applied int, err error) {
	const op errors.Op = "store.Migrate"
	ms, err := Migrations()
	if err != nil {
		return 0, errors.E(op, errors.Internal, err)
	}
	return migrate(ctx, db, ms)
}

// MigrationLocker is implemented by backends whose concurrent migrators
// need a lock outside the migration transactions.
type MigrationLocker interface {
	LockMigrations(ctx context.Context) (unlock func(), err error)
}

func migrate(ctx context.Context, db DB, ms []Migration) (int, error) {
	const op errors.Op = "store.Migrate"
	if l, ok := db.(MigrationLocker); ok {
		unlock, err := l.LockMigrations(ctx)
		if err != nil {
			return 0, errors.E(op, err)
		}
		defer unlock()
	}
	err := db.Update(ctx, func(tx Tx) error {
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY,
			name TEXT NOT NULL,
			applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return 0, errors.E(op, err)
	}
	applied := 0
	for _, m := range ms {
		sqlText, ok := m.For(db.Dialect())
		if !ok {
			return applied, errors.E(op, errors.Internal, fmt.Errorf("migration %d (%s) has no SQL for %s", m.Version, m.Name, db.Dialect()))
		}
		update := db.Update
		if f, ok := db.(foreignKeysOff); ok && strings.Contains(sqlText, ForeignKeysOff) {
			update = f.UpdateWithoutForeignKeys
		}
		did := false
		err := update(ctx, func(tx Tx) error {
			did = false
			var n int
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range splitStatements(sqlText) {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
				}
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMicro())
			did = true
			return err
		})
		if err != nil {
			return applied, errors.E(op, err)
		}
		if did {
			applied++
		}
	}
	return applied, nil
}

// ForeignKeysOff, as a line of a SQLite migration, runs it with foreign-key
// enforcement off (and a foreign_key_check before it commits): SQLite
// changes a constraint by rebuilding the table, and the rebuild of a table
// that others refer to must not be checked halfway.
const ForeignKeysOff = "-- store: foreign_keys off"

type foreignKeysOff interface {
	UpdateWithoutForeignKeys(ctx context.Context, fn func(Tx) error) error
}

// SchemaVersion returns the highest applied migration version (0 if none).
func SchemaVersion(ctx context.Context, db DB) (int, error) {
	var v int
	err := db.View(ctx, func(tx Tx) error {
		return tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	})
	return v, err
}

// splitStatements splits a migration file on semicolons at the end of a
// line, skipping '--' comment lines. Migrations keep one statement per
// semicolon-terminated line group; procedural bodies are not used.
func splitStatements(s string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(s, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(t, ";") {
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, strings.TrimSpace(cur.String()))
	}
	return out
}
