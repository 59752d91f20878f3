package formats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	gerrors "github.com/genesis-science/genesis/internal/errors"

	"github.com/genesis-science/genesis/internal/lit"
)

// PDF text comes from poppler's pdftotext (Debian package poppler-utils):
// a mature extractor that handles fonts, encodings and multi-column
// reading order far better than any pure-Go PDF library, run as a
// subprocess so a hostile PDF can crash or hang only that process. Its
// default mode (not -layout, not -raw) is used: it orders text by reading
// order across columns and separates paragraphs with blank lines, where
// -layout keeps columns side by side on one line and -raw keeps content
// stream order, which interleaves headers and footnotes.
const (
	// PDFTimeout bounds one pdftotext (and pdfinfo) run.
	PDFTimeout = 2 * time.Minute
	// maxPDFText bounds the text read from pdftotext.
	maxPDFText = 32 << 20
)

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
	out, err := runBounded(p.ctx, maxPDFText, tool, "-q", "-enc", "UTF-8", f.Name(), "-")
	if err != nil {
		if p.ctx.Err() != nil {
			return nil, p.ctx.Err()
		}
		return nil, p.errf(0, "pdftotext could not read it: %v", err)
	}
	if strings.TrimSpace(strings.ReplaceAll(string(out), "\f", "")) == "" {
		return nil, p.errf(0, "no text in the PDF (a scanned image? OCR is not done)")
	}
	title := pdfTitle(p.ctx, f.Name())
	if err := p.more(); err != nil {
		return nil, err
	}
	return []lit.Document{prose(textLines(out), title)}, nil
}

// wrapErr reports a missing tool: the server is not set up for PDFs, the
// file is not at fault.
func (p *parser) wrapErr(err error) error {
	return gerrors.E(gerrors.Unavailable, gerrors.Msg(p.name+": "+string(p.format)+": "+err.Error()), err)
}

// runBounded runs name with args and returns its standard output, at most
// max bytes (more is an error), killing it after PDFTimeout.
func runBounded(ctx context.Context, max int, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, PDFTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}
	var stderr bytes.Buffer
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	out, rerr := io.ReadAll(io.LimitReader(stdout, int64(max)+1))
	if len(out) > max {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("more than %d MiB of text", max>>20)
	}
	werr := cmd.Wait()
	if ctx.Err() == context.DeadlineExceeded {
		return nil, fmt.Errorf("gave up after %v", PDFTimeout)
	}
	if werr != nil {
		msg := strings.TrimSpace(firstLine(stderr.String()))
		if msg == "" {
			msg = werr.Error()
		}
		return nil, errors.New(clean(msg, 256))
	}
	if rerr != nil {
		return nil, rerr
	}
	return out, nil
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

// pdfTitle returns the document-information Title from pdfinfo, or "" if
// pdfinfo is missing, fails, or the title is a placeholder.
func pdfTitle(ctx context.Context, file string) string {
	tool, err := exec.LookPath("pdfinfo")
	if err != nil {
		return ""
	}
	out, err := runBounded(ctx, 1<<20, tool, "-enc", "UTF-8", file)
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(l, "Title:"); ok {
			t := clean(v, MaxTitleBytes)
			lt := strings.ToLower(t)
			if t == "" || lt == "untitled" || strings.HasPrefix(lt, "microsoft word") || strings.HasSuffix(lt, ".pdf") ||
				strings.HasSuffix(lt, ".doc") || strings.HasSuffix(lt, ".docx") || strings.HasSuffix(lt, ".dvi") || strings.HasSuffix(lt, ".tex") {
				return ""
			}
			return t
		}
	}
	return ""
}
