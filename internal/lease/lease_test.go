package lease_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// fakeClock is a clock the test steps by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// model is the reference: what a lease should be after any sequence of
// operations.
type model struct {
	holder  string
	token   int64
	expires time.Time
}

func (m *model) heldAt(now time.Time) bool { return m.holder != "" && now.Before(m.expires) }

// TestModel drives random interleavings of acquire, reclaim, renew (with
// the current or a stale token; also inside a caller's transaction,
// FenceRenew), release and clock steps by several holders
// on two names against the reference model, on every backend, and checks
// after every step: the same answers as the model, at most one holder per
// name, and tokens that strictly increase with each acquisition.
func TestModel(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
		ls := lease.NewWithClock(db, clock.Now)
		holders := []string{"replica-a", "replica-b", "replica-c"}
		names := []string{"scheduler", "gc"}
		for seed := uint64(1); seed <= 12; seed++ {
			rng := rand.New(rand.NewPCG(seed, 17))
			models := map[string]*model{}
			// tokens each holder saw, to replay stale ones
			seen := map[string][]int64{}
			for _, n := range names {
				models[n+fmt.Sprint(seed)] = &model{}
			}
			for step := 0; step < 60; step++ {
				name := names[rng.IntN(len(names))] + fmt.Sprint(seed)
				m := models[name]
				h := holders[rng.IntN(len(holders))]
				ttl := time.Duration(1+rng.IntN(5)) * time.Second
				now := clock.Now()
				where := fmt.Sprintf("seed %d step %d %s by %s", seed, step, name, h)
				switch op := rng.IntN(6); op {
				case 0, 1: // acquire, or reclaim (which also takes the holder's own holding)
					acquire, wantOK := ls.Acquire, !m.heldAt(now)
					if rng.IntN(3) == 0 {
						acquire, wantOK = ls.Reclaim, !m.heldAt(now) || m.holder == h
					}
					l, ok, err := acquire(ctx, name, h, ttl)
					if err != nil {
						t.Fatalf("%s: acquire: %v", where, err)
					}
					if ok != wantOK {
						t.Fatalf("%s: acquire ok = %v, model says %v (model %+v, now %v)", where, ok, wantOK, *m, now)
					}
					if ok {
						if l.Token <= m.token {
							t.Fatalf("%s: token %d not above the last %d", where, l.Token, m.token)
						}
						m.holder, m.token, m.expires = h, l.Token, now.Add(ttl)
						seen[name] = append(seen[name], l.Token)
					} else if l.Holder != m.holder || l.Token != m.token {
						t.Fatalf("%s: refused acquire reports %s/%d, model %s/%d", where, l.Holder, l.Token, m.holder, m.token)
					}
				case 2: // renew with the current token or a stale one
					tok := m.token
					if s := seen[name]; len(s) > 0 && rng.IntN(3) == 0 {
						tok = s[rng.IntN(len(s))]
					}
					_, err := ls.Renew(ctx, name, h, tok, ttl)
					want := m.heldAt(now) && m.holder == h && m.token == tok
					if want != (err == nil) {
						t.Fatalf("%s: renew token %d: err %v, model says ok=%v (%+v)", where, tok, err, want, *m)
					}
					if err != nil && !errors.Is(errors.Conflict, err) {
						t.Fatalf("%s: renew refused with kind %v, want Conflict: %v", where, errors.KindOf(err), err)
					}
					if want {
						m.expires = now.Add(ttl)
					}
				case 5: // renew inside a write transaction (FenceRenew): as Renew, and rolled back with it
					tok := m.token
					if s := seen[name]; len(s) > 0 && rng.IntN(3) == 0 {
						tok = s[rng.IntN(len(s))]
					}
					err := db.Update(ctx, func(tx store.Tx) error { return ls.FenceRenew(ctx, tx, name, h, tok, ttl) })
					want := m.heldAt(now) && m.holder == h && m.token == tok
					if want != (err == nil) {
						t.Fatalf("%s: fence-renew token %d: err %v, model says ok=%v (%+v)", where, tok, err, want, *m)
					}
					if err != nil && !errors.Is(errors.Conflict, err) {
						t.Fatalf("%s: fence-renew refused with kind %v, want Conflict: %v", where, errors.KindOf(err), err)
					}
					if want {
						m.expires = now.Add(ttl)
					}
				case 3: // release
					tok := m.token
					if s := seen[name]; len(s) > 0 && rng.IntN(3) == 0 {
						tok = s[rng.IntN(len(s))]
					}
					err := ls.Release(ctx, name, h, tok)
					want := m.holder == h && m.token == tok
					if want != (err == nil) {
						t.Fatalf("%s: release token %d: err %v, model says ok=%v (%+v)", where, tok, err, want, *m)
					}
					if want {
						m.holder, m.expires = "", time.Time{}
					}
				case 4: // time passes
					clock.Add(time.Duration(rng.IntN(13)) * 250 * time.Millisecond) // lands on expiries exactly, too
				}
				// At most one holder, the model's.
				now = clock.Now()
				for n, m := range models {
					l, ok, err := ls.Holder(ctx, n)
					if err != nil {
						t.Fatal(err)
					}
					if ok != m.heldAt(now) || (ok && (l.Holder != m.holder || l.Token != m.token || !l.ExpiresAt.Equal(m.expires))) {
						t.Fatalf("%s: Holder(%s) = %+v %v, model %+v", where, n, l, ok, *m)
					}
				}
			}
		}
		// List shows exactly the held ones.
		all, err := ls.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range all {
			if _, ok, _ := ls.Holder(ctx, l.Name); !ok {
				t.Fatalf("List shows %s, which nobody holds", l.Name)
			}
		}
	})
}

// TestValidation: bad names, holders and ttls are refused as Invalid,
// naming the field, and store nothing.
func TestValidation(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	ls := lease.New(db)
	ctx := context.Background()
	long := string(make([]byte, 129))
	for _, c := range []struct {
		name, holder string
		ttl          time.Duration
		field        string
	}{
		{"", "h", time.Second, "name"},
		{"a\x00b", "h", time.Second, "name"},
		{"a\nb", "h", time.Second, "name"},
		{"\xff", "h", time.Second, "name"},
		{long, "h", time.Second, "name"},
		{"n", "", time.Second, "holder"},
		{"n", "h\u2028", time.Second, "holder"},
		{"n", "h", 0, "ttl"},
		{"n", "h", -time.Second, "ttl"},
		{"n", "h", 2 * time.Hour, "ttl"},
	} {
		_, _, err := ls.Acquire(ctx, c.name, c.holder, c.ttl)
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field {
			t.Errorf("Acquire(%q, %q, %v) = %v, want Invalid on %s", c.name, c.holder, c.ttl, err, c.field)
		}
	}
	if all, err := ls.List(ctx); err != nil || len(all) != 0 {
		t.Fatalf("bad input stored leases: %v %v", all, err)
	}
}

// TestDatabaseClock: without a fake clock, PostgreSQL leases are timed by
// the server's now(), not the process's clock.
func TestDatabaseClock(t *testing.T) {
	db := storetest.Migrated(t, storetest.Postgres)
	ctx := context.Background()
	ls := lease.New(db)
	var before, after int64
	read := func(p *int64) {
		err := db.View(ctx, func(tx store.Tx) error {
			return tx.QueryRow(ctx, `SELECT CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT)`).Scan(p)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	read(&before)
	l, ok, err := ls.Acquire(ctx, "scheduler", "a", time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	read(&after)
	if a := store.T(l.Acquired); a < before || a > after {
		t.Fatalf("acquired at %d, outside the database's clock window [%d, %d]", a, before, after)
	}
	if d := l.ExpiresAt.Sub(l.Acquired); d != time.Minute {
		t.Fatalf("expires %v after acquisition, want 1m", d)
	}
}

// TestConcurrentAcquire: many goroutines race for one lease on
// PostgreSQL; whoever gets it must be alone (checked with an in-memory
// owner slot), and every acquisition has its own, higher token.
func TestConcurrentAcquire(t *testing.T) {
	db := storetest.Migrated(t, storetest.Postgres)
	ctx := context.Background()
	ls := lease.New(db)
	var owner atomic.Pointer[string]
	var mu sync.Mutex
	tokens := map[int64]string{}
	var wg sync.WaitGroup
	const workers, rounds = 12, 15
	var wins atomic.Int64
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			me := fmt.Sprintf("replica-%d", w)
			for i := 0; i < rounds; i++ {
				l, ok, err := ls.Acquire(ctx, "scheduler", me, time.Minute)
				if err != nil {
					t.Errorf("%s: %v", me, err)
					return
				}
				if !ok {
					continue
				}
				if !owner.CompareAndSwap(nil, &me) {
					t.Errorf("%s acquired the lease while %s holds it", me, *owner.Load())
					return
				}
				mu.Lock()
				if prev, dup := tokens[l.Token]; dup {
					t.Errorf("token %d given to %s and %s", l.Token, prev, me)
				}
				tokens[l.Token] = me
				mu.Unlock()
				wins.Add(1)
				owner.Store(nil)
				if err := ls.Release(ctx, "scheduler", me, l.Token); err != nil {
					t.Errorf("%s: release: %v", me, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if wins.Load() == 0 {
		t.Fatal("nobody ever acquired the lease")
	}
	var max int64
	for tok := range tokens {
		max = max2(max, tok)
	}
	if int64(len(tokens)) != max {
		t.Fatalf("%d acquisitions but the highest token is %d: tokens must count acquisitions", len(tokens), max)
	}
	t.Logf("%d acquisitions by %d racing replicas", wins.Load(), workers)
}

func max2(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
