package sites

import "time"

// SetClock replaces the registry's clock (tests).
func SetClock(r *Registry, now func() time.Time) { r.now = now }
