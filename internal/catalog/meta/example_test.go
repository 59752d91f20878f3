package meta_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog/meta"
)

func ExampleImport() {
	doc := `{
	  "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
	  "dataset": [
	    {"title": "Tokamak disruption database", "description": "Time histories of plasma current and locked-mode amplitude for disruptive discharges.",
	     "keyword": ["tokamak", "disruption"], "identifier": "pppl-fdb-003", "accessLevel": "public",
	     "license": "https://creativecommons.org/licenses/by/4.0/", "theme": ["Fusion Energy"], "modified": "2024-06-30"},
	    {"description": "no title", "identifier": "pppl-fdb-004", "accessLevel": "public"}
	  ]
	}`
	recs, bad, err := meta.Import(strings.NewReader(doc), meta.Auto)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range recs {
		q := r.Quality()
		fmt.Println(r.SourceID, r.Core.Domain, r.Core.License, q.Score, r.Provenance.Fields["domain"])
	}
	for _, e := range bad {
		fmt.Println(e)
	}
	// Output:
	// pppl-fdb-003 nuclear-fission-fusion CC-BY-4.0 62 [theme[0]]
	// record 1 (pppl-fdb-004): title: required
}

// TestJSONFieldNames pins the stored JSON names of Core: renaming one breaks
// every stored record, so it must be a deliberate change here.
func TestJSONFieldNames(t *testing.T) {
	c := meta.Core{
		Title: "t", Description: "d", Creators: []meta.Creator{{Name: "n", ORCID: "0000-0002-1825-0097", Affiliation: "a"}},
		Organization: "o", Keywords: []string{"k"}, Domain: meta.AI, License: "MIT", DOI: "10.1234/x",
		Identifiers: []meta.Identifier{{Value: "v", Scheme: "s"}}, Temporal: &meta.Temporal{Start: "2020", End: "2021"},
		Spatial: &meta.Spatial{BBox: &meta.BBox{}, Place: "p"}, Variables: []meta.Variable{{Name: "n", Unit: "u", Description: "d"}},
		Instrument: "i", Facility: "f", Funding: []meta.Funding{{Funder: "f", AwardNumber: "n", AwardTitle: "t", AwardURI: "https://x.org"}},
		Challenges: []string{"c"}, Origin: meta.Observed, AccessNotes: "a", LandingPage: "https://x.org", Publisher: "p", Issued: "2020", Modified: "2021",
	}
	b, _ := json.Marshal(c)
	var keys []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys = append(keys, prefix+k)
				walk(prefix+k+".", x)
			}
		case []any:
			walk(prefix, v[0])
		}
	}
	var m any
	_ = json.Unmarshal(b, &m)
	walk("", m)
	slices.Sort(keys)
	want := "access_notes challenges creators creators.affiliation creators.name creators.orcid description doi domain facility funding funding.award_number funding.award_title funding.award_uri funder identifiers identifiers.scheme identifiers.value instrument issued keywords landing_page license modified organization origin publisher spatial spatial.bbox spatial.bbox.east spatial.bbox.north spatial.bbox.south spatial.bbox.west spatial.place temporal temporal.end temporal.start title variables variables.description variables.name variables.unit"
	got := strings.Join(keys, " ")
	want = strings.Replace(want, "funding.award_uri funder", "funding.award_uri funding.funder", 1)
	if got != want {
		t.Errorf("JSON names changed:\n got %s\nwant %s", got, want)
	}
}
