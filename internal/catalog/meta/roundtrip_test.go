package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// dataCiteCarried keeps the fields DataCite JSON has a place for.
func dataCiteCarried(c Core) Core {
	c.Variables, c.Instrument, c.Facility, c.Challenges = nil, "", "", nil
	return c
}

// dcatCarried keeps the fields a DCAT-US dataset has a place for.
func dcatCarried(c Core) Core {
	out := Core{
		Title: c.Title, Description: c.Description, Keywords: c.Keywords, Modified: c.Modified,
		Publisher: c.Publisher, Organization: c.Organization, DOI: c.DOI, License: c.License,
		AccessNotes: c.AccessNotes, Temporal: c.Temporal, Issued: c.Issued, LandingPage: c.LandingPage, Domain: c.Domain,
	}
	if c.DOI == "" && len(c.Identifiers) > 0 {
		out.Identifiers = []Identifier{{Value: c.Identifiers[0].Value}}
	}
	if sp := c.Spatial; sp != nil {
		if sp.BBox != nil {
			out.Spatial = &Spatial{BBox: sp.BBox}
		} else {
			out.Spatial = &Spatial{Place: sp.Place}
		}
	}
	return out
}

func dcatCompare(c Core) Core {
	c = dcatCarried(c)
	for i := range c.Identifiers {
		c.Identifiers[i].Scheme = ""
	}
	return c
}

type exporter struct {
	name    string
	export  func(Core) ([]byte, error)
	carried func(Core) Core
}

var exporters = []exporter{
	{"datacite", ExportDataCite, dataCiteCarried},
	{"dcat-us", func(c Core) ([]byte, error) { return ExportDCATUSCatalog([]Core{c}, DCATUSOptions{}) }, dcatCompare},
}

func reimport(t testing.TB, e exporter, c Core) Core {
	t.Helper()
	out, err := e.export(c)
	if err != nil {
		t.Fatalf("%s export: %v", e.name, err)
	}
	recs, bad, err := Import(bytes.NewReader(out), Auto)
	if err != nil || len(bad) != 0 || len(recs) != 1 {
		t.Fatalf("%s re-import: %v %v (%d records)\n%s", e.name, err, bad, len(recs), out)
	}
	return recs[0].Core
}

var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

// TestRoundTripFixtures: import → export → import gives the same Core for
// the fields both formats carry, for every fixture record.
func TestRoundTripFixtures(t *testing.T) {
	for _, file := range []string{"osti-datacite.json", "datacite-list.json", "noaa-nasa-data.json", "usgs-ckan.json", "mdf-schemaorg.jsonld", "repository-graph.jsonld", "inventory.csv"} {
		recs, _ := importFixture(t, file, Auto)
		for _, r := range recs {
			for _, e := range exporters {
				back := reimport(t, e, r.Core)
				if d := cmp.Diff(e.carried(r.Core), e.carried(back), cmpOpts...); d != "" {
					t.Errorf("%s %s via %s (-first +round trip):\n%s", file, r.SourceID, e.name, d)
				}
			}
		}
	}
}

// randomCore makes a valid, normalised Core from r. Text includes markup,
// non-ASCII and punctuation that exporters must carry unchanged.
func randomCore(r *rand.Rand) Core {
	words := []string{"plasma", "qubit", "<b>bold</b>", "Ångström", "数据", "O'Brien", "a&b", `"quoted"`, "tokamak", "wafer", "x,y", "50%", "naïve"}
	text := func(n int) string {
		var w []string
		for range 1 + r.IntN(n) {
			w = append(w, words[r.IntN(len(words))])
		}
		return strings.Join(w, " ")
	}
	dates := []string{"2020", "2021-06", "2022-03-04", "2023-01-02T03:04:05Z", "2024-12-31T23:59:59.5+02:00"}
	c := Core{Title: text(6), Domain: Domains[r.IntN(len(Domains))]}
	if r.IntN(2) == 0 {
		c.Description = text(30)
		if r.IntN(3) == 0 {
			c.Description += "\n\nSecond paragraph: " + text(5)
		}
	}
	orcids := []string{"0000-0002-1825-0097", "0000-0003-4812-7660", "0000-0001-7320-4512", ""}
	for i := range r.IntN(4) {
		c.Creators = append(c.Creators, Creator{Name: fmt.Sprintf("%s %d", text(2), i), ORCID: orcids[r.IntN(len(orcids))]})
		if r.IntN(2) == 0 {
			c.Creators[i].Affiliation = text(3)
		}
	}
	for i := range r.IntN(5) {
		c.Keywords = append(c.Keywords, fmt.Sprintf("kw%d %s", i, text(2)))
	}
	licenses := []string{"", "CC0-1.0", "CC-BY-4.0", "MIT", "https://www.usa.gov/government-works", "https://example.org/terms", "LicenseRef-Lab-Only"}
	c.License = licenses[r.IntN(len(licenses))]
	if r.IntN(2) == 0 {
		c.DOI = fmt.Sprintf("10.%d/abc-%d", 1000+r.IntN(90000), r.IntN(1e6))
	}
	for i := range r.IntN(3) {
		c.Identifiers = append(c.Identifiers, Identifier{Value: fmt.Sprintf("id-%d-%d", i, r.IntN(1000)), Scheme: []string{"local", "url", "osti id"}[r.IntN(3)]})
	}
	if r.IntN(2) == 0 {
		i, j := r.IntN(len(dates)), r.IntN(len(dates))
		if i > j {
			i, j = j, i
		}
		c.Temporal = &Temporal{Start: dates[i], End: dates[j]}
		if r.IntN(4) == 0 {
			c.Temporal.End = ""
		}
	}
	if r.IntN(2) == 0 {
		c.Spatial = &Spatial{}
		if r.IntN(2) == 0 {
			s := r.Float64()*170 - 85
			c.Spatial.BBox = &BBox{West: r.Float64()*360 - 180, South: s, East: r.Float64()*360 - 180, North: s + r.Float64()*(90-s)}
		}
		if c.Spatial.BBox == nil || r.IntN(2) == 0 {
			c.Spatial.Place = text(3)
		}
	}
	if r.IntN(2) == 0 {
		c.Organization = text(3)
	}
	if r.IntN(2) == 0 {
		c.Publisher = text(3)
	}
	if r.IntN(2) == 0 {
		c.Funding = []Funding{{Funder: text(3), AwardNumber: "DE-SC" + fmt.Sprint(r.IntN(1e6))}}
	}
	c.Origin = []Origin{"", Observed, Simulated, Synthetic}[r.IntN(4)]
	if r.IntN(2) == 0 {
		c.AccessNotes = text(8)
	}
	if r.IntN(2) == 0 {
		c.LandingPage = "https://example.org/d/" + fmt.Sprint(r.IntN(1e6))
	}
	if r.IntN(2) == 0 {
		c.Issued = dates[r.IntN(len(dates))]
	}
	if r.IntN(2) == 0 {
		c.Modified = dates[r.IntN(len(dates))]
	}
	c.Normalize()
	return c
}

// TestRoundTripProperty: for random Cores, every exporter is faithful on the
// fields it carries, and export∘import is idempotent.
func TestRoundTripProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		c := randomCore(r)
		if err := c.Validate(); err != nil {
			t.Fatalf("generator made an invalid core: %v\n%+v", err, c)
		}
		for _, e := range exporters {
			c1 := reimport(t, e, c)
			if d := cmp.Diff(e.carried(c), e.carried(c1), cmpOpts...); d != "" {
				j, _ := json.Marshal(c)
				t.Fatalf("case %d via %s not faithful (-want +got):\n%s\n%s", i, e.name, d, j)
			}
			c2 := reimport(t, e, c1)
			if d := cmp.Diff(c1, c2, cmpOpts...); d != "" {
				t.Fatalf("case %d via %s not idempotent:\n%s", i, e.name, d)
			}
		}
	}
}
