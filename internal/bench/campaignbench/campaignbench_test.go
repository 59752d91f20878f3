package campaignbench_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/bench"
	"github.com/genesis-science/genesis/internal/bench/campaignbench"
	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

const arylation = "../testdata/direct_arylation/data.csv"
const arylationParams = "Base:cat,Ligand:cat,Solvent:cat,Concentration,Temp_C"

// smallTable writes a random table: two categorical columns, one numeric
// (a few levels), an objective, and some replicated rows (which both the
// bench and the table instruments average).
func smallTable(t *testing.T, seed uint64) string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	b.WriteString("solvent,base,temp,yield\n")
	for _, s := range []string{"water", "dmf", "thf"} {
		for _, k := range []string{"k2co3", "cs2co3", "naoh", "et3n"} {
			for _, temp := range []float64{25, 60, 90} {
				reps := 1
				if rng.IntN(5) == 0 {
					reps = 2
				}
				for range reps {
					fmt.Fprintf(&b, "%s,%s,%g,%.3f\n", s, k, temp, 100*rng.Float64())
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "small.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSameExperimentsAsBenchOptimizer: with the same seed the platform
// proposes exactly the experiments `bench optimizer` runs, in the same
// order, and measures the same values — full batches and a partial last
// one, as many instruments as the batch or fewer, maximising and
// minimising, on a small random table and on the direct-arylation table.
func TestSameExperimentsAsBenchOptimizer(t *testing.T) {
	cases := []struct {
		name                string
		table, params, goal string
		batch, budget, inst int
		seeds               int
	}{
		{"small/batch5", "", "", "", 5, 12, 0, 3},
		{"small/batch3-one-instrument", "", "", "min", 3, 10, 1, 2},
		{"small/batch1", "", "solvent,base:cat,temp", "", 1, 6, 0, 2},
		{"arylation/batch5", arylation, arylationParams, "", 5, 15, 0, 1},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table := tc.table
			if table == "" {
				table = smallTable(t, uint64(i))
			}
			out, err := campaignbench.Bench(ctx, campaignbench.Options{Table: table, Params: tc.params, Objective: "yield", Goal: tc.goal,
				Seeds: tc.seeds, Batch: tc.batch, Budget: tc.budget, Instruments: tc.inst})
			if err != nil {
				t.Fatal(err)
			}
			p, err := bench.LoadTableProblem(table, tc.params, "yield", tc.goal)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Replays) != tc.seeds || len(out.Bench) != tc.seeds {
				t.Fatalf("%d replays, %d bench runs for %d seeds", len(out.Replays), len(out.Bench), tc.seeds)
			}
			for s, r := range out.Replays {
				// Computed here independently of the command.
				ref, err := bench.RunOnce(ctx, &p, bench.Genesis, uint64(s), tc.batch, tc.budget)
				if err != nil {
					t.Fatal(err)
				}
				if len(r.Points) != tc.budget || !campaignbench.Identical(r.Points, ref.Points) {
					t.Fatalf("seed %d: the platform ran\n%v\nbench optimizer ran\n%v", s, r.Points, ref.Points)
				}
				for k, pt := range r.Points {
					if want := p.Eval(pt)[0]; r.Values[k] != want {
						t.Fatalf("seed %d experiment %d: measured %v, the table says %v", s, k, r.Values[k], want)
					}
				}
				if !slices.Equal(r.Best, ref.Best) {
					t.Fatalf("seed %d: best so far %v, bench optimizer %v", s, r.Best, ref.Best)
				}
				if want := (tc.budget - 1) / tc.batch; len(r.Cycles) != want {
					t.Fatalf("seed %d: %d cycles timed, want %d", s, len(r.Cycles), want)
				}
			}
			res := out.Result
			if res.IdenticalSeeds != tc.seeds || len(res.DifferingSeeds) != 0 {
				t.Fatalf("result says %d identical seeds, differing %v", res.IdenticalSeeds, res.DifferingSeeds)
			}
			if !slices.Equal(res.Platform.Median, res.Optimizer.Median) || !slices.Equal(res.Platform.Mean, res.Optimizer.Mean) {
				t.Fatalf("curves differ: platform %v, optimizer %v", res.Platform.Median, res.Optimizer.Median)
			}
		})
	}
}

// TestIdentical: the comparison the command reports on notices any
// difference.
func TestIdentical(t *testing.T) {
	a := []bo.Point{{1, 2}, {3, 4}, {5, 6}}
	for _, b := range [][]bo.Point{
		{{1, 2}, {3, 4}},
		{{1, 2}, {5, 6}, {3, 4}},
		{{1, 2}, {3, 4}, {5, math.Nextafter(6, 7)}},
		{{1, 2}, {3, 4}, {5, 6}, {7, 8}},
		nil,
	} {
		if campaignbench.Identical(a, b) || campaignbench.Identical(b, a) {
			t.Errorf("%v and %v reported identical", a, b)
		}
	}
	if !campaignbench.Identical(a, slices.Clone(a)) {
		t.Error("a sequence differs from its copy")
	}
}

// TestRunOutput: the command's text and JSON output.
func TestRunOutput(t *testing.T) {
	table := smallTable(t, 42)
	args := []string{"--table", table, "--objective", "yield", "--batch", "3", "--budget", "7", "--seeds", "2"}
	var out, errOut bytes.Buffer
	if err := campaignbench.Run(ctx, args, &out, &errOut); err != nil {
		t.Fatal(err, errOut.String())
	}
	text := out.String()
	for _, want := range []string{
		"small through the platform (goal max, 2 seeds, batch 3, budget 7, 3 table instruments",
		"platform", "bench optimizer", "random",
		"same experiments as bench optimizer: 2/2 seeds (yes)",
		"platform overhead per experiment: p50 ",
		"(4 batches)", // 2 seeds × batches 1 and 2 followed by another
		"optimizer per suggestion: p50 ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	rows := 0
	for _, l := range strings.Split(text, "\n") {
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(l), "%d ", &n); err == nil {
			rows++
			if n != rows {
				t.Errorf("row %d is numbered %d", rows, n)
			}
		}
	}
	if rows != 7 {
		t.Errorf("%d rows of best so far, want one per experiment (7):\n%s", rows, text)
	}
	if strings.Count(errOut.String(), "seed ") != 2 {
		t.Errorf("progress: %q", errOut.String())
	}

	out.Reset()
	if err := campaignbench.Run(ctx, append(args, "--json"), &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(out.Bytes(), &raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	for k := range raw {
		if k != strings.ToLower(k) || strings.Contains(k, "-") {
			t.Errorf("key %q is not snake_case", k)
		}
	}
	var r campaignbench.Result
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if r.Seeds != 2 || r.Batch != 3 || r.Budget != 7 || r.IdenticalSeeds != 2 || r.Overhead.N != 4 || r.Suggest.N != 4 {
		t.Errorf("result %+v", r)
	}
	for name, c := range map[string]campaignbench.Curve{"platform": r.Platform, "optimizer": r.Optimizer, "random": r.Random} {
		if len(c.Median) != 7 || len(c.Mean) != 7 || len(c.Q25) != 7 || len(c.Q75) != 7 {
			t.Errorf("%s curve has %d points, want 7", name, len(c.Median))
		}
		for k := 1; k < len(c.Median); k++ {
			if c.Median[k] < c.Median[k-1] {
				t.Errorf("%s best so far falls at %d: %v", name, k+1, c.Median)
			}
		}
	}
	if !slices.Equal(r.Platform.Median, r.Optimizer.Median) {
		t.Errorf("platform %v, optimizer %v", r.Platform.Median, r.Optimizer.Median)
	}
}

// TestBadInput: clear errors naming the field, and nothing run.
func TestBadInput(t *testing.T) {
	table := smallTable(t, 7)
	garbled := filepath.Join(t.TempDir(), "garbled.csv")
	os.WriteFile(garbled, []byte("a,b\n1,2,3\n"), 0o644)
	cases := []struct {
		name  string
		args  []string
		kind  errors.Kind
		field string
		msg   string
	}{
		{"no table", []string{"--seeds", "1"}, errors.Invalid, "table", "--table"},
		{"missing table", []string{"--table", filepath.Join(t.TempDir(), "nope.csv")}, errors.NotExist, "table", "cannot read"},
		{"directory without config", []string{"--table", t.TempDir()}, errors.Invalid, "table", "config.json"},
		{"garbled table", []string{"--table", garbled}, errors.Invalid, "table", "fields"},
		{"unknown param", []string{"--table", table, "--params", "solvent,colour"}, errors.Invalid, "params", "colour"},
		{"bad param kind", []string{"--table", table, "--params", "solvent:text"}, errors.Invalid, "params", ":cat or :num"},
		{"param not numeric", []string{"--table", table, "--params", "solvent:num"}, errors.Invalid, "params", "not numeric"},
		{"unknown objective", []string{"--table", table, "--objective", "purity"}, errors.Invalid, "objective", "purity"},
		{"bad goal", []string{"--table", table, "--goal", "sideways"}, errors.Invalid, "goal", "max or min"},
		{"no seeds", []string{"--table", table, "--seeds", "0"}, errors.Invalid, "seeds", "at least 1"},
		{"no batch", []string{"--table", table, "--batch", "0"}, errors.Invalid, "batch", "at least 1"},
		{"negative budget", []string{"--table", table, "--budget", "-1"}, errors.Invalid, "budget", "at least 1"},
		{"too many instruments", []string{"--table", table, "--instruments", "1000"}, errors.Invalid, "instruments", "between"},
		{"extra argument", []string{"--table", table, "more"}, errors.Invalid, "", "unexpected argument"},
		{"unknown flag", []string{"--tabel", table}, errors.Invalid, "", "bad flags"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := campaignbench.Run(ctx, tc.args, &out, &errOut)
			if err == nil {
				t.Fatalf("no error; output:\n%s", out.String())
			}
			if !errors.Is(tc.kind, err) {
				t.Errorf("error %v: want kind %v", err, tc.kind)
			}
			if got := errors.FieldOf(err); got != tc.field {
				t.Errorf("error %v names field %q, want %q", err, got, tc.field)
			}
			if msg := errors.SafeMessage(err); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q lacks %q", msg, tc.msg)
			}
			if out.Len() != 0 {
				t.Errorf("printed on error:\n%s", out.String())
			}
		})
	}
}

// TestStore: replays in a store named by --store (SQLite and PostgreSQL),
// shared by the seeds and by a second run on the same store.
func TestStore(t *testing.T) {
	table := smallTable(t, 9)
	for name, dsn := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "bench.db") },
		"postgres": func(t *testing.T) string { return storetest.PostgresDSN(t) },
	} {
		t.Run(name, func(t *testing.T) {
			d := dsn(t)
			for run := range 2 {
				out, err := campaignbench.Bench(ctx, campaignbench.Options{Table: table, Objective: "yield", Seeds: 2, Batch: 2, Budget: 5, Store: d})
				if err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				if out.Result.IdenticalSeeds != 2 {
					t.Fatalf("run %d: differing seeds %v", run, out.Result.DifferingSeeds)
				}
			}
		})
	}
}

// BenchmarkReplayArylation: one seed of the direct-arylation table through
// the platform (batch 5, budget 50, five table instruments, SQLite);
// reports the platform's overhead per experiment (p50, p95), apart from
// the optimizer's and the instruments' time.
func BenchmarkReplayArylation(b *testing.B) {
	var over []float64
	for i := range b.N {
		out, err := campaignbench.Bench(ctx, campaignbench.Options{Table: arylation, Params: arylationParams, Objective: "yield",
			Seeds: 1, Batch: 5, Budget: 50})
		if err != nil {
			b.Fatal(err)
		}
		if out.Result.IdenticalSeeds != 1 {
			b.Fatalf("iteration %d: the platform's experiments differ from bench optimizer's", i)
		}
		r := out.Replays[0]
		for k, c := range r.Cycles {
			own := c.Runner - c.Instrument - time.Duration(out.Bench[0].Seconds[k]*float64(time.Second))
			over = append(over, float64(own)/float64(time.Millisecond)/float64(c.Experiments))
		}
	}
	slices.Sort(over)
	b.ReportMetric(over[len(over)/2], "p50-ms/exp")
	b.ReportMetric(over[len(over)*95/100], "p95-ms/exp")
}
