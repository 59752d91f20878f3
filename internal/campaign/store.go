package campaign

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// record is a campaign with the runner's bookkeeping.
type record struct {
	Campaign
	opt            string // bo.State JSON
	instruments    []string
	priors         []catalog.VersionRef
	dispatches     int64
	fed, nextSeq   int
	batches        int
	committedBatch int
	finishing      string
	datasetVersion int64
	leaseOwner     string
	leaseUntil     time.Time
}

var specs sync.Map // campaign ID → Spec (read-only)

const ccols = `id, name, title, owner_id, COALESCE(project_id, ''), label, spec, state, reason, optimizer, instruments, priors,
	dispatches, fed, next_seq, batches, committed_batch, finishing, dataset, dataset_version, model, lease_owner, lease_until,
	created_at, updated_at, started_at, ended_at`

func scanCampaign(sc interface{ Scan(...any) error }) (*record, error) {
	var r record
	var spec, inst, priors string
	var lu, c, u int64
	var st, en *int64
	if err := sc.Scan(&r.ID, &r.Name, &r.Title, &r.Owner, &r.Project, &r.Label, &spec, &r.State, &r.Reason, &r.opt, &inst, &priors,
		&r.dispatches, &r.fed, &r.nextSeq, &r.batches, &r.committedBatch, &r.finishing, &r.Dataset, &r.datasetVersion, &r.Model, &r.leaseOwner, &lu,
		&c, &u, &st, &en); err != nil {
		return nil, err
	}
	// A campaign's spec never changes: decode it once per process.
	if v, ok := specs.Load(r.ID); ok {
		r.Spec = v.(Spec)
	} else {
		if err := json.Unmarshal([]byte(spec), &r.Spec); err != nil {
			return nil, errors.E(errors.Internal, errors.Msg("a stored campaign spec does not decode"), err)
		}
		specs.Store(r.ID, r.Spec)
	}
	json.Unmarshal([]byte(inst), &r.instruments)
	json.Unmarshal([]byte(priors), &r.priors)
	r.leaseUntil, r.CreatedAt, r.UpdatedAt = store.FromT(lu), store.FromT(c), store.FromT(u)
	r.StartedAt, r.EndedAt = store.FromNullT(st), store.FromNullT(en)
	return &r, nil
}

func (s *Service) load(ctx context.Context, id string) (*record, error) {
	var r *record
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		r, err = scanCampaign(tx.QueryRow(ctx, `SELECT `+ccols+` FROM campaigns WHERE id = ?`, id))
		return err
	})
	return r, err
}

// experiment is an experiment with the runner's bookkeeping.
type experiment struct {
	Experiment
	failures int
	point    bo.Point
	key      string
}

const ecols = `id, campaign_id, seq, batch, attempt, failures, params, point, state, COALESCE(instrument, ''), job, dispatch_key, vals, reason,
	proposed_at, dispatched_at, ended_at`

func scanExperiment(sc interface{ Scan(...any) error }) (*Experiment, error) {
	e, err := scanExp(sc)
	if err != nil {
		return nil, err
	}
	return &e.Experiment, nil
}

func scanExp(sc interface{ Scan(...any) error }) (*experiment, error) {
	var e experiment
	var params, point, vals string
	var pa int64
	var da, ea *int64
	if err := sc.Scan(&e.ID, &e.Campaign, &e.Seq, &e.Batch, &e.Attempt, &e.failures, &params, &point, &e.State, &e.Instrument, &e.Job, &e.key, &vals, &e.Reason,
		&pa, &da, &ea); err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(params), &e.Params)
	json.Unmarshal([]byte(point), &e.point)
	if vals != "" && vals != "null" {
		json.Unmarshal([]byte(vals), &e.Values)
	}
	e.ProposedAt, e.DispatchedAt, e.EndedAt = store.FromT(pa), store.FromNullT(da), store.FromNullT(ea)
	return &e, nil
}

// experiments reads a campaign's experiments matching where (after the
// campaign's ID argument), by seq.
func experiments(ctx context.Context, tx store.Tx, id, where string, args ...any) ([]*experiment, error) {
	return experimentsN(ctx, tx, id, 0, where, args...)
}

// experimentsN is experiments, at most limit of them (0: all).
func experimentsN(ctx context.Context, tx store.Tx, id string, limit int, where string, args ...any) ([]*experiment, error) {
	q := `SELECT ` + ecols + ` FROM campaign_experiments WHERE campaign_id = ?`
	if where != "" {
		q += ` AND ` + where
	}
	q += ` ORDER BY seq`
	if limit > 0 {
		q += ` LIMIT ` + strconv.Itoa(limit)
	}
	rows, err := tx.Query(ctx, q, append([]any{id}, args...)...)
	if err != nil {
		return nil, err
	}
	var out []*experiment
	err = rows.Each(func() error {
		e, err := scanExp(rows)
		if err == nil {
			out = append(out, e)
		}
		return err
	})
	return out, err
}

// key is the idempotency key of an experiment's attempt: the driver runs
// each key at most once.
func dispatchKey(id string, attempt int) string { return id + "." + strconv.Itoa(attempt) }

// experimentID is the ID of a campaign's seq'th experiment.
func experimentID(campaign string, seq int) string {
	return "exp_" + strings.TrimPrefix(campaign, "cmp_") + "-" + strconv.Itoa(seq)
}

var errLease = errors.E(errors.Conflict, errors.Msg("this runner no longer holds the campaign's lease"))

// fence checks inside tx that this runner still holds campaign id's
// lease with the token it took it with (not expired by the database's
// clock, not taken over since) and extends it (internal/lease's
// FenceRenew), failing with errLease (rolling the transaction back)
// otherwise, and marks the campaign updated: every state change the
// runner makes goes through it, so a runner making progress keeps its
// campaigns however long a round takes.
func (s *Service) fence(ctx context.Context, tx store.Tx, id string) error {
	h, ok := s.heldLease(id)
	if !ok {
		return errLease
	}
	if err := s.leases.FenceRenew(ctx, tx, leaseName(id), s.me, h.l.Token, s.leaseTTL()); err != nil {
		if errors.Is(errors.Conflict, err) {
			return errLease
		}
		return err
	}
	_, err := tx.Exec(ctx, `UPDATE campaigns SET updated_at = ? WHERE id = ?`, store.T(s.now()), id)
	return err
}

// The optimizer's state as stored (campaigns.optimizer) leaves out what
// the spec gives again, the pool of candidate rows (for a table campaign
// by far its largest part): loading puts the spec's pool back. A row
// written with the pool inside (before this was so) loads as it is.
//
// The runner keeps each campaign's optimizer between rounds, with the
// exact state text it was stored as: when the row still holds that text,
// the optimizer in memory is the one the row describes (restoring a
// State gives an optimizer that behaves exactly as the original), and
// decoding is skipped. An optimizer is taken out of the cache while it is
// used and put back only once its new state is committed, so a rolled
// back transaction leaves nothing behind.

// spaces holds each campaign's optimizer pool as its spec gives it
// (campaign ID → []bo.Point; a spec never changes).
var spaces sync.Map

func poolOf(id string, sp *Spec) ([]bo.Point, error) {
	if len(sp.Pool) == 0 {
		return nil, nil
	}
	if v, ok := spaces.Load(id); ok {
		return v.([]bo.Point), nil
	}
	pool, err := sp.poolPoints()
	if err != nil {
		return nil, err
	}
	spaces.Store(id, pool)
	return pool, nil
}

// encodeOpt is o's state as stored: without the pool.
func encodeOpt(o *bo.Optimizer) (string, error) {
	st := o.State()
	st.Config.Space.Pool = nil
	b, err := json.Marshal(st)
	if err != nil {
		return "", errors.E(errors.Internal, err)
	}
	return string(b), nil
}

// decodeOpt restores campaign id's optimizer from its stored state.
func decodeOpt(id string, sp *Spec, data string) (*bo.Optimizer, error) {
	var st bo.State
	if err := json.Unmarshal([]byte(data), &st); err != nil {
		return nil, errors.E(errors.Internal, errors.Msg("the stored optimizer state does not load"), err)
	}
	if len(st.Config.Space.Pool) == 0 {
		pool, err := poolOf(id, sp)
		if err != nil {
			return nil, errors.E(errors.Internal, errors.Msg("the stored optimizer state does not load"), err)
		}
		st.Config.Space.Pool = pool
	}
	o, err := bo.Restore(st)
	if err != nil {
		return nil, errors.E(errors.Internal, errors.Msg("the stored optimizer state does not load"), err)
	}
	return o, nil
}

// optCache is the runner's optimizers, by campaign ID, with the state
// text each was stored as.
type optCache struct {
	mu sync.Mutex
	m  map[string]cachedOpt
}

type cachedOpt struct {
	state string
	opt   *bo.Optimizer
}

// take returns campaign id's optimizer for the stored state data, from
// the cache when it holds that state (removing it: the caller owns it
// now), else decoded.
func (s *Service) takeOpt(id string, sp *Spec, data string) (*bo.Optimizer, error) {
	s.opts.mu.Lock()
	c, ok := s.opts.m[id]
	delete(s.opts.m, id)
	s.opts.mu.Unlock()
	if ok && c.state == data {
		return c.opt, nil
	}
	return decodeOpt(id, sp, data)
}

// putOpt keeps o, whose state is committed as data, for campaign id.
func (s *Service) putOpt(id, data string, o *bo.Optimizer) {
	s.opts.mu.Lock()
	defer s.opts.mu.Unlock()
	if s.opts.m == nil {
		s.opts.m = map[string]cachedOpt{}
	}
	s.opts.m[id] = cachedOpt{state: data, opt: o}
}

// dropOpt forgets campaign id's optimizer.
func (s *Service) dropOpt(id string) {
	s.opts.mu.Lock()
	delete(s.opts.m, id)
	s.opts.mu.Unlock()
}
