package policystore

import (
	"context"
	"time"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// DefaultFollowEvery is how often a Follower looks for a new policy.
const DefaultFollowEvery = time.Second

// Follower keeps an authorizer on the latest stored policy. A policy is
// replaced through one replica (PUT /api/v1/policy activates it there at
// once); every other replica on the same store runs a Follower, which
// activates it within Every. Each look costs one indexed query; the
// source is read only when the version moved.
type Follower struct {
	DB    store.DB
	Authz *authz.Authorizer
	// Every is the interval between looks (DefaultFollowEvery when zero).
	Every time.Duration
	// OnError, when set, hears errors of the store and of a stored policy
	// that does not load (the active one then stays).
	OnError func(error)

	version int64 // the version last activated; 0 before the first look
	looked  bool
}

// Step looks once, activating the latest stored version if it is not the
// one this Follower last activated.
func (f *Follower) Step(ctx context.Context) error {
	const op errors.Op = "policystore.Follow"
	var latest int64
	if err := f.DB.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM policies`).Scan(&latest)
	}); err != nil {
		return errors.E(op, err)
	}
	if f.looked && latest == f.version {
		return nil
	}
	v, err := Active(ctx, f.DB)
	if err != nil {
		return errors.E(op, err)
	}
	if err := f.Authz.SetPolicySource([]byte(v.Source)); err != nil {
		return errors.E(op, errors.Internal, errors.Msg("the stored policy does not load; the active one stays"), err)
	}
	f.version, f.looked = v.Version, true
	return nil
}

// Run looks every Every until ctx ends.
func (f *Follower) Run(ctx context.Context) error {
	every := f.Every
	if every <= 0 {
		every = DefaultFollowEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := f.Step(ctx); err != nil && ctx.Err() == nil && f.OnError != nil {
			f.OnError(err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
