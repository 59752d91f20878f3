// Package lease gives background work to one replica at a time. A lease is
// a row in the metadata store (table leases): a name (the job: "scheduler",
// "site-probes", …), its holder (a replica ID), a fencing token and an
// expiry. Acquire takes a lease that is free, released or expired; Renew
// extends it, only for the holder presenting the current token and only
// before it expires; Release frees it. Every acquisition raises the token,
// and rows are never deleted, so tokens for a name strictly increase: work
// that writes with Fence(tx, name, token) fails once anyone has taken the
// lease since, even if the old holder does not know yet that it lost it.
//
// Time. Expiry is decided by one clock so that replicas with skewed clocks
// agree: on PostgreSQL it is the database server's now() (the start of the
// transaction that reads or writes the lease), so a replica's own clock
// never enters the decision; SQLite is embedded in a single process (the
// data directory's lock forbids a second), whose clock is then the only
// one. A replica also keeps a conservative local deadline (see Runner): it
// stops its work when ttl has passed on its own monotonic clock since it
// sent the last successful renewal, which is never later than the
// database's expiry as long as clocks run at the same rate.
package lease

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// Lease is the state of one lease.
type Lease struct {
	Name   string `json:"name"`
	Holder string `json:"holder"`
	// Token is the fencing token of this holding; it strictly increases
	// with every acquisition of Name.
	Token     int64     `json:"token"`
	Acquired  time.Time `json:"acquired_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Limits on what a lease is called and how long it may be held.
const (
	MaxNameLen = 128
	MaxTTL     = time.Hour
	MinTTL     = time.Millisecond
)

// Leases reads and writes leases in a store.
type Leases struct {
	db store.DB
	// now, when set, replaces the database's clock (tests).
	now func() time.Time
}

// New returns the leases kept in db, timed by the database's clock on
// PostgreSQL and the process clock on SQLite.
func New(db store.DB) *Leases { return &Leases{db: db} }

// NewWithClock returns leases timed by now instead (tests that step time).
func NewWithClock(db store.DB, now func() time.Time) *Leases { return &Leases{db: db, now: now} }

// clock returns the current time in storage units, read inside tx.
func (l *Leases) clock(ctx context.Context, tx store.Tx) (int64, error) {
	if l.now != nil {
		return store.T(l.now()), nil
	}
	if tx.Dialect() == store.Postgres {
		var us int64
		if err := tx.QueryRow(ctx, `SELECT CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT)`).Scan(&us); err != nil {
			return 0, err
		}
		return us, nil
	}
	return store.T(time.Now()), nil
}

// CheckName reports whether s may name a lease or a holder: 1 to
// MaxNameLen bytes of valid UTF-8 without control characters.
func CheckName(field, s string) error {
	const op errors.Op = "lease.CheckName"
	switch {
	case s == "":
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+" is empty"))
	case len(s) > MaxNameLen:
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+" is longer than 128 bytes"))
	case !utf8.ValidString(s):
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+" is not valid UTF-8"))
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+" holds a control character"))
		}
	}
	return nil
}

func checkTTL(ttl time.Duration) error {
	if ttl < MinTTL || ttl > MaxTTL {
		return errors.E(errors.Op("lease"), errors.Invalid, errors.Field("ttl"), errors.Msg("the lease's ttl must be between 1ms and 1h"))
	}
	return nil
}

func check(name, holder string, ttl time.Duration) error {
	if err := CheckName("name", name); err != nil {
		return err
	}
	if err := CheckName("holder", holder); err != nil {
		return err
	}
	return checkTTL(ttl)
}

type row struct {
	holder            string
	token             int64
	acquired, expires int64
}

func getRow(ctx context.Context, tx store.Tx, name string) (row, bool, error) {
	var r row
	err := tx.QueryRow(ctx, `SELECT holder, token, acquired_at, expires_at FROM leases WHERE name = ?`, name).
		Scan(&r.holder, &r.token, &r.acquired, &r.expires)
	if errors.Is(errors.NotExist, err) {
		return row{}, false, nil
	}
	return r, err == nil, err
}

// Acquire takes the lease name for holder for ttl if nobody holds it (it
// was never taken, was released, or has expired). It reports ok false, and
// the current holding, when someone holds it — holder itself included: a
// holder renews with Renew, and a restarted process with the same ID gets
// the lease (with a new token) only once its old holding has expired.
func (l *Leases) Acquire(ctx context.Context, name, holder string, ttl time.Duration) (Lease, bool, error) {
	return l.acquire(ctx, "lease.Acquire", name, holder, ttl, false)
}

// Reclaim is Acquire, except that a lease holder itself holds is taken
// again at once, with a new token: for a holder whose ID names one
// process at a time (the campaign runner's ID is kept in a data
// directory, which one process locks), so that a process restarted
// after a crash takes its work back without waiting for its old holding
// to expire. The new token fences anything the old holding still tries.
func (l *Leases) Reclaim(ctx context.Context, name, holder string, ttl time.Duration) (Lease, bool, error) {
	return l.acquire(ctx, "lease.Reclaim", name, holder, ttl, true)
}

func (l *Leases) acquire(ctx context.Context, op errors.Op, name, holder string, ttl time.Duration, reclaim bool) (Lease, bool, error) {
	if err := check(name, holder, ttl); err != nil {
		return Lease{}, false, errors.E(op, err)
	}
	var out Lease
	var ok bool
	err := l.db.Update(ctx, func(tx store.Tx) error {
		ok = false
		now, err := l.clock(ctx, tx)
		if err != nil {
			return err
		}
		r, found, err := getRow(ctx, tx, name)
		if err != nil {
			return err
		}
		if found && r.holder != "" && r.expires > now && !(reclaim && r.holder == holder) {
			out = toLease(name, r)
			return nil
		}
		next := row{holder: holder, token: r.token + 1, acquired: now, expires: now + ttl.Microseconds()}
		if !found {
			res, err := tx.Exec(ctx, `INSERT INTO leases (name, holder, token, acquired_at, expires_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING`,
				name, next.holder, next.token, next.acquired, next.expires)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				// Someone inserted it meanwhile (and holds it now).
				r, _, err := getRow(ctx, tx, name)
				out = toLease(name, r)
				return err
			}
		} else {
			res, err := tx.Exec(ctx, `UPDATE leases SET holder = ?, token = ?, acquired_at = ?, expires_at = ? WHERE name = ? AND token = ?`,
				next.holder, next.token, next.acquired, next.expires, name, r.token)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return errors.E(op, errors.Conflict, errors.Msg("the lease changed while being acquired"))
			}
		}
		out, ok = toLease(name, next), true
		return nil
	})
	if err != nil {
		return Lease{}, false, errors.E(op, err)
	}
	return out, ok, nil
}

// ErrLost is the kind of error Renew, Release and Fence return when the
// caller no longer holds the lease with that token.
var errLost = errors.Msg("the lease is no longer held with this token (expired, released or taken over)")

// Renew extends holder's lease to ttl from now. It fails with
// errors.Conflict when the lease is not held by holder with token, or has
// expired (even if nobody took it since: the work may have been fenced).
func (l *Leases) Renew(ctx context.Context, name, holder string, token int64, ttl time.Duration) (Lease, error) {
	const op errors.Op = "lease.Renew"
	if err := check(name, holder, ttl); err != nil {
		return Lease{}, errors.E(op, err)
	}
	var out Lease
	err := l.db.Update(ctx, func(tx store.Tx) error {
		now, err := l.clock(ctx, tx)
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?`,
			now+ttl.Microseconds(), name, holder, token, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errors.E(op, errors.Conflict, errLost)
		}
		r, _, err := getRow(ctx, tx, name)
		out = toLease(name, r)
		return err
	})
	if err != nil {
		return Lease{}, errors.E(op, err)
	}
	return out, nil
}

// Release frees holder's lease so that another replica may take it at
// once. It fails with errors.Conflict when the lease is not (or no longer)
// held by holder with token; releasing an expired lease nobody took since
// is allowed. The token is kept, so the next holder's is higher.
func (l *Leases) Release(ctx context.Context, name, holder string, token int64) error {
	const op errors.Op = "lease.Release"
	if err := CheckName("name", name); err != nil {
		return errors.E(op, err)
	}
	if err := CheckName("holder", holder); err != nil {
		return errors.E(op, err)
	}
	err := l.db.Update(ctx, func(tx store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE leases SET holder = '', expires_at = 0 WHERE name = ? AND holder = ? AND token = ?`, name, holder, token)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return errors.E(op, errors.Conflict, errLost)
		}
		return nil
	})
	if err != nil {
		return errors.E(op, err)
	}
	return nil
}

// Holder returns who holds name now; ok is false when nobody does.
func (l *Leases) Holder(ctx context.Context, name string) (Lease, bool, error) {
	const op errors.Op = "lease.Holder"
	if err := CheckName("name", name); err != nil {
		return Lease{}, false, errors.E(op, err)
	}
	var out Lease
	var ok bool
	err := l.db.View(ctx, func(tx store.Tx) error {
		now, err := l.clock(ctx, tx)
		if err != nil {
			return err
		}
		r, found, err := getRow(ctx, tx, name)
		if err != nil || !found || r.holder == "" || r.expires <= now {
			return err
		}
		out, ok = toLease(name, r), true
		return nil
	})
	if err != nil {
		return Lease{}, false, errors.E(op, err)
	}
	return out, ok, nil
}

// List returns every lease held now, by name (for metrics and status).
func (l *Leases) List(ctx context.Context) ([]Lease, error) {
	const op errors.Op = "lease.List"
	var out []Lease
	err := l.db.View(ctx, func(tx store.Tx) error {
		out = out[:0]
		now, err := l.clock(ctx, tx)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT name, holder, token, acquired_at, expires_at FROM leases WHERE holder <> '' AND expires_at > ? ORDER BY name`, now)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var name string
			var r row
			if err := rows.Scan(&name, &r.holder, &r.token, &r.acquired, &r.expires); err != nil {
				return err
			}
			out = append(out, toLease(name, r))
			return nil
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// Fence checks, inside the caller's write transaction, that the lease name
// is still held with token and has not expired; errors.Conflict otherwise,
// so the transaction rolls back. On PostgreSQL (SERIALIZABLE) a concurrent
// takeover makes one of the two transactions fail; on SQLite writers are
// serial. Use it in the transactions whose effect must not happen twice
// when a holder that lost its lease has not noticed yet.
func (l *Leases) Fence(ctx context.Context, tx store.Tx, name string, token int64) error {
	const op errors.Op = "lease.Fence"
	now, err := l.clock(ctx, tx)
	if err != nil {
		return errors.E(op, err)
	}
	r, found, err := getRow(ctx, tx, name)
	if err != nil {
		return errors.E(op, err)
	}
	if !found || r.token != token || r.holder == "" || r.expires <= now {
		return errors.E(op, errors.Conflict, errLost)
	}
	return nil
}

// FenceRenew is Fence that also extends the holding to ttl from now,
// inside the caller's write transaction: for work whose every step is a
// transaction (the campaign runner), so that a holder making progress
// keeps its lease even when a step takes longer than its renewal period,
// and the step commits only if the lease was still held with token.
func (l *Leases) FenceRenew(ctx context.Context, tx store.Tx, name, holder string, token int64, ttl time.Duration) error {
	const op errors.Op = "lease.FenceRenew"
	if err := check(name, holder, ttl); err != nil {
		return errors.E(op, err)
	}
	now, err := l.clock(ctx, tx)
	if err != nil {
		return errors.E(op, err)
	}
	res, err := tx.Exec(ctx, `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND token = ? AND expires_at > ?`,
		now+ttl.Microseconds(), name, holder, token, now)
	if err != nil {
		return errors.E(op, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return errors.E(op, errors.Conflict, errLost)
	}
	return nil
}

func toLease(name string, r row) Lease {
	return Lease{Name: name, Holder: r.holder, Token: r.token, Acquired: store.FromT(r.acquired), ExpiresAt: store.FromT(r.expires)}
}
