package cli

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseWhen checks the --from/--until parser: "" gives the default; an
// accepted YYYY-MM-DD is UTC midnight of that day and formats back to the
// input; any other accepted time is RFC 3339 in years 0000-9999 whose
// RFC 3339 form parses back to the same instant. Errors are the time
// package's (the commands wrap them as Invalid) and grow only linearly.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{
		"", "2026-01-01", "2024-02-29", "2023-02-29", "2026-13-01", "0000-01-01", "9999-12-31", "10000-01-01",
		"2026-06-01T12:00:00Z", "2026-06-01T12:00:00.5+05:30", "2026-06-01T12:00:00", "2026-06-01 12:00:00Z",
		"2026-06-01T24:00:00Z", "2026-06-01T12:00:00+24:00", "2026-6-1", " 2026-01-01", "2026-01-01\n", "now",
		"@", "@@", "x@0", "x@-1", "x@v3", "x@latest", "２０２６-01-01", "\x00", strings.Repeat("9", 10000),
	} {
		f.Add(s, int64(0))
		f.Add(s, int64(1780000000))
	}
	f.Fuzz(func(t *testing.T, s string, defSec int64) {
		def := time.Unix(defSec, 0)
		got, err := parseWhen(s, def)
		if err != nil {
			if s == "" {
				t.Fatalf("parseWhen(\"\"): %v", err)
			}
			if len(err.Error()) > 8*len(s)+256 { // the input, quoted, at most twice
				t.Fatalf("parseWhen(%.100q): %d-byte error", s, len(err.Error()))
			}
			return
		}
		if s == "" {
			if !got.Equal(def) {
				t.Fatalf("parseWhen(\"\") = %v, want the default %v", got, def)
			}
			return
		}
		if y := got.Year(); y < 0 || y > 9999 {
			t.Fatalf("parseWhen(%q) = %v: year %d", s, got, y)
		}
		if d := got.Format("2006-01-02"); d == s {
			if got.Location() != time.UTC || !got.Equal(got.Truncate(24*time.Hour)) {
				t.Fatalf("parseWhen(%q) = %v, want UTC midnight", s, got)
			}
			return
		}
		canon := got.Format(time.RFC3339Nano)
		if back, err := parseWhen(canon, def); err != nil || !back.Equal(got) {
			t.Fatalf("parseWhen(%q) = %v; its RFC 3339 form %q gives %v, %v", s, got, canon, back, err)
		}
	})
}
