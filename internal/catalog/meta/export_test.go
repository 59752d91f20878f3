package meta

import (
	"encoding/json"
	"testing"
)

// TestExportsConformToSpecs validates exports of complete records against
// schemas of the formats' mandatory fields (testdata/*.schema.json, written
// from the DataCite and Project Open Data documentation), using the
// extension registry itself.
func TestExportsConformToSpecs(t *testing.T) {
	reg := NewRegistry()
	for name, file := range map[string]string{"dcat-us": "dcat-us-1.1-dataset.schema.json", "datacite": "datacite-mandatory.schema.json"} {
		if err := reg.Register(name, readFixture(t, file)); err != nil {
			t.Fatal(err)
		}
	}
	opts := DCATUSOptions{ContactName: "Fusion Data Steward", ContactEmail: "fusion-data@example.gov", BureauCode: []string{"019:20"}, ProgramCode: []string{"019:000"}}
	cores := []Core{validCore()}
	for _, file := range []string{"osti-datacite.json", "mdf-schemaorg.jsonld", "inventory.csv"} {
		recs, _ := importFixture(t, file, Auto)
		cores = append(cores, recs[0].Core)
	}
	for _, c := range cores {
		d, _ := json.Marshal(ExportDCATUS(c, opts))
		if err := reg.ValidateExtension("dcat-us", d); err != nil {
			t.Errorf("%s: DCAT-US export: %v\n%s", c.Title, err, d)
		}
		dc, err := ExportDataCite(c)
		if err != nil {
			t.Fatal(err)
		}
		if err := reg.ValidateExtension("datacite", dc); err != nil {
			t.Errorf("%s: DataCite export: %v\n%s", c.Title, err, dc)
		}
	}
	// And the schemas can fail: an incomplete core does not conform.
	thin := Core{Title: "Only a title"}
	d, _ := json.Marshal(ExportDCATUS(thin, DCATUSOptions{}))
	if reg.ValidateExtension("dcat-us", d) == nil {
		t.Error("a title-only DCAT-US export passed the required-fields schema")
	}
	dc, _ := ExportDataCite(thin)
	if reg.ValidateExtension("datacite", dc) == nil {
		t.Error("a title-only DataCite export passed the mandatory-fields schema")
	}
}
