package meta

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestAssessComplete(t *testing.T) {
	c := validCore()
	if q := Assess(&c); q.Score != 100 || len(q.Findings) != 0 {
		t.Errorf("complete core: %d %+v", q.Score, q.Findings)
	}
	if q := Assess(&Core{}); q.Score != 0 {
		t.Errorf("empty core: %d", q.Score)
	}
}

func TestAssessFindings(t *testing.T) {
	for _, tc := range []struct {
		mut     func(c *Core)
		message string
		score   int
	}{
		{func(c *Core) { c.License = "" }, "missing license", 85},
		{func(c *Core) { c.Creators[1].ORCID = "0000-0002-1825-0098" }, "invalid ORCID for creator 2", 96},
		{func(c *Core) { c.DOI = "10.1/x" }, "invalid DOI", 96},
		{func(c *Core) { c.License = "https://example.org/our-terms" }, `license "https://example.org/our-terms" is not a known SPDX id or license URL`, 93},
		{func(c *Core) { c.DOI, c.Identifiers = "", nil }, "missing identifier (DOI or other)", 88},
		{func(c *Core) { c.Domain = "" }, "missing domain", 93},
		{func(c *Core) { c.Keywords = nil }, "missing keywords", 93},
		{func(c *Core) { c.Description = "Short." }, "description shorter than 50 characters", 97},
		{func(c *Core) { c.Variables[0].Unit = "" }, "no unit for variable 1 (T1)", 99},
		{func(c *Core) { c.Temporal = nil }, "missing temporal (recommended)", 97},
		{func(c *Core) { c.Creators[0].ORCID = "" }, "no creator has an ORCID iD", 98},
		{func(c *Core) { c.Creators = []Creator{{Name: "Oak Ridge National Laboratory"}} }, "", 100},
	} {
		c := validCore()
		tc.mut(&c)
		q := Assess(&c)
		if q.Score != tc.score {
			t.Errorf("%q: score %d, want %d (%+v)", tc.message, q.Score, tc.score, q.Findings)
		}
		if tc.message != "" && !slices.ContainsFunc(q.Findings, func(f Finding) bool { return f.Message == tc.message }) {
			t.Errorf("findings %+v lack %q", q.Findings, tc.message)
		}
	}
}

// TestAssessProperty checks Assess on random cores against its contract:
// deterministic; the score is 100 minus the findings' penalties, clamped to
// [0, 100]; each missing required field is reported exactly once; and filling
// in a missing recommended field never lowers the score.
func TestAssessProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 2000 {
		c := randomCore(r)
		if r.IntN(4) == 0 && len(c.Creators) > 0 {
			c.Creators[0].ORCID = "0000-0002-1825-009" + string(rune('0'+r.IntN(10)))
		}
		q := Assess(&c)
		if q2 := Assess(&c); !reflect.DeepEqual(q, q2) {
			t.Fatal("not deterministic")
		}
		sum := 0
		for _, f := range q.Findings {
			if f.Penalty <= 0 {
				t.Fatalf("finding without penalty: %+v", f)
			}
			sum += f.Penalty
		}
		if want := max(0, 100-sum); q.Score != want || q.Score < 0 || q.Score > 100 {
			t.Fatalf("case %d: score %d, penalties sum %d", i, q.Score, sum)
		}
		missing := map[string]bool{"description": c.Description == "", "creators": len(c.Creators) == 0, "license": c.License == "",
			"identifier": c.DOI == "" && len(c.Identifiers) == 0, "keywords": len(c.Keywords) == 0, "domain": c.Domain == ""}
		for field, miss := range missing {
			n := 0
			for _, f := range q.Findings {
				if f.Field == field && strings.HasPrefix(f.Message, "missing ") {
					n++
				}
			}
			if (n == 1) != miss || n > 1 {
				t.Fatalf("case %d: %s missing=%v reported %d times", i, field, miss, n)
			}
		}
		if c.Variables == nil {
			d := c
			d.Variables = []Variable{{Name: "v", Unit: "m"}}
			if Assess(&d).Score < q.Score {
				t.Fatalf("case %d: adding a variable lowered the score", i)
			}
		}
	}
}
