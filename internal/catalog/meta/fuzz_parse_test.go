package meta

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseDate checks that an accepted date is a real instant in years
// 0000-9999 that survives its RFC 3339 formatting (the fullest form ParseDate
// accepts): re-parsing gives the same instant, and a date-only input formats
// back to the same YYYY[-MM[-DD]] text.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"", "2024", "2024-02", "2024-02-29", "2023-02-29", "2024-13", "2024-00-01", "0000", "9999-12-31",
		"10000", "-001", "2024-06-01T12:30:00Z", "2024-06-01T12:30:00.123456789+05:45", "2024-06-01T12:30:00",
		"2024-06-01T12:30", "2024-06-01T24:00:00Z", "2024-06-01T23:59:60Z", "2024-06-01t12:30:00z",
		"2024-06-01T12:30:00+24:00", "2024-06-01T12:30:00-23:59", " 2024", "2024\n", "２０２４", "x@v3", "@@",
		"2024-06-01T12:30:00." + strings.Repeat("9", 40) + "Z", strings.Repeat("2", 5000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDate(s)
		if !ok {
			if !d.IsZero() {
				t.Fatalf("ParseDate(%q) = %v, false", s, d)
			}
			return
		}
		if y := d.Year(); y < 0 || y > 9999 {
			t.Fatalf("ParseDate(%q): year %d", s, y)
		}
		canon := d.Format(time.RFC3339Nano)
		back, ok := ParseDate(canon)
		if !ok || !back.Equal(d) {
			t.Fatalf("ParseDate(%q) = %v; its RFC 3339 form %q re-parses to %v, %v", s, d, canon, back, ok)
		}
		for _, layout := range []string{"2006", "2006-01", "2006-01-02"} {
			if len(s) == len(layout) && d.Format(layout) != s {
				if _, err := time.Parse(layout, s); err == nil {
					t.Fatalf("ParseDate(%q) = %v, which formats as %q", s, d, d.Format(layout))
				}
			}
		}
	})
}

// FuzzParseDomain checks that ParseDomain returns only known domains, that
// a domain's id parses to itself, and that the answer depends only on the
// letters and digits of the input, not on case outside ASCII-preserving
// changes, punctuation or spacing between words.
func FuzzParseDomain(f *testing.F) {
	for _, d := range Domains {
		f.Add(string(d))
	}
	for _, s := range []string{
		"", " ", "-", "QIS", "Quantum Information Science", "critical-minerals-materials", "Critical Minerals & Materials",
		"nuclear  fission/fusion", "AI", "a.i.", "ai!", "HPC", "semiconductors_and_microelectronics", "K", "\u212Ai",
		"ＡＩ", "énergie", "energy\x00", "@", "@@", "x@0", "other other", strings.Repeat("energy ", 2000),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := ParseDomain(s)
		if ok != d.Known() || !ok && d != "" && d.Known() {
			t.Fatalf("ParseDomain(%q) = %q, %v", s, d, ok)
		}
		if !ok {
			return
		}
		if again, ok := ParseDomain(string(d)); !ok || again != d {
			t.Fatalf("ParseDomain(%q) = %q, but ParseDomain(%q) = %q, %v", s, d, d, again, ok)
		}
		// Re-spelling the same words with other separators and ASCII case
		// gives the same domain.
		words := strings.Fields(phrase(s))
		for _, alt := range []string{strings.Join(words, "-"), strings.ToUpper(strings.Join(words, "_")), " " + strings.Join(words, " / ") + "."} {
			if got, ok := ParseDomain(alt); !ok || got != d {
				t.Fatalf("ParseDomain(%q) = %q, but ParseDomain(%q) = %q, %v", s, d, alt, got, ok)
			}
		}
	})
}
