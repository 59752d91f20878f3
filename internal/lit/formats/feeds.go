package formats

import (
	"regexp"
	"strings"

	"github.com/genesis-science/genesis/internal/lit"
)

// arxiv reads an arXiv API Atom feed (any Atom feed, really: the arXiv
// extensions are read when present).
func (p *parser) arxiv(data []byte) ([]lit.Document, error) {
	root, err := p.parseXML(data)
	if err != nil {
		return nil, err
	}
	feed := firstElem(root)
	var entries []*xnode
	switch {
	case feed.is("feed"):
		entries = feed.children("entry")
	case feed.is("entry"):
		entries = []*xnode{feed}
	default:
		return nil, p.errf(feed.line, "root element is <%s>, not an Atom <feed>", clean(feed.name.Local, 64))
	}
	var docs []lit.Document
	for _, e := range entries {
		id := textOf(e.child("id"), nil)
		if strings.Contains(id, "arxiv.org/api/errors") {
			return nil, p.errf(e.line, "the arXiv API answered with an error: %s", textOf(e.child("summary"), nil))
		}
		if err := p.more(); err != nil {
			return nil, err
		}
		d := lit.Document{
			ArXiv: NormalizeArXiv(id),
			// arXiv writes titles and abstracts in LaTeX ("CsPbI$_3$").
			Title:    latexText(textOf(e.child("title"), nil)),
			Abstract: latexText(textOf(e.child("summary"), nil)),
			Year:     year(textOf(e.child("published"), nil)),
			DOI:      textOf(e.child("doi"), nil),
			Venue:    textOf(e.child("journal_ref"), nil),
		}
		if d.Year == 0 {
			d.Year = year(textOf(e.child("updated"), nil))
		}
		for _, a := range e.children("author") {
			d.Authors = append(d.Authors, textOf(a.child("name"), nil))
		}
		if pc := e.child("primary_category"); pc != nil {
			d.Keywords = append(d.Keywords, pc.attrv("term"))
		}
		for _, c := range e.children("category") {
			d.Keywords = append(d.Keywords, c.attrv("term"))
		}
		for _, l := range e.children("link") {
			switch {
			case l.attrv("title") == "doi" && d.DOI == "":
				d.DOI = l.attrv("href")
			case l.attrv("rel") == "license":
				d.License = l.attrv("href")
			}
		}
		if d.Venue == "" && d.ArXiv != "" {
			d.Venue = "arXiv"
		}
		docs = append(docs, d)
	}
	return docs, nil
}

// oai reads an OAI-PMH ListRecords or GetRecord response whose records are
// oai_dc, arXiv or arXivRaw metadata (or a JATS article, as PubMed
// Central's OAI service returns). Deleted records are skipped.
func (p *parser) oai(data []byte) ([]lit.Document, error) {
	root, err := p.parseXML(data)
	if err != nil {
		return nil, err
	}
	top := firstElem(root)
	if !top.is("OAI-PMH") {
		return nil, p.errf(top.line, "root element is <%s>, not <OAI-PMH>", clean(top.name.Local, 64))
	}
	if e := top.child("error"); e != nil {
		return nil, p.errf(e.line, "the OAI-PMH response is an error: %s: %s", clean(e.attrv("code"), 64), textOf(e, nil))
	}
	var records []*xnode
	for _, verb := range []string{"ListRecords", "GetRecord"} {
		records = append(records, top.child(verb).children("record")...)
	}
	if len(records) == 0 && top.child("ListRecords") == nil && top.child("GetRecord") == nil {
		return nil, p.errf(top.line, "neither ListRecords nor GetRecord in the response")
	}
	var docs []lit.Document
	for _, rec := range records {
		h := rec.child("header")
		if h.attrv("status") == "deleted" {
			continue
		}
		md := firstElem(rec.child("metadata"))
		var d lit.Document
		switch md.name.Local {
		case "dc":
			d = oaiDC(md)
		case "arXiv":
			d = oaiArXiv(md)
		case "arXivRaw":
			d = oaiArXivRaw(md)
		case "article":
			d = jatsArticle(md)
		case "":
			return nil, p.errf(rec.line, "record without metadata")
		default:
			return nil, p.errf(md.line, "unsupported OAI-PMH metadata format <%s> (oai_dc, arXiv, arXivRaw and JATS are read)", clean(md.name.Local, 64))
		}
		if err := p.more(); err != nil {
			return nil, err
		}
		ident := textOf(h.child("identifier"), nil)
		switch {
		case strings.HasPrefix(ident, "oai:arXiv.org:"):
			if d.ArXiv == "" {
				d.ArXiv = strings.TrimPrefix(ident, "oai:arXiv.org:")
			}
			if md.name.Local == "dc" {
				d.Title, d.Abstract = latexText(d.Title), latexText(d.Abstract)
			}
			if d.Venue == "" {
				d.Venue = "arXiv"
			}
		case strings.HasPrefix(ident, "oai:pubmedcentral.nih.gov:") && d.PMCID == "":
			d.PMCID = strings.TrimPrefix(ident, "oai:pubmedcentral.nih.gov:")
		}
		if d.Year == 0 {
			d.Year = year(textOf(h.child("datestamp"), nil))
		}
		docs = append(docs, d)
	}
	return docs, nil
}

func oaiDC(md *xnode) lit.Document {
	var d lit.Document
	d.Title = textOf(md.child("title"), nil)
	for _, c := range md.children("creator") {
		d.Authors = append(d.Authors, personName(textOf(c, nil)))
	}
	for _, s := range md.children("subject") {
		d.Keywords = append(d.Keywords, textOf(s, nil))
	}
	for _, desc := range md.children("description") {
		t := textOf(desc, nil)
		if strings.HasPrefix(t, "Comment:") || d.Abstract != "" {
			continue
		}
		d.Abstract = t
	}
	for _, dt := range md.children("date") {
		if y := year(textOf(dt, nil)); y != 0 && (d.Year == 0 || y < d.Year) {
			d.Year = y // the earliest: first version, not the latest revision
		}
	}
	for _, id := range md.children("identifier") {
		v := textOf(id, nil)
		if d.DOI == "" {
			d.DOI = NormalizeDOI(v)
		}
		if d.ArXiv == "" {
			d.ArXiv = NormalizeArXiv(v)
		}
		if d.PMID == "" && strings.HasPrefix(strings.ToLower(v), "pmid:") {
			d.PMID = v
		}
	}
	d.License = textOf(md.child("rights"), nil)
	d.Venue = textOf(md.child("source"), nil)
	if d.Venue == "" {
		d.Venue = textOf(md.child("publisher"), nil)
	}
	return d
}

func oaiArXiv(md *xnode) lit.Document {
	d := lit.Document{
		ArXiv:    textOf(md.child("id"), nil),
		Title:    latexText(textOf(md.child("title"), nil)),
		Abstract: latexText(textOf(md.child("abstract"), nil)),
		DOI:      firstWord(textOf(md.child("doi"), nil)),
		Venue:    textOf(md.child("journal-ref"), nil),
		License:  textOf(md.child("license"), nil),
		Year:     year(textOf(md.child("created"), nil)),
		Keywords: strings.Fields(textOf(md.child("categories"), nil)),
	}
	for _, a := range md.child("authors").children("author") {
		parts := []string{latexText(textOf(a.child("forenames"), nil)), latexText(textOf(a.child("keyname"), nil)), textOf(a.child("suffix"), nil)}
		d.Authors = append(d.Authors, strings.Join(parts, " "))
	}
	if d.Venue == "" {
		d.Venue = "arXiv"
	}
	return d
}

func oaiArXivRaw(md *xnode) lit.Document {
	d := lit.Document{
		ArXiv:    textOf(md.child("id"), nil),
		Title:    latexText(textOf(md.child("title"), nil)),
		Abstract: latexText(textOf(md.child("abstract"), nil)),
		DOI:      firstWord(textOf(md.child("doi"), nil)),
		Venue:    textOf(md.child("journal-ref"), nil),
		License:  textOf(md.child("license"), nil),
		Keywords: strings.Fields(textOf(md.child("categories"), nil)),
	}
	if v := md.child("version"); v != nil {
		d.Year = year(textOf(v.child("date"), nil))
	}
	d.Authors = splitAuthorList(latexText(textOf(md.child("authors"), nil)))
	if d.Venue == "" {
		d.Venue = "arXiv"
	}
	return d
}

func firstWord(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return ""
}

var (
	authorSep = regexp.MustCompile(`\s*(?:,\s*and\s+|\s+and\s+|,|;)\s*`)
	parenthes = regexp.MustCompile(`\([^()]*\)`)
)

// splitAuthorList splits arXiv's "A. One, B. Two and C. Three (Lab)" into
// names, dropping parenthesised affiliations.
func splitAuthorList(s string) []string {
	for i := 0; i < 4 && strings.Contains(s, "("); i++ {
		s = parenthes.ReplaceAllString(s, "")
	}
	var out []string
	for _, a := range authorSep.Split(s, -1) {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
