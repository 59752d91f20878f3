package formats

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// A paragraph cut by a page break mid-sentence is one paragraph again; a
// paragraph that ends a page with a full stop stays apart from the next.
func TestPDFPageBreak(t *testing.T) {
	testenv.Tool(t, "pdftotext")
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetFont("Helvetica", "", 11)
	pdf.AddPage()
	pdf.MultiCell(150, 5, "Page breaks in PDF", "", "L", false)
	pdf.Ln(5)
	pdf.MultiCell(150, 5, "The optical band gap of the annealed", "", "L", false)
	pdf.AddPage()
	pdf.MultiCell(150, 5, "films is 1.73 eV at room temperature.", "", "L", false)
	pdf.Ln(5)
	pdf.MultiCell(150, 5, "Films degrade in humid air.", "", "L", false)
	pdf.AddPage()
	pdf.MultiCell(150, 5, "another paragraph starts in lower case.", "", "L", false)
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		t.Fatal(err)
	}
	docs, err := Parse(context.Background(), "breaks.pdf", &buf, "")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"The optical band gap of the annealed films is 1.73 eV at room temperature.",
		"Films degrade in humid air.",
		"another paragraph starts in lower case.",
	}
	if docs[0].Title != "Page breaks in PDF" || len(docs[0].Sections) != 1 || !cmp.Equal(docs[0].Sections[0].Paragraphs, want) {
		t.Fatalf("got %+v", docs[0])
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

// pdftotext runs under memory and CPU limits, with the file as its
// argument: a stand-in on PATH reports what it was given.
func TestPDFToolLimits(t *testing.T) {
	dir := t.TempDir()
	script := `#!/bin/sh
cat <<END
<html><head><title>Limits</title></head><body><doc><page><flow>
<block><line><word>memory</word><word>$(ulimit -v)</word><word>cpu</word><word>$(ulimit -t)</word></line></block>
<block><line><word>args</word><word>$#</word><word>$3$4</word></line></block>
</flow></page></doc></body></html>
END
`
	if err := os.WriteFile(filepath.Join(dir, "pdftotext"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	docs, err := Parse(context.Background(), "x.pdf", strings.NewReader("%PDF-1.4\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	got := docs[0].Sections[0].Paragraphs
	want := []string{"memory 2097152 cpu 120", "args 6 -encUTF-8"}
	if docs[0].Title != "Limits" || !cmp.Equal(got, want) {
		t.Fatalf("title %q, text %q, want %q", docs[0].Title, got, want)
	}
}

// A pdftotext that hangs is killed at the timeout and the file refused.
func TestPDFToolTimeout(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pdftotext"), []byte("#!/bin/sh\nexec sleep 600\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	old := pdfTimeout
	pdfTimeout = time.Second
	t.Cleanup(func() { pdfTimeout = old })
	_, err := Parse(context.Background(), "slow.pdf", strings.NewReader("%PDF-1.4\n"), "")
	if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "slow.pdf: pdf: pdftotext could not read it: gave up after 1s") {
		t.Fatalf("got %v", err)
	}
}
