package httpapi_test

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// jobCampaignYAML is a campaign whose experiments are jobs on the local
// site: y = -(x-0.3)², computed by awk from the job's argument.
func jobCampaignYAML(name, label string, budget int) string {
	return `name: ` + name + `
label: "` + label + `"
objectives: [{name: y, goal: max, target: 0.5}]
params: [{name: x, kind: continuous, low: -1, high: 1}]
budget: {experiments: ` + strconv.Itoa(budget) + `}
batch: 2
seed: 3
executor:
  job:
    output: out.json
    spec:
      executable: /bin/sh
      arguments: ["-c", "awk -v x=\"$1\" 'BEGIN { printf \"{\\\"y\\\": %.17g}\", -(x-0.3)^2 }' > out.json", "sh", "${x}"]
      attributes: {duration: 5m}
`
}

func (h *harness) token(name, clearance string) string {
	h.t.Helper()
	if r := h.do("POST", "/api/v1/principals", h.admin, map[string]any{"name": name, "nationality": "USA", "roles": []string{"contributor"}}); r.status != 201 {
		h.t.Fatalf("create %s: %d %s", name, r.status, r.body)
	}
	if clearance != "" {
		if r := h.do("POST", "/api/v1/principals/"+name+"/clearance", h.admin, map[string]any{"clearance": clearance}); r.status != 200 {
			h.t.Fatalf("clearance %s: %d %s", name, r.status, r.body)
		}
	}
	var tok httpapi.CreateTokenResponse
	h.do("POST", "/api/v1/principals/"+name+"/tokens", h.admin, map[string]any{}).decode(h.t, &tok)
	return tok.Secret
}

func (h *harness) createCampaign(token, yaml string) campaign.Campaign {
	h.t.Helper()
	r := h.do("POST", "/api/v1/campaigns", token, yaml, "Content-Type", "application/yaml")
	if r.status != 201 {
		h.t.Fatalf("create campaign: %d %s", r.status, r.body)
	}
	var c campaign.Campaign
	r.decode(h.t, &c)
	return c
}

// runUntil steps the campaign runner and the job scheduler until the
// campaign is in one of states.
func (h *harness) runCampaign(token, name string, states ...string) campaign.Campaign {
	h.t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if err := h.camp.Step(ctx); err != nil {
			h.t.Logf("runner step: %v", err)
		}
		if err := h.jobs.Step(ctx); err != nil {
			h.t.Logf("job step: %v", err)
		}
		var c campaign.Campaign
		h.do("GET", "/api/v1/campaigns/"+name, token, nil).decode(h.t, &c)
		for _, s := range states {
			if c.State == s {
				return c
			}
		}
		if time.Now().After(deadline) {
			r := h.do("GET", "/api/v1/campaigns/"+name+"/experiments", token, nil)
			h.t.Fatalf("campaign %s is %s (%s), want %v; experiments %s", name, c.State, c.Reason, states, r.body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCampaignsAPI: a campaign created from YAML runs to its end through
// the API, with its experiments, suggestions and plot; every request and
// answer is checked against the OpenAPI document.
func TestCampaignsAPI(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	alice := h.token("alice", "")
	site := map[string]any{"name": "here", "kind": "local", "accreditation": "OPEN", "capacity": map[string]any{"nodes": 1, "cores_per_node": 4, "memory_gb_per_node": 8}}
	if r := h.do("POST", "/api/v1/sites", h.admin, site); r.status != 201 {
		t.Fatalf("add site: %d %s", r.status, r.body)
	}

	c := h.createCampaign(alice, jobCampaignYAML("parabola", "OPEN", 4))
	if c.State != campaign.Draft || c.Name != "parabola" || c.Label != "OPEN" || c.Spec.Objectives[0].Name != "y" {
		t.Fatalf("created %+v", c)
	}
	// The same file as JSON is the same campaign: a second one is a
	// conflict on the name.
	if r := h.do("POST", "/api/v1/campaigns", alice, jobCampaignYAML("parabola", "OPEN", 4), "Content-Type", "application/yaml"); r.status != 409 {
		t.Errorf("same name again: %d %s, want 409", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/campaigns/parabola/suggestions", alice, nil); r.status != 405 && r.status != 404 {
		t.Errorf("POST suggestions: %d", r.status)
	}
	// Started with an Idempotency-Key: the retry gets the first answer.
	r1 := h.do("POST", "/api/v1/campaigns/parabola/start", alice, nil, "Idempotency-Key", "start-1")
	r2 := h.do("POST", "/api/v1/campaigns/parabola/start", alice, nil, "Idempotency-Key", "start-1")
	if r1.status != 200 || r2.status != 200 || requestIDRE.ReplaceAllString(string(r1.body), "") != requestIDRE.ReplaceAllString(string(r2.body), "") {
		t.Errorf("start twice with one key: %d %s / %d %s", r1.status, r1.body, r2.status, r2.body)
	}
	var sug httpapi.Suggestions
	if r := h.do("GET", "/api/v1/campaigns/parabola/suggestions?n=3", alice, nil); r.status != 200 {
		t.Errorf("suggestions: %d %s", r.status, r.body)
	} else if r.decode(t, &sug); len(sug.Items) != 3 {
		t.Errorf("suggestions: %d items, want 3: %s", len(sug.Items), r.body)
	}
	for _, n := range []string{"0", "21", "x", "-1"} {
		if r := h.do("GET", "/api/v1/campaigns/parabola/suggestions?n="+n, alice, nil); r.status != 400 || r.problem(t).Field != "n" {
			t.Errorf("n=%s: %d %s, want 400 naming n", n, r.status, r.body)
		}
	}

	done := h.runCampaign(alice, "parabola", campaign.Completed)
	if done.Counts.Observed != 4 || done.Best == nil {
		t.Fatalf("completed: %+v", done)
	}
	// The experiments, paged one at a time, are the four observed ones in
	// order, and their values are the function's.
	var seen []campaign.Experiment
	cursor := ""
	for range 10 {
		var l httpapi.List[campaign.Experiment]
		h.do("GET", "/api/v1/campaigns/parabola/experiments?state=observed&limit=1&cursor="+cursor, alice, nil).decode(t, &l)
		seen = append(seen, l.Items...)
		if cursor = l.Next; cursor == "" {
			break
		}
	}
	if len(seen) != 4 {
		t.Fatalf("%d observed experiments, want 4", len(seen))
	}
	for i, e := range seen {
		x := e.Params["x"].(float64)
		if e.Seq != i || e.State != campaign.Observed || !strings.HasPrefix(e.Job, "job_") || e.Values["y"] != -(x-0.3)*(x-0.3) {
			t.Errorf("experiment %+v", e)
		}
	}
	// The plot in both formats.
	r := h.do("GET", "/api/v1/campaigns/parabola/plot?format=png", alice, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
		t.Fatalf("png plot: %d %s", r.status, r.header.Get("Content-Type"))
	}
	if _, err := png.Decode(bytes.NewReader(r.body)); err != nil {
		t.Errorf("png plot does not decode: %v", err)
	}
	r = h.do("GET", "/api/v1/campaigns/parabola/plot?format=svg", alice, nil)
	if r.status != 200 || r.header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("svg plot: %d %s", r.status, r.header.Get("Content-Type"))
	}
	var root struct{ XMLName xml.Name }
	if err := xml.Unmarshal(r.body, &root); err != nil || root.XMLName.Local != "svg" {
		t.Errorf("svg plot: %v %v", root.XMLName, err)
	}
	if r := h.do("GET", "/api/v1/campaigns/parabola/plot?format=gif", alice, nil); r.status != 400 || r.problem(t).Field != "format" {
		t.Errorf("gif plot: %d %s, want 400 naming format", r.status, r.body)
	}

	// Pause, resume and stop, with reasons, on a second campaign.
	h.createCampaign(alice, jobCampaignYAML("second", "OPEN", 50))
	for _, step := range []struct {
		path, body, state, reason string
	}{
		{"start", "", campaign.Running, ""},
		{"pause", `{"reason": "lunch"}`, campaign.Paused, "lunch"},
		{"resume", "", campaign.Running, ""},
		{"stop", `{"reason": "enough"}`, campaign.Stopped, "enough"},
	} {
		var body any
		if step.body != "" {
			body = step.body
		}
		r := h.do("POST", "/api/v1/campaigns/second/"+step.path, alice, body)
		var c campaign.Campaign
		if r.status != 200 {
			t.Fatalf("%s: %d %s", step.path, r.status, r.body)
		}
		r.decode(t, &c)
		if c.State != step.state || (step.reason != "" && !strings.Contains(c.Reason, step.reason)) {
			t.Errorf("%s: %s %q, want %s %q", step.path, c.State, c.Reason, step.state, step.reason)
		}
	}
	if r := h.do("POST", "/api/v1/campaigns/second/resume", alice, nil); r.status != 409 {
		t.Errorf("resume a stopped campaign: %d %s, want 409", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/campaigns/second/pause", alice, `{"reasons": "x"}`); r.status != 400 || r.problem(t).Field != "reasons" {
		t.Errorf("unknown field: %d %s, want 400 naming it", r.status, r.body)
	}
}

// TestCampaignFileRefused: a campaign file with a mistake is refused with
// 400 naming the field, and nothing is created.
func TestCampaignFileRefused(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	good := jobCampaignYAML("c1", "OPEN", 4)
	for _, tc := range []struct {
		name, body, field string
	}{
		{"inverted bounds", strings.Replace(good, "low: -1, high: 1", "low: 1, high: -1", 1), "params[0]"},
		{"unknown field", strings.Replace(good, "objectives:", "objectivs:", 1), "objectivs"},
		{"no objectives", strings.Replace(good, "objectives: [{name: y, goal: max, target: 0.5}]", "objectives: []", 1), "objectives"},
		{"bad goal", strings.Replace(good, "goal: max", "goal: most", 1), "objectives[0].goal"},
		{"unknown param in template", strings.Replace(good, `"${x}"`, `"${z}"`, 1), "executor.job.spec"},
		{"not YAML", "name: [unclosed\n", ""},
		{"bad label", strings.Replace(good, `label: "OPEN"`, `label: "SECRETISH"`, 1), "label"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/api/v1/campaigns", h.admin, tc.body, "Content-Type", "application/yaml")
			if r.status != 400 {
				t.Fatalf("%d %s, want 400", r.status, r.body)
			}
			if p := r.problem(t); tc.field != "" && !strings.HasPrefix(p.Field, tc.field) {
				t.Errorf("field %q (%s), want %q", p.Field, p.Detail, tc.field)
			}
		})
	}
	var l httpapi.List[campaign.Campaign]
	h.do("GET", "/api/v1/campaigns", h.admin, nil).decode(t, &l)
	if len(l.Items) != 0 {
		t.Errorf("refused files created %d campaigns", len(l.Items))
	}
	// JSON is read too.
	if r := h.do("POST", "/api/v1/campaigns", h.admin, `{"name": "j"}`); r.status != 400 || r.problem(t).Field == "" {
		t.Errorf("incomplete JSON: %d %s, want 400 naming a field", r.status, r.body)
	}
}

var requestIDRE = regexp.MustCompile(`"request_id":"[^"]*"`)

func init() {
	// An SVG plot is text; the validator only needs to read it.
	openapi3filter.RegisterBodyDecoder("image/svg+xml", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
}

// TestHiddenCampaignLooksMissing: every campaign path answers a campaign
// the caller may not read exactly as one that does not exist, and lists
// leave it out.
func TestHiddenCampaignLooksMissing(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	if r := h.do("POST", "/api/v1/compartments", h.admin, map[string]any{"name": "FUSION"}); r.status != 201 {
		t.Fatalf("compartment: %d %s", r.status, r.body)
	}
	alice := h.token("alice", "PROPRIETARY//FUSION")
	bob := h.token("bob", "")
	secret := h.createCampaign(alice, jobCampaignYAML("secret", "PROPRIETARY//FUSION", 4))
	if secret.Label != "PROPRIETARY//FUSION" {
		t.Fatalf("label %s", secret.Label)
	}
	h.createCampaign(bob, jobCampaignYAML("mine", "OPEN", 4))

	for _, p := range []struct{ method, path, body string }{
		{"GET", "", ""},
		{"POST", "/start", ""},
		{"POST", "/pause", `{"reason":"x"}`},
		{"POST", "/resume", ""},
		{"POST", "/stop", ""},
		{"GET", "/experiments", ""},
		{"GET", "/experiments?state=observed", ""},
		{"GET", "/suggestions?n=2", ""},
		{"GET", "/plot?format=png", ""},
		{"GET", "/plot?format=svg", ""},
	} {
		var body any
		if p.body != "" {
			body = p.body
		}
		var answers []string
		for _, name := range []string{"secret", secret.ID, "no-such-campaign", "cmp_nosuchid"} {
			path, q, _ := strings.Cut(p.path, "?")
			url := "/api/v1/campaigns/" + name + path
			if q != "" {
				url += "?" + q
			}
			r := h.do(p.method, url, bob, body)
			answers = append(answers, strconv.Itoa(r.status)+" "+requestIDRE.ReplaceAllString(string(r.body), ""))
		}
		for _, a := range answers[1:] {
			if a != answers[0] {
				t.Errorf("%s %s: answers differ: %q", p.method, p.path, answers)
				break
			}
		}
		if !strings.HasPrefix(answers[0], "404 ") {
			t.Errorf("%s %s: %s, want 404", p.method, p.path, answers[0])
		}
	}
	var l httpapi.List[campaign.Campaign]
	h.do("GET", "/api/v1/campaigns", bob, nil).decode(t, &l)
	if len(l.Items) != 1 || l.Items[0].Name != "mine" {
		t.Errorf("bob lists %+v, want only his own", l.Items)
	}
	// Alice still sees hers.
	if r := h.do("GET", "/api/v1/campaigns/secret", alice, nil); r.status != 200 {
		t.Errorf("alice reads her campaign: %d", r.status)
	}
}

// TestCampaignListPaging: pages of every size list every campaign once,
// newest first, and the state filter keeps only that state.
func TestCampaignListPaging(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	var names []string
	for i := range 7 {
		n := "c" + strconv.Itoa(i)
		h.createCampaign(h.admin, jobCampaignYAML(n, "OPEN", 4))
		names = append(names, n)
	}
	if r := h.do("POST", "/api/v1/campaigns/c3/start", h.admin, nil); r.status != 200 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	for _, limit := range []int{1, 2, 3, 7, 100} {
		var got []string
		cursor := ""
		for range 20 {
			var l httpapi.List[campaign.Campaign]
			r := h.do("GET", "/api/v1/campaigns?limit="+strconv.Itoa(limit)+"&cursor="+cursor, h.admin, nil)
			if r.status != 200 {
				t.Fatalf("limit %d: %d %s", limit, r.status, r.body)
			}
			r.decode(t, &l)
			if len(l.Items) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(l.Items))
			}
			for _, c := range l.Items {
				got = append(got, c.Name)
			}
			if cursor = l.Next; cursor == "" {
				break
			}
		}
		if len(got) != len(names) {
			t.Fatalf("limit %d: %v", limit, got)
		}
		for i := range got {
			if got[i] != names[len(names)-1-i] {
				t.Fatalf("limit %d: %v, want newest first %v", limit, got, names)
			}
		}
	}
	var l httpapi.List[campaign.Campaign]
	h.do("GET", "/api/v1/campaigns?state=running", h.admin, nil).decode(t, &l)
	if len(l.Items) != 1 || l.Items[0].Name != "c3" {
		t.Errorf("running: %+v", l.Items)
	}
	if r := h.do("GET", "/api/v1/campaigns?state=bogus", h.admin, nil); r.status != 400 || r.problem(t).Field != "state" {
		t.Errorf("state=bogus: %d %s", r.status, r.body)
	}
}

// exerciseCampaigns drives every campaign operation once, for TestAPI's
// check that every documented operation is exercised.
func exerciseCampaigns(h *harness) {
	t := h.t
	h.createCampaign(h.admin, jobCampaignYAML("api-tour", "OPEN", 4))
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/campaigns"},
		{"GET", "/api/v1/campaigns/api-tour"},
		{"POST", "/api/v1/campaigns/api-tour/start"},
		{"GET", "/api/v1/campaigns/api-tour/experiments"},
		{"GET", "/api/v1/campaigns/api-tour/suggestions?n=2"},
		{"GET", "/api/v1/campaigns/api-tour/plot?format=svg"},
		{"POST", "/api/v1/campaigns/api-tour/pause"},
		{"POST", "/api/v1/campaigns/api-tour/resume"},
		{"POST", "/api/v1/campaigns/api-tour/stop"},
	} {
		if res := h.do(r.method, r.path, h.admin, nil); res.status != 200 {
			t.Errorf("%s %s: %d %s", r.method, r.path, res.status, res.body)
		}
	}
}
