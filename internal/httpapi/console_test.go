package httpapi_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/console"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestConsoleMount: with the console, every path outside the API is the
// console's, and the API's own answers are unchanged (an unknown /api/
// path is still a problem document behind the token; a wrong method on an
// endpoint is still 405).
func TestConsoleMount(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	id := identity.New(db)
	con := console.New(console.Config{DB: db, Identity: id})
	srv := httpapi.New(httpapi.Config{DB: db, Identity: id, Console: con, Logger: slog.New(slog.DiscardHandler)})
	if got := srv.Mounts(); len(got) != 1 || got[0] != "/" {
		t.Errorf("Mounts %v", got)
	}
	do := func(method, path string) *http.Response {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Result()
	}
	if r := do("GET", "/"); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/signin" {
		t.Errorf("GET /: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	if r := do("GET", "/signin"); r.StatusCode != 200 || r.Header.Get("Content-Security-Policy") != console.CSP || r.Header.Get("X-Request-Id") == "" {
		t.Errorf("GET /signin: %d %v", r.StatusCode, r.Header)
	}
	if r := do("GET", "/api/v1/no-such-thing"); r.StatusCode != http.StatusUnauthorized || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("unknown API path: %d %q", r.StatusCode, r.Header.Get("Content-Type"))
	}
	if r := do("DELETE", "/healthz"); r.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /healthz: %d", r.StatusCode)
	}
	if r := do("GET", "/healthz"); r.StatusCode != 200 || strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("GET /healthz: %d", r.StatusCode)
	}
}
