package formats

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
)

// Malformed input of every format is refused with an Invalid error that
// names the file, the format and, where there is one, the line.
func TestMalformed(t *testing.T) {
	for _, tc := range []struct {
		format lit.Format
		in     string
		want   string // in the message, after "bad.in: FORMAT: "
	}{
		{lit.FormatJATS, "<article><front>\n<article-meta>\n</front></article>", "line 3: malformed XML"},
		{lit.FormatJATS, "<article><p>&unknown;</p></article>", "line 1: malformed XML"},
		{lit.FormatJATS, "<notjats><x/></notjats>", "no <article> element (root is <notjats>)"},
		{lit.FormatJATS, "", "no XML element"},
		{lit.FormatJATS, `<?xml version="1.0" encoding="EBCDIC-XYZ"?><article/>`, "unknown character encoding"},
		{lit.FormatJATS, strings.Repeat("<sec>", MaxDepth+2) + strings.Repeat("</sec>", MaxDepth+2), "nested deeper than 256"},
		{lit.FormatJATS, "<article></article>", "holds no publication"},
		{lit.FormatArXiv, "<rss><channel/></rss>", "not an Atom <feed>"},
		{lit.FormatArXiv, "<feed><entry><title>x</title>\n</feed>", "line 2: malformed XML"},
		{lit.FormatOAIPMH, "<feed/>", "not <OAI-PMH>"},
		{lit.FormatOAIPMH, "<OAI-PMH><Identify/></OAI-PMH>", "neither ListRecords nor GetRecord"},
		{lit.FormatOAIPMH, "<OAI-PMH><GetRecord><record><header/><metadata><mods/></metadata></record></GetRecord></OAI-PMH>", "unsupported OAI-PMH metadata format <mods>"},
		{lit.FormatOAIPMH, "<OAI-PMH><GetRecord><record><header/></record></GetRecord></OAI-PMH>", "record without metadata"},
		{lit.FormatCrossref, "{\"message\": {\n\"title\": [\"x\"\n}", "line 3: malformed JSON"},
		{lit.FormatCrossref, `{"status":"failed","message":"no"}`, `status "failed"`},
		{lit.FormatCrossref, `{"message":{"author":"not a list"}}`, "field"},
		{lit.FormatDataCite, `{"data": [1, 2]}`, "expected"},
		{lit.FormatDataCite, "{\n\n\"data\": {", "line 3: malformed JSON"},
		{lit.FormatBibTeX, "@article{k,\n  title = {unterminated {x}\n", "line 2: entry \"k\": unbalanced '{'"},
		{lit.FormatBibTeX, "@article{k,\n  title = {x}\n", "line 1: entry \"k\": the file ends inside it (missing '}')"},
		{lit.FormatBibTeX, "\n\n@article{k,\n  title = \"open,\n}\n", "line 5: entry \"k\" (line 3): unbalanced '}' in a quoted value"},
		{lit.FormatBibTeX, "@article{k,\n  title = \"open", "line 2: entry \"k\" (line 1): unterminated quoted value"},
		{lit.FormatBibTeX, "@article{k,\n title \"x\"}", "line 2: entry \"k\" (line 1): field \"title\" has no '='"},
		{lit.FormatBibTeX, "@article{k,\n journal = undefinedmacro}", "line 2: entry \"k\" (line 1): undefined @string macro \"undefinedmacro\""},
		{lit.FormatBibTeX, "@article{k title = {x}}", "line 1: entry \"k\" (line 1): expected ',' after the citation key"},
		{lit.FormatBibTeX, "@article{k, title = {x} author = {y}}", "expected ',' or '}' after field \"title\""},
		{lit.FormatBibTeX, "@article{k, title = {x},", "line 1: entry \"k\": the file ends inside it"},
		{lit.FormatBibTeX, "@ {x}", "'@' not followed by an entry type"},
		{lit.FormatBibTeX, "% only comments", "holds no publication"},
		{lit.FormatRIS, "TI  - no TY\nER  - ", "line 1: tag TI before any TY line"},
		{lit.FormatRIS, "TY  - JOUR\nTI  - x\n\nTY  - JOUR\nER  - ", "line 1: the record starting here has no ER line before the next TY (line 4)"},
		{lit.FormatRIS, "\n\nTY  - JOUR\nTI  - x\n", "line 3: the record starting here has no ER line"},
		{lit.FormatRIS, "garbage\n", "line 1: text outside a record"},
		{lit.FormatMarkdown, "\n\n  \n", "holds no publication"},
		{lit.FormatText, "", "holds no publication"},
		{lit.FormatPDF, "not a pdf", "not a PDF file"},
	} {
		_, err := Parse(context.Background(), "bad.in", strings.NewReader(tc.in), tc.format)
		if err == nil {
			t.Errorf("%s %q: no error", tc.format, tc.in)
			continue
		}
		if !errors.Is(errors.Invalid, err) {
			t.Errorf("%s %q: kind %v, want invalid: %v", tc.format, tc.in, errors.KindOf(err), err)
		}
		msg := errors.SafeMessage(err)
		prefix := "bad.in: " + string(tc.format) + ": "
		if !strings.HasPrefix(msg, prefix) || !strings.Contains(msg, tc.want) {
			t.Errorf("%s %q: message %q, want %q…%q", tc.format, tc.in, msg, prefix, tc.want)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	_, err := Parse(context.Background(), "x.bin", strings.NewReader("\x00\x01binary"), "")
	if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "x.bin: unknown publication format") {
		t.Fatalf("got %v", err)
	}
	_, err = Parse(context.Background(), "x.txt", strings.NewReader("x"), "docx")
	if !errors.Is(errors.Invalid, err) {
		t.Fatalf("got %v", err)
	}
}

// lazyReader produces n bytes of text on demand and counts what was read.
type lazyReader struct {
	n, read int64
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.read >= l.n {
		return 0, io.EOF
	}
	k := int64(len(p))
	if k > l.n-l.read {
		k = l.n - l.read
	}
	for i := range p[:k] {
		p[i] = "word \n"[(l.read+int64(i))%6]
	}
	l.read += k
	return int(k), nil
}

// A 500 MB document is refused as soon as the bound is passed: at most
// MaxFile+1 bytes are read, never the whole of it.
func TestTooLargeRefusedEarly(t *testing.T) {
	r := &lazyReader{n: 500 << 20}
	_, err := Parse(context.Background(), "huge.txt", r, "")
	if !errors.Is(errors.TooLarge, err) {
		t.Fatalf("got %v, want too-large", err)
	}
	if !strings.Contains(errors.SafeMessage(err), "huge.txt: larger than 64 MiB") {
		t.Errorf("message %q", errors.SafeMessage(err))
	}
	if r.read > MaxFile+1 {
		t.Errorf("read %d bytes of a 500 MB input; the bound is %d", r.read, MaxFile+1)
	}
	// Exactly MaxFile bytes is accepted.
	r = &lazyReader{n: MaxFile}
	docs, err := Parse(context.Background(), "big.txt", r, "")
	if err != nil || len(docs) != 1 {
		t.Fatalf("a file of exactly MaxFile bytes: %v", err)
	}
	checkDocs(t, docs)
}

func TestTooManyDocuments(t *testing.T) {
	var b strings.Builder
	for i := 0; i <= MaxDocuments; i++ {
		b.WriteString("TY  - JOUR\nTI  - x\nER  - \n")
	}
	_, err := Parse(context.Background(), "many.ris", strings.NewReader(b.String()), "")
	if !errors.Is(errors.TooLarge, err) || !strings.Contains(errors.SafeMessage(err), "more than 10000 documents") {
		t.Fatalf("got %v", err)
	}
}

// Non-UTF-8 text is never refused: legacy 8-bit text (no valid UTF-8
// sequence at all) is read as windows-1252, UTF-16 with a byte-order mark
// is transcoded, and stray invalid bytes in UTF-8 become U+FFFD.
func TestNonUTF8(t *testing.T) {
	utf16le := func(s string) string {
		b := []byte{0xFF, 0xFE}
		for _, r := range s {
			b = append(b, byte(r), byte(r>>8))
		}
		return string(b)
	}
	for _, tc := range []struct {
		format lit.Format
		in     string
		want   string
	}{
		{lit.FormatText, "Caf\xe9 \x93title\x94\n\nA paragraph.", "Café “title”"},
		{lit.FormatMarkdown, "# Caf\xe9\n\nBody.", "Café"},
		{lit.FormatBibTeX, "@article{k, title = {Caf\xe9 na\xefve}}", "Café naïve"},
		{lit.FormatRIS, "TY  - JOUR\nTI  - Caf\xe9\nER  - \n", "Café"},
		{lit.FormatJATS, "<article><front><article-meta><title-group><article-title>Caf\xe9</article-title></title-group></article-meta></front></article>", "Café"},
		// Mixed: valid UTF-8 (é) and a stray byte: only the byte is replaced.
		{lit.FormatText, "Caf\u00e9 \xff end\n\nA paragraph.", "Café \uFFFD end"},
		{lit.FormatBibTeX, "@article{k, title = {Caf\u00e9 \xff}}", "Café \uFFFD"},
		{lit.FormatJATS, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><article><front><article-meta><title-group><article-title>Caf\u00e9\xff\x01</article-title></title-group></article-meta></front></article>", "Café\uFFFD"},
		// UTF-16 with a byte-order mark, declared or not.
		{"", utf16le("TY  - JOUR\nTI  - Caf\u00e9 \u03b1\nER  - \n"), "Café α"},
		{"", utf16le(`<?xml version="1.0" encoding="UTF-16"?><article><front><article-meta><title-group><article-title>Café</article-title></title-group></article-meta></front></article>`), "Café"},
	} {
		docs, err := Parse(context.Background(), "enc.in", strings.NewReader(tc.in), tc.format)
		if err != nil {
			t.Errorf("%s %q: %v", tc.format, tc.in, err)
			continue
		}
		checkDocs(t, docs)
		if docs[0].Title != tc.want {
			t.Errorf("%s %q: title %q, want %q", tc.format, tc.in, docs[0].Title, tc.want)
		}
	}
}

// XML entities come only from HTML's list: a DOCTYPE's external or
// internal entities are never loaded or expanded (no XXE, no billion
// laughs).
func TestNoExternalEntities(t *testing.T) {
	in := `<?xml version="1.0"?>
<!DOCTYPE article [
  <!ENTITY xxe SYSTEM "file:///etc/passwd">
  <!ENTITY lol "lol">
]>
<article><front><article-meta><title-group><article-title>&xxe;</article-title></title-group></article-meta></front></article>`
	_, err := Parse(context.Background(), "xxe.xml", strings.NewReader(in), "")
	if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "xxe.xml: jats: line 6: malformed XML") {
		t.Fatalf("got %v", err)
	}
	in = strings.Replace(in, "&xxe;", "&lol; &eacute; &#x3b1;", 1)
	_, err = Parse(context.Background(), "xxe.xml", strings.NewReader(in), "")
	if err == nil {
		t.Fatal("an internal entity was expanded")
	}
	in = strings.Replace(in, "&lol; ", "", 1)
	docs, err := Parse(context.Background(), "xxe.xml", strings.NewReader(in), "")
	if err != nil || docs[0].Title != "é α" {
		t.Fatalf("HTML entities: %v %+v", err, docs)
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Parse(ctx, "a.txt", strings.NewReader("x"), "")
	if !errors.Is(errors.Canceled, err) {
		t.Fatalf("got %v", err)
	}
}

// Inputs that are small but would expand: @string macros doubling, XML
// text split by thousands of comments. Refused or read in linear work.
func TestExpansionBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("@string{m0 = \"" + strings.Repeat("x", 1000) + "\"}\n")
	for i := 1; i < 8; i++ {
		fmt.Fprintf(&b, "@string{m%d = m%d # m%d # m%d # m%d}\n", i, i-1, i-1, i-1, i-1)
	}
	_, err := Parse(context.Background(), "bomb.bib", strings.NewReader(b.String()+"@article{k, title = m7}"), "")
	if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "a value longer than") {
		t.Fatalf("doubling macros: %v", err)
	}
	b.Reset()
	b.WriteString("@string{big = \"" + strings.Repeat("x ", 100<<10) + "\"}\n")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&b, "@article{k%d, title = big, abstract = big}\n", i)
	}
	_, err = Parse(context.Background(), "bomb.bib", strings.NewReader(b.String()), "")
	if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "macros expand the file past 128 MiB") {
		t.Fatalf("repeated big macro: %v", err)
	}
	x := "<article><body><p>" + strings.Repeat("a<!---->", 200000) + "</p></body></article>"
	docs, err := Parse(context.Background(), "comments.xml", strings.NewReader(x), "")
	if err != nil {
		t.Fatal(err)
	}
	if p := docs[0].Sections[0].Paragraphs; len(p) != 4 || !strings.HasPrefix(p[0], "aaaa") {
		t.Fatalf("paragraphs: %d", len(p))
	}
}
