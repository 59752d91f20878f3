package httpapi_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

const litPaper = `---
doi: 10.5555/lit.http.1
authors:
  - Ada Lovelace
year: 2025
---

# Cerium oxide catalysts for water splitting

## Abstract

We report ceria catalysts with high activity.

## Results

The ceria films were annealed at 500 °C. Ceria photocatalysts split water under sunlight.
`

func TestLiteratureAPI(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	exerciseLiterature(t, newHarness(t, db))
}

// exerciseLiterature drives every literature operation (TestAPI runs it
// too, so that every documented operation is exercised).
func exerciseLiterature(t *testing.T, h *harness) {
	alice := h.token("lit-alice", "PROPRIETARY")
	bob := h.token("lit-bob", "OPEN")
	oct := []string{"Content-Type", "application/octet-stream"}

	// Bob may not create PROPRIETARY publications: 403 before the body.
	if r := h.do("POST", "/api/v1/lit/import?name=paper.md&label=PROPRIETARY", bob, litPaper, oct...); r.status != 403 {
		t.Fatalf("bob import: %d %s", r.status, r.body)
	}
	r := h.do("POST", "/api/v1/lit/import?name=paper.md&label=PROPRIETARY", alice, litPaper, oct...)
	if r.status != 200 {
		t.Fatalf("import: %d %s", r.status, r.body)
	}
	var res library.ImportResult
	r.decode(t, &res)
	if len(res.Publications) != 1 || res.Publications[0].Status != "created" || res.Publications[0].Name != "doi-10.5555-lit.http.1" {
		t.Fatalf("import: %+v", res)
	}
	pub := res.Publications[0]
	// Again: unchanged.
	r = h.do("POST", "/api/v1/lit/import?name=paper.md&label=PROPRIETARY", alice, litPaper, oct...)
	r.decode(t, &res)
	if res.Publications[0].Status != "unchanged" {
		t.Errorf("re-import: %+v", res)
	}

	var sr struct{ Hits []lit.Hit }
	r = h.do("GET", "/api/v1/lit/search?q="+url.QueryEscape("ceria water")+"&mode=bm25", alice, nil)
	r.decode(t, &sr)
	if r.status != 200 || len(sr.Hits) == 0 || sr.Hits[0].Publication != pub.ID || !strings.Contains(sr.Hits[0].Citation, "Lovelace") {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	psg := sr.Hits[0].ID
	// Bob sees none of it; hidden answers exactly as missing.
	if r := h.do("GET", "/api/v1/lit/search?q=ceria", bob, nil); r.status != 200 || strings.Contains(string(r.body), "ceria") {
		t.Errorf("bob search: %d %s", r.status, r.body)
	}
	hidden := h.do("GET", "/api/v1/lit/passages/"+psg, bob, nil)
	missing := h.do("GET", "/api/v1/lit/passages/psg_000000000000000000000000", bob, nil)
	if hidden.status != 404 || missing.status != 404 || strings.Contains(string(hidden.body), psg) != strings.Contains(string(missing.body), "psg_000000000000000000000000") {
		t.Errorf("hidden %d %s, missing %d %s", hidden.status, hidden.body, missing.status, missing.body)
	}
	if r := h.do("GET", "/api/v1/lit/publications/"+pub.Name, bob, nil); r.status != 404 {
		t.Errorf("bob publication: %d", r.status)
	}
	if r := h.do("GET", "/api/v1/lit/facts?publication="+pub.ID, bob, nil); r.status != 404 {
		t.Errorf("bob facts of hidden: %d", r.status)
	}
	// Alice reads it.
	if r := h.do("GET", "/api/v1/lit/passages/"+psg, alice, nil); r.status != 200 {
		t.Errorf("alice passage: %d %s", r.status, r.body)
	}
	var p struct {
		lit.Publication
		PassageList []lit.Passage `json:"passage_list"`
	}
	r = h.do("GET", "/api/v1/lit/publications/"+pub.Name+"?passages=true", alice, nil)
	r.decode(t, &p)
	if r.status != 200 || p.ID != pub.ID || p.Passages != len(p.PassageList) || p.Passages == 0 || p.Label != "PROPRIETARY" {
		t.Errorf("alice publication: %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/lit/facts?limit=10", alice, nil); r.status != 200 {
		t.Errorf("facts: %d %s", r.status, r.body)
	}
	// Hybrid without an embedder: 400 naming mode.
	if r := h.do("GET", "/api/v1/lit/search?q=ceria&mode=hybrid", alice, nil); r.status != 400 || !strings.Contains(string(r.body), "mode") {
		t.Errorf("hybrid: %d %s", r.status, r.body)
	}
	// Over 64 MiB: 413.
	big := strings.Repeat("a", library.MaxImportBytes+10)
	if r := h.do("POST", "/api/v1/lit/import?name=big.txt&label=OPEN", alice, big, oct...); r.status != 413 {
		t.Errorf("oversized: %d %s", r.status, r.body)
	}
}
