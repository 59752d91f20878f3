package httpapi_test

import (
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestHostileInputRefused: text with NUL, terminal escapes or bidi
// overrides, an empty clearance, compartments on OPEN or unknown ones,
// label typos and absurd numbers are each refused with a 400 problem
// document naming the field and saying what is wrong — through the API,
// so the CLI and every client get the same.
func TestHostileInputRefused(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	admin := h.admin
	mustStatus := func(r resp, want int) resp {
		t.Helper()
		if r.status != want {
			t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
		}
		return r
	}
	mustStatus(h.do("POST", "/api/v1/compartments", admin, map[string]any{"name": "fusion"}), 201)
	mustStatus(h.do("POST", "/api/v1/organizations", admin, map[string]any{"name": "acme", "country": "USA"}), 201)
	mustStatus(h.do("POST", "/api/v1/projects", admin, map[string]any{"name": "p"}), 201)
	mustStatus(h.do("POST", "/api/v1/sites", admin, map[string]any{"name": "s1", "kind": "local", "accreditation": "PROPRIETARY//FUSION",
		"capacity": map[string]any{"nodes": 2, "cores_per_node": 4, "memory_gb_per_node": 8}}), 201)
	token := func(name, clearance string) string {
		mustStatus(h.do("POST", "/api/v1/principals", admin, map[string]any{"name": name, "clearance": clearance, "roles": []string{"contributor"}}), 201)
		var tr httpapi.CreateTokenResponse
		mustStatus(h.do("POST", "/api/v1/principals/"+name+"/tokens", admin, map[string]any{"name": "t"}), 201).decode(t, &tr)
		return tr.Secret
	}
	alice := token("alice", "PROPRIETARY//FUSION")
	site := func(change func(map[string]any)) map[string]any {
		s := map[string]any{"name": "s2", "kind": "local", "accreditation": "OPEN",
			"capacity": map[string]any{"nodes": 1, "cores_per_node": 1, "memory_gb_per_node": 1}}
		change(s)
		return s
	}
	capacity := func(k string, v any) func(map[string]any) {
		return func(s map[string]any) { s["capacity"].(map[string]any)[k] = v }
	}

	for _, c := range []struct {
		name, method, path, token string
		body                      any
		field, detail             string
	}{
		{"principal NUL in name", "POST", "/api/v1/principals", admin, map[string]any{"name": "bob\x00"}, "name", "NUL character (U+0000) at byte 3"},
		{"principal escape in display name", "POST", "/api/v1/principals", admin, map[string]any{"name": "bob", "display_name": "Bob\x1b[31m"}, "display_name", "terminal escape character (U+001B) at byte 3"},
		{"principal empty clearance", "POST", "/api/v1/principals", admin, map[string]any{"name": "bob", "clearance": ""}, "clearance", "a clearance marking is required"},
		{"principal OPEN with compartment", "POST", "/api/v1/principals", admin, map[string]any{"name": "bob", "clearance": "OPEN//FUSION"}, "clearance", `OPEN carries no compartments`},
		{"principal misspelled compartment", "POST", "/api/v1/principals", admin, map[string]any{"name": "bob", "clearance": "PROPRIETARY//FUSON"}, "clearance", `did you mean "PROPRIETARY//FUSION"?`},
		{"set empty clearance", "POST", "/api/v1/principals/alice/clearance", admin, map[string]any{"clearance": ""}, "clearance", "a clearance marking is required"},
		{"set single-slash clearance", "POST", "/api/v1/principals/alice/clearance", admin, map[string]any{"clearance": "PROPRIETARY/FUSION"}, "clearance", `did you mean "PROPRIETARY//FUSION"?`},
		{"org bidi override", "POST", "/api/v1/organizations", admin, map[string]any{"name": "evil", "country": "USA", "display_name": "ab\u202ecd"}, "display_name", "bidirectional control character (U+202E) at byte 2"},
		{"project escape in title", "POST", "/api/v1/projects", admin, map[string]any{"name": "q", "title": "\x1b]0;owned\x07"}, "title", "U+001B) at byte 0"},
		{"token escape in name", "POST", "/api/v1/principals/alice/tokens", admin, map[string]any{"name": "x\x1b[2J"}, "name", "U+001B"},
		{"agreement NUL in title", "POST", "/api/v1/agreements", admin, map[string]any{"id": "CRADA-1", "type": "CRADA", "parties": []string{"acme"},
			"not_before": "2026-01-01T00:00:00Z", "not_after": "2030-01-01T00:00:00Z", "title": "a\x00"}, "title", "U+0000"},
		{"compartment with a blank", "POST", "/api/v1/compartments", admin, map[string]any{"name": "FU SION"}, "name", "compartment"},
		{"dataset single slash", "POST", "/api/v1/datasets", alice, map[string]any{"name": "d", "label": "PROPRIETARY/FUSION"}, "label", `did you mean "PROPRIETARY//FUSION"?`},
		{"dataset OPEN with compartment", "POST", "/api/v1/datasets", alice, map[string]any{"name": "d", "label": "OPEN//FUSION"}, "label", "OPEN carries no compartments"},
		{"dataset misspelled compartment", "POST", "/api/v1/datasets", alice, map[string]any{"name": "d", "label": "PROPRIETARY//FUSON"}, "label", `did you mean "PROPRIETARY//FUSION"?`},
		{"dataset NUL in title", "POST", "/api/v1/datasets", alice, map[string]any{"name": "d", "label": "OPEN", "title": "a\x00b"}, "title", "U+0000) at byte 1"},
		{"dataset escape in description", "POST", "/api/v1/datasets", alice, map[string]any{"name": "d", "label": "OPEN", "description": "ok\n\x1b[8m"}, "description", "U+001B) at byte 3"},
		{"dataset 1 MB title", "POST", "/api/v1/datasets", alice, map[string]any{"name": "d", "label": "OPEN", "title": strings.Repeat("a", 600)}, "title", "longer than 512 bytes"},
		{"site power cap 1e300", "POST", "/api/v1/sites", admin, site(func(s map[string]any) { s["power_cap_kw"] = 1e300 }), "power_cap_kw", "must be from 0 to 10000000, not 1e+300"},
		{"site negative memory", "POST", "/api/v1/sites", admin, site(capacity("memory_gb_per_node", -1)), "capacity.memory_gb_per_node", "must be from 0"},
		{"site absurd nodes", "POST", "/api/v1/sites", admin, site(capacity("nodes", 1<<40)), "capacity.nodes", "must be from 1 to 1000000"},
		{"site huge bandwidth", "POST", "/api/v1/sites", admin, site(capacity("bandwidth_gbps", 1e300)), "capacity.bandwidth_gbps", "must be from 0"},
		{"site misspelled accreditation", "POST", "/api/v1/sites", admin, site(func(s map[string]any) { s["accreditation"] = "PROPRIETARY//FUSON" }), "accreditation", `did you mean "PROPRIETARY//FUSION"?`},
		{"site escape in name", "POST", "/api/v1/sites", admin, site(func(s map[string]any) { s["name"] = "s\x1b" }), "name", "U+001B"},
		{"heartbeat power draw 1e300", "POST", "/api/v1/sites/s1/heartbeat", admin, map[string]any{"status": "up", "power_draw_kw": 1e300}, "power_draw_kw", "must be from 0 to 10000000"},
		{"heartbeat negative power draw", "POST", "/api/v1/sites/s1/heartbeat", admin, map[string]any{"status": "up", "power_draw_kw": -5}, "power_draw_kw", "not -5"},
		{"heartbeat escape in reason", "POST", "/api/v1/sites/s1/heartbeat", admin, map[string]any{"status": "degraded", "reason": "\x1b[2J"}, "reason", "U+001B"},
		{"drain escape in reason", "POST", "/api/v1/sites/s1/drain", admin, map[string]any{"reason": "maintenance\u009b2J"}, "reason", "terminal escape character (U+009B) at byte 11"},
		{"allocation 1e300 hours", "POST", "/api/v1/allocations", admin, map[string]any{"project": "p", "site": "s1", "node_hours": 1e300}, "node_hours", "must be from 0 to 1000000000"},
		{"allocation negative GPU hours", "POST", "/api/v1/allocations", admin, map[string]any{"project": "p", "site": "s1", "node_hours": 1, "gpu_hours": -1}, "gpu_hours", "not -1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.method, c.path, c.token, c.body)
			if r.status != 400 {
				t.Fatalf("status %d, want 400: %s", r.status, r.body)
			}
			p := r.problem(t)
			if p.Field != c.field || !strings.Contains(p.Detail, c.detail) || !strings.HasPrefix(p.Detail, c.field+": ") {
				t.Errorf("problem %+v; want field %q and detail %q…%q", p, c.field, c.field+": ", c.detail)
			}
			if strings.ContainsAny(p.Detail, "\x00\x1b\u009b\u202e") {
				t.Errorf("detail echoes the hostile input: %q", p.Detail)
			}
		})
	}

	// What people legitimately write passes.
	mustStatus(h.do("POST", "/api/v1/datasets", alice, map[string]any{"name": "d", "label": "PROPRIETARY//FUSION",
		"title": "Études du plasma — 核融合 🚀", "description": "line one\n\tline two\r\nעברית"}), 201)
	mustStatus(h.do("POST", "/api/v1/principals", admin, map[string]any{"name": "carol"}), 201) // no clearance: OPEN

	// A compartment bob is not read into looks exactly like one that does
	// not exist: same status, field and detail, and no hint names it.
	bob := token("bob", "PROPRIETARY")
	known := h.do("POST", "/api/v1/datasets", bob, map[string]any{"name": "e", "label": "PROPRIETARY//FUSION"})
	missing := h.do("POST", "/api/v1/datasets", bob, map[string]any{"name": "e", "label": "PROPRIETARY//ZZZZZZ"})
	pk, pm := known.problem(t), missing.problem(t)
	if known.status != missing.status || pk.Field != pm.Field || strings.ReplaceAll(pk.Detail, "FUSION", "ZZZZZZ") != pm.Detail {
		t.Errorf("hidden compartment is distinguishable:\n known   %d %+v\n missing %d %+v", known.status, pk, missing.status, pm)
	}
	if typo := h.do("POST", "/api/v1/datasets", bob, map[string]any{"name": "e", "label": "PROPRIETARY//FUSON"}); strings.Contains(string(typo.body), "FUSION") {
		t.Errorf("a hint names a compartment bob is not read into: %s", typo.body)
	}
}
