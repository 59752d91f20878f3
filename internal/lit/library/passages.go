package library

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/text"
)

// MaxPassageBytes bounds a passage: longer paragraphs are split at
// sentence boundaries (a sentence longer than this at a word boundary).
const MaxPassageBytes = 1500

// sourceID is a document's identity at its source, strongest first: DOI,
// arXiv ID, PMID, PMCID, else a hash of its content.
func sourceID(d *lit.Document) string {
	switch {
	case d.DOI != "":
		return "doi:" + strings.ToLower(d.DOI)
	case d.ArXiv != "":
		return "arxiv:" + strings.ToLower(d.ArXiv)
	case d.PMID != "":
		return "pmid:" + d.PMID
	case d.PMCID != "":
		return "pmcid:" + strings.ToUpper(d.PMCID)
	}
	b, _ := json.Marshal(d)
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// baseName is the name a new publication of d asks for: its identifier
// ("doi-10.1101-2020.01.01"), else a slug of its title, in the catalog's
// name grammar.
func baseName(d *lit.Document) string {
	var n string
	switch {
	case d.DOI != "":
		n = "doi-" + d.DOI
	case d.ArXiv != "":
		n = "arxiv-" + d.ArXiv
	case d.PMID != "":
		n = "pmid-" + d.PMID
	case d.PMCID != "":
		n = d.PMCID
	default:
		n = d.Title
	}
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(n) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.' && b.Len() > 0:
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 56 {
			break
		}
	}
	s := strings.Trim(b.String(), "-.")
	if s == "" || !genesis.ValidName(s) {
		return "publication"
	}
	return s
}

// titleKey folds a title for matching a reference to a publication by
// title: letters and digits, lower case, single spaces. Short titles
// match nothing ("Introduction" is not a paper).
func titleKey(t string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(t) {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			b.WriteRune(r)
			space = false
		default:
			space = true
		}
	}
	if b.Len() < 20 {
		return ""
	}
	return b.String()
}

// clean makes text from outside safe to store and show: valid UTF-8,
// no control characters (newlines kept in blocks), trimmed.
func clean(s string, multiline bool) string {
	s, _ = text.Sanitize(strings.ToValidUTF8(s, "\uFFFD"), multiline)
	return strings.TrimSpace(s)
}

// sanitize cleans every string of d in place.
func sanitize(d *lit.Document) {
	line := func(s *string) { *s = clean(*s, false) }
	line(&d.DOI)
	line(&d.ArXiv)
	line(&d.PMID)
	line(&d.PMCID)
	line(&d.Title)
	line(&d.Venue)
	line(&d.License)
	d.Abstract = clean(d.Abstract, true)
	for i := range d.Authors {
		line(&d.Authors[i])
	}
	for i := range d.Keywords {
		line(&d.Keywords[i])
	}
	for i := range d.Sections {
		line(&d.Sections[i].Heading)
		for j := range d.Sections[i].Paragraphs {
			d.Sections[i].Paragraphs[j] = clean(d.Sections[i].Paragraphs[j], true)
		}
	}
	for i := range d.Captions {
		line(&d.Captions[i].Label)
		d.Captions[i].Text = clean(d.Captions[i].Text, true)
	}
	for i := range d.References {
		r := &d.References[i]
		line(&r.DOI)
		line(&r.ArXiv)
		line(&r.PMID)
		line(&r.Title)
		line(&r.Text)
	}
	d.DOI = strings.ToLower(d.DOI)
}

// passageID is stable: the source identity, the passage's kind, section,
// place in its section and text.
func passageID(src, kind, section string, ord int, txt string) string {
	h := sha256.New()
	for _, s := range []string{src, kind, section, strconv.Itoa(ord), txt} {
		h.Write([]byte(strconv.Itoa(len(s))))
		h.Write([]byte{':'})
		h.Write([]byte(s))
	}
	return "psg_" + hex.EncodeToString(h.Sum(nil)[:12])
}

// split cuts d into passages in reading order: title, abstract, each
// section's paragraphs, captions. IDs are set; publication fields are not.
func split(d *lit.Document, src string) []lit.Passage {
	var out []lit.Passage
	perSection := map[[2]string]int{}
	add := func(kind, section, txt string) {
		for _, part := range chunks(txt, MaxPassageBytes) {
			key := [2]string{kind, section}
			n := perSection[key]
			perSection[key]++
			out = append(out, lit.Passage{ID: passageID(src, kind, section, n, part), Ordinal: len(out), Kind: kind, Section: section, Text: part})
		}
	}
	if d.Title != "" {
		add(lit.PassageTitle, "", d.Title)
	}
	if d.Abstract != "" {
		add(lit.PassageAbstract, "", d.Abstract)
	}
	for _, sec := range d.Sections {
		for _, p := range sec.Paragraphs {
			add(lit.PassageBody, sec.Heading, p)
		}
	}
	for _, c := range d.Captions {
		add(lit.PassageCaption, c.Label, c.Text)
	}
	return out
}

// chunks splits s into pieces of at most max bytes at sentence
// boundaries; a sentence longer than max is cut at spaces (or, failing
// that, at a rune boundary). Whitespace at the cuts is dropped.
func chunks(s string, max int) []string {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if len(s) <= max {
		return []string{s}
	}
	var out []string
	cur := ""
	flush := func() {
		if c := strings.TrimSpace(cur); c != "" {
			out = append(out, c)
		}
		cur = ""
	}
	for _, sent := range sentences(s) {
		for len(sent) > max {
			flush()
			cut := strings.LastIndexByte(sent[:max], ' ')
			if cut <= 0 {
				cut = max
				for cut > 0 && !utf8.RuneStart(sent[cut]) {
					cut--
				}
			}
			out = append(out, strings.TrimSpace(sent[:cut]))
			sent = strings.TrimSpace(sent[cut:])
		}
		if len(cur)+1+len(sent) > max {
			flush()
		}
		if cur != "" {
			cur += " "
		}
		cur += sent
	}
	flush()
	return out
}

// sentences splits s after '.', '!' or '?' followed by white space and an
// upper-case letter, digit or opening bracket (so "1.5 eV" and "et al. and"
// stay whole).
func sentences(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		j := i + 1
		if j >= len(s) || (s[j] != ' ' && s[j] != '\n') {
			continue
		}
		for j < len(s) && (s[j] == ' ' || s[j] == '\n') {
			j++
		}
		if j < len(s) {
			r, _ := utf8.DecodeRuneInString(s[j:])
			if !unicode.IsUpper(r) && !unicode.IsDigit(r) && r != '(' && r != '[' {
				continue
			}
		}
		if t := strings.TrimSpace(s[start : i+1]); t != "" {
			out = append(out, t)
		}
		start = j
	}
	if t := strings.TrimSpace(s[start:]); t != "" {
		out = append(out, t)
	}
	return out
}

// citationOf is d's citation.
func citationOf(d *lit.Document) lit.Citation {
	return lit.Citation{Title: d.Title, Authors: d.Authors, Year: d.Year, Venue: d.Venue, DOI: d.DOI, ArXiv: d.ArXiv}
}

// formatCitation renders c for a reader: "Family et al. (2021) Title.
// Venue. doi:…".
func formatCitation(c lit.Citation) string {
	var b strings.Builder
	if len(c.Authors) > 0 {
		f := strings.Fields(c.Authors[0])
		if len(f) > 0 {
			b.WriteString(f[len(f)-1])
		}
		switch len(c.Authors) {
		case 1:
		case 2:
			if g := strings.Fields(c.Authors[1]); len(g) > 0 {
				b.WriteString(" and " + g[len(g)-1])
			}
		default:
			b.WriteString(" et al.")
		}
		b.WriteByte(' ')
	}
	if c.Year > 0 {
		b.WriteString("(" + strconv.Itoa(c.Year) + ") ")
	}
	t := strings.TrimRight(c.Title, ".")
	if t == "" {
		t = "Untitled"
	}
	b.WriteString(t + ".")
	if c.Venue != "" {
		b.WriteString(" " + strings.TrimRight(c.Venue, ".") + ".")
	}
	switch {
	case c.DOI != "":
		b.WriteString(" doi:" + c.DOI)
	case c.ArXiv != "":
		b.WriteString(" arXiv:" + c.ArXiv)
	}
	return strings.TrimSpace(b.String())
}
