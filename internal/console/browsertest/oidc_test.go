package browsertest

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/console/oidctest"
)

// bootOIDC boots a Genesis as Boot does, configured (as an operator
// would: oidc.issuer, oidc.audience, oidc.client_secret_file,
// console.public_url) to offer sign-in with the in-process provider prov.
func bootOIDC(t *testing.T, prov *oidctest.Provider) *System {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "oidc-client-secret")
	if err := os.WriteFile(secret, []byte(prov.ClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default(filepath.Join(dir, "data"))
	cfg.Listen.Addr = ln.Addr().String()
	cfg.OIDC = config.OIDC{Issuer: prov.Issuer, Audience: prov.ClientID, ClientSecretFile: secret}
	cfg.Console.PublicURL = "http://" + ln.Addr().String()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	if _, err := a.Identity.Bootstrap(ctx, "admin"); err != nil {
		a.Close()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	return &System{URL: cfg.Console.PublicURL, App: a}
}

// TestOIDCSignInBrowser: the sign-in page's "Sign in with <issuer host>"
// goes to the provider and back, and lands on the dashboard signed in as
// the principal registered with the provider's subject; a subject no
// principal has is refused with a clear page.
func TestOIDCSignInBrowser(t *testing.T) {
	prov := oidctest.New("genesis-console", "browser-secret")
	t.Cleanup(prov.Close)
	sys := bootOIDC(t, prov)
	if _, err := sys.App.Identity.CreatePrincipal(context.Background(), genesis.Principal{Name: "carol", Kind: genesis.KindUser, Nationality: "USA",
		Clearance: "OPEN", OIDCIssuer: prov.Issuer, OIDCSubject: "carol-sub"}); err != nil {
		t.Fatal(err)
	}

	prov.SignInAs("carol-sub")
	p := NewPage(t)
	p.Open(sys.URL + "/signin")
	if got := Eval[string](p, `document.querySelector("a#signin-oidc").textContent`); got != "Sign in with 127.0.0.1" {
		t.Fatalf("OIDC sign-in link says %q", got)
	}
	p.Screenshot("signin-oidc")
	p.Navigating("signing in with OIDC", chromedp.Click(chromedp.CSS("a#signin-oidc")))
	// The callback page moves on to the dashboard by itself.
	p.Do("waiting for the dashboard", Until(`location.pathname === "/" && document.readyState === "complete" && document.querySelector("#signout") !== null`))
	p.SignedIn("OIDC sign-in")
	if who := Eval[string](p, `document.querySelector(".who").textContent`); who != "carol" {
		t.Fatalf("signed in as %q, want carol", who)
	}
	if !strings.HasSuffix(Eval[string](p, `document.title`), titleSuffix) {
		t.Errorf("title %q", Eval[string](p, `document.title`))
	}

	// A subject nobody registered: refused, no session.
	prov.SignInAs("mallory-sub")
	q := NewPage(t)
	q.Allow(`403 \(Forbidden\) \S*/signin/oidc/callback`) // the refusal page's status
	q.Open(sys.URL + "/signin")
	q.Navigating("signing in as an unregistered subject", chromedp.Click(chromedp.CSS("a#signin-oidc")))
	if msg := Eval[string](q, `(document.querySelector("#signin-error") || {}).textContent || ""`); !strings.Contains(msg, "no active Genesis account") {
		t.Fatalf("unregistered subject: page says %q", q.Text())
	}
	q.Open(sys.URL + "/")
	if !strings.HasSuffix(q.Location(), "/signin") {
		t.Fatalf("an unregistered subject got a session: at %s", q.Location())
	}
}
