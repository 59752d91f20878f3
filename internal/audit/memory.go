package audit

import (
	"context"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

// Memory is an in-memory Interface for tests of code that appends audit
// records. It is not tamper-evident and not durable. If Fail is set, every
// append returns it (to test AU-5 paths).
type Memory struct {
	mu      sync.Mutex
	entries [][]byte
	Fail    error
	Now     func() time.Time
	// LabelKey keys label hashes (see Options.LabelKey); NewMemory sets a
	// random one.
	LabelKey LabelKey
}

// NewMemory returns an empty in-memory log.
func NewMemory() *Memory { return &Memory{LabelKey: NewLabelKey()} }

// LabelMatches is Log.LabelMatches.
func (m *Memory) LabelMatches(rec Record, label []byte) bool {
	return m.LabelKey.Matches(rec, label)
}

// Append implements Appender.
func (m *Memory) Append(ctx context.Context, r Record) (uint64, error) {
	const op errors.Op = "audit.Memory.Append"
	if err := ctx.Err(); err != nil {
		return 0, errors.E(op, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.Fail != nil {
		return 0, errors.E(op, errors.Unavailable, errors.Msg("audit log cannot be written"), m.Fail)
	}
	if r.Time.IsZero() {
		if m.Now != nil {
			r.Time = m.Now()
		} else {
			r.Time = time.Now()
		}
	}
	if m.LabelKey == nil {
		m.LabelKey = NewLabelKey()
	}
	e, err := EncodeRecord(keyLabel(m.LabelKey, r))
	if err != nil {
		return 0, errors.E(op, err)
	}
	m.entries = append(m.entries, e)
	return uint64(len(m.entries) - 1), nil
}

// AppendSync implements Appender; in memory it is the same as Append.
func (m *Memory) AppendSync(ctx context.Context, r Record) (uint64, error) {
	return m.Append(ctx, r)
}

// Size implements Reader.
func (m *Memory) Size(ctx context.Context) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return uint64(len(m.entries)), nil
}

// Get implements Reader.
func (m *Memory) Get(ctx context.Context, index uint64) (Record, error) {
	const op errors.Op = "audit.Memory.Get"
	m.mu.Lock()
	defer m.mu.Unlock()
	if index >= uint64(len(m.entries)) {
		return Record{}, errors.E(op, errors.NotExist, errors.Msg("no such audit entry"))
	}
	return DecodeRecord(m.entries[index])
}

// Tail implements Reader.
func (m *Memory) Tail(ctx context.Context, n int) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n <= 0 {
		return nil, nil
	}
	lo := 0
	if n < len(m.entries) {
		lo = len(m.entries) - n
	}
	out := make([]Entry, 0, len(m.entries)-lo)
	for i := lo; i < len(m.entries); i++ {
		r, err := DecodeRecord(m.entries[i])
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Index: uint64(i), Record: r})
	}
	return out, nil
}
