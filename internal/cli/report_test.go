package cli

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/mission/report"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// reportServer is an API server with the report service over an empty
// platform, and the CLI's environment pointing at it as the admin.
func reportServer(t *testing.T) func(args ...string) (int, string, string) {
	t.Helper()
	ctx := context.Background()
	db := storetest.Migrated(t, storetest.SQLite)
	ids := identity.New(db)
	secret, err := ids.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(ids, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: ids})
	reg, err := sites.New(db, az, ids, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	js := jobs.New(db, az, ids, cat, reg, t.TempDir())
	camp := campaign.New(db, az, ids, cat, nil)
	rep := report.New(report.Config{Catalog: cat, Jobs: js, Campaigns: camp})
	srv := httpapi.New(httpapi.Config{DB: db, Identity: ids, Authz: az, Catalog: cat, Sites: reg, Jobs: js, Campaigns: camp, Reports: rep, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	home := t.TempDir()
	vars := map[string]string{"GENESIS_URL": ts.URL, "GENESIS_TOKEN": secret, "HOME": home, "XDG_CONFIG_HOME": home}
	return func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := Run(context.Background(), args, func(k string) string { return vars[k] }, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
}

func TestReportAnnualCLI(t *testing.T) {
	run := reportServer(t)
	dir := t.TempDir()
	entries := func() []string {
		es, _ := os.ReadDir(dir)
		var names []string
		for _, e := range es {
			names = append(names, e.Name())
		}
		return names
	}

	// Refused before anything is asked or written.
	for _, c := range []struct {
		args []string
		says string
	}{
		{[]string{"report", "annual"}, "--out"},
		{[]string{"report", "annual", "--out", filepath.Join(dir, "r.docx")}, `".docx"`},
		{[]string{"report", "annual", "--out", filepath.Join(dir, "r")}, ".html or .pdf"},
		{[]string{"report", "annual", "--out", filepath.Join(dir, "r.pdf"), "--year", "26"}, "--year"},
		{[]string{"report", "annual", "--out", filepath.Join(dir, "r.pdf"), "--year", "1999"}, "--year"},
		{[]string{"report", "annual", "--out", filepath.Join(dir, "r.pdf"), "extra"}, "unknown command"},
	} {
		code, _, errs := run(c.args...)
		if code != 2 || !strings.Contains(errs, c.says) {
			t.Errorf("%v: exit %d, %q; want 2 saying %q", c.args, code, errs, c.says)
		}
	}
	if n := entries(); len(n) != 0 {
		t.Fatalf("refused commands left files: %v", n)
	}

	// An existing file is replaced whole; no temporary file is left.
	html := filepath.Join(dir, "report.html")
	os.WriteFile(html, []byte("old"), 0o600)
	if code, _, errs := run("report", "annual", "--out", html); code != 0 || !strings.Contains(errs, "wrote "+html) {
		t.Fatalf("html: exit %d %s", code, errs)
	}
	b, _ := os.ReadFile(html)
	if !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) || !bytes.Contains(b, []byte(`class="banner bottom"`)) || !bytes.HasSuffix(bytes.TrimSpace(b), []byte("</html>")) {
		t.Fatalf("the HTML report is not whole: %.200s", b)
	}
	if code, _, errs := run("report", "annual", "--year", "2025", "-o", filepath.Join(dir, "R.PDF")); code != 0 {
		t.Fatalf("pdf: exit %d %s", code, errs)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "R.PDF")); !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b, []byte("%%EOF")) {
		t.Fatalf("the PDF report is not whole: %.20q", b)
	}
	if n := entries(); len(n) != 2 {
		t.Errorf("files left: %v", n)
	}
	// A directory that does not exist: a clear error, exit 1.
	if code, _, errs := run("report", "annual", "--out", filepath.Join(dir, "no", "r.html")); code != 1 || !strings.Contains(errs, "cannot write") {
		t.Errorf("missing dir: exit %d %s", code, errs)
	}
}
