package jobs_test

import (
	"sync"
	"testing"
)

// TestDecisionsAndQueueDepths: a round's "started" decisions are exactly
// the jobs that moved from pending to running, and QueueDepths counts the
// jobs in each state, checked against a count of the jobs themselves.
func TestDecisionsAndQueueDepths(t *testing.T) {
	f := newFixture(t, "a-site")
	var mu sync.Mutex
	decided := map[string]int{}
	f.svc.Decisions = func(d string, n int) {
		mu.Lock()
		decided[d] += n
		mu.Unlock()
	}
	const n = 3
	for range n {
		f.submit(t, "executable: /bin/sh\narguments: [\"-c\", \"sleep 1\"]\nattributes:\n  duration: 1m\n")
	}
	q, err := f.svc.QueueDepths(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if q["pending"] != n || q["running"] != 0 || len(q) != 2 {
		t.Fatalf("before a round: %v", q)
	}
	if err := f.svc.Step(ctx); err != nil {
		t.Fatal(err)
	}
	q, err = f.svc.QueueDepths(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if q["pending"]+q["running"] != n {
		t.Errorf("after a round: %v (no round has followed them to an end yet)", q)
	}
	if float64(decided["started"]) != q["running"] || decided["started"] == 0 {
		t.Errorf("started decisions %d, running jobs %v", decided["started"], q["running"])
	}
	total := 0
	for _, v := range decided {
		total += v
	}
	if total > n {
		t.Errorf("more decisions than jobs: %v", decided)
	}
}
