package library

import (
	"context"
	"encoding/binary"
	"math"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/store"
)

// Retrieval constants.
const (
	// CandidatesK is how many passages each ranking (BM25, vector)
	// contributes before fusion.
	CandidatesK = 100
	// RRFK is reciprocal-rank fusion's k: score = Σ 1/(RRFK + rank).
	RRFK = 60
	// MaxVectorDim bounds an embedding's dimension.
	MaxVectorDim = 8192
	// embedBatch is how many passages one embedding request carries.
	embedBatch = 64
)

// candidate is one passage found by either ranking.
type candidate struct {
	doc       string // search document ID (docID)
	bm25, vec int    // 1-based ranks; 0 = absent
	bmScore   float64
	snippet   string
	score     float64
}

// Search returns the best passages for q among those p may read. BM25
// comes from the catalog's index, which filters by label before ranking;
// the vector ranking scores only passages of publications p may read
// (decided first); the two are fused by reciprocal rank. In BM25 mode
// a hit's Score is its BM25 score, in hybrid mode the fused score.
func (s *Service) Search(ctx context.Context, p *genesis.Principal, q lit.Query) ([]lit.Hit, error) {
	const op errors.Op = "library.Search"
	ap, err := s.principal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	q.Text = strings.TrimSpace(q.Text)
	switch {
	case q.Text == "":
		return nil, errors.E(op, errors.Invalid, errors.Field("q"), errors.Msg("a search needs some text"))
	case len(q.Text) > search.MaxQueryBytes || !utf8.ValidString(q.Text):
		return nil, errors.E(op, errors.Invalid, errors.Field("q"), errors.Msg("the query must be valid UTF-8 of at most 1024 bytes"))
	case q.Limit < 0 || q.Limit > 100:
		return nil, errors.E(op, errors.Invalid, errors.Field("limit"), errors.Msg("limit must be between 1 and 100"))
	}
	if q.Limit == 0 {
		q.Limit = 10
	}
	hybrid := false
	switch q.Mode {
	case "":
		hybrid = s.emb != nil
	case lit.ModeBM25:
	case lit.ModeHybrid:
		if s.emb == nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("mode"), errors.Msg("hybrid search needs an embedding endpoint, and this server has none; use mode bm25"))
		}
		hybrid = true
	default:
		return nil, errors.E(op, errors.Invalid, errors.Field("mode"), errors.Msg("mode must be bm25 or hybrid"))
	}
	var only *pubRow
	if q.Publication != "" {
		if only, err = s.resolve(ctx, ap, q.Publication); err != nil {
			if errors.Is(errors.NotExist, err) {
				s.recordNotFound(ctx, p, "publication", q.Publication)
			}
			return nil, errors.E(op, err)
		}
	}
	cands, err := s.bm25(ctx, ap, q.Text, only)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if hybrid {
		vc, err := s.vectorTop(ctx, ap, q.Text, only)
		switch {
		case err != nil && q.Mode == "":
			s.log.Warn("literature: embedding the query failed; searching by BM25 alone", "err", err)
			hybrid = false
		case err != nil:
			return nil, errors.E(op, err)
		default:
			cands = fuse(cands, vc)
		}
	}
	if !hybrid {
		for _, c := range cands {
			c.score = c.bmScore
		}
	}
	list := make([]*candidate, 0, len(cands))
	for _, c := range cands {
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool {
		a, b := list[i], list[j]
		if a.score != b.score {
			return a.score > b.score
		}
		return a.doc < b.doc
	})
	if len(list) > q.Limit {
		list = list[:q.Limit]
	}
	hits, err := s.hits(ctx, ap, list)
	if err != nil {
		return nil, errors.E(op, err)
	}
	seen := map[string]bool{}
	for i := range hits {
		if pub := hits[i].Publication; !seen[pub] {
			seen[pub] = true
			row := &pubRow{ID: pub, Label: hits[i].Label}
			if err := s.recordRead(ctx, p, "search", row, "literature search"); err != nil {
				return nil, errors.E(op, err)
			}
		}
	}
	return hits, nil
}

// bm25 ranks readable passages by BM25 over any of the query's terms:
// each term is searched on its own in the catalog's index (which filters
// by label before ranking, and requires all of a query's terms), the top
// CandidatesK of each kept. A term adds idf × (its score / the best score
// of its list) to a passage, where idf = ln(1 + (N − df + 0.5)/(df + 0.5))
// over the readable passages (N) and those holding the term (df) — so
// rare terms weigh more on every backend, PostgreSQL's ts_rank_cd having
// no idf of its own — and s, the sum, orders them: a passage need not
// hold every word of a question to be found. The whole query is searched
// once more, and the passages holding every term come first: a passage's
// score is s/(1+s), plus the number of terms if it holds them all (s is
// then its whole-query share of the terms' idf when no per-term list
// reached it), so a short passage holding every term (a title) is not cut
// off by per-term lists that an engine without length normalisation fills
// with long passages. The best CandidatesK, ties by document ID, are the
// candidates.
func (s *Service) bm25(ctx context.Context, ap authz.Principal, text string, only *pubRow) (map[string]*candidate, error) {
	classes, err := s.ix.Classes(ctx)
	if err != nil {
		return nil, err
	}
	vis, err := search.VisibilityFor(ctx, classes, s.az, ap)
	if err != nil {
		return nil, err
	}
	terms, err := search.Terms(text)
	if err != nil {
		return nil, err
	}
	all := map[string]*candidate{}
	whole := map[string]float64{}
	get := func(h search.Hit) *candidate {
		c := all[h.ID]
		if c == nil {
			c = &candidate{doc: h.ID}
			all[h.ID] = c
		}
		if c.snippet == "" {
			c.snippet = h.Snippet
		}
		return c
	}
	// Statistics over the readable passages only (Total counts readable
	// matches), so that nothing hidden weighs on a term: N, and each
	// term's document frequency for its idf.
	browse := search.Query{Passages: true, Limit: 1}
	if only != nil {
		browse.Domain = only.ID
	}
	br, err := s.ix.Search(ctx, browse, vis)
	if err != nil {
		return nil, err
	}
	n := float64(br.Total)
	lists := terms
	if len(terms) > 1 {
		lists = append(append([]string(nil), terms...), text)
	}
	idfSum := 0.0
	for i, t := range lists {
		sq := search.Query{Text: t, Passages: true, Limit: CandidatesK}
		if only != nil {
			sq.Domain = only.ID
		}
		res, err := s.ix.Search(ctx, sq, vis)
		if err != nil {
			return nil, err
		}
		top := 0.0
		for _, h := range res.Hits {
			top = math.Max(top, h.Score)
		}
		df := float64(res.Total)
		idf := math.Log(1 + (n-df+0.5)/(df+0.5))
		if i < len(terms) {
			idfSum += idf
		}
		for _, h := range res.Hits {
			c := get(h)
			rel := 1.0
			if top > 0 {
				rel = math.Max(0, h.Score) / top
			}
			if i < len(terms) {
				c.bmScore += idf * rel
			} else {
				whole[h.ID] = idfSum * rel
			}
		}
	}
	list := make([]*candidate, 0, len(all))
	for id, c := range all {
		m, sum := 0, c.bmScore
		if w, ok := whole[id]; ok {
			m = len(terms)
			if sum == 0 {
				sum = w
			}
		}
		c.bmScore = float64(m) + sum/(1+sum)
		list = append(list, c)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].bmScore != list[j].bmScore {
			return list[i].bmScore > list[j].bmScore
		}
		return list[i].doc < list[j].doc
	})
	if len(list) > CandidatesK {
		list = list[:CandidatesK]
	}
	out := make(map[string]*candidate, len(list))
	for i, c := range list {
		c.bm25 = i + 1
		out[c.doc] = c
	}
	return out, nil
}

// vectorTop embeds text and ranks, by cosine similarity, the passages of
// the publications ap may read that have a vector of the embedder's model
// (brute force): the top CandidatesK, ties by document ID.
func (s *Service) vectorTop(ctx context.Context, ap authz.Principal, text string, only *pubRow) ([]*candidate, error) {
	vs, err := s.embed(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	qv := vs[0]
	var ids []string
	if only != nil {
		ids = []string{only.ID}
	} else {
		set, err := s.readableSet(ctx, ap)
		if err != nil {
			return nil, err
		}
		for id := range set {
			ids = append(ids, id)
		}
		sort.Strings(ids)
	}
	type scored struct {
		doc string
		sim float64
	}
	var all []scored
	err = s.db.View(ctx, func(tx store.Tx) error {
		all = all[:0]
		for lo := 0; lo < len(ids); lo += 500 {
			part := ids[lo:min(len(ids), lo+500)]
			rows, err := tx.Query(ctx, `SELECT publication, passage, vec FROM lit_vectors WHERE model = ? AND publication IN (`+store.Placeholders(len(part))+`)`,
				append([]any{s.emb.Model()}, anys(part)...)...)
			if err != nil {
				return err
			}
			if err := rows.Each(func() error {
				var pub, psg string
				var b []byte
				if err := rows.Scan(&pub, &psg, &b); err != nil {
					return err
				}
				v := decodeVec(b)
				if len(v) != len(qv) {
					return nil
				}
				all = append(all, scored{docID(pub, psg), cosine(qv, v)})
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].sim != all[j].sim {
			return all[i].sim > all[j].sim
		}
		return all[i].doc < all[j].doc
	})
	if len(all) > CandidatesK {
		all = all[:CandidatesK]
	}
	out := make([]*candidate, len(all))
	for i, a := range all {
		out[i] = &candidate{doc: a.doc, vec: i + 1}
	}
	return out, nil
}

// fuse adds the vector ranking to the BM25 candidates and scores every
// candidate by reciprocal rank.
func fuse(bm map[string]*candidate, vec []*candidate) map[string]*candidate {
	for _, v := range vec {
		if c, ok := bm[v.doc]; ok {
			c.vec = v.vec
		} else {
			bm[v.doc] = v
		}
	}
	for _, c := range bm {
		c.score = 0
		if c.bm25 > 0 {
			c.score += 1 / float64(RRFK+c.bm25)
		}
		if c.vec > 0 {
			c.score += 1 / float64(RRFK+c.vec)
		}
	}
	return bm
}

// hits loads the passages of list, in order, keeping only readable ones
// (the index and the vectors were filtered already; this is the last
// check, on the rows themselves).
func (s *Service) hits(ctx context.Context, ap authz.Principal, list []*candidate) ([]lit.Hit, error) {
	out := []lit.Hit{}
	if len(list) == 0 {
		return out, nil
	}
	type key struct{ pub, psg string }
	texts := map[key][4]string{}
	ords := map[key]int{}
	pubIDs := map[string]bool{}
	var keys []key
	for _, c := range list {
		pub, psg, ok := splitDocID(c.doc)
		if !ok {
			continue
		}
		keys = append(keys, key{pub, psg})
		pubIDs[pub] = true
	}
	var pubs []pubRow
	err := s.db.View(ctx, func(tx store.Tx) error {
		ids := make([]string, 0, len(pubIDs))
		for id := range pubIDs {
			ids = append(ids, id)
		}
		var err error
		if pubs, err = queryPubs(ctx, tx, `p.id IN (`+store.Placeholders(len(ids))+`)`, anys(ids)...); err != nil {
			return err
		}
		for _, k := range keys {
			var ord int
			var kind, section, text string
			err := tx.QueryRow(ctx, `SELECT ordinal, kind, section, text FROM lit_passages WHERE publication = ? AND id = ?`, k.pub, k.psg).Scan(&ord, &kind, &section, &text)
			if errors.Is(errors.NotExist, err) {
				continue
			}
			if err != nil {
				return err
			}
			texts[k] = [4]string{kind, section, text}
			ords[k] = ord
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ok, err := s.readable(ctx, ap, pubs)
	if err != nil {
		return nil, err
	}
	byID := map[string]*pubRow{}
	for i := range pubs {
		if ok[i] {
			byID[pubs[i].ID] = &pubs[i]
		}
	}
	for _, c := range list {
		pub, psg, _ := splitDocID(c.doc)
		k := key{pub, psg}
		t, have := texts[k]
		row := byID[pub]
		if !have || row == nil {
			continue
		}
		h := lit.Hit{Passage: passageOf(row, psg, ords[k], t[0], t[1], t[2]), Score: c.score, BM25: c.bm25, Vector: c.vec, Snippet: c.snippet}
		if h.Snippet == "" {
			h.Snippet = truncateRunes(t[2], 240)
		}
		out = append(out, h)
	}
	return out, nil
}

// embed calls the embedder and checks what it returned: one finite
// vector per text, all of one dimension within bounds.
func (s *Service) embed(ctx context.Context, texts []string) ([][]float32, error) {
	const op errors.Op = "library.embed"
	vs, err := s.emb.Embed(ctx, texts)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if len(vs) != len(texts) {
		return nil, errors.E(op, errors.Transient, errors.Msg("the embedding endpoint returned the wrong number of vectors"))
	}
	for _, v := range vs {
		if len(v) == 0 || len(v) > MaxVectorDim || len(v) != len(vs[0]) {
			return nil, errors.E(op, errors.Transient, errors.Msg("the embedding endpoint returned vectors of a bad dimension"))
		}
		for _, x := range v {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, errors.E(op, errors.Transient, errors.Msg("the embedding endpoint returned a non-finite value"))
			}
		}
	}
	return vs, nil
}

func encodeVec(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVec(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// todo is a passage to embed.
type todo struct{ pub, psg, text string }

// storeVectors embeds batch (at most embedBatch passages) and stores the
// vectors of the passages still there, returning how many it stored.
func (s *Service) storeVectors(ctx context.Context, batch []todo) (int, error) {
	texts := make([]string, len(batch))
	for i, t := range batch {
		texts[i] = t.text
	}
	vs, err := s.embed(ctx, texts)
	if err != nil {
		return 0, err
	}
	model := s.emb.Model()
	stored := 0
	err = s.db.Update(ctx, func(tx store.Tx) error {
		stored = 0
		for i, t := range batch {
			// A passage replaced meanwhile gets no vector.
			r, err := tx.Exec(ctx, `INSERT INTO lit_vectors (publication, passage, model, dim, vec)
				SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM lit_passages WHERE publication = ? AND id = ?)
				ON CONFLICT DO NOTHING`, t.pub, t.psg, model, len(vs[i]), encodeVec(vs[i]), t.pub, t.psg)
			if err != nil {
				return err
			}
			if k, _ := r.RowsAffected(); k > 0 {
				stored++
			}
		}
		return nil
	})
	return stored, err
}

// embedNew embeds the passages of publications just stored that lack a
// vector of the embedder's model (those that kept their text keep theirs).
func (s *Service) embedNew(ctx context.Context, pubs map[string][]lit.Passage) error {
	model := s.emb.Model()
	var all []todo
	for pub, ps := range pubs {
		var have []string
		err := s.db.View(ctx, func(tx store.Tx) error {
			var err error
			have, err = column(ctx, tx, `SELECT passage FROM lit_vectors WHERE publication = ? AND model = ?`, pub, model)
			return err
		})
		if err != nil {
			return err
		}
		got := map[string]bool{}
		for _, h := range have {
			got[h] = true
		}
		for _, p := range ps {
			if !got[p.ID] {
				all = append(all, todo{pub, p.ID, p.Text})
			}
		}
	}
	sort.Slice(all, func(i, j int) bool {
		return all[i].pub < all[j].pub || all[i].pub == all[j].pub && all[i].psg < all[j].psg
	})
	for lo := 0; lo < len(all); lo += embedBatch {
		if _, err := s.storeVectors(ctx, all[lo:min(len(all), lo+embedBatch)]); err != nil {
			return err
		}
	}
	return nil
}

// ReindexVectors embeds every passage lacking a vector of the embedder's
// model, in batches, and returns how many it stored. Without an embedder
// it is Invalid.
func (s *Service) ReindexVectors(ctx context.Context) (int, error) {
	const op errors.Op = "library.ReindexVectors"
	if s.emb == nil {
		return 0, errors.E(op, errors.Invalid, errors.Msg("no embedding endpoint is configured"))
	}
	model := s.emb.Model()
	n := 0
	for {
		var batch []todo
		err := s.db.View(ctx, func(tx store.Tx) error {
			batch = batch[:0]
			rows, err := tx.Query(ctx, `SELECT s.publication, s.id, s.text FROM lit_passages s
				WHERE NOT EXISTS (SELECT 1 FROM lit_vectors v WHERE v.publication = s.publication AND v.passage = s.id AND v.model = ?)
				ORDER BY s.publication, s.ordinal LIMIT ?`, model, embedBatch)
			if err != nil {
				return err
			}
			return rows.Each(func() error {
				var t todo
				err := rows.Scan(&t.pub, &t.psg, &t.text)
				batch = append(batch, t)
				return err
			})
		})
		if err != nil {
			return n, errors.E(op, err)
		}
		if len(batch) == 0 {
			return n, nil
		}
		stored, err := s.storeVectors(ctx, batch)
		if err != nil {
			return n, errors.E(op, err)
		}
		n += stored
		if stored == 0 {
			// Every passage of the batch vanished under us: read again.
			continue
		}
	}
}
