package authz

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/label"
)

// TestCasesInternNothingNew: policy test cases are hypothetical, and a
// steward may run them as often as they like, so made-up compartments and
// agreements in them must not grow label's process-wide tables beyond a
// fixed pool of placeholders; and the renaming must not change a decision
// (a principal cleared for X reads a resource labelled X and not one
// labelled Y; tokens the policy names keep their meaning: TestPolicyCases).
func TestCasesInternNothingNew(t *testing.T) {
	pol, err := ParsePolicy(DefaultPolicy())
	if err != nil {
		t.Fatal(err)
	}
	doc := func(run string) []byte {
		var b strings.Builder
		fmt.Fprintf(&b, "now: 2026-06-01T00:00:00Z\nagreements:\n  - {id: AGR-%s, type: CRADA, parties: [acme], not_before: 2026-01-01T00:00:00Z, not_after: 2027-01-01T00:00:00Z, compartments: [G-%s]}\n", run, run)
		b.WriteString("principals:\n")
		fmt.Fprintf(&b, "  p: {org: acme, roles: [viewer], clearance: {level: PROPRIETARY, compartments: [X-%s, Y0-%s], nationality: USA}}\n", run, run)
		b.WriteString("resources:\n")
		fmt.Fprintf(&b, "  x: {type: dataset, label: 'PROPRIETARY//X-%s'}\n", run)
		fmt.Fprintf(&b, "  g: {type: dataset, label: 'PROPRIETARY//G-%s//AGR:AGR-%s'}\n", run, run)
		for i := range 60 {
			fmt.Fprintf(&b, "  y%d: {type: dataset, label: 'PROPRIETARY//Y%d-%s'}\n", i, i, run)
		}
		b.WriteString("cases:\n  - {principal: p, action: read, resource: x, expect: allow}\n  - {principal: p, action: read, resource: g, expect: allow}\n  - {principal: p, action: read, resource: y0, expect: allow}\n")
		for i := 1; i < 60; i++ {
			fmt.Fprintf(&b, "  - {principal: p, action: read, resource: y%d, expect: not-exist}\n", i)
		}
		return []byte(b.String())
	}
	runOnce := func() {
		t.Helper()
		c, err := ParseCases(doc(fmt.Sprintf("%08X", rand.Uint32())))
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Run(context.Background(), pol)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if !r.OK {
				t.Errorf("%s %s %s: got %s, want %s", r.Case.Principal, r.Case.Action, r.Case.Resource, r.Got, r.Case.Expect)
			}
		}
	}
	runOnce() // may intern placeholders the first time
	comps, agrs := label.Interned(label.Compartment), label.Interned(label.Agreement)
	for range 3 {
		runOnce()
	}
	if g := label.Interned(label.Compartment) - comps; g != 0 {
		t.Errorf("%d compartments interned by runs of made-up cases", g)
	}
	if g := label.Interned(label.Agreement) - agrs; g != 0 {
		t.Errorf("%d agreements interned by runs of made-up cases", g)
	}
}
