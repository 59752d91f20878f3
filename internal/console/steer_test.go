package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/console"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	_ "github.com/genesis-science/genesis/internal/lab/sim"
)

// steerWorld is world with the lab: a registry of simulated flow reactors
// (workcell "open-cell", accredited OPEN, and "secret-cell", accredited
// NATIONAL-SECURITY//FUSION), the campaign service with its runner
// running, and a console over all of it.
type steerWorld struct {
	*world
	camp *campaign.Service
	reg  *instruments.Registry
}

func newSteerWorld(t testing.TB) *steerWorld {
	t.Helper()
	w := sqliteWorld(t)
	az, err := authz.New(w.id, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	reg := instruments.New(w.db, az, w.id, t.TempDir())
	t.Cleanup(func() { reg.Close() })
	for _, cell := range []struct{ name, acc string }{{"open-cell", "OPEN"}, {"secret-cell", "NATIONAL-SECURITY//FUSION"}} {
		if _, err := reg.EnsureWorkcell(ctx, instruments.WorkcellSpec{Name: cell.name}); err != nil {
			t.Fatal(err)
		}
		settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": 1e6, "seed": 1, "consumables": map[string]float64{"substrate": 1e6}})
		if _, err := reg.Ensure(ctx, instruments.Spec{Name: cell.name + "-reactor", Kind: "sim", Settings: settings, Workcell: cell.name, Accreditation: cell.acc}); err != nil {
			t.Fatal(err)
		}
	}
	camp := campaign.New(w.db, az, w.id, w.cat, nil)
	camp.SetFleet(reg)
	camp.Tick = 5 * time.Millisecond
	camp.WorkDir = t.TempDir()
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); camp.Run(rctx) }()
	t.Cleanup(func() { cancel(); <-done })
	w.con = console.New(console.Config{DB: w.db, Identity: w.id, Catalog: w.cat, Campaigns: camp, Authz: az, Now: time.Now})
	w.srv = httptest.NewServer(w.con)
	t.Cleanup(w.srv.Close)
	return &steerWorld{world: w, camp: camp, reg: reg}
}

// reactorSpec is a campaign on a workcell's flow reactor.
func reactorSpec(t testing.TB, name, marking, cell string, budget int) *campaign.Spec {
	t.Helper()
	return reactorSpecOpt(t, name, marking, cell, budget, "{initial_points: 4}")
}

// reactorSpecOpt is reactorSpec with the optimizer's settings.
func reactorSpecOpt(t testing.TB, name, marking, cell string, budget int, optimizer string) *campaign.Spec {
	t.Helper()
	sp, err := campaign.Parse([]byte(fmt.Sprintf(`
name: %s
label: %s
objectives:
  - {name: yield, goal: max, unit: "%%"}
params:
  - {name: temperature, kind: continuous, low: 30, high: 150, unit: °C}
  - {name: residence_time, kind: continuous, low: 0.5, high: 30, log: true, unit: min}
  - {name: concentration, kind: continuous, low: 0.05, high: 1.0}
  - {name: catalyst, kind: categorical, categories: [Pd-A, Pd-B, Ni-C, Cu-D]}
budget: {experiments: %d}
batch: 2
seed: 3
optimizer: %s
executor: {workcell: %s, action: run}
`, name, marking, budget, optimizer, cell)))
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func (w *steerWorld) create(t *testing.T, p *genesis.Principal, name, marking, cell string, budget int) *campaign.Campaign {
	t.Helper()
	c, err := w.camp.Create(ctx, p, reactorSpec(t, name, marking, cell, budget))
	if err != nil {
		t.Fatalf("creating campaign %s: %v", name, err)
	}
	return c
}

func (w *steerWorld) state(t *testing.T, name string) string {
	t.Helper()
	c, err := w.camp.Get(ctx, w.alice, name)
	if err != nil {
		t.Fatal(err)
	}
	return c.State
}

// buttons lists the steering buttons on a campaign page, by id.
func buttons(r *response) []string {
	var out []string
	for _, n := range all(r.doc, func(n *htmlNode) bool {
		return isElement(n) && n.Data == "button" && strings.HasPrefix(attr(n, "id"), "campaign-")
	}) {
		out = append(out, attr(n, "id"))
	}
	return out
}

// TestSteerCampaign: the owner starts, pauses, resumes and stops a
// campaign with the page's buttons; each POST needs the session's CSRF
// token and this site's origin; only valid transitions are offered, and
// the service's refusal of an invalid one is shown on the page.
func TestSteerCampaign(t *testing.T) {
	w := newSteerWorld(t)
	w.create(t, w.alice, "steer-me", "OPEN", "open-cell", 400)
	alice := w.browser(t)
	alice.signIn(w.aliceT)
	page := alice.get("/campaigns/steer-me")
	if page.StatusCode != 200 {
		t.Fatalf("campaign page: %d\n%s", page.StatusCode, page.body)
	}
	if got := buttons(page); fmt.Sprint(got) != "[campaign-start campaign-stop]" {
		t.Fatalf("a draft's buttons: %v", got)
	}
	csrf := page.csrf()
	// Refused: no token, a wrong token, another site.
	for _, c := range []struct {
		form url.Values
		hdr  map[string]string
	}{
		{url.Values{}, nil},
		{url.Values{"csrf": {"forged"}}, nil},
		{url.Values{"csrf": {csrf}}, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}},
	} {
		res := alice.post("/campaigns/steer-me/start", c.form, c.hdr)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("start %v %v: %d, want 403", c.form, c.hdr, res.StatusCode)
		}
		if s := w.state(t, "steer-me"); s != campaign.Draft {
			t.Fatalf("a refused start left the campaign %s", s)
		}
	}
	steer := func(action, want string) *response {
		t.Helper()
		res := alice.post("/campaigns/steer-me/"+action, url.Values{"csrf": {csrf}, "reason": {"checking " + action}}, nil)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/campaigns/steer-me" {
			t.Fatalf("%s: %d %q\n%s", action, res.StatusCode, res.Header.Get("Location"), res.body)
		}
		if s := w.state(t, "steer-me"); s != want {
			t.Fatalf("after %s the campaign is %s, want %s", action, s, want)
		}
		return alice.get("/campaigns/steer-me")
	}
	// A reason the service refuses (a control character): 400 with its
	// message, nothing changed.
	if res := alice.post("/campaigns/steer-me/stop", url.Values{"csrf": {csrf}, "reason": {"bad\x07reason"}}, nil); res.StatusCode != http.StatusBadRequest || !strings.Contains(text(byID(res.doc, "steer-error")), "reason") {
		t.Errorf("stop with a bad reason: %d %q", res.StatusCode, text(byID(res.doc, "steer-error")))
	}
	if s := w.state(t, "steer-me"); s != campaign.Draft {
		t.Fatalf("a refused stop left the campaign %s", s)
	}
	page = steer("start", campaign.Running)
	if got := buttons(page); fmt.Sprint(got) != "[campaign-pause campaign-stop]" {
		t.Errorf("a running campaign's buttons: %v", got)
	}
	if live := byID(page.doc, "campaign-live"); attr(live, "data-live") != "/campaigns/steer-me/live" {
		t.Errorf("a running campaign's page is not live: %q", attr(live, "data-live"))
	}
	page = steer("pause", campaign.Paused)
	if got := buttons(page); fmt.Sprint(got) != "[campaign-resume campaign-stop]" {
		t.Errorf("a paused campaign's buttons: %v", got)
	}
	if !strings.Contains(text(byID(page.doc, "campaign-live")), "checking pause") {
		t.Error("the pause reason is not shown")
	}
	// An invalid transition (start a paused campaign): the service's
	// message, on the page, 409, nothing changed.
	res := alice.post("/campaigns/steer-me/start", url.Values{"csrf": {csrf}}, nil)
	if res.StatusCode != http.StatusConflict || !strings.Contains(text(byID(res.doc, "steer-error")), "paused") {
		t.Errorf("starting a paused campaign: %d %q", res.StatusCode, text(byID(res.doc, "steer-error")))
	}
	if s := w.state(t, "steer-me"); s != campaign.Paused {
		t.Errorf("the refused start left it %s", s)
	}
	steer("resume", campaign.Running)
	page = steer("stop", campaign.Stopped)
	if got := buttons(page); len(got) != 0 {
		t.Errorf("a stopped campaign's buttons: %v", got)
	}
	// An unknown action is the not-found page.
	if res := alice.post("/campaigns/steer-me/explode", url.Values{"csrf": {csrf}}, nil); res.StatusCode != 404 {
		t.Errorf("unknown action: %d", res.StatusCode)
	}
}

// TestReaderMayNotSteer: a viewer who may read a campaign but not steer
// it sees no buttons, and its POST is refused with the service's message;
// the campaign is unchanged.
func TestReaderMayNotSteer(t *testing.T) {
	w := newSteerWorld(t)
	w.create(t, w.alice, "alices", "OPEN", "open-cell", 400)
	bob := w.browser(t)
	bob.signIn(w.bobT)
	page := bob.get("/campaigns/alices")
	if page.StatusCode != 200 {
		t.Fatalf("bob's page: %d", page.StatusCode)
	}
	if got := buttons(page); len(got) != 0 {
		t.Errorf("bob sees buttons %v", got)
	}
	if byID(page.doc, "campaign-steer") != nil {
		t.Error("bob sees the steering forms")
	}
	live := bob.get("/campaigns/alices/live")
	if strings.Contains(live.body, "<button") {
		t.Error("bob's live part has buttons")
	}
	for _, action := range []string{"start", "stop"} {
		res := bob.post("/campaigns/alices/"+action, url.Values{"csrf": {page.csrf()}}, nil)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(text(byID(res.doc, "steer-error")), "owner") {
			t.Errorf("bob's %s: %d %q", action, res.StatusCode, text(byID(res.doc, "steer-error")))
		}
	}
	if s := w.state(t, "alices"); s != campaign.Draft {
		t.Errorf("bob's refused POSTs left the campaign %s", s)
	}
	// The administrator may operate it: buttons shown.
	admin := w.browser(t)
	admin.signIn(w.adminToken(t))
	if got := buttons(admin.get("/campaigns/alices")); fmt.Sprint(got) != "[campaign-start campaign-stop]" {
		t.Errorf("the administrator's buttons: %v", got)
	}
}

// adminToken makes an API token for the administrator.
func (w *world) adminToken(t *testing.T) string {
	t.Helper()
	if w.adminT == "" {
		_, secret, err := w.id.CreateToken(ctx, w.admin.ID, "console", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		w.adminT = secret
	}
	return w.adminT
}

// TestHiddenCampaignIsMissing: to bob, every console path of a campaign
// he may not read — the page, its live part, its plots, a steering POST —
// is the same as for a name that does not exist; the campaign is
// unchanged. Alice's banner on it is its label.
func TestHiddenCampaignIsMissing(t *testing.T) {
	w := newSteerWorld(t)
	w.create(t, w.alice, "secret-run", "NATIONAL-SECURITY//FUSION", "secret-cell", 400)
	bob := w.browser(t)
	bob.signIn(w.bobT)
	csrf := bob.get("/").csrf()
	norm := func(r *response) string { return csrfOrID.ReplaceAllString(r.body, "") }
	for _, suffix := range []string{"", "/live", "/plot.svg", "/params/temperature"} {
		h, m := bob.get("/campaigns/secret-run"+suffix), bob.get("/campaigns/no-such-run"+suffix)
		if h.StatusCode != 404 || m.StatusCode != 404 || norm(h) != norm(m) || strings.Contains(h.body, "secret-run") {
			t.Errorf("%s: hidden %d, missing %d, differ %v", suffix, h.StatusCode, m.StatusCode, norm(h) != norm(m))
		}
	}
	for _, action := range []string{"start", "stop"} {
		h := bob.post("/campaigns/secret-run/"+action, url.Values{"csrf": {csrf}}, nil)
		m := bob.post("/campaigns/no-such-run/"+action, url.Values{"csrf": {csrf}}, nil)
		if h.StatusCode != 404 || norm(h) != norm(m) {
			t.Errorf("bob's %s of a hidden campaign: %d (missing: %d)", action, h.StatusCode, m.StatusCode)
		}
	}
	if s := w.state(t, "secret-run"); s != campaign.Draft {
		t.Errorf("bob's POSTs left the hidden campaign %s", s)
	}
	alice := w.browser(t)
	alice.signIn(w.aliceT)
	page := alice.get("/campaigns/secret-run")
	if m, lvl := banner(t, page); m != "NATIONAL-SECURITY//FUSION" || lvl != "national-security" {
		t.Errorf("alice's banner %q %q", m, lvl)
	}
	if m, _ := banner(t, alice.get("/campaigns")); m != "NATIONAL-SECURITY//FUSION" {
		t.Errorf("alice's campaigns list banner %q", m)
	}
	if m, _ := banner(t, bob.get("/campaigns")); m != "OPEN" {
		t.Errorf("bob's campaigns list banner %q", m)
	}
}

var (
	ptRe   = regexp.MustCompile(`<circle class="pt( best)?"`)
	bestRe = regexp.MustCompile(`<circle class="pt best"[^>]*><title>best: #(\d+):`)
)

// TestParameterPlots: a campaign run to the end on the simulated reactor;
// each parameter's plot has one point per observed experiment (read
// independently from the service) and marks the campaign's best one; the
// page shows the best value, the budget used and the experiments.
func TestParameterPlots(t *testing.T) {
	w := newSteerWorld(t)
	w.create(t, w.alice, "to-the-end", "OPEN", "open-cell", 8)
	if _, err := w.camp.Start(ctx, w.alice, "to-the-end"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	var cp *campaign.Campaign
	for {
		var err error
		if cp, err = w.camp.Get(ctx, w.alice, "to-the-end"); err != nil {
			t.Fatal(err)
		}
		if cp.State != campaign.Running {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign did not end: %+v", cp.Counts)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if cp.State != campaign.Completed || cp.Best == nil {
		t.Fatalf("campaign ended %s (%s), best %v", cp.State, cp.Reason, cp.Best)
	}
	exps, _, err := w.camp.Experiments(ctx, w.alice, "to-the-end", campaign.ExperimentOptions{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	observed := 0
	for _, e := range exps {
		if _, ok := e.Values["yield"]; ok && e.State == campaign.Observed {
			observed++
		}
	}
	if observed == 0 {
		t.Fatal("no observed experiment")
	}
	for _, who := range []string{w.aliceT, w.bobT} {
		b := w.browser(t)
		b.signIn(who)
		page := b.get("/campaigns/to-the-end")
		if got := len(all(byID(page.doc, "param-plots"), func(n *htmlNode) bool { return isElement(n) && n.Data == "img" })); got != 4 {
			t.Errorf("%d parameter plots, want 4", got)
		}
		got, err := strconv.ParseFloat(text(byID(page.doc, "campaign-best")), 64)
		if want := cp.Best.Values["yield"]; err != nil || math.Abs(got-want) > 1e-3*math.Abs(want) {
			t.Errorf("best shown %q, campaign's %v", text(byID(page.doc, "campaign-best")), want)
		}
		if got := text(byID(page.doc, "experiments-count")); got != fmt.Sprint(cp.Counts.Observed+cp.Counts.Failed) {
			t.Errorf("experiments count %q, want %d", got, cp.Counts.Observed+cp.Counts.Failed)
		}
		if rows := byClass(byID(page.doc, "experiments"), "experiment"); len(rows) != len(exps) {
			t.Errorf("%d experiment rows, want %d", len(rows), len(exps))
		}
		for _, prm := range []string{"temperature", "residence_time", "concentration", "catalyst"} {
			svg := b.get("/campaigns/to-the-end/params/" + prm)
			if svg.StatusCode != 200 || svg.Header.Get("Content-Type") != "image/svg+xml" {
				t.Fatalf("%s plot: %d %q", prm, svg.StatusCode, svg.Header.Get("Content-Type"))
			}
			if got := len(ptRe.FindAllString(svg.body, -1)); got != observed {
				t.Errorf("%s plot: %d points, want %d", prm, got, observed)
			}
			m := bestRe.FindAllStringSubmatch(svg.body, -1)
			if len(m) != 1 || m[0][1] != fmt.Sprint(cp.Best.Seq) {
				t.Errorf("%s plot: best marks %v, want one at #%d", prm, m, cp.Best.Seq)
			}
		}
		if res := b.get("/campaigns/to-the-end/params/no-such-param"); res.StatusCode != 404 {
			t.Errorf("unknown parameter: %d", res.StatusCode)
		}
	}
}

// commitModel commits a version of model name holding one file, with its
// model metadata, trained on inputs.
func (w *world) commitModel(t testing.TB, p *genesis.Principal, name, content string, m *catalog.ModelMeta, inputs ...catalog.VersionRef) *catalog.Version {
	t.Helper()
	data := []byte(content)
	id := blob.Sum(data)
	man := &manifest.Manifest{Entries: []manifest.Entry{{Path: "weights.bin", Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id,
		Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
	raw, err := man.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{data, raw} {
		if err := w.cat.PutChunk(ctx, p, name, blob.Sum(b), b); err != nil {
			t.Fatal(err)
		}
	}
	v, err := w.cat.Commit(ctx, p, name, catalog.CommitSpec{Manifest: blob.Sum(raw), Inputs: inputs, Activity: "training", Model: m})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestModelsPages: random models, open or secret, with random metrics
// across versions (the reference model: what was committed). The models
// page has one card per model the viewer may read (and counts only
// those), its banner the join of what it shows; a model's page has a
// table row per version with its metrics, a chart per metric with one
// point per version and the best (highest accuracy, lowest loss) marked,
// and the training data as links. A hidden model, and a dataset asked
// for as a model, are the not-found page.
func TestModelsPages(t *testing.T) {
	w := newSteerWorld(t)
	w.put(t, w.alice, "open-data", "OPEN", "x,y\n1,2\n")
	w.put(t, w.alice, "secret-data", "NATIONAL-SECURITY//FUSION", "x,y\n3,4\n")
	rng := rand.New(rand.NewPCG(16, 4))
	type ver struct{ acc, loss float64 }
	type mdl struct {
		name   string
		secret bool
		vers   []ver
	}
	var models []mdl
	for i := range 6 {
		m := mdl{name: fmt.Sprintf("model-%d", i), secret: rng.IntN(3) == 0}
		if i == 0 {
			m.secret = false
		}
		if i == 1 {
			m.secret = true
		}
		data := "open-data"
		if m.secret {
			data = "secret-data"
		}
		in := []catalog.VersionRef{{Asset: data, Version: 1}}
		if _, err := w.cat.RegisterModel(ctx, w.alice, catalog.RegisterSpec{Name: m.name, Title: "Model " + m.name, TrainedOn: in}); err != nil {
			t.Fatal(err)
		}
		for j := range 1 + rng.IntN(4) {
			v := ver{acc: float64(rng.IntN(1000)) / 1000, loss: float64(1+rng.IntN(999)) / 100}
			metrics, _ := json.Marshal(map[string]any{"accuracy": v.acc, "loss": v.loss, "notes": "not a number"})
			w.commitModel(t, w.alice, m.name, fmt.Sprintf("weights %s %d", m.name, j), &catalog.ModelMeta{Framework: "pytorch", Task: "regression", Metrics: metrics}, in...)
			m.vers = append(m.vers, v)
		}
		models = append(models, m)
	}
	for _, viewer := range []struct {
		token   string
		cleared bool
	}{{w.aliceT, true}, {w.bobT, false}} {
		b := w.browser(t)
		b.signIn(viewer.token)
		page := b.get("/models")
		if page.StatusCode != 200 {
			t.Fatalf("/models: %d", page.StatusCode)
		}
		var want []string
		wantMark := "OPEN"
		for _, m := range models {
			if !m.secret || viewer.cleared {
				want = append(want, m.name)
				if m.secret {
					wantMark = "NATIONAL-SECURITY//FUSION"
				}
			}
		}
		var got []string
		for _, card := range byClass(page.doc, "model-card") {
			got = append(got, attr(card, "data-model"))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("cleared %v: cards %v, want %v", viewer.cleared, got, want)
		}
		if c := text(byID(page.doc, "models-count")); c != fmt.Sprint(len(want)) {
			t.Errorf("cleared %v: count %q, want %d", viewer.cleared, c, len(want))
		}
		if m, _ := banner(t, page); m != wantMark {
			t.Errorf("cleared %v: banner %q, want %q", viewer.cleared, m, wantMark)
		}
		for _, m := range models {
			res := b.get("/models/" + m.name)
			if m.secret && !viewer.cleared {
				miss := b.get("/models/no-such-model")
				if res.StatusCode != 404 || csrfOrID.ReplaceAllString(res.body, "") != csrfOrID.ReplaceAllString(miss.body, "") {
					t.Errorf("bob's page of hidden %s: %d", m.name, res.StatusCode)
				}
				if svg := b.get("/models/" + m.name + "/metrics/accuracy"); svg.StatusCode != 404 {
					t.Errorf("bob's chart of hidden %s: %d", m.name, svg.StatusCode)
				}
				continue
			}
			if res.StatusCode != 200 {
				t.Fatalf("/models/%s: %d", m.name, res.StatusCode)
			}
			rows := byClass(byID(res.doc, "model-metrics"), "model-version")
			if len(rows) != len(m.vers) {
				t.Errorf("%s: %d version rows, want %d", m.name, len(rows), len(m.vers))
			}
			for i, row := range rows {
				v := m.vers[len(m.vers)-1-i] // newest first
				cells := byClass(row, "metric-value")
				if len(cells) != 2 || text(cells[0]) != fmt.Sprint(v.acc) || text(cells[1]) != fmt.Sprint(v.loss) {
					t.Errorf("%s row %d: %v, want accuracy %v loss %v", m.name, i, cells, v.acc, v.loss)
				}
				links := byClass(row, "trained-on")
				wantData := "open-data"
				if m.secret {
					wantData = "secret-data"
				}
				if len(links) != 1 || attr(links[0], "href") != "/assets/"+wantData {
					t.Errorf("%s row %d: training links %d", m.name, i, len(links))
				}
			}
			for _, metric := range []string{"accuracy", "loss"} {
				svg := b.get("/models/" + m.name + "/metrics/" + metric)
				if svg.StatusCode != 200 || svg.Header.Get("Content-Type") != "image/svg+xml" {
					t.Fatalf("%s %s chart: %d", m.name, metric, svg.StatusCode)
				}
				if n := len(ptRe.FindAllString(svg.body, -1)); n != len(m.vers) {
					t.Errorf("%s %s chart: %d points, want %d", m.name, metric, n, len(m.vers))
				}
				best := 0
				for i, v := range m.vers {
					if (metric == "accuracy" && v.acc > m.vers[best].acc) || (metric == "loss" && v.loss < m.vers[best].loss) {
						best = i
					}
				}
				bm := regexp.MustCompile(`<circle class="pt best"[^>]*><title>best: v(\d+):`).FindAllStringSubmatch(svg.body, -1)
				bv := m.vers[best].acc
				if metric == "loss" {
					bv = m.vers[best].loss
				}
				// Ties: any version with the best value may be the one marked.
				ok := len(bm) == 1
				if ok {
					var k int
					fmt.Sscan(bm[0][1], &k)
					x := m.vers[k-1].acc
					if metric == "loss" {
						x = m.vers[k-1].loss
					}
					ok = x == bv
				}
				if !ok {
					t.Errorf("%s %s chart: best marks %v, want one with %v", m.name, metric, bm, bv)
				}
			}
			if svg := b.get("/models/" + m.name + "/metrics/notes"); svg.StatusCode != 404 {
				t.Errorf("a metric that is not a number is charted: %d", svg.StatusCode)
			}
		}
	}
	bob := w.browser(t)
	bob.signIn(w.bobT)
	if res := bob.get("/models/open-data"); res.StatusCode != 404 {
		t.Errorf("a dataset as a model: %d", res.StatusCode)
	}
}

// TestExperimentsPaged: following the experiments table's Next links
// lists every experiment once, by index, as the service does; a cursor
// that is not one is a 400.
func TestExperimentsPaged(t *testing.T) {
	w := newSteerWorld(t)
	if _, err := w.camp.Create(ctx, w.alice, reactorSpecOpt(t, "paged", "OPEN", "open-cell", 120, "{random: true}")); err != nil {
		t.Fatal(err)
	}
	if _, err := w.camp.Start(ctx, w.alice, "paged"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Minute)
	for w.state(t, "paged") == campaign.Running {
		if time.Now().After(deadline) {
			t.Fatal("the campaign did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var want []string
	cursor := ""
	for {
		es, next, err := w.camp.Experiments(ctx, w.alice, "paged", campaign.ExperimentOptions{Cursor: cursor, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			want = append(want, strconv.Itoa(e.Seq))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	bob := w.browser(t)
	bob.signIn(w.bobT)
	var got []string
	path, pages := "/campaigns/paged", 0
	for path != "" {
		res := bob.get(path)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		pages++
		if (pages > 1) != (byID(res.doc, "experiments-first") != nil) {
			t.Errorf("page %d: first link %v", pages, byID(res.doc, "experiments-first") != nil)
		}
		for _, row := range byClass(byID(res.doc, "experiments"), "experiment") {
			got = append(got, text(row.FirstChild))
		}
		path = attr(byID(res.doc, "experiments-next"), "href")
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(want) < 120 {
		t.Errorf("the table's pages list %d experiments %v, the service %d", len(got), got, len(want))
	}
	if pages < 3 {
		t.Errorf("%d pages for %d experiments", pages, len(want))
	}
	if res := bob.get("/campaigns/paged?cursor=%ff"); res.StatusCode != http.StatusBadRequest {
		t.Errorf("a bad cursor: %d", res.StatusCode)
	}
}
