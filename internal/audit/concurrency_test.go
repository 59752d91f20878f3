package audit

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestConcurrentAppendersAndReaders runs many appenders (fast and
// synchronous) against readers that check inclusion proofs of what they
// read against the current signed checkpoint; run it with -race.
func TestConcurrentAppendersAndReaders(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	const workers, each = 16, 120
	idx := make([][]uint64, workers)
	var wg, readers sync.WaitGroup
	var stop atomic.Bool
	var proofs atomic.Int64
	for r := 0; r < 2; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for !stop.Load() {
				cp, msg, err := l.Checkpoint(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if got, err := OpenCheckpoint(msg, v); err != nil || got != cp {
					t.Errorf("checkpoint note: %v", err)
					return
				}
				if cp.Size == 0 {
					continue
				}
				i := cp.Size / 2
				p, err := l.ProveInclusion(ctx, i, cp.Size)
				if err != nil {
					t.Error(err)
					return
				}
				e, err := l.Entry(ctx, i)
				if err != nil {
					t.Error(err)
					return
				}
				if err := VerifyInclusion(cp, i, e, p); err != nil {
					t.Errorf("inclusion of %d in %d: %v", i, cp.Size, err)
					return
				}
				if _, err := l.Tail(ctx, 10); err != nil {
					t.Error(err)
					return
				}
				proofs.Add(1)
			}
		}()
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				var i uint64
				var err error
				if (w+k)%7 == 0 {
					i, err = l.AppendSync(ctx, testRecord(w*10000+k))
				} else {
					i, err = l.Append(ctx, testRecord(w*10000+k))
				}
				if err != nil {
					t.Error(err)
					return
				}
				idx[w] = append(idx[w], i)
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	readers.Wait()
	first, _, _ := l.Checkpoint(ctx)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(ctx, dir, v)
	if err != nil {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	if rep.Entries != workers*each {
		t.Fatalf("%d entries, want %d", rep.Entries, workers*each)
	}
	l = openTest(t, dir, s, v)
	defer l.Close()
	seen := map[uint64]bool{}
	for w := range idx {
		for k, i := range idx[w] {
			if seen[i] {
				t.Fatalf("index %d given twice", i)
			}
			seen[i] = true
			r, err := l.Get(ctx, i)
			if err != nil || !cmp.Equal(r, testRecord(w*10000+k)) {
				t.Fatalf("entry %d: got %+v, %v", i, r, err)
			}
		}
	}
	// The checkpoint seen during the run is consistent with the final one.
	last, _, _ := l.Checkpoint(ctx)
	p, err := l.ProveConsistency(ctx, first.Size, last.Size)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyConsistency(first, last, p); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d inclusion proofs checked while appending", proofs.Load())
}
