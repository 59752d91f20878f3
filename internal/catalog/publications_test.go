package catalog_test

import (
	"context"
	"slices"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// PutPublication: the caller's writes share the version's transaction (an
// error there leaves no asset, version or metadata); identical content is
// unchanged and calls nothing; a label change (raise, release) calls the
// OnLabelChange hooks inside its transaction.
func TestPublications(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		var changed []string
		c.OnLabelChange(func(ctx context.Context, tx store.Tx, assets []string) error {
			changed = append(changed, assets...)
			return nil
		})
		if _, err := c.MayCreatePublication(ctx, w.bob, "PROPRIETARY", ""); !errors.Is(errors.Permission, err) {
			t.Errorf("bob at PROPRIETARY: %v", err)
		}
		tg, err := c.MayCreatePublication(ctx, w.alice, "PROPRIETARY//FUSION", "")
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		spec := catalog.PublicationSpec{SourceID: "doi:10.1/x", Name: "doi-10.1-x", Core: meta.Core{Title: "A paper"}, File: "document.json", Content: []byte(`{"title":"A paper"}`),
			Tx: func(ctx context.Context, tx store.Tx, a *catalog.Asset, v int64) error {
				calls++
				return errors.E(errors.Invalid, errors.Msg("refused by the caller"))
			}}
		if _, err := c.PutPublication(ctx, w.alice, tg, spec); !errors.Is(errors.Invalid, err) || calls != 1 {
			t.Fatalf("failing Tx: %v, %d calls", err, calls)
		}
		if _, err := c.Get(ctx, w.alice, "doi-10.1-x"); !errors.Is(errors.NotExist, err) {
			t.Fatalf("a failed publication left an asset: %v", err)
		}
		spec.Tx = func(ctx context.Context, tx store.Tx, a *catalog.Asset, v int64) error { calls++; return nil }
		res, err := c.PutPublication(ctx, w.alice, tg, spec)
		if err != nil || res.Status != catalog.PublicationCreated || res.Version != 1 || res.Asset.Kind != catalog.KindPublication || res.Asset.Name != "doi-10.1-x" {
			t.Fatalf("create: %+v %v", res, err)
		}
		if again, err := c.PutPublication(ctx, w.alice, tg, spec); err != nil || again.Status != catalog.PublicationUnchanged || again.Version != 1 || calls != 2 {
			t.Fatalf("again: %+v %v (%d calls)", again, err, calls)
		}
		spec.Content = []byte(`{"title":"A paper, revised"}`)
		if up, err := c.PutPublication(ctx, w.alice, tg, spec); err != nil || up.Status != catalog.PublicationUpdated || up.Version != 2 || up.Asset.ID != res.Asset.ID {
			t.Fatalf("update: %+v %v", up, err)
		}
		if _, m, err := c.GetMetadata(ctx, w.alice, res.Asset.ID); err != nil || m.SourceID != "doi:10.1/x" {
			t.Errorf("metadata: %+v %v", m, err)
		}
		// Carol (viewer) can read but not write it: her import is refused.
		tc, err := c.MayCreatePublication(ctx, w.carol, "PROPRIETARY//FUSION", "")
		if err == nil {
			if _, err := c.PutPublication(ctx, w.carol, tc, spec); err == nil {
				t.Error("carol updated alice's publication")
			}
		}
		if _, err := c.Relabel(ctx, w.alice, res.Asset.ID, "NATIONAL-SECURITY//FUSION"); err == nil {
			t.Error("alice raised above her clearance")
		}
		to, err := c.MayCreatePublication(ctx, w.alice, "OPEN", "")
		if err != nil {
			t.Fatal(err)
		}
		open, err := c.PutPublication(ctx, w.alice, to, catalog.PublicationSpec{SourceID: "doi:10.1/open", Name: "open-paper", Core: meta.Core{Title: "Open"},
			File: "document.json", Content: []byte(`{}`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Relabel(ctx, w.alice, open.Asset.ID, "PROPRIETARY//FUSION"); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(changed, open.Asset.ID) {
			t.Errorf("the raise did not call the label hook: %v", changed)
		}
		officer, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: "officer", Clearance: "NATIONAL-SECURITY//FUSION", Roles: []genesis.Role{genesis.RoleClassificationOfficer}})
		if err != nil {
			t.Fatal(err)
		}
		officer2, err := w.id.CreatePrincipal(ctx, genesis.Principal{Name: "officer2", Clearance: "NATIONAL-SECURITY//FUSION", Roles: []genesis.Role{genesis.RoleClassificationOfficer}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := c.RequestRelease(ctx, officer, res.Asset.ID, 2, "OPEN", "published in a journal")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.DecideRelease(ctx, officer2, r.ID, true); err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(changed, res.Asset.ID) {
			t.Errorf("the release did not call the label hook: %v", changed)
		}
	})
}
