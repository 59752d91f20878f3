package lease

import (
	"context"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// Defaults: a holder that dies is replaced within DefaultTTL+DefaultRetry
// (8 s): its lease expires DefaultTTL after its last renewal at the
// latest, and every other replica tries to acquire it every DefaultRetry.
const (
	DefaultTTL   = 6 * time.Second
	DefaultRetry = 2 * time.Second
)

// Runner runs one piece of background work under a lease, on whichever
// replica holds it.
type Runner struct {
	Leases *Leases
	Name   string
	Holder string
	// TTL is the lease's time to live (DefaultTTL when zero); it is
	// renewed every TTL/3.
	TTL time.Duration
	// Retry is how often a replica that does not hold the lease tries to
	// take it (DefaultRetry when zero).
	Retry time.Duration
	// OnError, when set, hears errors of the store and of the work.
	OnError func(error)
	// OnChange, when set, hears when this replica takes (held true) or
	// stops holding (held false) the lease.
	OnChange func(l Lease, held bool)
}

type ctxKey struct{}

// FromContext returns the lease under which the work whose ctx this is
// runs: its Token fences writes (see Fence).
func FromContext(ctx context.Context) (Lease, bool) {
	l, ok := ctx.Value(ctxKey{}).(Lease)
	return l, ok
}

// NewContext returns ctx carrying l, as the work's context does (for
// callers that run one step of leased work themselves, and tests).
func NewContext(ctx context.Context, l Lease) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// Run runs work under the lease name on db, held by holder, with the
// defaults for everything else; see Runner.Run.
func Run(ctx context.Context, db store.DB, name, holder string, ttl time.Duration, work func(context.Context) error) error {
	return (&Runner{Leases: New(db), Name: name, Holder: holder, TTL: ttl}).Run(ctx, work)
}

// Run acquires the lease (retrying every Retry until it gets it), runs
// work with a context that is cancelled the moment the lease is lost — a
// renewal is refused, or TTL passes on this process's monotonic clock
// since the last successful renewal was sent — and renews it every TTL/3
// meanwhile. When work returns after losing the lease, Run tries to
// acquire it again; when work returns by itself, Run releases the lease
// and returns work's result (nil: the work is done). Run returns
// ctx's error when ctx ends, after work has returned and the lease has
// been released. One Runner never runs work twice at once.
func (r *Runner) Run(ctx context.Context, work func(context.Context) error) error {
	const op errors.Op = "lease.Run"
	ttl, retry := r.TTL, r.Retry
	if ttl == 0 {
		ttl = DefaultTTL
	}
	if retry == 0 {
		retry = DefaultRetry
	}
	if err := check(r.Name, r.Holder, ttl); err != nil {
		return errors.E(op, err)
	}
	for {
		sent := time.Now()
		l, ok, err := r.Leases.Acquire(ctx, r.Name, r.Holder, ttl)
		if err != nil && ctx.Err() == nil {
			r.report(err)
		}
		if ok {
			done, err := r.hold(ctx, l, sent, ttl, work)
			if done {
				return err
			}
			if err != nil && ctx.Err() == nil {
				r.report(err)
			}
		}
		select {
		case <-ctx.Done():
			return errors.E(op, errors.Canceled, ctx.Err())
		case <-time.After(retry):
		}
	}
}

// hold runs work while renewing l. done reports that work finished by
// itself (not because the lease was lost or ctx ended).
func (r *Runner) hold(ctx context.Context, l Lease, sent time.Time, ttl time.Duration, work func(context.Context) error) (done bool, err error) {
	if r.OnChange != nil {
		r.OnChange(l, true)
	}
	wctx, cancel := context.WithCancel(NewContext(ctx, l))
	defer cancel()
	result := make(chan error, 1)
	go func() { result <- work(wctx) }()
	deadline := time.NewTimer(time.Until(sent.Add(ttl)))
	defer deadline.Stop()
	tick := time.NewTicker(ttl / 3)
	defer tick.Stop()
	lost := false
	for !lost {
		select {
		case err := <-result:
			// The work ended by itself (or with ctx): free the lease for
			// others at once.
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), ttl)
			if rerr := r.Leases.Release(rctx, l.Name, l.Holder, l.Token); rerr != nil && !errors.Is(errors.Conflict, rerr) {
				r.report(rerr)
			}
			rcancel()
			if r.OnChange != nil {
				r.OnChange(l, false)
			}
			if ctx.Err() != nil {
				return true, errors.E(errors.Op("lease.Run"), errors.Canceled, ctx.Err())
			}
			return true, err
		case <-deadline.C:
			lost = true
		case <-tick.C:
			s := time.Now()
			// A renewal that takes longer than what is left of the lease
			// would come too late.
			rctx, rcancel := context.WithDeadline(ctx, sent.Add(ttl))
			nl, err := r.Leases.Renew(rctx, l.Name, l.Holder, l.Token, ttl)
			rcancel()
			switch {
			case err == nil:
				l, sent = nl, s
				deadline.Reset(time.Until(sent.Add(ttl)))
			case errors.Is(errors.Conflict, err):
				lost = true
			default:
				// The store did not answer: keep trying until the local
				// deadline passes.
				if ctx.Err() == nil {
					r.report(err)
				}
			}
		}
	}
	cancel()
	err = <-result
	if r.OnChange != nil {
		r.OnChange(l, false)
	}
	if ctx.Err() != nil {
		return true, errors.E(errors.Op("lease.Run"), errors.Canceled, ctx.Err())
	}
	if errors.Is(errors.Canceled, err) || errors.IsErr(err, context.Canceled) {
		err = nil // the work stopped because the lease was lost
	}
	return false, err
}

func (r *Runner) report(err error) {
	if r.OnError != nil {
		r.OnError(err)
	}
}

// Do runs work once under the lease name if it is free now, renewing it
// while work runs and releasing it after; it fails with errors.Conflict
// at once when another holder has it (one-shot work that must not run on
// two replicas at a time, such as an administrator's gc). work's context
// is cancelled if the lease is lost, and Do then reports Conflict.
func (l *Leases) Do(ctx context.Context, name, holder string, ttl time.Duration, work func(context.Context) error) error {
	const op errors.Op = "lease.Do"
	if ttl == 0 {
		ttl = DefaultTTL
	}
	sent := time.Now()
	got, ok, err := l.Acquire(ctx, name, holder, ttl)
	if err != nil {
		return errors.E(op, err)
	}
	if !ok {
		return errors.E(op, errors.Conflict, errors.Msg(name+" is running on another replica ("+got.Holder+"); try again when it has finished"))
	}
	r := &Runner{Leases: l, Name: name, Holder: holder, TTL: ttl}
	done, err := r.hold(ctx, got, sent, ttl, work)
	if !done {
		return errors.E(op, errors.Conflict, errors.Msg(name+" stopped: this replica lost its lease"))
	}
	return err
}
