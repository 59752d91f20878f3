package search

import (
	"strings"
	"testing"
)

// FuzzFacetCounts checks the facet-count text format against a map model:
// decoding arbitrary (possibly corrupt) text never panics and yields only
// the well-formed lines; encode then decode gives back exactly the non-zero
// entries of a map whose facets are the package's facet names and whose
// values are arbitrary; and re-encoding what was decoded is a fixed point.
func FuzzFacetCounts(f *testing.F) {
	f.Add("", "plain", "tab\there", int64(3), int64(1), uint8(0))
	f.Add("keyword\tplain\t3\norg\tnew\\nline\t2\n", "new\nline", `back\slash\t`, int64(5), int64(0), uint8(1))
	f.Add("domain\t\\\\t\t-9223372036854775808\n\n\t\t\n", "", `\`, int64(-1), int64(1<<62), uint8(2))
	f.Add("kind\tx\t9223372036854775808\nkind\tx\t1e3\nkind\tx\n\tx\t1\n", "\\n", "\\\\n", int64(7), int64(7), uint8(3))
	f.Add("k\tv\t+3\r\nk\tv\t 4\nk\tv\\\t5", "ü\x00\xff", "@@", int64(1), int64(-1), uint8(255))
	f.Add(strings.Repeat("keyword\tv\t1\n", 100), strings.Repeat("\\t", 200), "x@v3", int64(1), int64(2), uint8(7))
	facets := []string{FacetDomain, FacetKind, FacetOrg, FacetKeyword}
	f.Fuzz(func(t *testing.T, text, v1, v2 string, n1, n2 int64, which uint8) {
		// Arbitrary text: every reported line is well formed.
		lines := 0
		got := map[[2]string]int64{}
		decodeFacetCounts(text, func(facet, value string, n int64) {
			lines++
			if strings.ContainsAny(facet, "\t\n") {
				t.Fatalf("decode(%q): facet %q", text, facet)
			}
			got[[2]string{facet, value}] += n
		})
		if lines > strings.Count(text, "\n")+1 {
			t.Fatalf("decode(%q): %d entries from fewer lines", text, lines)
		}
		// Its sum re-encodes to a fixed point (facets from stored text may
		// be anything decode accepted).
		enc := encodeFacetCounts(got)
		if again := encodeFacetCounts(decodeAll(t, enc)); again != enc {
			t.Fatalf("decode(%q) re-encodes to %q, then %q", text, enc, again)
		}

		// Model: a map with the package's facet names and arbitrary values.
		model := map[[2]string]int64{}
		for k, n := range got {
			model[[2]string{facets[int(which)%len(facets)], k[1]}] += n
		}
		model[[2]string{facets[int(which)%len(facets)], v1}] += n1
		model[[2]string{facets[int(which/4)%len(facets)], v2}] += n2
		back := decodeAll(t, encodeFacetCounts(model))
		for k, n := range model {
			if n != 0 && back[k] != n {
				t.Fatalf("%q: encoded %d, decoded %d", k, n, back[k])
			}
		}
		for k, n := range back {
			if model[k] != n || n == 0 {
				t.Fatalf("%q: decoded %d, encoded %d", k, n, model[k])
			}
		}
	})
}

// decodeAll decodes s into a map, failing on a key reported twice.
func decodeAll(t *testing.T, s string) map[[2]string]int64 {
	m := map[[2]string]int64{}
	decodeFacetCounts(s, func(facet, value string, n int64) {
		k := [2]string{facet, value}
		if _, dup := m[k]; dup {
			t.Fatalf("decode(%q): %q twice", s, k)
		}
		m[k] = n
	})
	return m
}
