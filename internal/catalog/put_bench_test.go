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
