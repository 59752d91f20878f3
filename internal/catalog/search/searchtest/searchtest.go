// Package searchtest is the conformance suite every search.Index backend
// passes: relevance sanity, filters, facets, pagination, suggestions,
// updates and deletes, Unicode, hostile query text, browsing, and the
// visibility property (invariant 4): a search over the whole index as a
// principal equals the same search over an index holding only what that
// principal may read.
package searchtest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/google/go-cmp/cmp"
)

// Opener returns a fresh, empty index over a fresh migrated database.
type Opener func(t testing.TB) (store.DB, search.Index)

// Run runs the suite.
func Run(t *testing.T, open Opener) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Opener)
	}{
		{"Relevance", testRelevance},
		{"Filters", testFilters},
		{"Facets", testFacets},
		{"Pagination", testPagination},
		{"Suggest", testSuggest},
		{"UpdateDelete", testUpdateDelete},
		{"Unicode", testUnicode},
		{"HostileQueries", testHostile},
		{"Browse", testBrowse},
		{"Visibility", testVisibility},
		{"Invalid", testInvalid},
		{"VisibilityProperty", testProperty},
		{"Passages", testPassages},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const open1 = "OPEN"

func put(t testing.TB, db store.DB, ix search.Index, docs ...search.Doc) {
	t.Helper()
	if err := search.Put(context.Background(), db, ix, docs...); err != nil {
		t.Fatalf("put: %v", err)
	}
}

// all makes every class readable.
func all(t testing.TB, ix search.Index) search.Visibility {
	t.Helper()
	cs, err := ix.Classes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var v search.Visibility
	for _, c := range cs {
		v.ReadableClasses = append(v.ReadableClasses, c.ID)
	}
	return v
}

func find(t testing.TB, ix search.Index, q search.Query, v search.Visibility) *search.Result {
	t.Helper()
	r, err := ix.Search(context.Background(), q, v)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return r
}

func ids(r *search.Result) []string {
	out := []string{}
	for _, h := range r.Hits {
		out = append(out, h.ID)
	}
	return out
}

func doc(id, title, desc string) search.Doc {
	return search.Doc{ID: id, Kind: "dataset", Name: id, Title: title, Description: desc, Label: open1, Owner: "u1", Updated: t0}
}

func testRelevance(t *testing.T, open Opener) {
	db, ix := open(t)
	a := doc("a", "Plasma confinement in tokamaks", "We report measurements of edge turbulence.")
	b := doc("b", "Edge turbulence survey", "A study that mentions tokamak plasma once.")
	c := doc("c", "Soil moisture", "Unrelated to fusion entirely.")
	d := doc("d", "Plasma plasma plasma", "plasma plasma plasma plasma")
	put(t, db, ix, a, b, c, d)
	v := all(t, ix)
	r := find(t, ix, search.Query{Text: "plasma"}, v)
	if got := ids(r); !slices.Equal(got, []string{"d", "a", "b"}) {
		t.Errorf("plasma: got %v, want d (title and body), a (title), b (body only)", got)
	}
	if r.Total != 3 {
		t.Errorf("total %d, want 3", r.Total)
	}
	for i := 1; i < len(r.Hits); i++ {
		if r.Hits[i].Score > r.Hits[i-1].Score {
			t.Errorf("scores not descending: %v", r.Hits)
		}
	}
	// AND semantics: both words needed.
	if got := ids(find(t, ix, search.Query{Text: "edge plasma"}, v)); !equalSets(got, []string{"a", "b"}) {
		t.Errorf("edge plasma: %v", got)
	}
	// Title match outranks a description-only match.
	if got := ids(find(t, ix, search.Query{Text: "turbulence"}, v)); !slices.Equal(got, []string{"b", "a"}) {
		t.Errorf("turbulence: %v, want b (title) before a (description)", got)
	}
	// Phrase and prefix.
	if got := ids(find(t, ix, search.Query{Text: `"edge turbulence"`}, v)); !equalSets(got, []string{"a", "b"}) {
		t.Errorf("phrase: %v", got)
	}
	if got := ids(find(t, ix, search.Query{Text: `"turbulence edge"`}, v)); len(got) != 0 {
		t.Errorf("reversed phrase matched %v", got)
	}
	if got := ids(find(t, ix, search.Query{Text: "tokam*"}, v)); !equalSets(got, []string{"a", "b"}) {
		t.Errorf("prefix: %v", got)
	}
	if got := ids(find(t, ix, search.Query{Text: "tokam"}, v)); len(got) != 0 {
		t.Errorf("a word is not a prefix: %v", got)
	}
	// Snippets are plain text with highlights on the matched words.
	h := find(t, ix, search.Query{Text: "turbulence"}, v).Hits[1]
	if len(h.Highlights) == 0 {
		t.Fatalf("no highlights in %+v", h)
	}
	for _, s := range h.Highlights {
		if w := h.Snippet[s.Start:s.End]; !strings.EqualFold(w, "turbulence") {
			t.Errorf("highlight %q in %q", w, h.Snippet)
		}
	}
	// Keywords, creators and variables are searchable too.
	e := doc("e", "Untitled", "")
	e.Keywords = []string{"perovskite"}
	e.Creators = []string{"Ada Lovelace"}
	e.Variables = []search.Variable{{Name: "bandgap", Unit: "eV"}}
	put(t, db, ix, e)
	v = all(t, ix)
	for _, q := range []string{"perovskite", "lovelace", "bandgap", "ev"} {
		if got := ids(find(t, ix, search.Query{Text: q}, v)); !slices.Equal(got, []string{"e"}) {
			t.Errorf("%s: %v", q, got)
		}
	}
}

func equalSets(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func corpus() []search.Doc {
	var out []search.Doc
	domains := []string{"fusion", "materials", "biotech"}
	orgs := []string{"ORNL", "LLNL"}
	for i := range 12 {
		d := doc(fmt.Sprintf("d%02d", i), fmt.Sprintf("Dataset %d about reactors", i), "shared words here")
		d.Domain = domains[i%3]
		d.Org = orgs[i%2]
		if i%4 == 0 {
			d.Kind = "model"
		}
		d.Keywords = []string{"k" + fmt.Sprint(i%3)}
		if i%2 == 0 {
			d.Keywords = append(d.Keywords, "even")
		}
		d.Synthetic = i%5 == 1
		d.Updated = t0.Add(time.Duration(i) * time.Hour)
		out = append(out, d)
	}
	return out
}

func testFilters(t *testing.T, open Opener) {
	db, ix := open(t)
	docs := corpus()
	put(t, db, ix, docs...)
	v := all(t, ix)
	for _, text := range []string{"", "reactors"} {
		for _, q := range []search.Query{
			{Domain: "fusion"}, {Org: "LLNL"}, {Kind: "model"}, {Keywords: []string{"even"}},
			{Keywords: []string{"even", "k1"}}, {Domain: "fusion", Org: "ORNL", Kind: "dataset"}, {Domain: "none"},
			{Synthetic: &yes}, {Synthetic: &no}, {Synthetic: &yes, Org: "LLNL"},
		} {
			q.Text, q.Limit = text, 100
			var want []string
			for _, d := range docs {
				if (q.Domain == "" || d.Domain == q.Domain) && (q.Org == "" || d.Org == q.Org) && (q.Kind == "" || d.Kind == q.Kind) && hasAll(d.Keywords, q.Keywords) &&
					(q.Synthetic == nil || d.Synthetic == *q.Synthetic) {
					want = append(want, d.ID)
				}
			}
			r := find(t, ix, q, v)
			if got := ids(r); !equalSets(got, want) || r.Total != len(want) {
				t.Errorf("%+v: got %v (total %d), want %v", q, got, r.Total, want)
			}
			for _, h := range r.Hits {
				for _, d := range docs {
					if d.ID == h.ID && d.Synthetic != h.Synthetic {
						t.Errorf("%+v: hit %s synthetic=%v, the document's is %v", q, h.ID, h.Synthetic, d.Synthetic)
					}
				}
			}
		}
	}
}

var yes, no = true, false

func hasAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func testFacets(t *testing.T, open Opener) {
	db, ix := open(t)
	docs := corpus()
	put(t, db, ix, docs...)
	v := all(t, ix)
	for _, q := range []search.Query{{}, {Text: "reactors"}, {Text: "reactors", Org: "ORNL"}, {Org: "ORNL"}, {Synthetic: &no}, {Text: "reactors", Synthetic: &yes}} {
		r := find(t, ix, q, v)
		want := map[string]map[string]int{}
		for _, d := range docs {
			if q.Org != "" && d.Org != q.Org || q.Synthetic != nil && d.Synthetic != *q.Synthetic {
				continue
			}
			inc := func(f, val string) {
				if want[f] == nil {
					want[f] = map[string]int{}
				}
				want[f][val]++
			}
			inc(search.FacetDomain, d.Domain)
			inc(search.FacetOrg, d.Org)
			inc(search.FacetKind, d.Kind)
			for _, k := range d.Keywords {
				inc(search.FacetKeyword, k)
			}
			if d.Synthetic {
				inc(search.FacetSynthetic, "true")
			}
		}
		got := map[string]map[string]int{}
		for f, vs := range r.Facets {
			for i, fv := range vs {
				if got[f] == nil {
					got[f] = map[string]int{}
				}
				got[f][fv.Value] = fv.Count
				if i > 0 && (vs[i-1].Count < fv.Count || vs[i-1].Count == fv.Count && vs[i-1].Value > fv.Value) {
					t.Errorf("%+v: facet %s not ordered by count, value: %v", q, f, vs)
				}
			}
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%+v: facets (-want +got):\n%s", q, d)
		}
	}
}

func testPagination(t *testing.T, open Opener) {
	db, ix := open(t)
	docs := corpus()
	put(t, db, ix, docs...)
	v := all(t, ix)
	for _, text := range []string{"", "reactors", "dataset"} {
		full := find(t, ix, search.Query{Text: text, Limit: 100}, v)
		if full.Next != "" {
			t.Errorf("%q: one full page has a next cursor", text)
		}
		var got []string
		q := search.Query{Text: text, Limit: 5}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
			r := find(t, ix, q, v)
			if r.Total != full.Total {
				t.Errorf("%q: page total %d, full total %d", text, r.Total, full.Total)
			}
			got = append(got, ids(r)...)
			if r.Next == "" {
				break
			}
			q.Cursor = r.Next
		}
		if want := ids(full); !slices.Equal(got, want) {
			t.Errorf("%q: pages %v, one page %v", text, got, want)
		}
	}
	// Browse is newest first.
	if got := ids(find(t, ix, search.Query{Limit: 3}, v)); !slices.Equal(got, []string{"d11", "d10", "d09"}) {
		t.Errorf("browse order %v", got)
	}
}

func testSuggest(t *testing.T, open Opener) {
	db, ix := open(t)
	a := doc("a", "Fusion reactor wall", "")
	a.Keywords = []string{"fusion", "Fuel cycle"}
	b := doc("b", "Fusion blanket", "")
	b.Keywords = []string{"fusion"}
	c := doc("c", "Fungal genomics", "")
	put(t, db, ix, a, b, c)
	v := all(t, ix)
	s, err := ix.Suggest(context.Background(), "fu", v, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []search.Suggestion{{Text: "fusion", Count: 2}, {Text: "Fuel cycle", Count: 1}, {Text: "Fungal genomics", Count: 1}, {Text: "Fusion blanket", Count: 1}, {Text: "Fusion reactor wall", Count: 1}}
	if d := cmp.Diff(want, s); d != "" {
		t.Errorf("suggest fu (-want +got):\n%s", d)
	}
	s, _ = ix.Suggest(context.Background(), "FUSION R", v, 10)
	if d := cmp.Diff([]search.Suggestion{{Text: "Fusion reactor wall", Count: 1}}, s); d != "" {
		t.Errorf("suggest FUSION R:\n%s", d)
	}
	s, _ = ix.Suggest(context.Background(), "fu", v, 1)
	if len(s) != 1 {
		t.Errorf("limit 1: %v", s)
	}
	for _, p := range []string{"", "   ", "%", "_", "zz", "'"} {
		s, err := ix.Suggest(context.Background(), p, v, 10)
		if err != nil || len(s) != 0 {
			t.Errorf("suggest %q: %v %v", p, s, err)
		}
	}
}

func testUpdateDelete(t *testing.T, open Opener) {
	db, ix := open(t)
	ctx := context.Background()
	a := doc("a", "Neutron flux", "")
	a.Keywords = []string{"neutron"}
	a.Domain = "fusion"
	put(t, db, ix, a, doc("b", "Neutron scattering", ""))
	a.Title = "Photon flux"
	a.Keywords = []string{"photon"}
	a.Domain = "optics"
	put(t, db, ix, a)
	v := all(t, ix)
	if got := ids(find(t, ix, search.Query{Text: "neutron"}, v)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after update, neutron: %v", got)
	}
	if got := ids(find(t, ix, search.Query{Text: "photon"}, v)); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after update, photon: %v", got)
	}
	r := find(t, ix, search.Query{}, v)
	if r.Total != 2 || len(r.Facets[search.FacetDomain]) != 1 || r.Facets[search.FacetDomain][0].Value != "optics" {
		t.Errorf("after update: total %d facets %v", r.Total, r.Facets)
	}
	// Relabel: the document moves to another class.
	a.Label = "PROPRIETARY"
	put(t, db, ix, a)
	cs, _ := ix.Classes(ctx)
	var openOnly search.Visibility
	for _, c := range cs {
		if c.Label == open1 {
			openOnly.ReadableClasses = append(openOnly.ReadableClasses, c.ID)
		}
	}
	if got := ids(find(t, ix, search.Query{}, openOnly)); !slices.Equal(got, []string{"b"}) {
		t.Errorf("after relabel, OPEN readers see %v", got)
	}
	if err := search.Remove(ctx, db, ix, "a", "missing"); err != nil {
		t.Fatal(err)
	}
	v = all(t, ix)
	r = find(t, ix, search.Query{}, v)
	if got := ids(r); !slices.Equal(got, []string{"b"}) || r.Total != 1 || len(r.Facets[search.FacetKeyword]) != 0 {
		t.Errorf("after delete: %v total %d facets %v", got, r.Total, r.Facets)
	}
	if s, _ := ix.Suggest(ctx, "pho", v, 5); len(s) != 0 {
		t.Errorf("deleted doc suggested: %v", s)
	}
	// A failed transaction leaves nothing behind.
	err := db.Update(ctx, func(tx store.Tx) error {
		if err := ix.Upsert(ctx, tx, doc("c", "Rolled back", "")); err != nil {
			return err
		}
		return errors.E(errors.Conflict, errors.Msg("abort"))
	})
	if err == nil {
		t.Fatal("update did not fail")
	}
	if got := ids(find(t, ix, search.Query{Text: "rolled"}, all(t, ix))); len(got) != 0 {
		t.Errorf("rolled back doc found: %v", got)
	}
}

func testUnicode(t *testing.T, open Opener) {
	db, ix := open(t)
	put(t, db, ix,
		doc("u1", "Müller's Ångström-scale Straße", "café résumé naïve"),
		doc("u2", "東京 量子 計算", "Квантовые вычисления"),
		doc("u3", "Emoji 🧪 lab", "x\u0301y combining"),
	)
	v := all(t, ix)
	for q, want := range map[string][]string{
		"muller": {"u1"}, "MÜLLER": {"u1"}, "angstrom": {"u1"}, "strasse": {}, "straße": {"u1"}, "CAFE": {"u1"}, "naive": {"u1"},
		"量子": {"u2"}, "квантовые": {"u2"}, "КВАНТОВЫЕ": {"u2"}, "🧪": {}, "lab": {"u3"}, "emoji 🧪": {"u3"}, "xy": {"u3"},
	} {
		r := find(t, ix, search.Query{Text: q}, v)
		got := ids(r)
		if q == "🧪" {
			// No letters: browsing.
			if r.Total != 3 {
				t.Errorf("%q browses: total %d", q, r.Total)
			}
			continue
		}
		if !equalSets(got, want) {
			t.Errorf("%q: got %v want %v", q, got, want)
		}
	}
	for _, h := range find(t, ix, search.Query{Text: "résumé"}, v).Hits {
		for _, s := range h.Highlights {
			if h.Snippet[s.Start:s.End] != "résumé" {
				t.Errorf("highlight %q", h.Snippet[s.Start:s.End])
			}
		}
	}
}

// Hostile is query text that must be plain text to every backend.
var Hostile = []string{
	`"`, `""`, `"unterminated`, `'`, `''`, `\`, `\"`, `%`, `_`, `*`, `**`, `a*b*`, `-`, `+`, `^`, `:`, `(`, `)`, `()`,
	`NEAR(a b, 3)`, `a OR b`, `a AND NOT b`, `a NOT b`, `title:reactor`, `{f_title}: x`, `- reactor`, `reactor -dataset`,
	`'; DROP TABLE search_docs; --`, `1' OR '1'='1`, `" OR 1=1 --`, `$1`, `?`, `??`, `a & b | !c`, `a <-> b`, `a:*`, `!!`,
	`\x00`, "nul\x00byte", "\xff\xfe invalid utf8", `<script>alert(1)</script>`, `%' OR 1=1 --`, `\\'`, `@@`, `||`,
	strings.Repeat("a ", 16), strings.Repeat("(", 100), `"reactor"*`, `reactor*"`,
}

func testHostile(t *testing.T, open Opener) {
	db, ix := open(t)
	ctx := context.Background()
	d := doc("h", `Robert'); DROP TABLE search_docs; -- reactor`, `"quoted" OR NEAR(x) <script>alert(1)</script>`)
	d.Keywords = []string{`'; --`, `%_`}
	put(t, db, ix, d, doc("g", "Another reactor dataset", ""))
	v := all(t, ix)
	for _, q := range Hostile {
		r, err := ix.Search(ctx, search.Query{Text: q}, v)
		if err != nil {
			t.Errorf("query %q: %v", q, err)
			continue
		}
		if r.Total < len(r.Hits) {
			t.Errorf("query %q: total %d < %d hits", q, r.Total, len(r.Hits))
		}
		if _, err := ix.Suggest(ctx, q, v, 5); err != nil {
			t.Errorf("suggest %q: %v", q, err)
		}
		if _, err := ix.Search(ctx, search.Query{Text: "reactor", Domain: q, Org: q, Kind: q, Keywords: []string{q}}, v); err != nil {
			t.Errorf("filters %q: %v", q, err)
		}
	}
	// Operators are words: "OR" does not widen, "NOT" does not narrow.
	if got := ids(find(t, ix, search.Query{Text: "drop table"}, v)); !slices.Equal(got, []string{"h"}) {
		t.Errorf("drop table: %v", got)
	}
	if got := ids(find(t, ix, search.Query{Text: "reactor OR nonexistent"}, v)); len(got) != 0 {
		t.Errorf("OR is a word: %v", got)
	}
	if got := ids(find(t, ix, search.Query{Keywords: []string{`'; --`}}, v)); !slices.Equal(got, []string{"h"}) {
		t.Errorf("keyword filter with quotes: %v", got)
	}
	if got := ids(find(t, ix, search.Query{Keywords: []string{`%`}}, v)); len(got) != 0 {
		t.Errorf("%% is not a wildcard: %v", got)
	}
	// Still intact.
	if got := find(t, ix, search.Query{}, v); got.Total != 2 {
		t.Errorf("index damaged: %d docs", got.Total)
	}
}

func testBrowse(t *testing.T, open Opener) {
	db, ix := open(t)
	put(t, db, ix, corpus()...)
	r := find(t, ix, search.Query{Limit: 100}, all(t, ix))
	if r.Total != 12 || len(r.Hits) != 12 {
		t.Fatalf("browse: %d of %d", len(r.Hits), r.Total)
	}
	for i := 1; i < len(r.Hits); i++ {
		if r.Hits[i].Updated.After(r.Hits[i-1].Updated) {
			t.Errorf("browse not newest first at %d", i)
		}
	}
	if r.Hits[0].Snippet != "shared words here" || r.Hits[0].Label != open1 || !r.Hits[0].Updated.Equal(t0.Add(11*time.Hour)) {
		t.Errorf("browse hit: %+v", r.Hits[0])
	}
	// An empty index and an empty visibility look the same.
	_, empty := open(t)
	e1 := find(t, empty, search.Query{Text: "reactors"}, search.Visibility{})
	e2 := find(t, ix, search.Query{Text: "reactors"}, search.Visibility{})
	if d := cmp.Diff(e1, e2); d != "" {
		t.Errorf("empty index vs nothing readable (-empty +hidden):\n%s", d)
	}
}

func testVisibility(t *testing.T, open Opener) {
	db, ix := open(t)
	ctx := context.Background()
	pub := doc("pub", "Reactor public", "")
	sec := doc("sec", "Reactor secret", "")
	sec.Label, sec.Owner, sec.Keywords, sec.Domain = "NATIONAL-SECURITY", "u2", []string{"secretword"}, "weapons"
	mine := doc("mine", "Reactor mine", "")
	mine.Label, mine.Owner = "PROPRIETARY", "u3"
	theirs := doc("theirs", "Reactor theirs", "")
	theirs.Label, theirs.Owner = "PROPRIETARY", "u2"
	put(t, db, ix, pub, sec, mine, theirs)
	cs, _ := ix.Classes(ctx)
	byLabel := map[string]search.ClassID{}
	for _, c := range cs {
		byLabel[c.Label] = c.ID
	}
	v := search.Visibility{ReadableClasses: []search.ClassID{byLabel[open1]}, Owner: "u3", OwnerReadableClasses: []search.ClassID{byLabel["PROPRIETARY"]}}
	r := find(t, ix, search.Query{Text: "reactor"}, v)
	if got := ids(r); !equalSets(got, []string{"pub", "mine"}) || r.Total != 2 {
		t.Errorf("reactor: %v total %d", got, r.Total)
	}
	for _, f := range r.Facets[search.FacetDomain] {
		if f.Value == "weapons" {
			t.Error("hidden domain in facets")
		}
	}
	if r := find(t, ix, search.Query{Text: "secretword"}, v); r.Total != 0 || len(r.Hits) != 0 {
		t.Errorf("hidden keyword matched: %+v", r)
	}
	if s, _ := ix.Suggest(ctx, "secr", v, 5); len(s) != 0 {
		t.Errorf("hidden keyword suggested: %v", s)
	}
	if s, _ := ix.Suggest(ctx, "reactor", v, 5); len(s) != 2 {
		t.Errorf("suggest reactor: %v", s)
	}
	if r := find(t, ix, search.Query{}, v); r.Total != 2 {
		t.Errorf("browse total %d", r.Total)
	}
	// Owner rules need the owner: without it, only OPEN.
	v.Owner = ""
	if got := ids(find(t, ix, search.Query{}, v)); !slices.Equal(got, []string{"pub"}) {
		t.Errorf("no owner: %v", got)
	}
}

// testPassages: passage documents are searched only when a query asks for
// them, and then nothing else is; their scores are those of an index
// holding the passages alone (assets do not shift the statistics), and
// suggestions never come from them.
func testPassages(t *testing.T, open Opener) {
	db, ix := open(t)
	ctx := context.Background()
	psg := func(id, text string) search.Doc {
		d := doc(id, "Results", text)
		d.Kind, d.Name = search.KindPassage, "paper-"+id
		return d
	}
	p1, p2 := psg("psg_1", "perovskite band gap of 1.5 eV"), psg("psg_2", "perovskite films annealed twice, perovskite again")
	d1 := doc("ds1", "Perovskite measurements", "perovskite perovskite perovskite")
	put(t, db, ix, p1, p2, d1)
	v := all(t, ix)
	if got := ids(find(t, ix, search.Query{Text: "perovskite"}, v)); !slices.Equal(got, []string{"ds1"}) {
		t.Errorf("asset search sees %v, want only ds1", got)
	}
	r := find(t, ix, search.Query{Text: "perovskite", Passages: true}, v)
	if got := ids(r); !equalSets(got, []string{"psg_1", "psg_2"}) || r.Total != 2 {
		t.Errorf("passage search: %v total %d", got, r.Total)
	}
	for _, f := range r.Facets[search.FacetKind] {
		if f.Value != search.KindPassage {
			t.Errorf("passage search facets count kind %q", f.Value)
		}
	}
	if r := find(t, ix, search.Query{Passages: true}, v); r.Total != 2 {
		t.Errorf("passage browse total %d", r.Total)
	}
	if r := find(t, ix, search.Query{Kind: search.KindPassage}, v); r.Total != 0 {
		t.Errorf("kind=passage without Passages found %d", r.Total)
	}
	if s, _ := ix.Suggest(ctx, "result", v, 5); len(s) != 0 {
		t.Errorf("suggestions from passages: %v", s)
	}
	// Same scores as an index of the passages alone.
	db2, ix2 := open(t)
	put(t, db2, ix2, p1, p2)
	r2 := find(t, ix2, search.Query{Text: "perovskite", Passages: true}, all(t, ix2))
	for i := range r.Hits {
		if r.Hits[i].ID != r2.Hits[i].ID || math.Abs(r.Hits[i].Score-r2.Hits[i].Score) > 1e-9 {
			t.Errorf("hit %d: %s %v, alone %s %v", i, r.Hits[i].ID, r.Hits[i].Score, r2.Hits[i].ID, r2.Hits[i].Score)
		}
	}
	// A passage class not readable is not searched.
	cs, _ := ix.Classes(ctx)
	var none search.Visibility
	for _, c := range cs {
		if c.Kind != search.KindPassage {
			none.ReadableClasses = append(none.ReadableClasses, c.ID)
		}
	}
	if r := find(t, ix, search.Query{Text: "perovskite", Passages: true}, none); r.Total != 0 {
		t.Errorf("unreadable passages found: %d", r.Total)
	}
}

func testInvalid(t *testing.T, open Opener) {
	db, ix := open(t)
	ctx := context.Background()
	v := all(t, ix)
	for _, q := range []search.Query{
		{Text: strings.Repeat("x", search.MaxQueryBytes+1)},
		{Text: manyTerms(search.MaxTerms + 1)},
		{Cursor: "nonsense!"},
		{Cursor: "AAAA"},
	} {
		_, err := ix.Search(ctx, q, v)
		if err == nil {
			t.Errorf("%.40q: no error", q.Text+q.Cursor)
			continue
		}
		var e *errors.Error
		if !errors.As(err, &e) || e.Msg == "" || strings.Contains(strings.ToLower(e.Msg), "sql") {
			t.Errorf("%.40q: error is not user-safe: %v", q.Text+q.Cursor, err)
		}
	}
	for _, d := range []search.Doc{{}, {ID: "x", Label: open1}, {ID: "x", Kind: "dataset"}} {
		if err := search.Put(ctx, db, ix, d); !errors.Is(errors.Invalid, err) {
			t.Errorf("put %+v: %v", d, err)
		}
	}
}

func manyTerms(n int) string {
	var w []string
	for i := range n {
		w = append(w, fmt.Sprintf("w%d", i))
	}
	return strings.Join(w, " ")
}

// ---------------------------------------------------------------- property

var vocab = []string{"reactor", "plasma", "neutron", "alloy", "genome", "qubit", "wafer", "lithium", "fusion", "crystal", "sensor", "catalyst"}

type classKey struct{ kind, label, project string }

func randDoc(rng *rand.Rand, id string) search.Doc {
	words := func(n int) string {
		var w []string
		for range n {
			w = append(w, vocab[rng.IntN(len(vocab))])
		}
		return strings.Join(w, " ")
	}
	d := search.Doc{
		ID:          id,
		Kind:        []string{"dataset", "model"}[rng.IntN(2)],
		Name:        id,
		Title:       strings.ToUpper(words(1 + rng.IntN(3))[:1]) + words(1 + rng.IntN(3))[1:],
		Description: words(rng.IntN(12)),
		Domain:      []string{"", "fusion", "materials", "biotech"}[rng.IntN(4)],
		Org:         []string{"", "ORNL", "LLNL", "ANL"}[rng.IntN(4)],
		Project:     []string{"", "p1", "p2"}[rng.IntN(3)],
		Owner:       []string{"u1", "u2", "u3"}[rng.IntN(3)],
		Label:       []string{"OPEN", "PROPRIETARY", "PROPRIETARY//AGR:CRADA-1", "NATIONAL-SECURITY"}[rng.IntN(4)],
		Updated:     t0.Add(time.Duration(rng.IntN(50)) * time.Minute),
		Synthetic:   rng.IntN(3) == 0,
	}
	for range rng.IntN(3) {
		d.Keywords = append(d.Keywords, vocab[rng.IntN(len(vocab))])
	}
	if rng.IntN(3) == 0 {
		d.Creators = []string{"Grace " + vocab[rng.IntN(len(vocab))]}
	}
	if rng.IntN(3) == 0 {
		d.Variables = []search.Variable{{Name: vocab[rng.IntN(len(vocab))], Unit: "K"}}
	}
	return d
}

func randQuery(rng *rand.Rand) search.Query {
	var q search.Query
	var parts []string
	for range rng.IntN(3) {
		w := vocab[rng.IntN(len(vocab))]
		switch rng.IntN(5) {
		case 0:
			w = w[:2+rng.IntN(3)] + "*"
		case 1:
			w = `"` + w + " " + vocab[rng.IntN(len(vocab))] + `"`
		}
		parts = append(parts, w)
	}
	q.Text = strings.Join(parts, " ")
	if rng.IntN(4) == 0 {
		q.Domain = []string{"fusion", "materials"}[rng.IntN(2)]
	}
	if rng.IntN(4) == 0 {
		q.Kind = "model"
	}
	if rng.IntN(5) == 0 {
		q.Org = "ORNL"
	}
	if rng.IntN(5) == 0 {
		q.Keywords = []string{vocab[rng.IntN(len(vocab))]}
	}
	if rng.IntN(4) == 0 {
		b := rng.IntN(2) == 0
		q.Synthetic = &b
	}
	q.Limit = 1 + rng.IntN(8)
	return q
}

// testProperty builds a random corpus (with updates and deletes in its
// history) in one index, and for random principals compares every answer
// with a fresh index holding only the documents that principal may read.
func testProperty(t *testing.T, open Opener) {
	ctx := context.Background()
	rounds := 12
	if testing.Short() {
		rounds = 4
	}
	for round := range rounds {
		seed := uint64(round)*7919 + 1
		rng := rand.New(rand.NewPCG(seed, 42))
		db, ix := open(t)
		final := map[string]search.Doc{}
		n := rng.IntN(40)
		for i := range n {
			d := randDoc(rng, fmt.Sprintf("a%03d", i))
			final[d.ID] = d
		}
		var batch []search.Doc
		for _, id := range sortedKeys(final) {
			batch = append(batch, final[id])
		}
		put(t, db, ix, batch...)
		// History: updates (text and class changes) and deletes.
		for range rng.IntN(15) {
			if len(final) == 0 {
				break
			}
			keys := sortedKeys(final)
			id := keys[rng.IntN(len(keys))]
			if rng.IntN(3) == 0 {
				if err := search.Remove(ctx, db, ix, id); err != nil {
					t.Fatal(err)
				}
				delete(final, id)
			} else {
				d := randDoc(rng, id)
				put(t, db, ix, d)
				final[id] = d
			}
		}
		classes, err := ix.Classes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for p := range 3 {
			// A principal: readable class keys, an owner, owner-readable keys.
			readable := map[classKey]bool{}
			ownerReadable := map[classKey]bool{}
			var v search.Visibility
			v.Owner = []string{"", "u1", "u2", "u3"}[rng.IntN(4)]
			for _, c := range classes {
				k := classKey{c.Kind, c.Label, c.Project}
				if rng.IntN(2) == 0 {
					readable[k] = true
					v.ReadableClasses = append(v.ReadableClasses, c.ID)
				} else if rng.IntN(2) == 0 {
					ownerReadable[k] = true
					v.OwnerReadableClasses = append(v.OwnerReadableClasses, c.ID)
				}
			}
			var visible []search.Doc
			for _, id := range sortedKeys(final) {
				d := final[id]
				k := classKey{d.Kind, d.Label, d.Project}
				if readable[k] || (v.Owner != "" && d.Owner == v.Owner && ownerReadable[k]) {
					visible = append(visible, d)
				}
			}
			rdb, ref := open(t)
			if len(visible) > 0 {
				put(t, rdb, ref, visible...)
			}
			rv := all(t, ref)
			for qi := range 8 {
				q := randQuery(rng)
				if qi == 0 {
					q.Text = ""
				}
				for pg := 0; pg < 3; pg++ {
					got := find(t, ix, q, v)
					want := find(t, ref, q, rv)
					if d := cmp.Diff(want, got); d != "" {
						t.Fatalf("seed %d principal %d query %+v: restricted (-) vs filtered (+):\n%s", seed, p, q, d)
					}
					if got.Next == "" {
						break
					}
					q.Cursor = got.Next
				}
				prefix := vocab[rng.IntN(len(vocab))][:1+rng.IntN(3)]
				gs, err1 := ix.Suggest(ctx, prefix, v, 5)
				ws, err2 := ref.Suggest(ctx, prefix, rv, 5)
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				if d := cmp.Diff(ws, gs); d != "" {
					t.Fatalf("seed %d principal %d suggest %q:\n%s", seed, p, prefix, d)
				}
			}
		}
	}
}

func sortedKeys(m map[string]search.Doc) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
