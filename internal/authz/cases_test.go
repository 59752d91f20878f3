package authz

import (
	"context"
	"os"
	"testing"
)

func TestPolicyCases(t *testing.T) {
	doc, err := os.ReadFile("testdata/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseCases(doc)
	if err != nil {
		t.Fatal(err)
	}
	pol, err := ParsePolicy(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.Run(context.Background(), pol)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) < 40 {
		t.Fatalf("only %d cases", len(res))
	}
	for _, r := range res {
		if !r.OK {
			t.Errorf("%s %s %s (%s): got %s, want %s", r.Case.Principal, r.Case.Action, r.Case.Resource, r.Case.Name, r.Got, r.Case.Expect)
		}
	}
}

// The cases must be able to fail: under a policy that permits everything,
// every case expecting a Permission denial must fail.
func TestPolicyCasesCanFail(t *testing.T) {
	doc, err := os.ReadFile("testdata/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cs, err := ParseCases(doc)
	if err != nil {
		t.Fatal(err)
	}
	lax, err := ParsePolicy([]byte(`permit (principal, action, resource);`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := cs.Run(context.Background(), lax)
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, r := range res {
		if r.Case.Expect == "permission" && r.OK {
			t.Errorf("%+v passed under permit-all", r.Case)
		}
		if !r.OK {
			failed++
		}
	}
	if failed == 0 {
		t.Fatal("no case failed under permit-all")
	}
}

func TestParseCasesRejects(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown field": "now: 2026-01-01T00:00:00Z\nprincipals: {a: {rolez: [admin]}}\n",
		"not yaml":      "cases: [",
	} {
		if _, err := ParseCases([]byte(doc)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	pol := mustDefault(t)
	for name, doc := range map[string]string{
		"unknown principal": "resources: {r: {type: dataset}}\ncases: [{principal: x, action: read, resource: r, expect: allow}]\n",
		"unknown resource":  "principals: {p: {}}\ncases: [{principal: p, action: read, resource: x, expect: allow}]\n",
		"bad expectation":   "principals: {p: {}}\nresources: {r: {type: dataset}}\ncases: [{principal: p, action: read, resource: r, expect: maybe}]\n",
		"bad marking":       "resources: {r: {type: dataset, label: SECRET}}\n",
		"bad level":         "principals: {p: {clearance: {level: COSMIC}}}\n",
	} {
		cs, err := ParseCases([]byte(doc))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if _, err := cs.Run(context.Background(), pol); err == nil {
			t.Errorf("%s: ran", name)
		}
	}
}
