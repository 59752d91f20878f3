package lease_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// patience bounds how long a test waits for something that must happen;
// it only turns a hang into a failure and asserts nothing about speed.
const patience = 60 * time.Second

func waitFor(t *testing.T, what string, ch <-chan string) string {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(patience):
		t.Fatalf("still waiting for %s", what)
		return ""
	}
}

// waitUntil waits for cond to hold, checking it every few milliseconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	give := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(give) {
			t.Fatalf("still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// countingDB counts the write transactions run through it (a Runner's
// acquisitions, renewals and releases), so a test can wait for them.
type countingDB struct {
	store.DB
	updates atomic.Int64
}

func (c *countingDB) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := c.DB.Update(ctx, fn)
	c.updates.Add(1)
	return err
}

// TestRunnerHandover: two Runners race for one lease in one process; only
// one works at a time; cancelling the holder (a replica shutting down)
// hands the work over to the other, with a higher token.
func TestRunnerHandover(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		var active atomic.Int32
		started := make(chan string, 4)
		tokens := make(chan int64, 4)
		work := func(me string) func(context.Context) error {
			return func(ctx context.Context) error {
				if n := active.Add(1); n != 1 {
					t.Errorf("%s works while %d others do", me, n-1)
				}
				l, ok := lease.FromContext(ctx)
				if !ok || l.Holder != me {
					t.Errorf("%s works under lease %+v", me, l)
				}
				tokens <- l.Token
				started <- me
				<-ctx.Done()
				active.Add(-1)
				return ctx.Err()
			}
		}
		run := func(me string, db store.DB) (context.CancelFunc, <-chan error) {
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan error, 1)
			r := &lease.Runner{Leases: lease.New(db), Name: "scheduler", Holder: me, TTL: 5 * time.Second, Retry: 50 * time.Millisecond}
			go func() { done <- r.Run(rctx, work(me)) }()
			return cancel, done
		}
		dbA, dbB := &countingDB{DB: db}, &countingDB{DB: db}
		cancelA, doneA := run("replica-a", dbA)
		if got := waitFor(t, "the first holder", started); got != "replica-a" {
			t.Fatalf("%s started first", got)
		}
		first := <-tokens
		cancelB, doneB := run("replica-b", dbB)
		defer func() { cancelB(); <-doneB }()
		// B keeps trying; A keeps renewing (every TTL/3). Wait for a
		// renewal of A's and two more of B's tries after it.
		a := dbA.updates.Load() // A's acquisition
		waitUntil(t, "replica-a to renew", func() bool { return dbA.updates.Load() > a })
		b := dbB.updates.Load()
		waitUntil(t, "replica-b to try twice more", func() bool { return dbB.updates.Load() >= b+2 })
		select {
		case who := <-started:
			t.Fatalf("%s started while replica-a holds the lease", who)
		default:
		}
		if h, ok, err := lease.New(db).Holder(ctx, "scheduler"); err != nil || !ok || h.Holder != "replica-a" || h.Token != first {
			t.Fatalf("holder after a renewal: %+v, %v, %v; want replica-a with token %d", h, ok, err, first)
		}
		t0 := time.Now()
		cancelA()
		if err := <-doneA; !errors.Is(errors.Canceled, err) {
			t.Fatalf("the cancelled runner returned %v, want Canceled", err)
		}
		if got := waitFor(t, "the handover", started); got != "replica-b" {
			t.Fatalf("%s took over, want replica-b", got)
		}
		if second := <-tokens; second <= first {
			t.Fatalf("token %d after %d: must increase", second, first)
		}
		t.Logf("handover after a clean stop took %v", time.Since(t0))
	})
}

// TestRunnerDeadHolder: a holder that dies without releasing (kill -9) is
// replaced once its lease expires by the database's clock, never before.
func TestRunnerDeadHolder(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		ls := lease.New(db)
		// The dead holder's ttl is short: the test waits it out.
		dead, ok, err := ls.Acquire(ctx, "site-probes", "replica-dead", 500*time.Millisecond)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		got := make(chan lease.Lease, 1)
		cdb := &countingDB{DB: db}
		r := &lease.Runner{Leases: lease.New(cdb), Name: "site-probes", Holder: "replica-b", TTL: time.Second, Retry: 50 * time.Millisecond}
		done := make(chan error, 1)
		t0 := time.Now()
		go func() {
			done <- r.Run(ctx, func(ctx context.Context) error {
				l, _ := lease.FromContext(ctx)
				got <- l
				return nil // done: Run releases and returns
			})
		}()
		var l lease.Lease
		select {
		case l = <-got:
		case <-time.After(patience):
			t.Fatal("nobody replaced the dead holder")
		}
		if l.Acquired.Before(dead.ExpiresAt) {
			t.Fatalf("taken over at %v, before the dead holder's lease expired at %v", l.Acquired, dead.ExpiresAt)
		}
		if l.Token != dead.Token+1 {
			t.Fatalf("token %d after the dead holder's %d", l.Token, dead.Token)
		}
		if err := <-done; err != nil {
			t.Fatalf("work that finished: Run returned %v", err)
		}
		if h, ok, _ := ls.Holder(ctx, "site-probes"); ok {
			t.Fatalf("finished work left the lease held: %+v", h)
		}
		t.Logf("dead holder replaced %v after it was last renewed (ttl 500ms; %d acquisition tries and a release)", time.Since(t0), cdb.updates.Load()-1)
	})
}

// TestRunnerLosesLease: when the lease is taken over behind the runner's
// back (its holding expired by the database's clock while it was
// stalled), the work's context is cancelled and the runner goes back to
// waiting; it does not run the work again while the other holds it.
func TestRunnerLosesLease(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cdb := &countingDB{DB: db}
	ls := lease.NewWithClock(cdb, clock.Now)
	var runs atomic.Int32
	started, stopped := make(chan string, 4), make(chan string, 4)
	var changes atomic.Int32
	r := &lease.Runner{Leases: ls, Name: "reindex", Holder: "replica-a", TTL: 3 * time.Second, Retry: 50 * time.Millisecond,
		OnChange: func(lease.Lease, bool) { changes.Add(1) }}
	done := make(chan error, 1)
	go func() {
		done <- r.Run(ctx, func(ctx context.Context) error {
			runs.Add(1)
			started <- "a"
			<-ctx.Done()
			stopped <- "a"
			return ctx.Err()
		})
	}()
	waitFor(t, "the runner to start", started)
	clock.Add(time.Hour) // by the database's clock the lease has expired
	other, ok, err := ls.Acquire(ctx, "reindex", "replica-b", 30*time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	waitFor(t, "the work to be cancelled", stopped)
	// The runner keeps retrying but must not get the lease back: let it
	// try a few times.
	n := cdb.updates.Load()
	waitUntil(t, "the runner to try again", func() bool { return cdb.updates.Load() >= n+3 })
	if n := runs.Load(); n != 1 {
		t.Fatalf("work ran %d times while replica-b holds the lease", n)
	}
	if h, _, _ := ls.Holder(ctx, "reindex"); h.Holder != "replica-b" || h.Token != other.Token {
		t.Fatalf("holder %+v, want replica-b", h)
	}
	cancel()
	if err := <-done; !errors.Is(errors.Canceled, err) {
		t.Fatalf("Run = %v, want Canceled", err)
	}
	if changes.Load() != 2 {
		t.Fatalf("OnChange heard %d changes, want taken and lost", changes.Load())
	}
}

// TestRunnerWorkError: work that fails while holding the lease makes Run
// return its error, and the lease is released.
func TestRunnerWorkError(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	ctx := context.Background()
	boom := errors.E(errors.Op("test"), errors.Internal, errors.Msg("boom"))
	err := lease.Run(ctx, db, "gc", "replica-a", time.Second, func(context.Context) error { return boom })
	if err != boom {
		t.Fatalf("Run = %v, want the work's error", err)
	}
	if h, ok, _ := lease.New(db).Holder(ctx, "gc"); ok {
		t.Fatalf("lease still held: %+v", h)
	}
	if err := lease.Run(ctx, db, "", "replica-a", time.Second, func(context.Context) error { return nil }); !errors.Is(errors.Invalid, err) {
		t.Fatalf("empty name: %v", err)
	}
}

// TestDo: one-shot work runs under the lease, is refused with Conflict
// naming the holder while another holds it, and releases it after.
func TestDo(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	ctx := context.Background()
	ls := lease.New(db)
	ran := false
	err := ls.Do(ctx, "gc", "replica-a", time.Minute, func(ctx context.Context) error {
		l, ok := lease.FromContext(ctx)
		if !ok || l.Holder != "replica-a" {
			t.Errorf("work runs under %+v", l)
		}
		// Meanwhile another replica is refused.
		err := ls.Do(ctx, "gc", "replica-b", time.Minute, func(context.Context) error {
			t.Error("gc ran on two replicas at once")
			return nil
		})
		if !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "replica-a") {
			t.Errorf("second gc: %v, want Conflict naming replica-a", err)
		}
		ran = true
		return nil
	})
	if err != nil || !ran {
		t.Fatalf("Do = %v (ran %v)", err, ran)
	}
	if h, ok, _ := ls.Holder(ctx, "gc"); ok {
		t.Fatalf("still held after Do: %+v", h)
	}
}
