package meta

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func importFixture(t testing.TB, name string, f Format) ([]Record, []RecordError) {
	t.Helper()
	recs, bad, err := Import(bytes.NewReader(readFixture(t, name)), f)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return recs, bad
}

func bySource(recs []Record) map[string]Record {
	m := map[string]Record{}
	for _, r := range recs {
		m[r.SourceID] = r
	}
	return m
}

func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		file   string
		format Format
		ok     []string       // SourceIDs imported, in order
		bad    map[int]string // record index → core field at fault
	}{
		{"osti-datacite.json", DataCite, []string{"doi:10.11578/1987654"}, nil},
		{"datacite-list.json", DataCite, []string{"doi:10.15485/2204417", "doi:10.15485/2204419"}, map[int]string{1: "title", 3: "source_id"}},
		{"noaa-nasa-data.json", DCATUS, []string{"gov.noaa.ncdc:C00516", "doi:10.5067/ghgmr-4fj04", "doe-pppl-fdb-2024-003", "gov.noaa.nhc:HURDAT2"}, map[int]string{3: "title"}},
		{"usgs-ckan.json", CKAN, []string{"doi:10.5066/p9u26f4p"}, nil},
		{"mdf-schemaorg.jsonld", SchemaOrg, []string{"doi:10.18126/abcd-1234"}, nil},
		{"repository-graph.jsonld", SchemaOrg, []string{"https://repo.example.edu/dataset/qis-transmon-t1-2024"}, map[int]string{1: "title"}},
		{"inventory.csv", CSV, []string{"doi:10.11578/snl.2024.0042", "SNL-MS-0043", "SNL-MS-0044"}, map[int]string{3: "temporal.end", 4: "domain", 5: ""}},
	} {
		for _, f := range []Format{Auto, tc.format} {
			recs, bad := importFixture(t, tc.file, f)
			var got []string
			for _, r := range recs {
				got = append(got, r.SourceID)
				if err := r.Core.Validate(); err != nil {
					t.Errorf("%s: imported record %s does not validate: %v", tc.file, r.SourceID, err)
				}
				if r.Provenance.Format != tc.format {
					t.Errorf("%s: provenance format %q", tc.file, r.Provenance.Format)
				}
				if len(r.Provenance.Fields["title"]) == 0 {
					t.Errorf("%s: no provenance for title", tc.file)
				}
				if len(r.Provenance.Original) == 0 {
					t.Errorf("%s: no original bytes", tc.file)
				}
			}
			if !slices.Equal(got, tc.ok) {
				t.Errorf("%s (%s): imported %q, want %q", tc.file, f, got, tc.ok)
			}
			gotBad := map[int]string{}
			for _, b := range bad {
				gotBad[b.Index] = b.Field
				if !errors.Is(errors.Invalid, b.Err) || b.Error() == "" {
					t.Errorf("%s: record error %v is not Invalid", tc.file, b)
				}
			}
			if len(gotBad) != len(tc.bad) {
				t.Errorf("%s: record errors %v, want %v", tc.file, bad, tc.bad)
			}
			for i, field := range tc.bad {
				if g, ok := gotBad[i]; !ok || g != field {
					t.Errorf("%s: record %d error field %q (present %v), want %q", tc.file, i, g, ok, field)
				}
			}
		}
	}
}

func TestDataCiteMapping(t *testing.T) {
	recs, _ := importFixture(t, "osti-datacite.json", Auto)
	r := recs[0]
	c := r.Core
	want := []struct{ got, want string }{
		{c.Title, "In-situ melt pool thermography and porosity labels for laser powder bed fusion of Inconel 718"},
		{c.Creators[0].Name, "Okonkwo, Adaeze"},
		{c.Creators[0].ORCID, "0000-0003-4812-7660"},
		{c.Creators[1].ORCID, "0000-0001-7320-4512"},
		{c.Creators[1].Affiliation, "Oak Ridge National Laboratory (ORNL), Oak Ridge, TN (United States)"},
		{c.Organization, "Oak Ridge National Laboratory (ORNL), Oak Ridge, TN (United States)"},
		{string(c.Domain), "advanced-manufacturing"},
		{c.License, "CC-BY-4.0"},
		{c.DOI, "10.11578/1987654"},
		{c.Temporal.Start + "/" + c.Temporal.End, "2023-06-01/2023-11-30"},
		{c.Issued, "2024-03-18"},
		{c.Modified, "2024-05-02T14:21:07Z"},
		{c.Spatial.Place, "Manufacturing Demonstration Facility, Knoxville, Tennessee"},
		{c.Funding[0].AwardNumber, "DE-AC05-00OR22725"},
		{c.LandingPage, "https://www.osti.gov/biblio/1987654"},
		{c.AccessNotes, "Open Access"},
		{string(c.Origin), "observed"},
		{strings.Join(r.Provenance.Fields["title"], ","), "attributes.titles[0].title"},
		{strings.Join(r.Provenance.Fields["license"], ","), "attributes.rightsList[0].rightsIdentifier"},
	}
	for i, w := range want {
		if w.got != w.want {
			t.Errorf("%d: got %q, want %q", i, w.got, w.want)
		}
	}
	if c.Spatial.BBox == nil || c.Spatial.BBox.North != 35.9283 {
		t.Errorf("bbox from geoLocationPoint: %+v", c.Spatial.BBox)
	}
	var orig map[string]any
	if err := json.Unmarshal(r.Provenance.Original, &orig); err != nil || orig["id"] != "10.11578/1987654" {
		t.Errorf("original is not the record: %v %v", err, orig["id"])
	}
}

func TestInvalidORCIDIsDroppedAndScored(t *testing.T) {
	recs, _ := importFixture(t, "datacite-list.json", Auto)
	r := bySource(recs)["doi:10.15485/2204417"]
	if r.Core.Creators[0].ORCID != "" {
		t.Fatalf("invalid ORCID kept: %q", r.Core.Creators[0].ORCID)
	}
	if len(r.Provenance.Dropped) == 0 || r.Provenance.Dropped[0].Source != "creators[0].orcid" {
		t.Fatalf("dropped: %+v", r.Provenance.Dropped)
	}
	q := r.Quality()
	if !slices.ContainsFunc(q.Findings, func(f Finding) bool { return strings.Contains(f.Message, "invalid ORCID for creator 1") }) {
		t.Errorf("findings %+v lack the invalid ORCID", q.Findings)
	}
	if q2 := Assess(&r.Core); q2.Score <= q.Score {
		t.Errorf("dropping an invalid ORCID should cost points: record %d, core %d", q.Score, q2.Score)
	}
}

func TestDCATUSMapping(t *testing.T) {
	recs, _ := importFixture(t, "noaa-nasa-data.json", DCATUS)
	m := bySource(recs)
	gsod := m["gov.noaa.ncdc:C00516"].Core
	if gsod.Spatial == nil || *gsod.Spatial.BBox != (BBox{-180, -90, 180, 90}) {
		t.Errorf("GSOD bbox: %+v", gsod.Spatial)
	}
	if gsod.License != "CC0-1.0" || gsod.Domain != EarthEnvironment || gsod.Organization != "National Oceanic and Atmospheric Administration" {
		t.Errorf("GSOD: license %q domain %q org %q", gsod.License, gsod.Domain, gsod.Organization)
	}
	mur := m["doi:10.5067/ghgmr-4fj04"].Core
	if mur.Spatial == nil || mur.Spatial.BBox == nil || mur.Spatial.BBox.West != -180 || mur.Temporal.Start != "2002-05-31T21:00:00Z" || mur.Temporal.End != "" {
		t.Errorf("MUR: %+v %+v", mur.Spatial, mur.Temporal)
	}
	tok := m["doe-pppl-fdb-2024-003"].Core
	if tok.Domain != NuclearFissionFusion || !strings.HasPrefix(tok.AccessNotes, "Access level: restricted public.") {
		t.Errorf("tokamak: domain %q notes %q", tok.Domain, tok.AccessNotes)
	}
	hur := m["gov.noaa.nhc:HURDAT2"].Core
	if strings.ContainsRune(hur.Description, '\a') {
		t.Errorf("control character kept in %q", hur.Description)
	}
}

// TestScriptSurvivesAsText: markup in a title is kept verbatim as text —
// neither executed nor mangled; escaping is the renderer's job.
func TestScriptSurvivesAsText(t *testing.T) {
	recs, _ := importFixture(t, "noaa-nasa-data.json", DCATUS)
	hur := bySource(recs)["gov.noaa.nhc:HURDAT2"].Core
	if hur.Title != "Atlantic hurricane track best-track data (HURDAT2) <script>alert('x')</script>" {
		t.Errorf("title %q", hur.Title)
	}
	recs, _ = importFixture(t, "inventory.csv", CSV)
	c := bySource(recs)["SNL-MS-0043"].Core
	if c.Title != "<script>alert(1)</script> Wafer map imagery" {
		t.Errorf("title %q", c.Title)
	}
	// Exported JSON keeps it as an inert string (encoding/json escapes < and >).
	out, _ := ExportDataCite(c)
	if bytes.Contains(out, []byte("<script>")) || !bytes.Contains(out, []byte(`\u003cscript\u003e`)) {
		t.Errorf("export: %s", out)
	}
	back, _, err := Import(bytes.NewReader(out), Auto)
	if err != nil || back[0].Core.Title != c.Title {
		t.Errorf("round trip: %v %q", err, back[0].Core.Title)
	}
}

func TestCKANMapping(t *testing.T) {
	recs, _ := importFixture(t, "usgs-ckan.json", CKAN)
	c := recs[0].Core
	if len(c.Creators) != 2 || c.Creators[1].Name != "Daniel K. Brennan" || c.Creators[1].ORCID != "0000-0002-2271-0471" {
		t.Errorf("creators %+v", c.Creators)
	}
	if c.Domain != CriticalMinerals || c.License != "https://www.usa.gov/government-works" || c.Organization != "U.S. Geological Survey, Department of the Interior" {
		t.Errorf("domain %q license %q org %q", c.Domain, c.License, c.Organization)
	}
	if c.Spatial == nil || c.Spatial.BBox == nil || c.Spatial.BBox.North != 71.4 || c.Temporal.End != "2024-06-30" {
		t.Errorf("coverage %+v %+v", c.Spatial, c.Temporal)
	}
	if c.LandingPage != "https://www.sciencebase.gov/catalog/item/5a0b0d6de4b09af898cbe8c9" || c.Issued != "2017-03-28" || c.Modified != "2024-08-01" {
		t.Errorf("landing %q issued %q modified %q", c.LandingPage, c.Issued, c.Modified)
	}
	// The bare package (no {"success", "result"} envelope) imports the same.
	var env struct{ Result json.RawMessage }
	_ = json.Unmarshal(readFixture(t, "usgs-ckan.json"), &env)
	bare, _, err := Import(bytes.NewReader(env.Result), Auto)
	if err != nil || len(bare) != 1 || bare[0].SourceID != recs[0].SourceID {
		t.Errorf("bare package: %v %v", err, bare)
	}
}

func TestSchemaOrgMapping(t *testing.T) {
	recs, _ := importFixture(t, "mdf-schemaorg.jsonld", Auto)
	c := recs[0].Core
	if len(c.Creators) != 3 || c.Creators[0].ORCID != "0000-0002-1825-0097" || c.Creators[1].ORCID != "0000-0001-8806-2107" ||
		c.Creators[1].Name != "Wiśniewski, Tomasz" || c.Creators[1].Affiliation != "University of Chicago; Argonne National Laboratory" {
		t.Errorf("creators %+v", c.Creators)
	}
	if len(c.Variables) != 4 || c.Variables[1] != (Variable{"formation_energy_per_atom", "eV/atom", "Formation energy relative to elemental references"}) {
		t.Errorf("variables %+v", c.Variables)
	}
	if c.Domain != Semiconductors || c.Instrument == "" || len(c.Funding) != 1 || c.Funding[0].Funder != "National Institute of Standards and Technology" {
		t.Errorf("domain %q instrument %q funding %+v", c.Domain, c.Instrument, c.Funding)
	}
	recs, _ = importFixture(t, "repository-graph.jsonld", Auto)
	c = recs[0].Core
	if c.Creators[0].Name != "Imani Okafor" || c.Creators[0].ORCID != "0000-0001-7320-4512" || c.Creators[0].Affiliation != "University of California, Santa Barbara" {
		t.Errorf("@id references not resolved: %+v", c.Creators[0])
	}
	if c.Spatial.BBox == nil || *c.Spatial.BBox != (BBox{West: -119.86, South: 34.40, East: -119.83, North: 34.42}) {
		t.Errorf("box (lat lon order) %+v", c.Spatial.BBox)
	}
	if strings.Join(c.Keywords, "|") != "quantum computing|superconducting qubits|decoherence|two-level systems" || c.Domain != QuantumInformation {
		t.Errorf("keywords %q domain %q", c.Keywords, c.Domain)
	}
	if c.Variables[2].Unit != "GHz" || c.License != "CC-BY-NC-4.0" || c.Publisher != "University Research Data Repository" {
		t.Errorf("unitCode %q license %q publisher %q", c.Variables[2].Unit, c.License, c.Publisher)
	}
}

func TestCSVMapping(t *testing.T) {
	recs, bad := importFixture(t, "inventory.csv", CSV)
	c := recs[0].Core
	if len(c.Creators) != 2 || c.Creators[0].ORCID != "0000-0002-9903-1821" || c.Creators[1].Affiliation != "Sandia National Laboratories" {
		t.Errorf("creators %+v", c.Creators)
	}
	if len(c.Variables) != 4 || c.Variables[0] != (Variable{Name: "J_gate", Unit: "A/cm^2"}) || c.Variables[3].Unit != "" {
		t.Errorf("variables %+v", c.Variables)
	}
	if *c.Spatial.BBox != (BBox{-106.55, 35.04, -106.52, 35.07}) || c.Facility != "MESA" || c.Challenges[0] != "CHIPS-2026-07" {
		t.Errorf("spatial %+v facility %q challenges %q", c.Spatial, c.Facility, c.Challenges)
	}
	if q := Assess(&c); q.Score < 95 {
		t.Errorf("complete record scores %d: %+v", q.Score, q.Findings)
	}
	if got := recs[2].Core.Keywords; strings.Join(got, "|") != "wafer map|synthetic data|defect classification" {
		t.Errorf("keywords %q", got)
	}
	for _, b := range bad {
		if b.Index == 3 && strings.Join(b.Source, ",") != "Start Date,End Date" {
			t.Errorf("source columns of the bad temporal: %q", b.Source)
		}
	}
	// The original of a CSV record is its header plus its line.
	if lines := strings.Split(strings.TrimSpace(string(recs[1].Provenance.Original)), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[1], "SNL-MS-0043,") {
		t.Errorf("original %q", recs[1].Provenance.Original)
	}
}

func TestWholeDocumentErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		f    Format
		kind errors.Kind
	}{
		{"empty", "", Auto, errors.Invalid},
		{"not json", "{\"data\": ", Auto, errors.Invalid},
		{"trailing", `{"data": {"attributes": {"titles": [{"title": "x"}]}}} {}`, DataCite, errors.Invalid},
		{"plain text", "hello world\nthis is not metadata\n", Auto, errors.Invalid},
		{"json of nothing known", `{"foo": 1}`, Auto, errors.Invalid},
		{"array of numbers", `[1, 2, 3]`, Auto, errors.Invalid},
		{"dcat given as datacite", string(readFixture(t, "noaa-nasa-data.json")), DataCite, errors.Invalid},
		{"datacite given as dcat", string(readFixture(t, "osti-datacite.json")), DCATUS, errors.Invalid},
		{"datacite given as ckan", string(readFixture(t, "osti-datacite.json")), CKAN, errors.Invalid},
		{"ckan given as schemaorg", string(readFixture(t, "usgs-ckan.json")), SchemaOrg, errors.Invalid},
		{"json given as csv", string(readFixture(t, "usgs-ckan.json")), CSV, errors.Invalid},
		{"ckan failure", `{"success": false, "result": null, "error": {"message": "Not found"}}`, CKAN, errors.Invalid},
		{"dataset not array", `{"conformsTo": "https://project-open-data.cio.gov/v1.1/schema", "dataset": {}}`, Auto, errors.Invalid},
		{"unknown format", `{}`, Format("marc21"), errors.Invalid},
	} {
		recs, bad, err := Import(strings.NewReader(tc.doc), tc.f)
		if !errors.Is(tc.kind, err) || recs != nil || bad != nil {
			t.Errorf("%s: got %v, %d records, %d errors; want kind %v", tc.name, err, len(recs), len(bad), tc.kind)
		}
		if errors.SafeMessage(err) == "" {
			t.Errorf("%s: no user-safe message in %v", tc.name, err)
		}
	}
}

func TestSizeLimits(t *testing.T) {
	doc := readFixture(t, "noaa-nasa-data.json")
	_, _, err := ImportWith(bytes.NewReader(doc), Auto, Options{MaxBytes: int64(len(doc) - 1)})
	if !errors.Is(errors.TooLarge, err) {
		t.Errorf("over the byte cap: %v", err)
	}
	if _, _, err := ImportWith(bytes.NewReader(doc), Auto, Options{MaxBytes: int64(len(doc))}); err != nil {
		t.Errorf("at the byte cap: %v", err)
	}
	_, _, err = ImportWith(bytes.NewReader(doc), Auto, Options{MaxRecords: 4})
	if !errors.Is(errors.TooLarge, err) {
		t.Errorf("over the record cap: %v", err)
	}
	long := strings.Repeat("x", MaxTitleLen+1)
	recs, bad, err := Import(strings.NewReader(`{"dataset": [{"title": "`+long+`", "accessLevel": "public"}, {"title": "ok", "accessLevel": "public"}]}`), DCATUS)
	if err != nil || len(recs) != 1 || len(bad) != 1 || bad[0].Field != "title" || bad[0].Index != 0 {
		t.Errorf("over-long title: %v %v %v", err, recs, bad)
	}
}

func TestWrongTypesPerRecord(t *testing.T) {
	doc := `{"dataset": [
		{"title": {"nested": true}, "accessLevel": "public"},
		{"title": ["a", "b"], "accessLevel": "public"},
		{"title": "Fine", "keyword": "not-a-list", "spatial": 42, "temporal": ["x"], "license": 7, "accessLevel": "public"},
		"a string where an object belongs",
		{"title": "Also fine", "identifier": "x-1", "accessLevel": "public"},
		{"title": "Dup", "identifier": "x-1", "accessLevel": "public"}
	]}`
	recs, bad, err := Import(strings.NewReader(doc), Auto)
	if err != nil {
		t.Fatal(err)
	}
	var idx []int
	for _, b := range bad {
		idx = append(idx, b.Index)
	}
	if len(recs) != 3 || !slices.Equal(idx, []int{0, 3, 5}) {
		t.Fatalf("imported %d, bad %v", len(recs), bad)
	}
	if r := recs[1]; r.Core.Temporal != nil || len(r.Provenance.Dropped) == 0 {
		t.Errorf("unparseable temporal should be dropped and noted: %+v %+v", r.Core.Temporal, r.Provenance.Dropped)
	}
}

func TestDetect(t *testing.T) {
	for file, want := range map[string]Format{
		"osti-datacite.json": DataCite, "datacite-list.json": DataCite, "noaa-nasa-data.json": DCATUS,
		"usgs-ckan.json": CKAN, "mdf-schemaorg.jsonld": SchemaOrg, "repository-graph.jsonld": SchemaOrg, "inventory.csv": CSV,
	} {
		if got, err := Detect(readFixture(t, file)); got != want || err != nil {
			t.Errorf("Detect(%s) = %q, %v; want %q", file, got, err, want)
		}
	}
}

func TestImportEach(t *testing.T) {
	doc := readFixture(t, "datacite-list.json")
	var order []int
	var oks, bads int
	err := ImportEach(bytes.NewReader(doc), Auto, Options{}, func(rec *Record, rerr *RecordError) error {
		if (rec == nil) == (rerr == nil) {
			t.Fatal("exactly one of rec and rerr must be set")
		}
		if rec != nil {
			order, oks = append(order, rec.Index), oks+1
		} else {
			order, bads = append(order, rerr.Index), bads+1
		}
		return nil
	})
	if err != nil || !slices.Equal(order, []int{0, 1, 2, 3}) || oks != 2 || bads != 2 {
		t.Errorf("%v order %v ok %d bad %d", err, order, oks, bads)
	}
	stop := errors.E(errors.Conflict, errors.Msg("stop"))
	n := 0
	err = ImportEach(bytes.NewReader(doc), Auto, Options{}, func(*Record, *RecordError) error { n++; return stop })
	if err != stop || n != 1 {
		t.Errorf("stop: %v after %d", err, n)
	}
}

func TestRecordErrorJSON(t *testing.T) {
	_, bad := importFixture(t, "inventory.csv", CSV)
	b, err := json.Marshal(bad[0])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	if m["index"] != float64(3) || m["source_id"] != "SNL-MS-0045" || m["field"] != "temporal.end" || m["message"] != "temporal.end: before temporal.start" {
		t.Errorf("%s", b)
	}
}

// TestDocumentShapes: each format's other accepted shapes import the same
// records as the fixture's main shape.
func TestDocumentShapes(t *testing.T) {
	var ckan struct{ Result json.RawMessage }
	_ = json.Unmarshal(readFixture(t, "usgs-ckan.json"), &ckan)
	var dc struct{ Data json.RawMessage }
	_ = json.Unmarshal(readFixture(t, "osti-datacite.json"), &dc)
	var dcAttrs struct{ Attributes json.RawMessage }
	_ = json.Unmarshal(dc.Data, &dcAttrs)
	var cat struct{ Dataset []json.RawMessage }
	_ = json.Unmarshal(readFixture(t, "noaa-nasa-data.json"), &cat)
	mdf := readFixture(t, "mdf-schemaorg.jsonld")
	for _, tc := range []struct {
		name, doc string
		format    Format
		want      string
	}{
		{"ckan package_search", `{"help": "h", "success": true, "result": {"count": 1, "results": [` + string(ckan.Result) + `]}}`, CKAN, "doi:10.5066/p9u26f4p"},
		{"ckan array", `[` + string(ckan.Result) + `]`, CKAN, "doi:10.5066/p9u26f4p"},
		{"datacite list of one", `{"data": [` + string(dc.Data) + `]}`, DataCite, "doi:10.11578/1987654"},
		{"datacite bare array", `[` + string(dc.Data) + `]`, DataCite, "doi:10.11578/1987654"},
		{"datacite bare attributes", string(dcAttrs.Attributes), DataCite, "doi:10.11578/1987654"},
		{"dcat single dataset", string(cat.Dataset[0]), DCATUS, "gov.noaa.ncdc:C00516"},
		{"schema.org array", `[` + string(mdf) + `]`, SchemaOrg, "doi:10.18126/abcd-1234"},
		{"schema.org DataCatalog", `{"@context": "https://schema.org/", "@type": "DataCatalog", "name": "MDF", "dataset": [` + string(mdf) + `]}`, SchemaOrg, "doi:10.18126/abcd-1234"},
	} {
		if got, err := Detect([]byte(tc.doc)); got != tc.format || err != nil {
			t.Errorf("%s: detected %q, %v", tc.name, got, err)
		}
		recs, bad, err := Import(strings.NewReader(tc.doc), Auto)
		if err != nil || len(bad) != 0 || len(recs) != 1 || recs[0].SourceID != tc.want {
			t.Errorf("%s: %v %v %d records", tc.name, err, bad, len(recs))
		}
	}
}
