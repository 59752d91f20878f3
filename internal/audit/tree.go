package audit

import (
	"fmt"
	"strconv"

	"golang.org/x/mod/sumdb/tlog"
)

// Tiles are C2SP tlog-tiles hash tiles of height 8.
const (
	tileHeight = 8
	tileWidth  = 1 << tileHeight
	tileBytes  = tileWidth * tlog.HashSize
)

// tilePath returns the C2SP path of full tile (level, n): tile/L/x001/x234/067.
func tilePath(level int, n uint64) string {
	s := fmt.Sprintf("%03d", n%1000)
	for n >= 1000 {
		n /= 1000
		s = fmt.Sprintf("x%03d/%s", n%1000, s)
	}
	return "tile/" + strconv.Itoa(level) + "/" + s
}

// tree is the writer's Merkle state: the full tiles are on disk (read
// through readTile), the partial tile of each level is in rows.
//
// rows[L] holds the hashes of the nodes at height 8·L with indexes
// [full[L]·256, full[L]·256+len(rows[L])); a row that reaches 256 becomes
// full tile (L, full[L]) and its root joins rows[L+1].
type tree struct {
	size     uint64
	rows     [][]tlog.Hash
	full     []uint64
	readTile func(level int, n uint64) ([]byte, error)
}

// fullTile is a tile that became full and must be written.
type fullTile struct {
	level int
	n     uint64
	data  []byte
}

// appendLeaf adds a leaf hash and returns the tiles that became full.
func (t *tree) appendLeaf(h tlog.Hash, out []fullTile) []fullTile {
	t.size++
	for L := 0; ; L++ {
		if L == len(t.rows) {
			t.rows = append(t.rows, make([]tlog.Hash, 0, tileWidth))
			t.full = append(t.full, 0)
		}
		t.rows[L] = append(t.rows[L], h)
		if len(t.rows[L]) < tileWidth {
			return out
		}
		data := make([]byte, 0, tileBytes)
		for i := range t.rows[L] {
			data = append(data, t.rows[L][i][:]...)
		}
		out = append(out, fullTile{level: L, n: t.full[L], data: data})
		t.full[L]++
		t.rows[L] = t.rows[L][:0]
		h = rootOfTile(data)
	}
}

// rootOfTile returns the Merkle root of a full tile's 256 hashes.
func rootOfTile(data []byte) tlog.Hash {
	if len(data) == tlog.HashSize {
		var h tlog.Hash
		copy(h[:], data)
		return h
	}
	n := len(data) / 2
	return tlog.NodeHash(rootOfTile(data[:n]), rootOfTile(data[n:]))
}

// ReadHashes implements tlog.HashReader over the tiles on disk and the
// in-memory rows.
func (t *tree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	var cacheT tlog.Tile
	var cacheData []byte
	for i, idx := range indexes {
		tl := tlog.TileForIndex(tileHeight, idx)
		var data []byte
		switch {
		case tl.L >= len(t.rows):
			return nil, fmt.Errorf("audit: hash %d is beyond the tree", idx)
		case uint64(tl.N) < t.full[tl.L]:
			if cacheData != nil && cacheT.L == tl.L && cacheT.N == tl.N {
				data = cacheData
			} else {
				d, err := t.readTile(tl.L, uint64(tl.N))
				if err != nil {
					return nil, err
				}
				if len(d) != tileBytes {
					return nil, fmt.Errorf("audit: tile %s has %d bytes", tilePath(tl.L, uint64(tl.N)), len(d))
				}
				data, cacheT, cacheData = d, tl, d
			}
		case uint64(tl.N) == t.full[tl.L] && tl.W <= len(t.rows[tl.L]):
			row := t.rows[tl.L][:tl.W]
			data = make([]byte, 0, len(row)*tlog.HashSize)
			for j := range row {
				data = append(data, row[j][:]...)
			}
		default:
			return nil, fmt.Errorf("audit: hash %d is beyond the tree", idx)
		}
		h, err := tlog.HashFromTile(tl, data, idx)
		if err != nil {
			return nil, err
		}
		out[i] = h
	}
	return out, nil
}

// root returns the tree hash of the first n leaves (n ≤ t.size).
func (t *tree) root(n uint64) (tlog.Hash, error) {
	return tlog.TreeHash(int64(n), t)
}

// rebuild sets t to the state after m leaves, m a multiple of 256, reading
// the roots of the needed full tiles from disk.
func (t *tree) rebuild(m uint64) error {
	if m%tileWidth != 0 {
		return fmt.Errorf("audit: rebuild at %d", m)
	}
	t.size = m
	t.rows, t.full = nil, nil
	for L := 0; L == 0 || m>>(tileHeight*L) > 0; L++ {
		nodes := m >> (tileHeight * L) // nodes at height 8L
		full := nodes / tileWidth
		row := make([]tlog.Hash, 0, tileWidth)
		for j := full * tileWidth; j < nodes; j++ {
			// L ≥ 1 here: at level 0, nodes is a multiple of 256.
			d, err := t.readTile(L-1, j)
			if err != nil {
				return err
			}
			if len(d) != tileBytes {
				return fmt.Errorf("audit: tile %s has %d bytes", tilePath(L-1, j), len(d))
			}
			row = append(row, rootOfTile(d))
		}
		t.rows = append(t.rows, row)
		t.full = append(t.full, full)
	}
	return nil
}
