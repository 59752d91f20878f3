package extract

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// Mention is a material named in a text: a formula ("CsPbI3", "MoS₂") or a
// name from the material table ("methylammonium lead iodide", "LLZO",
// "graphene"). Formula is the normalised formula when one is known: ASCII
// digits, MA → CH3NH3, FA → HC(NH2)2, a charge as "^2+" ("Pb^2+"), a
// composite as "Ni/Al2O3". Start and End are byte offsets into the text.
type Mention struct {
	Text    string `json:"text"`
	Formula string `json:"formula,omitempty"`
	Start   int    `json:"start"`
	End     int    `json:"end"`
}

// Materials returns material mentions (formula or name) with spans, in
// order. Text is always text[Start:End] (mentions are made of formula
// characters or table names, so they are valid UTF-8 even when the text
// around them is not).
func Materials(text string) []Mention {
	lower := lowerASCII(text)
	return materials(text, phrases.findAll(text, lower))
}

// materials finds mentions in text, given its phrase matches; a name
// inside a property phrase is not a material ("glass transition").
func materials(text string, ms phraseHits) []Mention {
	var out []Mention
	props := ms[kindProperty]
	for _, m := range ms[kindMaterial] {
		if overlapsAny(m.start, m.end, props) {
			continue
		}
		start, formula := m.start, m.e.value
		if q := cationQualifier(text, m.start); q >= 0 {
			// "formamidinium-caesium lead iodide": a compound the table
			// does not know, not the binary salt it ends with.
			start, formula = q, ""
		}
		out = append(out, Mention{Text: text[start:m.end], Formula: formula, Start: start, End: m.end})
	}
	names := len(out)
	for i := 0; i < len(text); {
		c := text[i]
		if !(c >= 'A' && c <= 'Z' || c == '(' || c == '[') || !formulaBoundaryBefore(text, i) {
			_, n := utf8.DecodeRuneInString(text[i:])
			i += n
			continue
		}
		end := formulaTokenEnd(text, i)
		s, e := trimToken(text, i, end)
		if e > s && e-s <= maxFormula && !overlapsMentions(s, e, out[:names]) {
			if m, ok := formulaMention(text, s, e); ok {
				out = append(out, m)
			}
		}
		if end <= i {
			end = i + 1
		}
		i = end
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Start < out[b].Start })
	return dropGeneric(text, mergeComposites(text, out))
}

// genericNames are class names that, right after a formula, only say what
// kind of material the formula is ("CsPbI3 perovskite", "Na3PS4 glass").
var genericNames = map[string]bool{"perovskite": true, "perovskites": true, "double perovskite": true,
	"zeolite": true, "glass": true, "kesterite": true, "mxene": true}

func dropGeneric(text string, ms []Mention) []Mention {
	out := ms[:0]
	for i, m := range ms {
		if i > 0 && genericNames[strings.ToLower(m.Text)] && ms[i-1].Formula != "" && strings.TrimSpace(text[ms[i-1].End:m.Start]) == "" {
			continue
		}
		out = append(out, m)
	}
	return out
}

// maxFormula bounds a formula token, in bytes.
const maxFormula = 80

func overlapsAny(s, e int, ms []phraseMatch) bool {
	for _, m := range ms {
		if s < m.end && m.start < e {
			return true
		}
	}
	return false
}

func overlapsMentions(s, e int, ms []Mention) bool {
	for _, m := range ms {
		if s < m.End && m.Start < e {
			return true
		}
	}
	return false
}

func formulaBoundaryBefore(s string, i int) bool {
	if i == 0 {
		return true
	}
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return !isWordRune(r) && r != ')' && r != ']' && r != '.'
}

func isFormulaRune(r rune) bool {
	switch {
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return true
	case r >= '₀' && r <= '₉', r == '⁺', r == '⁻', r == '·', r == 'δ':
		return true
	case r == '(' || r == ')' || r == '[' || r == ']' || r == '.' || r == ',' || r == '+' || r == '-' || r == '−':
		return true
	}
	_, ok := superDigit(r)
	return ok
}

// formulaTokenEnd finds the end of a candidate token: formula runes, with
// "," only inside parentheses and "-"/"." only when a count or a variable
// follows.
func formulaTokenEnd(s string, i int) int {
	depth := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isFormulaRune(r) {
			break
		}
		switch r {
		case '(', '[':
			depth++
		case ')', ']':
			if depth == 0 {
				return i
			}
			depth--
		case ',':
			if depth == 0 {
				return i
			}
		case '.', '-', '−', '+':
			next, _ := utf8.DecodeRuneInString(s[i+n:])
			ok := next >= '0' && next <= '9' || next == 'x' || next == 'y' || next == 'δ'
			if r == '+' || r == '-' || r == '−' {
				// a charge at the end of the token: "Li+", "O2−"
				if !ok && (i+n == len(s) || !isWordRune(next)) {
					ok = true
				}
			}
			if !ok {
				return i
			}
		}
		i += n
	}
	return i
}

// trimToken drops unbalanced outer brackets and trailing punctuation.
func trimToken(s string, start, end int) (int, int) {
	if end-start > maxFormula+2 {
		return start, start // not a formula; do not count brackets in it
	}
	for end > start {
		c := s[end-1]
		if c == '.' || c == ',' {
			end--
			continue
		}
		if (c == ')' || c == ']') && strings.Count(s[start:end], "(")+strings.Count(s[start:end], "[") < strings.Count(s[start:end], ")")+strings.Count(s[start:end], "]") {
			end--
			continue
		}
		break
	}
	for start < end && (s[start] == '(' || s[start] == '[') {
		t := s[start:end]
		if strings.Count(t, "(")+strings.Count(t, "[") > strings.Count(t, ")")+strings.Count(t, "]") {
			start++
			continue
		}
		if len(t) > 1 && (t[1] == '(' || t[1] >= '0' && t[1] <= '9') {
			break
		}
		// "(FA)0.8…" keeps its bracket; "(H2O)" loses both
		if closeAt := strings.IndexAny(t, ")]"); closeAt == len(t)-1 {
			start++
			end--
			continue
		}
		break
	}
	return start, end
}

// formulaMention parses text[s:e] as a formula mention.
func formulaMention(text string, s, e int) (Mention, bool) {
	tok := text[s:e]
	if notFormula[tok] {
		return Mention{}, false
	}
	f, ok := parseFormula(tok)
	if !ok {
		// "Pt(111)": a surface of Pt
		if k := strings.IndexByte(tok, '('); k > 0 && strings.Trim(tok[k:], "()0123456789") == "" {
			return formulaMention(text, s, s+k)
		}
		return Mention{}, false
	}
	if !plausibleFormula(tok, f) {
		return Mention{}, false
	}
	// a lone element glued to a hyphen or dash is a dopant, a part or a
	// pair of elements, not a material: "Li-ion", "Al-doped", "Sn–Pb",
	// "WC–Co"
	if f.atoms == 1 && !f.digits && !f.charge && (dashAt(text, e) || dashBefore(text, s)) {
		return Mention{}, false
	}
	// a doped formula: "In2O3:H", "ZnO:Al", "SnO2:F"
	if e+1 < len(text) && text[e] == ':' && text[e+1] >= 'A' && text[e+1] <= 'Z' {
		k := e + 2
		if k < len(text) && text[k] >= 'a' && text[k] <= 'z' {
			k++
		}
		if elements[text[e+1:k]] && boundaryAfter(text, k) {
			return Mention{Text: text[s:k], Formula: f.norm + ":" + text[e+1:k], Start: s, End: k}, true
		}
	}
	// a formula named with an acronym: "NiFe-LDH", "Co-MOF"
	if f.atoms > 1 && e+2 < len(text) && text[e] == '-' && text[e+1] >= 'A' && text[e+1] <= 'Z' {
		k := e + 1
		for k < len(text) && (text[k] >= 'A' && text[k] <= 'Z' || text[k] >= '0' && text[k] <= '9') {
			k++
		}
		if k-e-1 >= 2 && boundaryAfter(text, k) {
			return Mention{Text: text[s:k], Start: s, End: k}, true
		}
	}
	return Mention{Text: tok, Formula: f.norm, Start: s, End: e}, true
}

func dashAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return i < len(s) && (r == '-' || r == '–' || r == '—')
}

func dashBefore(s string, i int) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:i])
	return i > 0 && (r == '-' || r == '–' || r == '—')
}

// mergeComposites joins "A/B" (a supported catalyst, a tandem, a
// heterostructure) into one mention.
func mergeComposites(text string, ms []Mention) []Mention {
	if len(ms) == 0 {
		return ms
	}
	// a carbon support: "Pt/C", "Pd/C" ("C" alone is never a mention)
	for i := range ms {
		m := &ms[i]
		if m.Formula != "" && m.End+2 <= len(text) && text[m.End:m.End+2] == "/C" && boundaryAfter(text, m.End+2) {
			m.Formula += "/C"
			m.End += 2
			m.Text = text[m.Start:m.End]
		}
	}
	out := ms[:1]
	for _, m := range ms[1:] {
		last := &out[len(out)-1]
		if last.End+1 == m.Start && text[last.End] == '/' {
			f := ""
			if last.Formula != "" && m.Formula != "" {
				f = last.Formula + "/" + m.Formula
			}
			*last = Mention{Text: text[last.Start:m.End], Formula: f, Start: last.Start, End: m.End}
			continue
		}
		out = append(out, m)
	}
	return out
}

// cationQualifier reports where a cation word that qualifies a material
// name starts ("caesium lead iodide", "formamidinium-caesium lead
// iodide"): the word right before start, separated by one space, made of
// letters and hyphens and ending in "ium". -1 if there is none.
func cationQualifier(text string, start int) int {
	if start < 2 || text[start-1] != ' ' {
		return -1
	}
	i := start - 1
	for i > 0 {
		c := text[i-1]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			break
		}
		i--
	}
	w := strings.ToLower(text[i : start-1])
	if len(w) < 5 || !strings.HasSuffix(w, "ium") || strings.HasPrefix(w, "-") {
		return -1
	}
	return i
}
