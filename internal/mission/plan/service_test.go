package plan_test

import (
	"context"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestServiceStore: the plan lives in the store on every backend. The
// first start is recorded once; a new plan is stored with who set it and
// one mission.plan.update record; a refused plan stores nothing and a
// refusal by role is on the log as a denial.
func TestServiceStore(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		log := audit.NewMemory()
		clock := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
		s := plan.New(db, log)
		s.Now = func() time.Time { return clock }
		admin := &genesis.Principal{ID: "p_admin", Roles: []genesis.Role{genesis.RoleAdmin}}
		steward := &genesis.Principal{ID: "p_steward", Roles: []genesis.Role{genesis.RoleSteward}}

		st, err := s.Get(ctx, steward)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Default || !st.FirstStart.Equal(clock) || len(st.Milestones) != 5 {
			t.Fatalf("first read: %+v", st)
		}
		clock = clock.AddDate(0, 1, 0)
		if err := s.Init(ctx); err != nil {
			t.Fatal(err)
		}
		if st, _ = s.Get(ctx, steward); !st.FirstStart.Equal(time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)) {
			t.Fatalf("first start moved to %v", st.FirstStart)
		}

		if _, err := s.Set(ctx, steward, []byte("milestones:\n  - {id: a, title: A, day: 90, check: inventory_complete}\n"), false); !errors.Is(errors.Permission, err) {
			t.Fatalf("steward: %v", err)
		}
		// Day 20 from 2026-02-01 is before today (2026-03-01): refused.
		if _, err := s.Set(ctx, admin, []byte("milestones:\n  - {id: a, title: A, day: 20, check: inventory_complete}\n"), false); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "milestones[0].day" {
			t.Fatalf("past: %v", err)
		}
		if st, _ = s.Get(ctx, admin); !st.Default {
			t.Fatal("a refused plan was stored")
		}
		st, err = s.Set(ctx, admin, []byte("milestones:\n  - {id: a, title: A, day: 90, check: inventory_complete}\n"), false)
		if err != nil {
			t.Fatal(err)
		}
		again, _ := s.Get(ctx, steward)
		if st.Default || again.Default || again.UpdatedBy != "p_admin" || again.UpdatedAt == nil || len(again.Milestones) != 1 || *again.Milestones[0].Day != 90 {
			t.Fatalf("stored %+v", again)
		}
		// Kept as it is, a milestone now in the past may stay.
		clock = clock.AddDate(1, 0, 0)
		if _, err := s.Set(ctx, admin, []byte("milestones:\n  - {id: a, title: A renamed, day: 90, check: inventory_complete}\n"), false); err != nil {
			t.Fatalf("unchanged deadline: %v", err)
		}
		n, _ := log.Size(ctx)
		var allow, deny int
		for i := range n {
			r, _ := log.Get(ctx, i)
			if r.Action != "mission.plan.update" {
				continue
			}
			switch r.Decision {
			case audit.Allow:
				allow++
			case audit.Deny:
				deny++
			}
		}
		if allow != 2 || deny != 1 {
			t.Errorf("audit: %d allowed, %d denied updates", allow, deny)
		}
		// No sources wired: every milestone is not available, never failed.
		status, err := s.Status(ctx, steward)
		if err != nil {
			t.Fatal(err)
		}
		if status.Milestones[0].Status != plan.NotAvailable {
			t.Errorf("no sources: %+v", status.Milestones[0])
		}
	})
}
