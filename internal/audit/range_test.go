package audit

import (
	"context"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// TestRangeIsGet: Range(lo, hi) is Get of every index in [lo, hi), for
// random ranges across bundle boundaries; beyond the size it is NotExist.
func TestRangeIsGet(t *testing.T) {
	ctx := context.Background()
	s, v := testKeys(t)
	l := openTest(t, t.TempDir(), s, v)
	defer l.Close()
	const n = 700
	var last uint64
	for i := range n {
		idx, err := l.Append(ctx, testRecord(i))
		if err != nil {
			t.Fatal(err)
		}
		last = idx
	}
	if _, err := l.AppendSync(ctx, testRecord(n)); err != nil {
		t.Fatal(err)
	}
	size, _ := l.Size(ctx)
	if size <= last {
		t.Fatalf("size %d after appending %d", size, last+1)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		lo := rng.Uint64N(size + 1)
		hi := lo + rng.Uint64N(size-lo+1)
		got, err := l.Range(ctx, lo, hi)
		if err != nil {
			t.Fatalf("Range(%d, %d): %v", lo, hi, err)
		}
		if uint64(len(got)) != hi-lo {
			t.Fatalf("Range(%d, %d): %d entries", lo, hi, len(got))
		}
		for k, e := range got {
			want, err := l.Get(ctx, lo+uint64(k))
			if err != nil {
				t.Fatal(err)
			}
			if e.Index != lo+uint64(k) || !reflect.DeepEqual(e.Record, want) {
				t.Fatalf("Range(%d, %d)[%d] = %d %+v, Get %+v", lo, hi, k, e.Index, e.Record, want)
			}
		}
	}
	if _, err := l.Range(ctx, 0, size+1); !errors.Is(errors.NotExist, err) {
		t.Errorf("Range beyond the size: %v", err)
	}
	if _, err := l.Range(ctx, 3, 2); !errors.Is(errors.NotExist, err) {
		t.Errorf("Range with lo > hi: %v", err)
	}
}
