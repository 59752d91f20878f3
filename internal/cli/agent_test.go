package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/extract"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestAgentCLI drives `genesis agent …` against a real server with a
// literature library and the agent service: hypotheses print with their
// scores and citations, a draft is written and parses, it is approved and
// started.
func TestAgentCLI(t *testing.T) {
	ctx := context.Background()
	db := storetest.Migrated(t, storetest.SQLite)
	ids := identity.New(db)
	secret, err := ids.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(ids, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: ids})
	ix, err := search.New(db)
	if err != nil {
		t.Fatal(err)
	}
	cat.SetSearch(ix)
	lib, err := library.New(library.Config{DB: db, Catalog: cat, Index: ix, Authz: az, Principals: ids, Extract: extract.Extract})
	if err != nil {
		t.Fatal(err)
	}
	reg, err := sites.New(db, az, ids, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	lb, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	js := jobs.New(db, az, ids, cat, reg, t.TempDir())
	js.Backend = func(context.Context, *sites.Site) (compute.Backend, error) { return lb, nil }
	camp := campaign.New(db, az, ids, cat, nil)
	camp.SetJobs(campaign.NewJobExecutor(js, ids))
	camp.WorkDir = t.TempDir()
	ag, err := agent.New(agent.Config{Library: lib, Catalog: cat, Campaigns: camp, DB: db, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	doc := func(title, text string) lit.Document {
		return lit.Document{Format: lit.FormatText, Title: title, Sections: []lit.Section{{Paragraphs: []string{text}}}}
	}
	if _, err := lib.ImportDocuments(ctx, admin, "OPEN", "", []lit.Document{
		doc("Iodide perovskite", "The band gap of CsPbI3 is 1.73 eV at 300 K."),
		doc("Bromide perovskite", "The band gap of CsPbBr3 is 2.36 eV at 320 K."),
	}); err != nil {
		t.Fatal(err)
	}
	srv := httpapi.New(httpapi.Config{DB: db, Identity: ids, Authz: az, Catalog: cat, Sites: reg, Jobs: js, Campaigns: camp, Literature: lib, Agent: ag, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	home := t.TempDir()
	vars := map[string]string{"GENESIS_URL": ts.URL, "GENESIS_TOKEN": secret, "HOME": home, "XDG_CONFIG_HOME": home}
	run := func(args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Run(ctx, args, func(k string) string { return vars[k] }, strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}

	code, out, errs := run("agent", "hypothesize", "--topic", "perovskite", "--target", "band_gap=2.0 eV", "--method", "gap")
	if code != 0 || !strings.Contains(out, "[gap]") || !strings.Contains(out, "score") || !strings.Contains(out, "psg_") {
		t.Fatalf("hypothesize: %d %q %q", code, out, errs)
	}
	code, out, errs = run("agent", "hypothesize", "--topic", "perovskite", "--target", "band_gap=2.0 eV", "--method", "gap", "--json")
	var r agent.Run
	if code != 0 || json.Unmarshal([]byte(out), &r) != nil {
		t.Fatalf("hypothesize --json: %d %q %q", code, out, errs)
	}
	var mix string
	for _, h := range r.Hypotheses {
		if h.Gap != nil && h.Gap.Kind == "mix" {
			mix = h.ID
		}
	}
	if mix == "" {
		t.Fatalf("no mix: %s", out)
	}
	if code, out, _ := run("agent", "runs"); code != 0 || !strings.Contains(out, r.ID) {
		t.Errorf("runs: %d %q", code, out)
	}
	if code, out, _ := run("agent", "show", r.ID); code != 0 || !strings.Contains(out, mix) {
		t.Errorf("show run: %d %q", code, out)
	}
	if code, out, _ := run("agent", "show", mix, "--json"); code != 0 || !strings.Contains(out, `"score_explained"`) {
		t.Errorf("show hypothesis: %d %q", code, out)
	}
	file := filepath.Join(t.TempDir(), "draft.yaml")
	code, out, errs = run("agent", "propose-campaign", mix, "-o", file, "--json")
	var d agent.Draft
	if code != 0 || json.Unmarshal([]byte(out), &d) != nil {
		t.Fatalf("propose: %d %q %q", code, out, errs)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := campaign.Parse(b); err != nil || string(b) != d.Campaign {
		t.Fatalf("the written draft: %v", err)
	}
	if code, _, errs := run("agent", "start", d.ID); code != 1 || !strings.Contains(errs, "not approved") {
		t.Errorf("start unapproved: %d %q", code, errs)
	}
	if code, out, errs := run("agent", "approve", d.ID); code != 0 || !strings.Contains(out, "Approved") {
		t.Fatalf("approve: %d %q %q", code, out, errs)
	}
	if code, out, errs := run("agent", "start", d.ID); code != 0 || !strings.Contains(out, "Created campaign") {
		t.Fatalf("start: %d %q %q", code, out, errs)
	}
	if code, _, errs := run("agent", "hypothesize", "--target", "band gap"); code != 2 || !strings.Contains(errs, "--target") {
		t.Errorf("bad target: %d %q, want 2 naming --target", code, errs)
	}
	if code, _, errs := run("agent", "show", "run_aaaaaaaaaaaaaaaa"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("missing run: %d %q", code, errs)
	}
}
