package catalog

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

var idEnc = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

func newID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + "_" + idEnc.EncodeToString(b[:])
}

// CreateSpec describes a new asset.
type CreateSpec struct {
	Kind        Kind
	Name        string
	Title       string
	Description string
	Label       string
	Project     string // ID or name; "" for none
}

// Create records a new, empty asset. The creator must be allowed to write an
// asset of that label (so nobody creates what they could not read).
func (s *Service) Create(ctx context.Context, p *genesis.Principal, spec CreateSpec) (*Asset, error) {
	const op errors.Op = "catalog.Create"
	if spec.Kind == "" {
		spec.Kind = KindDataset
	}
	if spec.Kind != KindDataset && spec.Kind != KindModel && spec.Kind != KindPublication {
		return nil, invalid(op, "kind", "kind must be dataset, model or publication")
	}
	if !genesis.ValidName(spec.Name) {
		return nil, invalid(op, "name", "name must be 1-63 lower-case letters, digits, '-', '_' or '.'")
	}
	if looksLikeID(spec.Name) {
		return nil, invalid(op, "name", "a name may not have the form of an asset ID (ds_…, mdl_… or pub_… with 16 letters and digits)")
	}
	if err := text.First(text.Line("title", spec.Title, text.MaxLine), text.Block("description", spec.Description, text.MaxDescription)); err != nil {
		return nil, errors.E(op, err)
	}
	l, err := s.normLabel(ctx, op, p, spec.Label)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	a := &Asset{ID: newID("ds"), Kind: spec.Kind, Name: spec.Name, Title: spec.Title, Description: spec.Description,
		Label: l.Format(), Owner: p.ID, CreatedAt: now, UpdatedAt: now}
	switch spec.Kind {
	case KindModel:
		a.ID = newID("mdl")
	case KindPublication:
		a.ID = newID("pub")
	}
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	// The name check and the insert are one write transaction: SQLite runs
	// one writer at a time, and PostgreSQL's SERIALIZABLE transactions make
	// one of two concurrent creates of a name retry (store.SQLDB), and the
	// retry sees the other's asset.
	err = s.db.Update(ctx, func(tx store.Tx) error {
		if spec.Project != "" {
			id, err := projectFor(ctx, tx, p, spec.Project)
			if err != nil {
				return err
			}
			a.Project = genesis.ProjectID(id)
		}
		if err := s.mayCreate(ctx, p, a); err != nil {
			return err
		}
		if seen, err := s.visibleNamed(ctx, tx, ap, a.Name); err != nil {
			return err
		} else if seen != nil {
			return nameTaken(op, seen)
		}
		if err := insertAsset(ctx, tx, a); err != nil {
			return err
		}
		return s.indexTx(ctx, tx, a.ID)
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return a, nil
}

// nameTaken is the Conflict of creating a name the creator can already see
// (only then: see visibleNamed), naming the asset that holds it.
func nameTaken(op errors.Op, seen *Asset) error {
	return errors.E(op, errors.Exist, errors.Field("name"),
		errors.Msg("an asset with that name exists: "+string(seen.Kind)+" "+seen.Name+" ("+seen.ID+"); choose another name"))
}

// looksLikeID reports whether s has the form of an asset ID (ds_…, mdl_…
// or pub_…, as newID makes them). Such names are refused, so that an ID given
// where a name may be always means that asset.
func looksLikeID(s string) bool {
	for _, prefix := range []string{"ds_", "mdl_", "pub_"} {
		rest, ok := strings.CutPrefix(s, prefix)
		if ok && len(rest) == idEnc.EncodedLen(10) && strings.Trim(rest, "abcdefghijklmnopqrstuvwxyz234567") == "" {
			return true
		}
	}
	return false
}

// projectFor resolves the project a new asset of p's goes into: one p is a
// member of (any, for an administrator); otherwise Invalid.
func projectFor(ctx context.Context, tx store.Tx, p *genesis.Principal, project string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `SELECT p.id FROM projects p JOIN project_members m ON m.project_id = p.id AND m.principal_id = ? WHERE p.id = ? OR p.name = ?`,
		p.ID, project, project).Scan(&id)
	if errors.Is(errors.NotExist, err) && p.IsAdmin() {
		err = tx.QueryRow(ctx, `SELECT id FROM projects WHERE id = ? OR name = ?`, project, project).Scan(&id)
	}
	if errors.Is(errors.NotExist, err) {
		return "", invalid("catalog.Create", "project", "no such project (or you are not a member)")
	}
	return id, err
}

// mayCreate decides whether p may create a: it needs a writer's role
// (globally or in the project) and a clearance that dominates the label,
// decided as a write by a non-owner, so that owning the new asset does not
// count.
func (s *Service) mayCreate(ctx context.Context, p *genesis.Principal, a *Asset) error {
	probe := *a
	probe.Owner = ""
	if err := s.decide(ctx, p, authz.Write, &probe); err != nil {
		if errors.Is(errors.NotExist, err) || errors.Is(errors.Permission, err) {
			return errors.E(errors.Op("catalog.Create"), errors.Permission, errors.Msg("you may not create an asset with label "+a.Label+" here"))
		}
		return err
	}
	return nil
}

// insertAsset inserts a. Its name need not be unique: the caller has
// checked that the creator sees no other asset of that name (visibleNamed).
func insertAsset(ctx context.Context, tx store.Tx, a *Asset) error {
	var project any
	if a.Project != "" {
		project = string(a.Project)
	}
	_, err := tx.Exec(ctx, `INSERT INTO assets (id, kind, name, title, description, label, project_id, owner_id, latest_version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
		a.ID, a.Kind, a.Name, a.Title, a.Description, a.Label, project, a.Owner, store.T(a.CreatedAt), store.T(a.UpdatedAt))
	return err
}

// load reads the asset with ID id, whoever may read it.
func (s *Service) load(ctx context.Context, tx store.Tx, id string) (*Asset, error) {
	return scanAsset(tx.QueryRow(ctx, `SELECT `+assetCols+` FROM assets WHERE id = ?`, id))
}

// find resolves idOrName as ap sees the catalog (docs/DESIGN.md, "Names"):
// the asset with that ID, if ap may read it; else, of the assets of that
// name ap may read, the oldest (created_at, then id); else NotExist —
// except that an ID ap may not read is returned (for the caller's decision,
// which records the denial and answers NotExist). Assets of that name ap
// may not read are skipped without a decision on the record: what a name
// means to ap never depends on them.
func (s *Service) find(ctx context.Context, tx store.Tx, ap authz.Principal, idOrName string) (*Asset, error) {
	byID, err := s.load(ctx, tx, idOrName)
	if err != nil && !errors.Is(errors.NotExist, err) {
		return nil, err
	}
	if byID != nil {
		if ok, err := s.readable(ctx, ap, []Asset{*byID}); err != nil {
			return nil, err
		} else if ok[0] {
			return byID, nil
		}
	}
	named, err := s.visibleNamed(ctx, tx, ap, idOrName)
	switch {
	case err != nil:
		return nil, err
	case named != nil:
		return named, nil
	case byID != nil:
		return byID, nil
	}
	return nil, errors.E(errors.NotExist)
}

// visibleNamed returns the oldest asset named name that ap may read, or
// nil. Called in a write transaction it is the name check of a create: on
// PostgreSQL the read of the name's index range conflicts with a
// concurrent insert of that name (SERIALIZABLE), so one of two racing
// creates retries and then sees the other's asset.
func (s *Service) visibleNamed(ctx context.Context, tx store.Tx, ap authz.Principal, name string) (*Asset, error) {
	const batch = 64
	var at int64 = -1 << 63
	var atID string
	for {
		var page []Asset
		rows, err := tx.Query(ctx, `SELECT `+assetCols+` FROM assets WHERE name = ? AND (created_at > ? OR (created_at = ? AND id > ?))
			ORDER BY created_at, id LIMIT `+strconv.Itoa(batch), name, at, at, atID)
		if err != nil {
			return nil, err
		}
		if err := rows.Each(func() error {
			a, err := scanAsset(rows)
			if err == nil {
				page = append(page, *a)
			}
			return err
		}); err != nil {
			return nil, err
		}
		ok, err := s.readable(ctx, ap, page)
		if err != nil {
			return nil, err
		}
		for i := range page {
			if ok[i] {
				return &page[i], nil
			}
		}
		if len(page) < batch {
			return nil, nil
		}
		last := page[len(page)-1]
		at, atID = store.T(last.CreatedAt), last.ID
	}
}

// readable decides, without putting anything on the record, which of as ap
// may read (an unparseable label: not readable, fail closed).
func (s *Service) readable(ctx context.Context, ap authz.Principal, as []Asset) ([]bool, error) {
	res := make([]authz.Resource, 0, len(as))
	idx := make([]int, 0, len(as))
	for i := range as {
		r, err := as[i].resource()
		if err != nil {
			continue
		}
		res = append(res, r)
		idx = append(idx, i)
	}
	ok, err := s.authz.Readable(ctx, ap, res)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(as))
	for j, i := range idx {
		out[i] = ok[j]
	}
	return out, nil
}

// lookup resolves idOrName for p in a read transaction (see find).
// It returns p's decision input too, so that the caller decides and
// counts versions without asking for it again.
func (s *Service) lookup(ctx context.Context, p *genesis.Principal, idOrName string) (*Asset, authz.Principal, error) {
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, ap, err
	}
	var a *Asset
	err = s.db.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = s.find(ctx, tx, ap, idOrName)
		return err
	})
	return a, ap, err
}

// Get returns the asset idOrName names for p (an ID, or a name resolved as
// find does) if p may read it; otherwise NotExist. Its LatestVersion is the
// newest version p may read (see versionGate).
func (s *Service) Get(ctx context.Context, p *genesis.Principal, idOrName string) (*Asset, error) {
	const op errors.Op = "catalog.Get"
	a, ap, err := s.getAssetAs(ctx, p, idOrName)
	if err != nil {
		return nil, err
	}
	if err := s.asSeenByAs(ctx, ap, a); err != nil {
		return nil, errors.E(op, err)
	}
	return a, nil
}

// getAsset is Get without counting p's versions, for the paths that show
// no LatestVersion (chunks, by the thousand, and writes). A name or ID that
// resolves to nothing p may read is on the record as "not found", exactly
// like one that names nothing at all.
func (s *Service) getAsset(ctx context.Context, p *genesis.Principal, idOrName string) (*Asset, error) {
	a, _, err := s.getAssetAs(ctx, p, idOrName)
	return a, err
}

// getAssetAs is getAsset, returning p's decision input as well.
func (s *Service) getAssetAs(ctx context.Context, p *genesis.Principal, idOrName string) (*Asset, authz.Principal, error) {
	const op errors.Op = "catalog.Get"
	a, ap, err := s.lookup(ctx, p, idOrName)
	if errors.Is(errors.NotExist, err) {
		s.recordNotFound(ctx, p, "asset", idOrName)
	}
	if err == nil {
		err = s.decideAs(ctx, p, ap, authz.Read, a)
	}
	if errors.Is(errors.NotExist, err) {
		return nil, ap, errors.E(op, errors.NotExist) // hidden and missing alike
	}
	if err != nil {
		return nil, ap, errors.E(op, err)
	}
	return a, ap, nil
}

// ListOptions pages a list of assets.
type ListOptions struct {
	Limit  int    // 1..1000; 0 means 1000
	Cursor string // Next of the page before; "" for the first
}

// List returns a page of the assets of kind p may read, by name, and the
// cursor of the next page ("" after the last); see store.Page.
func (s *Service) List(ctx context.Context, p *genesis.Principal, kind Kind, o ListOptions) ([]Asset, string, error) {
	const op errors.Op = "catalog.List"
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	// Names repeat (one per principal's view at most, but a list may show
	// several): the list's order and its cursor's key are (name,
	// created_at, id), so the first of a name is the one it resolves to.
	fetch := func(after string, n int) ([]Asset, error) {
		where, args := `name > ?`, []any{after}
		if name, rest, ok := strings.Cut(after, "\x00"); ok {
			at, id, _ := strings.Cut(rest, "\x00")
			t, err := strconv.ParseInt(at, 10, 64)
			if err != nil || id == "" {
				return nil, store.MalformedCursor()
			}
			where, args = `(name > ? OR name = ? AND (created_at > ? OR created_at = ? AND id > ?))`, []any{name, name, t, t, id}
		}
		var all []Asset
		err := s.db.View(ctx, func(tx store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT `+assetCols+` FROM assets WHERE kind = ? AND `+where+` ORDER BY name, created_at, id LIMIT `+strconv.Itoa(n), append([]any{kind}, args...)...)
			if err != nil {
				return err
			}
			return rows.Each(func() error {
				a, err := scanAsset(rows)
				if err == nil {
					all = append(all, *a)
				}
				return err
			})
		})
		return all, err
	}
	keep := func(all []Asset) ([]bool, error) { return s.readable(ctx, ap, all) }
	key := func(a *Asset) string {
		return a.Name + "\x00" + strconv.FormatInt(store.T(a.CreatedAt), 10) + "\x00" + a.ID
	}
	out, next, err := store.Page(o.Cursor, o.Limit, store.MaxPage, fetch, key, keep)
	if err == nil {
		err = s.listSeenBy(ctx, p, out)
	}
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	return out, next, nil
}

// Versions lists the versions of a readable asset that p may read, newest
// first; the others do not exist for p, and the ones listed name none of
// them (see versionGate).
func (s *Service) Versions(ctx context.Context, p *genesis.Principal, idOrName string) ([]Version, error) {
	const op errors.Op = "catalog.Versions"
	a, err := s.getAsset(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	g, err := s.gate(ctx, p, a)
	if err != nil {
		return nil, errors.E(op, err)
	}
	var all []Version
	var src map[string]int64
	err = s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+versionCols+` FROM asset_versions WHERE asset_id = ? ORDER BY version DESC`, a.ID)
		if err != nil {
			return err
		}
		if err := rows.Each(func() error {
			v, err := scanVersion(rows)
			if err == nil {
				all = append(all, *v)
			}
			return err
		}); err != nil {
			return err
		}
		src, err = releaseSources(ctx, tx, a.ID)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	labels := make(map[int64]string, len(all))
	for _, v := range all {
		labels[v.Version] = v.Label
	}
	labelOf := func(n int64) string { return labels[n] }
	out := []Version{}
	for _, v := range all {
		if g.may(v.Label) {
			g.hide(&v, labelOf, src)
			out = append(out, v)
		}
	}
	return out, nil
}

// Version returns version v (0: the latest) of a readable asset. A version
// whose own label the principal may not read (an older, higher-labelled
// version after a release) is NotExist.
func (s *Service) Version(ctx context.Context, p *genesis.Principal, idOrName string, v int64) (*Asset, *Version, error) {
	const op errors.Op = "catalog.Version"
	a, err := s.Get(ctx, p, idOrName)
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	if v == 0 {
		v = a.LatestVersion
		if v == 0 {
			return nil, nil, errors.E(op, errors.NotExist, errors.Msg("the asset has no versions yet"))
		}
	}
	var ver *Version
	err = s.db.View(ctx, func(tx store.Tx) error {
		var err error
		ver, err = scanVersion(tx.QueryRow(ctx, `SELECT `+versionCols+` FROM asset_versions WHERE asset_id = ? AND version = ?`, a.ID, v))
		return err
	})
	if errors.Is(errors.NotExist, err) {
		s.recordNotFound(ctx, p, "version", a.ID+"@"+strconv.FormatInt(v, 10)) // as a hidden version is (decide)
	}
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	if ver.Label != a.Label {
		va := *a
		va.Label = ver.Label
		if err := s.decide(ctx, p, authz.Read, &va); err != nil {
			return nil, nil, errors.E(op, err)
		}
	}
	g, err := s.gate(ctx, p, a)
	if err == nil {
		err = s.hideOne(ctx, g, ver)
	}
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	return a, ver, nil
}

// Manifest returns the manifest of a readable version.
func (s *Service) Manifest(ctx context.Context, p *genesis.Principal, idOrName string, v int64) (*Asset, *Version, *manifest.Manifest, error) {
	const op errors.Op = "catalog.Manifest"
	a, ver, err := s.Version(ctx, p, idOrName, v)
	if err != nil {
		return nil, nil, nil, err
	}
	id, err := blob.ParseID(ver.Manifest)
	if err != nil {
		return nil, nil, nil, errors.E(op, errors.Internal, err)
	}
	m, err := manifest.Get(ctx, s.blobs, id)
	if err != nil {
		return nil, nil, nil, errors.E(op, err)
	}
	return a, ver, m, nil
}

// HasChunks reports, of ids, those this asset already holds (sent to it
// before, or part of its versions) and that are present in the store. The
// caller must be allowed to write the asset.
func (s *Service) HasChunks(ctx context.Context, p *genesis.Principal, idOrName string, ids []blob.ID) ([]bool, error) {
	const op errors.Op = "catalog.HasChunks"
	a, err := s.writable(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	var out []bool
	err = s.db.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = claimed(ctx, tx, a.ID, ids)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.present(ctx, ids, out); err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// present clears have[i] for each ids[i] the blob store does not hold.
func (s *Service) present(ctx context.Context, ids []blob.ID, have []bool) error {
	var held []blob.ID
	for i, id := range ids {
		if have[i] {
			held = append(held, id)
		}
	}
	if len(held) == 0 {
		return nil
	}
	gone, err := blob.Missing(ctx, s.blobs, held)
	if err != nil {
		return err
	}
	if len(gone) == 0 {
		return nil
	}
	lost := make(map[blob.ID]bool, len(gone))
	for _, id := range gone {
		lost[id] = true
	}
	for i, id := range ids {
		if lost[id] {
			have[i] = false
		}
	}
	return nil
}

// inBatch bounds the ids in one IN (…) list (SQLite allows 32,766
// parameters; PostgreSQL 65,535).
const inBatch = 500

// claimed reports, for each id, whether asset has a claim on it: one query
// per 500 ids instead of one per id.
func claimed(ctx context.Context, tx store.Tx, asset string, ids []blob.ID) ([]bool, error) {
	out := make([]bool, len(ids))
	pos := make(map[string][]int, len(ids))
	for i, id := range ids {
		h := id.String()
		pos[h] = append(pos[h], i)
	}
	keys := make([]string, 0, len(pos))
	for h := range pos {
		keys = append(keys, h)
	}
	for len(keys) > 0 {
		n := min(inBatch, len(keys))
		args := make([]any, 0, n+1)
		args = append(args, asset)
		for _, h := range keys[:n] {
			args = append(args, h)
		}
		rows, err := tx.Query(ctx, `SELECT chunk FROM asset_chunks WHERE asset_id = ? AND chunk IN (`+store.Placeholders(n)+`)`, args...)
		if err != nil {
			return nil, err
		}
		if err := rows.Each(func() error {
			var h string
			if err := rows.Scan(&h); err != nil {
				return err
			}
			for _, i := range pos[h] {
				out[i] = true
			}
			return nil
		}); err != nil {
			return nil, err
		}
		keys = keys[n:]
	}
	return out, nil
}

// MissingChunks answers the transfer protocol's "which of these do you
// lack?": the ids (in input order, without duplicates) that the asset does
// not hold. It also claims them for the upload that follows, all in one
// transaction, so that the uploads themselves need no write transaction of
// their own (see ReceiveChunk). The caller must be allowed to write the
// asset.
func (s *Service) MissingChunks(ctx context.Context, p *genesis.Principal, idOrName string, ids []blob.ID) ([]blob.ID, error) {
	const op errors.Op = "catalog.MissingChunks"
	a, err := s.uploadable(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	// One record for the batch: the write decision the uploads that
	// follow rely on (ReceiveChunk records only denials).
	l, err := label.Parse(a.Label)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	if err := s.record(ctx, p, string(authz.Write), a, l, audit.Allow, "upload of up to "+strconv.Itoa(len(ids))+" chunks"); err != nil {
		return nil, errors.E(op, err)
	}
	seen := make(map[blob.ID]bool, len(ids))
	uniq := make([]blob.ID, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	var have []bool
	if err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		have, err = claimed(ctx, tx, a.ID, uniq)
		return err
	}); err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.present(ctx, uniq, have); err != nil {
		return nil, errors.E(op, err)
	}
	missing := []blob.ID{}
	for i, id := range uniq {
		if !have[i] {
			missing = append(missing, id)
		}
	}
	if len(missing) == 0 {
		return missing, nil
	}
	now := store.T(s.now())
	err = s.db.Update(ctx, func(tx store.Tx) error {
		dead, err := tombstoned(ctx, tx, missing, now)
		if err != nil {
			return err
		}
		for _, id := range missing {
			if dead[id.String()] {
				continue // its upload claims it itself, and waits for gc
			}
			if err := claim(ctx, tx, a.ID, id.String(), p.ID, now, false); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return missing, nil
}

// claim records that asset holds chunk (committed: a version or the
// asset's metadata refers to it; a later uncommitted claim does not undo
// that).
func claim(ctx context.Context, tx store.Tx, asset, chunk string, by genesis.PrincipalID, at int64, committed bool) error {
	_, err := tx.Exec(ctx, `INSERT INTO asset_chunks (asset_id, chunk, uploaded_by, uploaded_at, committed) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (asset_id, chunk) DO UPDATE SET uploaded_at = excluded.uploaded_at, committed = asset_chunks.committed OR excluded.committed`,
		asset, chunk, by, at, committed)
	return err
}

// claimOne claims one chunk for an upload, unless a garbage collector is
// deleting it (Transient: the upload retries once gc is done).
func claimOne(ctx context.Context, tx store.Tx, asset string, id blob.ID, by genesis.PrincipalID, at int64, committed bool) error {
	dead, err := tombstoned(ctx, tx, []blob.ID{id}, at)
	if err != nil {
		return err
	}
	if len(dead) > 0 {
		return errors.E(errors.Transient, errors.Msg("the chunk is being garbage-collected; retry in a moment"))
	}
	return claim(ctx, tx, asset, id.String(), by, at, committed)
}

// tombstoned returns which of ids a live garbage collector is deleting.
func tombstoned(ctx context.Context, tx store.Tx, ids []blob.ID, now int64) (map[string]bool, error) {
	dead := map[string]bool{}
	for len(ids) > 0 {
		n := min(inBatch, len(ids))
		args := make([]any, 0, n+1)
		// A tombstone older than tombstoneTTL was left by a gc that died.
		args = append(args, now-tombstoneTTL.Microseconds())
		for _, id := range ids[:n] {
			args = append(args, id.String())
		}
		rows, err := tx.Query(ctx, `SELECT chunk FROM gc_tombstones WHERE at >= ? AND chunk IN (`+store.Placeholders(n)+`)`, args...)
		if err != nil {
			return nil, err
		}
		if err := rows.Each(func() error {
			var h string
			err := rows.Scan(&h)
			dead[h] = true
			return err
		}); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return dead, nil
}

// uploadable is writable for the chunks of an upload, which come by the
// thousand: the same decisions (read, then write), made with one lookup of
// the principal, but only a denial goes on the audit record here. What was
// allowed is recorded once per batch of chunks (MissingChunks) and once per
// commit, not once per chunk.
func (s *Service) uploadable(ctx context.Context, p *genesis.Principal, idOrName string) (*Asset, error) {
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, err
	}
	var a *Asset
	err = s.db.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = s.find(ctx, tx, ap, idOrName)
		return err
	})
	if errors.Is(errors.NotExist, err) {
		s.recordNotFound(ctx, p, "asset", idOrName)
		return nil, errors.E(errors.NotExist)
	}
	if err != nil {
		return nil, err
	}
	res, err := a.resource()
	if err != nil {
		return nil, err
	}
	for _, act := range []authz.Action{authz.Read, authz.Write} {
		err := s.authz.Can(ctx, ap, act, res)
		if err == nil {
			continue
		}
		// Every refusal is recorded, as in decide.
		if aerr := s.record(ctx, p, string(act), a, res.Label, audit.Deny, ""); aerr != nil {
			return nil, aerr
		}
		if errors.Is(errors.NotExist, err) {
			if act == authz.Read {
				return nil, errors.E(errors.NotExist) // hidden and missing alike
			}
			return nil, errors.E(errors.Permission, errors.Msg("you may read this asset but not change it"))
		}
		return nil, err
	}
	return a, nil
}

func (s *Service) writable(ctx context.Context, p *genesis.Principal, idOrName string) (*Asset, error) {
	a, err := s.getAsset(ctx, p, idOrName)
	if err != nil {
		return nil, err
	}
	if err := s.mayWrite(ctx, p, a); err != nil {
		return nil, err
	}
	return a, nil
}

// mayWrite decides whether p, who may read a, may change it.
func (s *Service) mayWrite(ctx context.Context, p *genesis.Principal, a *Asset) error {
	if err := s.decide(ctx, p, authz.Write, a); err != nil {
		if errors.Is(errors.NotExist, err) {
			return errors.E(errors.Permission, errors.Msg("you may read this asset but not change it"))
		}
		return err
	}
	return nil
}

// PutChunk stores a chunk sent to an asset (verified against its ID) and
// remembers that the asset holds it. The chunk is durable when PutChunk
// returns.
func (s *Service) PutChunk(ctx context.Context, p *genesis.Principal, idOrName string, id blob.ID, data []byte) error {
	return s.putChunk(ctx, "catalog.PutChunk", p, idOrName, id, data, false, false)
}

// ReceiveChunk is PutChunk for the transfer protocol: the chunk may be
// made durable only by the asset's next Commit, which syncs every chunk
// the asset holds uncommitted before it records the version (a crash
// before that loses the chunk, never the version). A chunk that
// MissingChunks has just claimed needs no write transaction here.
func (s *Service) ReceiveChunk(ctx context.Context, p *genesis.Principal, idOrName string, id blob.ID, data []byte) error {
	return s.putChunk(ctx, "catalog.ReceiveChunk", p, idOrName, id, data, true, false)
}

// receiveHashed is ReceiveChunk for bytes this process has just hashed
// itself (a pack run in the server): the same decisions, claims and
// deferred durability, without hashing them a second time.
func (s *Service) receiveHashed(ctx context.Context, p *genesis.Principal, idOrName string, id blob.ID, data []byte) error {
	return s.putChunk(ctx, "catalog.ReceiveChunk", p, idOrName, id, data, true, true)
}

// claimFresh is how old a claim may be for an upload to rely on it without
// renewing it: well inside the garbage collector's shortest grace period
// (a minute), so gc cannot delete the chunk while it is being written.
const claimFresh = 20 * time.Second

// An UploadTarget is an asset a principal has been found to be allowed to
// send chunks to (see Uploadable).
type UploadTarget struct{ a *Asset }

// Uploadable decides whether p may send chunks to the asset, as
// ReceiveChunk would, so that a caller can refuse an upload before it
// reads (and holds) the chunk's bytes. ReceiveChunkTo then stores them.
func (s *Service) Uploadable(ctx context.Context, p *genesis.Principal, idOrName string) (*UploadTarget, error) {
	a, err := s.uploadable(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(errors.Op("catalog.ReceiveChunk"), err)
	}
	return &UploadTarget{a}, nil
}

// ReceiveChunkTo is ReceiveChunk to a target Uploadable has allowed.
func (s *Service) ReceiveChunkTo(ctx context.Context, p *genesis.Principal, t *UploadTarget, id blob.ID, data []byte) error {
	return s.putChunkTo(ctx, "catalog.ReceiveChunk", p, t.a, id, data, true, false)
}

func (s *Service) putChunk(ctx context.Context, op errors.Op, p *genesis.Principal, idOrName string, id blob.ID, data []byte, deferred, hashed bool) error {
	var a *Asset
	var err error
	if deferred {
		a, err = s.uploadable(ctx, p, idOrName)
	} else {
		a, err = s.writable(ctx, p, idOrName)
	}
	if err != nil {
		return errors.E(op, err)
	}
	return s.putChunkTo(ctx, op, p, a, id, data, deferred, hashed)
}

func (s *Service) putChunkTo(ctx context.Context, op errors.Op, p *genesis.Principal, a *Asset, id blob.ID, data []byte, deferred, hashed bool) error {
	var err error
	if hashed {
		if len(data) > blob.MaxSize {
			return errors.E(op, errors.TooLarge, errors.Msg("chunk larger than 16 MiB"))
		}
	} else if err := blob.CheckPut(op, id, data); err != nil {
		return err
	}
	// The asset's claim on the chunk is recorded before the bytes are
	// written, and never while the garbage collector is deleting that chunk
	// (its tombstone): so gc cannot remove a chunk an upload relies on.
	now := store.T(s.now())
	fresh := false
	err = s.db.View(ctx, func(tx store.Tx) error {
		var n int
		err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM asset_chunks WHERE asset_id = ? AND chunk = ? AND (committed = ? OR uploaded_at >= ?)`,
			a.ID, id.String(), true, now-claimFresh.Microseconds()).Scan(&n)
		fresh = n > 0
		return err
	})
	if err != nil {
		return errors.E(op, err)
	}
	if !fresh {
		err = s.db.Update(ctx, func(tx store.Tx) error {
			return claimOne(ctx, tx, a.ID, id, p.ID, now, false)
		})
		if err != nil {
			return errors.E(op, err)
		}
	}
	// CheckPut above hashed these very bytes: a store that can skip its own
	// re-hash is told so (reads still verify every chunk).
	if deferred {
		err = blob.PutFast(ctx, s.blobs, id, data)
	} else {
		err = blob.PutHashed(ctx, s.blobs, id, data)
	}
	if err != nil {
		return errors.E(op, err)
	}
	return nil
}

// tombstoneTTL bounds how long a dead garbage collector's tombstone can
// hold up uploads of one chunk.
const tombstoneTTL = 10 * time.Minute

// GetChunk reads part of a chunk of a readable asset's versions.
func (s *Service) GetChunk(ctx context.Context, p *genesis.Principal, idOrName string, id blob.ID, off, length int64) ([]byte, error) {
	const op errors.Op = "catalog.GetChunk"
	a, err := s.getAsset(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	var n int
	err = s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM asset_chunks WHERE asset_id = ? AND chunk = ?`, a.ID, id.String()).Scan(&n)
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if n == 0 {
		return nil, errors.E(op, errors.NotExist)
	}
	b, err := s.blobs.Get(ctx, id, off, length)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return b, nil
}

// OpenChunk opens a chunk of a readable asset's versions as the file that
// holds it, positioned at its plaintext, for sending as stored: the bytes
// are not verified here, the receiver verifies them against id. ok is
// false (and nothing is open) when the store cannot do that — not a local
// directory, or the chunk is compressed — and GetChunk is the way.
func (s *Service) OpenChunk(ctx context.Context, p *genesis.Principal, idOrName string, id blob.ID) (f *os.File, size int64, ok bool, err error) {
	const op errors.Op = "catalog.OpenChunk"
	po, can := s.blobs.(blob.PlainOpener)
	if !can {
		return nil, 0, false, nil
	}
	a, err := s.getAsset(ctx, p, idOrName)
	if err != nil {
		return nil, 0, false, errors.E(op, err)
	}
	var n int
	err = s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM asset_chunks WHERE asset_id = ? AND chunk = ?`, a.ID, id.String()).Scan(&n)
	})
	if err != nil {
		return nil, 0, false, errors.E(op, err)
	}
	if n == 0 {
		return nil, 0, false, errors.E(op, errors.NotExist)
	}
	f, size, err = po.OpenPlain(ctx, id)
	if errors.Is(errors.Invalid, err) {
		return nil, 0, false, nil
	}
	if err != nil {
		return nil, 0, false, errors.E(op, err)
	}
	return f, size, true, nil
}

// CommitSpec describes a new version.
type CommitSpec struct {
	Manifest blob.ID
	Message  string
	// Parent, if set, must be the asset's latest version (optimistic
	// concurrency: a put based on a stale version is a Conflict).
	Parent *int64
	// Inputs are the versions this one was derived from; the asset's label
	// must dominate the join of their labels (no write down).
	Inputs []VersionRef
	// Activity and ActivityID name what derived it (default: a put).
	Activity   string
	ActivityID string
	// Model describes a model version (models only).
	Model *ModelMeta
	// Synthetic marks a dataset version as synthetic; Generator (required
	// with it, refused without it) names what made it: job:ID,
	// campaign:NAME, instrument:NAME (a simulator) or model:NAME. See
	// synthetic.go.
	Synthetic bool
	Generator string
	// Generated, set only by in-process callers that made the data
	// themselves (the campaign runner, for a campaign on simulators), marks
	// the version synthetic with a generator they already decided on; it
	// goes with neither Synthetic nor Generator.
	Generated *GeneratedBy
}

// Commit records a new immutable version whose manifest (already sent as a
// chunk) names only chunks this asset holds. The version takes the asset's
// label. Nothing is written unless all of it checks.
func (s *Service) Commit(ctx context.Context, p *genesis.Principal, idOrName string, spec CommitSpec) (*Version, error) {
	const op errors.Op = "catalog.Commit"
	a, err := s.writable(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := text.Block("message", spec.Message, text.MaxMessage); err != nil {
		return nil, errors.E(op, err)
	}
	if spec.Activity == "" {
		spec.Activity = ActivityPut
	}
	var generator string
	genLabel := label.Label{}
	switch {
	case spec.Generated != nil && (spec.Synthetic || spec.Generator != ""):
		return nil, invalid(op, "generator", "a version names one generator")
	case spec.Generated != nil && a.Kind != KindDataset:
		return nil, invalid(op, "synthetic", "only dataset versions are marked synthetic")
	case spec.Generated != nil:
		if _, err := ParseGenerator(spec.Generated.Ref); err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
		spec.Synthetic, generator, genLabel = true, spec.Generated.Ref, spec.Generated.Label
	case spec.Synthetic && strings.TrimSpace(spec.Generator) == "":
		return nil, invalid(op, "generator", "a synthetic version names its generator: job:ID, campaign:NAME, instrument:NAME or model:NAME")
	case !spec.Synthetic && spec.Generator != "":
		return nil, invalid(op, "synthetic", "a generator is named only for a synthetic version")
	case spec.Synthetic && a.Kind != KindDataset:
		return nil, invalid(op, "synthetic", "only dataset versions are marked synthetic")
	case spec.Synthetic:
		var in *VersionRef
		generator, genLabel, in, err = s.resolveGenerator(ctx, p, spec.Generator)
		if err != nil {
			return nil, errors.E(op, err)
		}
		if in != nil {
			spec.Inputs = append(slices.Clip(spec.Inputs), *in)
		}
		if spec.ActivityID == "" {
			spec.ActivityID = generator
		}
	}
	inputs, join, _, err := s.resolveInputs(ctx, p, spec.Inputs)
	if err != nil {
		return nil, errors.E(op, err)
	}
	join = label.Join(join, genLabel)
	if spec.Model != nil {
		if a.Kind != KindModel {
			return nil, invalid(op, "model", "model metadata goes with model assets only")
		}
		if err := spec.Model.check(op); err != nil {
			return nil, err
		}
		if spec.Activity == ActivityPut {
			spec.Activity = ActivityTraining
		}
	}
	held, err := s.HasChunks(ctx, p, a.ID, []blob.ID{spec.Manifest})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if !held[0] {
		return nil, invalid(op, "manifest", "the manifest was not sent to this asset")
	}
	m, err := manifest.Get(ctx, s.blobs, spec.Manifest)
	if err != nil {
		if errors.Is(errors.NotExist, err) || errors.Is(errors.Invalid, err) {
			return nil, invalid(op, "manifest", "the manifest is unreadable: "+errors.SafeMessage(err))
		}
		return nil, errors.E(op, err)
	}
	ids := m.ChunkIDs()
	have, err := s.HasChunks(ctx, p, a.ID, ids)
	if err != nil {
		return nil, errors.E(op, err)
	}
	for i, ok := range have {
		if !ok {
			return nil, invalid(op, "manifest", "the manifest references chunk "+ids[i].String()[:16]+"… that was not sent")
		}
	}
	// Every chunk the new version names must be durable before the version
	// is: chunks received deferred (ReceiveChunk) are synced here, in one
	// batch — all the asset holds uncommitted, which includes the
	// manifest's own index chunks.
	if err := s.syncUncommitted(ctx, a.ID, append(ids, spec.Manifest)); err != nil {
		return nil, errors.E(op, err)
	}
	st := m.Stats()
	now := s.now().UTC().Truncate(time.Microsecond)
	var v *Version
	err = s.db.Update(ctx, func(tx store.Tx) error {
		cur, err := s.load(ctx, tx, a.ID)
		if err != nil {
			return err
		}
		if spec.Parent != nil && *spec.Parent != cur.LatestVersion {
			return errors.E(errors.Conflict, errors.Field("parent"), errors.Msg("the asset has moved on: its latest version is newer than the parent you started from"))
		}
		if len(inputs) > 0 || spec.Synthetic {
			cl, err := label.Parse(cur.Label)
			if err != nil {
				return errors.E(errors.Internal, err)
			}
			// The inputs' labels as this transaction sees them: a relabel
			// that committed since they were resolved is counted here, and
			// one that commits after this finds the new edges and raises
			// this version with the rest.
			stored, err := versionLabelTx(ctx, tx, inputs)
			if err != nil {
				return err
			}
			join = label.Join(join, stored)
			if !label.Dominates(cl, join) {
				field, what := "inputs", "the join of the inputs' labels, "
				if !label.Dominates(cl, genLabel) {
					field, what = "generator", "the generator's label, "
					join = genLabel
				}
				return errors.E(errors.Invalid, errors.Field(field), errors.Msg("no write down: the label "+cl.Format()+
					" does not dominate "+what+join.Format()+"; raise the asset's label first"))
			}
		}
		v = &Version{Asset: cur.ID, Version: cur.LatestVersion + 1, Manifest: spec.Manifest.String(), Message: spec.Message,
			TotalBytes: st.Bytes, FileCount: int64(st.Files), Label: cur.Label, Synthetic: spec.Synthetic, Generator: generator, CreatedBy: p.ID, CreatedAt: now}
		if generator != "" {
			v.generatorLabel = genLabel.Format()
		}
		// The search document says whether the newest version is synthetic.
		wasSynthetic := false
		if cur.LatestVersion > 0 {
			if err := tx.QueryRow(ctx, `SELECT synthetic FROM asset_versions WHERE asset_id = ? AND version = ?`, cur.ID, cur.LatestVersion).Scan(&wasSynthetic); err != nil {
				return err
			}
		}
		if cur.LatestVersion > 0 {
			parent := cur.LatestVersion
			v.Parent = &parent
		}
		if _, err := tx.Exec(ctx, `INSERT INTO asset_versions (asset_id, version, manifest, parent, message, total_bytes, file_count, label, synthetic, generator, generator_label, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, v.Asset, v.Version, v.Manifest, v.Parent, v.Message, v.TotalBytes, v.FileCount, v.Label, v.Synthetic, v.Generator, v.generatorLabel, v.CreatedBy, store.T(now)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE assets SET latest_version = ?, updated_at = ? WHERE id = ?`, v.Version, store.T(now), cur.ID); err != nil {
			return err
		}
		if wasSynthetic != v.Synthetic {
			if err := s.indexTx(ctx, tx, cur.ID); err != nil {
				return err
			}
		}
		// The claims must still be there: a garbage collector that removed
		// one (after its grace period) serialises against this transaction,
		// so either it saw these chunks committed or we see them gone.
		if err := claimsHeld(ctx, tx, cur.ID, append(ids, spec.Manifest)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE asset_chunks SET committed = ? WHERE asset_id = ? AND committed = ?`, true, cur.ID, false); err != nil {
			return err
		}
		if spec.Model != nil {
			if err := insertModelMeta(ctx, tx, cur.ID, v.Version, spec.Model); err != nil {
				return err
			}
		}
		return insertEdges(ctx, tx, VersionRef{Asset: cur.ID, Version: v.Version}, inputs, spec.Activity, spec.ActivityID, p.ID, now)
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	l, _ := label.Parse(v.Label)
	if err := s.record(ctx, p, "commit", a, l, audit.Allow, "version "+itoa(v.Version)); err != nil {
		return nil, errors.E(op, err)
	}
	return v, nil
}

// Relabel raises an asset's label to marking, and every version's label to
// the join of its label and marking. Lowering is refused: only a release
// (declassification) lowers a label.
func (s *Service) Relabel(ctx context.Context, p *genesis.Principal, idOrName, marking string) (*Asset, error) {
	const op errors.Op = "catalog.Relabel"
	nl, err := s.normLabel(ctx, op, p, marking)
	if err != nil {
		return nil, err
	}
	a, err := s.writable(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	old, err := label.Parse(a.Label)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	if !label.Dominates(nl, old) {
		return nil, invalid(op, "label", "a label only goes up ("+nl.Format()+" does not dominate "+old.Format()+"); lowering it takes a declassification")
	}
	// Whoever labels must be cleared for the new label too.
	probe := *a
	probe.Label = nl.Format()
	if err := s.decide(ctx, p, authz.Write, &probe); err != nil {
		return nil, errors.E(op, errors.Permission, errors.Msg("you are not cleared for "+nl.Format()))
	}
	now := s.now().UTC()
	err = s.db.Update(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT version, label FROM asset_versions WHERE asset_id = ?`, a.ID)
		if err != nil {
			return err
		}
		type vl struct {
			v int64
			l string
		}
		var vs []vl
		if err := rows.Each(func() error {
			var x vl
			err := rows.Scan(&x.v, &x.l)
			vs = append(vs, x)
			return err
		}); err != nil {
			return err
		}
		for _, x := range vs {
			cur, err := label.Parse(x.l)
			if err != nil {
				return errors.E(errors.Internal, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE asset_versions SET label = ? WHERE asset_id = ? AND version = ?`, label.Join(cur, nl).Format(), a.ID, x.v); err != nil {
				return err
			}
		}
		if _, err = tx.Exec(ctx, `UPDATE assets SET label = ?, updated_at = ? WHERE id = ?`, nl.Format(), store.T(now), a.ID); err != nil {
			return err
		}
		raised, err := raiseDescendants(ctx, tx, a.ID, nl, now)
		if err != nil {
			return err
		}
		raised = append(raised, a.ID)
		for _, id := range raised {
			if err := s.indexTx(ctx, tx, id); err != nil {
				return err
			}
		}
		for _, h := range append(s.raiseHooks[:len(s.raiseHooks):len(s.raiseHooks)], s.labelHooks...) {
			if err := h(ctx, tx, raised); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.record(ctx, p, "relabel", a, nl, audit.Allow, old.Format()+" -> "+nl.Format()); err != nil {
		return nil, errors.E(op, err)
	}
	a.Label = nl.Format()
	return a, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// MayReadLabelOf reports whether p may read asset id at the label a record
// was made under (one of the labels the asset or its versions carry, for
// which recordedUnder is true).
// Audit records about assets are shown through it: a record made under a
// label is readable only by those cleared for that label. Anything unknown
// is false (fail closed). To decide many records, use a LabelDecider.
func (s *Service) MayReadLabelOf(ctx context.Context, p *genesis.Principal, id string, recordedUnder func(label.Label) bool) bool {
	d, err := s.NewLabelDecider(ctx, p, []string{id})
	if err != nil {
		return false
	}
	return d.MayRead(ctx, id, recordedUnder)
}

// LabelDecider answers MayReadLabelOf for a set of assets read at once:
// their labels in one transaction and the principal's authorization view
// once, so an audit view deciding thousands of records about thousands of
// assets pays one query per batch of assets, not two per record.
type LabelDecider struct {
	s  *Service
	ap authz.Principal
	// assets holds each known asset with the labels it and its versions
	// carry; decided caches authorization by asset and label.
	assets  map[string]*labelCandidates
	decided map[string]bool
}

type labelCandidates struct {
	asset  Asset
	labels []string
}

// labelBatch bounds the ids in one IN (…) list (SQLite's default limit of
// bound parameters is 32,766; PostgreSQL's 65,535).
const labelBatch = 500

// NewLabelDecider reads the labels of ids (unknown ids are simply absent:
// MayRead answers false for them) and p's authorization view.
func (s *Service) NewLabelDecider(ctx context.Context, p *genesis.Principal, ids []string) (*LabelDecider, error) {
	const op errors.Op = "catalog.NewLabelDecider"
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	d := &LabelDecider{s: s, ap: ap, assets: map[string]*labelCandidates{}, decided: map[string]bool{}}
	uniq := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	err = s.db.View(ctx, func(tx store.Tx) error {
		for lo := 0; lo < len(uniq); lo += labelBatch {
			batch := uniq[lo:min(lo+labelBatch, len(uniq))]
			args := make([]any, len(batch))
			for i, id := range batch {
				args[i] = id
			}
			in := "(" + strings.TrimSuffix(strings.Repeat("?,", len(batch)), ",") + ")"
			rows, err := tx.Query(ctx, `SELECT `+assetCols+` FROM assets WHERE id IN `+in, args...)
			if err != nil {
				return err
			}
			if err := rows.Each(func() error {
				a, err := scanAsset(rows)
				if err != nil {
					return err
				}
				d.assets[a.ID] = &labelCandidates{asset: *a, labels: []string{a.Label}}
				return nil
			}); err != nil {
				return err
			}
			rows, err = tx.Query(ctx, `SELECT DISTINCT asset_id, label FROM asset_versions WHERE asset_id IN `+in, args...)
			if err != nil {
				return err
			}
			if err := rows.Each(func() error {
				var id, l string
				if err := rows.Scan(&id, &l); err != nil {
					return err
				}
				if c := d.assets[id]; c != nil && !slices.Contains(c.labels, l) {
					c.labels = append(c.labels, l)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return d, nil
}

// MayRead is MayReadLabelOf for one of the decider's assets.
func (d *LabelDecider) MayRead(ctx context.Context, id string, recordedUnder func(label.Label) bool) bool {
	c := d.assets[id]
	if c == nil {
		return false
	}
	for _, m := range c.labels {
		l, err := label.Parse(m)
		if err != nil {
			continue
		}
		if !recordedUnder(l) {
			continue
		}
		key := id + "\x00" + m
		ok, seen := d.decided[key]
		if !seen {
			probe := c.asset
			probe.Label = m
			res, err := probe.resource()
			ok = err == nil && d.s.authz.Can(ctx, d.ap, authz.Read, res) == nil
			d.decided[key] = ok
		}
		return ok
	}
	return false
}

// raiseDescendants raises every version derived (transitively, except
// across a declassification) from any version of asset to dominate l, and
// their assets with them: what was computed from data now labelled l is at
// least l (no write down), and becomes unreadable to whoever is not cleared
// for it — fail closed — until a release says otherwise.
func raiseDescendants(ctx context.Context, tx store.Tx, asset string, l label.Label, now time.Time) ([]string, error) {
	rows, err := tx.Query(ctx, `WITH RECURSIVE down(a, v, depth) AS (
			SELECT asset_id, version, 0 FROM asset_versions WHERE asset_id = ?
			UNION
			SELECT e.child_asset, e.child_version, down.depth + 1 FROM lineage_edges e
			JOIN down ON e.parent_asset = down.a AND e.parent_version = down.v
			WHERE e.activity <> 'declassification' AND down.depth < 64
		)
		SELECT DISTINCT down.a, down.v, v.label FROM down JOIN asset_versions v ON v.asset_id = down.a AND v.version = down.v
		WHERE down.a <> ?`, asset, asset)
	if err != nil {
		return nil, err
	}
	type row struct {
		a string
		v int64
		l string
	}
	var rs []row
	if err := rows.Each(func() error {
		var r row
		err := rows.Scan(&r.a, &r.v, &r.l)
		rs = append(rs, r)
		return err
	}); err != nil {
		return nil, err
	}
	assets := map[string]bool{}
	for _, r := range rs {
		cur, err := label.Parse(r.l)
		if err != nil {
			return nil, errors.E(errors.Internal, err)
		}
		if label.Dominates(cur, l) {
			continue
		}
		if _, err := tx.Exec(ctx, `UPDATE asset_versions SET label = ? WHERE asset_id = ? AND version = ?`, label.Join(cur, l).Format(), r.a, r.v); err != nil {
			return nil, err
		}
		assets[r.a] = true
	}
	var raised []string
	for id := range assets {
		var m string
		if err := tx.QueryRow(ctx, `SELECT label FROM assets WHERE id = ?`, id).Scan(&m); err != nil {
			return nil, err
		}
		cur, err := label.Parse(m)
		if err != nil {
			return nil, errors.E(errors.Internal, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE assets SET label = ?, updated_at = ? WHERE id = ?`, label.Join(cur, l).Format(), store.T(now), id); err != nil {
			return nil, err
		}
		raised = append(raised, id)
	}
	return raised, nil
}

// syncUncommitted makes durable the chunks asset holds uncommitted, and
// ids.
func (s *Service) syncUncommitted(ctx context.Context, asset string, ids []blob.ID) error {
	if _, ok := s.blobs.(blob.Syncer); !ok {
		return nil
	}
	all := slices.Clone(ids)
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT chunk FROM asset_chunks WHERE asset_id = ? AND committed = ?`, asset, false)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var h string
			if err := rows.Scan(&h); err != nil {
				return err
			}
			if id, err := blob.ParseID(h); err == nil {
				all = append(all, id)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return blob.SyncAll(ctx, s.blobs, all)
}

// claimsHeld checks, inside a write transaction, that asset still holds a
// claim on every chunk.
func claimsHeld(ctx context.Context, tx store.Tx, asset string, ids []blob.ID) error {
	held, err := claimed(ctx, tx, asset, ids)
	if err != nil {
		return err
	}
	for _, ok := range held {
		if !ok {
			return errors.E(errors.Conflict, errors.Msg("some chunks were garbage-collected before the commit; run the put again"))
		}
	}
	return nil
}
