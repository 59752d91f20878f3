package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestIdempotencyCrashBeforeRecording: the replica answering a keyed
// request dies after the request's changes committed but before its answer
// was recorded. The client's retry — after the key's in-flight time ran
// out, so it may take the key over — must not do the request again: it is
// told the request was done and its answer lost, with the first attempt's
// request ID. A request that committed nothing before the crash is run
// again by the retry. Cases cover handlers of different shapes (one
// transaction, a secret withheld from the record, a job's submission).
func TestIdempotencyCrashBeforeRecording(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		h := newHarness(t, db)
		h.do("POST", "/api/v1/sites", h.admin, map[string]any{"name": "box", "kind": "local", "accreditation": "OPEN",
			"capacity": map[string]any{"nodes": 1, "cores_per_node": 2, "memory_gb_per_node": 4}})
		var crashed sync.Map // the first attempt of each crash- key dies
		undo := httpapi.CrashBeforeRecording(func(r *http.Request) bool {
			key := r.Header.Get("Idempotency-Key")
			_, again := crashed.LoadOrStore(key, true)
			return strings.HasPrefix(key, "crash-") && !again
		})
		t.Cleanup(undo)
		count := func(q string) int {
			var n int
			if err := db.View(ctx, func(tx store.Tx) error { return tx.QueryRow(ctx, q).Scan(&n) }); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for _, c := range []struct {
			name, path string
			body       map[string]any
			effects    string // counts what the request does
			committed  bool   // whether it commits anything
		}{
			{"token", "/api/v1/tokens", map[string]any{"name": "laptop"}, `SELECT COUNT(*) FROM tokens`, true},
			{"project", "/api/v1/projects", map[string]any{"name": "fusion"}, `SELECT COUNT(*) FROM projects`, true},
			{"job", "/api/v1/jobs", map[string]any{"executable": "/bin/true", "attributes": map[string]any{"duration": "1m"}}, `SELECT COUNT(*) FROM jobs`, true},
			{"refused", "/api/v1/projects", map[string]any{"name": "Bad Name"}, `SELECT COUNT(*) FROM projects`, false},
		} {
			key := "crash-" + c.name
			before := count(c.effects)
			raw, _ := json.Marshal(c.body)
			send := func() (*http.Response, error) {
				// A body it cannot rewind: net/http would itself resend a
				// keyed request whose connection broke.
				req, _ := http.NewRequest("POST", h.ts.URL+c.path, io.MultiReader(bytes.NewReader(raw)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+h.admin)
				req.Header.Set("Idempotency-Key", key)
				return h.ts.Client().Do(req)
			}
			if res, err := send(); err == nil {
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				t.Fatalf("%s: the crashed request was answered: %d %s", c.name, res.StatusCode, b)
			}
			wantAfter := before
			if c.committed {
				wantAfter++
			}
			if n := count(c.effects); n != wantAfter {
				t.Fatalf("%s: %d effects after the crashed request, want %d", c.name, n, wantAfter)
			}
			// Still in flight: the retry waits.
			if r := h.do("POST", c.path, h.admin, c.body, "Idempotency-Key", "other-"+c.name); r.status >= 500 {
				t.Fatalf("%s: an unrelated key: %d %s", c.name, r.status, r.body)
			}
			// Time passes: the key's in-flight time runs out.
			if err := db.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Exec(ctx, `UPDATE idempotency_keys SET created_at = ? WHERE key = ?`, store.T(time.Now().Add(-time.Hour)), key)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			n0 := count(c.effects)
			r := h.do("POST", c.path, h.admin, c.body, "Idempotency-Key", key)
			if !c.committed {
				// Nothing was done: the retry takes the key over and runs it.
				if r.status != 400 {
					t.Errorf("%s: retry of a request that committed nothing = %d %s, want its own answer (400)", c.name, r.status, r.body)
				}
				continue
			}
			if n := count(c.effects); n != n0 {
				t.Errorf("%s: the retry did the request again (%d effects, want %d)", c.name, n, n0)
			}
			p := r.problem(t)
			if r.status != 409 || !strings.Contains(p.Detail, "already done") || !regexp.MustCompile(`request ID [0-9a-f]{16}`).MatchString(p.Detail) {
				t.Errorf("%s: retry after the crash = %d %s, want 409 naming the first attempt", c.name, r.status, r.body)
			}
			// And so it stays.
			if again := h.do("POST", c.path, h.admin, c.body, "Idempotency-Key", key); again.status != 409 || count(c.effects) != n0 {
				t.Errorf("%s: second retry = %d %s", c.name, again.status, again.body)
			}
		}
	})
}
