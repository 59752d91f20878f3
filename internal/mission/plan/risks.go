package plan

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
)

// Risk levels.
const (
	RiskOK    = "ok"
	RiskWatch = "watch"
	RiskHigh  = "high"
	// RiskNotAvailable: the indicator's source is not available to the
	// viewer (or not on this platform).
	RiskNotAvailable = "not_available"
)

// Risk window and thresholds.
const (
	// RiskWeeks is how many weeks of audit records the leakage indicator
	// looks at.
	RiskWeeks = 8
	// ActiveDays: a principal with an audit record in this many days is
	// active (talent).
	ActiveDays = 30
	// PoorQuality is the metadata quality below which a dataset counts as
	// a silo.
	PoorQuality = 50
)

// AuditEvent is the view of an audit record the risks need.
type AuditEvent struct {
	Label     string // the marking it was recorded under
	Time      time.Time
	Principal string
	Action    string
	Decision  string // allow, deny or error
}

// AuditSource returns the audit records p may read made at or after
// since, scanning at most max records from the newest (a bounded window);
// capped says the window ended before since. errors.Permission: p may not
// read the audit log.
type AuditSource interface {
	AuditEvents(ctx context.Context, p *genesis.Principal, since time.Time, max int) (events []AuditEvent, capped bool, err error)
}

// Person is the view of an account the talent indicator needs.
type Person struct {
	ID, Name, Org string
	Disabled      bool
	// TokenUsed is when one of its API tokens was last used (nil: never).
	TokenUsed *time.Time
}

// PeopleSource lists every account; errors.Permission when p may not
// read accounts.
type PeopleSource interface {
	People(ctx context.Context, p *genesis.Principal) ([]Person, error)
}

// MaxAuditScan bounds the audit records one risks request reads.
const MaxAuditScan = 20000

// Figure is one named number of an indicator.
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
}

// Risk is one live indicator.
type Risk struct {
	Name     string     `json:"name"`
	Level    string     `json:"level"`
	Summary  string     `json:"summary"`
	Figures  []Figure   `json:"figures"`
	Evidence []Evidence `json:"evidence"`
}

// Risks is the risk register.
type Risks struct {
	// Label is the join of the labels of every record the register was
	// computed from: its classification banner.
	Label string `json:"label"`
	Risks []Risk `json:"risks"`
	// Notes say which sources were counted only up to their bound.
	Notes []string `json:"notes"`
}

// RiskInputs are the sources the risks read, beyond the State.
type RiskInputs struct {
	// Audit is nil when not available to the viewer; AuditCapped says
	// the scan window ended before the risk window did (the figures then
	// cover only the newest MaxAuditScan records).
	Audit       *[]AuditEvent
	AuditCapped bool
	People      *[]Person
}

// why says why source is not available (see State.Why).
func (s *State) why(source string) string {
	if w := s.Why[source]; w != "" {
		return w
	}
	return "not on this platform yet"
}

func notAvailable(name, why string) Risk {
	return Risk{Name: name, Level: RiskNotAvailable, Summary: why, Figures: []Figure{}, Evidence: []Evidence{}}
}

// weekOf numbers weeks back from now: 0 is the last 7 days.
func weekOf(now, t time.Time) int { return int(now.Sub(t) / (7 * 24 * time.Hour)) }

// ComputeRisks derives the risk register from s and in. Pure.
func ComputeRisks(s *State, in RiskInputs) *Risks {
	return &Risks{Risks: []Risk{leakage(s, in), silos(s), energy(s), talent(s, in)}, Notes: append([]string{}, s.Notes...)}
}

func leakage(s *State, in RiskInputs) Risk {
	const name = "leakage"
	if in.Audit == nil {
		return notAvailable(name, "the audit log is not available to you (stewards, classification officers and administrators read it)")
	}
	deny := make([]int, RiskWeeks)
	rel := make([]int, RiskWeeks)
	for _, e := range *in.Audit {
		w := weekOf(s.Now, e.Time)
		if w < 0 || w >= RiskWeeks {
			continue
		}
		if e.Decision == "deny" {
			deny[w]++
		}
		if strings.HasPrefix(e.Action, "declassify.") {
			rel[w]++
		}
	}
	r := Risk{Name: name, Level: RiskOK, Evidence: []Evidence{
		{Text: "denied requests and declassification records in the audit log", Link: "genesis audit list"},
	}}
	for w := RiskWeeks - 1; w >= 0; w-- {
		r.Figures = append(r.Figures, Figure{Name: fmt.Sprintf("denied_week_minus_%d", w), Value: float64(deny[w])})
	}
	for w := RiskWeeks - 1; w >= 0; w-- {
		r.Figures = append(r.Figures, Figure{Name: fmt.Sprintf("declassifications_week_minus_%d", w), Value: float64(rel[w])})
	}
	base := func(xs []int) float64 {
		t := 0
		for _, x := range xs[1:] {
			t += x
		}
		return float64(t) / float64(len(xs)-1)
	}
	dBase, rBase := base(deny), base(rel)
	switch {
	case float64(deny[0]) >= 10 && float64(deny[0]) > 2*dBase, float64(rel[0]) >= 5 && float64(rel[0]) > 2*rBase:
		r.Level = RiskHigh
	case float64(deny[0]) >= 5 && float64(deny[0]) > dBase, float64(rel[0]) >= 2 && float64(rel[0]) > rBase:
		r.Level = RiskWatch
	}
	r.Summary = fmt.Sprintf("last 7 days: %d denied requests (weekly average before: %.1f), %d declassification records (before: %.1f)", deny[0], dBase, rel[0], rBase)
	if in.AuditCapped {
		r.Summary += fmt.Sprintf("; only the newest %d audit records were scanned", MaxAuditScan)
	}
	return r
}

func silos(s *State) Risk {
	const name = "silos"
	if s.Assets == nil {
		return notAvailable(name, "the catalog: "+s.why("assets"))
	}
	var poor, unlinked []string
	n := 0
	for _, a := range *s.Assets {
		if a.Kind != "dataset" {
			continue
		}
		n++
		if a.Quality < PoorQuality {
			poor = append(poor, a.Name)
		}
		if !a.Linked {
			unlinked = append(unlinked, a.Name)
		}
	}
	r := Risk{Name: name, Level: RiskOK, Figures: []Figure{
		{Name: "datasets", Value: float64(n)},
		{Name: "poor_metadata", Value: float64(len(poor))},
		{Name: "unlinked", Value: float64(len(unlinked))},
	}}
	r.Summary = fmt.Sprintf("%d of %s with metadata quality below %d, %d with no lineage and no challenge link", len(poor), plural(n, "dataset", "datasets"), PoorQuality, len(unlinked))
	share := 0.0
	if n > 0 {
		share = float64(max(len(poor), len(unlinked))) / float64(n)
	}
	switch {
	case share >= 0.5:
		r.Level = RiskHigh
	case share >= 0.25:
		r.Level = RiskWatch
	}
	for i, a := range poor {
		if i == maxListed {
			break
		}
		r.Evidence = append(r.Evidence, Evidence{Text: "poor metadata: " + a, Link: "/api/v1/datasets/" + a + "/metadata"})
	}
	for i, a := range unlinked {
		if i == maxListed {
			break
		}
		r.Evidence = append(r.Evidence, Evidence{Text: "no links: " + a, Link: "/api/v1/lineage/" + a})
	}
	if r.Evidence == nil {
		r.Evidence = []Evidence{{Text: "datasets and their metadata quality", Link: "/api/v1/datasets"}}
	}
	return r
}

func energy(s *State) Risk {
	const name = "energy"
	if s.Sites == nil {
		return notAvailable(name, "the sites: "+s.why("sites"))
	}
	r := Risk{Name: name, Level: RiskOK}
	var cap, draw float64
	for _, st := range *s.Sites {
		cap += st.PowerCapKW
		draw += st.PowerDrawKW
		link := "/api/v1/sites/" + st.Name
		switch {
		case st.PowerCapKW <= 0:
			r.Level = worse(r.Level, RiskWatch)
			r.Evidence = append(r.Evidence, Evidence{Text: "site " + st.Name + " has no power cap", Link: link})
		case st.PowerDrawKW >= 0.95*st.PowerCapKW:
			r.Level = RiskHigh
			r.Evidence = append(r.Evidence, Evidence{Text: fmt.Sprintf("site %s draws %.0f kW of its %.0f kW cap", st.Name, st.PowerDrawKW, st.PowerCapKW), Link: link})
		case st.PowerDrawKW >= 0.8*st.PowerCapKW:
			r.Level = worse(r.Level, RiskWatch)
			r.Evidence = append(r.Evidence, Evidence{Text: fmt.Sprintf("site %s draws %.0f kW of its %.0f kW cap", st.Name, st.PowerDrawKW, st.PowerCapKW), Link: link})
		}
	}
	r.Figures = []Figure{{Name: "sites", Value: float64(len(*s.Sites))}, {Name: "power_cap_kw", Value: cap}, {Name: "power_draw_kw", Value: draw}}
	r.Summary = fmt.Sprintf("%.0f kW drawn of %.0f kW capped over %s", draw, cap, plural(len(*s.Sites), "site", "sites"))
	if r.Evidence == nil {
		r.Evidence = []Evidence{{Text: "sites' power caps and draws", Link: "/api/v1/sites"}}
	}
	return r
}

func worse(a, b string) string {
	if a == RiskHigh || b == RiskHigh {
		return RiskHigh
	}
	if a == RiskWatch || b == RiskWatch {
		return RiskWatch
	}
	return RiskOK
}

func talent(s *State, in RiskInputs) Risk {
	const name = "talent"
	if in.People == nil {
		return notAvailable(name, "accounts are not available to you (administrators read them)")
	}
	if in.Audit == nil {
		return notAvailable(name, "the audit log is not available to you")
	}
	since := s.Now.Add(-ActiveDays * 24 * time.Hour)
	active := map[string]bool{}
	for _, e := range *in.Audit {
		if !e.Time.Before(since) {
			active[e.Principal] = true
		}
	}
	total, act := map[string]int{}, map[string]int{}
	for _, p := range *in.People {
		if p.Disabled {
			continue
		}
		org := p.Org
		if org == "" {
			org = "(no organisation)"
		}
		total[org]++
		if active[p.ID] || p.TokenUsed != nil && !p.TokenUsed.Before(since) {
			act[org]++
		}
	}
	orgs := make([]string, 0, len(total))
	for o := range total {
		orgs = append(orgs, o)
	}
	sort.Strings(orgs)
	r := Risk{Name: name, Level: RiskOK, Figures: []Figure{}, Evidence: []Evidence{{Text: fmt.Sprintf("principals with an audit record or a token used in the last %d days", ActiveDays), Link: "genesis audit list"}}}
	idle := 0
	all := 0
	for _, o := range orgs {
		r.Figures = append(r.Figures, Figure{Name: "active:" + o, Value: float64(act[o])})
		all += act[o]
		if act[o] == 0 {
			idle++
			r.Evidence = append(r.Evidence, Evidence{Text: fmt.Sprintf("organisation %s: none of its %d principals active", o, total[o]), Link: "/api/v1/principals"})
		}
	}
	switch {
	case len(orgs) > 0 && idle*2 >= len(orgs):
		r.Level = RiskHigh
	case idle > 0:
		r.Level = RiskWatch
	}
	r.Summary = fmt.Sprintf("%s in %s; %d with none active", plural(all, "active principal", "active principals"), plural(len(orgs), "organisation", "organisations"), idle)
	if in.AuditCapped {
		r.Summary += fmt.Sprintf("; only the newest %d audit records were scanned", MaxAuditScan)
	}
	return r
}

// gatherRisks collects the audit and people inputs as p sees them.
func gatherRisks(ctx context.Context, p *genesis.Principal, a AuditSource, pp PeopleSource, now time.Time) (RiskInputs, error) {
	var in RiskInputs
	if a != nil {
		ev, capped, err := a.AuditEvents(ctx, p, now.Add(-RiskWeeks*7*24*time.Hour), MaxAuditScan)
		switch {
		case err == nil:
			in.Audit = &ev
			in.AuditCapped = capped
		case !hidden(err):
			return in, err
		}
	}
	if pp != nil {
		ps, err := pp.People(ctx, p)
		switch {
		case err == nil:
			in.People = &ps
		case !hidden(err):
			return in, errors.E(errors.Op("plan.Risks"), err)
		}
	}
	return in, nil
}
