package meta

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// checkImport is what every fuzz target asserts: no panic; a whole-document
// error is Invalid or TooLarge and carries a user-safe message; every record
// returned is valid, has provenance for its title and its original bytes;
// every record error is Invalid; records and errors never share an index.
func checkImport(t *testing.T, data []byte, f Format) {
	recs, bad, err := ImportWith(bytes.NewReader(data), f, Options{MaxBytes: 1 << 20, MaxRecords: 10000})
	if err != nil {
		if k := errors.KindOf(err); k != errors.Invalid && k != errors.TooLarge {
			t.Fatalf("document error of kind %v: %v", k, err)
		}
		if errors.SafeMessage(err) == "" {
			t.Fatalf("document error without a safe message: %v", err)
		}
		if recs != nil || bad != nil {
			t.Fatal("records returned with a document error")
		}
		return
	}
	seen := map[int]bool{}
	for _, r := range recs {
		if err := r.Core.Validate(); err != nil {
			t.Fatalf("imported an invalid core: %v\n%+v", err, r.Core)
		}
		if len(r.Provenance.Fields["title"]) == 0 || len(r.Provenance.Original) == 0 {
			t.Fatalf("record without provenance: %+v", r.Provenance)
		}
		if seen[r.Index] {
			t.Fatalf("index %d twice", r.Index)
		}
		seen[r.Index] = true
		q := r.Quality()
		if q.Score < 0 || q.Score > 100 {
			t.Fatalf("score %d", q.Score)
		}
		for _, e := range exporters {
			if _, err := e.export(r.Core); err != nil {
				t.Fatalf("%s export: %v", e.name, err)
			}
		}
	}
	for _, b := range bad {
		if !errors.Is(errors.Invalid, b.Err) {
			t.Fatalf("record error not Invalid: %v", b)
		}
		if seen[b.Index] {
			t.Fatalf("index %d both imported and rejected", b.Index)
		}
		seen[b.Index] = true
		_ = b.Error()
	}
}

func addFixtures(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, _ := filepath.Glob(filepath.Join("testdata", p))
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
}

func FuzzImportAuto(f *testing.F) {
	addFixtures(f, "*.json", "*.jsonld", "*.csv")
	f.Add([]byte(`{"data": []}`))
	f.Add([]byte(`[{"@type": "Dataset", "name": {"@value": 1}}]`))
	f.Add([]byte("title\n\"unterminated"))
	f.Fuzz(func(t *testing.T, data []byte) { checkImport(t, data, Auto) })
}

func FuzzImportDataCite(f *testing.F) {
	addFixtures(f, "*datacite*.json")
	f.Add([]byte(`{"data": {"attributes": {"titles": [{"title": "t"}], "geoLocations": [{"geoLocationBox": {"westBoundLongitude": "NaN"}}]}}}`))
	f.Add([]byte(`{"data": [{"attributes": {"titles": "not a list", "creators": [1, null, {"nameIdentifiers": "x"}]}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkImport(t, data, DataCite) })
}

func FuzzImportSchemaOrg(f *testing.F) {
	addFixtures(f, "*.jsonld")
	f.Add([]byte(`{"@graph": [{"@type": "Dataset", "name": "n", "creator": {"@id": "#missing"}, "spatialCoverage": {"geo": {"box": "1 2 3"}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkImport(t, data, SchemaOrg) })
}

func FuzzImportDCATUS(f *testing.F) {
	addFixtures(f, "*data.json")
	f.Add([]byte(`{"dataset": [{"title": "t", "accessLevel": "public", "spatial": "{\"type\":\"Point\",\"coordinates\":[1e400, 2]}", "temporal": "R/P1D"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkImport(t, data, DCATUS) })
}

func FuzzImportCKAN(f *testing.F) {
	addFixtures(f, "*ckan*.json")
	f.Add([]byte(`{"success": true, "result": {"name": "n", "extras": [{"key": "spatial", "value": "{\"type\":\"Polygon\",\"coordinates\":[[[[[[[1,2]]]]]]]}"}]}}`))
	f.Add([]byte(`{"success": true, "result": {"count": 1, "results": [{"name": "n", "title": 5}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) { checkImport(t, data, CKAN) })
}

func FuzzImportCSV(f *testing.F) {
	addFixtures(f, "*.csv")
	f.Add([]byte("Title,BBox,Variables\nx,\"1,2,3,4\",a [m]; b [\n"))
	f.Add([]byte("title\r\n\"a\"\"b\"\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) { checkImport(t, data, CSV) })
}

func FuzzValidateExtension(f *testing.F) {
	reg := NewRegistry()
	if err := reg.Register("s", []byte(synthesisSchema)); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"precursors": [{"formula": "Li2CO3", "mass_g": 1.25}], "anneal": {"temperature_K": 1173, "duration_h": 12}}`))
	f.Add([]byte(`[1, {"a": null}]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		err := reg.ValidateExtension("s", doc)
		if err != nil && !errors.Is(errors.Invalid, err) && !errors.Is(errors.TooLarge, err) {
			t.Fatalf("kind %v: %v", errors.KindOf(err), err)
		}
	})
}

// TestMutatedFixtures runs the fuzz assertions on a fixed, seeded stream of
// mutations of the fixtures (byte changes, deletions, insertions), so every
// plain `go test` exercises thousands of malformed documents in every format.
func TestMutatedFixtures(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.*")
	var seeds [][]byte
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && !strings.HasSuffix(f, ".md") && !strings.HasSuffix(f, "LICENSE") {
			seeds = append(seeds, b)
		}
	}
	r := rand.New(rand.NewPCG(9, 9))
	n := 3000
	if testing.Short() {
		n = 300
	}
	for range n {
		d := append([]byte{}, seeds[r.IntN(len(seeds))]...)
		for range 1 + r.IntN(5) {
			if len(d) == 0 {
				break
			}
			i := r.IntN(len(d))
			switch r.IntN(3) {
			case 0:
				d[i] = byte(r.IntN(256))
			case 1:
				d = append(d[:i], d[min(len(d), i+1+r.IntN(20)):]...)
			case 2:
				d = append(d[:i], append([]byte{"{}[]\",:\n\\"[r.IntN(9)]}, d[i:]...)...)
			}
		}
		for _, f := range []Format{Auto, CSV, DataCite, DCATUS, CKAN, SchemaOrg} {
			checkImport(t, d, f)
		}
	}
}
