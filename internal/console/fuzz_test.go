package console

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog/search"
)

// FuzzHighlight: splitting a snippet at its highlight spans loses and
// invents nothing, whatever the spans (the search index's, or corrupt).
// Seeds: testdata/fuzz/FuzzHighlight.
func FuzzHighlight(f *testing.F) {
	f.Add("shot 42 of the tokamak", 0, 4, 16, 23)
	f.Fuzz(func(t *testing.T, text string, a, b, c, d int) {
		spans := []search.Span{{Start: a, End: b}, {Start: c, End: d}}
		segs := highlight(text, spans)
		var got strings.Builder
		hits := 0
		for _, s := range segs {
			if s.Text == "" {
				t.Fatalf("empty segment in %+v", segs)
			}
			got.WriteString(s.Text)
			if s.Hit {
				hits++
			}
		}
		if got.String() != text {
			t.Fatalf("segments %+v do not rebuild %q", segs, text)
		}
		// A hit is exactly a valid span, taken in order.
		valid, at := 0, 0
		for _, s := range spans {
			if s.Start >= at && s.End > s.Start && s.End <= len(text) {
				valid++
				at = s.End
			}
		}
		if hits != valid {
			t.Fatalf("%d hits for %d valid spans %+v of %q", hits, valid, spans, text)
		}
	})
}

// FuzzSameSite: a POST passes the cross-site check only when the
// browser's headers say this origin (or say nothing).
// Seeds: testdata/fuzz/FuzzSameSite.
func FuzzSameSite(f *testing.F) {
	f.Add("http://genesis.test", "same-origin")
	f.Fuzz(func(t *testing.T, origin, site string) {
		r := httptest.NewRequest("POST", "http://genesis.test/signout", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Sec-Fetch-Site", site)
		err := sameSite(r)
		okSite := site == "" || site == "same-origin" || site == "none"
		okOrigin := origin == "" || origin == "http://genesis.test" || origin == "https://genesis.test" || strings.EqualFold(origin, "http://GENESIS.test")
		if err == nil && !okSite {
			t.Fatalf("Sec-Fetch-Site %q passed", site)
		}
		if err == nil && origin != "" {
			// Whatever passed names this host exactly (not a suffix,
			// not userinfo).
			if u, err := url.Parse(origin); err != nil || !strings.EqualFold(u.Host, "genesis.test") {
				t.Fatalf("Origin %q passed", origin)
			}
		}
		if okSite && okOrigin && err != nil {
			t.Fatalf("same-origin post refused: %q %q: %v", origin, site, err)
		}
	})
}

// FuzzValidSecret: only the shape randomSecret makes is looked up.
// Seeds: testdata/fuzz/FuzzValidSecret.
func FuzzValidSecret(f *testing.F) {
	f.Add(randomSecret())
	f.Fuzz(func(t *testing.T, s string) {
		if validSecret(s) && (len(s) != 43 || strings.ContainsAny(s, "=+/ \x00")) {
			t.Fatalf("%q accepted", s)
		}
	})
}
