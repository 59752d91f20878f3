package app

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestLeasedLoopsFailOver serves two replicas on one PostgreSQL: each
// background loop is held by exactly one of them, and when the scheduler's
// holder stops the other takes the scheduler over. With one process the
// loops simply run (every other app test).
func TestLeasedLoopsFailOver(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	ctx := context.Background()
	type replica struct {
		a      *App
		cancel context.CancelFunc
		done   chan error
	}
	key := sharedKeyFile(t)
	start := func(id string) *replica {
		cfg := config.Default(t.TempDir())
		cfg.Store.DSN = dsn
		cfg.Replica.ID = id
		cfg.Replica.SecretsKeyFile = key
		a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { a.Close() })
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		sctx, cancel := context.WithCancel(ctx)
		r := &replica{a: a, cancel: cancel, done: make(chan error, 1)}
		go func() { r.done <- a.Serve(sctx, ln, 10*time.Second) }()
		t.Cleanup(func() { cancel(); <-r.done })
		return r
	}
	holder := func(ls *lease.Leases, name string, not string) lease.Lease {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second) // patience, not a speed claim
		for {
			l, ok, err := ls.Holder(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if ok && l.Holder != not {
				return l
			}
			if time.Now().After(deadline) {
				t.Fatalf("nobody but %q holds %s", not, name)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	r1 := start("replica-1")
	first := holder(r1.a.Leases, LeaseScheduler, "")
	if first.Holder != "replica-1" {
		t.Fatalf("scheduler held by %q before replica-2 started", first.Holder)
	}
	r2 := start("replica-2")
	for _, name := range []string{LeaseScheduler, LeaseSiteMonitor, LeaseSiteProbes, LeaseInstrumentPoller} {
		if l := holder(r2.a.Leases, name, ""); l.Holder != "replica-1" {
			t.Fatalf("%s held by %q, want replica-1 (it came first and is alive)", name, l.Holder)
		}
	}
	t0 := time.Now()
	r1.cancel()
	if err := <-r1.done; err != nil {
		t.Fatal(err)
	}
	r1.done <- nil // for the cleanup
	next := holder(r2.a.Leases, LeaseScheduler, "replica-1")
	if next.Holder != "replica-2" || next.Token <= first.Token {
		t.Fatalf("after replica-1 stopped the scheduler is held by %+v (was %+v)", next, first)
	}
	t.Logf("scheduler handed over %v after replica-1 was told to stop", time.Since(t0))
}
