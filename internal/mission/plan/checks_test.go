package plan

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/google/go-cmp/cmp"
)

func ptr[T any](xs []T) *[]T {
	if xs == nil {
		xs = []T{}
	}
	return &xs
}

var now = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var priority = []string{"advanced-manufacturing", "biotechnology", "critical-minerals-materials", "nuclear-fission-fusion",
	"quantum-information-science", "semiconductors-microelectronics", "robotics"}

func challenges(n int, domains ...string) []Challenge {
	var out []Challenge
	for i := range n {
		d := "other"
		if len(domains) > 0 {
			d = domains[i%len(domains)]
		}
		out = append(out, Challenge{ID: fmt.Sprintf("ch_%d", i), Name: fmt.Sprintf("ch-%d", i), Domain: d})
	}
	return out
}

func goodSite(name string) Site {
	return Site{Name: name, Status: "up", Accreditation: "OPEN", CapacityReported: true, PowerCapKW: 100, PowerDrawKW: 40, DrawReported: true}
}

func TestChecks(t *testing.T) {
	fullChallenges := challenges(20, priority...)
	linked := challenges(2, "biotechnology")
	linked[0].Assets = []string{"ds_good"}
	linked[1].Assets = []string{"poor", "ds_hidden"} // ds_hidden: not in the viewer's assets
	assets := []Asset{{ID: "ds_good", Name: "good", Kind: "dataset", Quality: 80}, {ID: "ds_poor", Name: "poor", Kind: "dataset", Quality: 30}}
	reached := challenges(1, "robotics")
	reached[0].Targets = []Target{{Metric: "yield", Reached: true, ReachedBy: "cmp_1"}}

	tests := []struct {
		name    string
		kind    string
		params  map[string]any
		state   State
		want    Result // Evidence is not compared
		wantAny bool   // only Available/Met/Missing compared when false
	}{
		{name: "challenges not available", kind: "challenges_identified", state: State{},
			want: Result{Missing: []string{"challenges: not on this platform yet"}}},
		{name: "no challenges", kind: "challenges_identified", params: map[string]any{"min": 20, "domains": priority}, state: State{Challenges: ptr[Challenge](nil)},
			want: Result{Available: true, Missing: []string{"20 more challenges (0 of 20 identified)", "no challenge in domain " + strings.Join(priority, ", ")}}},
		{name: "enough but a domain uncovered", kind: "challenges_identified", params: map[string]any{"min": 3, "domains": []string{"robotics", "Biotechnology"}},
			state: State{Challenges: ptr(challenges(3, "robotics"))},
			want:  Result{Available: true, Progress: 0.75, Missing: []string{"no challenge in domain Biotechnology"}}},
		{name: "twenty over the domains", kind: "challenges_identified", params: map[string]any{"min": 20, "domains": priority}, state: State{Challenges: ptr(fullChallenges)},
			want: Result{Available: true, Met: true, Progress: 1, Missing: []string{}}},
		{name: "domains compared canonically", kind: "challenges_identified", params: map[string]any{"min": 1, "domains": []string{"critical minerals & materials"}},
			state: State{Challenges: ptr(challenges(1, "Critical Minerals and Materials"))},
			want:  Result{Available: true, Progress: 0.5, Missing: []string{"no challenge in domain critical minerals & materials"}}},
		{name: "no sites", kind: "inventory_complete", state: State{Sites: ptr[Site](nil)},
			want: Result{Available: true, Missing: []string{"no compute site registered (genesis site add)"}}},
		{name: "a site without power", kind: "inventory_complete", state: State{Sites: ptr([]Site{goodSite("a"), {Name: "hpc-1", Status: "up", Accreditation: "OPEN", CapacityReported: true}})},
			want: Result{Available: true, Progress: 0.5, Missing: []string{"site hpc-1 reports no power cap, no power draw"}}},
		{name: "a bare site", kind: "inventory_complete", state: State{Sites: ptr([]Site{{Name: "x"}})},
			want: Result{Available: true, Missing: []string{"site x reports no capacity, no accreditation, no power cap, no power draw, no status"}}},
		{name: "inventory complete", kind: "inventory_complete", state: State{Sites: ptr([]Site{goodSite("a"), goodSite("b")})},
			want: Result{Available: true, Met: true, Progress: 1, Missing: []string{}}},
		{name: "assets: catalog not available", kind: "assets_identified", state: State{Challenges: ptr(linked)},
			want: Result{Missing: []string{"assets: not on this platform yet"}}},
		{name: "assets: no challenges", kind: "assets_identified", state: State{Challenges: ptr[Challenge](nil), Assets: ptr(assets)},
			want: Result{Available: true, Missing: []string{"no challenge identified (genesis challenge create)"}}},
		{name: "assets: one poor, hidden ignored", kind: "assets_identified", params: map[string]any{"min_quality": 50}, state: State{Challenges: ptr(linked), Assets: ptr(assets)},
			want: Result{Available: true, Progress: 0.5, Missing: []string{"challenge ch-1: best linked asset poor has metadata quality 30, below 50"}}},
		{name: "assets: threshold lowered", kind: "assets_identified", params: map[string]any{"min_quality": 30}, state: State{Challenges: ptr(linked), Assets: ptr(assets)},
			want: Result{Available: true, Met: true, Progress: 1, Missing: []string{}}},
		{name: "assets: only a hidden link", kind: "assets_identified", state: State{Challenges: ptr([]Challenge{{Name: "c", Assets: []string{"ds_hidden"}}}), Assets: ptr(assets)},
			want: Result{Available: true, Missing: []string{"challenge c links no dataset or model"}}},
		{name: "labs: no instruments", kind: "labs_reviewed", state: State{Instruments: ptr[Instrument](nil), Campaigns: ptr[Campaign](nil)},
			want: Result{Available: true, Missing: []string{"no instrument registered (genesis instrument add)"}}},
		{name: "labs: campaigns not available", kind: "labs_reviewed", state: State{Instruments: ptr([]Instrument{{Name: "r1", Lab: "ornl"}})},
			want: Result{Missing: []string{"campaigns: not on this platform yet"}}},
		{name: "labs: one lab reviewed, one not", kind: "labs_reviewed",
			state: State{Instruments: ptr([]Instrument{{Name: "r1", Lab: "ornl"}, {Name: "r2", Lab: "anl"}}),
				Campaigns: ptr([]Campaign{{Name: "c1", State: "completed", Labs: []string{"ornl"}}, {Name: "c2", State: "running", Labs: []string{"anl"}}})},
			want: Result{Available: true, Progress: 0.5, Missing: []string{"lab anl: 0 of 1 completed closed-loop campaigns"}}},
		{name: "labs: named lab without instruments", kind: "labs_reviewed", params: map[string]any{"labs": []string{"ornl", "lbnl"}},
			state: State{Instruments: ptr([]Instrument{{Name: "r1", Lab: "ornl"}}), Campaigns: ptr([]Campaign{{Name: "c1", State: "completed", Labs: []string{"ornl"}}})},
			want:  Result{Available: true, Progress: 0.5, Missing: []string{"lab lbnl has no instrument registered"}}},
		{name: "labs: all reviewed", kind: "labs_reviewed", params: map[string]any{"min_campaigns": 2},
			state: State{Instruments: ptr([]Instrument{{Name: "r1"}}), Campaigns: ptr([]Campaign{{State: "completed", Labs: []string{""}}, {State: "completed", Labs: []string{""}}})},
			want:  Result{Available: true, Met: true, Progress: 1, Missing: []string{}}},
		{name: "ioc: nothing reached", kind: "initial_operating_capability", state: State{Challenges: ptr(challenges(2)), Campaigns: ptr[Campaign](nil)},
			want: Result{Available: true, Missing: []string{"no challenge target reached by a campaign yet"}}},
		{name: "ioc: reached, no lineage", kind: "initial_operating_capability",
			state: State{Challenges: ptr(reached), Campaigns: ptr([]Campaign{{ID: "cmp_1", Name: "flow", State: "completed", Dataset: "flow-results"}})},
			want:  Result{Available: true, Missing: []string{"challenge ch-0: target yield reached by campaign flow, but its results dataset flow-results records no lineage to the campaign", "0 of 1 challenges reached end to end"}}},
		{name: "ioc: reached by a hidden campaign", kind: "initial_operating_capability", state: State{Challenges: ptr(reached), Campaigns: ptr[Campaign](nil)},
			want: Result{Available: true, Missing: []string{"challenge ch-0: target yield was reached outside a campaign you may read", "0 of 1 challenges reached end to end"}}},
		{name: "ioc: end to end", kind: "initial_operating_capability",
			state: State{Challenges: ptr(reached), Campaigns: ptr([]Campaign{{ID: "cmp_1", Name: "flow", State: "completed", Dataset: "flow-results", ResultsLineage: true}})},
			want:  Result{Available: true, Met: true, Progress: 1, Missing: []string{}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.state.Now = now
			got := Evaluate(tc.kind, &tc.state, tc.params)
			if got.Evidence == nil || got.Missing == nil {
				t.Fatalf("nil evidence or missing (JSON null): %+v", got)
			}
			if got.Met != (got.Available && len(got.Missing) == 0) {
				t.Errorf("met %v with missing %q", got.Met, got.Missing)
			}
			if got.Available && len(got.Evidence) == 0 && !strings.HasPrefix(strings.Join(got.Missing, ""), "no ") {
				t.Errorf("no evidence: %+v", got)
			}
			got.Evidence = nil
			if tc.want.Missing == nil {
				tc.want.Missing = []string{}
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
		})
	}
}

// TestMilestoneStatus: met, at risk (deadline today or ahead), missed
// (deadline past), not available; days left.
func TestMilestoneStatus(t *testing.T) {
	day := func(n int) *int { return &n }
	p := &Plan{Start: "2026-01-01", Milestones: []Milestone{
		{ID: "a", Title: "A", Day: day(30), Check: "inventory_complete"}, // 2026-01-31: past
		{ID: "b", Title: "B", Day: day(59), Check: "inventory_complete"}, // 2026-03-01: today
		{ID: "c", Title: "C", Date: "2026-03-11", Check: "inventory_complete"},
		{ID: "d", Title: "D", Day: day(10), Check: "challenges_identified"},
	}}
	for _, tc := range []struct {
		sites []Site
		want  []string
	}{
		{nil, []string{Missed, AtRisk, AtRisk, NotAvailable}},
		{[]Site{goodSite("s")}, []string{Met, Met, Met, NotAvailable}},
	} {
		s := &State{Now: now, Sites: ptr(tc.sites)}
		st := p.Evaluate(s, time.Time{})
		var got []string
		for _, m := range st.Milestones {
			got = append(got, m.Status)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("sites %v: statuses %v, want %v", tc.sites, got, tc.want)
		}
		if left := []int{st.Milestones[0].DaysLeft, st.Milestones[1].DaysLeft, st.Milestones[2].DaysLeft}; !slices.Equal(left, []int{-29, 0, 10}) {
			t.Errorf("days left %v", left)
		}
	}
	// Without a start, days count from the first start.
	p.Start = ""
	st := p.Evaluate(&State{Now: now}, time.Date(2026, 2, 20, 17, 0, 0, 0, time.UTC))
	if st.Start != "2026-02-20" || st.Milestones[0].Deadline != "2026-03-22" || st.Milestones[0].DaysLeft != 21 {
		t.Errorf("from first start: %+v", st.Milestones[0])
	}
}

// TestInventoryProperty compares inventory_complete with a reference: met
// iff there is a site and every site has every field; progress is the
// share of complete sites; one missing line per incomplete site.
func TestInventoryProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var sites []Site
		complete := 0
		for i := range r.IntN(6) {
			s := goodSite(fmt.Sprintf("s%d", i))
			if r.IntN(3) == 0 {
				switch r.IntN(5) {
				case 0:
					s.CapacityReported = false
				case 1:
					s.Accreditation = ""
				case 2:
					s.PowerCapKW = 0
				case 3:
					s.DrawReported = false
				case 4:
					s.Status = ""
				}
			} else {
				complete++
			}
			sites = append(sites, s)
		}
		got := Evaluate("inventory_complete", &State{Now: now, Sites: ptr(sites)}, nil)
		wantMet := len(sites) > 0 && complete == len(sites)
		if got.Met != wantMet {
			t.Fatalf("%+v: met %v, want %v", sites, got.Met, wantMet)
		}
		if len(sites) > 0 && (got.Progress != float64(complete)/float64(len(sites)) || len(got.Missing) != len(sites)-complete) {
			t.Fatalf("%+v: progress %v missing %q", sites, got.Progress, got.Missing)
		}
	}
}

// TestChallengesProperty: challenges_identified against a reference over
// random challenge sets and params.
func TestChallengesProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 2000 {
		n := r.IntN(30)
		min := 1 + r.IntN(25)
		var ds []string
		for _, d := range priority {
			if r.IntN(2) == 0 {
				ds = append(ds, d)
			}
		}
		var cs []Challenge
		covered := map[string]bool{}
		for i := range n {
			d := priority[r.IntN(len(priority))]
			covered[d] = true
			cs = append(cs, Challenge{Name: fmt.Sprint(i), Domain: d})
		}
		all := true
		for _, d := range ds {
			all = all && covered[d]
		}
		got := Evaluate("challenges_identified", &State{Now: now, Challenges: ptr(cs)}, map[string]any{"min": min, "domains": ds})
		if want := n >= min && all; got.Met != want {
			t.Fatalf("n=%d min=%d domains=%v: met %v", n, min, ds, got.Met)
		}
		if got.Progress < 0 || got.Progress > 1 || (got.Progress == 1) != got.Met {
			t.Fatalf("progress %v met %v", got.Progress, got.Met)
		}
	}
}

func TestDomain(t *testing.T) {
	for in, want := range map[string]string{
		"Critical minerals & materials":     "critical-minerals-materials",
		"nuclear fission & fusion energy":   "nuclear-fission-fusion-energy",
		" Quantum  information science ":    "quantum-information-science",
		"semiconductors & microelectronics": "semiconductors-microelectronics",
		"robotics":                          "robotics",
	} {
		if got := Domain(in); got != want {
			t.Errorf("Domain(%q) = %q, want %q", in, got, want)
		}
	}
}

type siteFunc func() ([]Site, error)

func (f siteFunc) Sites(context.Context, *genesis.Principal) ([]Site, error) { return f() }

// TestGatherSources: a source that refuses the viewer makes its checks
// "not available to you"; an absent one "not on this platform yet"; any
// other error is the status's error, never a failed milestone.
func TestGatherSources(t *testing.T) {
	ctx := context.Background()
	src := Sources{Sites: siteFunc(func() ([]Site, error) { return nil, errors.E(errors.Permission) })}
	s, err := src.Gather(ctx, &genesis.Principal{ID: "p"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if r := Evaluate("inventory_complete", s, nil); r.Available || !slices.Equal(r.Missing, []string{"sites: not available to you"}) {
		t.Errorf("refused: %+v", r)
	}
	if r := Evaluate("challenges_identified", s, nil); !slices.Equal(r.Missing, []string{"challenges: not on this platform yet"}) {
		t.Errorf("absent: %+v", r)
	}
	src.Sites = siteFunc(func() ([]Site, error) { return nil, errors.E(errors.Transient, errors.Msg("store down")) })
	if _, err := src.Gather(ctx, &genesis.Principal{ID: "p"}, now); !errors.Is(errors.Transient, err) {
		t.Errorf("transient: %v", err)
	}
}

// TestStatusProperty: over random plans, starts and platforms, a
// milestone's status is the reference's: not available without its
// source, else met iff its check is, else missed iff the deadline's day is
// before today; days left is the whole days from today to the deadline.
func TestStatusProperty(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for range 1000 {
		today := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(400)).Add(time.Duration(r.IntN(86400)) * time.Second)
		first := today.AddDate(0, 0, -r.IntN(300)).Add(time.Duration(r.IntN(86400)) * time.Second)
		p := &Plan{}
		for i := range 1 + r.IntN(5) {
			m := Milestone{ID: fmt.Sprint(i), Title: "T", Check: "inventory_complete"}
			if r.IntN(2) == 0 {
				d := r.IntN(400)
				m.Day = &d
			} else {
				m.Date = first.AddDate(0, 0, r.IntN(400)).Format(time.DateOnly)
			}
			p.Milestones = append(p.Milestones, m)
		}
		s := &State{Now: today}
		met := false
		switch r.IntN(3) {
		case 0: // no sites source
		case 1:
			s.Sites = ptr([]Site{goodSite("a")})
			met = true
		case 2:
			s.Sites = ptr([]Site{{Name: "b"}})
		}
		st := p.Evaluate(s, first)
		day0 := time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, time.UTC)
		t0 := time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)
		for i, m := range p.Milestones {
			dl := day0
			if m.Day != nil {
				dl = day0.AddDate(0, 0, *m.Day)
			} else {
				dl, _ = time.Parse(time.DateOnly, m.Date)
			}
			left := int(dl.Sub(t0).Hours() / 24)
			want := AtRisk
			switch {
			case s.Sites == nil:
				want = NotAvailable
			case met:
				want = Met
			case left < 0:
				want = Missed
			}
			got := st.Milestones[i]
			if got.Status != want || got.DaysLeft != left || got.Deadline != dl.Format(time.DateOnly) {
				t.Fatalf("today %v first %v %+v: got %s %d %s, want %s %d %s", today, first, m, got.Status, got.DaysLeft, got.Deadline, want, left, dl.Format(time.DateOnly))
			}
		}
	}
}

// TestStateLabel (invariant 2): a status is labelled the join of every
// record it was computed from.
func TestStateLabel(t *testing.T) {
	s := &State{
		Challenges: ptr([]Challenge{{Label: "PROPRIETARY//FUSION"}, {Label: "OPEN"}}),
		Campaigns:  ptr([]Campaign{{Label: "NATIONAL-SECURITY"}}),
		Assets:     ptr([]Asset{{Label: ""}}),
	}
	if l, ok := s.Label(); !ok || l != "NATIONAL-SECURITY//FUSION" {
		t.Errorf("label %q %v", l, ok)
	}
	if l, ok := (&State{}).Label(); !ok || l != "OPEN" {
		t.Errorf("empty: %q %v", l, ok)
	}
	s.Assets = ptr([]Asset{{Label: "SECRETISH"}})
	if _, ok := s.Label(); ok {
		t.Error("an unparsable marking was joined")
	}
}

// TestGatherTruncated: a source that stopped at its bound keeps what it
// listed, and the status says so instead of counting silently less.
func TestGatherTruncated(t *testing.T) {
	src := Sources{Sites: siteFunc(func() ([]Site, error) {
		return []Site{goodSite("a")}, &Truncated{Source: "sites", Limit: 1}
	})}
	s, err := src.Gather(context.Background(), &genesis.Principal{ID: "p"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sites == nil || len(*s.Sites) != 1 || !slices.Equal(s.Notes, []string{"only the first 1 sites were counted"}) {
		t.Fatalf("%+v %q", s.Sites, s.Notes)
	}
	st := Default().Evaluate(s, now)
	if !slices.Equal(st.Notes, s.Notes) || !slices.Equal(ComputeRisks(s, RiskInputs{}).Notes, s.Notes) {
		t.Errorf("notes not carried: %q", st.Notes)
	}
}
