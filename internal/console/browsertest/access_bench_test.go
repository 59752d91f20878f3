package browsertest

import (
	"bytes"
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta/metatest"
)

var benchAssets = flag.Int("console.n", 10000, "assets in the whole-system console benchmark's catalog (the issue's target is 100,000)")

// BenchmarkSystemPages times the console's pages on a whole Genesis
// (genesis up's services: challenges, campaigns, sites, instruments and
// the audit log, which the import fills with a record per asset) holding
// -console.n imported datasets, a tenth PROPRIETARY, as the first
// administrator (cleared for OPEN only, so a tenth is hidden; an audit
// reader, so the dashboard shows activity). It reports p50/p95 of the
// server round trip in milliseconds.
//
//	nice go test ./internal/console/browsertest -run XXX -bench SystemPages -console.n 100000 -timeout 60m
func BenchmarkSystemPages(b *testing.B) {
	sys := Boot(b)
	ctx := context.Background()
	// Cleared for PROPRIETARY to import, then back to OPEN to look.
	if _, err := sys.App.Identity.SetClearance(ctx, "admin", "PROPRIETARY"); err != nil {
		b.Fatal(err)
	}
	admin := sys.Admin(b)
	n := *benchAssets
	start := time.Now()
	for _, part := range []struct {
		n             int
		label, prefix string
	}{{n - n/10, "OPEN", "BENCH-"}, {n / 10, "PROPRIETARY", "PROP-"}} {
		// In slices of 10,000: one import is one bounded request.
		for lo := 0; lo < part.n; lo += 10000 {
			k := min(10000, part.n-lo)
			doc := bytes.ReplaceAll(metatest.DataJSON(k), []byte("BENCH-"), []byte(part.prefix+itoa(lo)+"-"))
			sum, err := sys.App.Catalog.Import(ctx, admin, bytes.NewReader(doc), catalog.ImportSpec{Label: part.label})
			if err != nil {
				b.Fatalf("import %s: %v", part.label, err)
			}
			if len(sum.Imported) != k {
				b.Fatalf("import %s: %d imported of %d: %v", part.label, len(sum.Imported), k, sum.Rejected[:min(3, len(sum.Rejected))])
			}
		}
	}
	if _, err := sys.App.Identity.SetClearance(ctx, "admin", "OPEN"); err != nil {
		b.Fatal(err)
	}
	b.Logf("imported %d assets in %s", n, time.Since(start).Round(time.Second))
	c := signedInClient(b, sys.URL, sys.AdminToken)
	for _, p := range []struct{ name, path string }{
		{"dashboard", "/"},
		{"search-text", "/search?q=" + url.QueryEscape("surface observations")},
		{"search-rare", "/search?q=" + url.QueryEscape("station 000042")},
		{"search-browse", "/search"},
		{"search-facet", "/search?q=temperature&keyword=" + url.QueryEscape("air temperature")},
	} {
		b.Run(p.name, func(b *testing.B) {
			var ds []time.Duration
			for b.Loop() {
				t0 := time.Now()
				res, err := c.Get(sys.URL + p.path)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", p.path, res.StatusCode)
				}
				ds = append(ds, time.Since(t0))
			}
			slices.Sort(ds)
			q := func(f float64) float64 { return float64(ds[int(f*float64(len(ds)-1))]) / 1e6 }
			b.ReportMetric(q(0.5), "p50-ms")
			b.ReportMetric(q(0.95), "p95-ms")
		})
	}
}

func itoa(i int) string { return string(rune('a'+i/10000%26)) + string(rune('a'+i/260000%26)) }

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signedInClient signs in at base with an API token through the sign-in
// form, as a browser would, and returns the client holding the session.
func signedInClient(b testing.TB, base, token string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	res, err := c.Get(base + "/signin")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfInput.FindSubmatch(body)
	if m == nil {
		b.Fatalf("no CSRF token on the sign-in page")
	}
	req, _ := http.NewRequest("POST", base+"/signin", bytes.NewBufferString(url.Values{"csrf": {string(m[1])}, "token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	res, err = c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/" {
		b.Fatalf("sign-in ended at %s with %d", res.Request.URL, res.StatusCode)
	}
	return c
}
