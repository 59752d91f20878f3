package console_test

import (
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/console"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestSessions(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		id := identity.New(db)
		if _, err := id.Bootstrap(ctx, "admin"); err != nil {
			t.Fatal(err)
		}
		admin, err := id.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		s := console.NewSessions(db, func() time.Time { return now })

		secret, sess, err := s.Create(ctx, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, err := s.Get(ctx, secret)
		if err != nil || got.Principal != admin.ID || got.CSRF != sess.CSRF || got.CSRF == "" {
			t.Fatalf("Get: %+v %v", got, err)
		}
		// The cookie value is not the form token, and neither is stored.
		if got.CSRF == secret {
			t.Error("CSRF token equals the session secret")
		}
		var n int
		db.View(ctx, func(tx store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM console_sessions WHERE id_hash = ?`, secret).Scan(&n)
		})
		if n != 0 {
			t.Error("the session secret is stored in the clear")
		}
		// A once code is not a session, and a session is not a once code.
		if _, err := s.RedeemOnce(ctx, secret); !errors.Is(errors.NotExist, err) {
			t.Errorf("session redeemed as a once code: %v", err)
		}
		code, err := s.CreateOnce(ctx, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, code); !errors.Is(errors.NotExist, err) {
			t.Errorf("once code used as a session: %v", err)
		}
		// Concurrent redemptions: exactly one wins.
		var wg sync.WaitGroup
		wins := make(chan genesis.PrincipalID, 8)
		for range 8 {
			wg.Go(func() {
				if p, err := s.RedeemOnce(ctx, code); err == nil {
					wins <- p
				}
			})
		}
		wg.Wait()
		close(wins)
		if len(wins) != 1 {
			t.Errorf("%d concurrent redemptions succeeded, want 1", len(wins))
		}
		for p := range wins {
			if p != admin.ID {
				t.Errorf("redeemed for %s", p)
			}
		}
		// Expiry.
		now = now.Add(console.SessionTTL)
		if _, err := s.Get(ctx, secret); !errors.Is(errors.NotExist, err) {
			t.Errorf("expired session: %v", err)
		}
		// A new session sweeps the expired rows.
		if _, _, err := s.Create(ctx, admin.ID); err != nil {
			t.Fatal(err)
		}
		db.View(ctx, func(tx store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM console_sessions`).Scan(&n)
		})
		if n != 1 {
			t.Errorf("%d rows after the sweep, want 1", n)
		}
		// Delete is idempotent; junk is NotExist, never an error of the store.
		if err := s.Delete(ctx, secret); err != nil {
			t.Error(err)
		}
		for _, junk := range []string{"", "a", "'; DROP TABLE console_sessions; --", string(make([]byte, 43))} {
			if _, err := s.Get(ctx, junk); !errors.Is(errors.NotExist, err) {
				t.Errorf("Get(%q): %v", junk, err)
			}
		}
	})
}
