package audit

import (
	"context"
	"testing"
)

// TestProveExtends: the consistency proof alone (without the root that
// verify recomputes from the entries) accepts every prefix of the tree,
// at every size from 1 to past two tiles, and refuses a prefix whose root
// differs in one bit, or that claims more entries than the tree has.
func TestProveExtends(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, v := testKeys(t)
	l := openTest(t, dir, s, v)
	const n = 520
	for i := range n {
		l.Append(ctx, testRecord(i))
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	snap, err := OpenSnapshot(ctx, dir, v)
	if err != nil {
		t.Fatal(err)
	}
	defer snap.Close()
	latest, _ := snap.Checkpoint()
	for size := uint64(0); size <= n; size++ {
		root, err := snap.tree.root(size)
		if err != nil {
			t.Fatal(err)
		}
		good := Checkpoint{Origin: latest.Origin, Size: size, Hash: root}
		if err := proveExtends(&snap.tree, good, latest); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		bad := good
		bad.Hash[size%32] ^= 1 << (size % 8)
		if err := proveExtends(&snap.tree, bad, latest); err == nil {
			t.Fatalf("size %d: a forked checkpoint proved", size)
		}
	}
	if err := proveExtends(&snap.tree, Checkpoint{Origin: latest.Origin, Size: n + 1, Hash: latest.Hash}, latest); err == nil {
		t.Fatal("a larger checkpoint proved")
	}
}
