package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestIdempotencyTakenOverAttemptCannotCommit: a keyed request whose
// replica only seemed dead — a retry took its key over meanwhile — cannot
// commit anything more, and does not overwrite the key's row with its
// answer; what it committed before the takeover stays counted.
func TestIdempotencyTakenOverAttemptCannotCommit(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		s := New(Config{DB: db, Identity: identity.New(db), Logger: slog.New(slog.DiscardHandler)})
		if err := db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `CREATE TABLE fence_test (what TEXT NOT NULL)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		insert := func(ctx context.Context, what string) error {
			return db.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Exec(ctx, `INSERT INTO fence_test (what) VALUES (?)`, what)
				return err
			})
		}
		var second error
		h := func(w http.ResponseWriter, r *http.Request) error {
			if err := insert(r.Context(), "before"); err != nil {
				return err
			}
			// Another replica's retry takes the key over.
			if err := db.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET attempt = 'retry', committed = 0 WHERE key = 'k'`)
				return err
			}); err != nil {
				return err
			}
			second = insert(r.Context(), "after")
			if second != nil {
				return second
			}
			w.WriteHeader(http.StatusCreated)
			return nil
		}
		req := httptest.NewRequest("POST", "/api/v1/things", strings.NewReader(`{}`))
		req.Header.Set("Idempotency-Key", "k")
		w := httptest.NewRecorder()
		s.idempotent(w, req, &genesis.Principal{ID: "pr_test"}, h)
		if !errors.Is(errors.Conflict, second) || w.Code != http.StatusConflict {
			t.Errorf("the taken-over attempt's commit: %v, answered %d %s; want a conflict", second, w.Code, w.Body)
		}
		var rows, status, committed int
		var attempt string
		if err := db.View(ctx, func(tx store.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM fence_test WHERE what = 'after'`).Scan(&rows); err != nil {
				return err
			}
			return tx.QueryRow(ctx, `SELECT status, attempt, committed FROM idempotency_keys WHERE key = 'k'`).Scan(&status, &attempt, &committed)
		}); err != nil {
			t.Fatal(err)
		}
		if rows != 0 {
			t.Errorf("the taken-over attempt committed after the takeover")
		}
		if status != 0 || attempt != "retry" || committed != 0 {
			t.Errorf("key row = status %d, attempt %q, committed %d; want the retry's, untouched", status, attempt, committed)
		}
	})
}

// TestIdempotencyFailureAfterCommit: a request that fails (5xx, or 499 when
// its client left) after committing something is not run again by a retry
// with its key; one that failed before committing anything is.
func TestIdempotencyFailureAfterCommit(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		s := New(Config{DB: db, Identity: identity.New(db), Logger: slog.New(slog.DiscardHandler)})
		if err := db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `CREATE TABLE fail_test (what TEXT NOT NULL)`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name      string
			commit    bool
			fail      errors.Kind
			wantRetry int // the retry's status
			wantRuns  int
		}{
			{"internal after a commit", true, errors.Internal, 500, 1},
			{"canceled after a commit", true, errors.Canceled, 409, 1},
			{"internal before any commit", false, errors.Internal, 500, 2},
			{"canceled before any commit", false, errors.Canceled, 499, 2},
		} {
			runs := 0
			h := func(w http.ResponseWriter, r *http.Request) error {
				runs++
				if c.commit {
					if err := db.Update(r.Context(), func(tx store.Tx) error {
						_, err := tx.Exec(r.Context(), `INSERT INTO fail_test (what) VALUES (?)`, c.name)
						return err
					}); err != nil {
						return err
					}
				}
				return errors.E(c.fail, errors.Msg("it failed"))
			}
			answer := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest("POST", "/api/v1/things", strings.NewReader(`{}`))
				req.Header.Set("Idempotency-Key", c.name)
				w := httptest.NewRecorder()
				s.idempotent(w, req, &genesis.Principal{ID: "pr_test"}, h)
				return w
			}
			answer()
			if w := answer(); w.Code != c.wantRetry || runs != c.wantRuns {
				t.Errorf("%s: retry answered %d %s after %d runs; want %d after %d", c.name, w.Code, w.Body, runs, c.wantRetry, c.wantRuns)
			}
		}
	})
}
