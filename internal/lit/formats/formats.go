// Package formats reads publication files into lit.Document: JATS XML,
// arXiv Atom feeds, OAI-PMH records (oai_dc, arXiv, arXivRaw), Crossref and
// DataCite JSON, BibTeX, RIS, Markdown, plain text, and PDF (through
// poppler's pdftotext, run as a bounded subprocess).
//
// What it guarantees, whatever the input:
//
//   - Bounded work: a file is read to at most MaxFile bytes (a longer one is
//     refused as soon as the bound is passed, without reading the rest); XML
//     nesting is at most MaxDepth; a file yields at most MaxDocuments
//     documents; every string field and every list is bounded (MaxFieldBytes,
//     MaxTitleBytes, MaxListItems …). Walk bounds archives: entry count,
//     total uncompressed bytes, compression ratio; nested archives are
//     refused, symlinks and path-traversal names are ignored.
//   - Clean text: every string in a Document is valid UTF-8 with no control
//     or bidirectional-override characters, whitespace collapsed to single
//     spaces, on one line (paragraphs are single lines). Non-UTF-8 input
//     is never refused: XML in a declared encoding (ISO-8859-1,
//     windows-1252 …) and UTF-16 with a byte-order mark are decoded, text
//     without a single valid UTF-8 sequence is read as windows-1252, and
//     stray invalid bytes in UTF-8 become U+FFFD.
//   - Normalised identifiers: DOI lower-case without resolver prefix,
//     arXiv ID without "arXiv:" and version, PMID digits, PMCID "PMC…".
//   - No outside fetches: XML DOCTYPEs and external entities are never
//     loaded; only the HTML entity names are known.
//   - Clear errors: malformed input is errors.Invalid (too large is
//     errors.TooLarge) with a message naming the file, the format and the
//     line (or offset) where reading failed.
package formats

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
)

// Limits.
const (
	// MaxFile is the largest publication file Parse reads.
	MaxFile = 64 << 20
	// MaxDocuments is the most documents one file (a feed, a BibTeX
	// library, an OAI-PMH page) may hold.
	MaxDocuments = 10000
	// MaxArchiveEntries is the most entries Walk accepts in one archive.
	MaxArchiveEntries = 10000
	// MaxArchiveBytes bounds the uncompressed bytes Walk reads from one
	// archive.
	MaxArchiveBytes = 1 << 30
	// MaxCompressionRatio bounds uncompressed/compressed bytes of an archive
	// (and of each zip entry) once past ratioSlack bytes: a zip bomb is
	// refused before it is inflated.
	MaxCompressionRatio = 200
	// MaxFieldBytes bounds one text field: a paragraph, an abstract, a
	// caption.
	MaxFieldBytes = 64 << 10
	// MaxTitleBytes bounds titles, names, venues, keywords, licences.
	MaxTitleBytes = 2 << 10
	// MaxReferenceText bounds the printed text of one reference.
	MaxReferenceText = 4 << 10
	// MaxListItems bounds each list of a document: authors, keywords,
	// sections, paragraphs per section, captions, references.
	MaxListItems = 10000
	// MaxDepth bounds XML element nesting.
	MaxDepth = 256
	// maxElements bounds the XML elements and text runs of one file
	// (memory: a file of empty elements would otherwise make a node per
	// five bytes).
	maxElements = 2 << 20
	// ratioSlack: small highly-compressible files are normal; the ratio
	// applies past this many uncompressed bytes.
	ratioSlack = 1 << 20
	// maxIDBytes bounds an identifier; longer ones are dropped.
	maxIDBytes = 256
)

// Detect guesses the format from the file name and first bytes ("" if
// unknown). The extension decides where it is unambiguous (.bib, .ris,
// .pdf, .md); XML and JSON are told apart by their root element or keys.
func Detect(name string, head []byte) lit.Format {
	ext := strings.ToLower(path.Ext(strings.ReplaceAll(name, "\\", "/")))
	h := bytes.TrimLeft(trimBOM(head), " \t\r\n")
	switch ext {
	case ".pdf":
		return lit.FormatPDF
	case ".bib", ".bibtex":
		return lit.FormatBibTeX
	case ".ris":
		return lit.FormatRIS
	case ".md", ".markdown":
		return lit.FormatMarkdown
	case ".nxml", ".jats":
		return lit.FormatJATS
	}
	if bytes.HasPrefix(h, []byte("%PDF-")) {
		return lit.FormatPDF
	}
	if len(h) > 0 && h[0] == '<' {
		if f := detectXML(h); f != "" {
			return f
		}
	}
	if len(h) > 0 && (h[0] == '{' || h[0] == '[') {
		if f := detectJSON(h); f != "" {
			return f
		}
	}
	if looksBibTeX(h) {
		return lit.FormatBibTeX
	}
	if looksRIS(h) {
		return lit.FormatRIS
	}
	switch ext {
	case ".txt", ".text":
		return lit.FormatText
	case ".xml", ".json":
		return ""
	}
	if bytes.HasPrefix(h, []byte("# ")) {
		return lit.FormatMarkdown
	}
	return ""
}

func trimBOM(b []byte) []byte { return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) }

// detectXML names the format by the root element.
func detectXML(h []byte) lit.Format {
	switch rootElement(h) {
	case "article", "pmc-articleset", "articles":
		return lit.FormatJATS
	case "feed":
		return lit.FormatArXiv
	case "OAI-PMH":
		return lit.FormatOAIPMH
	}
	return ""
}

// rootElement returns the local name of the first element in h, skipping
// the declaration, comments, processing instructions and DOCTYPE.
func rootElement(h []byte) string {
	for i := 0; i < len(h); {
		j := bytes.IndexByte(h[i:], '<')
		if j < 0 || i+j+1 >= len(h) {
			return ""
		}
		i += j + 1
		switch h[i] {
		case '?', '!':
			if bytes.HasPrefix(h[i:], []byte("!--")) {
				k := bytes.Index(h[i:], []byte("-->"))
				if k < 0 {
					return ""
				}
				i += k
			}
			continue
		}
		k := i
		for k < len(h) && !strings.ContainsRune(" \t\r\n/>", rune(h[k])) {
			k++
		}
		n := string(h[i:k])
		if c := strings.LastIndexByte(n, ':'); c >= 0 {
			n = n[c+1:]
		}
		return n
	}
	return ""
}

func detectJSON(h []byte) lit.Format {
	has := func(k string) bool { return bytes.Contains(h, []byte(`"`+k+`"`)) }
	switch {
	case has("message-type"), has("message"), has("container-title"):
		return lit.FormatCrossref
	case has("attributes"), has("titles"), has("creators"), has("publicationYear"):
		return lit.FormatDataCite
	case has("DOI"):
		return lit.FormatCrossref
	}
	return ""
}

func looksBibTeX(h []byte) bool {
	for _, line := range bytes.Split(h, []byte("\n")) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '%' {
			continue
		}
		if line[0] != '@' {
			return false
		}
		i := 1
		for i < len(line) && isIdent(line[i]) {
			i++
		}
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		return i > 1 && i < len(line) && (line[i] == '{' || line[i] == '(')
	}
	return false
}

func looksRIS(h []byte) bool {
	for _, line := range bytes.Split(h, []byte("\n")) {
		line = bytes.TrimRight(line, " \r\t")
		if len(line) == 0 {
			continue
		}
		return bytes.HasPrefix(line, []byte("TY  -"))
	}
	return false
}

func isIdent(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == ':'
}

// Parse reads one file (already bounded by the caller to MaxFile; Parse
// bounds it again) and returns its documents: a feed, an OAI-PMH page, a
// Crossref list or a BibTeX/RIS library may hold many. format "" means
// Detect. A file with no publication in it is an error.
func Parse(ctx context.Context, name string, r io.Reader, format lit.Format) ([]lit.Document, error) {
	const op = errors.Op("formats.Parse")
	data, err := io.ReadAll(io.LimitReader(r, MaxFile+1))
	if err != nil {
		if k := errors.KindOf(err); k != errors.Other {
			return nil, errors.E(op, err) // an archive bound, a cancelled context
		}
		return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("%s: cannot read: %v", displayName(name), err)), err)
	}
	if len(data) > MaxFile {
		return nil, errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("%s: larger than %d MiB, the most a publication file may be", displayName(name), MaxFile>>20)))
	}
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, err)
	}
	if format == "" {
		format = Detect(name, data[:min(len(data), 4096)])
		if format == "" {
			if u, ok := toUTF8(data[:min(len(data), 4096)], ""); ok {
				format = Detect(name, u)
			}
		}
		if format == "" {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("%s: unknown publication format (expected JATS XML, arXiv Atom, OAI-PMH, Crossref or DataCite JSON, BibTeX, RIS, Markdown, text or PDF)", displayName(name))))
		}
	}
	data, utf16 := toUTF8(data, string(format))
	p := &parser{ctx: ctx, name: displayName(name), format: format, utf16: utf16}
	var docs []lit.Document
	switch format {
	case lit.FormatJATS:
		docs, err = p.jats(data)
	case lit.FormatArXiv:
		docs, err = p.arxiv(data)
	case lit.FormatOAIPMH:
		docs, err = p.oai(data)
	case lit.FormatCrossref:
		docs, err = p.crossref(data)
	case lit.FormatDataCite:
		docs, err = p.datacite(data)
	case lit.FormatBibTeX:
		docs, err = p.bibtex(data)
	case lit.FormatRIS:
		docs, err = p.ris(data)
	case lit.FormatMarkdown:
		docs, err = p.markdown(data)
	case lit.FormatText:
		docs, err = p.text(data)
	case lit.FormatPDF:
		docs, err = p.pdf(data)
	default:
		return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("%s: unknown format %q", p.name, clean(string(format), 64))))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	out := docs[:0]
	for i := range docs {
		docs[i].Format = format
		Normalize(&docs[i])
		if !empty(&docs[i]) {
			out = append(out, docs[i])
		}
	}
	if len(out) == 0 {
		return nil, errors.E(op, p.errf(0, "holds no publication (no title, identifier, abstract or text)"))
	}
	if len(out) > MaxDocuments {
		return nil, errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("%s: %s: holds %d documents, more than the %d one file may hold", p.name, format, len(out), MaxDocuments)))
	}
	return out, nil
}

func empty(d *lit.Document) bool {
	return d.Title == "" && d.DOI == "" && d.ArXiv == "" && d.PMID == "" && d.PMCID == "" &&
		d.Abstract == "" && len(d.Sections) == 0
}

// displayName is the file name as errors print it: sanitised, bounded.
func displayName(name string) string {
	if name == "" {
		return "input"
	}
	return clean(name, 512)
}

// parser carries what every format's reader needs for errors and
// cancellation.
type parser struct {
	ctx    context.Context
	name   string
	format lit.Format
	// docs counts documents made so far, to stop early past MaxDocuments.
	docs int
	// utf16: the input was UTF-16, already transcoded (an XML declaration
	// saying "UTF-16" is then no longer true).
	utf16 bool
}

// errf is an Invalid error naming the file, the format and (if > 0) the line.
func (p *parser) errf(line int, format string, args ...any) error {
	where := p.name + ": " + string(p.format)
	if line > 0 {
		where += fmt.Sprintf(": line %d", line)
	}
	return errors.E(errors.Invalid, errors.Msg(where+": "+clean(fmt.Sprintf(format, args...), 1024)))
}

// more counts one more document and fails past MaxDocuments or when the
// context has ended.
func (p *parser) more() error {
	p.docs++
	if p.docs > MaxDocuments {
		return errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf("%s: %s: holds more than %d documents, the most one file may hold", p.name, p.format, MaxDocuments)))
	}
	if p.docs%64 == 0 {
		if err := p.ctx.Err(); err != nil {
			return errors.E(err)
		}
	}
	return nil
}
