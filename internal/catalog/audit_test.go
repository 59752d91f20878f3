package catalog_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestAU5: when the audit log cannot be written, actions on
// NATIONAL-SECURITY data fail; others are not blocked by it.
func TestAU5(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	w := newWorld(t, db)
	w.id.SetClearance(ctx, "alice", "NATIONAL-SECURITY//FUSION")
	alice, _ := w.id.Principal(ctx, w.admin, "alice")
	w.log.Fail = errors.New("disk full")
	if _, err := w.cat.Create(ctx, alice, catalog.CreateSpec{Name: "ns", Label: "NATIONAL-SECURITY"}); !errors.Is(errors.Unavailable, err) {
		t.Errorf("NATIONAL-SECURITY create with a broken audit log: %v", err)
	}
	if _, err := w.cat.Get(ctx, alice, "ns"); !errors.Is(errors.NotExist, err) {
		t.Errorf("the refused create left an asset behind: %v", err)
	}
	rec := audit.Record{Principal: string(alice.ID), Action: "x", ObjectType: "dataset", ObjectID: "d", Decision: audit.Allow}
	if err := catalog.Record(ctx, w.log, rec, label.MustParse("NATIONAL-SECURITY")); !errors.Is(errors.Unavailable, err) {
		t.Errorf("Record NS with failing log: %v", err)
	}
	w.log.Fail = nil
	if err := catalog.Record(ctx, w.log, rec, label.MustParse("NATIONAL-SECURITY")); err != nil {
		t.Fatal(err)
	}
	got, _ := w.log.Get(ctx, 0)
	ns, _ := label.MustParse("NATIONAL-SECURITY").MarshalBinary()
	open, _ := label.MustParse("OPEN").MarshalBinary()
	if !w.log.LabelMatches(got, ns) || w.log.LabelMatches(got, open) {
		t.Errorf("label hash not filled in: %x", got.LabelHash)
	}
	if h := label.MustParse("NATIONAL-SECURITY").Hash(); string(got.LabelHash) == string(h[:]) {
		t.Error("the label hash is a bare SHA-256 of the label")
	}
}
