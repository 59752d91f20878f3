package httpapi_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestMadeUpTokensNotInterned: label interns compartments, agreements and
// nations process-wide, up to label.MaxDistinct each, and never forgets
// them. A signed-in user sending markings with made-up compartments or
// agreements, through any entry point, must not grow those tables (else
// enough requests fill them and every compartment registered afterwards
// fails to parse until a restart); and a compartment registered afterwards
// still works.
func TestMadeUpTokensNotInterned(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	admin := h.admin
	must := func(r resp, want int) resp {
		t.Helper()
		if r.status != want {
			t.Fatalf("status %d, want %d: %s", r.status, want, r.body)
		}
		return r
	}
	must(h.do("POST", "/api/v1/compartments", admin, map[string]any{"name": "fusion"}), 201)
	must(h.do("POST", "/api/v1/compartments", admin, map[string]any{"name": "secret-project"}), 201)
	token := func(name, clearance, role string) string {
		must(h.do("POST", "/api/v1/principals", admin, map[string]any{"name": name, "clearance": clearance, "roles": []string{role}}), 201)
		var tr httpapi.CreateTokenResponse
		must(h.do("POST", "/api/v1/principals/"+name+"/tokens", admin, map[string]any{"name": "t"}), 201).decode(t, &tr)
		return tr.Secret
	}
	alice := token("alice", "PROPRIETARY//FUSION", "contributor")
	must(h.do("POST", "/api/v1/datasets", alice, map[string]any{"name": "d", "label": "OPEN"}), 201)
	importDoc, err := os.ReadFile("../catalog/meta/testdata/noaa-nasa-data.json")
	if err != nil {
		t.Fatal(err)
	}

	run := fmt.Sprintf("%08X", rand.Uint32())
	const n = 40 // distinct made-up tokens per entry point
	for ci, c := range []struct {
		name string
		send func(tok string) resp
		want int // status, for a made-up compartment/agreement
	}{
		{"dataset label compartment", func(tok string) resp {
			return h.do("POST", "/api/v1/datasets", alice, map[string]any{"name": "x", "label": "PROPRIETARY//" + tok})
		}, 400},
		{"dataset label agreement", func(tok string) resp {
			return h.do("POST", "/api/v1/datasets", alice, map[string]any{"name": "x", "label": "PROPRIETARY//FUSION//AGR:" + tok})
		}, 400},
		{"relabel", func(tok string) resp {
			return h.do("POST", "/api/v1/assets/d/label", alice, map[string]any{"label": "NATIONAL-SECURITY//FUSION/" + tok})
		}, 400},
		{"model label floor", func(tok string) resp {
			return h.do("POST", "/api/v1/models", alice, map[string]any{"name": "m", "label_floor": "PROPRIETARY//" + tok})
		}, 400},
		{"metadata import label", func(tok string) resp {
			return h.do("POST", "/api/v1/catalog/import?format=auto&label="+url.QueryEscape("PROPRIETARY//"+tok), alice, importDoc, "Content-Type", "application/octet-stream")
		}, 400},
		{"job label floor", func(tok string) resp {
			return h.do("POST", "/api/v1/jobs", alice, map[string]any{"executable": "/bin/true", "label": "PROPRIETARY//AGR:" + tok, "attributes": map[string]any{"duration": "1m"}})
		}, 400},
		{"audit label filter", func(tok string) resp {
			return h.do("GET", "/api/v1/audit/entries?label="+url.QueryEscape("PROPRIETARY//"+tok+"//AGR:"+tok), alice, nil)
		}, 200},
		{"set clearance (admin)", func(tok string) resp {
			return h.do("POST", "/api/v1/principals/alice/clearance", admin, map[string]any{"clearance": "PROPRIETARY//FUSION/" + tok})
		}, 400},
		{"create principal (admin)", func(tok string) resp {
			return h.do("POST", "/api/v1/principals", admin, map[string]any{"name": "bob", "clearance": "PROPRIETARY//" + tok})
		}, 400},
		{"site accreditation (admin)", func(tok string) resp {
			return h.do("POST", "/api/v1/sites", admin, map[string]any{"name": "s", "kind": "local", "accreditation": "PROPRIETARY//" + tok + "//AGR:" + tok,
				"capacity": map[string]any{"nodes": 1, "cores_per_node": 1, "memory_gb_per_node": 1}})
		}, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			comps, agrs := label.Interned(label.Compartment), label.Interned(label.Agreement)
			for i := range n {
				tok := fmt.Sprintf("MADE-UP-%s-%d-%d", run, ci, i)
				if r := c.send(tok); r.status != c.want {
					t.Fatalf("%s: status %d, want %d: %s", tok, r.status, c.want, r.body)
				}
			}
			if g := label.Interned(label.Compartment) - comps; g != 0 {
				t.Errorf("%d made-up compartments interned", g)
			}
			if g := label.Interned(label.Agreement) - agrs; g != 0 {
				t.Errorf("%d made-up agreements interned", g)
			}
		})
	}

	// To alice, a compartment she is not read into and a made-up one look
	// the same, in a marking she types and in a filter.
	for _, path := range []string{"/api/v1/datasets", "/api/v1/audit/entries?label="} {
		var got [2]string
		for i, comp := range []string{"SECRET-PROJECT", "MADE-UP-" + run} {
			var r resp
			if strings.HasPrefix(path, "/api/v1/audit") {
				r = h.do("GET", path+url.QueryEscape("PROPRIETARY//"+comp), alice, nil)
			} else {
				r = h.do("POST", path, alice, map[string]any{"name": "y", "label": "PROPRIETARY//" + comp})
			}
			var m map[string]any
			json.Unmarshal([]byte(strings.ReplaceAll(string(r.body), comp, "C")), &m)
			delete(m, "request_id")
			delete(m, "next") // the audit log grows with each request
			delete(m, "size")
			b, _ := json.Marshal(m)
			got[i] = fmt.Sprintf("%d %s", r.status, b)
		}
		if got[0] != got[1] {
			t.Errorf("%s: existing compartment and made-up one answered differently:\n%s\n%s", path, got[0], got[1])
		}
	}

	// A compartment registered afterwards still works.
	must(h.do("POST", "/api/v1/compartments", admin, map[string]any{"name": "late-" + run}), 201)
	must(h.do("POST", "/api/v1/principals/alice/clearance", admin, map[string]any{"clearance": "PROPRIETARY//FUSION/LATE-" + run}), 200)
	must(h.do("POST", "/api/v1/datasets", alice, map[string]any{"name": "late", "label": "PROPRIETARY//LATE-" + run}), 201)
}
