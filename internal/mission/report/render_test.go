package report_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/mission/report"
	"github.com/genesis-science/genesis/internal/testenv"
)

var reader = &genesis.Principal{ID: "p_1", Name: "reader", Clearance: "NATIONAL-SECURITY"}

func fixedNow() time.Time { return time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC) }

// checkHTML parses page as HTML and checks it is one self-contained
// document: no external URL, no script, banners top and bottom.
func checkHTML(t *testing.T, page []byte, marking string) string {
	t.Helper()
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("the report is not HTML: %v", err)
	}
	var banners []string
	var txt strings.Builder
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			if n.Data == "script" || n.Data == "img" || n.Data == "link" || n.Data == "iframe" {
				t.Errorf("the report has a <%s> element", n.Data)
			}
			for _, a := range n.Attr {
				v := strings.ToLower(a.Val)
				if (a.Key == "href" || a.Key == "src") && !strings.HasPrefix(v, "#") {
					t.Errorf("the report links outside itself: %s=%q", a.Key, a.Val)
				}
				if a.Key == "class" && strings.HasPrefix(a.Val, "banner") && n.FirstChild != nil {
					banners = append(banners, n.FirstChild.Data)
				}
			}
		}
		if n.Type == html.TextNode {
			txt.WriteString(n.Data)
			txt.WriteString(" ")
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(banners) != 2 || banners[0] != marking || banners[1] != marking {
		t.Errorf("banners %q, want %q top and bottom", banners, marking)
	}
	if bytes.Contains(page, []byte("http://")) && !bytes.Contains(page, []byte(`xmlns="http://www.w3.org/2000/svg"`)) {
		t.Errorf("the report names an external URL")
	}
	return txt.String()
}

// pdfText reads a PDF back with poppler's pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool := testenv.Tool(t, "pdftotext")
	f := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(f, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tool, "-layout", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

func render(t *testing.T, d *report.Data, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := report.Render(&b, format, d); err != nil {
		t.Fatalf("render %s: %v", format, err)
	}
	return b.Bytes()
}

// TestNoServices: a server with none of the services (no catalog, no jobs,
// no campaigns, no mission sources) still makes a report, each section
// saying what is not there.
func TestNoServices(t *testing.T) {
	s := report.New(report.Config{Now: fixedNow})
	d, err := s.Gather(context.Background(), reader, 2026)
	if err != nil {
		t.Fatal(err)
	}
	if d.Marking != "OPEN" || d.Level != label.Open {
		t.Errorf("banner %q, want OPEN", d.Marking)
	}
	for _, sec := range d.Sections {
		if !strings.Contains(sec.Note, report.NotAvailable) {
			t.Errorf("section %s says %q, want %q", sec.Key, sec.Note, report.NotAvailable)
		}
	}
	txt := checkHTML(t, render(t, d, "html"), "OPEN")
	if n := strings.Count(txt, report.NotAvailable); n < len(d.Sections) {
		t.Errorf("the HTML says %q %d times, want at least %d", report.NotAvailable, n, len(d.Sections))
	}
	pt := pdfText(t, render(t, d, "pdf"))
	if n := strings.Count(pt, "not available on"); n < len(d.Sections) {
		t.Errorf("the PDF says not available %d times, want at least %d:\n%s", n, len(d.Sections), pt)
	}
	if !strings.Contains(pt, "Page 1 of ") || strings.Contains(pt, "{nb}") {
		t.Errorf("the PDF has no page numbers:\n%s", pt)
	}
}

func f(v float64) *float64 { return &v }

// hostile is a challenge whose texts try to break out of the page.
var hostile = report.Challenge{
	Name:   "xss",
	Title:  `<script>alert("t")</script><img src=x onerror=alert(1)>`,
	Domain: "robotics\x00\x1b[31m",
	Lead:   `"><a href="http://evil.example">lab</a>`,
	Label:  "OPEN",
	Targets: []report.Target{{Metric: `</svg><script>alert(2)</script>`, Unit: "ünït €", Direction: "max", Baseline: f(1), Target: 10, Best: f(4), Progress: 1.0 / 3,
		History: []report.Point{{At: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Value: 2}, {At: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Value: 4}}}},
}

func TestHostileTextEscaped(t *testing.T) {
	s := report.New(report.Config{Now: fixedNow, Sources: report.Sources{
		Challenges: func(context.Context, *genesis.Principal) ([]report.Challenge, error) {
			return []report.Challenge{hostile}, nil
		},
	}})
	d, err := s.Gather(context.Background(), reader, 2026)
	if err != nil {
		t.Fatal(err)
	}
	page := render(t, d, "html")
	txt := checkHTML(t, page, "OPEN")
	for _, bad := range []string{"<script", "<img", `<a href="http`, "\x00", "\x1b"} {
		if bytes.Contains(page, []byte(bad)) {
			t.Errorf("the page holds %q unescaped", bad)
		}
	}
	// The text is shown (escaped), not dropped.
	if !strings.Contains(txt, `<script>alert("t")</script>`) {
		t.Errorf("the hostile title is not shown as text")
	}
	pt := pdfText(t, render(t, d, "pdf"))
	for _, want := range []string{`<script>alert("t")</script>`, "ünït €"} {
		if !strings.Contains(pt, want) {
			t.Errorf("the PDF does not read back %q:\n%s", want, pt)
		}
	}
}

// TestBannerIsJoin: for random labels on challenges, milestones and
// partners, the banner is the join of them all (the reference model:
// label.JoinAll), and each section's marking the join of its own.
func TestBannerIsJoin(t *testing.T) {
	levels := []string{"OPEN", "PROPRIETARY", "NATIONAL-SECURITY"}
	comps := []string{"FUSION", "QIS", "BIO"}
	rnd := rand.New(rand.NewPCG(1, 2))
	randLabel := func() string {
		s := levels[rnd.IntN(len(levels))]
		var cs []string
		for _, c := range comps {
			if rnd.IntN(3) == 0 {
				cs = append(cs, c)
			}
		}
		if len(cs) > 0 {
			s += "//" + strings.Join(cs, "/")
		}
		l, err := label.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		return l.Format()
	}
	for i := 0; i < 200; i++ {
		var cs []report.Challenge
		var ms []report.Milestone
		var ps []report.Partner
		var all, chall []label.Label
		for range rnd.IntN(4) {
			m := randLabel()
			cs = append(cs, report.Challenge{Name: "c", Title: "c", Label: m})
			all, chall = append(all, label.MustParse(m)), append(chall, label.MustParse(m))
		}
		for range rnd.IntN(3) {
			m := randLabel()
			ms = append(ms, report.Milestone{Name: "m", Status: "met", Label: m})
			all = append(all, label.MustParse(m))
		}
		for range rnd.IntN(3) {
			m := randLabel()
			ps = append(ps, report.Partner{Org: "o", Label: m})
			all = append(all, label.MustParse(m))
		}
		s := report.New(report.Config{Now: fixedNow, Sources: report.Sources{
			Challenges: func(context.Context, *genesis.Principal) ([]report.Challenge, error) { return cs, nil },
			Milestones: func(context.Context, *genesis.Principal) ([]report.Milestone, error) { return ms, nil },
			Partners:   func(context.Context, *genesis.Principal) ([]report.Partner, error) { return ps, nil },
		}})
		d, err := s.Gather(context.Background(), reader, 2026)
		if err != nil {
			t.Fatal(err)
		}
		want := label.JoinAll(all...)
		if d.Marking != want.Format() || d.Level != want.Level() {
			t.Fatalf("case %d: banner %q, want %q", i, d.Marking, want.Format())
		}
		if got := d.Section("challenges").Marking; got != label.JoinAll(chall...).Format() {
			t.Fatalf("case %d: challenges marked %q, want %q", i, got, label.JoinAll(chall...).Format())
		}
		for j, it := range d.Section("challenges").Items {
			if it.Marking != cs[j].Label {
				t.Fatalf("case %d: challenge %d marked %q, want %q", i, j, it.Marking, cs[j].Label)
			}
		}
	}
}

// TestBannerColours: the banner's colour follows its level, in HTML.
func TestBannerColours(t *testing.T) {
	for _, c := range []struct{ marking, colour string }{
		{"OPEN", "#007a33"}, {"PROPRIETARY//FUSION", "#ff8c00"}, {"NATIONAL-SECURITY", "#c8102e"},
	} {
		s := report.New(report.Config{Now: fixedNow, Sources: report.Sources{
			Challenges: func(context.Context, *genesis.Principal) ([]report.Challenge, error) {
				return []report.Challenge{{Name: "c", Title: "c", Label: c.marking}}, nil
			},
		}})
		d, err := s.Gather(context.Background(), reader, 2026)
		if err != nil {
			t.Fatal(err)
		}
		page := render(t, d, "html")
		checkHTML(t, page, c.marking)
		if n := bytes.Count(page, []byte(`class="banner`)); n != 2 {
			t.Fatalf("%d banners", n)
		}
		if !bytes.Contains(page, []byte(`class="banner top" style="background:`+c.colour)) {
			t.Errorf("%s: the banner is not coloured %s", c.marking, c.colour)
		}
		pt := pdfText(t, render(t, d, "pdf"))
		// Every page has the banner top and bottom.
		pagesN := strings.Count(pt, "\f")
		if got := strings.Count(pt, c.marking); got < 2*pagesN {
			t.Errorf("%s: %d banners over %d PDF pages", c.marking, got, pagesN)
		}
	}
}

func TestBadInput(t *testing.T) {
	s := report.New(report.Config{Now: fixedNow})
	for _, y := range []int{0, 1999, 2201, -5} {
		if _, err := s.Gather(context.Background(), reader, y); err == nil || !strings.Contains(err.Error(), "year") {
			t.Errorf("year %d: %v", y, err)
		}
	}
	if _, err := s.Gather(context.Background(), nil, 2026); err == nil {
		t.Error("no principal: no error")
	}
	d, _ := s.Gather(context.Background(), reader, 2026)
	var b bytes.Buffer
	if err := report.Render(&b, "docx", d); err == nil || !strings.Contains(err.Error(), "html or pdf") || b.Len() != 0 {
		t.Errorf("docx: %v, %d bytes written", err, b.Len())
	}
	bad := report.New(report.Config{Now: fixedNow, Sources: report.Sources{
		Challenges: func(context.Context, *genesis.Principal) ([]report.Challenge, error) {
			return []report.Challenge{{Name: "c", Label: "SECRET-ISH"}}, nil
		},
	}})
	if _, err := bad.Gather(context.Background(), reader, 2026); err == nil {
		t.Error("a label that does not parse made a report")
	}
}

// TestDemoMission: a full mission (20 challenges, milestones, partners,
// synthetic counts) renders; the PDF reads back with every challenge and
// its numbers, and each page has its banner and number.
func TestDemoMission(t *testing.T) {
	s := report.New(report.Config{Now: fixedNow, Sources: demoSources(20)})
	d, err := s.Gather(context.Background(), reader, 2026)
	if err != nil {
		t.Fatal(err)
	}
	page := render(t, d, "html")
	txt := checkHTML(t, page, "OPEN")
	pdf := render(t, d, "pdf")
	pt := pdfText(t, pdf)
	for i := range 20 {
		want := "Challenge " + strconv.Itoa(i) + ": "
		if !strings.Contains(txt, want) || !strings.Contains(pt, want) {
			t.Errorf("challenge %d missing", i)
		}
	}
	for _, want := range []string{"Synthetic dataset versions", "CRADA-7", "site lab-b reports no power", "at risk", "4 datasets, 2 models"} {
		if !strings.Contains(pt, want) || !strings.Contains(txt, want) {
			t.Errorf("%q missing", want)
		}
	}
	for _, f := range d.Section("milestones").Figures {
		want := map[string]string{"Milestones": "2", "Milestones met": "1", "Milestones at risk": "1", "Milestones missed": "0", "Milestones not available": "0"}[f.Name]
		if f.Value != want {
			t.Errorf("%s = %s, want %s", f.Name, f.Value, want)
		}
	}
	pages := strings.Count(pt, "\f")
	for n := 1; n <= pages; n++ {
		if !strings.Contains(pt, fmt.Sprintf("Page %d of %d", n, pages)) {
			t.Errorf("no 'Page %d of %d'", n, pages)
		}
	}
	if dir := os.Getenv("GENESIS_REPORT_SAMPLE_DIR"); dir != "" {
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, "demo.html"), page, 0o644)
		os.WriteFile(filepath.Join(dir, "demo.pdf"), pdf, 0o644)
		if tool, err := exec.LookPath("pdftoppm"); err == nil {
			exec.Command(tool, "-png", "-r", "80", "-f", "1", "-l", "1", filepath.Join(dir, "demo.pdf"), filepath.Join(dir, "demo")).Run()
		}
	}
}

// TestChartIsBestSoFar: whatever order and points a challenge source
// gives, its chart draws the running best in time order (reference: a
// plain scan), held to the end of the period.
func TestChartIsBestSoFar(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 300; i++ {
		dir := []string{"max", "min"}[rnd.IntN(2)]
		var h []report.Point
		for range rnd.IntN(12) {
			h = append(h, report.Point{At: time.Date(2026, time.Month(1+rnd.IntN(12)), 1+rnd.IntN(28), 0, 0, 0, 0, time.UTC), Value: float64(rnd.IntN(20))})
		}
		c := report.Challenge{Name: "c", Title: "c", Targets: []report.Target{{Metric: "m", Direction: dir, Target: 10, Baseline: f(0), History: h}}}
		s := report.New(report.Config{Now: func() time.Time { return time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC) }, Sources: report.Sources{
			Challenges: func(context.Context, *genesis.Principal) ([]report.Challenge, error) {
				return []report.Challenge{c}, nil
			},
		}})
		d, err := s.Gather(context.Background(), reader, 2026)
		if err != nil {
			t.Fatal(err)
		}
		charts := d.Section("challenges").Items[0].Charts
		if len(h) == 0 {
			// No result yet: a line says so, and there is no empty chart.
			if len(charts) != 0 {
				t.Fatalf("case %d: a target with no history has %d charts", i, len(charts))
			}
			continue
		}
		got := charts[0].Lines[0].Points
		// The reference: sort by time, keep strict improvements.
		sorted := append([]report.Point(nil), h...)
		slices.SortStableFunc(sorted, func(a, b report.Point) int { return a.At.Compare(b.At) })
		var want []report.Point
		for _, p := range sorted {
			if n := len(want); n == 0 || dir == "max" && p.Value > want[n-1].Value || dir == "min" && p.Value < want[n-1].Value {
				want = append(want, p)
			}
		}
		if len(want) > 0 {
			want = append(want, report.Point{At: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), Value: want[len(want)-1].Value})
		}
		if len(got) != len(want) {
			t.Fatalf("case %d (%s): %d points, want %d: %v vs %v", i, dir, len(got), len(want), got, want)
		}
		for k := range got {
			if !got[k].At.Equal(want[k].At) || got[k].Value != want[k].Value {
				t.Fatalf("case %d (%s): point %d is %v, want %v", i, dir, k, got[k], want[k])
			}
		}
	}
}
