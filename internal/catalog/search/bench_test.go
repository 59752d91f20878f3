package search_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
	"github.com/genesis-science/genesis/internal/store/sqlite"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// Benchmarks over a synthetic catalog: Zipf-distributed vocabulary, realistic
// field lengths, 6 labels × 21 projects × 3 kinds, 500 owners. The principal
// reads the three lower labels (half the documents) plus what it owns.
//
//	GENESIS_BENCH_SEARCH_DOCS=1000000 GENESIS_BENCH_SEARCH_DIR=/tmp/searchbench go test ./internal/catalog/search -run '^$' -bench SQLite -benchtime 200x -timeout 60m
//
// The SQLite database is built once and kept (GENESIS_BENCH_SEARCH_DIR,
// default the OS temp dir), so later runs skip loading; the file name
// carries a schema generation (v2: postings, migration 0013). Default size
// 20,000. PostgreSQL: GENESIS_TEST_POSTGRES and GENESIS_BENCH_SEARCH_PG_DOCS.
//
// Figures (2026-11-28, shared 2-core VM under load from other builds,
// 10^6 documents, 3.4 GB file, loaded in ~21 min at ~800 documents/s;
// Reindex and document-cache warm-up 6.7 s, not in the figures):
//
//	search (200 queries, mean 18k readable matches)  p50 5.9 ms   p95 40–42 ms (FTS5 rows: 28–35 ms, 1.2–1.4 s)
//	browse facets (500,934 readable)                  p50 17 ms    p95 19 ms   (37 ms, 93 ms)
//	browse, domain+org filter (1.6k readable)         p50 19 ms    p95 21 ms   (64 ms, 93 ms)
//	suggest (3-letter prefixes)                       p50 150 ms   p95 0.6–1 s (unchanged)
//	put / update / delete, one document per transaction: p50 24 / 43 / 27 ms,
//	p95 91 / 153 / 72 ms (FTS5 alone: insert p50 3.9 ms, update p50 5.9 ms;
//	each write rewrites the postings blob of each of its ~60 tokens, ≤ 26 KB)
//	10^5 documents, before → after: search p50 6.5 → 2.9 ms, p95 173 → 9.3 ms
//	PostgreSQL, 5·10^4 documents: search p50 9 ms p95 211 ms; browse facets
//	p50 403 ms p95 897 ms; filtered browse p95 108 ms; suggest p95 185 ms
//
// PostgreSQL, per-class counts (migration 0032), 2026-12-07, same VM under
// load from four other sessions, 5·10^4 documents, before → after:
//
//	search                         p50 14 → 11–17 ms   p95 344 → 290–410 ms
//	browse facets (24,980 readable) p50 785 → 14 ms    p95 1315 → 28 ms
//	browse, domain+org filter      p50 69 → 5.4 ms     p95 139 → 24 ms
//	load (UpsertBatch, 5,000 per transaction): 2m22s → 1m24s
//
// After, 2·10^5 documents (loaded in 7m25s): search p50 22 ms p95 1.0 s;
// browse facets (99,971 readable) p50 21 ms p95 55 ms; domain+org filter
// p50 13 ms p95 18 ms.
//
// Search is still a scan of the readable matches: a prefix that matches a
// third of the corpus evaluates @@ and ts_rank_cd on each (EXPLAIN
// ANALYZE: seq scan, ~0.5 s at 5·10^4 on this VM).
//
// PostgreSQL with postings (migration 0035: word and prefix queries read
// postings blobs and rank, count and facet in Go, as SQLite) and cached
// merged browse counts, 2026-12-07 on the same shared 2-core VM (load
// average 6–8 during the runs, 15–25 during the load), a principal
// reading the three lower labels (half) plus what u7 owns:
//
//	GENESIS_BENCH_SEARCH_PG_DOCS=1000000 GENESIS_BENCH_SEARCH_PG_DSN=postgres://…/pgtext_1m go test ./internal/catalog/search -run '^$' -bench 'Postgres/(search|browse)' -benchtime 200x -timeout 120m
//
//	                  5·10^4 p50 / p95     10^6 p50 / p95    (10^6 readable matches)
//	search (mix)       6.3 / 17.6 ms       21 / 144–158 ms   (18k)
//	search, common     11 / 21 ms          129–142 / 236–264 ms (257k)
//	search, rare       3.2 / 8.8 ms        7.0 / 12.5 ms     (266)
//	search, prefix     9.6 / 24.6 ms       64 / 214 ms       (91k)
//	browse facets      4.3 / 13.8 ms       17.6 / 39 ms      (500,934)
//	domain+org filter  3.7 / 12.0 ms       51 / 85 ms        (1,579)
//	put / update / delete (one document per transaction, 10^6, 50 each):
//	p50 62 / 169 / 67 ms, p95 204 / 292 / 202 ms
//
// 10^6 documents loaded in 46 min (load average 15–25), GIN built after
// in 4m51s; 3.5 GB database, 1.48 million postings rows (441 MB); cache
// warm-up 11.7 s. Before (tsvector @@ and ts_rank_cd over every readable
// match), search p95 was 1.0 s at 2·10^5.
//
// Where a common word's time goes (2026-12-08, phases timed one by one
// inside one View, the words with the largest postings, 2 rounds after a
// warm-up; at 2·10^5 with main's code: 0.3–0.9 MB of postings, 35–100k
// readable matches; at 10^6 with this branch's: 2.5–4.6 MB, 310–500k
// readable), p50 / p95 in ms:
//
//	                        2·10^5 (main)  10^6 (changed)
//	postingsComplete        0.09 / 0.2     0.17 / 0.28
//	readableStats           0.46 / 0.78    1.6 / 8.0
//	postings blobs          1.1 / 10.8     23 / 174   (0.8 / 13.6 from the cache)
//	cache.ensure            0.12 / 0.15    0.22 / 20
//	docCache.score          7.4 / 37.6     102 / 381
//	BM25                    1.4 / 12.6     1.2 / 58   (a log per match → per term)
//	pageCandidates          1.0 / 740      19 / 438   (ties walk the ID index)
//	pageHits                0.7 / 3.4      1.4 / 8.8
//
// The blobs are stored uncompressed (pg_column_compression is NULL on
// every row: pglz gives up on them), so SET STORAGE EXTERNAL would change
// nothing. The 740 ms is "dr", a word in every document: every readable
// match ties, and the tie walk read the whole ID index (the driver reads a
// result to its end before closing it); it now reads in batches.
// docCache.score is ~25 % decoding and the rest per-match work (the
// document's cached entry, its keywords' facet counts, BM25F's divisions).
//
// Changes (2026-12-08): postings blobs cached in memory by row version
// (migration 0036, blobcache.go); one-term queries decoded, tested and
// counted in one pass, the common 4-byte posting decoded inline, the
// blocks split across GOMAXPROCS goroutines; the IDF once per term.
// BenchmarkScoreOneTerm (524k postings, 262k readable, -cpu 1): 58 → 36 ms
// of CPU per query (user+sys of 20 iterations). SQLite's bench at 2·10^4
// (interleaved runs): search-common p50 6.6, 6.3 → 4.2, 3.0 ms; the other
// rows unchanged within noise.
//
// PostgreSQL, 10^6 documents, the same command as above, main (the lead's
// run) and this branch right after it, the VM's load average 16–20 during
// both (five sessions building and benchmarking on 2 cores), p50 / p95 ms:
//
//	                      before          after
//	search (mix)          22 / 216        28 / 221   (one pass: mostly cold)
//	search, common        254 / 574       211 / 404  (20 words × 10: 9/10 warm)
//	search, common (cold) —               244 / 417  (search-common-cold)
//	search, rare          14 / 56         7.2 / 73
//	search, prefix        148 / 433       153 / 425
//	browse facets         54 / 96         50 / 138
//	domain+org filter     188 / 322       163 / 346
//
// At 2·10^5 (database pgs2_200k, load average ~13): search 5.8 / 44 →
// 7.0 / 26 ms, common 21 / 76 → 11 / 50 ms, rare 3.4 / 17 → 2.9 / 11 ms,
// prefix 10 / 67 → 14 / 78 ms, common with a cold postings cache 11 / 50.
// The ≤ 50 ms target for common words and prefixes at 10^6 is not met on
// this VM: scoring every posting of a word in half the corpus costs ~36 ms
// of CPU, and the load multiplies wall time by 2–4. Meeting it needs less
// work per query than one pass over every posting (e.g. counts per term
// and class kept on write, and a bounded, impact-ordered scan for the page).
//
// Changes (2026-12-08, later): a page's ties are ordered by document IDs
// cached in docCache (idAt/idBuf, read with the rest at load) instead of
// read back or walked through the ID index: no query before the page's
// rows; which classes hold passages is cached (a class's kind never
// changes), so a search opens one transaction, not two; the statistics
// and the completeness check are one statement; the scoring slices are
// pooled. The same command, integ (before) and this branch run one after
// the other, twice each, load average 5.8–8.2 (the lead's CI ending),
// p50 / p95 ms, round 1; round 2:
//
//	                      before                     after
//	search (mix)          6.7 / 38; 7.4 / 38         5.8 / 42; 5.4 / 37
//	search, common        31 / 50; 23 / 38           35 / 176; 27 / 62
//	search, common (cold) 36 / 140; 41 / 144         38 / 127; 34 / 60
//	search, rare          4.7 / 9.5; 3.8 / 5.8       2.9 / 7.9; 2.5 / 3.4
//	search, prefix        29 / 55; 26 / 51           34 / 162; 24 / 46
//	browse facets         9.6 / 16; 7.6 / 11         11 / 19; 7.0 / 11
//	domain+org filter     27 / 45; 24 / 36           27 / 104; 35 / 75
//
// The common words alone (-bench 'Postgres/search-common$', three
// interleaved rounds, load 4.6–7.7): p50 40, 44, 40 → 37, 41, 25 ms.
// Rare words and the mix gain the round trips (p50 −25 to −35 %); common
// words and prefixes are CPU-bound and within the noise: a profile puts
// half their time in oneTerm.posting, mostly the cache miss on each
// readable match's docCache entry (scattered over ~56 MB at 10^6). A
// first version that put the ID's offset in docMeta (56 → 72 bytes) was
// 20 % slower on common words for that reason. The ≤ 50 ms p95 target is
// met in some rounds and not others at this load. SQLite's bench (2·10^4,
// interleaved, two rounds each) is not slower: search p50 1.36, 1.18 →
// 1.40, 0.90 ms; common 2.25, 1.72 → 1.98, 1.24 ms; browse unchanged.
//
// On a quiet machine (2026-12-08, load average 0.7–2 with the bench
// itself; the figures above were all taken at load 4–20), 10^6 documents,
// main before this round's search work (a471632) and after it (c63b972),
// run one after the other, two rounds each, plus three more rounds of
// after alone; p50 / p95 ms:
//
//	                      before (2 rounds)          after (5 rounds)
//	search (mix)          5.4 / 34; 5.7 / 36         4.9–5.6 / 26–31
//	search, common        43 / 66; 43 / 69           16–18 / 24–30
//	search, common (cold) —                          20–22 / 28–36
//	search, rare          3.6 / 4.2; 3.5 / 4.7       2.6–3.1 / 3.2–4.3
//	search, prefix        28 / 61; 27 / 61           20–25 / 29–43
//	browse facets         6.6 / 8.3; 7.8 / 11        6.5–8.3 / 7.8–11
//	domain+org filter     21 / 23; 22 / 26           21–24 / 23–33
//
// So every row meets its target (search p95 ≤ 50 ms, browse ≤ 100 ms) on a
// quiet 2-core VM; under a load average of 5–8 a common word or prefix
// still reaches 60–176 ms p95 in some rounds (the tables above).

// Word and prefix queries read one postings blob per token and block of
// 65,536 documents and then cost tens of nanoseconds per readable match in
// Go (readability, BM25, total, facets); the slowest are prefixes that
// match a quarter of the readable corpus. Phrases still go through FTS5.

// blockShiftBench is the postings block size (search.blockShift).
const blockShiftBench = 16

func benchDocs(name string, def int) int {
	if s := os.Getenv(name); s != "" {
		n, err := strconv.Atoi(s)
		if err == nil {
			return n
		}
	}
	return def
}

type benchCorpus struct {
	words    []string
	zipf     *rand.Zipf
	keywords []string
	kwZipf   *rand.Zipf
	rng      *rand.Rand
}

var benchLabels = []string{"OPEN", "PROPRIETARY", "PROPRIETARY//AGR:CRADA-0042", "PROPRIETARY//FUSION", "NATIONAL-SECURITY", "NATIONAL-SECURITY//ITAR"}

func newBenchCorpus() *benchCorpus {
	rng := rand.New(rand.NewPCG(1, 2))
	syl := []string{"ka", "lo", "mi", "ne", "ta", "ri", "so", "vu", "zen", "tor", "lix", "mar", "qu", "pho", "bra", "cel", "dyn", "ent", "gra", "hel"}
	seen := map[string]bool{}
	var words []string
	for len(words) < 30000 {
		n := 2 + rng.IntN(3)
		var b strings.Builder
		for range n {
			b.WriteString(syl[rng.IntN(len(syl))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	c := &benchCorpus{words: words, rng: rng}
	c.zipf = rand.NewZipf(rng, 1.07, 2, uint64(len(words)-1))
	c.keywords = words[200:3200]
	c.kwZipf = rand.NewZipf(rng, 1.2, 1, uint64(len(c.keywords)-1))
	return c
}

func (c *benchCorpus) text(n int) string {
	ws := make([]string, n)
	for i := range ws {
		ws[i] = c.words[c.zipf.Uint64()]
	}
	return strings.Join(ws, " ")
}

func (c *benchCorpus) doc(i int) search.Doc {
	r := c.rng
	kinds := []string{"dataset", "dataset", "dataset", "model", "software"}
	d := search.Doc{
		ID:          fmt.Sprintf("a%07d", i),
		Kind:        kinds[r.IntN(len(kinds))],
		Name:        fmt.Sprintf("%s-%d", c.words[c.zipf.Uint64()], i),
		Title:       c.text(4 + r.IntN(6)),
		Description: c.text(40 + r.IntN(40)),
		Domain:      fmt.Sprintf("domain-%d", r.IntN(8)),
		Org:         fmt.Sprintf("org-%d", r.IntN(40)),
		Project:     "",
		Owner:       fmt.Sprintf("u%d", r.IntN(500)),
		Label:       benchLabels[r.IntN(len(benchLabels))],
		Updated:     time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(5 * 365 * 24 * time.Hour)))),
	}
	if p := r.IntN(21); p > 0 {
		d.Project = fmt.Sprintf("p%d", p)
	}
	for range 3 + r.IntN(3) {
		d.Keywords = append(d.Keywords, c.keywords[c.kwZipf.Uint64()])
	}
	for range 1 + r.IntN(3) {
		d.Creators = append(d.Creators, "Dr "+c.words[c.zipf.Uint64()])
	}
	for range r.IntN(4) {
		d.Variables = append(d.Variables, search.Variable{Name: c.words[c.zipf.Uint64()], Unit: []string{"K", "Pa", "eV", "m/s"}[r.IntN(4)]})
	}
	return d
}

func load(b *testing.B, db store.DB, ix search.Index, n int) {
	ctx := context.Background()
	c := newBenchCorpus()
	bu := ix.(search.BatchUpserter)
	start := time.Now()
	batch := 5000
	pg := db.Dialect() == store.Postgres
	if pg {
		// A quarter of a postings block per transaction: each block's
		// blobs are rewritten (appended to) four times. The tsvector GIN
		// index (phrase queries) is built once at the end: maintaining it
		// row by row is 60 % of the cost of inserting a document.
		batch = 1 << blockShiftBench >> 2
		if _, err := db.(interface{ Raw() *sql.DB }).Raw().ExecContext(ctx, `DROP INDEX search_docs_tsv`); err != nil {
			b.Fatal(err)
		}
	}
	for lo := 0; lo < n; lo += batch {
		docs := make([]search.Doc, 0, batch)
		for i := lo; i < min(n, lo+batch); i++ {
			docs = append(docs, c.doc(i))
		}
		if err := db.Update(ctx, func(tx store.Tx) error { return bu.UpsertBatch(ctx, tx, docs) }); err != nil {
			b.Fatal(err)
		}
		if lo/100000 != (lo+batch)/100000 {
			fmt.Fprintf(os.Stderr, "loaded %d in %v\n", lo, time.Since(start).Round(time.Second))
		}
	}
	if pg {
		conn, err := db.(interface{ Raw() *sql.DB }).Raw().Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		for _, s := range []string{`SET maintenance_work_mem = '512MB'`, `CREATE INDEX search_docs_tsv ON search_docs USING GIN (tsv)`} {
			if _, err := conn.ExecContext(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
	}
	fmt.Fprintf(os.Stderr, "loaded %d documents in %v\n", n, time.Since(start).Round(time.Second))
}

// halfVisibility reads the three lower labels, and what u7 owns elsewhere.
func halfVisibility(b *testing.B, ix search.Index) search.Visibility {
	cs, err := ix.Classes(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	v := search.Visibility{Owner: "u7"}
	for _, c := range cs {
		if slices.Index(benchLabels, c.Label) < 3 {
			v.ReadableClasses = append(v.ReadableClasses, c.ID)
		} else {
			v.OwnerReadableClasses = append(v.OwnerReadableClasses, c.ID)
		}
	}
	return v
}

// benchQueries: one or two words of middling frequency, some prefixes and
// phrases, some with a filter.
func benchQueries() []search.Query {
	c := newBenchCorpus()
	r := rand.New(rand.NewPCG(3, 4))
	var qs []search.Query
	for i := range 200 {
		w := func() string { return c.words[50+r.IntN(3000)] }
		var q search.Query
		switch i % 5 {
		case 0, 1:
			q.Text = w()
		case 2:
			q.Text = w() + " " + w()
		case 3:
			q.Text = w()[:4] + "*"
		case 4:
			q.Text = w()
			q.Domain = fmt.Sprintf("domain-%d", r.IntN(8))
		}
		qs = append(qs, q)
	}
	return qs
}

func runLatency(b *testing.B, qs []search.Query, fn func(q search.Query) (*search.Result, error)) {
	var lat []time.Duration
	hits := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := qs[i%len(qs)]
		t := time.Now()
		r, err := fn(q)
		lat = append(lat, time.Since(t))
		if err != nil {
			b.Fatal(err)
		}
		hits += r.Total
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
	b.ReportMetric(float64(hits)/float64(b.N), "matches/op")
}

func benchIndex(b *testing.B, db store.DB) {
	ix, err := search.New(db)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if r, ok := ix.(search.Reindexer); ok {
		// Postings of older documents and the SQLite document cache, as a
		// server would at start-up; timed apart from the queries.
		start := time.Now()
		if err := r.Reindex(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("reindex and cache warm-up: %v", time.Since(start).Round(time.Millisecond))
	}
	v := halfVisibility(b, ix)
	qs := benchQueries()
	b.Run("search", func(b *testing.B) {
		runLatency(b, qs, func(q search.Query) (*search.Result, error) { return ix.Search(ctx, q, v) })
	})
	// The same queries apart: the most common words (ranks 2–21 of the
	// Zipf vocabulary, each in a fifth to a half of the documents), rare
	// ones (ranks 10,000–10,099) and 4-letter prefixes.
	c0 := newBenchCorpus()
	var common, rare, prefix []search.Query
	for i := range 20 {
		common = append(common, search.Query{Text: c0.words[2+i]})
	}
	for i := range 100 {
		rare = append(rare, search.Query{Text: c0.words[10000+i]})
		prefix = append(prefix, search.Query{Text: c0.words[50+i*30][:4] + "*"})
	}
	for _, s := range []struct {
		name string
		qs   []search.Query
	}{{"search-common", common}, {"search-rare", rare}, {"search-prefix", prefix}} {
		b.Run(s.name, func(b *testing.B) {
			runLatency(b, s.qs, func(q search.Query) (*search.Result, error) { return ix.Search(ctx, q, v) })
		})
	}
	// The common words again, each with an empty postings cache
	// (PostgreSQL): every blob is read from the database.
	b.Run("search-common-cold", func(b *testing.B) {
		runLatency(b, common, func(q search.Query) (*search.Result, error) {
			search.DropBlobCache(ix)
			return ix.Search(ctx, q, v)
		})
	})
	b.Run("browse-facets", func(b *testing.B) {
		runLatency(b, []search.Query{{}}, func(q search.Query) (*search.Result, error) { return ix.Search(ctx, q, v) })
	})
	b.Run("browse-filtered-facets", func(b *testing.B) {
		var fq []search.Query
		for i := range 8 {
			fq = append(fq, search.Query{Domain: fmt.Sprintf("domain-%d", i), Org: "org-3"})
		}
		runLatency(b, fq, func(q search.Query) (*search.Result, error) { return ix.Search(ctx, q, v) })
	})
	b.Run("suggest", func(b *testing.B) {
		c := newBenchCorpus()
		var sq []search.Query
		for i := range 100 {
			sq = append(sq, search.Query{Text: c.words[50+i*7][:3]})
		}
		runLatency(b, sq, func(q search.Query) (*search.Result, error) {
			s, err := ix.Suggest(ctx, q.Text, v, 10)
			return &search.Result{Total: len(s)}, err
		})
	})
	// Writes, one document per transaction: insert new documents, update
	// them (a new version of their text), delete them, leaving the corpus as
	// it was (with -benchtime Nx, which gives each the same b.N). Updates of
	// documents in older, fuller postings blocks cost more.
	c := newBenchCorpus()
	var docs []search.Doc
	docAt := func(i int) search.Doc {
		for len(docs) <= i {
			d := c.doc(len(docs))
			d.ID = fmt.Sprintf("bench-write-%06d", len(docs))
			docs = append(docs, d)
		}
		return docs[i]
	}
	write := func(name string, fn func(d search.Doc) error) {
		b.Run(name, func(b *testing.B) {
			qs := []search.Query{{}}
			i := 0
			runLatency(b, qs, func(search.Query) (*search.Result, error) {
				err := fn(docAt(i))
				i++
				return &search.Result{}, err
			})
		})
	}
	write("put", func(d search.Doc) error { return search.Put(ctx, db, ix, d) })
	write("update", func(d search.Doc) error {
		d.Title += " revised"
		return search.Put(ctx, db, ix, d)
	})
	write("delete", func(d search.Doc) error { return search.Remove(ctx, db, ix, d.ID) })
}

func BenchmarkSQLite(b *testing.B) {
	n := benchDocs("GENESIS_BENCH_SEARCH_DOCS", 20000)
	dir := os.Getenv("GENESIS_BENCH_SEARCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("genesis-search-bench-v2-%d.db", n))
	ctx := context.Background()
	_, statErr := os.Stat(path)
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	if statErr != nil {
		// A large page cache on the one write connection keeps loading
		// from re-reading the FTS index (this benchmark's set-up only).
		if _, err := db.Raw().ExecContext(ctx, `PRAGMA cache_size = -1000000`); err != nil {
			b.Fatal(err)
		}
		ix, _ := search.New(db)
		load(b, db, ix, n)
	}
	b.Logf("%d documents in %s", n, path)
	benchIndex(b, db)
}

// BenchmarkPostgres loads GENESIS_BENCH_SEARCH_PG_DOCS documents into a
// fresh test database, or, with GENESIS_BENCH_SEARCH_PG_DSN, into that
// database once (it is kept, and reused when it already holds them, so
// larger sizes and EXPLAIN ANALYZE need one load).
func BenchmarkPostgres(b *testing.B) {
	ctx := context.Background()
	n := benchDocs("GENESIS_BENCH_SEARCH_PG_DOCS", 20000)
	dsn := os.Getenv("GENESIS_BENCH_SEARCH_PG_DSN")
	if dsn == "" {
		dsn = storetest.PostgresDSN(b)
	}
	db, err := postgres.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		b.Fatal(err)
	}
	ix, _ := search.New(db)
	var have int
	if err := db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM search_docs`).Scan(&have)
	}); err != nil {
		b.Fatal(err)
	}
	switch {
	case have == 0:
		load(b, db, ix, n)
		if _, err := db.Raw().ExecContext(ctx, `VACUUM ANALYZE`); err != nil {
			b.Fatal(err)
		}
	case have != n:
		b.Fatalf("the database holds %d documents, not %d", have, n)
	}
	b.Logf("%d documents", n)
	benchIndex(b, db)
}
