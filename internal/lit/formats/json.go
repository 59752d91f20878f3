package formats

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/lit"
)

// decodeJSON decodes data into v, or returns an error naming the line of
// the failure.
func (p *parser) decodeJSON(data []byte, v any) error {
	data = trimBOM(data)
	if !json.Valid(data) {
		// Find where: the decoder's error has the offset.
		var x any
		err := json.Unmarshal(data, &x)
		off := int64(0)
		if se, ok := err.(*json.SyntaxError); ok {
			off = se.Offset
		}
		return p.errf(lineAt(data, off), "malformed JSON: %v", err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		off := int64(0)
		if te, ok := err.(*json.UnmarshalTypeError); ok {
			off = te.Offset
			return p.errf(lineAt(data, off), "field %q is a JSON %s, expected %s", clean(te.Field, 128), te.Value, te.Type)
		}
		return p.errf(0, "malformed JSON: %v", err)
	}
	return nil
}

func lineAt(data []byte, off int64) int {
	if off <= 0 || off > int64(len(data)) {
		return 0
	}
	return 1 + bytes.Count(data[:off], []byte("\n"))
}

// jtext is a JSON value read as text whatever its type: a string, a
// number, the first of an array of strings, or "" for anything else.
// Crossref and DataCite disagree with themselves about types.
type jtext string

func (t *jtext) UnmarshalJSON(b []byte) error {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*t = jtext(anyText(v))
	return nil
}

func anyText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case []any:
		for _, e := range v {
			if s := anyText(e); s != "" {
				return s
			}
		}
	case map[string]any:
		for _, k := range []string{"name", "title", "value", "#text"} {
			if s, ok := v[k].(string); ok {
				return s
			}
		}
	}
	return ""
}

// jlist is a JSON array of objects, or one object, or null.
type jlist[T any] []T

func (l *jlist[T]) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one T
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*l = []T{one}
		return nil
	}
	if len(b) > 0 && b[0] == '[' {
		var many []T
		if err := json.Unmarshal(b, &many); err != nil {
			return err
		}
		*l = many
		return nil
	}
	*l = nil
	return nil
}

// Crossref REST API.

type crossrefEnvelope struct {
	Status      string          `json:"status"`
	MessageType string          `json:"message-type"`
	Message     json.RawMessage `json:"message"`
}

type crossrefWork struct {
	DOI             jtext   `json:"DOI"`
	Title           jtext   `json:"title"`
	Subtitle        jtext   `json:"subtitle"`
	ContainerTitle  jtext   `json:"container-title"`
	Publisher       jtext   `json:"publisher"`
	Abstract        jtext   `json:"abstract"`
	Subject         []jtext `json:"subject"`
	Issued          cdate   `json:"issued"`
	PublishedPrint  cdate   `json:"published-print"`
	PublishedOnline cdate   `json:"published-online"`
	Created         cdate   `json:"created"`
	Author          []struct {
		Given  jtext `json:"given"`
		Family jtext `json:"family"`
		Name   jtext `json:"name"`
		Suffix jtext `json:"suffix"`
	} `json:"author"`
	License []struct {
		URL jtext `json:"URL"`
	} `json:"license"`
	Reference []struct {
		DOI          jtext `json:"DOI"`
		Unstructured jtext `json:"unstructured"`
		ArticleTitle jtext `json:"article-title"`
		VolumeTitle  jtext `json:"volume-title"`
		Author       jtext `json:"author"`
		Year         jtext `json:"year"`
		JournalTitle jtext `json:"journal-title"`
		Volume       jtext `json:"volume"`
		FirstPage    jtext `json:"first-page"`
	} `json:"reference"`
	Items json.RawMessage `json:"items"`
}

type cdate struct {
	DateParts [][]any `json:"date-parts"`
}

func (c cdate) year() int {
	if len(c.DateParts) == 0 || len(c.DateParts[0]) == 0 {
		return 0
	}
	return year(anyText(c.DateParts[0][0]))
}

// crossref reads Crossref REST JSON: a work ({"message": {...}}), a list
// ({"message": {"items": [...]}}), a bare work, or an array of works.
func (p *parser) crossref(data []byte) ([]lit.Document, error) {
	data = bytes.TrimSpace(trimBOM(data))
	var works []crossrefWork
	if len(data) > 0 && data[0] == '[' {
		if err := p.decodeJSON(data, &works); err != nil {
			return nil, err
		}
	} else {
		var env crossrefEnvelope
		if err := p.decodeJSON(data, &env); err != nil {
			return nil, err
		}
		if env.Status != "" && env.Status != "ok" {
			return nil, p.errf(0, "the Crossref response has status %q", clean(env.Status, 64))
		}
		msg := []byte(env.Message)
		if len(msg) == 0 {
			msg = data
		}
		var w crossrefWork
		if err := p.decodeJSON(msg, &w); err != nil {
			return nil, err
		}
		if len(w.Items) > 0 && !bytes.Equal(w.Items, []byte("null")) {
			if err := p.decodeJSON(w.Items, &works); err != nil {
				return nil, err
			}
		} else {
			works = []crossrefWork{w}
		}
	}
	var docs []lit.Document
	for _, w := range works {
		if err := p.more(); err != nil {
			return nil, err
		}
		d := lit.Document{
			DOI:     string(w.DOI),
			Title:   string(w.Title),
			Venue:   string(w.ContainerTitle),
			Year:    w.Issued.year(),
			License: "",
		}
		if w.Subtitle != "" && d.Title != "" {
			d.Title += ": " + string(w.Subtitle)
		}
		for _, c := range []cdate{w.PublishedPrint, w.PublishedOnline, w.Created} {
			if d.Year == 0 {
				d.Year = c.year()
			}
		}
		if d.Venue == "" {
			d.Venue = string(w.Publisher)
		}
		for _, a := range w.Author {
			n := strings.TrimSpace(string(a.Given) + " " + string(a.Family) + " " + string(a.Suffix))
			if strings.TrimSpace(string(a.Family)) == "" {
				n = string(a.Name)
			}
			d.Authors = append(d.Authors, n)
		}
		if len(w.License) > 0 {
			d.License = string(w.License[0].URL)
		}
		for _, s := range w.Subject {
			d.Keywords = append(d.Keywords, string(s))
		}
		d.Abstract = p.markupText(string(w.Abstract))
		for _, r := range w.Reference {
			ref := lit.Reference{DOI: string(r.DOI), Title: string(r.ArticleTitle), Text: string(r.Unstructured)}
			if ref.Title == "" {
				ref.Title = string(r.VolumeTitle)
			}
			if ref.Text == "" {
				ref.Text = strings.Join(nonEmpty(string(r.Author), paren(string(r.Year)), string(r.ArticleTitle), string(r.VolumeTitle), string(r.JournalTitle), string(r.Volume), string(r.FirstPage)), " ")
			}
			if ref.DOI == "" {
				ref.ArXiv = arxivIn(ref.Text)
			}
			d.References = append(d.References, ref)
		}
		docs = append(docs, d)
	}
	return docs, nil
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, s)
		}
	}
	return out
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

var arxivInRe = regexp.MustCompile(`(?i)arxiv[: ]\s*([0-9]{4}\.[0-9]{4,5}|[a-z-]+(?:\.[A-Z]{2})?/[0-9]{7})`)

// arxivIn finds "arXiv:2101.00001" in printed text.
func arxivIn(s string) string {
	if m := arxivInRe.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

// markupText reads a fragment with JATS or HTML tags (Crossref abstracts
// are "<jats:p>…</jats:p>") as text; a fragment that is not well-formed
// has its tags stripped instead.
func (p *parser) markupText(s string) string {
	if !strings.Contains(s, "<") {
		return s
	}
	sub := &parser{ctx: p.ctx, name: p.name, format: p.format}
	if root, err := sub.parseXML([]byte("<x>" + s + "</x>")); err == nil {
		return textOf(firstElem(root), func(n *xnode) bool { return n.is("title") && strings.EqualFold(textOf(n, nil), "abstract") })
	}
	return tagRe.ReplaceAllString(s, " ")
}

var tagRe = regexp.MustCompile(`<[^>]*>`)

// DataCite.

type dataciteEnvelope struct {
	Data json.RawMessage `json:"data"`
}

type dataciteRecord struct {
	ID         jtext           `json:"id"`
	Attributes json.RawMessage `json:"attributes"`
}

type dataciteMeta struct {
	DOI        jtext `json:"doi"`
	Identifier *struct {
		Identifier     jtext `json:"identifier"`
		IdentifierType jtext `json:"identifierType"`
	} `json:"identifier"`
	Identifiers []struct {
		Identifier     jtext `json:"identifier"`
		IdentifierType jtext `json:"identifierType"`
	} `json:"identifiers"`
	Titles jlist[struct {
		Title     jtext `json:"title"`
		TitleType jtext `json:"titleType"`
	}] `json:"titles"`
	Creators jlist[struct {
		Name       jtext `json:"name"`
		GivenName  jtext `json:"givenName"`
		FamilyName jtext `json:"familyName"`
	}] `json:"creators"`
	PublicationYear jtext `json:"publicationYear"`
	Publisher       jtext `json:"publisher"`
	Container       *struct {
		Title jtext `json:"title"`
	} `json:"container"`
	Subjects jlist[struct {
		Subject jtext `json:"subject"`
	}] `json:"subjects"`
	Descriptions jlist[struct {
		Description     jtext `json:"description"`
		DescriptionType jtext `json:"descriptionType"`
	}] `json:"descriptions"`
	RightsList jlist[struct {
		Rights    jtext `json:"rights"`
		RightsURI jtext `json:"rightsUri"`
	}] `json:"rightsList"`
	RelatedIdentifiers jlist[struct {
		RelatedIdentifier     jtext `json:"relatedIdentifier"`
		RelatedIdentifierType jtext `json:"relatedIdentifierType"`
		RelationType          jtext `json:"relationType"`
	}] `json:"relatedIdentifiers"`
}

// datacite reads DataCite JSON: the REST API's {"data": {...}} or
// {"data": [...]}, a bare record with "attributes", or plain metadata
// JSON (or an array of it).
func (p *parser) datacite(data []byte) ([]lit.Document, error) {
	data = bytes.TrimSpace(trimBOM(data))
	var raws []json.RawMessage
	if len(data) > 0 && data[0] == '[' {
		if err := p.decodeJSON(data, &raws); err != nil {
			return nil, err
		}
	} else {
		var env dataciteEnvelope
		if err := p.decodeJSON(data, &env); err != nil {
			return nil, err
		}
		d := bytes.TrimSpace(env.Data)
		switch {
		case len(d) > 0 && d[0] == '[':
			if err := p.decodeJSON(d, &raws); err != nil {
				return nil, err
			}
		case len(d) > 0 && d[0] == '{':
			raws = []json.RawMessage{d}
		default:
			raws = []json.RawMessage{data}
		}
	}
	var docs []lit.Document
	for _, raw := range raws {
		var rec dataciteRecord
		if err := p.decodeJSON(raw, &rec); err != nil {
			return nil, err
		}
		attrs := []byte(rec.Attributes)
		if len(attrs) == 0 || bytes.Equal(attrs, []byte("null")) {
			attrs = raw
		}
		var m dataciteMeta
		if err := p.decodeJSON(attrs, &m); err != nil {
			return nil, err
		}
		if err := p.more(); err != nil {
			return nil, err
		}
		docs = append(docs, dataciteDoc(m, string(rec.ID)))
	}
	return docs, nil
}

func dataciteDoc(m dataciteMeta, id string) lit.Document {
	d := lit.Document{DOI: string(m.DOI), Year: year(string(m.PublicationYear)), Venue: string(m.Publisher)}
	if d.DOI == "" && m.Identifier != nil && strings.EqualFold(string(m.Identifier.IdentifierType), "DOI") {
		d.DOI = string(m.Identifier.Identifier)
	}
	for _, i := range m.Identifiers {
		if d.DOI == "" && strings.EqualFold(string(i.IdentifierType), "DOI") {
			d.DOI = string(i.Identifier)
		}
		if d.ArXiv == "" && strings.EqualFold(string(i.IdentifierType), "arXiv") {
			d.ArXiv = string(i.Identifier)
		}
	}
	if d.DOI == "" {
		d.DOI = id
	}
	if m.Container != nil && m.Container.Title != "" {
		d.Venue = string(m.Container.Title)
	}
	for _, t := range m.Titles {
		if t.TitleType == "" && d.Title == "" {
			d.Title = string(t.Title)
		}
	}
	for _, t := range m.Titles {
		if t.TitleType == "Subtitle" && d.Title != "" {
			d.Title += ": " + string(t.Title)
		}
	}
	if d.Title == "" && len(m.Titles) > 0 {
		d.Title = string(m.Titles[0].Title)
	}
	for _, c := range m.Creators {
		n := strings.TrimSpace(string(c.GivenName) + " " + string(c.FamilyName))
		if strings.TrimSpace(string(c.FamilyName)) == "" {
			n = personName(string(c.Name))
		}
		d.Authors = append(d.Authors, n)
	}
	for _, s := range m.Subjects {
		d.Keywords = append(d.Keywords, string(s.Subject))
	}
	for _, desc := range m.Descriptions {
		if d.Abstract == "" && (desc.DescriptionType == "" || strings.EqualFold(string(desc.DescriptionType), "Abstract")) {
			d.Abstract = string(desc.Description)
		}
	}
	for _, r := range m.RightsList {
		if d.License == "" {
			d.License = string(r.RightsURI)
			if d.License == "" {
				d.License = string(r.Rights)
			}
		}
	}
	for _, r := range m.RelatedIdentifiers {
		switch r.RelationType {
		case "Cites", "References", "IsSupplementTo", "IsDerivedFrom":
		default:
			continue
		}
		ref := lit.Reference{Text: fmt.Sprintf("%s %s", r.RelatedIdentifierType, r.RelatedIdentifier)}
		switch strings.ToLower(string(r.RelatedIdentifierType)) {
		case "doi":
			ref.DOI = string(r.RelatedIdentifier)
		case "arxiv":
			ref.ArXiv = string(r.RelatedIdentifier)
		case "pmid":
			ref.PMID = string(r.RelatedIdentifier)
		case "url":
			ref.DOI = NormalizeDOI(string(r.RelatedIdentifier))
			ref.ArXiv = NormalizeArXiv(string(r.RelatedIdentifier))
		}
		d.References = append(d.References, ref)
	}
	return d
}
