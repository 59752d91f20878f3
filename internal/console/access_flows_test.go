package console

import (
	"context"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// replicasOn returns n OIDC sign-ins sharing db, as n replicas of one
// deployment do, all on the clock *clock, holding at most max attempts.
func replicasOn(db store.DB, n, max int, clock *time.Time) []*OIDCSignIn {
	out := make([]*OIDCSignIn, n)
	for i := range out {
		out[i] = &OIDCSignIn{now: func() time.Time { return *clock }, db: db, max: max}
	}
	return out
}

// TestOIDCFlowsFullEvictOldest fills the sign-in attempts to their bound
// and past it: the attempts stay bounded, the oldest gives way, and a
// new attempt (and every other one still held) can be completed — a
// flood of starts cannot shut sign-in out.
func TestOIDCFlowsFullEvictOldest(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		clock := time.Unix(1_700_000_000, 0)
		const max = 50
		o := replicasOn(db, 1, max, &clock)[0]
		type attempt struct{ state, binding string }
		var first, second attempt
		for i := range max {
			clock = clock.Add(time.Millisecond)
			s, _, _, b, err := o.start(ctx)
			if err != nil {
				t.Fatal(err)
			}
			switch i {
			case 0:
				first = attempt{s, b}
			case 1:
				second = attempt{s, b}
			}
		}
		clock = clock.Add(time.Millisecond)
		s, _, _, b, err := o.start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := countFlows(t, db); n != max {
			t.Fatalf("%d attempts held, want the bound %d", n, max)
		}
		if f, _ := o.take(ctx, first.state, first.binding); f != nil {
			t.Error("the oldest attempt was kept past the bound")
		}
		if f, _ := o.take(ctx, s, b); f == nil {
			t.Error("the newest attempt cannot be completed")
		}
		if f, _ := o.take(ctx, second.state, second.binding); f == nil {
			t.Error("an attempt other than the oldest was dropped")
		}
	})
}

func countFlows(t *testing.T, db store.DB) int {
	t.Helper()
	var n int
	if err := db.View(context.Background(), func(tx store.Tx) error {
		return tx.QueryRow(context.Background(), `SELECT COUNT(*) FROM console_oidc_flows`).Scan(&n)
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestOIDCFlowsAcrossReplicasModel drives three replicas' sign-ins on one
// store with random starts, callbacks (on any replica, with the right
// binding, a wrong one or a used state) and clock steps, and checks every
// outcome against a simple model: an attempt can be completed once, on
// any replica, only from the browser that started it, only before
// OIDCFlowTTL has passed, and the attempts held never exceed the bound
// (the oldest gives way).
func TestOIDCFlowsAcrossReplicasModel(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		clock := time.Unix(1_700_000_000, 0)
		const max = 6
		reps := replicasOn(db, 3, max, &clock)
		type flow struct {
			binding, nonce string
			created        int
			expires        time.Time
		}
		model := map[string]flow{}
		var states []string // every state ever started, used or not
		rng := rand.New(rand.NewPCG(17, 34))
		for step := range 400 {
			clock = clock.Add(time.Millisecond)
			r := reps[rng.IntN(len(reps))]
			switch op := rng.IntN(10); {
			case op < 4: // start
				s, nonce, _, b, err := r.start(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for k, f := range model {
					if !clock.Before(f.expires) {
						delete(model, k)
					}
				}
				if len(model) >= max {
					keys := make([]string, 0, len(model))
					for k := range model {
						keys = append(keys, k)
					}
					sort.Slice(keys, func(i, j int) bool { return model[keys[i]].created < model[keys[j]].created })
					for _, k := range keys[:len(model)-max+1] {
						delete(model, k)
					}
				}
				model[s] = flow{binding: b, nonce: nonce, created: step, expires: clock.Add(OIDCFlowTTL)}
				states = append(states, s)
			case op < 8 && len(states) > 0: // a callback
				s := states[rng.IntN(len(states))]
				want, held := model[s]
				binding := want.binding
				if !held || rng.IntN(4) == 0 {
					binding = randomSecret() // another browser
				}
				got, err := r.take(ctx, s, binding)
				if err != nil {
					t.Fatal(err)
				}
				ok := held && binding == want.binding && clock.Before(want.expires)
				delete(model, s)
				if (got != nil) != ok {
					t.Fatalf("step %d: callback completed=%v, the model says %v", step, got != nil, ok)
				}
				if got != nil && got.nonce != want.nonce {
					t.Fatalf("step %d: the callback got another attempt's nonce", step)
				}
			case op == 8: // time passes
				clock = clock.Add(time.Duration(rng.IntN(4)) * OIDCFlowTTL / 3)
			default: // junk states are never found
				if got, err := r.take(ctx, "junk", randomSecret()); got != nil || err != nil {
					t.Fatalf("a junk state: %v %v", got, err)
				}
			}
			if n := countFlows(t, db); n > max {
				t.Fatalf("step %d: %d attempts held, bound %d", step, n, max)
			}
		}
	})
}

// TestOIDCFlowsSingleUseRace sends the same callback to three replicas
// at once, many times over: exactly one completes the sign-in.
func TestOIDCFlowsSingleUseRace(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		clock := time.Unix(1_700_000_000, 0)
		reps := replicasOn(db, 3, maxOIDCFlows, &clock)
		for range 10 {
			s, _, _, b, err := reps[0].start(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var won atomic.Int32
			var wg sync.WaitGroup
			for i := range 6 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					f, err := reps[i%3].take(ctx, s, b)
					if err != nil {
						t.Error(err)
					}
					if f != nil {
						won.Add(1)
					}
				}()
			}
			wg.Wait()
			if won.Load() != 1 {
				t.Fatalf("%d callbacks completed one sign-in attempt, want 1", won.Load())
			}
		}
	})
}
