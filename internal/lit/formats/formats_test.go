package formats

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/lit"
)

func parseFile(t *testing.T, name string) []lit.Document {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := Parse(context.Background(), name, bytes.NewReader(data), "")
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	checkDocs(t, docs)
	return docs
}

// Every field of every sample, checked whole: what each format's reader is
// expected to make of a realistic file.
func TestParseSamples(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []lit.Document
	}{
		{"jats-article.xml", []lit.Document{{
			Format: lit.FormatJATS, DOI: "10.5555/jmt.2021.0042", PMID: "33123456", PMCID: "PMC7654321",
			Title:    "Band gaps of inorganic CsPbI3 perovskites—a combined study",
			Authors:  []string{"Adaeze N. Okafor", "Jörg Müller", "The Perovskite Consortium"},
			Year:     2021, // epub preferred over ppub 2022
			Venue:    "Journal of Materials Testing",
			License:  "https://creativecommons.org/licenses/by/4.0/",
			Keywords: []string{"perovskite", "band gap", "DFT"},
			Abstract: "We report band gaps of CsPbI3 between 1.68 and 1.73 eV, measured by UV–vis absorption at 300 K. Density functional theory (DFT) agrees within 0.05 eV.",
			Sections: []lit.Section{
				{Paragraphs: []string{"Lead halide perovskites are studied widely [1,2]."}},
				{Heading: "Introduction", Paragraphs: []string{
					"The cubic phase of CsPbI3 is metastable at room temperature (1).",
					"Its energy obeys E=mc² trivially, and a conductivity of 1.2×10⁻³ S/cm was reported.",
				}},
				{Heading: "Results / Band gaps", Paragraphs: []string{
					"The optical band gap of CsPbI3 films is 1.73 eV (Figure 1).",
					"Films annealed at 350 °C.",
					"Films quenched in air.",
					"a/b",
				}},
				{Heading: "Results / Stability", Paragraphs: []string{"Films degrade within 24 h in humid air."}},
			},
			Captions: []lit.Caption{
				{Label: "Figure 1", Text: "Absorption spectra. Tauc plots of films annealed at 350 °C."},
				{Label: "Table 1", Text: "Band gaps by method."},
			},
			References: []lit.Reference{
				{DOI: "10.1038/s41563-019-0001-x", PMID: "31000001", Title: "Phase stability of CsPbI3",
					Text: "Smith J (2019) Phase stability of CsPbI3. Nature Materials 18, 1. doi:10.1038/S41563-019-0001-X"},
				{ArXiv: "2001.01234", Title: "Halide perovskites from first principles",
					Text: "Roe R. Halide perovskites from first principles. arXiv. 2020. arXiv:2001.01234"},
				{Text: "Doe A. Semiconductors. Springer; 2010."},
			},
		}}},
		{"jats-latin1.xml", []lit.Document{{
			Format: lit.FormatJATS, DOI: "10.5555/latin1", Title: "Café naïve résumé", Authors: []string{"Kurt Gödel"},
			Sections: []lit.Section{{Heading: "Résultats", Paragraphs: []string{"À 350 °C."}}},
		}}},
		{"arxiv-feed.xml", []lit.Document{
			{
				Format: lit.FormatArXiv, DOI: "10.1103/physrevmaterials.5.000001", ArXiv: "2101.00001",
				Title:    "Machine-learned band gaps of halide perovskites",
				Authors:  []string{"Ana García", "Wei Zhang"},
				Year:     2021,
				Venue:    "Phys. Rev. Materials 5, 000001 (2021)",
				Keywords: []string{"cond-mat.mtrl-sci", "cs.LG"},
				Abstract: "We train a graph network on 10,000 DFT band gaps. The mean absolute error is 0.2 eV.",
			},
			{
				Format: lit.FormatArXiv, ArXiv: "cond-mat/0101001",
				Title:   "Superconductivity in layered La2-xSrxCuO4",
				Authors: []string{"P. Q. Author"}, Year: 2001, Venue: "arXiv",
				Keywords: []string{"cond-mat.supr-con"}, Abstract: "A review.",
			},
		}},
		{"oai-dc.xml", []lit.Document{
			{
				Format: lit.FormatOAIPMH, DOI: "10.1103/physrevd.76.013009", ArXiv: "0704.0001",
				Title:    "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
				Authors:  []string{"C. Balázs", "E. L. Berger", "P. M. Nadolsky"},
				Year:     2007,
				Venue:    "arXiv",
				Keywords: []string{"High Energy Physics - Phenomenology"},
				Abstract: "A fully differential calculation in perturbative quantum chromodynamics is presented for the production of massive photon pairs at hadron colliders.",
			},
			{
				Format: lit.FormatOAIPMH, DOI: "10.5555/repo.42",
				Title:   "Thermal conductivity of bismuth telluride thin films",
				Authors: []string{"Maria Rossi"}, Year: 2019, Venue: "Example University Press", License: "CC BY 4.0",
				Keywords: []string{"thermoelectrics", "Bi2Te3"}, Abstract: "We measured the thermal conductivity.",
			},
		}},
		{"oai-arxiv.xml", []lit.Document{{
			Format: lit.FormatOAIPMH, DOI: "10.1103/physrevd.76.013009", ArXiv: "0704.0001",
			Title:    "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
			Authors:  []string{"C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C. -P. Yuan"},
			Year:     2007,
			Venue:    "Phys.Rev.D76:013009,2007",
			License:  "http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
			Keywords: []string{"hep-ph"},
			Abstract: "A fully differential calculation in perturbative quantum chromodynamics is presented for the production of massive photon pairs at hadron colliders.",
		}}},
		{"oai-arxivraw.xml", []lit.Document{{
			Format: lit.FormatOAIPMH, DOI: "10.1103/physrevd.76.013009", ArXiv: "0704.0001",
			Title:    "Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
			Authors:  []string{"C. Balázs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"},
			Year:     2007,
			Venue:    "Phys.Rev.D76:013009,2007",
			Keywords: []string{"hep-ph"},
			Abstract: "A fully differential calculation in perturbative quantum chromodynamics is presented for the production of massive photon pairs at hadron colliders, with pT of 10⁻³ relative precision.",
		}}},
		{"crossref-work.json", []lit.Document{{
			Format: lit.FormatCrossref, DOI: "10.5555/jmt.2021.0042",
			Title:    "Band gaps of inorganic CsPbI3 perovskites",
			Authors:  []string{"Adaeze N. Okafor", "Jörg Müller", "The Perovskite Consortium"},
			Year:     2021,
			Venue:    "Journal of Materials Testing",
			License:  "https://creativecommons.org/licenses/by/4.0/",
			Keywords: []string{"General Materials Science", "Condensed Matter Physics"},
			Abstract: "We report band gaps of CsPbI3 between 1.68 and 1.73 eV.",
			References: []lit.Reference{
				{DOI: "10.1038/s41563-019-0001-x", Title: "Phase stability of CsPbI3", Text: "Smith (2019) Phase stability of CsPbI3 Nature Materials 18 1"},
				{ArXiv: "2001.01234", Text: "R. Roe, Halide perovskites from first principles, arXiv:2001.01234 (2020)."},
				{Title: "Semiconductors", Text: "Doe (2010) Semiconductors"},
			},
		}}},
		{"crossref-list.json", []lit.Document{
			{Format: lit.FormatCrossref, DOI: "10.5555/one", Title: "First work", Authors: []string{"A. One"}, Year: 2018, Venue: "Journal A"},
			{Format: lit.FormatCrossref, DOI: "10.5555/two", Title: "Second work: a subtitle", Authors: []string{"B. Two"}, Year: 2019, Venue: "Publisher B"},
		}},
		{"datacite-rest.json", []lit.Document{{
			Format: lit.FormatDataCite, DOI: "10.5281/zenodo.1234567",
			Title:    "Thermoelectric measurements of Bi2Te3 films: raw data and analysis",
			Authors:  []string{"Maria Rossi", "Example Lab"},
			Year:     2020,
			Venue:    "Zenodo",
			License:  "https://creativecommons.org/licenses/by/4.0/legalcode",
			Keywords: []string{"thermoelectrics", "thin films"},
			Abstract: "Seebeck coefficient and thermal conductivity of films.",
			References: []lit.Reference{
				{DOI: "10.5555/repo.42", Text: "DOI 10.5555/Repo.42"},
				{ArXiv: "2101.00001", Text: "arXiv arXiv:2101.00001"},
			},
		}}},
		{"datacite-list.json", []lit.Document{
			{Format: lit.FormatDataCite, DOI: "10.5555/a", Title: "Dataset A", Authors: []string{"Ann Alpha"}, Year: 2017, Venue: "Repo"},
			{Format: lit.FormatDataCite, DOI: "10.5555/b", Title: "Dataset B"},
		}},
		{"datacite-meta.json", []lit.Document{{
			Format: lit.FormatDataCite, DOI: "10.5555/meta.1", Title: "Notes on the analytical engine",
			Authors: []string{"Ada Lovelace"}, Year: 1843, Venue: "Example Press", License: "Public Domain",
			Abstract: "A translation with notes.",
		}}},
		{"library.bib", []lit.Document{
			{
				Format: lit.FormatBibTeX, DOI: "10.5555/jmt.2021.0042", PMID: "33123456",
				Title:    "Band gaps of inorganic CsPbI3 perovskites—a combined study",
				Authors:  []string{"Adaeze N. Okafor", "Jörg Müller", "The Perovskite Consortium"},
				Year:     2021,
				Venue:    "Journal of Materials Testing",
				Keywords: []string{"perovskite", "band gap", "DFT"},
				Abstract: "We report band gaps of CsPbI3 between 1.68 and 1.73 eV, with a conductivity of 1.2 × 10⁻³ S/cm at 350 °C.",
			},
			{
				Format: lit.FormatBibTeX, DOI: "10.1038/s41563-019-0001-x",
				Title:   "Phase stability of CsPbI3: Ångström-scale çhanges in Gdańsk",
				Authors: []string{"John Smith", "Ana García", "Tomáš Škoda"},
				Year:    2019, Venue: "Nature Materials",
			},
			{Format: lit.FormatBibTeX, ArXiv: "2001.01234", Title: "Halide perovskites from first principles", Authors: []string{"R. Roe"}, Year: 2020},
			{
				Format: lit.FormatBibTeX, ArXiv: "1807.00001",
				Title:   "Faster DFT with neural networks & friends: 50% off",
				Authors: []string{"Kim Lee Jr.", "Piet van der Berg"},
				Year:    2018, Venue: "Proceedings of the Example Conference",
			},
		}},
		{"records.ris", []lit.Document{
			{
				Format: lit.FormatRIS, DOI: "10.5555/jmt.2021.0042",
				Title:    "Band gaps of inorganic CsPbI3 perovskites",
				Authors:  []string{"Adaeze N. Okafor", "Jörg Müller"},
				Year:     2021,
				Venue:    "Journal of Materials Testing",
				Keywords: []string{"perovskite", "band gap"},
				Abstract: "We report band gaps of CsPbI3 between 1.68 and 1.73 eV.",
			},
			{Format: lit.FormatRIS, ArXiv: "1901.00002", PMCID: "PMC1234567", Title: "Thermal transport", Authors: []string{"Maria Rossi"}, Year: 2019, Venue: "Handbook of Thermoelectrics"},
		}},
		{"paper.md", []lit.Document{{
			Format: lit.FormatMarkdown, DOI: "10.5555/jmt.2021.0042",
			Title:    "Band gaps of inorganic CsPbI3 perovskites",
			Authors:  []string{"Adaeze N. Okafor", "Jörg Müller"},
			Year:     2021,
			Keywords: []string{"perovskite", "band gap"},
			Abstract: "We report band gaps of CsPbI3 between 1.68 and 1.73 eV.",
			Sections: []lit.Section{
				{Heading: "Introduction", Paragraphs: []string{"Lead halide perovskites are studied widely (Smith 2019)."}},
				{Heading: "Results / Band gaps", Paragraphs: []string{"The optical band gap is 1.73 eV, see Figure 1.", "Films annealed at 350 °C.", "Films quenched in air."}},
			},
			Captions: []lit.Caption{{Label: "Figure 1", Text: "Tauc plots of films annealed at 350 °C."}},
			References: []lit.Reference{{DOI: "10.1038/s41563-019-0001-x",
				Text: "Smith J. Phase stability of CsPbI3. Nature Materials 18, 1 (2019). doi:10.1038/s41563-019-0001-x"}},
		}}},
		{"paper-authors.md", []lit.Document{{
			Format: lit.FormatMarkdown, DOI: "10.5555/repo.42", Title: "Thermal conductivity of Bi2Te3 films",
			Authors: []string{"Maria Rossi", "Piet van der Berg"}, Year: 2019,
			Sections: []lit.Section{{Paragraphs: []string{"We measured the thermal conductivity of films."}}},
		}}},
		{"paper.txt", []lit.Document{{
			Format:   lit.FormatText,
			Title:    "Thermal conductivity of bismuth telluride thin films",
			Abstract: "We measured the thermal conductivity of Bi2Te3 films between 300 and 400 K.",
			Sections: []lit.Section{
				{Paragraphs: []string{"Maria Rossi, Example University"}},
				{Heading: "Introduction", Paragraphs: []string{"Bismuth telluride is the standard room-temperature thermoelectric."}},
				{Heading: "Results / Conductivity", Paragraphs: []string{"The conductivity is 1.2 W/(m K) at 300 K."}},
			},
			Captions: []lit.Caption{{Label: "Table 1", Text: "Conductivity by thickness."}},
			References: []lit.Reference{
				{DOI: "10.5555/one", Text: "[1] A. One, First work, J. A (2018). doi:10.5555/one"},
				{ArXiv: "2001.01234", Text: "[2] R. Roe, Halide perovskites, arXiv:2001.01234 (2020)."},
			},
		}}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			got := parseFile(t, tc.file)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%s) mismatch (-want +got):\n%s", tc.file, diff)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		name, head string
		want       lit.Format
	}{
		{"a.pdf", "", lit.FormatPDF},
		{"noext", "%PDF-1.7\n", lit.FormatPDF},
		{"a.bib", "", lit.FormatBibTeX},
		{"refs.txt", "% comment\n\n@article{x,", lit.FormatBibTeX},
		{"a.ris", "", lit.FormatRIS},
		{"export", "\nTY  - JOUR\n", lit.FormatRIS},
		{"a.md", "", lit.FormatMarkdown},
		{"README", "# Title\n", lit.FormatMarkdown},
		{"a.txt", "Hello", lit.FormatText},
		{"a.xml", `<?xml version="1.0"?><!DOCTYPE article PUBLIC "x" "y"><!-- c --><article>`, lit.FormatJATS},
		{"a.nxml", "", lit.FormatJATS},
		{"x", "\xef\xbb\xbf<pmc-articleset><article>", lit.FormatJATS},
		{"q.xml", `<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">`, lit.FormatArXiv},
		{"o.xml", `<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">`, lit.FormatOAIPMH},
		{"w.json", `{"status":"ok","message-type":"work","message":{}}`, lit.FormatCrossref},
		{"w.json", `[{"DOI":"10.1/x"}]`, lit.FormatCrossref},
		{"d.json", `{"data":{"id":"10.1/x","attributes":{"doi":"10.1/x"}}}`, lit.FormatDataCite},
		{"d.json", `{"titles":[{"title":"x"}],"relatedIdentifierType":"DOI"}`, lit.FormatDataCite},
		{"u.json", `{"name":"x"}`, ""},
		{"u.xml", `<svg/>`, ""},
		{"image.png", "\x89PNG\r\n", ""},
		{"noext", "just words", ""},
	} {
		if got := Detect(tc.name, []byte(tc.head)); got != tc.want {
			t.Errorf("Detect(%q, %q) = %q, want %q", tc.name, tc.head, got, tc.want)
		}
	}
	// Every sample is detected as the format its reader expects.
	want := map[string]lit.Format{"jats": lit.FormatJATS, "arxiv": lit.FormatArXiv, "oai": lit.FormatOAIPMH,
		"crossref": lit.FormatCrossref, "datacite": lit.FormatDataCite}
	files, _ := filepath.Glob("testdata/*-*.*")
	for _, f := range files {
		prefix := strings.SplitN(filepath.Base(f), "-", 2)[0]
		w, ok := want[prefix]
		if !ok {
			continue
		}
		data, _ := os.ReadFile(f)
		if got := Detect(filepath.Base(f), data[:min(len(data), 4096)]); got != w {
			t.Errorf("Detect(%s) = %q, want %q", f, got, w)
		}
	}
}

func TestIdentifiers(t *testing.T) {
	for _, tc := range []struct {
		f        func(string) string
		in, want string
	}{
		{NormalizeDOI, "https://doi.org/10.1000/XYZ.123", "10.1000/xyz.123"},
		{NormalizeDOI, "http://dx.doi.org/10.1000/abc", "10.1000/abc"},
		{NormalizeDOI, "doi:10.1000/abc.", "10.1000/abc"},
		{NormalizeDOI, "DOI: 10.1000/ABC", "10.1000/abc"},
		{NormalizeDOI, "info:doi/10.1000/a(b)c", "10.1000/a(b)c"},
		{NormalizeDOI, "10.1000", ""},
		{NormalizeDOI, "not a doi", ""},
		{NormalizeDOI, "10.1000/a b", ""},
		{NormalizeDOI, "", ""},
		{NormalizeArXiv, "arXiv:2101.00001v2", "2101.00001"},
		{NormalizeArXiv, "https://arxiv.org/abs/2101.00001", "2101.00001"},
		{NormalizeArXiv, "http://arxiv.org/pdf/1501.0001v1.pdf", "1501.0001"},
		{NormalizeArXiv, "cond-mat/0101001v3", "cond-mat/0101001"},
		{NormalizeArXiv, "math.GT/0309136", "math.GT/0309136"},
		{NormalizeArXiv, "2101.1", ""},
		{NormalizeArXiv, "hello", ""},
		{NormalizePMID, "PMID: 12345", "12345"},
		{NormalizePMID, "12345", "12345"},
		{NormalizePMID, "https://pubmed.ncbi.nlm.nih.gov/12345/", "12345"},
		{NormalizePMID, "12a45", ""},
		{NormalizePMCID, "pmc123", "PMC123"},
		{NormalizePMCID, "123", "PMC123"},
		{NormalizePMCID, "PMCID: PMC123", "PMC123"},
		{NormalizePMCID, "PMCX", ""},
	} {
		got := tc.f(tc.in)
		if got != tc.want {
			t.Errorf("normalise(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if again := tc.f(got); again != got {
			t.Errorf("normalise is not idempotent on %q: %q", got, again)
		}
	}
}

func TestLatex(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`Schr\"{o}dinger`, "Schrödinger"},
		{`Schr{\"o}dinger`, "Schrödinger"},
		{`Schr\"odinger`, "Schrödinger"},
		{`Garc\'{\i}a`, "García"},
		{`Garc\'ia`, "García"},
		{`\c{C}elik`, "Çelik"},
		{`\v{S}koda \v Cech`, "Škoda Čech"},
		{`Erd\H{o}s`, "Erdős"},
		{`Stra\ss e`, "Straße"},
		{`{\O}rsted \aa{}ngstr\"om`, "Ørsted ångström"},
		{`\L{}ukasiewicz`, "Łukasiewicz"},
		{`pages 1--10 and---so`, "pages 1–10 and—so"},
		{"``quoted''", "“quoted”"},
		{`50\% \& \$5 \#1 a\_b`, "50% & $5 #1 a_b"},
		{`\emph{neural} {\bf bold} \textit{it}`, "neural bold it"},
		{`CsPbI$_3$ and $10^{-3}$ and $x^{ab}$`, "CsPbI3 and 10⁻³ and xab"},
		{`$\alpha$-Fe$_2$O$_3$ at 5~K`, "α-Fe2O3 at 5 K"},
		{`$1.2 \times 10^3$`, "1.2 × 10³"},
		{`unbalanced {brace`, "unbalanced brace"},
		{`trailing \`, `trailing \`},
	} {
		if got := clean(latexText(tc.in), MaxTitleBytes); got != tc.want {
			t.Errorf("latexText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
