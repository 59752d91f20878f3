package formats

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"
	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/testenv"
)

// makePDF writes a one-column paper with a known text: title (in the
// document information too, if infoTitle), headings, wrapped paragraphs, a
// caption and references.
func makePDF(t *testing.T, infoTitle string, blocks []string) []byte {
	t.Helper()
	pdf := fpdf.New("P", "mm", "A4", "")
	if infoTitle != "" {
		pdf.SetTitle(infoTitle, true)
	}
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 11)
	for _, b := range blocks {
		pdf.MultiCell(150, 5, b, "", "L", false)
		pdf.Ln(5) // a paragraph gap
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var pdfBlocks = []string{
	"Band gaps of inorganic perovskite films",
	"Abstract",
	"We report the optical band gap of CsPbI3 films measured by UV-vis absorption and compare it with density functional theory.",
	"1 Introduction",
	"Lead halide perovskites are semiconductors whose band gap can be tuned by composition. This sentence is long enough that the line wraps inside the paragraph.",
	"2 Results",
	"The band gap of CsPbI3 is 1.73 eV at 300 K.",
	"Figure 1. Tauc plots of films annealed at 350 C.",
	"References",
	"[1] J. Smith, Phase stability, Nature Materials 18 (2019). doi:10.1038/s41563-019-0001-x",
}

func TestPDF(t *testing.T) {
	testenv.Tool(t, "pdftotext")
	data := makePDF(t, "", pdfBlocks)
	docs, err := Parse(context.Background(), "paper.pdf", bytes.NewReader(data), "")
	if err != nil {
		t.Fatal(err)
	}
	checkDocs(t, docs)
	want := lit.Document{
		Format:   lit.FormatPDF,
		Title:    "Band gaps of inorganic perovskite films",
		Abstract: "We report the optical band gap of CsPbI3 films measured by UV-vis absorption and compare it with density functional theory.",
		Sections: []lit.Section{
			{Heading: "Introduction", Paragraphs: []string{"Lead halide perovskites are semiconductors whose band gap can be tuned by composition. This sentence is long enough that the line wraps inside the paragraph."}},
			{Heading: "Results", Paragraphs: []string{"The band gap of CsPbI3 is 1.73 eV at 300 K."}},
		},
		Captions: []lit.Caption{{Label: "Figure 1", Text: "Tauc plots of films annealed at 350 C."}},
		References: []lit.Reference{{DOI: "10.1038/s41563-019-0001-x",
			Text: "[1] J. Smith, Phase stability, Nature Materials 18 (2019). doi:10.1038/s41563-019-0001-x"}},
	}
	if diff := cmp.Diff([]lit.Document{want}, docs); diff != "" {
		t.Fatalf("PDF text did not round-trip (-want +got):\n%s", diff)
	}
}

// The document-information Title wins over the first line; placeholders
// do not.
func TestPDFInfoTitle(t *testing.T) {
	testenv.Tool(t, "pdftotext")
	for _, tc := range []struct{ info, want string }{
		{"Band Gaps of Inorganic Perovskites: the Full Title", "Band Gaps of Inorganic Perovskites: the Full Title"},
		{"Microsoft Word - draft7.docx", "Band gaps of inorganic perovskite films"},
		{"paper.pdf", "Band gaps of inorganic perovskite films"},
	} {
		docs, err := Parse(context.Background(), "paper.pdf", bytes.NewReader(makePDF(t, tc.info, pdfBlocks)), lit.FormatPDF)
		if err != nil {
			t.Fatal(err)
		}
		checkDocs(t, docs)
		if docs[0].Title != tc.want {
			t.Errorf("info title %q: title %q, want %q", tc.info, docs[0].Title, tc.want)
		}
		if len(docs[0].Sections) != 2 || docs[0].Abstract == "" {
			t.Errorf("info title %q: the body changed: %+v", tc.info, docs[0])
		}
	}
}

func TestPDFBroken(t *testing.T) {
	testenv.Tool(t, "pdftotext")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"garbage.pdf", []byte("%PDF-1.4\nthis is not a PDF body\n%%EOF\n"), "pdftotext could not read it"},
		{"truncated.pdf", makePDF(t, "", pdfBlocks)[:400], "pdftotext could not read it"},
		{"blank.pdf", makePDF(t, "", nil), "no text in the PDF"},
	} {
		_, err := Parse(context.Background(), tc.name, bytes.NewReader(tc.data), "")
		if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), tc.name+": pdf: "+tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}

// Without pdftotext the error says what to install; the server, not the
// file, is at fault.
func TestPDFToolMissing(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := Parse(context.Background(), "paper.pdf", strings.NewReader("%PDF-1.4\n"), "")
	if !errors.Is(errors.Unavailable, err) || !strings.Contains(errors.SafeMessage(err), "pdftotext (poppler-utils) is not installed") {
		t.Fatalf("got %v", err)
	}
}
