// Package memblob is an in-memory blob.Store: the reference implementation
// the conformance suite is checked against first, and the fast store for
// tests of code built on blobs. It keeps the same stored frames as the disk
// backends (so it verifies on read like they do) and loses everything when
// the process ends.
package memblob

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/errors"
)

// Store is an in-memory blob store. The zero value is not usable; call New.
type Store struct {
	compress chunk.Level
	mu       sync.RWMutex
	m        map[blob.ID]stored
}

type stored struct {
	frame []byte
	at    time.Time
}

var _ blob.Store = (*Store)(nil)

// New returns an empty store; compress frames chunks with zstd at
// chunk.Default (NewLevel picks another level).
func New(compress bool) *Store {
	if compress {
		return NewLevel(chunk.Default)
	}
	return NewLevel(chunk.Off)
}

// NewLevel returns an empty store that frames chunks at level.
func NewLevel(level chunk.Level) *Store {
	return &Store{compress: level, m: make(map[blob.ID]stored)}
}

func (s *Store) Put(ctx context.Context, id blob.ID, data []byte) error {
	const op errors.Op = "memblob.Put"
	if err := ctx.Err(); err != nil {
		return errors.E(op, errors.Canceled, err)
	}
	if err := blob.CheckPut(op, id, data); err != nil {
		return err
	}
	fr := chunk.Frame(data, s.compress)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[id]; !ok {
		s.m[id] = stored{fr, time.Now()}
	}
	return nil
}

func (s *Store) Get(ctx context.Context, id blob.ID, off, length int64) ([]byte, error) {
	const op errors.Op = "memblob.Get"
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, errors.Canceled, err)
	}
	s.mu.RLock()
	st, ok := s.m[id]
	s.mu.RUnlock()
	if !ok {
		return nil, blob.NotFound(op, id)
	}
	plain, err := chunk.Unframe(op, id, st.frame)
	if err != nil {
		return nil, err
	}
	out, err := blob.Slice(op, plain, off, length)
	if err != nil {
		return nil, err
	}
	return slices.Clone(out), nil
}

func (s *Store) Stat(ctx context.Context, id blob.ID) (blob.Info, error) {
	const op errors.Op = "memblob.Stat"
	if err := ctx.Err(); err != nil {
		return blob.Info{}, errors.E(op, errors.Canceled, err)
	}
	s.mu.RLock()
	st, ok := s.m[id]
	s.mu.RUnlock()
	if !ok {
		return blob.Info{}, blob.NotFound(op, id)
	}
	n, err := chunk.PlainSize(st.frame)
	if err != nil {
		return blob.Info{}, blob.Corrupt(op, id, err)
	}
	return blob.Info{ID: id, Size: n, StoredSize: int64(len(st.frame)), Modified: st.at}, nil
}

func (s *Store) Enumerate(ctx context.Context, after string, limit int) ([]blob.ID, error) {
	const op errors.Op = "memblob.Enumerate"
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, errors.Canceled, err)
	}
	if limit <= 0 {
		limit = 1000
	}
	s.mu.RLock()
	var ids []blob.ID
	for id := range s.m {
		if id.String() > after {
			ids = append(ids, id)
		}
	}
	s.mu.RUnlock()
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	if len(ids) > limit {
		ids = ids[:limit]
	}
	return ids, nil
}

func (s *Store) Remove(ctx context.Context, ids ...blob.ID) error {
	const op errors.Op = "memblob.Remove"
	if err := ctx.Err(); err != nil {
		return errors.E(op, errors.Canceled, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		delete(s.m, id)
	}
	return nil
}

// CorruptStored replaces the stored frame of id by f(frame). It is for
// tests (it implements blobtest.Corrupter).
func (s *Store) CorruptStored(id blob.ID, f func([]byte) []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.m[id]
	if !ok {
		return blob.NotFound("memblob.CorruptStored", id)
	}
	s.m[id] = stored{f(slices.Clone(st.frame)), st.at}
	return nil
}
