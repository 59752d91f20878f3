package console_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta/metatest"
	"github.com/genesis-science/genesis/internal/label"
)

// csrfOrID removes what differs between two renderings of one page for
// one viewer: the session's form token. (Request IDs are headers.)
var csrfOrID = regexp.MustCompile(`name="csrf" value="[^"]*"`)

// TestHiddenAssetIsMissing: to a viewer who may not read an asset, its
// page, its file download and its search are the same as for a name that
// does not exist, byte for byte.
func TestHiddenAssetIsMissing(t *testing.T) {
	w := sqliteWorld(t)
	out := w.put(t, w.alice, "secret-shots", "PROPRIETARY//FUSION", "x,y\n1,2\n")
	w.put(t, w.alice, "open-shots", "OPEN", "x,y\n3,4\n")

	bob := w.browser(t)
	bob.signIn(w.bobT)
	hidden := bob.get("/assets/secret-shots")
	missing := bob.get("/assets/no-such-shots")
	byID := bob.get("/assets/" + out.ID)
	for _, r := range []*response{hidden, missing, byID} {
		if r.StatusCode != http.StatusNotFound || attr(walkID(r, "not-found"), "id") != "not-found" {
			t.Fatalf("bob's page of a hidden/missing asset: %d\n%s", r.StatusCode, r.body)
		}
	}
	norm := func(r *response) string { return csrfOrID.ReplaceAllString(r.body, "") }
	if norm(hidden) != norm(missing) || norm(byID) != norm(missing) {
		t.Errorf("hidden and missing pages differ:\n%s\n----\n%s", hidden.body, missing.body)
	}
	if strings.Contains(hidden.body, "secret") {
		t.Error("the not-found page names the asset")
	}
	if h, m := hidden.Header.Clone(), missing.Header.Clone(); h.Get("Content-Length") != m.Get("Content-Length") {
		t.Error("header lengths differ")
	}
	// Download: the same.
	dh := bob.get("/assets/secret-shots/versions/1/files/data.csv")
	dm := bob.get("/assets/no-such-shots/versions/1/files/data.csv")
	if dh.StatusCode != 404 || norm(dh) != norm(dm) {
		t.Errorf("download of a hidden file: %d", dh.StatusCode)
	}
	// Search: no hit, no count, no facet value betrays it.
	s := bob.get("/search?q=shots")
	if got := names(s); !slices.Equal(got, []string{"open-shots"}) {
		t.Errorf("bob's hits %v", got)
	}
	if got := text(walkID(s, "result-count")); got != "1 result" {
		t.Errorf("bob's count %q", got)
	}
	for _, c := range byClass(s.doc, "facet-count") {
		if c, _ := strconv.Atoi(text(c)); c != 1 {
			t.Errorf("a facet counts %d for bob", c)
		}
	}
	if m, lvl := banner(t, s); m != "OPEN" || lvl != "open" {
		t.Errorf("bob's banner %q %q", m, lvl)
	}

	// Alice sees both, and her banner is the join.
	alice := w.browser(t)
	alice.signIn(w.aliceT)
	s = alice.get("/search?q=shots")
	if got := names(s); len(got) != 2 {
		t.Errorf("alice's hits %v", got)
	}
	if m, lvl := banner(t, s); m != "PROPRIETARY//FUSION" || lvl != "proprietary" {
		t.Errorf("alice's banner %q %q", m, lvl)
	}
	a := alice.get("/assets/secret-shots")
	if a.StatusCode != 200 || text(walkID(a, "asset-label")) != "PROPRIETARY//FUSION" {
		t.Fatalf("alice's asset page: %d %q", a.StatusCode, text(walkID(a, "asset-label")))
	}
	if title(a.doc) != "secret-shots — Genesis" {
		t.Errorf("title %q", title(a.doc))
	}
	if walkID(a, "versions") == nil || walkID(a, "asset-quality") == nil || walkID(a, "lineage") == nil {
		t.Error("asset page lacks versions, quality or lineage")
	}
	dl := attrOf(a.doc, "a", "class", "download", "href")
	d := alice.get(dl)
	if d.StatusCode != 200 || d.body != "x,y\n1,2\n" || !strings.HasPrefix(d.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("alice's download %q: %d %q %q", dl, d.StatusCode, d.body, d.Header.Get("Content-Disposition"))
	}
}

func walkID(r *response, id string) *htmlNode { return byID(r.doc, id) }

// names lists the result links' asset names.
func names(r *response) []string {
	var out []string
	for _, n := range byClass(r.doc, "result-link") {
		out = append(out, strings.TrimPrefix(attr(n, "href"), "/assets/"))
	}
	slices.Sort(out)
	return out
}

// TestXSSTitleIsText: a title full of markup is shown as text everywhere.
func TestXSSTitleIsText(t *testing.T) {
	w := sqliteWorld(t)
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&`
	a, err := w.cat.Create(ctx, w.alice, catalog.CreateSpec{Name: "xss", Title: evil, Label: "OPEN"})
	if err != nil {
		t.Fatal(err)
	}
	w.put(t, w.alice, a.Name, "OPEN", "1\n")
	b := w.browser(t)
	b.signIn(w.aliceT)
	for _, p := range []string{"/assets/xss", "/search?q=xss", "/search?q=" + strings.ReplaceAll(evil, "&", "%26")} {
		r := b.get(p)
		if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<img src=x") {
			t.Errorf("%s: markup from a title reached the page:\n%s", p, r.body)
		}
		for _, n := range all(r.doc, isElement) {
			if n.Data == "script" && !(strings.HasPrefix(attr(n, "src"), "/static/") && strings.HasSuffix(attr(n, "src"), ".js")) || n.Data == "img" && attr(n, "src") == "x" {
				t.Errorf("%s: an element came from user text: <%s>", p, n.Data)
			}
		}
	}
	r := b.get("/assets/xss")
	if got := text(walkID(r, "asset-title")); got != evil {
		t.Errorf("title shown as %q", got)
	}
}

// TestBannerIsJoin: the banner of a search page is the join of the
// labels of the hits it shows, for random sets of labels (the reference
// model is label.JoinAll over what the viewer may read).
func TestBannerIsJoin(t *testing.T) {
	w := sqliteWorld(t)
	labels := []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "NATIONAL-SECURITY", "NATIONAL-SECURITY//FUSION"}
	r := rand.New(rand.NewPCG(16, 1))
	alice, bob := w.browser(t), w.browser(t)
	alice.signIn(w.aliceT)
	bob.signIn(w.bobT)
	for round := range 6 {
		tag := fmt.Sprintf("round%d", round)
		var mine []label.Label
		for i := range 1 + r.IntN(4) {
			l := labels[r.IntN(len(labels))]
			w.put(t, w.alice, fmt.Sprintf("%s-%d", tag, i), l, tag)
			mine = append(mine, label.MustParse(l))
		}
		want := label.JoinAll(append(mine, label.MustParse("OPEN"))...)
		page := alice.get("/search?q=" + tag)
		if got := len(names(page)); got != len(mine) {
			t.Fatalf("%s: %d hits, want %d", tag, got, len(mine))
		}
		m, lvl := banner(t, page)
		if m != want.Format() || lvl != levelName(want.Level()) {
			t.Errorf("%s: banner %q (%s), want %q", tag, m, lvl, want.Format())
		}
		// Each hit shows its own marking.
		for _, hit := range byClass(page.doc, "result") {
			mk := byClass(hit, "marking")
			if len(mk) != 1 || !slices.ContainsFunc(mine, func(l label.Label) bool { return l.Format() == text(mk[0]) }) {
				t.Errorf("%s: a hit's marking is missing or wrong", tag)
			}
		}
		// Bob sees only the OPEN ones and an OPEN banner.
		open := 0
		for _, l := range mine {
			if l.Level() == label.Open {
				open++
			}
		}
		bp := bob.get("/search?q=" + tag)
		if got := len(names(bp)); got != open {
			t.Errorf("%s: bob sees %d hits, want %d", tag, got, open)
		}
		if m, _ := banner(t, bp); m != "OPEN" {
			t.Errorf("%s: bob's banner %q", tag, m)
		}
	}
}

func levelName(l label.Level) string {
	return map[label.Level]string{label.Open: "open", label.Proprietary: "proprietary", label.NationalSecurity: "national-security"}[l]
}

// TestLineageLinks: an asset page links its upstream and downstream
// assets, as far as the viewer may read them.
func TestLineageLinks(t *testing.T) {
	w := sqliteWorld(t)
	raw := w.put(t, w.alice, "raw", "OPEN", "1\n")
	clean := w.put(t, w.alice, "clean", "OPEN", "2\n", catalog.VersionRef{Asset: raw.ID, Version: raw.Version})
	w.put(t, w.alice, "secret-model-input", "PROPRIETARY", "3\n", catalog.VersionRef{Asset: clean.ID, Version: clean.Version})
	links := func(r *response) []string {
		var out []string
		for _, n := range byClass(walkID(r, "lineage"), "lineage-link") {
			out = append(out, attr(n, "href"))
		}
		slices.Sort(out)
		return out
	}
	alice := w.browser(t)
	alice.signIn(w.aliceT)
	if got := links(alice.get("/assets/clean")); !slices.Equal(got, []string{"/assets/raw", "/assets/secret-model-input"}) {
		t.Errorf("alice's lineage of clean: %v", got)
	}
	bob := w.browser(t)
	bob.signIn(w.bobT)
	page := bob.get("/assets/clean")
	if got := links(page); !slices.Equal(got, []string{"/assets/raw"}) {
		t.Errorf("bob's lineage of clean: %v", got)
	}
	if strings.Contains(page.body, "secret-model-input") {
		t.Error("bob's page names a hidden downstream asset")
	}
	if m, _ := banner(t, page); m != "OPEN" {
		t.Errorf("bob's banner %q", m)
	}
	// Following a link lands on the upstream asset's page.
	if r := bob.get("/assets/raw"); r.StatusCode != 200 || !slices.Equal(links(r), []string{"/assets/clean"}) {
		t.Errorf("raw's page: %d %v", r.StatusCode, links(r))
	}
}

// TestAssetMetadataAndQuality: an imported dataset's page shows its
// metadata and the catalog's quality score.
func TestAssetMetadataAndQuality(t *testing.T) {
	w := sqliteWorld(t)
	sum, err := w.cat.Import(ctx, w.alice, bytes.NewReader(metatest.DataJSON(2)), catalog.ImportSpec{Label: "OPEN"})
	if err != nil || len(sum.Imported) != 2 {
		t.Fatalf("import: %v", err)
	}
	b := w.browser(t)
	b.signIn(w.bobT)
	r := b.get("/assets/" + sum.Imported[0].Asset)
	if r.StatusCode != 200 {
		t.Fatalf("%d", r.StatusCode)
	}
	if got := text(walkID(r, "asset-quality")); got != strconv.Itoa(sum.Imported[0].Quality) {
		t.Errorf("quality %q, want %d", got, sum.Imported[0].Quality)
	}
	if !strings.Contains(text(walkID(r, "metadata")), "air temperature") {
		t.Error("keywords not shown")
	}
	// A search too long for the index is refused with the reason, the
	// query kept in the box.
	long := strings.Repeat("x", 2000)
	s := b.get("/search?q=" + long)
	if s.StatusCode != http.StatusRequestEntityTooLarge || text(byClass(s.doc, "error")[0]) == "" || attrOf(s.doc, "input", "id", "search-q", "value") != long {
		t.Errorf("long query: %d", s.StatusCode)
	}
	// A bad cursor is a 400 with the reason.
	if s := b.get("/search?cursor=not-a-cursor"); s.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: %d", s.StatusCode)
	}
}
