package meta

import (
	"bytes"
	"encoding/csv"
	"io"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// CSV inventory: a header row, then one dataset per row. Header names are
// matched ignoring case, spaces, "-" and "_"; columns not listed are ignored.
// A "title" column (or one of its aliases) is required. List cells are
// separated by ";" (keywords also by "," when there is no ";").
//
//	core field        accepted headers
//	title             title, name, dataset title, dataset name
//	description       description, abstract, summary, notes
//	creators          creators, creator, authors, author          "Name; Name"
//	  their ORCIDs    creator orcids, orcids, orcid               same order, ";"
//	  affiliations    creator affiliations, affiliations, affiliation
//	organization      organization, organisation, org, lab, institution
//	keywords          keywords, keyword, tags, subjects
//	domain            domain, priority area, priority domain
//	license           license, licence, license url, rights license
//	doi               doi
//	identifiers       identifier, id, dataset id, local id
//	temporal          temporal ("start/end"), or start date + end date
//	                  (also temporal start, temporal end, start, end)
//	spatial           bbox, bounding box ("W,S,E,N"), or west+south+east+north;
//	                  place, location, spatial, region
//	variables         variables                                 "name [unit]; name [unit]"
//	instrument        instrument
//	facility          facility, user facility
//	funding           funder, funding agency, sponsor; award, award number, grant, grant number
//	challenges        challenge, challenges
//	origin            origin, data origin                       observed|simulated|synthetic
//	access_notes      access, access notes, access level, access constraints, rights
//	landing_page      landing page, url, homepage, link
//	publisher         publisher
//	issued            issued, published, publication date, date published, release date
//	modified          modified, updated, last modified, date modified

var csvAliases = map[string][]string{
	"title":        {"title", "name", "datasettitle", "datasetname"},
	"description":  {"description", "abstract", "summary", "notes"},
	"creators":     {"creators", "creator", "authors", "author"},
	"orcids":       {"creatororcids", "orcids", "orcid", "creatororcid"},
	"affiliations": {"creatoraffiliations", "affiliations", "affiliation"},
	"organization": {"organization", "organisation", "org", "lab", "institution"},
	"keywords":     {"keywords", "keyword", "tags", "subjects"},
	"domain":       {"domain", "priorityarea", "prioritydomain"},
	"license":      {"license", "licence", "licenseurl", "rightslicense"},
	"doi":          {"doi"},
	"identifier":   {"identifier", "id", "datasetid", "localid"},
	"temporal":     {"temporal", "temporalcoverage"},
	"start":        {"startdate", "temporalstart", "start"},
	"end":          {"enddate", "temporalend", "end"},
	"bbox":         {"bbox", "boundingbox"},
	"west":         {"west", "westbound", "minlon"},
	"south":        {"south", "southbound", "minlat"},
	"east":         {"east", "eastbound", "maxlon"},
	"north":        {"north", "northbound", "maxlat"},
	"place":        {"place", "location", "spatial", "region"},
	"variables":    {"variables"},
	"instrument":   {"instrument"},
	"facility":     {"facility", "userfacility"},
	"funder":       {"funder", "fundingagency", "sponsor"},
	"award":        {"award", "awardnumber", "grant", "grantnumber"},
	"challenges":   {"challenge", "challenges"},
	"origin":       {"origin", "dataorigin"},
	"access":       {"access", "accessnotes", "accesslevel", "accessconstraints", "rights"},
	"landing_page": {"landingpage", "url", "homepage", "link"},
	"publisher":    {"publisher"},
	"issued":       {"issued", "published", "publicationdate", "datepublished", "releasedate"},
	"modified":     {"modified", "updated", "lastmodified", "datemodified"},
}

var csvHeaderIndex = func() map[string]string {
	m := map[string]string{}
	for k, as := range csvAliases {
		for _, a := range as {
			m[a] = k
		}
	}
	return m
}()

func headerKey(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		if r == ' ' || r == '-' || r == '_' || r == '.' {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func splitCSV(data []byte) ([]item, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		return nil, errors.E(errors.Invalid, errors.Msg("not a CSV inventory: no header row"), err)
	}
	headerEnd := r.InputOffset()
	cols := map[string]int{}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		if k, ok := csvHeaderIndex[headerKey(names[i])]; ok {
			if _, dup := cols[k]; !dup {
				cols[k] = i
			}
		}
	}
	if _, ok := cols["title"]; !ok {
		return nil, errors.E(errors.Invalid, errors.Msg("not a CSV inventory: the header row has no title column"))
	}
	var items []item
	start := headerEnd
	for {
		rec, err := r.Read()
		end := r.InputOffset()
		if err == io.EOF {
			break
		}
		raw := append(append([]byte{}, data[:headerEnd]...), data[start:end]...)
		start = end
		if err != nil {
			if _, ok := err.(*csv.ParseError); ok && rec == nil {
				items = append(items, item{raw: raw, format: CSV, pre: errors.E(errors.Invalid, errors.Msg("malformed CSV row"), err)})
				// A quoting error can swallow the rest of the file; stop here.
				if len(items) > 0 && end >= int64(len(data)) {
					break
				}
				continue
			}
			return nil, errors.E(errors.Invalid, errors.Msg("cannot read the CSV inventory"), err)
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rec) != len(header) {
			items = append(items, item{raw: raw, format: CSV, pre: errors.E(errors.Invalid, errors.Msg("row has a different number of fields from the header"))})
			continue
		}
		items = append(items, item{raw: raw, format: CSV, mapper: func(b *builder) error { return mapCSV(b, cols, names, rec) }})
	}
	return items, nil
}

func mapCSV(b *builder, cols map[string]int, names []string, rec []string) error {
	c := &b.core
	get := func(k string) (string, string) {
		i, ok := cols[k]
		if !ok {
			return "", ""
		}
		return strings.TrimSpace(rec[i]), names[i]
	}
	list := func(s string, commas bool) []string {
		sep := ";"
		if commas && !strings.Contains(s, ";") {
			sep = ","
		}
		var out []string
		for _, p := range strings.Split(s, sep) {
			out = append(out, strings.TrimSpace(p))
		}
		return out
	}
	set := func(field string, dst *string, key string) {
		if v, h := get(key); v != "" {
			*dst = v
			b.from(field, h)
		}
	}
	set("title", &c.Title, "title")
	set("description", &c.Description, "description")
	set("organization", &c.Organization, "organization")
	set("license", &c.License, "license")
	set("doi", &c.DOI, "doi")
	set("instrument", &c.Instrument, "instrument")
	set("facility", &c.Facility, "facility")
	set("access_notes", &c.AccessNotes, "access")
	set("landing_page", &c.LandingPage, "landing_page")
	set("publisher", &c.Publisher, "publisher")
	set("issued", &c.Issued, "issued")
	set("modified", &c.Modified, "modified")
	if v, h := get("identifier"); v != "" {
		b.sourceID = v
		c.Identifiers = append(c.Identifiers, Identifier{Value: v, Scheme: "local"})
		b.from("identifiers", h)
	}
	if v, h := get("creators"); v != "" {
		names := list(v, false)
		ov, oh := get("orcids")
		av, ah := get("affiliations")
		orcids, affs := list(ov, false), list(av, false)
		for i, n := range names {
			cr := Creator{Name: n}
			if ov != "" && i < len(orcids) {
				cr.ORCID = orcids[i]
			}
			if av != "" {
				if i < len(affs) {
					cr.Affiliation = affs[i]
				} else if len(affs) == 1 {
					cr.Affiliation = affs[0]
				}
			}
			c.Creators = append(c.Creators, cr)
		}
		b.from("creators", h)
		if ov != "" {
			b.from("creators", oh)
		}
		if av != "" {
			b.from("creators", ah)
		}
	}
	if v, h := get("keywords"); v != "" {
		c.Keywords = list(v, true)
		b.from("keywords", h)
	}
	if v, h := get("challenges"); v != "" {
		c.Challenges = list(v, false)
		b.from("challenges", h)
	}
	if v, h := get("domain"); v != "" {
		d, ok := ParseDomain(v)
		if !ok {
			return errors.E(errors.Invalid, errors.Field("domain"), errors.Msg("domain: unknown priority domain "+truncate(v, 64)))
		}
		c.Domain = d
		b.from("domain", h)
	} else if d, i := inferDomain(c.Keywords); i >= 0 {
		c.Domain = d
		b.from("domain", "keywords (inferred from "+c.Keywords[i]+")")
	}
	if v, h := get("origin"); v != "" {
		c.Origin = Origin(strings.ToLower(v))
		b.from("origin", h)
	}
	if v, h := get("temporal"); v != "" {
		s, e := splitInterval(v)
		c.Temporal = &Temporal{Start: s, End: e}
		b.from("temporal", h)
	} else {
		s, hs := get("start")
		e, he := get("end")
		if s != "" || e != "" {
			c.Temporal = &Temporal{Start: s, End: e}
			b.from("temporal", hs, he)
		}
	}
	if v, h := get("bbox"); v != "" {
		bb, ok := parseBBoxList(v)
		if !ok {
			return errors.E(errors.Invalid, errors.Field("spatial.bbox"), errors.Msg("spatial.bbox: expected four numbers W,S,E,N in column "+h))
		}
		c.Spatial = &Spatial{BBox: bb}
		b.from("spatial.bbox", h)
	} else {
		w, hw := get("west")
		s, hs := get("south")
		e, he := get("east")
		n, hn := get("north")
		if w != "" || s != "" || e != "" || n != "" {
			bb, ok := parseBBoxList(strings.Join([]string{w, s, e, n}, ","))
			if !ok {
				return errors.E(errors.Invalid, errors.Field("spatial.bbox"), errors.Msg("spatial.bbox: west, south, east and north must all be numbers"))
			}
			c.Spatial = &Spatial{BBox: bb}
			b.from("spatial.bbox", hw, hs, he, hn)
		}
	}
	if v, h := get("place"); v != "" {
		if c.Spatial == nil {
			c.Spatial = &Spatial{}
		}
		c.Spatial.Place = v
		b.from("spatial.place", h)
	}
	if v, h := get("variables"); v != "" {
		for _, p := range list(v, false) {
			vr := Variable{Name: p}
			if i := strings.LastIndexByte(p, '['); i > 0 && strings.HasSuffix(p, "]") {
				vr = Variable{Name: strings.TrimSpace(p[:i]), Unit: strings.TrimSpace(p[i+1 : len(p)-1])}
			}
			c.Variables = append(c.Variables, vr)
		}
		b.from("variables", h)
	}
	if v, h := get("funder"); v != "" {
		aw, ha := get("award")
		c.Funding = append(c.Funding, Funding{Funder: v, AwardNumber: aw})
		b.from("funding", h)
		if aw != "" {
			b.from("funding", ha)
		}
	}
	return nil
}

// Detect guesses the format of a document from its content: JSON documents
// by their top-level members, anything else is tried as a CSV inventory.
func Detect(data []byte) (Format, error) {
	const op errors.Op = "meta.Detect"
	trim := bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(trim) == 0 {
		return "", errors.E(op, errors.Invalid, errors.Msg("empty document"))
	}
	switch trim[0] {
	case '{':
		var top map[string]jsonRaw
		if err := decodeJSON(trim, &top); err != nil {
			return "", errors.E(op, err)
		}
		return detectObject(top)
	case '[':
		var elems []map[string]jsonRaw
		if err := decodeJSON(trim, &elems); err != nil {
			return "", errors.E(op, errors.Invalid, errors.Msg("unrecognised document: a JSON array of something other than objects"), err)
		}
		if len(elems) == 0 {
			return "", errors.E(op, errors.Invalid, errors.Msg("unrecognised document: an empty JSON array"))
		}
		return detectObject(elems[0])
	}
	if _, err := splitCSV(trim); err == nil {
		return CSV, nil
	}
	return "", errors.E(op, errors.Invalid, errors.Msg("unrecognised document: not JSON, and not a CSV inventory with a title column"))
}
