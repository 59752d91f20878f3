package plan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
)

func TestDefaultPlan(t *testing.T) {
	p := Default()
	var days []int
	for _, m := range p.Milestones {
		if m.Day == nil {
			t.Fatalf("%s: no day", m.ID)
		}
		days = append(days, *m.Day)
	}
	if d := cmp.Diff([]int{60, 90, 120, 240, 270}, days); d != "" {
		t.Errorf("days (-want +got)\n%s", d)
	}
	if p.Start != "" {
		t.Errorf("default start %q: a new deployment counts from its first start", p.Start)
	}
	if got := p.Milestones[0].Params["min"]; got != 20 {
		t.Errorf("min %v", got)
	}
}

func TestParseSeeds(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, f := range files {
		if strings.HasSuffix(f, ".md") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(data)
		if (err == nil) == strings.Contains(f, "typo") {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	m := func(body string) string {
		return "milestones:\n  - id: a\n    title: A\n    day: 10\n    check: inventory_complete\n" + body
	}
	for _, tc := range []struct {
		doc, field, msg string
	}{
		{"", "milestones", "empty plan file"},
		{"start: 2026-01-01\n", "milestones", "missing"},
		{"milestones: []\n", "milestones", "at least one"},
		{"mielstones: []\n", "mielstones", `did you mean "milestones"`},
		{"start: yesterday\nmilestones: []\n", "start", "not a date"},
		{m("    parms: {}\n"), "milestones[0].parms", `did you mean "params"`},
		{m("    params: {min: 3}\n"), "milestones[0].params.min", "takes none"},
		{m("    date: 2026-05-01\n"), "milestones[0].date", "not both"},
		{m("  - id: a\n    title: B\n    day: 1\n    check: inventory_complete\n"), "milestones[1].id", "duplicate id"},
		{"milestones:\n  - {id: a, title: A, day: 1, check: inventory_compelte}\n", "milestones[0].check", `did you mean "inventory_complete"`},
		{"milestones:\n  - {id: a, title: A, day: 1, check: teleport}\n", "milestones[0].check", "unknown check kind"},
		{"milestones:\n  - {id: a, title: A, day: -1, check: inventory_complete}\n", "milestones[0].day", "whole number"},
		{"milestones:\n  - {id: a, title: A, day: 1.5, check: inventory_complete}\n", "milestones[0].day", "whole number"},
		{"milestones:\n  - {id: a, title: A, check: inventory_complete}\n", "milestones[0].day", "give day"},
		{"milestones:\n  - {id: A B, title: A, day: 1, check: inventory_complete}\n", "milestones[0].id", "lower-case"},
		{"milestones:\n  - {id: a, title: \"\\u001b[31m\", day: 1, check: inventory_complete}\n", "milestones[0].title", "terminal escape"},
		{"milestones:\n  - {id: a, title: A, day: 1, check: assets_identified, params: {min_quality: 101}}\n", "milestones[0].params.min_quality", "out of range 0..100"},
		{"milestones:\n  - {id: a, title: A, day: 1, check: assets_identified, params: {min_quality: high}}\n", "milestones[0].params.min_quality", "whole number"},
		{"milestones:\n  - {id: a, title: A, day: 1, check: challenges_identified, params: {domains: robotics}}\n", "milestones[0].params.domains", "list"},
		{"milestones:\n  - {id: a, title: A, day: 1, check: challenges_identified, params: {domains: [robotics, robotics]}}\n", "milestones[0].params.domains[1]", "twice"},
		{"milestones:\n  - {id: a, title: A, day: 1, check: challenges_identified, params: {mn: 3}}\n", "milestones[0].params.mn", `did you mean "min"`},
		{"milestones: &x [ *x ]\n", "", "anchors"},
	} {
		_, err := Parse([]byte(tc.doc))
		if err == nil {
			t.Errorf("%q: accepted", tc.doc)
			continue
		}
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != tc.field || !strings.Contains(errors.SafeMessage(err), tc.msg) {
			t.Errorf("%q: %v (field %q), want field %q and %q", tc.doc, err, errors.FieldOf(err), tc.field, tc.msg)
		}
	}
	if _, err := Parse([]byte(strings.Repeat("#", MaxPlanSize+1))); !errors.Is(errors.TooLarge, err) {
		t.Errorf("large: %v", err)
	}
}

func TestCheckChanges(t *testing.T) {
	first := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	old := Default()
	parse := func(s string) *Plan {
		p, err := Parse([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Day 60 from 2026-01-01 is past on 2026-03-15; unchanged, it may stay.
	today := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	if err := CheckChanges(old, Default(), first, today, false); err != nil {
		t.Errorf("unchanged plan: %v", err)
	}
	moved := parse("milestones:\n  - {id: challenges-identified, title: T, day: 61, check: challenges_identified}\n")
	err := CheckChanges(old, moved, first, today, false)
	if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "milestones[0].day" || !strings.Contains(errors.SafeMessage(err), "2026-03-03") {
		t.Errorf("moved into the past: %v", err)
	}
	if err := CheckChanges(old, moved, first, today, true); err != nil {
		t.Errorf("allow past: %v", err)
	}
	added := parse("milestones:\n  - {id: new, title: T, date: 2026-03-15, check: inventory_complete}\n")
	if err := CheckChanges(old, added, first, today, false); err != nil {
		t.Errorf("deadline today: %v", err)
	}
	added = parse("milestones:\n  - {id: new, title: T, date: 2026-03-14, check: inventory_complete}\n")
	if err := CheckChanges(old, added, first, today, false); errors.FieldOf(err) != "milestones[0].date" {
		t.Errorf("new milestone in the past: %v", err)
	}
}

// FuzzParse: whatever the input, Parse either refuses it with an Invalid
// or TooLarge error, or returns a plan that is valid (unique ids, known
// checks, one deadline each) and prints to a document that parses back to
// the same plan.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			if !errors.Is(errors.Invalid, err) && !errors.Is(errors.TooLarge, err) {
				t.Fatalf("error of kind %v: %v", errors.KindOf(err), err)
			}
			return
		}
		ids := map[string]bool{}
		for _, m := range p.Milestones {
			if ids[m.ID] || kinds[m.Check] == nil || (m.Day == nil) == (m.Date == "") {
				t.Fatalf("invalid plan accepted: %+v", m)
			}
			ids[m.ID] = true
		}
		again, err := Parse(p.Format())
		if err != nil {
			t.Fatalf("printed plan does not parse: %v\n%s", err, p.Format())
		}
		if d := cmp.Diff(p.Format(), again.Format()); d != "" {
			t.Fatalf("round trip (-first +second)\n%s", d)
		}
	})
}
