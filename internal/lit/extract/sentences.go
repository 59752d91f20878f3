package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// span is a byte range of a text.
type span struct{ start, end int }

// abbreviations that end with a period inside a sentence.
var abbreviations = map[string]bool{
	"e.g": true, "i.e": true, "fig": true, "figs": true, "eq": true, "eqs": true, "ref": true, "refs": true,
	"al": true, "ca": true, "approx": true, "vs": true, "no": true, "nos": true, "dr": true, "mr": true,
	"ms": true, "prof": true, "cf": true, "tab": true, "sec": true, "ch": true, "vol": true, "pp": true,
	"resp": true, "et": true, "approx.": true, "avg": true, "suppl": true, "supp": true, "viz": true, "ed": true, "eds": true,
}

// sentences splits text at sentence ends: ".", "!" or "?" followed by a
// space and a capital, digit, bracket or quote; never after an
// abbreviation ("e.g.", "Fig. 2", "et al."), an initial ("J. Smith") or
// inside a number ("1.5 eV"). A blank line always ends a sentence. Spans
// are trimmed of surrounding space.
func sentences(text string) []span {
	var out []span
	start := 0
	emit := func(end int) {
		s, e := start, end
		for s < e && isSpaceByte(text[s]) {
			s++
		}
		for e > s && isSpaceByte(text[e-1]) {
			e--
		}
		if e > s {
			out = append(out, span{s, e})
		}
		start = end
	}
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == '\n' && i+1 < len(text) && text[i+1] == '\n' {
			emit(i)
			continue
		}
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		j := i + 1
		// closing quotes and brackets belong to the sentence
		for j < len(text) && (text[j] == ')' || text[j] == '"' || text[j] == '\'' || text[j] == ']') {
			j++
		}
		if j < len(text) && !isSpaceByte(text[j]) {
			continue
		}
		k := j
		for k < len(text) && isSpaceByte(text[k]) {
			k++
		}
		if k >= len(text) {
			emit(j)
			continue
		}
		r, _ := utf8.DecodeRuneInString(text[k:])
		if !(unicode.IsUpper(r) || unicode.IsDigit(r) || r == '(' || r == '[' || r == '"' || r == '“' || unicode.Is(unicode.Greek, r)) {
			continue
		}
		if c == '.' && abbreviationBefore(text, i) {
			continue
		}
		emit(j)
	}
	emit(len(text))
	return out
}

func isSpaceByte(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// abbreviationBefore reports whether the period at i ends an abbreviation
// or an initial.
func abbreviationBefore(text string, i int) bool {
	k := i
	for k > 0 {
		r, n := utf8.DecodeLastRuneInString(text[:k])
		if !(unicode.IsLetter(r) || r == '.') {
			break
		}
		k -= n
	}
	word := text[k:i]
	if word == "" {
		return false
	}
	if r, n := utf8.DecodeRuneInString(word); n == len(word) && unicode.IsUpper(r) {
		// an initial ("J. Smith"), unless it is a unit after a number
		// ("300 K.", "25 °C.", "1.2 V.")
		if k > 0 && text[k-1] != ' ' && text[k-1] != '(' && text[k-1] != '\n' {
			return false // "meV/K.", "1.5V."
		}
		before := strings.TrimRight(text[:k], " ")
		if before == "" {
			return true
		}
		p, _ := utf8.DecodeLastRuneInString(before)
		return !(unicode.IsDigit(p) || p == '°' || p == 'º')
	}
	return abbreviations[strings.ToLower(word)]
}
