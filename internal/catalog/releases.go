package catalog

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Release states.
const (
	ReleasePending  = "pending"
	ReleaseApproved = "approved"
	ReleaseRejected = "rejected"
)

// Release is a declassification record: the only way a label goes down.
// One classification officer requests it; a different one approves it; the
// approval creates a new version of the asset with the lower label, whose
// lineage cites this record.
type Release struct {
	ID            string               `json:"id"`
	Asset         string               `json:"asset"`
	AssetName     string               `json:"asset_name"`
	Version       int64                `json:"version"`
	FromLabel     string               `json:"from_label"`
	ToLabel       string               `json:"to_label"`
	Justification string               `json:"justification"`
	State         string               `json:"state"`
	RequestedBy   genesis.PrincipalID  `json:"requested_by"`
	RequestedAt   time.Time            `json:"requested_at"`
	DecidedBy     *genesis.PrincipalID `json:"decided_by,omitempty"`
	DecidedAt     *time.Time           `json:"decided_at,omitempty"`
	NewVersion    *int64               `json:"new_version,omitempty"`
}

const releaseCols = `r.id, r.asset_id, a.name, r.version, r.from_label, r.to_label, r.justification, r.state, r.requested_by, r.requested_at, r.decided_by, r.decided_at, r.new_version`

func scanRelease(sc interface{ Scan(...any) error }) (*Release, error) {
	var r Release
	var req int64
	var dec *int64
	if err := sc.Scan(&r.ID, &r.Asset, &r.AssetName, &r.Version, &r.FromLabel, &r.ToLabel, &r.Justification, &r.State, &r.RequestedBy, &req, &r.DecidedBy, &dec, &r.NewVersion); err != nil {
		return nil, err
	}
	r.RequestedAt, r.DecidedAt = store.FromT(req), store.FromNullT(dec)
	return &r, nil
}

// RequestRelease asks to release version v (0: latest) of an asset at the
// lower label toMarking. The requester must be allowed to declassify the
// asset (a classification officer cleared for it).
func (s *Service) RequestRelease(ctx context.Context, p *genesis.Principal, idOrName string, v int64, toMarking, justification string) (*Release, error) {
	const op errors.Op = "catalog.RequestRelease"
	to, err := s.normLabel(ctx, op, p, toMarking)
	if err != nil {
		return nil, err
	}
	if len(justification) < 10 || len(justification) > 16384 {
		return nil, invalid(op, "justification", "a justification of 10 to 16384 characters is required")
	}
	if err := text.Block("justification", justification, 16384); err != nil {
		return nil, errors.E(op, err)
	}
	a, ver, err := s.Version(ctx, p, idOrName, v)
	if err != nil {
		return nil, errors.E(op, err)
	}
	from, err := label.Parse(ver.Label)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	if label.Equal(from, to) || !label.Dominates(from, to) {
		return nil, invalid(op, "to_label", to.Format()+" is not below "+from.Format()+"; a release only lowers a label")
	}
	if err := s.mayDeclassify(ctx, p, a); err != nil {
		return nil, errors.E(op, err)
	}
	r := &Release{ID: newID("rel"), Asset: a.ID, AssetName: a.Name, Version: ver.Version, FromLabel: from.Format(), ToLabel: to.Format(),
		Justification: justification, State: ReleasePending, RequestedBy: p.ID, RequestedAt: s.now().UTC().Truncate(time.Microsecond)}
	if err := s.record(ctx, p, "declassify.request", a, from, audit.Allow, r.ID+": "+r.FromLabel+" -> "+r.ToLabel); err != nil {
		return nil, errors.E(op, err)
	}
	err = s.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO releases (id, asset_id, version, from_label, to_label, justification, state, requested_by, requested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.ID, r.Asset, r.Version, r.FromLabel, r.ToLabel, r.Justification, r.State, r.RequestedBy, store.T(r.RequestedAt))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return r, nil
}

func (s *Service) mayDeclassify(ctx context.Context, p *genesis.Principal, a *Asset) error {
	if err := s.decide(ctx, p, authz.Declassify, a); err != nil {
		if errors.Is(errors.NotExist, err) || errors.Is(errors.Permission, err) {
			return errors.E(errors.Permission, errors.Msg("only a classification officer cleared for the asset may request or approve a release"))
		}
		return err
	}
	return nil
}

// Releases lists the release records about assets p may read.
func (s *Service) Releases(ctx context.Context, p *genesis.Principal) ([]Release, error) {
	const op errors.Op = "catalog.Releases"
	var all []Release
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+releaseCols+` FROM releases r JOIN assets a ON a.id = r.asset_id ORDER BY r.requested_at DESC, r.id`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			r, err := scanRelease(rows)
			if err == nil {
				all = append(all, *r)
			}
			return err
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	out := []Release{}
	for _, r := range all {
		// The record carries the higher label: readable by those who may
		// read the asset at the version's original label.
		if _, _, err := s.Version(ctx, p, r.Asset, r.Version); err == nil {
			out = append(out, r)
		}
	}
	return out, nil
}

// Release returns one release record, or NotExist.
func (s *Service) Release(ctx context.Context, p *genesis.Principal, id string) (*Release, error) {
	const op errors.Op = "catalog.Release"
	var r *Release
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		r, err = scanRelease(tx.QueryRow(ctx, `SELECT `+releaseCols+` FROM releases r JOIN assets a ON a.id = r.asset_id WHERE r.id = ?`, id))
		return err
	})
	if errors.Is(errors.NotExist, err) {
		s.recordNotFound(ctx, p, "release", id) // as one of a hidden version is (decide)
	}
	if err == nil {
		_, _, err = s.Version(ctx, p, r.Asset, r.Version)
	}
	if errors.Is(errors.NotExist, err) {
		return nil, errors.E(op, errors.NotExist)
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return r, nil
}

// DecideRelease approves or rejects a pending release. The decider must be
// a classification officer other than the requester (two-person rule). An
// approval creates a new version of the asset — the released version's
// manifest at the lower label, citing this record — and lowers the asset's
// label; earlier versions keep theirs.
func (s *Service) DecideRelease(ctx context.Context, p *genesis.Principal, id string, approve bool) (*Release, error) {
	const op errors.Op = "catalog.DecideRelease"
	r, err := s.Release(ctx, p, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	a, err := s.Get(ctx, p, r.Asset)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.mayDeclassify(ctx, p, a); err != nil {
		return nil, errors.E(op, err)
	}
	if r.RequestedBy == p.ID {
		return nil, errors.E(op, errors.Permission, errors.Msg("two-person rule: the requester of a release cannot decide it"))
	}
	if r.State != ReleasePending {
		return nil, errors.E(op, errors.Conflict, errors.Msg("the release was already "+r.State))
	}
	from, err := label.Parse(r.FromLabel)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	state, action := ReleaseRejected, "declassify.reject"
	if approve {
		state, action = ReleaseApproved, "declassify.approve"
	}
	// On the record (durably, for NATIONAL-SECURITY) before it takes effect.
	if err := s.record(ctx, p, action, a, from, audit.Allow, r.ID+": "+r.FromLabel+" -> "+r.ToLabel); err != nil {
		return nil, errors.E(op, err)
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	err = s.db.Update(ctx, func(tx store.Tx) error {
		var cur string
		if err := tx.QueryRow(ctx, `SELECT state FROM releases WHERE id = ?`, r.ID).Scan(&cur); err != nil {
			return err
		}
		if cur != ReleasePending {
			return errors.E(errors.Conflict, errors.Msg("the release was already "+cur))
		}
		var newVersion any
		if approve {
			src, err := scanVersion(tx.QueryRow(ctx, `SELECT `+versionCols+` FROM asset_versions WHERE asset_id = ? AND version = ?`, r.Asset, r.Version))
			if err != nil {
				return err
			}
			asset, err := s.load(ctx, tx, r.Asset)
			if err != nil {
				return err
			}
			nv := asset.LatestVersion + 1
			newVersion = nv
			parent := asset.LatestVersion
			// A released synthetic version stays synthetic; its generator
			// is named by the source version only (it may be labelled above
			// the released version).
			if _, err := tx.Exec(ctx, `INSERT INTO asset_versions (asset_id, version, manifest, parent, message, total_bytes, file_count, label, release_id, synthetic, created_by, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Asset, nv, src.Manifest, parent, "release "+r.ID+" of version "+itoa(r.Version),
				src.TotalBytes, src.FileCount, r.ToLabel, r.ID, src.Synthetic, p.ID, store.T(now)); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE assets SET latest_version = ?, label = ?, updated_at = ? WHERE id = ?`, nv, r.ToLabel, store.T(now), r.Asset); err != nil {
				return err
			}
			// The released version's lineage cites the release record.
			if err := insertEdges(ctx, tx, VersionRef{Asset: r.Asset, Version: nv}, []VersionRef{{Asset: r.Asset, Version: r.Version}},
				ActivityDeclassification, r.ID, p.ID, now); err != nil {
				return err
			}
			if err := s.indexTx(ctx, tx, r.Asset); err != nil {
				return err
			}
			for _, h := range s.labelHooks {
				if err := h(ctx, tx, []string{r.Asset}); err != nil {
					return err
				}
			}
		}
		_, err := tx.Exec(ctx, `UPDATE releases SET state = ?, decided_by = ?, decided_at = ?, new_version = ? WHERE id = ?`,
			state, p.ID, store.T(now), newVersion, r.ID)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return s.Release(ctx, p, id)
}
