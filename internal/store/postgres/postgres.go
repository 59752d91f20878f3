// Package postgres is the scaled-out metadata store on PostgreSQL through
// pgx. Read-write transactions run at SERIALIZABLE isolation and are retried
// by store.SQLDB on serialization failures, so closures see a consistent
// snapshot and concurrent writers never interleave badly; read-only ones
// (View) run at REPEATABLE READ, one snapshot for all their statements.
package postgres

import (
	"context"
	"database/sql"
	stderrors "errors"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// Open connects to the database named by dsn (a postgres:// URL or a
// key=value string). It does not migrate; call store.Migrate.
func Open(ctx context.Context, dsn string) (*store.SQLDB, error) {
	const op errors.Op = "postgres.Open"
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx echoes the DSN, password included, in its parse errors.
		return nil, errors.E(op, errors.Invalid, errors.Msg("cannot parse the PostgreSQL DSN"))
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, errors.E(op, errors.Transient, errors.Msg("cannot reach PostgreSQL"), err)
	}
	return store.NewSQLDB(store.Backend{
		Dialect:      store.Postgres,
		Read:         db,
		Write:        db,
		MapError:     mapError,
		WriteOptions: &sql.TxOptions{Isolation: sql.LevelSerializable},
		// REPEATABLE READ: one snapshot for the whole View (READ
		// COMMITTED, the default, takes one per statement). Read-only
		// transactions at this level never fail to serialize.
		ReadOptions: &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
	}), nil
}

func mapError(err error) errors.Kind {
	var e *pgconn.PgError
	if !stderrors.As(err, &e) {
		if pgconn.Timeout(err) {
			return errors.Canceled
		}
		return errors.Other
	}
	switch e.Code {
	case "23505":
		return errors.Exist
	case "23503", "23502", "23514", "22001", "22P02":
		return errors.Invalid
	case "40001", "40P01":
		return errors.Conflict
	case "57014":
		return errors.Canceled
	case "53300", "57P01", "57P03", "08000", "08003", "08006":
		return errors.Transient
	}
	return errors.Other
}
