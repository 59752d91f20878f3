package audit_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit/audittest"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// cutter is a TCP proxy to PostgreSQL whose link can be cut (every
// connection closed and new ones refused) and restored.
type cutter struct {
	target string
	ln     net.Listener
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newCutter(t *testing.T, target string) *cutter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{target: target, ln: ln}
	t.Cleanup(func() { ln.Close(); c.cut() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			down := c.down
			c.mu.Unlock()
			if down {
				in.Close()
				continue
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			c.mu.Lock()
			c.conns = append(c.conns, in, out)
			c.mu.Unlock()
			go func() { io.Copy(out, in); out.Close() }()
			go func() { io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *cutter) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down = true
	for _, k := range c.conns {
		k.Close()
	}
	c.conns = nil
}

func (c *cutter) restore() {
	c.mu.Lock()
	c.down = false
	c.mu.Unlock()
}

// TestStoreLogOutage: while a replica's link to PostgreSQL is cut, its
// appends fail (nothing is acknowledged) and Healthy says so; once the
// link is back, both recover without a restart — failures are not sticky
// — and the log verifies with only the acknowledged records in it.
func TestStoreLogOutage(t *testing.T) {
	ctx := context.Background()
	dsn := storetest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	c := newCutter(t, u.Host)
	u.Host = c.ln.Addr().String()
	db, err := postgres.Open(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	s, v := storeKeys(t)
	l := openStoreLog(t, db, s, v)
	if _, err := l.AppendSync(ctx, audittest.Record(0)); err != nil {
		t.Fatal(err)
	}
	c.cut()
	if err := l.Healthy(); !errors.Is(errors.Unavailable, err) {
		t.Fatalf("Healthy with the link cut: %v", err)
	}
	actx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if idx, err := l.AppendSync(actx, audittest.Record(1)); err == nil {
		t.Fatalf("append acknowledged at %d with the link cut", idx)
	}
	c.restore()
	var idx uint64
	for tries := 0; ; tries++ {
		// The pool may hand out a connection that died in the cut once.
		if idx, err = l.AppendSync(ctx, audittest.Record(2)); err == nil || tries == 5 {
			break
		}
	}
	if err != nil || idx != 1 {
		t.Fatalf("append after the link is back: %d, %v", idx, err)
	}
	if err := l.Healthy(); err != nil {
		t.Fatalf("Healthy after the link is back: %v", err)
	}
	rep := mustVerifyStore(t, db, v)
	if rep.Entries != 2 {
		t.Fatalf("%d entries, want the 2 acknowledged", rep.Entries)
	}
	if r, err := l.Get(ctx, 1); err != nil || r.ObjectID != audittest.Record(2).ObjectID {
		t.Fatalf("entry 1: %+v %v", r, err)
	}
}
