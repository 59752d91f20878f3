package store

import (
	"context"
	"database/sql"
	stderrors "errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

// Backend describes how a SQL backend differs from the portable core.
// Backends construct a *SQLDB with it; nothing else needs to know.
type Backend struct {
	Dialect Dialect
	// Read serves View; Write serves Update. They may be the same pool.
	Read, Write *sql.DB
	// MapError classifies a driver error: it returns an errors kind
	// (Exist for uniqueness, Conflict for serialization failures, Transient
	// for busy/unavailable) or errors.Other when it does not know.
	MapError func(error) errors.Kind
	// WriteOptions are the options for read-write transactions.
	WriteOptions *sql.TxOptions
	// ReadOptions are the options for View's transactions (read-only,
	// default isolation, when nil). They must give every statement of
	// one View the same snapshot.
	ReadOptions *sql.TxOptions
	// Retries is how many times Update retries after a Conflict.
	Retries int
}

// SQLDB implements DB over database/sql for any Backend.
type SQLDB struct {
	b       Backend
	closeMu sync.Once
}

var _ DB = (*SQLDB)(nil)

// NewSQLDB returns a DB over the given backend.
func NewSQLDB(b Backend) *SQLDB {
	if b.Retries == 0 {
		b.Retries = 64
	}
	return &SQLDB{b: b}
}

func (db *SQLDB) Dialect() Dialect { return db.b.Dialect }

func (db *SQLDB) Ping(ctx context.Context) error {
	if err := db.b.Read.PingContext(ctx); err != nil {
		return db.mapErr("store.Ping", err)
	}
	return nil
}

func (db *SQLDB) Close() error {
	var err error
	db.closeMu.Do(func() {
		err = db.b.Write.Close()
		if db.b.Read != db.b.Write {
			if e := db.b.Read.Close(); err == nil {
				err = e
			}
		}
	})
	return err
}

// Raw returns the write pool, for migrations and tests.
func (db *SQLDB) Raw() *sql.DB { return db.b.Write }

// LockMigrations holds a PostgreSQL session advisory lock until unlock is
// called, so that concurrent migrators run one after another and each
// transaction starts after the previous migrator finished (a lock taken
// inside a SERIALIZABLE transaction would come after its snapshot).
func (db *SQLDB) LockMigrations(ctx context.Context) (unlock func(), err error) {
	if db.b.Dialect != Postgres {
		return func() {}, nil
	}
	conn, err := db.b.Write.Conn(ctx)
	if err != nil {
		return nil, db.mapErr("store.LockMigrations", err)
	}
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(7254010001)`); err != nil {
		conn.Close()
		return nil, db.mapErr("store.LockMigrations", err)
	}
	return func() {
		conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(7254010001)`)
		conn.Close()
	}, nil
}

func (db *SQLDB) View(ctx context.Context, fn func(Tx) error) error {
	const op errors.Op = "store.View"
	opts := db.b.ReadOptions
	if opts == nil {
		opts = &sql.TxOptions{ReadOnly: true}
	}
	sqlTx, err := db.b.Read.BeginTx(ctx, opts)
	if err != nil {
		return db.mapErr(op, err)
	}
	defer sqlTx.Rollback()
	if err := fn(&tx{tx: sqlTx, db: db, ctx: ctx}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return db.mapTxErr(ctx, op, err)
	}
	return nil
}

func (db *SQLDB) Update(ctx context.Context, fn func(Tx) error) error {
	const op errors.Op = "store.Update"
	backoff := time.Millisecond
	for attempt := 0; ; attempt++ {
		err := db.update(ctx, fn)
		if err == nil || !errors.Is(errors.Conflict, err) || !isSerialization(err) || attempt >= db.b.Retries {
			return err
		}
		// Jittered exponential backoff keeps colliding writers apart.
		select {
		case <-ctx.Done():
			return errors.E(op, errors.Canceled, ctx.Err())
		case <-time.After(backoff/2 + rand.N(backoff)):
		}
		if backoff < 20*time.Millisecond {
			backoff *= 2
		}
	}
}

// serializationError marks a Conflict that came from the database (and may
// be retried), as opposed to a Conflict the closure chose to return.
type serializationError struct{ err error }

func (e *serializationError) Error() string { return e.err.Error() }
func (e *serializationError) Unwrap() error { return e.err }

func isSerialization(err error) bool {
	var s *serializationError
	return stderrors.As(err, &s)
}

func (db *SQLDB) update(ctx context.Context, fn func(Tx) error) error {
	const op errors.Op = "store.Update"
	sqlTx, err := db.b.Write.BeginTx(ctx, db.b.WriteOptions)
	if err != nil {
		return db.mapErr(op, err)
	}
	defer sqlTx.Rollback()
	t := &tx{tx: sqlTx, db: db, ctx: ctx}
	if err := fn(t); err != nil {
		return err
	}
	if err := runCommitHook(ctx, db, t); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return db.mapTxErr(ctx, op, err)
	}
	return nil
}

// UpdateWithoutForeignKeys is Update for a SQLite migration that rebuilds
// a table other tables refer to (SQLite's documented way to change a
// constraint): foreign-key enforcement is off for the transaction — it can
// only be switched outside one, so the transaction has a connection of its
// own, and no other writer runs meanwhile — and PRAGMA foreign_key_check
// must find nothing before it commits. On other dialects it is Update.
func (db *SQLDB) UpdateWithoutForeignKeys(ctx context.Context, fn func(Tx) error) error {
	const op errors.Op = "store.Update"
	if db.b.Dialect != SQLite {
		return db.Update(ctx, fn)
	}
	conn, err := db.b.Write.Conn(ctx)
	if err != nil {
		return db.mapErr(op, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA foreign_keys = OFF`); err != nil {
		return db.mapErr(op, err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA foreign_keys = ON`)
	sqlTx, err := conn.BeginTx(ctx, db.b.WriteOptions)
	if err != nil {
		return db.mapErr(op, err)
	}
	defer sqlTx.Rollback()
	t := &tx{tx: sqlTx, db: db}
	if err := fn(t); err != nil {
		return err
	}
	rows, err := t.Query(ctx, `PRAGMA foreign_key_check`)
	if err != nil {
		return err
	}
	bad := rows.Next()
	rows.Close()
	if bad {
		return errors.E(op, errors.Internal, errors.Msg("the migration leaves rows whose foreign keys refer to nothing (PRAGMA foreign_key_check)"))
	}
	if err := sqlTx.Commit(); err != nil {
		return db.mapErr(op, err)
	}
	return nil
}

func (db *SQLDB) mapErr(op errors.Op, err error) error {
	if err == nil {
		return nil
	}
	if stderrors.Is(err, context.Canceled) || stderrors.Is(err, context.DeadlineExceeded) {
		return errors.E(op, errors.Canceled, err)
	}
	if stderrors.Is(err, sql.ErrNoRows) {
		return errors.E(op, errors.NotExist, err)
	}
	k := errors.Other
	if db.b.MapError != nil {
		k = db.b.MapError(err)
	}
	switch k {
	case errors.Other:
		return errors.E(op, errors.Internal, err)
	case errors.Conflict:
		return errors.E(op, errors.Conflict, &serializationError{err})
	}
	return errors.E(op, k, err)
}

// mapTxErr is mapErr for errors inside a transaction whose context is
// ctx. When ctx ends, database/sql rolls the transaction back on its own
// goroutine; a statement or Commit that comes after that gets
// sql.ErrTxDone rather than ctx's error. That is the cancellation (and
// nothing of the transaction was committed), not an internal fault.
func (db *SQLDB) mapTxErr(ctx context.Context, op errors.Op, err error) error {
	if err != nil && ctx != nil && ctx.Err() != nil && stderrors.Is(err, sql.ErrTxDone) {
		return errors.E(op, errors.Canceled, ctx.Err())
	}
	return db.mapErr(op, err)
}

type tx struct {
	tx *sql.Tx
	db *SQLDB
	// ctx is the transaction's own context: when it ends, database/sql
	// rolls the transaction back by itself.
	ctx context.Context
}

func (t *tx) Dialect() Dialect { return t.db.b.Dialect }

func (t *tx) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	r, err := t.tx.ExecContext(ctx, t.rebind(query), args...)
	if err != nil {
		return nil, t.db.mapTxErr(t.ctx, "store.Exec", err)
	}
	return r, nil
}

func (t *tx) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	r, err := t.tx.QueryContext(ctx, t.rebind(query), args...)
	if err != nil {
		return nil, t.db.mapTxErr(t.ctx, "store.Query", err)
	}
	return &Rows{rows: r, db: t.db, ctx: t.ctx}, nil
}

func (t *tx) QueryRow(ctx context.Context, query string, args ...any) *Row {
	return &Row{row: t.tx.QueryRowContext(ctx, t.rebind(query), args...), db: t.db, ctx: t.ctx}
}

func (t *tx) rebind(q string) string {
	if t.db.b.Dialect != Postgres {
		return q
	}
	return Rebind(q)
}

// Rebind turns '?' placeholders into $1, $2, … skipping quoted text.
func Rebind(q string) string {
	if !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Row is the result of QueryRow.
type Row struct {
	row *sql.Row
	db  *SQLDB
	ctx context.Context // the transaction's
}

// Scan copies the row's columns into dest; errors.NotExist if no row.
func (r *Row) Scan(dest ...any) error {
	return r.db.mapTxErr(r.ctx, "store.Scan", r.row.Scan(dest...))
}

// Rows is the result of Query. Close it (or read to the end).
type Rows struct {
	rows *sql.Rows
	db   *SQLDB
	ctx  context.Context // the transaction's
}

func (r *Rows) Next() bool { return r.rows.Next() }
func (r *Rows) Scan(dest ...any) error {
	return r.db.mapTxErr(r.ctx, "store.Scan", r.rows.Scan(dest...))
}
func (r *Rows) Close() error { return r.rows.Close() }
func (r *Rows) Err() error   { return r.db.mapTxErr(r.ctx, "store.Rows", r.rows.Err()) }

// Each calls fn for every row, then closes rows and reports the first error.
func (r *Rows) Each(fn func() error) error {
	defer r.rows.Close()
	for r.rows.Next() {
		if err := fn(); err != nil {
			return err
		}
	}
	return r.Err()
}
