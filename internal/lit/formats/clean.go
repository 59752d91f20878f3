package formats

import (
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/text"
)

// clean returns s as one sanitised line: invalid UTF-8 replaced by U+FFFD,
// control and bidirectional-override characters turned into spaces, runs
// of white space collapsed to one space, trimmed, and cut (at a character
// boundary) to at most max bytes. clean(clean(s, n), n) == clean(s, n).
func clean(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexFunc(s, text.Forbidden) >= 0 || strings.ContainsRune(s, '\uFEFF') {
		s = strings.Map(func(r rune) rune {
			if text.Forbidden(r) {
				return ' '
			}
			if r == '\uFEFF' { // byte-order mark / zero-width no-break space
				return -1
			}
			return r
		}, s)
	}
	if needsCollapse(s) {
		s = strings.Join(strings.Fields(s), " ")
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimRight(s[:cut], " ")
	}
	return s
}

// needsCollapse reports whether s has white space other than single
// interior ASCII spaces.
func needsCollapse(s string) bool {
	prevSpace := true // a leading space needs trimming
	for _, r := range s {
		switch {
		case r == ' ':
			if prevSpace {
				return true
			}
			prevSpace = true
		case r < 0x80 && r != ' ' && (r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f'):
			return true
		case r >= 0x80 && isUnicodeSpace(r):
			return true
		default:
			prevSpace = false
		}
	}
	return prevSpace && s != ""
}

func isUnicodeSpace(r rune) bool {
	switch r {
	case 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
		return true
	}
	return r >= 0x2000 && r <= 0x200A
}

// Normalize cleans and bounds every field of d in place and normalises its
// identifiers, dropping empty list items. Parse applies it to every
// document; applying it again changes nothing.
func Normalize(d *lit.Document) {
	d.DOI = NormalizeDOI(d.DOI)
	d.ArXiv = NormalizeArXiv(d.ArXiv)
	d.PMID = NormalizePMID(d.PMID)
	d.PMCID = NormalizePMCID(d.PMCID)
	d.Title = clean(d.Title, MaxTitleBytes)
	d.Authors = cleanList(d.Authors, MaxTitleBytes, false)
	if d.Year < 1000 || d.Year > 2999 {
		d.Year = 0
	}
	d.Venue = clean(d.Venue, MaxTitleBytes)
	d.License = clean(d.License, MaxTitleBytes)
	d.Keywords = cleanList(d.Keywords, MaxTitleBytes, true)
	d.Abstract = clean(d.Abstract, MaxFieldBytes)

	secs := d.Sections[:0]
	for _, s := range d.Sections {
		s.Heading = clean(s.Heading, MaxTitleBytes)
		s.Paragraphs = cleanList(s.Paragraphs, MaxFieldBytes, false)
		if len(s.Paragraphs) > 0 && len(secs) < MaxListItems {
			secs = append(secs, s)
		}
	}
	d.Sections = nilIfEmpty(secs)

	caps := d.Captions[:0]
	for _, c := range d.Captions {
		c.Label = clean(c.Label, MaxTitleBytes)
		c.Text = clean(c.Text, MaxFieldBytes)
		if c.Text != "" && len(caps) < MaxListItems {
			caps = append(caps, c)
		}
	}
	d.Captions = nilIfEmpty(caps)

	refs := d.References[:0]
	for _, r := range d.References {
		r.DOI = NormalizeDOI(r.DOI)
		r.ArXiv = NormalizeArXiv(r.ArXiv)
		r.PMID = NormalizePMID(r.PMID)
		r.Title = clean(r.Title, MaxTitleBytes)
		r.Text = clean(r.Text, MaxReferenceText)
		if (r.DOI != "" || r.ArXiv != "" || r.PMID != "" || r.Title != "" || r.Text != "") && len(refs) < MaxListItems {
			refs = append(refs, r)
		}
	}
	d.References = nilIfEmpty(refs)
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}

// cleanList cleans every item, drops empty ones (and, if dedupe,
// case-insensitive repeats), and keeps at most MaxListItems.
func cleanList(items []string, max int, dedupe bool) []string {
	out := items[:0]
	var seen map[string]bool
	if dedupe {
		seen = map[string]bool{}
	}
	for _, s := range items {
		s = clean(s, max)
		if s == "" || len(out) >= MaxListItems {
			continue
		}
		if dedupe {
			k := strings.ToLower(s)
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, s)
	}
	return nilIfEmpty(out)
}

var (
	doiPrefix = regexp.MustCompile(`(?i)^(?:https?://(?:dx\.)?doi\.org/|doi\.org/|info:doi/|doi:\s*|urn:doi:)`)
	doiRe     = regexp.MustCompile(`^10\.[0-9]{3,9}(?:\.[0-9]+)*/\S+$`)
)

// NormalizeDOI returns the DOI in s lower-cased without a resolver or
// "doi:" prefix ("https://doi.org/10.1000/XYZ" → "10.1000/xyz"), or "" if s
// holds none.
func NormalizeDOI(s string) string {
	s = clean(s, 1024)
	for {
		t := doiPrefix.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	s = strings.TrimRight(s, ".,;")
	s = strings.ToLower(s)
	if len(s) > maxIDBytes || !doiRe.MatchString(s) {
		return ""
	}
	return s
}

var (
	arxivPrefix = regexp.MustCompile(`(?i)^(?:https?://(?:www\.|export\.)?arxiv\.org/(?:abs|pdf)/|arxiv:\s*)`)
	arxivNew    = regexp.MustCompile(`^([0-9]{4}\.[0-9]{4,5})(?:v[0-9]+)?$`)
	arxivOld    = regexp.MustCompile(`^([a-z][a-z-]*(?:\.[A-Z]{2})?/[0-9]{7})(?:v[0-9]+)?$`)
)

// NormalizeArXiv returns the arXiv identifier in s without "arXiv:", URL or
// version ("arXiv:2101.00001v2" → "2101.00001", "cond-mat/0101001"), or "".
func NormalizeArXiv(s string) string {
	s = clean(s, 1024)
	s = arxivPrefix.ReplaceAllString(s, "")
	s = strings.TrimSuffix(s, ".pdf")
	if m := arxivNew.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if m := arxivOld.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	return ""
}

var pmidRe = regexp.MustCompile(`^[0-9]{1,12}$`)

// NormalizePMID returns the PubMed ID in s as digits ("PMID: 123" → "123"),
// or "".
func NormalizePMID(s string) string {
	s = clean(s, 256)
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(strings.ToUpper(s), "PMID"), ":"))
	s = strings.TrimPrefix(s, "HTTPS://PUBMED.NCBI.NLM.NIH.GOV/")
	s = strings.TrimSuffix(s, "/")
	if !pmidRe.MatchString(s) {
		return ""
	}
	return s
}

// NormalizePMCID returns the PubMed Central ID in s as "PMC" and digits
// ("pmc123", "123" → "PMC123"), or "".
func NormalizePMCID(s string) string {
	s = strings.ToUpper(clean(s, 256))
	s = strings.TrimSpace(strings.TrimPrefix(s, "PMCID:"))
	s = strings.TrimSpace(strings.TrimPrefix(s, "PMC"))
	if !pmidRe.MatchString(s) {
		return ""
	}
	return "PMC" + s
}

var yearRe = regexp.MustCompile(`(?:^|[^0-9])((?:1[0-9]|2[0-9])[0-9]{2})(?:[^0-9]|$)`)

// year returns the first plausible four-digit year in s, or 0.
func year(s string) int {
	m := yearRe.FindStringSubmatch(s)
	if m == nil {
		return 0
	}
	y := 0
	for _, c := range m[1] {
		y = y*10 + int(c-'0')
	}
	return y
}

// personName turns "Family, Given" into "Given Family" (and "Family, Jr,
// Given" into "Given Family Jr"); other forms are kept.
func personName(s string) string {
	parts := strings.Split(s, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	switch len(parts) {
	case 2:
		if parts[1] == "" {
			return parts[0]
		}
		return parts[1] + " " + parts[0]
	case 3:
		return strings.TrimSpace(parts[2] + " " + parts[0] + " " + parts[1])
	}
	return strings.TrimSpace(s)
}

var superscripts = map[rune]rune{
	'0': '⁰', '1': '¹', '2': '²', '3': '³', '4': '⁴', '5': '⁵', '6': '⁶', '7': '⁷', '8': '⁸', '9': '⁹',
	'+': '⁺', '-': '⁻', '−': '⁻', '–': '⁻', '=': '⁼', '(': '⁽', ')': '⁾', 'n': 'ⁿ', 'i': 'ⁱ',
}

// superscript writes s in Unicode superscript characters when every
// character has one ("−3" → "⁻³"); otherwise it returns s unchanged.
func superscript(s string) string {
	t := strings.TrimSpace(s)
	if t == "" {
		return s
	}
	var b strings.Builder
	for _, r := range t {
		sr, ok := superscripts[r]
		if !ok {
			return s
		}
		b.WriteRune(sr)
	}
	return b.String()
}
