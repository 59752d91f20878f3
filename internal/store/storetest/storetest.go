package storetest

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// Run runs the conformance suite against fresh databases from open.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db store.DB)
	}{
		{"MigrateFromEmptyAndRerun", testMigrate},
		{"ConcurrentMigrate", testConcurrentMigrate},
		{"CRUD", testCRUD},
		{"UniqueConflict", testUnique},
		{"ForeignKey", testForeignKey},
		{"Rollback", testRollback},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ReadYourWritesAndIsolation", testIsolation},
		{"ViewIsOneSnapshot", testViewSnapshot},
		{"ContextCancel", testCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var ctx = context.Background()

func testMigrate(t *testing.T, db store.DB) {
	ms, err := store.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	n, err := store.Migrate(ctx, db)
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	if n != len(ms) {
		t.Errorf("first migrate applied %d, want %d", n, len(ms))
	}
	n, err = store.Migrate(ctx, db)
	if err != nil || n != 0 {
		t.Errorf("re-run migrate = %d, %v; want 0, nil", n, err)
	}
	v, err := store.SchemaVersion(ctx, db)
	if err != nil || v != len(ms) {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, len(ms))
	}
	// Every table the migrations create must be usable.
	err = db.View(ctx, func(tx store.Tx) error {
		var c int
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM principals`).Scan(&c)
	})
	if err != nil {
		t.Error(err)
	}
}

func testConcurrentMigrate(t *testing.T, db store.DB) {
	ms, _ := store.Migrations()
	var wg sync.WaitGroup
	counts := make([]int, 4)
	errs := make([]error, 4)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[i], errs[i] = store.Migrate(ctx, db)
		}()
	}
	wg.Wait()
	total := 0
	for i := range counts {
		if errs[i] != nil {
			t.Errorf("migrate %d: %v", i, errs[i])
		}
		total += counts[i]
	}
	if total != len(ms) {
		t.Errorf("concurrent migrations applied %d steps in all, want exactly %d", total, len(ms))
	}
}

func mkTable(t *testing.T, db store.DB) {
	t.Helper()
	err := db.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `CREATE TABLE kv (k TEXT PRIMARY KEY, v BIGINT NOT NULL, note TEXT)`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE child (id TEXT PRIMARY KEY, k TEXT NOT NULL REFERENCES kv(k))`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, db store.DB, k string) (int64, error) {
	t.Helper()
	var v int64
	err := db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT v FROM kv WHERE k = ?`, k).Scan(&v)
	})
	return v, err
}

func testCRUD(t *testing.T, db store.DB) {
	mkTable(t, db)
	err := db.Update(ctx, func(tx store.Tx) error {
		for i := range 10 {
			if _, err := tx.Exec(ctx, `INSERT INTO kv (k, v, note) VALUES (?, ?, ?)`, fmt.Sprint("k", i), i, "it's ? a note"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := get(t, db, "k7"); err != nil || v != 7 {
		t.Fatalf("read k7 = %d, %v", v, err)
	}
	err = db.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Exec(ctx, `UPDATE kv SET v = v * 10 WHERE k IN (?, ?)`, "k1", "k2")
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 2 {
			return fmt.Errorf("updated %d rows, want 2", n)
		}
		_, err = tx.Exec(ctx, `DELETE FROM kv WHERE k = ?`, "k3")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := get(t, db, "k2"); v != 20 {
		t.Errorf("k2 = %d, want 20", v)
	}
	if _, err := get(t, db, "k3"); !errors.Is(errors.NotExist, err) {
		t.Errorf("deleted row: err = %v, want NotExist", err)
	}
	var keys []string
	var notes []string
	err = db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT k, note FROM kv WHERE v >= ? ORDER BY k`, 5)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var k, n string
			if err := rows.Scan(&k, &n); err != nil {
				return err
			}
			keys = append(keys, k)
			notes = append(notes, n)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"k1", "k2", "k5", "k6", "k7", "k8", "k9"}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Errorf("keys = %v, want %v", keys, want)
	}
	if notes[0] != "it's ? a note" {
		t.Errorf("placeholder-like text in a value was altered: %q", notes[0])
	}
	// Literal question marks in SQL text survive rebinding.
	err = db.View(ctx, func(tx store.Tx) error {
		var s string
		if err := tx.QueryRow(ctx, `SELECT 'a?b' || ?`, "c").Scan(&s); err != nil {
			return err
		}
		if s != "a?bc" {
			return fmt.Errorf("got %q", s)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

func testUnique(t *testing.T, db store.DB) {
	mkTable(t, db)
	ins := func(k string) error {
		return db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES (?, 1)`, k)
			return err
		})
	}
	if err := ins("a"); err != nil {
		t.Fatal(err)
	}
	err := ins("a")
	if !errors.Is(errors.Exist, err) {
		t.Fatalf("duplicate insert: err = %v (kind %v), want Exist", err, errors.KindOf(err))
	}
	if v, err := get(t, db, "a"); err != nil || v != 1 {
		t.Errorf("after conflict: %d, %v", v, err)
	}
}

func testForeignKey(t *testing.T, db store.DB) {
	mkTable(t, db)
	err := db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO child (id, k) VALUES ('c1', 'missing')`)
		return err
	})
	if !errors.Is(errors.Invalid, err) {
		t.Errorf("dangling reference: err = %v (kind %v), want Invalid", err, errors.KindOf(err))
	}
}

func testRollback(t *testing.T, db store.DB) {
	mkTable(t, db)
	boom := errors.E(errors.Op("test"), errors.Invalid, errors.Msg("boom"))
	err := db.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('x', 1)`); err != nil {
			return err
		}
		return boom
	})
	if !errors.IsErr(err, boom) {
		t.Fatalf("Update returned %v, want the closure's error", err)
	}
	if _, err := get(t, db, "x"); !errors.Is(errors.NotExist, err) {
		t.Errorf("rolled-back row visible: %v", err)
	}
	// A panic in the closure also rolls back (and propagates).
	func() {
		defer func() { recover() }()
		db.Update(ctx, func(tx store.Tx) error {
			tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('p', 1)`)
			panic("closure panics")
		})
	}()
	if _, err := get(t, db, "p"); !errors.Is(errors.NotExist, err) {
		t.Errorf("row from panicking closure visible: %v", err)
	}
	// The database is still usable afterwards.
	if err := db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('y', 2)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func testConcurrentWriters(t *testing.T, db store.DB) {
	mkTable(t, db)
	if err := db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('n', 0)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := db.Update(ctx, func(tx store.Tx) error {
					var v int64
					if err := tx.QueryRow(ctx, `SELECT v FROM kv WHERE k = 'n'`).Scan(&v); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, `UPDATE kv SET v = ? WHERE k = 'n'`, v+1); err != nil {
						return err
					}
					_, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`, fmt.Sprintf("w%d-%d", w, i), v)
					return err
				})
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatalf("concurrent writer: %v", err)
	}
	if v, err := get(t, db, "n"); err != nil || v != writers*each {
		t.Errorf("counter = %d, %v; want %d (lost update)", v, err, writers*each)
	}
	// Every read-modify-write saw a distinct value: no two transactions
	// interleaved.
	var distinct int
	db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(DISTINCT v) FROM kv WHERE k LIKE 'w%'`).Scan(&distinct)
	})
	if distinct != writers*each {
		t.Errorf("distinct observed values = %d, want %d", distinct, writers*each)
	}
}

func testIsolation(t *testing.T, db store.DB) {
	mkTable(t, db)
	err := db.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('r', 5)`); err != nil {
			return err
		}
		var v int64
		if err := tx.QueryRow(ctx, `SELECT v FROM kv WHERE k = 'r'`).Scan(&v); err != nil || v != 5 {
			return fmt.Errorf("own write not visible in transaction: %d, %v", v, err)
		}
		// Not yet visible outside.
		if _, err := get(t, db, "r"); !errors.Is(errors.NotExist, err) {
			return fmt.Errorf("uncommitted write visible to a reader: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// View is read-only.
	err = db.View(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('ro', 1)`)
		return err
	})
	if err == nil {
		t.Error("write inside View succeeded")
	}
	if _, err := get(t, db, "ro"); !errors.Is(errors.NotExist, err) {
		t.Errorf("write inside View persisted: %v", err)
	}
}

// testViewSnapshot: every statement of one View sees the same snapshot,
// whatever commits meanwhile — a page and its total, or search postings
// and the documents they name, never disagree (PostgreSQL's default READ
// COMMITTED would give each statement a snapshot of its own).
func testViewSnapshot(t *testing.T, db store.DB) {
	mkTable(t, db)
	if err := db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('s', 1)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	read := func(tx store.Tx) (v, n int64) {
		t.Helper()
		if err := tx.QueryRow(ctx, `SELECT v FROM kv WHERE k = 's'`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM kv`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return v, n
	}
	err := db.View(ctx, func(tx store.Tx) error {
		v0, n0 := read(tx)
		if err := db.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Exec(ctx, `UPDATE kv SET v = v + 1 WHERE k = 's'`); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO kv (k, v) VALUES ('t', 1)`)
			return err
		}); err != nil {
			return err
		}
		if v1, n1 := read(tx); v1 != v0 || n1 != n0 {
			return fmt.Errorf("a View saw a commit made after its first statement: v %d → %d, rows %d → %d", v0, v1, n0, n1)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.View(ctx, func(tx store.Tx) error {
		if v, n := read(tx); v != 2 || n != 2 {
			return fmt.Errorf("a View after the commit reads v %d and %d rows, want 2 and 2", v, n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testCancel(t *testing.T, db store.DB) {
	mkTable(t, db)
	c, cancel := context.WithCancel(ctx)
	cancel()
	err := db.Update(c, func(tx store.Tx) error {
		_, err := tx.Exec(c, `INSERT INTO kv (k, v) VALUES ('c', 1)`)
		return err
	})
	if !errors.Is(errors.Canceled, err) {
		t.Errorf("Update with cancelled ctx: err = %v (kind %v), want Canceled", err, errors.KindOf(err))
	}
	err = db.View(c, func(tx store.Tx) error { return nil })
	if !errors.Is(errors.Canceled, err) {
		t.Errorf("View with cancelled ctx: err = %v, want Canceled", err)
	}
	// Cancelled mid-transaction: nothing is committed.
	c2, cancel2 := context.WithCancel(ctx)
	err = db.Update(c2, func(tx store.Tx) error {
		if _, err := tx.Exec(c2, `INSERT INTO kv (k, v) VALUES ('m', 1)`); err != nil {
			return err
		}
		cancel2()
		_, err := tx.Exec(c2, `INSERT INTO kv (k, v) VALUES ('m2', 1)`)
		return err
	})
	if err == nil {
		t.Error("Update cancelled mid-way returned nil")
	}
	if _, err := get(t, db, "m"); !errors.Is(errors.NotExist, err) {
		t.Errorf("write from cancelled transaction committed: %v", err)
	}
	// Cancelled after the closure's last statement: database/sql rolls the
	// transaction back on its own, and the commit (and any statement made
	// under another context) finds it done. That is a cancellation, not an
	// internal error, and nothing is committed.
	c3, cancel3 := context.WithCancel(ctx)
	var stmtErr error
	lateKeys := []string{"late"}
	err = db.Update(c3, func(tx store.Tx) error {
		if _, err := tx.Exec(c3, `INSERT INTO kv (k, v) VALUES ('late', 1)`); err != nil {
			return err
		}
		cancel3()
		// Wait until the rollback has happened (no timing assumed): each
		// try writes a key of its own, so a try that lands before the
		// rollback does not make the next one a conflict.
		for i := 0; stmtErr == nil; i++ {
			_, stmtErr = tx.Exec(context.WithoutCancel(c3), `INSERT INTO kv (k, v) VALUES (?, 1)`, fmt.Sprint("late2-", i))
			lateKeys = append(lateKeys, fmt.Sprint("late2-", i))
			runtime.Gosched()
		}
		return nil
	})
	if !errors.Is(errors.Canceled, stmtErr) {
		t.Errorf("statement in a transaction rolled back by cancellation: err = %v (kind %v), want Canceled", stmtErr, errors.KindOf(stmtErr))
	}
	if !errors.Is(errors.Canceled, err) {
		t.Errorf("commit after cancellation: err = %v (kind %v), want Canceled", err, errors.KindOf(err))
	}
	for _, k := range lateKeys {
		if _, err := get(t, db, k); !errors.Is(errors.NotExist, err) {
			t.Errorf("write %q from a cancelled transaction committed: %v", k, err)
		}
	}
}
