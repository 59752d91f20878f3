package authz

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// FuzzParseCases feeds arbitrary documents to ParseCases. It must never
// panic; a rejection is Invalid with a user-safe message; an accepted
// document runs under the default policy either to one result per case,
// each a known outcome with OK consistent with the expectation, or to an
// Invalid error naming the inconsistency.
func FuzzParseCases(f *testing.F) {
	if doc, err := os.ReadFile("testdata/cases.yaml"); err == nil {
		f.Add(doc)
	} else {
		f.Fatal(err)
	}
	for _, s := range []string{
		"", "{}", "null", "~", "[]", "- 1", "now: x", "now: 2026-01-01T00:00:00Z",
		"unknown: 1",
		"principals: {a: {}}\nresources: {r: {}}\ncases: [{principal: a, resource: r, action: read, expect: allow}]",
		"principals: {a: {clearance: {level: BOGUS}}}",
		"principals: {a: {clearance: {level: OPEN, compartments: ['@@', '']}}}",
		"resources: {r: {label: '//'}}\nprincipals: {a: {}}\ncases: [{principal: a, resource: r, action: read, expect: deny}]",
		"principals: {a: {}}\nresources: {r: {}}\ncases: [{principal: a, resource: r, action: '', expect: maybe}]",
		"cases: [{principal: nobody}]",
		"agreements: [{id: x, parties: [a, a], not_after: 0001-01-01T00:00:00Z}]",
		"a: &a [*a, *a]", "a: &x {b: *x}", "!!binary AAAA", "\x00", "\xff\xfe",
		"now: " + strings.Repeat("9", 400), strings.Repeat("[", 10000),
		"principals:\n  a:\n    project_roles: {p: [x, y], q: []}\n",
		"cases: !0000000000 00", "cases: !x 0", // once panicked in the YAML decoder
	} {
		f.Add([]byte(s))
	}
	pol, err := ParsePolicy(DefaultPolicy())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		c, err := ParseCases(doc)
		if err != nil {
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("error of kind %v: %v", errors.KindOf(err), err)
			}
			if errors.SafeMessage(err) == "" {
				t.Fatalf("error without a user-safe message: %v", err)
			}
			return
		}
		if c == nil {
			t.Fatal("nil Cases without an error")
		}
		res, err := c.Run(context.Background(), pol)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.SafeMessage(err) == "" {
				t.Fatalf("Run: %v (kind %v)", err, errors.KindOf(err))
			}
			return
		}
		if len(res) != len(c.Cases) {
			t.Fatalf("%d results for %d cases", len(res), len(c.Cases))
		}
		for i, r := range res {
			switch r.Got {
			case "allow", "not-exist", "permission":
			default:
				if !strings.HasPrefix(r.Got, "error:") {
					t.Fatalf("case %d: outcome %q", i, r.Got)
				}
			}
			want := r.Got == r.Case.Expect || r.Case.Expect == "deny" && (r.Got == "not-exist" || r.Got == "permission")
			if r.OK != want || r.Case != c.Cases[i] {
				t.Fatalf("case %d: %+v", i, r)
			}
		}
	})
}
