package search

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// TestPostingsEqualFTS checks the postings path against the FTS5 path it
// replaces for words and prefixes: same hits, order, scores, totals, facets
// and cursors, over a corpus with updates and deletes, for random
// visibilities and queries.
func TestPostingsEqualFTS(t *testing.T) {
	ctx := context.Background()
	vocab := []string{"reactor", "reactors", "plasma", "neutron", "alloy", "qubit", "wafer", "fusion", "fuel", "crystal", "sensor", "catalyst"}
	rng := rand.New(rand.NewPCG(5, 6))
	words := func(n int) string {
		var w []string
		for range n {
			w = append(w, vocab[rng.IntN(len(vocab))])
		}
		return strings.Join(w, " ")
	}
	db := storetest.Migrated(t, storetest.SQLite)
	ix := &sqliteIndex{db: db}
	var docs []Doc
	for i := range 300 {
		d := Doc{ID: fmt.Sprintf("d%03d", i), Kind: []string{"dataset", "model"}[rng.IntN(2)], Name: words(1),
			Title: words(1 + rng.IntN(4)), Description: words(rng.IntN(20)), Domain: []string{"", "fusion", "materials"}[rng.IntN(3)],
			Org: []string{"", "ORNL", "LLNL"}[rng.IntN(3)], Project: []string{"", "p1"}[rng.IntN(2)], Owner: []string{"u1", "u2"}[rng.IntN(2)],
			Label: []string{"OPEN", "PROPRIETARY", "NATIONAL-SECURITY"}[rng.IntN(3)], Updated: time.Unix(int64(rng.IntN(1000)), 0).UTC()}
		for range rng.IntN(3) {
			d.Keywords = append(d.Keywords, vocab[rng.IntN(len(vocab))])
		}
		if rng.IntN(2) == 0 {
			d.Creators = []string{words(2)}
		}
		docs = append(docs, d)
	}
	if err := Put(ctx, db, ix, docs...); err != nil {
		t.Fatal(err)
	}
	// Updates and deletes in small transactions, with searches in between
	// so the document cache is loaded before the changes.
	for round := range 5 {
		if _, err := ix.Search(ctx, Query{Text: "reactor"}, allOf(t, ix)); err != nil {
			t.Fatal(err)
		}
		for range 20 {
			d := docs[rng.IntN(len(docs))]
			if rng.IntN(3) == 0 {
				if err := Remove(ctx, db, ix, d.ID); err != nil {
					t.Fatal(err)
				}
				continue
			}
			d.Title, d.Label = words(1+rng.IntN(3)), []string{"OPEN", "PROPRIETARY"}[rng.IntN(2)]
			if err := Put(ctx, db, ix, d); err != nil {
				t.Fatal(err)
			}
		}
		classes, err := ix.Classes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for range 30 {
			var v Visibility
			v.Owner = []string{"", "u1", "u2"}[rng.IntN(3)]
			for _, c := range classes {
				switch rng.IntN(3) {
				case 0:
					v.ReadableClasses = append(v.ReadableClasses, c.ID)
				case 1:
					v.OwnerReadableClasses = append(v.OwnerReadableClasses, c.ID)
				}
			}
			var parts []string
			for range 1 + rng.IntN(3) {
				w := vocab[rng.IntN(len(vocab))]
				if rng.IntN(3) == 0 {
					w = w[:2+rng.IntN(3)] + "*"
				}
				parts = append(parts, w)
			}
			q := Query{Text: strings.Join(parts, " "), Limit: 1 + rng.IntN(10)}
			if rng.IntN(4) == 0 {
				q.Domain = "fusion"
			}
			if rng.IntN(4) == 0 {
				q.Kind = "model"
			}
			if rng.IntN(5) == 0 {
				q.Keywords = []string{vocab[rng.IntN(len(vocab))]}
			}
			terms, err := parseQuery("test", q.Text)
			if err != nil {
				t.Fatal(err)
			}
			vis := normalize(v)
			for offset := 0; offset < 30; offset += q.Limit {
				var want, got *Result
				err := db.View(ctx, func(tx store.Tx) error {
					var err error
					if want, err = ix.text(ctx, tx, q, terms, vis, q.Limit, offset); err != nil {
						return err
					}
					got, err = ix.postingsText(ctx, tx, q, terms, vis, q.Limit, offset)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got); d != "" {
					t.Fatalf("round %d %+v offset %d: FTS5 (-) vs postings (+):\n%s", round, q, offset, d)
				}
				if want.Next == "" {
					break
				}
			}
		}
	}
}

func allOf(t *testing.T, ix Index) Visibility {
	cs, err := ix.Classes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var v Visibility
	for _, c := range cs {
		v.ReadableClasses = append(v.ReadableClasses, c.ID)
	}
	return v
}

func FuzzPostings(f *testing.F) {
	f.Add([]byte{1, 0, 1, 3}, uint16(7), uint32(2), uint32(0))
	f.Add([]byte{1, 0, 4, 0x7f, 2, 0, 3, 1, 1}, uint16(1), uint32(0), uint32(0))
	f.Add([]byte{0xff, 0xff, 0x3f, 0x80}, uint16(65535), uint32(300), uint32(1))
	f.Fuzz(func(t *testing.T, data []byte, off uint16, a, b uint32) {
		var tf [nFields]int32
		// shortPosting decodes what nextPosting does, where it decodes.
		var short [nFields]int32
		if o, ok := shortPosting(data, &short); ok {
			o2, rest, ok2 := nextPosting(data, &tf)
			if !ok2 || o2 != o || tf != short || len(rest) != len(data)-4 {
				t.Fatalf("shortPosting %d %v; nextPosting %d %v %v, %d bytes left of %d", o, short, o2, tf, ok2, len(rest), len(data))
			}
		}
		for rest := data; len(rest) > 0; {
			var ok bool
			if _, rest, ok = nextPosting(rest, &tf); !ok {
				break
			}
		}
		// withoutOffsets agrees with decoding every posting.
		var offs []uint32
		var kept []byte
		sorted, last := true, int64(-1)
		for rest := data; len(rest) > 0; {
			off, next, ok := nextPosting(rest, &tf)
			if !ok {
				sorted = false
				break
			}
			sorted = sorted && int64(off) > last
			last = int64(off)
			if off%3 == uint32(a%3) {
				offs = append(offs, off)
			} else {
				kept = append(kept, rest[:len(rest)-len(next)]...)
			}
			rest = next
		}
		if sorted {
			if got, ok := withoutOffsets(data, offs); !ok || !bytes.Equal(got, kept) {
				t.Fatalf("withoutOffsets(%x, %v) = %x, %v; want %x", data, offs, got, ok, kept)
			}
		}
		want := [nFields]int32{int32(a % 1000), 0, int32(b % 1000), 0, 0, 1}
		enc := appendPosting(nil, int64(off), &want)
		gotOff, rest, ok := nextPosting(enc, &tf)
		if !ok || gotOff != uint32(off) || tf != want || len(rest) != 0 {
			t.Fatalf("round trip: %v %d %v %v", ok, gotOff, tf, rest)
		}
	})
}

// TestReindex: documents indexed before the postings existed are searched
// through FTS5, and after Reindex through the postings, with equal results.
func TestReindex(t *testing.T) {
	ctx := context.Background()
	db := storetest.Migrated(t, storetest.SQLite)
	ix := &sqliteIndex{db: db}
	var docs []Doc
	for i := range 50 {
		docs = append(docs, Doc{ID: fmt.Sprintf("d%02d", i), Kind: "dataset", Name: fmt.Sprintf("n%d", i), Title: []string{"plasma edge", "plasma core", "edge"}[i%3],
			Description: strings.Repeat("plasma ", i%4), Label: "OPEN", Keywords: []string{"k" + fmt.Sprint(i%5)}})
	}
	if err := Put(ctx, db, ix, docs...); err != nil {
		t.Fatal(err)
	}
	v := allOf(t, ix)
	q := Query{Text: "plasma pla*", Limit: 7}
	want, err := ix.Search(ctx, q, v)
	if err != nil {
		t.Fatal(err)
	}
	// As a database indexed before migration 0013 looks.
	err = db.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE search_docs SET g = NULL`); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM search_postings`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	complete := func() bool {
		var ok bool
		if err := db.View(ctx, func(tx store.Tx) (err error) { ok, err = postingsComplete(ctx, tx); return err }); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	for _, step := range []string{"before", "after"} {
		if got := complete(); got != (step == "after") {
			t.Fatalf("%s Reindex: postings complete = %v", step, got)
		}
		got, err := ix.Search(ctx, q, v)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("%s Reindex (-want +got):\n%s", step, d)
		}
		if step == "before" {
			if err := ix.Reindex(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
}
