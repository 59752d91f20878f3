package campaign

import (
	"context"
	"time"
)

// SuggestTime is the time s spent in the optimizer's Suggest so far.
func SuggestTime(s *Service) time.Duration { return time.Duration(s.suggesting.Load()) }

// Round is one round of the runner without committing results.
func Round(s *Service, ctx context.Context) error { return s.round(ctx, 0) }
