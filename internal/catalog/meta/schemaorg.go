package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// schema.org Dataset in JSON-LD, as data repositories embed it for Google
// Dataset Search: name, description, creator (Person/Organization with
// identifier, sameAs, affiliation), keywords, license, identifier,
// temporalCoverage, spatialCoverage (Place with GeoShape box), variableMeasured
// (PropertyValue with unitText), measurementTechnique, funder/funding,
// publisher, datePublished, dateModified, conditionsOfAccess. Accepted
// shapes: one Dataset node, {"@graph": [...]} (other nodes are used to
// resolve {"@id": …} references), an array of nodes, and a DataCatalog with
// a "dataset" list. Only the compact form with the schema.org context is
// read; the document is not expanded (no remote contexts are ever fetched).

func isType(m map[string]any, t string) bool {
	for _, x := range arr(m["@type"]) {
		s := str(x)
		s = strings.TrimPrefix(s, "schema:")
		s = strings.TrimPrefix(s, "https://schema.org/")
		s = strings.TrimPrefix(s, "http://schema.org/")
		if s == t {
			return true
		}
	}
	return false
}

func splitSchemaOrg(data []byte) ([]item, error) {
	trim := bytes.TrimSpace(data)
	var nodes []json.RawMessage
	if len(trim) > 0 && trim[0] == '[' {
		if err := decodeJSON(trim, &nodes); err != nil {
			return nil, err
		}
		return schemaOrgItems(nodes, nil, true)
	}
	var top map[string]json.RawMessage
	if err := decodeJSON(trim, &top); err != nil {
		return nil, err
	}
	if top == nil {
		return nil, errors.E(errors.Invalid, errors.Msg("not a schema.org document: expected an object or an array"))
	}
	if g, ok := top["@graph"]; ok {
		if err := json.Unmarshal(g, &nodes); err != nil {
			return nil, errors.E(errors.Invalid, errors.Msg("not a schema.org document: \"@graph\" is not an array"), err)
		}
		return schemaOrgItems(nodes, nodes, false)
	}
	var head map[string]any
	_ = decodeJSON(trim, &head)
	if isType(head, "DataCatalog") {
		if err := json.Unmarshal(top["dataset"], &nodes); err != nil {
			return nil, errors.E(errors.Invalid, errors.Msg("not a schema.org DataCatalog: \"dataset\" is not an array"), err)
		}
		return schemaOrgItems(nodes, nil, true)
	}
	if isType(head, "Dataset") {
		return schemaOrgItems([]json.RawMessage{trim}, nil, true)
	}
	return nil, errors.E(errors.Invalid, errors.Msg("not a schema.org Dataset document: no node of @type Dataset"))
}

// schemaOrgItems makes items of the Dataset nodes among raws. With strict,
// every node must be a Dataset; otherwise other nodes are skipped (a @graph
// also holds Persons, Organizations, DataCatalogs…).
func schemaOrgItems(raws, graph []json.RawMessage, strict bool) ([]item, error) {
	byID := map[string]map[string]any{}
	for _, g := range graph {
		var m map[string]any
		if decodeJSON(g, &m) == nil {
			if id := str(m["@id"]); id != "" {
				byID[id] = m
			}
		}
	}
	var keep []json.RawMessage
	for _, r := range raws {
		var m map[string]any
		if decodeJSON(r, &m) != nil || strict || isType(m, "Dataset") {
			keep = append(keep, r)
		}
	}
	if len(keep) == 0 {
		return nil, errors.E(errors.Invalid, errors.Msg("not a schema.org Dataset document: no node of @type Dataset"))
	}
	return jsonItems(keep, SchemaOrg, func(b *builder, m map[string]any) error {
		if !isType(m, "Dataset") {
			return errors.E(errors.Invalid, errors.Field("@type"), errors.Msg("@type: not a schema.org Dataset"))
		}
		return mapSchemaOrg(b, m, byID)
	}), nil
}

func mapSchemaOrg(b *builder, m map[string]any, byID map[string]map[string]any) error {
	c := &b.core
	deref := func(v any) map[string]any {
		o := obj(v)
		if o != nil && len(o) == 1 {
			if id := str(o["@id"]); id != "" && byID[id] != nil {
				return byID[id]
			}
		}
		return o
	}
	if s, err := b.title(m, "name", "name"); err != nil {
		return err
	} else if s != "" {
		c.Title = s
		b.from("title", "name")
	}
	if s := b.sget(m, "description", "description"); s != "" {
		c.Description = s
		b.from("description", "description")
	}
	for i, x := range arr(m["creator"]) {
		p := fmt.Sprintf("creator[%d]", i)
		o := deref(x)
		if o == nil {
			if s := str(x); s != "" {
				c.Creators = append(c.Creators, Creator{Name: s})
				b.from("creators", p)
			}
			continue
		}
		cr := Creator{Name: str(o["name"])}
		if cr.Name == "" {
			cr.Name = strings.Trim(str(o["familyName"])+", "+str(o["givenName"]), ", ")
		}
		b.from("creators", p+".name")
		var cands []string
		for _, k := range []string{"identifier", "sameAs", "@id"} {
			for _, v := range arr(o[k]) {
				if vo := obj(v); vo != nil {
					cands = append(cands, str(vo["value"])+" "+str(vo["propertyID"]))
				} else {
					cands = append(cands, str(v))
				}
			}
		}
		for _, s := range cands {
			if strings.Contains(strings.ToLower(s), "orcid") {
				cr.ORCID = strings.Fields(s)[0]
				b.from("creators", p+".identifier")
				break
			}
		}
		var affs []string
		for _, a := range arr(o["affiliation"]) {
			if ao := deref(a); ao != nil {
				affs = append(affs, str(ao["name"]))
			} else {
				affs = append(affs, str(a))
			}
		}
		if len(affs) > 0 {
			cr.Affiliation = strings.Join(affs, "; ")
			b.from("creators", p+".affiliation")
		}
		c.Creators = append(c.Creators, cr)
	}
	for i, k := range arr(m["keywords"]) {
		s := str(k)
		if o := obj(k); o != nil {
			s = str(o["name"])
		}
		if s == "" {
			continue
		}
		if _, isList := m["keywords"].([]any); !isList {
			// A single string is a comma-separated list (schema.org says so).
			for _, part := range strings.Split(s, ",") {
				c.Keywords = append(c.Keywords, part)
			}
		} else {
			c.Keywords = append(c.Keywords, s)
		}
		b.from("keywords", fmt.Sprintf("keywords[%d]", i))
	}
	for i, l := range arr(m["license"]) {
		s := str(l)
		if o := obj(l); o != nil {
			s = str(o["url"])
			if s == "" {
				s = str(o["@id"])
			}
		}
		if s != "" {
			c.License = s
			b.from("license", fmt.Sprintf("license[%d]", i))
			break
		}
	}
	idSource := ""
	addID := func(v, scheme, path string) {
		if v == "" {
			return
		}
		if d, ok := NormalizeDOI(v); ok && (strings.Contains(strings.ToLower(v), "doi") || strings.HasPrefix(v, "10.")) {
			if c.DOI == "" {
				c.DOI = d
				b.from("doi", path)
			}
			return
		}
		if idSource == "" {
			idSource = v
		}
		if scheme == "" {
			scheme = "local"
			if isHTTPURL(v) {
				scheme = "url"
			}
		}
		c.Identifiers = append(c.Identifiers, Identifier{Value: v, Scheme: scheme})
		b.from("identifiers", path)
	}
	for i, x := range arr(m["identifier"]) {
		p := fmt.Sprintf("identifier[%d]", i)
		if o := obj(x); o != nil {
			scheme := strings.ToLower(str(o["propertyID"]))
			if scheme == "https://registry.identifiers.org/registry/doi" {
				scheme = "doi"
			}
			v := str(o["value"])
			if scheme == "doi" && !strings.HasPrefix(v, "10.") && !strings.Contains(v, "doi") {
				v = "doi:" + v
			}
			addID(v, scheme, p+".value")
		} else {
			addID(str(x), "", p)
		}
	}
	if id := str(m["@id"]); id != "" {
		addID(id, "", "@id")
	}
	b.sourceID = idSource
	if s := b.sget(m, "url", "url"); s != "" {
		c.LandingPage = s
		b.from("landing_page", "url")
		if b.sourceID == "" {
			b.sourceID = s
		}
	}
	if s := str(m["temporalCoverage"]); s != "" {
		st, en := splitInterval(s)
		if st != "" || en != "" {
			c.Temporal = &Temporal{Start: st, End: en}
			b.from("temporal", "temporalCoverage")
		}
	}
	for i, x := range arr(m["spatialCoverage"]) {
		p := fmt.Sprintf("spatialCoverage[%d]", i)
		if c.Spatial == nil {
			c.Spatial = &Spatial{}
		}
		o := deref(x)
		if o == nil {
			if s := str(x); s != "" && c.Spatial.Place == "" {
				c.Spatial.Place = s
				b.from("spatial.place", p)
			}
			continue
		}
		if s := str(o["name"]); s != "" && c.Spatial.Place == "" {
			c.Spatial.Place = s
			b.from("spatial.place", p+".name")
		}
		for _, g := range arr(o["geo"]) {
			geo := obj(g)
			if geo == nil || c.Spatial.BBox != nil {
				continue
			}
			if box := str(geo["box"]); box != "" {
				// schema.org box: "south west north east" (lat lon lat lon).
				if bb, ok := parseBBoxList(box); ok {
					c.Spatial.BBox = &BBox{West: bb.South, South: bb.West, East: bb.North, North: bb.East}
					b.from("spatial.bbox", p+".geo.box")
				} else {
					b.drop(p+".geo.box", "not four numbers")
				}
			} else if lat, ok1 := num(geo["latitude"]); ok1 {
				if lon, ok2 := num(geo["longitude"]); ok2 {
					c.Spatial.BBox = &BBox{West: lon, South: lat, East: lon, North: lat}
					b.from("spatial.bbox", p+".geo")
				}
			}
		}
	}
	if c.Spatial != nil && c.Spatial.BBox == nil && c.Spatial.Place == "" {
		c.Spatial = nil
	}
	for i, x := range arr(m["variableMeasured"]) {
		p := fmt.Sprintf("variableMeasured[%d]", i)
		if o := obj(x); o != nil {
			v := Variable{Name: str(o["name"]), Unit: str(o["unitText"]), Description: str(o["description"])}
			if v.Unit == "" {
				v.Unit = str(o["unitCode"])
			}
			if v.Name == "" {
				v.Name = str(o["propertyID"])
			}
			if v.Name != "" {
				c.Variables = append(c.Variables, v)
				b.from("variables", p)
			}
		} else if s := str(x); s != "" {
			c.Variables = append(c.Variables, Variable{Name: s})
			b.from("variables", p)
		}
	}
	for i, x := range arr(m["measurementTechnique"]) {
		if s := str(x); s != "" {
			c.Instrument = s
			b.from("instrument", fmt.Sprintf("measurementTechnique[%d]", i))
			break
		}
	}
	for i, x := range arr(m["funding"]) {
		o := deref(x)
		if o == nil {
			continue
		}
		f := Funding{AwardTitle: str(o["name"]), AwardNumber: str(o["identifier"]), AwardURI: str(o["url"])}
		if fo := deref(o["funder"]); fo != nil {
			f.Funder = str(fo["name"])
		} else {
			f.Funder = str(o["funder"])
		}
		if f.Funder != "" {
			c.Funding = append(c.Funding, f)
			b.from("funding", fmt.Sprintf("funding[%d]", i))
		}
	}
	if len(c.Funding) == 0 {
		for i, x := range arr(m["funder"]) {
			name := str(x)
			if o := deref(x); o != nil {
				name = str(o["name"])
			}
			if name != "" {
				c.Funding = append(c.Funding, Funding{Funder: name})
				b.from("funding", fmt.Sprintf("funder[%d]", i))
			}
		}
	}
	if o := deref(m["publisher"]); o != nil {
		c.Publisher = str(o["name"])
		b.from("publisher", "publisher.name")
	} else if s := str(m["publisher"]); s != "" {
		c.Publisher = s
		b.from("publisher", "publisher")
	}
	if o := deref(m["sourceOrganization"]); o != nil {
		c.Organization = str(o["name"])
		b.from("organization", "sourceOrganization.name")
	} else if o := deref(m["provider"]); o != nil {
		c.Organization = str(o["name"])
		b.from("organization", "provider.name")
	}
	if s := b.sget(m, "datePublished", "datePublished"); s != "" {
		c.Issued = s
		b.from("issued", "datePublished")
	}
	if s := b.sget(m, "dateModified", "dateModified"); s != "" {
		c.Modified = s
		b.from("modified", "dateModified")
	}
	if s := str(m["conditionsOfAccess"]); s != "" {
		c.AccessNotes = s
		b.from("access_notes", "conditionsOfAccess")
	}
	var cands []string
	for _, x := range arr(m["about"]) {
		if o := obj(x); o != nil {
			cands = append(cands, str(o["name"]))
		} else {
			cands = append(cands, str(x))
		}
	}
	if d, i := inferDomain(cands); i >= 0 {
		c.Domain = d
		b.from("domain", fmt.Sprintf("about[%d]", i))
	} else if d, i := inferDomain(c.Keywords); i >= 0 {
		c.Domain = d
		b.from("domain", "keywords (inferred from "+c.Keywords[i]+")")
	}
	return nil
}
