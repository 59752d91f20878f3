package catalog

import (
	"context"
	"strconv"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// importBatchSize is how many records one import transaction writes. The
// search postings a batch touches are appended once per batch, so larger
// batches index faster; the write lock is held for one batch.
const importBatchSize = 500

// An importItem is one record on its way into the catalog.
type importItem struct {
	rec      meta.Record
	m        *Metadata
	a        *Asset // the asset updated, or the one to create (named in the transaction)
	existing bool
	orig     blob.ID // the original, kept as a chunk of the asset when m.Original != ""
	err      error   // why the record is rejected
}

// fatalImport reports whether err stops the whole import rather than one
// record: cancellation, or an unavailable service (such as an audit log
// that cannot take a NATIONAL-SECURITY record).
func fatalImport(err error) bool {
	return errors.Is(errors.Canceled, err) || errors.Is(errors.Unavailable, err)
}

// importBatchBytes bounds the record bytes (originals and descriptions)
// one batch holds: a batch of large records is cut short of
// importBatchSize.
const importBatchBytes = 16 << 20

// importBatcher stores records as a document is read: it gathers them
// into batches and imports each batch (importBatch) as soon as it is full,
// adding the outcome of each record to sum in record order, so an import
// holds one batch in memory, not the document.
//
// A batch runs in three steps. First, outside any transaction, each record
// gets its authorization decisions (audited as one by one: a create, and
// the write of its original), and its original is written to the blob
// store and made durable. Then one write transaction writes every record
// under its own savepoint — a record that fails is rolled back to it
// alone, with its reason — and indexes the batch's assets once, at the
// end. The transaction body has no side effects outside the store, so a
// serialization retry repeats nothing else. Last, after the commit, each
// imported record's metadata.import audit record is appended.
//
// A batch whose transaction fails as a whole (not per record) is retried
// one record per transaction, so a record still succeeds or fails on its
// own. A fatal error (fatalImport) stops the import: batches already
// stored stay stored.
type importBatcher struct {
	s       *Service
	p       *genesis.Principal
	l       label.Label
	project string
	sum     *ImportSummary

	recs  []meta.Record
	bytes int
	// A batch never holds one source identifier twice: the later record
	// updates what the earlier one imported, so it must see it.
	seen map[string]bool
	// storing: a batch has been handed to importBatch.
	storing bool
}

func (b *importBatcher) add(ctx context.Context, rec meta.Record) error {
	if id := rec.SourceID; id != "" && b.seen[id] {
		if err := b.flush(ctx); err != nil {
			return err
		}
	}
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	if rec.SourceID != "" {
		b.seen[rec.SourceID] = true
	}
	b.recs = append(b.recs, rec)
	b.bytes += len(rec.Provenance.Original) + len(rec.Core.Description)
	if len(b.recs) >= importBatchSize || b.bytes >= importBatchBytes {
		return b.flush(ctx)
	}
	return nil
}

// flush imports the gathered records.
func (b *importBatcher) flush(ctx context.Context) error {
	if len(b.recs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return errors.E(errors.Canceled, err)
	}
	b.storing = true
	err := b.s.importBatch(ctx, b.p, b.recs, b.l, b.project, b.sum)
	b.recs, b.bytes = nil, 0
	clear(b.seen)
	return err
}

func (s *Service) importBatch(ctx context.Context, p *genesis.Principal, recs []meta.Record, l label.Label, project string, sum *ImportSummary) error {
	now := s.now().UTC().Truncate(time.Microsecond)
	items := make([]*importItem, len(recs))
	for i, rec := range recs {
		items[i] = &importItem{rec: rec, m: &Metadata{Core: rec.Core, Quality: rec.Quality(), Provenance: rec.Provenance, SourceID: rec.SourceID,
			UpdatedBy: string(p.ID), UpdatedAt: now}}
	}
	// An earlier import of the same source record is updated in place,
	// if the importer can read it (docs/DESIGN.md, "Names": source
	// identifiers are held per principal's view, as names are).
	existing, err := s.importedAssets(ctx, p, recs)
	if err != nil {
		if fatalImport(err) {
			return err
		}
		for _, it := range items {
			it.err = err
		}
	}
	proj := projectResolver{s: s, p: p, name: project}
	for _, it := range items {
		if it.err != nil {
			continue
		}
		if it.err = s.importAuthorize(ctx, p, it, existing[it.rec.SourceID], l, &proj, now); it.err != nil && fatalImport(it.err) {
			return it.err
		}
	}
	// The originals are written (and made durable) before the transaction
	// that claims them as committed chunks: that transaction also checks
	// the garbage collector's tombstones, so either the collector sees the
	// claim or the record sees the tombstone and is rejected.
	var written []*importItem
	for _, it := range items {
		orig := it.rec.Provenance.Original
		if it.err != nil || len(orig) == 0 || len(orig) > blob.MaxSize {
			continue
		}
		id := blob.Sum(orig)
		if err := blob.PutFast(ctx, s.blobs, id, orig); err != nil {
			if it.err = errors.E(errors.Op("catalog.PutChunk"), err); fatalImport(it.err) {
				return it.err
			}
			continue
		}
		it.orig, it.m.Original = id, id.String()
		written = append(written, it)
	}
	if len(written) > 0 {
		ids := make([]blob.ID, len(written))
		for i, it := range written {
			ids[i] = it.orig
		}
		if err := blob.SyncAll(ctx, s.blobs, ids); err != nil {
			err = errors.E(errors.Op("catalog.PutChunk"), err)
			if fatalImport(err) {
				return err
			}
			for _, it := range written {
				it.err = err
			}
		}
	}
	var live []*importItem
	for _, it := range items {
		if it.err == nil {
			live = append(live, it)
		}
	}
	if err := s.importTx(ctx, p, live, now); err != nil {
		if fatalImport(err) {
			return err
		}
		for _, it := range live {
			if err := s.importTx(ctx, p, []*importItem{it}, now); err != nil {
				if fatalImport(err) {
					return err
				}
				it.err = err
			}
		}
	}
	var fatal error
	for _, it := range items {
		if it.err == nil {
			if err := s.afterMetadata(ctx, p, it.a, it.m, "metadata.import"); err != nil {
				// The record is written; a log that cannot take its audit
				// record stops the import once the batch's others are tried.
				if fatalImport(err) {
					fatal = cmpErr(fatal, err)
					continue
				}
				it.err = err
			}
		}
		if it.err != nil {
			msg := errors.SafeMessage(it.err)
			if msg == "" {
				msg = "could not be stored"
			}
			sum.Rejected = append(sum.Rejected, Rejection{Index: it.rec.Index, SourceID: it.rec.SourceID, Field: errors.FieldOf(it.err), Reason: msg})
			continue
		}
		ia := ImportedAsset{Index: it.rec.Index, SourceID: it.rec.SourceID, Asset: it.a.Name, ID: it.a.ID, Quality: it.m.Quality.Score}
		if it.existing {
			sum.Updated = append(sum.Updated, ia)
		} else {
			sum.Imported = append(sum.Imported, ia)
		}
	}
	return fatal
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// importedAssets maps the source identifiers of recs to the assets p may
// read that an earlier import gave them: of several, the oldest (created,
// then ID), as a name resolves. Assets p may not read are not considered.
func (s *Service) importedAssets(ctx context.Context, p *genesis.Principal, recs []meta.Record) (map[string]string, error) {
	var keys []any
	for _, r := range recs {
		if r.SourceID != "" {
			keys = append(keys, r.SourceID)
		}
	}
	out := map[string]string{}
	if len(keys) == 0 {
		return out, nil
	}
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, err
	}
	type held struct {
		src string
		a   Asset
	}
	var all []held
	err = s.db.View(ctx, func(tx store.Tx) error {
		for lo := 0; lo < len(keys); lo += inBatch {
			part := keys[lo:min(len(keys), lo+inBatch)]
			rows, err := tx.Query(ctx, `SELECT m.source_id, a.id, a.kind, a.name, a.title, a.description, a.label, COALESCE(a.project_id, ''), a.owner_id,
					a.latest_version, a.created_at, a.updated_at
				FROM asset_metadata m JOIN assets a ON a.id = m.asset_id WHERE m.source_id IN (`+store.Placeholders(len(part))+`) AND m.source_id <> ''
				ORDER BY a.created_at, a.id`, part...)
			if err != nil {
				return err
			}
			if err := rows.Each(func() error {
				var h held
				var c, u int64
				err := rows.Scan(&h.src, &h.a.ID, &h.a.Kind, &h.a.Name, &h.a.Title, &h.a.Description, &h.a.Label, &h.a.Project, &h.a.Owner,
					&h.a.LatestVersion, &c, &u)
				h.a.CreatedAt, h.a.UpdatedAt = store.FromT(c), store.FromT(u)
				all = append(all, h)
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	as := make([]Asset, len(all))
	for i := range all {
		as[i] = all[i].a
	}
	ok, err := s.readable(ctx, ap, as)
	if err != nil {
		return nil, err
	}
	// Oldest first within each query; across batches, compare.
	first := map[string]*Asset{}
	for i := range all {
		if !ok[i] {
			continue
		}
		a := &all[i].a
		if f := first[all[i].src]; f == nil || a.CreatedAt.Before(f.CreatedAt) || a.CreatedAt.Equal(f.CreatedAt) && a.ID < f.ID {
			first[all[i].src] = a
		}
	}
	for src, a := range first {
		out[src] = a.ID
	}
	return out, nil
}

// projectResolver resolves the import's project once, for the first
// record that creates an asset, as Create does.
type projectResolver struct {
	s    *Service
	p    *genesis.Principal
	name string
	done bool
	id   string
	err  error
}

func (r *projectResolver) get(ctx context.Context) (string, error) {
	if r.name == "" || r.done {
		return r.id, r.err
	}
	const op errors.Op = "catalog.Create"
	err := r.s.db.View(ctx, func(tx store.Tx) error {
		var err error
		r.id, err = projectFor(ctx, tx, r.p, r.name)
		return err
	})
	if err != nil && !errors.Is(errors.Invalid, err) {
		err = errors.E(op, err)
	}
	if !fatalImport(err) {
		r.done, r.err = true, err
	}
	return r.id, err
}

// importAuthorize makes the decisions a record's import takes, with the
// audit records they always made: the write of the existing asset (or the
// creation of a new one), and the write of the original to it.
func (s *Service) importAuthorize(ctx context.Context, p *genesis.Principal, it *importItem, existing string, l label.Label, proj *projectResolver, now time.Time) error {
	keepsOriginal := len(it.rec.Provenance.Original) > 0 && len(it.rec.Provenance.Original) <= blob.MaxSize
	if existing != "" {
		a, err := s.writable(ctx, p, existing)
		if err != nil {
			if errors.Is(errors.NotExist, err) {
				return errors.E(errors.Exist, errors.Msg("a record with this identifier was imported into an asset you cannot change"))
			}
			return err
		}
		it.a, it.existing = a, true
		if keepsOriginal {
			if _, err := s.writable(ctx, p, a.ID); err != nil {
				return errors.E(errors.Op("catalog.PutChunk"), err)
			}
		}
		return nil
	}
	const op errors.Op = "catalog.Create"
	title, desc := it.rec.Core.Title, truncate(it.rec.Core.Description, MaxDescriptionLen)
	if len(title) > MaxTitleLen {
		return invalid(op, "title", "title is longer than 512 bytes")
	}
	project, err := proj.get(ctx)
	if err != nil {
		return err
	}
	a := &Asset{ID: newID("ds"), Kind: KindDataset, Title: title, Description: desc, Label: l.Format(),
		Project: genesis.ProjectID(project), Owner: p.ID, CreatedAt: now, UpdatedAt: now}
	if err := s.mayCreate(ctx, p, a); err != nil {
		return errors.E(op, err)
	}
	it.a = a
	if keepsOriginal {
		// Sending the original to the new asset: read, then write (writable).
		const op errors.Op = "catalog.PutChunk"
		if err := s.decide(ctx, p, authz.Read, a); err != nil {
			if errors.Is(errors.NotExist, err) {
				return errors.E(op, errors.NotExist)
			}
			return errors.E(op, err)
		}
		if err := s.mayWrite(ctx, p, a); err != nil {
			return errors.E(op, err)
		}
	}
	return nil
}

// importTx writes items in one transaction, each under its own savepoint.
// A record that fails gets its reason in its err and leaves nothing
// behind; the others are indexed together at the end. The error returned
// is about the transaction as a whole: then nothing of it was written.
func (s *Service) importTx(ctx context.Context, p *genesis.Principal, items []*importItem, now time.Time) error {
	if len(items) == 0 {
		return nil
	}
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return err
	}
	errs := make([]error, len(items))
	names := make([]string, len(items))
	err = s.db.Update(ctx, func(tx store.Tx) error {
		// A retried transaction starts over.
		clear(errs)
		clear(names)
		var ids []string
		for i, it := range items {
			if _, err := tx.Exec(ctx, `SAVEPOINT catalog_import`); err != nil {
				return err
			}
			name, err := s.importRecordTx(ctx, tx, p, ap, it, now)
			if err != nil {
				if txFatal(err) {
					return err
				}
				if _, rerr := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT catalog_import`); rerr != nil {
					return rerr
				}
				errs[i] = err
			}
			if _, err := tx.Exec(ctx, `RELEASE SAVEPOINT catalog_import`); err != nil {
				return err
			}
			if errs[i] == nil {
				names[i] = name
				ids = append(ids, it.a.ID)
			}
		}
		return s.indexBatchTx(ctx, tx, ids)
	})
	if err != nil {
		return err
	}
	for i, it := range items {
		if errs[i] != nil {
			it.err = errs[i]
			continue
		}
		if !it.existing {
			it.a.Name = names[i]
		}
	}
	return nil
}

// txFatal reports whether err ends the whole transaction: cancellation,
// an unavailable database, or a serialization failure (which the store
// retries, batch and all). Nothing a record's body returns by choice is
// a Conflict.
func txFatal(err error) bool {
	return fatalImport(err) || errors.Is(errors.Conflict, err)
}

// importRecordTx writes one record: the new asset (named from its title,
// with -2, -3 … on conflict), its original as a committed chunk, its
// metadata. It returns the new asset's name.
func (s *Service) importRecordTx(ctx context.Context, tx store.Tx, p *genesis.Principal, ap authz.Principal, it *importItem, now time.Time) (string, error) {
	name := it.a.Name
	if !it.existing {
		// The source identifier is checked again here, with the insert:
		// of two imports of one record by principals who can read each
		// other's assets, one creates and the other is told (as names).
		if src := it.m.SourceID; src != "" {
			held, err := s.visibleWithSource(ctx, tx, ap, src)
			if err != nil {
				return "", err
			}
			if held != nil {
				return "", errors.E(errors.Exist, errors.Field("source_id"),
					errors.Msg("another asset holds this source identifier: "+held.Name+" ("+held.ID+"); import the record again to update it"))
			}
		}
		var err error
		if name, err = s.insertImported(ctx, tx, ap, it.a, slug(it.rec.Core.Title)); err != nil {
			return "", err
		}
	}
	if it.m.Original != "" {
		// The original is kept: it counts as a committed chunk of the asset.
		if err := claimOne(ctx, tx, it.a.ID, it.orig, p.ID, store.T(s.now()), true); err != nil {
			return "", errors.E(errors.Op("catalog.PutChunk"), err)
		}
	}
	err := putMetadata(ctx, tx, it.a.ID, it.m)
	if errors.Is(errors.Exist, err) {
		return "", errors.E(errors.Exist, errors.Field("source_id"), errors.Msg("another asset already holds this source identifier"))
	}
	if err != nil {
		return "", err
	}
	return name, nil
}

// visibleWithSource returns the oldest asset ap may read that holds the
// source identifier src, or nil.
func (s *Service) visibleWithSource(ctx context.Context, tx store.Tx, ap authz.Principal, src string) (*Asset, error) {
	rows, err := tx.Query(ctx, `SELECT `+assetCols+` FROM assets WHERE id IN (SELECT asset_id FROM asset_metadata WHERE source_id = ? AND source_id <> '') ORDER BY created_at, id`, src)
	if err != nil {
		return nil, err
	}
	var as []Asset
	if err := rows.Each(func() error {
		a, err := scanAsset(rows)
		if err == nil {
			as = append(as, *a)
		}
		return err
	}); err != nil {
		return nil, err
	}
	ok, err := s.readable(ctx, ap, as)
	if err != nil {
		return nil, err
	}
	for i := range as {
		if ok[i] {
			return &as[i], nil
		}
	}
	return nil, nil
}

// insertImported inserts the new asset a under the first of base, base-2,
// … base-51 that the importer sees no asset of, as Create would have:
// assets the importer may not read hold no name for it (visibleNamed).
func (s *Service) insertImported(ctx context.Context, tx store.Tx, ap authz.Principal, a *Asset, base string) (string, error) {
	const op errors.Op = "catalog.Create"
	for i := 1; ; i++ {
		a.Name = base
		if i > 1 {
			a.Name = base[:min(len(base), 56)] + "-" + strconv.Itoa(i)
		}
		if !genesis.ValidName(a.Name) {
			return "", invalid(op, "name", "name must be 1-63 lower-case letters, digits, '-', '_' or '.'")
		}
		seen, err := s.visibleNamed(ctx, tx, ap, a.Name)
		if err != nil {
			return "", err
		}
		if seen == nil {
			return a.Name, insertAsset(ctx, tx, a)
		}
		if i > 50 {
			return "", nameTaken(op, seen)
		}
	}
}
