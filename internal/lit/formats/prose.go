package formats

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/lit"
)

// normText returns text with invalid UTF-8 replaced, a byte-order mark
// dropped, and line ends (CR LF, CR) as LF; a form feed (a page break)
// ends a paragraph.
func normText(data []byte) string {
	s := strings.ToValidUTF8(string(data), "\uFFFD")
	s = strings.TrimPrefix(s, "\uFEFF")
	return strings.NewReplacer("\r\n", "\n", "\r", "\n", "\f", "\n\n").Replace(s)
}

// textLines splits text into normalised lines.
func textLines(data []byte) []string { return strings.Split(normText(data), "\n") }

// para is a paragraph of prose: its text with lines joined, its first
// line, and its lines while there are few (a heading or a reference list
// is read line by line; a huge paragraph is not kept twice).
type para struct {
	text  string
	first string
	lines []string // nil past maxParaLines
	n     int      // lines
}

const maxParaLines = 256

// paragraphs splits s into paragraphs at blank lines, joining each
// paragraph's lines (a word hyphenated across a line break is rejoined).
// A paragraph longer than half of MaxFieldBytes is cut at a line end, so
// memory per paragraph stays bounded and nothing is lost to the field
// bound.
func paragraphs(s string) []para {
	var out []para
	var cur para
	var b strings.Builder
	flush := func() {
		if cur.n > 0 {
			cur.text = b.String()
			out = append(out, cur)
		}
		cur = para{}
		b.Reset()
	}
	for len(s) > 0 {
		var l string
		l, s, _ = strings.Cut(s, "\n")
		l = strings.TrimSpace(l)
		if l == "" {
			flush()
			continue
		}
		if cur.n == 0 {
			cur.first = l
		} else if prev := b.String(); strings.HasSuffix(prev, "-") && hyphenated(prev) && startsLower(l) {
			// "semi-" + "conductor": the hyphen was the line break's.
			b.Reset()
			b.WriteString(prev[:len(prev)-1])
		} else {
			b.WriteByte(' ')
		}
		b.WriteString(l)
		cur.n++
		if cur.n <= maxParaLines {
			cur.lines = append(cur.lines, l)
		} else {
			cur.lines = nil
		}
		if b.Len() > MaxFieldBytes/2 {
			flush()
		}
	}
	flush()
	return out
}

// hyphenated reports whether s ends in a lower-case letter and a hyphen.
func hyphenated(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s[:len(s)-1])
	return unicode.IsLower(r)
}

func joinLines(ls []string) string {
	if len(ls) == 0 {
		return ""
	}
	ps := paragraphs(strings.Join(ls, "\n"))
	if len(ps) == 0 {
		return ""
	}
	return ps[0].text
}

func startsLower(s string) bool {
	for _, r := range s {
		return r >= 'a' && r <= 'z'
	}
	return false
}

var (
	captionRe      = regexp.MustCompile(`^((?:Fig\.|Figure|FIG\.|FIGURE|Table|TABLE|Scheme|SCHEME)\s*(?:[0-9]+|[IVX]+|S[0-9]+)[a-z]?)[.:|]?\s+(.+)$`)
	headingRe      = regexp.MustCompile(`^(?:([0-9]+(?:\.[0-9]+)*)\.?\s+|([IVX]+)\.\s+)?(\p{Lu}[^.!?;,]*)$`)
	abstractRe     = regexp.MustCompile(`^(?i:abstract)\s*[.:—–-]?\s*(.*)$`)
	referenceHeads = map[string]bool{"references": true, "bibliography": true, "literature cited": true, "references and notes": true}
	doiInRe        = regexp.MustCompile(`10\.[0-9]{4,9}/[^\s"<>]+`)
)

// prose is the reader of unstructured text (plain text, PDF text): the
// title is the first line (unless given), a short capitalised line alone
// is a heading (numbered ones nest: "2.1 Band gaps" under "2 Results"),
// "Abstract" starts the abstract, "References" the reference list, and a
// paragraph opening "Figure 2." or "Table 1:" is a caption.
func prose(text string, title string) lit.Document {
	d := lit.Document{Title: title}
	paras := paragraphs(text)
	if d.Title != "" && len(paras) > 0 && strings.EqualFold(clean(paras[0].text, MaxTitleBytes), clean(d.Title, MaxTitleBytes)) {
		paras = paras[1:] // the given title, printed
	}
	if d.Title == "" && len(paras) > 0 {
		p0 := paras[0]
		d.Title = p0.first
		if p0.n == 1 {
			paras = paras[1:]
		} else {
			rest := strings.TrimSpace(strings.TrimPrefix(p0.text, p0.first))
			np := para{text: rest, first: rest, n: p0.n - 1}
			if len(p0.lines) > 1 {
				np.lines = p0.lines[1:]
				np.first = np.lines[0]
			}
			paras[0] = np
		}
	}
	var secs sectionBuilder
	var path []string
	var depths []int
	mode := "" // "", "abstract", "references"
	for _, para := range paras {
		text := para.text
		if para.n == 1 && len(text) <= 80 {
			if m := headingRe.FindStringSubmatch(text); m != nil && len(strings.Fields(m[3])) <= 10 && !captionRe.MatchString(text) {
				h := strings.TrimSpace(m[3])
				lower := strings.ToLower(h)
				switch {
				case lower == "abstract" || lower == "summary" && d.Abstract == "":
					mode = "abstract"
					continue
				case referenceHeads[lower]:
					mode = "references"
					continue
				}
				mode = ""
				depth := 1
				if m[1] != "" {
					depth = strings.Count(m[1], ".") + 1
				}
				for len(depths) > 0 && depths[len(depths)-1] >= depth {
					depths, path = depths[:len(depths)-1], path[:len(path)-1]
				}
				depths, path = append(depths, depth), append(path, h)
				continue
			}
		}
		if m := abstractRe.FindStringSubmatch(text); m != nil && d.Abstract == "" && m[1] != "" && mode == "" && len(path) == 0 {
			d.Abstract = m[1]
			continue
		}
		switch mode {
		case "abstract":
			if d.Abstract != "" {
				d.Abstract += " "
			}
			d.Abstract += text
			continue
		case "references":
			if k := len(d.References); k > 0 && !refStart.MatchString(para.first) && refStart.MatchString(d.References[k-1].Text) {
				// A numbered list's entry broken across blocks or pages.
				r := &d.References[k-1]
				r.Text = joinLines([]string{r.Text, text})
				if r.DOI == "" {
					r.DOI = doiInRe.FindString(r.Text)
				}
				if r.ArXiv == "" {
					r.ArXiv = arxivIn(r.Text)
				}
				continue
			}
			refs := []string{text}
			if para.lines != nil {
				refs = splitReferences(para.lines)
			}
			for _, r := range refs {
				ref := lit.Reference{Text: r}
				if m := doiInRe.FindString(r); m != "" {
					ref.DOI = m
				}
				ref.ArXiv = arxivIn(r)
				d.References = append(d.References, ref)
			}
			continue
		}
		if m := captionRe.FindStringSubmatch(text); m != nil {
			d.Captions = append(d.Captions, lit.Caption{Label: captionLabel(m[1]), Text: m[2]})
			continue
		}
		secs.add(path, text)
	}
	d.Sections = secs.out
	return d
}

var refStart = regexp.MustCompile(`^(?:\[[0-9]+\]|[0-9]+\.)\s`)

// splitReferences splits a reference-list paragraph into entries when its
// lines start with "[1]" or "1."; else the paragraph is one reference.
func splitReferences(para []string) []string {
	var out []string
	var cur []string
	for _, l := range para {
		if refStart.MatchString(l) && len(cur) > 0 {
			out = append(out, joinLines(cur))
			cur = nil
		}
		cur = append(cur, l)
	}
	if len(cur) > 0 {
		out = append(out, joinLines(cur))
	}
	return out
}

// captionLabel spells the label out: "Fig. 2" → "Figure 2".
func captionLabel(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for _, p := range []string{"Fig.", "FIG.", "FIGURE"} {
		if strings.HasPrefix(s, p) {
			s = "Figure " + strings.TrimSpace(s[len(p):])
		}
	}
	if strings.HasPrefix(s, "TABLE") {
		s = "Table " + strings.TrimSpace(s[5:])
	}
	if strings.HasPrefix(s, "Figure") && !strings.HasPrefix(s, "Figure ") {
		s = "Figure " + s[6:]
	}
	if strings.HasPrefix(s, "Table") && !strings.HasPrefix(s, "Table ") {
		s = "Table " + s[5:]
	}
	return s
}

// text reads plain text: see prose.
func (p *parser) text(data []byte) ([]lit.Document, error) {
	if err := p.more(); err != nil {
		return nil, err
	}
	return []lit.Document{prose(normText(data), "")}, nil
}

var (
	atxHeading = regexp.MustCompile(`^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+)?\s*$`)
	fenceRe    = regexp.MustCompile("^ {0,3}(```|~~~)")
	setextRe   = regexp.MustCompile(`^ {0,3}(=+|-+)\s*$`)
	metaLine   = regexp.MustCompile(`^(?i)(authors?|year|date|doi|arxiv|keywords|tags|license|venue|journal|title|pmid|pmcid)\s*:\s*(.*)$`)
	listMarker = regexp.MustCompile(`^\s*(?:[-*+]|[0-9]+[.)])\s+`)

	mdImage  = regexp.MustCompile(`!\[([^\]]*)\]\([^)]*\)`)
	mdLink   = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
	mdStrong = regexp.MustCompile(`\*\*([^*]+)\*\*|__([^_]+)__`)
	mdEm     = regexp.MustCompile(`(^|[^\pL\pN*])\*([^*\s](?:[^*]*[^*\s])?)\*`)
	mdEmU    = regexp.MustCompile(`(^|[^\pL\pN_])_([^_\s](?:[^_]*[^_\s])?)_`)
	mdCode   = regexp.MustCompile("`([^`]*)`")
	mdHTML   = regexp.MustCompile(`<!--.*?-->|</?[A-Za-z][^>]*>`)
)

// mdInline removes Markdown's inline markup, keeping the text.
func mdInline(s string) string {
	s = mdImage.ReplaceAllString(s, "$1")
	s = mdLink.ReplaceAllString(s, "$1")
	s = mdStrong.ReplaceAllString(s, "$1$2")
	s = mdEm.ReplaceAllString(s, "$1$2")
	s = mdEmU.ReplaceAllString(s, "$1$2")
	s = mdCode.ReplaceAllString(s, "$1")
	s = mdHTML.ReplaceAllString(s, "")
	return s
}

// markdown reads Markdown: an optional front matter (--- key: value ---)
// or leading "Authors: …" lines, the first H1 as title, other headings as
// nested sections (the heading path omits the title), an "Abstract"
// heading's paragraphs as the abstract, captions as in plain text. Code
// blocks are skipped.
func (p *parser) markdown(data []byte) ([]lit.Document, error) {
	if err := p.more(); err != nil {
		return nil, err
	}
	lines := textLines(data)
	var d lit.Document
	meta := map[string]string{}
	i := 0
	for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
		i++
	}
	if i < len(lines) && strings.TrimSpace(lines[i]) == "---" {
		for j := i + 1; j < len(lines) && j < i+200; j++ {
			if t := strings.TrimSpace(lines[j]); t == "---" || t == "..." {
				for _, l := range lines[i+1 : j] {
					if m := metaLine.FindStringSubmatch(l); m != nil {
						meta[strings.ToLower(m[1])] += " " + strings.Trim(strings.TrimSpace(m[2]), `"'[]`)
					} else if strings.HasPrefix(strings.TrimSpace(l), "- ") {
						// A YAML list item continues the previous key (authors).
						meta["authors"] += ", " + strings.Trim(strings.TrimSpace(strings.TrimSpace(l)[2:]), `"'`)
					}
				}
				i = j + 1
				break
			}
		}
	}

	type block struct {
		heading int // 0: a paragraph; else the heading level
		text    string
		lines   []string
	}
	var blocks []block
	var cur []string
	curBytes := 0
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, block{text: joinLines(cur), lines: cur})
			cur, curBytes = nil, 0
		}
	}
	fence := ""
	for ; i < len(lines); i++ {
		l := lines[i]
		if fence != "" {
			if strings.HasPrefix(strings.TrimSpace(l), fence) {
				fence = ""
			}
			continue
		}
		if m := fenceRe.FindStringSubmatch(l); m != nil {
			flush()
			fence = m[1]
			continue
		}
		if m := atxHeading.FindStringSubmatch(l); m != nil {
			flush()
			blocks = append(blocks, block{heading: len(m[1]), text: mdInline(m[2])})
			continue
		}
		if m := setextRe.FindStringSubmatch(l); m != nil && len(cur) == 1 {
			level := 1
			if m[1][0] == '-' {
				level = 2
			}
			blocks = append(blocks, block{heading: level, text: mdInline(cur[0])})
			cur = nil
			continue
		}
		t := strings.TrimSpace(l)
		if t == "" {
			flush()
			continue
		}
		t = strings.TrimSpace(strings.TrimLeft(t, ">"))
		if t == "" {
			flush() // an empty quote line ends a paragraph too
			continue
		}
		if listMarker.MatchString(t) {
			flush() // each list item is a paragraph of its own
			t = listMarker.ReplaceAllString(t, "")
		}
		cur = append(cur, mdInline(t))
		if curBytes += len(t); curBytes > MaxFieldBytes/2 {
			flush() // bounded paragraphs; the rest continues in the next
		}
	}
	flush()

	var secs sectionBuilder
	var path []string
	var levels []int
	mode := ""
	body := false
	for _, b := range blocks {
		if b.heading > 0 {
			if d.Title == "" && b.heading == 1 && !body {
				d.Title = b.text
				continue
			}
			lower := strings.ToLower(strings.TrimSpace(b.text))
			if lower == "abstract" || lower == "summary" && d.Abstract == "" {
				mode = "abstract"
				continue
			}
			if referenceHeads[lower] {
				mode = "references"
				continue
			}
			mode = ""
			for len(levels) > 0 && levels[len(levels)-1] >= b.heading {
				levels, path = levels[:len(levels)-1], path[:len(path)-1]
			}
			levels, path = append(levels, b.heading), append(path, b.text)
			body = true
			continue
		}
		if !body && mode == "" && allMeta(b.lines) {
			for _, l := range b.lines {
				m := metaLine.FindStringSubmatch(l)
				meta[strings.ToLower(m[1])] += " " + m[2]
			}
			continue
		}
		switch mode {
		case "abstract":
			d.Abstract = strings.TrimSpace(d.Abstract + " " + b.text)
			continue
		case "references":
			r := lit.Reference{Text: b.text, DOI: doiInRe.FindString(b.text), ArXiv: arxivIn(b.text)}
			d.References = append(d.References, r)
			continue
		}
		if m := captionRe.FindStringSubmatch(b.text); m != nil {
			d.Captions = append(d.Captions, lit.Caption{Label: captionLabel(m[1]), Text: m[2]})
			continue
		}
		if m := abstractRe.FindStringSubmatch(b.text); m != nil && m[1] != "" && d.Abstract == "" && len(secs.out) == 0 && !body {
			d.Abstract = m[1]
			continue
		}
		body = true
		secs.add(path, b.text)
	}
	d.Sections = secs.out
	if t := strings.TrimSpace(meta["title"]); t != "" && d.Title == "" {
		d.Title = t
	}
	a := meta["authors"] + "," + meta["author"]
	for _, n := range strings.FieldsFunc(a, func(r rune) bool { return r == ',' || r == ';' }) {
		if n = strings.TrimSpace(n); n != "" {
			d.Authors = append(d.Authors, n)
		}
	}
	if len(d.Authors) == 1 && strings.Contains(d.Authors[0], " and ") {
		d.Authors = splitAuthorList(d.Authors[0])
	}
	d.Year = year(meta["year"] + " " + meta["date"])
	d.DOI = strings.TrimSpace(meta["doi"])
	d.ArXiv = strings.TrimSpace(meta["arxiv"])
	d.PMID = strings.TrimSpace(meta["pmid"])
	d.PMCID = strings.TrimSpace(meta["pmcid"])
	d.License = meta["license"]
	d.Venue = meta["venue"] + meta["journal"]
	for _, k := range strings.FieldsFunc(meta["keywords"]+","+meta["tags"], func(r rune) bool { return r == ',' || r == ';' }) {
		d.Keywords = append(d.Keywords, k)
	}
	return []lit.Document{d}, nil
}

func allMeta(lines []string) bool {
	for _, l := range lines {
		if !metaLine.MatchString(l) {
			return false
		}
	}
	return len(lines) > 0
}
