package search

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// TestPostgresBlobCacheNeverStale: replica a caches a word's postings
// blobs; replica b then adds, changes and removes documents with that word
// (appending to, rewriting and deleting the rows a holds); every search of
// a answers as a replica started afterwards, so a never serves a blob its
// row no longer has (migration 0036's versions, bumped by its trigger).
func TestPostgresBlobCacheNeverStale(t *testing.T) {
	ctx := context.Background()
	db := storetest.Migrated(t, storetest.Postgres)
	a, _ := New(db)
	b, _ := New(db)
	rng := rand.New(rand.NewPCG(36, 1))
	// "ne*" matches four tokens: a change to one of their rows leaves the
	// others cached (the path reading the missing versions alone).
	words := []string{"reactor", "plasma", "neutron", "nebula", "nexus", "needle"}
	doc := func(i int) Doc {
		return Doc{ID: fmt.Sprintf("d%02d", i), Kind: "dataset", Name: "n", Title: words[rng.IntN(len(words))] + " " + words[rng.IntN(len(words))],
			Label: "OPEN", Owner: "u1", Updated: time.Unix(int64(i), 0).UTC()}
	}
	for i := range 10 {
		if err := Put(ctx, db, b, doc(i)); err != nil {
			t.Fatal(err)
		}
	}
	for step := range 30 {
		for _, w := range append(words, "ne*") {
			q := Query{Text: w, Limit: MaxLimit}
			fresh, _ := New(db)
			want, err := fresh.Search(ctx, q, allOf(t, fresh))
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Search(ctx, q, allOf(t, a))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("step %d, %s: replica a (+) vs a new one (-):\n%s", step, w, d)
			}
		}
		var err error
		switch i := rng.IntN(14); {
		case step%3 == 2:
			err = Remove(ctx, db, b, fmt.Sprintf("d%02d", i))
		default:
			err = Put(ctx, db, b, doc(i))
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(a.(*pgIndex).blobs.byVer); n == 0 {
		t.Fatal("replica a cached no postings blob")
	}
}

// TestBlobCacheBound: the cache keeps the most recently used blobs within
// its byte bound, and serves exactly what was put under each version.
func TestBlobCacheBound(t *testing.T) {
	rng := rand.New(rand.NewPCG(36, 2))
	const max = 64 * (100 + blobOverhead)
	c := &blobCache{maxBytes: max}
	var recent []int64 // model: versions by recency, most recent last
	blob := func(v int64) []byte { return fmt.Appendf(nil, "%0100d", v) }
	for range 5000 {
		v := int64(rng.IntN(200))
		if rng.IntN(2) == 0 {
			data, ok := c.get(v)
			i := slices.Index(recent, v)
			if ok != (i >= 0) {
				t.Fatalf("get(%d): %v, model %v", v, ok, i >= 0)
			}
			if ok {
				if string(data) != string(blob(v)) {
					t.Fatalf("get(%d) = %q", v, data)
				}
				recent = append(slices.Delete(recent, i, i+1), v)
			}
			continue
		}
		c.put(v, blob(v))
		if slices.Index(recent, v) < 0 {
			recent = append(recent, v)
			if len(recent) > 64 {
				recent = recent[1:]
			}
		}
		if c.bytes > max || len(c.byVer) != len(recent) {
			t.Fatalf("%d bytes in %d entries, model %d entries", c.bytes, len(c.byVer), len(recent))
		}
	}
}
