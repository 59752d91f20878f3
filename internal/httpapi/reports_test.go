package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/mission/report"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/genesis-science/genesis/internal/testenv"
)

func init() {
	// A report is a page or a PDF; the validator only needs to read it.
	for _, mt := range []string{"text/html", "application/pdf"} {
		openapi3filter.RegisterBodyDecoder(mt, func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			b, err := io.ReadAll(r)
			return string(b), err
		})
	}
}

// figure returns the value of the first figure of section key whose name
// starts with name.
func figure(t *testing.T, d *report.Data, key, name string) string {
	t.Helper()
	s := d.Section(key)
	if s == nil {
		t.Fatalf("no section %s", key)
	}
	for _, f := range s.Figures {
		if strings.HasPrefix(f.Name, name) {
			if f.Source.API == "" {
				t.Errorf("%s: %q has no source", key, f.Name)
			}
			return f.Value
		}
	}
	t.Fatalf("section %s has no figure %q", key, name)
	return ""
}

func pdfToText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool := testenv.Tool(t, "pdftotext")
	f := filepath.Join(t.TempDir(), "r.pdf")
	os.WriteFile(f, pdf, 0o644)
	out, err := exec.Command(tool, "-layout", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// TestAnnualReportEmpty: on an empty platform the report is made, each
// section says what is missing, and the PDF reads back with its zeros.
func TestAnnualReportEmpty(t *testing.T) {
	h := newHarness(t, storetest.Migrated(t, storetest.SQLite))
	year := strconv.Itoa(time.Now().UTC().Year())
	r := h.do("GET", "/api/v1/reports/annual?year="+year, h.admin, nil)
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("report: %d %s", r.status, r.header.Get("Content-Type"))
	}
	page := string(r.body)
	for _, want := range []string{
		"Challenges are not available on this server.",
		"The mission plan is not available on this server.",
		"No readable dataset version was committed in " + year,
		"No readable job was submitted in " + year,
		"No readable campaign ran in " + year,
		"No readable model was registered in " + year,
		"No readable publication was registered in " + year,
		"The partnership portfolio is not available on this server.",
		`class="banner top" style="background:#007a33;color:#ffffff">OPEN<`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the empty report does not say %q", want)
		}
	}
	r = h.do("GET", "/api/v1/reports/annual?format=pdf", h.admin, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(r.body, []byte("%PDF-")) {
		t.Fatalf("pdf: %d %s %.8q", r.status, r.header.Get("Content-Type"), r.body)
	}
	txt := pdfToText(t, r.body)
	for _, re := range []string{`Jobs submitted in ` + year + ` +0 \[\d+\]`, `Dataset versions committed in ` + year + ` +0 \[\d+\]`, `Page 1 of \d+`, `OPEN`} {
		if !regexp.MustCompile(re).MatchString(txt) {
			t.Errorf("the PDF does not read back %s:\n%s", re, txt)
		}
	}

	for _, q := range []string{"year=26", "year=1999", "year=abcd", "year=20266", "format=docx", "format=PDF"} {
		r := h.do("GET", "/api/v1/reports/annual?"+q, h.admin, nil)
		field, _, _ := strings.Cut(q, "=")
		if r.status != 400 || r.problem(t).Field != field {
			t.Errorf("%s: %d %s, want 400 naming %s", q, r.status, r.body, field)
		}
	}
	if r := h.do("GET", "/api/v1/reports/annual", "", nil); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}
}

// TestAnnualReportAsReader: two readers of different clearances over the
// same platform (campaigns run to their end, their jobs, datasets and
// models): the low reader's report has no trace of the restricted records
// — not a name, not a number, not the banner — and its numbers equal a
// reference count over the records the lattice lets it read.
func TestAnnualReportAsReader(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) { annualReportAsReader(t, db) })
}

// challengesFromCampaigns is a challenge source as the mission service
// will be adapted: one challenge per campaign the reader may read, its
// target the campaign's, its history the best so far of the experiments.
func challengesFromCampaigns(cs *campaign.Service) func(context.Context, *genesis.Principal) ([]report.Challenge, error) {
	return func(ctx context.Context, p *genesis.Principal) ([]report.Challenge, error) {
		list, _, err := cs.List(ctx, p, campaign.ListOptions{Limit: 1000})
		if err != nil {
			return nil, err
		}
		var out []report.Challenge
		for _, c := range list {
			if c.Counts.Observed == 0 {
				continue
			}
			es, _, err := cs.Experiments(ctx, p, c.ID, campaign.ExperimentOptions{State: campaign.Observed, Limit: 1000})
			if err != nil {
				return nil, err
			}
			obj := c.Spec.Objectives[0]
			tg := report.Target{Metric: obj.Name, Unit: "a.u.", Direction: obj.Goal, Target: *obj.Target}
			for _, e := range es {
				v := e.Values[obj.Name]
				if tg.Best == nil || v > *tg.Best {
					tg.Best = &v
					tg.History = append(tg.History, report.Point{At: *e.EndedAt, Value: v})
				}
				if tg.Baseline == nil {
					b := v
					tg.Baseline = &b
				}
			}
			tg.Progress = (*tg.Best - *tg.Baseline) / (tg.Target - *tg.Baseline)
			tg.Reached = *tg.Best >= tg.Target
			out = append(out, report.Challenge{Name: c.Name, Title: "Challenge driven by " + c.Name, Domain: "advanced manufacturing",
				Lead: "Genesis test lab", Label: c.Label, Targets: []report.Target{tg}})
		}
		return out, nil
	}
}

func annualReportAsReader(t *testing.T, db store.DB) {
	h := newHarness(t, db)
	h.reports.SetSources(report.Sources{Challenges: challengesFromCampaigns(h.camp)})
	if r := h.do("POST", "/api/v1/compartments", h.admin, map[string]any{"name": "FUSION"}); r.status != 201 {
		t.Fatalf("compartment: %d %s", r.status, r.body)
	}
	alice := h.token("alice", "PROPRIETARY//FUSION")
	bob := h.token("bob", "")
	site := map[string]any{"name": "here", "kind": "local", "accreditation": "PROPRIETARY//FUSION", "capacity": map[string]any{"nodes": 1, "cores_per_node": 4, "memory_gb_per_node": 8}}
	if r := h.do("POST", "/api/v1/sites", h.admin, site); r.status != 201 {
		t.Fatalf("add site: %d %s", r.status, r.body)
	}
	h.createCampaign(alice, jobCampaignYAML("quokkazebra", "PROPRIETARY//FUSION", 4))
	h.createCampaign(bob, jobCampaignYAML("parabola", "OPEN", 2))
	h.createCampaign(bob, jobCampaignYAML("drafty", "OPEN", 2))
	for _, c := range []struct{ tok, name string }{{alice, "quokkazebra"}, {bob, "parabola"}} {
		if r := h.do("POST", "/api/v1/campaigns/"+c.name+"/start", c.tok, nil); r.status != 200 {
			t.Fatalf("start %s: %d %s", c.name, r.status, r.body)
		}
	}
	h.runCampaign(alice, "quokkazebra", campaign.Completed)
	h.runCampaign(bob, "parabola", campaign.Completed)

	year := time.Now().UTC().Year()
	ys := strconv.Itoa(year)
	in := func(t time.Time) bool { return t.UTC().Year() == year }

	// The reference: alice reads everything; the lattice says what bob may.
	bobMay := func(marking string) bool {
		l, err := label.Parse(marking)
		if err != nil {
			t.Fatal(err)
		}
		return label.Dominates(label.Label{}, l)
	}
	var js httpapi.List[jobs.Job]
	h.do("GET", "/api/v1/jobs?limit=1000", alice, nil).decode(t, &js)
	var cs httpapi.List[campaign.Campaign]
	h.do("GET", "/api/v1/campaigns?limit=1000", alice, nil).decode(t, &cs)
	var ds, ms httpapi.List[catalog.Asset]
	h.do("GET", "/api/v1/datasets?limit=1000", alice, nil).decode(t, &ds)
	h.do("GET", "/api/v1/models?limit=1000", alice, nil).decode(t, &ms)
	type counts struct{ jobs, completed, campaigns, observed, datasets, versions, models int }
	var all, low counts
	add := func(marking string, f func(c *counts)) {
		f(&all)
		if bobMay(marking) {
			f(&low)
		}
	}
	for _, j := range js.Items {
		if in(j.CreatedAt) {
			add(j.Label, func(c *counts) {
				c.jobs++
				if j.State == jobs.Completed {
					c.completed++
				}
			})
		}
	}
	for _, c := range cs.Items {
		add(c.Label, func(n *counts) { n.campaigns++; n.observed += c.Counts.Observed })
	}
	for _, a := range ds.Items {
		add(a.Label, func(c *counts) { c.datasets++ })
		var vs httpapi.List[catalog.Version]
		h.do("GET", "/api/v1/assets/"+a.ID+"/versions", alice, nil).decode(t, &vs)
		for _, v := range vs.Items {
			add(v.Label, func(c *counts) { c.versions++ })
		}
	}
	for _, m := range ms.Items {
		add(m.Label, func(c *counts) { c.models++ })
	}
	if all.jobs <= low.jobs || all.campaigns <= low.campaigns || all.versions <= low.versions || low.jobs == 0 || low.versions == 0 {
		t.Fatalf("the fixture does not tell the readers apart: all %+v, bob %+v", all, low)
	}

	for _, c := range []struct {
		who  string
		tok  string
		want counts
		mark string
	}{{"alice", alice, all, "PROPRIETARY//FUSION"}, {"bob", bob, low, "OPEN"}} {
		d, err := h.reports.Gather(ctx, h.principal(c.who), year)
		if err != nil {
			t.Fatal(err)
		}
		if d.Marking != c.mark {
			t.Errorf("%s: banner %q, want %q", c.who, d.Marking, c.mark)
		}
		for _, f := range []struct {
			key, name string
			want      int
		}{
			{"compute", "Jobs submitted in " + ys, c.want.jobs},
			{"compute", "… now completed", c.want.completed},
			{"campaigns", "Campaigns created", c.want.campaigns},
			{"campaigns", "Experiments performed", c.want.observed},
			{"data", "Datasets readable", c.want.datasets},
			{"data", "Dataset versions committed", c.want.versions},
			{"models", "Models registered in", c.want.models},
			{"challenges", "Challenges", c.want.campaigns - 1}, // drafty has no result
		} {
			if got := figure(t, d, f.key, f.name); got != strconv.Itoa(f.want) {
				t.Errorf("%s: %s %q = %s, reference %d", c.who, f.key, f.name, got, f.want)
			}
		}
		// Node-hours: the campaign's jobs ran, so some were used.
		if nh := figure(t, d, "compute", "Node-hours"); nh == "0" && c.want.completed > 0 {
			t.Errorf("%s: %d jobs completed in 0 node-hours", c.who, c.want.completed)
		}

		page := h.do("GET", "/api/v1/reports/annual?year="+ys, c.tok, nil)
		pdf := h.do("GET", "/api/v1/reports/annual?year="+ys+"&format=pdf", c.tok, nil)
		if page.status != 200 || pdf.status != 200 {
			t.Fatalf("%s: %d %d", c.who, page.status, pdf.status)
		}
		txt := pdfToText(t, pdf.body)
		m := regexp.MustCompile(`Jobs submitted in ` + ys + ` +(\d+) \[`).FindStringSubmatch(txt)
		if m == nil || m[1] != strconv.Itoa(c.want.jobs) {
			t.Errorf("%s: the PDF reads back jobs %v, want %d", c.who, m, c.want.jobs)
		}
		if !strings.Contains(string(page.body), `Jobs submitted in `+ys+`</td><td class="num">`+strconv.Itoa(c.want.jobs)+`<`) {
			t.Errorf("%s: the page does not show %d jobs", c.who, c.want.jobs)
		}
		if c.who == "bob" {
			for _, secret := range []string{"quokkazebra", "FUSION", "PROPRIETARY"} {
				if bytes.Contains(page.body, []byte(secret)) || strings.Contains(txt, secret) {
					t.Errorf("bob's report names %q", secret)
				}
			}
		} else if !strings.Contains(txt, "PROPRIETARY//FUSION") {
			t.Errorf("alice's PDF has no banner")
		}
		if c.who == "alice" {
			if dir := os.Getenv("GENESIS_REPORT_SAMPLE_DIR"); dir != "" {
				writeSample(t, dir, page.body, pdf.body)
			}
		}
	}

	// Each report made is on the audit log under its banner: alice sees
	// hers, bob his and not hers.
	entries := func(tok string) string {
		return string(h.do("GET", "/api/v1/audit/entries?action=report.generate&limit=1000", tok, nil).body)
	}
	if a := entries(alice); strings.Count(a, `"action":"report.generate"`) < 2 || !strings.Contains(a, "banner PROPRIETARY//FUSION") {
		t.Errorf("alice's reports are not on the audit log: %s", a)
	}
	if b := entries(bob); strings.Count(b, `"action":"report.generate"`) < 2 || strings.Contains(b, "PROPRIETARY//FUSION") {
		t.Errorf("bob's audit view: %s", b)
	}
}

// writeSample keeps a report for the closing note: the page, the PDF and
// its first page as PNG (pdftoppm, when installed).
func writeSample(t *testing.T, dir string, page, pdf []byte) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "report.html"), page, 0o644)
	os.WriteFile(filepath.Join(dir, "report.pdf"), pdf, 0o644)
	if tool, err := exec.LookPath("pdftoppm"); err == nil {
		if out, err := exec.Command(tool, "-png", "-r", "80", "-f", "1", "-l", "2", filepath.Join(dir, "report.pdf"), filepath.Join(dir, "page")).CombinedOutput(); err != nil {
			t.Errorf("pdftoppm: %v %s", err, out)
		}
	}
	t.Logf("sample report written to %s", dir)
}
