package e2e

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
)

// TestLeaseFailoverKill9 runs two `genesis up` replicas on one PostgreSQL,
// kills -9 the one holding the scheduler's lease, and checks that the
// other holds it within 10 s of the kill by the database's clock (the
// lease's TTL is 6 s and replicas retry every 2 s), with a higher fencing
// token.
func TestLeaseFailoverKill9(t *testing.T) {
	dsn := freshPostgres(t)
	ctx := context.Background()
	t.Setenv("GENESIS_SECRETS_KEY_FILE", sharedSecretsKey(t)) // replicas on one store share it
	start := func(id string) *proc {
		t.Setenv("GENESIS_STORE_DSN", dsn)
		t.Setenv("GENESIS_REPLICA_ID", id)
		return startUp(t, filepath.Join(t.TempDir(), "data"))
	}
	replicas := map[string]*proc{"replica-1": start("replica-1")}
	replicas["replica-2"] = start("replica-2")
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ls := lease.New(db)
	wait := func(not string) lease.Lease {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second) // patience only; the claim is checked on the database's clock
		for {
			l, ok, err := ls.Holder(ctx, "scheduler")
			if err != nil {
				t.Fatal(err)
			}
			if ok && l.Holder != not {
				return l
			}
			if time.Now().After(deadline) {
				t.Fatalf("no scheduler holder other than %q", not)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	first := wait("")
	victim, ok := replicas[first.Holder]
	if !ok {
		t.Fatalf("the scheduler is held by %q, not one of the replicas", first.Holder)
	}
	var killedAt int64
	if err := db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT CAST(EXTRACT(EPOCH FROM now()) * 1000000 AS BIGINT)`).Scan(&killedAt)
	}); err != nil {
		t.Fatal(err)
	}
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	victim.done <- nil // for the cleanup
	next := wait(first.Holder)
	took := next.Acquired.Sub(store.FromT(killedAt))
	t.Logf("scheduler failover after kill -9 of %s: %v (database clock), token %d → %d", first.Holder, took, first.Token, next.Token)
	if took > 10*time.Second {
		t.Errorf("the new holder took the scheduler %v after the kill, want within 10 s", took)
	}
	if next.Token <= first.Token {
		t.Errorf("token %d after %d", next.Token, first.Token)
	}
}
