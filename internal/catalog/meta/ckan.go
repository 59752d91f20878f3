package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// CKAN package_show JSON (Action API v3): {"help":…, "success": true,
// "result": {package}} or the bare package; also package_search results
// ({"result": {"count": n, "results": [...]}}) and an array of packages.
// Package fields: id, name, title, notes, author, author_email, maintainer,
// license_id, license_title, license_url, url, version, organization{name,
// title}, tags[{name}], groups[{title}], extras[{key, value}] (harvested
// DCAT fields live here: spatial, temporal, issued, modified, publisher,
// theme, identifier, rights, …), resources[], metadata_created,
// metadata_modified.

func splitCKAN(data []byte) ([]item, error) {
	trim := bytes.TrimSpace(data)
	var raws []json.RawMessage
	if len(trim) > 0 && trim[0] == '[' {
		if err := decodeJSON(trim, &raws); err != nil {
			return nil, err
		}
		return jsonItems(raws, CKAN, mapCKAN), nil
	}
	var top map[string]json.RawMessage
	if err := decodeJSON(trim, &top); err != nil {
		return nil, err
	}
	if top == nil {
		return nil, errors.E(errors.Invalid, errors.Msg("not a CKAN document: expected an object"))
	}
	if res, ok := top["result"]; ok {
		if s, ok := top["success"]; ok && string(bytes.TrimSpace(s)) == "false" {
			return nil, errors.E(errors.Invalid, errors.Msg("CKAN response reports \"success\": false"))
		}
		var search struct {
			Results *[]json.RawMessage `json:"results"`
		}
		if json.Unmarshal(res, &search) == nil && search.Results != nil {
			return jsonItems(*search.Results, CKAN, mapCKAN), nil
		}
		res = bytes.TrimSpace(res)
		if len(res) == 0 || res[0] != '{' {
			return nil, errors.E(errors.Invalid, errors.Msg("not a CKAN package_show response: \"result\" is not an object"))
		}
		return jsonItems([]json.RawMessage{res}, CKAN, mapCKAN), nil
	}
	if looksCKAN(top) {
		return jsonItems([]json.RawMessage{trim}, CKAN, mapCKAN), nil
	}
	return nil, errors.E(errors.Invalid, errors.Msg("not a CKAN document: no \"result\" and not a package"))
}

func looksCKAN(top map[string]json.RawMessage) bool {
	_, name := top["name"]
	n := 0
	for _, k := range []string{"notes", "license_id", "resources", "tags", "extras", "organization", "owner_org"} {
		if _, ok := top[k]; ok {
			n++
		}
	}
	return name && n >= 1
}

func mapCKAN(b *builder, m map[string]any) error {
	c := &b.core
	extras := map[string]string{}
	extraIdx := map[string]int{}
	for i, x := range arr(m["extras"]) {
		o := obj(x)
		k := strings.ToLower(str(o["key"]))
		if k != "" {
			extras[k] = str(o["value"])
			extraIdx[k] = i
		}
	}
	ex := func(keys ...string) (string, string) {
		for _, k := range keys {
			if v := extras[k]; v != "" {
				return v, fmt.Sprintf("extras[%d](%s)", extraIdx[k], k)
			}
		}
		return "", ""
	}
	b.sourceID = str(m["id"])
	if b.sourceID == "" {
		b.sourceID = str(m["name"])
	}
	if s, err := b.title(m, "title", "title"); err != nil {
		return err
	} else if s != "" {
		c.Title = s
		b.from("title", "title")
	} else if s := b.sget(m, "name", "name"); s != "" {
		c.Title = s
		b.from("title", "name")
	}
	if s := b.sget(m, "notes", "notes"); s != "" {
		c.Description = s
		b.from("description", "notes")
	}
	if s := str(m["id"]); s != "" {
		c.Identifiers = append(c.Identifiers, Identifier{Value: s, Scheme: "ckan-id"})
		b.from("identifiers", "id")
	}
	if s := str(m["name"]); s != "" {
		c.Identifiers = append(c.Identifiers, Identifier{Value: s, Scheme: "ckan-name"})
		b.from("identifiers", "name")
	}
	if v, p := ex("doi"); v != "" {
		c.DOI = v
		b.from("doi", p)
	} else if v, p := ex("identifier", "guid"); v != "" {
		if d, ok := NormalizeDOI(v); ok && strings.Contains(strings.ToLower(v), "doi") {
			c.DOI = d
			b.from("doi", p)
		} else {
			c.Identifiers = append(c.Identifiers, Identifier{Value: v, Scheme: "source"})
			b.from("identifiers", p)
		}
	}
	if a := str(m["author"]); a != "" {
		orcids, _ := ex("author_orcid", "orcid")
		ol := strings.Split(orcids, ";")
		for i, name := range strings.Split(a, ";") {
			cr := Creator{Name: name}
			if i < len(ol) {
				cr.ORCID = strings.TrimSpace(ol[i])
			}
			c.Creators = append(c.Creators, cr)
		}
		b.from("creators", "author")
		if orcids != "" {
			_, p := ex("author_orcid", "orcid")
			b.from("creators", p)
		}
	}
	if o := obj(m["organization"]); o != nil {
		if s := str(o["title"]); s != "" {
			c.Organization = s
			b.from("organization", "organization.title")
		} else if s := str(o["name"]); s != "" {
			c.Organization = s
			b.from("organization", "organization.name")
		}
	}
	for i, t := range arr(m["tags"]) {
		s := str(t)
		if o := obj(t); o != nil {
			s = str(o["display_name"])
			if s == "" {
				s = str(o["name"])
			}
		}
		if s != "" {
			c.Keywords = append(c.Keywords, s)
			b.from("keywords", fmt.Sprintf("tags[%d].name", i))
		}
	}
	lid := str(m["license_id"])
	if n := NormalizeLicense(lid); lid != "" && !isCKANPlaceholder(lid) && ValidLicense(n) {
		c.License = n
		b.from("license", "license_id")
	} else if u := str(m["license_url"]); u != "" {
		c.License = u
		b.from("license", "license_url")
	}
	if v, p := ex("spatial"); v != "" {
		var g map[string]any
		if json.Unmarshal([]byte(v), &g) == nil {
			if bb, ok := geoJSONBBox(g); ok {
				c.Spatial = &Spatial{BBox: bb}
				b.from("spatial.bbox", p)
			}
		} else if bb, ok := parseBBoxList(v); ok {
			c.Spatial = &Spatial{BBox: bb}
			b.from("spatial.bbox", p)
		} else {
			c.Spatial = &Spatial{Place: v}
			b.from("spatial.place", p)
		}
	}
	if v, p := ex("spatial_text", "place", "location"); v != "" {
		if c.Spatial == nil {
			c.Spatial = &Spatial{}
		}
		c.Spatial.Place = v
		b.from("spatial.place", p)
	}
	if v, p := ex("temporal"); v != "" {
		s, e := splitInterval(v)
		c.Temporal = &Temporal{Start: s, End: e}
		b.from("temporal", p)
	} else {
		s, ps := ex("temporal_start", "temporal-extent-begin")
		e, pe := ex("temporal_end", "temporal-extent-end")
		if s != "" || e != "" {
			c.Temporal = &Temporal{Start: s, End: e}
			b.from("temporal", ps, pe)
		}
	}
	if v, p := ex("publisher"); v != "" {
		c.Publisher = v
		b.from("publisher", p)
	}
	if v, p := ex("issued"); v != "" {
		c.Issued = v
		b.from("issued", p)
	} else if v := str(m["metadata_created"]); v != "" {
		c.Issued = v
		b.from("issued", "metadata_created")
	}
	if v, p := ex("modified"); v != "" {
		c.Modified = v
		b.from("modified", p)
	} else if v := str(m["metadata_modified"]); v != "" {
		c.Modified = v
		b.from("modified", "metadata_modified")
	}
	if v, p := ex("landingpage", "landing_page"); v != "" {
		c.LandingPage = v
		b.from("landing_page", p)
	} else if u := str(m["url"]); u != "" {
		c.LandingPage = u
		b.from("landing_page", "url")
	}
	if v, p := ex("rights", "access_constraints", "accesslevel"); v != "" {
		c.AccessNotes = v
		b.from("access_notes", p)
	}
	for k, field := range map[string]*string{"instrument": &c.Instrument, "facility": &c.Facility} {
		if v, p := ex(k); v != "" {
			*field = v
			b.from(k, p)
		}
	}
	if v, p := ex("origin"); v != "" {
		c.Origin = Origin(v)
		b.from("origin", p)
	}
	if v, p := ex("funder", "funding_agency"); v != "" {
		award, pa := ex("award_number", "grant")
		c.Funding = append(c.Funding, Funding{Funder: v, AwardNumber: award})
		b.from("funding", p)
		if pa != "" {
			b.from("funding", pa)
		}
	}
	if v, p := ex("domain"); v != "" {
		if d, ok := ParseDomain(v); ok {
			c.Domain = d
			b.from("domain", p)
		} else {
			b.drop(p, "unknown domain")
		}
	}
	if c.Domain == "" {
		var cands, paths []string
		for _, t := range strings.Split(extras["theme"], ",") {
			cands = append(cands, strings.Trim(t, "[]\" "))
			paths = append(paths, "extras(theme)")
		}
		for i, g := range arr(m["groups"]) {
			cands = append(cands, str(obj(g)["title"]))
			paths = append(paths, fmt.Sprintf("groups[%d].title", i))
		}
		for i, k := range c.Keywords {
			cands = append(cands, k)
			paths = append(paths, fmt.Sprintf("tags[%d] (inferred)", i))
		}
		if d, i := inferDomain(cands); i >= 0 {
			c.Domain = d
			b.from("domain", paths[i])
		}
	}
	return nil
}

func isCKANPlaceholder(id string) bool {
	v, ok := ckanLicenses[strings.ToLower(id)]
	return ok && v == ""
}
