package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestMissionRoutes drives the mission endpoints as an administrator and
// a contributor, every answer checked against the OpenAPI document.
func TestMissionRoutes(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	bob := h.token("bob", "OPEN")

	var st plan.Status
	h.do("GET", "/api/v1/mission/status", bob, nil).decode(t, &st)
	if len(st.Milestones) != 5 {
		t.Fatalf("status: %+v", st)
	}
	for _, m := range st.Milestones {
		// The harness wires no sources: nothing fails, nothing is met.
		if m.Status != plan.NotAvailable || len(m.Missing) == 0 {
			t.Errorf("%s: %s %q", m.ID, m.Status, m.Missing)
		}
	}
	var stored plan.Stored
	h.do("GET", "/api/v1/mission/plan", bob, nil).decode(t, &stored)
	if !stored.Default || len(stored.Milestones) != 5 {
		t.Fatalf("plan: %+v", stored)
	}

	put := func(token, query, body string) resp {
		t.Helper()
		return h.do("PUT", "/api/v1/mission/plan"+query, token, body, "Content-Type", "application/yaml")
	}
	good := "milestones:\n  - id: sites\n    title: Sites inventoried\n    day: 30\n    check: inventory_complete\n"
	if r := put(bob, "", good); r.status != http.StatusForbidden {
		t.Errorf("contributor set the plan: %d %s", r.status, r.body)
	}
	r := put(h.admin, "", strings.Replace(good, "check:", "chek:", 1))
	if p := r.problem(t); r.status != http.StatusBadRequest || p.Field != "milestones[0].chek" || !strings.Contains(p.Detail, `did you mean "check"`) {
		t.Errorf("typo: %d %+v", r.status, p)
	}
	if r := put(h.admin, "?allow_past=maybe", good); r.status != http.StatusBadRequest {
		t.Errorf("allow_past=maybe: %d", r.status)
	}
	r = put(h.admin, "", "start: 2025-11-24\n"+good)
	if p := r.problem(t); r.status != http.StatusBadRequest || !strings.Contains(p.Detail, "in the past") {
		t.Errorf("past: %d %+v", r.status, p)
	}
	if r := put(h.admin, "?allow_past=true", "start: 2025-11-24\n"+good); r.status != http.StatusOK {
		t.Fatalf("allow past: %d %s", r.status, r.body)
	}
	h.do("GET", "/api/v1/mission/plan", bob, nil).decode(t, &stored)
	if stored.Default || stored.Start != "2025-11-24" || len(stored.Milestones) != 1 {
		t.Errorf("stored: %+v", stored)
	}

	risk := func(token string) map[string]string {
		var rs plan.Risks
		h.do("GET", "/api/v1/mission/risks", token, nil).decode(t, &rs)
		out := map[string]string{}
		for _, r := range rs.Risks {
			out[r.Name] = r.Level
		}
		return out
	}
	if l := risk(bob); l["leakage"] != plan.RiskNotAvailable || l["talent"] != plan.RiskNotAvailable {
		t.Errorf("contributor: %v", l)
	}
	// The administrator reads the audit log: the refused update is a denial
	// in this week's trend.
	var rs plan.Risks
	h.do("GET", "/api/v1/mission/risks", h.admin, nil).decode(t, &rs)
	if rs.Risks[0].Name != "leakage" || rs.Risks[0].Level == plan.RiskNotAvailable {
		t.Errorf("admin leakage: %+v", rs.Risks[0])
	}
}

// exerciseMission drives the mission and report operations inside TestAPI,
// on its populated platform, so every documented operation is exercised
// there too (the routes' own tests are TestMissionRoutes and
// TestAnnualReport*).
func exerciseMission(t *testing.T, h *harness) {
	t.Helper()
	if r := h.do("GET", "/api/v1/mission/status", h.admin, nil); r.status != http.StatusOK {
		t.Errorf("mission status: %d %s", r.status, r.body)
	}
	var stored plan.Stored
	h.do("GET", "/api/v1/mission/plan", h.admin, nil).decode(t, &stored)
	body := "milestones:\n  - id: sites\n    title: Sites inventoried\n    day: 3650\n    check: inventory_complete\n"
	if r := h.do("PUT", "/api/v1/mission/plan", h.admin, body, "Content-Type", "application/yaml"); r.status != http.StatusOK {
		t.Errorf("set plan: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/mission/risks", h.admin, nil); r.status != http.StatusOK {
		t.Errorf("mission risks: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/reports/annual?format=html", h.admin, nil); r.status != http.StatusOK || !strings.Contains(string(r.body), "<html") {
		t.Errorf("annual report: %d %.200s", r.status, r.body)
	}
}
