package browsertest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/genesis-science/genesis/internal/catalog"
)

// The console's pages, as the browser tests know them (the contract of
// issue 16's first increment): ids and classes the tests drive.
const (
	titleSuffix = " — Genesis"
	secretName  = "plasma-secret"
	secretTitle = "Plasma secret shots"
	rawTitle    = "Plasma shots raw"
	fitsTitle   = "Plasma fits"
)

// platform is a booted Genesis with the browser tests' data: two OPEN
// datasets, plasma-fits derived from plasma-raw, and — when secret — a
// PROPRIETARY one whose title also says "plasma". The administrator is
// cleared for PROPRIETARY; bob only for OPEN.
type platform struct {
	*System
	BobToken string
	SecretID string // "" without the secret asset
}

func newPlatform(t *testing.T, secret bool) *platform {
	t.Helper()
	sys := Boot(t)
	ctx := context.Background()
	if _, err := sys.App.Identity.SetClearance(ctx, "admin", "PROPRIETARY"); err != nil {
		t.Fatal(err)
	}
	admin := sys.Admin(t)
	sys.Dataset(t, admin, "plasma-raw", rawTitle, "OPEN")
	sys.Dataset(t, admin, "plasma-fits", fitsTitle, "OPEN", catalog.VersionRef{Asset: "plasma-raw", Version: 1})
	p := &platform{System: sys}
	if secret {
		p.SecretID = sys.Dataset(t, admin, secretName, secretTitle, "PROPRIETARY").ID
	}
	_, p.BobToken = sys.Principal(t, "bob", "OPEN")
	return p
}

// checkChrome checks what every console page has: a title ending
// " — Genesis" and the two classification banners, alike, with the level
// and marking given (level "" skips that check), and returns the banner's
// background colour.
func checkChrome(t *testing.T, p *Page, level, marking string) string {
	t.Helper()
	title := Eval[string](p, `document.title`)
	if !strings.HasSuffix(title, titleSuffix) || len(title) == len(titleSuffix) {
		t.Errorf("%s: title %q, want \"PAGE%s\"", p.Location(), title, titleSuffix)
	}
	type banner struct {
		Level, Text, Class, Background string
	}
	read := func(id string) banner {
		return Eval[banner](p, fmt.Sprintf(`(() => { const b = document.getElementById(%q);
			if (!b) return {level: "", text: "", class: "", background: ""};
			return {level: b.dataset.level || "", text: b.textContent.trim(), class: b.className,
				background: getComputedStyle(b).backgroundColor}; })()`, id))
	}
	top, bottom := read("banner-top"), read("banner-bottom")
	if top.Level == "" || bottom.Level == "" {
		t.Fatalf("%s: banners top %+v, bottom %+v: want both with data-level", p.Location(), top, bottom)
	}
	if top != bottom {
		t.Errorf("%s: top banner %+v differs from bottom %+v", p.Location(), top, bottom)
	}
	if !slices.Contains(strings.Fields(top.Class), "banner") {
		t.Errorf("%s: banner class %q lacks \"banner\"", p.Location(), top.Class)
	}
	if level != "" && top.Level != level {
		t.Errorf("%s: banner level %q, want %q", p.Location(), top.Level, level)
	}
	if marking != "" && top.Text != marking {
		t.Errorf("%s: banner text %q, want %q", p.Location(), top.Text, marking)
	}
	if top.Background == "" || top.Background == "rgba(0, 0, 0, 0)" || top.Background == "transparent" {
		t.Errorf("%s: banner has no background colour (%q)", p.Location(), top.Background)
	}
	return top.Background
}

func path(t *testing.T, p *Page) string {
	t.Helper()
	u, err := url.Parse(p.Location())
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// TestConsoleSignInRedirect: the root sends a stranger to the sign-in page,
// a wrong token does not sign in, a right one lands on the dashboard, and
// sign-out ends the session.
func TestConsoleSignInRedirect(t *testing.T) {
	pf := newPlatform(t, false)
	p := NewPage(t)
	p.Open(pf.URL + "/")
	if got := path(t, p); got != "/signin" {
		t.Fatalf("signed out, / went to %q, want /signin", got)
	}
	checkChrome(t, p, "", "")
	p.Screenshot("signin")

	// A wrong token: still the sign-in page, no session.
	p.Allow(`status of 401`)
	p.Navigating("a wrong token",
		chromedp.SendKeys(chromedp.CSS("#signin-token"), "gnt_wrong"),
		chromedp.Click(chromedp.CSS("#signin-submit")),
	)
	if n := Eval[int](p, `document.querySelectorAll("#signin-error").length`); n != 1 {
		t.Errorf("a wrong token: no #signin-error; the page says %q", p.Text())
	}
	p.Open(pf.URL + "/")
	if got := path(t, p); got != "/signin" {
		t.Fatalf("after a wrong token, / went to %q, want /signin", got)
	}

	p.SignIn(pf.URL, pf.BobToken)
	if got := path(t, p); got != "/" {
		t.Errorf("after sign-in the browser is at %q, want /", got)
	}
	checkChrome(t, p, "open", "OPEN")
	p.Screenshot("dashboard")
	cookieFlags(t, p)

	p.Do("signing out", chromedp.Click(chromedp.CSS("#signout")), Until(`location.pathname === "/signin" && document.readyState === "complete"`))
	p.Open(pf.URL + "/")
	if got := path(t, p); got != "/signin" {
		t.Errorf("after sign-out, / went to %q, want /signin", got)
	}
}

// cookieFlags checks that no cookie the console set is readable from
// script (HttpOnly), and that the session cookie is there for the browser.
func cookieFlags(t *testing.T, p *Page) {
	t.Helper()
	if js := Eval[string](p, `document.cookie`); js != "" {
		t.Errorf("cookies readable from script: %q (want HttpOnly)", js)
	}
}

// TestConsoleKeyboardSignIn: the sign-in form works with the keyboard
// alone — Tab to the token field (or start there), type, Enter.
func TestConsoleKeyboardSignIn(t *testing.T) {
	pf := newPlatform(t, false)
	p := NewPage(t)
	p.Open(pf.URL + "/signin")
	focused := func() string { return Eval[string](p, `document.activeElement ? document.activeElement.id : ""`) }
	for i := 0; focused() != "signin-token"; i++ {
		if i == 20 {
			t.Fatalf("20 Tabs never focused #signin-token (focus on %q)", focused())
		}
		p.Do("Tab", chromedp.KeyEvent("\t"))
	}
	p.Navigating("typing the token and Enter",
		chromedp.KeyEvent(pf.BobToken),
		chromedp.KeyEvent("\r"),
	)
	p.SignedIn("signing in with the keyboard")
	if got := path(t, p); got != "/" {
		t.Errorf("after keyboard sign-in the browser is at %q, want /", got)
	}
}

// TestConsoleSearchAndLineage: search finds a dataset, its page shows its
// title, label, quality, versions and lineage, and the lineage link leads
// to the input.
func TestConsoleSearchAndLineage(t *testing.T) {
	pf := newPlatform(t, false)
	p := NewPage(t)
	p.SignIn(pf.URL, pf.BobToken)
	p.Open(pf.URL + "/search")
	checkChrome(t, p, "open", "OPEN")
	p.Do("searching from the form",
		chromedp.WaitVisible(chromedp.CSS("#search-q")),
		chromedp.SendKeys(chromedp.CSS("#search-q"), "fits"),
		chromedp.Submit(chromedp.CSS("#search-q")),
		chromedp.WaitVisible(chromedp.CSS("li.result a.result-link")),
	)
	if got := path(t, p); got != "/search" {
		t.Errorf("the search form went to %q, want /search", got)
	}
	checkChrome(t, p, "open", "OPEN")
	p.Screenshot("search")
	links := resultLinks(t, p)
	i := slices.IndexFunc(links, func(l link) bool {
		return strings.Contains(l.Text, fitsTitle) || strings.Contains(l.Text, "plasma-fits")
	})
	if i < 0 {
		t.Fatalf("search \"fits\": results %+v lack plasma-fits", links)
	}
	if !strings.HasPrefix(links[i].Path, "/assets/") {
		t.Errorf("result link %q does not lead to /assets/…", links[i].Path)
	}

	p.Do("opening the result",
		chromedp.Click(chromedp.CSS(fmt.Sprintf("li.result:nth-of-type(%d) a.result-link", i+1))),
		chromedp.WaitVisible(chromedp.CSS("#asset-title")),
	)
	checkAsset(t, p, fitsTitle, "OPEN")
	checkChrome(t, p, "open", "OPEN")
	p.Screenshot("asset")

	lineage := Eval[[]link](p, `[...document.querySelectorAll("#lineage a.lineage-link")].map(a => ({text: a.textContent.trim(), path: new URL(a.href).pathname}))`)
	j := slices.IndexFunc(lineage, func(l link) bool { return strings.Contains(l.Text, "plasma-raw") || strings.Contains(l.Text, rawTitle) })
	if j < 0 {
		t.Fatalf("plasma-fits's lineage %+v lacks plasma-raw", lineage)
	}
	p.Do("following the lineage link",
		chromedp.Click(chromedp.CSS(fmt.Sprintf("#lineage a.lineage-link[href=%q]", lineageHref(t, p, j)))),
		chromedp.WaitVisible(chromedp.CSS("#asset-title")),
		Until(fmt.Sprintf(`document.getElementById("asset-title").textContent.includes(%q)`, rawTitle)),
	)
	checkAsset(t, p, rawTitle, "OPEN")
}

// lineageHref returns the href attribute (as written) of the i-th lineage
// link.
func lineageHref(t *testing.T, p *Page, i int) string {
	t.Helper()
	return Eval[string](p, fmt.Sprintf(`document.querySelectorAll("#lineage a.lineage-link")[%d].getAttribute("href")`, i))
}

type link struct {
	Text string `json:"text"`
	Path string `json:"path"`
}

func resultLinks(t *testing.T, p *Page) []link {
	t.Helper()
	return Eval[[]link](p, `[...document.querySelectorAll("li.result a.result-link")].map(a => ({text: a.textContent.trim(), path: new URL(a.href).pathname}))`)
}

// checkAsset checks the asset page's title, label and the presence of its
// quality score and versions table (with at least one version).
func checkAsset(t *testing.T, p *Page, title, marking string) {
	t.Helper()
	type view struct {
		Title, Label, Quality string
		Versions              int
	}
	v := Eval[view](p, `(() => { const tx = id => { const e = document.getElementById(id); return e ? e.textContent.trim() : "<missing>"; };
		return {title: tx("asset-title"), label: tx("asset-label"), quality: tx("asset-quality"),
			versions: document.querySelectorAll("table#versions tbody tr").length}; })()`)
	if !strings.Contains(v.Title, title) {
		t.Errorf("%s: #asset-title %q, want %q", p.Location(), v.Title, title)
	}
	if v.Label != marking {
		t.Errorf("%s: #asset-label %q, want %q", p.Location(), v.Label, marking)
	}
	if v.Quality == "<missing>" {
		t.Errorf("%s: no #asset-quality", p.Location())
	}
	if v.Versions < 1 {
		t.Errorf("%s: table#versions has %d rows, want ≥ 1", p.Location(), v.Versions)
	}
}

// TestConsoleBannerByLevel: the banner carries the highest label the page
// shows, and its colour follows the level.
func TestConsoleBannerByLevel(t *testing.T) {
	pf := newPlatform(t, true)
	p := NewPage(t)
	p.SignIn(pf.URL, pf.AdminToken)

	p.Open(pf.URL + "/assets/plasma-raw")
	openColour := checkChrome(t, p, "open", "OPEN")
	checkAsset(t, p, rawTitle, "OPEN")

	p.Open(pf.URL + "/assets/" + secretName)
	propColour := checkChrome(t, p, "proprietary", "PROPRIETARY")
	checkAsset(t, p, secretTitle, "PROPRIETARY")
	p.Screenshot("asset-proprietary")
	if openColour == propColour {
		t.Errorf("OPEN and PROPRIETARY banners have the same colour %s", openColour)
	}

	// A search whose results include the PROPRIETARY asset is marked
	// PROPRIETARY for the administrator; bob's same search is OPEN.
	p.Open(pf.URL + "/search?q=plasma")
	checkChrome(t, p, "proprietary", "PROPRIETARY")
	p.Screenshot("search-proprietary")
	if links := resultLinks(t, p); !slices.ContainsFunc(links, func(l link) bool {
		return strings.Contains(l.Text, secretTitle) || strings.Contains(l.Text, secretName)
	}) {
		t.Errorf("the administrator's search \"plasma\" lacks %s: %+v", secretName, links)
	}
	bob := NewPage(t)
	bob.SignIn(pf.URL, pf.BobToken)
	bob.Open(pf.URL + "/search?q=plasma")
	checkChrome(t, bob, "open", "OPEN")
}

// bobsView is what bob's browser shows on one platform: each page's text
// (IDs and times normalised), its result links, facet counts, banner.
type bobsView struct {
	Pages  map[string]string
	Links  map[string][]link
	Facets map[string][]string
}

var (
	idRE   = regexp.MustCompile(`\b[a-z]{2,4}_[a-z0-9]{16}\b|\bgnt_[A-Za-z0-9_-]+`)
	timeRE = regexp.MustCompile(`\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d| UTC)?)?|\b\d+ (second|minute|hour|day)s? ago\b|\bjust now\b`)
	portRE = regexp.MustCompile(`127\.0\.0\.1:\d+`)
)

func normalise(s string) string {
	s = idRE.ReplaceAllString(s, "ID")
	s = timeRE.ReplaceAllString(s, "TIME")
	return portRE.ReplaceAllString(s, "HOST")
}

// view drives bob's browser through the pages that could betray the
// secret asset. secretPath is the path that names it (by name, then by
// ID); on the platform without it, the same name and an ID of the same
// form that names nothing.
func view(t *testing.T, pf *platform, shotPrefix string) bobsView {
	t.Helper()
	p := NewPage(t)
	p.Allow(`status of 404`)
	p.SignIn(pf.URL, pf.BobToken)
	v := bobsView{Pages: map[string]string{}, Links: map[string][]link{}, Facets: map[string][]string{}}
	id := pf.SecretID
	if id == "" {
		id = "ds_0000000000000000"
	}
	for _, u := range []string{"/", "/search?q=plasma", "/search?q=secret", "/search?q=" + secretName, "/search?q=" + url.QueryEscape(secretTitle),
		"/search?q=", "/assets/" + secretName, "/assets/" + id} {
		p.Open(pf.URL + u)
		checkChrome(t, p, "open", "OPEN")
		key := u
		if strings.HasPrefix(u, "/assets/ds_") {
			key = "/assets/ID"
		}
		v.Pages[key] = normalise(p.Text())
		v.Links[key] = resultLinks(t, p)
		v.Facets[key] = Eval[[]string](p, `[...document.querySelectorAll("#facets .facet-count")].map(e => e.closest("li, tr, dd, div, a") ? e.closest("li, tr, dd, div, a").textContent.trim() : e.textContent.trim())`)
		if strings.HasPrefix(u, "/assets/") {
			if n := Eval[int](p, `document.querySelectorAll("#not-found").length`); n != 1 {
				t.Errorf("bob opening %s: no #not-found (the page says %q)", u, p.Text())
			}
		}
		if shotPrefix != "" && u == "/search?q=plasma" {
			p.Screenshot(shotPrefix + "search")
		}
	}
	return v
}

// TestConsoleHiddenAssetLeavesNoTrace: bob, cleared only for OPEN, sees
// exactly the same pages — text, results, facet counts, not-found pages —
// on a platform that holds a PROPRIETARY asset matching his searches as on
// one that lacks it. The administrator's view of the first platform shows
// the asset (so the comparison is not vacuous).
func TestConsoleHiddenAssetLeavesNoTrace(t *testing.T) {
	with, without := newPlatform(t, true), newPlatform(t, false)
	a, b := view(t, with, "hidden-"), view(t, without, "")
	for k, pa := range a.Pages {
		if pb := b.Pages[k]; pa != pb {
			t.Errorf("bob's %s differs with the hidden asset:\n--- with\n%s\n--- without\n%s", k, pa, pb)
		}
		if !slices.Equal(a.Links[k], b.Links[k]) {
			t.Errorf("bob's %s results differ: with %+v, without %+v", k, a.Links[k], b.Links[k])
		}
		if !slices.Equal(a.Facets[k], b.Facets[k]) {
			t.Errorf("bob's %s facets differ: with %q, without %q", k, a.Facets[k], b.Facets[k])
		}
		// A page whose address does not name the asset must not either.
		if !strings.Contains(k, "secret") && (strings.Contains(pa, secretTitle) || strings.Contains(pa, secretName)) {
			t.Errorf("bob's %s names the hidden asset:\n%s", k, pa)
		}
	}
	if len(a.Links["/search?q=plasma"]) != 2 {
		t.Errorf("bob's search \"plasma\": %+v, want the two OPEN datasets", a.Links["/search?q=plasma"])
	}

	// The control: the administrator sees the asset, in results and facets.
	admin := NewPage(t)
	admin.SignIn(with.URL, with.AdminToken)
	admin.Open(with.URL + "/search?q=plasma")
	links := resultLinks(t, admin)
	if len(links) != 3 {
		t.Errorf("the administrator's search \"plasma\": %+v, want 3 results", links)
	}
	sum := func(p *Page) int {
		return Eval[int](p, `[...document.querySelectorAll("#facets .facet-count")].reduce((s, e) => s + (parseInt(e.textContent.replace(/[^0-9]/g, ""), 10) || 0), 0)`)
	}
	bob := NewPage(t)
	bob.SignIn(with.URL, with.BobToken)
	bob.Open(with.URL + "/search?q=plasma")
	if sa, sb := sum(admin), sum(bob); sa <= sb {
		t.Errorf("facet counts: the administrator's sum %d, bob's %d: the hidden asset should count for the administrator only", sa, sb)
	}
}

// xssTitle is a dataset title that would run script, load an image or add
// elements if the console did not escape it.
const xssTitle = `<img src=/xss-img onerror="window.__xss=1;alert('xss-img')"><script>window.__xss=2;alert("xss-script")</script><b id=xss-bold>bold</b>"'&amp;`

// TestConsoleXSSInTitleIsText: a dataset whose title is HTML shows the
// title as text on its page and in search results: no dialog (the Page
// fails on any), no image request, no element the title would add.
func TestConsoleXSSInTitleIsText(t *testing.T) {
	pf := newPlatform(t, false)
	admin := pf.Admin(t)
	pf.Dataset(t, admin, "xss-probe", xssTitle, "OPEN")
	p := NewPage(t)
	p.SignIn(pf.URL, pf.BobToken)

	check := func(where, sel string) {
		t.Helper()
		p.Settle()
		type probe struct {
			Injected int  `json:"injected"`
			Ran      bool `json:"ran"`
			Shown    bool `json:"shown"`
		}
		r := Eval[probe](p, fmt.Sprintf(`({injected: document.querySelectorAll("img[src='/xss-img'], #xss-bold, script:not([src])").length,
			ran: window.__xss !== undefined,
			shown: [...document.querySelectorAll(%q)].some(e => e.textContent.includes(%q))})`, sel, xssTitle))
		if r.Injected != 0 || r.Ran {
			t.Errorf("%s: the title became markup (%d injected elements, script ran: %v)", where, r.Injected, r.Ran)
		}
		if !r.Shown {
			t.Errorf("%s: %s does not show the title as text", where, sel)
		}
	}
	p.Open(pf.URL + "/search?q=" + url.QueryEscape("bold"))
	if len(resultLinks(t, p)) == 0 {
		p.Open(pf.URL + "/search?q=xss-probe")
	}
	check("search results", "li.result")
	p.Open(pf.URL + "/assets/xss-probe")
	check("asset page", "#asset-title")
	// The query itself is user text, echoed in the search box and page.
	p.Open(pf.URL + "/search?q=" + url.QueryEscape(xssTitle))
	check("a search for the payload", "body")
	if d := p.Dialogs(); len(d) != 0 {
		t.Errorf("dialogs opened: %q", d)
	}
}

// TestConsoleCrossSiteFormPost: a page on another origin (another port)
// that auto-submits forms to the console changes nothing: a signed-in
// victim stays signed in after a forged sign-out, and a signed-out one is
// not signed in by a forged sign-in (login CSRF) with the attacker's token.
func TestConsoleCrossSiteFormPost(t *testing.T) {
	pf := newPlatform(t, false)
	_, mallory := pf.Principal(t, "mallory", "OPEN")
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		var form string
		switch r.URL.Path {
		case "/signout":
			form = fmt.Sprintf(`<form id=f method=post action="%s/signout"></form>`, pf.URL)
		case "/signin":
			form = fmt.Sprintf(`<form id=f method=post action="%s/signin"><input name=token value=%q></form>`, pf.URL, mallory)
		default:
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, `<!doctype html><title>win a prize</title><link rel=icon href="data:,">%s<script>document.getElementById("f").submit()</script>`, form)
	}))
	defer evil.Close()
	if evil.URL == pf.URL {
		t.Fatal("the attacker's server has the console's origin")
	}

	attack := func(p *Page, which string) {
		t.Helper()
		p.Open(evil.URL + "/" + which)
		// The form posts to the console: wait until the browser is there
		// (whatever the console answers).
		p.Do("waiting for the forged post to land",
			Until(fmt.Sprintf(`location.origin === %q && document.readyState === "complete"`, pf.URL)))
		p.Settle()
	}

	victim := NewPage(t)
	victim.Allow(`status of 40[03]`)
	victim.SignIn(pf.URL, pf.BobToken)
	attack(victim, "signout")
	victim.Open(pf.URL + "/")
	if got := path(t, victim); got != "/" || Eval[int](victim, `document.querySelectorAll("#signout").length`) != 1 {
		t.Errorf("after a forged sign-out from %s the victim is at %q, signed out", evil.URL, got)
	}

	stranger := NewPage(t)
	stranger.Allow(`status of 40[03]`)
	attack(stranger, "signin")
	stranger.Open(pf.URL + "/")
	if got := path(t, stranger); got != "/signin" {
		t.Errorf("after a forged sign-in from %s the browser is at %q: signed in as the attacker", evil.URL, got)
	}
}

// TestConsoleNotFound: an unknown page and an unknown asset answer the
// not-found page, with the banners and a title.
func TestConsoleNotFound(t *testing.T) {
	pf := newPlatform(t, false)
	p := NewPage(t)
	p.Allow(`status of 404`)
	p.SignIn(pf.URL, pf.BobToken)
	for _, u := range []string{"/assets/no-such-asset", "/no/such/page"} {
		p.Open(pf.URL + u)
		if n := Eval[int](p, `document.querySelectorAll("#not-found").length`); n != 1 {
			t.Errorf("%s: no #not-found; the page says %q", u, p.Text())
		}
		checkChrome(t, p, "open", "OPEN")
	}
	p.Screenshot("not-found")
}

// TestConsolePhoneWidth: on a phone-sized screen (390 × 844 CSS pixels)
// the main pages fit their width — nothing scrolls sideways — and keep
// their banners.
func TestConsolePhoneWidth(t *testing.T) {
	pf := newPlatform(t, false)
	p := NewPage(t)
	p.Do("a phone-sized viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	p.SignIn(pf.URL, pf.BobToken)
	for _, u := range []string{"/", "/search?q=plasma", "/assets/plasma-fits", "/signin"} {
		if u == "/signin" {
			p.Navigating("signing out", chromedp.Click(chromedp.CSS("#signout")))
		}
		p.Open(pf.URL + u)
		checkChrome(t, p, "open", "OPEN")
		checkFitsWidth(t, p, u)
	}
	p.Screenshot("phone-signin")
}

// TestConsoleOneTimeLink: the one-time sign-in link (genesis up prints one
// for the first administrator) signs a browser in once; the same link in
// another browser afterwards does not.
func TestConsoleOneTimeLink(t *testing.T) {
	pf := newPlatform(t, false)
	code, err := pf.App.Console.Sessions().CreateOnce(context.Background(), pf.Admin(t).ID)
	if err != nil {
		t.Fatal(err)
	}
	link := pf.URL + "/signin/once?code=" + url.QueryEscape(code)
	first := NewPage(t)
	first.Open(link)
	first.SignedIn("the one-time link")
	if got := path(t, first); got != "/" {
		t.Errorf("the one-time link led to %q, want /", got)
	}
	second := NewPage(t)
	second.Allow(`status of 401`)
	second.Open(link)
	if n := Eval[int](second, `document.querySelectorAll("#signout").length`); n != 0 {
		t.Errorf("the one-time link signed in a second browser")
	}
	if n := Eval[int](second, `document.querySelectorAll("#signin-error").length`); n != 1 {
		t.Errorf("a used link: no #signin-error; the page says %q", second.Text())
	}
}
