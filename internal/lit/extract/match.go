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

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

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

// find returns the longest non-overlapping matches in s, in order. lower is
// lowerASCII(s). noDash refuses matches glued to a hyphen on either side
// ("glass-ceramics" is not glass).
func (t *phraseTable) find(s, lower string, noDash bool) []phraseMatch {
	var out []phraseMatch
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) || !boundaryBefore(s, i) || noDash && i > 0 && s[i-1] == '-' {
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
		best := -1
		var be *entry
		for _, e := range t.byKey[lower[i:k]] {
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
			if !boundaryAfter(s, j) || noDash && j < len(s) && s[j] == '-' {
				continue
			}
			if e.eq && !followedByEq(s, j) {
				continue
			}
			if j > best {
				best, be = j, e
			}
		}
		if be != nil {
			out = append(out, phraseMatch{start: i, end: best, e: be})
			i = best
			continue
		}
		i = k
	}
	return out
}
