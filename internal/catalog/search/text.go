package search

import (
	"math"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
	"golang.org/x/text/unicode/norm"
)

// Text handling shared by the backends. Both engines index and query the
// same folded tokens: Unicode NFD, combining marks dropped, lower case,
// split on anything that is not a letter or a number. Documents reach the
// engines as space-separated folded tokens and queries as quoted tokens, so
// the engines' own tokenizers, operators and quoting never see user syntax.

// foldToken folds one run of letters, numbers and marks.
func foldRunes(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFD.String(s) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }

// tokens returns the folded tokens of s.
func tokens(s string) []string {
	var out []string
	for _, t := range rawTokens(s) {
		out = append(out, splitFolded(foldRunes(s[t.Start:t.End]))...)
	}
	return out
}

// splitFolded splits folded text on non-word runes (folding can turn a
// mark-joined run into several words).
func splitFolded(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) })
}

// rawTokens returns byte spans of runs of letters, numbers and marks in the
// original text (for highlights).
func rawTokens(s string) []Span {
	var out []Span
	start := -1
	for i, r := range s {
		w := isWordRune(r) || unicode.Is(unicode.Mn, r)
		if w && start < 0 {
			start = i
		}
		if !w && start >= 0 {
			out = append(out, Span{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, Span{start, len(s)})
	}
	return out
}

// folded is the indexed form of a field: its folded tokens joined by spaces.
func folded(s string) string { return strings.Join(tokens(s), " ") }

// clean makes s storable on every backend: valid UTF-8, no NUL.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// term is one query term: a word, a phrase (several words in a row), and
// whether its last word is a prefix.
type term struct {
	words  []string
	prefix bool
}

func (t term) key() string {
	k := strings.Join(t.words, " ")
	if t.prefix {
		k += "*"
	}
	return k
}

// parseQuery splits text into terms. It never fails on content, only on
// size: every byte sequence is a valid query.
func parseQuery(op errors.Op, text string) ([]term, error) {
	if len(text) > MaxQueryBytes {
		return nil, errors.E(op, errors.TooLarge, errors.Field("q"), errors.Msg("the query is too long"))
	}
	text = clean(text)
	var terms []term
	seen := map[string]bool{}
	add := func(chunk string, phrase bool) {
		ws := tokens(chunk)
		if len(ws) == 0 {
			return
		}
		t := term{words: ws}
		// A trailing '*' right after a word makes that word a prefix (two
		// folded characters at least, so "a*" does not scan the index).
		if strings.HasSuffix(chunk, "*") && !phrase {
			trimmed := strings.TrimRight(chunk, "*")
			if r, _ := utf8.DecodeLastRuneInString(trimmed); isWordRune(r) && utf8.RuneCountInString(ws[len(ws)-1]) >= 2 {
				t.prefix = true
			}
		}
		if seen[t.key()] {
			return
		}
		seen[t.key()] = true
		terms = append(terms, t)
	}
	for len(text) > 0 {
		switch {
		case text[0] == '"':
			end := strings.IndexByte(text[1:], '"')
			if end < 0 {
				add(text[1:], true)
				text = ""
			} else {
				add(text[1:1+end], true)
				text = text[2+end:]
			}
		case text[0] == ' ' || text[0] == '\t' || text[0] == '\n' || text[0] == '\r':
			text = text[1:]
		default:
			end := strings.IndexAny(text, " \t\r\n\"")
			if end < 0 {
				end = len(text)
			}
			add(text[:end], false)
			text = text[end:]
		}
	}
	if len(terms) > MaxTerms {
		return nil, errors.E(op, errors.Invalid, errors.Field("q"), errors.Msg("too many search terms"))
	}
	return terms, nil
}

// ftsMatch renders terms as an FTS5 MATCH expression. Words are letters and
// numbers only, so double-quoting each is exact.
func ftsMatch(terms []term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = ftsTerm(t)
	}
	return strings.Join(parts, " AND ")
}

func ftsTerm(t term) string {
	s := `"` + strings.Join(t.words, " ") + `"`
	if t.prefix {
		s += "*"
	}
	return s
}

// tsQuery renders terms as a PostgreSQL to_tsquery expression.
func tsQuery(terms []term) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		ws := make([]string, len(t.words))
		for j, w := range t.words {
			ws[j] = "'" + w + "'"
		}
		if t.prefix {
			ws[len(ws)-1] += ":*"
		}
		p := strings.Join(ws, " <-> ")
		if len(ws) > 1 {
			p = "(" + p + ")"
		}
		parts[i] = p
	}
	return strings.Join(parts, " & ")
}

// matchAt reports whether term t matches the token list at i.
func (t term) matchAt(toks []string, i int) bool {
	if i+len(t.words) > len(toks) {
		return false
	}
	for j, w := range t.words {
		if j == len(t.words)-1 && t.prefix {
			if !strings.HasPrefix(toks[i+j], w) {
				return false
			}
		} else if toks[i+j] != w {
			return false
		}
	}
	return true
}

func (t term) count(toks []string) int {
	n := 0
	for i := range toks {
		if t.matchAt(toks, i) {
			n++
		}
	}
	return n
}

// Ranked fields, in index column order, with their BM25F weights.
const nFields = 6

var fieldWeights = [nFields]float64{3, 3, 2, 1, 1, 1} // name, title, keywords, creators, variables, description

// corpusStats are the readable corpus's size and summed field lengths.
type corpusStats struct {
	n    int64
	lens [nFields]int64
}

// bm25 scores one document (its folded fields and their token counts) for
// terms. df[i] is the number of readable documents matching terms[i]. BM25F:
// per-field length normalisation, weighted term frequency, Lucene's
// non-negative IDF.
func bm25(terms []term, df []int64, st corpusStats, fields *[nFields]string, lens *[nFields]int64) float64 {
	var avg [nFields]float64
	for c := range avg {
		avg[c] = 1
		if st.n > 0 && st.lens[c] > 0 {
			avg[c] = float64(st.lens[c]) / float64(st.n)
		}
	}
	score := 0.0
	for i, t := range terms {
		var tf [nFields]int32
		for c := range fields {
			tf[c] = int32(t.countIn(fields[c]))
		}
		if tfw := fieldTFW(&tf, lens, &avg); tfw != 0 {
			score += bm25Term(tfw, df[i], st.n)
		}
	}
	return score
}

const bm25K1, bm25B = 1.2, 0.75

// fieldTFW is a term's weighted, length-normalised frequency in a document
// (tf: its count per field; avg: the readable corpus's mean field lengths).
func fieldTFW(tf *[nFields]int32, lens *[nFields]int64, avg *[nFields]float64) float64 {
	tfw := 0.0
	for c, n := range tf {
		if n == 0 {
			continue
		}
		tfw += fieldWeights[c] * float64(n) / (1 - bm25B + bm25B*float64(lens[c])/avg[c])
	}
	return tfw
}

// bm25Term is one term's share of a score, for a document where its
// weighted frequency is tfw > 0, among n readable documents df of which
// match it.
func bm25Term(tfw float64, df, n int64) float64 {
	return bm25TF(bm25IDF(df, n), tfw)
}

// bm25IDF is a term's IDF among n readable documents df of which match it.
func bm25IDF(df, n int64) float64 {
	return math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5))
}

// bm25TF is bm25Term for a term of IDF idf (the same float operations, so
// the same result).
func bm25TF(idf, tfw float64) float64 {
	return idf * tfw * (bm25K1 + 1) / (tfw + bm25K1)
}

// countIn counts t's occurrences in a folded field (space-separated
// tokens), without allocating for single words.
func (t term) countIn(s string) int {
	if len(t.words) > 1 {
		return t.count(strings.Fields(s))
	}
	w, n := t.words[0], 0
	for len(s) > 0 {
		tok := s
		if i := strings.IndexByte(s, ' '); i >= 0 {
			tok, s = s[:i], s[i+1:]
		} else {
			s = ""
		}
		if tok == w || t.prefix && strings.HasPrefix(tok, w) {
			n++
		}
	}
	return n
}

func fieldLens(fields *[nFields]string) (out [nFields]int64) {
	for c, f := range fields {
		if f != "" {
			out[c] = int64(strings.Count(f, " ") + 1)
		}
	}
	return out
}

// snippet picks the first field (description, title, keywords, variables,
// creators, name) where a term matches and returns a window of it around the
// first match, with highlight spans. Without a match it returns the start of
// the description.
func snippet(terms []term, fields ...string) (string, []Span) {
	const window = 200
	for _, f := range fields {
		if f == "" || len(terms) == 0 {
			continue
		}
		spans := rawTokens(f)
		toks := make([]string, len(spans))
		for i, sp := range spans {
			toks[i] = strings.Join(splitFolded(foldRunes(f[sp.Start:sp.End])), "")
		}
		var hl []Span
		for i := range toks {
			for _, t := range terms {
				if t.matchAt(toks, i) {
					hl = append(hl, Span{spans[i].Start, spans[i+len(t.words)-1].End})
					break
				}
			}
		}
		if len(hl) == 0 {
			continue
		}
		// The window starts and ends on word boundaries: at the first
		// token at most window/4 bytes before the match, and after the
		// last token that fits (never before the first match's end).
		start := 0
		if from := hl[0].Start - window/4; from > 0 {
			start = hl[0].Start
			for _, sp := range spans {
				if sp.Start >= from {
					start = sp.Start
					break
				}
			}
		}
		end := len(f)
		if start+window < len(f) {
			end = hl[0].End
			for _, sp := range spans {
				if sp.End > start+window {
					break
				}
				end = max(end, sp.End)
			}
		}
		var out []Span
		for _, h := range hl {
			if h.Start >= start && h.End <= end {
				out = append(out, Span{h.Start - start, h.End - start})
			}
		}
		return f[start:end], out
	}
	if len(fields) == 0 {
		return "", nil
	}
	f := fields[0]
	end := min(len(f), window)
	for end < len(f) && !utf8.RuneStart(f[end]) {
		end++
	}
	return f[:end], nil
}

// facetCounter counts facet values over matching documents.
type facetCounter map[string]map[string]int

func (fc facetCounter) add(facet, value string, n int) {
	if value == "" || n == 0 {
		return
	}
	m := fc[facet]
	if m == nil {
		m = map[string]int{}
		fc[facet] = m
	}
	m[value] += n
}

// result orders each facet by count (then value) and keeps the top values.
func (fc facetCounter) result() map[string][]Facet {
	out := map[string][]Facet{}
	for _, name := range []string{FacetDomain, FacetKind, FacetOrg, FacetKeyword, FacetSynthetic} {
		out[name] = topFacets(fc[name], MaxFacetValues)
	}
	return out
}

// facetBefore is the facets' order: by count, descending, then value.
func facetBefore(a, b Facet) bool {
	if a.Count != b.Count {
		return a.Count > b.Count
	}
	return a.Value < b.Value
}

// topFacets returns the k first values of m (positive counts only) in
// facetBefore order. A facet can have a value per document (a keyword
// naming each station): a bounded heap keeps the k best in one pass
// instead of sorting them all.
func topFacets(m map[string]int, k int) []Facet {
	h := make([]Facet, 0, k) // a heap whose root is the worst kept
	worse := func(i, j int) bool { return facetBefore(h[j], h[i]) }
	down := func(i int) {
		for {
			c := 2*i + 1
			if c >= len(h) {
				return
			}
			if c+1 < len(h) && worse(c+1, c) {
				c++
			}
			if !worse(c, i) {
				return
			}
			h[i], h[c] = h[c], h[i]
			i = c
		}
	}
	for v, n := range m {
		if n <= 0 || k <= 0 {
			continue
		}
		f := Facet{Value: v, Count: n}
		if len(h) < k {
			h = append(h, f)
			for i := len(h) - 1; i > 0; {
				p := (i - 1) / 2
				if !worse(i, p) {
					break
				}
				h[i], h[p] = h[p], h[i]
				i = p
			}
			continue
		}
		if facetBefore(f, h[0]) {
			h[0] = f
			down(0)
		}
	}
	sort.Slice(h, func(i, j int) bool { return facetBefore(h[i], h[j]) })
	return h
}

// sortSuggestions merges keyword and title completions (a text seen twice
// keeps its larger count), orders by count then text, and keeps n.
func sortSuggestions(in []Suggestion, n int) []Suggestion {
	best := map[string]int{}
	for _, s := range in {
		best[s.Text] = max(best[s.Text], s.Count)
	}
	out := make([]Suggestion, 0, len(best))
	for t, c := range best {
		out = append(out, Suggestion{Text: t, Count: c})
	}
	slices.SortFunc(out, func(a, b Suggestion) int {
		if a.Count != b.Count {
			return b.Count - a.Count
		}
		return strings.Compare(a.Text, b.Text)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

func suggestLimit(n int) int {
	if n <= 0 {
		return 10
	}
	return min(n, MaxSuggestions)
}

// prefixRange returns [lo, hi) bounds for byte-wise prefix matching.
func prefixRange(p string) (string, string) { return p, p + "\U0010FFFF" }

const listSep = "\x1f"

func joinList(xs []string) string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		if x = strings.TrimSpace(clean(strings.ReplaceAll(x, listSep, " "))); x != "" {
			out = append(out, x)
		}
	}
	return strings.Join(out, listSep)
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, listSep)
}

func variablesText(vs []Variable) string {
	parts := make([]string, 0, len(vs))
	for _, v := range vs {
		s := strings.TrimSpace(v.Name)
		if v.Unit != "" {
			s += " (" + strings.TrimSpace(v.Unit) + ")"
		}
		parts = append(parts, s)
	}
	return joinList(parts)
}

// prepared is a document ready for either backend.
type prepared struct {
	d                            Doc
	keywords, creators, varsText string
	keywordList                  []string
	f                            [nFields]string
}

func prepare(op errors.Op, d Doc) (*prepared, error) {
	for _, s := range []*string{&d.ID, &d.Kind, &d.Name, &d.Title, &d.Description, &d.Domain, &d.Org, &d.Project, &d.Owner, &d.Label} {
		*s = clean(*s)
	}
	if err := validateDoc(op, &d); err != nil {
		return nil, err
	}
	p := &prepared{d: d, keywords: joinList(d.Keywords), creators: joinList(d.Creators), varsText: variablesText(d.Variables)}
	p.keywordList = dedupe(splitList(p.keywords))
	p.keywords = strings.Join(p.keywordList, listSep)
	p.f = foldFields(d.Name, d.Title, p.keywords, p.creators, p.varsText, d.Description)
	return p, nil
}

// foldFields is the folded text of each ranked field of a document whose
// stored columns (cleaned name, title and description, listSep-joined
// keywords, creators and variables) are given: what its postings were
// written from, so a backend that keeps only the stored columns can
// remove them again.
func foldFields(name, title, keywords, creators, variables, description string) [nFields]string {
	return [nFields]string{folded(name), folded(title), folded(strings.ReplaceAll(keywords, listSep, " ")),
		folded(strings.ReplaceAll(creators, listSep, " ")), folded(strings.ReplaceAll(variables, listSep, " ")), folded(description)}
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// display turns a stored list back into text for snippets.
func display(s string) string { return strings.ReplaceAll(s, listSep, "; ") }

// Terms splits text as Search does and returns each term as a query of
// its own (a phrase quoted, a prefix starred), at most MaxTerms: for
// callers that rank by any of the terms (the literature sums each term's
// score) rather than require all of them.
func Terms(text string) ([]string, error) {
	ts, err := parseQuery(errors.Op("search.Terms"), text)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range ts {
		q := strings.Join(t.words, " ")
		if len(t.words) > 1 {
			q = `"` + q + `"`
		}
		if t.prefix {
			q += "*"
		}
		out = append(out, q)
		if len(out) == MaxTerms {
			break
		}
	}
	return out, nil
}
