package report

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

// ParseYear reads the year a report covers: "" is the year of now (UTC),
// otherwise four digits between MinYear and MaxYear.
func ParseYear(s string, now time.Time) (int, error) {
	const op errors.Op = "report.ParseYear"
	if s == "" {
		return now.UTC().Year(), nil
	}
	bad := errors.E(op, errors.Invalid, errors.Field("year"), errors.Msg(fmt.Sprintf("the year must be four digits between %d and %d", MinYear, MaxYear)))
	if len(s) != 4 {
		return 0, bad
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, bad
		}
	}
	y, _ := strconv.Atoi(s)
	if y < MinYear || y > MaxYear {
		return 0, bad
	}
	return y, nil
}

// ParseFormat reads a report format: "" is html.
func ParseFormat(s string) (string, error) {
	switch s {
	case "", FormatHTML:
		return FormatHTML, nil
	case FormatPDF:
		return FormatPDF, nil
	}
	return "", errors.E(errors.Op("report.ParseFormat"), errors.Invalid, errors.Field("format"), errors.Msg("the report format must be html or pdf"))
}

// FormatOf returns the format a file name asks for by its extension:
// .html or .htm is html, .pdf is pdf (any case); anything else is
// errors.Invalid naming the extension.
func FormatOf(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".html", ".htm":
		return FormatHTML, nil
	case ".pdf":
		return FormatPDF, nil
	case "":
		return "", errors.E(errors.Op("report.FormatOf"), errors.Invalid, errors.Field("out"), errors.Msg("the output file needs an extension: .html or .pdf"))
	default:
		return "", errors.E(errors.Op("report.FormatOf"), errors.Invalid, errors.Field("out"), errors.Msg(fmt.Sprintf("cannot write a report as %q: the output file must end in .html or .pdf", clipExt(ext))))
	}
}

func clipExt(ext string) string {
	ext = sanitize(ext)
	if len(ext) > 16 {
		ext = ext[:16] + "…"
	}
	return strings.ToValidUTF8(ext, "")
}
