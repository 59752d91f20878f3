package campaign

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/store"
)

// The runner.
//
// Everything the runner knows is in the store; memory holds only caches
// and the clocks of trouble (how long a node has failed to answer). Each
// campaign is driven by one runner at a time, the holder of its lease
// ("campaign:ID" in the store's leases, internal/lease, timed by the
// database's clock on PostgreSQL); every state change is a transaction
// that first checks the lease's fencing token and fails when another
// runner has taken it since (fence), so another replica on the same
// PostgreSQL takes over a campaign whose runner died (within the lease's
// TTL) and never acts beside a live one. (The columns
// campaigns.lease_owner/lease_until are no longer used.)
//
// An experiment moves proposed → dispatched → running → observed | failed
// | cancelled. Dispatch is recorded (with the attempt's key) before the
// driver is asked to start it, and the driver runs each key at most once,
// so a crash anywhere re-sends a key rather than running an action twice.
// A final result and the optimizer's observation of it are one
// transaction; the optimizer is fed in seq order, so with synchronous
// batches a campaign's course depends only on its seed and its results.

func (s *Service) leaseTTL() time.Duration {
	if s.LeaseTTL > 0 {
		return s.LeaseTTL
	}
	return lease.DefaultTTL
}

func (s *Service) tick() time.Duration {
	if s.Tick > 0 {
		return s.Tick
	}
	return 25 * time.Millisecond
}

func (s *Service) transientLimit() time.Duration {
	if s.TransientLimit > 0 {
		return s.TransientLimit
	}
	return 2 * time.Minute
}

func (s *Service) callTimeout() time.Duration {
	if s.CallTimeout > 0 {
		return s.CallTimeout
	}
	return 5 * time.Second
}

// SetRunnerID names this runner in the leases it holds. A restarted
// replica that keeps its ID (the application derives it from its data
// directory) takes its campaigns back at once instead of waiting for their
// leases to expire; replicas must have distinct IDs.
func (s *Service) SetRunnerID(id string) { s.me = id }

// Run drives the campaigns until ctx is done, waking every Tick (and when
// a campaign is started or resumed). Results are committed to the catalog
// by a second loop, off the path from one experiment to the next.
func (s *Service) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(max(s.tick(), 100*time.Millisecond))
		defer t.Stop()
		for {
			if err := s.publish(ctx); err != nil && ctx.Err() == nil && s.OnError != nil {
				s.OnError(err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	defer wg.Wait()
	t := time.NewTicker(s.tick())
	defer t.Stop()
	for {
		if err := s.round(ctx, s.pollWait()); err != nil && ctx.Err() == nil && s.OnError != nil {
			s.OnError(err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// Step is one round of the runner followed by one of the results loop
// (what Run does continually, in one call: for tests and tools). Its
// round waits for every node's answer.
func (s *Service) Step(ctx context.Context) error {
	err := s.round(ctx, 0)
	if err2 := s.publish(ctx); err == nil {
		err = err2
	}
	return err
}

// round takes or renews leases, observes what is in flight, ends and
// proposes what is due, and dispatches. It reads the campaigns it holds
// with a few queries whatever their number.
//
// The round waits up to wait (0: without limit) for the nodes' answers;
// those that come later are used in a later round.
func (s *Service) round(ctx context.Context, wait time.Duration) error {
	ids, err := s.acquire(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	snap, err := s.snapshot(ctx, ids)
	if err != nil {
		return err
	}
	var errs []error
	changed := false
	var asks []*ask
	for _, id := range ids {
		c := snap[id]
		if c == nil || len(c.inflight) == 0 {
			continue
		}
		x, err := s.executor(&c.r.Campaign)
		if err != nil {
			continue // no executor yet (the fleet is set after start-up): wait
		}
		for _, e := range c.inflight {
			if !s.backingOff(e) {
				asks = append(asks, &ask{r: c.r, x: x, e: e})
			}
		}
	}
	asks = s.pollAll(ctx, asks, wait)
	var batches []*settleBatch
	for i := 0; i < len(asks); {
		j := i + 1
		for j < len(asks) && asks[j].r == asks[i].r {
			j++
		}
		b, ch, err := s.observed(ctx, asks[i:j])
		if err != nil && !errors.IsErr(err, errLease) {
			errs = append(errs, err)
		}
		if b != nil {
			batches = append(batches, b)
		}
		changed = changed || ch
		i = j
	}
	// What the answers tell, for every campaign in one transaction.
	if len(batches) > 0 {
		if err := s.settleBatches(ctx, batches, false); err != nil {
			// One campaign's trouble must not hold up the others:
			// each on its own.
			for _, b := range batches {
				if err := s.settleBatches(ctx, []*settleBatch{b}, false); err != nil {
					errs = append(errs, err)
				}
			}
		}
		for _, b := range batches {
			for _, e := range b.running {
				if e.State != InFlight {
					continue // not recorded: this runner lost the lease
				}
				if err := s.checkStuck(ctx, b.r, e); err != nil {
					if !errors.IsErr(err, errLease) {
						errs = append(errs, err)
					}
					break
				}
				if b.r.State != Running {
					changed = true
				}
			}
		}
	}
	if changed {
		if snap, err = s.snapshot(ctx, ids); err != nil {
			return err
		}
	}
	var live []*snapped
	var props []*proposal
	for _, id := range ids {
		c := snap[id]
		if c == nil {
			continue
		}
		r, err := s.advanceWith(ctx, c.r, c.nonfinal, len(c.inflight), &props)
		if err != nil && !errors.IsErr(err, errLease) {
			errs = append(errs, err)
		}
		if r != nil && r.State == Running && r.finishing == "" {
			c.r = r
			live = append(live, c)
		}
	}
	// The next batches of every campaign, in one transaction.
	if len(props) > 0 {
		if err := s.writeProposals(ctx, props, false); err != nil {
			for _, p := range props { // each on its own, as above
				if err := s.writeProposals(ctx, []*proposal{p}, false); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if err := s.dispatch(ctx, live); err != nil && !errors.IsErr(err, errLease) {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// snapped is a campaign as a round reads it: the record, its experiments
// in flight, and how many are not final.
type snapped struct {
	r        *record
	inflight []*experiment
	nonfinal int
}

// snapshot reads the campaigns ids (held by this runner) in one transaction.
func (s *Service) snapshot(ctx context.Context, ids []string) (map[string]*snapped, error) {
	want := make(map[string]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := map[string]*snapped{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		clear(out)
		rows, err := tx.Query(ctx, `SELECT `+ccols+` FROM campaigns
			WHERE state IN (?, ?) OR (state IN (?, ?, ?) AND wrapped = 0)`, Running, Paused, Stopped, Completed, FailedC)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			r, err := scanCampaign(rows)
			if err == nil && want[r.ID] {
				out[r.ID] = &snapped{r: r}
			}
			return err
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT `+ecols+` FROM campaign_experiments WHERE state IN (?, ?, ?) ORDER BY campaign_id, seq`, Proposed, Dispatched, InFlight)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			e, err := scanExp(rows)
			if err != nil {
				return err
			}
			if c := out[e.Campaign]; c != nil {
				c.nonfinal++
				if e.State != Proposed {
					c.inflight = append(c.inflight, e)
				}
			}
			return nil
		})
	})
	return out, err
}

// publish commits the final batches of the campaigns this runner holds as
// dataset versions, and wraps up ended campaigns (their surrogate).
func (s *Service) publish(ctx context.Context) error {
	ids, err := s.acquire(ctx)
	if err != nil || len(ids) == 0 {
		return err
	}
	// Which campaigns have work here, in two queries: a batch final and
	// not committed, or an end not wrapped up.
	type due struct {
		state              string
		batches, committed int
		open               *int
	}
	held := map[string]bool{}
	for _, id := range ids {
		held[id] = true
	}
	ds := map[string]*due{}
	err = s.db.View(ctx, func(tx store.Tx) error {
		clear(ds)
		rows, err := tx.Query(ctx, `SELECT id, state, batches, committed_batch FROM campaigns
			WHERE state IN (?, ?) OR (state IN (?, ?, ?) AND wrapped = 0)`, Running, Paused, Stopped, Completed, FailedC)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var id string
			d := &due{}
			err := rows.Scan(&id, &d.state, &d.batches, &d.committed)
			if held[id] {
				ds[id] = d
			}
			return err
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT campaign_id, MIN(batch) FROM campaign_experiments WHERE state IN (?, ?, ?) GROUP BY campaign_id`, Proposed, Dispatched, InFlight)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var id string
			var b int
			err := rows.Scan(&id, &b)
			if d := ds[id]; d != nil {
				d.open = &b
			}
			return err
		})
	})
	if err != nil {
		return err
	}
	for _, id := range ids {
		d := ds[id]
		if d == nil {
			continue
		}
		done := d.batches
		if d.open != nil {
			done = *d.open - 1
		}
		ended := d.state != Running && d.state != Paused
		if done > d.committed && s.cat != nil || ended && d.open == nil {
			if err := s.results(ctx, id); err != nil && !errors.IsErr(err, errLease) {
				return err
			}
		}
	}
	return nil
}

// leaseName is the name of campaign id's lease (internal/lease).
func leaseName(id string) string { return "campaign:" + id }

// heldLease is a campaign lease this runner holds, and when the request
// that took or last renewed it was sent (this process's clock).
type heldLease struct {
	l    lease.Lease
	sent time.Time
}

// acquire returns the campaigns this runner holds a lease on, taking
// free or expired leases (and, at once, those its own ID held before a
// restart) and renewing its own when half spent. Who holds what is read
// in one query; a campaign another runner holds costs nothing more.
//
// The run loop and the results loop both call it; acquireMu makes them
// take turns (two Reclaims of one lease at once would each fence the
// other's token). It holds no lock that a transaction waits for: leaseMu
// guards only the map of held leases and is never held across a store
// call, because fence takes it inside a write transaction — on SQLite
// the one write connection — so holding it while waiting for a
// connection (Renew, Reclaim) deadlocked both loops for good.
func (s *Service) acquire(ctx context.Context) ([]string, error) {
	s.acquireMu.Lock()
	defer s.acquireMu.Unlock()
	var live []string
	err := s.db.View(ctx, func(tx store.Tx) error {
		live = live[:0]
		rows, err := tx.Query(ctx, `SELECT id FROM campaigns
			WHERE state IN (?, ?) OR (state IN (?, ?, ?) AND wrapped = 0) ORDER BY created_at, id`, Running, Paused, Stopped, Completed, FailedC)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var id string
			err := rows.Scan(&id)
			live = append(live, id)
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	current, err := s.leases.List(ctx)
	if err != nil {
		return nil, err
	}
	holders := make(map[string]lease.Lease, len(current))
	for _, l := range current {
		holders[l.Name] = l
	}
	ttl := s.leaseTTL()
	var ids []string
	var errs []error
	isLive := make(map[string]bool, len(live))
	for _, id := range live {
		isLive[id] = true
		name := leaseName(id)
		h, mine := s.heldLease(id)
		cur, taken := holders[name]
		if mine && (!taken || cur.Token != h.l.Token) {
			s.setHeld(id, nil) // expired or taken over: this runner lost it
			mine = false
		}
		switch {
		case mine && time.Since(h.sent) < ttl/2:
		case mine:
			sent := time.Now()
			nl, err := s.leases.Renew(ctx, name, s.me, h.l.Token, ttl)
			if err != nil {
				s.setHeld(id, nil)
				if !errors.Is(errors.Conflict, err) {
					errs = append(errs, err)
				}
				continue
			}
			s.setHeld(id, &heldLease{nl, sent})
		case !taken || cur.Holder == s.me:
			sent := time.Now()
			nl, ok, err := s.leases.Reclaim(ctx, name, s.me, ttl)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if !ok {
				continue
			}
			s.setHeld(id, &heldLease{nl, sent})
		default:
			continue // another runner drives it
		}
		ids = append(ids, id)
	}
	s.leaseMu.Lock()
	for id := range s.held {
		if !isLive[id] {
			delete(s.held, id)
		}
	}
	s.leaseMu.Unlock()
	return ids, errors.Join(errs...)
}

// heldLease returns the lease this runner holds on campaign id.
func (s *Service) heldLease(id string) (heldLease, bool) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	h, ok := s.held[id]
	return h, ok
}

// setHeld records the lease this runner holds on campaign id (nil: none).
func (s *Service) setHeld(id string, h *heldLease) {
	s.leaseMu.Lock()
	defer s.leaseMu.Unlock()
	if h == nil {
		delete(s.held, id)
	} else {
		s.held[id] = *h
	}
}

// release frees campaign id's lease (after it is wrapped up: nothing is
// left to drive).
func (s *Service) release(ctx context.Context, id string) {
	s.acquireMu.Lock()
	defer s.acquireMu.Unlock()
	h, ok := s.heldLease(id)
	s.setHeld(id, nil)
	if ok {
		if err := s.leases.Release(ctx, leaseName(id), s.me, h.l.Token); err != nil && !errors.Is(errors.Conflict, err) && s.OnError != nil {
			s.OnError(err)
		}
	}
}

// ask is a question to an executor about an experiment in flight, and
// its answer.
type ask struct {
	r   *record
	x   ExperimentExecutor
	e   *experiment
	res *lab.Result
	err error
}

// backingOff says whether e's node, in trouble, is to be left alone this
// round: a node in trouble is asked less and less often (up to every
// 30 s), so that it neither holds up the round nor is hammered.
func (s *Service) backingOff(e *experiment) bool {
	v, ok := s.trouble.Load(e.key)
	if !ok {
		return false
	}
	t := v.(*trouble)
	wait := min(30*time.Second, s.now().Sub(t.since)/4)
	return s.now().Sub(t.last) < wait
}

// pollConcurrency bounds the nodes a round asks at once.
const pollConcurrency = 16

// pollWait is how long a round waits for the nodes' answers: a node that
// takes longer is answered for in a later round (and not asked again
// meanwhile), so that one slow node does not hold up the others.
func (s *Service) pollWait() time.Duration { return min(s.callTimeout(), time.Second) }

// polling is a question still out, or its answer not yet used.
type polling struct {
	done bool
	res  *lab.Result
	err  error
}

// pollAll asks about every experiment of as: those on different
// instruments at once (at most pollConcurrency at a time), those on one
// instrument one after another, each within CallTimeout. It returns the
// asks answered within wait (0: all of them), or earlier: an answer that
// comes late is kept for the next round.
func (s *Service) pollAll(ctx context.Context, as []*ask, wait time.Duration) []*ask {
	s.pollMu.Lock()
	if s.polls == nil {
		s.polls = map[string]*polling{}
	}
	var out, fresh []*ask
	for _, a := range as {
		p, ok := s.polls[a.e.key]
		switch {
		case !ok:
			s.polls[a.e.key] = &polling{}
			fresh = append(fresh, a)
		case p.done:
			a.res, a.err = p.res, p.err
			delete(s.polls, a.e.key)
			out = append(out, a)
		}
	}
	s.pollMu.Unlock()
	if len(fresh) == 0 {
		return out
	}
	// Experiments by instrument (a job, with none, on its own).
	var groups [][]*ask
	at := map[string]int{}
	for _, a := range fresh {
		if in := a.e.Instrument; in != "" {
			if i, ok := at[in]; ok {
				groups[i] = append(groups[i], a)
				continue
			}
			at[in] = len(groups)
		}
		groups = append(groups, []*ask{a})
	}
	left := make(chan struct{}, len(fresh))
	go func() {
		sem := make(chan struct{}, pollConcurrency)
		for _, g := range groups {
			sem <- struct{}{}
			go func() {
				defer func() { <-sem }()
				for _, a := range g {
					cctx, cancel := context.WithTimeout(ctx, s.callTimeout())
					res, err := a.x.Poll(cctx, &a.r.Campaign, &a.e.Experiment, a.e.key)
					cancel()
					s.pollMu.Lock()
					if p := s.polls[a.e.key]; p != nil {
						p.done, p.res, p.err = true, res, err
					}
					s.pollMu.Unlock()
					left <- struct{}{}
				}
			}()
		}
	}()
	var timeout <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		timeout = t.C
	}
waiting:
	for range fresh {
		select {
		case <-left:
		case <-timeout:
			break waiting
		case <-ctx.Done():
			break waiting
		}
	}
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	for _, a := range fresh {
		if p := s.polls[a.e.key]; p != nil && p.done {
			a.res, a.err = p.res, p.err
			delete(s.polls, a.e.key)
			out = append(out, a)
		}
	}
	// In the order of as: by campaign, by seq.
	pos := make(map[*ask]int, len(as))
	for i, a := range as {
		pos[a] = i
	}
	slices.SortFunc(out, func(a, b *ask) int { return pos[a] - pos[b] })
	return out
}

// observed reads the answers as (about experiments of one campaign, in
// seq order): it returns what is to be recorded (final results, and
// experiments the node has, to mark running; nil when nothing), and says
// whether the campaign's experiments changed otherwise.
func (s *Service) observed(ctx context.Context, as []*ask) (*settleBatch, bool, error) {
	r := as[0].r
	state := r.State
	b := &settleBatch{r: r}
	sent := false
	var err error
	for _, a := range as {
		if err = s.answered(ctx, a, &b.outs, &b.running, &sent); err != nil {
			break
		}
	}
	ch := len(b.outs) > 0 || sent || r.State != state
	if len(b.outs) == 0 && len(b.running) == 0 {
		b = nil
	}
	return b, ch, err
}

// answered handles one answer: a final result is added to outs, an
// experiment the node has now to running; one the node does not know is
// sent (again).
func (s *Service) answered(ctx context.Context, a *ask, outs *[]settling, running *[]*experiment, sent *bool) error {
	r, x, e, res, err := a.r, a.x, a.e, a.res, a.err
	// A dispatched experiment was sent, or was about to be when the runner
	// stopped: ask the node; one it does not know is sent (again: the
	// same key), one it knows is running.
	if errors.Is(errors.NotExist, err) {
		*sent = true
		cctx, cancel := context.WithTimeout(ctx, s.callTimeout())
		defer cancel()
		return s.send(ctx, cctx, r, x, e, true)
	}
	if err != nil {
		return s.troubled(ctx, r, e, err)
	}
	s.trouble.Delete(e.key)
	// A compute job's ID (the result's) is recorded on the experiment as
	// soon as it is known.
	if res != nil && res.ID != "" && res.ID != e.key && r.Spec.Executor.Job != nil && res.ID != e.Job {
		e.Job = truncate(res.ID, 128)
		if !res.State.Final() {
			if err := s.db.Update(ctx, func(tx store.Tx) error {
				if err := s.fence(ctx, tx, r.ID); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `UPDATE campaign_experiments SET job = ? WHERE id = ? AND attempt = ?`, e.Job, e.ID, e.Attempt)
				return err
			}); err != nil {
				return err
			}
		}
	}
	if res != nil && res.State.Final() {
		*outs = append(*outs, settling{e, outcomeOf(&r.Spec, res)})
		return nil
	}
	if e.State == Dispatched {
		*running = append(*running, e)
		return nil
	}
	return s.checkStuck(ctx, r, e)
}

// markRunning records that the node has e's current attempt.
func (s *Service) markRunning(ctx context.Context, r *record, e *experiment) error {
	return s.settleAll(ctx, r, nil, []*experiment{e})
}

// send asks the executor to start e's current attempt (again: Start is
// idempotent by key) and, if mark, records that it runs. (Right after
// dispatch the next poll says so: for a short action, one write less.)
func (s *Service) send(ctx, cctx context.Context, r *record, x ExperimentExecutor, e *experiment, mark bool) error {
	err := x.Start(cctx, &r.Campaign, &e.Experiment, e.key)
	if errors.Is(errors.Invalid, err) {
		s.trouble.Delete(e.key)
		return s.settle(ctx, r, e, outcome{state: ExpFailed, reason: "refused: " + truncate(errors.SafeMessage(err), 1024), final: true})
	}
	if err != nil {
		return s.troubled(ctx, r, e, err)
	}
	s.trouble.Delete(e.key)
	if !mark || e.State != Dispatched {
		return nil
	}
	return s.markRunning(ctx, r, e)
}

// trouble is when a node first failed to answer about an experiment, and
// when it was last asked.
type trouble struct{ since, last time.Time }

// troubled notes that e's node did not answer; after TransientLimit of
// that the campaign pauses with the reason rather than ask forever.
func (s *Service) troubled(ctx context.Context, r *record, e *experiment, cause error) error {
	now := s.now()
	v, _ := s.trouble.LoadOrStore(e.key, &trouble{since: now})
	t := v.(*trouble)
	t.last = now
	since := t.since
	if now.Sub(since) < s.transientLimit() || r.State != Running {
		return nil
	}
	who := "instrument " + e.Instrument
	if e.Instrument == "" {
		who = "the executor"
	}
	reason := fmt.Sprintf("%s has not answered for %s about experiment %d: %s", who, now.Sub(since).Round(time.Second), e.Seq, truncate(errors.SafeMessage(cause), 512))
	return s.pauseRunner(ctx, r, reason)
}

var nominal sync.Map // instrument/action → seconds

// checkStuck pauses the campaign when e has run far past its action's
// nominal duration.
func (s *Service) checkStuck(ctx context.Context, r *record, e *experiment) error {
	if r.State != Running || e.Instrument == "" || e.DispatchedAt == nil {
		return nil
	}
	fleet := s.getFleet()
	if fleet == nil {
		return nil
	}
	k := e.Instrument + "/" + r.Spec.Executor.Action
	v, ok := nominal.Load(k)
	if !ok {
		a, err := fleet.Action(ctx, e.Instrument, r.Spec.Executor.Action)
		if err != nil {
			return nil
		}
		v = a.NominalSeconds
		nominal.Store(k, v)
	}
	n := v.(float64)
	if n <= 0 {
		return nil
	}
	factor, grace := s.StuckAfter, s.StuckGrace
	if factor <= 0 {
		factor = 10
	}
	if grace <= 0 {
		grace = 10 * time.Minute
	}
	limit := time.Duration(factor*n*float64(time.Second)) + grace
	if ran := s.now().Sub(*e.DispatchedAt); ran > limit {
		return s.pauseRunner(ctx, r, fmt.Sprintf("experiment %d has run on instrument %s for %s, far past its nominal %s", e.Seq, e.Instrument,
			ran.Round(time.Second), time.Duration(n*float64(time.Second)).Round(time.Second)))
	}
	return nil
}

// pauseRunner pauses a running campaign the runner holds, with reason.
func (s *Service) pauseRunner(ctx context.Context, r *record, reason string) error {
	var paused bool
	err := s.db.Update(ctx, func(tx store.Tx) error {
		if err := s.fence(ctx, tx, r.ID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE campaigns SET state = ?, reason = ?, updated_at = ? WHERE id = ? AND state = ?`, Paused, truncate(reason, 1024), store.T(s.now()), r.ID, Running)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		paused = n == 1
		return nil
	})
	if err == nil && paused {
		r.State, r.Reason = Paused, reason
		s.system(ctx, &r.Campaign, "pause", reason)
	}
	return err
}

// halted pauses every running campaign with experiments queued or in
// flight on an instrument that was e-stopped, or found in error or
// offline. Its cancelled experiments are tried again after Resume.
func (s *Service) halted(instrumentID, reason string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	why := truncate("instrument "+instrumentID+" halted: "+reason, 1024)
	var hit []*record
	err := s.db.Update(ctx, func(tx store.Tx) error {
		hit = hit[:0]
		rows, err := tx.Query(ctx, `SELECT `+ccols+` FROM campaigns c WHERE state = ? AND EXISTS (SELECT 1 FROM campaign_experiments e
			WHERE e.campaign_id = c.id AND e.state IN (?, ?, ?))`, Running, Proposed, Dispatched, InFlight)
		if err != nil {
			return err
		}
		var cs []*record
		if err := rows.Each(func() error {
			r, err := scanCampaign(rows)
			if err == nil && slices.Contains(r.instruments, instrumentID) {
				cs = append(cs, r)
			}
			return err
		}); err != nil {
			return err
		}
		for _, r := range cs {
			if _, err := tx.Exec(ctx, `UPDATE campaigns SET state = ?, reason = ?, updated_at = ? WHERE id = ? AND state = ?`, Paused, why, store.T(s.now()), r.ID, Running); err != nil {
				return err
			}
			hit = append(hit, r)
		}
		return nil
	})
	if err != nil {
		if s.OnError != nil {
			s.OnError(errors.E(errors.Op("campaign.halted"), err))
		}
		return
	}
	for _, r := range hit {
		s.system(ctx, &r.Campaign, "pause", why)
	}
}

// forget clears the trouble clocks of a campaign's experiments.
func (s *Service) forget(id string) {
	prefix := "exp_" + strings.TrimPrefix(id, "cmp_") + "-"
	s.pollMu.Lock()
	for k, p := range s.polls {
		if p.done && strings.HasPrefix(k, prefix) {
			delete(s.polls, k)
		}
	}
	s.pollMu.Unlock()
	s.trouble.Range(func(k, _ any) bool {
		if strings.HasPrefix(k.(string), prefix) {
			s.trouble.Delete(k)
		}
		return true
	})
}

// outcome is what became of one attempt.
type outcome struct {
	state  string // Observed, ExpFailed or Cancelled
	values map[string]float64
	reason string
	final  bool // a failure not worth retrying (a refused request)
}

func outcomeOf(sp *Spec, res *lab.Result) outcome {
	switch res.State {
	case lab.Succeeded:
		vals := map[string]float64{}
		for k, v := range res.Values {
			if !math.IsNaN(v) && !math.IsInf(v, 0) && len(k) <= 128 {
				vals[k] = v
			}
		}
		if _, err := sp.Measure(vals); err != nil {
			return outcome{state: ExpFailed, reason: "the result is incomplete: " + truncate(errors.SafeMessage(err), 512)}
		}
		return outcome{state: Observed, values: vals}
	case lab.Cancelled:
		return outcome{state: Cancelled, reason: truncate(res.Reason, 1024)}
	default:
		return outcome{state: ExpFailed, reason: truncate(res.Reason, 1024)}
	}
}

// settling is an outcome of an experiment's current attempt, to record.
type settling struct {
	e *experiment
	o outcome
}

// settle records the outcome of e's current attempt and feeds the
// optimizer, in one transaction. A failure is retried (a new attempt, a
// new key) while spec.Retry.Attempts allows; a cancelled attempt (an
// e-stop) is tried again unless the campaign is ending.
func (s *Service) settle(ctx context.Context, r *record, e *experiment, o outcome) error {
	return s.settleAll(ctx, r, []settling{{e, o}}, nil)
}

// settleAll is settle for each of outs (experiments of r), and records
// that the node has each experiment of running, in one transaction that
// feeds the optimizer once.
func (s *Service) settleAll(ctx context.Context, r *record, outs []settling, running []*experiment) error {
	return s.settleBatches(ctx, []*settleBatch{{r: r, outs: outs, running: running}}, true)
}

// settleBatch is what is to be recorded of one campaign's experiments.
type settleBatch struct {
	r       *record
	outs    []settling
	running []*experiment
}

// settleBatches records bs in one transaction (on SQLite's single writer,
// one write instead of one per campaign). A campaign whose lease this
// runner lost is left alone: it fails the transaction only when strict.
func (s *Service) settleBatches(ctx context.Context, bs []*settleBatch, strict bool) error {
	now := s.now().UTC()
	var keeps []func()
	var done []*settleBatch
	err := s.db.Update(ctx, func(tx store.Tx) error {
		keeps, done = keeps[:0], done[:0]
		for _, b := range bs {
			if err := s.fence(ctx, tx, b.r.ID); err != nil {
				if !strict && errors.IsErr(err, errLease) {
					continue
				}
				return err
			}
			for _, e := range b.running {
				if _, err := tx.Exec(ctx, `UPDATE campaign_experiments SET state = ?, job = ? WHERE id = ? AND attempt = ? AND state = ?`, InFlight, e.Job, e.ID, e.Attempt, Dispatched); err != nil {
					return err
				}
			}
			final := false
			for _, so := range b.outs {
				f, err := s.settleTx(ctx, tx, b.r, so.e, so.o, now)
				if err != nil {
					return err
				}
				final = final || f
			}
			done = append(done, b)
			if !final {
				continue
			}
			keep, err := s.feed(ctx, tx, b.r)
			if err != nil {
				return err
			}
			if keep != nil {
				keeps = append(keeps, keep)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, b := range done {
		for _, e := range b.running {
			e.State = InFlight
		}
	}
	for _, keep := range keeps {
		keep()
	}
	return nil
}

// settleTx records o for e's current attempt in tx, and says whether the
// experiment is final now (and the optimizer is to be fed).
func (s *Service) settleTx(ctx context.Context, tx store.Tx, r *record, e *experiment, o outcome, now time.Time) (bool, error) {
	var st, cst, finishing string
	var attempt int
	if err := tx.QueryRow(ctx, `SELECT e.state, e.attempt, c.state, c.finishing FROM campaign_experiments e JOIN campaigns c ON c.id = e.campaign_id WHERE e.id = ?`, e.ID).
		Scan(&st, &attempt, &cst, &finishing); err != nil {
		return false, err
	}
	if attempt != e.Attempt || (st != Dispatched && st != InFlight && st != Proposed) {
		return false, nil // settled already
	}
	ending := finishing != "" || (cst != Running && cst != Paused)
	retry := false
	failures := e.failures
	switch o.state {
	case Observed:
		vals, _ := json.Marshal(o.values)
		_, err := tx.Exec(ctx, `UPDATE campaign_experiments SET state = ?, vals = ?, job = ?, reason = '', ended_at = ? WHERE id = ?`,
			Observed, string(vals), e.Job, store.T(now), e.ID)
		return true, err
	case Cancelled:
		retry = !ending
	default:
		failures++
		retry = !o.final && !ending && failures < r.Spec.Retry.Attempts
	}
	if retry {
		_, err := tx.Exec(ctx, `UPDATE campaign_experiments SET state = ?, attempt = ?, failures = ?, instrument = NULL, job = '', dispatch_key = '', reason = ?, dispatched_at = NULL WHERE id = ?`,
			Proposed, e.Attempt+1, failures, o.reason, e.ID)
		return false, err
	}
	_, err := tx.Exec(ctx, `UPDATE campaign_experiments SET state = ?, failures = ?, job = ?, reason = ?, ended_at = ? WHERE id = ?`, o.state, failures, e.Job, o.reason, store.T(now), e.ID)
	return true, err
}

// feed gives the optimizer the final experiments it has not seen, in seq
// order, stopping at the first that is not final; a result that reaches
// the target starts the campaign's end. It returns what keeps the fed
// optimizer for the next round, to call once tx is committed (nil when
// nothing was fed).
func (s *Service) feed(ctx context.Context, tx store.Tx, r *record) (func(), error) {
	id, sp := r.ID, &r.Spec
	var fed int
	var optJSON, finishing string
	if err := tx.QueryRow(ctx, `SELECT fed, optimizer, finishing FROM campaigns WHERE id = ?`, id).Scan(&fed, &optJSON, &finishing); err != nil {
		return nil, err
	}
	es, err := experiments(ctx, tx, id, `seq >= ?`, fed)
	if err != nil {
		return nil, err
	}
	var opt *bo.Optimizer
	reached := ""
	n := 0
	for _, e := range es {
		if e.State != Observed && e.State != ExpFailed && e.State != Cancelled {
			break
		}
		if opt == nil {
			if opt, err = s.takeOpt(id, sp, optJSON); err != nil {
				return nil, err
			}
		}
		n++
		if e.State != Observed {
			if row := failureRow(sp, opt); e.State == ExpFailed && sp.Retry.LearnFailures && row != nil {
				if err := opt.Observe([]bo.Point{e.point}, [][]float64{row}); err != nil {
					return nil, errors.E(errors.Internal, err)
				}
			} else {
				opt.Cancel([]bo.Point{e.point})
			}
			continue
		}
		row, err := sp.Measure(e.Values)
		if err != nil {
			return nil, errors.E(errors.Internal, err)
		}
		if err := opt.Observe([]bo.Point{e.point}, [][]float64{row}); err != nil {
			return nil, errors.E(errors.Internal, err)
		}
		if reached == "" && finishing == "" && sp.Reached(e.Values) {
			reached = fmt.Sprintf("target reached by experiment %d", e.Seq)
		}
	}
	if n == 0 {
		return nil, nil
	}
	st, err := encodeOpt(opt)
	if err != nil {
		return nil, err
	}
	if reached != "" {
		finishing = reached
		if err := cancelProposed(ctx, tx, id, "the campaign reached its target", s.now()); err != nil {
			return nil, err
		}
	}
	if _, err = tx.Exec(ctx, `UPDATE campaigns SET optimizer = ?, fed = ?, finishing = ? WHERE id = ?`, st, fed+n, finishing, id); err != nil {
		return nil, err
	}
	return func() { s.putOpt(id, st, opt) }, nil
}

// failureRow is what the optimizer learns from a failed experiment when
// told to (retry.learn_failures): the worst value seen of each objective,
// and each outcome constraint violated — an infeasible point. nil when
// nothing has been observed yet.
func failureRow(sp *Spec, opt *bo.Optimizer) []float64 {
	_, ys := opt.Observations()
	if len(ys) == 0 {
		return nil
	}
	row := make([]float64, 0, len(sp.Objectives)+len(sp.OutcomeConstraints))
	for i, o := range sp.Objectives {
		w := ys[0][i]
		for _, y := range ys {
			if o.Goal == "min" {
				w = max(w, y[i])
			} else {
				w = min(w, y[i])
			}
		}
		row = append(row, w)
	}
	for _, c := range sp.OutcomeConstraints {
		d := 1 + math.Abs(c.Bound)
		if c.Rel == "<=" {
			row = append(row, c.Bound+d)
		} else {
			row = append(row, c.Bound-d)
		}
	}
	return row
}

func cancelProposed(ctx context.Context, tx store.Tx, id, reason string, now time.Time) error {
	_, err := tx.Exec(ctx, `UPDATE campaign_experiments SET state = ?, reason = ?, ended_at = ? WHERE campaign_id = ? AND state = ?`, Cancelled, reason, store.T(now), id, Proposed)
	return err
}

// advance ends, proposes for and commits the results of campaign id as
// due. It returns the campaign as it is after.
func (s *Service) advance(ctx context.Context, id string) (*record, error) {
	r, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	var nonfinal, inflight int
	err = s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN state <> ? THEN 1 ELSE 0 END), 0) FROM campaign_experiments WHERE campaign_id = ? AND state IN (?, ?, ?)`,
			Proposed, id, Proposed, Dispatched, InFlight).Scan(&nonfinal, &inflight)
	})
	if err != nil {
		return nil, err
	}
	return s.advanceWith(ctx, r, nonfinal, inflight, nil)
}

// advanceWith is advance for r as just read, with nonfinal experiments of
// which inflight are dispatched or running.
//
// With props, a proposal is added to it rather than stored.
func (s *Service) advanceWith(ctx context.Context, r *record, nonfinal, inflight int, props *[]*proposal) (*record, error) {
	id := r.ID
	active := r.State == Running || r.State == Paused

	// The end: budget spent, wall time up, or (fed) target reached.
	if active && r.finishing == "" {
		why := ""
		if b := r.Spec.Budget.Experiments; b > 0 && r.nextSeq >= b && r.fed >= r.nextSeq {
			why = fmt.Sprintf("the budget of %d experiments is spent", b)
		}
		if w := r.Spec.Budget.WallTime.Duration; w > 0 && r.StartedAt != nil && s.now().Sub(*r.StartedAt) >= w {
			why = "the wall-time budget of " + w.String() + " is spent"
		}
		if why != "" {
			err := s.db.Update(ctx, func(tx store.Tx) error {
				if err := s.fence(ctx, tx, id); err != nil {
					return err
				}
				if err := cancelProposed(ctx, tx, id, "the campaign ended: "+why, s.now()); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `UPDATE campaigns SET finishing = ? WHERE id = ? AND finishing = ''`, why, id)
				return err
			})
			if err != nil {
				return nil, err
			}
			return s.advance(ctx, id)
		}
	}
	if active && r.finishing != "" && inflight == 0 {
		now := s.now().UTC()
		err := s.db.Update(ctx, func(tx store.Tx) error {
			if err := s.fence(ctx, tx, id); err != nil {
				return err
			}
			if err := cancelProposed(ctx, tx, id, "the campaign ended: "+r.finishing, now); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE campaigns SET state = ?, reason = ?, ended_at = ?, updated_at = ? WHERE id = ? AND state IN (?, ?)`,
				Completed, r.finishing, store.T(now), store.T(now), id, Running, Paused)
			return err
		})
		if err != nil {
			return nil, err
		}
		s.system(ctx, &r.Campaign, "complete", r.finishing)
		return s.advance(ctx, id)
	}
	if r.State == Running && r.finishing == "" {
		if props == nil {
			return r, s.propose(ctx, r, nonfinal)
		}
		p, err := s.suggest(ctx, r, nonfinal)
		if p != nil {
			*props = append(*props, p)
		}
		return r, err
	}
	return r, nil
}

// results commits campaign id's batches that are final and not yet
// committed, and wraps it up once it has ended and nothing is in flight.
func (s *Service) results(ctx context.Context, id string) error {
	r, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	var nonfinal int
	var minOpen *int
	err = s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*), MIN(batch) FROM campaign_experiments WHERE campaign_id = ? AND state IN (?, ?, ?)`,
			id, Proposed, Dispatched, InFlight).Scan(&nonfinal, &minOpen)
	})
	if err != nil {
		return err
	}
	done := r.batches
	if minOpen != nil {
		done = *minOpen - 1
	}
	// A dataset version per batch once it is final, in order.
	for b := r.committedBatch + 1; b <= done && s.cat != nil; b++ {
		if err := s.commitResults(ctx, r, b); err != nil {
			return err
		}
	}
	active := r.State == Running || r.State == Paused || r.State == Draft
	if !active && nonfinal == 0 && (done <= r.committedBatch || s.cat == nil) {
		return s.wrap(ctx, r)
	}
	return nil
}

// propose asks the optimizer for the next batch when the campaign has room
// for it in flight, and stores the suggestions with the optimizer's new
// state in one transaction.
func (s *Service) propose(ctx context.Context, r *record, nonfinal int) error {
	p, err := s.suggest(ctx, r, nonfinal)
	if err != nil || p == nil {
		return err
	}
	return s.writeProposals(ctx, []*proposal{p}, true)
}

// proposal is a campaign's next batch, with the optimizer's state after it.
type proposal struct {
	r      *record
	pts    []bo.Point
	opt    *bo.Optimizer
	st     string
	stored bool
}

// suggest asks the optimizer for r's next batch when the campaign has
// room for it in flight (nil when not).
func (s *Service) suggest(ctx context.Context, r *record, nonfinal int) (*proposal, error) {
	batch, maxIF := max(1, r.Spec.Batch), max(1, r.Spec.MaxInFlight)
	if nonfinal+batch > maxIF {
		return nil, nil
	}
	n := batch
	if b := r.Spec.Budget.Experiments; b > 0 {
		n = min(n, b-r.nextSeq)
	}
	if n <= 0 {
		return nil, nil
	}
	opt, err := s.takeOpt(r.ID, &r.Spec, r.opt)
	if err != nil {
		return nil, err
	}
	var pts []bo.Point
	if r.Spec.Optimizer.Random {
		pts = randomPoints(&r.Spec, r.nextSeq, n)
	}
	if len(pts) < n {
		var more []bo.Point
		t0 := time.Now()
		more, err = opt.Suggest(ctx, n-len(pts))
		s.suggesting.Add(int64(time.Since(t0)))
		pts = append(pts, more...)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, s.pauseRunner(ctx, r, "the optimizer could not suggest experiments: "+truncate(errors.SafeMessage(err), 512))
	}
	st, err := encodeOpt(opt)
	if err != nil {
		return nil, err
	}
	return &proposal{r: r, pts: pts, opt: opt, st: st}, nil
}

// writeProposals stores the suggestions of ps with the optimizers' new
// states, in one transaction. A campaign whose lease this runner lost is
// left alone: it fails the transaction only when strict.
func (s *Service) writeProposals(ctx context.Context, ps []*proposal, strict bool) error {
	now := s.now().UTC()
	err := s.db.Update(ctx, func(tx store.Tx) error {
		for _, p := range ps {
			p.stored = false
		}
		for _, p := range ps {
			r, pts := p.r, p.pts
			if err := s.fence(ctx, tx, r.ID); err != nil {
				if !strict && errors.IsErr(err, errLease) {
					continue
				}
				return err
			}
			res, err := tx.Exec(ctx, `UPDATE campaigns SET optimizer = ?, next_seq = ?, batches = ? WHERE id = ? AND next_seq = ? AND state = ? AND finishing = ''`,
				p.st, r.nextSeq+len(pts), r.batches+1, r.ID, r.nextSeq, Running)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			p.stored = true
			for i, pt := range pts {
				seq := r.nextSeq + i
				params, _ := json.Marshal(r.Spec.FromPoint(pt))
				point, _ := json.Marshal(pt)
				if _, err := tx.Exec(ctx, `INSERT INTO campaign_experiments (id, campaign_id, seq, batch, attempt, failures, params, point, state, instrument, job, dispatch_key, vals, reason, proposed_at)
				VALUES (?, ?, ?, ?, 1, 0, ?, ?, ?, NULL, '', '', '', '', ?)`, experimentID(r.ID, seq), r.ID, seq, r.batches+1, string(params), string(point), Proposed, store.T(now)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.stored {
			s.putOpt(p.r.ID, p.st, p.opt)
		}
	}
	return nil
}

// randomPoints draws n points uniformly (log-uniformly for log params)
// from the search space, rejecting those that break its linear
// constraints: the random-search baseline (optimizer.random). The points
// depend only on the seed and the first seq, so a crash changes nothing.
func randomPoints(sp *Spec, seq, n int) []bo.Point {
	rng := rand.New(rand.NewPCG(sp.Seed, uint64(seq)))
	var out []bo.Point
	for tries := 0; len(out) < n && tries < 1000*n; tries++ {
		params := map[string]any{}
		for _, p := range sp.Params {
			switch {
			case len(p.Categories) > 0:
				params[p.Name] = p.Categories[rng.IntN(len(p.Categories))]
			case p.Low != nil && p.High != nil:
				lo, hi := *p.Low, *p.High
				var v float64
				if p.Log && lo > 0 {
					v = math.Exp(math.Log(lo) + rng.Float64()*(math.Log(hi)-math.Log(lo)))
				} else {
					v = lo + rng.Float64()*(hi-lo)
				}
				if p.Kind == "integer" {
					v = math.Min(hi, math.Max(lo, math.Round(v)))
				}
				params[p.Name] = v
			}
		}
		if pt, err := sp.ToPoint(params); err == nil {
			out = append(out, pt)
		}
	}
	return out
}

// queued is a campaign waiting to dispatch, as the fair-share policy sees it.
type queued struct {
	r        *record
	queue    []*experiment
	inflight int
}

// dispatch sends proposed experiments to free instruments. Fair share:
// each free instrument goes to the campaign, among those wanting it, that
// has had the least service (the fewest dispatches so far), ties to the
// one whose next experiment has waited longest. An instrument drives one
// experiment at a time (the store's reservation index).
func (s *Service) dispatch(ctx context.Context, live []*snapped) error {
	if len(live) == 0 {
		return nil
	}
	var qs []*queued
	byID := map[string]*queued{}
	for _, c := range live {
		if room := max(1, c.r.Spec.MaxInFlight) - len(c.inflight); room > 0 {
			q := &queued{r: c.r, inflight: len(c.inflight)}
			byID[c.r.ID] = q
			qs = append(qs, q)
		}
	}
	if len(qs) == 0 {
		return nil
	}
	reserved := map[string]bool{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT instrument FROM campaign_experiments WHERE state IN (?, ?) AND instrument IS NOT NULL`, Dispatched, InFlight)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var in string
			err := rows.Scan(&in)
			reserved[in] = true
			return err
		}); err != nil {
			return err
		}
		for _, q := range qs {
			q.queue = q.queue[:0]
		}
		rows, err = tx.Query(ctx, `SELECT `+ecols+` FROM campaign_experiments WHERE state = ? ORDER BY campaign_id, seq`, Proposed)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			e, err := scanExp(rows)
			if err != nil {
				return err
			}
			if q := byID[e.Campaign]; q != nil && q.inflight+len(q.queue) < max(1, q.r.Spec.MaxInFlight) {
				q.queue = append(q.queue, e)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	// Compute-job campaigns need no instrument.
	free := map[string]bool{}
	for _, q := range qs {
		if q.r.Spec.Executor.Job != nil {
			for len(q.queue) > 0 {
				if err := s.dispatchOne(ctx, q, ""); err != nil {
					return err
				}
			}
			continue
		}
		for _, in := range q.r.instruments {
			if !reserved[in] {
				free[in] = true
			}
		}
	}
	fleet := s.getFleet()
	if fleet == nil {
		return nil
	}
	insts := make([]string, 0, len(free))
	for in := range free {
		insts = append(insts, in)
	}
	sort.Strings(insts)
	for _, in := range insts {
		skip := map[*queued]bool{}
		for {
			var best *queued
			for _, q := range qs {
				if skip[q] || len(q.queue) == 0 || q.r.Spec.Executor.Job != nil || q.r.State != Running || !slices.Contains(q.r.instruments, in) {
					continue
				}
				if best == nil || q.r.dispatches < best.r.dispatches ||
					q.r.dispatches == best.r.dispatches && (q.queue[0].ProposedAt.Before(best.queue[0].ProposedAt) ||
						q.queue[0].ProposedAt.Equal(best.queue[0].ProposedAt) && q.r.ID < best.r.ID) {
					best = q
				}
			}
			if best == nil {
				break
			}
			e := best.queue[0]
			l, err := label.Parse(best.r.Label)
			if err != nil {
				return errors.E(errors.Internal, err)
			}
			params, err := best.r.Spec.ActionParams(e.Params)
			if err == nil {
				err = fleet.Admit(ctx, in, best.r.ID, l, lab.Request{ID: dispatchKey(e.ID, e.Attempt), Action: best.r.Spec.Executor.Action, Params: params})
			}
			switch {
			case err == nil:
			case errors.Is(errors.Invalid, err):
				best.queue = best.queue[1:]
				if err := s.settle(ctx, best.r, e, outcome{state: ExpFailed, reason: "refused: " + truncate(errors.SafeMessage(err), 1024), final: true}); err != nil {
					return err
				}
				continue
			case errors.Is(errors.Permission, err):
				if err := s.pauseRunner(ctx, best.r, "instrument "+in+" refused the campaign: "+truncate(errors.SafeMessage(err), 512)); err != nil {
					return err
				}
				continue
			case errors.Is(errors.Conflict, err):
				// Not now (an interlock, a lock, an approval awaited);
				// another campaign may be admitted where this one is not.
				// The campaign says why it waits.
				s.waiting.Store(best.r.ID, truncate(errors.SafeMessage(err), 512))
				skip[best] = true
				continue
			default:
				if ctx.Err() != nil {
					return ctx.Err()
				}
				skip[best] = true
				continue
			}
			if err := s.dispatchOne(ctx, best, in); err != nil {
				if errors.Is(errors.Exist, err) {
					break // reserved meanwhile by another runner
				}
				return err
			}
			break
		}
	}
	return nil
}

// dispatchOne records the head of q's queue dispatched to instrument in
// (with its key), then asks the executor to start it.
func (s *Service) dispatchOne(ctx context.Context, q *queued, in string) error {
	s.waiting.Delete(q.r.ID)
	e := q.queue[0]
	q.queue = q.queue[1:]
	key := dispatchKey(e.ID, e.Attempt)
	now := s.now().UTC()
	err := s.db.Update(ctx, func(tx store.Tx) error {
		if err := s.fence(ctx, tx, q.r.ID); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE campaigns SET dispatches = dispatches + 1 WHERE id = ? AND state = ? AND finishing = ''`, q.r.ID, Running)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotRunning
		}
		res, err = tx.Exec(ctx, `UPDATE campaign_experiments SET state = ?, instrument = ?, dispatch_key = ?, dispatched_at = ? WHERE id = ? AND attempt = ? AND state = ?`,
			Dispatched, nullIf(in), key, store.T(now), e.ID, e.Attempt, Proposed)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotRunning
		}
		return nil
	})
	if errors.IsErr(err, errNotRunning) {
		q.queue = nil
		return nil
	}
	if err != nil {
		return err
	}
	q.r.dispatches++
	q.inflight++
	e.State, e.Instrument, e.key, e.DispatchedAt = Dispatched, in, key, &now
	x, err := s.executor(&q.r.Campaign)
	if err != nil {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, s.callTimeout())
	defer cancel()
	return s.send(ctx, cctx, q.r, x, e, false)
}

var errNotRunning = errors.E(errors.Conflict, errors.Msg("the campaign is not running"))

// owner is the campaign's owner, as whom its outputs are committed.
func (s *Service) owner(ctx context.Context, r *record) (*genesis.Principal, error) {
	return s.ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, r.Owner)
}

// commitResults commits the campaign's observations through batch b as a
// version of its dataset, once per batch (CommitOutput is idempotent per
// activity ID, so a crash before the campaign records it redoes it once).
//
// Results of a campaign whose every instrument is a simulator (a fleet
// that implements Simulators says which) are synthetic data, generated by
// the campaign: see simulatedBy.
func (s *Service) commitResults(ctx context.Context, r *record, b int) error {
	var es []*experiment
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		es, err = experiments(ctx, tx, r.ID, `batch <= ? AND state IN (?, ?, ?)`, b, Observed, ExpFailed, Cancelled)
		return err
	})
	if err != nil {
		return err
	}
	name := r.Name + "-results"
	var out *catalog.Output
	if len(es) > 0 {
		dir, err := os.MkdirTemp(s.WorkDir, "campaign-")
		if err != nil {
			return errors.E(errors.Internal, err)
		}
		defer os.RemoveAll(dir)
		if err := writeObservations(filepath.Join(dir, "observations.csv"), &r.Spec, es); err != nil {
			return errors.E(errors.Internal, err)
		}
		p, err := s.owner(ctx, r)
		if err != nil {
			return err
		}
		l, err := label.Parse(r.Label)
		if err != nil {
			return errors.E(errors.Internal, err)
		}
		by, err := s.simulatedBy(ctx, r, l)
		if err != nil {
			return err
		}
		out, err = s.cat.CommitOutputBy(ctx, p, name, dir, l, r.priors, catalog.ActivityCampaign, r.ID+" batch "+strconv.Itoa(b), by)
		if err != nil {
			return err
		}
	}
	return s.db.Update(ctx, func(tx store.Tx) error {
		if err := s.fence(ctx, tx, r.ID); err != nil {
			return err
		}
		if out == nil {
			_, err := tx.Exec(ctx, `UPDATE campaigns SET committed_batch = ? WHERE id = ? AND committed_batch < ?`, b, r.ID, b)
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE campaigns SET committed_batch = ?, dataset = ?, dataset_version = ? WHERE id = ? AND committed_batch < ?`, b, name, out.Version, r.ID, b)
		r.committedBatch, r.Dataset, r.datasetVersion = b, name, out.Version
		return err
	})
}

// writeObservations writes every final experiment: seq, batch, attempt,
// state, instrument, the params, the outputs, reason.
func writeObservations(path string, sp *Spec, es []*experiment) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	head := []string{"seq", "batch", "attempt", "state", "instrument"}
	for _, p := range sp.Params {
		head = append(head, p.Name)
	}
	outs := sp.Outputs()
	head = append(append(head, outs...), "reason")
	w.Write(head)
	for _, e := range es {
		row := []string{strconv.Itoa(e.Seq), strconv.Itoa(e.Batch), strconv.Itoa(e.Attempt), e.State, e.Instrument}
		for _, p := range sp.Params {
			row = append(row, fmt.Sprint(e.Params[p.Name]))
		}
		for _, o := range outs {
			if v, ok := e.Values[o]; ok {
				row = append(row, strconv.FormatFloat(v, 'g', -1, 64))
			} else {
				row = append(row, "")
			}
		}
		w.Write(append(row, e.Reason))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// wrap registers an ended campaign's surrogate (the optimizer's state) as a
// model version trained on its last dataset version, and marks it done.
func (s *Service) wrap(ctx context.Context, r *record) error {
	model := r.Model
	if s.cat != nil && r.Dataset != "" && model == "" {
		dir, err := os.MkdirTemp(s.WorkDir, "campaign-")
		if err != nil {
			return errors.E(errors.Internal, err)
		}
		defer os.RemoveAll(dir)
		// The surrogate stands alone: its state with the pool.
		opt, err := decodeOpt(r.ID, &r.Spec, r.opt)
		if err != nil {
			return err
		}
		surrogate, err := opt.MarshalJSON()
		if err != nil {
			return errors.E(errors.Internal, err)
		}
		if err := os.WriteFile(filepath.Join(dir, "surrogate.json"), surrogate, 0o644); err != nil {
			return errors.E(errors.Internal, err)
		}
		c := r.Campaign
		if err := s.fill(ctx, &c); err != nil {
			return err
		}
		metrics := map[string]any{"experiments": c.Counts.Observed + c.Counts.Failed, "observed": c.Counts.Observed, "failed": c.Counts.Failed}
		if c.Best != nil {
			for _, o := range r.Spec.Objectives {
				metrics["best_"+o.Name] = c.Best.Values[r.Spec.outputName(o.Name)]
			}
		}
		mj, _ := json.Marshal(metrics)
		if err := os.WriteFile(filepath.Join(dir, "metrics.json"), mj, 0o644); err != nil {
			return errors.E(errors.Internal, err)
		}
		p, err := s.owner(ctx, r)
		if err != nil {
			return err
		}
		l, err := label.Parse(r.Label)
		if err != nil {
			return errors.E(errors.Internal, err)
		}
		model = r.Name + "-surrogate"
		_, err = s.cat.CommitModelOutput(ctx, p, catalog.ModelOutput{Name: model, Floor: l,
			Meta: catalog.ModelMeta{Framework: "genesis-bo", Task: "surrogate of campaign " + r.Name + " (Gaussian-process Bayesian optimization)"},
			Dir:  dir, Metrics: "metrics.json"}, filepath.Join(dir, "surrogate.json"),
			[]catalog.VersionRef{{Asset: r.Dataset, Version: r.datasetVersion}}, catalog.ActivityCampaign, r.ID)
		if err != nil {
			return err
		}
	}
	err := s.db.Update(ctx, func(tx store.Tx) error {
		if err := s.fence(ctx, tx, r.ID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE campaigns SET wrapped = 1, model = ?, lease_owner = '', lease_until = 0 WHERE id = ?`, model, r.ID)
		return err
	})
	if err == nil {
		s.dropOpt(r.ID)
		s.release(ctx, r.ID)
	}
	return err
}

// Simulators is implemented by fleets that know which instruments are
// simulators (instruments.Registry); found by type assertion.
type Simulators interface {
	Simulated(ctx context.Context, instrumentID string) (bool, error)
}

// simulatedBy returns the campaign as the generator of its results when
// it runs on instruments only and all of them are simulators; nil
// otherwise (a compute-job campaign, a real instrument, a fleet that
// cannot tell).
func (s *Service) simulatedBy(ctx context.Context, r *record, l label.Label) (*catalog.GeneratedBy, error) {
	sims, ok := s.getFleet().(Simulators)
	if !ok || r.Spec.Executor.Job != nil || len(r.instruments) == 0 {
		return nil, nil
	}
	for _, id := range r.instruments {
		sim, err := sims.Simulated(ctx, id)
		if errors.Is(errors.NotExist, err) {
			return nil, nil // removed since: it cannot tell, so measured
		}
		if err != nil || !sim {
			return nil, err
		}
	}
	return &catalog.GeneratedBy{Ref: catalog.GeneratorCampaign + ":" + r.ID, Label: l}, nil
}
