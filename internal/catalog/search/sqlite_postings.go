package search

import (
	"bytes"
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
	return postingsText(ctx, tx, &ix.cache, nil, sqlitePostings, nil, q, terms, vis, limit, offset)
}

// postingsText is text over the postings: the same hits, scores, totals and
// facets, computed in Go. Readability is decided per posting from the
// cached class and owner before anything is counted, ranked or faceted.
// blobs, if not nil, caches the postings blobs (PostgreSQL); stats, if not
// nil, are the readable corpus's statistics, already read in tx.
func postingsText(ctx context.Context, tx store.Tx, cache *docCache, blobs *blobCache, tb postingsTables, stats *corpusStats, q Query, terms []term, vis visibility, limit, offset int) (*Result, error) {
	var st corpusStats
	var err error
	if stats != nil {
		st = *stats
	} else if st, err = readableStats(ctx, tx, tb.classExpr, vis); err != nil {
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
	defer sc.release()
	scores := float64s.get(len(sc.docs))[:len(sc.docs)]
	defer float64s.put(scores)
	for j := range sc.docs {
		s := 0.0
		for i := range terms {
			if tfw := sc.tfw[j*len(terms)+i]; tfw != 0 {
				s += bm25TF(idf[i], tfw)
			}
		}
		scores[j] = s
	}
	k := offset + limit
	if k < len(scores) {
		res.Next = cursorAt(k)
	}
	pg := cache.page(sc.docs, scores, offset, k)
	if res.Hits, err = pageHits(ctx, tx, tb.docCol, terms, pg); err != nil {
		return nil, err
	}
	return res, nil
}

// scored is the readable documents matching a query: their sequence
// numbers g, the weighted term frequency of each term (len(terms) per
// document), the readable document frequency of each term, and the facets.
type scored struct {
	docs   []int64
	tfw    []float64
	df     []int64
	facets facetCounter
}

// release gives sc's large slices back for later queries; sc is not used
// after.
func (sc *scored) release() {
	int64s.put(sc.docs)
	float64s.put(sc.tfw)
	sc.docs, sc.tfw = nil, nil
}

// slicePool recycles the large slices of a query's scoring: a common
// word's matches take tens of megabytes, which the runtime would otherwise
// clear on every query and collect after it.
type slicePool[T any] struct{ p sync.Pool }

var (
	int64s   slicePool[int64]
	float64s slicePool[float64]
)

// get returns an empty slice with room for n.
func (sp *slicePool[T]) get(n int) []T {
	if v, ok := sp.p.Get().(*[]T); ok && cap(*v) >= n {
		return (*v)[:0]
	}
	return make([]T, 0, n)
}

// put takes back s, which its caller no longer uses.
func (sp *slicePool[T]) put(s []T) {
	if cap(s) > 0 {
		s = s[:0]
		sp.p.Put(&s)
	}
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
			out.docs, out.tfw = int64s.get(n), float64s.get(n)
			for _, p := range parts {
				out.docs = append(out.docs, p.docs...)
				out.tfw = append(out.tfw, p.tfw...)
				int64s.put(p.docs)
				float64s.put(p.tfw)
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
			out.docs = append(out.docs, base+int64(off))
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
	o.docs, o.tfw = int64s.get(n/4), float64s.get(n/4)
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
	o.docs = append(o.docs, g)
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
	// fill MaxFacetValues (result() breaks count ties by value).
	var tied []int
	need := MaxFacetValues
	for id, n := range counts {
		switch {
		case n > thr:
			fc.add(facet, strs[id], n)
			need--
		case n == thr && n > 0:
			tied = append(tied, id)
		}
	}
	for _, id := range smallestK(tied, need, func(a, b int) bool { return strs[a] < strs[b] }) {
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

// page returns the hits offset..k-1 (fewer at the end) of the documents
// gs scored scores, in order of score (descending) and then ID, with their
// IDs and scores. Only the documents that can be on those pages are
// ordered: those scoring above the k-th score, and of those tied with it
// the ones with the smallest IDs, enough to fill k. Ties are common
// (templated catalogs give thousands of documents the same fields and
// lengths, and a word in every document ties them all); the IDs come from
// the cache, so they cost no query.
func (dc *docCache) page(gs []int64, scores []float64, offset, k int) []match {
	dc.mu.RLock()
	defer dc.mu.RUnlock()
	var sel []int
	if k >= len(scores) {
		sel = make([]int, len(scores))
		for j := range sel {
			sel[j] = j
		}
	} else {
		thr := kthLargest(scores, k)
		var tied []int
		for j, s := range scores {
			switch {
			case s > thr:
				sel = append(sel, j)
			case s == thr:
				tied = append(tied, j)
			}
		}
		idLess := func(a, b int) bool { return bytes.Compare(dc.idOf(gs[a]), dc.idOf(gs[b])) < 0 }
		sel = append(sel, smallestK(tied, k-len(sel), idLess)...)
	}
	sort.Slice(sel, func(a, b int) bool {
		x, y := sel[a], sel[b]
		if scores[x] != scores[y] {
			return scores[x] > scores[y]
		}
		return bytes.Compare(dc.idOf(gs[x]), dc.idOf(gs[y])) < 0
	})
	var pg []match
	for i := offset; i < len(sel) && i < k; i++ {
		j := sel[i]
		g := gs[j]
		pg = append(pg, match{doc: dc.docs[g].doc, hit: Hit{ID: string(dc.idOf(g)), Score: scores[j]}})
	}
	return pg
}

// smallestK returns the k smallest of xs by less (all of xs if it has no
// more than k), in no particular order, keeping a max-heap of k.
func smallestK(xs []int, k int, less func(a, b int) bool) []int {
	if len(xs) <= k {
		return xs
	}
	if k <= 0 {
		return nil
	}
	h := slices.Clone(xs[:k])
	down := func(i int) {
		for {
			l, r, m := 2*i+1, 2*i+2, i
			if l < len(h) && less(h[m], h[l]) {
				m = l
			}
			if r < len(h) && less(h[m], h[r]) {
				m = r
			}
			if m == i {
				return
			}
			h[m], h[i] = h[i], h[m]
			i = m
		}
	}
	for i := k/2 - 1; i >= 0; i-- {
		down(i)
	}
	for _, x := range xs[k:] {
		if less(x, h[0]) {
			h[0] = x
			down(0)
		}
	}
	return h
}
