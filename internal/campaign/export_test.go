package campaign

import "time"

// SuggestTime is the time s spent in the optimizer's Suggest so far.
func SuggestTime(s *Service) time.Duration { return time.Duration(s.suggesting.Load()) }
