package audit

import (
	"context"
	"fmt"
	"io/fs"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"golang.org/x/mod/sumdb/note"
)

// VerifyStore is Verify for the shared log in the metadata store
// (StoreLog): the same independent checks, reading the head row's
// checkpoints, every row of audit_entries in index order (a gap is a
// problem) and every row of audit_tiles (one that no entry accounts for is
// a problem), all in one read-only snapshot, so replicas may go on
// appending meanwhile. Unlike a directory, the store commits entries and
// their checkpoint together, so entries after the checkpoint are a problem.
func VerifyStore(ctx context.Context, db store.DB, v note.Verifier, opts VerifyOptions) (Report, error) {
	const op errors.Op = "audit.VerifyStore"
	var rep Report
	var verr error
	err := db.View(ctx, func(tx store.Tx) error {
		if tx.Dialect() == store.Postgres {
			// One snapshot for the head, the entries and the tiles.
			if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
				return err
			}
		}
		rep, verr = verify(ctx, storeSource{ctx: ctx, tx: tx, size: new(int64)}, v, opts)
		return nil
	})
	if err != nil {
		return rep, errors.E(op, errors.Unavailable, errors.Msg("cannot read the shared audit log"), err)
	}
	return rep, verr
}

// storeSource reads the shared log inside one transaction.
type storeSource struct {
	ctx  context.Context
	tx   store.Tx
	size *int64 // the head row's size column, read with the checkpoints
}

func (s storeSource) pendingAllowed() bool { return false }

func (s storeSource) checkpoints() ([]byte, error, []byte, error) {
	var latest, prev []byte
	err := s.tx.QueryRow(s.ctx, `SELECT size, checkpoint, prev FROM audit_head WHERE id = 1`).Scan(s.size, &latest, &prev)
	if err != nil {
		return nil, fmt.Errorf("no head row: %w", err), nil, fs.ErrNotExist
	}
	if prev == nil {
		return latest, nil, nil, fs.ErrNotExist
	}
	return latest, nil, prev, nil
}

func (s storeSource) tile(level int, n uint64) ([]byte, error) {
	var d []byte
	err := s.tx.QueryRow(s.ctx, `SELECT data FROM audit_tiles WHERE level = ? AND n = ?`, level, int64(n)).Scan(&d)
	if errors.Is(errors.NotExist, err) {
		return nil, fmt.Errorf("tile not stored")
	}
	return d, err
}

func (s storeSource) entries(ctx context.Context, fn func([]byte) error, problem func(string, ...any)) (int64, error) {
	// In chunks, each read whole before it is checked: checking reads
	// tiles, and a connection serves one query at a time.
	const chunk = 1024
	var want int64
	for {
		rows, err := s.tx.Query(ctx, `SELECT idx, data FROM audit_entries WHERE idx >= ? ORDER BY idx LIMIT ?`, want, chunk)
		if err != nil {
			return 0, err
		}
		var idxs []int64
		var datas [][]byte
		for rows.Next() {
			var idx int64
			var data []byte
			if err := rows.Scan(&idx, &data); err != nil {
				rows.Close()
				return 0, err
			}
			idxs, datas = append(idxs, idx), append(datas, data)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return 0, err
		}
		for i, idx := range idxs {
			if idx != want {
				problem("entry %d is missing (the next stored entry is %d)", want, idx)
				return 0, stopVerify
			}
			if len(datas[i]) > MaxEntrySize {
				problem("entry %d has %d bytes, more than an entry may", idx, len(datas[i]))
			}
			if err := fn(datas[i]); err != nil {
				return 0, err
			}
			want++
		}
		if len(idxs) < chunk {
			return 0, nil
		}
	}
}

func (s storeSource) others(checked map[string]bool, cp Checkpoint, problem func(string, ...any)) {
	if *s.size != int64(cp.Size) {
		problem("the head's size (%d) is not its checkpoint's (%d)", *s.size, cp.Size)
	}
	rows, err := s.tx.Query(s.ctx, `SELECT level, n FROM audit_tiles ORDER BY level, n`)
	if err != nil {
		problem("tiles: %v", err)
		return
	}
	defer rows.Close()
	for rows.Next() {
		var level int
		var n int64
		if err := rows.Scan(&level, &n); err != nil {
			problem("tiles: %v", err)
			return
		}
		if level < 0 || n < 0 {
			problem("tile (%d, %d): unexpected row", level, n)
			continue
		}
		if p := tilePath(level, uint64(n)); !checked[p] {
			problem("%s: unexpected row", p)
		}
	}
	if err := rows.Err(); err != nil {
		problem("tiles: %v", err)
	}
}
