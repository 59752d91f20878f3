package catalog_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/localdisk"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// putBench is a catalog on SQLite and a local-disk store holding the OPEN
// dataset "bench", which alice may write.
func putBench(b *testing.B) (*catalog.Service, *localdisk.Store, *world) {
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
	return c, st, w
}

// benchChunks is n distinct 1 MiB chunks and their IDs.
func benchChunks(n int) ([][]byte, []blob.ID) {
	r := rand.New(rand.NewPCG(1, 2))
	chunks, ids := make([][]byte, n), make([]blob.ID, n)
	for i := range chunks {
		chunks[i] = make([]byte, 1<<20)
		for j := 0; j < len(chunks[i]); j += 8 {
			chunks[i][j] = byte(r.Uint32())
		}
		ids[i] = blob.Sum(chunks[i])
	}
	return chunks, ids
}

// BenchmarkPutChunk measures the server side of sending one 1 MiB chunk to
// a dataset: decisions, the claim transaction and the local-disk write.
//
//	go test -run XXX -bench PutChunk -benchtime 200x ./internal/catalog
func BenchmarkPutChunk(b *testing.B) {
	c, _, w := putBench(b)
	chunks, _ := benchChunks(b.N)
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
	c, st, w := putBench(b)
	chunks, ids := benchChunks(b.N)
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

// TestUploadAudit: the chunks of an upload are decided like any write, but
// allowed ones are on the audit record once per "which are missing?" batch
// and once per commit, not once per chunk; every denial is recorded.
func TestUploadAudit(t *testing.T) {
	storetest.ForEachBackend(t, testUploadAudit)
}

func testUploadAudit(t *testing.T, db store.DB) {
	w := newWorld(t, db)
	shots, err := w.cat.Create(ctx, w.alice, catalog.CreateSpec{Name: "shots", Label: "PROPRIETARY//FUSION"})
	if err != nil {
		t.Fatal(err)
	}
	size := func() uint64 { n, _ := w.log.Size(ctx); return n }
	var ids []blob.ID
	var data [][]byte
	for i := range 20 {
		d := []byte(fmt.Sprintf("chunk %d", i))
		data, ids = append(data, d), append(ids, blob.Sum(d))
	}
	before := size()
	missing, err := w.cat.MissingChunks(ctx, w.alice, "shots", ids)
	if err != nil || len(missing) != len(ids) {
		t.Fatalf("MissingChunks = %d, %v", len(missing), err)
	}
	for i := range ids {
		if err := w.cat.ReceiveChunk(ctx, w.alice, "shots", ids[i], data[i]); err != nil {
			t.Fatal(err)
		}
	}
	if got := size() - before; got != 1 {
		t.Fatalf("an upload of %d chunks made %d audit records, want 1", len(ids), got)
	}
	// Received chunks are held; asking again (with duplicates) names only
	// the one never sent, once.
	extra := blob.Sum([]byte("never sent"))
	again, err := w.cat.MissingChunks(ctx, w.alice, "shots", append(append(slices.Clone(ids), extra, extra), ids...))
	if err != nil || !slices.Equal(again, []blob.ID{extra}) {
		t.Fatalf("MissingChunks again = %v, %v; want [%v]", again, err, extra)
	}
	last, _ := w.log.Get(ctx, size()-1)
	if last.Decision != audit.Allow || last.Principal != string(w.alice.ID) {
		t.Fatalf("upload record = %+v", last)
	}
	// carol may read but not write, bob may not even see it: denied, on
	// the record, and told apart exactly as for other writes. (bob asks by
	// its ID: to him the name "shots" names nothing, and asking for it is
	// no decision about alice's asset; docs/DESIGN.md, "Names".)
	before = size()
	if err := w.cat.ReceiveChunk(ctx, w.carol, "shots", ids[0], data[0]); !errors.Is(errors.Permission, err) {
		t.Fatalf("carol's chunk: %v, want permission", err)
	}
	if _, err := w.cat.MissingChunks(ctx, w.bob, shots.ID, ids); !errors.Is(errors.NotExist, err) {
		t.Fatalf("bob's missing: %v, want not-exist", err)
	}
	if got := size() - before; got != 2 {
		t.Fatalf("two denials made %d audit records, want 2", got)
	}
	for i := before; i < size(); i++ {
		if r, _ := w.log.Get(ctx, i); r.Decision != audit.Deny {
			t.Fatalf("record %d = %+v, want a denial", i, r)
		}
	}
}
