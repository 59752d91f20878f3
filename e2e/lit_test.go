package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/lit"
)

// TestLiteratureCLI: `genesis lit` against a real server — import the
// examples (a directory and a .tar.gz of it), search, facts, show and
// passage with --json; a PROPRIETARY publication exists for a cleared
// principal only, for an uncleared one not at all (404 like a missing one).
func TestLiteratureCLI(t *testing.T) {
	dir := t.TempDir()
	p := startUp(t, filepath.Join(dir, "data"))
	tok, _ := os.ReadFile(filepath.Join(dir, "data", "admin.token"))
	admin := strings.TrimSpace(string(tok))
	ctx := context.Background()
	ac := client.New(p.url, admin)
	if err := ac.Do(ctx, "POST", "/api/v1/principals/admin/clearance", httpapi.SetClearanceRequest{Clearance: "PROPRIETARY"}, nil); err != nil {
		t.Fatal(err)
	}
	var bob genesis.Principal
	if err := ac.Do(ctx, "POST", "/api/v1/principals", httpapi.CreatePrincipalRequest{Name: "bob", Nationality: "USA", Roles: []genesis.Role{genesis.RoleContributor}}, &bob); err != nil {
		t.Fatal(err)
	}
	var nt httpapi.CreateTokenResponse
	if err := ac.Do(ctx, "POST", "/api/v1/principals/bob/tokens", httpapi.CreateTokenRequest{Name: "e2e"}, &nt); err != nil {
		t.Fatal(err)
	}
	run := func(token string, args ...string) (string, error) {
		cmd := exec.Command(genesisBinary(t), args...)
		cmd.Env = append(withoutGenesisEnv(os.Environ()), "GENESIS_URL="+p.url, "GENESIS_TOKEN="+token)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(token string, args ...string) string {
		t.Helper()
		out, err := run(token, args...)
		if err != nil {
			t.Fatalf("genesis %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	if out := must(admin, "lit", "import", "../examples/lit/papers", "--label", "OPEN"); !strings.Contains(out, "4 files: 5 created") {
		t.Errorf("import: %s", out)
	}
	// The same files in an archive: nothing changes.
	tgz := filepath.Join(dir, "papers.tar.gz")
	if out, err := exec.Command("tar", "-czf", tgz, "-C", "../examples/lit", "papers").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	if out := must(admin, "lit", "import", tgz, "--label", "OPEN"); !strings.Contains(out, "5 unchanged") || strings.Contains(out, "created") {
		t.Errorf("import of the archive: %s", out)
	}
	// A PROPRIETARY report.
	report := filepath.Join(dir, "report.md")
	os.WriteFile(report, []byte("# Internal report on quokkaite electrolytes\n\n## Results\n\nQuokkaite conducts lithium ions at room temperature.\n"), 0o644)
	must(admin, "lit", "import", report, "--label", "PROPRIETARY")

	var hits []lit.Hit
	if err := json.Unmarshal([]byte(must(admin, "lit", "search", "quokkaite", "--json")), &hits); err != nil || len(hits) == 0 {
		t.Fatalf("admin search: %v %v", hits, err)
	}
	secret := hits[0].ID
	out := must(nt.Secret, "lit", "search", "quokkaite")
	if !strings.Contains(out, "no passages found") {
		t.Errorf("bob finds the report: %s", out)
	}
	hidden, err1 := run(nt.Secret, "lit", "passage", secret)
	missing, err2 := run(nt.Secret, "lit", "passage", "psg_000000000000000000000000")
	if err1 == nil || err2 == nil || strings.ReplaceAll(hidden, secret, "ID") != strings.ReplaceAll(missing, "psg_000000000000000000000000", "ID") {
		t.Errorf("hidden %q (%v), missing %q (%v)", hidden, err1, missing, err2)
	}
	if out := must(nt.Secret, "lit", "search", "CsPbI3 band gap", "--mode", "bm25"); !strings.Contains(out, "Okafor and Lindqvist (2024)") || !strings.Contains(out, "bm25 #1") {
		t.Errorf("bob's search: %s", out)
	}
	var facts struct{ Facts []lit.Fact }
	if err := json.Unmarshal([]byte(must(nt.Secret, "lit", "facts", "--property", "band_gap", "--material", "cspbi3", "--json")), &facts); err != nil || len(facts.Facts) == 0 {
		t.Errorf("facts: %+v %v", facts, err)
	}
	var pub lit.Publication
	if err := json.Unmarshal([]byte(must(nt.Secret, "lit", "show", "doi-10.5555-genesis.example.0002", "--json")), &pub); err != nil || len(pub.CitedBy) != 1 {
		t.Errorf("show: %+v %v", pub, err)
	}
	if out := must(nt.Secret, "lit", "show", "doi-10.5555-genesis.example.0001"); !strings.Contains(out, "doi-10.5555-genesis.example.0002 (pub_") {
		t.Errorf("show names the cited publications: %s", out)
	}
	var ps lit.Passage
	if err := json.Unmarshal([]byte(must(nt.Secret, "lit", "passage", hitsOf(t, must(nt.Secret, "lit", "search", "zirconia", "--json"))[0].ID, "--json")), &ps); err != nil || !strings.Contains(ps.Citation, "Moreau") {
		t.Errorf("passage: %+v %v", ps, err)
	}
	// Hybrid without an embedding endpoint: refused, naming the mode.
	if out, err := run(nt.Secret, "lit", "search", "x", "--mode", "hybrid"); err == nil || !strings.Contains(out, "mode") {
		t.Errorf("hybrid: %v %s", err, out)
	}
	// Bob may not import at PROPRIETARY: refused before the file is sent.
	if out, err := run(nt.Secret, "lit", "import", report, "--label", "PROPRIETARY"); err == nil {
		t.Errorf("bob imported at PROPRIETARY: %s", out)
	}
}

func hitsOf(t *testing.T, out string) []lit.Hit {
	t.Helper()
	var hs []lit.Hit
	if err := json.Unmarshal([]byte(out), &hs); err != nil || len(hs) == 0 {
		t.Fatalf("hits: %v %s", err, out)
	}
	return hs
}
