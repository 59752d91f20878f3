package campaign_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// watchedDB is a store that calls hook (once) when an Update begins,
// before it waits for a connection.
type watchedDB struct {
	store.DB
	mu   sync.Mutex
	hook func()
}

func (d *watchedDB) arm(hook func()) {
	d.mu.Lock()
	d.hook = hook
	d.mu.Unlock()
}

func (d *watchedDB) Update(ctx context.Context, fn func(store.Tx) error) error {
	d.mu.Lock()
	hook := d.hook
	d.hook = nil
	d.mu.Unlock()
	if hook != nil {
		hook()
	}
	return d.DB.Update(ctx, fn)
}

// TestAcquireWhileFencing: the run loop and the results loop of one
// runner take leases and fence their transactions at the same time. A
// transaction that holds the write connection (SQLite has one) and
// fences must not wait for a lease taking that waits for that very
// connection. This is the interleaving that froze both loops for good —
// and with them every write of a SQLite server — when acquire held the
// runner's lease mutex across its Reclaim and Renew calls (TestLeaseTakeover
// with a short lease hit it within seconds under -race). A regression
// hangs here until go test's -timeout.
func TestAcquireWhileFencing(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.fleet.add("inst", "cell", "OPEN", w.dir)
		wdb := &watchedDB{DB: db}
		s := campaign.New(wdb, w.az, w.ids, w.cat, nil)
		s.SetFleet(w.fleet)
		s.SetRunnerID("r")
		s.WorkDir = w.dir
		// The lease must not expire while the test looks: it checks
		// that the fence passes, not how fast the machine is.
		s.LeaseTTL = lease.MaxTTL
		c1, err := s.Create(ctx, w.alice, mkSpec(t, "first", "OPEN", "1", 2, 1, "cell", ""))
		if err != nil {
			t.Fatal(err)
		}
		c2, err := s.Create(ctx, w.alice, mkSpec(t, "second", "OPEN", "1", 2, 1, "cell", ""))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Start(ctx, w.alice, c1.ID); err != nil {
			t.Fatal(err)
		}
		if ids, err := campaign.Acquire(s, ctx); err != nil || !slices.Equal(ids, []string{c1.ID}) {
			t.Fatalf("acquire: %v %v", ids, err)
		}
		// c2 is free now: the next acquire takes it with a write.
		if _, err := s.Start(ctx, w.alice, c2.ID); err != nil {
			t.Fatal(err)
		}

		inTx := make(chan struct{})
		acquiring := make(chan struct{})
		txDone := make(chan error, 1)
		go func() {
			var once sync.Once
			txDone <- db.Update(ctx, func(tx store.Tx) error {
				once.Do(func() { close(inTx) })
				<-acquiring
				return campaign.Fence(s, ctx, tx, c1.ID)
			})
		}()
		<-inTx
		wdb.arm(func() { close(acquiring) })
		type result struct {
			ids []string
			err error
		}
		acquired := make(chan result, 1)
		go func() {
			ids, err := campaign.Acquire(s, ctx)
			acquired <- result{ids, err}
		}()
		if err := <-txDone; err != nil {
			t.Fatalf("the fence of a held lease, while a lease is taken: %v", err)
		}
		r := <-acquired
		want := []string{c1.ID, c2.ID}
		slices.Sort(r.ids)
		slices.Sort(want)
		if r.err != nil || !slices.Equal(r.ids, want) {
			t.Fatalf("acquire beside a fencing transaction: %v %v", r.ids, r.err)
		}
	})
}
