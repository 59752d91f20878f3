// Package bench implements `genesis bench optimizer`: it runs the
// experiment-design engine (package bo) and random search on synthetic
// functions and on real experiment tables (pool-based: only rows of the table
// may be chosen), and reports best-so-far curves against published anchors.
//
// Everything it needs is embedded: the command works from any directory. Runs
// are deterministic per seed, except for the reported timings.
package bench

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
)

// Result is the --json output for one problem.
type Result struct {
	Problem              string                   `json:"problem"`
	Goal                 string                   `json:"goal"`
	Seeds                int                      `json:"seeds"`
	Batch                int                      `json:"batch"`
	Budget               int                      `json:"budget"`
	Methods              map[string]MethodResult  `json:"methods"`
	SecondsPerSuggestion Timing                   `json:"seconds_per_suggestion"`
	Optimum              jsonFloat                `json:"optimum"`
	Metric               string                   `json:"metric"`
	Anchor               string                   `json:"anchor,omitempty"`
	Note                 string                   `json:"note,omitempty"`
	StepsToThreshold     map[string]ThresholdStat `json:"steps_to_threshold,omitempty"`
}

// MethodResult holds best-so-far statistics after 1, 2, …, budget experiments.
type MethodResult struct {
	MeanBest   []jsonFloat `json:"mean_best"`
	MedianBest []jsonFloat `json:"median_best"`
	Q25Best    []jsonFloat `json:"q25_best"`
	Q75Best    []jsonFloat `json:"q75_best"`
}

// Timing is the wall time of one model-based Suggest call (all points of a batch).
type Timing struct {
	Median jsonFloat `json:"median"`
	P95    jsonFloat `json:"p95"`
}

// ThresholdStat reports how many experiments runs needed to reach a value.
type ThresholdStat struct {
	Threshold float64 `json:"threshold"`
	Mean      float64 `json:"mean_experiments"`
	Reached   int     `json:"runs_reached"`
}

// jsonFloat encodes NaN and ±Inf as null.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, v, 'g', 10, 64), nil
}

func floats(v []float64) []jsonFloat {
	out := make([]jsonFloat, len(v))
	for i, x := range v {
		out[i] = jsonFloat(x)
	}
	return out
}

// RunOptimizer is `genesis bench optimizer`; args are the arguments after "optimizer".
func RunOptimizer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	const op errors.Op = "bench.RunOptimizer"
	fs := flag.NewFlagSet("genesis bench optimizer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	suite := fs.String("suite", "all", "synthetic, tables, all, or a comma-separated list of problem names")
	seeds := fs.Int("seeds", 10, "number of seeds per problem")
	batch := fs.Int("batch", 0, "experiments per Suggest call (0: each problem's default)")
	budget := fs.Int("budget", 0, "experiments per run (0: each problem's default)")
	asJSON := fs.Bool("json", false, "print JSON instead of a text table")
	plots := fs.String("plots", "", "write best-so-far plots (PNG and SVG) to this directory")
	table := fs.String("table", "", "benchmark pool-based optimisation on this CSV table (or Olympus data.csv/config.json directory)")
	params := fs.String("params", "", "with --table: parameter columns, e.g. A,B:cat,C:num (default: all but the objective)")
	objective := fs.String("objective", "", "with --table: objective column (default: the Olympus measurement, or the last column)")
	goal := fs.String("goal", "", "with --table: max or min (default: the Olympus default_goal, or max)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: genesis bench optimizer [--suite synthetic|tables|all] [--seeds N] [--batch Q] [--budget N] [--json] [--plots DIR]")
		fmt.Fprintln(stderr, "       genesis bench optimizer --table PATH [--params A,B,C] [--objective COL] [--goal max|min] [--seeds N] [--batch Q] [--budget N] [--json]")
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
	if *seeds < 1 || *batch < 0 || *budget < 0 {
		return errors.E(op, errors.Invalid, errors.Msg("--seeds must be >= 1; --batch and --budget must not be negative"))
	}
	var problems []Problem
	if *table != "" {
		p, err := LoadTableProblem(*table, *params, *objective, *goal)
		if err != nil {
			return errors.E(op, err)
		}
		problems = []Problem{p}
	} else {
		if *params != "" || *objective != "" || *goal != "" {
			return errors.E(op, errors.Invalid, errors.Msg("--params, --objective and --goal need --table"))
		}
		ps, err := selectProblems(*suite)
		if err != nil {
			return errors.E(op, err)
		}
		problems = ps
	}
	var results []Result
	for i := range problems {
		p := &problems[i]
		if *batch > 0 {
			p.Batch = *batch
		}
		if *budget > 0 {
			p.Budget = *budget
			p.Checkpoints = checkpoints(p.Checkpoints, *budget)
		}
		if len(p.Space.Pool) > 0 && p.Budget > len(p.Space.Pool) {
			p.Budget = len(p.Space.Pool)
		}
		r, tr, err := runProblem(ctx, p, *seeds)
		if err != nil {
			return errors.E(op, err)
		}
		results = append(results, r)
		if !*asJSON {
			printText(stdout, p, &r)
		}
		fmt.Fprintf(stderr, "bench: %s done (%d seeds)\n", p.Name, *seeds)
		if *plots != "" {
			if err := os.MkdirAll(*plots, 0o755); err != nil {
				return errors.E(op, errors.Invalid, errors.Msg("cannot create plot directory"), err)
			}
			if err := writePlot(filepath.Join(*plots, p.Name), p, tr); err != nil {
				return errors.E(op, err)
			}
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		var err error
		if *table != "" {
			err = enc.Encode(results[0])
		} else {
			err = enc.Encode(results)
		}
		if err != nil {
			return errors.E(op, errors.Internal, err)
		}
	}
	return nil
}

func checkpoints(cps []int, budget int) []int {
	var out []int
	for _, c := range cps {
		if c < budget {
			out = append(out, c)
		}
	}
	return append(out, budget)
}

// selectProblems resolves --suite.
func selectProblems(suite string) ([]Problem, error) {
	const op errors.Op = "bench.selectProblems"
	syn := synthetic()
	var tabs []Problem
	needTables := suite != "synthetic"
	if needTables {
		var err error
		if tabs, err = tableProblems(); err != nil {
			return nil, errors.E(op, err)
		}
	}
	switch suite {
	case "synthetic":
		return syn, nil
	case "tables":
		return tabs, nil
	case "all":
		return append(syn, tabs...), nil
	}
	byName := map[string]Problem{}
	var names []string
	for _, p := range append(syn, tabs...) {
		byName[p.Name] = p
		names = append(names, p.Name)
	}
	var out []Problem
	for _, n := range strings.Split(suite, ",") {
		p, ok := byName[strings.TrimSpace(n)]
		if !ok {
			return nil, errors.E(op, errors.Invalid, errors.Field("suite"), errors.Msg("unknown suite or problem "+strconv.Quote(n)+"; problems: "+strings.Join(names, ", ")))
		}
		out = append(out, p)
	}
	return out, nil
}

// LoadTableProblem reads a user's table: a CSV with a header, or a headerless
// data.csv beside an Olympus config.json (path may name the file or the directory).
func LoadTableProblem(path, params, objective, goal string) (Problem, error) {
	const op errors.Op = "bench.LoadTableProblem"
	specs, err := ParseParamSpecs(params)
	if err != nil {
		return Problem{}, errors.E(op, err)
	}
	var g bo.Goal
	switch goal {
	case "":
	case "max", "maximize":
		g = bo.Maximize
	case "min", "minimize":
		g = bo.Minimize
	default:
		return Problem{}, errors.E(op, errors.Invalid, errors.Field("goal"), errors.Msg("--goal must be max or min"))
	}
	st, err := os.Stat(path)
	if err != nil {
		return Problem{}, errors.E(op, errors.NotExist, errors.Msg("cannot read "+strconv.Quote(path)), err)
	}
	dir, file := path, ""
	if !st.IsDir() {
		dir, file = filepath.Dir(path), path
	}
	cfgPath := filepath.Join(dir, "config.json")
	_, cfgErr := os.Stat(cfgPath)
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	if cfgErr == nil && (file == "" || filepath.Base(file) == "data.csv") {
		cf, err := os.ReadFile(cfgPath)
		if err != nil {
			return Problem{}, errors.E(op, errors.Invalid, err)
		}
		cfg, err := ParseOlympusConfig(strings.NewReader(string(cf)))
		if err != nil {
			return Problem{}, errors.E(op, err)
		}
		data, err := os.ReadFile(filepath.Join(dir, "data.csv"))
		if err != nil {
			return Problem{}, errors.E(op, errors.NotExist, errors.Msg("no data.csv beside config.json"), err)
		}
		lk, err := olympusLookup(cfg, data, specs, objective, g)
		if err != nil {
			return Problem{}, errors.E(op, err)
		}
		if file == "" || name == "data" {
			name = filepath.Base(dir)
		}
		return lookupProblem(name, lk), nil
	}
	if file == "" {
		return Problem{}, errors.E(op, errors.Invalid, errors.Msg("directory has no config.json; name a CSV file instead"))
	}
	f, err := os.Open(file)
	if err != nil {
		return Problem{}, errors.E(op, errors.NotExist, err)
	}
	defer f.Close()
	t, err := ParseCSV(f, true, nil)
	if err != nil {
		return Problem{}, errors.E(op, err)
	}
	if objective == "" {
		objective = t.Header[len(t.Header)-1]
	}
	if name == "data" {
		name = filepath.Base(dir)
	}
	if g == "" {
		g = bo.Maximize
	}
	lk, err := BuildLookup(t, specs, objective, g, nil)
	if err != nil {
		return Problem{}, errors.E(op, err)
	}
	return lookupProblem(name, lk), nil
}

func runProblem(ctx context.Context, p *Problem, seeds int) (Result, map[Method][]Trace, error) {
	traces := map[Method][]Trace{}
	var secs []float64
	for _, m := range []Method{Genesis, Random} {
		for s := 0; s < seeds; s++ {
			tr, err := RunOnce(ctx, p, m, uint64(s), p.Batch, p.Budget)
			if err != nil {
				return Result{}, nil, err
			}
			traces[m] = append(traces[m], tr)
			secs = append(secs, tr.Seconds...)
		}
	}
	sort.Float64s(secs)
	r := Result{
		Problem: p.Name, Goal: string(p.Goal), Seeds: seeds, Batch: p.Batch, Budget: p.Budget,
		Methods:              map[string]MethodResult{},
		SecondsPerSuggestion: Timing{Median: jsonFloat(quantile(secs, 0.5)), P95: jsonFloat(quantile(secs, 0.95))},
		Optimum:              jsonFloat(p.Optimum),
		Metric:               "best",
		Anchor:               p.Anchor,
		Note:                 p.Note,
	}
	if len(p.Objectives) > 1 {
		r.Metric = "hypervolume"
	}
	for m, trs := range traces {
		s := Summarise(trs, p.Goal)
		r.Methods[string(m)] = MethodResult{MeanBest: floats(s.Mean), MedianBest: floats(s.Median), Q25Best: floats(s.Q25), Q75Best: floats(s.Q75)}
		if p.Threshold != nil {
			steps := stepsToReach(trs, p.Goal, *p.Threshold)
			var sum float64
			reached := 0
			for _, v := range steps {
				sum += v
				if v <= float64(p.Budget) {
					reached++
				}
			}
			if r.StepsToThreshold == nil {
				r.StepsToThreshold = map[string]ThresholdStat{}
			}
			r.StepsToThreshold[string(m)] = ThresholdStat{Threshold: *p.Threshold, Mean: sum / float64(len(steps)), Reached: reached}
		}
	}
	return r, traces, nil
}

func fmtF(v jsonFloat) string {
	x := float64(v)
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return strconv.FormatFloat(x, 'g', 5, 64)
}

func printText(w io.Writer, p *Problem, r *Result) {
	fmt.Fprintf(w, "%s (%s, goal %s, %d seeds, batch %d, budget %d", r.Problem, r.Metric, r.Goal, r.Seeds, r.Batch, r.Budget)
	if !math.IsNaN(float64(r.Optimum)) {
		fmt.Fprintf(w, ", optimum %s", fmtF(r.Optimum))
	}
	fmt.Fprintln(w, ")")
	if r.Note != "" {
		fmt.Fprintf(w, "  note: %s\n", r.Note)
	}
	showRegret := !math.IsNaN(p.Optimum) && len(p.Space.Pool) == 0
	fmt.Fprintf(w, "  %-6s  %-8s %10s %23s %10s", "n", "method", "median", "[25%, 75%]", "mean")
	if showRegret {
		fmt.Fprintf(w, " %14s", "median regret")
	}
	fmt.Fprintln(w)
	for _, cp := range p.Checkpoints {
		if cp > r.Budget || cp < 1 {
			continue
		}
		for _, m := range []Method{Genesis, Random} {
			mr := r.Methods[string(m)]
			if cp > len(mr.MedianBest) {
				continue
			}
			k := cp - 1
			fmt.Fprintf(w, "  %-6d  %-8s %10s %23s %10s", cp, m, fmtF(mr.MedianBest[k]), "["+fmtF(mr.Q25Best[k])+", "+fmtF(mr.Q75Best[k])+"]", fmtF(mr.MeanBest[k]))
			if showRegret {
				fmt.Fprintf(w, " %14s", fmtF(jsonFloat(math.Abs(float64(mr.MedianBest[k])-p.Optimum))))
			}
			fmt.Fprintln(w)
		}
	}
	for _, m := range []Method{Genesis, Random} {
		if st, ok := r.StepsToThreshold[string(m)]; ok {
			fmt.Fprintf(w, "  %s: mean experiments to reach %g: %.1f (%d/%d runs reached it within %d; misses count as %d)\n", m, st.Threshold, st.Mean, st.Reached, r.Seeds, r.Budget, r.Budget+1)
		}
	}
	if r.Anchor != "" {
		fmt.Fprintf(w, "  anchor: %s\n", r.Anchor)
	}
	fmt.Fprintf(w, "  seconds per suggestion: median %s, p95 %s\n\n", fmtF(r.SecondsPerSuggestion.Median), fmtF(r.SecondsPerSuggestion.P95))
}
