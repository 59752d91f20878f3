package bo

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"sync"

	"github.com/genesis-science/genesis/internal/errors"
	"gonum.org/v1/gonum/stat"
)

// Goal is the direction of an objective.
type Goal string

const (
	Maximize Goal = "max"
	Minimize Goal = "min"
)

// Objective is one measured quantity to optimise.
type Objective struct {
	Name string `json:"name"`
	Goal Goal   `json:"goal"`
}

// OutcomeConstraint requires a measured quantity to satisfy Value Rel Bound
// (Rel is LessEq or GreaterEq). It is modelled by its own GP and enters the
// acquisition as a probability of feasibility.
type OutcomeConstraint struct {
	Name  string   `json:"name"`
	Rel   Relation `json:"rel"`
	Bound float64  `json:"bound"`
}

// Config configures an Optimizer. Zero values mean the documented defaults.
type Config struct {
	Space       Space               `json:"space"`
	Objectives  []Objective         `json:"objectives,omitempty"`  // default: one maximised objective
	Constraints []OutcomeConstraint `json:"constraints,omitempty"` // values follow the objectives in each row
	Seed        uint64              `json:"seed"`
	Acquisition Acquisition         `json:"acquisition,omitempty"` // default LogEI
	Kernel      KernelType          `json:"kernel,omitempty"`      // default Matern52
	Beta        float64             `json:"beta,omitempty"`        // UCB: mean + √β·sd; default 2
	// Budget is the planned number of experiments; it only sizes the initial design.
	Budget        int `json:"budget,omitempty"`
	InitialPoints int `json:"initial_points,omitempty"` // overrides InitialDesignSize
	Restarts      int `json:"restarts,omitempty"`       // random restarts of the hyperparameter fit; default 2
	RawSamples    int `json:"raw_samples,omitempty"`    // quasi-random acquisition candidates; default 1024
	LocalStarts   int `json:"local_starts,omitempty"`   // refined candidates; default 5
	MaxEnumerate  int `json:"max_enumerate,omitempty"`  // pool/discrete enumeration limit; default 100000
	// ThompsonCandidates caps the candidate set of one Thompson draw; default 1000.
	ThompsonCandidates int `json:"thompson_candidates,omitempty"`
	// InitialDesign is "halton" (scrambled Halton, the default) or "sobol"
	// (digitally shifted Sobol, up to MaxSobolDim parameters; Halton beyond).
	InitialDesign string `json:"initial_design,omitempty"`
	// Warp applies a Yeo-Johnson transform (fitted by maximum likelihood) to
	// the objective before modelling: useful for skewed outcomes such as yields.
	Warp bool `json:"warp,omitempty"`
}

func (c *Config) defaults() {
	if len(c.Objectives) == 0 {
		c.Objectives = []Objective{{Name: "y", Goal: Maximize}}
	}
	if c.Acquisition == "" {
		c.Acquisition = LogEI
	}
	if c.Kernel == "" {
		c.Kernel = Matern52
	}
	if c.Beta == 0 {
		c.Beta = 2
	}
	if c.Restarts == 0 {
		c.Restarts = 2
	}
	if c.RawSamples == 0 {
		c.RawSamples = 1024
	}
	if c.LocalStarts == 0 {
		c.LocalStarts = 5
	}
	if c.MaxEnumerate == 0 {
		c.MaxEnumerate = 100000
	}
	if c.ThompsonCandidates == 0 {
		c.ThompsonCandidates = 1000
	}
}

func (c *Config) validate() error {
	const op errors.Op = "bo.Config.validate"
	if err := validateSpace(&c.Space); err != nil {
		return errors.E(op, err)
	}
	if len(c.Objectives) > 3 {
		return errors.E(op, errors.Invalid, errors.Field("objectives"), errors.Msg("at most three objectives are supported"))
	}
	for i, ob := range c.Objectives {
		if ob.Goal != Maximize && ob.Goal != Minimize {
			return errors.E(op, errors.Invalid, errors.Field(fmt.Sprintf("objectives[%d].goal", i)), errors.Msg(`objective goal must be "max" or "min"`))
		}
	}
	for i, oc := range c.Constraints {
		if (oc.Rel != LessEq && oc.Rel != GreaterEq) || !finite(oc.Bound) {
			return errors.E(op, errors.Invalid, errors.Field(fmt.Sprintf("constraints[%d]", i)), errors.Msg("outcome constraint needs rel <= or >= and a finite bound"))
		}
	}
	switch c.Acquisition {
	case LogEI, UCB, Thompson:
	default:
		return errors.E(op, errors.Invalid, errors.Field("acquisition"), errors.Msg("unknown acquisition "+strconv.Quote(string(c.Acquisition))))
	}
	switch c.InitialDesign {
	case "", "halton", "sobol":
	default:
		return errors.E(op, errors.Invalid, errors.Field("initial_design"), errors.Msg(`initial design must be "halton" or "sobol"`))
	}
	switch c.Kernel {
	case Matern52, RBF:
	default:
		return errors.E(op, errors.Invalid, errors.Field("kernel"), errors.Msg("unknown kernel "+strconv.Quote(string(c.Kernel))))
	}
	if c.Beta < 0 || c.Budget < 0 || c.InitialPoints < 0 || c.Restarts < 0 || c.RawSamples < 0 || c.LocalStarts < 0 || c.MaxEnumerate < 0 || c.ThompsonCandidates < 0 || !finite(c.Beta) {
		return errors.E(op, errors.Invalid, errors.Msg("numeric settings must not be negative"))
	}
	// Limits keep a hostile or mistaken configuration (e.g. a state file)
	// from asking for unbounded memory or time.
	if c.InitialPoints > 10000 || c.Restarts > 100 || c.RawSamples > 1<<20 || c.LocalStarts > 1000 || c.MaxEnumerate > 1000000 || c.ThompsonCandidates > 5000 {
		return errors.E(op, errors.Invalid, errors.Msg("a numeric setting exceeds its limit"))
	}
	return nil
}

// Optimizer is an ask/tell Bayesian optimiser. It is safe for concurrent use.
// All randomness derives from Config.Seed and the number of Suggest calls, so
// the same configuration and history give the same suggestions.
type Optimizer struct {
	mu       sync.Mutex
	cfg      Config
	enc      *encoding
	pool     []Point // Space.Pool, or the enumerated discrete space
	poolFeat [][]float64
	poolCat  [][]int

	obsX    []Point
	obsY    [][]float64
	pending []Point
	calls   uint64
	served  int // initial-design points handed out
	warm    map[string][]float64
}

// New returns an Optimizer for cfg.
func New(cfg Config) (*Optimizer, error) {
	const op errors.Op = "bo.New"
	cfg.defaults()
	if err := cfg.validate(); err != nil {
		return nil, errors.E(op, err)
	}
	o := &Optimizer{cfg: cfg, warm: map[string][]float64{}}
	o.enc = newEncoding(&o.cfg.Space)
	o.pool = cfg.Space.Pool
	if len(o.pool) == 0 && o.enc.nRefine == 0 {
		o.pool = enumerate(&o.cfg.Space, cfg.MaxEnumerate)
	} else if len(o.pool) == 0 && allInteger(&o.cfg.Space) {
		o.pool = enumerate(&o.cfg.Space, cfg.MaxEnumerate)
	}
	if len(o.pool) > 0 {
		o.poolFeat = make([][]float64, len(o.pool))
		o.poolCat = make([][]int, len(o.pool))
		for i, p := range o.pool {
			o.poolFeat[i] = make([]float64, o.enc.nFeat)
			o.poolCat[i] = make([]int, o.enc.nCat)
			o.enc.encode(p, o.poolFeat[i], o.poolCat[i])
		}
	}
	return o, nil
}

func allInteger(s *Space) bool {
	for _, p := range s.Params {
		if p.Kind == Continuous {
			return false
		}
	}
	return true
}

// enumerate lists every point of a discrete space with at most limit points
// that satisfies the constraints, or returns nil.
func enumerate(s *Space, limit int) []Point {
	levels := make([][]float64, len(s.Params))
	total := 1
	for i, p := range s.Params {
		switch p.Kind {
		case Continuous:
			return nil
		case Integer:
			for v := math.Ceil(p.Low); v <= math.Floor(p.High); v++ {
				levels[i] = append(levels[i], v)
			}
		case Categorical:
			for c := range p.Categories {
				levels[i] = append(levels[i], float64(c))
			}
		}
		total *= len(levels[i])
		if total > limit {
			return nil
		}
	}
	var out []Point
	idx := make([]int, len(levels))
	for {
		p := make(Point, len(levels))
		for i := range levels {
			p[i] = levels[i][idx[i]]
		}
		if s.Contains(p) {
			out = append(out, p)
		}
		k := 0
		for ; k < len(idx); k++ {
			idx[k]++
			if idx[k] < len(levels[k]) {
				break
			}
			idx[k] = 0
		}
		if k == len(idx) {
			return out
		}
	}
}

// Observe records measured values for points: each row holds one value per
// objective, then one per outcome constraint. Observed points stop being pending.
func (o *Optimizer) Observe(points []Point, values [][]float64) error {
	const op errors.Op = "bo.Observe"
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(points) != len(values) {
		return errors.E(op, errors.Invalid, errors.Msg("points and values differ in length"))
	}
	width := len(o.cfg.Objectives) + len(o.cfg.Constraints)
	for i, p := range points {
		if err := o.cfg.Space.check(p, true); err != nil {
			return errors.E(op, errors.Invalid, errors.Field(fmt.Sprintf("points[%d]", i)), err)
		}
		if len(values[i]) != width {
			return errors.E(op, errors.Invalid, errors.Field(fmt.Sprintf("values[%d]", i)), errors.Msg(fmt.Sprintf("want %d values per point", width)))
		}
		for _, v := range values[i] {
			if !finite(v) {
				return errors.E(op, errors.Invalid, errors.Field(fmt.Sprintf("values[%d]", i)), errors.Msg("values must be finite; cancel failed experiments instead"))
			}
		}
	}
	for i, p := range points {
		o.obsX = append(o.obsX, append(Point(nil), p...))
		o.obsY = append(o.obsY, append([]float64(nil), values[i]...))
		o.dropPending(p)
	}
	return nil
}

// Cancel forgets pending suggestions that will never be observed.
func (o *Optimizer) Cancel(points []Point) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, p := range points {
		o.dropPending(p)
	}
}

func (o *Optimizer) dropPending(p Point) {
	k := pointKey(p)
	for j, q := range o.pending {
		if pointKey(q) == k {
			o.pending = append(o.pending[:j], o.pending[j+1:]...)
			return
		}
	}
}

// Pending returns the suggestions not yet observed or cancelled.
func (o *Optimizer) Pending() []Point {
	o.mu.Lock()
	defer o.mu.Unlock()
	return clonePoints(o.pending)
}

// Observations returns copies of the observed points and values.
func (o *Optimizer) Observations() ([]Point, [][]float64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ys := make([][]float64, len(o.obsY))
	for i, y := range o.obsY {
		ys[i] = append([]float64(nil), y...)
	}
	return clonePoints(o.obsX), ys
}

func clonePoints(ps []Point) []Point {
	out := make([]Point, len(ps))
	for i, p := range ps {
		out[i] = append(Point(nil), p...)
	}
	return out
}

// Suggest proposes n new points. Points handed out stay pending (and are
// accounted for by later suggestions) until observed or cancelled.
func (o *Optimizer) Suggest(ctx context.Context, n int) ([]Point, error) {
	const op errors.Op = "bo.Suggest"
	if n < 1 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("n must be at least 1"))
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, errors.Canceled, err)
	}
	rng := rand.New(rand.NewPCG(o.cfg.Seed, o.calls))
	used := map[string]bool{}
	for _, p := range o.obsX {
		used[pointKey(p)] = true
	}
	for _, p := range o.pending {
		used[pointKey(p)] = true
	}
	if len(o.pool) > 0 && len(used) >= len(o.pool) {
		// Count pool rows still free.
		free := 0
		for _, p := range o.pool {
			if !used[pointKey(p)] {
				free++
			}
		}
		if free == 0 {
			return nil, errors.E(op, errors.Invalid, errors.Msg("every pool candidate has been suggested"))
		}
	}
	var batch []Point
	add := func(p Point) {
		batch = append(batch, p)
		used[pointKey(p)] = true
	}
	nInit := o.cfg.InitialPoints
	if nInit == 0 {
		nInit = InitialDesignSize(len(o.cfg.Space.Params), o.cfg.Budget)
	}
	served := o.served
	// The initial design runs until nInit experiments exist (observed or
	// pending), so a campaign seeded with earlier data skips it; with no data
	// at all there is nothing to model and the design continues.
	needDesign := func() bool {
		return (served < nInit && len(o.obsX)+len(o.pending)+len(batch) < nInit) || len(o.obsX) == 0
	}
	if needDesign() {
		want := max(nInit, served+n)
		des := o.design(want)
		for served < len(des) && len(batch) < n && needDesign() {
			p := des[served]
			served++
			if !used[pointKey(p)] {
				add(p)
			}
		}
		if len(o.obsX) == 0 && len(batch) < n {
			// No data and the design ran dry (tiny spaces): fill randomly.
			for tries := 0; len(batch) < n && tries < 100*n; tries++ {
				if p, ok := o.randomPoint(rng, used); ok {
					add(p)
				}
			}
		}
	}
	if len(batch) < n && len(o.obsX) > 0 {
		more, err := o.modelBatch(ctx, rng, n-len(batch), batch, used)
		if err != nil {
			return nil, errors.E(op, err)
		}
		batch = append(batch, more...)
	}
	o.served = served
	o.calls++
	o.pending = append(o.pending, clonePoints(batch)...)
	return clonePoints(batch), nil
}

func (o *Optimizer) randomPoint(rng *rand.Rand, used map[string]bool) (Point, bool) {
	if len(o.pool) > 0 {
		p := o.pool[rng.IntN(len(o.pool))]
		return p, !used[pointKey(p)]
	}
	u := make([]float64, len(o.cfg.Space.Params))
	for i := range u {
		u[i] = rng.Float64()
	}
	ps := o.quasiPoints([][]float64{u})
	if len(ps) == 0 || used[pointKey(ps[0])] {
		return nil, false
	}
	return ps[0], true
}

// features encodes points.
func (o *Optimizer) features(ps []Point) ([][]float64, [][]int) {
	X := make([][]float64, len(ps))
	C := make([][]int, len(ps))
	for i, p := range ps {
		X[i] = make([]float64, o.enc.nFeat)
		C[i] = make([]int, o.enc.nCat)
		o.enc.encode(p, X[i], C[i])
	}
	return X, C
}

// standardise returns (y − mean)/sd.
func standardise(y []float64) []float64 {
	m, sd := meanSD(y)
	out := make([]float64, len(y))
	for i, v := range y {
		out[i] = (v - m) / sd
	}
	return out
}

func (o *Optimizer) fit(key string, X [][]float64, C [][]int, y []float64, rng *rand.Rand) *gp {
	data := gpData{X: X, C: C, Y: standardise(y), dim: o.enc.nFeat, nc: o.enc.nCat, pdim: len(o.cfg.Space.Params)}
	// With many observations the posterior over hyperparameters is narrow
	// and moves little between calls: the warm start alone suffices.
	restarts := o.cfg.Restarts
	if len(y) > 100 && o.warm[key] != nil {
		restarts = -1
	}
	g := fitGP(o.cfg.Kernel, data, o.warm[key], restarts, rng)
	o.warm[key] = append([]float64(nil), g.h...)
	return g
}

// fantasize conditions g (same hyperparameters) on extra points whose values
// are the current posterior means (the "Kriging believer").
func fantasize(g *gp, X [][]float64, C [][]int) *gp {
	if len(X) == 0 {
		return g
	}
	data := g.data
	data.X = append(append([][]float64(nil), data.X...), X...)
	data.C = append(append([][]int(nil), data.C...), C...)
	data.Y = append([]float64(nil), data.Y...)
	for i := range X {
		mu, _ := g.predict(X[i], C[i])
		data.Y = append(data.Y, mu)
	}
	return newGP(g.kern, data, append(hyper(nil), g.h...))
}

// acqModel is everything an acquisition evaluation needs.
type acqModel struct {
	kind    Acquisition
	beta    float64
	obj     *gp
	best    float64
	hasBest bool
	cons    []*gp
	consB   []float64 // standardised upper bounds (constraint values flipped to ≤)
	nRef    int
}

// value returns the acquisition value at (x, c) and, if grad is non-nil, its
// gradient with respect to the refinable features.
func (a *acqModel) value(x []float64, c []int, grad []float64) float64 {
	var mu, v float64
	var dmu, dv []float64
	if grad != nil {
		dmu, dv = make([]float64, a.nRef), make([]float64, a.nRef)
		mu, v = a.obj.predictGrad(x, c, dmu, dv)
		for k := range grad {
			grad[k] = 0
		}
	} else {
		mu, v = a.obj.predict(x, c)
	}
	sd := math.Sqrt(v)
	var val float64
	switch {
	case !a.hasBest:
		// No feasible point yet: only feasibility counts.
	case a.kind == UCB:
		rb := math.Sqrt(a.beta)
		val = mu + rb*sd
		for k := range grad {
			grad[k] = dmu[k] + rb*dv[k]/(2*sd)
		}
	default:
		lv, dm, ds := logEI(mu, sd, a.best)
		val = lv
		for k := range grad {
			grad[k] = dm*dmu[k] + ds*dv[k]/(2*sd)
		}
	}
	for j, cg := range a.cons {
		var cm, cv float64
		var cdm, cdv []float64
		if grad != nil {
			cdm, cdv = make([]float64, a.nRef), make([]float64, a.nRef)
			cm, cv = cg.predictGrad(x, c, cdm, cdv)
		} else {
			cm, cv = cg.predict(x, c)
		}
		cs := math.Sqrt(cv)
		z := (a.consB[j] - cm) / cs
		val += logPhi(z)
		if grad != nil {
			d := dLogPhi(z)
			for k := range grad {
				dz := -cdm[k]/cs - z*cdv[k]/(2*cv)
				grad[k] += d * dz
			}
		}
	}
	if math.IsNaN(val) {
		return math.Inf(-1)
	}
	return val
}

// modelBatch proposes k points by sequential greedy selection, treating
// pending points and earlier batch members as Kriging-believer fantasies.
func (o *Optimizer) modelBatch(ctx context.Context, rng *rand.Rand, k int, batch []Point, used map[string]bool) ([]Point, error) {
	X, C := o.features(o.obsX)
	nObj := len(o.cfg.Objectives)
	// Constraint models, fitted once.
	var consG []*gp
	var consB []float64
	feasible := make([]bool, len(o.obsX))
	for i := range feasible {
		feasible[i] = true
	}
	for j, oc := range o.cfg.Constraints {
		y := make([]float64, len(o.obsY))
		for i, row := range o.obsY {
			v := row[nObj+j]
			if oc.Rel == GreaterEq {
				v = -v
			}
			y[i] = v
		}
		b := oc.Bound
		if oc.Rel == GreaterEq {
			b = -b
		}
		for i := range y {
			if y[i] > b {
				feasible[i] = false
			}
		}
		g := o.fit("con"+strconv.Itoa(j), X, C, y, rng)
		mean, sd := meanSD(y)
		consG = append(consG, g)
		consB = append(consB, (b-mean)/sd)
	}
	var objG *gp
	if nObj == 1 {
		y := o.signed(0)
		if o.cfg.Warp {
			y = warp(y)
		}
		objG = o.fit("obj", X, C, y, rng)
	}
	var out []Point
	for len(out) < k {
		if err := ctx.Err(); err != nil {
			return nil, errors.E(errors.Canceled, err)
		}
		g := objG
		if nObj > 1 {
			y := o.scalarise(rng)
			if o.cfg.Warp {
				y = warp(y)
			}
			g = o.fit("parego", X, C, y, rng)
		}
		// Best feasible posterior mean at observed points.
		a := &acqModel{kind: o.cfg.Acquisition, beta: o.cfg.Beta, nRef: o.enc.nRefine, best: math.Inf(-1)}
		for i := range X {
			if feasible[i] {
				mu, _ := g.predict(X[i], C[i])
				if mu > a.best {
					a.best, a.hasBest = mu, true
				}
			}
		}
		fant := append(append([]Point(nil), o.pending...), batch...)
		fant = append(fant, out...)
		FX, FC := o.features(fant)
		a.obj = fantasize(g, FX, FC)
		if len(o.cfg.Constraints) == 0 {
			for i := range FX {
				if mu := a.obj.data.Y[len(X)+i]; mu > a.best {
					a.best = mu
				}
			}
		}
		for j, cg := range consG {
			a.cons = append(a.cons, fantasize(cg, FX, FC))
			a.consB = append(a.consB, consB[j])
		}
		var p Point
		var ok bool
		if o.cfg.Acquisition == Thompson {
			p, ok = o.thompson(a, rng, used)
		} else if len(o.pool) > 0 {
			p, ok = o.bestInPool(a, rng, used)
		} else {
			p, ok = o.bestContinuous(a, rng, used)
		}
		if !ok {
			// Nothing new to propose (exhausted pool or degenerate space): random.
			for tries := 0; tries < 1000 && !ok; tries++ {
				p, ok = o.randomPoint(rng, used)
			}
			if !ok {
				return nil, errors.E(errors.Invalid, errors.Msg("no new candidate left in the search space"))
			}
		}
		out = append(out, p)
		used[pointKey(p)] = true
	}
	return out, nil
}

// meanSD is y's mean and sample standard deviation (1 when y has one
// value or no spread).
func meanSD(y []float64) (float64, float64) {
	m, sd := stat.MeanStdDev(y, nil)
	if !(sd > 1e-12) { // also NaN, for a single value
		sd = 1
	}
	return m, sd
}

// signed returns objective j of every observation, negated for minimisation.
func (o *Optimizer) signed(j int) []float64 {
	y := make([]float64, len(o.obsY))
	for i, row := range o.obsY {
		y[i] = row[j]
		if o.cfg.Objectives[j].Goal == Minimize {
			y[i] = -y[i]
		}
	}
	return y
}

// scalarise draws random simplex weights and returns the augmented Chebyshev
// scalarisation of the normalised objectives (ParEGO, Knowles 2006).
func (o *Optimizer) scalarise(rng *rand.Rand) []float64 {
	m := len(o.cfg.Objectives)
	w := make([]float64, m)
	var sum float64
	for j := range w {
		w[j] = rng.ExpFloat64()
		sum += w[j]
	}
	for j := range w {
		w[j] /= sum
	}
	cols := make([][]float64, m)
	for j := 0; j < m; j++ {
		y := o.signed(j)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, v := range y {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
		span := hi - lo
		if !(span > 0) {
			span = 1
		}
		for i := range y {
			y[i] = (y[i] - lo) / span
		}
		cols[j] = y
	}
	out := make([]float64, len(o.obsY))
	for i := range out {
		mn, s := math.Inf(1), 0.0
		for j := 0; j < m; j++ {
			v := w[j] * cols[j][i]
			mn = math.Min(mn, v)
			s += v
		}
		out[i] = mn + 0.05*s
	}
	return out
}

// bestInPool enumerates unused pool rows (a random subset of MaxEnumerate if larger).
func (o *Optimizer) bestInPool(a *acqModel, rng *rand.Rand, used map[string]bool) (Point, bool) {
	idx := o.freePool(used)
	if len(idx) == 0 {
		return nil, false
	}
	if len(idx) > o.cfg.MaxEnumerate {
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:o.cfg.MaxEnumerate]
	}
	bi, bv := -1, math.Inf(-1)
	for _, i := range idx {
		v := a.value(o.poolFeat[i], o.poolCat[i], nil)
		if v > bv || bi < 0 {
			bi, bv = i, v
		}
	}
	return o.pool[bi], true
}

func (o *Optimizer) freePool(used map[string]bool) []int {
	var idx []int
	for i, p := range o.pool {
		if !used[pointKey(p)] {
			idx = append(idx, i)
		}
	}
	return idx
}

// candidates returns quasi-random candidate points plus perturbations of the
// best observations.
func (o *Optimizer) candidates(rng *rand.Rand, m int) []Point {
	d := len(o.cfg.Space.Params)
	us := halton(m, d, rng.Uint64())
	// Local perturbations around the best observed points help refinement.
	order := o.rankObserved()
	for t := 0; t < min(5, len(order)); t++ {
		p := o.obsX[order[t]]
		base := make([]float64, d)
		for i, prm := range o.cfg.Space.Params {
			if prm.Kind == Categorical {
				base[i] = (p[i] + 0.5) / float64(len(prm.Categories))
			} else {
				base[i] = toUnit(prm, p[i])
			}
		}
		for r := 0; r < m/32; r++ {
			u := make([]float64, d)
			for i, prm := range o.cfg.Space.Params {
				u[i] = base[i]
				if prm.Kind != Categorical {
					u[i] = clamp(base[i]+0.05*rng.NormFloat64(), 0, 1-1e-12)
				}
			}
			us = append(us, u)
		}
	}
	return o.quasiPoints(us)
}

// rankObserved orders observations best first by the first objective (or by
// the scalar mean rank for several), feasible ones before infeasible.
func (o *Optimizer) rankObserved() []int {
	idx := make([]int, len(o.obsX))
	for i := range idx {
		idx[i] = i
	}
	y := o.signed(0)
	sort.SliceStable(idx, func(a, b int) bool { return y[idx[a]] > y[idx[b]] })
	return idx
}

// bestContinuous maximises the acquisition over a continuous or mixed space:
// quasi-random raw samples, then local refinement of the top few.
func (o *Optimizer) bestContinuous(a *acqModel, rng *rand.Rand, used map[string]bool) (Point, bool) {
	cands := o.candidates(rng, o.cfg.RawSamples)
	type scored struct {
		p Point
		v float64
	}
	var sc []scored
	feat := make([]float64, o.enc.nFeat)
	cat := make([]int, o.enc.nCat)
	for _, p := range cands {
		o.enc.encode(p, feat, cat)
		sc = append(sc, scored{p, a.value(feat, cat, nil)})
	}
	sort.SliceStable(sc, func(i, j int) bool { return sc[i].v > sc[j].v })
	var best Point
	bv := math.Inf(-1)
	starts := 0
	for _, s := range sc {
		if starts >= o.cfg.LocalStarts {
			break
		}
		starts++
		p, v := o.refine(a, s.p)
		if used[pointKey(p)] || !o.cfg.Space.Contains(p) {
			p, v = s.p, s.v
			if used[pointKey(p)] {
				continue
			}
		}
		if v > bv || best == nil {
			best, bv = p, v
		}
	}
	if best == nil {
		for _, s := range sc {
			if !used[pointKey(s.p)] {
				return s.p, true
			}
		}
		return nil, false
	}
	return best, true
}

// thompson draws joint posterior samples over a random candidate set and
// returns the argmax of one draw.
func (o *Optimizer) thompson(a *acqModel, rng *rand.Rand, used map[string]bool) (Point, bool) {
	var cands []Point
	if len(o.pool) > 0 {
		idx := o.freePool(used)
		rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		if len(idx) > o.cfg.ThompsonCandidates {
			idx = idx[:o.cfg.ThompsonCandidates]
		}
		for _, i := range idx {
			cands = append(cands, o.pool[i])
		}
	} else {
		for _, p := range o.candidates(rng, o.cfg.ThompsonCandidates) {
			if !used[pointKey(p)] {
				cands = append(cands, p)
			}
		}
	}
	if len(cands) == 0 {
		return nil, false
	}
	X, C := o.features(cands)
	draw := posteriorSample(a.obj, X, C, rng)
	// Outcome constraints: sample them too and penalise infeasible draws.
	for j, cg := range a.cons {
		cd := posteriorSample(cg, X, C, rng)
		for i := range draw {
			if cd[i] > a.consB[j] {
				draw[i] -= 1e6 * (1 + cd[i] - a.consB[j])
			}
		}
	}
	bi := 0
	for i := range draw {
		if draw[i] > draw[bi] {
			bi = i
		}
	}
	return cands[bi], true
}
