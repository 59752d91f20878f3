package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// DCAT-US 1.1 (Project Open Data Metadata Schema v1.1), the data.json format
// that data.gov harvests: a catalog {"conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
// "dataset": [ … ]} whose datasets carry title, description, keyword[],
// modified, publisher{name, subOrganizationOf}, contactPoint, identifier,
// accessLevel, bureauCode[], programCode[], license, rights, spatial,
// temporal, issued, theme[], landingPage, distribution[]…

const podSchema = "https://project-open-data.cio.gov/v1.1/schema"

func splitDCATUS(data []byte) ([]item, error) {
	var top map[string]json.RawMessage
	if err := decodeJSON(data, &top); err != nil {
		return nil, err
	}
	if top == nil {
		return nil, errors.E(errors.Invalid, errors.Msg("not a DCAT-US document: expected an object"))
	}
	if d, ok := top["dataset"]; ok {
		d = bytes.TrimSpace(d)
		var raws []json.RawMessage
		if len(d) == 0 || d[0] != '[' {
			return nil, errors.E(errors.Invalid, errors.Msg("not a DCAT-US catalog: \"dataset\" is not an array"))
		}
		if err := json.Unmarshal(d, &raws); err != nil {
			return nil, errors.E(errors.Invalid, errors.Msg("not a DCAT-US catalog: bad \"dataset\" array"), err)
		}
		return jsonItems(raws, DCATUS, mapDCATUS), nil
	}
	_, hasTitle := top["title"]
	_, hasAccess := top["accessLevel"]
	_, hasKeyword := top["keyword"]
	if hasTitle && (hasAccess || hasKeyword) {
		return jsonItems([]json.RawMessage{data}, DCATUS, mapDCATUS), nil
	}
	return nil, errors.E(errors.Invalid, errors.Msg("not a DCAT-US document: no \"dataset\" array and not a dataset object"))
}

func mapDCATUS(b *builder, m map[string]any) error {
	c := &b.core
	b.sourceID = str(m["identifier"])
	if s, err := b.title(m, "title", "title"); err != nil {
		return err
	} else if s != "" {
		c.Title = s
		b.from("title", "title")
	}
	if s := b.sget(m, "description", "description"); s != "" {
		c.Description = s
		b.from("description", "description")
	}
	for i, k := range arr(m["keyword"]) {
		if s := str(k); s != "" {
			c.Keywords = append(c.Keywords, s)
			b.from("keywords", fmt.Sprintf("keyword[%d]", i))
		}
	}
	if pub := obj(m["publisher"]); pub != nil {
		if s := str(pub["name"]); s != "" {
			c.Publisher = s
			b.from("publisher", "publisher.name")
		}
		if sub := obj(pub["subOrganizationOf"]); sub != nil {
			if s := str(sub["name"]); s != "" {
				c.Organization = s
				b.from("organization", "publisher.subOrganizationOf.name")
			}
		}
	} else if s := str(m["publisher"]); s != "" {
		c.Publisher = s
		b.from("publisher", "publisher")
	}
	if id := b.sget(m, "identifier", "identifier"); id != "" {
		b.sourceID = id
		if d, ok := NormalizeDOI(id); ok {
			c.DOI = d
			b.from("doi", "identifier")
		} else {
			scheme := "local"
			if isHTTPURL(id) {
				scheme = "url"
			}
			c.Identifiers = append(c.Identifiers, Identifier{Value: id, Scheme: scheme})
			b.from("identifiers", "identifier")
		}
	}
	if s := b.sget(m, "license", "license"); s != "" && !strings.EqualFold(s, "https://project-open-data.cio.gov/unknown-license/") {
		c.License = s
		b.from("license", "license")
	}
	level := strings.ToLower(str(m["accessLevel"]))
	rights := str(m["rights"])
	switch {
	case level != "" && level != "public":
		c.AccessNotes = accessLevelPrefix + level + "."
		if rights != "" {
			c.AccessNotes += "\n" + rights
		}
		b.from("access_notes", "accessLevel")
		if rights != "" {
			b.from("access_notes", "rights")
		}
	case rights != "":
		c.AccessNotes = rights
		b.from("access_notes", "rights")
	}
	if s := str(m["temporal"]); s != "" {
		st, en := splitInterval(s)
		if st != "" || en != "" {
			c.Temporal = &Temporal{Start: st, End: en}
			b.from("temporal", "temporal")
		} else {
			b.drop("temporal", "not an ISO 8601 interval")
		}
	}
	switch sp := m["spatial"].(type) {
	case string:
		s := strings.TrimSpace(sp)
		if bb, ok := parseBBoxList(s); ok {
			c.Spatial = &Spatial{BBox: bb}
			b.from("spatial.bbox", "spatial")
		} else if strings.HasPrefix(s, "{") {
			var g map[string]any
			if json.Unmarshal([]byte(s), &g) == nil {
				if bb, ok := geoJSONBBox(g); ok {
					c.Spatial = &Spatial{BBox: bb}
					b.from("spatial.bbox", "spatial")
				}
			}
			if c.Spatial == nil {
				b.drop("spatial", "unreadable GeoJSON")
			}
		} else if s != "" {
			c.Spatial = &Spatial{Place: s}
			b.from("spatial.place", "spatial")
		}
	case map[string]any:
		if bb, ok := geoJSONBBox(sp); ok {
			c.Spatial = &Spatial{BBox: bb}
			b.from("spatial.bbox", "spatial")
		} else {
			b.drop("spatial", "unreadable GeoJSON")
		}
	}
	if s := b.sget(m, "issued", "issued"); s != "" {
		c.Issued = s
		b.from("issued", "issued")
	}
	if s := b.sget(m, "modified", "modified"); s != "" {
		if st, _ := splitInterval(s); st != "" { // modified may be an interval "R/P1D"; keep a date only
			if _, ok := ParseDate(st); ok {
				c.Modified = st
				b.from("modified", "modified")
			}
		}
	}
	if s := b.sget(m, "landingPage", "landingPage"); s != "" {
		c.LandingPage = s
		b.from("landing_page", "landingPage")
	}
	var themes []string
	for _, t := range arr(m["theme"]) {
		themes = append(themes, str(t))
	}
	if d, i := inferDomain(themes); i >= 0 {
		c.Domain = d
		b.from("domain", fmt.Sprintf("theme[%d]", i))
	} else if d, i := inferDomain(c.Keywords); i >= 0 {
		c.Domain = d
		b.from("domain", "keyword (inferred from "+c.Keywords[i]+")")
	}
	return nil
}

// accessLevelPrefix introduces the DCAT-US accessLevel in AccessNotes when it
// is not "public", so that the export can restore it.
const accessLevelPrefix = "Access level: "

// ExportDCATUS renders c as one DCAT-US 1.1 dataset object. DCAT-US requires
// fields Genesis may not have (bureauCode, programCode, contactPoint): they
// are filled from opts when given and otherwise left out, so a federal
// publisher must supply them.
func ExportDCATUS(c Core, opts DCATUSOptions) map[string]any {
	d := map[string]any{
		"@type": "dcat:Dataset",
		"title": c.Title,
	}
	d["description"] = c.Description
	kw := append([]string{}, c.Keywords...)
	d["keyword"] = kw
	if c.Modified != "" {
		d["modified"] = c.Modified // required by DCAT-US; not invented when unknown
	}
	if c.Publisher != "" || c.Organization != "" {
		pub := map[string]any{"@type": "org:Organization", "name": c.Publisher}
		if c.Organization != "" {
			pub["subOrganizationOf"] = map[string]any{"@type": "org:Organization", "name": c.Organization}
		}
		d["publisher"] = pub
	}
	if opts.ContactName != "" || opts.ContactEmail != "" {
		d["contactPoint"] = map[string]any{"@type": "vcard:Contact", "fn": opts.ContactName, "hasEmail": "mailto:" + strings.TrimPrefix(opts.ContactEmail, "mailto:")}
	}
	switch {
	case c.DOI != "":
		d["identifier"] = "https://doi.org/" + c.DOI
	case len(c.Identifiers) > 0:
		d["identifier"] = c.Identifiers[0].Value
	}
	d["accessLevel"] = "public"
	notes := c.AccessNotes
	if strings.HasPrefix(notes, accessLevelPrefix) {
		line, rest, _ := strings.Cut(notes, "\n")
		d["accessLevel"] = strings.TrimSuffix(strings.TrimPrefix(line, accessLevelPrefix), ".")
		notes = rest
	}
	if notes != "" {
		d["rights"] = notes
	}
	if len(opts.BureauCode) > 0 {
		d["bureauCode"] = opts.BureauCode
	}
	if len(opts.ProgramCode) > 0 {
		d["programCode"] = opts.ProgramCode
	}
	if c.License != "" {
		if u, ok := knownLicenses[c.License]; ok {
			d["license"] = u
		} else {
			d["license"] = c.License
		}
	}
	if sp := c.Spatial; sp != nil {
		if bb := sp.BBox; bb != nil {
			d["spatial"] = fmt.Sprintf("%g,%g,%g,%g", bb.West, bb.South, bb.East, bb.North)
		} else {
			d["spatial"] = sp.Place
		}
	}
	if t := c.Temporal; t != nil {
		s, e := t.Start, t.End
		if s == "" {
			s = ".."
		}
		if e == "" {
			e = ".."
		}
		d["temporal"] = s + "/" + e
	}
	if c.Issued != "" {
		d["issued"] = c.Issued
	}
	if c.LandingPage != "" {
		d["landingPage"] = c.LandingPage
	}
	if c.Domain != "" {
		d["theme"] = []string{string(c.Domain)}
	}
	return d
}

// DCATUSOptions supplies the DCAT-US fields that Core does not carry.
type DCATUSOptions struct {
	ContactName, ContactEmail string
	BureauCode, ProgramCode   []string
}

// ExportDCATUSCatalog renders a whole data.json catalog.
func ExportDCATUSCatalog(cores []Core, opts DCATUSOptions) ([]byte, error) {
	ds := make([]any, len(cores))
	for i, c := range cores {
		ds[i] = ExportDCATUS(c, opts)
	}
	return json.MarshalIndent(map[string]any{
		"@context":    "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
		"@type":       "dcat:Catalog",
		"conformsTo":  podSchema,
		"describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
		"dataset":     ds,
	}, "", "  ")
}
