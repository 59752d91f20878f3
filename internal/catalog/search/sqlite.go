package search

import (
	"context"
	"database/sql"
	"sort"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// sqliteIndex is the FTS5 backend. FTS5 finds the matching rowids; the
// readability predicate is arithmetic on them (rowid >> 32 is the class), so
// it runs inside the match before anything is read, counted or ranked.
// FTS5's own bm25() is not used: its N, average lengths and document
// frequencies cover the whole table, readable or not. Instead the matching
// readable rows are scored here, in Go, with BM25F statistics summed over
// readable classes (search_stats) and per-term readable document counts.
// Queries of words and prefixes read the index's own postings instead of
// FTS5 (postings.go), which makes that scoring cost nanoseconds per match.
type sqliteIndex struct {
	db     store.DB
	cache  docCache
	facets facetBlobCache
	kinds  classKinds
}

var _ Index = (*sqliteIndex)(nil)

// BatchUpserter is implemented by indexes that load many documents faster
// together than one by one (bulk imports, benchmarks).
type BatchUpserter interface {
	UpsertBatch(ctx context.Context, tx store.Tx, docs []Doc) error
}

var _ BatchUpserter = (*sqliteIndex)(nil)

const classShift = 32

func (ix *sqliteIndex) Upsert(ctx context.Context, tx store.Tx, d Doc) error {
	return ix.upsert(ctx, tx, []Doc{d}, "search.Upsert")
}

func (ix *sqliteIndex) UpsertBatch(ctx context.Context, tx store.Tx, docs []Doc) error {
	return ix.upsert(ctx, tx, docs, "search.UpsertBatch")
}

// deltas accumulates changes to the per-class aggregates.
type deltas struct {
	stats  map[ClassID]*corpusStats
	facets map[facetKey]int64
}

type facetKey struct {
	class        ClassID
	facet, value string
}

func newDeltas() *deltas {
	return &deltas{stats: map[ClassID]*corpusStats{}, facets: map[facetKey]int64{}}
}

func (dl *deltas) add(class ClassID, kind, domain, org string, synthetic bool, keywords []string, lens [nFields]int64, sign int64) {
	dl.addStats(class, &lens, sign)
	dl.addFacets(class, kind, domain, org, synthetic, keywords, sign)
}

// addStats counts a document's field lengths into its class's corpus
// statistics (sign 1) or takes them out (-1).
func (dl *deltas) addStats(class ClassID, lens *[nFields]int64, sign int64) {
	st := dl.stats[class]
	if st == nil {
		st = &corpusStats{}
		dl.stats[class] = st
	}
	st.n += sign
	for i := range lens {
		st.lens[i] += sign * lens[i]
	}
}

// addFacets counts a document's facet values in its class (sign 1) or
// takes them out (-1).
func (dl *deltas) addFacets(class ClassID, kind, domain, org string, synthetic bool, keywords []string, sign int64) {
	for _, f := range [][2]string{{FacetKind, kind}, {FacetDomain, domain}, {FacetOrg, org}} {
		if f[1] != "" {
			dl.facets[facetKey{class, f[0], f[1]}] += sign
		}
	}
	for _, kw := range keywords {
		dl.facets[facetKey{class, FacetKeyword, kw}] += sign
	}
	if synthetic {
		dl.facets[facetKey{class, FacetSynthetic, "true"}] += sign
	}
}

func classID(ctx context.Context, tx store.Tx, d *Doc) (ClassID, error) {
	if _, err := tx.Exec(ctx, `INSERT INTO search_classes (kind, label, project) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, d.Kind, d.Label, d.Project); err != nil {
		return 0, err
	}
	var id ClassID
	err := tx.QueryRow(ctx, `SELECT id FROM search_classes WHERE kind = ? AND label = ? AND project = ?`, d.Kind, d.Label, d.Project).Scan(&id)
	return id, err
}

const docCols = `doc, id, owner_id, kind, domain, org, project, label, name, title, description, keywords, creators, variables, updated_at, f_name, f_title, f_keywords, f_creators, f_variables, f_description, l0, l1, l2, l3, l4, l5, g, synthetic`

func (ix *sqliteIndex) upsert(ctx context.Context, tx store.Tx, docs []Doc, op errors.Op) error {
	// Postings blobs are read and rewritten on the write connection too.
	if err := tune(ctx, tx); err != nil {
		return errors.E(op, err)
	}
	// Last write of an ID wins within a batch.
	byID := map[string]int{}
	var ps []*prepared
	for _, d := range docs {
		p, err := prepare(op, d)
		if err != nil {
			return err
		}
		if i, ok := byID[p.d.ID]; ok {
			ps[i] = p
			continue
		}
		byID[p.d.ID] = len(ps)
		ps = append(ps, p)
	}
	dl := newDeltas()
	const chunk = 400
	for lo := 0; lo < len(ps); lo += chunk {
		part := ps[lo:min(len(ps), lo+chunk)]
		ids := make([]any, len(part))
		for i, p := range part {
			ids[i] = p.d.ID
		}
		if err := ix.deleteWhere(ctx, tx, `id IN (`+store.Placeholders(len(ids))+`)`, ids, dl); err != nil {
			return errors.E(op, err)
		}
	}
	// Allocate rowids per class.
	classes := map[[3]string]ClassID{}
	next := map[ClassID]int64{}
	rowids := make([]int64, len(ps))
	for i, p := range ps {
		key := [3]string{p.d.Kind, p.d.Label, p.d.Project}
		c, ok := classes[key]
		if !ok {
			var err error
			if c, err = classID(ctx, tx, &p.d); err != nil {
				return errors.E(op, err)
			}
			classes[key] = c
		}
		if _, ok := next[c]; !ok {
			lo := int64(c) << classShift
			var maxDoc int64
			if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(doc), ?) FROM search_docs WHERE doc >= ? AND doc < ?`, lo, lo, lo+(1<<classShift)).Scan(&maxDoc); err != nil {
				return errors.E(op, err)
			}
			next[c] = maxDoc + 1
		}
		rowids[i] = next[c]
		next[c]++
		if rowids[i]>>classShift != int64(c) {
			return errors.E(op, errors.Internal, errors.Msg("search class is full"))
		}
		dl.add(c, p.d.Kind, p.d.Domain, p.d.Org, p.d.Synthetic, p.keywordList, fieldLens(&p.f), 1)
	}
	firstG, err := allocG(ctx, tx, len(ps))
	if err != nil {
		return errors.E(op, err)
	}
	var pw postingWriter
	const rowsPer = 150 // 29 columns: stay far below SQLite's parameter limit
	for lo := 0; lo < len(ps); lo += rowsPer {
		hi := min(len(ps), lo+rowsPer)
		var docArgs, ftsArgs, kwArgs []any
		nkw := 0
		for i := lo; i < hi; i++ {
			p := ps[i]
			docArgs = append(docArgs, rowids[i], p.d.ID, p.d.Owner, p.d.Kind, p.d.Domain, p.d.Org, p.d.Project, p.d.Label,
				p.d.Name, p.d.Title, p.d.Description, p.keywords, p.creators, p.varsText, store.T(p.d.Updated))
			ftsArgs = append(ftsArgs, rowids[i])
			for _, f := range p.f {
				docArgs = append(docArgs, f)
				ftsArgs = append(ftsArgs, f)
			}
			for _, l := range fieldLens(&p.f) {
				docArgs = append(docArgs, l)
			}
			docArgs = append(docArgs, firstG+int64(i), p.d.Synthetic)
			pw.add(firstG+int64(i), &p.f)
			for _, kw := range p.keywordList {
				kwArgs = append(kwArgs, rowids[i], kw, folded(kw))
				nkw++
			}
		}
		n := hi - lo
		if _, err := tx.Exec(ctx, `INSERT INTO search_docs (`+docCols+`) VALUES `+store.RowsOf(n, 29), docArgs...); err != nil {
			return errors.E(op, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO search_fts (rowid, f_name, f_title, f_keywords, f_creators, f_variables, f_description) VALUES `+store.RowsOf(n, 7), ftsArgs...); err != nil {
			return errors.E(op, err)
		}
		for k := 0; k < nkw; k += 1000 {
			m := min(nkw, k+1000) - k
			if _, err := tx.Exec(ctx, `INSERT INTO search_keywords (doc, keyword, fold) VALUES `+store.RowsOf(m, 3), kwArgs[3*k:3*(k+m)]...); err != nil {
				return errors.E(op, err)
			}
		}
	}
	if err := pw.flush(ctx, tx); err != nil {
		return errors.E(op, err)
	}
	if err := dl.apply(ctx, tx); err != nil {
		return errors.E(op, err)
	}
	return nil
}

func (ix *sqliteIndex) Delete(ctx context.Context, tx store.Tx, id string) error {
	const op errors.Op = "search.Delete"
	dl := newDeltas()
	if err := ix.deleteWhere(ctx, tx, `id = ?`, []any{id}, dl); err != nil {
		return errors.E(op, err)
	}
	if err := dl.apply(ctx, tx); err != nil {
		return errors.E(op, err)
	}
	return nil
}

// deleteWhere removes the documents matching where from every table,
// recording their aggregates in dl.
func (ix *sqliteIndex) deleteWhere(ctx context.Context, tx store.Tx, where string, args []any, dl *deltas) error {
	rows, err := tx.Query(ctx, `SELECT doc, owner_id, kind, domain, org, keywords, f_name, f_title, f_keywords, f_creators, f_variables, f_description, g, synthetic FROM search_docs WHERE `+where, args...)
	if err != nil {
		return err
	}
	var docs []any
	var ftsArgs []any
	var gs []int64
	var gFields [][nFields]string
	err = rows.Each(func() error {
		var doc int64
		var owner, kind, domain, org, kws string
		var f [nFields]string
		var g sql.NullInt64
		var synthetic bool
		if err := rows.Scan(&doc, &owner, &kind, &domain, &org, &kws, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &g, &synthetic); err != nil {
			return err
		}
		if g.Valid {
			gs = append(gs, g.Int64)
			gFields = append(gFields, f)
		}
		docs = append(docs, doc)
		ftsArgs = append(ftsArgs, doc)
		for _, x := range f {
			ftsArgs = append(ftsArgs, x)
		}
		dl.add(ClassID(doc>>classShift), kind, domain, org, synthetic, splitList(kws), fieldLens(&f), -1)
		return nil
	})
	if err != nil || len(docs) == 0 {
		return err
	}
	if err := removePostings(ctx, tx, gs, gFields); err != nil {
		return err
	}
	for lo := 0; lo < len(docs); lo += 100 {
		hi := min(len(docs), lo+100)
		if _, err := tx.Exec(ctx, `INSERT INTO search_fts (search_fts, rowid, f_name, f_title, f_keywords, f_creators, f_variables, f_description) VALUES `+
			strings.Repeat(`('delete', ?, ?, ?, ?, ?, ?, ?),`, hi-lo-1)+`('delete', ?, ?, ?, ?, ?, ?, ?)`, ftsArgs[7*lo:7*hi]...); err != nil {
			return err
		}
		in := store.Placeholders(hi - lo)
		if _, err := tx.Exec(ctx, `DELETE FROM search_keywords WHERE doc IN (`+in+`)`, docs[lo:hi]...); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM search_docs WHERE doc IN (`+in+`)`, docs[lo:hi]...); err != nil {
			return err
		}
	}
	return nil
}

func (dl *deltas) apply(ctx context.Context, tx store.Tx) error {
	if err := applyStats(ctx, tx, dl.stats); err != nil {
		return err
	}
	return dl.applyFacets(ctx, tx)
}

// applyStats adds per-class changes of size and field lengths to
// search_stats, in class order.
func applyStats(ctx context.Context, tx store.Tx, stats map[ClassID]*corpusStats) error {
	classes := make([]ClassID, 0, len(stats))
	for c := range stats {
		classes = append(classes, c)
	}
	sort.Slice(classes, func(i, j int) bool { return classes[i] < classes[j] })
	for _, c := range classes {
		st := stats[c]
		if st.n == 0 && st.lens == [nFields]int64{} {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO search_stats (class_id, n, l0, l1, l2, l3, l4, l5) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (class_id) DO UPDATE SET n = search_stats.n + excluded.n,
			l0 = search_stats.l0 + excluded.l0, l1 = search_stats.l1 + excluded.l1, l2 = search_stats.l2 + excluded.l2,
			l3 = search_stats.l3 + excluded.l3, l4 = search_stats.l4 + excluded.l4, l5 = search_stats.l5 + excluded.l5`,
			c, st.n, st.lens[0], st.lens[1], st.lens[2], st.lens[3], st.lens[4], st.lens[5]); err != nil {
			return err
		}
		if st.n < 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM search_stats WHERE class_id = ? AND n = 0`, c); err != nil {
				return err
			}
		}
	}
	return nil
}

func (dl *deltas) applyFacets(ctx context.Context, tx store.Tx) error {
	byClass := map[ClassID]map[[2]string]int64{}
	for k, c := range dl.facets {
		if c == 0 {
			continue
		}
		m := byClass[k.class]
		if m == nil {
			m = map[[2]string]int64{}
			byClass[k.class] = m
		}
		m[[2]string{k.facet, k.value}] += c
	}
	fclasses := make([]ClassID, 0, len(byClass))
	for c := range byClass {
		fclasses = append(fclasses, c)
	}
	sort.Slice(fclasses, func(i, j int) bool { return fclasses[i] < fclasses[j] })
	for _, c := range fclasses {
		var old string
		err := tx.QueryRow(ctx, `SELECT counts FROM search_facet_counts WHERE class_id = ?`, c).Scan(&old)
		if err != nil && !errors.Is(errors.NotExist, err) {
			return err
		}
		counts := map[[2]string]int64{}
		decodeFacetCounts(old, func(f, v string, n int64) { counts[[2]string{f, v}] += n })
		for k, d := range byClass[c] {
			counts[k] += d
		}
		enc := encodeFacetCounts(counts)
		if enc == "" {
			_, err = tx.Exec(ctx, `DELETE FROM search_facet_counts WHERE class_id = ?`, c)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO search_facet_counts (class_id, counts) VALUES (?, ?)
				ON CONFLICT (class_id) DO UPDATE SET counts = excluded.counts`, c, enc)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (ix *sqliteIndex) Classes(ctx context.Context) ([]Class, error) {
	return listClasses(ctx, ix.db)
}

func listClasses(ctx context.Context, db store.DB) ([]Class, error) {
	const op errors.Op = "search.Classes"
	var out []Class
	err := db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, kind, label, project FROM search_classes ORDER BY id`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var c Class
			if err := rows.Scan(&c.ID, &c.Kind, &c.Label, &c.Project); err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}
