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
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestChallengeCLI drives `genesis challenge …` against a real server
// with the mission service: a challenge is created from a file, listed,
// shown, linked to a model whose registered metric reaches its target,
// its progress printed, updated and unlinked.
func TestChallengeCLI(t *testing.T) {
	ctx := context.Background()
	db := storetest.Migrated(t, storetest.SQLite)
	ids := identity.New(db)
	secret, err := ids.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	for _, o := range []string{"ornl", "mit"} {
		if _, err := ids.CreateOrg(ctx, genesis.Organization{Name: o, Country: "USA", Kind: "laboratory"}); err != nil {
			t.Fatal(err)
		}
	}
	az, err := authz.New(ids, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: ids})
	camp := campaign.New(db, az, ids, cat, nil)
	ms, err := mission.New(mission.Config{DB: db, Authz: az, Identity: ids, Catalog: cat, Campaigns: camp})
	if err != nil {
		t.Fatal(err)
	}
	// A dataset and a model trained on it, whose version reports r2 0.93.
	put := func(name, content string, m *catalog.ModelMeta, in ...catalog.VersionRef) {
		data := []byte(content)
		id := blob.Sum(data)
		man := &manifest.Manifest{Entries: []manifest.Entry{{Path: "f", Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id, Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
		raw, _ := man.Marshal()
		cat.PutChunk(ctx, admin, name, id, data)
		cat.PutChunk(ctx, admin, name, blob.Sum(raw), raw)
		if _, err := cat.Commit(ctx, admin, name, catalog.CommitSpec{Manifest: blob.Sum(raw), Model: m, Inputs: in}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := cat.Create(ctx, admin, catalog.CreateSpec{Name: "alloys", Label: "OPEN"}); err != nil {
		t.Fatal(err)
	}
	put("alloys", "a,b\n1,2\n", nil)
	in := catalog.VersionRef{Asset: "alloys", Version: 1}
	if _, err := cat.RegisterModel(ctx, admin, catalog.RegisterSpec{Name: "alloy-surrogate", TrainedOn: []catalog.VersionRef{in}}); err != nil {
		t.Fatal(err)
	}
	put("alloy-surrogate", "weights", &catalog.ModelMeta{Framework: "sklearn", Task: "regression", Metrics: json.RawMessage(`{"r2": 0.93}`)}, in)

	srv := httpapi.New(httpapi.Config{DB: db, Identity: ids, Authz: az, Catalog: cat, Campaigns: camp, Challenges: ms, Logger: slog.New(slog.DiscardHandler)})
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
	file := filepath.Join(t.TempDir(), "alloys.yaml")
	os.WriteFile(file, []byte(`name: alloys
title: Predictive alloy design
domain: advanced manufacturing
statement: |
  Predict the strength of printed alloys from their composition.
lead: ornl
partners: [mit]
targets:
  - {metric: r2, direction: max, target: 0.9, baseline: 0.6}
links:
  - {kind: dataset, ref: alloys}
`), 0o644)
	if code, out, errs := run("challenge", "validate", "-f", file); code != 0 || !strings.Contains(out, "valid") {
		t.Fatalf("validate: %d %q %q", code, out, errs)
	}
	if code, out, errs := run("challenge", "create", "-f", file); code != 0 || !strings.Contains(out, "Created challenge alloys") {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	if code, _, errs := run("challenge", "create", "-f", file); code == 0 || !strings.Contains(errs, "exists") {
		t.Errorf("create twice: %d %q", code, errs)
	}
	if code, out, _ := run("challenge", "list", "--domain", "manufacturing"); code != 0 || !strings.Contains(out, "alloys") || !strings.Contains(out, "advanced-manufacturing") {
		t.Errorf("list: %d %q", code, out)
	}
	if code, out, _ := run("challenge", "list", "--domain", "robotics", "--json"); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Errorf("list robotics: %d %q", code, out)
	}
	if code, out, _ := run("challenge", "show", "alloys"); code != 0 || !strings.Contains(out, "Predict the strength") || !strings.Contains(out, "link:") || !strings.Contains(out, "mit") {
		t.Errorf("show: %d %q", code, out)
	}
	if code, out, errs := run("challenge", "progress", "alloys"); code != 0 || !strings.Contains(out, "no observations") {
		t.Errorf("progress before: %d %q %q", code, out, errs)
	}
	if code, out, errs := run("challenge", "link", "alloys", "model", "alloy-surrogate"); code != 0 || !strings.Contains(out, "2 links") {
		t.Fatalf("link: %d %q %q", code, out, errs)
	}
	if code, _, errs := run("challenge", "link", "alloys", "model", "no-such-model"); code == 0 || !strings.Contains(errs, `model "no-such-model" not found`) {
		t.Errorf("link missing: %d %q", code, errs)
	}
	code, out, errs := run("challenge", "progress", "alloys", "--json")
	var pr mission.Progress
	if code != 0 || json.Unmarshal([]byte(out), &pr) != nil {
		t.Fatalf("progress --json: %d %q %q", code, out, errs)
	}
	if pr.Reached != 1 || !pr.Targets[0].Reached || pr.Targets[0].ReachedBy.Name != "alloy-surrogate" || *pr.Targets[0].Best != 0.93 {
		t.Errorf("progress %+v", pr.Targets)
	}
	if code, out, _ := run("challenge", "progress", "alloys"); code != 0 || !strings.Contains(out, "model alloy-surrogate 1") || !strings.Contains(out, "100%") {
		t.Errorf("progress table: %d %q", code, out)
	}
	if code, out, errs := run("challenge", "update", "alloys", "--title", "Alloys by design"); code != 0 || !strings.Contains(out, "Updated") {
		t.Errorf("update: %d %q %q", code, out, errs)
	}
	if code, out, errs := run("challenge", "unlink", "alloys", "model", "alloy-surrogate"); code != 0 || !strings.Contains(out, "1 link") {
		t.Errorf("unlink: %d %q %q", code, out, errs)
	}
	if code, out, _ := run("challenge", "show", "alloys", "--json"); code != 0 || !strings.Contains(out, `"title": "Alloys by design"`) {
		t.Errorf("show --json: %d %q", code, out)
	}
	if code, out, _ := run("challenge", "metrics"); code != 0 || !strings.Contains(out, "coherence_time") || !strings.Contains(out, "band_gap") {
		t.Errorf("metrics: %d %q", code, out)
	}
	if code, out, errs := run("challenge", "update", "alloys", "-f", file, "--json"); code != 0 || !strings.Contains(out, `"title": "Predictive alloy design"`) {
		t.Errorf("update from the file: %d %q %q", code, out, errs)
	}
	if code, _, errs := run("challenge", "update", "other-name", "-f", file); code == 0 || !strings.Contains(errs, "describes challenge alloys") {
		t.Errorf("update another name from the file: %d %q", code, errs)
	}
	// A typo in the file is named with a suggestion, before any server.
	os.WriteFile(file, []byte("name: x\ntitel: y\n"), 0o644)
	if code, _, errs := run("challenge", "validate", "-f", file); code == 0 || !strings.Contains(errs, `did you mean "title"?`) {
		t.Errorf("typo: %d %q", code, errs)
	}
}
