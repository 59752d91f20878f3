package catalog

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// Problem is one integrity problem found by Fsck.
type Problem struct {
	Asset   string `json:"asset"`
	ID      string `json:"id"` // the asset's: names repeat across principals' views
	Version int64  `json:"version"`
	Chunk   string `json:"chunk,omitempty"`
	Kind    string `json:"kind"` // missing-manifest, bad-manifest, missing-chunk, corrupt-chunk
	Detail  string `json:"detail,omitempty"`
}

// FsckReport is what Fsck found.
type FsckReport struct {
	Versions int       `json:"versions"`
	Chunks   int       `json:"chunks"`
	Bytes    int64     `json:"bytes"`
	Problems []Problem `json:"problems"`
}

var systemResource = authz.Resource{Type: authz.PolicyResource, ID: "maintenance", Label: label.MustParse("OPEN")}

func (s *Service) requireAdmin(ctx context.Context, p *genesis.Principal) error {
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return err
	}
	if err := s.authz.Can(ctx, ap, authz.Administer, systemResource); err != nil {
		return errors.E(errors.Permission, errors.Msg("only administrators run maintenance"))
	}
	return nil
}

type versionRef struct {
	asset    string
	id       string
	version  int64
	manifest string
}

func (s *Service) allVersions(ctx context.Context) ([]versionRef, error) {
	var out []versionRef
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT a.name, a.id, v.version, v.manifest FROM asset_versions v JOIN assets a ON a.id = v.asset_id ORDER BY a.name, a.created_at, a.id, v.version`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var r versionRef
			err := rows.Scan(&r.asset, &r.id, &r.version, &r.manifest)
			out = append(out, r)
			return err
		})
	})
	return out, err
}

// Fsck walks every version's manifest and every chunk it references,
// reading and verifying each chunk (quick: only checking it exists).
// Every chunk is checked once, however many versions share it.
func (s *Service) Fsck(ctx context.Context, p *genesis.Principal, quick bool) (*FsckReport, error) {
	const op errors.Op = "catalog.Fsck"
	if err := s.requireAdmin(ctx, p); err != nil {
		return nil, errors.E(op, err)
	}
	vs, err := s.allVersions(ctx)
	if err != nil {
		return nil, errors.E(op, err)
	}
	rep := &FsckReport{Problems: []Problem{}}
	checked := map[blob.ID]string{} // chunk → "" ok, or problem kind
	for _, v := range vs {
		if err := ctx.Err(); err != nil {
			return nil, errors.E(op, errors.Canceled, err)
		}
		rep.Versions++
		mid, err := blob.ParseID(v.manifest)
		if err != nil {
			rep.Problems = append(rep.Problems, Problem{Asset: v.asset, ID: v.id, Version: v.version, Kind: "bad-manifest", Detail: "malformed manifest id"})
			continue
		}
		m, err := manifest.Get(ctx, s.blobs, mid)
		if err != nil {
			kind := "bad-manifest"
			if errors.Is(errors.NotExist, err) {
				kind = "missing-manifest"
			}
			rep.Problems = append(rep.Problems, Problem{Asset: v.asset, ID: v.id, Version: v.version, Chunk: v.manifest, Kind: kind, Detail: errors.SafeMessage(err)})
			continue
		}
		for _, id := range m.ChunkIDs() {
			kind, seen := checked[id]
			if !seen {
				rep.Chunks++
				if quick {
					info, err := s.blobs.Stat(ctx, id)
					kind = classify(err)
					rep.Bytes += info.Size
				} else {
					b, err := s.blobs.Get(ctx, id, 0, -1)
					kind = classify(err)
					rep.Bytes += int64(len(b))
				}
				checked[id] = kind
			}
			if kind != "" {
				rep.Problems = append(rep.Problems, Problem{Asset: v.asset, ID: v.id, Version: v.version, Chunk: id.String(), Kind: kind})
			}
		}
	}
	return rep, nil
}

func classify(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(errors.NotExist, err):
		return "missing-chunk"
	case errors.IsErr(err, blob.ErrCorrupt):
		return "corrupt-chunk"
	}
	return "unreadable-chunk"
}

// GCReport is what GC did.
type GCReport struct {
	Scanned       int   `json:"scanned"`
	Deleted       int   `json:"deleted"`
	DeletedBytes  int64 `json:"deleted_bytes"`
	Abandoned     int   `json:"abandoned_uploads"`
	GraceSeconds  int64 `json:"grace_seconds"`
	DryRun        bool  `json:"dry_run"`
	KeptInGrace   int   `json:"kept_in_grace"`
	KeptCommitted int   `json:"kept_committed"`
}

// GC deletes stored chunks that no committed version references and that
// no upload has claimed within the grace period. It is safe against
// concurrent puts: an upload claims a chunk (in the store) before writing
// it, and each deletion first re-checks the claims and leaves a tombstone
// that makes a concurrent claim of the same chunk wait.
func (s *Service) GC(ctx context.Context, p *genesis.Principal, grace time.Duration, dryRun bool) (*GCReport, error) {
	const op errors.Op = "catalog.GC"
	if err := s.requireAdmin(ctx, p); err != nil {
		return nil, errors.E(op, err)
	}
	if grace < time.Minute {
		return nil, invalid(op, "grace", "the grace period must be at least a minute")
	}
	if s.exclusive != nil && !dryRun {
		// One collector at a time across replicas.
		var rep *GCReport
		err := s.exclusive(ctx, "gc", func(ctx context.Context) error {
			var err error
			rep, err = s.gc(ctx, grace, dryRun)
			return err
		})
		if err != nil {
			return nil, errors.E(op, err)
		}
		return rep, nil
	}
	return s.gc(ctx, grace, dryRun)
}

// SetExclusive makes GC run under fn, which runs work only while no other
// replica runs the same name (app: a lease in the store, lease.Leases.Do)
// and reports errors.Conflict otherwise.
func (s *Service) SetExclusive(fn func(ctx context.Context, name string, work func(context.Context) error) error) {
	s.exclusive = fn
}

func (s *Service) gc(ctx context.Context, grace time.Duration, dryRun bool) (*GCReport, error) {
	const op errors.Op = "catalog.GC"
	rep := &GCReport{GraceSeconds: int64(grace / time.Second), DryRun: dryRun}
	cutoff := store.T(s.now().Add(-grace))
	if !dryRun {
		// Forget claims of uploads abandoned before the grace period, and
		// tombstones of a collector that died.
		err := s.db.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Exec(ctx, `DELETE FROM gc_tombstones WHERE at < ?`, store.T(s.now().Add(-tombstoneTTL))); err != nil {
				return err
			}
			r, err := tx.Exec(ctx, `DELETE FROM asset_chunks WHERE committed = ? AND uploaded_at < ?`, false, cutoff)
			if err == nil {
				n, _ := r.RowsAffected()
				rep.Abandoned = int(n)
			}
			return err
		})
		if err != nil {
			return nil, errors.E(op, err)
		}
	}
	after := ""
	for {
		ids, err := s.blobs.Enumerate(ctx, after, 1000)
		if err != nil {
			return nil, errors.E(op, err)
		}
		for _, id := range ids {
			rep.Scanned++
			var committed, recent int
			var deleting bool
			err := s.db.Update(ctx, func(tx store.Tx) error {
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM asset_chunks WHERE chunk = ? AND committed = ?`, id.String(), true).Scan(&committed); err != nil {
					return err
				}
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM asset_chunks WHERE chunk = ? AND uploaded_at >= ?`, id.String(), cutoff).Scan(&recent); err != nil {
					return err
				}
				deleting = committed == 0 && recent == 0 && !dryRun
				if !deleting {
					return nil
				}
				// Claims older than the grace period are void: drop them with
				// the chunk, and stop new claims until it is gone.
				if _, err := tx.Exec(ctx, `DELETE FROM asset_chunks WHERE chunk = ?`, id.String()); err != nil {
					return err
				}
				_, err := tx.Exec(ctx, `INSERT INTO gc_tombstones (chunk, at) VALUES (?, ?)`, id.String(), store.T(s.now()))
				return err
			})
			if err != nil {
				return nil, errors.E(op, err)
			}
			switch {
			case committed > 0:
				rep.KeptCommitted++
			case recent > 0:
				rep.KeptInGrace++
			case dryRun:
				rep.Deleted++
			default:
				info, _ := s.blobs.Stat(ctx, id)
				rerr := s.blobs.Remove(ctx, id)
				// The tombstone goes whatever happened: a failed removal
				// leaves an unreferenced chunk for the next run.
				derr := s.db.Update(context.WithoutCancel(ctx), func(tx store.Tx) error {
					_, err := tx.Exec(ctx, `DELETE FROM gc_tombstones WHERE chunk = ?`, id.String())
					return err
				})
				if rerr != nil {
					return nil, errors.E(op, rerr)
				}
				if derr != nil {
					return nil, errors.E(op, derr)
				}
				rep.Deleted++
				rep.DeletedBytes += info.Size
			}
		}
		if len(ids) < 1000 {
			break
		}
		after = ids[len(ids)-1].String()
	}
	return rep, nil
}
