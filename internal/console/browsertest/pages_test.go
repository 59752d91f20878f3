package browsertest

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleEveryPageOnAPhone walks the console of a platform set up as
// genesis up sets it up (demo lab, campaign, challenges, datasets, models)
// as its administrator on a phone-sized screen: from every page of the
// navigation it follows the links to other pages (a few per kind), and
// every page it reaches must have a title, matching top and bottom
// banners, no sideways scrolling and no console error (the harness fails
// the test on any). Then the main pages are photographed on a laptop.
func TestConsoleEveryPageOnAPhone(t *testing.T) {
	s := Boot(t)
	if err := s.App.SetUpDemo(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := NewPage(t)
	p.Do("a phone-sized viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	p.SignIn(s.URL, s.AdminToken)

	queue := []string{"/", "/search?q=yield", "/campaigns", "/models", "/compute", "/labs", "/releases", "/audit", "/admin"}
	seen := map[string]bool{}
	perKind := map[string]int{}
	visited := 0
	for len(queue) > 0 {
		u := queue[0]
		queue = queue[1:]
		if seen[u] {
			continue
		}
		seen[u] = true
		p.Open(s.URL + u)
		visited++
		checkChrome(t, p, "", "")
		checkFitsWidth(t, p, u)
		if Eval[bool](p, `!!document.getElementById("not-found")`) {
			t.Errorf("%s, linked from the console, is the not-found page", u)
		}
		for _, href := range Eval[[]string](p, `Array.from(document.querySelectorAll("main a[href]")).map(a => a.getAttribute("href"))`) {
			next, kind, ok := pageLink(href)
			if !ok || seen[next] || perKind[kind] >= 3 {
				continue
			}
			perKind[kind]++
			queue = append(queue, next)
		}
	}
	if visited < 20 {
		t.Errorf("walked only %d pages: the demo's links should reach at least 20", visited)
	}
	t.Logf("walked %d pages", visited)

	p.Do("a laptop-sized viewport", chromedp.EmulateViewport(1280, 800))
	for _, shot := range []struct{ name, path string }{{"dashboard-demo", "/"}, {"campaign-demo", "/campaigns/demo"}, {"models-demo", "/models"}, {"audit-demo", "/audit"}} {
		p.Open(s.URL + shot.path)
		checkChrome(t, p, "", "")
		p.Screenshot(shot.name)
	}
}

// pageLink says whether href is a console page to walk (not a download,
// an image, a fragment, JSON or sign-out), as a path with query, and its
// kind (the first path element, with the second for detail pages).
func pageLink(href string) (string, string, bool) {
	u, err := url.Parse(href)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") {
		return "", "", false
	}
	for _, skip := range []string{"/static/", "/files/", "/live", "/params/", "/metrics/", "/signin", "/signout"} {
		if strings.Contains(u.Path, skip) {
			return "", "", false
		}
	}
	if strings.HasSuffix(u.Path, ".json") || strings.HasSuffix(u.Path, ".svg") {
		return "", "", false
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	kind := parts[0]
	switch {
	case len(parts) > 2:
		kind += "/" + parts[1] + "/…"
	case len(parts) > 1:
		kind += "/*"
	}
	if u.RawQuery != "" {
		kind += "?"
	}
	return u.RequestURI(), kind, true
}

// checkFitsWidth fails the test when the page at u scrolls sideways: its
// layout is wider than the layout viewport (compared with clientWidth —
// a mobile browser widens innerWidth to the page), naming the first
// elements that stick out or spill past their box (those inside a
// scrolling table or graph view do not count).
func checkFitsWidth(t *testing.T, p *Page, u string) {
	t.Helper()
	type width struct {
		Scroll int `json:"scroll"`
		Inner  int `json:"inner"`
	}
	w := Eval[width](p, `({scroll: document.documentElement.scrollWidth, inner: document.documentElement.clientWidth})`)
	if w.Scroll <= w.Inner {
		return
	}
	wide := Eval[[]string](p, `Array.from(document.body.querySelectorAll("*")).filter(e => (e.getBoundingClientRect().right > document.documentElement.clientWidth + 1 || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === "visible")) && !(e.parentElement && e.parentElement.closest(".table-wrap, .lineage-view"))).slice(0, 3).map(e => e.tagName + (e.id ? "#" + e.id : "") + (e.className ? "." + e.className : ""))`)
	t.Errorf("%s on a phone: the page is %d px wide in a %d px window (scrolls sideways; too wide: %q)", u, w.Scroll, w.Inner, wide)
}
