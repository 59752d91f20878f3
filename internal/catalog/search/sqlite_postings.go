package search

import (
	"context"
	"math/bits"
	"runtime"
	"slices"
	"sort"
	"sync"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// postingsQuery reports whether terms can be answered from the postings:
// single words and prefixes (phrases need positions, which FTS5 keeps).
func postingsQuery(terms []term) bool {
	for _, t := range terms {
		if len(t.words) != 1 {
			return false
		}
	}
	return len(terms) > 0
}

// postingsTables names what differs between the backends' tables for the
// postings search: the column docMeta.doc is (SQLite's rowid doc,
// PostgreSQL's g) and the SQL of a row's class.
type postingsTables struct {
	docCol, classExpr string
}

var (
	sqlitePostings = postingsTables{docCol: "doc", classExpr: "(doc >> 32)"}
	pgPostings     = postingsTables{docCol: "g", classExpr: "class_id"}
)

func (ix *sqliteIndex) postingsText(ctx context.Context, tx store.Tx, q Query, terms []term, vis visibility, limit, offset int) (*Result, error) {
	return postingsText(ctx, tx, &ix.cache, nil, sqlitePostings, q, terms, vis, limit, offset)
}

// postingsText is text over the postings: the same hits, scores, totals and
// facets, computed in Go. Readability is decided per posting from the
// cached class and owner before anything is counted, ranked or faceted.
// blobs, if not nil, caches the postings blobs (PostgreSQL).
func postingsText(ctx context.Context, tx store.Tx, cache *docCache, blobs *blobCache, tb postingsTables, q Query, terms []term, vis visibility, limit, offset int) (*Result, error) {
	st, err := readableStats(ctx, tx, tb.classExpr, vis)
	if err != nil {
		return nil, err
	}
	lists := make([]map[int64][][]byte, len(terms))
	for i, t := range terms {
		if blobs != nil {
			lists[i], err = blobs.termPostings(ctx, tx, t)
		} else {
			lists[i], err = termPostings(ctx, tx, t)
		}
		if err != nil {
			return nil, err
		}
	}
	var missing []int64
	var sc *scored
	for attempt := 0; ; attempt++ {
		if err := cache.ensure(ctx, tx, missing); err != nil {
			return nil, err
		}
		if sc, missing, err = cache.score(q, terms, lists, vis, &st); err != nil {
			return nil, err
		}
		if len(missing) == 0 {
			break
		}
		if attempt > 0 {
			return nil, errors.E(errors.Internal, errors.Msg("search postings name documents that do not exist"))
		}
	}
	res := &Result{Hits: []Hit{}, Total: len(sc.docs), Facets: sc.facets.result()}
	if len(sc.docs) == 0 {
		return res, nil
	}
	idf := make([]float64, len(terms))
	for i := range terms {
		idf[i] = bm25IDF(sc.df[i], st.n)
	}
	scores := make([]float64, len(sc.docs))
	for j := range sc.docs {
		s := 0.0
		for i := range terms {
			if tfw := sc.tfw[j*len(terms)+i]; tfw != 0 {
				s += bm25TF(idf[i], tfw)
			}
		}
		scores[j] = s
	}
	// Every document that can be on this page or before it: the top k
	// scores and all ties of the k-th; ties are ordered by ID.
	k := offset + limit
	sel, ids, err := pageCandidates(ctx, tx, tb.docCol, sc.docs, scores, k)
	if err != nil {
		return nil, err
	}
	sort.Slice(sel, func(a, b int) bool {
		x, y := sel[a], sel[b]
		if scores[x] != scores[y] {
			return scores[x] > scores[y]
		}
		return ids[x] < ids[y]
	})
	var pg []match
	for i := offset; i < len(sel) && i < k; i++ {
		j := sel[i]
		pg = append(pg, match{doc: sc.docs[j], hit: Hit{ID: ids[j], Score: scores[j]}})
	}
	if k < len(scores) {
		res.Next = cursorAt(k)
	}
	if res.Hits, err = pageHits(ctx, tx, tb.docCol, terms, pg); err != nil {
		return nil, err
	}
	return res, nil
}

// scored is the readable documents matching a query: their rowids, the
// weighted term frequency of each term (len(terms) per document), the
// readable document frequency of each term, and the facets.
type scored struct {
	docs   []int64
	tfw    []float64
	df     []int64
	facets facetCounter
}

// score matches, filters and counts under the read lock. It returns the
// sequence numbers it found no cached entry for (documents of an older
// snapshot, deleted since the cache was loaded), to be loaded and retried.
func (dc *docCache) score(q Query, terms []term, lists []map[int64][][]byte, vis visibility, st *corpusStats) (*scored, []int64, error) {
	dc.mu.RLock()
	defer dc.mu.RUnlock()
	maxClass := ClassID(0)
	for _, c := range append(slices.Clone(vis.all), vis.owned...) {
		maxClass = max(maxClass, c)
	}
	const readable, ownerReadable = 1, 2
	state := make([]uint8, maxClass+1)
	for _, c := range vis.all {
		state[c] = readable
	}
	for _, c := range vis.owned {
		state[c] = ownerReadable
	}
	owner := int32(-1)
	if vis.owner != "" {
		owner = dc.lookup(vis.owner)
	}
	// Filters: -2 is no filter; -1 a value no document has.
	filter := func(v string) int32 {
		if v == "" {
			return -2
		}
		return dc.lookup(clean(v))
	}
	kind, domain, org := filter(q.Kind), filter(q.Domain), filter(q.Org)
	var kws []int32
	for _, kw := range dedupe(q.Keywords) {
		kws = append(kws, dc.lookup(clean(kw)))
	}
	var missing []int64
	classOf, ownerOf := dc.classOf, dc.ownerOf
	// visible reports whether the document g is readable.
	visible := func(g int64) bool {
		if g >= int64(len(classOf)) || classOf[g] < 0 {
			missing = append(missing, g)
			return false
		}
		c := classOf[g]
		if int(c) >= len(state) {
			return false
		}
		switch state[c] {
		case readable:
			return true
		case ownerReadable:
			return ownerOf[g] == owner
		}
		return false
	}
	var avg [nFields]float64
	for c := range avg {
		avg[c] = 1
		if st.n > 0 && st.lens[c] > 0 {
			avg[c] = float64(st.lens[c]) / float64(st.n)
		}
	}

	blocks := map[int64]bool{}
	for _, l := range lists {
		for b := range l {
			blocks[b] = true
		}
	}
	order := make([]int64, 0, len(blocks))
	for b := range blocks {
		order = append(order, b)
	}
	slices.Sort(order)

	nt := len(terms)
	out := &scored{df: make([]int64, nt), facets: facetCounter{}}
	classN := make([]int, maxClass+1)
	domN, orgN, kwN := make([]int, len(dc.strs)), make([]int, len(dc.strs)), make([]int, len(dc.strs))
	synN := 0
	type plist struct {
		off []uint32
		tf  [][nFields]int32
	}
	pl := make([]plist, nt)
	var acc *mergeScratch
	defer func() { putMergeScratch(acc) }()
	var tf [nFields]int32
	if nt == 1 {
		// One term (most queries, and the most costly): decode, test and
		// count each posting in one pass, the blocks split into a few runs
		// of about equal bytes counted in parallel and merged in block
		// order (the same documents in the same order, the same counts).
		o := oneTerm{dc: dc, q: &q, kind: kind, domain: domain, org: org, kws: kws, avg: &avg, state: state, owner: owner}
		parts := o.split(lists[0], order)
		var wg sync.WaitGroup
		for i := 1; i < len(parts); i++ {
			wg.Go(func() { parts[i].run(lists[0]) })
		}
		parts[0].run(lists[0])
		wg.Wait()
		n := 0
		for _, p := range parts {
			if p.err != nil {
				return nil, nil, p.err
			}
			n += len(p.docs)
		}
		out.docs, out.tfw = parts[0].docs, parts[0].tfw
		if len(parts) > 1 {
			out.docs, out.tfw = make([]int64, 0, n), make([]float64, 0, n)
			for _, p := range parts {
				out.docs = append(out.docs, p.docs...)
				out.tfw = append(out.tfw, p.tfw...)
			}
		}
		for _, p := range parts {
			out.df[0] += p.df
			missing = append(missing, p.missing...)
			synN += p.synN
			for c, n := range p.classN {
				classN[c] += n
			}
			for id := range p.domN {
				domN[id] += p.domN[id]
				orgN[id] += p.orgN[id]
				kwN[id] += p.kwN[id]
			}
		}
	}
	for _, block := range order {
		if nt == 1 {
			break
		}
		base := block << blockShift
		for i := range terms {
			p := &pl[i]
			p.off, p.tf = p.off[:0], p.tf[:0]
			rows := lists[i][block]
			switch {
			case len(rows) == 1:
				for b := rows[0]; len(b) > 0; {
					off, rest, ok := nextPosting(b, &tf)
					if !ok {
						return nil, nil, errors.E(errors.Internal, errors.Msg("corrupt search postings"))
					}
					b = rest
					if visible(base + int64(off)) {
						p.off = append(p.off, off)
						p.tf = append(p.tf, tf)
					}
				}
			case len(rows) > 1:
				// A prefix: sum the counts of every token it matched.
				if acc == nil {
					acc = newMergeScratch()
				}
				for _, r := range rows {
					for b := r; len(b) > 0; {
						off, rest, ok := nextPosting(b, &tf)
						if !ok {
							return nil, nil, errors.E(errors.Internal, errors.Msg("corrupt search postings"))
						}
						b = rest
						acc.add(off, &tf)
					}
				}
				acc.drain(func(off uint32, tf *[nFields]int32) {
					if visible(base + int64(off)) {
						p.off = append(p.off, off)
						p.tf = append(p.tf, *tf)
					}
				})
			}
			out.df[i] += int64(len(p.off))
		}
		// AND: walk the shortest list, find each document in the others.
		short := 0
		for i := range pl {
			if len(pl[i].off) < len(pl[short].off) {
				short = i
			}
		}
		pos := make([]int, nt)
	next:
		for si, off := range pl[short].off {
			for i := range pl {
				if i == short {
					pos[i] = si
					continue
				}
				l := pl[i].off
				for pos[i] < len(l) && l[pos[i]] < off {
					pos[i]++
				}
				if pos[i] == len(l) || l[pos[i]] != off {
					continue next
				}
			}
			m := &dc.docs[base+int64(off)]
			if kind != -2 && dc.kinds[ClassID(m.class)] != kind || domain != -2 && m.domain != domain || org != -2 && m.org != org ||
				q.Synthetic != nil && m.synthetic != *q.Synthetic {
				continue
			}
			docKws := dc.kws[m.kwOff : m.kwOff+uint32(m.kwN)]
			for _, kw := range kws {
				if !slices.Contains(docKws, kw) {
					continue next
				}
			}
			out.docs = append(out.docs, m.doc)
			classN[m.class]++
			domN[m.domain]++
			orgN[m.org]++
			for _, kw := range docKws {
				kwN[kw]++
			}
			if m.synthetic {
				synN++
			}
			var lens [nFields]int64
			for c := range lens {
				lens[c] = int64(m.lens[c])
			}
			for i := range pl {
				out.tfw = append(out.tfw, fieldTFW(&pl[i].tf[pos[i]], &lens, &avg))
			}
		}
	}
	if len(missing) > 0 {
		return nil, missing, nil
	}
	for c, n := range classN {
		if n > 0 {
			out.facets.add(FacetKind, dc.strs[dc.kinds[ClassID(c)]], n)
		}
	}
	out.facets.add(FacetSynthetic, "true", synN)
	addTop(out.facets, FacetDomain, dc.strs, domN)
	addTop(out.facets, FacetOrg, dc.strs, orgN)
	addTop(out.facets, FacetKeyword, dc.strs, kwN)
	return out, nil, nil
}

// oneTerm counts the readable matches of a one-term query in a run of
// blocks (docCache.score).
type oneTerm struct {
	dc                *docCache
	q                 *Query
	kind, domain, org int32
	kws               []int32
	avg               *[nFields]float64
	state             []uint8
	owner             int32
	blocks            []int64

	docs                    []int64
	tfw                     []float64
	df                      int64
	classN, domN, orgN, kwN []int
	synN                    int
	missing                 []int64
	err                     error
}

// parallelMinBytes is the postings a run of blocks must have to be counted
// on a goroutine of its own (a variable so tests can split small lists).
var parallelMinBytes = 256 << 10

// split divides order (the blocks of list, increasing) into at most
// GOMAXPROCS runs of about equal bytes, each of at least parallelMinBytes
// but the first.
func (o oneTerm) split(list map[int64][][]byte, order []int64) []*oneTerm {
	size := func(b int64) int {
		n := 0
		for _, r := range list[b] {
			n += len(r)
		}
		return n
	}
	total := 0
	for _, b := range order {
		total += size(b)
	}
	k := max(1, min(runtime.GOMAXPROCS(0), len(order), total/parallelMinBytes))
	var parts []*oneTerm
	lo, acc := 0, 0
	for i, b := range order {
		acc += size(b)
		if len(parts) < k-1 && acc*k >= total*(len(parts)+1) || i == len(order)-1 {
			p := o
			p.blocks = order[lo : i+1]
			parts = append(parts, &p)
			lo = i + 1
		}
	}
	if len(parts) == 0 {
		p := o
		parts = append(parts, &p)
	}
	return parts
}

// run counts o's blocks of list.
func (o *oneTerm) run(list map[int64][][]byte) {
	dc := o.dc
	n := 0
	for _, b := range o.blocks {
		for _, r := range list[b] {
			n += len(r)
		}
	}
	// Room for every posting (each takes at least 4 bytes).
	o.docs, o.tfw = make([]int64, 0, n/4), make([]float64, 0, n/4)
	o.classN = make([]int, len(o.state))
	o.domN, o.orgN, o.kwN = make([]int, len(dc.strs)), make([]int, len(dc.strs)), make([]int, len(dc.strs))
	classOf, ownerOf, state := dc.classOf, dc.ownerOf, o.state
	var tf [nFields]int32
	var acc *mergeScratch
	defer func() { putMergeScratch(acc) }()
	for _, block := range o.blocks {
		base := block << blockShift
		rows := list[block]
		if len(rows) == 1 {
			for b := rows[0]; len(b) > 0; {
				if off, ok := shortPosting(b, &tf); ok {
					b = b[4:]
					o.posting(base+int64(off), &tf, classOf, ownerOf, state)
					continue
				}
				off, rest, ok := nextPosting(b, &tf)
				if !ok {
					o.err = errors.E(errors.Internal, errors.Msg("corrupt search postings"))
					return
				}
				b = rest
				o.posting(base+int64(off), &tf, classOf, ownerOf, state)
			}
			continue
		}
		// A prefix: sum the counts of every token it matched.
		if acc == nil {
			acc = newMergeScratch()
		}
		for _, r := range rows {
			for b := r; len(b) > 0; {
				if off, ok := shortPosting(b, &tf); ok {
					b = b[4:]
					acc.add(off, &tf)
					continue
				}
				off, rest, ok := nextPosting(b, &tf)
				if !ok {
					o.err = errors.E(errors.Internal, errors.Msg("corrupt search postings"))
					return
				}
				b = rest
				acc.add(off, &tf)
			}
		}
		acc.drain(func(off uint32, tf *[nFields]int32) {
			o.posting(base+int64(off), tf, classOf, ownerOf, state)
		})
	}
}

// shortPosting decodes, as nextPosting would, the posting at the start of
// b if it is the most common kind: one field with a count below 128, 4
// bytes. ok is false for any other (nextPosting then decodes it).
func shortPosting(b []byte, tf *[nFields]int32) (off uint32, ok bool) {
	if len(b) < 4 || b[2]>>nFields != 0 || bits.OnesCount8(b[2]) != 1 || b[3] >= 0x80 {
		return 0, false
	}
	*tf = [nFields]int32{}
	tf[bits.TrailingZeros8(b[2])] = int32(b[3])
	return uint32(b[0]) | uint32(b[1])<<8, true
}

// posting counts the document g, whose counts of the term are tf, if it is
// readable (df) and passes the query's filters (the matches and facets).
func (o *oneTerm) posting(g int64, tf *[nFields]int32, classOf, ownerOf []int32, state []uint8) {
	const readable, ownerReadable = 1, 2
	if g >= int64(len(classOf)) || classOf[g] < 0 {
		o.missing = append(o.missing, g)
		return
	}
	c := classOf[g]
	if int(c) >= len(state) || state[c] != readable && (state[c] != ownerReadable || ownerOf[g] != o.owner) {
		return
	}
	o.df++
	dc, q := o.dc, o.q
	m := &dc.docs[g]
	if o.kind != -2 && dc.kinds[ClassID(m.class)] != o.kind || o.domain != -2 && m.domain != o.domain || o.org != -2 && m.org != o.org ||
		q.Synthetic != nil && m.synthetic != *q.Synthetic {
		return
	}
	docKws := dc.kws[m.kwOff : m.kwOff+uint32(m.kwN)]
	for _, kw := range o.kws {
		if !slices.Contains(docKws, kw) {
			return
		}
	}
	o.docs = append(o.docs, m.doc)
	o.classN[m.class]++
	o.domN[m.domain]++
	o.orgN[m.org]++
	for _, kw := range docKws {
		o.kwN[kw]++
	}
	if m.synthetic {
		o.synN++
	}
	var lens [nFields]int64
	for c := range lens {
		lens[c] = int64(m.lens[c])
	}
	o.tfw = append(o.tfw, fieldTFW(tf, &lens, o.avg))
}

// addTop adds to fc the values of facet (strs[id] counted counts[id])
// that can be among its MaxFacetValues first: every value counted more
// often than the MaxFacetValues-th largest count, and of those counted
// exactly that often the smallest, so result() picks the same values as
// from all of them. A keyword can
// name one document each (a station), and adding every one to the map
// cost more than the rest of a search.
func addTop(fc facetCounter, facet string, strs []string, counts []int) {
	thr := kthLargestInt(counts, MaxFacetValues)
	// Above the threshold: all; at it: the smallest values, enough to
	// fill MaxFacetValues (result() breaks count ties by value), kept in
	// a bounded max-heap of ids by value.
	above := 0
	var h []int
	need := 0
	for _, n := range counts {
		if n > thr {
			above++
		}
	}
	need = MaxFacetValues - above
	greater := func(i, j int) bool { return strs[h[i]] > strs[h[j]] }
	for id, n := range counts {
		switch {
		case n <= 0 || n < thr:
		case n > thr:
			fc.add(facet, strs[id], n)
		case need <= 0:
		case len(h) < need:
			h = append(h, id)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !greater(i, p) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
		case strs[id] < strs[h[0]]:
			h[0] = id
			for i := 0; ; {
				c := 2*i + 1
				if c >= len(h) {
					break
				}
				if c+1 < len(h) && greater(c+1, c) {
					c++
				}
				if !greater(c, i) {
					break
				}
				h[i], h[c] = h[c], h[i]
				i = c
			}
		}
	}
	for _, id := range h {
		fc.add(facet, strs[id], thr)
	}
}

// kthLargestInt returns the k-th largest positive value of xs, or 1 if
// there are fewer than k.
func kthLargestInt(xs []int, k int) int {
	if k <= 0 {
		return 1
	}
	v, ok := kthLargestOf(xs, k, func(x int) bool { return x > 0 })
	if !ok {
		return 1
	}
	return v
}

// mergeScratch sums postings of one block by offset.
type mergeScratch struct {
	tf   [1 << blockShift][nFields]int32
	seen [1 << blockShift / 64]uint64
}

// mergeScratches keeps drained scratches (1.5 MB each) for later prefixes.
var mergeScratches = sync.Pool{New: func() any { return &mergeScratch{} }}

// newMergeScratch returns an empty scratch; putMergeScratch takes it back
// (emptied: an error may have left it half-filled; a drained one is empty).
func newMergeScratch() *mergeScratch { return mergeScratches.Get().(*mergeScratch) }

func putMergeScratch(s *mergeScratch) {
	if s != nil {
		clear(s.seen[:])
		mergeScratches.Put(s)
	}
}

func (s *mergeScratch) add(off uint32, tf *[nFields]int32) {
	w, bit := off/64, uint64(1)<<(off%64)
	if s.seen[w]&bit == 0 {
		s.seen[w] |= bit
		s.tf[off] = *tf
		return
	}
	for c := range tf {
		s.tf[off][c] += tf[c]
	}
}

// drain calls fn in increasing offset and resets.
func (s *mergeScratch) drain(fn func(off uint32, tf *[nFields]int32)) {
	for w, x := range s.seen {
		for x != 0 {
			off := uint32(w*64 + bits.TrailingZeros64(x))
			fn(off, &s.tf[off])
			x &= x - 1
		}
		s.seen[w] = 0
	}
}

// kthLargest returns the k-th largest of xs (1 <= k <= len(xs)).
func kthLargest(xs []float64, k int) float64 {
	v, _ := kthLargestOf(xs, k, nil)
	return v
}

// kthLargestOf returns the k-th largest of the xs that keep accepts (all,
// when keep is nil), and false when fewer than k are (k >= 1). It keeps a
// min-heap of the k largest so far.
func kthLargestOf[T int | float64](xs []T, k int, keep func(T) bool) (T, bool) {
	h := make([]T, 0, k)
	for _, x := range xs {
		if keep != nil && !keep(x) {
			continue
		}
		if len(h) < k {
			h = append(h, x)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if h[p] <= h[i] {
					break
				}
				h[p], h[i] = h[i], h[p]
				i = p
			}
			continue
		}
		if x <= h[0] {
			continue
		}
		h[0] = x
		for i := 0; ; {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && h[l] < h[m] {
				m = l
			}
			if r < len(h) && h[r] < h[m] {
				m = r
			}
			if m == i {
				break
			}
			h[m], h[i] = h[i], h[m]
			i = m
		}
	}
	if len(h) < k {
		var zero T
		return zero, false
	}
	return h[0], true
}

// docIDs returns the IDs of docs[j] for j in sel, indexed by j.
// tieWalkMin is the number of documents tied at the k-th score above
// which pageCandidates walks the ID index instead of reading every tied
// document's ID. (A variable so tests can take the walk on small corpora.)
var tieWalkMin = 2048

// tieWalkBudget is how many index entries, per tied document, the walk
// may read before falling back (a variable for tests).
var tieWalkBudget = 1

// pageCandidates returns every document that can be on the pages up to k
// (sorted by score, then ID) with their IDs: those scoring above the k-th
// score, and of those tied with it the ones with the smallest IDs, enough
// to fill k. Ties are common (templated catalogs give thousands of
// documents the same fields and lengths); reading every tied document's
// ID then costs a row lookup each, so a large tie is resolved by walking
// the ID index in order instead, which stops once it has found enough
// tied documents — or, if they are rare in the index, falls back to
// reading them all.
func pageCandidates(ctx context.Context, tx store.Tx, docCol string, docs []int64, scores []float64, k int) ([]int, map[int]string, error) {
	if k >= len(scores) {
		sel := make([]int, len(scores))
		for j := range sel {
			sel[j] = j
		}
		ids, err := docIDs(ctx, tx, docCol, docs, sel)
		return sel, ids, err
	}
	thr := kthLargest(scores, k)
	var above, tied []int
	for j, s := range scores {
		switch {
		case s > thr:
			above = append(above, j)
		case s == thr:
			tied = append(tied, j)
		}
	}
	need := k - len(above)
	if len(tied) <= tieWalkMin || len(tied) <= need {
		sel := append(above, tied...)
		ids, err := docIDs(ctx, tx, docCol, docs, sel)
		return sel, ids, err
	}
	ids, err := docIDs(ctx, tx, docCol, docs, above)
	if err != nil {
		return nil, nil, err
	}
	chosen, err := smallestIDs(ctx, tx, docCol, docs, tied, need, ids)
	if err != nil {
		return nil, nil, err
	}
	if chosen == nil { // the walk's budget ran out: read them all
		more, err := docIDs(ctx, tx, docCol, docs, tied)
		if err != nil {
			return nil, nil, err
		}
		for j, id := range more {
			ids[j] = id
		}
		return append(above, tied...), ids, nil
	}
	return append(above, chosen...), ids, nil
}

// smallestIDs walks search_docs in ID order and returns the need
// documents of tied (indexes into docs) with the smallest IDs, adding
// their IDs to ids. It reads at most as many index entries as there are
// tied documents (what reading them all would cost) and returns nil if
// that was not enough.
func smallestIDs(ctx context.Context, tx store.Tx, docCol string, docs []int64, tied []int, need int, ids map[int]string) ([]int, error) {
	pos := make(map[int64]int, len(tied))
	for _, j := range tied {
		pos[docs[j]] = j
	}
	// The walk reads the index in batches (a driver may read a result to
	// its end before closing it: one statement for the whole walk would
	// read the whole table), the first of a few times need, then doubling.
	var chosen []int
	found := map[int]string{}
	budget := tieWalkBudget * len(tied)
	last, scanned := "", 0
	for batch := max(64, 4*need); len(chosen) < need && scanned < budget; batch *= 2 {
		n := min(batch, budget-scanned)
		rows, err := tx.Query(ctx, `SELECT `+docCol+`, id FROM search_docs WHERE id > ? ORDER BY id LIMIT ?`, last, n)
		if err != nil {
			return nil, err
		}
		got := 0
		err = rows.Each(func() error {
			var doc int64
			var id string
			if err := rows.Scan(&doc, &id); err != nil {
				return err
			}
			got++
			last = id
			if j, ok := pos[doc]; ok && len(chosen) < need {
				chosen = append(chosen, j)
				found[j] = id
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		scanned += got
		if got < n {
			break
		}
	}
	if len(chosen) < need {
		return nil, nil
	}
	for j, id := range found {
		ids[j] = id
	}
	return chosen, nil
}

func docIDs(ctx context.Context, tx store.Tx, docCol string, docs []int64, sel []int) (map[int]string, error) {
	out := make(map[int]string, len(sel))
	pos := make(map[int64]int, len(sel))
	for _, j := range sel {
		pos[docs[j]] = j
	}
	for lo := 0; lo < len(sel); lo += 500 {
		part := sel[lo:min(len(sel), lo+500)]
		args := make([]any, len(part))
		for i, j := range part {
			args[i] = docs[j]
		}
		rows, err := tx.Query(ctx, `SELECT `+docCol+`, id FROM search_docs WHERE `+docCol+` IN (`+store.Placeholders(len(args))+`)`, args...)
		if err != nil {
			return nil, err
		}
		err = rows.Each(func() error {
			var doc int64
			var id string
			if err := rows.Scan(&doc, &id); err != nil {
				return err
			}
			out[pos[doc]] = id
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
