package httpapi

import "context"

// contextWithoutCancel keeps values (request ID) but not the deadline, for
// bookkeeping that must finish after the client went away.
func contextWithoutCancel(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }
