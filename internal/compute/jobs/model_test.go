package jobs_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/errors"
)

// TestTrainingJobRegistersModel: a job that declares a model output
// registers a new model version after success — labelled at least its
// training data's label (computed), with its framework, task, metrics and
// card, and lineage to the job and its inputs — once, however often the
// round repeats; a job that trains on nothing is refused.
func TestTrainingJobRegistersModel(t *testing.T) {
	f := newFixture(t)
	f.addSite(t, "p-site", "PROPRIETARY")
	cat := f.cat
	if _, err := cat.Create(ctx, f.alice, catalog.CreateSpec{Name: "shots", Label: "PROPRIETARY"}); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "shots.csv"), "shot,energy\n1,3.5\n2,4.0\n")
	srcs, _ := pack.Sources([]string{src}, nil)
	res, err := pack.Pack(ctx, cat.Blobs(f.alice, "shots"), srcs, pack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cat.Commit(ctx, f.alice, "shots", catalog.CommitSpec{Manifest: res.ID}); err != nil {
		t.Fatal(err)
	}
	j := f.submit(t, `
executable: /bin/sh
arguments: ["-c", "mkdir model && cp inputs/shots/shots.csv model/weights.bin && echo '{\"rmse\": 0.12}' > model/metrics.json && echo '# Surrogate' > model/CARD.md"]
inputs: ["shots@1"]
models:
  model/:
    name: surrogate
    framework: sklearn
    task: regression
    metrics: metrics.json
    card: CARD.md
attributes:
  duration: 10m
`)
	j = runUntil(t, f.svc, f.alice, j.ID, jobs.Completed)
	if len(j.Outputs) != 1 || j.Outputs[0].Asset != "surrogate" || j.Outputs[0].Version != 1 {
		t.Fatalf("outputs = %+v", j.Outputs)
	}
	m, err := cat.Get(ctx, f.alice, "surrogate")
	if err != nil || m.Kind != catalog.KindModel || m.Label != "PROPRIETARY" {
		t.Fatalf("model = %+v, %v (want a PROPRIETARY model)", m, err)
	}
	_, meta, err := cat.ModelMeta(ctx, f.alice, "surrogate", 1)
	if err != nil || meta == nil || meta.Framework != "sklearn" || meta.Task != "regression" || !strings.Contains(meta.Card, "Surrogate") {
		t.Fatalf("model meta = %+v, %v", meta, err)
	}
	var metrics map[string]float64
	if err := json.Unmarshal(meta.Metrics, &metrics); err != nil || metrics["rmse"] != 0.12 {
		t.Errorf("metrics = %s, %v", meta.Metrics, err)
	}
	g, err := cat.Lineage(ctx, f.alice, catalog.VersionRef{Asset: "surrogate", Version: 1}, true, 2)
	if err != nil || len(g.Edges) != 1 || g.Edges[0].Activity != catalog.ActivityJob || g.Edges[0].ActivityID != j.ID || g.Edges[0].Parent.Asset == "" {
		t.Errorf("lineage = %+v, %v", g, err)
	}
	f.svc.Step(ctx)
	if vs, _ := cat.Versions(ctx, f.alice, "surrogate"); len(vs) != 1 {
		t.Errorf("%d model versions, want 1", len(vs))
	}

	// A metrics file that is a symbolic link out of the job's directory is
	// not read (the site may run the job as another user): the job fails
	// on its outputs, and no model version is made.
	secret := filepath.Join(t.TempDir(), "secret.json")
	writeFile(t, secret, `{"server_secret": 42}`)
	leak := f.submit(t, `
executable: /bin/sh
arguments: ["-c", "mkdir model && echo x > model/w && ln -s `+secret+` model/metrics.json"]
inputs: ["shots@1"]
models:
  model/: {name: surrogate, framework: sklearn, task: regression, metrics: metrics.json}
attributes:
  duration: 10m
`)
	if got := runUntil(t, f.svc, f.alice, leak.ID, jobs.Failed); !strings.Contains(got.Detail, "metrics") {
		t.Errorf("metrics through a symlink out of the job: %s %q", got.Reason, got.Detail)
	}
	if vs, _ := cat.Versions(ctx, f.alice, "surrogate"); len(vs) != 1 {
		t.Errorf("%d model versions after the refused one, want 1", len(vs))
	}

	// Training on nothing is refused at submission.
	spec := "executable: /bin/true\nmodels: {m/: {name: nothing, framework: f, task: t}}\nattributes:\n  duration: 1m\n"
	if _, err := f.svc.Submit(ctx, f.alice, mustSpec(t, spec)); errors.FieldOf(err) != "models" {
		t.Errorf("model trained on no inputs: %v", err)
	}
}
