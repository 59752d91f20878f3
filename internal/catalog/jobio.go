package catalog

import (
	"context"
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
	const op errors.Op = "catalog.Stage"
	_, _, m, err := s.Manifest(ctx, p, ref.Asset, ref.Version)
	if err != nil {
		return errors.E(op, err)
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

// Output is what a computation produced for one asset.
type Output struct {
	Asset   string `json:"asset"`
	Version int64  `json:"version"`
}

// CommitOutput stores path (a file or directory a computation wrote) as a
// new version of the dataset named name — created with label l if it does
// not exist — derived from inputs by activity/activityID. It is idempotent
// per (asset, activityID): a second call returns the version the first
// made, so a retried job commits its outputs once.
func (s *Service) CommitOutput(ctx context.Context, p *genesis.Principal, name, path string, l label.Label, inputs []VersionRef, activity, activityID string) (*Output, error) {
	const op errors.Op = "catalog.CommitOutput"
	a, err := s.Get(ctx, p, name)
	if errors.Is(errors.NotExist, err) {
		a, err = s.Create(ctx, p, CreateSpec{Kind: KindDataset, Name: name, Label: l.Format(), Title: "Output of " + activity + " " + activityID})
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	var done int64
	err = s.db.View(ctx, func(tx store.Tx) error {
		// The version's message names the activity: the marker that works
		// with or without inputs.
		return tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM asset_versions WHERE asset_id = ? AND message = ?`, a.ID, activity+" "+activityID).Scan(&done)
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if done > 0 {
		return &Output{Asset: a.Name, Version: done}, nil
	}
	srcs, err := pack.Sources([]string{path}, nil)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("outputs"), errors.Msg("output "+filepath.Base(path)+" is missing or unreadable"), err)
	}
	res, err := pack.Pack(ctx, s.Blobs(p, a.ID), srcs, pack.Options{})
	if err != nil {
		return nil, errors.E(op, err)
	}
	v, err := s.Commit(ctx, p, a.ID, CommitSpec{Manifest: res.ID, Inputs: inputs, Activity: activity, ActivityID: activityID, Message: activity + " " + activityID})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return &Output{Asset: a.Name, Version: v.Version}, nil
}
