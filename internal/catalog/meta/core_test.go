package meta

import (
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

func TestNormalizeORCID(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"0000-0002-1825-0097", "0000-0002-1825-0097", true},
		{"https://orcid.org/0000-0002-1825-0097", "0000-0002-1825-0097", true},
		{"http://orcid.org/0000-0002-1694-233x", "0000-0002-1694-233X", true},
		{"0000000218250097", "0000-0002-1825-0097", true},
		{"0000-0002-1825-0098", "0000-0002-1825-0098", false}, // check digit
		{"0000-0002-1825-009", "", false},
		{"0000-0002-1694-2330", "", false},
		{"orcid", "", false},
		{"", "", false},
	} {
		got, ok := NormalizeORCID(tc.in)
		if ok != tc.ok || (tc.want != "" && got != tc.want) {
			t.Errorf("NormalizeORCID(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestORCIDCheckDigitModel checks the check digit against a direct
// transcription of ISO 7064 MOD 11-2 for many iDs: exactly one of the
// eleven possible last characters is accepted.
func TestORCIDCheckDigitModel(t *testing.T) {
	for n := 0; n < 2000; n++ {
		base := []byte("000000")
		for i, x := 0, n*7919+12345; i < 9; i, x = i+1, x/10 {
			base = append(base, byte('0'+x%10))
		}
		accepted := 0
		for _, last := range "0123456789X" {
			d := string(base) + string(last)
			id := d[0:4] + "-" + d[4:8] + "-" + d[8:12] + "-" + d[12:16]
			if _, ok := NormalizeORCID(id); ok {
				accepted++
			}
		}
		if accepted != 1 {
			t.Fatalf("%s?: %d check characters accepted, want 1", base, accepted)
		}
	}
}

func TestNormalizeDOI(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"10.5066/P9U26F4P", "10.5066/p9u26f4p", true},
		{"https://doi.org/10.5067/GHGMR-4FJ04", "10.5067/ghgmr-4fj04", true},
		{"doi:10.18126/abcd-1234", "10.18126/abcd-1234", true},
		{"http://dx.doi.org/10.1000/182", "10.1000/182", true},
		{"10.1000.10/abc(1)", "10.1000.10/abc(1)", true},
		{"10.12/abc", "", false}, // registrant too short
		{"11.1234/abc", "", false},
		{"10.1234/", "", false},
		{"10.1234/has space", "", false},
		{"", "", false},
	} {
		got, ok := NormalizeDOI(tc.in)
		if ok != tc.ok || (tc.want != "" && got != tc.want) {
			t.Errorf("NormalizeDOI(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestCleanText(t *testing.T) {
	for _, tc := range []struct{ in, want, multi string }{
		{"  a\tb\n c ", "a b c", "a\tb\n c"},
		{"bell\x07 and nul\x00", "bell and nul", "bell and nul"},
		{"<script>alert('x')</script>", "<script>alert('x')</script>", "<script>alert('x')</script>"},
		{"rtl\u202eevil\u202c", "rtlevil", "rtlevil"},
		{"bad \xff utf8", "bad utf8", "bad utf8"},
		{"crlf\r\nline", "crlf line", "crlf\nline"},
		{"\ufeffbom", "bom", "bom"},
	} {
		if got := CleanText(tc.in); got != tc.want {
			t.Errorf("CleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := CleanMultiline(tc.in); got != tc.multi {
			t.Errorf("CleanMultiline(%q) = %q, want %q", tc.in, got, tc.multi)
		}
		// Cleaning is idempotent.
		if got := CleanText(CleanText(tc.in)); got != CleanText(tc.in) {
			t.Errorf("CleanText not idempotent on %q", tc.in)
		}
	}
}

func TestParseDomain(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Domain
	}{
		{"quantum-information-science", QuantumInformation},
		{"Quantum Information Science", QuantumInformation},
		{"QIS", QuantumInformation},
		{"Critical Minerals & Materials", CriticalMinerals},
		{"Nuclear Fission & Fusion", NuclearFissionFusion},
		{"Semiconductors & Microelectronics", Semiconductors},
		{"advanced_manufacturing", AdvancedManufacturing},
		{"Artificial Intelligence", AI},
		{"basket weaving", ""},
		{"", ""},
	} {
		got, ok := ParseDomain(tc.in)
		if ok != (tc.want != "") || got != tc.want && tc.want != "" {
			t.Errorf("ParseDomain(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
		}
	}
	for _, d := range Domains {
		if got, ok := ParseDomain(string(d)); !ok || got != d {
			t.Errorf("ParseDomain(%q) = %q, %v", d, got, ok)
		}
	}
}

func TestNormalizeLicense(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		known    bool
	}{
		{"cc-by-4.0", "CC-BY-4.0", true},
		{"https://creativecommons.org/licenses/by/4.0/legalcode", "CC-BY-4.0", true},
		{"http://creativecommons.org/publicdomain/zero/1.0", "CC0-1.0", true},
		{"https://spdx.org/licenses/MIT.html", "MIT", true},
		{"odc-odbl", "ODbL-1.0", true},
		{"us-pd", "https://www.usa.gov/government-works", true},
		{"http://www.usa.gov/publicdomain/label/1.0/", "https://www.usa.gov/publicdomain/label/1.0/", true},
		{"https://example.org/my-terms", "https://example.org/my-terms", false},
		{"LicenseRef-Proprietary", "LicenseRef-Proprietary", false},
	} {
		got := NormalizeLicense(tc.in)
		_, known := LookupLicense(tc.in)
		if got != tc.want || known != tc.known {
			t.Errorf("NormalizeLicense(%q) = %q (known %v), want %q (known %v)", tc.in, got, known, tc.want, tc.known)
		}
	}
}

func validCore() Core {
	return Core{
		Title:        "Transmon T1 time series",
		Description:  "Repeated T1 measurements of 24 transmon qubits over 31 days under infrared illumination.",
		Creators:     []Creator{{Name: "Okafor, Imani", ORCID: "0000-0001-7320-4512", Affiliation: "UCSB"}, {Name: "Ruiz, Mateo"}},
		Organization: "UCSB", Keywords: []string{"qubits", "decoherence"}, Domain: QuantumInformation,
		License: "CC-BY-4.0", DOI: "10.1234/qis.t1", Identifiers: []Identifier{{Value: "qis-t1", Scheme: "local"}},
		Temporal:  &Temporal{Start: "2024-03-01", End: "2024-03-31"},
		Spatial:   &Spatial{BBox: &BBox{West: -119.86, South: 34.40, East: -119.83, North: 34.42}, Place: "Santa Barbara"},
		Variables: []Variable{{Name: "T1", Unit: "us"}}, Instrument: "dilution refrigerator", Facility: "Quantum Foundry",
		Funding:    []Funding{{Funder: "DOE Office of Science", AwardNumber: "DE-SC0001", AwardURI: "https://example.gov/award/1"}},
		Challenges: []string{"QIS-2026-01"}, Origin: Observed, AccessNotes: "Open.", LandingPage: "https://repo.example.edu/d/1",
		Publisher: "UCSB Library", Issued: "2024-07-15", Modified: "2024-08-01T10:00:00Z",
	}
}

func TestValidateNamesField(t *testing.T) {
	for _, tc := range []struct {
		field string
		mut   func(c *Core)
	}{
		{"", func(c *Core) {}},
		{"title", func(c *Core) { c.Title = "" }},
		{"title", func(c *Core) { c.Title = strings.Repeat("x", MaxTitleLen+1) }},
		{"title", func(c *Core) { c.Title = "bell\x07" }},
		{"creators[1].orcid", func(c *Core) { c.Creators[1].ORCID = "0000-0002-1825-0098" }},
		{"creators[0].name", func(c *Core) { c.Creators[0].Name = "" }},
		{"doi", func(c *Core) { c.DOI = "10.12/x" }},
		{"doi", func(c *Core) { c.DOI = "10.1234/UPPER" }},
		{"domain", func(c *Core) { c.Domain = "astrology" }},
		{"license", func(c *Core) { c.License = "not a license" }},
		{"temporal.end", func(c *Core) { c.Temporal.End = "2023-01-01" }},
		{"temporal.start", func(c *Core) { c.Temporal.Start = "March 2024" }},
		{"spatial.bbox.north", func(c *Core) { c.Spatial.BBox.North = 91 }},
		{"spatial.bbox.west", func(c *Core) { c.Spatial.BBox.West = -181 }},
		{"spatial.bbox.south", func(c *Core) { c.Spatial.BBox.South = 35 }},
		{"variables[0].name", func(c *Core) { c.Variables[0].Name = "" }},
		{"funding[0].award_uri", func(c *Core) { c.Funding[0].AwardURI = "javascript:alert(1)" }},
		{"origin", func(c *Core) { c.Origin = "imagined" }},
		{"landing_page", func(c *Core) { c.LandingPage = "javascript:alert(1)" }},
		{"issued", func(c *Core) { c.Issued = "yesterday" }},
		{"keywords", func(c *Core) { c.Keywords = make([]string, MaxListLen+1) }},
		{"keywords[1]", func(c *Core) { c.Keywords[1] = "" }},
	} {
		c := validCore()
		tc.mut(&c)
		err := c.Validate()
		if tc.field == "" {
			if err != nil {
				t.Errorf("valid core: %v", err)
			}
			continue
		}
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != tc.field {
			t.Errorf("want Invalid on %q, got %v (field %q)", tc.field, err, errors.FieldOf(err))
		}
	}
}

func TestNormalizeThenValidate(t *testing.T) {
	c := Core{
		Title: "  <b>Bold</b>\x00 title ", DOI: "https://doi.org/10.1234/ABC", License: "cc0",
		Creators: []Creator{{Name: " A ", ORCID: "https://orcid.org/0000-0002-1825-0097"}, {}},
		Keywords: []string{"x", "X", " ", "y"}, Domain: "QIS", Origin: "Observed",
	}
	c.Normalize()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Title != "<b>Bold</b> title" || c.DOI != "10.1234/abc" || c.License != "CC0-1.0" || c.Domain != QuantumInformation ||
		len(c.Creators) != 1 || c.Creators[0].ORCID != "0000-0002-1825-0097" || strings.Join(c.Keywords, ",") != "x,y" || c.Origin != Observed {
		t.Errorf("normalised: %+v", c)
	}
}
