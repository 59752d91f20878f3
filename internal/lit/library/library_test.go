package library_test

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

// world is one deployment: identity, catalog, search, literature.
type world struct {
	db                  store.DB
	id                  *identity.Service
	cat                 *catalog.Service
	lib                 *library.Service
	log                 *audit.Memory
	admin, alice, bob   *genesis.Principal
	officer1, officer2  *genesis.Principal
	principals          map[string]*genesis.Principal
	compartmentsCreated bool
}

type worldOpts struct {
	embedder llm.Embedder
	extract  library.ExtractFunc
	formats  bool // parse with internal/lit/formats, not jsonParse, and extract with internal/lit/extract
}

func newWorld(t testing.TB, db store.DB, o worldOpts) *world {
	t.Helper()
	id := identity.New(db)
	if _, err := id.Bootstrap(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, id: id, log: audit.NewMemory(), principals: map[string]*genesis.Principal{}}
	w.admin, _ = id.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	for _, c := range []string{"FUSION", "BIO"} {
		if _, err := id.RegisterCompartment(ctx, w.admin, c); err != nil {
			t.Fatal(err)
		}
	}
	w.alice = w.mk(t, "alice", "PROPRIETARY//FUSION", genesis.RoleContributor)
	w.bob = w.mk(t, "bob", "OPEN", genesis.RoleContributor)
	w.officer1 = w.mk(t, "officer1", "NATIONAL-SECURITY//FUSION/BIO", genesis.RoleClassificationOfficer)
	w.officer2 = w.mk(t, "officer2", "NATIONAL-SECURITY//FUSION/BIO", genesis.RoleClassificationOfficer)
	az, err := authz.New(id, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	w.cat = catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: id, Audit: w.log})
	ix, err := search.New(db)
	if err != nil {
		t.Fatal(err)
	}
	w.cat.SetSearch(ix)
	// With the real parsers, the real extractor (internal/lit/extract);
	// else a small one these tests can predict.
	ex := o.extract
	if ex == nil && !o.formats {
		ex = testExtract
	}
	parse := library.ParseFunc(jsonParse)
	if o.formats {
		parse = nil
	}
	w.lib, err = library.New(library.Config{DB: db, Catalog: w.cat, Index: ix, Authz: az, Principals: id, Audit: w.log,
		Parse: parse, Extract: ex, Embedder: o.embedder})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) mk(t testing.TB, name, clearance string, roles ...genesis.Role) *genesis.Principal {
	t.Helper()
	p, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: clearance, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	w.principals[name] = p
	return p
}

// testExtract is a small extractor for these tests (the real one is
// internal/lit/extract): "band gap of X eV" for a material named just
// before ("CsPbI3 has a band gap of 1.73 eV").
var factRE = regexp.MustCompile(`([A-Z][A-Za-z0-9]*) has a (band gap|yield) of ([0-9.]+) (eV|%)`)

func testExtract(text string) []lit.Assertion {
	var out []lit.Assertion
	for _, m := range factRE.FindAllStringSubmatchIndex(text, -1) {
		v, _ := strconv.ParseFloat(text[m[6]:m[7]], 64)
		out = append(out, lit.Assertion{Material: text[m[2]:m[3]], Formula: text[m[2]:m[3]], Property: strings.ReplaceAll(text[m[4]:m[5]], " ", "_"),
			Value: lit.Value{Value: v, Unit: text[m[8]:m[9]], Raw: text[m[6]:m[9]]}, Start: m[0], End: m[1]})
	}
	return out
}

func doc(doi, title string, paras ...string) lit.Document {
	return lit.Document{Format: lit.FormatMarkdown, DOI: doi, Title: title, Authors: []string{"Ada Lovelace", "Alan Turing", "Grace Hopper"}, Year: 2024,
		Venue: "Journal of Tests", Abstract: "We study " + title + ".", Sections: []lit.Section{{Heading: "Results", Paragraphs: paras}}}
}

func TestImportReadSearch(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db, worldOpts{})
		d1 := doc("10.1000/abc", "Perovskite band gaps", "CsPbI3 has a band gap of 1.73 eV. Films were annealed.", "Second paragraph about zirconium.")
		d1.References = []lit.Reference{{DOI: "10.1000/later", Title: "A later paper"}}
		res, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", []lit.Document{d1})
		if err != nil {
			t.Fatal(err)
		}
		im := res.Publications[0]
		if im.Status != catalog.PublicationCreated || im.Name != "doi-10.1000-abc" || im.Passages != 4 || im.Facts != 1 || im.Version != 1 {
			t.Fatalf("import: %+v", im)
		}
		// Identical re-import: unchanged, same version.
		again := doc("10.1000/ABC", "Perovskite band gaps", "CsPbI3 has a band gap of 1.73 eV. Films were annealed.", "Second paragraph about zirconium.")
		again.References = []lit.Reference{{DOI: "10.1000/later", Title: "A later paper"}}
		res2, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", []lit.Document{again})
		if err != nil {
			t.Fatal(err)
		}
		if u := res2.Publications[0]; u.Status != catalog.PublicationUnchanged || u.ID != im.ID || u.Version != 1 {
			t.Fatalf("re-import: %+v", u)
		}
		ps, err := w.lib.Passages(ctx, w.bob, im.ID)
		if err != nil || len(ps) != 4 {
			t.Fatalf("passages: %v %v", ps, err)
		}
		if ps[0].Kind != lit.PassageTitle || ps[2].Section != "Results" || !strings.HasPrefix(ps[0].ID, "psg_") {
			t.Errorf("passages: %+v", ps)
		}
		if !strings.HasPrefix(ps[0].Citation, "Lovelace et al. (2024) Perovskite band gaps. Journal of Tests. doi:10.1000/abc") {
			t.Errorf("citation %q", ps[0].Citation)
		}
		hits, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "zirconium"})
		if err != nil || len(hits) != 1 || hits[0].ID != ps[3].ID || hits[0].BM25 != 1 {
			t.Fatalf("search: %+v %v", hits, err)
		}
		// Restricted to one publication (by name): the same hit; to a
		// missing one: NotExist.
		if one, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "zirconium", Publication: im.Name}); err != nil || len(one) != 1 || one[0].ID != hits[0].ID {
			t.Errorf("search in %s: %+v %v", im.Name, one, err)
		}
		if _, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "zirconium", Publication: "no-such"}); !errors.Is(errors.NotExist, err) {
			t.Errorf("search in a missing publication: %v", err)
		}
		got, err := w.lib.Passage(ctx, w.bob, ps[2].ID)
		if err != nil || got.Text != ps[2].Text {
			t.Fatalf("passage: %+v %v", got, err)
		}
		facts, next, err := w.lib.Facts(ctx, w.bob, lit.FactQuery{Property: "band_gap", Material: "cspbi3"})
		if err != nil || len(facts) != 1 || next != "" || facts[0].Value.Value != 1.73 || facts[0].Statement != "CsPbI3 has a band gap of 1.73 eV." {
			t.Fatalf("facts: %+v %q %v", facts, next, err)
		}
		// The later paper arrives: the earlier one's edge appears.
		res, err = w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", []lit.Document{doc("10.1000/later", "A later paper", "Text.")})
		if err != nil || res.Publications[0].Status != catalog.PublicationCreated {
			t.Fatalf("%+v %v", res, err)
		}
		pub, err := w.lib.Publication(ctx, w.bob, "doi-10.1000-abc")
		if err != nil || len(pub.Cites) != 1 || pub.Cites[0] != res.Publications[0].ID || pub.Passages != 4 || pub.Facts != 1 {
			t.Fatalf("publication: %+v %v", pub, err)
		}
		// Catalog search sees publications, not passages.
		sr, err := w.cat.Search(ctx, w.bob, search.Query{Text: "zirconium"})
		if err != nil || sr.Total != 0 {
			t.Errorf("catalog search finds passages: %+v %v", sr, err)
		}
		sr, err = w.cat.Search(ctx, w.bob, search.Query{Text: "perovskite"})
		if err != nil || sr.Total != 1 || sr.Hits[0].Kind != "publication" {
			t.Errorf("catalog search of publications: %+v %v", sr, err)
		}
		if _, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "x", Mode: lit.ModeHybrid}); !errors.Is(errors.Invalid, err) {
			t.Errorf("hybrid without embedder: %v", err)
		}
	})
}
