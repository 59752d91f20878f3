package plan

import (
	"strings"
	"testing"
	"time"
)

func level(rs *Risks, name string) Risk {
	for _, r := range rs.Risks {
		if r.Name == name {
			return r
		}
	}
	return Risk{}
}

func figure(r Risk, name string) float64 {
	for _, f := range r.Figures {
		if f.Name == name {
			return f.Value
		}
	}
	return -1
}

func TestRisks(t *testing.T) {
	week := 7 * 24 * time.Hour
	events := func(n int, ago time.Duration, action, decision string) []AuditEvent {
		var out []AuditEvent
		for range n {
			out = append(out, AuditEvent{Time: now.Add(-ago), Principal: "p_a", Action: action, Decision: decision})
		}
		return out
	}
	var audit []AuditEvent
	audit = append(audit, events(2, 2*week, "dataset.read", "deny")...)
	audit = append(audit, events(12, time.Hour, "dataset.read", "deny")...)
	audit = append(audit, events(1, time.Hour, "declassify.approve", "allow")...)
	audit = append(audit, events(50, 20*week, "dataset.read", "deny")...) // outside the window
	recent, old := now.Add(-time.Hour), now.Add(-40*24*time.Hour)
	people := []Person{{ID: "p_a", Org: "argonne"}, {ID: "p_b", Org: "mit", TokenUsed: &old}, {ID: "p_c", Org: "mit", Disabled: true},
		{ID: "p_d", Org: "lbnl", TokenUsed: &recent}}
	s := &State{Now: now,
		Sites:  ptr([]Site{{Name: "a", PowerCapKW: 100, PowerDrawKW: 50}, {Name: "b", PowerCapKW: 100, PowerDrawKW: 96}}),
		Assets: ptr([]Asset{{Name: "x", Kind: "dataset", Quality: 80, Linked: true}, {Name: "y", Kind: "dataset", Quality: 20}, {Name: "m", Kind: "model", Quality: 0}}),
	}
	rs := ComputeRisks(s, RiskInputs{Audit: &audit, People: &people})

	leak := level(rs, "leakage")
	if leak.Level != RiskHigh || figure(leak, "denied_week_minus_0") != 12 || figure(leak, "denied_week_minus_2") != 2 || figure(leak, "declassifications_week_minus_0") != 1 {
		t.Errorf("leakage: %+v", leak)
	}
	silo := level(rs, "silos")
	if silo.Level != RiskHigh || figure(silo, "datasets") != 2 || figure(silo, "poor_metadata") != 1 || figure(silo, "unlinked") != 1 {
		t.Errorf("silos: %+v", silo)
	}
	en := level(rs, "energy")
	if en.Level != RiskHigh || figure(en, "power_draw_kw") != 146 || len(en.Evidence) != 1 || !strings.Contains(en.Evidence[0].Text, "site b draws 96 kW") {
		t.Errorf("energy: %+v", en)
	}
	tal := level(rs, "talent")
	if tal.Level != RiskWatch || figure(tal, "active:argonne") != 1 || figure(tal, "active:mit") != 0 || figure(tal, "active:lbnl") != 1 {
		t.Errorf("talent: %+v", tal)
	}

	// A quiet week after a busy past is ok; a site at 85 % is watched.
	quiet := events(10, 3*week, "dataset.read", "deny")
	s.Sites = ptr([]Site{{Name: "a", PowerCapKW: 100, PowerDrawKW: 85}})
	rs = ComputeRisks(s, RiskInputs{Audit: &quiet})
	if l := level(rs, "leakage").Level; l != RiskOK {
		t.Errorf("quiet week: %s", l)
	}
	if l := level(rs, "energy").Level; l != RiskWatch {
		t.Errorf("85%%: %s", l)
	}

	// Nothing readable: every indicator says so, none fails.
	rs = ComputeRisks(&State{Now: now}, RiskInputs{})
	for _, r := range rs.Risks {
		if r.Level != RiskNotAvailable || r.Summary == "" || r.Figures == nil || r.Evidence == nil {
			t.Errorf("not available: %+v", r)
		}
	}
}
