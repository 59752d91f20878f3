package meta

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
)

// Core is the harmonised core metadata of an asset. Field names in JSON are
// stable snake_case; empty fields are omitted.
type Core struct {
	Title        string       `json:"title"`
	Description  string       `json:"description,omitempty"`
	Creators     []Creator    `json:"creators,omitempty"`
	Organization string       `json:"organization,omitempty"`
	Keywords     []string     `json:"keywords,omitempty"`
	Domain       Domain       `json:"domain,omitempty"`
	License      string       `json:"license,omitempty"` // SPDX id (canonical case) or http(s) URL
	DOI          string       `json:"doi,omitempty"`     // bare, lower case: "10.1234/abc"
	Identifiers  []Identifier `json:"identifiers,omitempty"`
	Temporal     *Temporal    `json:"temporal,omitempty"`
	Spatial      *Spatial     `json:"spatial,omitempty"`
	Variables    []Variable   `json:"variables,omitempty"`
	Instrument   string       `json:"instrument,omitempty"`
	Facility     string       `json:"facility,omitempty"`
	Funding      []Funding    `json:"funding,omitempty"`
	Challenges   []string     `json:"challenges,omitempty"` // national challenge ids or URLs
	Origin       Origin       `json:"origin,omitempty"`
	AccessNotes  string       `json:"access_notes,omitempty"`
	LandingPage  string       `json:"landing_page,omitempty"`
	Publisher    string       `json:"publisher,omitempty"`
	Issued       string       `json:"issued,omitempty"`   // YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339
	Modified     string       `json:"modified,omitempty"` // same forms as Issued
}

// Creator is a person or organisation that made the asset.
type Creator struct {
	Name        string `json:"name"`
	ORCID       string `json:"orcid,omitempty"` // bare "0000-0002-1825-0097"
	Affiliation string `json:"affiliation,omitempty"`
}

// Identifier is an identifier other than the DOI.
type Identifier struct {
	Value  string `json:"value"`
	Scheme string `json:"scheme,omitempty"` // e.g. "url", "uuid", "osti", "local"
}

// Temporal is a time span; either end may be open.
type Temporal struct {
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
}

// Spatial is a bounding box, a place name, or both.
type Spatial struct {
	BBox  *BBox  `json:"bbox,omitempty"`
	Place string `json:"place,omitempty"`
}

// BBox is a WGS 84 bounding box in degrees. West > East crosses the antimeridian.
type BBox struct {
	West  float64 `json:"west"`
	South float64 `json:"south"`
	East  float64 `json:"east"`
	North float64 `json:"north"`
}

// Variable is a measured or computed quantity in the asset.
type Variable struct {
	Name        string `json:"name"`
	Unit        string `json:"unit,omitempty"`
	Description string `json:"description,omitempty"`
}

// Funding is a funder and, optionally, the award.
type Funding struct {
	Funder      string `json:"funder"`
	AwardNumber string `json:"award_number,omitempty"`
	AwardTitle  string `json:"award_title,omitempty"`
	AwardURI    string `json:"award_uri,omitempty"`
}

// Origin says how the data came to be.
type Origin string

const (
	Observed  Origin = "observed"
	Simulated Origin = "simulated"
	Synthetic Origin = "synthetic"
)

// Limits on sizes, checked by Validate.
const (
	MaxTitleLen       = 2000  // bytes
	MaxDescriptionLen = 65536 // bytes; also access notes
	MaxShortLen       = 2000  // bytes, every other text field
	MaxListLen        = 1000  // creators, keywords, identifiers, variables, funding, challenges
)

var (
	doiRE     = regexp.MustCompile(`^10\.[0-9]{4,9}(\.[0-9]+)*/[\x21-\x7e\p{L}\p{N}]+$`)
	orcidRE   = regexp.MustCompile(`^[0-9]{4}-[0-9]{4}-[0-9]{4}-[0-9]{3}[0-9X]$`)
	spdxIDRE  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9.+-]*( (WITH|AND|OR) [A-Za-z0-9][A-Za-z0-9.+-]*)*$`)
	bidiChars = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
)

// CleanText returns s as plain single-line text: invalid UTF-8, control and
// bidirectional-override characters removed, runs of white space collapsed,
// ends trimmed. Markup is left alone (it is text; renderers escape it).
func CleanText(s string) string { return clean(s, false) }

// CleanMultiline is CleanText that keeps line breaks and tabs.
func CleanMultiline(s string) string { return clean(s, true) }

func clean(s string, multiline bool) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == utf8.RuneError && n <= 1 {
			continue
		}
		if r == '\r' {
			if i < len(s) && s[i] == '\n' {
				continue
			}
			r = '\n'
		}
		if multiline && (r == '\n' || r == '\t') {
			b.WriteRune(r)
			space = false
			continue
		}
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if unicode.IsControl(r) || strings.ContainsRune(bidiChars, r) || r == '\ufeff' {
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	out := b.String()
	if multiline {
		// Trim trailing spaces on each line and blank lines at both ends.
		lines := strings.Split(out, "\n")
		for i, l := range lines {
			lines[i] = strings.TrimRight(l, " \t")
		}
		out = strings.Trim(strings.Join(lines, "\n"), "\n\t ")
	}
	return out
}

// NormalizeDOI returns the bare lower-case DOI of s ("https://doi.org/10.X/Y",
// "doi:10.X/Y" and "10.X/Y" all give "10.x/y") and whether it is valid.
func NormalizeDOI(s string) (string, bool) {
	s = strings.TrimSpace(s)
	low := strings.ToLower(s)
	for _, p := range []string{"https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/", "doi.org/", "doi:"} {
		if strings.HasPrefix(low, p) {
			s = strings.TrimSpace(s[len(p):])
			break
		}
	}
	if u, err := url.PathUnescape(s); err == nil && !strings.ContainsAny(s, " ") {
		s = u
	}
	s = strings.ToLower(s)
	return s, len(s) <= MaxShortLen && doiRE.MatchString(s)
}

// NormalizeORCID returns the bare hyphenated ORCID iD of s (accepting the
// https://orcid.org/ form and a lower-case x) and whether its ISO 7064 11,2
// check digit is right.
func NormalizeORCID(s string) (string, bool) {
	s = strings.TrimSpace(s)
	low := strings.ToLower(s)
	for _, p := range []string{"https://orcid.org/", "http://orcid.org/", "orcid.org/", "orcid:"} {
		if strings.HasPrefix(low, p) {
			s = s[len(p):]
			break
		}
	}
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) == 16 && !strings.Contains(s, "-") {
		s = s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
	}
	if !orcidRE.MatchString(s) {
		return s, false
	}
	total := 0
	digits := strings.ReplaceAll(s, "-", "")
	for _, c := range digits[:15] {
		total = (total + int(c-'0')) * 2
	}
	check := (12 - total%11) % 11
	want := byte('0' + check)
	if check == 10 {
		want = 'X'
	}
	return s, digits[15] == want
}

// ParseDate parses the date forms Core accepts: YYYY, YYYY-MM, YYYY-MM-DD,
// YYYY-MM-DDThh:mm:ss with or without a zone (RFC 3339).
func ParseDate(s string) (time.Time, bool) {
	for _, layout := range []string{"2006", "2006-01", "2006-01-02", time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999", "2006-01-02T15:04"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && !strings.ContainsAny(s, " \t\n")
}

// ValidLicense reports whether s is acceptable as Core.License: an SPDX
// license expression made of ids, or an http(s) URL. It does not say that the
// license is known; see LookupLicense.
func ValidLicense(s string) bool {
	return isHTTPURL(s) || spdxIDRE.MatchString(s)
}

// Normalize cleans every text field, canonicalises the DOI, ORCID iDs,
// license and domain where it can, and drops empty list entries and
// duplicate keywords. It never rejects anything: Validate does.
func (c *Core) Normalize() {
	c.Title = CleanText(c.Title)
	c.Description = CleanMultiline(c.Description)
	c.Organization = CleanText(c.Organization)
	c.Instrument = CleanText(c.Instrument)
	c.Facility = CleanText(c.Facility)
	c.AccessNotes = CleanMultiline(c.AccessNotes)
	c.LandingPage = CleanText(c.LandingPage)
	c.Publisher = CleanText(c.Publisher)
	c.Issued = CleanText(c.Issued)
	c.Modified = CleanText(c.Modified)
	c.License = NormalizeLicense(CleanText(c.License))
	if c.DOI = CleanText(c.DOI); c.DOI != "" {
		if d, ok := NormalizeDOI(c.DOI); ok {
			c.DOI = d
		}
	}
	if c.Domain != "" {
		if d, ok := ParseDomain(string(c.Domain)); ok {
			c.Domain = d
		}
	}
	c.Origin = Origin(strings.ToLower(CleanText(string(c.Origin))))
	var cr []Creator
	for _, x := range c.Creators {
		x.Name, x.Affiliation = CleanText(x.Name), CleanText(x.Affiliation)
		if x.ORCID = CleanText(x.ORCID); x.ORCID != "" {
			if o, ok := NormalizeORCID(x.ORCID); ok {
				x.ORCID = o
			}
		}
		if x.Name != "" || x.ORCID != "" || x.Affiliation != "" {
			cr = append(cr, x)
		}
	}
	c.Creators = cr
	c.Keywords = cleanList(c.Keywords, true)
	c.Challenges = cleanList(c.Challenges, false)
	var ids []Identifier
	for _, x := range c.Identifiers {
		x.Value, x.Scheme = CleanText(x.Value), strings.ToLower(CleanText(x.Scheme))
		if x.Value != "" {
			ids = append(ids, x)
		}
	}
	c.Identifiers = ids
	var vs []Variable
	for _, x := range c.Variables {
		x.Name, x.Unit, x.Description = CleanText(x.Name), CleanText(x.Unit), CleanText(x.Description)
		if x.Name != "" || x.Unit != "" || x.Description != "" {
			vs = append(vs, x)
		}
	}
	c.Variables = vs
	var fs []Funding
	for _, x := range c.Funding {
		x.Funder, x.AwardNumber, x.AwardTitle, x.AwardURI = CleanText(x.Funder), CleanText(x.AwardNumber), CleanText(x.AwardTitle), CleanText(x.AwardURI)
		if x != (Funding{}) {
			fs = append(fs, x)
		}
	}
	c.Funding = fs
	if c.Temporal != nil {
		c.Temporal.Start, c.Temporal.End = CleanText(c.Temporal.Start), CleanText(c.Temporal.End)
		if *c.Temporal == (Temporal{}) {
			c.Temporal = nil
		}
	}
	if c.Spatial != nil {
		c.Spatial.Place = CleanText(c.Spatial.Place)
		if c.Spatial.BBox == nil && c.Spatial.Place == "" {
			c.Spatial = nil
		}
	}
}

func cleanList(in []string, dedup bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		s = CleanText(s)
		if s == "" {
			continue
		}
		if dedup {
			k := strings.ToLower(s)
			if seen[k] {
				continue
			}
			seen[k] = true
		}
		out = append(out, s)
	}
	return out
}

func invalid(op errors.Op, field, format string, args ...any) error {
	return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+": "+fmt.Sprintf(format, args...)))
}

// Validate reports the first problem with c as an errors.Invalid error whose
// Field names the offending field ("creators[1].orcid"). It checks what must
// hold for a Core to be stored and shown: a title, sizes, clean text,
// enumerations, identifier syntax and checksums, dates, coverage and URLs.
// Completeness beyond the title is the quality score's business (Assess).
func (c *Core) Validate() error {
	const op errors.Op = "meta.Validate"
	text := func(field, s string, max int, multiline bool) error {
		if len(s) > max {
			return invalid(op, field, "longer than %d bytes", max)
		}
		if !utf8.ValidString(s) || clean(s, multiline) != s {
			return invalid(op, field, "contains control characters or untrimmed white space")
		}
		return nil
	}
	list := func(field string, n int) error {
		if n > MaxListLen {
			return invalid(op, field, "more than %d entries", MaxListLen)
		}
		return nil
	}
	date := func(field, s string) error {
		if s == "" {
			return nil
		}
		if _, ok := ParseDate(s); !ok {
			return invalid(op, field, "not a date (YYYY, YYYY-MM, YYYY-MM-DD or RFC 3339)")
		}
		return nil
	}
	if c.Title == "" {
		return invalid(op, "title", "required")
	}
	for _, f := range []struct {
		name  string
		val   string
		max   int
		multi bool
	}{
		{"title", c.Title, MaxTitleLen, false},
		{"description", c.Description, MaxDescriptionLen, true},
		{"organization", c.Organization, MaxShortLen, false},
		{"license", c.License, MaxShortLen, false},
		{"doi", c.DOI, MaxShortLen, false},
		{"instrument", c.Instrument, MaxShortLen, false},
		{"facility", c.Facility, MaxShortLen, false},
		{"access_notes", c.AccessNotes, MaxDescriptionLen, true},
		{"landing_page", c.LandingPage, MaxShortLen, false},
		{"publisher", c.Publisher, MaxShortLen, false},
		{"issued", c.Issued, MaxShortLen, false},
		{"modified", c.Modified, MaxShortLen, false},
	} {
		if err := text(f.name, f.val, f.max, f.multi); err != nil {
			return err
		}
	}
	if err := list("creators", len(c.Creators)); err != nil {
		return err
	}
	for i, x := range c.Creators {
		p := fmt.Sprintf("creators[%d]", i)
		if x.Name == "" {
			return invalid(op, p+".name", "required")
		}
		if err := text(p+".name", x.Name, MaxShortLen, false); err != nil {
			return err
		}
		if err := text(p+".affiliation", x.Affiliation, MaxShortLen, false); err != nil {
			return err
		}
		if x.ORCID != "" {
			if o, ok := NormalizeORCID(x.ORCID); !ok || o != x.ORCID {
				return invalid(op, p+".orcid", "not a valid ORCID iD (form 0000-0000-0000-000X with a correct check digit)")
			}
		}
	}
	if err := list("keywords", len(c.Keywords)); err != nil {
		return err
	}
	for i, k := range c.Keywords {
		p := fmt.Sprintf("keywords[%d]", i)
		if k == "" {
			return invalid(op, p, "empty")
		}
		if err := text(p, k, MaxShortLen, false); err != nil {
			return err
		}
	}
	if c.Domain != "" && !c.Domain.Known() {
		return invalid(op, "domain", "unknown domain (one of %s)", strings.Join(domainNames(), ", "))
	}
	if c.License != "" && !ValidLicense(c.License) {
		return invalid(op, "license", "not an SPDX license id or an http(s) URL")
	}
	if c.DOI != "" {
		if d, ok := NormalizeDOI(c.DOI); !ok || d != c.DOI {
			return invalid(op, "doi", "not a DOI in bare lower-case form (10.NNNN/suffix)")
		}
	}
	if err := list("identifiers", len(c.Identifiers)); err != nil {
		return err
	}
	for i, x := range c.Identifiers {
		p := fmt.Sprintf("identifiers[%d]", i)
		if x.Value == "" {
			return invalid(op, p+".value", "required")
		}
		if err := text(p+".value", x.Value, MaxShortLen, false); err != nil {
			return err
		}
		if err := text(p+".scheme", x.Scheme, MaxShortLen, false); err != nil {
			return err
		}
	}
	if t := c.Temporal; t != nil {
		if t.Start == "" && t.End == "" {
			return invalid(op, "temporal", "empty: give start, end or both")
		}
		if err := date("temporal.start", t.Start); err != nil {
			return err
		}
		if err := date("temporal.end", t.End); err != nil {
			return err
		}
		if t.Start != "" && t.End != "" {
			s, _ := ParseDate(t.Start)
			e, _ := ParseDate(t.End)
			if e.Before(s) {
				return invalid(op, "temporal.end", "before temporal.start")
			}
		}
	}
	if sp := c.Spatial; sp != nil {
		if sp.BBox == nil && sp.Place == "" {
			return invalid(op, "spatial", "empty: give bbox, place or both")
		}
		if err := text("spatial.place", sp.Place, MaxShortLen, false); err != nil {
			return err
		}
		if b := sp.BBox; b != nil {
			switch {
			case !(b.West >= -180 && b.West <= 180):
				return invalid(op, "spatial.bbox.west", "not a longitude in [-180, 180]")
			case !(b.East >= -180 && b.East <= 180):
				return invalid(op, "spatial.bbox.east", "not a longitude in [-180, 180]")
			case !(b.South >= -90 && b.South <= 90):
				return invalid(op, "spatial.bbox.south", "not a latitude in [-90, 90]")
			case !(b.North >= -90 && b.North <= 90):
				return invalid(op, "spatial.bbox.north", "not a latitude in [-90, 90]")
			case b.South > b.North:
				return invalid(op, "spatial.bbox.south", "greater than north")
			}
		}
	}
	if err := list("variables", len(c.Variables)); err != nil {
		return err
	}
	for i, v := range c.Variables {
		p := fmt.Sprintf("variables[%d]", i)
		if v.Name == "" {
			return invalid(op, p+".name", "required")
		}
		for _, f := range [][2]string{{".name", v.Name}, {".unit", v.Unit}, {".description", v.Description}} {
			if err := text(p+f[0], f[1], MaxShortLen, false); err != nil {
				return err
			}
		}
	}
	if err := list("funding", len(c.Funding)); err != nil {
		return err
	}
	for i, f := range c.Funding {
		p := fmt.Sprintf("funding[%d]", i)
		if f.Funder == "" {
			return invalid(op, p+".funder", "required")
		}
		for _, x := range [][2]string{{".funder", f.Funder}, {".award_number", f.AwardNumber}, {".award_title", f.AwardTitle}, {".award_uri", f.AwardURI}} {
			if err := text(p+x[0], x[1], MaxShortLen, false); err != nil {
				return err
			}
		}
		if f.AwardURI != "" && !isHTTPURL(f.AwardURI) {
			return invalid(op, p+".award_uri", "not an http(s) URL")
		}
	}
	if err := list("challenges", len(c.Challenges)); err != nil {
		return err
	}
	for i, ch := range c.Challenges {
		p := fmt.Sprintf("challenges[%d]", i)
		if ch == "" {
			return invalid(op, p, "empty")
		}
		if err := text(p, ch, MaxShortLen, false); err != nil {
			return err
		}
	}
	switch c.Origin {
	case "", Observed, Simulated, Synthetic:
	default:
		return invalid(op, "origin", "must be observed, simulated or synthetic")
	}
	if c.LandingPage != "" && !isHTTPURL(c.LandingPage) {
		return invalid(op, "landing_page", "not an http(s) URL")
	}
	if err := date("issued", c.Issued); err != nil {
		return err
	}
	return date("modified", c.Modified)
}
