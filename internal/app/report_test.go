package app

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/config"
)

// TestReportWired: the app serves the annual report through the API, as
// the caller, from its real services (an empty platform here).
func TestReportWired(t *testing.T) {
	ctx := context.Background()
	a, err := Open(ctx, config.Default(t.TempDir()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if a.Reports == nil {
		t.Fatal("no report service")
	}
	req := httptest.NewRequest("GET", "/api/v1/reports/annual?year=2026", nil)
	req.Header.Set("Authorization", "Bearer "+secret)
	rec := httptest.NewRecorder()
	a.API.ServeHTTP(rec, req)
	body := rec.Body.String()
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("report: %d %s %.300s", rec.Code, rec.Header().Get("Content-Type"), body)
	}
	for _, want := range []string{"No readable dataset version was committed in 2026", "No readable job was submitted in 2026", "No readable campaign ran in 2026"} {
		if !strings.Contains(body, want) {
			t.Errorf("the app's report does not say %q", want)
		}
	}
}
