package audit

import (
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/tlog"
)

// naiveRoot is RFC 6962 §2.1 MTH written as plainly as possible.
func naiveRoot(leaves [][]byte) tlog.Hash {
	switch len(leaves) {
	case 0:
		return sha256.Sum256(nil)
	case 1:
		return sha256.Sum256(append([]byte{0}, leaves[0]...))
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l, r := naiveRoot(leaves[:k]), naiveRoot(leaves[k:])
	return sha256.Sum256(append(append([]byte{1}, l[:]...), r[:]...))
}

// memTree is a tree whose full tiles live in a map.
func memTree() (*tree, map[string][]byte) {
	tiles := map[string][]byte{}
	t := &tree{}
	t.readTile = func(level int, n uint64) ([]byte, error) {
		d, ok := tiles[tilePath(level, n)]
		if !ok {
			return nil, fmt.Errorf("no tile %s", tilePath(level, n))
		}
		return d, nil
	}
	return t, tiles
}

func (t *tree) add(tiles map[string][]byte, leaf []byte) {
	for _, ft := range t.appendLeaf(tlog.RecordHash(leaf), nil) {
		tiles[tilePath(ft.level, ft.n)] = ft.data
	}
}

func leafData(i int) []byte { return []byte(fmt.Sprintf("leaf %d", i)) }

// TestTreeAgainstReference checks the writer's roots, inclusion proofs and
// consistency proofs against the naive MTH and transparency-dev/merkle's
// verifiers, across tile boundaries up to level 2.
func TestTreeAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 66000 // past one full level-1 tile (65536 leaves)
	tr, tiles := memTree()
	leaves := make([][]byte, 0, n)
	check := map[int]bool{0: true, 1: true, 2: true, 255: true, 256: true, 257: true, 511: true, 512: true, 65535: true, 65536: true, 65537: true, n: true}
	for len(check) < 30 {
		check[1+rng.IntN(n)] = true
	}
	h := rfc6962.DefaultHasher
	for size := 0; size <= n; size++ {
		if check[size] {
			want := naiveRoot(leaves)
			got, err := tr.root(uint64(size))
			if err != nil || got != want {
				t.Fatalf("root(%d) = %v, %v; want %v", size, got, err, want)
			}
			if size > 0 {
				// Inclusion of a few leaves, against this size.
				for k := 0; k < 3; k++ {
					i := rng.IntN(size)
					p, err := tlog.ProveRecord(int64(size), int64(i), tr)
					if err != nil {
						t.Fatal(err)
					}
					if err := proof.VerifyInclusion(h, uint64(i), uint64(size), h.HashLeaf(leaves[i]), hashesToBytes(p), want[:]); err != nil {
						t.Fatalf("inclusion %d in %d: %v", i, size, err)
					}
					if err := proof.VerifyInclusion(h, uint64(i), uint64(size), h.HashLeaf([]byte("forged")), hashesToBytes(p), want[:]); err == nil {
						t.Fatalf("forged leaf accepted")
					}
				}
				// Consistency from a random smaller size.
				old := 1 + rng.IntN(size)
				oldRoot := naiveRoot(leaves[:old])
				p, err := tlog.ProveTree(int64(size), int64(old), tr)
				if err != nil {
					t.Fatal(err)
				}
				if err := VerifyConsistency(Checkpoint{Size: uint64(old), Hash: oldRoot}, Checkpoint{Size: uint64(size), Hash: want}, p); err != nil {
					t.Fatalf("consistency %d→%d: %v", old, size, err)
				}
				bad := oldRoot
				bad[0] ^= 1
				if old < size && VerifyConsistency(Checkpoint{Size: uint64(old), Hash: bad}, Checkpoint{Size: uint64(size), Hash: want}, p) == nil {
					t.Fatalf("rewritten history accepted")
				}
			}
		}
		if size < n {
			leaves = append(leaves, leafData(size))
			tr.add(tiles, leaves[size])
		}
	}
	// Old roots stay computable from the stored tiles.
	for size := range check {
		got, err := tr.root(uint64(size))
		if err != nil || got != naiveRoot(leaves[:size]) {
			t.Fatalf("late root(%d) wrong: %v", size, err)
		}
	}
	// A tree rebuilt from the tiles at any tile boundary continues to the
	// same roots.
	for _, m := range []uint64{0, 256, 512, 65536, 65536 + 256, uint64(n) / 256 * 256} {
		rb := &tree{readTile: tr.readTile}
		if err := rb.rebuild(m); err != nil {
			t.Fatalf("rebuild(%d): %v", m, err)
		}
		for i := m; i < n; i++ {
			rb.appendLeaf(tlog.RecordHash(leaves[i]), nil)
		}
		got, err := rb.root(n)
		if err != nil || got != naiveRoot(leaves) {
			t.Fatalf("rebuilt at %d: root wrong (%v)", m, err)
		}
	}
}

func TestTilePath(t *testing.T) {
	for _, c := range []struct {
		level int
		n     uint64
		path  string
	}{
		{0, 0, "tile/0/000"},
		{1, 5, "tile/1/005"},
		{0, 1234067, "tile/0/x001/x234/067"},
		{2, 1000, "tile/2/x001/000"},
	} {
		if got := tilePath(c.level, c.n); got != c.path {
			t.Errorf("tilePath(%d,%d) = %q, want %q", c.level, c.n, got, c.path)
		}
	}
}
