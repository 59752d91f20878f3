package formats

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	gerrors "github.com/genesis-science/genesis/internal/errors"

	"github.com/genesis-science/genesis/internal/lit"
)

// PDF text comes from poppler's pdftotext (Debian package poppler-utils):
// a mature extractor that handles fonts, encodings and multi-column
// reading order far better than any pure-Go PDF library, run as a
// subprocess so a hostile PDF can crash or hang only that process. It is
// run with -bbox-layout: the same reading order as its default mode (flows
// of text across columns, unlike -raw, which keeps content-stream order
// and interleaves headers and footnotes, or -layout, which keeps columns
// side by side on each line), but with the text blocks it found marked, so
// paragraphs are its blocks instead of a guess from blank lines (the
// default mode prints none between paragraphs of one column). The XHTML
// is read as a stream; only the words are kept. Its <title> is the
// document-information Title, preferred to the first line when it is not
// a placeholder.
const (
	// PDFTimeout bounds one pdftotext run.
	PDFTimeout = 2 * time.Minute
	// maxPDFText bounds the text kept from pdftotext.
	maxPDFText = 32 << 20
	// maxPDFMarkup bounds the XHTML read from pdftotext (about 15 bytes
	// of markup per byte of text).
	maxPDFMarkup = 1 << 30
	// pdfMemoryKiB bounds pdftotext's address space (ulimit -v).
	pdfMemoryKiB = 2 << 20
)

// pdfTimeout is PDFTimeout; a test shortens it.
var pdfTimeout = PDFTimeout

// ErrNoPDFTool is returned (wrapped) when pdftotext is not installed.
var ErrNoPDFTool = errors.New("pdftotext (poppler-utils) is not installed")

// PDFToolPath is the pdftotext binary looked up on PATH; "" when absent.
func PDFToolPath() string {
	p, err := exec.LookPath("pdftotext")
	if err != nil {
		return ""
	}
	return p
}

func (p *parser) pdf(data []byte) ([]lit.Document, error) {
	if !bytes.HasPrefix(bytes.TrimLeft(data, "\x00\t\r\n "), []byte("%PDF-")) && !bytes.Contains(data[:min(len(data), 1024)], []byte("%PDF-")) {
		return nil, p.errf(0, "not a PDF file (no %%PDF- header)")
	}
	tool := PDFToolPath()
	if tool == "" {
		return nil, p.wrapErr(ErrNoPDFTool)
	}
	// pdftotext needs a seekable file: the PDF goes to a private temp file.
	f, err := os.CreateTemp("", "genesis-pdf-*.pdf")
	if err != nil {
		return nil, fmt.Errorf("pdf: temp file: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return nil, fmt.Errorf("pdf: temp file: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("pdf: temp file: %w", err)
	}
	lines, title, err := pdfText(p.ctx, tool, f.Name())
	if err != nil {
		if p.ctx.Err() != nil {
			return nil, p.ctx.Err()
		}
		return nil, p.errf(0, "pdftotext could not read it: %v", err)
	}
	if strings.TrimSpace(strings.Join(lines, "")) == "" {
		return nil, p.errf(0, "no text in the PDF (a scanned image? OCR is not done)")
	}
	if err := p.more(); err != nil {
		return nil, err
	}
	return []lit.Document{prose(strings.Join(joinContinued(lines), "\n"), usableTitle(title))}, nil
}

// pdfText runs pdftotext -bbox-layout on file and returns the text as
// lines, a blank line after each block, and the document title.
func pdfText(ctx context.Context, tool, file string) (lines []string, title string, err error) {
	ctx, cancel := context.WithTimeout(ctx, pdfTimeout)
	defer cancel()
	args := []string{"-q", "-bbox-layout", "-enc", "UTF-8", file, "-"}
	cmd := exec.CommandContext(ctx, tool, args...)
	if _, err := os.Stat("/bin/sh"); err == nil {
		// Bounded memory and CPU for the extractor: a hostile PDF may
		// exhaust them only up to the limits. The tool and arguments
		// are passed as positional parameters, never interpreted.
		script := fmt.Sprintf("ulimit -v %d 2>/dev/null; ulimit -t %d 2>/dev/null; exec \"$0\" \"$@\"", pdfMemoryKiB, max(1, int(pdfTimeout.Seconds())))
		cmd = exec.CommandContext(ctx, "/bin/sh", append([]string{"-c", script, tool}, args...)...)
	}
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	cmd.WaitDelay = 5 * time.Second // a killed tool's leftover children cannot hold us
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	lines, title, rerr := readBBox(io.LimitReader(stdout, maxPDFMarkup))
	if rerr != nil {
		_ = cmd.Process.Kill()
	}
	io.Copy(io.Discard, stdout)
	werr := cmd.Wait()
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		return nil, "", fmt.Errorf("gave up after %v", pdfTimeout)
	case werr != nil:
		msg := strings.TrimSpace(firstLine(stderr.String()))
		if msg == "" {
			msg = werr.Error()
		}
		return nil, "", errors.New(clean(msg, 256))
	case rerr != nil:
		return nil, "", rerr
	}
	return lines, title, nil
}

// joinContinued removes the block break between a block that stops
// mid-sentence (its last line ends in a lower-case letter, a comma or a
// hyphen) and one that goes on in lower case: a paragraph that a column
// or page break cut in two.
func joinContinued(lines []string) []string {
	out := lines[:0]
	for i := 0; i < len(lines); i++ {
		if lines[i] == "" && len(out) > 0 {
			j := i
			for j < len(lines) && lines[j] == "" {
				j++
			}
			if j < len(lines) && midSentence(out[len(out)-1]) && startsLower(lines[j]) {
				i = j - 1
				continue
			}
		}
		out = append(out, lines[i])
	}
	return out
}

func midSentence(line string) bool {
	r, _ := utf8.DecodeLastRuneInString(strings.TrimSpace(line))
	return r == ',' || r == '-' || unicode.IsLower(r)
}

// readBBox reads pdftotext's -bbox-layout XHTML: words joined into lines,
// a blank line ending each block and page.
func readBBox(r io.Reader) (lines []string, title string, err error) {
	d := xml.NewDecoder(r)
	d.Strict = false
	d.Entity = xml.HTMLEntity
	var line strings.Builder
	var inWord, inTitle bool
	size := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, "", fmt.Errorf("reading its output: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch t.Name.Local {
			case "word":
				inWord = true
				if line.Len() > 0 {
					line.WriteByte(' ')
				}
			case "title":
				inTitle = true
			}
		case xml.EndElement:
			switch t.Name.Local {
			case "word":
				inWord = false
			case "title":
				inTitle = false
			case "line":
				size += line.Len() + 1
				lines = append(lines, line.String())
				line.Reset()
			case "block", "page":
				lines = append(lines, "")
			}
		case xml.CharData:
			switch {
			case inWord:
				line.Write(t)
			case inTitle && len(title) < MaxTitleBytes:
				title += string(t)
			}
		}
		if size > maxPDFText {
			return nil, "", fmt.Errorf("more than %d MiB of text", maxPDFText>>20)
		}
	}
	return lines, title, nil
}

func (p *parser) wrapErr(err error) error {
	return gerrors.E(gerrors.Unavailable, gerrors.Msg(p.name+": "+string(p.format)+": "+err.Error()), err)
}

func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			return l
		}
	}
	return ""
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(b []byte) (int, error) {
	if l.n > 0 {
		k := min(len(b), l.n)
		l.w.Write(b[:k])
		l.n -= k
	}
	return len(b), nil
}

// usableTitle returns the document-information title, or "" when it is
// empty or a placeholder a word processor left ("Microsoft Word - x.doc").
func usableTitle(t string) string {
	t = clean(t, MaxTitleBytes)
	lt := strings.ToLower(t)
	if lt == "untitled" || strings.HasPrefix(lt, "microsoft word") || strings.HasPrefix(lt, "microsoft powerpoint") {
		return ""
	}
	for _, ext := range []string{".pdf", ".doc", ".docx", ".dvi", ".tex", ".ps", ".indd", ".odt"} {
		if strings.HasSuffix(lt, ext) {
			return ""
		}
	}
	return t
}
