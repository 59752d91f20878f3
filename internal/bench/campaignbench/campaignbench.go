// Package campaignbench implements `genesis bench campaign`: it replays an
// experiment table through the whole platform — a metadata store, the
// instrument registry with table-driver instruments over the table, a
// campaign and its runner (dispatch, observe, next suggestion) — once per
// seed, and prints the best-so-far curve next to `bench optimizer`'s (the
// optimizer alone, same table, seeds and settings) and random search's.
// The platform must add no distortion: with the same seed it proposes
// exactly the experiments `bench optimizer` does, which the command
// checks and reports. It also reports the platform's own time per
// experiment.
//
// It lives outside package bench because the table driver imports bench.
package campaignbench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/genesis-science/genesis/internal/bench"
	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
)

// Result is the --json output.
type Result struct {
	Problem     string `json:"problem"`
	Goal        string `json:"goal"`
	Seeds       int    `json:"seeds"`
	Batch       int    `json:"batch"`
	Budget      int    `json:"budget"`
	Instruments int    `json:"instruments"`
	Store       string `json:"store"`
	// Curves: best so far after 1, 2, …, budget experiments, over seeds.
	Platform  Curve `json:"platform"`
	Optimizer Curve `json:"optimizer"`
	Random    Curve `json:"random"`
	// IdenticalSeeds counts the seeds whose platform campaign proposed
	// exactly bench optimizer's experiments, in the same order.
	IdenticalSeeds int      `json:"identical_seeds"`
	DifferingSeeds []uint64 `json:"differing_seeds,omitempty"`
	// Overhead is the platform's own time per experiment: per batch, the
	// runner's time from the batch's first dispatch to the next batch's
	// first dispatch, less the optimizer's Suggest time for that next
	// batch (as bench optimizer measures it on the same state) and the
	// instruments' driver time, over the batch size.
	Overhead   Timing `json:"overhead_ms_per_experiment"`
	Suggest    Timing `json:"optimizer_ms_per_suggestion"`
	Instrument Timing `json:"instrument_ms_per_experiment"`
}

// Curve is best-so-far statistics per experiment.
type Curve struct {
	Mean   []float64 `json:"mean_best"`
	Median []float64 `json:"median_best"`
	Q25    []float64 `json:"q25_best"`
	Q75    []float64 `json:"q75_best"`
}

// Timing summarises durations, in milliseconds.
type Timing struct {
	P50  float64 `json:"p50"`
	P95  float64 `json:"p95"`
	Mean float64 `json:"mean"`
	N    int     `json:"n"`
}

func curve(trs []bench.Trace, g bo.Goal) Curve {
	s := bench.Summarise(trs, g)
	return Curve{Mean: s.Mean, Median: s.Median, Q25: s.Q25, Q75: s.Q75}
}

func timing(ms []float64) Timing {
	if len(ms) == 0 {
		return Timing{P50: math.NaN(), P95: math.NaN(), Mean: math.NaN()}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	var sum float64
	for _, v := range s {
		sum += v
	}
	q := func(f float64) float64 {
		h := f * float64(len(s)-1)
		lo := int(math.Floor(h))
		hi := min(lo+1, len(s)-1)
		return s[lo] + (h-float64(lo))*(s[hi]-s[lo])
	}
	return Timing{P50: q(0.5), P95: q(0.95), Mean: sum / float64(len(s)), N: len(s)}
}

// Options is what the command runs.
type Options struct {
	Table, Params, Objective, Goal string
	Seeds, Batch, Budget           int
	// Instruments is how many table instruments share the workcell
	// (0: one per experiment of a batch).
	Instruments int
	// Store is a DSN (postgres://… or a SQLite path); empty: a fresh
	// temporary SQLite database per seed.
	Store string
	// Progress, if set, receives a line per seed.
	Progress io.Writer
}

// Outcome is a whole benchmark: the result and each seed's runs.
type Outcome struct {
	Result  Result
	Replays []*Replay
	Bench   []bench.Trace // bench optimizer, per seed
	Randoms []bench.Trace
}

// Bench runs the benchmark.
func Bench(ctx context.Context, o Options) (*Outcome, error) {
	const op errors.Op = "campaignbench.Bench"
	switch {
	case o.Table == "":
		return nil, errors.E(op, errors.Invalid, errors.Field("table"), errors.Msg("--table must name a CSV file or an Olympus dataset directory"))
	case o.Seeds < 1:
		return nil, errors.E(op, errors.Invalid, errors.Field("seeds"), errors.Msg("--seeds must be at least 1"))
	case o.Batch < 1:
		return nil, errors.E(op, errors.Invalid, errors.Field("batch"), errors.Msg("--batch must be at least 1"))
	case o.Budget < 1:
		return nil, errors.E(op, errors.Invalid, errors.Field("budget"), errors.Msg("--budget must be at least 1"))
	case o.Instruments < 0 || o.Instruments > 100:
		return nil, errors.E(op, errors.Invalid, errors.Field("instruments"), errors.Msg("--instruments must be between 0 and 100"))
	}
	path, err := filepath.Abs(o.Table)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("table"), err)
	}
	p, err := bench.LoadTableProblem(path, o.Params, o.Objective, o.Goal)
	if err != nil {
		if errors.FieldOf(err) == "" {
			return nil, errors.E(op, errors.Field("table"), err)
		}
		return nil, errors.E(op, err)
	}
	objective, err := resolveObjective(path, o.Objective)
	if err != nil {
		return nil, errors.E(op, err)
	}
	budget := min(o.Budget, len(p.Space.Pool))
	ninst := o.Instruments
	if ninst == 0 {
		ninst = o.Batch
	}
	ref := &tableRef{path: path, params: o.Params, objective: objective}
	out := &Outcome{Result: Result{Problem: p.Name, Goal: string(p.Goal), Seeds: o.Seeds, Batch: o.Batch, Budget: budget, Instruments: ninst, Store: "sqlite (temporary, one per seed)"}}
	if o.Store != "" {
		out.Result.Store = "given"
	}
	tmp, err := os.MkdirTemp("", "genesis-bench-campaign-")
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	defer os.RemoveAll(tmp)
	var shared *world
	if o.Store != "" {
		if shared, err = openWorld(ctx, o.Store, tmp); err != nil {
			return nil, errors.E(op, err)
		}
		defer shared.close()
	}
	var overhead, suggest, inst []float64
	for s := range o.Seeds {
		seed := uint64(s)
		w := shared
		if w == nil {
			dir := filepath.Join(tmp, strconv.Itoa(s))
			if err := os.MkdirAll(dir, 0o700); err != nil {
				return nil, errors.E(op, errors.Internal, err)
			}
			if w, err = openWorld(ctx, "", dir); err != nil {
				return nil, errors.E(op, err)
			}
		}
		r, err := replay(ctx, w, ref, &p, seed, o.Batch, budget, ninst)
		if w != shared {
			w.close()
		}
		if err != nil {
			return nil, errors.E(op, err)
		}
		bt, err := bench.RunOnce(ctx, &p, bench.Genesis, seed, o.Batch, budget)
		if err != nil {
			return nil, errors.E(op, err)
		}
		rt, err := bench.RunOnce(ctx, &p, bench.Random, seed, o.Batch, budget)
		if err != nil {
			return nil, errors.E(op, err)
		}
		out.Replays = append(out.Replays, r)
		out.Bench = append(out.Bench, bt)
		out.Randoms = append(out.Randoms, rt)
		if Identical(r.Points, bt.Points) {
			out.Result.IdenticalSeeds++
		} else {
			out.Result.DifferingSeeds = append(out.Result.DifferingSeeds, seed)
		}
		for k, c := range r.Cycles {
			opt := 0.0
			if k < len(bt.Seconds) {
				opt = bt.Seconds[k]
			}
			own := c.Runner - c.Instrument - time.Duration(opt*float64(time.Second))
			overhead = append(overhead, ms(own)/float64(c.Experiments))
			inst = append(inst, ms(c.Instrument)/float64(c.Experiments))
		}
		for _, sec := range bt.Seconds {
			suggest = append(suggest, sec*1000)
		}
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, "bench: %s seed %d done (platform best %g, bench optimizer best %g)\n", p.Name, seed, last(r.Best), last(bt.Best))
		}
	}
	plat := make([]bench.Trace, len(out.Replays))
	for i, r := range out.Replays {
		plat[i] = bench.Trace{Best: r.Best}
	}
	out.Result.Platform = curve(plat, p.Goal)
	out.Result.Optimizer = curve(out.Bench, p.Goal)
	out.Result.Random = curve(out.Randoms, p.Goal)
	out.Result.Overhead = timing(overhead)
	out.Result.Suggest = timing(suggest)
	out.Result.Instrument = timing(inst)
	return out, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func last(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	return v[len(v)-1]
}

// Identical reports whether two sequences of experiments are the same,
// point for point, exactly.
func Identical(a, b []bo.Point) bool {
	return slices.EqualFunc(a, b, func(x, y bo.Point) bool { return slices.Equal(x, y) })
}

// Run is `genesis bench campaign`; args are the arguments after "campaign".
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const op errors.Op = "campaignbench.Run"
	fs := flag.NewFlagSet("genesis bench campaign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o Options
	fs.StringVar(&o.Table, "table", "", "the experiment table to replay: a CSV file, or an Olympus data.csv/config.json directory (required)")
	fs.StringVar(&o.Params, "params", "", "parameter columns, e.g. A,B:cat,C:num (default: all but the objective)")
	fs.StringVar(&o.Objective, "objective", "", "objective column (default: the Olympus measurement, or the last column)")
	fs.StringVar(&o.Goal, "goal", "", "max or min (default: the Olympus default_goal, or max)")
	fs.IntVar(&o.Seeds, "seeds", 10, "number of seeds (0, 1, …)")
	fs.IntVar(&o.Batch, "batch", 5, "experiments per batch")
	fs.IntVar(&o.Budget, "budget", 50, "experiments per campaign")
	fs.IntVar(&o.Instruments, "instruments", 0, "table instruments in the workcell (0: as many as --batch)")
	fs.StringVar(&o.Store, "store", "", "metadata store DSN (postgres://… or a SQLite file; a scratch database: the replays leave their instruments and campaigns in it; default: a temporary SQLite database per seed)")
	asJSON := fs.Bool("json", false, "print JSON instead of a text table")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: genesis bench campaign --table PATH [--params A,B,C] [--objective COL] [--goal max|min] [--batch Q] [--budget N] [--seeds N] [--instruments K] [--store DSN] [--json]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return errors.E(op, errors.Invalid, errors.Msg("bad flags"), err)
	}
	if fs.NArg() > 0 {
		return errors.E(op, errors.Invalid, errors.Msg("unexpected argument "+strconv.Quote(fs.Arg(0))))
	}
	o.Progress = stderr
	out, err := Bench(ctx, o)
	if err != nil {
		return errors.E(op, err)
	}
	if *asJSON {
		if err := json.NewEncoder(stdout).Encode(jsonSafe(out.Result)); err != nil {
			return errors.E(op, errors.Internal, err)
		}
		return nil
	}
	printText(stdout, &out.Result)
	return nil
}

// jsonSafe replaces NaN timings (no batches to time) by zero counts.
func jsonSafe(r Result) Result {
	for _, t := range []*Timing{&r.Overhead, &r.Suggest, &r.Instrument} {
		if t.N == 0 {
			*t = Timing{}
		}
	}
	return r
}

func f(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return strconv.FormatFloat(v, 'g', 5, 64)
}

func printText(w io.Writer, r *Result) {
	fmt.Fprintf(w, "%s through the platform (goal %s, %d seeds, batch %d, budget %d, %d table instruments, store %s)\n",
		r.Problem, r.Goal, r.Seeds, r.Batch, r.Budget, r.Instruments, r.Store)
	fmt.Fprintf(w, "  best so far: median [25%%, 75%%] over seeds\n")
	fmt.Fprintf(w, "  %-4s  %-24s  %-24s  %-24s\n", "n", "platform", "bench optimizer", "random")
	cell := func(c *Curve, k int) string {
		if k >= len(c.Median) {
			return "-"
		}
		return f(c.Median[k]) + " [" + f(c.Q25[k]) + ", " + f(c.Q75[k]) + "]"
	}
	for k := range r.Budget {
		fmt.Fprintf(w, "  %-4d  %-24s  %-24s  %-24s\n", k+1, cell(&r.Platform, k), cell(&r.Optimizer, k), cell(&r.Random, k))
	}
	agree := "yes"
	if r.IdenticalSeeds != r.Seeds {
		agree = fmt.Sprintf("NO: seeds %v differ", r.DifferingSeeds)
	}
	fmt.Fprintf(w, "  same experiments as bench optimizer: %d/%d seeds (%s)\n", r.IdenticalSeeds, r.Seeds, agree)
	fmt.Fprintf(w, "  platform overhead per experiment: p50 %s ms, p95 %s ms, mean %s ms (%d batches)\n", f(r.Overhead.P50), f(r.Overhead.P95), f(r.Overhead.Mean), r.Overhead.N)
	fmt.Fprintf(w, "  optimizer per suggestion: p50 %s ms, p95 %s ms; instrument per experiment: p50 %s ms, p95 %s ms\n",
		f(r.Suggest.P50), f(r.Suggest.P95), f(r.Instrument.P50), f(r.Instrument.P95))
}
