// Package sqlite is the embedded metadata store: a single SQLite file opened
// with the pure-Go driver modernc.org/sqlite, in WAL mode with full fsync on
// commit, so a kill -9 at any instant loses no acknowledged transaction.
//
// SQLite allows one writer at a time; Update runs on a dedicated one-
// connection pool (so writers queue in Go instead of failing with
// SQLITE_BUSY), while View runs on a pool of readers that WAL lets proceed
// alongside the writer.
package sqlite

import (
	"context"
	"database/sql"
	stderrors "errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Open opens (creating if needed) the SQLite database at path. It does not
// migrate; call store.Migrate.
func Open(ctx context.Context, path string) (*store.SQLDB, error) {
	const op errors.Op = "sqlite.Open"
	if path == "" {
		return nil, errors.E(op, errors.Invalid, errors.Msg("empty database path"))
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
	}
	// The database holds token hashes and sealed credentials: readable by
	// this user only (SQLite gives its -wal and -shm files the database
	// file's mode). SQLite itself would create it 0644.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !os.IsExist(err) {
		return nil, errors.E(op, errors.Internal, err)
	}
	q := url.Values{}
	for _, p := range []string{
		"busy_timeout(10000)",
		"journal_mode(WAL)",
		"synchronous(FULL)",
		"foreign_keys(ON)",
	} {
		q.Add("_pragma", p)
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	write := sql.OpenDB(&cachingConnector{dsn: dsn + "&_txlock=immediate", d: registered()})
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	// query_only makes View transactions read-only, as on PostgreSQL.
	read := sql.OpenDB(&cachingConnector{dsn: dsn + "&_pragma=query_only(1)", d: registered()})
	n := max(4, runtime.GOMAXPROCS(0))
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	db := store.NewSQLDB(store.Backend{
		Dialect:  store.SQLite,
		Read:     read,
		Write:    write,
		MapError: mapError,
	})
	if err := write.PingContext(ctx); err != nil {
		db.Close()
		return nil, errors.E(op, errors.Internal, fmt.Errorf("open %s: %w", path, err))
	}
	var mode string
	if err := write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		db.Close()
		return nil, errors.E(op, errors.Internal, fmt.Errorf("open %s: journal_mode is %q, want wal (%v)", path, mode, err))
	}
	return db, nil
}

func mapError(err error) errors.Kind {
	var e *sqlite.Error
	if !stderrors.As(err, &e) {
		return errors.Other
	}
	switch e.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return errors.Exist
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY, sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_CHECK:
		return errors.Invalid
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_BUSY_SNAPSHOT:
		return errors.Conflict
	case sqlite3.SQLITE_INTERRUPT:
		return errors.Canceled
	case sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR:
		return errors.Transient
	}
	return errors.Other
}
