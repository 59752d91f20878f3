// Package audittest is the conformance suite every audit.Interface
// implementation must pass: dense sequencing from 0, read-back of exactly
// what was appended, validation before sequencing, Tail order, NotExist
// beyond the end, and concurrency.
package audittest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
)

// Run runs the suite. open returns a fresh, empty log; the suite closes
// nothing (use t.Cleanup in open).
func Run(t *testing.T, open func(t *testing.T) audit.Interface) {
	t.Run("Empty", func(t *testing.T) { testEmpty(t, open(t)) })
	t.Run("AppendRead", func(t *testing.T) { testAppendRead(t, open(t)) })
	t.Run("Invalid", func(t *testing.T) { testInvalid(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
}

// Record returns a valid record determined by i.
func Record(i int) audit.Record {
	return audit.Record{
		Time:       time.Date(2026, 1, 1, 0, 0, 0, i, time.UTC),
		Principal:  fmt.Sprintf("user-%d", i%7),
		Action:     "read",
		ObjectType: "dataset",
		ObjectID:   fmt.Sprintf("ds-%d", i),
		Decision:   audit.Allow,
		LabelHash:  []byte{byte(i), 1, 2, 3},
		RequestID:  fmt.Sprintf("req-%d", i),
	}
}

func testEmpty(t *testing.T, l audit.Interface) {
	ctx := context.Background()
	if n, err := l.Size(ctx); err != nil || n != 0 {
		t.Fatalf("Size = %d, %v", n, err)
	}
	if _, err := l.Get(ctx, 0); !errors.Is(errors.NotExist, err) {
		t.Fatalf("Get(0) on empty log: %v", err)
	}
	if es, err := l.Tail(ctx, 5); err != nil || len(es) != 0 {
		t.Fatalf("Tail = %v, %v", es, err)
	}
}

func testAppendRead(t *testing.T, l audit.Interface) {
	ctx := context.Background()
	const n = 300
	for i := 0; i < n; i++ {
		append := l.Append
		if i%50 == 49 {
			append = l.AppendSync
		}
		idx, err := append(ctx, Record(i))
		if err != nil {
			t.Fatal(err)
		}
		if idx != uint64(i) {
			t.Fatalf("append %d got index %d", i, idx)
		}
	}
	// Everything before a completed AppendSync is visible.
	if size, err := l.Size(ctx); err != nil || size != n {
		t.Fatalf("Size = %d, %v; want %d", size, err, n)
	}
	for _, i := range []int{0, 1, 255, 256, n - 1} {
		r, err := l.Get(ctx, uint64(i))
		if err != nil {
			t.Fatalf("Get(%d): %v", i, err)
		}
		if diff := cmp.Diff(Record(i), r); diff != "" {
			t.Fatalf("Get(%d) differs: %s", i, diff)
		}
	}
	if _, err := l.Get(ctx, n); !errors.Is(errors.NotExist, err) {
		t.Fatalf("Get past the end: %v", err)
	}
	tail, err := l.Tail(ctx, 3)
	if err != nil || len(tail) != 3 {
		t.Fatalf("Tail(3) = %v, %v", tail, err)
	}
	for k, e := range tail {
		if e.Index != uint64(n-3+k) || !cmp.Equal(e.Record, Record(n-3+k)) {
			t.Fatalf("Tail(3)[%d] = %+v", k, e)
		}
	}
	if all, err := l.Tail(ctx, 10*n); err != nil || len(all) != n || all[0].Index != 0 {
		t.Fatalf("Tail(more than size): %d entries, %v", len(all), err)
	}
	// A zero time is filled in.
	r := Record(n)
	r.Time = time.Time{}
	idx, err := l.AppendSync(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	got, err := l.Get(ctx, idx)
	if err != nil || got.Time.IsZero() {
		t.Fatalf("zero time not filled in: %+v %v", got, err)
	}
}

func testInvalid(t *testing.T, l audit.Interface) {
	ctx := context.Background()
	bad := Record(1)
	bad.Decision = "perhaps"
	if _, err := l.Append(ctx, bad); !errors.Is(errors.Invalid, err) {
		t.Fatalf("invalid record: %v", err)
	}
	if _, err := l.AppendSync(ctx, audit.Record{Time: time.Now()}); !errors.Is(errors.Invalid, err) {
		t.Fatalf("empty record: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.AppendSync(cctx, Record(2)); !errors.Is(errors.Canceled, err) {
		t.Fatalf("canceled context: %v", err)
	}
	// Refused appends take no index.
	if idx, err := l.AppendSync(ctx, Record(3)); err != nil || idx != 0 {
		t.Fatalf("first valid append: %d, %v", idx, err)
	}
}

func testConcurrent(t *testing.T, l audit.Interface) {
	ctx := context.Background()
	const workers, each = 8, 60
	idx := make([][]uint64, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				append := l.Append
				if k%10 == 0 {
					append = l.AppendSync
				}
				i, err := append(ctx, Record(w*1000+k))
				if err != nil {
					t.Error(err)
					return
				}
				idx[w] = append2(idx[w], i)
			}
		}()
	}
	wg.Wait()
	if _, err := l.AppendSync(ctx, Record(99999)); err != nil {
		t.Fatal(err)
	}
	seen := map[uint64]bool{}
	for w := range idx {
		for k, i := range idx[w] {
			if seen[i] {
				t.Fatalf("index %d given twice", i)
			}
			seen[i] = true
			r, err := l.Get(ctx, i)
			if err != nil || !cmp.Equal(r, Record(w*1000+k)) {
				t.Fatalf("entry %d is not what worker %d appended: %+v %v", i, w, r, err)
			}
		}
	}
	for i := uint64(0); i < workers*each; i++ {
		if !seen[i] {
			t.Fatalf("index %d never given", i)
		}
	}
}

func append2(s []uint64, v uint64) []uint64 { return append(s, v) }
