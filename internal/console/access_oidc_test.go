package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/console"
	"github.com/genesis-science/genesis/internal/console/oidctest"
	"github.com/genesis-science/genesis/internal/errors"
)

// oidcWorld is the world's services behind a second console that offers
// OIDC sign-in through an in-process provider; carol is registered with
// the provider's subject "carol-sub", dave ("dave-sub") is disabled.
type oidcWorld struct {
	*world
	prov *oidctest.Provider
}

func newOIDCWorld(t *testing.T, tls bool, publicURL string) *oidcWorld {
	t.Helper()
	w := sqliteWorld(t)
	prov := oidctest.New("genesis-console", "console-secret")
	t.Cleanup(prov.Close)
	for _, u := range []struct{ name, sub string }{{"carol", "carol-sub"}, {"dave", "dave-sub"}} {
		if _, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: u.name, Clearance: "OPEN", OIDCIssuer: prov.Issuer, OIDCSubject: u.sub}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.id.DisablePrincipal(ctx, "dave"); err != nil {
		t.Fatal(err)
	}
	var h http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { h.ServeHTTP(rw, r) }))
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	if publicURL == "" {
		publicURL = srv.URL
	}
	o, err := console.NewOIDCSignIn(ctx, console.OIDCConfig{Issuer: prov.Issuer, ClientID: prov.ClientID, ClientSecret: prov.ClientSecret, PublicURL: publicURL, DB: w.db})
	if err != nil {
		t.Fatal(err)
	}
	w2 := *w
	w2.con = console.New(console.Config{DB: w.db, Identity: w.id, Catalog: w.cat, Now: func() time.Time { return w2.clock }, OIDC: o, PublicURL: publicURL})
	h = w2.con
	w2.srv = srv
	return &oidcWorld{world: &w2, prov: prov}
}

// startOIDC clicks "Sign in with …" and lets the provider answer: it
// returns the callback URL the provider redirects the browser to.
func (ow *oidcWorld) startOIDC(t *testing.T, b *browser) *url.URL {
	t.Helper()
	page := b.get("/signin")
	link := byID(page.doc, "signin-oidc")
	if link == nil || !strings.Contains(text(link), "127.0.0.1") {
		t.Fatalf("the sign-in page offers no OIDC sign-in:\n%s", page.body)
	}
	res := b.get("/signin/oidc")
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("GET /signin/oidc: %d", res.StatusCode)
	}
	authz, err := url.Parse(res.Header.Get("Location"))
	if err != nil || !strings.HasPrefix(authz.String(), ow.prov.Issuer+"/authorize?") {
		t.Fatalf("redirected to %q", res.Header.Get("Location"))
	}
	q := authz.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("redirect_uri") != ow.srv.URL+console.OIDCCallbackPath || q.Get("nonce") == "" || q.Get("state") == "" || q.Get("scope") != "openid" {
		t.Fatalf("authorization request %v", q)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	back, err := noFollow.Get(authz.String())
	if err != nil {
		t.Fatal(err)
	}
	back.Body.Close()
	cb, err := url.Parse(back.Header.Get("Location"))
	if back.StatusCode != http.StatusFound || err != nil || cb.Path != console.OIDCCallbackPath {
		t.Fatalf("provider answered %d %q", back.StatusCode, back.Header.Get("Location"))
	}
	return cb
}

func (b *browser) getURL(u string) *response {
	b.t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	return b.do(req)
}

// signedInAs checks the browser's session is name's, on the dashboard.
func signedInAs(t *testing.T, b *browser, name string) {
	t.Helper()
	res := b.get("/")
	if res.StatusCode != http.StatusOK || text(byID(res.doc, "signout")) == "" || !strings.Contains(res.body, ">"+name+"<") {
		t.Fatalf("dashboard after OIDC sign-in: %d\n%s", res.StatusCode, res.body)
	}
}

func notSignedIn(t *testing.T, b *browser) {
	t.Helper()
	if res := b.get("/"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("a refused sign-in left a session: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestOIDCSignIn(t *testing.T) {
	ow := newOIDCWorld(t, false, "")
	ow.prov.SignInAs("carol-sub")
	b := ow.browser(t)
	cb := ow.startOIDC(t, b)
	res := b.getURL(cb.String())
	if res.StatusCode != http.StatusOK || byID(res.doc, "signin-continue") == nil || !strings.Contains(res.body, `http-equiv="refresh"`) {
		t.Fatalf("callback: %d\n%s", res.StatusCode, res.body)
	}
	signedInAs(t, b, "carol")

	// The same answer again (a replay) is refused, and so is it from
	// another browser.
	for name, br := range map[string]*browser{"replay": b, "other browser": ow.browser(t)} {
		res := br.getURL(cb.String())
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(text(byID(res.doc, "signin-error")), "Start again") {
			t.Errorf("%s: %d\n%s", name, res.StatusCode, res.body)
		}
	}
	if n := ow.prov.Exchanges(); n != 1 {
		t.Errorf("%d code exchanges; refused states must not reach the provider", n)
	}
}

// TestOIDCSignInStolenAnswer: the provider's answer, carried to another
// browser (login CSRF, or a leaked URL), signs nobody in there, and the
// attempt it belonged to is spent.
func TestOIDCSignInStolenAnswer(t *testing.T) {
	ow := newOIDCWorld(t, false, "")
	ow.prov.SignInAs("carol-sub")
	victim, attacker := ow.browser(t), ow.browser(t)
	cb := ow.startOIDC(t, attacker)
	if res := victim.getURL(cb.String()); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("the answer was accepted in another browser: %d", res.StatusCode)
	}
	notSignedIn(t, victim)
	if res := attacker.getURL(cb.String()); res.StatusCode != http.StatusBadRequest {
		t.Fatalf("a spent attempt was accepted: %d", res.StatusCode)
	}
}

func TestOIDCSignInRefusals(t *testing.T) {
	ow := newOIDCWorld(t, false, "")
	cases := []struct {
		name   string
		sub    string
		tamper func(*oidctest.Claims)
		edit   func(url.Values)
		status int
		says   string
	}{
		{name: "wrong state", sub: "carol-sub", edit: func(q url.Values) { q.Set("state", strings.Repeat("A", 43)) }, status: 400, says: "Start again"},
		{name: "malformed state", sub: "carol-sub", edit: func(q url.Values) { q.Set("state", "x") }, status: 400, says: "state"},
		{name: "no code", sub: "carol-sub", edit: func(q url.Values) { q.Del("code") }, status: 400, says: "code"},
		{name: "forged code", sub: "carol-sub", edit: func(q url.Values) { q.Set("code", "forged") }, status: 401, says: "did not accept"},
		{name: "provider error", sub: "carol-sub", edit: func(q url.Values) { q.Set("error", "access_denied") }, status: 401, says: "access_denied"},
		{name: "wrong nonce", sub: "carol-sub", tamper: func(c *oidctest.Claims) { c.Nonce = "replayed-from-elsewhere" }, status: 401, says: "nonce"},
		{name: "no nonce", sub: "carol-sub", tamper: func(c *oidctest.Claims) { c.Nonce = "" }, status: 401, says: "nonce"},
		{name: "expired", sub: "carol-sub", tamper: func(c *oidctest.Claims) { c.Expiry = time.Now().Add(-time.Hour).Unix() }, status: 401, says: "expiry"},
		{name: "wrong audience", sub: "carol-sub", tamper: func(c *oidctest.Claims) { c.Audience = "another-client" }, status: 401, says: "audience"},
		{name: "wrong issuer", sub: "carol-sub", tamper: func(c *oidctest.Claims) { c.Issuer = "https://evil.example.org" }, status: 401, says: "issuer"},
		{name: "unknown subject", sub: "mallory-sub", status: 403, says: "no active Genesis account"},
		{name: "disabled principal", sub: "dave-sub", status: 403, says: "no active Genesis account"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ow.prov.SignInAs(c.sub)
			ow.prov.Tamper(c.tamper)
			defer ow.prov.Tamper(nil)
			b := ow.browser(t)
			cb := ow.startOIDC(t, b)
			if c.edit != nil {
				q := cb.Query()
				c.edit(q)
				cb.RawQuery = q.Encode()
			}
			res := b.getURL(cb.String())
			if res.StatusCode != c.status || !strings.Contains(text(byID(res.doc, "signin-error")), c.says) {
				t.Fatalf("%d (want %d), error %q (want %q)", res.StatusCode, c.status, text(byID(res.doc, "signin-error")), c.says)
			}
			// The refusal page still offers both ways to sign in.
			if byID(res.doc, "signin-oidc") == nil || byID(res.doc, "signin-token") == nil {
				t.Errorf("refusal page without the sign-in choices")
			}
			notSignedIn(t, b)
		})
	}
	// No account was made for the unknown subject.
	if _, err := ow.id.PrincipalByOIDC(ctx, ow.prov.Issuer, "mallory-sub"); !errors.Is(errors.NotExist, err) {
		t.Errorf("unknown subject: %v", err)
	}
}

// TestOIDCUnconfigured: without OIDC the button and routes are absent.
func TestOIDCUnconfigured(t *testing.T) {
	w := sqliteWorld(t)
	b := w.browser(t)
	if page := b.get("/signin"); byID(page.doc, "signin-oidc") != nil {
		t.Error("the sign-in page offers OIDC that is not configured")
	}
	for _, p := range []string{"/signin/oidc", console.OIDCCallbackPath + "?state=x&code=y"} {
		if res := b.get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d", p, res.StatusCode)
		}
	}
}

// TestSecureCookies: cookies are Secure when the request is TLS or the
// public URL is https (a TLS-terminating proxy), and only then.
func TestSecureCookies(t *testing.T) {
	for _, c := range []struct {
		name      string
		tls       bool
		public    string
		wantSecur bool
	}{
		{"plain http", false, "", false},
		{"tls", true, "", true},
		{"proxy terminates tls", false, "https://genesis.example.org", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ow := newOIDCWorld(t, c.tls, c.public)
			b := ow.browser(t)
			seen := map[string]bool{}
			for _, p := range []string{"/signin", "/signin/oidc"} {
				res := b.get(p)
				for _, ck := range res.Cookies() {
					seen[ck.Name] = true
					if ck.Secure != c.wantSecur || !ck.HttpOnly {
						t.Errorf("%s sets %s Secure=%v HttpOnly=%v", p, ck.Name, ck.Secure, ck.HttpOnly)
					}
					wantSS := http.SameSiteStrictMode
					if ck.Name == console.OIDCCookie {
						wantSS = http.SameSiteLaxMode
					}
					if ck.SameSite != wantSS {
						t.Errorf("%s: %s SameSite=%v", p, ck.Name, ck.SameSite)
					}
				}
			}
			if !seen[console.PreSessionCookie] || !seen[console.OIDCCookie] {
				t.Fatalf("cookies seen: %v", seen)
			}
			if c.public == "" {
				// The whole flow over this transport: the session cookie too.
				ow.prov.SignInAs("carol-sub")
				cb := ow.startOIDC(t, b)
				res := b.getURL(cb.String())
				var found bool
				for _, ck := range res.Cookies() {
					if ck.Name == console.SessionCookie && ck.Value != "" {
						found = true
						if ck.Secure != c.wantSecur || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode {
							t.Errorf("session cookie %+v", ck)
						}
					}
				}
				if !found {
					t.Fatalf("no session cookie: %d\n%s", res.StatusCode, res.body)
				}
				signedInAs(t, b, "carol")
			}
		})
	}
}
