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

	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/mission/plan"
)

// TestMissionCommands: genesis mission status, plan show|set and risks
// against a whole system (internal/app) over HTTP.
func TestMissionCommands(t *testing.T) {
	ctx := context.Background()
	a, err := app.Open(ctx, config.Default(t.TempDir()), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := a.Identity.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(a.API)
	t.Cleanup(ts.Close)
	home := t.TempDir()
	vars := map[string]string{"GENESIS_URL": ts.URL, "GENESIS_TOKEN": secret, "HOME": home, "XDG_CONFIG_HOME": home}
	run := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		var out, errb bytes.Buffer
		code := Run(ctx, args, func(k string) string { return vars[k] }, strings.NewReader(stdin), &out, &errb)
		return code, out.String(), errb.String()
	}

	code, out, errs := run("", "mission", "status")
	if code != 0 {
		t.Fatalf("status: %d %s", code, errs)
	}
	for _, want := range []string{"MILESTONE", "inventory-complete", "at risk", "90 days left", "missing:  no compute site registered (genesis site add)"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	if _, err := a.Sites.Add(ctx, admin, sites.Spec{Name: "hpc-1", Kind: sites.KindSlurm, Endpoint: "http://127.0.0.1:9", Credentials: `{"user": "u", "token": "t"}`,
		Accreditation: "OPEN", Capacity: sites.Capacity{Nodes: 1, CoresPerNode: 8, MemoryGBNode: 16}}); err != nil {
		t.Fatal(err)
	}
	code, out, _ = run("", "mission", "status", "--json")
	var st plan.Status
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil {
		t.Fatalf("status --json: %d %s", code, out)
	}
	for _, m := range st.Milestones {
		if m.ID == "inventory-complete" && (len(m.Missing) != 1 || m.Missing[0] != "site hpc-1 reports no power cap, no power draw") {
			t.Errorf("inventory: %q", m.Missing)
		}
	}

	// The plan as a file, edited and set back.
	code, file, _ := run("", "mission", "plan", "show", "--file")
	if code != 0 || !strings.Contains(file, `"check": "inventory_complete"`) {
		t.Fatalf("plan show --file: %d %s", code, file)
	}
	edited := strings.Replace(file, `"min_quality": 50`, `"min_quality": 70`, 1)
	path := filepath.Join(t.TempDir(), "plan.json")
	os.WriteFile(path, []byte(edited), 0o600)
	if code, out, errs := run("", "mission", "plan", "set", "-f", path); code != 0 || !strings.Contains(out, "5 milestones") {
		t.Fatalf("plan set: %d %s %s", code, out, errs)
	}
	if _, out, _ := run("", "mission", "plan", "show"); !strings.Contains(out, "min_quality=70") || !strings.Contains(out, "set by") {
		t.Errorf("plan show after set:\n%s", out)
	}
	code, _, errs = run("milestones:\n  - {id: a, title: A, day: 5, check: inventory_complete, params: {min: 1}}\n", "mission", "plan", "set", "-f", "-")
	if code != 1 || !strings.Contains(errs, "milestones[0].params.min") {
		t.Errorf("bad plan: %d %s", code, errs)
	}

	// Milestones added and removed one at a time.
	if code, out, errs := run("", "mission", "plan", "add", "--id", "robots", "--title", "Two robotics challenges", "--day", "400",
		"--check", "challenges_identified", "--param", "min=2", "--param", "domains=robotics"); code != 0 || !strings.Contains(out, "6 milestones") {
		t.Fatalf("plan add: %d %s %s", code, out, errs)
	}
	if _, out, _ := run("", "mission", "plan", "show"); !strings.Contains(out, "domains=robotics min=2") {
		t.Errorf("added milestone:\n%s", out)
	}
	if code, _, errs := run("", "mission", "plan", "add", "--id", "bad", "--title", "T", "--day", "400", "--check", "labs_reviewed", "--param", "min_campaigns=0"); code != 1 || !strings.Contains(errs, "milestones[6].params.min_campaigns") {
		t.Errorf("bad param: %d %s", code, errs)
	}
	if code, _, _ := run("", "mission", "plan", "add", "--id", "x", "--title", "T", "--check", "labs_reviewed"); code != 2 {
		t.Errorf("no deadline: exit %d", code)
	}
	if code, out, errs := run("", "mission", "plan", "remove", "robots"); code != 0 || !strings.Contains(out, "5 milestones") {
		t.Errorf("plan remove: %d %s %s", code, out, errs)
	}
	if code, _, errs := run("", "mission", "plan", "remove", "robots"); code != 1 || !strings.Contains(errs, "no milestone") {
		t.Errorf("remove again: %d %s", code, errs)
	}

	code, out, errs = run("", "mission", "risks")
	if code != 0 || !strings.Contains(out, "energy") || !strings.Contains(out, "site hpc-1 has no power cap") {
		t.Errorf("risks: %d %s %s", code, out, errs)
	}
}
