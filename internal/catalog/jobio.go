package catalog

import (
	"context"
	"io"
	"os"
	"path/filepath"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// Inputs resolves the versions a computation will read, as p: each must be
// readable (else Invalid naming the input, never revealing it). It returns
// them pinned to concrete versions, the join of their labels, and their
// total size.
func (s *Service) Inputs(ctx context.Context, p *genesis.Principal, refs []VersionRef) ([]VersionRef, label.Label, int64, error) {
	return s.resolveInputs(ctx, p, refs)
}

// Stage restores a readable version into dest (server side), read-only.
func (s *Service) Stage(ctx context.Context, p *genesis.Principal, ref VersionRef, dest string) error {
	return s.stage(ctx, p, ref, nil, dest)
}

// StageWithin is Stage for a computation labelled ceiling: a version
// whose label (with its inputs') ceiling does not dominate is refused. A
// job's input is named as its submitter saw the catalog then; should the
// name resolve to another asset now (the submitter's view changed: a new
// clearance, a release), nothing above the job's label reaches its site.
func (s *Service) StageWithin(ctx context.Context, p *genesis.Principal, ref VersionRef, ceiling label.Label, dest string) error {
	return s.stage(ctx, p, ref, &ceiling, dest)
}

func (s *Service) stage(ctx context.Context, p *genesis.Principal, ref VersionRef, ceiling *label.Label, dest string) error {
	const op errors.Op = "catalog.Stage"
	a, v, m, err := s.Manifest(ctx, p, ref.Asset, ref.Version)
	if err != nil {
		return errors.E(op, err)
	}
	if ceiling != nil {
		eff, err := s.effectiveLabel(ctx, a.ID, v.Version)
		if err != nil {
			return errors.E(op, err)
		}
		if !label.Dominates(*ceiling, eff) {
			return errors.E(op, errors.Invalid, errors.Field("inputs"), errors.Msg("input "+ref.Asset+" is labelled above the job's label "+ceiling.Format()+" now; submit the job again"))
		}
	}
	if _, err := pack.Restore(ctx, s.blobs, m, dest, pack.RestoreOptions{}); err != nil {
		return errors.E(op, err)
	}
	return filepath.Walk(dest, func(path string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			os.Chmod(path, fi.Mode().Perm()&^0o222)
		}
		return nil
	})
}

// AssetBlobs is one asset seen as a blob store, as principal p: what the
// transfer client does over HTTP, done in the server (job outputs, tests).
// Every call is decided like the HTTP one.
type AssetBlobs struct {
	s     *Service
	p     *genesis.Principal
	asset string
}

// Blobs returns asset's blob-store view for p.
func (s *Service) Blobs(p *genesis.Principal, asset string) AssetBlobs {
	return AssetBlobs{s: s, p: p, asset: asset}
}

// Put sends a chunk to the asset.
func (a AssetBlobs) Put(ctx context.Context, id blob.ID, data []byte) error {
	return a.s.PutChunk(ctx, a.p, a.asset, id, data)
}

// Missing asks which of ids the asset lacks, claiming them for it, as the
// transfer protocol's batched question does (pack asks through it).
func (a AssetBlobs) Missing(ctx context.Context, ids []blob.ID) ([]blob.ID, error) {
	return a.s.MissingChunks(ctx, a.p, a.asset, ids)
}

// PutTrusted stores a chunk pack has just hashed in this process, as the
// transfer protocol receives one: durable by the asset's next Commit,
// which syncs every chunk the asset holds uncommitted.
func (a AssetBlobs) PutTrusted(ctx context.Context, id blob.ID, data []byte) error {
	return a.s.receiveHashed(ctx, a.p, a.asset, id, data)
}

var (
	_ blob.MissingFinder = AssetBlobs{}
	_ blob.TrustedPutter = AssetBlobs{}
)

// Stat reports whether the asset holds the chunk.
func (a AssetBlobs) Stat(ctx context.Context, id blob.ID) (blob.Info, error) {
	ok, err := a.s.HasChunks(ctx, a.p, a.asset, []blob.ID{id})
	if err != nil {
		return blob.Info{}, err
	}
	if !ok[0] {
		return blob.Info{}, errors.E(errors.NotExist)
	}
	return blob.Info{ID: id}, nil
}

// Get reads a chunk of the asset's versions.
func (a AssetBlobs) Get(ctx context.Context, id blob.ID, off, n int64) ([]byte, error) {
	return a.s.GetChunk(ctx, a.p, a.asset, id, off, n)
}

// Output is what a computation produced for one asset: its name, and its
// ID (names are not unique across principals' views; docs/DESIGN.md).
type Output struct {
	Asset   string `json:"asset"`
	ID      string `json:"id,omitempty"`
	Version int64  `json:"version"`
}

// CommitOutput stores path (a file or directory a computation wrote) as a
// new version of the dataset named name — created with label l if it does
// not exist — derived from inputs by activity/activityID. It is idempotent
// per (asset, activityID): a second call returns the version the first
// made, so a retried job commits its outputs once.
func (s *Service) CommitOutput(ctx context.Context, p *genesis.Principal, name, path string, l label.Label, inputs []VersionRef, activity, activityID string) (*Output, error) {
	return s.CommitOutputBy(ctx, p, name, path, l, inputs, activity, activityID, nil)
}

// CommitOutputBy is CommitOutput for data made by a generator the caller
// already decided on (by, if not nil): the version is marked synthetic
// with it (see GeneratedBy).
func (s *Service) CommitOutputBy(ctx context.Context, p *genesis.Principal, name, path string, l label.Label, inputs []VersionRef, activity, activityID string, by *GeneratedBy) (*Output, error) {
	const op errors.Op = "catalog.CommitOutput"
	if err := s.CheckOutput(ctx, p, KindDataset, name, l); err != nil {
		return nil, errors.E(op, err)
	}
	// The name is resolved as p sees the catalog, now (docs/DESIGN.md,
	// "Names"): assets p may not read neither receive the output nor stop
	// it. A create that lost a race to an asset p can see writes into that.
	a, err := s.Get(ctx, p, name)
	for range 2 {
		if !errors.Is(errors.NotExist, err) {
			break
		}
		a, err = s.Create(ctx, p, CreateSpec{Kind: KindDataset, Name: name, Label: l.Format(), Title: "Output of " + activity + " " + activityID})
		if errors.Is(errors.Exist, err) {
			a, err = s.Get(ctx, p, name)
		}
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	o, err := s.commitOutput(ctx, p, a, path, inputs, activity, activityID, nil, by)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return o, nil
}

// ModelOutput describes a model a computation trained.
type ModelOutput struct {
	// Name is the model; it is registered if it does not exist, with the
	// label join(Floor, the inputs' labels), and raised to dominate it if
	// it does.
	Name  string
	Floor label.Label
	Meta  ModelMeta
	// Metrics and Card, if set, are paths relative to Dir — the model's
	// directory — of files the computation wrote: a JSON object of metrics
	// and a Markdown model card. They are read inside Dir only (a symbolic
	// link out of it is refused: the computation may run as another user).
	Dir, Metrics, Card string
}

// Load reads m's metrics and card into its metadata and checks it: what
// CommitModelOutput does before it registers anything, and what a caller
// committing several outputs together checks before it commits any.
func (m ModelOutput) Load() (ModelMeta, error) {
	const op errors.Op = "catalog.ModelOutput"
	meta := m.Meta
	for _, f := range []struct {
		path, what string
		dst        func([]byte)
	}{
		{m.Metrics, "metrics", func(b []byte) { meta.Metrics = b }},
		{m.Card, "model card", func(b []byte) { meta.Card = string(b) }},
	} {
		if f.path == "" {
			continue
		}
		b, err := readSmall(m.Dir, f.path, 1<<20)
		if err != nil {
			return meta, errors.E(op, errors.Invalid, errors.Field("models"), errors.Msg("the "+f.what+" file "+filepath.Base(f.path)+" is missing from the model's directory, unreadable or larger than 1 MiB"), err)
		}
		f.dst(b)
	}
	if err := meta.check(op); err != nil {
		return meta, err
	}
	return meta, nil
}

// CommitModelOutput stores path as a new version of the model m.Name,
// trained on inputs by activity/activityID, with its metrics and card.
// Like CommitOutput it is idempotent per (model, activityID).
func (s *Service) CommitModelOutput(ctx context.Context, p *genesis.Principal, m ModelOutput, path string, inputs []VersionRef, activity, activityID string) (*Output, error) {
	const op errors.Op = "catalog.CommitModelOutput"
	// Everything that can be wrong with the model is checked before it is
	// registered: a refused model leaves no empty model behind.
	meta, err := m.Load()
	if err != nil {
		return nil, errors.E(op, err)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("models"), errors.Msg("model output "+filepath.Base(path)+" is missing or unreadable"))
	}
	a, err := s.RegisterModel(ctx, p, RegisterSpec{Name: m.Name, Title: "Trained by " + activity + " " + activityID, Floor: m.Floor.Format(), TrainedOn: inputs})
	if err != nil {
		return nil, errors.E(op, err)
	}
	o, err := s.commitOutput(ctx, p, a, path, inputs, activity, activityID, &meta, nil)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return o, nil
}

// readSmall reads the regular file name, inside dir, of at most max bytes.
func readSmall(dir, name string, max int64) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() || fi.Size() > max {
		return nil, errors.Errorf("not a regular file of at most %d bytes", max)
	}
	return io.ReadAll(io.LimitReader(f, max+1))
}

// commitOutput packs path into a new version of a, once per activityID.
func (s *Service) commitOutput(ctx context.Context, p *genesis.Principal, a *Asset, path string, inputs []VersionRef, activity, activityID string, model *ModelMeta, by *GeneratedBy) (*Output, error) {
	var done int64
	err := s.db.View(ctx, func(tx store.Tx) error {
		// The version's message names the activity: the marker that works
		// with or without inputs.
		return tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM asset_versions WHERE asset_id = ? AND message = ?`, a.ID, activity+" "+activityID).Scan(&done)
	})
	if err != nil {
		return nil, err
	}
	if done > 0 {
		return &Output{Asset: a.Name, ID: a.ID, Version: done}, nil
	}
	srcs, err := pack.Sources([]string{path}, nil)
	if err != nil {
		return nil, errors.E(errors.Invalid, errors.Field("outputs"), errors.Msg("output "+filepath.Base(path)+" is missing or unreadable"), err)
	}
	res, err := pack.Pack(ctx, s.Blobs(p, a.ID), srcs, pack.Options{})
	if err != nil {
		return nil, err
	}
	v, err := s.Commit(ctx, p, a.ID, CommitSpec{Manifest: res.ID, Inputs: inputs, Activity: activity, ActivityID: activityID, Message: activity + " " + activityID, Model: model, Generated: by})
	if err != nil {
		return nil, err
	}
	return &Output{Asset: a.Name, ID: a.ID, Version: v.Version}, nil
}
