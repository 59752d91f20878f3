package campaign_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// observations is what a campaign's course is compared by.
func observations(t testing.TB, s *campaign.Service, w *world, id string) []string {
	var out []string
	for _, e := range allExperiments(t, s, w.alice, id) {
		out = append(out, fmt.Sprintf("seq=%d batch=%d attempt=%d state=%s params=%v values=%v", e.Seq, e.Batch, e.Attempt, e.State, e.Params, e.Values))
	}
	return out
}

func failHigh(params map[string]any) bool { x, _ := params["x"].(float64); return x > 0.8 }

// TestCrashLosesNothing is the exactly-once property: a runner stopped at
// random instants (mid-transaction, mid-call) and started again, many
// times over, runs no key twice, loses no observation, and ends where an
// uninterrupted run with the same seed ends.
//
// It is the slowest test of the package (thousands of crashes under the
// race detector), so its two backends run at once.
func TestCrashLosesNothing(t *testing.T) {
	forEachBackendParallel(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		da := w.fleet.add("inst-a", "cell", "OPEN", w.dir)
		db2 := w.fleet.add("inst-b", "cell", "OPEN", w.dir)
		da.Polls, db2.Polls = 1, 1
		da.Fail, db2.Fail = failHigh, failHigh
		extra := "max_in_flight: 2\n"
		ref := w.service("ref")
		c, err := ref.Create(ctx, w.alice, mkSpec(t, "ref", "OPEN", "1", 8, 2, "cell", extra))
		if err != nil {
			t.Fatal(err)
		}
		ref.Start(ctx, w.alice, c.ID)
		runUntil(t, ref, "the uninterrupted run", w.state(ref, c.ID))
		want := observations(t, ref, w, c.ID)
		if len(want) != 8 {
			t.Fatalf("reference run: %v", want)
		}

		trials := 20
		if db.Dialect() == store.Postgres {
			trials = 6
		}
		seed := uint64(time.Now().UnixNano())
		t.Logf("seed %d", seed)
		rng := rand.New(rand.NewPCG(seed, 1))
		total := 0
		defer func() { t.Logf("%d trials, %d crashes", trials, total) }()
		for trial := range trials {
			name := fmt.Sprintf("crash-%d", trial)
			s := w.service("replica")
			c, err := s.Create(ctx, w.alice, mkSpec(t, name, "OPEN", "1", 8, 2, "cell", extra))
			if err != nil {
				t.Fatal(err)
			}
			s.Start(ctx, w.alice, c.ID)
			crashes := 0
			for !w.stored(c.ID) {
				if crashes == 5000 {
					t.Fatalf("trial %d: not done after %d crashes", trial, crashes)
				}
				// A new process: a fresh Service on the same store and fleet,
				// killed after a random instant.
				s = w.service("replica")
				// Mostly short lives (many stop points), sometimes long
				// enough for the slowest step (a catalog commit) to finish.
				// Lives double every 200 crashes, so a slow machine (or the
				// race detector) still finishes: the test asserts no time.
				scale := time.Duration(1) << min(crashes/200, 12)
				life := scale * time.Duration(rng.IntN(5000)) * time.Microsecond
				if rng.IntN(2) == 0 {
					life = scale * time.Duration(rng.IntN(60000)) * time.Microsecond
				}
				cctx, cancel := context.WithTimeout(ctx, life)
				for cctx.Err() == nil {
					s.Step(cctx)
				}
				cancel()
				crashes++
			}
			total += crashes
			// Every attempt ran exactly once: its key was started once, and
			// no experiment ran under a key its attempts do not account for.
			for _, e := range allExperiments(t, s, w.alice, c.ID) {
				for a := 1; a <= e.Attempt+1; a++ {
					key := fmt.Sprintf("%s.%d", e.ID, a)
					ra, _ := da.runCounts()
					rb, _ := db2.runCounts()
					n := ra[key] + rb[key]
					if want := 0; a <= e.Attempt {
						want = 1
						if n != want {
							t.Fatalf("trial %d: experiment %d attempt %d ran %d times", trial, e.Seq, a, n)
						}
					} else if n != want {
						t.Fatalf("trial %d: experiment %d ran an attempt it does not record", trial, e.Seq)
					}
				}
			}
			got := observations(t, s, w, c.ID)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("trial %d (%d crashes): the course differs from the uninterrupted run\n got %s\nwant %s", trial, crashes, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
			}
		}
		for _, d := range []*testDriver{da, db2} {
			if runs, most := d.runCounts(); most != 1 {
				t.Fatalf("a key ran %d times: %v", most, runs)
			}
		}
	})
}

// forEachBackendParallel is storetest.ForEachBackend with the backends'
// subtests run in parallel.
func forEachBackendParallel(t *testing.T, fn func(t *testing.T, db store.DB)) {
	for _, name := range []string{"sqlite", "postgres"} {
		open := storetest.Backends()[name]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, storetest.Migrated(t, open))
		})
	}
}

// TestLeaseTakeover: two runners on one store; the one holding a
// campaign's lease stops, the other takes over when the lease expires.
// The lease is short (300 ms) so that the takeover happens many times
// over in a run of the package; nothing here depends on how fast the
// machine is: a runner whose round outlasts the lease loses it, and one
// of the two takes it again.
func TestLeaseTakeover(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		d := w.fleet.add("inst", "cell", "OPEN", w.dir)
		d.Polls = 3
		a, b := w.service("a"), w.service("b")
		a.LeaseTTL, b.LeaseTTL = 300*time.Millisecond, 300*time.Millisecond
		c, err := a.Create(ctx, w.alice, mkSpec(t, "shared", "OPEN", "1", 6, 1, "cell", ""))
		if err != nil {
			t.Fatal(err)
		}
		a.Start(ctx, w.alice, c.ID)
		actx, stopA := context.WithCancel(ctx)
		bctx, stopB := context.WithCancel(ctx)
		doneA, doneB := make(chan struct{}), make(chan struct{})
		go func() { a.Run(actx); close(doneA) }()
		go func() { b.Run(bctx); close(doneB) }()
		// A failed wait must not leave the runners driving the next test.
		t.Cleanup(func() { stopA(); stopB(); <-doneA; <-doneB })
		waitFor(t, "two observations", func() bool { return w.get(a, w.alice, c.ID).Counts.Observed >= 2 })
		stopA()
		<-doneA
		waitFor(t, "completion by the other runner", w.state(b, c.ID))
		stopB()
		<-doneB
		if _, most := d.runCounts(); most != 1 {
			t.Fatalf("a key ran %d times", most)
		}
		if n := len(observations(t, b, w, c.ID)); n != 6 {
			t.Fatalf("%d experiments", n)
		}
	})
}

// TestFairShare: 50 campaigns on 3 instruments. Each free instrument goes
// to the campaign with the fewest dispatches so far: at every round the
// campaigns still at work are within one dispatch of each other, and all
// finish.
func TestFairShare(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		for i := range 3 {
			w.fleet.add(fmt.Sprintf("inst-%d", i), "cell", "OPEN", w.dir).Polls = 1
		}
		s := w.service("r")
		const n, budget = 50, 3
		ids := map[string]bool{}
		for i := range n {
			c, err := s.Create(ctx, w.alice, mkSpec(t, fmt.Sprintf("c%02d", i), "OPEN", "1", budget, 1, "cell", ""))
			if err != nil {
				t.Fatal(err)
			}
			s.Start(ctx, w.alice, c.ID)
			ids[c.ID] = true
		}
		deadline := time.Now().Add(5 * time.Minute)
		for round := 0; ; round++ {
			if time.Now().After(deadline) {
				t.Fatal("not all campaigns finished")
			}
			if err := s.Step(ctx); err != nil {
				t.Fatal(err)
			}
			counts := map[string]int{}
			err := db.View(ctx, func(tx store.Tx) error {
				rows, err := tx.Query(ctx, `SELECT campaign_id, COUNT(*) FROM campaign_experiments WHERE dispatched_at IS NOT NULL GROUP BY campaign_id`)
				if err != nil {
					return err
				}
				return rows.Each(func() error {
					var id string
					var k int
					err := rows.Scan(&id, &k)
					counts[id] = k
					return err
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			lo, hi, total := budget, 0, 0
			for id := range ids {
				k := counts[id]
				total += k
				hi = max(hi, k)
				if k < budget {
					lo = min(lo, k)
				}
			}
			if lo < budget && hi-lo > 1 {
				t.Fatalf("round %d: a campaign has %d dispatches while another has %d", round, lo, hi)
			}
			if total == n*budget {
				break
			}
		}
		for id := range ids {
			runUntil(t, s, "completion", w.state(s, id))
		}
	})
}

func TestPauseResumeStop(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		d := w.fleet.add("inst", "cell", "OPEN", w.dir)
		d.Polls = 2
		s := w.service("r")
		c, _ := s.Create(ctx, w.alice, mkSpec(t, "p", "OPEN", "1", 10, 1, "cell", ""))
		s.Start(ctx, w.alice, c.ID)
		for w.get(s, w.alice, c.ID).Counts.Observed < 2 {
			s.Step(ctx)
		}
		if _, err := s.Pause(ctx, w.alice, c.ID, "lunch"); err != nil {
			t.Fatal(err)
		}
		// In flight finishes; nothing new is dispatched.
		for range 20 {
			s.Step(ctx)
		}
		p := w.get(s, w.alice, c.ID)
		if p.State != campaign.Paused || p.Reason != "lunch" || p.Counts.Dispatched+p.Counts.Running != 0 {
			t.Fatalf("paused: %+v", p)
		}
		es := allExperiments(t, s, w.alice, c.ID)
		for range 20 {
			s.Step(ctx)
		}
		if again := allExperiments(t, s, w.alice, c.ID); !reflect.DeepEqual(again, es) {
			t.Fatal("a paused campaign moved")
		}
		if _, err := s.Resume(ctx, w.alice, c.ID); err != nil {
			t.Fatal(err)
		}
		for w.get(s, w.alice, c.ID).Counts.Observed < 4 {
			s.Step(ctx)
		}
		st, err := s.Stop(ctx, w.alice, c.ID, "enough")
		if err != nil || st.State != campaign.Stopped || st.Reason != "enough" {
			t.Fatalf("stop: %+v %v", st, err)
		}
		runUntil(t, s, "the stopped campaign's surrogate", func() bool { return w.get(s, w.alice, c.ID).Model != "" })
		f := w.get(s, w.alice, c.ID)
		if f.State != campaign.Stopped || f.Counts.Proposed+f.Counts.Dispatched+f.Counts.Running != 0 || f.Counts.Observed < 4 {
			t.Fatalf("stopped: %+v", f)
		}
		if _, err := s.Resume(ctx, w.alice, c.ID); err == nil {
			t.Fatal("resumed a stopped campaign")
		}
	})
}

func TestEStopPausesAndRetries(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		d := w.fleet.add("inst", "cell", "OPEN", w.dir)
		d.Polls = 1 << 30
		s := w.service("r")
		c, _ := s.Create(ctx, w.alice, mkSpec(t, "e", "OPEN", "1", 3, 1, "cell", ""))
		s.Start(ctx, w.alice, c.ID)
		for w.get(s, w.alice, c.ID).Counts.Running == 0 {
			s.Step(ctx)
		}
		w.fleet.estop("inst")
		p := w.get(s, w.alice, c.ID)
		if p.State != campaign.Paused || !strings.Contains(p.Reason, "inst") {
			t.Fatalf("after e-stop: %s %q", p.State, p.Reason)
		}
		// The cancelled experiment waits for a new attempt.
		for {
			s.Step(ctx)
			es := allExperiments(t, s, w.alice, c.ID)
			if es[0].State == campaign.Proposed {
				if es[0].Attempt != 2 {
					t.Fatalf("retry attempt %d", es[0].Attempt)
				}
				break
			}
		}
		d.Admin(ctx, "reset")
		d.Polls = 0
		s.Resume(ctx, w.alice, c.ID)
		runUntil(t, s, "completion", w.state(s, c.ID))
		es := allExperiments(t, s, w.alice, c.ID)
		if es[0].State != campaign.Observed || es[0].Attempt != 2 || len(es) != 3 {
			t.Fatalf("experiments %+v", es)
		}
	})
}

func TestAdmitAndNodeErrors(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		s := w.service("r")
		s.TransientLimit = 20 * time.Millisecond

		// Invalid: a parameter outside the instrument's bound fails the
		// experiment (no retry), naming the parameter; the campaign goes on.
		w.fleet.add("narrow", "narrow-cell", "OPEN", w.dir)
		c, _ := s.Create(ctx, w.alice, mkSpec(t, "wide", "OPEN", "4", 6, 1, "narrow-cell", ""))
		s.Start(ctx, w.alice, c.ID)
		runUntil(t, s, "completion", w.state(s, c.ID))
		refused := 0
		for _, e := range allExperiments(t, s, w.alice, c.ID) {
			x := e.Params["x"].(float64)
			if (x > 1) != (e.State == campaign.ExpFailed) {
				t.Fatalf("x = %g: %s", x, e.State)
			}
			if e.State == campaign.ExpFailed {
				refused++
				if e.Attempt != 1 || !strings.Contains(e.Reason, "x = ") {
					t.Fatalf("refused experiment %+v", e)
				}
			}
		}
		if refused == 0 {
			t.Fatal("no experiment was out of bounds; the test proves nothing")
		}

		// Permission: the instrument loses its accreditation; the campaign
		// pauses, naming it.
		w.fleet.add("sec", "sec-cell", "PROPRIETARY", w.dir)
		c2, err := s.Create(ctx, w.alice, mkSpec(t, "prop", "PROPRIETARY", "1", 4, 1, "sec-cell", ""))
		if err != nil {
			t.Fatal(err)
		}
		in, _ := w.fleet.inst("sec")
		in.mu.Lock()
		in.acc = mustLabel("OPEN")
		in.mu.Unlock()
		s.Start(ctx, w.alice, c2.ID)
		runUntil(t, s, "the pause", func() bool { return w.get(s, w.alice, c2.ID).State == campaign.Paused })
		if r := w.get(s, w.alice, c2.ID).Reason; !strings.Contains(r, "sec") || !strings.Contains(r, "accredited") {
			t.Fatalf("reason %q", r)
		}

		// Conflict: an interlock; the campaign waits, then goes on.
		d := w.fleet.add("lock", "lock-cell", "OPEN", w.dir)
		d.Admin(ctx, "safety_stop")
		c3, _ := s.Create(ctx, w.alice, mkSpec(t, "wait", "OPEN", "1", 2, 1, "lock-cell", ""))
		s.Start(ctx, w.alice, c3.ID)
		for range 30 {
			s.Step(ctx)
		}
		if g := w.get(s, w.alice, c3.ID); g.State != campaign.Running || g.Counts.Proposed != 1 || g.Counts.Dispatched+g.Counts.Running != 0 {
			t.Fatalf("waiting: %+v", g)
		} else if !strings.Contains(g.Waiting, "e-stopped") {
			t.Fatalf("a waiting campaign does not say why: waiting %q", g.Waiting)
		}
		d.Admin(ctx, "reset")
		runUntil(t, s, "completion", w.state(s, c3.ID))
		if g := w.get(s, w.alice, c3.ID); g.Waiting != "" {
			t.Errorf("a completed campaign still waits: %q", g.Waiting)
		}

		// A node that answers Transient pauses the campaign, never spins.
		dt := w.fleet.add("flaky", "flaky-cell", "OPEN", w.dir)
		dt.Polls = 1 << 30
		c4, _ := s.Create(ctx, w.alice, mkSpec(t, "flaky", "OPEN", "1", 2, 1, "flaky-cell", ""))
		s.Start(ctx, w.alice, c4.ID)
		for w.get(s, w.alice, c4.ID).Counts.Running == 0 {
			s.Step(ctx)
		}
		dt.mu.Lock()
		dt.Transient = true
		dt.mu.Unlock()
		runUntil(t, s, "the pause", func() bool { return w.get(s, w.alice, c4.ID).State == campaign.Paused })
		if r := w.get(s, w.alice, c4.ID).Reason; !strings.Contains(r, "flaky") || !strings.Contains(r, "not answered") {
			t.Fatalf("reason %q", r)
		}
	})
}

// testJobs is a compute-job executor: a "job" per key, done at its second
// poll, measuring the hidden function.
type testJobs struct {
	mu     sync.Mutex
	starts map[string]int
	polls  map[string]int
	params map[string]map[string]any
}

func (x *testJobs) Start(ctx context.Context, c *campaign.Campaign, e *campaign.Experiment, key string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.params[key]; !ok {
		x.starts[key]++
		x.params[key] = e.Params
	}
	return nil
}

func (x *testJobs) Poll(ctx context.Context, c *campaign.Campaign, e *campaign.Experiment, key string) (*lab.Result, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	p, ok := x.params[key]
	if !ok {
		return nil, errors.E(errors.NotExist)
	}
	x.polls[key]++
	r := &lab.Result{ID: "job_" + strings.ReplaceAll(key, ".", "_"), State: lab.Running}
	if x.polls[key] >= 2 {
		r.State, r.Values = lab.Succeeded, objective(p)
	}
	return r, nil
}

func TestRunnerJobPath(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		s := w.service("r")
		x := &testJobs{starts: map[string]int{}, polls: map[string]int{}, params: map[string]map[string]any{}}
		sp, err := campaign.Parse([]byte(`
name: sim
objectives: [{name: yield, goal: max}]
params:
  - {name: x, kind: continuous, low: 0, high: 1}
  - {name: y, kind: continuous, low: 0, high: 1}
budget: {experiments: 4}
batch: 2
executor:
  job:
    spec: {executable: /bin/sim, arguments: ["${x}", "${y}"], attributes: {duration: 10m}}
    output: out.json
`))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Create(ctx, w.alice, sp); !errors.Is(errors.Unavailable, err) {
			t.Fatalf("a job campaign without a job executor: %v", err)
		}
		s.SetJobs(x)
		c, err := s.Create(ctx, w.alice, sp)
		if err != nil {
			t.Fatal(err)
		}
		s.Start(ctx, w.alice, c.ID)
		runUntil(t, s, "completion", w.state(s, c.ID))
		for _, e := range allExperiments(t, s, w.alice, c.ID) {
			if e.State != campaign.Observed || e.Instrument != "" || !strings.HasPrefix(e.Job, "job_") || e.Values["yield"] != objective(e.Params)["yield"] {
				t.Fatalf("experiment %+v", e)
			}
		}
		for k, n := range x.starts {
			if n != 1 {
				t.Fatalf("job %s started %d times", k, n)
			}
		}
	})
}

// TestEnds: a campaign ends when its target is reached or its wall time is
// spent; an experiment far past its action's nominal duration pauses it.
func TestEnds(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.fleet.add("inst", "cell", "OPEN", w.dir)
		slow := w.fleet.add("slow", "slow-cell", "OPEN", w.dir)
		slow.Polls = 1 << 30
		s := w.service("r")

		// Target: any yield ≥ 0 is reached by the first observation.
		sp := mkSpec(t, "target", "OPEN", "1", 50, 1, "cell", "")
		sp.Objectives[0].Target = ptr(0.0)
		c, err := s.Create(ctx, w.alice, sp)
		if err != nil {
			t.Fatal(err)
		}
		s.Start(ctx, w.alice, c.ID)
		runUntil(t, s, "target", w.state(s, c.ID))
		if g := w.get(s, w.alice, c.ID); !strings.Contains(g.Reason, "target reached by experiment 0") || g.Counts.Observed != 1 {
			t.Fatalf("target: %q %+v", g.Reason, g.Counts)
		}

		// Wall time.
		sp = mkSpec(t, "clock", "OPEN", "1", 100000, 1, "cell", "")
		sp.Budget.WallTime.Duration = time.Second
		c, _ = s.Create(ctx, w.alice, sp)
		s.Start(ctx, w.alice, c.ID)
		runUntil(t, s, "wall time", w.state(s, c.ID))
		if g := w.get(s, w.alice, c.ID); !strings.Contains(g.Reason, "wall-time") {
			t.Fatalf("wall time: %q", g.Reason)
		}

		// Stuck.
		s.StuckAfter, s.StuckGrace = 0.001, time.Millisecond
		c, _ = s.Create(ctx, w.alice, mkSpec(t, "stuck", "OPEN", "1", 3, 1, "slow-cell", ""))
		s.Start(ctx, w.alice, c.ID)
		runUntil(t, s, "the pause", func() bool { return w.get(s, w.alice, c.ID).State == campaign.Paused })
		if g := w.get(s, w.alice, c.ID); !strings.Contains(g.Reason, "far past its nominal") || !strings.Contains(g.Reason, "slow") {
			t.Fatalf("stuck: %q", g.Reason)
		}
	})
}

// TestGarbageResult: a node that reports a non-number fails the
// experiment (retried, then failed), with a clean reason; nothing breaks.
func TestGarbageResult(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.fleet.add("junk", "cell", "OPEN", w.dir).Garbage = true
		s := w.service("r")
		c, _ := s.Create(ctx, w.alice, mkSpec(t, "junk", "OPEN", "1", 2, 1, "cell", ""))
		s.Start(ctx, w.alice, c.ID)
		runUntil(t, s, "completion", func() bool { return w.get(s, w.alice, c.ID).State == campaign.Completed })
		for _, e := range allExperiments(t, s, w.alice, c.ID) {
			if e.State != campaign.ExpFailed || e.Attempt != 2 || !strings.Contains(e.Reason, "yield") || strings.ContainsAny(e.Reason, "\x1b\u202e") || len(e.Values) != 0 {
				t.Fatalf("experiment %+v", e)
			}
		}
	})
}
