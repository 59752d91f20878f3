package catalog_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
)

// FuzzParseRef checks ParseRef's contract: an accepted NAME[@VERSION] has a
// non-empty name without '@' or surrounding space, a version that is 0
// (latest) or positive, and a pinned ref round-trips through String; a
// rejected one is Invalid with a message the caller may see.
func FuzzParseRef(f *testing.F) {
	for _, s := range []string{
		"", " ", "@", "@@", "@1", "x", "x@", "x@0", "x@-1", "x@1", "x@v3", "x@V3",
		"x@latest", "x@LATEST", "x@@1", "x@1@2", " x @ 2 ", "x @3", "x@+3",
		"x@9223372036854775807", "x@9223372036854775808", "x@1e3", "x@0x10",
		"ångström@2", "a\x00b@1", "a\n@1", "\t@1", "x@v", "x@vv3", "x@" + strings.Repeat("9", 100),
		strings.Repeat("a", 1<<12) + "@7", "\xff\xfe@1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := catalog.ParseRef(s)
		if err != nil {
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("ParseRef(%q): error of kind %v, want invalid: %v", s, errors.KindOf(err), err)
			}
			if errors.SafeMessage(err) == "" {
				t.Fatalf("ParseRef(%q): error without a user-safe message: %v", s, err)
			}
			return
		}
		if r.Asset == "" || strings.Contains(r.Asset, "@") {
			t.Fatalf("ParseRef(%q): asset %q", s, r.Asset)
		}
		if r.Asset != strings.TrimSpace(r.Asset) || utf8.RuneCountInString(r.Asset) > utf8.RuneCountInString(s) {
			t.Fatalf("ParseRef(%q): asset %q not trimmed or longer than its input", s, r.Asset)
		}
		if !strings.Contains(s, r.Asset) {
			t.Fatalf("ParseRef(%q): asset %q not taken from the input", s, r.Asset)
		}
		if r.Version < 0 {
			t.Fatalf("ParseRef(%q): negative version %d", s, r.Version)
		}
		if !strings.Contains(s, "@") && r.Version != 0 {
			t.Fatalf("ParseRef(%q): version %d without '@'", s, r.Version)
		}
		if r.Version > 0 {
			// What follows '@' is the version's digits (after an
			// optional 'v'), nothing else: no sign, no spaces.
			_, v, _ := strings.Cut(strings.TrimSpace(s), "@")
			if d := strings.TrimPrefix(v, "v"); strings.TrimLeft(d, "0123456789") != "" {
				t.Fatalf("ParseRef(%q): version %d from %q", s, r.Version, v)
			}
			back, err := catalog.ParseRef(r.String())
			if err != nil || back != r {
				t.Fatalf("ParseRef(%q) = %+v; ParseRef(%q) = %+v, %v", s, r, r.String(), back, err)
			}
		}
	})
}
