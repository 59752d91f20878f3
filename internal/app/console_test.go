package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/config"
)

// TestConsoleOnTheDemo: genesis up's one-time link signs the first
// administrator in, and the console's pages show the demo as wired by
// Open — challenges with progress, the running campaign, the local site,
// the demo instruments, recent activity from the audit log — and the
// campaign's page with its convergence plot.
func TestConsoleOnTheDemo(t *testing.T) {
	ctx := context.Background()
	a, err := Open(ctx, config.Default(t.TempDir()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.Identity.Bootstrap(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Sites.EnsureLocal(ctx, "OPEN", localCapacity(a.Config.DataDir)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.setUpDemo(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.API)
	defer srv.Close()
	link, err := a.signinLink(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, srv.URL+"/signin/once?code=") {
		t.Fatalf("link %q", link)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	get := func(url string) (int, string, http.Header) {
		t.Helper()
		res, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res.Header
	}
	status, dash, _ := get(link) // follows the redirect to /
	if status != 200 || !strings.Contains(dash, "<title>Dashboard — Genesis</title>") {
		t.Fatalf("once link: %d\n%s", status, dash)
	}
	for _, want := range []string{`class="challenge"`, `class="challenge-progress"`, `href="/campaigns/` + DemoCampaign + `"`, `class="site"`, `class="instrument"`, `class="event"`, demoReactors[0]} {
		if !strings.Contains(dash, want) {
			t.Errorf("the dashboard lacks %s", want)
		}
	}
	// The activity names who acted (the demo was set up by "admin"), not
	// their principal ID.
	if !strings.Contains(dash, `<td>admin</td>`) {
		t.Errorf("the dashboard's activity does not name the administrator")
	}
	if status, _, _ := get(link); status != http.StatusUnauthorized {
		t.Errorf("the one-time link worked twice: %d", status)
	}
	status, page, _ := get(srv.URL + "/campaigns/" + DemoCampaign)
	if status != 200 || !strings.Contains(page, `src="/campaigns/`+DemoCampaign+`/plot.svg"`) || !strings.Contains(page, `id="experiments"`) {
		t.Errorf("campaign page: %d\n%s", status, page)
	}
	status, svg, h := get(srv.URL + "/campaigns/" + DemoCampaign + "/plot.svg")
	if status != 200 || h.Get("Content-Type") != "image/svg+xml" || !strings.Contains(svg, "<svg") {
		t.Errorf("plot: %d %q", status, h.Get("Content-Type"))
	}
	status, live, h := get(srv.URL + "/campaigns/" + DemoCampaign + "/live")
	if status != 200 || !strings.HasPrefix(live, `<div id="campaign-live"`) || !strings.Contains(live, `id="campaign-state"`) || h.Get("Content-Security-Policy") == "" {
		t.Errorf("live fragment: %d\n%s", status, live)
	}
	if status, list, _ := get(srv.URL + "/campaigns"); status != 200 || !strings.Contains(list, DemoCampaign) {
		t.Errorf("campaigns list: %d", status)
	}
}
