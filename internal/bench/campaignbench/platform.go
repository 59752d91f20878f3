package campaignbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/bench"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	_ "github.com/genesis-science/genesis/internal/lab/table" // the "table" driver kind
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
	"github.com/genesis-science/genesis/internal/store/sqlite"
)

// world is the platform one replay runs on: a metadata store with its
// identity, authorization and catalog services, the instrument registry
// and the campaign service.
type world struct {
	db    store.DB
	ids   *identity.Service
	az    *authz.Authorizer
	cat   *catalog.Service
	reg   *instruments.Registry
	user  *genesis.Principal
	dir   string
	close func()
}

// benchUser is the principal the replays run as.
const benchUser = "genesis-bench"

// openWorld opens the store (a fresh SQLite database in dir when dsn is
// empty), migrates it, and finds or creates the bench principal.
func openWorld(ctx context.Context, dsn, dir string) (*world, error) {
	const op errors.Op = "campaignbench.openWorld"
	var db *store.SQLDB
	var err error
	switch {
	case dsn == "":
		db, err = sqlite.Open(ctx, filepath.Join(dir, "genesis.db"))
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err = postgres.Open(ctx, dsn)
	default:
		db, err = sqlite.Open(ctx, dsn)
	}
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("store"), errors.Msg("cannot open the store"), err)
	}
	w := &world{db: db, dir: dir, close: func() { db.Close() }}
	if _, err := store.Migrate(ctx, db); err != nil {
		w.close()
		return nil, errors.E(op, err)
	}
	w.ids = identity.New(db)
	if _, err := w.ids.Bootstrap(ctx, "admin"); err != nil {
		w.close()
		return nil, errors.E(op, err)
	}
	actor := &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}
	w.user, err = w.ids.Principal(ctx, actor, benchUser)
	if errors.Is(errors.NotExist, err) {
		w.user, err = w.ids.CreatePrincipal(ctx, genesis.Principal{Name: benchUser, Kind: genesis.KindUser, DisplayName: "genesis bench campaign",
			Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleAdmin, genesis.RoleContributor}, Nationality: "USA"})
	}
	if err != nil {
		w.close()
		return nil, errors.E(op, err)
	}
	if w.az, err = authz.New(w.ids, time.Now); err != nil {
		w.close()
		return nil, errors.E(op, err)
	}
	w.cat = catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: w.az, Principals: w.ids})
	w.reg = instruments.New(db, w.az, w.ids, filepath.Join(dir, "lab"))
	prev := w.close
	w.close = func() { w.reg.Close(); prev() }
	return w, nil
}

// timedFleet is the instrument registry as the campaign runner sees it,
// with the time spent in the instruments' drivers (Start, Result) counted,
// and the first Start of each experiment stamped.
type timedFleet struct {
	lab.Fleet
	mu     sync.Mutex
	calls  []span               // every driver call the runner made
	starts map[string]time.Time // first Start per request ID
	order  []string             // request IDs in order of first Start
	t0     time.Time            // monotonic origin
}

type span struct{ from, to time.Duration }

func newTimedFleet(f lab.Fleet) *timedFleet {
	return &timedFleet{Fleet: f, starts: map[string]time.Time{}, t0: time.Now()}
}

func (f *timedFleet) Driver(ctx context.Context, id string) (lab.Driver, error) {
	d, err := f.Fleet.Driver(ctx, id)
	if err != nil {
		return nil, err
	}
	return &timedDriver{Driver: d, f: f}, nil
}

func (f *timedFleet) record(id string, t0, t1 time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, span{t0.Sub(f.t0), t1.Sub(f.t0)})
	if id != "" {
		if _, ok := f.starts[id]; !ok {
			f.starts[id] = t0
			f.order = append(f.order, id)
		}
	}
}

// busy returns the driver time spent in calls that began in [from, to).
func (f *timedFleet) busy(from, to time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, b := from.Sub(f.t0), to.Sub(f.t0)
	var sum time.Duration
	for _, c := range f.calls {
		if c.from >= a && c.from < b {
			sum += c.to - c.from
		}
	}
	return sum
}

type timedDriver struct {
	lab.Driver
	f *timedFleet
}

func (d *timedDriver) Start(ctx context.Context, req lab.Request) (*lab.Result, error) {
	t0 := time.Now()
	r, err := d.Driver.Start(ctx, req)
	d.f.record(req.ID, t0, time.Now())
	return r, err
}

func (d *timedDriver) Result(ctx context.Context, id string) (*lab.Result, error) {
	t0 := time.Now()
	r, err := d.Driver.Result(ctx, id)
	d.f.record("", t0, time.Now())
	return r, err
}

// Replay is one seed's campaign through the platform.
type Replay struct {
	Seed   uint64
	Points []bo.Point // the experiments in seq order, as optimizer points
	Values []float64  // their measured objective
	Best   []float64  // best so far after each experiment
	// Cycles holds each batch that another followed.
	Cycles []Cycle
}

// Cycle is one batch's turn through the platform: from its first
// dispatch to the next batch's first dispatch.
type Cycle struct {
	Experiments int
	Wall        time.Duration // elapsed
	Runner      time.Duration // of which inside the runner's Step
	Instrument  time.Duration // of which in the instruments' drivers
}

func randHex() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// specFor is the campaign that replays problem p from the table the
// settings name on the workcell cell: the same search space (the table's
// parameters, its distinct rows as the pool, in the same order), the same
// objective and goal, the optimizer's default settings (as `bench
// optimizer --table` uses them), the seed, batch and budget.
func specFor(name string, p *bench.Problem, objective, cell string, seed uint64, batch, budget int) *campaign.Spec {
	sp := &campaign.Spec{
		Name:       name,
		Objectives: []campaign.Objective{{Name: "y", Goal: string(p.Goal)}},
		Budget:     campaign.Budget{Experiments: budget},
		Batch:      batch,
		Seed:       seed,
		Executor:   campaign.Executor{Workcell: cell, Action: "measure", Outputs: map[string]string{"y": objective}},
	}
	for _, prm := range p.Space.Params {
		cp := campaign.Param{Name: prm.Name, Kind: string(prm.Kind)}
		if prm.Kind == bo.Categorical {
			cp.Categories = append([]string(nil), prm.Categories...)
		} else {
			lo, hi := prm.Low, prm.High
			cp.Low, cp.High = &lo, &hi
		}
		sp.Params = append(sp.Params, cp)
	}
	for _, pt := range p.Space.Pool {
		row := make(map[string]any, len(pt))
		for i, prm := range p.Space.Params {
			if prm.Kind == bo.Categorical {
				row[prm.Name] = prm.Categories[int(pt[i])]
			} else {
				row[prm.Name] = pt[i]
			}
		}
		sp.Pool = append(sp.Pool, row)
	}
	return sp
}

// replay runs one campaign on w: instruments table instruments over the
// table in one workcell, the campaign created and started, and the runner
// stepped until the campaign is over.
func replay(ctx context.Context, w *world, t *tableRef, p *bench.Problem, seed uint64, batch, budget, ninst int) (*Replay, error) {
	const op errors.Op = "campaignbench.replay"
	run := randHex()
	cell := "bench-" + run
	settings, err := json.Marshal(map[string]any{"path": t.path, "params": t.params, "objective": t.objective, "goal": string(p.Goal), "speed": 1e9, "seconds": 0})
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	if _, err := w.reg.AddWorkcell(ctx, w.user, instruments.WorkcellSpec{Name: cell, Lab: "genesis bench", Description: "table instruments replaying " + t.path}); err != nil {
		return nil, errors.E(op, err)
	}
	for i := range ninst {
		_, err := w.reg.Add(ctx, w.user, instruments.Spec{Name: cell + "-" + string(rune('a'+i%26)) + itoa(i/26), Kind: "table", Settings: settings, Workcell: cell, Accreditation: "OPEN", Lab: "genesis bench"})
		if err != nil {
			return nil, errors.E(op, err)
		}
	}
	fleet := newTimedFleet(w.reg)
	s := campaign.New(w.db, w.az, w.ids, w.cat, nil)
	s.SetFleet(fleet)
	s.SetRunnerID("bench-" + run)
	s.WorkDir = w.dir
	sp := specFor("bench-"+run, p, t.objective, cell, seed, batch, budget)
	c, err := s.Create(ctx, w.user, sp)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if _, err := s.Start(ctx, w.user, c.ID); err != nil {
		return nil, errors.E(op, err)
	}
	// Step the runner back to back (no ticker): what remains between two
	// dispatches is the platform's own work.
	idle := 0
	var steps [][2]time.Time // when the runner worked (not this loop's reads)
	for {
		if err := ctx.Err(); err != nil {
			return nil, errors.E(op, errors.Canceled, err)
		}
		fleet.mu.Lock()
		before := len(fleet.calls)
		fleet.mu.Unlock()
		t0 := time.Now()
		err := s.Step(ctx)
		steps = append(steps, [2]time.Time{t0, time.Now()})
		if err != nil {
			return nil, errors.E(op, err)
		}
		got, err := s.Get(ctx, w.user, c.ID)
		if err != nil {
			return nil, errors.E(op, err)
		}
		if got.State == campaign.Completed || got.State == campaign.Stopped || got.State == campaign.FailedC {
			break
		}
		if got.State == campaign.Paused {
			return nil, errors.E(op, errors.Internal, errors.Msg("the campaign paused: "+got.Reason))
		}
		fleet.mu.Lock()
		after := len(fleet.calls)
		fleet.mu.Unlock()
		if after == before {
			if idle++; idle > 10000 {
				return nil, errors.E(op, errors.Internal, errors.Msg("the campaign made no progress"))
			}
		} else {
			idle = 0
		}
	}
	var es []campaign.Experiment
	cursor := ""
	for {
		page, next, err := s.Experiments(ctx, w.user, c.ID, campaign.ExperimentOptions{Cursor: cursor, Limit: 1000})
		if err != nil {
			return nil, errors.E(op, err)
		}
		es = append(es, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	r := &Replay{Seed: seed}
	best := 0.0
	for i, e := range es {
		if e.State != campaign.Observed {
			return nil, errors.E(op, errors.Internal, errors.Msg("experiment "+itoa(e.Seq)+" "+e.State+": "+e.Reason))
		}
		pt, err := sp.ToPoint(e.Params)
		if err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
		v := e.Values[t.objective]
		r.Points = append(r.Points, pt)
		r.Values = append(r.Values, v)
		if i == 0 || (p.Goal == bo.Minimize && v < best) || (p.Goal != bo.Minimize && v > best) {
			best = v
		}
		r.Best = append(r.Best, best)
	}
	// Cycles: experiments are dispatched in seq order, batch after batch.
	fleet.mu.Lock()
	order := append([]string(nil), fleet.order...)
	starts := make([]time.Time, len(order))
	for i, id := range order {
		starts[i] = fleet.starts[id]
	}
	fleet.mu.Unlock()
	if len(starts) != len(es) {
		return nil, errors.E(op, errors.Internal, errors.Msg("the instruments were started "+itoa(len(starts))+" times for "+itoa(len(es))+" experiments"))
	}
	for k := 0; k+batch < len(starts); k += batch {
		from, to := starts[k], starts[k+batch]
		var in time.Duration
		for _, st := range steps {
			a, b := st[0], st[1]
			if a.Before(from) {
				a = from
			}
			if b.After(to) {
				b = to
			}
			if b.After(a) {
				in += b.Sub(a)
			}
		}
		r.Cycles = append(r.Cycles, Cycle{Experiments: batch, Wall: to.Sub(from), Runner: in, Instrument: fleet.busy(from, to)})
	}
	return r, nil
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}

// tableRef is the table as the instruments' settings name it.
type tableRef struct {
	path, params, objective string
}

// resolveObjective returns the objective column `bench optimizer` takes
// by default: the first Olympus measurement, or the CSV's last column.
func resolveObjective(path, objective string) (string, error) {
	const op errors.Op = "campaignbench.resolveObjective"
	if objective != "" {
		return objective, nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return "", errors.E(op, errors.NotExist, errors.Field("table"), errors.Msg("cannot read the table"), err)
	}
	dir, file := path, ""
	if !st.IsDir() {
		dir, file = filepath.Dir(path), path
	}
	if file == "" || filepath.Base(file) == "data.csv" {
		if f, err := os.Open(filepath.Join(dir, "config.json")); err == nil {
			defer f.Close()
			cfg, err := bench.ParseOlympusConfig(f)
			if err != nil {
				return "", errors.E(op, errors.Field("table"), err)
			}
			return cfg.Measurements[0].Name, nil
		}
	}
	if file == "" {
		return "", errors.E(op, errors.Invalid, errors.Field("table"), errors.Msg("directory has no config.json; name a CSV file instead"))
	}
	f, err := os.Open(file)
	if err != nil {
		return "", errors.E(op, errors.NotExist, errors.Field("table"), errors.Msg("cannot read the table"), err)
	}
	defer f.Close()
	t, err := bench.ParseCSV(f, true, nil)
	if err != nil {
		return "", errors.E(op, errors.Field("table"), err)
	}
	return t.Header[len(t.Header)-1], nil
}
