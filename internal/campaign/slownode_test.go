package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestSlowNodeHoldsNoOneElse: a node that does not answer (for as long as
// the runner would wait on one call) holds up neither the campaigns on
// other instruments nor, once it answers, its own.
func TestSlowNodeHoldsNoOneElse(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite))
	slow := w.fleet.add("slow", "cell-a", "OPEN", w.dir)
	slow.Gate = make(chan struct{})
	w.fleet.add("fast", "cell-b", "OPEN", w.dir)
	s := w.service("r1")
	s.CallTimeout = time.Hour
	a, err := s.Create(ctx, w.alice, mkSpec(t, "on-slow", "OPEN", "1", 2, 1, "cell-a", ""))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, w.alice, mkSpec(t, "on-fast", "OPEN", "1", 4, 1, "cell-b", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if _, err := s.Start(ctx, w.alice, id); err != nil {
			t.Fatal(err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(cctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, "the campaign on the fast instrument to observe all its experiments", func() bool {
		return w.get(s, w.alice, b.ID).Counts.Observed == 4
	})
	if got := w.get(s, w.alice, a.ID).Counts.Observed; got != 0 {
		t.Fatalf("the campaign on the hung node observed %d experiments", got)
	}
	close(slow.Gate)
	waitFor(t, "the campaign on the slow instrument to observe all its experiments", func() bool {
		return w.get(s, w.alice, a.ID).Counts.Observed == 2
	})
}

// TestBrokenCampaignHoldsNoOneElse: a round records every campaign's
// results in one transaction; a campaign whose results cannot be recorded
// (its stored optimizer state is damaged) does not hold up the others.
func TestBrokenCampaignHoldsNoOneElse(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite))
	w.fleet.add("inst-a", "cell-a", "OPEN", w.dir)
	w.fleet.add("inst-b", "cell-b", "OPEN", w.dir)
	s := w.service("r1")
	a, err := s.Create(ctx, w.alice, mkSpec(t, "broken", "OPEN", "1", 3, 1, "cell-a", ""))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Create(ctx, w.alice, mkSpec(t, "healthy", "OPEN", "1", 3, 1, "cell-b", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a.ID, b.ID} {
		if _, err := s.Start(ctx, w.alice, id); err != nil {
			t.Fatal(err)
		}
	}
	// Both dispatch their first experiment; then a's state is damaged.
	if err := s.Step(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE campaigns SET optimizer = '{"version": 1, "x": "damaged"}' WHERE id = ?`, a.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		s.Step(ctx) // a's trouble is reported, every step
		if w.get(s, w.alice, b.ID).Counts.Observed == 3 {
			break
		}
	}
	if got := w.get(s, w.alice, b.ID).Counts.Observed; got != 3 {
		t.Fatalf("the healthy campaign observed %d of 3 experiments", got)
	}
	if got := w.get(s, w.alice, a.ID).Counts.Observed; got != 0 {
		t.Fatalf("the damaged campaign observed %d experiments", got)
	}
}
