package formats

import (
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/lit"
)

// jats reads JATS XML: one <article>, or a <pmc-articleset> of them.
func (p *parser) jats(data []byte) ([]lit.Document, error) {
	root, err := p.parseXML(data)
	if err != nil {
		return nil, err
	}
	var articles []*xnode
	for _, top := range root.kids {
		switch {
		case top.is("article"):
			articles = append(articles, top)
		case top.name.Local != "":
			articles = append(articles, top.findAll("article")...)
		}
	}
	if len(articles) == 0 {
		return nil, p.errf(0, "no <article> element (root is <%s>)", clean(firstElem(root).name.Local, 64))
	}
	var docs []lit.Document
	for _, a := range articles {
		if err := p.more(); err != nil {
			return nil, err
		}
		docs = append(docs, jatsArticle(a))
	}
	return docs, nil
}

func firstElem(n *xnode) *xnode {
	if n == nil {
		return &xnode{}
	}
	if e := elems(n.kids); len(e) > 0 {
		return e[0]
	}
	return &xnode{}
}

func jatsArticle(a *xnode) lit.Document {
	var d lit.Document
	front := a.child("front")
	meta := front.child("article-meta")
	plainDOI := false
	for _, id := range meta.children("article-id") {
		v := textOf(id, nil)
		switch strings.ToLower(id.attrv("pub-id-type")) {
		case "doi":
			// The work's DOI, not a version's ("specific-use=version")
			// or a peer review's listed after it.
			if d.DOI == "" || id.attrv("specific-use") == "" && !plainDOI {
				d.DOI = v
				plainDOI = id.attrv("specific-use") == ""
			}
		case "pmid":
			d.PMID = v
		case "pmc", "pmcid":
			d.PMCID = v
		case "arxiv":
			d.ArXiv = v
		}
	}
	d.Title = textOf(meta.path("title-group", "article-title"), nil)
	if sub := textOf(meta.path("title-group", "subtitle"), nil); sub != "" && d.Title != "" {
		d.Title += ": " + sub
	}
	for _, g := range meta.children("contrib-group") {
		for _, c := range g.children("contrib") {
			if t := c.attrv("contrib-type"); t != "" && t != "author" {
				continue
			}
			if n := jatsName(c); n != "" {
				d.Authors = append(d.Authors, n)
			}
		}
	}
	d.Year = jatsYear(meta)
	jm := front.child("journal-meta")
	d.Venue = textOf(jm.find("journal-title"), nil)
	if d.Venue == "" {
		d.Venue = textOf(jm.find("abbrev-journal-title"), nil)
	}
	if lic := meta.path("permissions", "license"); lic != nil {
		d.License = lic.attrv("href")
		if ref := lic.find("license_ref"); ref != nil {
			d.License = textOf(ref, nil)
		}
		if d.License == "" {
			d.License = textOf(lic, nil)
		}
	}
	for _, g := range meta.children("kwd-group") {
		for _, k := range g.children("kwd") {
			d.Keywords = append(d.Keywords, textOf(k, nil))
		}
	}
	for _, ab := range meta.children("abstract") {
		// The plain abstract, not a graphical or teaser one.
		if t := ab.attrv("abstract-type"); t != "" && t != "summary" && t != "structured" {
			continue
		}
		d.Abstract = textOf(ab, func(n *xnode) bool { return n.is("title") && n == ab.child("title") })
		break
	}
	if d.Abstract == "" {
		if ab := meta.child("abstract"); ab != nil {
			d.Abstract = textOf(ab, nil)
		}
	}

	body := a.child("body")
	var secs sectionBuilder
	secs.walk(body, nil)
	// Appendices are text of the paper too; acknowledgements, notes and
	// footnotes are not read.
	for _, k := range a.child("back").elements() {
		if k.is("app-group") || k.is("app") || k.is("sec") {
			secs.walk(&xnode{name: k.name, kids: []*xnode{k}}, nil)
		}
	}
	d.Sections = secs.out

	// Captions: figures and tables wherever they float (body, floats-group,
	// back), in document order.
	for _, part := range []*xnode{body, a.child("floats-group"), a.child("back")} {
		for _, f := range findFloats(part) {
			label := strings.TrimRight(textOf(f.child("label"), nil), ".: ")
			cap := textOf(f.child("caption"), nil)
			if cap == "" {
				continue
			}
			d.Captions = append(d.Captions, lit.Caption{Label: label, Text: cap})
		}
	}

	for _, rl := range a.child("back").findAll("ref-list") {
		for _, ref := range rl.findAll("ref") {
			d.References = append(d.References, jatsRef(ref))
		}
	}
	return d
}

func jatsName(c *xnode) string {
	if n := c.child("name"); n != nil {
		given := textOf(n.child("given-names"), nil)
		family := textOf(n.child("surname"), nil)
		suffix := textOf(n.child("suffix"), nil)
		return strings.TrimSpace(strings.Join([]string{given, family, suffix}, " "))
	}
	if n := c.child("string-name"); n != nil {
		return textOf(n, nil)
	}
	if n := c.child("collab"); n != nil {
		return textOf(n, nil)
	}
	if n := c.child("name-alternatives"); n != nil {
		return jatsName(n)
	}
	return ""
}

// jatsYear prefers the publication date (epub, ppub, pub) over others.
func jatsYear(meta *xnode) int {
	dates := meta.children("pub-date")
	for _, want := range []string{"epub", "ppub", "pub", "collection", ""} {
		for _, pd := range dates {
			t := pd.attrv("pub-type")
			if t == "" {
				t = pd.attrv("date-type")
			}
			if want == "" || t == want {
				if y := year(textOf(pd.child("year"), nil)); y != 0 {
					return y
				}
			}
		}
	}
	return 0
}

// findFloats returns fig, table-wrap and supplementary-material elements in document order, not
// looking inside one (a fig-group's figs are found, a figure's nested
// table is part of it).
func findFloats(n *xnode) []*xnode {
	var out []*xnode
	var walk func(*xnode)
	walk = func(n *xnode) {
		for _, k := range n.kids {
			if k.is("fig") || k.is("table-wrap") || k.is("supplementary-material") {
				out = append(out, k)
				continue
			}
			walk(k)
		}
	}
	if n != nil {
		walk(n)
	}
	return out
}

// sectionBuilder flattens nested <sec>s into Sections in reading order,
// each with its heading path.
type sectionBuilder struct {
	out []lit.Section
}

func isFloat(n *xnode) bool {
	return n.is("fig") || n.is("table-wrap") || n.is("fig-group") || n.is("table-wrap-group") || n.is("supplementary-material")
}

func (s *sectionBuilder) add(path []string, para string) {
	if para == "" {
		return
	}
	// A paragraph past the field bound is split at spaces rather than cut.
	for len(para) > MaxFieldBytes {
		cut := strings.LastIndexByte(para[:MaxFieldBytes], ' ')
		if cut <= 0 {
			cut = MaxFieldBytes
			for cut > 0 && !utf8.RuneStart(para[cut]) {
				cut--
			}
		}
		s.add(path, para[:cut])
		para = strings.TrimLeft(para[cut:], " ")
	}
	heading := strings.Join(path, " / ")
	if k := len(s.out); k > 0 && s.out[k-1].Heading == heading {
		s.out[k-1].Paragraphs = append(s.out[k-1].Paragraphs, para)
		return
	}
	s.out = append(s.out, lit.Section{Heading: heading, Paragraphs: []string{para}})
}

func (s *sectionBuilder) walk(n *xnode, path []string) {
	if n == nil {
		return
	}
	for _, k := range n.kids {
		switch k.name.Local {
		case "":
			// Stray text between blocks (rare): a paragraph of its own.
			s.add(path, clean(k.text, MaxFile))
		case "sec", "app", "ack", "boxed-text", "glossary":
			title := textOf(k.child("title"), nil)
			if title == "" {
				title = textOf(k.child("label"), nil)
			}
			sub := path
			if title != "" {
				sub = append(append([]string(nil), path...), title)
			}
			s.walk(k, sub)
		case "title", "label", "sec-meta":
			// The heading, already in the path.
		case "p", "disp-formula", "def", "term", "preformat", "speech", "statement", "verse-group", "attrib":
			s.add(path, textOf(k, func(n *xnode) bool { return isFloat(n) || n.is("list") || n.is("disp-quote") }))
			// A paragraph may hold block content that is read on its own:
			// lists, quotes.
			for _, inner := range k.kids {
				if inner.is("list") || inner.is("disp-quote") {
					s.walk(inner, path)
				}
			}
		case "list", "list-item", "disp-quote", "def-list", "def-item", "statement-group", "ref-list", "fn-group", "fn", "notes", "body", "sub-article":
			s.walk(k, path)
		default:
			if isFloat(k) || skipped[k.name.Local] {
				continue
			}
			s.walk(k, path)
		}
	}
}

func jatsRef(ref *xnode) lit.Reference {
	var r lit.Reference
	cit := ref.child("element-citation")
	if cit == nil {
		cit = ref.child("mixed-citation")
	}
	if cit == nil {
		cit = ref.child("citation")
	}
	if cit == nil {
		cit = ref.child("nlm-citation")
	}
	if cit == nil {
		cit = ref
	}
	for _, id := range cit.findAll("pub-id") {
		v := textOf(id, nil)
		switch strings.ToLower(id.attrv("pub-id-type")) {
		case "doi":
			r.DOI = v
		case "pmid":
			r.PMID = v
		case "arxiv":
			r.ArXiv = v
		}
	}
	for _, l := range cit.findAll("ext-link") {
		v := textOf(l, nil)
		if h := l.attrv("href"); h != "" {
			v = h
		}
		if r.DOI == "" {
			r.DOI = NormalizeDOI(v)
		}
		if r.ArXiv == "" {
			r.ArXiv = NormalizeArXiv(v)
		}
	}
	r.Title = textOf(cit.find("article-title"), nil)
	if r.Title == "" {
		r.Title = textOf(cit.find("chapter-title"), nil)
	}
	if r.Title == "" && cit.find("source") != nil && cit.find("article-title") == nil && cit.find("person-group") != nil {
		// A book: its source is its title.
		if t := cit.attrv("publication-type"); t == "book" {
			r.Title = textOf(cit.find("source"), nil)
		}
	}
	r.Text = textOf(cit, nil)
	if structured(cit) {
		// Structured, with no punctuation between its parts (an
		// element-citation, or a mixed one written like it): printed in
		// the usual order instead.
		if t := printCitation(cit, r.Title); t != "" {
			r.Text = t
		}
	}
	return r
}

// structured reports whether a citation has no text of its own between
// its elements.
func structured(cit *xnode) bool {
	if cit.is("element-citation") {
		return true
	}
	for _, k := range cit.kids {
		if k.name.Local == "" && strings.TrimSpace(k.text) != "" {
			return false
		}
	}
	return len(cit.kids) > 0
}

// printCitation writes an element-citation as a reader expects one:
// "Smith J, Roe R (2019) Title. Source 18, 1–9. doi:…".
func printCitation(cit *xnode, title string) string {
	var names []string
	for _, pg := range cit.findAll("person-group") {
		for _, n := range pg.kids {
			switch n.name.Local {
			case "name":
				names = append(names, strings.TrimSpace(textOf(n.child("surname"), nil)+" "+textOf(n.child("given-names"), nil)))
			case "string-name", "collab":
				names = append(names, textOf(n, nil))
			case "etal":
				names = append(names, "et al.")
			}
		}
	}
	if len(names) == 0 {
		for _, n := range cit.children("name") {
			names = append(names, strings.TrimSpace(textOf(n.child("surname"), nil)+" "+textOf(n.child("given-names"), nil)))
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(names, ", "))
	if y := textOf(cit.child("year"), nil); y != "" {
		b.WriteString(" (" + y + ")")
	}
	if title != "" {
		b.WriteString(" " + strings.TrimRight(title, ".") + ".")
	}
	src := textOf(cit.child("source"), nil)
	if src != "" && src != title {
		b.WriteString(" " + src)
	}
	if v := textOf(cit.child("volume"), nil); v != "" {
		b.WriteString(" " + v)
	}
	pages := textOf(cit.child("fpage"), nil)
	if l := textOf(cit.child("lpage"), nil); l != "" && pages != "" {
		pages += "–" + l
	}
	if pages == "" {
		pages = textOf(cit.child("elocation-id"), nil)
	}
	if pages != "" {
		b.WriteString(", " + pages)
	}
	if src != "" || pages != "" {
		b.WriteString(".")
	}
	for _, id := range cit.children("pub-id") {
		if strings.EqualFold(id.attrv("pub-id-type"), "doi") {
			b.WriteString(" doi:" + textOf(id, nil))
		}
	}
	return strings.TrimSpace(b.String())
}
