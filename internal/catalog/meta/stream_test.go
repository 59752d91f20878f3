package meta

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// docBuilder writes a document of one format from records.
type docBuilder struct {
	format      Format
	open, close string
	elem        func(r testRecord) []byte
}

type testRecord struct{ title, id, desc string }

func jsonElem(v any) []byte { b, _ := json.Marshal(v); return b }

var builders = []docBuilder{
	{DCATUS, `{"@type": "dcat:Catalog", "conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": [`, "]}", func(r testRecord) []byte {
		return jsonElem(map[string]any{"title": r.title, "identifier": r.id, "accessLevel": "public", "keyword": []string{"k"}, "description": r.desc})
	}},
	{DataCite, `{"meta": {"total": 1}, "data": [`, `], "links": {}}`, func(r testRecord) []byte {
		return jsonElem(map[string]any{"id": "10.1234/" + r.id, "type": "dois", "attributes": map[string]any{
			"titles": []any{map[string]any{"title": r.title}}, "creators": []any{map[string]any{"name": "Doe, J."}}, "publicationYear": 2020,
			"descriptions": []any{map[string]any{"description": r.desc}}}})
	}},
	{CKAN, `{"help": "x", "success": true, "result": {"count": 1, "results": [`, "]}}", func(r testRecord) []byte {
		return jsonElem(map[string]any{"id": r.id, "name": "n-" + r.id, "title": r.title, "notes": r.desc, "tags": []any{map[string]any{"name": "t"}}})
	}},
	{SchemaOrg, "[", "]", func(r testRecord) []byte {
		return jsonElem(map[string]any{"@context": "https://schema.org", "@type": "Dataset", "name": r.title, "identifier": r.id, "description": r.desc})
	}},
	{CSV, "title,identifier,description\n", "", func(r testRecord) []byte {
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		w.Write([]string{r.title, r.id, r.desc})
		w.Flush()
		return b.Bytes()
	}},
}

func (d docBuilder) build(recs []testRecord) []byte {
	var b bytes.Buffer
	b.WriteString(d.open)
	for i, r := range recs {
		if i > 0 && d.format != CSV {
			b.WriteString(",\n")
		}
		b.Write(d.elem(r))
	}
	b.WriteString(d.close)
	return b.Bytes()
}

func randomRecords(rng *rand.Rand, n int) []testRecord {
	words := []string{"shot", "plasma", "a,b", `quote "x"`, "line\nbreak", "ünïcode", "", "  ", "tab\t"}
	recs := make([]testRecord, n)
	for i := range recs {
		title := fmt.Sprintf("series %d %s", i, words[rng.IntN(len(words))])
		if rng.IntN(40) == 0 {
			title = "" // rejected: no title
		}
		id := fmt.Sprintf("id-%d", i)
		if rng.IntN(50) == 0 && i > 0 {
			id = fmt.Sprintf("id-%d", rng.IntN(i)) // a duplicate
		}
		recs[i] = testRecord{title, id, strings.Repeat(words[rng.IntN(len(words))]+" ", 200+rng.IntN(200))}
	}
	return recs
}

type outcome struct {
	Rec *Record
	Err string
}

func importAll(t *testing.T, doc []byte, f Format, o Options) []outcome {
	t.Helper()
	var out []outcome
	err := ImportEach(bytes.NewReader(doc), f, o, func(rec *Record, rerr *RecordError) error {
		if rerr != nil {
			out = append(out, outcome{Err: rerr.Error()})
		} else {
			out = append(out, outcome{Rec: rec})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return out
}

// TestStreamedImportMatchesInMemory: a document past the in-memory
// threshold (here 256 KiB, to keep the test quick), streamed, yields for its first records exactly what the in-memory
// import of a document of just those records yields (records, errors,
// provenance and originals), for every format, detected or named.
func TestStreamedImportMatchesInMemory(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i, d := range builders {
		t.Run(string(d.format), func(t *testing.T) {
			var recs []testRecord
			o := Options{InMemory: 256 << 10}
			for int64(len(d.build(recs))) <= 2*o.InMemory {
				recs = append(recs, randomRecords(rng, 200)...)
			}
			f := d.format
			if i%2 == 1 {
				f = Auto
			}
			got := importAll(t, d.build(recs), f, o)
			if len(got) != len(recs) {
				t.Fatalf("%s: %d outcomes for %d records", f, len(got), len(recs))
			}
			const k = 100
			want := importAll(t, d.build(recs[:k]), f, o)
			if diff := cmp.Diff(want, got[:k]); diff != "" {
				t.Fatalf("%s: streamed and in-memory imports differ (-in memory +streamed):\n%s", f, diff)
			}
			// Identifiers are unique across the whole document (the
			// generator repeats some, in every batch).
			seen := map[string]int{}
			dups := 0
			for i, o := range got {
				if o.Rec == nil {
					dups += strings.Count(o.Err, "duplicate identifier")
					continue
				}
				if j, dup := seen[o.Rec.SourceID]; dup && o.Rec.SourceID != "" {
					t.Fatalf("records %d and %d both accepted with identifier %q", j, i, o.Rec.SourceID)
				}
				seen[o.Rec.SourceID] = i
			}
			if dups == 0 {
				t.Fatal("no duplicate was found: the test proves nothing")
			}
		})
	}
}

// TestStreamedImportHoldsOneRecord: importing a 32 MiB data.json holds
// a few MiB live at any time (the in-memory split held the document and
// every record's raw bytes: over 64 MiB).
func TestStreamedImportHoldsOneRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("imports a 32 MiB document")
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var recs []testRecord
	d := builders[0]
	for len(recs)*2000 < 32<<20 {
		recs = append(recs, randomRecords(rng, 1000)...)
	}
	// The document is read from a file, so the heap holds only what the
	// import keeps.
	path := t.TempDir() + "/data.json"
	if err := os.WriteFile(path, d.build(recs), 0o600); err != nil {
		t.Fatal(err)
	}
	want := len(recs)
	recs = nil
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	fi, _ := file.Stat()
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	var peak uint64
	n := 0
	err = ImportEach(file, Auto, Options{}, func(rec *Record, rerr *RecordError) error {
		if n++; n%500 == 0 {
			var m runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapAlloc)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("%d records of %d", n, want)
	}
	if live := int64(peak) - int64(base.HeapAlloc); live > 16<<20 {
		t.Errorf("importing a %d MiB document held %d MiB live", fi.Size()>>20, live>>20)
	}
	t.Logf("document %d MiB, %d records, peak live heap %d KiB", fi.Size()>>20, n, (int64(peak)-int64(base.HeapAlloc))>>10)
}
