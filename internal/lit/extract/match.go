package extract

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A phrase table matches words and multi-word phrases at word boundaries,
// longest first. Case-insensitive entries compare against an ASCII-lowered
// copy of the text (same byte offsets); a space or hyphen in a phrase
// matches a space, a hyphen or a dash in the text.

type entry struct {
	kind   int    // which table: kindProperty, kindMethod, kindMaterial, kindAtmosphere
	phrase string // lower-case unless cs
	value  string
	cs     bool // case-sensitive
	plural bool // may take "s" or "es"
	eq     bool // a symbol: must be followed by "=", "≈" or "~"
}

type phraseTable struct {
	byKey map[string][]*entry
}

type phraseMatch struct {
	start, end int
	e          *entry
}

// firstWord returns the key a phrase is indexed by: its first run of
// letters and digits, lower-case.
func firstWord(s string) string {
	for i, r := range s {
		if !isWordRune(r) {
			return strings.ToLower(s[:i])
		}
	}
	return strings.ToLower(s)
}

func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
	}
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

func newPhraseTable(entries []entry) *phraseTable {
	t := &phraseTable{byKey: map[string][]*entry{}}
	for i := range entries {
		e := &entries[i]
		if !e.cs {
			e.phrase = strings.ToLower(e.phrase)
		}
		k := firstWord(e.phrase)
		if k == "" {
			panic("extract: phrase without a leading word: " + e.phrase)
		}
		t.byKey[k] = append(t.byKey[k], e)
	}
	for _, es := range t.byKey {
		sort.SliceStable(es, func(i, j int) bool { return len(es[i].phrase) > len(es[j].phrase) })
	}
	return t
}

// lowerASCII lower-cases ASCII letters only, keeping byte offsets.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func isSpaceOrDash(r rune) bool {
	return r == ' ' || r == '-' || r == '‐' || r == '–' || r == '\u00a0'
}

// matchAt reports the end of phrase p matched in t at i, or -1.
func matchAt(t string, i int, p string) int {
	j := i
	for k := 0; k < len(p); {
		pr, pn := utf8.DecodeRuneInString(p[k:])
		if j >= len(t) {
			return -1
		}
		tr, tn := utf8.DecodeRuneInString(t[j:])
		if isSpaceOrDash(pr) {
			if !isSpaceOrDash(tr) {
				return -1
			}
		} else if pr == '\'' || pr == '’' {
			if tr != '\'' && tr != '’' {
				return -1
			}
		} else if pr != tr {
			return -1
		}
		k += pn
		j += tn
	}
	return j
}

// boundaryAfter reports whether a word ends at j.
func boundaryAfter(s string, j int) bool {
	if j >= len(s) {
		return true
	}
	r, _ := utf8.DecodeRuneInString(s[j:])
	return !isWordRune(r)
}

// boundaryBefore reports whether a word may start at i.
func boundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordRune(r)
}

func followedByEq(s string, j int) bool {
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[j:])
	return r == '=' || r == '≈' || r == '~' || r == '∼'
}

// Tables searched together in one pass over a sentence.
const (
	kindProperty = iota
	kindMethod
	kindMaterial
	kindAtmosphere
	nKinds
)

// noDashKind: kinds whose matches may not be glued to a hyphen
// ("glass-ceramics" is not glass).
var noDashKind = [nKinds]bool{kindMaterial: true, kindAtmosphere: true}

// phraseHits holds, per table, the longest non-overlapping matches in order.
type phraseHits [nKinds][]phraseMatch

// merge builds one index over several tables, each entry tagged with its
// table's kind.
func merge(tables map[int]*phraseTable) *phraseTable {
	t := &phraseTable{byKey: map[string][]*entry{}}
	for kind := 0; kind < nKinds; kind++ {
		for k, es := range tables[kind].byKey {
			for _, e := range es {
				e.kind = kind
				t.byKey[k] = append(t.byKey[k], e)
			}
		}
	}
	return t
}

// findAll returns the matches of every table in s in one pass. lower is
// lowerASCII(s).
func (t *phraseTable) findAll(s, lower string) phraseHits {
	var out phraseHits
	var next [nKinds]int
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) || !boundaryBefore(s, i) {
			i += n
			continue
		}
		k := i
		for k < len(s) {
			r, n := utf8.DecodeRuneInString(s[k:])
			if !isWordRune(r) {
				break
			}
			k += n
		}
		cands := t.byKey[lower[i:k]]
		// a plural of a one-word phrase is indexed under its singular
		if w := lower[i:k]; len(w) > 2 && w[len(w)-1] == 's' {
			cands = append(cands[:len(cands):len(cands)], t.byKey[w[:len(w)-1]]...)
			if w[len(w)-2] == 'e' {
				cands = append(cands, t.byKey[w[:len(w)-2]]...)
			}
		}
		if len(cands) == 0 {
			i = k
			continue
		}
		var best [nKinds]int
		var be [nKinds]*entry
		dashBefore := i > 0 && s[i-1] == '-'
		for _, e := range cands {
			if i < next[e.kind] || noDashKind[e.kind] && dashBefore {
				continue
			}
			src := lower
			if e.cs {
				src = s
			}
			j := matchAt(src, i, e.phrase)
			if j < 0 {
				continue
			}
			if e.plural && !boundaryAfter(s, j) {
				if strings.HasPrefix(lower[j:], "es") && boundaryAfter(s, j+2) {
					j += 2
				} else if lower[j] == 's' && boundaryAfter(s, j+1) {
					j++
				}
			}
			if !boundaryAfter(s, j) || noDashKind[e.kind] && j < len(s) && s[j] == '-' {
				continue
			}
			if e.eq && !followedByEq(s, j) {
				continue
			}
			if be[e.kind] == nil || j > best[e.kind] {
				best[e.kind], be[e.kind] = j, e
			}
		}
		for kind := range be {
			if be[kind] != nil {
				out[kind] = append(out[kind], phraseMatch{start: i, end: best[kind], e: be[kind]})
				next[kind] = best[kind]
			}
		}
		i = k
	}
	return out
}
