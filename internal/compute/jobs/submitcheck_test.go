package jobs_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/errors"
)

// putVersion creates dataset name labelled l (if missing) and commits one
// version of a small file to it, as alice.
func (f *fixture) putVersion(t *testing.T, name, l string) {
	t.Helper()
	if _, err := f.cat.Get(ctx, f.alice, name); err != nil {
		if _, err := f.cat.Create(ctx, f.alice, catalog.CreateSpec{Name: name, Label: l}); err != nil {
			t.Fatal(err)
		}
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "data.csv"), "x\n1\n")
	srcs, _ := pack.Sources([]string{src}, nil)
	res, err := pack.Pack(ctx, f.cat.Blobs(f.alice, name), srcs, pack.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.cat.Commit(ctx, f.alice, name, catalog.CommitSpec{Manifest: res.ID}); err != nil {
		t.Fatal(err)
	}
}

// TestSubmitRefusesWriteDown: an output into a dataset whose label does
// not dominate the job's is refused when the job is submitted — whether
// the job's label comes from its inputs or from its floor — not after it
// ran; an output into a model, or into a dataset of the wrong kind, is
// decided the same way.
func TestSubmitRefusesWriteDown(t *testing.T) {
	f := newFixture(t)
	f.addSite(t, "p-site", "PROPRIETARY")
	f.putVersion(t, "secret-in", "PROPRIETARY")
	f.putVersion(t, "open-out", "OPEN")
	f.putVersion(t, "p-out", "PROPRIETARY")
	for _, c := range []struct {
		name, yaml, field string
	}{
		{"input above the output", "inputs: [secret-in@1]\noutputs: {o.csv: open-out}\n", "outputs"},
		{"floor above the output", "label: PROPRIETARY\noutputs: {o.csv: open-out}\n", "outputs"},
		{"a model named as a dataset output", "inputs: [secret-in@1]\noutputs: {o.csv: m1}\n", "outputs"},
		{"a dataset named as a model", "inputs: [secret-in@1]\nmodels: {m/: {name: p-out, framework: f, task: t}}\n", "models"},
		{"allowed: same label", "inputs: [secret-in@1]\noutputs: {o.csv: p-out}\n", ""},
		{"allowed: a new dataset", "inputs: [secret-in@1]\noutputs: {o.csv: brand-new}\n", ""},
		{"allowed: OPEN into OPEN", "outputs: {o.csv: open-out}\n", ""},
	} {
		if c.name == "a model named as a dataset output" {
			if _, err := f.cat.RegisterModel(ctx, f.alice, catalog.RegisterSpec{Name: "m1", TrainedOn: []catalog.VersionRef{{Asset: "secret-in", Version: 1}}}); err != nil {
				t.Fatal(err)
			}
		}
		_, err := f.svc.Submit(ctx, f.alice, mustSpec(t, "executable: /bin/true\nattributes: {duration: 1m}\n"+c.yaml))
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: refused: %v", c.name, err)
		case c.field != "" && (!errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field):
			t.Errorf("%s: err = %v, want Invalid on %s", c.name, err, c.field)
		}
	}
	if l, _, _ := f.svc.List(ctx, f.alice, jobs.ListOptions{}); len(l) != 3 {
		t.Errorf("%d jobs recorded, want the 3 allowed", len(l))
	}
}

// TestSubmitWarnsWhenNoSiteEverCan: a job that no registered site could
// ever run — by accreditation, capacity or allocation — is accepted with a
// warning that says why for every site; a job that some site could run
// once it is up again gets none.
func TestSubmitWarnsWhenNoSiteEverCan(t *testing.T) {
	f := newFixture(t, "open-site")
	for _, c := range []struct {
		yaml, want string
	}{
		{"label: PROPRIETARY\n", "accreditation OPEN does not dominate the job's label PROPRIETARY"},
		{"resources: {node_count: 4}\n", "needs 4 nodes, site has 1"},
		{"", ""},
	} {
		j, err := f.svc.Submit(ctx, f.alice, mustSpec(t, "executable: /bin/true\nattributes: {duration: 1m}\n"+c.yaml))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Join(j.Warnings, "\n")
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, "open-site: "+c.want) {
			t.Errorf("%q: warnings %q, want %q", c.yaml, got, c.want)
		}
		if j.State != jobs.Pending {
			t.Errorf("state %s", j.State)
		}
	}
	// A down site is not a reason to warn: it comes back by itself.
	if _, err := f.reg.Drain(ctx, f.admin, "open-site", "maintenance"); err != nil {
		t.Fatal(err)
	}
	if j, _ := f.svc.Submit(ctx, f.alice, mustSpec(t, "executable: /bin/true\nattributes: {duration: 1m}\n")); len(j.Warnings) != 0 {
		t.Errorf("warned about a draining site: %q", j.Warnings)
	}
}

// TestOutputsCommitTogether: a job's outputs and models are committed all
// together or not at all — a job with one missing output, or a model whose
// metrics are missing from its directory, leaves no dataset, no version
// and no empty model behind.
func TestOutputsCommitTogether(t *testing.T) {
	f := newFixture(t)
	f.addSite(t, "p-site", "PROPRIETARY")
	f.putVersion(t, "shots", "PROPRIETARY")
	for _, c := range []struct{ name, script, want string }{
		{"a missing output", "echo 1 > a.csv", "did not write b.csv"},
		{"a model's missing metrics", "echo 1 > a.csv; echo 2 > b.csv; mkdir model; echo w > model/w; echo '{}' > metrics.json", "metrics"},
		{"a missing model", "echo 1 > a.csv; echo 2 > b.csv", "did not write model/"},
	} {
		j := f.submit(t, `
executable: /bin/sh
arguments: ["-c", "`+c.script+`"]
inputs: [shots@1]
outputs: {a.csv: out-a, b.csv: out-b}
models:
  model/: {name: surrogate, framework: f, task: t, metrics: metrics.json}
attributes: {duration: 1m}
`)
		got := runUntil(t, f.svc, f.alice, j.ID, jobs.Failed)
		if !strings.Contains(got.Detail, c.want) || !strings.Contains(got.Detail, "no output was committed") {
			t.Errorf("%s: detail %q", c.name, got.Detail)
		}
		for _, name := range []string{"out-a", "out-b", "surrogate"} {
			if a, err := f.cat.Get(ctx, f.alice, name); !errors.Is(errors.NotExist, err) {
				t.Errorf("%s: %s left behind: %+v %v", c.name, name, a, err)
			}
		}
	}
	// All present (metrics in the model's directory): all committed.
	j := f.submit(t, `
executable: /bin/sh
arguments: ["-c", "echo 1 > a.csv; echo 2 > b.csv; mkdir model; echo w > model/w; echo '{\"rmse\": 1}' > model/metrics.json"]
inputs: [shots@1]
outputs: {a.csv: out-a, b.csv: out-b}
models:
  model/: {name: surrogate, framework: f, task: t, metrics: metrics.json}
attributes: {duration: 1m}
`)
	if got := runUntil(t, f.svc, f.alice, j.ID, jobs.Completed); len(got.Outputs) != 3 {
		t.Errorf("outputs %+v", got.Outputs)
	}
}
