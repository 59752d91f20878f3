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
	// An earlier import of the same source record is updated in place.
	existing, err := s.importedAssets(ctx, recs)
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
		ia := ImportedAsset{Index: it.rec.Index, SourceID: it.rec.SourceID, Asset: it.a.Name, Quality: it.m.Quality.Score}
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

// importedAssets maps the source identifiers of recs already imported to
// their assets.
func (s *Service) importedAssets(ctx context.Context, recs []meta.Record) (map[string]string, error) {
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
	err := s.db.View(ctx, func(tx store.Tx) error {
		for lo := 0; lo < len(keys); lo += inBatch {
			part := keys[lo:min(len(keys), lo+inBatch)]
			rows, err := tx.Query(ctx, `SELECT source_id, asset_id FROM asset_metadata WHERE source_id IN (`+store.Placeholders(len(part))+`)`, part...)
			if err != nil {
				return err
			}
			if err := rows.Each(func() error {
				var src, id string
				err := rows.Scan(&src, &id)
				out[src] = id
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
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
	title, desc := it.rec.Core.Title, truncate(it.rec.Core.Description, 65536)
	if len(title) > 512 {
		return invalid(op, "description", "title or description too long")
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
	errs := make([]error, len(items))
	names := make([]string, len(items))
	err := s.db.Update(ctx, func(tx store.Tx) error {
		// A retried transaction starts over.
		clear(errs)
		clear(names)
		var ids []string
		for i, it := range items {
			if _, err := tx.Exec(ctx, `SAVEPOINT catalog_import`); err != nil {
				return err
			}
			name, err := s.importRecordTx(ctx, tx, p, it, now)
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
func (s *Service) importRecordTx(ctx context.Context, tx store.Tx, p *genesis.Principal, it *importItem, now time.Time) (string, error) {
	name := it.a.Name
	if !it.existing {
		var err error
		if name, err = insertImported(ctx, tx, it.a, slug(it.rec.Core.Title)); err != nil {
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

// insertImported inserts the new asset a under the first free name of
// base, base-2, … base-51, as Create would have.
func insertImported(ctx context.Context, tx store.Tx, a *Asset, base string) (string, error) {
	const op errors.Op = "catalog.Create"
	for i := 1; ; i++ {
		a.Name = base
		if i > 1 {
			a.Name = base[:min(len(base), 56)] + "-" + strconv.Itoa(i)
		}
		if !genesis.ValidName(a.Name) {
			return "", invalid(op, "name", "name must be 1-63 lower-case letters, digits, '-', '_' or '.'")
		}
		if ok, err := insertAsset(ctx, tx, a); err != nil || ok {
			return a.Name, err
		}
		if i > 50 {
			return "", errors.E(op, errors.Exist, errors.Field("name"), errors.Msg("an asset with that name exists"))
		}
	}
}
