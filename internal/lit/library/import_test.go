package library_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// countingReader counts what was read from it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// zeros is an endless body.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func formatsFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "formats", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportFiles(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		// The real parsers (internal/lit/formats) behind Import.
		w := newWorld(t, db, worldOpts{formats: true})
		seen := map[string]bool{}
		for _, f := range []string{"library.bib", "arxiv-feed.xml", "paper.md", "jats-article.xml"} {
			res, err := w.lib.Import(ctx, w.alice, library.ImportRequest{Name: f, Label: "OPEN", Body: bytes.NewReader(formatsFile(t, f))})
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if len(res.Publications) == 0 {
				t.Fatalf("%s: nothing imported", f)
			}
			for _, im := range res.Publications {
				// The samples share a DOI or two: a later file updates.
				want := catalog.PublicationCreated
				if seen[im.SourceID] {
					want = catalog.PublicationUpdated
				}
				seen[im.SourceID] = true
				if im.Status != want || im.Passages == 0 || !strings.HasPrefix(im.ID, "pub_") {
					t.Errorf("%s: %+v, want %s", f, im, want)
				}
			}
			// The same file again changes nothing.
			res2, err := w.lib.Import(ctx, w.alice, library.ImportRequest{Name: f, Label: "OPEN", Body: bytes.NewReader(formatsFile(t, f))})
			if err != nil {
				t.Fatal(err)
			}
			for i, im := range res2.Publications {
				if im.Status != catalog.PublicationUnchanged || im.ID != res.Publications[i].ID || im.Version != res.Publications[i].Version {
					t.Errorf("%s again: %+v, first %+v", f, im, res.Publications[i])
				}
			}
		}
		hits, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "CsPbI3"})
		if err != nil || len(hits) == 0 {
			t.Fatalf("search: %v %v", hits, err)
		}
		// The publication's version holds its parsed document.
		a, err := w.cat.Get(ctx, w.bob, hits[0].Publication)
		if err != nil || a.Kind != catalog.KindPublication || a.LatestVersion != 1 {
			t.Fatalf("asset: %+v %v", a, err)
		}
		fr, _, _, _, err := w.cat.OpenFile(ctx, w.bob, a.ID, 0, "document.json")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(fr)
		if !bytes.Contains(body, []byte(`"title"`)) {
			t.Errorf("document.json: %.200s", body)
		}
		if _, m, err := w.cat.GetMetadata(ctx, w.bob, a.ID); err != nil || m.Core.Title == "" || m.SourceID == "" {
			t.Errorf("metadata: %+v %v", m, err)
		}
	})
}

func TestImportRefusals(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	w := newWorld(t, db, worldOpts{formats: true})
	count := func() int {
		r, err := w.cat.Search(ctx, w.admin, search.Query{Kind: "publication"})
		if err != nil {
			t.Fatal(err)
		}
		return r.Total
	}
	// Permission first: nothing of the body is read.
	cr := &countingReader{r: bytes.NewReader(formatsFile(t, "paper.md"))}
	_, err := w.lib.Import(ctx, w.bob, library.ImportRequest{Name: "paper.md", Label: "PROPRIETARY", Body: cr})
	if !errors.Is(errors.Permission, err) || cr.n != 0 {
		t.Errorf("bob at PROPRIETARY: %v, read %d bytes", err, cr.n)
	}
	// Too large: refused, nothing stored, bounded read.
	cr = &countingReader{r: zeros{}}
	_, err = w.lib.Import(ctx, w.alice, library.ImportRequest{Name: "big.txt", Label: "OPEN", Body: cr})
	if !errors.Is(errors.TooLarge, err) || cr.n > library.MaxImportBytes+64<<10 {
		t.Errorf("oversized: %v, read %d", err, cr.n)
	}
	// Malformed: Invalid, nothing stored.
	_, err = w.lib.Import(ctx, w.alice, library.ImportRequest{Name: "bad.xml", Format: lit.FormatJATS, Label: "OPEN", Body: strings.NewReader("<article><front>")})
	if !errors.Is(errors.Invalid, err) {
		t.Errorf("malformed: %v", err)
	}
	// A bad label marking: Invalid.
	_, err = w.lib.Import(ctx, w.alice, library.ImportRequest{Name: "paper.md", Label: "SECRET-ish", Body: strings.NewReader("# x")})
	if !errors.Is(errors.Invalid, err) {
		t.Errorf("bad label: %v", err)
	}
	if n := count(); n != 0 {
		t.Errorf("%d publications stored by refused imports", n)
	}
	// One bad document of several is reported alone.
	res, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", []lit.Document{doc("10.1/a", "A good one", "Text."), {Title: ""}, doc("10.1/b", "Another good one", "More.")})
	if err != nil {
		t.Fatal(err)
	}
	if st := []string{res.Publications[0].Status, res.Publications[1].Status, res.Publications[2].Status}; st[0] != "created" || st[1] != "rejected" || st[2] != "created" || res.Publications[1].Error == "" {
		t.Errorf("statuses %v: %+v", st, res)
	}
	if n := count(); n != 2 {
		t.Errorf("%d publications, want 2", n)
	}
	// Text from outside is sanitised.
	bad := doc("", "Title with \x1b[31m escape and \xff byte", "Para with \x00 NUL.")
	res, err = w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", []lit.Document{bad})
	if err != nil || res.Publications[0].Status != "created" {
		t.Fatalf("%+v %v", res, err)
	}
	ps, err := w.lib.Passages(ctx, w.bob, res.Publications[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		for _, r := range p.Text + p.Citation {
			if r < 0x20 && r != '\n' || r == 0x7f {
				t.Errorf("control character in %q", p.Text)
			}
		}
		if !strings.HasPrefix(p.ID, "psg_") {
			t.Errorf("id %q", p.ID)
		}
	}
}
