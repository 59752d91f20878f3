// Package blobtest is the conformance suite every blob.Store passes:
//
//	func TestConformance(t *testing.T) {
//		blobtest.Run(t, func(t *testing.T) blob.Store { return open(t) })
//	}
//
// open must return an empty store that is cleaned up with t. To run the
// corruption tests, the returned store must also implement Corrupter (a
// test-only hook: backend tests wrap their store to provide it).
package blobtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

// Corrupter lets the suite damage a stored chunk behind the store's back.
type Corrupter interface {
	// CorruptStored replaces the chunk's stored bytes (its frame, as the
	// backend keeps it) with f(stored). It reports an error if the chunk
	// is not stored.
	CorruptStored(id blob.ID, f func(stored []byte) []byte) error
}

// Data returns n deterministic pseudo-random bytes for seed.
func Data(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func put(t *testing.T, s blob.Store, data []byte) blob.ID {
	t.Helper()
	id := blob.Sum(data)
	if err := s.Put(context.Background(), id, data); err != nil {
		t.Fatalf("Put(%d bytes): %v", len(data), err)
	}
	return id
}

// Run runs the suite; each subtest gets a fresh store from open.
func Run(t *testing.T, open func(t *testing.T) blob.Store) {
	ctx := context.Background()

	t.Run("PutGetStat", func(t *testing.T) {
		s := open(t)
		before := time.Now().Add(-time.Minute) // server clocks may differ a little
		for i, n := range []int{0, 1, 100, 4096, 1 << 20} {
			data := Data(uint64(i), n)
			if i == 3 {
				data = bytes.Repeat([]byte("compressible "), n/13)
			}
			id := put(t, s, data)
			got, err := s.Get(ctx, id, 0, -1)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Get(%d bytes) = %d bytes, %v", len(data), len(got), err)
			}
			info, err := s.Stat(ctx, id)
			if err != nil || info.ID != id || info.Size != int64(len(data)) || info.StoredSize <= 0 {
				t.Fatalf("Stat = %+v, %v; want size %d", info, err, len(data))
			}
			if info.Modified.Before(before) || info.Modified.After(time.Now().Add(time.Minute)) {
				t.Fatalf("Stat.Modified = %v, want about now", info.Modified)
			}
		}
	})

	t.Run("PutRefusesWrongID", func(t *testing.T) {
		s := open(t)
		data := Data(1, 1000)
		wrong := blob.Sum([]byte("something else"))
		if err := s.Put(ctx, wrong, data); !errors.Is(errors.Invalid, err) {
			t.Fatalf("Put with wrong id: err = %v, want invalid", err)
		}
		if _, err := s.Stat(ctx, wrong); !errors.Is(errors.NotExist, err) {
			t.Fatalf("refused chunk is visible: Stat err = %v", err)
		}
		if _, err := s.Get(ctx, wrong, 0, -1); !errors.Is(errors.NotExist, err) {
			t.Fatalf("refused chunk is readable: Get err = %v", err)
		}
	})

	t.Run("PutTrusted", func(t *testing.T) {
		s := open(t)
		tp, ok := s.(blob.TrustedPutter)
		if !ok {
			t.Skipf("%T does not implement blob.TrustedPutter", s)
		}
		data := Data(11, 7000)
		id := blob.Sum(data)
		if err := tp.PutTrusted(ctx, id, data); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Get(ctx, id, 0, -1); err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get after PutTrusted: %v", err)
		}
		// A misuse is caught on read, not served.
		wrong := blob.Sum([]byte("not these bytes"))
		if err := tp.PutTrusted(ctx, wrong, data); err == nil {
			if _, err := s.Get(ctx, wrong, 0, -1); !errors.Is(errors.Internal, err) {
				t.Fatalf("Get of a mislabelled chunk: %v, want corrupt", err)
			}
		}
	})

	t.Run("PutDeferredSync", func(t *testing.T) {
		s := open(t)
		sy, ok := s.(blob.Syncer)
		if !ok {
			t.Skipf("%T does not implement blob.Syncer", s)
		}
		var ids []blob.ID
		for i := range 20 {
			data := Data(uint64(100+i), 1000+i*997)
			id := blob.Sum(data)
			if err := sy.PutDeferred(ctx, id, data); err != nil {
				t.Fatal(err)
			}
			if err := sy.PutDeferred(ctx, id, data); err != nil { // idempotent
				t.Fatal(err)
			}
			// Readable at once, before any Sync.
			if got, err := s.Get(ctx, id, 0, -1); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("Get of a deferred chunk: %v", err)
			}
			if info, err := s.Stat(ctx, id); err != nil || info.Size != int64(len(data)) {
				t.Fatalf("Stat of a deferred chunk = %+v, %v", info, err)
			}
			ids = append(ids, id)
		}
		if m, err := blob.Missing(ctx, s, ids); err != nil || len(m) != 0 {
			t.Fatalf("Missing after PutDeferred = %v, %v; want none", m, err)
		}
		// A durable Put of a deferred chunk, a removal before Sync, and an
		// id never stored are all fine for Sync.
		if err := s.Put(ctx, ids[0], Data(100, 1000)); err != nil {
			t.Fatal(err)
		}
		if err := s.Remove(ctx, ids[1]); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Stat(ctx, ids[1]); !errors.Is(errors.NotExist, err) {
			t.Fatalf("Stat of a removed deferred chunk: %v, want not-exist", err)
		}
		never := blob.Sum([]byte("never stored"))
		var wg sync.WaitGroup
		errs := make([]error, 3)
		for w := range errs { // concurrent Syncs of the same chunks
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[w] = sy.Sync(ctx, append(slices.Clone(ids), never))
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatalf("Sync: %v", err)
			}
		}
		for i, id := range ids {
			_, err := s.Get(ctx, id, 0, -1)
			if i == 1 {
				if !errors.Is(errors.NotExist, err) {
					t.Fatalf("removed chunk came back: %v", err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Get after Sync: %v", err)
			}
		}
		all, err := s.Enumerate(ctx, "", 0)
		if err != nil || len(all) != len(ids)-1 {
			t.Fatalf("Enumerate after Sync = %d ids, %v; want %d", len(all), err, len(ids)-1)
		}
		if err := sy.Sync(ctx, ids); err != nil { // again: nothing left to do
			t.Fatal(err)
		}
	})

	t.Run("OpenPlain", func(t *testing.T) {
		s := open(t)
		po, ok := s.(blob.PlainOpener)
		if !ok {
			t.Skipf("%T does not implement blob.PlainOpener", s)
		}
		if _, _, err := po.OpenPlain(ctx, blob.Sum([]byte("never stored"))); !errors.Is(errors.NotExist, err) {
			t.Fatalf("OpenPlain of a missing chunk: %v, want not-exist", err)
		}
		for i, data := range [][]byte{Data(21, 70000), bytes.Repeat([]byte("compressible "), 5000)} {
			id := put(t, s, data)
			f, n, err := po.OpenPlain(ctx, id)
			if errors.Is(errors.Invalid, err) {
				continue // stored compressed: Get it instead
			}
			if err != nil {
				t.Fatalf("OpenPlain %d: %v", i, err)
			}
			got, err := io.ReadAll(f)
			f.Close()
			if err != nil || n != int64(len(data)) || !bytes.Equal(got, data) {
				t.Fatalf("OpenPlain %d: size %d, %d bytes read, %v", i, n, len(got), err)
			}
		}
	})

	t.Run("PutTooLarge", func(t *testing.T) {
		s := open(t)
		data := make([]byte, blob.MaxSize+1)
		if err := s.Put(ctx, blob.Sum(data), data); !errors.Is(errors.TooLarge, err) {
			t.Fatalf("Put of MaxSize+1 bytes: err = %v, want too-large", err)
		}
	})

	t.Run("IdempotentPut", func(t *testing.T) {
		s := open(t)
		data := Data(2, 5000)
		id := put(t, s, data)
		put(t, s, data)
		put(t, s, data)
		got, err := s.Get(ctx, id, 0, -1)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("Get after re-put: %v", err)
		}
		ids, err := s.Enumerate(ctx, "", 0)
		if err != nil || len(ids) != 1 || ids[0] != id {
			t.Fatalf("Enumerate after re-put = %v, %v; want exactly one id", ids, err)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		s := open(t)
		id := blob.Sum([]byte("never stored"))
		if _, err := s.Get(ctx, id, 0, -1); !errors.Is(errors.NotExist, err) {
			t.Fatalf("Get missing: err = %v, want not-exist", err)
		}
		if _, err := s.Stat(ctx, id); !errors.Is(errors.NotExist, err) {
			t.Fatalf("Stat missing: err = %v, want not-exist", err)
		}
		if err := s.Remove(ctx, id); err != nil {
			t.Fatalf("Remove missing: %v", err)
		}
		have := put(t, s, []byte("stored"))
		got, err := blob.Missing(ctx, s, []blob.ID{id, have, id})
		if err != nil || !slices.Equal(got, []blob.ID{id}) {
			t.Fatalf("blob.Missing = %v, %v; want [%v]", got, err, id)
		}
		if f, ok := s.(blob.MissingFinder); ok {
			got, err := f.Missing(ctx, []blob.ID{id, have, id})
			if err != nil || !slices.Equal(got, []blob.ID{id}) {
				t.Fatalf("%T.Missing = %v, %v; want [%v]", s, got, err, id)
			}
		}
	})

	t.Run("RangeReads", func(t *testing.T) {
		s := open(t)
		data := Data(3, 10000)
		id := put(t, s, data)
		for _, tc := range []struct {
			off, n  int64
			wantErr bool
			want    []byte
		}{
			{0, -1, false, data},
			{0, 0, false, []byte{}},
			{5, 10, false, data[5:15]},
			{9990, 100, false, data[9990:]},
			{9999, -1, false, data[9999:]},
			{10000, -1, false, []byte{}},
			{10000, 5, false, []byte{}},
			{10001, 1, true, nil},
			{-1, 5, true, nil},
		} {
			got, err := s.Get(ctx, id, tc.off, tc.n)
			if tc.wantErr {
				if !errors.Is(errors.Invalid, err) {
					t.Errorf("Get(off=%d, n=%d): err = %v, want invalid", tc.off, tc.n, err)
				}
				continue
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Errorf("Get(off=%d, n=%d) = %d bytes, %v; want %d bytes", tc.off, tc.n, len(got), err, len(tc.want))
			}
		}
	})

	t.Run("EnumerateRemove", func(t *testing.T) {
		s := open(t)
		var want []string
		for i := 0; i < 25; i++ {
			want = append(want, put(t, s, Data(uint64(100+i), 10+i)).String())
		}
		sort.Strings(want)
		// Pages of 7 with the cursor, from the start.
		var got []string
		after := ""
		for page := 0; ; page++ {
			ids, err := s.Enumerate(ctx, after, 7)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) > 7 || page > 10 {
				t.Fatalf("page %d has %d ids (limit 7)", page, len(ids))
			}
			for _, id := range ids {
				got = append(got, id.String())
			}
			if len(ids) < 7 {
				break
			}
			after = ids[len(ids)-1].String()
		}
		if !slices.Equal(got, want) {
			t.Fatalf("paged Enumerate = %v\nwant %v", got, want)
		}
		// A cursor that is not an id: a hex prefix.
		ids, err := s.Enumerate(ctx, "8", 100)
		if err != nil {
			t.Fatal(err)
		}
		var wantAfter8 []string
		for _, w := range want {
			if w > "8" {
				wantAfter8 = append(wantAfter8, w)
			}
		}
		if g := idStrings(ids); !slices.Equal(g, wantAfter8) {
			t.Fatalf("Enumerate(after=8) = %v, want %v", g, wantAfter8)
		}
		if ids, err := s.Enumerate(ctx, want[len(want)-1], 10); err != nil || len(ids) != 0 {
			t.Fatalf("Enumerate after the last = %v, %v", ids, err)
		}
		// Remove a few and check they are gone everywhere.
		var gone []blob.ID
		for _, w := range want[3:8] {
			id, _ := blob.ParseID(w)
			gone = append(gone, id)
		}
		if err := s.Remove(ctx, gone...); err != nil {
			t.Fatal(err)
		}
		for _, id := range gone {
			if _, err := s.Get(ctx, id, 0, -1); !errors.Is(errors.NotExist, err) {
				t.Fatalf("removed chunk: Get err = %v", err)
			}
		}
		ids, err = s.Enumerate(ctx, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := idStrings(ids), slices.Concat(want[:3], want[8:]); !slices.Equal(g, w) {
			t.Fatalf("Enumerate after Remove = %v, want %v", g, w)
		}
	})

	// Random puts, removes and listings checked against a map: the
	// reference model of a blob store.
	t.Run("ModelProperty", func(t *testing.T) {
		s := open(t)
		r := rand.New(rand.NewPCG(42, 42))
		model := map[blob.ID][]byte{}
		var universe [][]byte
		for i := 0; i < 24; i++ {
			universe = append(universe, Data(uint64(500+i), r.IntN(3000)))
		}
		for step := 0; step < 120; step++ {
			data := universe[r.IntN(len(universe))]
			id := blob.Sum(data)
			switch op := r.IntN(10); {
			case op < 4:
				if err := s.Put(ctx, id, data); err != nil {
					t.Fatalf("step %d: Put: %v", step, err)
				}
				model[id] = data
			case op < 6:
				if err := s.Remove(ctx, id); err != nil {
					t.Fatalf("step %d: Remove: %v", step, err)
				}
				delete(model, id)
			case op < 8:
				got, err := s.Get(ctx, id, 0, -1)
				want, ok := model[id]
				if ok != (err == nil) || (ok && !bytes.Equal(got, want)) || (!ok && !errors.Is(errors.NotExist, err)) {
					t.Fatalf("step %d: Get = %d bytes, %v; model has it: %v", step, len(got), err, ok)
				}
			default:
				after := ""
				switch r.IntN(3) {
				case 0: // a prefix of an arbitrary id
					after = blob.Sum([]byte{byte(step)}).String()[:1+r.IntN(64)]
				case 1: // a stored id, as when paging
					after = blob.Sum(universe[r.IntN(len(universe))]).String()
				}
				limit := 1 + r.IntN(30)
				got, err := s.Enumerate(ctx, after, limit)
				if err != nil {
					t.Fatalf("step %d: Enumerate: %v", step, err)
				}
				var want []string
				for id := range model {
					if id.String() > after {
						want = append(want, id.String())
					}
				}
				sort.Strings(want)
				if len(want) > limit {
					want = want[:limit]
				}
				if g := idStrings(got); !slices.Equal(g, want) {
					t.Fatalf("step %d: Enumerate(%q, %d) = %v, model %v", step, after, limit, g, want)
				}
			}
		}
	})

	t.Run("ConcurrentWriters", func(t *testing.T) {
		s := open(t)
		shared := Data(7, 300000)
		sharedID := blob.Sum(shared)
		var wg sync.WaitGroup
		errc := make(chan error, 100)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 4; i++ {
					if err := s.Put(ctx, sharedID, shared); err != nil {
						errc <- fmt.Errorf("writer %d shared put: %w", w, err)
					}
					own := Data(uint64(1000+10*w+i), 20000+w)
					if err := s.Put(ctx, blob.Sum(own), own); err != nil {
						errc <- fmt.Errorf("writer %d own put: %w", w, err)
					}
				}
			}()
			// Readers racing the writers see the whole chunk or nothing.
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 6; i++ {
					got, err := s.Get(ctx, sharedID, 0, -1)
					if err != nil && !errors.Is(errors.NotExist, err) {
						errc <- fmt.Errorf("reader saw a partial chunk: %w", err)
					} else if err == nil && !bytes.Equal(got, shared) {
						errc <- fmt.Errorf("reader got %d wrong bytes", len(got))
					}
				}
			}()
		}
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Error(err)
		}
		ids, err := s.Enumerate(ctx, "", 1000)
		if err != nil || len(ids) != 1+8*4 {
			t.Fatalf("after concurrent puts: %d ids, %v; want %d", len(ids), err, 1+8*4)
		}
		for _, id := range ids {
			if _, err := s.Get(ctx, id, 0, -1); err != nil {
				t.Fatalf("Get %v after concurrent puts: %v", id, err)
			}
		}
	})

	t.Run("ContextCanceled", func(t *testing.T) {
		s := open(t)
		data := Data(8, 1000)
		id := put(t, s, data)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		other := Data(9, 1000)
		checks := map[string]error{}
		checks["Put"] = s.Put(cctx, blob.Sum(other), other)
		_, checks["Get"] = s.Get(cctx, id, 0, -1)
		_, checks["Stat"] = s.Stat(cctx, id)
		_, checks["Enumerate"] = s.Enumerate(cctx, "", 10)
		checks["Remove"] = s.Remove(cctx, id)
		_, checks["Missing"] = blob.Missing(cctx, s, []blob.ID{id, blob.Sum(other)})
		for name, err := range checks {
			if !errors.Is(errors.Canceled, err) {
				t.Errorf("%s with a canceled context: err = %v, want canceled", name, err)
			}
		}
		if _, err := s.Stat(ctx, blob.Sum(other)); !errors.Is(errors.NotExist, err) {
			t.Errorf("Put with a canceled context stored the chunk (Stat err = %v)", err)
		}
		if got, err := s.Get(ctx, id, 0, -1); err != nil || !bytes.Equal(got, data) {
			t.Errorf("Remove with a canceled context removed the chunk: %v", err)
		}
	})

	t.Run("CorruptionDetected", func(t *testing.T) {
		s := open(t)
		c, ok := s.(Corrupter)
		if !ok {
			t.Skipf("BACKEND TEST INCOMPLETE: %T does not implement blobtest.Corrupter; corruption detection is untested", s)
		}
		for name, f := range map[string]func([]byte) []byte{
			"flip-last-byte": func(b []byte) []byte { b[len(b)-1] ^= 1; return b },
			"flip-middle":    func(b []byte) []byte { b[len(b)/2] ^= 0x80; return b },
			"truncate":       func(b []byte) []byte { return b[:len(b)-10] },
			"append":         func(b []byte) []byte { return append(b, 0) },
			"empty":          func(b []byte) []byte { return nil },
			"bad-header":     func(b []byte) []byte { b[0] = 'X'; return b },
		} {
			for _, compressible := range []bool{false, true} {
				data := Data(uint64(len(name)), 50000)
				if compressible {
					data = bytes.Repeat([]byte(name), 50000/len(name))
				}
				id := put(t, s, data)
				if err := c.CorruptStored(id, f); err != nil {
					t.Fatalf("%s: CorruptStored: %v", name, err)
				}
				for _, r := range [][2]int64{{0, -1}, {0, 10}, {100, 5}} {
					got, err := s.Get(ctx, id, r[0], r[1])
					if !errors.Is(errors.Internal, err) || !errors.IsErr(err, blob.ErrCorrupt) {
						t.Errorf("%s (compressible=%v): Get%v of a corrupted chunk = %d bytes, %v; want internal corrupt error", name, compressible, r, len(got), err)
					}
				}
				if err := s.Remove(ctx, id); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

func idStrings(ids []blob.ID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}
