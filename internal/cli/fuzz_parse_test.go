package cli

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseWhen checks the --from/--until parser: "" gives the default; an
// accepted YYYY-MM-DD is UTC midnight of that day and formats back to the
// input; now, today, tomorrow and Nh/Nd/Nw are what they say, counted
// from now; any other accepted time is RFC 3339 in years 0000-9999 whose
// RFC 3339 form parses back to the same instant. Errors name the input
// and the accepted forms, and grow only linearly.
func FuzzParseWhen(f *testing.F) {
	for _, s := range []string{
		"", "2026-01-01", "2024-02-29", "2023-02-29", "2026-13-01", "0000-01-01", "9999-12-31", "10000-01-01",
		"2026-06-01T12:00:00Z", "2026-06-01T12:00:00.5+05:30", "2026-06-01T12:00:00", "2026-06-01 12:00:00Z",
		"2026-06-01T24:00:00Z", "2026-06-01T12:00:00+24:00", "2026-6-1", " 2026-01-01", "2026-01-01\n", "now",
		"today", "tomorrow", "Tomorrow", "30d", "+2w", "12h", "0d", "9999999w", "30 d", "-3d", "1y", "@", "@@", "x@0", "x@-1", "x@v3", "x@latest", "２０２６-01-01", "\x00", strings.Repeat("9", 10000),
	} {
		f.Add(s, int64(0))
		f.Add(s, int64(1780000000))
	}
	now := time.Date(2026, 12, 7, 1, 30, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string, defSec int64) {
		def := time.Unix(defSec, 0)
		got, err := parseWhen(s, def, now)
		if err != nil {
			if s == "" {
				t.Fatalf("parseWhen(\"\"): %v", err)
			}
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("parseWhen(%.100q): error %q does not name the input", s, err)
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
		midnight := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
		if want, ok := map[string]time.Time{"now": now, "today": midnight, "tomorrow": midnight.AddDate(0, 0, 1)}[s]; ok {
			if !got.Equal(want) {
				t.Fatalf("parseWhen(%q) = %v, want %v", s, got, want)
			}
			return
		}
		if m := relativeWhen.FindStringSubmatch(s); m != nil {
			n, _ := strconv.Atoi(m[1])
			days := map[string]int{"d": n, "w": 7 * n}[m[2]]
			if want := now.Add(time.Duration(n) * time.Hour); m[2] == "h" && !got.Equal(want) || m[2] != "h" && !got.Equal(now.AddDate(0, 0, days)) {
				t.Fatalf("parseWhen(%q) = %v, not %s from %v", s, got, s, now)
			}
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
		if back, err := parseWhen(canon, def, now); err != nil || !back.Equal(got) {
			t.Fatalf("parseWhen(%q) = %v; its RFC 3339 form %q gives %v, %v", s, got, canon, back, err)
		}
	})
}
