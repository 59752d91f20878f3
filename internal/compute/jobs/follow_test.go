package jobs_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
)

// lister is a backend that can list statuses (compute.StatusLister), over
// another, counting how it is asked.
type lister struct {
	compute.Backend
	fail bool // Statuses fails
	drop bool // Statuses leaves out the first ID it is asked about, once

	mu          sync.Mutex
	status      int   // Status calls
	lists       []int // IDs asked of each Statuses call
	dropped     compute.BackendJobID
	submissions []compute.JobID
}

func (l *lister) Submit(ctx context.Context, r compute.Request) (compute.BackendJobID, error) {
	l.mu.Lock()
	l.submissions = append(l.submissions, r.ID)
	l.mu.Unlock()
	return l.Backend.Submit(ctx, r)
}

func (l *lister) Status(ctx context.Context, id compute.BackendJobID) (compute.Status, error) {
	l.mu.Lock()
	l.status++
	l.mu.Unlock()
	return l.Backend.Status(ctx, id)
}

func (l *lister) Statuses(ctx context.Context, ids []compute.BackendJobID) (map[compute.BackendJobID]compute.Status, error) {
	l.mu.Lock()
	l.lists = append(l.lists, len(ids))
	drop := l.drop && l.dropped == ""
	if drop {
		l.dropped = ids[0]
	}
	l.mu.Unlock()
	if l.fail {
		return nil, errors.New("too many jobs for one answer")
	}
	out := map[compute.BackendJobID]compute.Status{}
	for i, id := range ids {
		if drop && i == 0 {
			continue
		}
		st, err := l.Backend.Status(ctx, id)
		if err != nil {
			continue
		}
		out[id] = st
	}
	return out, nil
}

var _ compute.StatusLister = (*lister)(nil)

// runAll submits n jobs that sleep for secs to f's sites and runs rounds
// until all have completed.
func runAll(t *testing.T, f *fixture, n int, secs string) []string {
	t.Helper()
	var ids []string
	for range n {
		ids = append(ids, f.submit(t, "executable: /bin/sh\narguments: [\"-c\", \"sleep "+secs+"\"]\nattributes:\n  duration: 1m\n").ID)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := f.svc.Step(ctx); err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, id := range ids {
			j, err := f.svc.Get(ctx, f.alice, id)
			if err != nil {
				t.Fatal(err)
			}
			switch j.State {
			case jobs.Completed:
				done++
			case jobs.Failed, jobs.Canceled:
				t.Fatalf("job %s ended %s: %s %s", id, j.State, j.Reason, j.Detail)
			}
		}
		if done == n {
			return ids
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs completed in 30 s", done, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A site whose backend lists statuses is asked about its many running
// jobs in one request per round, not one request per job.
func TestFollowListsStatuses(t *testing.T) {
	f := newFixture(t, "a-site")
	l := &lister{Backend: f.backends["a-site"]}
	f.backends["a-site"] = l
	runAll(t, f, 12, "0.3")
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lists) == 0 || l.lists[0] != 12 {
		t.Fatalf("Statuses asked about %v jobs per call, want all 12 in the first", l.lists)
	}
	for _, n := range l.lists {
		if n < 8 {
			t.Errorf("Statuses asked about only %d jobs (one by one is cheaper below 8)", n)
		}
	}
}

// When the list fails, each job is asked about on its own, and all still
// complete; a job missing from a list is one the site lost, as when
// Status says it does not exist: it is placed again.
func TestFollowListFallbacks(t *testing.T) {
	t.Run("fails", func(t *testing.T) {
		f := newFixture(t, "a-site")
		l := &lister{Backend: f.backends["a-site"], fail: true}
		f.backends["a-site"] = l
		runAll(t, f, 10, "0.3")
		l.mu.Lock()
		defer l.mu.Unlock()
		if len(l.lists) == 0 || l.status < 10 {
			t.Fatalf("%d lists, %d Status calls: want the list tried, then every job asked", len(l.lists), l.status)
		}
	})
	t.Run("missing", func(t *testing.T) {
		f := newFixture(t, "a-site")
		l := &lister{Backend: f.backends["a-site"], drop: true}
		f.backends["a-site"] = l
		runAll(t, f, 10, "0.3")
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.dropped == "" {
			t.Fatal("no list was asked")
		}
		again := 0
		for _, id := range l.submissions {
			if strings.HasPrefix(string(id), string(l.dropped)+".a") {
				again++
			}
		}
		if again != 1 {
			t.Fatalf("job %s, missing from a list, was submitted again %d times; want 1 (submissions %v)", l.dropped, again, l.submissions)
		}
	})
}
