package meta

import (
	"fmt"
	"strings"
)

// Quality is a metadata quality score and the reasons it is not 100.
type Quality struct {
	Score    int       `json:"score"` // 0..100
	Findings []Finding `json:"findings,omitempty"`
}

// Finding is one thing that lowered the score.
type Finding struct {
	Field   string `json:"field"`
	Message string `json:"message"` // "missing license", "invalid ORCID for creator 2"
	Penalty int    `json:"penalty"` // points lost
}

// Weights. Required fields are worth 60 points, recommended ones 25, and
// validity 15: a valid DOI or identifier 4, valid ORCID iDs 4, a license on
// the offline list 7. A missing field also forfeits its validity points, so
// an empty Core scores 0 and a complete, valid one 100.
var (
	requiredWeights = []struct {
		field  string
		points int
	}{
		{"title", 10}, {"description", 10}, {"creators", 10}, {"license", 8},
		{"identifier", 8}, {"keywords", 7}, {"domain", 7},
	}
	recommendedWeights = []struct {
		field  string
		points int
	}{
		{"temporal", 3}, {"spatial", 2}, {"variables", 4}, {"organization", 2},
		{"publisher", 2}, {"landing_page", 3}, {"issued", 2}, {"origin", 2},
		{"funding", 2}, {"instrument", 1}, {"modified", 1}, {"access_notes", 1},
	}
)

const (
	doiPoints      = 4 // a valid DOI (or, without a DOI, any identifier)
	orcidPoints    = 4 // valid ORCID iDs for the people among the creators
	licensePoints  = 7 // a license on the offline list
	minDescription = 50
)

// forfeit is what a missing required field costs beyond its own weight.
var forfeit = map[string]int{"license": licensePoints, "identifier": doiPoints, "creators": orcidPoints}

// Assess scores c. It is deterministic and looks only at c. It does not
// assume c is valid: a bad DOI or ORCID is a finding, not a failure.
func Assess(c *Core) Quality {
	q := Quality{Score: 100}
	lose := func(field string, points int, format string, args ...any) {
		q.Score -= points
		q.Findings = append(q.Findings, Finding{Field: field, Message: fmt.Sprintf(format, args...), Penalty: points})
	}
	present := map[string]bool{
		"title":        c.Title != "",
		"description":  c.Description != "",
		"creators":     len(c.Creators) > 0,
		"license":      c.License != "",
		"identifier":   c.DOI != "" || len(c.Identifiers) > 0,
		"keywords":     len(c.Keywords) > 0,
		"domain":       c.Domain != "",
		"temporal":     c.Temporal != nil,
		"spatial":      c.Spatial != nil,
		"variables":    len(c.Variables) > 0,
		"organization": c.Organization != "",
		"publisher":    c.Publisher != "",
		"landing_page": c.LandingPage != "",
		"issued":       c.Issued != "",
		"origin":       c.Origin != "",
		"funding":      len(c.Funding) > 0,
		"instrument":   c.Instrument != "" || c.Facility != "",
		"modified":     c.Modified != "",
		"access_notes": c.AccessNotes != "",
	}
	names := map[string]string{"identifier": "identifier (DOI or other)", "landing_page": "landing page", "access_notes": "access notes", "instrument": "instrument or facility"}
	name := func(f string) string {
		if n, ok := names[f]; ok {
			return n
		}
		return f
	}
	for _, w := range requiredWeights {
		if !present[w.field] {
			lose(w.field, w.points+forfeit[w.field], "missing %s", name(w.field))
		}
	}
	if c.Description != "" && len([]rune(c.Description)) < minDescription {
		lose("description", 3, "description shorter than %d characters", minDescription)
	}
	if c.Title != "" && c.Description != "" && strings.EqualFold(c.Title, c.Description) {
		lose("description", 3, "description repeats the title")
	}
	for _, w := range recommendedWeights {
		if !present[w.field] {
			lose(w.field, w.points, "missing %s (recommended)", name(w.field))
		}
	}
	for i, v := range c.Variables {
		if v.Unit == "" {
			lose(fmt.Sprintf("variables[%d].unit", i), 1, "no unit for variable %d (%s)", i+1, truncate(v.Name, 40))
			break // once: the point is to prompt for units, not to zero the score
		}
	}

	// Identifiers: the DOI and every ORCID must be valid.
	if c.DOI != "" {
		if _, ok := NormalizeDOI(c.DOI); !ok {
			lose("doi", doiPoints, "invalid DOI")
		}
	}
	orcidLoss, withORCID := 0, 0
	for i, cr := range c.Creators {
		if cr.ORCID == "" {
			continue
		}
		withORCID++
		if _, ok := NormalizeORCID(cr.ORCID); !ok && orcidLoss < orcidPoints {
			lose(fmt.Sprintf("creators[%d].orcid", i), orcidPoints-orcidLoss, "invalid ORCID for creator %d", i+1)
			orcidLoss = orcidPoints
		}
	}
	if len(c.Creators) > 0 && withORCID == 0 && hasPerson(c.Creators) {
		lose("creators", orcidPoints/2, "no creator has an ORCID iD")
	}

	if c.License != "" {
		if _, ok := LookupLicense(c.License); !ok {
			lose("license", licensePoints, "license %q is not a known SPDX id or license URL", truncate(c.License, 80))
		}
	}
	if q.Score < 0 {
		q.Score = 0
	}
	return q
}

// hasPerson guesses whether any creator is a person (organisations have no
// ORCID, so their absence is not a finding): "Family, Given" or two words.
func hasPerson(cs []Creator) bool {
	for _, c := range cs {
		if strings.Contains(c.Name, ",") || len(strings.Fields(c.Name)) == 2 || len(strings.Fields(c.Name)) == 3 {
			low := strings.ToLower(c.Name)
			if !strings.Contains(low, "laboratory") && !strings.Contains(low, "university") && !strings.Contains(low, "institute") && !strings.Contains(low, "center") && !strings.Contains(low, "survey") {
				return true
			}
		}
	}
	return false
}

// Quality scores the record: Assess of its Core, plus a finding for each
// identifier the importer dropped as invalid (its Core no longer holds it),
// within the same point budgets as Assess.
func (r *Record) Quality() Quality {
	q := Assess(&r.Core)
	lost := map[string]int{}
	for _, f := range q.Findings {
		switch {
		case f.Field == "doi" || f.Field == "identifier":
			lost["doi"] += min(f.Penalty, doiPoints)
		case strings.HasSuffix(f.Field, ".orcid") || f.Field == "creators":
			lost["orcid"] += min(f.Penalty, orcidPoints)
		}
	}
	for _, d := range r.Provenance.Dropped {
		var msg, budget string
		limit := 0
		switch {
		case strings.HasPrefix(d.Source, "creators[") && strings.HasSuffix(d.Source, ".orcid"):
			var n int
			fmt.Sscanf(d.Source, "creators[%d]", &n)
			msg, budget, limit = fmt.Sprintf("invalid ORCID for creator %d (dropped)", n+1), "orcid", orcidPoints
		case d.Source == "doi":
			msg, budget, limit = "invalid DOI (dropped)", "doi", doiPoints
		default:
			continue
		}
		p := limit - lost[budget]
		if p <= 0 {
			continue
		}
		lost[budget] += p
		q.Score -= p
		q.Findings = append(q.Findings, Finding{Field: d.Source, Message: msg, Penalty: p})
	}
	if q.Score < 0 {
		q.Score = 0
	}
	return q
}
