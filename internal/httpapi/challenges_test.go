package httpapi_test

import (
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/mission"
)

const challengeYAML = `name: %s
title: Cheaper rare-earth separation
domain: critical minerals
statement: |
  Separate neodymium from praseodymium at a fraction of today's cost.
lead: chl-lab
label: %s
targets:
  - {metric: purity, unit: "%%", direction: max, target: 99.5, baseline: 95}
`

// exerciseChallenges drives the challenge endpoints: create (YAML and
// JSON), list with a domain and pages, get, patch and progress, and a
// hidden challenge answered exactly as a missing one.
func exerciseChallenges(t *testing.T, h *harness) {
	if r := h.do("POST", "/api/v1/organizations", h.admin, map[string]any{"name": "chl-lab", "country": "USA", "kind": "laboratory"}); r.status != 201 {
		t.Fatalf("org: %d %s", r.status, r.body)
	}
	bob := h.token("chl-bob", "OPEN")
	carol := h.token("chl-carol", "PROPRIETARY")
	mk := func(tok, name, label string) mission.Challenge {
		t.Helper()
		body := strings.Replace(strings.Replace(strings.Replace(challengeYAML, "%s", name, 1), "%s", label, 1), "%%", "%", 1)
		r := h.do("POST", "/api/v1/challenges", tok, body, "Content-Type", "application/yaml")
		if r.status != 201 {
			t.Fatalf("create %s: %d %s", name, r.status, r.body)
		}
		var c mission.Challenge
		r.decode(t, &c)
		return c
	}
	open := mk(bob, "rare-earths", "OPEN")
	secret := mk(carol, "rare-earths-p", "PROPRIETARY")
	if open.Domain != "critical-minerals-materials" || open.Lead.Name != "chl-lab" {
		t.Errorf("created %+v", open)
	}
	// JSON works too; a typo is refused naming the field.
	if r := h.do("POST", "/api/v1/challenges", bob, map[string]any{"name": "x", "titel": "y"}); r.status != 400 || r.problem(t).Field != "titel" {
		t.Errorf("typo: %d %s", r.status, r.body)
	}
	var list struct {
		Items []mission.Challenge `json:"items"`
		Next  string              `json:"next"`
	}
	h.do("GET", "/api/v1/challenges?limit=1", carol, nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != secret.ID || list.Next == "" {
		t.Errorf("carol's first page %+v", list)
	}
	list.Items = nil
	h.do("GET", "/api/v1/challenges?domain=critical-minerals-materials", bob, nil).decode(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != open.ID {
		t.Errorf("bob's list %+v", list.Items)
	}
	if r := h.do("GET", "/api/v1/challenges?domain=robotcs", bob, nil); r.status != 400 || r.problem(t).Field != "domain" {
		t.Errorf("bad domain: %d %s", r.status, r.body)
	}
	// Hidden = missing.
	hid := h.do("GET", "/api/v1/challenges/"+secret.ID, bob, nil)
	miss := h.do("GET", "/api/v1/challenges/chl_missing0000000", bob, nil)
	if hid.status != 404 || miss.status != 404 || hid.problem(t).Kind != miss.problem(t).Kind {
		t.Errorf("hidden %d %s, missing %d %s", hid.status, hid.body, miss.status, miss.body)
	}
	if strings.Contains(string(hid.body), "rare-earths-p") {
		t.Errorf("hidden answer names it: %s", hid.body)
	}
	var c mission.Challenge
	if r := h.do("PATCH", "/api/v1/challenges/rare-earths", bob, map[string]any{"title": "Cheaper separation"}); r.status != 200 {
		t.Errorf("patch: %d %s", r.status, r.body)
	} else if r.decode(t, &c); c.Title != "Cheaper separation" {
		t.Errorf("patched %+v", c)
	}
	if r := h.do("PATCH", "/api/v1/challenges/"+secret.ID, bob, map[string]any{"title": "mine"}); r.status != 404 {
		t.Errorf("patch hidden: %d %s", r.status, r.body)
	}
	var pr mission.Progress
	if r := h.do("GET", "/api/v1/challenges/rare-earths/progress", bob, nil); r.status != 200 {
		t.Errorf("progress: %d %s", r.status, r.body)
	} else if r.decode(t, &pr); len(pr.Targets) != 1 || pr.Targets[0].Reached || pr.Targets[0].Metric != "purity" {
		t.Errorf("progress %+v", pr)
	}
}
