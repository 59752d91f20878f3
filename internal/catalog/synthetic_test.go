package catalog_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// generators is an in-memory registry of jobs, campaigns and instruments
// with labels and readers, resolved by the same rule the app's adapter
// follows: unreadable is NotExist, an instrument that is no simulator is
// Invalid.
type generators map[string]struct {
	id, marking string
	readers     []genesis.PrincipalID
	notSim      bool
}

func (g generators) Generator(_ context.Context, p *genesis.Principal, kind, name string) (catalog.Generator, error) {
	e, ok := g[kind+":"+name]
	if !ok || !slices.Contains(e.readers, p.ID) {
		return catalog.Generator{}, errors.E(errors.NotExist)
	}
	if e.notSim {
		return catalog.Generator{}, errors.E(errors.Invalid, errors.Msg("instrument "+name+" is not a simulator"))
	}
	return catalog.Generator{ID: e.id, Label: label.MustParse(e.marking)}, nil
}

// putSpec sends content as the single file of a new version of name and
// commits it with spec.
func putSpec(t *testing.T, w *world, p *genesis.Principal, name, content string, spec catalog.CommitSpec) (*catalog.Version, error) {
	t.Helper()
	data := []byte(content)
	id := blob.Sum(data)
	m := &manifest.Manifest{Entries: []manifest.Entry{{Path: "f", Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id,
		Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
	raw, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{data, raw} {
		if err := w.cat.PutChunk(ctx, p, name, blob.Sum(b), b); err != nil {
			t.Fatal(err)
		}
	}
	spec.Manifest = blob.Sum(raw)
	return w.cat.Commit(ctx, p, name, spec)
}

func TestSynthetic(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		c.SetGenerators(generators{
			"job:job_1":         {id: "job_1", marking: "OPEN", readers: []genesis.PrincipalID{w.alice.ID, w.bob.ID}},
			"job:job_secret":    {id: "job_secret", marking: "PROPRIETARY//FUSION", readers: []genesis.PrincipalID{w.alice.ID}},
			"campaign:loop":     {id: "cmp_1", marking: "PROPRIETARY", readers: []genesis.PrincipalID{w.alice.ID}},
			"instrument:twin":   {id: "ins_1", marking: "OPEN", readers: []genesis.PrincipalID{w.alice.ID, w.bob.ID}},
			"instrument:kettle": {id: "ins_2", marking: "OPEN", readers: []genesis.PrincipalID{w.alice.ID, w.bob.ID}, notSim: true},
		})
		mk := func(p *genesis.Principal, kind catalog.Kind, name, marking string) {
			t.Helper()
			if _, err := c.Create(ctx, p, catalog.CreateSpec{Kind: kind, Name: name, Label: marking}); err != nil {
				t.Fatal(err)
			}
		}
		mk(w.alice, catalog.KindModel, "surrogate", "PROPRIETARY//FUSION")
		if _, err := putSpec(t, w, w.alice, "surrogate", "weights", catalog.CommitSpec{}); err != nil {
			t.Fatal(err)
		}
		mk(w.bob, catalog.KindModel, "open-model", "OPEN")
		if _, err := putSpec(t, w, w.bob, "open-model", "weights", catalog.CommitSpec{}); err != nil {
			t.Fatal(err)
		}
		mk(w.bob, catalog.KindDataset, "measured", "OPEN")
		mk(w.bob, catalog.KindDataset, "sim-open", "OPEN")
		mk(w.alice, catalog.KindDataset, "sim-fusion", "PROPRIETARY//FUSION")
		mk(w.alice, catalog.KindDataset, "sim-low", "OPEN")

		// Without the flag nothing is synthetic.
		v, err := putSpec(t, w, w.bob, "measured", "m1", catalog.CommitSpec{})
		if err != nil || v.Synthetic || v.Generator != "" {
			t.Fatalf("plain put: %+v, %v", v, err)
		}
		// Each kind of generator, recorded as kind:ID.
		for _, c := range []struct {
			p        *genesis.Principal
			name, g  string
			recorded string
		}{
			{w.bob, "sim-open", "job:job_1", "job:job_1"},
			{w.bob, "sim-open", "instrument:twin", "instrument:ins_1"},
			{w.alice, "sim-fusion", "campaign:loop", "campaign:cmp_1"},
			{w.alice, "sim-fusion", "Model:surrogate", "model:"},
			{w.alice, "sim-fusion", "job:job_secret", "job:job_secret"},
		} {
			v, err := putSpec(t, w, c.p, c.name, "x"+c.g, catalog.CommitSpec{Synthetic: true, Generator: c.g})
			if err != nil {
				t.Fatalf("%s: %v", c.g, err)
			}
			if !v.Synthetic || !strings.HasPrefix(v.Generator, c.recorded) {
				t.Errorf("%s: version %+v", c.g, v)
			}
			_, got, err := w.cat.Version(ctx, c.p, c.name, v.Version)
			if err != nil || got.Generator != v.Generator || !got.Synthetic {
				t.Errorf("%s: read back %+v, %v", c.g, got, err)
			}
		}
		// A reader who may not read the generator is not told its ID: dave
		// (no role) reads OPEN data but not jobs; instruments are OPEN
		// records.
		dave, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: "dave", Clearance: "OPEN"})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := c.Versions(ctx, dave, "sim-open")
		if err != nil || len(vs) != 2 {
			t.Fatalf("dave's versions: %+v, %v", vs, err)
		}
		for _, v := range vs {
			want := map[int64]string{1: "", 2: "instrument:ins_1"}[v.Version]
			if !v.Synthetic || v.Generator != want {
				t.Errorf("dave sees version %d: synthetic=%v generator=%q, want %q", v.Version, v.Synthetic, v.Generator, want)
			}
		}
		if _, v1, err := c.Version(ctx, dave, "sim-open", 1); err != nil || v1.Generator != "" || !v1.Synthetic {
			t.Errorf("dave reads version 1: %+v, %v", v1, err)
		}
		if _, v1, err := c.Version(ctx, w.bob, "sim-open", 1); err != nil || v1.Generator != "job:job_1" {
			t.Errorf("bob reads version 1: %+v, %v", v1, err)
		}

		// A model generator is a lineage input: the edge is there.
		g, err := c.Lineage(ctx, w.alice, catalog.VersionRef{Asset: "sim-fusion", Version: 2}, true, 1)
		if err != nil || len(g.Edges) != 1 || g.Edges[0].Parent.Version != 1 || !strings.HasPrefix(g.Edges[0].ActivityID, "model:mdl_") {
			t.Errorf("lineage of a model-generated version: %+v, %v", g, err)
		}

		// Missing and unreadable generators get the same answer.
		refuse := func(p *genesis.Principal, name string, spec catalog.CommitSpec, field, msg string) {
			t.Helper()
			_, err := putSpec(t, w, p, name, "refused "+spec.Generator+fmt.Sprint(spec.Synthetic), spec)
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != field || !strings.Contains(errors.SafeMessage(err), msg) {
				t.Errorf("%+v: %v (want %s: %q)", spec, err, field, msg)
			}
		}
		for _, gen := range []string{"job:job_secret", "job:job_none", "campaign:loop", "model:surrogate", "model:nothing", "model:measured"} {
			kind, _, _ := strings.Cut(gen, ":")
			_ = kind
			_, err := putSpec(t, w, w.bob, "sim-open", "hidden "+gen, catalog.CommitSpec{Synthetic: true, Generator: gen})
			want := "generator " + gen + ": not found"
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "generator" || errors.SafeMessage(err) != want {
				t.Errorf("bob names %s: %q, want %q", gen, errors.SafeMessage(err), want)
			}
		}
		// Bad input, every field.
		refuse(w.bob, "sim-open", catalog.CommitSpec{Synthetic: true}, "generator", "names its generator")
		refuse(w.bob, "sim-open", catalog.CommitSpec{Generator: "job:job_1"}, "synthetic", "only for a synthetic version")
		refuse(w.bob, "open-model", catalog.CommitSpec{Synthetic: true, Generator: "job:job_1"}, "synthetic", "only dataset versions")
		refuse(w.bob, "sim-open", catalog.CommitSpec{Synthetic: true, Generator: "robot:arm"}, "generator", "unknown kind")
		refuse(w.bob, "sim-open", catalog.CommitSpec{Synthetic: true, Generator: "job:"}, "generator", "no name")
		refuse(w.bob, "sim-open", catalog.CommitSpec{Synthetic: true, Generator: "job:a b"}, "generator", "lower-case letters")
		refuse(w.bob, "sim-open", catalog.CommitSpec{Synthetic: true, Generator: "job:\x1b[31m"}, "generator", "lower-case letters")
		refuse(w.bob, "sim-open", catalog.CommitSpec{Synthetic: true, Generator: "job:x\u202ey"}, "generator", "lower-case letters")
		refuse(w.bob, "sim-open", catalog.CommitSpec{Synthetic: true, Generator: "job:" + strings.Repeat("x", 300)}, "generator", "longer than")
		refuse(w.bob, "sim-open", catalog.CommitSpec{Synthetic: true, Generator: "instrument:kettle"}, "generator", "not a simulator")
		// Invariant 2: the version's label dominates the generator's.
		refuse(w.alice, "sim-low", catalog.CommitSpec{Synthetic: true, Generator: "job:job_secret"}, "generator", "no write down")
		refuse(w.alice, "sim-low", catalog.CommitSpec{Synthetic: true, Generator: "model:surrogate"}, "generator", "no write down")
		// Nothing refused was stored.
		if vs, err := c.Versions(ctx, w.alice, "sim-low"); err != nil || len(vs) != 0 {
			t.Errorf("refused puts stored versions: %v, %v", vs, err)
		}

		// Raising the model raises the version it generated.
		alice2, err := w.id.SetClearance(ctx, "alice", "PROPRIETARY//FUSION/ITAR")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Relabel(ctx, alice2, "surrogate", "PROPRIETARY//FUSION/ITAR"); err != nil {
			t.Fatal(err)
		}
		if _, v2, err := c.Version(ctx, alice2, "sim-fusion", 2); err != nil || v2.Label != "PROPRIETARY//FUSION/ITAR" {
			t.Errorf("raised model, its synthetic output: %+v, %v", v2, err)
		}

		// Search filters on it, counting only what the viewer reads.
		for _, viewer := range []*genesis.Principal{w.alice, w.bob, w.carol} {
			want := map[bool][]string{}
			var wantCount catalog.SyntheticCount
			joined := label.Label{}
			as, _, err := c.List(ctx, viewer, catalog.KindDataset, catalog.ListOptions{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range as {
				joined = label.Join(joined, label.MustParse(a.Label))
				if a.LatestVersion == 0 {
					wantCount.Empty++
					want[false] = append(want[false], a.ID)
					continue
				}
				_, v, err := c.Version(ctx, viewer, a.ID, a.LatestVersion)
				if err != nil {
					t.Fatal(err)
				}
				want[v.Synthetic] = append(want[v.Synthetic], a.ID)
				joined = label.Join(joined, label.MustParse(v.Label))
				if v.Synthetic {
					wantCount.Synthetic++
				} else {
					wantCount.Measured++
				}
			}
			for _, syn := range []bool{true, false} {
				r, err := c.Search(ctx, viewer, search.Query{Kind: "dataset", Synthetic: &syn, Limit: 100})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, h := range r.Hits {
					got = append(got, h.ID)
				}
				slices.Sort(got)
				slices.Sort(want[syn])
				if !slices.Equal(got, want[syn]) || r.Total != len(want[syn]) {
					t.Errorf("%s, synthetic=%v: %v, want %v", viewer.Name, syn, got, want[syn])
				}
			}
			r, err := c.Search(ctx, viewer, search.Query{Kind: "dataset", Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			facet := 0
			for _, f := range r.Facets[search.FacetSynthetic] {
				if f.Value == "true" {
					facet = f.Count
				}
			}
			if facet != len(want[true]) {
				t.Errorf("%s: synthetic facet %d, want %d", viewer.Name, facet, len(want[true]))
			}
			wantCount.Label = joined.Format()
			n, err := c.CountSynthetic(ctx, viewer)
			if err != nil || n != wantCount {
				t.Errorf("%s: count %+v, want %+v (%v)", viewer.Name, n, wantCount, err)
			}
		}
		// A measured version on top of a synthetic one takes the flag off.
		if _, err := putSpec(t, w, w.bob, "sim-open", "measured after all", catalog.CommitSpec{}); err != nil {
			t.Fatal(err)
		}
		yes := true
		r, err := c.Search(ctx, w.bob, search.Query{Synthetic: &yes})
		if err != nil || r.Total != 0 {
			t.Errorf("bob's synthetic datasets after a measured put: %+v, %v", r, err)
		}
	})
}

// FuzzParseGenerator: an accepted reference has a known kind and a name
// without separators or controls, and prints back to itself; a refusal
// is Invalid naming the generator field.
func FuzzParseGenerator(f *testing.F) {
	for _, s := range []string{"job:job_1", "campaign:loop", "instrument:twin", "model:surrogate", "MODEL:x", "job:", ":x", "robot:arm", "job:a b", "job:a:b", "job:\x00", " job:x ", "model:x@3", "job:é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		g, err := catalog.ParseGenerator(s)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "generator" {
				t.Fatalf("%q: %v", s, err)
			}
			return
		}
		if !slices.Contains([]string{catalog.GeneratorJob, catalog.GeneratorCampaign, catalog.GeneratorInstrument, catalog.GeneratorModel}, g.Kind) ||
			!genesis.ValidName(g.Name) || strings.ContainsAny(g.Name, " :@/\t\n\x00") {
			t.Fatalf("%q parsed to %+v", s, g)
		}
		again, err := catalog.ParseGenerator(g.String())
		if err != nil || again != g {
			t.Fatalf("%q → %+v → %+v, %v", s, g, again, err)
		}
	})
}

// TestGeneratedOutput: an in-process caller's own generator (the campaign
// runner on simulators) marks the output synthetic, checked against the
// output's label like any generator, and idempotent per activity.
func TestGeneratedOutput(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "observations.csv"), []byte("x,y\n1,2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		open := label.MustParse("OPEN")
		by := &catalog.GeneratedBy{Ref: "campaign:cmp_1", Label: open}
		out, err := w.cat.CommitOutputBy(ctx, w.alice, "loop-results", dir, open, nil, catalog.ActivityCampaign, "cmp_1 batch 1", by)
		if err != nil {
			t.Fatal(err)
		}
		_, v, err := w.cat.Version(ctx, w.alice, out.ID, out.Version)
		if err != nil || !v.Synthetic || v.Generator != "campaign:cmp_1" {
			t.Fatalf("generated output: %+v, %v", v, err)
		}
		again, err := w.cat.CommitOutputBy(ctx, w.alice, "loop-results", dir, open, nil, catalog.ActivityCampaign, "cmp_1 batch 1", by)
		if err != nil || again.Version != out.Version {
			t.Errorf("retry: %+v, %v", again, err)
		}
		high := &catalog.GeneratedBy{Ref: "campaign:cmp_2", Label: label.MustParse("PROPRIETARY")}
		if _, err := w.cat.CommitOutputBy(ctx, w.alice, "loop-results", dir, open, nil, catalog.ActivityCampaign, "cmp_2 batch 1", high); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "generator" {
			t.Errorf("generator above the output: %v", err)
		}
		// A plain output is measured.
		plain, err := w.cat.CommitOutput(ctx, w.alice, "job-results", dir, open, nil, catalog.ActivityJob, "job_1")
		if err != nil {
			t.Fatal(err)
		}
		if _, v, _ := w.cat.Version(ctx, w.alice, plain.ID, plain.Version); v == nil || v.Synthetic {
			t.Errorf("job output: %+v", v)
		}
	})
}

// TestReleasedSyntheticVersion: a declassified synthetic version is still
// synthetic data, but names no generator (which may be labelled above the
// released version); the source version, at its own label, still does.
func TestReleasedSyntheticVersion(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		c.SetGenerators(generators{"job:job_f": {id: "job_f", marking: "PROPRIETARY//FUSION", readers: []genesis.PrincipalID{w.alice.ID}}})
		mk := func(name string) *genesis.Principal {
			p, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleClassificationOfficer}})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		co1, co2 := mk("co1"), mk("co2")
		if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "sims", Label: "PROPRIETARY//FUSION"}); err != nil {
			t.Fatal(err)
		}
		if _, err := putSpec(t, w, w.alice, "sims", "simulated", catalog.CommitSpec{Synthetic: true, Generator: "job:job_f"}); err != nil {
			t.Fatal(err)
		}
		r, err := c.RequestRelease(ctx, co1, "sims", 0, "OPEN", "publishing the simulated data")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.DecideRelease(ctx, co2, r.ID, true); err != nil {
			t.Fatal(err)
		}
		_, v2, err := c.Version(ctx, w.bob, "sims", 2)
		if err != nil || !v2.Synthetic || v2.Generator != "" {
			t.Errorf("released version as bob sees it: %+v, %v", v2, err)
		}
		_, v1, err := c.Version(ctx, w.alice, "sims", 1)
		if err != nil || v1.Generator != "job:job_f" {
			t.Errorf("source version: %+v, %v", v1, err)
		}
		yes := true
		if res, err := c.Search(ctx, w.bob, search.Query{Synthetic: &yes}); err != nil || res.Total != 1 {
			t.Errorf("bob finds the released synthetic data: %+v, %v", res, err)
		}
		if n, err := c.CountSynthetic(ctx, w.bob); err != nil || n.Synthetic != 1 || n.Label != "OPEN" {
			t.Errorf("bob's count: %+v, %v", n, err)
		}
	})
}
