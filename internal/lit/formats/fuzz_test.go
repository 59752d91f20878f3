package formats

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/text"
)

// checkLine fails unless s is what clean promises: valid UTF-8, no
// forbidden character, single interior spaces, trimmed, at most max bytes.
func checkLine(t *testing.T, field, s string, max int) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s: invalid UTF-8: %q", field, s)
	}
	if len(s) > max {
		t.Fatalf("%s: %d bytes, more than %d", field, len(s), max)
	}
	for _, r := range s {
		if text.Forbidden(r) || r == '\uFEFF' {
			t.Fatalf("%s: forbidden character %U in %q", field, r, s)
		}
		if r != ' ' && isUnicodeSpace(r) {
			t.Fatalf("%s: white space %U not collapsed in %q", field, r, s)
		}
	}
	if strings.Contains(s, "  ") || strings.TrimSpace(s) != s {
		t.Fatalf("%s: white space not collapsed: %q", field, s)
	}
}

// checkDocs checks the properties every parser promises of every document.
func checkDocs(t *testing.T, docs []lit.Document) {
	t.Helper()
	if len(docs) == 0 || len(docs) > MaxDocuments {
		t.Fatalf("%d documents", len(docs))
	}
	for i := range docs {
		d := &docs[i]
		if empty(d) {
			t.Fatalf("document %d is empty: %+v", i, d)
		}
		checkLine(t, "title", d.Title, MaxTitleBytes)
		checkLine(t, "venue", d.Venue, MaxTitleBytes)
		checkLine(t, "license", d.License, MaxTitleBytes)
		checkLine(t, "abstract", d.Abstract, MaxFieldBytes)
		for _, id := range []struct {
			v string
			f func(string) string
		}{{d.DOI, NormalizeDOI}, {d.ArXiv, NormalizeArXiv}, {d.PMID, NormalizePMID}, {d.PMCID, NormalizePMCID}} {
			if id.f(id.v) != id.v {
				t.Fatalf("identifier %q is not normalised (%q)", id.v, id.f(id.v))
			}
		}
		if d.Year != 0 && (d.Year < 1000 || d.Year > 2999) {
			t.Fatalf("year %d", d.Year)
		}
		for _, l := range [][]string{d.Authors, d.Keywords} {
			if len(l) > MaxListItems {
				t.Fatalf("list of %d", len(l))
			}
			for _, s := range l {
				checkLine(t, "list item", s, MaxTitleBytes)
				if s == "" {
					t.Fatal("empty list item")
				}
			}
		}
		if len(d.Sections) > MaxListItems || len(d.Captions) > MaxListItems || len(d.References) > MaxListItems {
			t.Fatalf("unbounded lists: %d sections, %d captions, %d references", len(d.Sections), len(d.Captions), len(d.References))
		}
		for _, s := range d.Sections {
			checkLine(t, "heading", s.Heading, MaxTitleBytes)
			if len(s.Paragraphs) == 0 {
				t.Fatal("section without paragraphs")
			}
			for _, p := range s.Paragraphs {
				checkLine(t, "paragraph", p, MaxFieldBytes)
				if p == "" {
					t.Fatal("empty paragraph")
				}
			}
		}
		for _, c := range d.Captions {
			checkLine(t, "caption label", c.Label, MaxTitleBytes)
			checkLine(t, "caption", c.Text, MaxFieldBytes)
		}
		for _, r := range d.References {
			checkLine(t, "reference title", r.Title, MaxTitleBytes)
			checkLine(t, "reference", r.Text, MaxReferenceText)
			if NormalizeDOI(r.DOI) != r.DOI || NormalizeArXiv(r.ArXiv) != r.ArXiv || NormalizePMID(r.PMID) != r.PMID {
				t.Fatalf("reference identifiers not normalised: %+v", r)
			}
		}
		// Normalize is idempotent: a parsed document is already normal.
		cp := deepCopy(*d)
		Normalize(&cp)
		if diff := cmp.Diff(*d, cp); diff != "" {
			t.Fatalf("Normalize changed a parsed document:\n%s", diff)
		}
	}
}

func deepCopy(d lit.Document) lit.Document {
	d.Authors = append([]string(nil), d.Authors...)
	d.Keywords = append([]string(nil), d.Keywords...)
	secs := make([]lit.Section, len(d.Sections))
	for i, s := range d.Sections {
		secs[i] = lit.Section{Heading: s.Heading, Paragraphs: append([]string(nil), s.Paragraphs...)}
	}
	if d.Sections != nil {
		d.Sections = secs
	}
	d.Captions = append([]lit.Caption(nil), d.Captions...)
	d.References = append([]lit.Reference(nil), d.References...)
	if len(d.Authors) == 0 {
		d.Authors = nil
	}
	if len(d.Keywords) == 0 {
		d.Keywords = nil
	}
	if len(d.Captions) == 0 {
		d.Captions = nil
	}
	if len(d.References) == 0 {
		d.References = nil
	}
	return d
}

// fuzzParse is the body of every Fuzz function: Parse either refuses the
// input with a clean Invalid/TooLarge error, or returns documents that
// keep every promise, the same on a second parse.
func fuzzParse(f *testing.F, format lit.Format, seeds ...string) {
	for _, pattern := range seeds {
		files, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		docs, err := Parse(ctx, "fuzz.in", bytes.NewReader(data), format)
		if err != nil {
			if k := errors.KindOf(err); k != errors.Invalid && k != errors.TooLarge {
				t.Fatalf("error of kind %v: %v", k, err)
			}
			msg := errors.SafeMessage(err)
			if !strings.HasPrefix(msg, "fuzz.in: "+string(format)) {
				t.Fatalf("error message does not name the file and format: %q", msg)
			}
			checkLine(t, "error message", strings.ReplaceAll(msg, "\n", " "), 4096)
			return
		}
		checkDocs(t, docs)
		again, err := Parse(ctx, "fuzz.in", bytes.NewReader(data), format)
		if err != nil {
			t.Fatalf("second parse failed: %v", err)
		}
		if diff := cmp.Diff(docs, again); diff != "" {
			t.Fatalf("second parse differs:\n%s", diff)
		}
	})
}

func FuzzJATS(f *testing.F) {
	f.Add([]byte(`<article><front><article-meta><title-group><article-title>T</article-title></title-group></article-meta></front></article>`))
	f.Add([]byte(`<article><body><sec><title>A</title><sec><title>B</title><p>x<sup>2</sup></p></sec></sec></body></article>`))
	f.Add([]byte("<article><body><p>\x01&nbsp;&amp;</p></body></article>"))
	fuzzParse(f, lit.FormatJATS, "jats-*.xml")
}

func FuzzArXiv(f *testing.F) {
	f.Add([]byte(`<feed><entry><id>http://arxiv.org/abs/2101.00001v1</id><title>T $x^2$</title></entry></feed>`))
	fuzzParse(f, lit.FormatArXiv, "arxiv-*.xml")
}

func FuzzOAI(f *testing.F) {
	f.Add([]byte(`<OAI-PMH><ListRecords><record><header><identifier>oai:arXiv.org:0704.0001</identifier></header><metadata><dc><title>T</title></dc></metadata></record></ListRecords></OAI-PMH>`))
	fuzzParse(f, lit.FormatOAIPMH, "oai-*.xml")
}

func FuzzCrossref(f *testing.F) {
	f.Add([]byte(`{"message":{"DOI":"10.1/x","title":["T"],"abstract":"<jats:p>a<b</jats:p>"}}`))
	f.Add([]byte(`[{"DOI":"10.1/x","issued":{"date-parts":[["2020"]]}}]`))
	fuzzParse(f, lit.FormatCrossref, "crossref-*.json")
}

func FuzzDataCite(f *testing.F) {
	f.Add([]byte(`{"data":[{"attributes":{"titles":{"title":"T"},"publicationYear":"x"}}]}`))
	fuzzParse(f, lit.FormatDataCite, "datacite-*.json")
}

func FuzzBibTeX(f *testing.F) {
	f.Add([]byte(`@article{k, title = {T\"{o}} # " x", author = "A and B"}`))
	f.Add([]byte(`@string{a = "x"} @misc(k, title = a # {y})`))
	f.Add([]byte(`@article{k, title = {unterminated`))
	fuzzParse(f, lit.FormatBibTeX, "*.bib")
}

func FuzzRIS(f *testing.F) {
	f.Add([]byte("TY  - JOUR\nTI  - T\nER  - \n"))
	f.Add([]byte("TY  - JOUR\nTI  - T\n"))
	fuzzParse(f, lit.FormatRIS, "*.ris")
}

func FuzzMarkdown(f *testing.F) {
	f.Add([]byte("# T\n\n## A\n\ntext *em* **b** [l](u)\n"))
	f.Add([]byte("---\nauthors:\n - A\n---\nTitle\n=====\n"))
	fuzzParse(f, lit.FormatMarkdown, "*.md")
}

// FuzzText covers the reader PDF text goes through as well.
func FuzzText(f *testing.F) {
	f.Add([]byte("Title\n\nAbstract\n\nx\n\n1 Intro\n\nsemi-\nconductor\n\nReferences\n\n[1] a\n[2] b\n"))
	fuzzParse(f, lit.FormatText, "*.txt")
}

// The reference model for clean, written independently: what the package
// doc promises.
func modelClean(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var words []string
	var cur strings.Builder
	for _, r := range s {
		if r == '\uFEFF' {
			continue
		}
		if text.Forbidden(r) || isUnicodeSpace(r) || r == ' ' {
			if cur.Len() > 0 {
				words = append(words, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteRune(r)
	}
	if cur.Len() > 0 {
		words = append(words, cur.String())
	}
	out := strings.Join(words, " ")
	for len(out) > max {
		_, n := utf8.DecodeLastRuneInString(out)
		out = strings.TrimRight(out[:len(out)-n], " ")
	}
	return out
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"", " a  b ", "a\tb\nc", "\x00\x1b[31m", "a\u00a0b\u2028c", "\xff\xfe", "é" + strings.Repeat("x", 20), "\u202egood\u202c", "\ufeffbom"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		got := clean(s, max)
		if want := modelClean(s, max); got != want {
			t.Fatalf("clean(%q, %d) = %q, model says %q", s, max, got, want)
		}
		if again := clean(got, max); again != got {
			t.Fatalf("clean is not idempotent: %q → %q", got, again)
		}
		checkLine(t, "clean", got, max)
	})
}
