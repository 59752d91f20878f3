package store

import "context"

// commitHook is what WithCommitHook puts in a context.
type commitHook struct {
	db DB
	fn func(ctx context.Context, tx Tx) error
}

type commitHookKey struct{}

// WithCommitHook returns a context under which every Update on db runs fn
// inside its transaction, after the closure and just before the commit:
// what fn writes commits together with the closure's writes or not at all,
// and an error from fn rolls the transaction back and is Update's error.
// Updates on other databases, and View, do not run it. The API's
// idempotency keys use it to record, in the very transaction that commits
// a keyed request's changes, that they were committed.
func WithCommitHook(ctx context.Context, db DB, fn func(ctx context.Context, tx Tx) error) context.Context {
	return context.WithValue(ctx, commitHookKey{}, &commitHook{db: db, fn: fn})
}

// runCommitHook runs the hook ctx carries for db, if any.
func runCommitHook(ctx context.Context, db DB, tx Tx) error {
	h, ok := ctx.Value(commitHookKey{}).(*commitHook)
	if !ok || h.db != db {
		return nil
	}
	return h.fn(ctx, tx)
}
