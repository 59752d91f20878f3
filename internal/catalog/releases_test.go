package catalog_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestDeclassification(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		mk := func(name string) *genesis.Principal {
			p, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleClassificationOfficer}})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		co1, co2 := mk("co1"), mk("co2")
		if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: "results", Label: "PROPRIETARY//FUSION"}); err != nil {
			t.Fatal(err)
		}
		src := t.TempDir()
		randomTree(t, src, newRand())
		srcs, _ := pack.Sources([]string{src}, nil)
		res, err := pack.Pack(ctx, assetStore(c, w.alice, "results"), srcs, pack.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Commit(ctx, w.alice, "results", catalog.CommitSpec{Manifest: res.ID}); err != nil {
			t.Fatal(err)
		}

		// Only a classification officer requests, only to a lower label.
		if _, err := c.RequestRelease(ctx, w.alice, "results", 0, "OPEN", "publishing the paper's data"); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor requests release: %v", err)
		}
		if _, err := c.RequestRelease(ctx, co1, "results", 0, "NATIONAL-SECURITY//FUSION", "raising is not a release"); errors.FieldOf(err) != "to_label" {
			t.Errorf("raising via release: %v", err)
		}
		if _, err := c.RequestRelease(ctx, co1, "results", 0, "OPEN", "short"); errors.FieldOf(err) != "justification" {
			t.Errorf("no justification: %v", err)
		}
		if _, err := c.RequestRelease(ctx, w.bob, "results", 0, "OPEN", "publishing the paper's data"); !errors.Is(errors.NotExist, err) {
			t.Errorf("uncleared requester: %v", err)
		}
		r, err := c.RequestRelease(ctx, co1, "results", 0, "OPEN", "publishing the paper's data")
		if err != nil {
			t.Fatal(err)
		}
		// Two-person rule.
		if _, err := c.DecideRelease(ctx, co1, r.ID, true); !errors.Is(errors.Permission, err) {
			t.Errorf("self-approval: %v", err)
		}
		if _, err := c.DecideRelease(ctx, w.alice, r.ID, true); !errors.Is(errors.Permission, err) {
			t.Errorf("approval by a contributor: %v", err)
		}
		if _, err := c.Get(ctx, w.bob, "results"); !errors.Is(errors.NotExist, err) {
			t.Errorf("visible before approval: %v", err)
		}
		done, err := c.DecideRelease(ctx, co2, r.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if done.State != catalog.ReleaseApproved || done.NewVersion == nil || *done.NewVersion != 2 {
			t.Fatalf("release = %+v", done)
		}
		if _, err := c.DecideRelease(ctx, co2, r.ID, true); !errors.Is(errors.Conflict, err) {
			t.Errorf("second approval: %v", err)
		}
		// The new version is OPEN and cites the release; the old one keeps
		// its label and stays invisible to the uncleared.
		a, v, err := c.Version(ctx, w.bob, "results", 0)
		if err != nil {
			t.Fatalf("bob reads released version: %v", err)
		}
		if a.Label != "OPEN" || v.Label != "OPEN" || v.Manifest != res.ID.String() {
			t.Errorf("released = %+v %+v", a, v)
		}
		// The release record, its message and the parent name the original
		// version: only those who may read it see them.
		if v.ReleaseID != "" || v.Message != "" || v.Parent != nil {
			t.Errorf("bob sees what names the hidden version: %+v", v)
		}
		if _, v, err := c.Version(ctx, w.carol, "results", 0); err != nil || v.ReleaseID != r.ID || v.Parent == nil || *v.Parent != 1 || v.Message == "" {
			t.Errorf("carol's view of the released version = %+v, %v", v, err)
		}
		if _, _, err := c.Version(ctx, w.bob, "results", 1); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob reads the original version: %v", err)
		}
		// Its lineage cites the release — for those who may see the original.
		g, err := c.Lineage(ctx, w.carol, catalog.VersionRef{Asset: "results", Version: 2}, true, 3)
		if err != nil || len(g.Edges) != 1 || g.Edges[0].Activity != catalog.ActivityDeclassification || g.Edges[0].ActivityID != r.ID {
			t.Errorf("released version's lineage = %+v, %v", g, err)
		}
		if g, _ := c.Lineage(ctx, w.bob, catalog.VersionRef{Asset: "results", Version: 2}, true, 3); g == nil || len(g.Edges) != 0 || len(g.Nodes) != 1 {
			t.Errorf("bob's view of the released version's lineage = %+v", g)
		}
		// The release record is readable only by those cleared for the
		// original label.
		if rs, _ := c.Releases(ctx, w.bob); len(rs) != 0 {
			t.Errorf("bob sees releases %v", rs)
		}
		if rs, _ := c.Releases(ctx, w.carol); len(rs) != 1 {
			t.Errorf("carol sees %d releases", len(rs))
		}

		// A rejection changes nothing.
		c.Create(ctx, w.alice, catalog.CreateSpec{Name: "other", Label: "PROPRIETARY//FUSION"})
		res2, _ := pack.Pack(ctx, assetStore(c, w.alice, "other"), srcs, pack.Options{})
		c.Commit(ctx, w.alice, "other", catalog.CommitSpec{Manifest: res2.ID})
		r2, err := c.RequestRelease(ctx, co2, "other", 1, "OPEN", "no good reason at all")
		if err != nil {
			t.Fatal(err)
		}
		if rej, err := c.DecideRelease(ctx, co1, r2.ID, false); err != nil || rej.State != catalog.ReleaseRejected || rej.NewVersion != nil {
			t.Errorf("reject: %+v %v", rej, err)
		}
		if _, err := c.Get(ctx, w.bob, "other"); !errors.Is(errors.NotExist, err) {
			t.Errorf("rejected release lowered the label: %v", err)
		}
	})
}

func TestMayReadLabelOf(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	w := newWorld(t, db)
	a, err := w.cat.Create(ctx, w.alice, catalog.CreateSpec{Name: "d", Label: "PROPRIETARY//FUSION"})
	if err != nil {
		t.Fatal(err)
	}
	h := func(m string) func(label.Label) bool {
		want := mustLabel(t, m)
		return func(l label.Label) bool { return label.Equal(l, want) }
	}
	if !w.cat.MayReadLabelOf(ctx, w.carol, a.ID, h("PROPRIETARY//FUSION")) {
		t.Error("cleared reader refused")
	}
	if w.cat.MayReadLabelOf(ctx, w.bob, a.ID, h("PROPRIETARY//FUSION")) {
		t.Error("uncleared reader allowed")
	}
	if w.cat.MayReadLabelOf(ctx, w.carol, a.ID, h("OPEN")) {
		t.Error("a label the asset never had was accepted")
	}
	if w.cat.MayReadLabelOf(ctx, w.carol, "ds_nope", h("PROPRIETARY//FUSION")) {
		t.Error("missing asset accepted")
	}
}

func mustLabel(t *testing.T, m string) label.Label {
	l, err := label.Parse(m)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestLabelDeciderMatchesGet decides random batches of records about random
// assets (and missing ones) for each viewer with one LabelDecider, and
// checks each answer against a reference: a record is readable exactly when
// it was made under the asset's label and the viewer may Get the asset.
func TestLabelDeciderMatchesGet(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	w := newWorld(t, db)
	rng := rand.New(rand.NewPCG(7, 16))
	markings := []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION"}
	labelOf := map[string]string{}
	var ids []string
	for i := range 40 {
		m := markings[rng.IntN(len(markings))]
		a, err := w.cat.Create(ctx, w.alice, catalog.CreateSpec{Name: fmt.Sprintf("d%d", i), Label: m})
		if err != nil {
			t.Fatal(err)
		}
		labelOf[a.ID] = m
		ids = append(ids, a.ID)
	}
	ids = append(ids, "ds_missing1", "ds_missing2")
	for _, viewer := range []*genesis.Principal{w.admin, w.alice, w.bob, w.carol} {
		for range 5 {
			batch := make([]string, 1+rng.IntN(30))
			for i := range batch {
				batch[i] = ids[rng.IntN(len(ids))]
			}
			d, err := w.cat.NewLabelDecider(ctx, viewer, batch)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range batch {
				for _, rec := range markings {
					want := mustLabel(t, rec)
					got := d.MayRead(ctx, id, func(l label.Label) bool { return label.Equal(l, want) })
					_, gerr := w.cat.Get(ctx, viewer, id)
					ref := labelOf[id] == rec && gerr == nil
					if got != ref {
						t.Errorf("%s reading %s (label %q) recorded under %s: decider %v, reference %v", viewer.Name, id, labelOf[id], rec, got, ref)
					}
					if one := w.cat.MayReadLabelOf(ctx, viewer, id, func(l label.Label) bool { return label.Equal(l, want) }); one != got {
						t.Errorf("MayReadLabelOf %v, decider %v", one, got)
					}
				}
			}
		}
	}
}
