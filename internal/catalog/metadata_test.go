package catalog_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestImport(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		doc, err := os.ReadFile("meta/testdata/noaa-nasa-data.json")
		if err != nil {
			t.Fatal(err)
		}
		sum, err := c.Import(ctx, w.alice, bytes.NewReader(doc), catalog.ImportSpec{Label: "OPEN"})
		if err != nil {
			t.Fatal(err)
		}
		if len(sum.Imported) < 2 || sum.Format != meta.Format("dcat-us") {
			t.Fatalf("summary = %+v", sum)
		}
		first := sum.Imported[0]
		a, m, err := c.GetMetadata(ctx, w.bob, first.Asset)
		if err != nil {
			t.Fatal(err)
		}
		if m.Core.Title == "" || m.Quality.Score <= 0 || m.Original == "" || len(m.Provenance.Fields["title"]) == 0 {
			t.Errorf("metadata = %+v", m)
		}
		res, err := c.Search(ctx, w.bob, search.Query{Text: strings.Fields(m.Core.Title)[0]})
		if err != nil || res.Total == 0 {
			t.Errorf("imported record not found by search: %+v, %v", res, err)
		}
		found := false
		for _, h := range res.Hits {
			found = found || h.Name == a.Name
		}
		if !found {
			t.Errorf("search hits %+v lack %s", res.Hits, a.Name)
		}
		// Re-importing updates instead of duplicating.
		again, err := c.Import(ctx, w.alice, bytes.NewReader(doc), catalog.ImportSpec{Label: "OPEN"})
		if err != nil || len(again.Imported) != 0 || len(again.Updated) != len(sum.Imported) {
			t.Errorf("re-import = %+v, %v", again, err)
		}
		// Exports.
		for _, f := range []meta.Format{"datacite", "dcat-us"} {
			b, err := c.Export(ctx, w.bob, first.Asset, f)
			if err != nil || !json.Valid(b) || !strings.Contains(string(b), m.Core.Title[:10]) {
				t.Errorf("export %s: %v %.80s", f, err, b)
			}
		}
		// Labelled imports are invisible to the uncleared.
		dc, _ := os.ReadFile("meta/testdata/osti-datacite.json")
		s2, err := c.Import(ctx, w.alice, bytes.NewReader(dc), catalog.ImportSpec{Label: "PROPRIETARY//FUSION"})
		if err != nil || len(s2.Imported) != 1 {
			t.Fatalf("datacite import = %+v, %v", s2, err)
		}
		if _, _, err := c.GetMetadata(ctx, w.bob, s2.Imported[0].Asset); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob reads labelled metadata: %v", err)
		}
		_, m2, _ := c.GetMetadata(ctx, w.alice, s2.Imported[0].Asset)
		word := strings.Fields(m2.Core.Title)[0]
		if r, _ := c.Search(ctx, w.bob, search.Query{Text: word}); r != nil {
			for _, h := range r.Hits {
				if h.Name == s2.Imported[0].Asset {
					t.Errorf("bob finds labelled %s by searching %q", h.Name, word)
				}
			}
		}
		if r, _ := c.Search(ctx, w.carol, search.Query{Text: word}); r == nil || r.Total == 0 {
			t.Errorf("carol (cleared) does not find %q", word)
		}
		// Bad documents: clear errors, nothing written.
		if _, err := c.Import(ctx, w.alice, strings.NewReader("{not json"), catalog.ImportSpec{Label: "OPEN"}); !errors.Is(errors.Invalid, err) {
			t.Errorf("garbage: %v", err)
		}
		mixed := `{"conformsTo":"https://project-open-data.cio.gov/v1.1/schema","dataset":[{"title":"Good one","description":"d","identifier":"id-1","keyword":["a"],"modified":"2024-01-01","publisher":{"name":"X"},"contactPoint":{"fn":"A","hasEmail":"mailto:a@b.gov"},"accessLevel":"public","bureauCode":["019:20"],"programCode":["019:000"]},{"description":"no title"}]}`
		s3, err := c.Import(ctx, w.alice, strings.NewReader(mixed), catalog.ImportSpec{Label: "OPEN"})
		if err != nil || len(s3.Imported) != 1 || len(s3.Rejected) != 1 {
			t.Errorf("mixed = %+v, %v", s3, err)
		}
		// Writers only: a viewer cannot import.
		if s4, err := c.Import(ctx, w.carol, strings.NewReader(mixed), catalog.ImportSpec{Label: "OPEN"}); err == nil && len(s4.Imported) > 0 {
			t.Errorf("viewer imported %+v", s4)
		}
		// Domain extensions.
		schema := `{"type":"object","required":["shot"],"properties":{"shot":{"type":"integer"}}}`
		if err := c.RegisterExtensionSchema(ctx, w.alice, "fusion-shot", []byte(schema)); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor registers schema: %v", err)
		}
		if err := c.RegisterExtensionSchema(ctx, w.admin, "fusion-shot", []byte(schema)); err != nil {
			t.Fatal(err)
		}
		if _, err := c.SetMetadata(ctx, w.alice, first.Asset, m.Core, "fusion-shot", json.RawMessage(`{"shot":"x"}`)); errors.FieldOf(err) != "extension" {
			t.Errorf("bad extension: %v", err)
		}
		if _, err := c.SetMetadata(ctx, w.alice, first.Asset, m.Core, "fusion-shot", json.RawMessage(`{"shot":42}`)); err != nil {
			t.Errorf("good extension: %v", err)
		}
	})
}
