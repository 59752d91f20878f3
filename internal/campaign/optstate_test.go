package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/campaign/bo"
)

// poolSpec is a campaign over a pool of n rows (two categorical params and
// a continuous one), its seed seed.
func poolSpec(t *testing.T, n int, seed uint64) *Spec {
	t.Helper()
	lo, hi := 0.0, 100.0
	sp := &Spec{
		Name:       "pooled",
		Objectives: []Objective{{Name: "y", Goal: "max"}},
		Budget:     Budget{Experiments: 30},
		Batch:      2,
		Seed:       seed,
		Params: []Param{
			{Name: "base", Kind: "categorical", Categories: []string{"a", "b", "c"}},
			{Name: "ligand", Kind: "categorical", Categories: []string{"x", "y", "z", "w"}},
			{Name: "temp", Kind: "continuous", Low: &lo, High: &hi},
		},
	}
	for i := range n {
		sp.Pool = append(sp.Pool, map[string]any{"base": []string{"a", "b", "c"}[i%3], "ligand": []string{"x", "y", "z", "w"}[i%4], "temp": float64(i)})
	}
	return sp
}

// TestOptStateLeavesPoolOut: the stored state of a pool campaign's
// optimizer has no pool, and restores (as does an older row with the pool
// inside) to an optimizer with the same state that makes the same
// suggestions as the original, whatever it has observed.
func TestOptStateLeavesPoolOut(t *testing.T) {
	ctx := context.Background()
	for seed := range uint64(6) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			id := fmt.Sprintf("cmp_pooltest%d", seed)
			sp := poolSpec(t, 40, seed)
			cfg, err := sp.OptimizerConfig()
			if err != nil {
				t.Fatal(err)
			}
			opt, err := bo.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(seed, 7))
			for range rng.IntN(8) {
				p := cfg.Space.Pool[rng.IntN(len(cfg.Space.Pool))]
				if err := opt.Observe([]bo.Point{p}, [][]float64{{rng.NormFloat64()}}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := opt.Suggest(ctx, 1+rng.IntN(3)); err != nil { // pending points, calls
				t.Fatal(err)
			}
			stored, err := encodeOpt(opt)
			if err != nil {
				t.Fatal(err)
			}
			var st bo.State
			if err := json.Unmarshal([]byte(stored), &st); err != nil {
				t.Fatal(err)
			}
			if len(st.Config.Space.Pool) != 0 {
				t.Fatalf("the stored state holds a pool of %d rows", len(st.Config.Space.Pool))
			}
			old, err := json.Marshal(opt.State()) // as rows were written before
			if err != nil {
				t.Fatal(err)
			}
			want := opt.State()
			for name, data := range map[string]string{"without pool": stored, "with pool": string(old)} {
				got, err := decodeOpt(id, sp, data)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if d := cmp.Diff(want, got.State()); d != "" {
					t.Fatalf("%s: restored state differs (-want +got):\n%s", name, d)
				}
				ref, err := bo.Restore(want)
				if err != nil {
					t.Fatal(err)
				}
				a, err := ref.Suggest(ctx, 2)
				if err != nil {
					t.Fatal(err)
				}
				b, err := got.Suggest(ctx, 2)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(a, b); d != "" {
					t.Fatalf("%s: suggestions differ (-want +got):\n%s", name, d)
				}
			}
		})
	}
}

// TestOptCache: an optimizer is served from the cache only for the state
// it was stored as, and only once (its taker owns it).
func TestOptCache(t *testing.T) {
	s := &Service{}
	sp := poolSpec(t, 12, 1)
	cfg, err := sp.OptimizerConfig()
	if err != nil {
		t.Fatal(err)
	}
	opt, err := bo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := encodeOpt(opt)
	if err != nil {
		t.Fatal(err)
	}
	const id = "cmp_cachetest"
	s.putOpt(id, stored, opt)
	if got, err := s.takeOpt(id, sp, stored); err != nil || got != opt {
		t.Fatalf("take with the stored state = %p, %v; want the cached %p", got, err, opt)
	}
	if got, err := s.takeOpt(id, sp, stored); err != nil || got == opt {
		t.Fatalf("second take = %p, %v; want a fresh decode", got, err)
	}
	s.putOpt(id, stored, opt)
	if err := opt.Observe([]bo.Point{cfg.Space.Pool[0]}, [][]float64{{1}}); err != nil {
		t.Fatal(err)
	}
	other, err := encodeOpt(opt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.takeOpt(id, sp, other)
	if err != nil || got == opt {
		t.Fatalf("take with another state = %p, %v; want a fresh decode", got, err)
	}
	if d := cmp.Diff(opt.State(), got.State()); d != "" {
		t.Fatalf("decoded state differs (-want +got):\n%s", d)
	}
	s.putOpt(id, other, got)
	s.dropOpt(id)
	if again, err := s.takeOpt(id, sp, other); err != nil || again == got {
		t.Fatalf("take after drop = %p, %v; want a fresh decode", again, err)
	}
}
