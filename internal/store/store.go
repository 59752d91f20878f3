// Package store is Genesis's metadata store: every record (principals,
// organisations, projects, tokens, and later assets, jobs, campaigns) lives
// in one relational database reached through this interface.
//
// Work happens in transactions written as closures, as in bbolt and SpiceDB:
// Update commits when the closure returns nil and rolls back otherwise; View
// is read-only. Update may run its closure more than once when the database
// reports a serialization conflict, so a closure must not have side effects
// outside the transaction.
//
// Queries are written once, in portable SQL with '?' placeholders; each
// backend rebinds them and maps its own errors onto internal/errors kinds:
// a uniqueness violation is errors.Exist, no rows is errors.NotExist, a
// cancelled context is errors.Canceled, a lost serialization race that
// survived the retries is errors.Conflict.
//
// Backends: sqlite (embedded default, pure Go) and postgres (pgx). Both pass
// storetest.Run. Adding a backend means: a driver, a Dialect with its error
// mapping, and any dialect-specific migration files (NNNN_name.DIALECT.sql).
package store

import (
	"context"
	"database/sql"
)

// Dialect names a SQL backend.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the metadata store.
type DB interface {
	// View runs fn in a read-only transaction: every statement in it sees
	// the same snapshot.
	View(ctx context.Context, fn func(Tx) error) error
	// Update runs fn in a read-write transaction, committing if fn returns
	// nil. fn may be called again after a serialization conflict.
	Update(ctx context.Context, fn func(Tx) error) error
	// Dialect tells which backend this is, for the few queries that differ.
	Dialect() Dialect
	// Ping checks that the database answers (readiness).
	Ping(ctx context.Context) error
	Close() error
}

// Tx is a transaction. Queries use '?' placeholders.
type Tx interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*Rows, error)
	// QueryRow returns a Row whose Scan reports errors.NotExist when the
	// query matched nothing.
	QueryRow(ctx context.Context, query string, args ...any) *Row
	Dialect() Dialect
}
