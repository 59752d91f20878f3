package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// orgFacts answers AgreementsOf from a case's agreement list, as a store
// would: every agreement naming org as a party, in force or not.
type orgFacts []Agreement

func (f orgFacts) AgreementsOf(_ context.Context, org string) ([]Agreement, error) {
	var out []Agreement
	for _, a := range f {
		for _, p := range a.Parties {
			if p == org {
				out = append(out, a)
				break
			}
		}
	}
	return out, nil
}

// caseWorld is the mutable state (agreements, clock) an engine sees; one
// Authorizer per worker decides case after case, so the test also proves
// that nothing from one decision (entity memo) leaks into the next.
type caseWorld struct{ c *diffCase }

func (w *caseWorld) AgreementsOf(ctx context.Context, org string) ([]Agreement, error) {
	return orgFacts(w.c.Agreements).AgreementsOf(ctx, org)
}

func (w *caseWorld) now() time.Time { return w.c.Now }

type engineRunner struct {
	w *caseWorld
	a *Authorizer
}

func newEngine(pol *Policy) *engineRunner {
	w := &caseWorld{}
	a := &Authorizer{facts: w, now: w.now}
	a.policy.Store(pol)
	return &engineRunner{w, a}
}

// decide decides c with the real Authorizer (default policy).
func (e *engineRunner) decide(c diffCase) (string, error) {
	p, r, err := c.engineInputs()
	if err != nil {
		return "", err
	}
	e.w.c = &c
	return outcome(e.a.Can(context.Background(), p, Action(c.Action), r)), nil
}

func engine(pol *Policy, c diffCase) (string, error) { return newEngine(pol).decide(c) }

// differentialCases is how many random cases TestDifferential runs:
// GENESIS_AUTHZ_CASES if set, else 10⁶ (10⁵ under -race, 10⁴ under -short).
func differentialCases(t *testing.T) int {
	if s := os.Getenv("GENESIS_AUTHZ_CASES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("GENESIS_AUTHZ_CASES=%q: %v", s, err)
		}
		return n
	}
	switch {
	case testing.Short():
		return 10_000
	case raceEnabled:
		return 100_000
	}
	return 1_000_000
}

const regressionDir = "testdata/regressions"

func TestDifferential(t *testing.T) {
	pol, err := ParsePolicy(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	n := differentialCases(t)
	base := uint64(time.Now().UnixNano())
	if s := os.Getenv("GENESIS_AUTHZ_SEED"); s != "" {
		if base, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d cases from seed %d (GENESIS_AUTHZ_SEED to repeat, GENESIS_AUTHZ_CASES to resize)", n, base)
	var (
		next     atomic.Int64
		failures atomic.Int64
		outcomes [3]atomic.Int64
		mu       sync.Mutex
		wg       sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := newEngine(pol)
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || failures.Load() >= 10 {
					return
				}
				c := genCase(base + uint64(i))
				want := reference(c)
				got, err := e.decide(c)
				switch want {
				case "allow":
					outcomes[0].Add(1)
				case "not-exist":
					outcomes[1].Add(1)
				default:
					outcomes[2].Add(1)
				}
				if err == nil && got == want {
					continue
				}
				failures.Add(1)
				mu.Lock()
				path := saveRegression(t, c)
				t.Errorf("engine %s (err %v), reference %s; saved %s\n%v", got, err, want, path, c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("outcomes: allow %d, not-exist %d, permission %d", outcomes[0].Load(), outcomes[1].Load(), outcomes[2].Load())
	// The generator must exercise all three outcomes in quantity, or the
	// comparison proves little.
	if n >= 10_000 {
		for i := range outcomes {
			o := &outcomes[i]
			if o.Load() < int64(n/50) {
				t.Errorf("outcome %d occurs only %d times in %d cases", i, o.Load(), n)
			}
		}
	}
}

func saveRegression(t *testing.T, c diffCase) string {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(regressionDir, 0o755); err != nil {
		t.Log(err)
		return ""
	}
	path := filepath.Join(regressionDir, fmt.Sprintf("seed-%d.json", c.Seed))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Log(err)
	}
	return path
}

// TestRegressions replays every saved failing case.
func TestRegressions(t *testing.T) {
	pol, err := ParsePolicy(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(regressionDir, "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var c diffCase
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		want := reference(c)
		if got, err := engine(pol, c); err != nil || got != want {
			t.Errorf("%s: engine %s (err %v), reference %s\n%v", f, got, err, want, c)
		}
	}
}

// The hand-written regressions expect definite outcomes, so that the
// replay cannot pass vacuously (engine and reference both wrong).
func TestHandRegressionsOutcome(t *testing.T) {
	for file, want := range map[string]string{
		"hand-lowercase-agreement-granting.json": "allow",     // lower-case ID matches; grant covers FUSION; 1 ns before expiry
		"hand-rel-to-none.json":                  "not-exist", // REL TO NONE: nobody reads, not even an admin
	} {
		b, err := os.ReadFile(filepath.Join(regressionDir, file))
		if err != nil {
			t.Fatal(err)
		}
		var c diffCase
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		if got, err := engine(mustDefault(t), c); err != nil || got != want {
			t.Errorf("%s: %s (%v), want %s", file, got, err, want)
		}
	}
}
