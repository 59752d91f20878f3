package catalog_test

import (
	"encoding/json"
	"testing"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestModelRegistry(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		c := w.cat
		c.Create(ctx, w.alice, catalog.CreateSpec{Name: "open-data", Label: "OPEN"})
		c.Create(ctx, w.alice, catalog.CreateSpec{Name: "fusion-data", Label: "PROPRIETARY//FUSION"})
		putOne(t, w, w.alice, "open-data", "x")
		putOne(t, w, w.alice, "fusion-data", "y")
		trained := []catalog.VersionRef{{Asset: "open-data", Version: 1}, {Asset: "fusion-data", Version: 1}}

		if _, err := c.RegisterModel(ctx, w.alice, catalog.RegisterSpec{Name: "surrogate"}); errors.FieldOf(err) != "trained_on" {
			t.Errorf("no training data: %v", err)
		}
		m, err := c.RegisterModel(ctx, w.alice, catalog.RegisterSpec{Name: "surrogate", Floor: "OPEN", TrainedOn: trained})
		if err != nil {
			t.Fatal(err)
		}
		if m.Kind != catalog.KindModel || m.Label != "PROPRIETARY//FUSION" {
			t.Errorf("model = %+v (label must be the join of its training data)", m)
		}
		// Artifacts and metadata.
		data := []byte("weights")
		id := blob.Sum(data)
		man := &manifest.Manifest{Entries: []manifest.Entry{{Path: "model.bin", Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id,
			Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
		raw, _ := man.Marshal()
		c.PutChunk(ctx, w.alice, "surrogate", id, data)
		c.PutChunk(ctx, w.alice, "surrogate", blob.Sum(raw), raw)
		meta := &catalog.ModelMeta{Framework: "pytorch", Task: "regression", Metrics: json.RawMessage(`{"rmse": 0.12, "r2": 0.97}`), Card: "# Surrogate\nTrained on shots."}
		if _, err := c.Commit(ctx, w.alice, "surrogate", catalog.CommitSpec{Manifest: blob.Sum(raw), Inputs: trained, Model: &catalog.ModelMeta{Task: "x"}}); errors.FieldOf(err) != "model.framework" {
			t.Errorf("missing framework: %v", err)
		}
		if _, err := c.Commit(ctx, w.alice, "surrogate", catalog.CommitSpec{Manifest: blob.Sum(raw), Inputs: trained, Model: &catalog.ModelMeta{Framework: "f", Task: "t", Metrics: json.RawMessage(`[1]`)}}); errors.FieldOf(err) != "model.metrics" {
			t.Errorf("metrics not an object: %v", err)
		}
		v, err := c.Commit(ctx, w.alice, "surrogate", catalog.CommitSpec{Manifest: blob.Sum(raw), Inputs: trained, Model: meta})
		if err != nil {
			t.Fatal(err)
		}
		_, got, err := c.ModelMeta(ctx, w.carol, "surrogate", v.Version)
		if err != nil || got == nil || got.Framework != "pytorch" || string(got.Metrics) != `{"rmse": 0.12, "r2": 0.97}` {
			t.Errorf("model meta = %+v, %v", got, err)
		}
		g, err := c.Lineage(ctx, w.carol, catalog.VersionRef{Asset: "surrogate"}, true, 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(g.Edges) != 2 || g.Edges[0].Activity != catalog.ActivityTraining {
			t.Errorf("training lineage = %+v", g.Edges)
		}
		if _, err := c.Get(ctx, w.bob, "surrogate"); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob sees the model: %v", err)
		}
		// Inference outputs inherit the model's label (no write down).
		c.Create(ctx, w.alice, catalog.CreateSpec{Name: "predictions", Label: "OPEN"})
		if _, err := putOne(t, w, w.alice, "predictions", "p", catalog.VersionRef{Asset: "surrogate", Version: v.Version}); errors.FieldOf(err) != "inputs" {
			t.Errorf("OPEN predictions from a PROPRIETARY model: %v", err)
		}
		// A dataset is not a model.
		if _, err := c.RegisterModel(ctx, w.alice, catalog.RegisterSpec{Name: "open-data", TrainedOn: trained}); errors.FieldOf(err) != "name" {
			t.Errorf("register over a dataset: %v", err)
		}
	})
}
