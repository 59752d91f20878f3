package httpapi_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/extract"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func (h *harness) principal(name string) *genesis.Principal {
	h.t.Helper()
	admin, err := h.ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	if err != nil {
		h.t.Fatal(err)
	}
	p, err := h.ids.Principal(ctx, admin, name)
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

func litDoc(title, text string) lit.Document {
	return lit.Document{Format: lit.FormatText, Title: title, Sections: []lit.Section{{Paragraphs: []string{text}}}}
}

// TestAgentOverHTTP drives a run and its reads through the API, as two
// principals: a proprietary run is not found for one who may not read it,
// exactly like a missing one.
func TestAgentOverHTTP(t *testing.T) {
	h := newHarness(t, storetest.Migrated(t, storetest.SQLite))
	bob := h.token("bob", "OPEN")
	carol := h.token("carol", "PROPRIETARY")
	if _, err := h.lib.ImportDocuments(ctx, h.principal("bob"), "OPEN", "", []lit.Document{
		litDoc("Raynaud and viscosity", "Raynaud patients show high blood viscosity."),
		litDoc("Fish oil", "Fish oil lowers blood viscosity."),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.lib.ImportDocuments(ctx, h.principal("carol"), "PROPRIETARY", "", []lit.Document{
		litDoc("Report", "Raynaud trial: zirconium chelate lowers blood viscosity."),
	}); err != nil {
		t.Fatal(err)
	}
	var run agent.Run
	if r := h.do("POST", "/api/v1/agent/hypothesize", bob, map[string]any{"topic": "Raynaud", "methods": []string{"lbd"}}); r.status != 201 {
		t.Fatalf("hypothesize: %d %s", r.status, r.body)
	} else {
		r.decode(t, &run)
	}
	if len(run.Hypotheses) == 0 || run.Label != "OPEN" {
		t.Fatalf("run %+v", run)
	}
	found := false
	for _, hy := range run.Hypotheses {
		found = found || hy.C == "fish"
		if strings.Contains(hy.Statement, "zirconium") {
			t.Fatal("bob's run names a word of a document he may not read")
		}
	}
	if !found {
		t.Errorf("no Raynaud–fish hypothesis: %+v", run.Hypotheses)
	}
	var got agent.Run
	h.do("GET", "/api/v1/agent/runs/"+run.ID, bob, nil).decode(t, &got)
	if got.ID != run.ID || len(got.Hypotheses) != len(run.Hypotheses) {
		t.Fatalf("get run: %+v", got)
	}
	var hy agent.Hypothesis
	h.do("GET", "/api/v1/agent/hypotheses/"+run.Hypotheses[0].ID, bob, nil).decode(t, &hy)
	if hy.ID != run.Hypotheses[0].ID {
		t.Fatalf("get hypothesis: %+v", hy)
	}
	// An LBD hypothesis has no target to draft a campaign from.
	if r := h.do("POST", "/api/v1/agent/hypotheses/"+hy.ID+"/propose-campaign", bob, nil); r.status != 400 {
		t.Errorf("propose from lbd: %d %s", r.status, r.body)
	}
	// Carol's run reads the report: PROPRIETARY, hidden from bob.
	var crun agent.Run
	h.do("POST", "/api/v1/agent/hypothesize", carol, map[string]any{"topic": "Raynaud", "methods": []string{"lbd"}}).decode(t, &crun)
	if crun.Label != "PROPRIETARY" {
		t.Fatalf("carol's run label %s", crun.Label)
	}
	hidden := h.do("GET", "/api/v1/agent/runs/"+crun.ID, bob, nil)
	missing := h.do("GET", "/api/v1/agent/runs/run_aaaaaaaaaaaaaaaa", bob, nil)
	if hidden.status != 404 || missing.status != 404 {
		t.Fatalf("hidden %d, missing %d", hidden.status, missing.status)
	}
	if hp, mp := hidden.problem(t), missing.problem(t); strings.ReplaceAll(hp.Detail, crun.ID, "X") != strings.ReplaceAll(mp.Detail, "run_aaaaaaaaaaaaaaaa", "X") || hp.Title != mp.Title {
		t.Errorf("hidden %+v vs missing %+v", hp, mp)
	}
	if len(crun.Hypotheses) > 0 {
		if r := h.do("GET", "/api/v1/agent/hypotheses/"+crun.Hypotheses[0].ID, bob, nil); r.status != 404 {
			t.Errorf("hidden hypothesis: %d", r.status)
		}
	}
	var list struct {
		Items []agent.RunSummary `json:"items"`
	}
	h.do("GET", "/api/v1/agent/runs", bob, nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != run.ID {
		t.Errorf("bob's runs: %+v", list.Items)
	}
	h.do("GET", "/api/v1/agent/runs?limit=1", carol, nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != crun.ID {
		t.Errorf("carol's first run (newest first): %+v", list.Items)
	}
	// On the record: the run's creation, which bob may see and carol's,
	// which he may not.
	waitAudit := func(token, want string) string {
		t.Helper()
		var body string
		for range 200 {
			body = string(h.do("GET", "/api/v1/audit/entries?limit=1000", token, nil).body)
			if strings.Contains(body, want) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		return body
	}
	if body := waitAudit(bob, run.ID); !strings.Contains(body, "agent.run") {
		t.Errorf("bob's audit view lacks his run's creation")
	}
	if body := waitAudit(carol, crun.ID); !strings.Contains(body, crun.ID) {
		t.Errorf("carol's audit view lacks her run")
	} else if body := string(h.do("GET", "/api/v1/audit/entries?limit=1000", bob, nil).body); strings.Contains(body, crun.ID) {
		t.Errorf("bob's audit view shows carol's proprietary run")
	}
	if r := h.do("POST", "/api/v1/agent/hypothesize", bob, map[string]any{"topic": "x", "methods": []string{"llm"}}); r.status != 400 {
		t.Errorf("llm without a model: %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/agent/hypothesize", bob, map[string]any{"topic": "x", "challenge": "chl_1"}); r.status != 400 || !strings.Contains(string(r.body), "challenge") {
		t.Errorf("challenge without challenges: %d %s", r.status, r.body)
	}
}

// TestAgentDraftOverHTTP: a gap hypothesis becomes a campaign draft, which
// only a person who may read it approves, and which starts only approved.
func TestAgentDraftOverHTTP(t *testing.T) {
	exerciseAgent(t, newHarness(t, storetest.Migrated(t, storetest.SQLite)))
}

// exerciseAgent drives every agent operation (TestAPI runs it on both
// backends): run, runs, hypothesis, draft, approval, start.
func exerciseAgent(t *testing.T, h *harness) {
	bobName, carolName := "agent-bob", "agent-carol"
	bob := h.token(bobName, "OPEN")
	carol := h.token(carolName, "PROPRIETARY")
	// The harness's library stores no facts; this one, on the same store,
	// extracts them at import.
	withFacts, err := library.New(library.Config{DB: h.db, Catalog: h.cat, Index: h.ix, Authz: h.az, Principals: h.ids, Extract: extract.Extract})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withFacts.ImportDocuments(ctx, h.principal(bobName), "OPEN", "", []lit.Document{
		litDoc("Iodide", "The band gap of CsPbI3 is 1.73 eV at 300 K."),
		litDoc("Bromide", "The band gap of CsPbBr3 is 2.36 eV at 320 K."),
	}); err != nil {
		t.Fatal(err)
	}
	var run agent.Run
	if r := h.do("POST", "/api/v1/agent/hypothesize", bob, map[string]any{"topic": "perovskite", "target": map[string]any{"property": "band_gap", "value": 2.0, "unit": "eV"}, "methods": []string{"gap"}}); r.status != 201 {
		t.Fatalf("hypothesize: %d %s", r.status, r.body)
	} else {
		r.decode(t, &run)
	}
	var mix string
	for _, hy := range run.Hypotheses {
		if hy.Gap != nil && hy.Gap.Kind == "mix" {
			mix = hy.ID
		}
	}
	if mix == "" {
		t.Fatalf("no mix hypothesis: %+v", run.Hypotheses)
	}
	var again agent.Run
	h.do("GET", "/api/v1/agent/runs/"+run.ID, carol, nil).decode(t, &again)
	var hy agent.Hypothesis
	h.do("GET", "/api/v1/agent/hypotheses/"+mix, carol, nil).decode(t, &hy)
	if again.ID != run.ID || hy.Gap == nil || hy.Gap.Other != "CsPbBr3" {
		t.Fatalf("run %+v hypothesis %+v", again, hy)
	}
	var list struct {
		Items []agent.RunSummary `json:"items"`
	}
	h.do("GET", "/api/v1/agent/runs?limit=5", bob, nil).decode(t, &list)
	if len(list.Items) == 0 || list.Items[0].ID != run.ID {
		t.Errorf("runs: %+v", list.Items)
	}
	var d agent.Draft
	if r := h.do("POST", "/api/v1/agent/hypotheses/"+mix+"/propose-campaign", bob, map[string]any{"budget": 8}); r.status != 201 {
		t.Fatalf("propose: %d %s", r.status, r.body)
	} else {
		r.decode(t, &d)
	}
	if _, err := campaign.Parse([]byte(d.Campaign)); err != nil {
		t.Fatalf("draft does not parse: %v", err)
	}
	if r := h.do("POST", "/api/v1/agent/drafts/"+d.ID+"/start", bob, nil); r.status != 409 {
		t.Errorf("start unapproved: %d %s", r.status, r.body)
	}
	// Carol may read an OPEN draft; bob approves his own here.
	var got agent.Draft
	h.do("GET", "/api/v1/agent/drafts/"+d.ID, carol, nil).decode(t, &got)
	if got.ID != d.ID {
		t.Fatalf("carol reads the draft: %+v", got)
	}
	if r := h.do("POST", "/api/v1/agent/drafts/"+d.ID+"/approve", bob, nil); r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	} else {
		r.decode(t, &got)
	}
	if got.ApprovedBy == "" || got.ApprovedAt == nil {
		t.Fatalf("approved draft: %+v", got)
	}
	var cp campaign.Campaign
	if r := h.do("POST", "/api/v1/agent/drafts/"+d.ID+"/start", bob, nil); r.status != 201 {
		t.Fatalf("start: %d %s", r.status, r.body)
	} else {
		r.decode(t, &cp)
	}
	if cp.State != campaign.Draft || cp.Label != "OPEN" {
		t.Errorf("campaign %s %s", cp.State, cp.Label)
	}
	if r := h.do("POST", "/api/v1/agent/drafts/"+d.ID+"/start", bob, nil); r.status != 409 {
		t.Errorf("second start: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/agent/drafts/drf_aaaaaaaaaaaaaaaa", bob, nil); r.status != 404 {
		t.Errorf("missing draft: %d", r.status)
	}
}

// filmDev is a minimal driver for the agent tests: a film line whose
// anneal action takes a composition fraction and a temperature and
// measures a band gap.
type filmDev struct{ apiDev }

func init() {
	lab.RegisterKind("agentfilm", func(lab.Config) (lab.Driver, error) { return filmDev{}, nil })
}

func (filmDev) Info(context.Context) (*lab.Info, error) {
	return &lab.Info{Model: "film line", Actions: []lab.Action{
		{Name: "anneal", Params: []lab.Param{
			{Name: "fraction", Kind: lab.Number, Min: fptr(0), Max: fptr(1)},
			{Name: "temperature", Kind: lab.Number, Unit: "K", Min: fptr(200), Max: fptr(500)}},
			Outputs: []lab.Output{{Name: "band_gap", Unit: "eV"}}},
	}}, nil
}

// TestAgentDraftOnInstrument: a draft asked to run on an instrument uses
// it when the instrument is accredited for the draft's label and takes its
// parameters, and the campaign is created on it; a proprietary draft falls
// back to a job template, and its notes say why.
func TestAgentDraftOnInstrument(t *testing.T) {
	h := newHarness(t, storetest.Migrated(t, storetest.SQLite))
	ann := h.token("ann", "OPEN")
	carol := h.token("carol", "PROPRIETARY")
	if r := h.do("POST", "/api/v1/instruments", h.admin, map[string]any{"name": "film", "kind": "agentfilm", "accreditation": "OPEN"}); r.status != 201 {
		t.Fatalf("add instrument: %d %s", r.status, r.body)
	}
	withFacts, err := library.New(library.Config{DB: h.db, Catalog: h.cat, Index: h.ix, Authz: h.az, Principals: h.ids, Extract: extract.Extract})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := withFacts.ImportDocuments(ctx, h.principal("ann"), "OPEN", "", []lit.Document{
		litDoc("Iodide", "The band gap of CsPbI3 is 1.73 eV at 300 K."),
		litDoc("Bromide", "The band gap of CsPbBr3 is 2.36 eV at 320 K."),
	}); err != nil {
		t.Fatal(err)
	}
	draftOf := func(token, floor string) agent.Draft {
		t.Helper()
		var run agent.Run
		if r := h.do("POST", "/api/v1/agent/hypothesize", token, map[string]any{"target": map[string]any{"property": "band_gap", "value": 2.0, "unit": "eV"}, "methods": []string{"gap"}, "label": floor}); r.status != 201 {
			t.Fatalf("hypothesize: %d %s", r.status, r.body)
		} else {
			r.decode(t, &run)
		}
		for _, hy := range run.Hypotheses {
			if hy.Gap != nil && hy.Gap.Kind == "mix" {
				var d agent.Draft
				if r := h.do("POST", "/api/v1/agent/hypotheses/"+hy.ID+"/propose-campaign", token, map[string]any{"instrument": "film", "action": "anneal"}); r.status != 201 {
					t.Fatalf("propose: %d %s", r.status, r.body)
				} else {
					r.decode(t, &d)
				}
				return d
			}
		}
		t.Fatalf("no mix hypothesis: %+v", run.Hypotheses)
		return agent.Draft{}
	}
	d := draftOf(ann, "OPEN")
	sp, err := campaign.Parse([]byte(d.Campaign))
	if err != nil || d.Executor != "instrument" || sp.Executor.Instrument != "film" || sp.Executor.Action != "anneal" {
		t.Fatalf("draft on the instrument: %v %s\n%s\n%s", err, d.Executor, d.Campaign, d.Notes)
	}
	h.do("POST", "/api/v1/agent/drafts/"+d.ID+"/approve", ann, nil)
	var cp campaign.Campaign
	if r := h.do("POST", "/api/v1/agent/drafts/"+d.ID+"/start", ann, nil); r.status != 201 {
		t.Fatalf("start: %d %s", r.status, r.body)
	} else {
		r.decode(t, &cp)
	}
	if cp.Spec.Executor.Instrument != "film" {
		t.Errorf("campaign executor %+v", cp.Spec.Executor)
	}
	pd := draftOf(carol, "PROPRIETARY")
	if pd.Label != "PROPRIETARY" || pd.Executor != "job" || !strings.Contains(pd.Notes, "accredited for PROPRIETARY") {
		t.Errorf("proprietary draft: %s %s\n%s", pd.Label, pd.Executor, pd.Notes)
	}
}
