package library

import (
	"os"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/lit"
)

// noSpace is s without white space.
func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

// FuzzSplit: whatever the text, passages are non-empty, at most
// MaxPassageBytes, valid UTF-8, free of control characters but newlines,
// in order, with unique stable IDs, and together hold exactly the text's
// non-space characters in order (nothing lost, nothing invented).
func FuzzSplit(f *testing.F) {
	b, err := os.ReadFile("testdata/paragraphs.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range strings.Split(string(b), "\n\n") {
		f.Add("Title", p, "Results", p)
	}
	f.Add("", "", "", "")
	f.Add("T\x00", "\xff\xfe bad", "H", "a.b. C")
	f.Fuzz(func(t *testing.T, title, abstract, heading, para string) {
		d := &lit.Document{Title: title, Abstract: abstract, Sections: []lit.Section{{Heading: heading, Paragraphs: []string{para, para}}},
			Captions: []lit.Caption{{Label: "Figure 1", Text: para}}}
		sanitize(d)
		ps := split(d, "doi:10.1/x")
		again := split(d, "doi:10.1/x")
		seen := map[string]bool{}
		var got strings.Builder
		for i, p := range ps {
			if p.Text == "" || len(p.Text) > MaxPassageBytes || !utf8.ValidString(p.Text) {
				t.Fatalf("passage %d: %d bytes, valid %v: %q", i, len(p.Text), utf8.ValidString(p.Text), p.Text)
			}
			for _, r := range p.Text {
				if r < 0x20 && r != '\n' && r != '\t' || r == 0x7f {
					t.Fatalf("passage %d has control character %U", i, r)
				}
			}
			if p.Ordinal != i || seen[p.ID] || !strings.HasPrefix(p.ID, "psg_") || again[i].ID != p.ID {
				t.Fatalf("passage %d: ordinal %d, id %s (seen %v, again %s)", i, p.Ordinal, p.ID, seen[p.ID], again[i].ID)
			}
			seen[p.ID] = true
			got.WriteString(p.Text)
		}
		want := d.Title + d.Abstract
		for _, s := range d.Sections {
			for _, p := range s.Paragraphs {
				want += p
			}
		}
		for _, c := range d.Captions {
			want += c.Text
		}
		if noSpace(got.String()) != noSpace(want) {
			t.Fatalf("passages do not hold the text:\n got %q\nwant %q", noSpace(got.String()), noSpace(want))
		}
	})
}
