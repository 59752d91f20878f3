package audit

import (
	"context"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
)

func TestAppendReopenVerify(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	const n = 700
	for i := 0; i < n; i++ {
		var idx uint64
		var err error
		if i%100 == 0 {
			idx, err = l.AppendSync(ctx, testRecord(i))
		} else {
			idx, err = l.Append(ctx, testRecord(i))
		}
		if err != nil {
			t.Fatal(err)
		}
		if idx != uint64(i) {
			t.Fatalf("index %d, want %d", idx, i)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, testRecord(0)); !errors.Is(errors.Unavailable, err) {
		t.Fatalf("append after close: %v", err)
	}
	rep, err := Verify(ctx, dir, v)
	if err != nil {
		t.Fatalf("verify: %v %v", err, rep.Problems)
	}
	if rep.Entries != n || rep.Checkpoint.Size != n || rep.Tiles != 2 {
		t.Fatalf("report %+v", rep)
	}

	l = openTest(t, dir, s, v)
	defer l.Close()
	if sz, _ := l.Size(ctx); sz != n {
		t.Fatalf("size %d", sz)
	}
	for _, i := range []uint64{0, 1, 255, 256, 257, 511, 512, 699} {
		r, err := l.Get(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(testRecord(int(i)), r); diff != "" {
			t.Fatalf("Get(%d): %s", i, diff)
		}
	}
	if _, err := l.Get(ctx, n); !errors.Is(errors.NotExist, err) {
		t.Fatalf("Get(n): %v", err)
	}
	tail, err := l.Tail(ctx, 3)
	if err != nil || len(tail) != 3 || tail[0].Index != n-3 || tail[2].Record.ObjectID != testRecord(n-1).ObjectID {
		t.Fatalf("tail %v %v", tail, err)
	}
	// Appending continues after reopen.
	if idx, err := l.AppendSync(ctx, testRecord(n)); err != nil || idx != n {
		t.Fatalf("append after reopen: %d %v", idx, err)
	}
	cp, _, _ := l.Checkpoint(ctx)
	if cp.Size != n+1 {
		t.Fatalf("checkpoint size %d", cp.Size)
	}
}
