package catalog

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// PublicationTarget is where p has been found allowed to create
// publications: a label and a project. Deciding it before a document is
// read means a caller who may not import is refused before any byte of
// the body is parsed.
type PublicationTarget struct {
	label   label.Label
	project string // resolved project ID, or ""
}

// Label is the target's label.
func (t *PublicationTarget) Label() label.Label { return t.label }

// MayCreatePublication decides whether p may create publications labelled
// marking in project (ID or name, "" for none), as Import decides for
// datasets, and returns the target for PutPublication.
func (s *Service) MayCreatePublication(ctx context.Context, p *genesis.Principal, marking, project string) (*PublicationTarget, error) {
	const op errors.Op = "catalog.MayCreatePublication"
	l, err := s.normLabel(ctx, op, p, marking)
	if err != nil {
		return nil, err
	}
	proj := projectResolver{s: s, p: p, name: project}
	pid, err := proj.get(ctx)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.mayCreate(ctx, p, &Asset{ID: newID("pub"), Kind: KindPublication, Label: l.Format(), Project: genesis.ProjectID(pid), Owner: p.ID}); err != nil {
		return nil, errors.E(op, err)
	}
	return &PublicationTarget{label: l, project: pid}, nil
}

// PublicationSpec is one publication to store: its source identity, the
// name it would like, its harmonised metadata and the content of its
// version (one file), and what else must be written with the version.
type PublicationSpec struct {
	// SourceID identifies the publication at its source ("doi:10.…",
	// "arxiv:…", "sha256:…"). A readable publication already holding it
	// is updated rather than a new one created (docs/DESIGN.md, "Names").
	SourceID string
	// Name is the preferred name of a new publication; -2, -3 … are
	// appended when p already sees an asset of that name.
	Name string
	Core meta.Core
	// File and Content are the version's one file.
	File    string
	Content []byte
	// Tx, if set, runs inside the transaction that stores a new version,
	// after the version row: whatever it writes is stored with the version
	// or not at all. a is the publication as stored (its Name final).
	Tx func(ctx context.Context, tx store.Tx, a *Asset, version int64) error
}

// Publication statuses.
const (
	PublicationCreated   = "created"
	PublicationUpdated   = "updated"
	PublicationUnchanged = "unchanged"
)

// PublicationResult says what PutPublication did.
type PublicationResult struct {
	Asset   *Asset
	Version int64
	Status  string // Publication* constants
}

// PutPublication stores spec as a publication of p's: a new publication
// at t's label and project, or — when p can read a publication holding
// spec.SourceID (the oldest, if several) — a new version of it, which p
// must be allowed to write. Identical content (the same manifest as the
// latest version) stores nothing and calls nothing: "unchanged". The
// asset, version, metadata, search document and spec.Tx's writes are one
// transaction.
func (s *Service) PutPublication(ctx context.Context, p *genesis.Principal, t *PublicationTarget, spec PublicationSpec) (*PublicationResult, error) {
	const op errors.Op = "catalog.PutPublication"
	if t == nil {
		return nil, errors.E(op, errors.Internal, errors.Msg("no publication target"))
	}
	if spec.SourceID == "" {
		return nil, invalid(op, "source_id", "a publication needs a source identifier")
	}
	if err := manifest.CheckPath(spec.File); err != nil {
		return nil, invalid(op, "file", "invalid file name")
	}
	spec.Core.Normalize()
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	var held *Asset
	if err := s.db.View(ctx, func(tx store.Tx) error {
		held, err = s.visibleWithSource(ctx, tx, ap, spec.SourceID)
		return err
	}); err != nil {
		return nil, errors.E(op, err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	a := held
	if held != nil {
		if a, err = s.writable(ctx, p, held.ID); err != nil {
			if errors.Is(errors.NotExist, err) {
				return nil, errors.E(op, errors.Exist, errors.Msg("this publication was imported into an asset you cannot change"))
			}
			return nil, errors.E(op, err)
		}
	} else {
		a = &Asset{ID: newID("pub"), Kind: KindPublication, Label: t.label.Format(), Project: genesis.ProjectID(t.project), Owner: p.ID,
			CreatedAt: now, UpdatedAt: now}
		// Decided again for this asset (MayCreatePublication decided the
		// target): the decision is on the record per publication.
		if err := s.mayCreate(ctx, p, a); err != nil {
			return nil, errors.E(op, err)
		}
	}
	a.Title = truncate(spec.Core.Title, MaxTitleLen)
	a.Description = truncate(spec.Core.Description, MaxDescriptionLen)

	// The content and its manifest are written, and made durable, before
	// the transaction that claims them.
	m, ids, err := s.putContent(ctx, spec.File, spec.Content)
	if err != nil {
		return nil, errors.E(op, err)
	}
	mid, err := manifest.Put(ctx, s.blobs, m)
	if err != nil {
		return nil, errors.E(op, err)
	}
	ids = append(ids, mid)
	if err := blob.SyncAll(ctx, s.blobs, ids); err != nil {
		return nil, errors.E(op, err)
	}
	st := m.Stats()
	res := &PublicationResult{Asset: a}
	err = s.db.Update(ctx, func(tx store.Tx) error {
		res.Status, res.Version = "", 0
		var cur *Asset
		if held == nil {
			// Checked again with the insert: of two concurrent imports of
			// one document by principals who see each other's assets, one
			// creates and the other updates on its next try.
			if other, err := s.visibleWithSource(ctx, tx, ap, spec.SourceID); err != nil {
				return err
			} else if other != nil {
				return errors.E(errors.Conflict, errors.Msg("the publication was imported concurrently; import it again"))
			}
			if _, err := s.insertImported(ctx, tx, ap, a, spec.Name); err != nil {
				return err
			}
			cur = a
			res.Status = PublicationCreated
		} else {
			if cur, err = s.load(ctx, tx, a.ID); err != nil {
				return err
			}
			if cur.LatestVersion > 0 {
				var latest string
				if err := tx.QueryRow(ctx, `SELECT manifest FROM asset_versions WHERE asset_id = ? AND version = ?`, cur.ID, cur.LatestVersion).Scan(&latest); err != nil {
					return err
				}
				if latest == mid.String() {
					res.Status, res.Version, res.Asset = PublicationUnchanged, cur.LatestVersion, cur
					return nil
				}
			}
			if _, err := tx.Exec(ctx, `UPDATE assets SET title = ?, description = ? WHERE id = ?`, a.Title, a.Description, cur.ID); err != nil {
				return err
			}
			cur.Title, cur.Description = a.Title, a.Description
			res.Status = PublicationUpdated
		}
		for _, id := range ids {
			if err := claimOne(ctx, tx, cur.ID, id, p.ID, store.T(now), true); err != nil {
				return err
			}
		}
		v := cur.LatestVersion + 1
		var parent any
		if cur.LatestVersion > 0 {
			parent = cur.LatestVersion
		}
		if _, err := tx.Exec(ctx, `INSERT INTO asset_versions (asset_id, version, manifest, parent, message, total_bytes, file_count, label, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, cur.ID, v, mid.String(), parent, "import "+spec.SourceID, st.Bytes, int64(st.Files), cur.Label, p.ID, store.T(now)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE assets SET latest_version = ?, updated_at = ? WHERE id = ?`, v, store.T(now), cur.ID); err != nil {
			return err
		}
		cur.LatestVersion, cur.UpdatedAt = v, now
		md := &Metadata{Core: spec.Core, Quality: meta.Assess(&spec.Core), Provenance: meta.Provenance{Format: "publication", Fields: map[string][]string{}},
			SourceID: spec.SourceID, UpdatedBy: string(p.ID), UpdatedAt: now}
		if err := putMetadata(ctx, tx, cur.ID, md); err != nil {
			return err
		}
		if spec.Tx != nil {
			if err := spec.Tx(ctx, tx, cur, v); err != nil {
				return err
			}
		}
		res.Asset, res.Version = cur, v
		return s.indexTx(ctx, tx, cur.ID)
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if res.Status == PublicationUnchanged {
		return res, nil
	}
	l, err := label.Parse(res.Asset.Label)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	action := "import"
	if res.Status == PublicationUpdated {
		action = "commit"
	}
	if err := s.record(ctx, p, action, res.Asset, l, audit.Allow, "version "+itoa(res.Version)+" from "+spec.SourceID); err != nil {
		return nil, errors.E(op, err)
	}
	return res, nil
}

// putContent stores content as chunks and returns a manifest of one file
// holding it, and the chunks' IDs.
func (s *Service) putContent(ctx context.Context, file string, content []byte) (*manifest.Manifest, []blob.ID, error) {
	e := manifest.Entry{Path: file, Type: manifest.File, Mode: 0o644, Size: int64(len(content)), Hash: blob.Sum(content)}
	var ids []blob.ID
	for d := content; len(d) > 0; {
		n := chunk.DefaultParams.Cut(d, true)
		id := blob.Sum(d[:n])
		if err := blob.PutFast(ctx, s.blobs, id, d[:n]); err != nil {
			return nil, nil, err
		}
		e.Chunks = append(e.Chunks, manifest.Chunk{ID: id, Size: int64(n)})
		ids = append(ids, id)
		d = d[n:]
	}
	return &manifest.Manifest{Entries: []manifest.Entry{e}}, ids, nil
}
