package console_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/console"
	"github.com/genesis-science/genesis/internal/console/browsertest"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/label"
	"golang.org/x/net/html"
)

// gov is a whole Genesis (internal/app, as genesis up boots it) with two
// classification officers cleared for PROPRIETARY (anna and bert), a
// contributor cleared for OPEN (carl), and a PROPRIETARY dataset "shots"
// made by the administrator.
type gov struct {
	*browsertest.System
	anna, bert, carl    *genesis.Principal
	annaT, bertT, carlT string
}

func newGov(t testing.TB) *gov {
	t.Helper()
	sys := browsertest.Boot(t)
	if _, err := sys.App.Identity.SetClearance(ctx, "admin", "PROPRIETARY"); err != nil {
		t.Fatal(err)
	}
	g := &gov{System: sys}
	mk := func(name, clearance string, roles ...genesis.Role) (*genesis.Principal, string) {
		p, err := sys.App.Identity.CreatePrincipal(ctx, genesis.Principal{Name: name, Kind: genesis.KindUser, Nationality: "USA", Clearance: clearance, Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		_, secret, err := sys.App.Identity.CreateToken(ctx, p.ID, "console", 0)
		if err != nil {
			t.Fatal(err)
		}
		return p, secret
	}
	g.anna, g.annaT = mk("anna", "PROPRIETARY", genesis.RoleClassificationOfficer)
	g.bert, g.bertT = mk("bert", "PROPRIETARY", genesis.RoleClassificationOfficer)
	g.carl, g.carlT = mk("carl", "OPEN", genesis.RoleContributor)
	sys.Dataset(t, sys.Admin(t), "shots", "Shot records", "PROPRIETARY")
	sys.Dataset(t, sys.Admin(t), "open-shots", "Open shot records", "OPEN")
	return g
}

// client is a signed-in browser: it keeps cookies and does not follow
// redirects.
type client struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string
}

func (g *gov) client(t testing.TB, token string) *client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &client{t: t, base: g.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	page := c.get("/signin")
	csrf := attrOf(byID(page.doc, "signin"), "input", "name", "csrf", "value")
	if res := c.post("/signin", url.Values{"csrf": {csrf}, "token": {token}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d\n%s", res.StatusCode, res.body)
	}
	c.csrf = c.get("/").csrf()
	return c
}

func (c *client) do(req *http.Request) *response {
	c.t.Helper()
	res, err := c.c.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := &response{Response: res, body: string(body)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		if r.doc, err = html.Parse(strings.NewReader(r.body)); err != nil {
			c.t.Fatal(err)
		}
	}
	return r
}

func (c *client) get(path string) *response {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

// post sends a form as a same-origin browser would; hdr overrides
// headers ("" deletes). The session's CSRF token is added unless the
// form has one.
func (c *client) post(path string, form url.Values, hdr map[string]string) *response {
	c.t.Helper()
	if _, ok := form["csrf"]; !ok && c.csrf != "" {
		form.Set("csrf", c.csrf)
	}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.base)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range hdr {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	return c.do(req)
}

// api calls the JSON API with a bearer token.
func (g *gov) api(t *testing.T, token, path string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", g.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == http.StatusOK && out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return res.StatusCode
}

// checkpointed waits until the audit log's signed checkpoint covers
// every record appended so far, and returns its size. Append is
// asynchronous: a barrier record (appended last, so sequenced after
// everything before it) is waited for; it is one more OPEN record.
func (g *gov) checkpointed(t testing.TB) uint64 {
	t.Helper()
	open, _ := label.MustParse("OPEN").MarshalBinary()
	idx, err := g.App.Audit.AppendSync(ctx, audit.Record{Principal: "test", Action: "test.barrier", ObjectType: "test", Decision: audit.Allow, Label: open})
	if err != nil {
		t.Fatal(err)
	}
	for {
		cp, _, err := g.App.Audit.Checkpoint(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cp.Size > idx {
			return idx + 1
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// consoleIndexes follows the audit page's "older" links to the start and
// returns every index shown (newest first).
func consoleIndexes(t *testing.T, c *client, query string) []uint64 {
	t.Helper()
	var out []uint64
	for path := "/audit" + query; path != ""; {
		r := c.get(path)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, r.StatusCode, r.body)
		}
		for _, tr := range all(byID(r.doc, "audit-entries"), func(n *html.Node) bool { return isElement(n) && n.Data == "tr" && attr(n, "data-index") != "" }) {
			i, err := strconv.ParseUint(attr(tr, "data-index"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, i)
		}
		path = attr(byID(r.doc, "audit-next"), "href")
	}
	return out
}

// apiIndexes pages through GET /api/v1/audit/entries (with query) and
// returns every index it shows.
func (g *gov) apiIndexes(t *testing.T, token, query string) []uint64 {
	t.Helper()
	var out []uint64
	for from := uint64(0); ; {
		var page httpapi.AuditEntries
		if code := g.api(t, token, "/api/v1/audit/entries?limit=1000&from="+strconv.FormatUint(from, 10)+query, &page); code != http.StatusOK {
			t.Fatalf("API audit entries: %d", code)
		}
		for _, e := range page.Items {
			out = append(out, e.Index)
		}
		if page.Next >= page.Size {
			return out
		}
		from = page.Next
	}
}

// TestAuditPageShowsWhatTheAPIShows: for every kind of reader, the audit
// page lists exactly the entries GET /api/v1/audit/entries gives the same
// principal (newest first), with and without a filter; every entry shown
// is proved included in a checkpoint whose signature verifies; an entry
// a reader may not read is the not-found page, byte for byte.
func TestAuditPageShowsWhatTheAPIShows(t *testing.T) {
	g := newGov(t)
	anna := g.client(t, g.annaT)
	// Activity of several principals, under several labels.
	anna.get("/assets/shots")
	res := anna.post("/releases", url.Values{"asset": {"shots"}, "version": {"1"}, "to_label": {"OPEN"}, "justification": {"The shot records were reviewed and hold nothing proprietary."}}, nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("request: %d\n%s", res.StatusCode, res.body)
	}
	carl := g.client(t, g.carlT)
	carl.get("/assets/shots")
	g.api(t, g.carlT, "/api/v1/datasets/shots", nil)
	g.api(t, g.carlT, "/api/v1/datasets/open-shots", nil)
	size := g.checkpointed(t)

	readers := map[string]string{"admin": g.AdminToken, "anna": g.annaT, "carl": g.carlT}
	for who, token := range readers {
		c := g.client(t, token)
		for _, q := range []struct{ console, api string }{
			{"", ""},
			{"?action=dataset.declassify.request", "&action=dataset.declassify.request"},
			{"?actor=" + string(g.carl.ID), "&principal=" + string(g.carl.ID)},
			{"?object_type=dataset", "&object_type=dataset"},
		} {
			var got []uint64
			for _, i := range consoleIndexes(t, c, q.console) {
				if i < size {
					got = append(got, i)
				}
			}
			var want []uint64
			for _, i := range g.apiIndexes(t, token, q.api) {
				if i < size {
					want = append(want, i)
				}
			}
			slices.Reverse(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s, filter %q: console shows %v, the API %v", who, q.console, got, want)
			}
			if who != "carl" && !strings.Contains(q.console, "actor") && len(got) == 0 {
				t.Errorf("%s, filter %q: no audit entries", who, q.console)
			}
		}
	}

	// The verification panel: the checkpoint verifies, the entries shown
	// are proved included in it.
	admin := g.client(t, g.AdminToken)
	page := admin.get("/audit")
	panel := byID(page.doc, "audit-verify")
	if attr(panel, "data-verified") != "true" || !strings.Contains(text(panel), "✓") {
		t.Fatalf("verification panel: %s", text(panel))
	}
	cp, _, _ := g.App.Audit.Checkpoint(ctx)
	if got := text(byID(page.doc, "audit-root")); got != cp.Hash.String() {
		t.Errorf("root shown %q, the log's %q", got, cp.Hash)
	}
	for _, cell := range byClass(byID(page.doc, "audit-entries"), "proof") {
		if s := text(cell); s != "✓ included" && s != "after checkpoint" {
			t.Errorf("proof cell %q", s)
		}
	}

	// One entry's proof: the page's hashes are the API's, verified.
	var list httpapi.AuditEntries
	g.api(t, g.AdminToken, "/api/v1/audit/entries?action=dataset.declassify.request&from=0", &list)
	if len(list.Items) != 1 {
		t.Fatalf("declassify.request entries: %+v", list.Items)
	}
	idx := list.Items[0].Index
	var proof httpapi.AuditProof
	if code := g.api(t, g.annaT, "/api/v1/audit/entries/"+strconv.FormatUint(idx, 10)+"/proof", &proof); code != http.StatusOK {
		t.Fatalf("API proof: %d", code)
	}
	entry := anna.get("/audit/entries/" + strconv.FormatUint(idx, 10))
	box := byID(entry.doc, "audit-proof")
	if entry.StatusCode != 200 || attr(box, "data-verified") != "true" || !strings.Contains(text(byID(entry.doc, "proof-status")), "verified") {
		t.Fatalf("entry page: %d %s", entry.StatusCode, text(box))
	}
	var shown []string
	for _, li := range all(byID(entry.doc, "proof-hashes"), func(n *html.Node) bool { return isElement(n) && n.Data == "li" }) {
		shown = append(shown, text(li))
	}
	if proof.Checkpoint.Size == cp.Size && !slices.Equal(shown, proof.Proof) {
		t.Errorf("proof hashes: page %v, API %v", shown, proof.Proof)
	}
	if m, _ := banner(t, entry); m != "PROPRIETARY" {
		t.Errorf("banner of a PROPRIETARY record's entry: %q", m)
	}

	// carl may not read anna's request: its page is the missing page.
	hidden := carl.get("/audit/entries/" + strconv.FormatUint(idx, 10))
	missing := carl.get("/audit/entries/" + strconv.FormatUint(size+1000, 10))
	junk := carl.get("/audit/entries/x")
	for _, r := range []*response{hidden, missing, junk} {
		if r.StatusCode != http.StatusNotFound {
			t.Fatalf("carl's page of a hidden/missing entry: %d", r.StatusCode)
		}
	}
	if hidden.body != missing.body || hidden.body != junk.body {
		t.Errorf("a hidden entry's page differs from a missing one's")
	}
}

// TestAuditCheckpointNotVerified: a console whose verifier key is not the
// log's shows the checkpoint and every proof as not verified.
func TestAuditCheckpointNotVerified(t *testing.T) {
	g := newGov(t)
	g.api(t, g.AdminToken, "/api/v1/datasets/shots", nil)
	g.checkpointed(t)
	_, other, err := audit.GenerateKey(g.App.Audit.Origin())
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{other, ""} {
		con := console.New(console.Config{DB: g.App.DB, Identity: g.App.Identity, Catalog: g.App.Catalog, Audit: g.App.Audit, AuditKey: key, Activity: g.App.API})
		srv := httptest.NewServer(con)
		c := &gov{System: &browsertest.System{URL: srv.URL, AdminToken: g.AdminToken, App: g.App}}
		admin := c.client(t, g.AdminToken)
		page := admin.get("/audit")
		panel := byID(page.doc, "audit-verify")
		if attr(panel, "data-verified") != "false" || !strings.Contains(text(panel), "✗") {
			t.Errorf("key %q: panel %s", key, text(panel))
		}
		rows := byClass(byID(page.doc, "audit-entries"), "proof")
		if len(rows) == 0 {
			t.Fatalf("no entries shown")
		}
		idx := attr(walk(byID(page.doc, "audit-entries"), func(n *html.Node) bool { return isElement(n) && attr(n, "data-index") != "" }), "data-index")
		entry := admin.get("/audit/entries/" + idx)
		if attr(byID(entry.doc, "audit-proof"), "data-verified") != "false" || !strings.Contains(text(byID(entry.doc, "proof-status")), "not verified") {
			t.Errorf("key %q: entry %s proof %s", key, idx, text(byID(entry.doc, "proof-status")))
		}
		srv.Close()
	}
}

// TestAuditFilterErrors: a bad filter is a 400 page naming the field,
// the form kept.
func TestAuditFilterErrors(t *testing.T) {
	g := newGov(t)
	c := g.client(t, g.AdminToken)
	for q, field := range map[string]string{"?since=yesterday": "since", "?until=31/12/2026": "until", "?since=2026-02-01&until=2026-01-01": "until",
		"?before=x": "before", "?action=" + url.QueryEscape("a\x01b"): "action"} {
		r := c.get("/audit" + q)
		if r.StatusCode != http.StatusBadRequest || !strings.Contains(text(byID(r.doc, "audit-error")), field) || byID(r.doc, "audit-filter") == nil {
			t.Errorf("%s: %d %q", q, r.StatusCode, text(byID(r.doc, "audit-error")))
		}
	}
}

// TestReleaseTwoOfficers: anna requests a release in the console, her own
// approval is refused (two-person rule) and the page says why; carl, who
// may not read the asset, finds neither the request nor its page; bert
// approves, and the asset's new version carries the lower label, on its
// page and banner.
func TestReleaseTwoOfficers(t *testing.T) {
	g := newGov(t)
	anna, bert, carl := g.client(t, g.annaT), g.client(t, g.bertT), g.client(t, g.carlT)

	asset := anna.get("/assets/shots")
	if href := attr(byID(asset.doc, "asset-release"), "href"); href != "/releases/new?asset=shots" {
		t.Fatalf("asset page's release link %q", href)
	}
	form := anna.get("/releases/new?asset=shots")
	if form.StatusCode != 200 || byID(form.doc, "release-request") == nil {
		t.Fatalf("request form: %d\n%s", form.StatusCode, form.body)
	}
	if m, _ := banner(t, form); m != "PROPRIETARY" {
		t.Errorf("request form banner %q", m)
	}
	// A refusal is shown in the form, the input kept.
	just := "Reviewed by the programme office: nothing proprietary remains."
	bad := anna.post("/releases", url.Values{"asset": {"shots"}, "version": {"1"}, "to_label": {"NATIONAL-SECURITY"}, "justification": {just}}, nil)
	if bad.StatusCode != http.StatusBadRequest || text(byID(bad.doc, "release-error")) == "" ||
		text(byID(bad.doc, "release-justification")) != just || attr(byID(bad.doc, "release-to"), "value") != "NATIONAL-SECURITY" {
		t.Fatalf("refused request: %d %q\n%s", bad.StatusCode, text(byID(bad.doc, "release-error")), bad.body)
	}
	res := anna.post("/releases", url.Values{"asset": {"shots"}, "version": {"1"}, "to_label": {"OPEN"}, "justification": {just}}, nil)
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/releases/") {
		t.Fatalf("request: %d\n%s", res.StatusCode, res.body)
	}
	loc := res.Header.Get("Location")

	page := anna.get(loc)
	if byID(page.doc, "release-approve") != nil || !strings.Contains(text(byID(page.doc, "release-why")), "two-person rule") {
		t.Errorf("requester's release page offers a decision or does not say why not:\n%s", page.body)
	}
	own := anna.post(loc+"/decide", url.Values{"decision": {"approve"}}, nil)
	if own.StatusCode != http.StatusForbidden || !strings.Contains(text(byID(own.doc, "release-error")), "two-person rule") {
		t.Fatalf("requester's own approval: %d %q", own.StatusCode, text(byID(own.doc, "release-error")))
	}
	if text(byID(anna.get(loc).doc, "release-state")) != "pending" {
		t.Fatalf("the requester's approval changed the state")
	}

	// carl may not read the asset: the list omits the request and its page
	// is the missing page.
	list := carl.get("/releases")
	if rows := all(byID(list.doc, "releases"), func(n *html.Node) bool { return isElement(n) && attr(n, "data-release") != "" }); len(rows) != 0 {
		t.Errorf("carl sees %d releases", len(rows))
	}
	if m, _ := banner(t, list); m != "OPEN" {
		t.Errorf("carl's releases banner %q", m)
	}
	hidden, missing := carl.get(loc), carl.get("/releases/rel_nosuchrelease")
	if hidden.StatusCode != 404 || hidden.body != missing.body {
		t.Errorf("carl's page of a hidden release: %d, equal to missing: %v", hidden.StatusCode, hidden.body == missing.body)
	}
	if r := carl.get("/releases/new?asset=shots"); r.StatusCode != 404 {
		t.Errorf("carl's request form for a hidden asset: %d", r.StatusCode)
	}

	list = bert.get("/releases")
	row := walk(byID(list.doc, "releases"), func(n *html.Node) bool { return isElement(n) && attr(n, "data-release") != "" })
	if row == nil || !strings.Contains(text(row), "shots") || !strings.Contains(text(row), string(g.anna.ID)) || !strings.Contains(text(row), "pending") || !strings.Contains(text(row), just) {
		t.Fatalf("bert's releases list: %s", text(byID(list.doc, "releases")))
	}
	if m, _ := banner(t, list); m != "PROPRIETARY" {
		t.Errorf("bert's releases banner %q", m)
	}
	if byID(bert.get(loc).doc, "release-approve") == nil {
		t.Fatalf("bert is not offered the approval")
	}
	if res := bert.post(loc+"/decide", url.Values{"decision": {"approve"}}, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bert's approval: %d\n%s", res.StatusCode, res.body)
	}
	done := bert.get(loc)
	if text(byID(done.doc, "release-state")) != "approved" || !strings.Contains(text(byID(done.doc, "release-decider")), "bert") {
		t.Errorf("after approval: %s", text(byID(done.doc, "release")))
	}
	a, v, err := g.App.Catalog.Version(ctx, g.Admin(t), "shots", 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Label != "OPEN" || v.Label != "OPEN" || v.Version != 2 {
		t.Fatalf("after approval: asset %s, version %d %s", a.Label, v.Version, v.Label)
	}
	// carl now reads the released asset, marked OPEN.
	ap := carl.get("/assets/shots")
	if m, _ := banner(t, ap); ap.StatusCode != 200 || m != "OPEN" || text(byID(ap.doc, "asset-label")) != "OPEN" {
		t.Errorf("carl's page of the released asset: %d %q %q", ap.StatusCode, m, text(byID(ap.doc, "asset-label")))
	}
	// A second decision is a conflict, shown on the page.
	if again := bert.post(loc+"/decide", url.Values{"decision": {"reject"}}, nil); again.StatusCode != http.StatusConflict || text(byID(again.doc, "release-error")) == "" {
		t.Errorf("second decision: %d", again.StatusCode)
	}
}

// TestAdminOnlyForAdministrators: every /admin path is, to anyone but an
// administrator, byte for byte the page of a path that does not exist —
// and their posts change nothing.
func TestAdminOnlyForAdministrators(t *testing.T) {
	g := newGov(t)
	for _, token := range []string{g.annaT, g.carlT} {
		c := g.client(t, token)
		missing := c.get("/no-such-page")
		if missing.StatusCode != 404 {
			t.Fatalf("missing page: %d", missing.StatusCode)
		}
		if r := c.get("/admin"); r.StatusCode != 404 || r.body != missing.body {
			t.Errorf("non-administrator's /admin: %d, equal to missing: %v", r.StatusCode, r.body == missing.body)
		}
		for _, p := range []string{"/admin/principals/" + string(g.bert.ID) + "/disable", "/admin/agreements/X/end"} {
			if r := c.post(p, url.Values{}, nil); r.StatusCode != 404 || r.body != missing.body {
				t.Errorf("non-administrator's POST %s: %d", p, r.StatusCode)
			}
		}
	}
	if p, _ := g.App.Identity.Principal(ctx, g.Admin(t), "bert"); p.Disabled {
		t.Fatalf("a non-administrator disabled bert")
	}
}

// TestAdminPage: the administrator sees every principal, organisation
// and agreement; sets a clearance, disables a principal (whose session
// ends), records and ends an agreement — each through the identity
// service and on the audit log; a refusal is shown on the page.
func TestAdminPage(t *testing.T) {
	g := newGov(t)
	admin, carl := g.client(t, g.AdminToken), g.client(t, g.carlT)
	if r := admin.post("/admin/organizations", url.Values{"name": {"pppl"}, "country": {"USA"}, "kind": {"laboratory"}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create organisation: %d %q", r.StatusCode, text(byID(r.doc, "admin-error")))
	}
	if r := admin.post("/admin/organizations", url.Values{"name": {"nowhere"}, "country": {"XX"}, "kind": {"laboratory"}}, nil); r.StatusCode != http.StatusBadRequest || text(byID(r.doc, "admin-error")) == "" {
		t.Errorf("bad organisation: %d", r.StatusCode)
	}
	page := admin.get("/admin")
	if page.StatusCode != 200 {
		t.Fatalf("/admin: %d", page.StatusCode)
	}
	rows := all(byID(page.doc, "principals"), func(n *html.Node) bool { return isElement(n) && attr(n, "data-principal") != "" })
	var names []string
	for _, r := range rows {
		names = append(names, attr(r, "data-principal"))
	}
	if !slices.Equal(names, []string{"admin", "anna", "bert", "carl"}) {
		t.Errorf("principals %v", names)
	}
	if !strings.Contains(text(byID(page.doc, "organizations")), "pppl") {
		t.Errorf("organisations: %s", text(byID(page.doc, "organizations")))
	}

	if r := admin.post("/admin/principals/"+string(g.carl.ID)+"/clearance", url.Values{"clearance": {"PROPRIETARY"}}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set clearance: %d\n%s", r.StatusCode, r.body)
	}
	if p, _ := g.App.Identity.Principal(ctx, g.Admin(t), "carl"); p.Clearance != "PROPRIETARY" {
		t.Errorf("carl's clearance %q", p.Clearance)
	}
	bad := admin.post("/admin/principals/"+string(g.carl.ID)+"/clearance", url.Values{"clearance": {"TOP-SECRET"}}, nil)
	if bad.StatusCode != http.StatusBadRequest || text(byID(bad.doc, "admin-error")) == "" {
		t.Errorf("bad clearance: %d %q", bad.StatusCode, text(byID(bad.doc, "admin-error")))
	}

	ag := url.Values{"id": {"crada-0042"}, "type": {"CRADA"}, "title": {"Shots"}, "parties": {"pppl"}, "not_before": {"2026-01-01"}, "not_after": {"2099-12-31"}}
	if r := admin.post("/admin/agreements", ag, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("create agreement: %d %q", r.StatusCode, text(byID(r.doc, "admin-error")))
	}
	dup := admin.post("/admin/agreements", ag, nil)
	if dup.StatusCode != http.StatusConflict || attrOf(byID(dup.doc, "agreement-create"), "input", "name", "title", "value") != "Shots" {
		t.Errorf("duplicate agreement: %d, form kept: %q", dup.StatusCode, attrOf(byID(dup.doc, "agreement-create"), "input", "name", "title", "value"))
	}
	row := walk(byID(admin.get("/admin").doc, "agreements"), func(n *html.Node) bool { return isElement(n) && attr(n, "data-agreement") == "CRADA-0042" })
	if row == nil || !strings.Contains(text(row), "AGR:CRADA-0042") || !strings.Contains(text(row), "in force") {
		t.Fatalf("agreement row: %v", row != nil)
	}
	if r := admin.post("/admin/agreements/CRADA-0042/end", url.Values{}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("end agreement: %d", r.StatusCode)
	}
	if a, _ := g.App.Identity.Agreement(ctx, g.Admin(t), "CRADA-0042"); a.EndedAt == nil || a.InForce {
		t.Errorf("agreement not ended: %+v", a)
	}

	if r := admin.post("/admin/principals/"+string(g.carl.ID)+"/disable", url.Values{}, nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.StatusCode)
	}
	if r := carl.get("/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/signin" {
		t.Errorf("a disabled principal's session: %d", r.StatusCode)
	}
	if r := admin.post("/admin/principals/"+string(g.Admin(t).ID)+"/disable", url.Values{}, nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("disabling oneself: %d", r.StatusCode)
	}

	// Each change is on the audit log, as the API's would be.
	g.checkpointed(t)
	for _, action := range []string{"POST /api/v1/organizations", "POST /api/v1/principals/{id}/clearance", "POST /api/v1/agreements", "POST /api/v1/agreements/{id}/end", "POST /api/v1/principals/{id}/disable"} {
		var list httpapi.AuditEntries
		g.api(t, g.AdminToken, "/api/v1/audit/entries?from=0&action="+url.QueryEscape(action), &list)
		if len(list.Items) == 0 || list.Items[0].Decision != audit.Allow || list.Items[0].Principal != string(g.Admin(t).ID) {
			t.Errorf("audit of %s: %+v", action, list.Items)
		}
	}
}

// TestGovernFormsRefuseCrossSite: every form of these pages is refused
// without the session's token or from another site, and changes nothing.
func TestGovernFormsRefuseCrossSite(t *testing.T) {
	g := newGov(t)
	admin, anna := g.client(t, g.AdminToken), g.client(t, g.annaT)
	res := anna.post("/releases", url.Values{"asset": {"shots"}, "version": {"1"}, "to_label": {"OPEN"}, "justification": {"Nothing proprietary remains in it."}}, nil)
	loc := res.Header.Get("Location")
	forms := []struct {
		c    *client
		path string
		form url.Values
	}{
		{anna, "/releases", url.Values{"asset": {"shots"}, "version": {"1"}, "to_label": {"OPEN"}, "justification": {"Nothing proprietary remains in it."}}},
		{admin, loc + "/decide", url.Values{"decision": {"approve"}}},
		{admin, "/admin/principals/" + string(g.carl.ID) + "/disable", url.Values{}},
		{admin, "/admin/principals/" + string(g.carl.ID) + "/clearance", url.Values{"clearance": {"PROPRIETARY"}}},
		{admin, "/admin/organizations", url.Values{"name": {"evil"}, "country": {"USA"}, "kind": {"laboratory"}}},
		{admin, "/admin/agreements", url.Values{"id": {"NDA-1"}, "type": {"NDA"}, "parties": {"x"}, "not_before": {"2026-01-01"}, "not_after": {"2027-01-01"}}},
		{admin, "/admin/agreements/NDA-1/end", url.Values{}},
	}
	attacks := []struct {
		name string
		csrf string
		hdr  map[string]string
	}{
		{"no token", "", nil},
		{"wrong token", "x" + admin.csrf, nil},
		{"cross-site", "", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"other origin", "", map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": ""}},
	}
	sizeBefore := g.checkpointed(t)
	for _, f := range forms {
		for _, a := range attacks {
			form := url.Values{}
			for k, v := range f.form {
				form[k] = v
			}
			switch a.name {
			case "no token":
				form.Set("csrf", "")
			case "wrong token":
				form.Set("csrf", a.csrf)
			}
			if r := f.c.post(f.path, form, a.hdr); r.StatusCode != http.StatusForbidden {
				t.Errorf("%s %s: %d", a.name, f.path, r.StatusCode)
			}
		}
	}
	if after := g.checkpointed(t); after != sizeBefore+1 {
		t.Errorf("refused posts left %d audit records", after-sizeBefore-1)
		for i := sizeBefore; i < after; i++ {
			rec, _ := g.App.Audit.Get(ctx, i)
			t.Logf("%d: %+v", i, rec)
		}
	}
	rs, _ := g.App.Catalog.Releases(ctx, g.Admin(t))
	if len(rs) != 1 || rs[0].State != "pending" {
		t.Errorf("releases after refused posts: %+v", rs)
	}
	if p, _ := g.App.Identity.Principal(ctx, g.Admin(t), "carl"); p.Disabled || p.Clearance != "OPEN" {
		t.Errorf("carl after refused posts: %+v", p)
	}
	if os, _ := g.App.Identity.Orgs(ctx); len(os) != 0 {
		t.Errorf("organisations after refused posts: %+v", os)
	}
	if as, _ := g.App.Identity.Agreements(ctx, g.Admin(t)); len(as) != 0 {
		t.Errorf("agreements after refused posts: %+v", as)
	}
}

// BenchmarkAuditPages renders the audit page (50 entries, each with its
// inclusion proof verified against the checkpoint) and one entry's proof
// page over a log of about 3,000 records, as an administrator.
// go test ./internal/console -run XXX -bench AuditPages
func BenchmarkAuditPages(b *testing.B) {
	g := newGov(b)
	open, _ := label.MustParse("OPEN").MarshalBinary()
	for i := range 3000 {
		if _, err := g.App.Audit.Append(ctx, audit.Record{Principal: string(g.carl.ID), Action: "bench.op", ObjectType: "bench", ObjectID: strconv.Itoa(i), Decision: audit.Allow, Label: open}); err != nil {
			b.Fatal(err)
		}
	}
	size := g.checkpointed(b)
	admin := g.client(b, g.AdminToken)
	for _, p := range []struct{ name, path string }{
		{"audit-newest", "/audit"},
		{"audit-filtered", "/audit?action=dataset.commit"},
		{"audit-entry-proof", "/audit/entries/" + strconv.FormatUint(size/2, 10)},
	} {
		b.Run(p.name, func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				start := time.Now()
				if r := admin.get(p.path); r.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", p.path, r.StatusCode)
				}
				ds = append(ds, time.Since(start))
			}
			report(b, ds)
		})
	}
}
