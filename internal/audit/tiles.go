package audit

import (
	"context"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"golang.org/x/mod/sumdb/tlog"
)

// ReadTile serves the log in the C2SP tlog-tiles layout as of the
// snapshot's checkpoint: "checkpoint", hash tiles "tile/L/N[.p/W]" and
// entry bundles "tile/entries/N[.p/W]". Mount it under an HTTP prefix to
// let standard tlog clients and witnesses follow the log.
func (s *Snapshot) ReadTile(ctx context.Context, path string) ([]byte, error) {
	return serveTile(path, s.cp.Size, s.cpNote, &s.tree, func(lo, hi uint64) ([][]byte, error) {
		return readEntries(s.f, s.bundleOff, s.endOff, lo, hi)
	})
}

// ReadTile is Snapshot.ReadTile for the log's latest checkpoint.
func (l *Log) ReadTile(ctx context.Context, path string) ([]byte, error) {
	cp, msg, _ := l.Checkpoint(ctx)
	l.tmu.RLock()
	defer l.tmu.RUnlock()
	return serveTile(path, cp.Size, msg, &l.tree, func(lo, hi uint64) ([][]byte, error) {
		return readEntries(l.entriesR, l.bundleOff, l.endOff, lo, hi)
	})
}

// serveTile answers a C2SP tlog-tiles path for the tree of the given size
// and checkpoint note: hash tiles from tr, entry bundles from entries
// (which returns entries [lo, hi)).
func serveTile(path string, size uint64, cpNote []byte, tr *tree, entries func(lo, hi uint64) ([][]byte, error)) ([]byte, error) {
	const op errors.Op = "audit.ReadTile"
	notExist := errors.E(op, errors.NotExist, errors.Msg("no such tile"))
	if path == checkpointF {
		return cpNote, nil
	}
	// tlog parses the Go checksum-database spelling: tile/H/L/… with
	// "data" for entry bundles.
	rest, ok := strings.CutPrefix(path, "tile/")
	if !ok {
		return nil, notExist
	}
	if e, ok := strings.CutPrefix(rest, "entries/"); ok {
		rest = "data/" + e
	}
	t, err := tlog.ParseTilePath("tile/8/" + rest)
	if err != nil || t.H != tileHeight {
		return nil, notExist
	}
	level := t.L
	if level < 0 {
		level = 0
	}
	width := size >> (tileHeight * uint(level)) // nodes at this level
	if uint64(t.N)*tileWidth+uint64(t.W) > width {
		return nil, notExist
	}
	if t.L < 0 {
		lo := uint64(t.N) * tileWidth
		es, err := entries(lo, lo+uint64(t.W))
		if err != nil {
			return nil, errors.E(op, err)
		}
		var b []byte
		for _, e := range es {
			b = append(b, byte(len(e)>>8), byte(len(e)))
			b = append(b, e...)
		}
		return b, nil
	}
	data, err := tlog.ReadTileData(t, tr)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return data, nil
}
