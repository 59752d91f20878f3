package formats

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/lit"
)

const corpusDir = "../testdata/corpus"

// corpusDOIs reads MANIFEST.tsv: archive entry (pmc/10.1007_x.xml) → DOI.
func corpusDOIs(t testing.TB) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatalf("the literature corpus (internal/lit/testdata/corpus) is part of the repository: %v", err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) > 2 && cols[0] != "file" {
			m[path.Base(cols[0])] = cols[1]
		}
	}
	return m
}

// The real corpus: 300-odd open-access JATS articles from PLOS, eLife,
// JOSE and PMC, walked from their tar.gz archives and parsed. Every one
// must come out whole: its DOI (the one in the manifest), a title,
// authors, a body in sections, and every promise checkDocs checks.
func TestCorpus(t *testing.T) {
	dois := corpusDOIs(t)
	archives, _ := filepath.Glob(filepath.Join(corpusDir, "*.tar.gz"))
	if len(archives) == 0 {
		t.Fatal("no corpus archives")
	}
	var n, withAbstract, withRefs, withCaptions, withKeywords, withLicense, withYear, paragraphs int
	for _, a := range archives {
		err := Walk(context.Background(), a, func(name string, r io.Reader) error {
			raw, err := io.ReadAll(r)
			if err != nil {
				return err
			}
			docs, err := Parse(context.Background(), name, bytes.NewReader(raw), "")
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return nil
			}
			checkDocs(t, docs)
			if len(docs) != 1 {
				t.Errorf("%s: %d documents", name, len(docs))
				return nil
			}
			d := docs[0]
			n++
			if d.Format != lit.FormatJATS {
				t.Errorf("%s: format %q", name, d.Format)
			}
			if want := NormalizeDOI(dois[path.Base(name)]); want == "" || d.DOI != want {
				t.Errorf("%s: DOI %q, manifest says %q", name, d.DOI, want)
			}
			if d.Title == "" || len(d.Authors) == 0 || len(d.Sections) == 0 {
				t.Errorf("%s: title %q, %d authors, %d sections", name, d.Title, len(d.Authors), len(d.Sections))
			}
			// What the source has, the document has.
			front, body, _ := strings.Cut(string(raw), "</front>")
			has := func(got bool, where, tag, what string) {
				if strings.Contains(where, tag) && !got {
					t.Errorf("%s: the article has %s, the document none", name, what)
				}
			}
			has(d.Abstract != "", front, "<abstract", "an abstract")
			has(len(d.Keywords) > 0, front, "<kwd>", "keywords")
			has(d.License != "", front, "<license", "a licence")
			has(d.Year != 0, front, "<pub-date", "a publication date")
			has(len(d.References) > 0, body, "<ref ", "references")
			has(len(d.Captions) > 0, body, "<caption>", "captions")
			for what, v := range map[*int]bool{&withAbstract: d.Abstract != "", &withRefs: len(d.References) > 0,
				&withCaptions: len(d.Captions) > 0, &withKeywords: len(d.Keywords) > 0, &withLicense: d.License != "", &withYear: d.Year != 0} {
				if v {
					*what++
				}
			}
			for _, s := range d.Sections {
				paragraphs += len(s.Paragraphs)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
	}
	t.Logf("%d articles: %d with abstract, %d references, %d captions, %d keywords, %d licence, %d year; %d paragraphs",
		n, withAbstract, withRefs, withCaptions, withKeywords, withLicense, withYear, paragraphs)
	if n != len(dois) {
		t.Errorf("parsed %d articles, the manifest lists %d", n, len(dois))
	}
}

// BenchmarkParseCorpus reports JATS parsing throughput over the real
// corpus (MB/s of XML, and articles/s).
func BenchmarkParseCorpus(b *testing.B) {
	var files [][]byte
	var total int64
	archives, _ := filepath.Glob(filepath.Join(corpusDir, "*.tar.gz"))
	for _, a := range archives {
		err := Walk(context.Background(), a, func(name string, r io.Reader) error {
			data, err := io.ReadAll(r)
			files = append(files, data)
			total += int64(len(data))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if len(files) == 0 {
		b.Fatal("no corpus")
	}
	b.SetBytes(total)
	b.ResetTimer()
	for range b.N {
		for _, f := range files {
			if _, err := Parse(context.Background(), "a.xml", bytes.NewReader(f), lit.FormatJATS); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(files)*b.N)/b.Elapsed().Seconds(), "articles/s")
}

// BenchmarkParseSamples reports throughput per format over the samples in
// testdata (small files: per-file overhead shows).
func BenchmarkParseSamples(b *testing.B) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, f := range files {
		if strings.HasSuffix(f, ".md") && strings.Contains(f, "README") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		if Detect(f, data) == "" {
			continue
		}
		b.Run(filepath.Base(f), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for range b.N {
				if _, err := Parse(context.Background(), f, bytes.NewReader(data), ""); err != nil && !strings.Contains(f, "error") {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParsePDF reports PDF throughput (pdftotext included) on a
// generated one-page paper.
func BenchmarkParsePDF(b *testing.B) {
	if PDFToolPath() == "" {
		b.Skip("TOOL MISSING: pdftotext")
	}
	t := &testing.T{}
	data := makePDF(t, "", pdfBlocks)
	b.SetBytes(int64(len(data)))
	for range b.N {
		if _, err := Parse(context.Background(), "p.pdf", bytes.NewReader(data), ""); err != nil {
			b.Fatal(err)
		}
	}
}
