package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"strings"
	"sync"
)

// The statement cache.
//
// modernc.org/sqlite compiles a query's SQL on every Exec and Query that
// is not made through a prepared statement, and the store's callers pass
// SQL text (database/sql's *Stmt would need a connection to prepare on,
// which the one-connection write pool does not have while a transaction
// holds it). Compiling is most of the cost of a small query: for a chunk
// upload's three lookups it was 75% of their CPU time. So each
// connection keeps the statements it has compiled, by SQL text, and runs
// them again with new arguments.
//
// A statement is in use from Exec or Query until its rows are closed; a
// query whose statement is in use (the same SQL run again while its
// earlier rows are open) is compiled afresh and not cached, so open rows
// are never disturbed. At most maxStmts statements are kept per
// connection; when full, an idle one (any) makes room. Scripts (SQL with
// several statements, as migrations are) run uncached: modernc re-parses
// them on each run anyway.
//
// Hand-written because neither database/sql nor the driver offer a cache
// that works inside a transaction on a single connection.

const maxStmts = 256

// registered returns the driver modernc registers as "sqlite", with any
// functions and hooks registered on it.
func registered() driver.Driver {
	db, _ := sql.Open("sqlite", "") // opens no connection
	defer db.Close()
	return db.Driver()
}

type cachingConnector struct {
	dsn string
	d   driver.Driver
}

func (c *cachingConnector) Connect(context.Context) (driver.Conn, error) {
	dc, err := c.d.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(dc), nil
}

func (c *cachingConnector) Driver() driver.Driver { return c.d }

// sqliteConn is what the wrapper needs of a modernc connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

type cachedStmt struct {
	s    driver.Stmt
	busy bool
}

type stmtStmt interface {
	driver.StmtExecContext
	driver.StmtQueryContext
}

type cachingConn struct {
	sqliteConn
	mu    sync.Mutex
	stmts map[string]*cachedStmt
}

func newCachingConn(dc driver.Conn) driver.Conn {
	sc, ok := dc.(sqliteConn)
	if !ok {
		return dc // a driver without these interfaces: no cache
	}
	return &cachingConn{sqliteConn: sc, stmts: map[string]*cachedStmt{}}
}

// acquire returns the cached statement for query, marked in use, or nil
// when the query should run uncached.
func (c *cachingConn) acquire(ctx context.Context, query string) (*cachedStmt, error) {
	if isScript(query) {
		return nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.stmts[query]; st != nil {
		if st.busy {
			return nil, nil
		}
		st.busy = true
		return st, nil
	}
	if len(c.stmts) >= maxStmts {
		for q, st := range c.stmts {
			if !st.busy {
				st.s.Close()
				delete(c.stmts, q)
				break
			}
		}
		if len(c.stmts) >= maxStmts {
			return nil, nil
		}
	}
	s, err := c.sqliteConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if _, ok := s.(stmtStmt); !ok {
		s.Close()
		return nil, nil
	}
	st := &cachedStmt{s: s, busy: true}
	c.stmts[query] = st
	return st, nil
}

// isScript reports whether query may hold several statements (a ';'
// before its end); a ';' inside a literal only costs the cache a query.
func isScript(query string) bool {
	return strings.Contains(strings.TrimRight(query, " \t\r\n;"), ";")
}

func (c *cachingConn) release(st *cachedStmt) {
	c.mu.Lock()
	st.busy = false
	c.mu.Unlock()
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	st, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	defer c.release(st)
	return st.s.(stmtStmt).ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	st, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := st.s.(stmtStmt).QueryContext(ctx, args)
	if err != nil {
		c.release(st)
		return nil, err
	}
	return &cachedRows{Rows: rows, c: c, st: st}, nil
}

func (c *cachingConn) Close() error {
	c.mu.Lock()
	for q, st := range c.stmts {
		st.s.Close()
		delete(c.stmts, q)
	}
	c.mu.Unlock()
	return c.sqliteConn.Close()
}

// cachedRows gives its statement back when closed.
type cachedRows struct {
	driver.Rows
	c    *cachingConn
	st   *cachedStmt
	once sync.Once
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.once.Do(func() { r.c.release(r.st) })
	return err
}
