package formats

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/genesis-science/genesis/internal/lit"
)

// bibEntry is one parsed BibTeX entry: its type, key, the line it starts
// on, and its fields (lower-case names) with @string macros expanded and
// braces kept for the LaTeX reader.
type bibEntry struct {
	typ, key string
	line     int
	fields   map[string]string
}

// bibScanner reads BibTeX, counting lines for errors.
type bibScanner struct {
	p      *parser
	s      string
	i      int
	line   int
	macros map[string]string
	// expanded counts the bytes of all values read: @string macros can
	// make a small file expand to a huge one.
	expanded int
}

var bibMonths = map[string]string{
	"jan": "January", "feb": "February", "mar": "March", "apr": "April", "may": "May", "jun": "June",
	"jul": "July", "aug": "August", "sep": "September", "oct": "October", "nov": "November", "dec": "December",
}

// bibtex reads a BibTeX (or BibLaTeX) library: entries, @string macros,
// {braced} and "quoted" values, # concatenation, LaTeX accents. @comment
// and @preamble are skipped, as is text outside entries. A broken entry is
// an error naming its line.
func (p *parser) bibtex(data []byte) ([]lit.Document, error) {
	s := string(data)
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	sc := &bibScanner{p: p, s: strings.TrimPrefix(s, "\uFEFF"), line: 1, macros: map[string]string{}}
	for k, v := range bibMonths {
		sc.macros[k] = v
	}
	var docs []lit.Document
	for {
		e, err := sc.next()
		if err != nil {
			return nil, err
		}
		if e == nil {
			break
		}
		if err := p.more(); err != nil {
			return nil, err
		}
		docs = append(docs, bibDoc(e))
	}
	return docs, nil
}

func (sc *bibScanner) eof() bool { return sc.i >= len(sc.s) }

func (sc *bibScanner) advance() byte {
	c := sc.s[sc.i]
	sc.i++
	if c == '\n' {
		sc.line++
	}
	return c
}

func (sc *bibScanner) skipSpace() {
	for !sc.eof() {
		switch sc.s[sc.i] {
		case ' ', '\t', '\r', '\n', '\f', '\v':
			sc.advance()
		default:
			return
		}
	}
}

func (sc *bibScanner) ident() string {
	start := sc.i
	for !sc.eof() && (isIdent(sc.s[sc.i]) || sc.s[sc.i] == '+' || sc.s[sc.i] == '/' || sc.s[sc.i] >= 0x80) {
		sc.advance()
	}
	return sc.s[start:sc.i]
}

// next returns the next entry holding a publication, or nil at the end.
func (sc *bibScanner) next() (*bibEntry, error) {
	for {
		// Outside entries everything but '@' is a comment.
		for !sc.eof() && sc.s[sc.i] != '@' {
			sc.advance()
		}
		if sc.eof() {
			return nil, nil
		}
		start := sc.line
		sc.advance() // '@'
		sc.skipSpace()
		typ := strings.ToLower(sc.ident())
		if typ == "" {
			return nil, sc.p.errf(start, "'@' not followed by an entry type")
		}
		sc.skipSpace()
		if sc.eof() || (sc.s[sc.i] != '{' && sc.s[sc.i] != '(') {
			if typ == "comment" {
				continue // "@comment text" to the end of line is allowed
			}
			return nil, sc.p.errf(start, "@%s is not followed by '{' or '('", clean(typ, 64))
		}
		open := sc.advance()
		closer := byte('}')
		if open == '(' {
			closer = ')'
		}
		switch typ {
		case "comment", "preamble":
			if err := sc.skipBalanced(open, closer, start, typ); err != nil {
				return nil, err
			}
			continue
		case "string":
			if _, err := sc.fields(closer, start, "@string", sc.macros); err != nil {
				return nil, err
			}
			continue
		}
		sc.skipSpace()
		keyStart := sc.i
		for !sc.eof() && sc.s[sc.i] != ',' && sc.s[sc.i] != closer && !isSpaceByte(sc.s[sc.i]) {
			if sc.s[sc.i] == '@' || sc.s[sc.i] == '{' || sc.s[sc.i] == '=' {
				return nil, sc.p.errf(sc.line, "entry @%s starting at line %d: bad citation key", clean(typ, 64), start)
			}
			sc.advance()
		}
		key := sc.s[keyStart:sc.i]
		sc.skipSpace()
		if sc.eof() {
			return nil, sc.p.errf(start, "entry @%s{%s: the file ends inside it", clean(typ, 64), clean(key, 128))
		}
		e := &bibEntry{typ: typ, key: key, line: start, fields: map[string]string{}}
		if sc.s[sc.i] == closer {
			sc.advance()
			return e, nil
		}
		if sc.s[sc.i] != ',' {
			return nil, sc.p.errf(sc.line, "entry %q (line %d): expected ',' after the citation key", clean(key, 128), start)
		}
		sc.advance()
		if _, err := sc.fields(closer, start, key, e.fields); err != nil {
			return nil, err
		}
		return e, nil
	}
}

func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// fields reads "name = value, …" up to closer into into.
func (sc *bibScanner) fields(closer byte, start int, what string, into map[string]string) (int, error) {
	n := 0
	for {
		sc.skipSpace()
		if sc.eof() {
			return n, sc.p.errf(start, "entry %q: the file ends inside it (missing '%c')", clean(what, 128), closer)
		}
		if sc.s[sc.i] == closer {
			sc.advance()
			return n, nil
		}
		line := sc.line
		name := strings.ToLower(sc.ident())
		if name == "" {
			return n, sc.p.errf(line, "entry %q (line %d): expected a field name, found %q", clean(what, 128), start, clean(string(sc.s[sc.i]), 8))
		}
		sc.skipSpace()
		if sc.eof() || sc.s[sc.i] != '=' {
			return n, sc.p.errf(sc.line, "entry %q (line %d): field %q has no '='", clean(what, 128), start, clean(name, 64))
		}
		sc.advance()
		v, err := sc.value(closer, start, what)
		if err != nil {
			return n, err
		}
		if len(into) < 1000 {
			if _, dup := into[name]; !dup {
				into[name] = v
			}
		}
		n++
		sc.skipSpace()
		if sc.eof() {
			return n, sc.p.errf(start, "entry %q: the file ends inside it (missing '%c')", clean(what, 128), closer)
		}
		switch sc.s[sc.i] {
		case ',':
			sc.advance()
		case closer:
		default:
			return n, sc.p.errf(sc.line, "entry %q (line %d): expected ',' or '%c' after field %q", clean(what, 128), start, closer, clean(name, 64))
		}
	}
}

// value reads one field value: parts joined by '#'.
func (sc *bibScanner) value(closer byte, start int, what string) (string, error) {
	var b strings.Builder
	for {
		sc.skipSpace()
		if sc.eof() {
			return "", sc.p.errf(start, "entry %q: the file ends inside a value", clean(what, 128))
		}
		line := sc.line
		switch c := sc.s[sc.i]; {
		case c == '{':
			sc.advance()
			from := sc.i
			if err := sc.skipBalanced('{', '}', line, what); err != nil {
				return "", err
			}
			b.WriteString(sc.s[from : sc.i-1])
		case c == '"':
			sc.advance()
			from := sc.i
			depth := 0
			for {
				if sc.eof() {
					return "", sc.p.errf(line, "entry %q (line %d): unterminated quoted value", clean(what, 128), start)
				}
				ch := sc.advance()
				if ch == '\\' && !sc.eof() {
					sc.advance()
					continue
				}
				if ch == '{' {
					depth++
				} else if ch == '}' {
					if depth == 0 {
						return "", sc.p.errf(sc.line, "entry %q (line %d): unbalanced '}' in a quoted value", clean(what, 128), start)
					}
					depth--
				} else if ch == '"' && depth == 0 {
					break
				}
			}
			b.WriteString(sc.s[from : sc.i-1])
		case c >= '0' && c <= '9':
			from := sc.i
			for !sc.eof() && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
				sc.advance()
			}
			b.WriteString(sc.s[from:sc.i])
		default:
			name := strings.ToLower(sc.ident())
			if name == "" {
				return "", sc.p.errf(line, "entry %q (line %d): expected a value, found %q", clean(what, 128), start, clean(string(c), 8))
			}
			v, ok := sc.macros[name]
			if !ok {
				return "", sc.p.errf(line, "entry %q (line %d): undefined @string macro %q", clean(what, 128), start, clean(name, 64))
			}
			b.WriteString(v)
		}
		if b.Len() > MaxFieldBytes*4 {
			return "", sc.p.errf(line, "entry %q (line %d): a value longer than %d bytes", clean(what, 128), start, MaxFieldBytes*4)
		}
		if sc.expanded+b.Len() > 2*MaxFile {
			return "", sc.p.errf(line, "entry %q (line %d): @string macros expand the file past %d MiB", clean(what, 128), start, 2*MaxFile>>20)
		}
		sc.skipSpace()
		if !sc.eof() && sc.s[sc.i] == '#' {
			sc.advance()
			continue
		}
		sc.expanded += b.Len()
		return b.String(), nil
	}
}

// skipBalanced advances past the closer matching an opener already read.
func (sc *bibScanner) skipBalanced(open, closer byte, line int, what string) error {
	depth := 0
	for !sc.eof() {
		c := sc.advance()
		switch {
		case c == '\\' && open == '{' && !sc.eof() && (sc.s[sc.i] == '{' || sc.s[sc.i] == '}'):
			sc.advance()
		case c == open:
			depth++
		case c == closer:
			if depth == 0 {
				return nil
			}
			depth--
		}
	}
	return sc.p.errf(line, "entry %q: unbalanced '%c' (no matching '%c' before the end of the file)", clean(what, 128), open, closer)
}

func bibDoc(e *bibEntry) lit.Document {
	f := e.fields
	d := lit.Document{
		Title:    latexText(f["title"]),
		DOI:      latexPlain(f["doi"]),
		PMID:     latexPlain(f["pmid"]),
		PMCID:    latexPlain(f["pmcid"]),
		Abstract: latexText(f["abstract"]),
		License:  latexPlain(f["license"]),
	}
	authors := f["author"]
	if authors == "" {
		authors = f["editor"]
	}
	for _, a := range splitBibNames(authors) {
		d.Authors = append(d.Authors, personName(latexText(a)))
	}
	d.Year = year(f["year"])
	if d.Year == 0 {
		d.Year = year(f["date"])
	}
	for _, k := range []string{"journal", "journaltitle", "booktitle", "publisher", "school", "institution", "organization"} {
		if v := latexText(f[k]); v != "" {
			d.Venue = v
			break
		}
	}
	eprint := latexPlain(f["eprint"])
	ptype := strings.ToLower(latexPlain(f["archiveprefix"]) + latexPlain(f["eprinttype"]))
	if eprint != "" && (ptype == "" || strings.Contains(ptype, "arxiv")) {
		d.ArXiv = NormalizeArXiv(eprint)
	}
	if d.ArXiv == "" {
		d.ArXiv = NormalizeArXiv(latexPlain(f["arxiv"]))
	}
	if url := latexPlain(f["url"]); url != "" {
		if d.DOI == "" {
			d.DOI = NormalizeDOI(url)
		}
		if d.ArXiv == "" {
			d.ArXiv = NormalizeArXiv(url)
		}
	}
	if kw := latexText(f["keywords"]); kw != "" {
		d.Keywords = strings.FieldsFunc(kw, func(r rune) bool { return r == ',' || r == ';' })
	}
	return d
}

// splitBibNames splits an author list on " and " outside braces.
func splitBibNames(s string) []string {
	var out []string
	depth, from := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth == 0 && i+5 <= len(s) && isSpaceByte(s[i]) && strings.EqualFold(s[i+1:i+4], "and") && isSpaceByte(s[i+4]) {
			out = append(out, s[from:i])
			from = i + 5
			i += 4
		}
	}
	out = append(out, s[from:])
	names := out[:0]
	for _, n := range out {
		n = strings.TrimSpace(n)
		if n != "" && !strings.EqualFold(n, "others") {
			names = append(names, n)
		}
	}
	return names
}

// latexPlain is a field that holds an identifier: braces dropped, escapes
// undone, nothing else interpreted.
func latexPlain(s string) string {
	s = strings.NewReplacer("{", "", "}", "", `\_`, "_", `\%`, "%", `\&`, "&", `\#`, "#", `\$`, "$").Replace(s)
	return strings.TrimSpace(s)
}

var latexAccents = map[byte]rune{
	'\'': '\u0301', '`': '\u0300', '^': '\u0302', '"': '\u0308', '~': '\u0303', '=': '\u0304', '.': '\u0307',
	'u': '\u0306', 'v': '\u030C', 'H': '\u030B', 'c': '\u0327', 'k': '\u0328', 'r': '\u030A', 'd': '\u0323', 'b': '\u0331',
}

var latexSymbols = map[string]string{
	"ss": "ß", "o": "ø", "O": "Ø", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "aa": "å", "AA": "Å",
	"l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð", "th": "þ", "TH": "Þ", "ng": "ŋ", "NG": "Ŋ",
	"copyright": "©", "textregistered": "®", "texttrademark": "™", "pounds": "£", "S": "§", "P": "¶",
	"textendash": "–", "textemdash": "—", "ldots": "…", "dots": "…", "textasciitilde": "~", "textbackslash": `\`,
	"textdegree": "°", "degree": "°", "circ": "°", "deg": "°", "times": "×", "pm": "±", "mp": "∓", "approx": "≈", "leq": "≤", "le": "≤",
	"geq": "≥", "ge": "≥", "neq": "≠", "sim": "∼", "simeq": "≃", "propto": "∝", "rightarrow": "→", "to": "→", "leftarrow": "←",
	"infty": "∞", "cdot": "·", "angstrom": "Å", "textmu": "µ", "partial": "∂", "nabla": "∇",
	"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε", "zeta": "ζ", "eta": "η",
	"theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ",
	"sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "φ", "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω",
	"Gamma": "Γ", "Delta": "Δ", "Theta": "Θ", "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
	"textless": "<", "textgreater": ">", "textbar": "|", "textunderscore": "_", "slash": "/", "LaTeX": "LaTeX", "TeX": "TeX",
}

// latexText turns a BibTeX/LaTeX value into plain Unicode text: accents
// composed (\"{o}, {\'e}, \c{c} → ö, é, ç), symbols and Greek letters
// mapped, escapes undone, dashes and quotes typeset, math superscripts in
// Unicode where possible, braces and unknown commands dropped (keeping
// their arguments' text).
func latexText(s string) string {
	if s == "" {
		return ""
	}
	var b strings.Builder
	latexInto(&b, s, 0)
	return norm.NFC.String(b.String())
}

func latexInto(b *strings.Builder, s string, depth int) {
	if depth > 8 { // nested accent arguments: enough for any real name
		b.WriteString(strings.NewReplacer("{", "", "}", "", `\`, "").Replace(s))
		return
	}
	math := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s):
			i = latexCommand(b, s, i+1, depth)
		case c == '{' || c == '}':
			i++
		case c == '$':
			math = !math
			i++
		case math && (c == '^' || c == '_') && i+1 < len(s):
			arg, next := latexArg(s, i+1)
			var ab strings.Builder
			latexInto(&ab, arg, depth+1)
			if c == '^' {
				b.WriteString(superscript(ab.String()))
			} else {
				b.WriteString(ab.String())
			}
			i = next
		case c == '~':
			b.WriteByte(' ')
			i++
		case strings.HasPrefix(s[i:], "---"):
			b.WriteString("—")
			i += 3
		case strings.HasPrefix(s[i:], "--"):
			b.WriteString("–")
			i += 2
		case strings.HasPrefix(s[i:], "``"):
			b.WriteString("“")
			i += 2
		case strings.HasPrefix(s[i:], "''"):
			b.WriteString("”")
			i += 2
		default:
			b.WriteByte(c)
			i++
		}
	}
}

// latexArg reads one argument at s[i:]: a {group} (returned without its
// braces), a control word, or one character. It returns the argument and
// the index after it.
func latexArg(s string, i int) (string, int) {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i >= len(s) {
		return "", i
	}
	if s[i] == '{' {
		depth := 0
		for j := i; j < len(s); j++ {
			switch s[j] {
			case '{':
				depth++
			case '}':
				depth--
				if depth == 0 {
					return s[i+1 : j], j + 1
				}
			}
		}
		return s[i+1:], len(s)
	}
	if s[i] == '\\' {
		j := i + 1
		for j < len(s) && isLetter(s[j]) {
			j++
		}
		if j == i+1 && j < len(s) {
			j++
		}
		return s[i:j], j
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return s[i : i+n], i + n
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// latexCommand handles the command after the backslash at s[i] and returns
// the index after it.
func latexCommand(b *strings.Builder, s string, i, depth int) int {
	c := s[i]
	// Accents written with a symbol: \'e \"{o}.
	if mark, ok := latexAccents[c]; ok && !isLetter(c) {
		arg, next := latexArg(s, i+1)
		var ab strings.Builder
		latexInto(&ab, arg, depth+1)
		writeAccented(b, ab.String(), mark)
		return next
	}
	if !isLetter(c) {
		switch c {
		case '\\', ' ', '\n', '\t', ',', ';', '!', ':':
			b.WriteByte(' ')
		default: // \& \% \$ \# \_ \{ \} and the like: the character itself
			b.WriteByte(c)
		}
		return i + 1
	}
	j := i
	for j < len(s) && isLetter(s[j]) {
		j++
	}
	word := s[i:j]
	// Accents written with a letter need a non-letter after them: \c{c}, \v s.
	if len(word) == 1 {
		if mark, ok := latexAccents[word[0]]; ok {
			if _, sym := latexSymbols[word]; !sym || (j < len(s) && (s[j] == '{' || s[j] == ' ')) {
				arg, next := latexArg(s, j)
				var ab strings.Builder
				latexInto(&ab, arg, depth+1)
				writeAccented(b, ab.String(), mark)
				return next
			}
		}
	}
	if sym, ok := latexSymbols[word]; ok {
		b.WriteString(sym)
		// A control word eats the spaces after it, as in TeX ("Stra\ss e"
		// is "Straße") — but only between letters: "$1.2 \times 10^3$"
		// reads "1.2 × 10³". An empty group ("\ss{}e") goes with the braces.
		k := j
		for k < len(s) && s[k] == ' ' {
			k++
		}
		if r, _ := utf8.DecodeRuneInString(sym); unicode.IsLetter(r) && k < len(s) && isLetter(s[k]) {
			return k
		}
		return j
	}
	// Unknown command (\emph, \textit, \mathrm …): dropped, its argument's
	// text is kept when the braces are removed.
	for j < len(s) && s[j] == ' ' {
		j++
	}
	return j
}

// writeAccented writes s with the combining mark after its first
// character (NFC later composes it: e + U+0301 → é).
func writeAccented(b *strings.Builder, s string, mark rune) {
	s = strings.TrimSpace(s)
	if s == "" {
		b.WriteRune(mark)
		return
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == 'ı' { // \'{\i}: the dotless i takes the accent as i
		r = 'i'
	}
	b.WriteRune(r)
	b.WriteRune(mark)
	b.WriteString(s[n:])
}
