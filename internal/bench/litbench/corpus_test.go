package litbench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit/formats"
)

// corpusText reads and flattens the corpus once for all tests.
var corpusText = sync.OnceValues(func() (map[string]article, error) {
	files, err := ReadCorpus(corpusDir)
	if err != nil {
		return nil, err
	}
	out := map[string]article{}
	for _, f := range files {
		doi, s, err := plainText(f.Data)
		if err != nil {
			return nil, errors.E(errors.Op(f.Name), err)
		}
		out[f.Name] = article{doi: doi, text: s}
	}
	return out, nil
})

type article struct{ doi, text string }

const (
	corpusDir   = "../../lit/testdata/corpus"
	queriesPath = "../../lit/testdata/queries.jsonl"
)

// plainText is an article's character data in document order with markup
// removed (no separators added at element boundaries, so a substring
// chosen within one text run is found exactly as written).
func plainText(data []byte) (string, string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	var b strings.Builder
	var doi string
	inDOI := false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", "", err
		}
		switch x := tok.(type) {
		case xml.StartElement:
			inDOI = false
			if x.Name.Local == "article-id" && doi == "" {
				for _, a := range x.Attr {
					if a.Name.Local == "pub-id-type" && a.Value == "doi" {
						inDOI = true
					}
				}
			}
		case xml.CharData:
			if inDOI {
				doi = strings.TrimSpace(string(x))
				inDOI = false
			}
			b.Write(x)
		case xml.EndElement:
			inDOI = false
		}
	}
	return doi, b.String(), nil
}

// TestCorpusManifest: the archives hold exactly the files MANIFEST.tsv
// lists, at least 300 articles, each with the DOI the manifest says.
func TestCorpusManifest(t *testing.T) {
	arts, err := corpusText()
	if err != nil {
		t.Fatal(err)
	}
	mf, err := os.Open(filepath.Join(corpusDir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer mf.Close()
	want := map[string]string{} // file → doi
	sc := bufio.NewScanner(mf)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 7 {
			t.Fatalf("manifest line %q: %d columns", sc.Text(), len(cols))
		}
		if !strings.HasPrefix(cols[2], "CC") {
			t.Errorf("%s: licence %q is not CC BY or CC0", cols[0], cols[2])
		}
		want[cols[0]] = cols[1]
	}
	if len(arts) < 300 || len(arts) != len(want) {
		t.Fatalf("%d files in the archives, %d in the manifest (want ≥ 300, equal)", len(arts), len(want))
	}
	for name, a := range arts {
		doi, ok := want[name]
		if !ok {
			t.Errorf("%s: not in the manifest", name)
			continue
		}
		if !strings.EqualFold(a.doi, doi) {
			t.Errorf("%s: DOI %q, manifest says %q", name, a.doi, doi)
		}
	}
}

// TestQueriesMatchCorpus: the query set loads, has at least 60 queries of
// every kind, and every judged passage's substring occurs in the text of
// the article its DOI names.
func TestQueriesMatchCorpus(t *testing.T) {
	f, err := os.Open(queriesPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	qs, err := LoadQueries(f)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, q := range qs {
		kinds[q.Kind]++
	}
	if len(qs) < 60 || kinds[KindKeyword] < 10 || kinds[KindNatural] < 10 || kinds[KindParaphrase] < 10 {
		t.Fatalf("%d queries, kinds %v", len(qs), kinds)
	}
	arts, err := corpusText()
	if err != nil {
		t.Fatal(err)
	}
	text := map[string]string{} // normalised doc → normalised text
	for _, a := range arts {
		text[NormalizeDoc("doi:"+a.doi)] = Normalize(a.text)
	}
	for _, q := range qs {
		for _, j := range q.Relevant {
			s, ok := text[NormalizeDoc(j.Doc)]
			if !ok {
				t.Errorf("%s: %s is not in the corpus", q.ID, j.Doc)
				continue
			}
			if !strings.Contains(s, Normalize(j.Contains)) {
				t.Errorf("%s: %q does not occur in %s", q.ID, j.Contains, j.Doc)
			}
		}
	}
}

// TestJudgementsInParsedText: every judged substring occurs in the text
// internal/lit/formats reads from its article (title, abstract, section
// paragraphs, captions) — the text the library splits into passages — so
// a judgement can be credited. Articles are found by their manifest DOI.
func TestJudgementsInParsedText(t *testing.T) {
	if testing.Short() {
		t.Skip("parses the whole corpus; skipped with -short")
	}
	f, err := os.Open(queriesPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	qs, err := LoadQueries(f)
	if err != nil {
		t.Fatal(err)
	}
	arts, err := corpusText()
	if err != nil {
		t.Fatal(err)
	}
	files, err := ReadCorpus(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	parsed := map[string]string{} // normalised manifest DOI → normalised parsed text
	for _, cf := range files {
		docs, err := formats.Parse(context.Background(), cf.Name, bytes.NewReader(cf.Data), "")
		if err != nil || len(docs) != 1 {
			t.Fatalf("%s: %v (%d documents)", cf.Name, err, len(docs))
		}
		d := docs[0]
		var b strings.Builder
		b.WriteString(d.Title + "\n" + d.Abstract + "\n")
		for _, s := range d.Sections {
			b.WriteString(s.Heading + "\n")
			for _, p := range s.Paragraphs {
				b.WriteString(p + "\n")
			}
		}
		for _, c := range d.Captions {
			b.WriteString(c.Label + " " + c.Text + "\n")
		}
		parsed[NormalizeDoc("doi:"+arts[cf.Name].doi)] = Normalize(b.String())
	}
	for _, q := range qs {
		for _, j := range q.Relevant {
			if !strings.Contains(parsed[NormalizeDoc(j.Doc)], Normalize(j.Contains)) {
				t.Errorf("%s: %q is not in the parsed text of %s", q.ID, j.Contains, j.Doc)
			}
		}
	}
}
