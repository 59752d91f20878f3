package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// DataCite JSON, as the DataCite REST API serves it (https://api.datacite.org/dois/…):
// {"data":{"id":…,"type":"dois","attributes":{…}}} for one DOI, {"data":[…]}
// for a list, and also the bare attributes object. Field names follow the
// DataCite Metadata Schema 4.x in its JSON form (titles[].title,
// creators[].nameIdentifiers[], rightsList[], geoLocations[], fundingReferences[]…).

func splitDataCite(data []byte) ([]item, error) {
	var top map[string]json.RawMessage
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '[' {
		// A bare list of {"id", "type", "attributes"} objects.
		top = map[string]json.RawMessage{"data": t}
	} else if err := decodeJSON(data, &top); err != nil {
		return nil, err
	}
	if top == nil {
		return nil, errors.E(errors.Invalid, errors.Msg("not a DataCite JSON document: expected an object"))
	}
	if d, ok := top["data"]; ok {
		d = bytes.TrimSpace(d)
		var raws []json.RawMessage
		switch {
		case len(d) > 0 && d[0] == '[':
			if err := json.Unmarshal(d, &raws); err != nil {
				return nil, errors.E(errors.Invalid, errors.Msg("not a DataCite JSON document: bad \"data\" array"), err)
			}
		case len(d) > 0 && d[0] == '{':
			raws = []json.RawMessage{d}
		default:
			return nil, errors.E(errors.Invalid, errors.Msg("not a DataCite JSON document: \"data\" is neither an object nor an array"))
		}
		return jsonItems(raws, DataCite, func(b *builder, m map[string]any) error {
			a := obj(m["attributes"])
			if a == nil {
				return errors.E(errors.Invalid, errors.Field("attributes"), errors.Msg("no \"attributes\" object"))
			}
			if id := str(m["id"]); id != "" && str(a["doi"]) == "" {
				a["doi"] = id
			}
			return mapDataCite(b, a, "attributes.")
		}), nil
	}
	if _, ok := top["titles"]; ok {
		return jsonItems([]json.RawMessage{data}, DataCite, func(b *builder, m map[string]any) error {
			return mapDataCite(b, m, "")
		}), nil
	}
	return nil, errors.E(errors.Invalid, errors.Msg("not a DataCite JSON document: no \"data\" member and no \"titles\""))
}

func mapDataCite(b *builder, a map[string]any, pre string) error {
	c := &b.core
	p := func(f string, args ...any) string { return pre + fmt.Sprintf(f, args...) }

	if s := b.sget(a, "doi", p("doi")); s != "" {
		c.DOI = s
		b.from("doi", p("doi"))
	}
	b.sourceID = c.DOI
	for i, x := range arr(a["identifiers"]) {
		m := obj(x)
		v, t := str(m["identifier"]), strings.ToLower(str(m["identifierType"]))
		if v == "" {
			continue
		}
		if t == "doi" && c.DOI == "" {
			c.DOI = v
			b.from("doi", p("identifiers[%d].identifier", i))
			continue
		}
		if t != "doi" {
			c.Identifiers = append(c.Identifiers, Identifier{Value: v, Scheme: t})
			b.from("identifiers", p("identifiers[%d].identifier", i))
		}
	}
	for i, x := range arr(a["alternateIdentifiers"]) {
		m := obj(x)
		if v := str(m["alternateIdentifier"]); v != "" {
			c.Identifiers = append(c.Identifiers, Identifier{Value: v, Scheme: strings.ToLower(str(m["alternateIdentifierType"]))})
			b.from("identifiers", p("alternateIdentifiers[%d].alternateIdentifier", i))
		}
	}

	if b.sourceID == "" && len(c.Identifiers) > 0 {
		b.sourceID = c.Identifiers[0].Value
	}
	titles := arr(a["titles"])
	for pass := 0; pass < 2 && c.Title == ""; pass++ {
		for i, x := range titles {
			m := obj(x)
			if pass == 0 && str(m["titleType"]) != "" {
				continue // prefer the main title over subtitles and translations
			}
			s, err := b.title(m, "title", p("titles[%d].title", i))
			if err != nil {
				return err
			}
			if s != "" {
				c.Title = s
				b.from("title", p("titles[%d].title", i))
				break
			}
		}
	}
	descs := arr(a["descriptions"])
	for pass := 0; pass < 2 && c.Description == ""; pass++ {
		for i, x := range descs {
			m := obj(x)
			if pass == 0 && !strings.EqualFold(str(m["descriptionType"]), "Abstract") {
				continue
			}
			var parts []string
			for _, d := range arr(m["description"]) {
				if s := str(d); s != "" {
					parts = append(parts, s)
				}
			}
			if len(parts) > 0 {
				c.Description = strings.Join(parts, "\n\n")
				b.from("description", p("descriptions[%d].description", i))
				break
			}
		}
	}

	for i, x := range arr(a["creators"]) {
		m := obj(x)
		if m == nil {
			b.drop(p("creators[%d]", i), "expected an object")
			continue
		}
		cr := Creator{Name: str(m["name"])}
		src := p("creators[%d].name", i)
		if cr.Name == "" {
			fam, giv := str(m["familyName"]), str(m["givenName"])
			cr.Name = strings.Trim(fam+", "+giv, ", ")
			src = p("creators[%d].familyName", i)
		}
		b.from("creators", src)
		for j, nx := range arr(m["nameIdentifiers"]) {
			n := obj(nx)
			v := str(n["nameIdentifier"])
			if strings.EqualFold(str(n["nameIdentifierScheme"]), "ORCID") || strings.Contains(strings.ToLower(v), "orcid.org/") {
				cr.ORCID = v
				b.from("creators", p("creators[%d].nameIdentifiers[%d].nameIdentifier", i, j))
				break
			}
		}
		var affs []string
		for j, ax := range arr(m["affiliation"]) {
			s := str(ax)
			if am := obj(ax); am != nil {
				s = str(am["name"])
			}
			if s != "" {
				affs = append(affs, s)
				b.from("creators", p("creators[%d].affiliation[%d]", i, j))
			}
		}
		cr.Affiliation = strings.Join(affs, "; ")
		c.Creators = append(c.Creators, cr)
	}
	for i, x := range arr(a["contributors"]) {
		m := obj(x)
		switch str(m["contributorType"]) {
		case "HostingInstitution":
			if c.Organization == "" {
				c.Organization = str(m["name"])
				b.from("organization", p("contributors[%d].name", i))
			}
		}
	}

	var subjects []string
	for i, x := range arr(a["subjects"]) {
		m := obj(x)
		s := str(m["subject"])
		if s == "" {
			s = str(x)
		}
		if s == "" {
			continue
		}
		if strings.EqualFold(str(m["subjectScheme"]), domainScheme) {
			if d, ok := ParseDomain(s); ok && c.Domain == "" {
				c.Domain = d
				b.from("domain", p("subjects[%d].subject", i))
			}
			continue
		}
		subjects = append(subjects, s)
		c.Keywords = append(c.Keywords, s)
		b.from("keywords", p("subjects[%d].subject", i))
	}
	if c.Domain == "" {
		if d, i := inferDomain(subjects); i >= 0 {
			c.Domain = d
			b.from("domain", p("subjects")+" (inferred from "+subjects[i]+")")
		}
	}

	var notes []string
	for i, x := range arr(a["rightsList"]) {
		m := obj(x)
		id, uri, text := str(m["rightsIdentifier"]), str(m["rightsUri"]), str(m["rights"])
		isAccess := strings.HasPrefix(uri, "info:eu-repo/semantics/")
		switch {
		case c.License == "" && id != "" && !isAccess:
			c.License = id
			b.from("license", p("rightsList[%d].rightsIdentifier", i))
		case c.License == "" && uri != "" && !isAccess:
			c.License = uri
			b.from("license", p("rightsList[%d].rightsUri", i))
		case text != "" && id == "" && (uri == "" || isAccess):
			notes = append(notes, text)
			b.from("access_notes", p("rightsList[%d].rights", i))
		}
	}
	c.AccessNotes = strings.Join(notes, "\n")

	for i, x := range arr(a["dates"]) {
		m := obj(x)
		d, t := str(m["date"]), strings.ToLower(str(m["dateType"]))
		if d == "" {
			continue
		}
		switch t {
		case "issued":
			if c.Issued == "" {
				c.Issued = d
				b.from("issued", p("dates[%d].date", i))
			}
		case "updated":
			c.Modified = d
			b.from("modified", p("dates[%d].date", i))
		case "collected", "coverage", "valid":
			if c.Temporal == nil {
				s, e := splitInterval(d)
				c.Temporal = &Temporal{Start: s, End: e}
				b.from("temporal", p("dates[%d].date", i))
			}
		}
	}
	if c.Issued == "" {
		if y := str(a["publicationYear"]); y != "" {
			c.Issued = y
			b.from("issued", p("publicationYear"))
		}
	}

	for i, x := range arr(a["geoLocations"]) {
		m := obj(x)
		if place := str(m["geoLocationPlace"]); place != "" {
			if c.Spatial == nil {
				c.Spatial = &Spatial{}
			}
			if c.Spatial.Place == "" {
				c.Spatial.Place = place
				b.from("spatial.place", p("geoLocations[%d].geoLocationPlace", i))
			}
		}
		if box := obj(m["geoLocationBox"]); box != nil && (c.Spatial == nil || c.Spatial.BBox == nil) {
			w, ok1 := num(box["westBoundLongitude"])
			e, ok2 := num(box["eastBoundLongitude"])
			s, ok3 := num(box["southBoundLatitude"])
			n, ok4 := num(box["northBoundLatitude"])
			if ok1 && ok2 && ok3 && ok4 {
				if c.Spatial == nil {
					c.Spatial = &Spatial{}
				}
				c.Spatial.BBox = &BBox{West: w, South: s, East: e, North: n}
				b.from("spatial.bbox", p("geoLocations[%d].geoLocationBox", i))
			} else {
				b.drop(p("geoLocations[%d].geoLocationBox", i), "incomplete or non-numeric bounds")
			}
		} else if pt := obj(m["geoLocationPoint"]); pt != nil && (c.Spatial == nil || c.Spatial.BBox == nil) {
			lon, ok1 := num(pt["pointLongitude"])
			lat, ok2 := num(pt["pointLatitude"])
			if ok1 && ok2 {
				if c.Spatial == nil {
					c.Spatial = &Spatial{}
				}
				c.Spatial.BBox = &BBox{West: lon, South: lat, East: lon, North: lat}
				b.from("spatial.bbox", p("geoLocations[%d].geoLocationPoint", i))
			}
		}
	}

	for i, x := range arr(a["fundingReferences"]) {
		m := obj(x)
		f := Funding{Funder: str(m["funderName"]), AwardTitle: str(m["awardTitle"]), AwardURI: str(m["awardUri"])}
		if an := obj(m["awardNumber"]); an != nil { // older form: {"awardNumber": …, "awardURI": …}
			f.AwardNumber = str(an["awardNumber"])
			if f.AwardURI == "" {
				f.AwardURI = str(an["awardURI"])
			}
		} else {
			f.AwardNumber = str(m["awardNumber"])
		}
		if f.Funder != "" {
			c.Funding = append(c.Funding, f)
			b.from("funding", p("fundingReferences[%d]", i))
		}
	}

	if u := b.sget(a, "url", p("url")); u != "" {
		c.LandingPage = u
		b.from("landing_page", p("url"))
	}
	switch pub := a["publisher"].(type) {
	case map[string]any:
		c.Publisher = str(pub["name"])
		b.from("publisher", p("publisher.name"))
	default:
		if s := b.sget(a, "publisher", p("publisher")); s != "" {
			c.Publisher = s
			b.from("publisher", p("publisher"))
		}
	}
	if t := obj(a["types"]); t != nil {
		rt := strings.ToLower(str(t["resourceType"]))
		switch {
		case strings.Contains(rt, "simulat"):
			c.Origin = Simulated
			b.from("origin", p("types.resourceType"))
		case strings.Contains(rt, "synthetic"):
			c.Origin = Synthetic
			b.from("origin", p("types.resourceType"))
		case strings.Contains(rt, "observ") || strings.Contains(rt, "measure"):
			c.Origin = Observed
			b.from("origin", p("types.resourceType"))
		}
	}
	return nil
}

// domainScheme is the DataCite subjectScheme under which Genesis exports the
// domain, so that it comes back as the domain and not as a keyword.
const domainScheme = "Genesis priority domain"

// ExportDataCite renders c as a DataCite REST API document in attributes
// form: {"data":{"type":"dois","attributes":{…}}}. Fields DataCite has no
// place for (variables, instrument, facility, challenges) are left out.
func ExportDataCite(c Core) ([]byte, error) {
	a := dataCiteAttributes(c)
	return json.MarshalIndent(map[string]any{"data": map[string]any{"type": "dois", "attributes": a}}, "", "  ")
}

func dataCiteAttributes(c Core) map[string]any {
	a := map[string]any{
		"titles": []any{map[string]any{"title": c.Title}},
		"types":  map[string]any{"resourceTypeGeneral": "Dataset"},
	}
	if c.DOI != "" {
		a["doi"] = c.DOI
	}
	switch c.Origin {
	case Simulated:
		a["types"] = map[string]any{"resourceTypeGeneral": "Dataset", "resourceType": "Simulation data"}
	case Synthetic:
		a["types"] = map[string]any{"resourceTypeGeneral": "Dataset", "resourceType": "Synthetic data"}
	case Observed:
		a["types"] = map[string]any{"resourceTypeGeneral": "Dataset", "resourceType": "Observational data"}
	}
	if c.Description != "" {
		a["descriptions"] = []any{map[string]any{"description": c.Description, "descriptionType": "Abstract"}}
	}
	var creators []any
	for _, cr := range c.Creators {
		m := map[string]any{"name": cr.Name}
		if cr.ORCID != "" {
			m["nameType"] = "Personal"
			m["nameIdentifiers"] = []any{map[string]any{"nameIdentifier": "https://orcid.org/" + cr.ORCID, "nameIdentifierScheme": "ORCID", "schemeUri": "https://orcid.org"}}
		}
		if cr.Affiliation != "" {
			var affs []any
			for _, s := range strings.Split(cr.Affiliation, "; ") {
				affs = append(affs, map[string]any{"name": s})
			}
			m["affiliation"] = affs
		}
		creators = append(creators, m)
	}
	if creators != nil {
		a["creators"] = creators
	}
	if c.Organization != "" {
		a["contributors"] = []any{map[string]any{"name": c.Organization, "nameType": "Organizational", "contributorType": "HostingInstitution"}}
	}
	var subjects []any
	for _, k := range c.Keywords {
		subjects = append(subjects, map[string]any{"subject": k})
	}
	if c.Domain != "" {
		subjects = append(subjects, map[string]any{"subject": string(c.Domain), "subjectScheme": domainScheme})
	}
	if subjects != nil {
		a["subjects"] = subjects
	}
	var rights []any
	if c.License != "" {
		if u, ok := knownLicenses[c.License]; ok {
			rights = append(rights, map[string]any{"rightsIdentifier": c.License, "rightsIdentifierScheme": "SPDX", "rightsUri": u})
		} else if isHTTPURL(c.License) {
			rights = append(rights, map[string]any{"rightsUri": c.License})
		} else {
			rights = append(rights, map[string]any{"rightsIdentifier": c.License, "rightsIdentifierScheme": "SPDX"})
		}
	}
	for _, line := range strings.Split(c.AccessNotes, "\n") {
		if line != "" {
			rights = append(rights, map[string]any{"rights": line})
		}
	}
	if rights != nil {
		a["rightsList"] = rights
	}
	var ids []any
	for _, id := range c.Identifiers {
		ids = append(ids, map[string]any{"alternateIdentifier": id.Value, "alternateIdentifierType": id.Scheme})
	}
	if ids != nil {
		a["alternateIdentifiers"] = ids
	}
	var dates []any
	if c.Issued != "" {
		dates = append(dates, map[string]any{"date": c.Issued, "dateType": "Issued"})
		if t, ok := ParseDate(c.Issued); ok {
			a["publicationYear"] = t.Year()
		}
	}
	if c.Modified != "" {
		dates = append(dates, map[string]any{"date": c.Modified, "dateType": "Updated"})
	}
	if t := c.Temporal; t != nil {
		s, e := t.Start, t.End
		if s == "" {
			s = ".."
		}
		if e == "" {
			e = ".."
		}
		dates = append(dates, map[string]any{"date": s + "/" + e, "dateType": "Collected"})
	}
	if dates != nil {
		a["dates"] = dates
	}
	if sp := c.Spatial; sp != nil {
		g := map[string]any{}
		if sp.Place != "" {
			g["geoLocationPlace"] = sp.Place
		}
		if bb := sp.BBox; bb != nil {
			g["geoLocationBox"] = map[string]any{"westBoundLongitude": bb.West, "eastBoundLongitude": bb.East, "southBoundLatitude": bb.South, "northBoundLatitude": bb.North}
		}
		a["geoLocations"] = []any{g}
	}
	var funding []any
	for _, f := range c.Funding {
		m := map[string]any{"funderName": f.Funder}
		if f.AwardNumber != "" {
			m["awardNumber"] = f.AwardNumber
		}
		if f.AwardTitle != "" {
			m["awardTitle"] = f.AwardTitle
		}
		if f.AwardURI != "" {
			m["awardUri"] = f.AwardURI
		}
		funding = append(funding, m)
	}
	if funding != nil {
		a["fundingReferences"] = funding
	}
	if c.LandingPage != "" {
		a["url"] = c.LandingPage
	}
	if c.Publisher != "" {
		a["publisher"] = c.Publisher
	}
	return a
}
