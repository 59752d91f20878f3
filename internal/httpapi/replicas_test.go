package httpapi_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// secondReplica returns a harness for another API server on h's store —
// another replica behind the load balancer — with nothing shared with h's
// server but the store.
func secondReplica(t *testing.T, h *harness, db store.DB) *harness {
	t.Helper()
	srv := httpapi.New(httpapi.Config{DB: db, Identity: identity.New(db), Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	doc := loadDoc(t)
	doc.Servers = openapi3.Servers{{URL: ts.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	h2 := *h
	h2.srv, h2.ts, h2.seen, h2.seenMu, h2.doc, h2.router = srv, ts, map[string]bool{}, new(sync.Mutex), doc, router
	return &h2
}

// TestIdempotencyAcrossReplicas: a retry with the same Idempotency-Key
// that the load balancer sends to another replica replays the first
// response; the same key with another request is refused there too; and
// the same keyed request sent to two replicas at once is done once.
func TestIdempotencyAcrossReplicas(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		a := newHarness(t, db)
		b := secondReplica(t, a, db)
		body := map[string]any{"name": "fusion"}
		first := a.do("POST", "/api/v1/projects", a.admin, body, "Idempotency-Key", "r-1")
		if first.status != 201 {
			t.Fatalf("first = %d %s", first.status, first.body)
		}
		// The client retries the moment it has the answer, on the other
		// replica: the response is on record before it was sent.
		again := b.do("POST", "/api/v1/projects", a.admin, body, "Idempotency-Key", "r-1")
		if again.status != 201 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("retry on another replica = %d %s (replayed %q), want the first response", again.status, again.body, again.header.Get("Idempotent-Replayed"))
		}
		if r := b.do("POST", "/api/v1/projects", a.admin, map[string]any{"name": "other"}, "Idempotency-Key", "r-1"); r.status != 400 || r.problem(t).Field != "Idempotency-Key" {
			t.Errorf("key reused with another body on another replica = %d %s", r.status, r.body)
		}
		// Races: one keyed request to both replicas at once, many times.
		for i := range 8 {
			key := fmt.Sprintf("race-%d", i)
			req := map[string]any{"name": fmt.Sprintf("race%d", i)}
			var wg sync.WaitGroup
			res := make([]resp, 4)
			for j := range res {
				wg.Add(1)
				go func() {
					defer wg.Done()
					h := a
					if j%2 == 1 {
						h = b
					}
					res[j] = h.do("POST", "/api/v1/projects", a.admin, req, "Idempotency-Key", key)
				}()
			}
			wg.Wait()
			created := 0
			for _, r := range res {
				switch {
				case r.status == 201 && r.header.Get("Idempotent-Replayed") != "true":
					created++
				case r.status == 201 || r.status == 409:
				default:
					t.Errorf("%s: %d %s", key, r.status, r.body)
				}
			}
			if created != 1 {
				t.Errorf("%s: done %d times by two replicas, want once", key, created)
			}
		}
		var projects httpapi.List[struct{ Name string }]
		b.do("GET", "/api/v1/projects", a.admin, nil).decode(t, &projects)
		if len(projects.Items) != 9 {
			t.Errorf("%d projects, want 9 (each keyed request done once)", len(projects.Items))
		}
	})
}
