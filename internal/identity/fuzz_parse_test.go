package identity_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/label"
)

// FuzzParseClearance checks that an accepted clearance marking holds no
// agreements, has the level of the marking, and that its canonical marking
// (label.Label.Format of its level and compartments) parses back to the same
// clearance; a rejection is Invalid, names the field and says why.
func FuzzParseClearance(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""}, {"OPEN", "USA"}, {"PROPRIETARY//FUSION", "USA"}, {"NATIONAL-SECURITY//FUSION/ITAR", "GBR"},
		{"proprietary//fusion/ fusion ", "usa"}, {"OPEN//AGR:CRADA-1", "USA"}, {"OPEN//REL TO USA", "USA"},
		{"OPEN//REL TO NONE", ""}, {"SECRET", "USA"}, {"OPEN//", ""}, {"OPEN////X", ""}, {"//", ""},
		{"@", "@@"}, {"x@0", "x@-1"}, {"OPEN//X", "US"}, {"OPEN//X", "USAA"}, {"OPEN//X", "ÅLA"},
		{"OPEN//\x00", "\x00\x00\x00"}, {"OPEN//ÅNGSTRÖM", "USA"}, {"PROPRIETARY//A/B/C/A", " usa "},
		{"OPEN//" + strings.Repeat("A/", 300) + "B", "USA"}, {strings.Repeat("O", label.MaxMarkingLen+1), ""},
		{"OPEN//" + strings.Repeat("é", 40000), ""}, {"\xff\xfe", "\xff"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, marking, nationality string) {
		c, err := identity.ParseClearance(marking, nationality)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "clearance" || errors.SafeMessage(err) == "" {
				t.Fatalf("ParseClearance(%q, %q): %v (kind %v, field %q)", marking, nationality, err, errors.KindOf(err), errors.FieldOf(err))
			}
			if n := len(errors.SafeMessage(err)); n > 2*label.MaxMarkingLen+1024 {
				t.Fatalf("ParseClearance: %d-byte message", n)
			}
			return
		}
		m := marking
		if m == "" {
			m = "OPEN"
		}
		l, err := label.Parse(m)
		if err != nil {
			t.Fatalf("ParseClearance(%q) accepted a marking label.Parse rejects: %v", marking, err)
		}
		if c.Level() != l.Level() || !slices.Equal(c.Compartments(), l.Compartments()) || len(c.Agreements()) != 0 {
			t.Fatalf("ParseClearance(%q) = %v %v %v; marking has %v %v", marking, c.Level(), c.Compartments(), c.Agreements(), l.Level(), l.Compartments())
		}
		canon, err := label.New(c.Level(), c.Compartments(), nil)
		if err != nil {
			t.Fatalf("label.New(%v, %v): %v", c.Level(), c.Compartments(), err)
		}
		back, err := identity.ParseClearance(canon.Format(), c.Nationality())
		if err != nil {
			t.Fatalf("canonical marking %q, %q does not re-parse: %v", canon.Format(), c.Nationality(), err)
		}
		if back.Level() != c.Level() || !slices.Equal(back.Compartments(), c.Compartments()) || back.Nationality() != c.Nationality() {
			t.Fatalf("ParseClearance(%q, %q) = %v %v %q; re-parsed %q = %v %v %q", marking, nationality,
				c.Level(), c.Compartments(), c.Nationality(), canon.Format(), back.Level(), back.Compartments(), back.Nationality())
		}
		if nationality == "" && c.Nationality() != "" {
			t.Fatalf("nationality %q from an empty one", c.Nationality())
		}
	})
}
