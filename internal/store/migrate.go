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
//
// Replicas of two releases share one database during a rolling upgrade, so
// a migration is either an expand step (adds tables, columns with defaults,
// indexes: every older binary keeps working on the new schema) or a
// contract step (drops or renames what older binaries still use). A
// contract step says so with a line
//
//	-- store: requires NNNN
//
// naming the oldest schema version a binary must know to run on a database
// this step has been applied to (the first version whose code no longer
// uses what the step removes). Migrate refuses to start a binary that
// knows less (see CheckSchema); expand steps need no line.
type Migration struct {
	Version int
	Name    string
	SQL     map[Dialect]string // "" key: portable
	// Requires is the "-- store: requires" version (0: an expand step).
	Requires int
}

// RequiresLine starts the line of a contract migration naming the oldest
// schema version a binary must know to run after it.
const RequiresLine = "-- store: requires "

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
		req, err := parseRequires(string(body))
		if err != nil {
			return nil, fmt.Errorf("migration %s: %w", name, err)
		}
		if req > v {
			return nil, fmt.Errorf("migration %s: requires %d, a version after its own", name, req)
		}
		if len(m.SQL) > 1 && req != m.Requires {
			return nil, fmt.Errorf("migration %d: its dialect files disagree on %q", v, strings.TrimSpace(RequiresLine))
		}
		m.Requires = req
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

// parseRequires returns the version of a migration's "-- store: requires"
// line, or 0 without one.
func parseRequires(body string) (int, error) {
	req := 0
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), RequiresLine)
		if !ok {
			continue
		}
		if req != 0 {
			return 0, fmt.Errorf("two %q lines", strings.TrimSpace(RequiresLine))
		}
		n, err := strconv.Atoi(strings.TrimSpace(rest))
		if err != nil || n <= 0 {
			return 0, fmt.Errorf("%q needs a migration version, e.g. %s0034", strings.TrimSpace(line), RequiresLine)
		}
		req = n
	}
	return req, nil
}

// SchemaStatus is what a database's schema asks of the binaries that run
// on it.
type SchemaStatus struct {
	// Version is the newest migration applied.
	Version int
	// Requires is the oldest schema version a binary must know to run on
	// it: the highest "-- store: requires" among the applied migrations
	// (0 when every applied step was an expand step).
	Requires int
}

// ReadSchemaStatus reads the schema version and compatibility floor of a
// database Migrate has run on (by any binary that has this check).
func ReadSchemaStatus(ctx context.Context, db DB) (SchemaStatus, error) {
	var st SchemaStatus
	err := db.View(ctx, func(tx Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&st.Version); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT COALESCE(MAX(requires), 0) FROM schema_compat`).Scan(&st.Requires)
	})
	return st, err
}

// CheckSchema reports whether a binary whose newest migration is latest
// may run on a database in state st: it may unless a contract migration
// applied there requires a newer binary. A database newer than the binary
// but within its window (only expand steps past latest) is fine: that is
// an old replica during a rolling upgrade.
func CheckSchema(st SchemaStatus, latest int) error {
	if latest >= st.Requires {
		return nil
	}
	return errors.E(errors.Op("store.CheckSchema"), errors.Invalid, errors.Msg(fmt.Sprintf(
		"the database schema is at version %d, which requires a Genesis that knows schema version %d or later; this binary knows up to %d: run a newer release (a contract migration has removed what this one uses)",
		st.Version, st.Requires, latest)))
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
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version BIGINT PRIMARY KEY,
			name TEXT NOT NULL,
			applied_at BIGINT NOT NULL)`); err != nil {
			return err
		}
		// The runner's own table (not a numbered migration, so that every
		// binary that has the compatibility check can read it): the
		// "requires" of each contract step applied.
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_compat (
			version BIGINT PRIMARY KEY,
			requires BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return 0, errors.E(op, err)
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].Version
	}
	st, err := ReadSchemaStatus(ctx, db)
	if err != nil {
		return 0, errors.E(op, err)
	}
	if err := CheckSchema(st, latest); err != nil {
		return 0, err
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
			if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.Version, m.Name, time.Now().UnixMicro()); err != nil {
				return err
			}
			if m.Requires > 0 {
				if _, err := tx.Exec(ctx, `INSERT INTO schema_compat (version, requires) VALUES (?, ?)`, m.Version, m.Requires); err != nil {
					return err
				}
			}
			did = true
			return nil
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
