package campaign

import (
	"context"
	"time"

	"github.com/genesis-science/genesis/internal/store"
)

// SuggestTime is the time s spent in the optimizer's Suggest so far.
func SuggestTime(s *Service) time.Duration { return time.Duration(s.suggesting.Load()) }

// Round is one round of the runner without committing results.
func Round(s *Service, ctx context.Context) error { return s.round(ctx, 0) }

// Acquire takes and renews the campaign leases s may hold, as each round
// and each pass of the results loop begin.
func Acquire(s *Service, ctx context.Context) ([]string, error) { return s.acquire(ctx) }

// Fence is the lease check every write transaction of the runner begins
// with.
func Fence(s *Service, ctx context.Context, tx store.Tx, id string) error {
	return s.fence(ctx, tx, id)
}
