package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/genesis-science/genesis/internal/store"
)

// TestStatementCacheModel runs random reads and writes, with more
// distinct queries than a connection caches and the same query nested
// inside its own open rows, and checks every answer against a map.
func TestStatementCacheModel(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "c.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Raw().ExecContext(ctx, `CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	model := map[int]int{}
	r := rand.New(rand.NewPCG(9, 9))
	// Query texts differ by a constant, so there are 3·maxStmts of them.
	lookup := func(i int) string { return fmt.Sprintf(`SELECT v FROM kv WHERE k = ? AND %d = %d`, i, i) }
	scan := func(i int) string { return fmt.Sprintf(`SELECT k, v FROM kv WHERE v >= %d - %d ORDER BY k`, i, i) }
	all := func(tx store.Tx, i int) ([][2]int, error) {
		rows, err := tx.Query(ctx, scan(i))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out [][2]int
		for rows.Next() {
			var k, v int
			if err := rows.Scan(&k, &v); err != nil {
				return nil, err
			}
			out = append(out, [2]int{k, v})
		}
		return out, rows.Err()
	}
	want := func() [][2]int {
		var out [][2]int
		for k, v := range model {
			out = append(out, [2]int{k, v})
		}
		slices.SortFunc(out, func(a, b [2]int) int { return a[0] - b[0] })
		return out
	}
	for step := range 3000 {
		q := r.IntN(3 * maxStmts)
		switch r.IntN(4) {
		case 0: // write
			k, v := r.IntN(50), r.IntN(1000)
			err := db.Update(ctx, func(tx store.Tx) error {
				_, err := tx.Exec(ctx, fmt.Sprintf(`INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v -- %d`, q), k, v)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			model[k] = v
		case 1: // point read
			k := r.IntN(50)
			var v int
			err := db.View(ctx, func(tx store.Tx) error { return tx.QueryRow(ctx, lookup(q), k).Scan(&v) })
			if mv, ok := model[k]; ok != (err == nil) || ok && v != mv {
				t.Fatalf("step %d: k=%d read %d, %v; model %d, %v", step, k, v, err, mv, ok)
			}
		default: // scan, with the same query run again inside its open rows
			err := db.View(ctx, func(tx store.Tx) error {
				rows, err := tx.Query(ctx, scan(q))
				if err != nil {
					return err
				}
				defer rows.Close()
				var outer [][2]int
				for rows.Next() {
					var k, v int
					if err := rows.Scan(&k, &v); err != nil {
						return err
					}
					outer = append(outer, [2]int{k, v})
					if len(outer) == 1 || r.IntN(8) == 0 {
						inner, err := all(tx, q)
						if err != nil {
							return err
						}
						if !slices.Equal(inner, want()) {
							return fmt.Errorf("nested scan %v, model %v", inner, want())
						}
					}
				}
				if err := rows.Err(); err != nil {
					return err
				}
				if !slices.Equal(outer, want()) {
					return fmt.Errorf("scan %v, model %v", outer, want())
				}
				return nil
			})
			if err != nil {
				t.Fatalf("step %d: %v", step, err)
			}
		}
	}
}

// TestScriptsRunUncached: several statements in one Exec all run.
func TestScriptsRunUncached(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		if _, err := db.Raw().ExecContext(ctx, `CREATE TABLE IF NOT EXISTS a (x); INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);`); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.Raw().QueryRowContext(ctx, `SELECT COUNT(*) FROM a`).Scan(&n); err != nil || n != 4 {
		t.Fatalf("count %d, %v; want 4", n, err)
	}
	if !isScript("SELECT 1; SELECT 2") || isScript("SELECT 1;\n") || isScript("SELECT 1") {
		t.Fatal("isScript")
	}
}

func BenchmarkPointQuery(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.Raw().ExecContext(ctx, `CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL); INSERT INTO kv VALUES (1, 2)`)
	for b.Loop() {
		var v int
		if err := db.View(ctx, func(tx store.Tx) error {
			return tx.QueryRow(ctx, `SELECT v FROM kv WHERE k = ? AND v IS NOT NULL AND k IN (SELECT k FROM kv WHERE v > ?)`, 1, 0).Scan(&v)
		}); err != nil {
			b.Fatal(err)
		}
	}
}
