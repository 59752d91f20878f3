package catalog_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// Property (invariant 4): after random puts, derivations, relabels and
// declassifications, every read path of the catalog shows each principal
// exactly what a reference model computed from the stored rows says it may
// read — an asset when its label is dominated by the principal's
// clearance, a version when its asset and its own label are — and nothing
// it may not: no hidden version listed or counted (latest_version), no
// parent, release or message that names one, no lineage through one, and
// no hidden version's text anywhere in what the principal sees.
func TestVersionsVisibleLikeModel(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		for seed := uint64(1); seed <= 3; seed++ {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { testVersionsVisible(t, w, db, seed) })
		}
	})
}

var markings = []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "NATIONAL-SECURITY", "NATIONAL-SECURITY//FUSION"}

func testVersionsVisible(t *testing.T, w *world, db store.DB, seed uint64) {
	c := w.cat
	r := rand.New(rand.NewPCG(seed, 12))
	pfx := fmt.Sprintf("s%d-", seed)
	mk := func(name, clearance string, roles ...genesis.Role) *genesis.Principal {
		p, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: pfx + name, Clearance: clearance, Roles: roles})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	top := mk("top", "NATIONAL-SECURITY//FUSION", genesis.RoleContributor)
	co := []*genesis.Principal{mk("co1", "NATIONAL-SECURITY//FUSION", genesis.RoleClassificationOfficer), mk("co2", "NATIONAL-SECURITY//FUSION", genesis.RoleClassificationOfficer)}
	var readers []*genesis.Principal
	for i, m := range markings {
		readers = append(readers, mk(fmt.Sprint("reader", i), m, genesis.RoleViewer))
	}
	lab := func(m string) label.Label { return mustLabel(t, m) }

	// A random history.
	var names []string
	for i := range 5 {
		name := fmt.Sprintf("%sa%d", pfx, i)
		if _, err := c.Create(ctx, top, catalog.CreateSpec{Name: name, Label: markings[r.IntN(len(markings))]}); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	n := 0
	for range 40 {
		name := names[r.IntN(len(names))]
		a, err := c.Get(ctx, top, name)
		if err != nil {
			t.Fatal(err)
		}
		switch op := r.IntN(10); {
		case op < 5: // a put, perhaps derived from another asset's version
			var in []catalog.VersionRef
			if r.IntN(2) == 0 {
				o, _ := c.Get(ctx, top, names[r.IntN(len(names))])
				if o.LatestVersion > 0 && o.ID != a.ID {
					in = append(in, catalog.VersionRef{Asset: o.Name, Version: 1 + r.Int64N(o.LatestVersion)})
				}
			}
			n++
			_, err := putOne(t, w, top, name, fmt.Sprintf("<hidden-text-%d-%d>", seed, n), in...)
			if err != nil && errors.FieldOf(err) != "inputs" {
				t.Fatal(err)
			}
			if err == nil {
				// The message is the version's own text: set it after the
				// fact, as putOne does not take one.
				db.Update(ctx, func(tx store.Tx) error {
					_, err := tx.Exec(ctx, `UPDATE asset_versions SET message = ? WHERE asset_id = ? AND version = (SELECT latest_version FROM assets WHERE id = ?)`,
						fmt.Sprintf("<hidden-text-%d-%d>", seed, n), a.ID, a.ID)
					return err
				})
			}
		case op < 7: // raise the label
			var up []string
			for _, m := range markings {
				if label.Dominates(lab(m), lab(a.Label)) {
					up = append(up, m)
				}
			}
			if _, err := c.Relabel(ctx, top, name, up[r.IntN(len(up))]); err != nil {
				t.Fatal(err)
			}
		default: // declassify a version
			if a.LatestVersion == 0 {
				continue
			}
			_, v, err := c.Version(ctx, top, name, 1+r.Int64N(a.LatestVersion))
			if err != nil {
				t.Fatal(err)
			}
			var down []string
			for _, m := range markings {
				if label.Dominates(lab(v.Label), lab(m)) && m != v.Label {
					down = append(down, m)
				}
			}
			if len(down) == 0 {
				continue
			}
			k := r.IntN(2)
			rel, err := c.RequestRelease(ctx, co[k], name, v.Version, down[r.IntN(len(down))], "a random declassification")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.DecideRelease(ctx, co[1-k], rel.ID, true); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The stored truth.
	type vrow struct {
		v       catalog.Version
		release int64 // the version a release copied, 0 for none
	}
	assets := map[string]catalog.Asset{}
	versions := map[string][]vrow{} // newest first
	type edge struct{ child, parent catalog.VersionRef }
	var edges []edge
	var releases []catalog.Release
	err := db.View(ctx, func(tx store.Tx) error {
		for _, name := range names {
			var a catalog.Asset
			if err := tx.QueryRow(ctx, `SELECT id, name, label, latest_version FROM assets WHERE name = ?`, name).Scan(&a.ID, &a.Name, &a.Label, &a.LatestVersion); err != nil {
				return err
			}
			assets[a.ID] = a
			rows, err := tx.Query(ctx, `SELECT v.version, v.parent, v.message, v.label, COALESCE(v.release_id, ''), COALESCE(r.version, 0)
				FROM asset_versions v LEFT JOIN releases r ON r.id = v.release_id WHERE v.asset_id = ? ORDER BY v.version DESC`, a.ID)
			if err != nil {
				return err
			}
			if err := rows.Each(func() error {
				x := vrow{v: catalog.Version{Asset: a.ID}}
				err := rows.Scan(&x.v.Version, &x.v.Parent, &x.v.Message, &x.v.Label, &x.v.ReleaseID, &x.release)
				versions[a.ID] = append(versions[a.ID], x)
				return err
			}); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT child_asset, child_version, parent_asset, parent_version FROM lineage_edges`)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			var e edge
			err := rows.Scan(&e.child.Asset, &e.child.Version, &e.parent.Asset, &e.parent.Version)
			edges = append(edges, e)
			return err
		}); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, `SELECT id, asset_id, version FROM releases`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var x catalog.Release
			err := rows.Scan(&x.ID, &x.Asset, &x.Version)
			releases = append(releases, x)
			return err
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	hiddenSomewhere := false

	for _, p := range readers {
		cl := lab(p.Clearance)
		mayAsset := func(id string) bool { a, ok := assets[id]; return ok && label.Dominates(cl, lab(a.Label)) }
		labelOf := func(ref catalog.VersionRef) string {
			for _, x := range versions[ref.Asset] {
				if x.v.Version == ref.Version {
					return x.v.Label
				}
			}
			return ""
		}
		mayVersion := func(ref catalog.VersionRef) bool {
			m := labelOf(ref)
			return mayAsset(ref.Asset) && m != "" && label.Dominates(cl, lab(m))
		}
		// What the model says p sees of each version, and the text p must
		// never see.
		var secrets []string
		view := func(x vrow) catalog.Version {
			v := x.v
			if v.Parent != nil && !mayVersion(catalog.VersionRef{Asset: v.Asset, Version: *v.Parent}) {
				v.Parent = nil
			}
			if v.ReleaseID != "" && !mayVersion(catalog.VersionRef{Asset: v.Asset, Version: x.release}) {
				v.ReleaseID, v.Message = "", ""
			}
			return v
		}
		var seen []any // everything p is shown, searched for secrets at the end
		for id, a := range assets {
			var want []catalog.Version
			latest := int64(0)
			for _, x := range versions[id] {
				ref := catalog.VersionRef{Asset: id, Version: x.v.Version}
				if mayVersion(ref) {
					want = append(want, view(x))
					latest = max(latest, x.v.Version)
				} else {
					hiddenSomewhere = true
					secrets = append(secrets, x.v.Message)
				}
				if x.v.ReleaseID != "" && !mayVersion(catalog.VersionRef{Asset: id, Version: x.release}) {
					secrets = append(secrets, x.v.ReleaseID)
				}
			}
			got, err := c.Get(ctx, p, a.Name)
			if !mayAsset(id) {
				if !errors.Is(errors.NotExist, err) {
					t.Errorf("%s gets hidden %s: %v", p.Clearance, a.Name, err)
				}
				if _, err := c.Versions(ctx, p, a.Name); !errors.Is(errors.NotExist, err) {
					t.Errorf("%s lists the versions of hidden %s: %v", p.Clearance, a.Name, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s gets %s: %v", p.Clearance, a.Name, err)
			}
			seen = append(seen, got)
			if got.LatestVersion != latest {
				t.Errorf("%s: %s latest_version = %d, want %d", p.Clearance, a.Name, got.LatestVersion, latest)
			}
			vs, err := c.Versions(ctx, p, a.Name)
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, vs)
			if d := cmp.Diff(want, vs, cmpVersion, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("%s: versions of %s (-model +got):\n%s", p.Clearance, a.Name, d)
			}
			for n := int64(0); n <= a.LatestVersion+1; n++ {
				ref := catalog.VersionRef{Asset: id, Version: n}
				if n == 0 {
					ref.Version = latest
				}
				_, v, err := c.Version(ctx, p, a.Name, n)
				if !mayVersion(ref) {
					if !errors.Is(errors.NotExist, err) {
						t.Errorf("%s: %s@%d = %+v, %v; want not found", p.Clearance, a.Name, n, v, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %s@%d: %v", p.Clearance, a.Name, n, err)
				}
				seen = append(seen, v)
				var x vrow
				for _, y := range versions[id] {
					if y.v.Version == ref.Version {
						x = y
					}
				}
				if d := cmp.Diff(view(x), *v, cmpVersion); d != "" {
					t.Errorf("%s: %s@%d (-model +got):\n%s", p.Clearance, a.Name, n, d)
				}
				// Lineage, both ways: what p can reach through versions
				// it may read, within depth steps.
				for _, up := range []bool{true, false} {
					depth := 1 + r.IntN(3)
					g, err := c.Lineage(ctx, p, catalog.VersionRef{Asset: a.Name, Version: ref.Version}, up, depth)
					if err != nil {
						t.Fatal(err)
					}
					seen = append(seen, g)
					wantE := map[[2]catalog.VersionRef]bool{}
					wantN := map[catalog.VersionRef]bool{ref: true}
					dist := map[catalog.VersionRef]int{ref: 0}
					for front := []catalog.VersionRef{ref}; len(front) > 0; {
						var next []catalog.VersionRef
						for _, f := range front {
							if dist[f] >= depth {
								continue
							}
							for _, e := range edges {
								from, to := e.child, e.parent
								if !up {
									from, to = e.parent, e.child
								}
								if from != f || !mayVersion(to) {
									continue
								}
								wantE[[2]catalog.VersionRef{e.child, e.parent}], wantN[to] = true, true
								if _, ok := dist[to]; !ok {
									dist[to] = dist[f] + 1
									next = append(next, to)
								}
							}
						}
						front = next
					}
					gotE := map[[2]catalog.VersionRef]bool{}
					for _, e := range g.Edges {
						gotE[[2]catalog.VersionRef{e.Child, e.Parent}] = true
					}
					gotN := map[catalog.VersionRef]bool{}
					for _, n := range g.Nodes {
						gotN[catalog.VersionRef{Asset: n.Asset, Version: n.Version}] = true
					}
					if d := cmp.Diff(wantE, gotE); d != "" {
						t.Errorf("%s: lineage edges of %s (up %v, depth %d) (-model +got):\n%s", p.Clearance, ref, up, depth, d)
					}
					if d := cmp.Diff(wantN, gotN); d != "" {
						t.Errorf("%s: lineage nodes of %s (up %v, depth %d) (-model +got):\n%s", p.Clearance, ref, up, depth, d)
					}
				}
			}
		}
		// The list and search: the readable assets, with p's latest.
		list, _, err := c.List(ctx, p, catalog.KindDataset, catalog.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, list)
		for _, a := range list {
			if !strings.HasPrefix(a.Name, pfx) {
				continue
			}
			g, _ := c.Get(ctx, p, a.ID)
			if g == nil || a.LatestVersion != g.LatestVersion {
				t.Errorf("%s: listed %s at latest %d, got %+v", p.Clearance, a.Name, a.LatestVersion, g)
			}
		}
		res, err := c.Search(ctx, p, search.Query{Limit: search.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, res)
		var wantIDs, gotIDs []string
		for id := range assets {
			if mayAsset(id) {
				wantIDs = append(wantIDs, id)
			}
		}
		for _, h := range res.Hits {
			if strings.HasPrefix(h.Name, pfx) {
				gotIDs = append(gotIDs, h.ID)
			}
		}
		slices.Sort(wantIDs)
		slices.Sort(gotIDs)
		if d := cmp.Diff(wantIDs, gotIDs); d != "" {
			t.Errorf("%s: search hits (-model +got):\n%s", p.Clearance, d)
		}
		// Release records: those of versions p may read.
		rs, err := c.Releases(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, rs)
		var wantR, gotR []string
		for _, x := range releases {
			if mayVersion(catalog.VersionRef{Asset: x.Asset, Version: x.Version}) {
				wantR = append(wantR, x.ID)
			}
		}
		for _, x := range rs {
			if assets[x.Asset].ID != "" {
				gotR = append(gotR, x.ID)
			}
		}
		slices.Sort(wantR)
		slices.Sort(gotR)
		if d := cmp.Diff(wantR, gotR); d != "" {
			t.Errorf("%s: releases (-model +got):\n%s", p.Clearance, d)
		}
		// No hidden text anywhere in what p saw.
		b, _ := json.Marshal(seen)
		for _, s := range secrets {
			if s != "" && strings.Contains(string(b), s) {
				t.Errorf("%s sees hidden text %q", p.Clearance, s)
			}
		}
	}
	if !hiddenSomewhere {
		t.Fatal("no version was hidden from anyone: the history tests nothing")
	}
}

// cmpVersion compares versions as the model knows them.
var cmpVersion = cmp.Options{
	cmp.Transformer("modelled", func(v catalog.Version) [6]any {
		p := int64(0)
		if v.Parent != nil {
			p = *v.Parent
		}
		return [6]any{v.Asset, v.Version, p, v.Message, v.Label, v.ReleaseID}
	}),
}

// A lineage view never shows what lies beyond a version the reader may not
// read: bob (OPEN) looking upstream from a declassified version must not
// see the OPEN data the hidden original was derived from, nor where that
// came from — an edge between two readable versions reached only through
// a hidden one would betray it.
func TestLineageStopsAtHidden(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		co := func(name string) *genesis.Principal {
			p, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleClassificationOfficer}})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		co1, co2 := co("co1"), co("co2")
		for _, x := range []struct{ name, label string }{{"z", "OPEN"}, {"y", "OPEN"}, {"x", "PROPRIETARY//FUSION"}} {
			if _, err := c.Create(ctx, w.alice, catalog.CreateSpec{Name: x.name, Label: x.label}); err != nil {
				t.Fatal(err)
			}
		}
		must := func(_ *catalog.Version, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(putOne(t, w, w.alice, "z", "z"))
		must(putOne(t, w, w.alice, "y", "y", catalog.VersionRef{Asset: "z", Version: 1}))
		must(putOne(t, w, w.alice, "x", "x", catalog.VersionRef{Asset: "y", Version: 1}))
		r, err := c.RequestRelease(ctx, co1, "x", 1, "OPEN", "publish the derived result")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.DecideRelease(ctx, co2, r.ID, true); err != nil {
			t.Fatal(err)
		}
		g, err := c.Lineage(ctx, w.bob, catalog.VersionRef{Asset: "x", Version: 2}, true, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Edges) != 0 || len(g.Nodes) != 1 {
			t.Errorf("bob's upstream of x@2 = %+v, want x@2 alone", g)
		}
		if g, _ := c.Lineage(ctx, w.carol, catalog.VersionRef{Asset: "x", Version: 2}, true, 5); g == nil || len(g.Edges) != 3 {
			t.Errorf("carol's upstream of x@2 = %+v, want 3 edges", g)
		}
	})
}
