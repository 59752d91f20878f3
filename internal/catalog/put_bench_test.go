package catalog_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/localdisk"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// BenchmarkPutChunk measures the server side of sending one 1 MiB chunk to
// a dataset: decisions, the claim transaction and the local-disk write.
//
//	go test -run XXX -bench PutChunk -benchtime 200x ./internal/catalog
func BenchmarkPutChunk(b *testing.B) {
	db := storetest.Migrated(b, storetest.SQLite)
	w := newWorld(b, db)
	st, err := localdisk.Open(filepath.Join(b.TempDir(), "blobs"), localdisk.Options{})
	if err != nil {
		b.Fatal(err)
	}
	az, _ := authz.New(w.id, time.Now)
	c := catalog.New(catalog.Config{DB: db, Blobs: st, Authz: az, Principals: identity.New(db)})
	if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "bench", Label: "OPEN"}); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	chunks := make([][]byte, b.N)
	for i := range chunks {
		chunks[i] = make([]byte, 1<<20)
		for j := 0; j < len(chunks[i]); j += 8 {
			chunks[i][j] = byte(r.Uint32())
		}
	}
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := range b.N {
		if err := c.PutChunk(ctx, w.alice, "bench", blob.Sum(chunks[i]), chunks[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReceiveChunk is the server side of a put through the transfer
// protocol: "which are missing?" for 64 chunks at a time (one claim
// transaction), each chunk received without a transaction or fsync of its
// own, and the batch fsync a commit does at the end (timed too).
//
//	go test -run XXX -bench ReceiveChunk -benchtime 500x ./internal/catalog
func BenchmarkReceiveChunk(b *testing.B) {
	db := storetest.Migrated(b, storetest.SQLite)
	w := newWorld(b, db)
	st, err := localdisk.Open(filepath.Join(b.TempDir(), "blobs"), localdisk.Options{})
	if err != nil {
		b.Fatal(err)
	}
	az, _ := authz.New(w.id, time.Now)
	c := catalog.New(catalog.Config{DB: db, Blobs: st, Authz: az, Principals: identity.New(db)})
	if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "bench", Label: "OPEN"}); err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	chunks := make([][]byte, b.N)
	ids := make([]blob.ID, b.N)
	for i := range chunks {
		chunks[i] = make([]byte, 1<<20)
		for j := 0; j < len(chunks[i]); j += 8 {
			chunks[i][j] = byte(r.Uint32())
		}
		ids[i] = blob.Sum(chunks[i])
	}
	b.SetBytes(1 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i += 64 {
		batch := ids[i:min(i+64, b.N)]
		missing, err := c.MissingChunks(ctx, w.alice, "bench", batch)
		if err != nil || len(missing) != len(batch) {
			b.Fatalf("missing = %d of %d, %v", len(missing), len(batch), err)
		}
		for j := range batch {
			if err := c.ReceiveChunk(ctx, w.alice, "bench", ids[i+j], chunks[i+j]); err != nil {
				b.Fatal(err)
			}
		}
	}
	t := time.Now()
	if err := st.Sync(ctx, ids); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(time.Since(t).Microseconds())/1e3/float64(b.N), "sync-ms/op")
}
