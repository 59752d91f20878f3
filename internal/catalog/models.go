package catalog

import (
	"context"
	"encoding/json"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// ModelMeta describes a model version beside its artifacts.
type ModelMeta struct {
	Framework string `json:"framework"`
	Task      string `json:"task"`
	// Metrics is a JSON object of named numbers (or nested objects).
	Metrics json.RawMessage `json:"metrics,omitempty"`
	// Card is the model card (Markdown).
	Card string `json:"card,omitempty"`
}

func (m *ModelMeta) check(op errors.Op) error {
	if m.Framework == "" || len(m.Framework) > 128 {
		return invalid(op, "model.framework", "framework is required (e.g. pytorch, jax, sklearn), at most 128 characters")
	}
	if m.Task == "" || len(m.Task) > 256 {
		return invalid(op, "model.task", "task is required (e.g. regression, segmentation), at most 256 characters")
	}
	if len(m.Metrics) > 0 {
		var obj map[string]any
		if err := json.Unmarshal(m.Metrics, &obj); err != nil {
			return invalid(op, "model.metrics", "metrics must be a JSON object")
		}
		if len(m.Metrics) > 1<<20 {
			return invalid(op, "model.metrics", "metrics exceed 1 MiB")
		}
	}
	if len(m.Card) > 1<<20 {
		return invalid(op, "model.card", "the model card exceeds 1 MiB")
	}
	return text.First(text.Line("model.framework", m.Framework, 128), text.Line("model.task", m.Task, 256), text.Block("model.card", m.Card, text.MaxDocument))
}

// RegisterSpec describes a model to register (or a new version's training
// data for an existing one).
type RegisterSpec struct {
	Name, Title, Description string
	Project                  string
	// Floor is an optional minimum label; the model's label is the join of
	// the floor and its training data's labels — computed, never typed down.
	Floor     string
	TrainedOn []VersionRef
}

// RegisterModel creates the model asset if it does not exist, with the
// label join(floor, training data), or raises an existing model's label to
// dominate it. It returns the model, ready for its artifacts and a Commit
// with Activity training and Inputs = TrainedOn.
func (s *Service) RegisterModel(ctx context.Context, p *genesis.Principal, spec RegisterSpec) (*Asset, error) {
	const op errors.Op = "catalog.RegisterModel"
	if len(spec.TrainedOn) == 0 {
		return nil, invalid(op, "trained_on", "a model names the dataset versions it was trained on")
	}
	_, join, _, err := s.resolveInputs(ctx, p, spec.TrainedOn)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if spec.Floor != "" {
		f, err := s.normLabel(ctx, op, p, spec.Floor)
		if err != nil {
			return nil, err
		}
		join = label.Join(join, f)
	}
	// The name is resolved as p sees the catalog (docs/DESIGN.md, "Names"):
	// a model p may not read is neither found nor in the way. A create that
	// lost a race to an asset p can see goes on with that one.
	existing, err := s.Get(ctx, p, spec.Name)
	if errors.Is(errors.NotExist, err) {
		a, err := s.Create(ctx, p, CreateSpec{Kind: KindModel, Name: spec.Name, Title: spec.Title, Description: spec.Description, Label: join.Format(), Project: spec.Project})
		if !errors.Is(errors.Exist, err) {
			if err != nil {
				return nil, errors.E(op, err)
			}
			return a, nil
		}
		existing, err = s.Get(ctx, p, spec.Name)
	}
	switch {
	case err != nil:
		return nil, errors.E(op, err)
	case existing.Kind != KindModel:
		return nil, invalid(op, "name", "an asset with that name exists and is not a model")
	}
	cur, err := label.Parse(existing.Label)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	if !label.Dominates(cur, join) {
		if existing, err = s.Relabel(ctx, p, existing.ID, label.Join(cur, join).Format()); err != nil {
			return nil, errors.E(op, err)
		}
	}
	return existing, nil
}

func insertModelMeta(ctx context.Context, tx store.Tx, asset string, version int64, m *ModelMeta) error {
	metrics := string(m.Metrics)
	if metrics == "" {
		metrics = "{}"
	}
	_, err := tx.Exec(ctx, `INSERT INTO model_versions (asset_id, version, framework, task, metrics, card) VALUES (?, ?, ?, ?, ?, ?)`,
		asset, version, m.Framework, m.Task, metrics, m.Card)
	return err
}

// ModelMeta returns the model metadata of a readable version (nil for
// versions without it).
func (s *Service) ModelMeta(ctx context.Context, p *genesis.Principal, idOrName string, v int64) (*Version, *ModelMeta, error) {
	const op errors.Op = "catalog.ModelMeta"
	a, ver, err := s.Version(ctx, p, idOrName, v)
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	var m ModelMeta
	var metrics string
	err = s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT framework, task, metrics, card FROM model_versions WHERE asset_id = ? AND version = ?`, a.ID, ver.Version).
			Scan(&m.Framework, &m.Task, &metrics, &m.Card)
	})
	if errors.Is(errors.NotExist, err) {
		return ver, nil, nil
	}
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	m.Metrics = json.RawMessage(metrics)
	return ver, &m, nil
}
