package authz

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/label"
)

// TestExhaustiveRead checks every (principal, label) pair of a small
// universe against the reference model: 3 levels × 2⁴ compartment sets ×
// 2² agreement sets × 3 nation cases on each side (576 × 576 pairs).
// Nation cases: labels have no REL TO, REL TO USA, or REL TO USA, GBR;
// readers are US, British, or of unknown nationality.
func TestExhaustiveRead(t *testing.T) {
	comps := []string{"FUSION", "ITAR", "BIO", "QIS"}
	agrs := []string{"A1", "A2"}
	relSets := [][]string{nil, {"USA"}, {"USA", "GBR"}}
	nations := []string{"USA", "GBR", ""}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

	pick := func(from []string, mask int) []string {
		var out []string
		for i, s := range from {
			if mask&(1<<i) != 0 {
				out = append(out, s)
			}
		}
		return out
	}
	type labelCase struct {
		c diffCase // resource half
		r Resource
	}
	var labels []labelCase
	for lv := 0; lv < 3; lv++ {
		for cm := 0; cm < 1<<len(comps); cm++ {
			for am := 0; am < 1<<len(agrs); am++ {
				for ri, rel := range relSets {
					c := diffCase{RType: "dataset", RID: fmt.Sprintf("d%d", len(labels)), RProject: "p1",
						RLevel: lv, RComps: pick(comps, cm), RAgrs: pick(agrs, am), RRel: rel, RRelIsSet: ri > 0}
					l, err := label.New(label.Level(lv), c.RComps, c.RAgrs)
					if err != nil {
						t.Fatal(err)
					}
					if c.RRelIsSet {
						l, _ = l.WithReleasableTo(rel...)
					}
					labels = append(labels, labelCase{c, Resource{Type: Dataset, ID: c.RID, Label: l, Project: "p1"}})
				}
			}
		}
	}
	resources := make([]Resource, len(labels))
	for i, lc := range labels {
		resources[i] = lc.r
	}

	var pairs, allowed int
	for lv := 0; lv < 3; lv++ {
		for cm := 0; cm < 1<<len(comps); cm++ {
			for am := 0; am < 1<<len(agrs); am++ {
				for _, nat := range nations {
					var ags []Agreement
					for _, id := range pick(agrs, am) {
						ags = append(ags, Agreement{ID: id, Type: DataUse, Parties: []string{"org"},
							NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour)})
					}
					// An expired agreement for the others: must grant nothing.
					for _, id := range pick(agrs, ^am&3) {
						ags = append(ags, Agreement{ID: id, Type: DataUse, Parties: []string{"org"},
							NotBefore: now.Add(-2 * time.Hour), NotAfter: now})
					}
					pc := diffCase{PID: "u", PKind: "user", POrg: "org", PRoles: []string{"viewer"},
						PLevel: lv, PComps: pick(comps, cm), PNationality: nat, Action: "read", Agreements: ags, Now: now}
					p, _, err := pc.engineInputs()
					if err != nil {
						t.Fatal(err)
					}
					a := &Authorizer{facts: orgFacts(ags), now: func() time.Time { return now }}
					a.policy.Store(mustDefault(t))
					got, err := a.Readable(context.Background(), p, resources)
					if err != nil {
						t.Fatal(err)
					}
					for i, lc := range labels {
						c := pc
						c.RType, c.RID, c.RProject = lc.c.RType, lc.c.RID, lc.c.RProject
						c.RLevel, c.RComps, c.RAgrs, c.RRel, c.RRelIsSet = lc.c.RLevel, lc.c.RComps, lc.c.RAgrs, lc.c.RRel, lc.c.RRelIsSet
						want := reference(c) == "allow"
						if got[i] != want {
							t.Fatalf("Readable = %v, reference %v: %v", got[i], want, c)
						}
						if pairs%7 == 0 {
							if can := a.Can(context.Background(), p, Read, lc.r) == nil; can != want {
								t.Fatalf("Can = %v, reference %v: %v", can, want, c)
							}
						}
						pairs++
						if want {
							allowed++
						}
					}
				}
			}
		}
	}
	if pairs != 576*576 {
		t.Fatalf("%d pairs", pairs)
	}
	t.Logf("%d pairs, %d readable", pairs, allowed)
}

var defaultPol *Policy

func mustDefault(t testing.TB) *Policy {
	if defaultPol == nil {
		p, err := ParsePolicy(DefaultPolicy())
		if err != nil {
			t.Fatal(err)
		}
		defaultPol = p
	}
	return defaultPol
}
