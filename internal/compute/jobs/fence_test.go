package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store"
)

// TestFencedRoundPlacesNothing: a scheduler whose lease was taken over
// (its fencing token is stale) records no placement and submits nothing;
// the new holder's rounds place and run the job.
func TestFencedRoundPlacesNothing(t *testing.T) {
	f := newFixture(t, "a-site")
	ls := lease.New(f.db)
	stale, ok, err := ls.Acquire(ctx, "scheduler", "replica-a", time.Millisecond)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	f.svc.Fence = func(ctx context.Context, tx store.Tx) error {
		l, _ := lease.FromContext(ctx)
		return ls.Fence(ctx, tx, l.Name, l.Token)
	}
	j := f.submit(t, "executable: /bin/sh\narguments: [\"-c\", \"exit 0\"]\nattributes:\n  duration: 1m\n")
	// replica-a's lease expires and replica-b takes it.
	var fresh lease.Lease
	for {
		l, ok, err := ls.Acquire(ctx, "scheduler", "replica-b", time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			fresh = l
			break
		}
		time.Sleep(time.Millisecond)
	}
	staleCtx := lease.NewContext(ctx, stale)
	if err := f.svc.Step(staleCtx); !errors.Is(errors.Conflict, err) {
		t.Fatalf("a round under a stale lease: %v, want Conflict", err)
	}
	got, err := f.svc.Get(ctx, f.alice, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != jobs.Pending || got.Site != "" {
		t.Fatalf("after the fenced round the job is %s on %q, want pending and unplaced", got.State, got.Site)
	}
	if err := f.svc.Step(lease.NewContext(ctx, fresh)); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.svc.Get(ctx, f.alice, j.ID); got.Site != "a-site" {
		t.Fatalf("the new holder's round left the job %s on %q", got.State, got.Site)
	}
	f.svc.Fence = nil // runUntil steps without a lease
	runUntil(t, f.svc, f.alice, j.ID, jobs.Completed)
}
