package audit_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/audit/audittest"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
	"github.com/genesis-science/genesis/internal/store/sqlite"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/sumdb/note"
)

var backends = []string{"sqlite", "postgres"}

// sharedDB returns a function that opens one more connection pool to one
// fresh, migrated database of the backend: each pool stands for a replica.
func sharedDB(t testing.TB, backend string) func(t testing.TB) store.DB {
	t.Helper()
	var open func() (store.DB, error)
	switch backend {
	case "sqlite":
		path := filepath.Join(t.TempDir(), "genesis.db")
		open = func() (store.DB, error) { return sqlite.Open(context.Background(), path) }
	case "postgres":
		dsn := storetest.PostgresDSN(t)
		open = func() (store.DB, error) { return postgres.Open(context.Background(), dsn) }
	}
	first := true
	return func(t testing.TB) store.DB {
		t.Helper()
		db, err := open()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if first {
			first = false
			if _, err := store.Migrate(context.Background(), db); err != nil {
				t.Fatalf("migrate: %v", err)
			}
		}
		return db
	}
}

func storeKeys(t testing.TB) (note.Signer, note.Verifier) {
	t.Helper()
	skey, _, err := audit.GenerateKey(audit.Origin("shared"))
	if err != nil {
		t.Fatal(err)
	}
	s, v, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, v
}

func openStoreLog(t testing.TB, db store.DB, s note.Signer, v note.Verifier) *audit.StoreLog {
	t.Helper()
	l, err := audit.OpenStore(context.Background(), db, audit.Options{Signer: s, Verifier: v})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustVerifyStore(t testing.TB, db store.DB, v note.Verifier) audit.Report {
	t.Helper()
	rep, err := audit.VerifyStore(context.Background(), db, v, audit.VerifyOptions{})
	if err != nil || !rep.Intact() {
		t.Fatalf("shared log does not verify: %v %v", err, rep.Problems)
	}
	return rep
}

func TestStoreLogConformance(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			audittest.Run(t, func(t *testing.T) audit.Interface {
				db := sharedDB(t, b)(t)
				s, v := storeKeys(t)
				l, err := audit.OpenStore(context.Background(), db, audit.Options{Signer: s, Verifier: v})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := l.Close(); err != nil {
						t.Error(err)
					}
					mustVerifyStore(t, db, v)
				})
				return l
			})
		})
	}
}

// TestStoreLogReplicas has several StoreLogs, each on its own connection
// pool as a replica would be, append at once into one database, and checks
// one total order: every index from 0 given exactly once, every
// acknowledged index holding what was appended (read through another
// replica), every checkpoint any replica saw a prefix of the final one,
// inclusion proofs and tiles from any replica, and the whole log verifying.
func TestStoreLogReplicas(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			ctx := context.Background()
			open := sharedDB(t, b)
			s, v := storeKeys(t)
			const replicas, workers, each = 3, 4, 50
			logs := make([]*audit.StoreLog, replicas)
			dbs := make([]store.DB, replicas)
			for i := range logs {
				dbs[i] = open(t)
				logs[i] = openStoreLog(t, dbs[i], s, v)
			}
			type ack struct {
				idx uint64
				rec audit.Record
			}
			var mu sync.Mutex
			var acks []ack
			var seenCPs []audit.Checkpoint
			var wg sync.WaitGroup
			for r := range replicas {
				for w := range workers {
					wg.Add(1)
					go func() {
						defer wg.Done()
						l := logs[r]
						for k := range each {
							rec := audittest.Record((r*workers+w)*1000 + k)
							appendFn := l.Append
							if k%3 == 0 {
								appendFn = l.AppendSync
							}
							idx, err := appendFn(ctx, rec)
							if err != nil {
								t.Error(err)
								return
							}
							mu.Lock()
							acks = append(acks, ack{idx, rec})
							mu.Unlock()
							if k%10 == 0 {
								cp, _, err := l.Checkpoint(ctx)
								if err != nil {
									t.Error(err)
									return
								}
								if cp.Size <= idx {
									t.Errorf("checkpoint of size %d after index %d was acknowledged", cp.Size, idx)
								}
								mu.Lock()
								seenCPs = append(seenCPs, cp)
								mu.Unlock()
							}
						}
					}()
				}
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			const total = replicas * workers * each
			seen := make([]bool, total)
			for _, a := range acks {
				if a.idx >= total || seen[a.idx] {
					t.Fatalf("index %d given twice or out of range", a.idx)
				}
				seen[a.idx] = true
				got, err := logs[int(a.idx)%replicas].Get(ctx, a.idx)
				if err != nil || !cmp.Equal(got, a.rec) {
					t.Fatalf("entry %d is not what was acknowledged: %+v %v", a.idx, got, err)
				}
			}
			final, note0, err := logs[0].Checkpoint(ctx)
			if err != nil || final.Size != total {
				t.Fatalf("final checkpoint %+v, %v; want size %d", final, err, total)
			}
			for i, l := range logs {
				if n, err := l.Size(ctx); err != nil || n != total {
					t.Fatalf("replica %d: Size = %d, %v", i, n, err)
				}
				if _, n, _ := l.Checkpoint(ctx); !bytes.Equal(n, note0) {
					t.Fatalf("replica %d sees another checkpoint", i)
				}
			}
			for i, cp := range seenCPs {
				p, err := logs[i%replicas].ProveConsistency(ctx, cp.Size, final.Size)
				if err != nil {
					t.Fatal(err)
				}
				if err := audit.VerifyConsistency(cp, final, p); err != nil {
					t.Fatalf("checkpoint of size %d is not a prefix of the final one: %v", cp.Size, err)
				}
			}
			for _, idx := range []uint64{0, 255, 256, 511, total - 1} {
				l := logs[int(idx)%replicas]
				raw, err := l.Entry(ctx, idx)
				if err != nil {
					t.Fatal(err)
				}
				p, err := l.ProveInclusion(ctx, idx, final.Size)
				if err != nil {
					t.Fatal(err)
				}
				if err := audit.VerifyInclusion(final, idx, raw, p); err != nil {
					t.Fatalf("inclusion of %d: %v", idx, err)
				}
			}
			// The C2SP tiles: the checkpoint and the first entry bundle.
			if cpt, err := logs[1].ReadTile(ctx, "checkpoint"); err != nil || !bytes.Equal(cpt, note0) {
				t.Fatalf("ReadTile(checkpoint) = %q, %v", cpt, err)
			}
			bundle, err := logs[2].ReadTile(ctx, "tile/entries/000")
			if err != nil {
				t.Fatal(err)
			}
			for i := uint64(0); i < 256; i++ {
				k := int(binary.BigEndian.Uint16(bundle))
				raw, _ := logs[0].Entry(ctx, i)
				if !bytes.Equal(bundle[2:2+k], raw) {
					t.Fatalf("entry bundle 0 differs at %d", i)
				}
				bundle = bundle[2+k:]
			}
			if len(bundle) != 0 {
				t.Fatalf("entry bundle 0 has %d bytes too many", len(bundle))
			}
			if _, err := logs[2].ReadTile(ctx, "tile/0/000"); err != nil {
				t.Fatal(err)
			}
			if _, err := logs[2].ReadTile(ctx, "tile/0/005"); !errors.Is(errors.NotExist, err) {
				t.Fatalf("tile beyond the tree: %v", err)
			}

			// A replica that starts now rebuilds its tree from the tiles
			// and appends after everyone else.
			late := openStoreLog(t, open(t), s, v)
			if idx, err := late.AppendSync(ctx, audittest.Record(1)); err != nil || idx != total {
				t.Fatalf("late replica's append: %d, %v", idx, err)
			}
			if _, err := logs[0].AppendSync(ctx, audittest.Record(2)); err != nil {
				t.Fatal(err)
			}
			rep := mustVerifyStore(t, dbs[0], v)
			if rep.Entries != total+2 || rep.Previous == nil || rep.Previous.Size != total+1 {
				t.Fatalf("report: %+v", rep)
			}
		})
	}
}

// TestStoreLogTamper changes the shared log behind the replicas' backs;
// VerifyStore must see every change, and a replica opening or appending
// afterwards must refuse when its own checks cover the change.
func TestStoreLogTamper(t *testing.T) {
	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i%len(c)] ^= 1
		return c
	}
	otherS, _ := storeKeys(t)
	cases := []struct {
		name string
		do   func(ctx context.Context, tx store.Tx) error
		// refused: a replica opening afterwards refuses the log (its own
		// checks cover the entries after the last full tile and the head).
		refused bool
	}{
		{"entry byte", func(ctx context.Context, tx store.Tx) error {
			var d []byte
			if err := tx.QueryRow(ctx, `SELECT data FROM audit_entries WHERE idx = 7`).Scan(&d); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE audit_entries SET data = ? WHERE idx = 7`, flip(d, 20))
			return err
		}, false},
		{"recent entry byte", func(ctx context.Context, tx store.Tx) error {
			var d []byte
			if err := tx.QueryRow(ctx, `SELECT data FROM audit_entries WHERE idx = 290`).Scan(&d); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE audit_entries SET data = ? WHERE idx = 290`, flip(d, 20))
			return err
		}, true},
		{"tile byte", func(ctx context.Context, tx store.Tx) error {
			var d []byte
			if err := tx.QueryRow(ctx, `SELECT data FROM audit_tiles WHERE level = 0 AND n = 0`).Scan(&d); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE audit_tiles SET data = ? WHERE level = 0 AND n = 0`, flip(d, 100))
			return err
		}, false},
		{"entry deleted", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM audit_entries WHERE idx = 100`)
			return err
		}, false},
		{"entries swapped", func(ctx context.Context, tx store.Tx) error {
			var a, b []byte
			tx.QueryRow(ctx, `SELECT data FROM audit_entries WHERE idx = 10`).Scan(&a)
			tx.QueryRow(ctx, `SELECT data FROM audit_entries WHERE idx = 11`).Scan(&b)
			if _, err := tx.Exec(ctx, `UPDATE audit_entries SET data = ? WHERE idx = 10`, b); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE audit_entries SET data = ? WHERE idx = 11`, a)
			return err
		}, false},
		{"extra entry", func(ctx context.Context, tx store.Tx) error {
			var d []byte
			tx.QueryRow(ctx, `SELECT data FROM audit_entries WHERE idx = 0`).Scan(&d)
			_, err := tx.Exec(ctx, `INSERT INTO audit_entries (idx, data) VALUES (300, ?)`, d)
			return err
		}, false},
		{"extra tile", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO audit_tiles (level, n, data) VALUES (3, 0, ?)`, make([]byte, 8192))
			return err
		}, false},
		{"head size", func(ctx context.Context, tx store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE audit_head SET size = 299`)
			return err
		}, true},
		{"checkpoint signed by another key", func(ctx context.Context, tx store.Tx) error {
			var msg []byte
			tx.QueryRow(ctx, `SELECT checkpoint FROM audit_head`).Scan(&msg)
			cp, err := audit.ParseCheckpoint(append(bytes.SplitN(msg, []byte("\n\n"), 2)[0], '\n'))
			if err != nil {
				return err
			}
			forged, err := audit.SignCheckpoint(cp, otherS)
			if err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE audit_head SET checkpoint = ?`, forged)
			return err
		}, true},
		{"rolled back to the previous checkpoint", func(ctx context.Context, tx store.Tx) error {
			// Entries and head as they were before the last batch:
			// consistent and signed, caught only against a trusted
			// checkpoint (the test passes the final one).
			_, err := tx.Exec(ctx, `DELETE FROM audit_entries WHERE idx = 299`)
			if err == nil {
				_, err = tx.Exec(ctx, `UPDATE audit_head SET checkpoint = prev, size = 299`)
			}
			return err
		}, false},
	}
	for _, b := range backends {
		for _, c := range cases {
			t.Run(b+"/"+strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
				ctx := context.Background()
				open := sharedDB(t, b)
				s, v := storeKeys(t)
				db := open(t)
				l := openStoreLog(t, db, s, v)
				for i := range 299 {
					if _, err := l.Append(ctx, audittest.Record(i)); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := l.AppendSync(ctx, audittest.Record(299)); err != nil {
					t.Fatal(err)
				}
				trusted, _, _ := l.Checkpoint(ctx)
				mustVerifyStore(t, db, v)
				l.Close()
				if err := db.Update(ctx, func(tx store.Tx) error { return c.do(ctx, tx) }); err != nil {
					t.Fatal(err)
				}
				rep, err := audit.VerifyStore(ctx, db, v, audit.VerifyOptions{Trusted: []audit.Checkpoint{trusted}})
				if err == nil || rep.Intact() {
					t.Fatalf("verify did not notice: %+v", rep)
				}
				t.Logf("problems: %q", rep.Problems)
				_, err = audit.OpenStore(ctx, open(t), audit.Options{Signer: s, Verifier: v})
				if c.refused && err == nil {
					t.Fatal("a replica opened the tampered log")
				}
				if err != nil && !c.refused {
					t.Logf("open also refused: %v", err)
				}
			})
		}
	}
}

// TestStoreLogDatabaseGone: a replica whose database is gone refuses what
// must be audited (both appends fail, nothing acknowledged), says so in
// Healthy, and the other replicas go on.
func TestStoreLogDatabaseGone(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			ctx := context.Background()
			open := sharedDB(t, b)
			s, v := storeKeys(t)
			goneDB, otherDB := open(t), open(t)
			gone, other := openStoreLog(t, goneDB, s, v), openStoreLog(t, otherDB, s, v)
			if _, err := gone.AppendSync(ctx, audittest.Record(0)); err != nil {
				t.Fatal(err)
			}
			if err := gone.Healthy(); err != nil {
				t.Fatalf("Healthy before: %v", err)
			}
			goneDB.Close()
			if err := gone.Healthy(); !errors.Is(errors.Unavailable, err) {
				t.Fatalf("Healthy with the database gone: %v", err)
			}
			for name, fn := range map[string]func(context.Context, audit.Record) (uint64, error){"Append": gone.Append, "AppendSync": gone.AppendSync} {
				if idx, err := fn(ctx, audittest.Record(1)); !errors.Is(errors.Unavailable, err) {
					t.Fatalf("%s with the database gone: %d, %v", name, idx, err)
				}
			}
			if idx, err := other.AppendSync(ctx, audittest.Record(2)); err != nil || idx != 1 {
				t.Fatalf("the other replica: %d, %v", idx, err)
			}
			if err := other.Healthy(); err != nil {
				t.Fatal(err)
			}
			rep := mustVerifyStore(t, otherDB, v)
			if rep.Entries != 2 {
				t.Fatalf("entries %d, want 2", rep.Entries)
			}
		})
	}
}

// TestStoreLogOtherKey: a replica with another signing key cannot open the
// shared log (it would sign checkpoints nobody can verify).
func TestStoreLogOtherKey(t *testing.T) {
	for _, b := range backends {
		t.Run(b, func(t *testing.T) {
			open := sharedDB(t, b)
			s, v := storeKeys(t)
			openStoreLog(t, open(t), s, v)
			s2, v2 := storeKeys(t)
			if _, err := audit.OpenStore(context.Background(), open(t), audit.Options{Signer: s2, Verifier: v2}); err == nil {
				t.Fatal("opened the shared log with another key")
			}
		})
	}
}

// BenchmarkStoreAppend measures appends per second into the shared log on
// PostgreSQL from 1 and 3 replicas, 16 appending goroutines each, and
// from one goroutine (one transaction per append: the latency of an
// append with no batching).
func BenchmarkStoreAppend(b *testing.B) {
	b.Run("serial", func(b *testing.B) {
		s, v := storeKeys(b)
		l := openStoreLog(b, sharedDB(b, "postgres")(b), s, v)
		ctx := context.Background()
		b.ResetTimer()
		for i := range b.N {
			if _, err := l.AppendSync(ctx, audittest.Record(i)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
	})
	for _, replicas := range []int{1, 3} {
		b.Run(fmt.Sprintf("replicas=%d", replicas), func(b *testing.B) {
			open := sharedDB(b, "postgres")
			s, v := storeKeys(b)
			logs := make([]*audit.StoreLog, replicas)
			var db0 store.DB
			for i := range logs {
				db := open(b)
				if i == 0 {
					db0 = db
				}
				logs[i] = openStoreLog(b, db, s, v)
			}
			ctx := context.Background()
			var next sync.Mutex
			k := 0
			b.SetParallelism(16 * replicas)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				next.Lock()
				l := logs[k%replicas]
				k++
				next.Unlock()
				i := 0
				for pb.Next() {
					if _, err := l.AppendSync(ctx, audittest.Record(i)); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "appends/s")
			// What the log costs PostgreSQL per entry: entries, tiles
			// and their indexes.
			var bytes int64
			if err := db0.View(ctx, func(tx store.Tx) error {
				return tx.QueryRow(ctx, `SELECT pg_total_relation_size('audit_entries') + pg_total_relation_size('audit_tiles')`).Scan(&bytes)
			}); err != nil {
				b.Fatal(err)
			}
			if n, _ := logs[0].Size(ctx); n > 0 {
				b.ReportMetric(float64(bytes)/float64(n), "db-bytes/entry")
			}
		})
	}
}
