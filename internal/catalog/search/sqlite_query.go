package search

import (
	"context"
	"sort"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// filterSQL renders q's filters over search_docs d. keywordExists renders
// the keyword test given the placeholder.
func filterSQL(q Query, keywordExists string) (string, []any) {
	var parts []string
	var args []any
	for _, f := range [][2]string{{"d.kind", q.Kind}, {"d.domain", q.Domain}, {"d.org", q.Org}} {
		if f[1] != "" {
			parts = append(parts, f[0]+" = ?")
			args = append(args, clean(f[1]))
		}
	}
	for _, kw := range dedupe(q.Keywords) {
		parts = append(parts, keywordExists)
		args = append(args, clean(kw))
	}
	if q.Synthetic != nil {
		parts = append(parts, "d.synthetic = ?")
		args = append(args, *q.Synthetic)
	}
	if len(parts) == 0 {
		return "1 = 1", nil
	}
	return strings.Join(parts, " AND "), args
}

func hasFilters(q Query) bool {
	return q.Kind != "" || q.Domain != "" || q.Org != "" || len(q.Keywords) > 0 || q.Synthetic != nil
}

// match is one readable matching document before paging.
type match struct {
	doc     int64
	hit     Hit
	updated int64
}

func (ix *sqliteIndex) Search(ctx context.Context, q Query, v Visibility) (*Result, error) {
	const op errors.Op = "search.Search"
	limit, offset, err := page(op, q)
	if err != nil {
		return nil, err
	}
	terms, err := parseQuery(op, q.Text)
	if err != nil {
		return nil, err
	}
	if v, err = ix.kinds.forKinds(ctx, ix.db, v, q.Passages); err != nil {
		return nil, errors.E(op, err)
	}
	vis := normalize(v)
	var res *Result
	err = ix.db.View(ctx, func(tx store.Tx) error {
		if err := tune(ctx, tx); err != nil {
			return err
		}
		if len(terms) == 0 {
			res, err = ix.browse(ctx, tx, q, vis, limit, offset)
			return err
		}
		if postingsQuery(terms) {
			complete, err := postingsComplete(ctx, tx)
			if err != nil {
				return err
			}
			if complete {
				res, err = ix.postingsText(ctx, tx, q, terms, vis, limit, offset)
				return err
			}
		}
		res, err = ix.text(ctx, tx, q, terms, vis, limit, offset)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return res, nil
}

// ownedBy tests a rowid against the owner's documents: an uncorrelated
// subquery, which SQLite evaluates once per statement from the owner index
// instead of looking up every candidate row.
func ownedBy(rowid string) string {
	return rowid + ` IN (SELECT o.doc FROM search_docs o WHERE o.owner_id = ?)`
}

// tune enlarges the page cache and maps the file on the connection serving
// tx (it persists on that pooled connection): a search reads rows scattered
// over the whole table, and the default 2 MB cache makes each a system call.
func tune(ctx context.Context, tx store.Tx) error {
	if _, err := tx.Exec(ctx, `PRAGMA cache_size = -131072`); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `PRAGMA mmap_size = 17179869184`)
	return err
}

const keywordExistsSQLite = `EXISTS (SELECT 1 FROM search_keywords k WHERE k.doc = d.doc AND k.keyword = ?)`

func (ix *sqliteIndex) text(ctx context.Context, tx store.Tx, q Query, terms []term, vis visibility, limit, offset int) (*Result, error) {
	visSQL, visArgs := vis.sql("(search_fts.rowid >> 32)", ownedBy("search_fts.rowid"))
	fSQL, fArgs := filterSQL(q, keywordExistsSQLite)
	args := append(append([]any{ftsMatch(terms)}, visArgs...), fArgs...)
	// Only what ranking, ordering and facets need; the page's hits are
	// completed afterwards.
	rows, err := tx.Query(ctx, `SELECT d.doc, d.id, d.kind, d.domain, d.org, d.keywords, d.synthetic,
		d.f_name, d.f_title, d.f_keywords, d.f_creators, d.f_variables, d.f_description, d.l0, d.l1, d.l2, d.l3, d.l4, d.l5
		FROM search_fts JOIN search_docs d ON d.doc = search_fts.rowid
		WHERE search_fts MATCH ? AND `+visSQL+` AND `+fSQL, args...)
	if err != nil {
		return nil, err
	}
	type cand struct {
		m match
		f [nFields]string
		l [nFields]int64
	}
	var cands []cand
	fc := facetCounter{}
	err = rows.Each(func() error {
		var c cand
		var kws string
		var synthetic bool
		if err := rows.Scan(&c.m.doc, &c.m.hit.ID, &c.m.hit.Kind, &c.m.hit.Domain, &c.m.hit.Org, &kws, &synthetic,
			&c.f[0], &c.f[1], &c.f[2], &c.f[3], &c.f[4], &c.f[5], &c.l[0], &c.l[1], &c.l[2], &c.l[3], &c.l[4], &c.l[5]); err != nil {
			return err
		}
		fc.add(FacetKind, c.m.hit.Kind, 1)
		fc.add(FacetDomain, c.m.hit.Domain, 1)
		fc.add(FacetOrg, c.m.hit.Org, 1)
		for _, kw := range splitList(kws) {
			fc.add(FacetKeyword, kw, 1)
		}
		if synthetic {
			fc.add(FacetSynthetic, "true", 1)
		}
		cands = append(cands, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res := &Result{Hits: []Hit{}, Total: len(cands), Facets: fc.result()}
	if len(cands) == 0 {
		return res, nil
	}
	st, err := ix.stats(ctx, tx, vis)
	if err != nil {
		return nil, err
	}
	df := make([]int64, len(terms))
	if len(terms) == 1 && !hasFilters(q) {
		df[0] = int64(len(cands))
	} else {
		ovSQL, ovArgs := vis.sql("(search_fts.rowid >> 32)", ownedBy("search_fts.rowid"))
		for i, t := range terms {
			if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH ? AND `+ovSQL,
				append([]any{ftsTerm(t)}, ovArgs...)...).Scan(&df[i]); err != nil {
				return nil, err
			}
		}
	}
	for i := range cands {
		cands[i].m.hit.Score = bm25(terms, df, st, &cands[i].f, &cands[i].l)
	}
	sort.Slice(cands, func(i, j int) bool {
		a, b := &cands[i].m.hit, &cands[j].m.hit
		if a.Score != b.Score {
			return a.Score > b.Score
		}
		return a.ID < b.ID
	})
	var pg []match
	for i := offset; i < len(cands) && i < offset+limit; i++ {
		pg = append(pg, cands[i].m)
	}
	if offset+limit < len(cands) {
		res.Next = cursorAt(offset + limit)
	}
	if res.Hits, err = ix.snippets(ctx, tx, terms, pg); err != nil {
		return nil, err
	}
	return res, nil
}

// stats sums the readable corpus's size and field lengths: per-class
// aggregates for readable classes, and the owner's own documents in classes
// readable to their owner.
func (ix *sqliteIndex) stats(ctx context.Context, tx store.Tx, vis visibility) (corpusStats, error) {
	return readableStats(ctx, tx, sqlitePostings.classExpr, vis)
}

// readableStats is stats for either backend; classExpr is the SQL of a
// search_docs row's class.
func readableStats(ctx context.Context, tx store.Tx, classExpr string, vis visibility) (corpusStats, error) {
	var st corpusStats
	const sums = `COALESCE(SUM(l0), 0), COALESCE(SUM(l1), 0), COALESCE(SUM(l2), 0), COALESCE(SUM(l3), 0), COALESCE(SUM(l4), 0), COALESCE(SUM(l5), 0)`
	if len(vis.all) > 0 {
		if err := tx.QueryRow(ctx, `SELECT COALESCE(SUM(n), 0), `+sums+` FROM search_stats WHERE class_id IN (`+intList(vis.all)+`)`).
			Scan(&st.n, &st.lens[0], &st.lens[1], &st.lens[2], &st.lens[3], &st.lens[4], &st.lens[5]); err != nil {
			return st, err
		}
	}
	if len(vis.owned) > 0 {
		var o corpusStats
		if err := tx.QueryRow(ctx, `SELECT COUNT(*), `+sums+` FROM search_docs WHERE owner_id = ? AND `+classExpr+` IN (`+intList(vis.owned)+`)`, vis.owner).
			Scan(&o.n, &o.lens[0], &o.lens[1], &o.lens[2], &o.lens[3], &o.lens[4], &o.lens[5]); err != nil {
			return st, err
		}
		st.n += o.n
		for i := range st.lens {
			st.lens[i] += o.lens[i]
		}
	}
	return st, nil
}

// snippets completes the page's hits with snippets from their text.
func (ix *sqliteIndex) snippets(ctx context.Context, tx store.Tx, terms []term, pg []match) ([]Hit, error) {
	return pageHits(ctx, tx, sqlitePostings.docCol, terms, pg)
}

// pageHits completes the page's hits, whose match.doc is docCol's value,
// with their fields and snippets.
func pageHits(ctx context.Context, tx store.Tx, docCol string, terms []term, pg []match) ([]Hit, error) {
	out := make([]Hit, len(pg))
	if len(pg) == 0 {
		return out, nil
	}
	pos := map[int64]int{}
	args := make([]any, len(pg))
	for i, m := range pg {
		pos[m.doc] = i
		args[i] = m.doc
		out[i] = m.hit
	}
	rows, err := tx.Query(ctx, `SELECT `+docCol+`, id, kind, domain, org, name, title, label, updated_at, description, keywords, variables, creators, synthetic FROM search_docs WHERE `+docCol+` IN (`+store.Placeholders(len(args))+`)`, args...)
	if err != nil {
		return nil, err
	}
	err = rows.Each(func() error {
		var doc, updated int64
		var id, kind, domain, org, name, title, lab, desc, kws, vars, creators string
		var synthetic bool
		if err := rows.Scan(&doc, &id, &kind, &domain, &org, &name, &title, &lab, &updated, &desc, &kws, &vars, &creators, &synthetic); err != nil {
			return err
		}
		h := &out[pos[doc]]
		h.Synthetic = synthetic
		h.ID, h.Kind, h.Domain, h.Org = id, kind, domain, org
		h.Name, h.Title, h.Label, h.Updated = name, title, lab, store.FromT(updated)
		h.Snippet, h.Highlights = snippet(terms, desc, h.Title, display(kws), display(vars), display(creators), h.Name)
		return nil
	})
	return out, err
}

func (ix *sqliteIndex) browse(ctx context.Context, tx store.Tx, q Query, vis visibility, limit, offset int) (*Result, error) {
	res := &Result{Hits: []Hit{}}
	fSQL, fArgs := filterSQL(q, keywordExistsSQLite)
	visSQL, visArgs := vis.sql("(d.doc >> 32)", ownedBy("d.doc"))
	fc := facetCounter{}
	if !hasFilters(q) {
		// Aggregates per class answer an unfiltered browse without a scan.
		st, err := ix.stats(ctx, tx, vis)
		if err != nil {
			return nil, err
		}
		res.Total = int(st.n)
		if len(vis.all) > 0 {
			rows, err := tx.Query(ctx, `SELECT class_id, counts FROM search_facet_counts WHERE class_id IN (`+intList(vis.all)+`)`)
			if err != nil {
				return nil, err
			}
			var classes []ClassID
			var texts []string
			err = rows.Each(func() error {
				var c ClassID
				var enc string
				if err := rows.Scan(&c, &enc); err != nil {
					return err
				}
				classes, texts = append(classes, c), append(texts, enc)
				return nil
			})
			if err != nil {
				return nil, err
			}
			ix.facets.sum(fc, classes, texts)
		}
		if len(vis.owned) > 0 {
			if err := scanFacets(ctx, tx, fc, nil, `owner_id = ? AND (doc >> 32) IN (`+intList(vis.owned)+`)`, vis.owner); err != nil {
				return nil, err
			}
		}
	} else {
		if err := scanFacets(ctx, tx, fc, &res.Total, visSQL+` AND `+fSQL, append(visArgs, fArgs...)...); err != nil {
			return nil, err
		}
	}
	res.Facets = fc.result()
	rows, err := tx.Query(ctx, `SELECT d.doc, d.id, d.kind, d.name, d.title, d.domain, d.org, d.label, d.updated_at
		FROM search_docs d WHERE `+visSQL+` AND `+fSQL+` ORDER BY d.updated_at DESC, d.id DESC LIMIT ? OFFSET ?`,
		append(append(visArgs, fArgs...), limit, offset)...)
	if err != nil {
		return nil, err
	}
	var pg []match
	err = rows.Each(func() error {
		var m match
		if err := rows.Scan(&m.doc, &m.hit.ID, &m.hit.Kind, &m.hit.Name, &m.hit.Title, &m.hit.Domain, &m.hit.Org, &m.hit.Label, &m.updated); err != nil {
			return err
		}
		m.hit.Updated = store.FromT(m.updated)
		pg = append(pg, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if offset+limit < res.Total {
		res.Next = cursorAt(offset + limit)
	}
	if res.Hits, err = ix.snippets(ctx, tx, nil, pg); err != nil {
		return nil, err
	}
	return res, nil
}

// scanFacets counts the facets of the documents d matching where.
func scanFacets(ctx context.Context, tx store.Tx, fc facetCounter, total *int, where string, args ...any) error {
	rows, err := tx.Query(ctx, `SELECT d.kind, d.domain, d.org, d.keywords, d.synthetic FROM search_docs d WHERE `+where, args...)
	if err != nil {
		return err
	}
	return rows.Each(func() error {
		var k, dom, org, kws string
		var synthetic bool
		if err := rows.Scan(&k, &dom, &org, &kws, &synthetic); err != nil {
			return err
		}
		if synthetic {
			fc.add(FacetSynthetic, "true", 1)
		}
		if total != nil {
			*total++
		}
		fc.add(FacetKind, k, 1)
		fc.add(FacetDomain, dom, 1)
		fc.add(FacetOrg, org, 1)
		for _, kw := range splitList(kws) {
			fc.add(FacetKeyword, kw, 1)
		}
		return nil
	})
}

func (ix *sqliteIndex) Suggest(ctx context.Context, prefix string, v Visibility, n int) ([]Suggestion, error) {
	const op errors.Op = "search.Suggest"
	if len(prefix) > MaxQueryBytes {
		return nil, errors.E(op, errors.TooLarge, errors.Field("prefix"), errors.Msg("the prefix is too long"))
	}
	p := folded(clean(prefix))
	if p == "" {
		return []Suggestion{}, nil
	}
	n = suggestLimit(n)
	v, err := ix.kinds.forKinds(ctx, ix.db, v, false)
	if err != nil {
		return nil, errors.E(op, err)
	}
	vis := normalize(v)
	lo, hi := prefixRange(p)
	kSQL, kArgs := vis.sql("(k.doc >> 32)", ownedBy("k.doc"))
	tSQL, tArgs := vis.sql("(d.doc >> 32)", ownedBy("d.doc"))
	var all []Suggestion
	err = ix.db.View(ctx, func(tx store.Tx) error {
		if err := tune(ctx, tx); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT k.keyword, COUNT(*) FROM search_keywords k WHERE k.fold >= ? AND k.fold < ? AND `+kSQL+` GROUP BY k.keyword
			UNION ALL
			SELECT d.title, COUNT(*) FROM search_docs d WHERE d.f_title >= ? AND d.f_title < ? AND d.title <> '' AND `+tSQL+` GROUP BY d.title`,
			append(append(append([]any{lo, hi}, kArgs...), lo, hi), tArgs...)...)
		if err != nil {
			return err
		}
		all, err = scanSuggestions(rows)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return sortSuggestions(all, n), nil
}
