package catalog_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestExtensionSchemaAcrossReplicas: an extension schema registered, then
// replaced, through one replica's catalog is the one another replica's
// catalog (started before either) validates metadata against.
func TestExtensionSchemaAcrossReplicas(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		az, err := authz.New(w.id, time.Now)
		if err != nil {
			t.Fatal(err)
		}
		other := catalog.New(catalog.Config{DB: db, Blobs: w.blobs, Authz: az, Principals: w.id, Audit: w.log})
		if err := other.LoadExtensionSchemas(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := w.cat.Create(ctx, w.alice, catalog.CreateSpec{Name: "shots", Label: "OPEN"}); err != nil {
			t.Fatal(err)
		}
		core := meta.Core{Title: "Shots", Description: "shots"}
		v1 := `{"type":"object","required":["shot"],"properties":{"shot":{"type":"integer"}}}`
		if err := w.cat.RegisterExtensionSchema(ctx, w.admin, "fusion-shot", []byte(v1)); err != nil {
			t.Fatal(err)
		}
		if _, err := other.SetMetadata(ctx, w.alice, "shots", core, "fusion-shot", json.RawMessage(`{"shot":42}`)); err != nil {
			t.Fatalf("a schema registered on another replica: %v", err)
		}
		if _, err := other.SetMetadata(ctx, w.alice, "shots", core, "fusion-shot", json.RawMessage(`{"shot":"x"}`)); errors.FieldOf(err) != "extension" {
			t.Fatalf("a document the schema refuses: %v", err)
		}
		v2 := `{"type":"object","required":["shot","device"],"properties":{"shot":{"type":"integer"},"device":{"type":"string"}}}`
		if err := w.cat.RegisterExtensionSchema(ctx, w.admin, "fusion-shot", []byte(v2)); err != nil {
			t.Fatal(err)
		}
		if _, err := other.SetMetadata(ctx, w.alice, "shots", core, "fusion-shot", json.RawMessage(`{"shot":42}`)); errors.FieldOf(err) != "extension" {
			t.Fatalf("a document the replaced schema refuses was taken by another replica: %v", err)
		}
		if _, err := other.SetMetadata(ctx, w.alice, "shots", core, "fusion-shot", json.RawMessage(`{"shot":42,"device":"tokamak"}`)); err != nil {
			t.Fatalf("a document the replaced schema takes: %v", err)
		}
		if _, err := other.SetMetadata(ctx, w.alice, "shots", core, "no-such-schema", json.RawMessage(`{}`)); err == nil {
			t.Fatal("an unknown schema was accepted")
		}
	})
}
