package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// word is a letters-only search term unique to i.
func word(i int) string {
	return "qx" + string(rune('a'+i/676%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i%26))
}

func dcatRecord(id, title, kw string) string {
	return fmt.Sprintf(`{"title":%q,"description":"Measurements of the common ocean.","identifier":%q,"keyword":[%q],"modified":"2024-01-01",`+
		`"publisher":{"name":"X"},"contactPoint":{"fn":"A","hasEmail":"mailto:a@b.gov"},"accessLevel":"public","bureauCode":["019:20"],"programCode":["019:000"]}`,
		title, id, kw)
}

func dcatDocument(recs []string) []byte {
	return []byte(`{"conformsTo":"https://project-open-data.cio.gov/v1.1/schema","dataset":[` + strings.Join(recs, ",") + `]}`)
}

func rejectedIndexes(sum *catalog.ImportSummary) []int {
	var out []int
	for _, r := range sum.Rejected {
		out = append(out, r.Index)
	}
	slices.Sort(out)
	return out
}

// TestImportBatchRejectsOnlyBadRecords: records that fail — before the
// transaction (a title too long for an asset) or inside it, after the record's asset
// row was written (its original is being garbage-collected) — are
// rejected alone, with their reasons; the rest of their batch is imported,
// the failed one leaves nothing behind, and search finds every imported
// record. The audit trail is what one record at a time made.
func TestImportBatchRejectsOnlyBadRecords(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		// alice holds "held" in an asset bob cannot see: to bob it is a new
		// record (docs/DESIGN.md, "Names").
		held := dcatDocument([]string{dcatRecord("held", "Held by alice", "private")})
		if s, err := c.Import(ctx, w.alice, bytes.NewReader(held), catalog.ImportSpec{Label: "PROPRIETARY//FUSION"}); err != nil || len(s.Imported) != 1 {
			t.Fatalf("alice's import = %+v, %v", s, err)
		}
		const n, heldAt, longAt, gcAt = 40, 5, 11, 17
		var recs []string
		for i := range n {
			id, title := fmt.Sprintf("r-%d", i), "Ocean survey "+word(i)
			switch {
			case i == heldAt:
				id = "held"
			case i == longAt:
				title = strings.Repeat("long ", 120) + word(i)
			case i >= 30 && i < 33:
				title = "Same title"
			}
			recs = append(recs, dcatRecord(id, title, word(i)))
		}
		doc := dcatDocument(recs)
		parsed, bad, err := meta.Import(bytes.NewReader(doc), meta.Auto)
		if err != nil || len(bad) != 0 || len(parsed) != n {
			t.Fatalf("parse: %d records, %v, %v", len(parsed), bad, err)
		}
		// The garbage collector is deleting record gcAt's original.
		gcChunk := blob.Sum(parsed[gcAt].Provenance.Original)
		if err := db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `INSERT INTO gc_tombstones (chunk, at) VALUES (?, ?)`, gcChunk.String(), store.T(w.clock))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		before, _ := w.log.Size(ctx)
		sum, err := c.Import(ctx, w.bob, bytes.NewReader(doc), catalog.ImportSpec{Label: "OPEN"})
		if err != nil {
			t.Fatal(err)
		}
		if got := rejectedIndexes(sum); !slices.Equal(got, []int{longAt, gcAt}) {
			t.Fatalf("rejected %v, want [%d %d]: %+v", got, longAt, gcAt, sum.Rejected)
		}
		for _, r := range sum.Rejected {
			if r.Reason == "" || r.Reason == "could not be stored" {
				t.Errorf("rejection without a reason: %+v", r)
			}
			if r.Index == gcAt && !strings.Contains(r.Reason, "garbage-collected") {
				t.Errorf("record %d: %q", gcAt, r.Reason)
			}
		}
		if len(sum.Imported) != n-2 || len(sum.Updated) != 0 {
			t.Fatalf("imported %d, updated %d; want %d, 0", len(sum.Imported), len(sum.Updated), n-2)
		}
		var same []string
		ids := map[string]string{}
		for k, ia := range sum.Imported {
			if k > 0 && sum.Imported[k-1].Index >= ia.Index {
				t.Errorf("summary out of record order: %+v", sum.Imported)
			}
			if ia.Index >= 30 && ia.Index < 33 {
				same = append(same, ia.Asset)
			}
			a, m, err := c.GetMetadata(ctx, w.bob, ia.Asset)
			if err != nil {
				t.Fatalf("record %d: %v", ia.Index, err)
			}
			ids[a.ID] = ia.Asset
			orig := parsed[ia.Index].Provenance.Original
			if m.Original != blob.Sum(orig).String() || m.SourceID != ia.SourceID {
				t.Errorf("record %d: original %q, source %q", ia.Index, m.Original, m.SourceID)
			}
			if b, err := c.GetChunk(ctx, w.bob, ia.Asset, blob.Sum(orig), 0, -1); err != nil || !bytes.Equal(b, orig) {
				t.Errorf("record %d: original chunk: %v", ia.Index, err)
			}
			var committed bool
			if err := db.View(ctx, func(tx store.Tx) error {
				return tx.QueryRow(ctx, `SELECT committed FROM asset_chunks WHERE asset_id = ? AND chunk = ?`, a.ID, m.Original).Scan(&committed)
			}); err != nil || !committed {
				t.Errorf("record %d: original not a committed chunk: %v", ia.Index, err)
			}
			res, err := c.Search(ctx, w.bob, search.Query{Text: word(ia.Index)})
			if err != nil || res.Total != 1 || res.Hits[0].Name != ia.Asset {
				t.Errorf("search %s for record %d (%s): %+v, %v", word(ia.Index), ia.Index, ia.Asset, res, err)
			}
		}
		if !slices.Equal(same, []string{"same-title", "same-title-2", "same-title-3"}) {
			t.Errorf("names from one title: %v", same)
		}
		// The record rejected inside the transaction left nothing.
		var leftovers int
		if err := db.View(ctx, func(tx store.Tx) error {
			return tx.QueryRow(ctx, `SELECT (SELECT COUNT(*) FROM assets WHERE name = ?) + (SELECT COUNT(*) FROM asset_metadata WHERE source_id = ?)
				+ (SELECT COUNT(*) FROM asset_chunks WHERE chunk = ?) + (SELECT COUNT(*) FROM assets WHERE title LIKE ?)`,
				"ocean-survey-"+word(gcAt), fmt.Sprint("r-", gcAt), gcChunk.String(), "%"+word(gcAt)).Scan(&leftovers)
		}); err != nil || leftovers != 0 {
			t.Errorf("record %d half-written: %d rows, %v", gcAt, leftovers, err)
		}
		if res, err := c.Search(ctx, w.bob, search.Query{Text: word(gcAt)}); err != nil || res.Total != 0 {
			t.Errorf("search finds the rejected record: %+v, %v", res, err)
		}
		if res, err := c.Search(ctx, w.bob, search.Query{Text: "ocean"}); err != nil || res.Total != n-2 {
			t.Errorf("search total = %+v, %v; want %d", res, err, n-2)
		}
		// Audit: per imported record, what one record at a time made: the
		// create's write decision, the original's write decision, and the
		// metadata.import record.
		size, _ := w.log.Size(ctx)
		count := map[string]map[string]int{}
		for i := before; i < size; i++ {
			r, err := w.log.Get(ctx, i)
			if err != nil {
				t.Fatal(err)
			}
			if count[r.ObjectID] == nil {
				count[r.ObjectID] = map[string]int{}
			}
			count[r.ObjectID][r.Action+"/"+string(r.Decision)]++
		}
		allow := string(audit.Allow)
		for id, name := range ids {
			if got := count[id]; got["dataset.write/"+allow] != 2 || got["dataset.metadata.import/"+allow] != 1 || len(got) != 2 {
				t.Errorf("audit of %s: %v", name, got)
			}
		}

		// Once the collector is done, a re-import updates the others in
		// place and imports the one it had rejected.
		if err := db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `DELETE FROM gc_tombstones WHERE chunk = ?`, gcChunk.String())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		again, err := c.Import(ctx, w.bob, bytes.NewReader(doc), catalog.ImportSpec{Label: "OPEN"})
		if err != nil {
			t.Fatal(err)
		}
		if got := rejectedIndexes(again); !slices.Equal(got, []int{longAt}) || len(again.Updated) != n-2 ||
			len(again.Imported) != 1 || again.Imported[0].Index != gcAt || again.Imported[0].Asset != "ocean-survey-"+word(gcAt) {
			t.Fatalf("re-import: rejected %v, updated %d, imported %+v", rejectedIndexes(again), len(again.Updated), again.Imported)
		}
		for k, ia := range again.Updated {
			if ia.Asset != sum.Imported[k].Asset {
				t.Errorf("re-import moved record %d from %s to %s", ia.Index, sum.Imported[k].Asset, ia.Asset)
			}
		}
		if res, err := c.Search(ctx, w.bob, search.Query{Text: "ocean"}); err != nil || res.Total != n-1 {
			t.Errorf("search total after re-import = %+v, %v; want %d", res, err, n-1)
		}
		// alice's record is hers still, untouched by bob's.
		if a, m, err := c.GetMetadata(ctx, w.alice, "held-by-alice"); err != nil || m.SourceID != "held" || a.Owner != w.alice.ID {
			t.Errorf("alice's held record: %+v, %+v, %v", a, m, err)
		}
	})
}

// TestImportManyBatches: an import larger than a batch imports every
// record once — the one whose identifier only an asset the importer cannot
// read holds too, in a later batch — and search counts every one.
func TestImportManyBatches(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		held := dcatDocument([]string{dcatRecord("held", "Held by alice", "private")})
		if _, err := c.Import(ctx, w.alice, bytes.NewReader(held), catalog.ImportSpec{Label: "PROPRIETARY//FUSION"}); err != nil {
			t.Fatal(err)
		}
		const n, heldAt = 620, 577
		var recs []string
		for i := range n {
			id := fmt.Sprintf("m-%d", i)
			if i == heldAt {
				id = "held"
			}
			title := "Ocean survey " + word(i)
			if i%100 == 7 {
				title = "Repeated title" // across batches: -2, -3 … in record order
			}
			recs = append(recs, dcatRecord(id, title, word(i)))
		}
		sum, err := c.Import(ctx, w.bob, bytes.NewReader(dcatDocument(recs)), catalog.ImportSpec{Label: "OPEN"})
		if err != nil {
			t.Fatal(err)
		}
		if got := rejectedIndexes(sum); len(got) != 0 || len(sum.Imported) != n || sum.Imported[heldAt].SourceID != "held" {
			t.Fatalf("rejected %v, imported %d", got, len(sum.Imported))
		}
		names := map[string]bool{}
		var repeated []string
		for _, ia := range sum.Imported {
			if names[ia.Asset] {
				t.Errorf("name %s given twice", ia.Asset)
			}
			names[ia.Asset] = true
			if ia.Index%100 == 7 {
				repeated = append(repeated, ia.Asset)
			}
		}
		want := []string{"repeated-title"}
		for k := 2; k <= 7; k++ {
			want = append(want, fmt.Sprint("repeated-title-", k))
		}
		if !slices.Equal(repeated, want) {
			t.Errorf("names from one title: %v, want %v", repeated, want)
		}
		res, err := c.Search(ctx, w.bob, search.Query{Text: "ocean"})
		if err != nil || res.Total != n {
			t.Errorf("search total = %+v, %v; want %d", res, err, n)
		}
		for _, i := range []int{0, 499, 500, 501, n - 1} {
			res, err := c.Search(ctx, w.bob, search.Query{Text: word(i)})
			if err != nil || res.Total != 1 {
				t.Errorf("search %s (record %d): %+v, %v", word(i), i, res, err)
			}
		}
		if _, err := c.Get(ctx, w.bob, "held-by-alice"); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob sees alice's asset: %v", err)
		}
	})
}

// replayDB runs every write transaction's body twice: once in a
// transaction it rolls back, then for real — as the store does after a
// serialization failure.
type replayDB struct{ store.DB }

var errReplay = errors.New("replay")

func (r replayDB) Update(ctx context.Context, fn func(store.Tx) error) error {
	err := r.DB.Update(ctx, func(tx store.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errReplay
	})
	if err != errReplay {
		return err
	}
	return r.DB.Update(ctx, fn)
}

// TestImportRetriedTransaction: a batch whose transaction runs again
// counts, names and audits each record once.
func TestImportRetriedTransaction(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, replayDB{db})
		c := w.cat
		const n, longAt = 25, 9
		var recs []string
		for i := range n {
			title := "Replayed title"
			if i == longAt {
				title = strings.Repeat("long ", 120)
			}
			recs = append(recs, dcatRecord(fmt.Sprint("p-", i), title, word(i)))
		}
		before, _ := w.log.Size(ctx)
		sum, err := c.Import(ctx, w.bob, bytes.NewReader(dcatDocument(recs)), catalog.ImportSpec{Label: "OPEN"})
		if err != nil {
			t.Fatal(err)
		}
		if got := rejectedIndexes(sum); !slices.Equal(got, []int{longAt}) || len(sum.Imported) != n-1 || len(sum.Updated) != 0 {
			t.Fatalf("rejected %v, imported %d, updated %d", got, len(sum.Imported), len(sum.Updated))
		}
		for k, ia := range sum.Imported {
			want := "replayed-title"
			if k > 0 {
				want += fmt.Sprint("-", k+1)
			}
			if ia.Asset != want {
				t.Errorf("record %d named %s, want %s", ia.Index, ia.Asset, want)
			}
			if res, err := c.Search(ctx, w.bob, search.Query{Text: word(ia.Index)}); err != nil || res.Total != 1 || res.Hits[0].Name != ia.Asset {
				t.Errorf("search %s: %+v, %v", word(ia.Index), res, err)
			}
		}
		size, _ := w.log.Size(ctx)
		imports := 0
		for i := before; i < size; i++ {
			if r, _ := w.log.Get(ctx, i); r.Action == "dataset.metadata.import" {
				imports++
			}
		}
		if imports != n-1 {
			t.Errorf("%d metadata.import audit records, want %d", imports, n-1)
		}
		if res, err := c.Search(ctx, w.bob, search.Query{Text: "replayed"}); err != nil || res.Total != n-1 {
			t.Errorf("search total = %+v, %v; want %d", res, err, n-1)
		}
	})
}
