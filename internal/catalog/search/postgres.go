package search

import (
	"context"
	"database/sql"
	"sort"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// pgIndex is the PostgreSQL backend. Words and prefixes are answered as
// in SQLite (postings.go, migration 0035): each write keeps, per folded
// token and block of 65,536 document sequence numbers g, a blob of the
// block's documents containing the token with their counts per field; a
// query reads a few blobs per term and decides readability, filters, BM25
// over the readable corpus (search_stats per class plus the caller's own
// documents), the total and the facets in Go, against an in-memory copy of
// each document's class, owner, facet values and lengths (docCache, valid
// across replicas because g grows in commit order, see allocG). A page's
// rows are then read by g. The blobs themselves are cached by row version
// (blobcache.go, migration 0036).
//
// Phrases (and everything, while documents indexed before 0035 lack a g,
// until Reindex) go through a weighted tsvector per document (A name and
// title, B keywords, C creators and variables, D description) under a GIN
// index, the 'simple' configuration over the same folded tokens (so both
// paths match the same documents), ranked by ts_rank_cd, which needs no
// corpus statistics; one statement computes hits, total and facets from
// one snapshot over the readable, filtered matches — a scan of every
// readable match.
//
// An unfiltered browse does not scan: every write keeps per-class facet
// counts (search_class_facets, as SQLite's search_facet_counts), and the
// browse sums the readable classes' counts (cached per class generation,
// see classCountCache) plus the owner-readable documents counted from
// their rows; its page is a LIMIT walk of the updated_at index.
type pgIndex struct {
	db     store.DB
	counts classCountCache
	cache  docCache // pg: true
	blobs  blobCache
	kinds  classKinds
}

var (
	_ Index         = (*pgIndex)(nil)
	_ BatchUpserter = (*pgIndex)(nil)
)

func (ix *pgIndex) Upsert(ctx context.Context, tx store.Tx, d Doc) error {
	return ix.UpsertBatch(ctx, tx, []Doc{d})
}

// UpsertBatch writes docs (the last of an ID wins) with a few multi-row
// statements per few hundred documents: one DELETE … RETURNING of the old
// rows (whose counts are subtracted), one INSERT of the documents, one of
// their keywords, then the per-class count deltas.
func (ix *pgIndex) UpsertBatch(ctx context.Context, tx store.Tx, docs []Doc) error {
	const op errors.Op = "search.Upsert"
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
	classes := map[[3]string]ClassID{}
	dl := newPGDeltas()
	var pw postingWriter
	firstG, err := allocG(ctx, tx, len(ps))
	if err != nil {
		return errors.E(op, err)
	}
	const chunk = 200
	for lo := 0; lo < len(ps); lo += chunk {
		part := ps[lo:min(len(ps), lo+chunk)]
		ids := make([]string, len(part))
		for i, p := range part {
			ids[i] = p.d.ID
		}
		if err := dl.remove(ctx, tx, ids); err != nil {
			return errors.E(op, err)
		}
		var docVals, kwVals strings.Builder
		var docArgs, kwArgs []any
		for i, p := range part {
			g := firstG + int64(lo+i)
			lens := fieldLens(&p.f)
			key := [3]string{p.d.Kind, p.d.Label, p.d.Project}
			c, ok := classes[key]
			if !ok {
				var err error
				if c, err = classID(ctx, tx, &p.d); err != nil {
					return errors.E(op, err)
				}
				classes[key] = c
			}
			if docVals.Len() > 0 {
				docVals.WriteString(", ")
			}
			docVals.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
				setweight(to_tsvector('simple', ?), 'A') || setweight(to_tsvector('simple', ?), 'B') ||
				setweight(to_tsvector('simple', ?), 'C') || setweight(to_tsvector('simple', ?), 'D'))`)
			docArgs = append(docArgs, p.d.ID, c, p.d.Owner, p.d.Kind, p.d.Domain, p.d.Org, p.d.Project, p.d.Label, p.d.Name, p.d.Title, p.d.Description,
				p.keywords, p.creators, p.varsText, store.T(p.d.Updated), p.f[1], p.d.Synthetic,
				g, lens[0], lens[1], lens[2], lens[3], lens[4], lens[5],
				p.f[0]+" "+p.f[1], p.f[2], p.f[3]+" "+p.f[4], p.f[5])
			pw.add(g, &p.f)
			for _, kw := range p.keywordList {
				if kwVals.Len() > 0 {
					kwVals.WriteString(", ")
				}
				kwVals.WriteString("(?, ?, ?)")
				kwArgs = append(kwArgs, p.d.ID, kw, folded(kw))
			}
			dl.add(c, p.d.Kind, p.d.Domain, p.d.Org, p.d.Synthetic, p.keywordList, &lens, 1)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO search_docs (id, class_id, owner_id, kind, domain, org, project, label, name, title, description,
			keywords, creators, variables, updated_at, f_title, synthetic, g, l0, l1, l2, l3, l4, l5, tsv) VALUES `+docVals.String(), docArgs...); err != nil {
			return errors.E(op, err)
		}
		if len(kwArgs) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO search_keywords (doc_id, keyword, fold) VALUES `+kwVals.String(), kwArgs...); err != nil {
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

func (ix *pgIndex) Delete(ctx context.Context, tx store.Tx, id string) error {
	const op errors.Op = "search.Delete"
	dl := newPGDeltas()
	if err := dl.remove(ctx, tx, []string{id}); err != nil {
		return errors.E(op, err)
	}
	if err := dl.apply(ctx, tx); err != nil {
		return errors.E(op, err)
	}
	return nil
}

// pgDeltas accumulates one transaction's changes to search_class_facets
// (migration 0032: the empty facet with the empty value counts a class's
// documents) and to search_stats (0035).
// The counting is SQLite's (deltas); what differs is where it is
// written (apply) and that every class also counts its documents.
type pgDeltas struct{ *deltas }

func newPGDeltas() pgDeltas { return pgDeltas{newDeltas()} }

// add counts a document (sign 1) or uncounts it (-1). lens is nil for a
// document indexed before 0035 that Reindex has not reached: it is not in
// search_stats yet.
func (dl pgDeltas) add(class ClassID, kind, domain, org string, synthetic bool, keywords []string, lens *[nFields]int64, sign int64) {
	dl.facets[facetKey{class, "", ""}] += sign
	dl.addFacets(class, kind, domain, org, synthetic, keywords, sign)
	if lens != nil {
		dl.addStats(class, lens, sign)
	}
}

// remove deletes the documents ids, if present, with their keywords and
// postings, and subtracts what they counted.
func (dl pgDeltas) remove(ctx context.Context, tx store.Tx, ids []string) error {
	in := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := tx.Query(ctx, `DELETE FROM search_keywords WHERE doc_id IN (`+in+`) RETURNING doc_id, keyword`, args...)
	if err != nil {
		return err
	}
	kws := map[string][]string{}
	err = rows.Each(func() error {
		var id, kw string
		err := rows.Scan(&id, &kw)
		kws[id] = append(kws[id], kw)
		return err
	})
	if err != nil {
		return err
	}
	rows, err = tx.Query(ctx, `DELETE FROM search_docs WHERE id IN (`+in+`)
		RETURNING id, class_id, kind, domain, org, synthetic, g, name, title, keywords, creators, variables, description, l0, l1, l2, l3, l4, l5`, args...)
	if err != nil {
		return err
	}
	var gs []int64
	var fields [][nFields]string
	err = rows.Each(func() error {
		var id, kind, domain, org, name, title, keywords, creators, vars, desc string
		var c ClassID
		var synthetic bool
		var g sql.NullInt64
		var lens [nFields]int64
		if err := rows.Scan(&id, &c, &kind, &domain, &org, &synthetic, &g, &name, &title, &keywords, &creators, &vars, &desc,
			&lens[0], &lens[1], &lens[2], &lens[3], &lens[4], &lens[5]); err != nil {
			return err
		}
		var l *[nFields]int64
		if g.Valid {
			l = &lens
			gs = append(gs, g.Int64)
			fields = append(fields, foldFields(name, title, keywords, creators, vars, desc))
		}
		dl.add(c, kind, domain, org, synthetic, kws[id], l, -1)
		return nil
	})
	if err != nil {
		return err
	}
	return removePostings(ctx, tx, gs, fields)
}

// apply adds the deltas to search_class_facets in key order (so that
// concurrent writers lock rows in the same order), a few hundred rows per
// statement.
func (dl pgDeltas) apply(ctx context.Context, tx store.Tx) error {
	if err := applyStats(ctx, tx, dl.stats); err != nil {
		return err
	}
	keys := make([]facetKey, 0, len(dl.facets))
	for k, n := range dl.facets {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.class != b.class {
			return a.class < b.class
		}
		if a.facet != b.facet {
			return a.facet < b.facet
		}
		return a.value < b.value
	})
	var bumped []ClassID
	for _, k := range keys {
		if len(bumped) == 0 || bumped[len(bumped)-1] != k.class {
			bumped = append(bumped, k.class)
		}
	}
	if len(bumped) > 0 {
		vals := strings.TrimSuffix(strings.Repeat("(?, nextval('search_class_gen_seq')), ", len(bumped)), ", ")
		args := make([]any, len(bumped))
		for i, c := range bumped {
			args[i] = c
		}
		if _, err := tx.Exec(ctx, `INSERT INTO search_class_gens (class_id, gen) VALUES `+vals+`
			ON CONFLICT (class_id) DO UPDATE SET gen = excluded.gen`, args...); err != nil {
			return err
		}
	}
	const chunk = 500
	for lo := 0; lo < len(keys); lo += chunk {
		part := keys[lo:min(len(keys), lo+chunk)]
		var b strings.Builder
		args := make([]any, 0, 4*len(part))
		for i, k := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(?, ?, ?, ?)")
			args = append(args, k.class, k.facet, k.value, dl.facets[k])
		}
		if _, err := tx.Exec(ctx, `INSERT INTO search_class_facets (class_id, facet, value, n) VALUES `+b.String()+`
			ON CONFLICT (class_id, facet, value) DO UPDATE SET n = search_class_facets.n + excluded.n`, args...); err != nil {
			return err
		}
	}
	return nil
}

func (ix *pgIndex) Classes(ctx context.Context) ([]Class, error) { return listClasses(ctx, ix.db) }

func (ix *pgIndex) Search(ctx context.Context, q Query, v Visibility) (*Result, error) {
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
	if postingsQuery(terms) {
		var res *Result
		err := ix.db.View(ctx, func(tx store.Tx) error {
			res = nil
			st, complete, err := pgStats(ctx, tx, vis)
			if err != nil || !complete {
				return err
			}
			res, err = postingsText(ctx, tx, &ix.cache, &ix.blobs, pgPostings, &st, q, terms, vis, limit, offset)
			return err
		})
		if err != nil {
			return nil, errors.E(op, err)
		}
		if res != nil {
			return res, nil
		}
	}
	visSQL, visArgs := vis.sql("d.class_id", "d.owner_id = ?")
	fSQL, fArgs := filterSQL(q, `EXISTS (SELECT 1 FROM search_keywords k WHERE k.doc_id = d.id AND k.keyword = ?)`)
	var args []any
	var from, score, order string
	if len(terms) > 0 {
		from = `search_docs d, to_tsquery('simple', ?) q WHERE d.tsv @@ q AND `
		score = `ts_rank_cd('{0.1, 0.2, 0.4, 1.0}', d.tsv, q)::float8`
		order = `score DESC, id ASC`
		args = append(args, tsQuery(terms))
	} else {
		from = `search_docs d WHERE `
		score = `0::float8`
		order = `updated_at DESC, id DESC`
	}
	args = append(append(append(args, visArgs...), fArgs...), limit, offset)
	const blank = `'', '', '', '', '', '', 0::bigint, '', '', '', '', FALSE, 0::float8`
	// m holds only what ordering and facets need; the page's rows are read
	// back by ID. Keyword facets split the document's keyword list
	// (joined by listSep, the same values as search_keywords) instead of
	// joining search_keywords.
	sqlText := `WITH m AS MATERIALIZED (
		SELECT d.id, d.kind, d.domain, d.org, d.synthetic, d.keywords, d.updated_at, ` + score + ` AS score
		FROM ` + from + visSQL + ` AND ` + fSQL + `),
		p AS (SELECT id, score FROM m ORDER BY ` + order + ` LIMIT ? OFFSET ?)
		SELECT 'hit', d.id, d.kind, d.name, d.title, d.domain, d.org, d.label, d.updated_at, d.description, d.keywords, d.variables, d.creators, d.synthetic, p.score, 0::bigint
			FROM p JOIN search_docs d ON d.id = p.id
		UNION ALL SELECT 'total', '', ` + blank + `, COUNT(*) FROM m
		UNION ALL SELECT 'kind', kind, ` + blank + `, COUNT(*) FROM m GROUP BY kind
		UNION ALL SELECT 'domain', domain, ` + blank + `, COUNT(*) FROM m GROUP BY domain
		UNION ALL SELECT 'org', org, ` + blank + `, COUNT(*) FROM m GROUP BY org
		UNION ALL SELECT 'synthetic', 'true', ` + blank + `, COUNT(*) FROM m WHERE synthetic HAVING COUNT(*) > 0
		UNION ALL SELECT 'keyword', kw, ` + blank + `, COUNT(*) FROM m CROSS JOIN LATERAL unnest(string_to_array(m.keywords, chr(31))) AS kw
			WHERE m.keywords <> '' GROUP BY kw`
	if len(terms) == 0 && !hasFilters(q) {
		return ix.browse(ctx, vis, limit, offset)
	}
	res := &Result{Hits: []Hit{}}
	fc := facetCounter{}
	err = ix.db.View(ctx, func(tx store.Tx) error {
		res.Hits, res.Total, fc = res.Hits[:0], 0, facetCounter{}
		rows, err := tx.Query(ctx, sqlText, args...)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var typ, id, kind, name, title, domain, org, lab, desc, kws, vars, creators string
			var updated, n int64
			var sc float64
			var synthetic bool
			if err := rows.Scan(&typ, &id, &kind, &name, &title, &domain, &org, &lab, &updated, &desc, &kws, &vars, &creators, &synthetic, &sc, &n); err != nil {
				return err
			}
			switch typ {
			case "hit":
				h := Hit{ID: id, Kind: kind, Name: name, Title: title, Domain: domain, Org: org, Label: lab, Updated: store.FromT(updated), Score: sc, Synthetic: synthetic}
				h.Snippet, h.Highlights = snippet(terms, desc, title, display(kws), display(vars), display(creators), name)
				res.Hits = append(res.Hits, h)
			case "total":
				res.Total = int(n)
			default:
				fc.add(typ, id, int(n))
			}
			return nil
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if len(terms) > 0 {
		sort.SliceStable(res.Hits, func(i, j int) bool {
			a, b := res.Hits[i], res.Hits[j]
			if a.Score != b.Score {
				return a.Score > b.Score
			}
			return a.ID < b.ID
		})
	} else {
		sort.SliceStable(res.Hits, func(i, j int) bool {
			a, b := res.Hits[i], res.Hits[j]
			if !a.Updated.Equal(b.Updated) {
				return a.Updated.After(b.Updated)
			}
			return a.ID > b.ID
		})
	}
	res.Facets = fc.result()
	if offset+limit < res.Total {
		res.Next = cursorAt(offset + limit)
	}
	return res, nil
}

// pgStats is readableStats and postingsComplete in one statement (one
// round trip fewer per search).
func pgStats(ctx context.Context, tx store.Tx, vis visibility) (st corpusStats, complete bool, err error) {
	const sums = `COALESCE(SUM(l0), 0) AS l0, COALESCE(SUM(l1), 0) AS l1, COALESCE(SUM(l2), 0) AS l2, COALESCE(SUM(l3), 0) AS l3, COALESCE(SUM(l4), 0) AS l4, COALESCE(SUM(l5), 0) AS l5`
	all, owned := `FALSE`, `FALSE`
	if len(vis.all) > 0 {
		all = `class_id IN (` + intList(vis.all) + `)`
	}
	if len(vis.owned) > 0 {
		owned = `owner_id = ? AND class_id IN (` + intList(vis.owned) + `)`
	}
	var args []any
	if len(vis.owned) > 0 {
		args = append(args, vis.owner)
	}
	var missing bool
	var a, o corpusStats
	err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM search_docs WHERE g IS NULL),
			a.n, a.l0, a.l1, a.l2, a.l3, a.l4, a.l5, o.n, o.l0, o.l1, o.l2, o.l3, o.l4, o.l5
		FROM (SELECT COALESCE(SUM(n), 0) AS n, `+sums+` FROM search_stats WHERE `+all+`) a,
			(SELECT COUNT(*) AS n, `+sums+` FROM search_docs WHERE `+owned+`) o`, args...).
		Scan(&missing, &a.n, &a.lens[0], &a.lens[1], &a.lens[2], &a.lens[3], &a.lens[4], &a.lens[5],
			&o.n, &o.lens[0], &o.lens[1], &o.lens[2], &o.lens[3], &o.lens[4], &o.lens[5])
	st.n = a.n + o.n
	for i := range st.lens {
		st.lens[i] = a.lens[i] + o.lens[i]
	}
	return st, !missing, err
}

// browse answers an unfiltered browse: total and facets are sums of the
// readable classes' counts (search_class_facets) plus a count of the
// owner-readable documents themselves; the page walks search_docs newest
// first and stops after it (LIMIT on the updated_at index). Everything is
// read in one snapshot.
func (ix *pgIndex) browse(ctx context.Context, vis visibility, limit, offset int) (*Result, error) {
	const op errors.Op = "search.Search"
	res := &Result{Hits: []Hit{}}
	var fc facetCounter
	visSQL, visArgs := vis.sql("d.class_id", "d.owner_id = ?")
	err := ix.db.View(ctx, func(tx store.Tx) error {
		res.Hits, res.Total, fc = res.Hits[:0], 0, facetCounter{}
		var parts []string
		var args []any
		if len(vis.all) > 0 {
			n, err := ix.counts.sum(ctx, tx, vis.all, fc)
			if err != nil {
				return err
			}
			res.Total += n
		}
		if len(vis.owned) > 0 {
			// One pass over the owner's documents (search_docs_owner).
			parts = append(parts, `WITH o AS MATERIALIZED (SELECT kind, domain, org, synthetic, keywords FROM search_docs
					WHERE owner_id = ? AND class_id IN (`+intList(vis.owned)+`))
				SELECT '', '', COUNT(*) FROM o
				UNION ALL SELECT 'kind', kind, COUNT(*) FROM o GROUP BY kind
				UNION ALL SELECT 'domain', domain, COUNT(*) FROM o GROUP BY domain
				UNION ALL SELECT 'org', org, COUNT(*) FROM o GROUP BY org
				UNION ALL SELECT 'synthetic', 'true', COUNT(*) FROM o WHERE synthetic
				UNION ALL SELECT 'keyword', kw, COUNT(*) FROM o CROSS JOIN LATERAL unnest(string_to_array(o.keywords, chr(31))) AS kw
					WHERE o.keywords <> '' GROUP BY kw`)
			args = append(args, vis.owner)
		}
		if len(parts) > 0 {
			if err := ownedCounts(ctx, tx, strings.Join(parts, " UNION ALL "), args, fc, &res.Total); err != nil {
				return err
			}
		}
		rows, err := tx.Query(ctx, `SELECT d.id, d.kind, d.name, d.title, d.domain, d.org, d.label, d.updated_at, d.description, d.keywords, d.variables, d.creators, d.synthetic
			FROM search_docs d WHERE `+visSQL+` ORDER BY d.updated_at DESC, d.id DESC LIMIT ? OFFSET ?`, append(visArgs, limit, offset)...)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var h Hit
			var updated int64
			var desc, kws, vars, creators string
			if err := rows.Scan(&h.ID, &h.Kind, &h.Name, &h.Title, &h.Domain, &h.Org, &h.Label, &updated, &desc, &kws, &vars, &creators, &h.Synthetic); err != nil {
				return err
			}
			h.Updated = store.FromT(updated)
			h.Snippet, h.Highlights = snippet(nil, desc, h.Title, display(kws), display(vars), display(creators), h.Name)
			res.Hits = append(res.Hits, h)
			return nil
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	res.Facets = fc.result()
	if offset+limit < res.Total {
		res.Next = cursorAt(offset + limit)
	}
	return res, nil
}

// ownedCounts runs sqlText, whose rows are (facet, value, count), the
// empty facet counting documents, and adds them to fc and total.
func ownedCounts(ctx context.Context, tx store.Tx, sqlText string, args []any, fc facetCounter, total *int) error {
	rows, err := tx.Query(ctx, sqlText, args...)
	if err != nil {
		return err
	}
	return rows.Each(func() error {
		var facet, value string
		var n int64
		if err := rows.Scan(&facet, &value, &n); err != nil {
			return err
		}
		if facet == "" {
			*total += int(n)
		} else {
			fc.add(facet, value, int(n))
		}
		return nil
	})
}

func (ix *pgIndex) Suggest(ctx context.Context, prefix string, v Visibility, n int) ([]Suggestion, error) {
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
	visSQL, visArgs := vis.sql("d.class_id", "d.owner_id = ?")
	var all []Suggestion
	err = ix.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT k.keyword, COUNT(*) FROM search_keywords k JOIN search_docs d ON d.id = k.doc_id
			WHERE k.fold >= ? AND k.fold < ? AND `+visSQL+` GROUP BY k.keyword
			UNION ALL
			SELECT d.title, COUNT(*) FROM search_docs d WHERE d.f_title >= ? AND d.f_title < ? AND d.title <> '' AND `+visSQL+` GROUP BY d.title`,
			append(append(append([]any{lo, hi}, visArgs...), lo, hi), visArgs...)...)
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

var _ Reindexer = (*pgIndex)(nil)

// Reindex gives documents indexed before migration 0035 their g, field
// lengths, postings and place in search_stats (until every document has
// them, word queries go through the tsvector index), a few thousand per
// transaction, and then loads the document cache.
func (ix *pgIndex) Reindex(ctx context.Context) error {
	const op errors.Op = "search.Reindex"
	for {
		n := 0
		err := ix.db.Update(ctx, func(tx store.Tx) error {
			n = 0
			rows, err := tx.Query(ctx, `SELECT id, class_id, name, title, keywords, creators, variables, description
				FROM search_docs WHERE g IS NULL ORDER BY id LIMIT 2000`)
			if err != nil {
				return err
			}
			var ids []string
			var classes []ClassID
			var fields [][nFields]string
			err = rows.Each(func() error {
				var id, name, title, keywords, creators, vars, desc string
				var c ClassID
				if err := rows.Scan(&id, &c, &name, &title, &keywords, &creators, &vars, &desc); err != nil {
					return err
				}
				ids = append(ids, id)
				classes = append(classes, c)
				fields = append(fields, foldFields(name, title, keywords, creators, vars, desc))
				return nil
			})
			if err != nil || len(ids) == 0 {
				return err
			}
			n = len(ids)
			first, err := allocG(ctx, tx, n)
			if err != nil {
				return err
			}
			dl := newPGDeltas()
			var pw postingWriter
			const rowsPer = 500
			for lo := 0; lo < n; lo += rowsPer {
				hi := min(n, lo+rowsPer)
				args := make([]any, 0, 8*(hi-lo))
				for i := lo; i < hi; i++ {
					g := first + int64(i)
					lens := fieldLens(&fields[i])
					pw.add(g, &fields[i])
					dl.addStats(classes[i], &lens, 1)
					args = append(args, ids[i], g, lens[0], lens[1], lens[2], lens[3], lens[4], lens[5])
				}
				if _, err := tx.Exec(ctx, `UPDATE search_docs d SET g = v.g, l0 = v.l0, l1 = v.l1, l2 = v.l2, l3 = v.l3, l4 = v.l4, l5 = v.l5
					FROM (VALUES `+strings.TrimSuffix(strings.Repeat(`(?::text, ?::bigint, ?::bigint, ?::bigint, ?::bigint, ?::bigint, ?::bigint, ?::bigint), `, hi-lo), ", ")+`)
					AS v (id, g, l0, l1, l2, l3, l4, l5) WHERE d.id = v.id`, args...); err != nil {
					return err
				}
			}
			if err := pw.flush(ctx, tx); err != nil {
				return err
			}
			return dl.apply(ctx, tx)
		})
		if err != nil {
			return errors.E(op, err)
		}
		if n == 0 {
			break
		}
	}
	if err := ix.db.View(ctx, func(tx store.Tx) error { return ix.cache.ensure(ctx, tx, nil) }); err != nil {
		return errors.E(op, err)
	}
	return nil
}
