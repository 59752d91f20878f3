package console_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/console"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"golang.org/x/net/html"
)

var ctx = context.Background()

// world is a console over real services: identity, authorisation, the
// catalog with its search index, on a migrated store.
type world struct {
	db                   store.DB
	id                   *identity.Service
	cat                  *catalog.Service
	con                  *console.Console
	srv                  *httptest.Server
	admin, alice, bob    *genesis.Principal
	adminT, aliceT, bobT string
	clock                time.Time
}

func newWorld(t testing.TB, db store.DB, tls bool) *world {
	t.Helper()
	id := identity.New(db)
	if _, err := id.Bootstrap(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, id: id, clock: time.Now()}
	var err error
	w.admin, err = id.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := id.RegisterCompartment(ctx, w.admin, "FUSION"); err != nil {
		t.Fatal(err)
	}
	mk := func(name, clearance string) (*genesis.Principal, string) {
		p, err := id.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: clearance, Roles: []genesis.Role{genesis.RoleContributor}})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := id.CreateToken(ctx, p.ID, "console", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return p, secret
	}
	w.alice, w.aliceT = mk("alice", "NATIONAL-SECURITY//FUSION")
	w.bob, w.bobT = mk("bob", "OPEN")
	az, err := authz.New(id, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	w.cat = catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: id, Audit: audit.NewMemory()})
	ix, err := search.New(db)
	if err != nil {
		t.Fatal(err)
	}
	w.cat.SetSearch(ix)
	w.con = console.New(console.Config{DB: db, Identity: id, Catalog: w.cat, Now: func() time.Time { return w.clock }})
	if tls {
		w.srv = httptest.NewTLSServer(w.con)
	} else {
		w.srv = httptest.NewServer(w.con)
	}
	t.Cleanup(w.srv.Close)
	return w
}

func sqliteWorld(t testing.TB) *world {
	return newWorld(t, storetest.Migrated(t, storetest.SQLite), false)
}

// put commits a one-file version of dataset name (created with label l
// if new) derived from inputs.
func (w *world) put(t testing.TB, p *genesis.Principal, name, l, content string, inputs ...catalog.VersionRef) *catalog.Output {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.csv"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := w.cat.CommitOutput(ctx, p, name, dir, label.MustParse(l), inputs, "test", fmt.Sprintf("%s-%x", name, sha256.Sum256([]byte(content))))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// browser is a cookie-keeping client that does not follow redirects.
type browser struct {
	t   testing.TB
	w   *world
	c   *http.Client
	jar *cookiejar.Jar
}

func (w *world) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Transport: w.srv.Client().Transport, Jar: jar}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, w: w, c: c, jar: jar}
}

type response struct {
	*http.Response
	body string
	doc  *html.Node
}

func (b *browser) do(req *http.Request) *response {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	r := &response{Response: res, body: string(body)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		r.doc, err = html.Parse(strings.NewReader(r.body))
		if err != nil {
			b.t.Fatal(err)
		}
	}
	return r
}

func (b *browser) get(path string) *response {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.w.srv.URL+path, nil)
	return b.do(req)
}

// post sends a form as a same-origin browser would (Origin and
// Sec-Fetch-Site set); hdr overrides or adds headers ("" deletes).
func (b *browser) post(path string, form url.Values, hdr map[string]string) *response {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.w.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.w.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return b.do(req)
}

// signIn signs in with token through the sign-in form.
func (b *browser) signIn(token string) {
	b.t.Helper()
	page := b.get("/signin")
	if page.StatusCode != 200 {
		b.t.Fatalf("GET /signin: %d", page.StatusCode)
	}
	csrf := attrOf(byID(page.doc, "signin"), "input", "name", "csrf", "value")
	res := b.post("/signin", url.Values{"csrf": {csrf}, "token": {token}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		b.t.Fatalf("sign-in: %d %q\n%s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
}

// csrf is the signed-in page's form token (from the sign-out form).
func (r *response) csrf() string {
	return attrOf(byID(r.doc, "signout-form"), "input", "name", "csrf", "value")
}

// HTML helpers over golang.org/x/net/html.

func attr(n *html.Node, k string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attr {
		if a.Key == k {
			return a.Val
		}
	}
	return ""
}

func walk(n *html.Node, f func(*html.Node) bool) *html.Node {
	if n == nil {
		return nil
	}
	if f(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if m := walk(c, f); m != nil {
			return m
		}
	}
	return nil
}

func all(n *html.Node, f func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	walk(n, func(m *html.Node) bool {
		if f(m) {
			out = append(out, m)
		}
		return false
	})
	return out
}

func byID(n *html.Node, id string) *html.Node {
	return walk(n, func(m *html.Node) bool { return m.Type == html.ElementNode && attr(m, "id") == id })
}

func hasClass(m *html.Node, class string) bool {
	return m.Type == html.ElementNode && strings.Contains(" "+attr(m, "class")+" ", " "+class+" ")
}

func byClass(n *html.Node, class string) []*html.Node {
	return all(n, func(m *html.Node) bool { return hasClass(m, class) })
}

// attrOf finds, under n, the first tag element whose attribute k equals v
// and returns its attribute want.
func attrOf(n *html.Node, tag, k, v, want string) string {
	m := walk(n, func(m *html.Node) bool { return m.Type == html.ElementNode && m.Data == tag && attr(m, k) == v })
	return attr(m, want)
}

func text(n *html.Node) string {
	var b strings.Builder
	walk(n, func(m *html.Node) bool {
		if m.Type == html.TextNode {
			b.WriteString(m.Data)
		}
		return false
	})
	return strings.TrimSpace(b.String())
}

func title(doc *html.Node) string {
	return text(walk(doc, func(m *html.Node) bool { return m.Type == html.ElementNode && m.Data == "title" }))
}

// banner checks the top and bottom banners agree and returns the marking
// and level.
func banner(t testing.TB, r *response) (marking, level string) {
	t.Helper()
	top, bottom := byID(r.doc, "banner-top"), byID(r.doc, "banner-bottom")
	if top == nil || bottom == nil {
		t.Fatalf("page without both banners:\n%s", r.body)
	}
	if text(top) != text(bottom) || attr(top, "data-level") != attr(bottom, "data-level") {
		t.Fatalf("banners differ: %q/%q vs %q/%q", text(top), attr(top, "data-level"), text(bottom), attr(bottom, "data-level"))
	}
	return text(top), attr(top, "data-level")
}

type htmlNode = html.Node

func isElement(n *html.Node) bool { return n.Type == html.ElementNode }

func sqliteDB(t testing.TB) store.DB { return storetest.Migrated(t, storetest.SQLite) }
