package report_test

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission/report"
)

func seeds(f *testing.F, name string) {
	fh, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		f.Add(sc.Text())
	}
}

// FuzzParseYear: an accepted year is exactly the four-digit number in
// range; a refused one is Invalid naming the field.
func FuzzParseYear(f *testing.F) {
	seeds(f, "years.txt")
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		y, err := report.ParseYear(s, now)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "year" {
				t.Fatalf("%q: %v", s, err)
			}
			if n, e := strconv.Atoi(s); e == nil && len(s) == 4 && n >= report.MinYear && n <= report.MaxYear && !strings.ContainsAny(s, "+-") {
				t.Fatalf("%q refused: %v", s, err)
			}
			return
		}
		if s == "" {
			if y != 2026 {
				t.Fatalf("empty year is %d", y)
			}
			return
		}
		if strconv.Itoa(y) != s || y < report.MinYear || y > report.MaxYear {
			t.Fatalf("%q read as %d", s, y)
		}
	})
}

// FuzzFormatOf: the format follows the extension, case aside; anything
// else is Invalid naming the out field, with a printable message.
func FuzzFormatOf(f *testing.F) {
	seeds(f, "outs.txt")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := report.FormatOf(s)
		ext := strings.ToLower(filepath.Ext(s))
		want := map[string]string{".html": "html", ".htm": "html", ".pdf": "pdf"}[ext]
		if want == "" {
			if err == nil || !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "out" {
				t.Fatalf("%q: %q, %v", s, got, err)
			}
			if msg := err.Error(); !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x00\x1b\n") {
				t.Fatalf("%q: unprintable message %q", s, msg)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("%q: %q, %v; want %q", s, got, err, want)
		}
	})
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]string{"": "html", "html": "html", "pdf": "pdf"} {
		if got, err := report.ParseFormat(in); err != nil || got != want {
			t.Errorf("%q: %q %v", in, got, err)
		}
	}
	for _, in := range []string{"PDF", "docx", "html ", "\x00"} {
		if _, err := report.ParseFormat(in); err == nil || errors.FieldOf(err) != "format" {
			t.Errorf("%q: %v", in, err)
		}
	}
}
