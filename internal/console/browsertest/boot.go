package browsertest

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/config"
)

// System is a real Genesis, booted as `genesis up` boots it (internal/app,
// embedded defaults in a temporary directory) and served on a loopback
// port.
type System struct {
	// URL is the console's base URL (http://127.0.0.1:PORT).
	URL string
	// AdminToken is the first administrator's API token.
	AdminToken string
	App        *app.App
	admin      *genesis.Principal
}

// Boot starts a Genesis for the test; it stops at the test's end.
func Boot(t testing.TB) *System {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config.Default(t.TempDir())
	cfg.Listen.Addr = "127.0.0.1:0"
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		cancel()
		a.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Listen.Addr)
	if err != nil {
		cancel()
		a.Close()
		t.Fatal(err)
	}
	if !servesConsole(a) {
		cancel()
		a.Close()
		t.Fatal("the app does not serve the console: GET /signin is not an HTML page")
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	admin, err := a.Identity.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	return &System{URL: "http://" + ln.Addr().String(), AdminToken: secret, App: a, admin: admin}
}

// servesConsole reports whether the app's own handler serves the console
// (the sign-in page is HTML).
func servesConsole(a *app.App) bool {
	rec := httptest.NewRecorder()
	a.API.ServeHTTP(rec, httptest.NewRequest("GET", "/signin", nil))
	return rec.Code == http.StatusOK && strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html")
}

// Admin returns the first administrator, as the services see it (re-read:
// a clearance set since shows).
func (s *System) Admin(t testing.TB) *genesis.Principal {
	t.Helper()
	p, err := s.App.Identity.Authenticate(context.Background(), s.AdminToken)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Principal creates a principal with the clearance marking (OPEN if "")
// and returns it with a new API token.
func (s *System) Principal(t testing.TB, name, clearance string) (*genesis.Principal, string) {
	t.Helper()
	ctx := context.Background()
	if clearance == "" {
		clearance = "OPEN"
	}
	p, err := s.App.Identity.CreatePrincipal(ctx, genesis.Principal{Name: name, Kind: genesis.KindUser, Nationality: "USA", Clearance: clearance})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := s.App.Identity.CreateToken(ctx, p.ID, "browser", 0)
	if err != nil {
		t.Fatal(err)
	}
	return p, secret
}

// Dataset creates a dataset as p with one version holding one file
// (data.csv) derived from inputs, and returns it.
func (s *System) Dataset(t testing.TB, p *genesis.Principal, name, title, marking string, inputs ...catalog.VersionRef) *catalog.Asset {
	t.Helper()
	ctx := context.Background()
	a, err := s.App.Catalog.Create(ctx, p, catalog.CreateSpec{Kind: catalog.KindDataset, Name: name, Title: title,
		Description: "Measurements for " + name, Label: marking})
	if err != nil {
		t.Fatalf("creating dataset %s: %v", name, err)
	}
	data := []byte("shot,power_mw\nrun-042,6\n" + name + "\n")
	id := blob.Sum(data)
	man := &manifest.Manifest{Entries: []manifest.Entry{{Path: "data.csv", Type: manifest.File, Mode: 0o644,
		Size: int64(len(data)), Hash: id, Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
	raw, err := man.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{data, raw} {
		if err := s.App.Catalog.PutChunk(ctx, p, a.ID, blob.Sum(b), b); err != nil {
			t.Fatalf("uploading to %s: %v", name, err)
		}
	}
	if _, err := s.App.Catalog.Commit(ctx, p, a.ID, catalog.CommitSpec{Manifest: blob.Sum(raw), Message: "browser test data", Inputs: inputs}); err != nil {
		t.Fatalf("committing %s: %v", name, err)
	}
	return a
}
