package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/console"
)

func sessionCookie(t *testing.T, res *response) *http.Cookie {
	t.Helper()
	for _, c := range res.Cookies() {
		if c.Name == console.SessionCookie {
			return c
		}
	}
	t.Fatalf("no %s cookie set; Set-Cookie: %q", console.SessionCookie, res.Header.Values("Set-Cookie"))
	return nil
}

func TestSignInAndOut(t *testing.T) {
	w := sqliteWorld(t)
	b := w.browser(t)

	// Not signed in: / goes to the sign-in page.
	res := b.get("/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("GET / signed out: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := b.get("/signin")
	if got := title(page.doc); got != "Sign in — Genesis" {
		t.Errorf("title %q", got)
	}
	form := byID(page.doc, "signin")
	if attr(form, "method") != "post" || byID(form, "signin-token") == nil || attr(byID(form, "signin-token"), "type") != "password" || byID(form, "signin-submit") == nil {
		t.Fatalf("sign-in form not as agreed:\n%s", page.body)
	}
	csrf := attrOf(form, "input", "name", "csrf", "value")
	res = b.post("/signin", url.Values{"csrf": {csrf}, "token": {w.aliceT}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("sign-in: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	ck := sessionCookie(t, res)
	if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/" || ck.Secure {
		t.Errorf("cookie attributes over plain HTTP: %+v", ck)
	}
	if strings.Contains(res.Header.Get("Set-Cookie"), w.aliceT) {
		t.Error("the API token is in a cookie")
	}
	dash := b.get("/")
	if dash.StatusCode != 200 || title(dash.doc) != "Dashboard — Genesis" {
		t.Fatalf("dashboard: %d %q", dash.StatusCode, title(dash.doc))
	}
	if !strings.Contains(text(dash.doc), "alice") {
		t.Error("the dashboard does not say who is signed in")
	}
	// Signed in, the sign-in page sends you home.
	if r := b.get("/signin"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("GET /signin signed in: %d", r.StatusCode)
	}

	// Sign out: the session is gone server-side, so replaying the old
	// cookie does not sign in again.
	res = b.post("/signout", url.Values{"csrf": {dash.csrf()}}, nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("sign-out: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if r := b.get("/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("after sign-out GET /: %d", r.StatusCode)
	}
	replay, _ := http.NewRequest("GET", w.srv.URL+"/", nil)
	replay.AddCookie(&http.Cookie{Name: ck.Name, Value: ck.Value})
	if r := w.browser(t).do(replay); r.StatusCode != http.StatusSeeOther {
		t.Errorf("replayed signed-out cookie: %d", r.StatusCode)
	}
}

func TestSignInRefusesBadTokens(t *testing.T) {
	w := sqliteWorld(t)
	for _, tok := range []string{"", "nonsense", w.aliceT + "x", strings.Repeat("g", 10000)} {
		b := w.browser(t)
		page := b.get("/signin")
		csrf := attrOf(byID(page.doc, "signin"), "input", "name", "csrf", "value")
		res := b.post("/signin", url.Values{"csrf": {csrf}, "token": {tok}}, nil)
		if res.StatusCode != http.StatusUnauthorized || byID(res.doc, "signin-error") == nil {
			t.Errorf("token %.20q: %d", tok, res.StatusCode)
		}
		for _, c := range res.Cookies() {
			if c.Name == console.SessionCookie && c.MaxAge >= 0 {
				t.Errorf("token %.20q: a session cookie was set", tok)
			}
		}
	}
	// A disabled principal's session ends with it.
	b := w.browser(t)
	b.signIn(w.bobT)
	if _, err := w.id.DisablePrincipal(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	if r := b.get("/"); r.StatusCode != http.StatusSeeOther {
		t.Errorf("disabled principal's session still works: %d", r.StatusCode)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	w := newWorld(t, sqliteDB(t), true)
	b := w.browser(t)
	page := b.get("/signin")
	csrf := attrOf(byID(page.doc, "signin"), "input", "name", "csrf", "value")
	res := b.post("/signin", url.Values{"csrf": {csrf}, "token": {w.aliceT}}, nil)
	ck := sessionCookie(t, res)
	if !ck.Secure || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
		t.Errorf("cookie over TLS: %+v", ck)
	}
}

func TestCSRFRefused(t *testing.T) {
	w := sqliteWorld(t)
	b := w.browser(t)
	b.signIn(w.aliceT)
	token := b.get("/").csrf()
	if token == "" {
		t.Fatal("no CSRF token on the signed-in page")
	}
	cases := []struct {
		name string
		form url.Values
		hdr  map[string]string
	}{
		{"no token", url.Values{}, nil},
		{"wrong token", url.Values{"csrf": {otherLast(token)}}, nil},
		{"cross-site origin", url.Values{"csrf": {token}}, map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": ""}},
		{"null origin", url.Values{"csrf": {token}}, map[string]string{"Origin": "null", "Sec-Fetch-Site": ""}},
		{"sec-fetch-site cross-site", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": ""}},
		{"sec-fetch-site same-site", url.Values{"csrf": {token}}, map[string]string{"Sec-Fetch-Site": "same-site", "Origin": ""}},
	}
	for _, c := range cases {
		res := b.post("/signout", c.form, c.hdr)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", c.name, res.StatusCode)
		}
		// Still signed in: the refused post did nothing.
		if r := b.get("/"); r.StatusCode != 200 {
			t.Fatalf("%s: the refused sign-out signed out (%d)", c.name, r.StatusCode)
		}
	}
	// A post without a session is refused, not redirected.
	if res := w.browser(t).post("/signout", url.Values{"csrf": {token}}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-out without a session: %d", res.StatusCode)
	}
	// The sign-in form: its token is the pre-session cookie's (double
	// submit); a cross-site login is refused too.
	nb := w.browser(t)
	page := nb.get("/signin")
	pre := attrOf(byID(page.doc, "signin"), "input", "name", "csrf", "value")
	for name, form := range map[string]url.Values{
		"no token":    {"token": {w.aliceT}},
		"wrong token": {"csrf": {otherLast(pre)}, "token": {w.aliceT}},
	} {
		if res := nb.post("/signin", form, nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("sign-in %s: %d", name, res.StatusCode)
		}
	}
	if res := nb.post("/signin", url.Values{"csrf": {pre}, "token": {w.aliceT}}, map[string]string{"Origin": "https://evil.example"}); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site sign-in: %d", res.StatusCode)
	}
	// A bare client without the pre-session cookie.
	bare := w.browser(t)
	if res := bare.post("/signin", url.Values{"csrf": {pre}, "token": {w.aliceT}}, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("sign-in without the pre-session cookie: %d", res.StatusCode)
	}
}

func TestOnceLink(t *testing.T) {
	w := sqliteWorld(t)
	code, err := w.con.Sessions().CreateOnce(ctx, w.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	b := w.browser(t)
	res := b.get("/signin/once?code=" + code)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("once link: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if r := b.get("/"); r.StatusCode != 200 || !strings.Contains(text(r.doc), "admin") {
		t.Fatalf("after the once link: %d", r.StatusCode)
	}
	// Used once: a second use is refused.
	if r := w.browser(t).get("/signin/once?code=" + code); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("second use: %d", r.StatusCode)
	}
	// Expired after OnceTTL.
	code2, err := w.con.Sessions().CreateOnce(ctx, w.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	w.clock = w.clock.Add(console.OnceTTL + time.Second)
	if r := w.browser(t).get("/signin/once?code=" + code2); r.StatusCode != http.StatusUnauthorized {
		t.Errorf("expired code: %d", r.StatusCode)
	}
	for _, bad := range []string{"", "x", "%00", strings.Repeat("A", 43)} {
		if r := w.browser(t).get("/signin/once?code=" + bad); r.StatusCode != http.StatusUnauthorized {
			t.Errorf("code %q: %d", bad, r.StatusCode)
		}
	}
}

// TestSecurityHeadersEveryPage checks the CSP and the other headers on
// every page, signed in or not, found or not, and that no page has inline
// script or style (the CSP would block them).
func TestSecurityHeadersEveryPage(t *testing.T) {
	w := sqliteWorld(t)
	w.put(t, w.alice, "shots", "OPEN", "a,b\n1,2\n")
	b := w.browser(t)
	check := func(path string, r *response) {
		t.Helper()
		if got := r.Header.Get("Content-Security-Policy"); got != console.CSP {
			t.Errorf("%s: CSP %q", path, got)
		}
		if r.Header.Get("X-Content-Type-Options") != "nosniff" || r.Header.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("%s: headers %v", path, r.Header)
		}
		if r.doc == nil {
			return
		}
		for _, n := range all(r.doc, func(n *htmlNode) bool { return isElement(n) }) {
			if n.Data == "script" && (attr(n, "src") == "" || n.FirstChild != nil) {
				t.Errorf("%s: inline script", path)
			}
			if n.Data == "style" || attr(n, "style") != "" {
				t.Errorf("%s: inline style on <%s>", path, n.Data)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") {
					t.Errorf("%s: inline handler %s", path, a.Key)
				}
			}
		}
	}
	for _, p := range []string{"/signin", "/", "/static/console.css", "/nope"} {
		check(p, b.get(p))
	}
	b.signIn(w.aliceT)
	for _, p := range []string{"/", "/search", "/search?q=shots", "/assets/shots", "/assets/missing", "/campaigns", "/nope", "/static/console.js"} {
		check(p, b.get(p))
	}
}

// otherLast is s with its last character changed (to one it is not), so a
// token made from it is certainly wrong.
func otherLast(s string) string {
	if strings.HasSuffix(s, "A") {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}
