package store

import "time"

// Times are stored as BIGINT microseconds since the Unix epoch, UTC, which
// both backends compare and index the same way.

// T converts a time for storage.
func T(t time.Time) int64 { return t.UnixMicro() }

// FromT converts a stored time back.
func FromT(us int64) time.Time { return time.UnixMicro(us).UTC() }

// NullT converts an optional time for storage (nil → NULL).
func NullT(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// FromNullT converts an optional stored time back.
func FromNullT(us *int64) *time.Time {
	if us == nil {
		return nil
	}
	t := FromT(*us)
	return &t
}
