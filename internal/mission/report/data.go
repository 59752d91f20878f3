package report

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/text"
)

// Bounds on what a report reads, so one request's memory stays bounded.
const (
	MinYear  = 2000
	MaxYear  = 2200
	maxItems = 100000 // records of one kind read into one report
)

// NotAvailable is what a section whose service this server lacks says.
const NotAvailable = "not available on this server"

// Source is where a number comes from: the API path that lists the records
// it counts and the CLI command that shows them.
type Source struct {
	API string
	CLI string
}

// Figure is one number of the report with its source.
type Figure struct {
	Name   string
	Value  string
	Source Source
}

// Section is one part of the report.
type Section struct {
	Key   string
	Title string
	// Marking is the join of the labels of what the section shows.
	Marking string
	// Note says what is missing: the service is not on this server, or no
	// record is readable in the period.
	Note    string
	Figures []Figure
	Charts  []Chart
	Tables  []Table
	// Items are the section's parts with their own markings (challenges).
	Items []Item
}

// Item is a part of a section with its own marking: one challenge.
type Item struct {
	Title   string
	Marking string
	Lines   []string
	Figures []Figure
	Charts  []Chart
}

// Table is a table with a source.
type Table struct {
	Columns []string
	Rows    [][]string
	Source  Source
}

// Chart is what a chart draws: bars per month, or lines over time.
type Chart struct {
	Title  string
	YLabel string
	// Months are the bar groups' labels (bar charts).
	Months []string
	Bars   []Bars
	// Lines are step lines over time (line charts).
	Lines []Line
	// XFrom and XTo span a line chart's time axis (the period shown).
	XFrom, XTo time.Time
	Target     *float64
	Baseline   *float64
	Source     Source
}

// Bars is one series of a bar chart.
type Bars struct {
	Name   string
	Values []float64
}

// Line is one series of a line chart.
type Line struct {
	Name   string
	Points []Point
}

// Data is a report's content, computed as its reader.
type Data struct {
	Year        int
	From, To    time.Time
	GeneratedAt time.Time
	Reader      string
	// Marking is the banner: the join of the labels of everything shown.
	Marking  string
	Level    label.Level
	Sections []Section
}

// Section returns the section with key k, or nil.
func (d *Data) Section(k string) *Section {
	for i := range d.Sections {
		if d.Sections[i].Key == k {
			return &d.Sections[i]
		}
	}
	return nil
}

// joiner accumulates the join of labels.
type joiner struct {
	l   label.Label
	err error
}

func (j *joiner) add(marking string) {
	if marking == "" {
		return
	}
	l, err := label.Parse(marking)
	if err != nil {
		// A stored label that does not parse: fail closed, the report is
		// not made.
		if j.err == nil {
			j.err = errors.E(errors.Internal, errors.Msg("a record's label does not parse"), err)
		}
		return
	}
	j.l = label.Join(j.l, l)
}

func (j *joiner) marking() string { return j.l.Format() }

// Gather computes the report for year as p sees the platform. Only records
// p may read are counted; every section's marking is the join of the
// labels of the records it counts, and the banner is the join of all.
func (s *Service) Gather(ctx context.Context, p *genesis.Principal, year int) (*Data, error) {
	const op errors.Op = "report.Gather"
	if p == nil {
		return nil, errors.E(op, errors.Unauthenticated)
	}
	if year < MinYear || year > MaxYear {
		return nil, errors.E(op, errors.Invalid, errors.Field("year"), errors.Msg(fmt.Sprintf("the year must be between %d and %d", MinYear, MaxYear)))
	}
	now := s.c.Now().UTC()
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(1, 0, 0)
	d := &Data{Year: year, From: from, To: to, GeneratedAt: now, Reader: p.Name}
	g := &gather{s: s, src: *s.src.Load(), p: p, from: from, to: to, now: now}
	steps := []func(context.Context) (Section, error){
		g.milestones, g.challenges, g.data, g.compute, g.campaigns, g.assets(catalog.KindModel), g.assets(catalog.KindPublication), g.partners,
	}
	var all joiner
	for _, step := range steps {
		sec, err := step(ctx)
		if err != nil {
			return nil, errors.E(op, err)
		}
		if sec.Marking == "" {
			sec.Marking = label.Label{}.Format() // it shows nothing: OPEN
		}
		all.add(sec.Marking)
		d.Sections = append(d.Sections, sec)
	}
	if all.err != nil {
		return nil, errors.E(op, all.err)
	}
	d.Marking, d.Level = all.marking(), all.l.Level()
	return d, nil
}

type gather struct {
	s        *Service
	src      Sources
	p        *genesis.Principal
	from, to time.Time
	now      time.Time
}

func (g *gather) in(t time.Time) bool { return !t.Before(g.from) && t.Before(g.to) }

// month is t's month index in the year (0..11).
func month(t time.Time) int { return int(t.UTC().Month()) - 1 }

var monthNames = []string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func count(n int) string { return strconv.Itoa(n) }

// sanitize makes text from the platform fit to print: valid UTF-8, no
// control characters, bounded.
func sanitize(s string) string {
	s, _ = text.Sanitize(s, false)
	if len(s) > maxText {
		cut := maxText
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// maxText bounds one printed text from the platform, in bytes.
const maxText = 300

// pages reads every page of a list, up to maxItems records.
func pages[T any](list func(cursor string) ([]T, string, error)) ([]T, error) {
	var all []T
	cursor := ""
	for {
		items, next, err := list(cursor)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		if len(all) >= maxItems {
			return nil, errors.E(errors.Invalid, errors.Msg(fmt.Sprintf("more than %d records of one kind: the report does not fit", maxItems)))
		}
		cursor = next
	}
}

func (g *gather) challenges(ctx context.Context) (Section, error) {
	sec := Section{Key: "challenges", Title: "Challenges and progress"}
	if g.src.Challenges == nil {
		sec.Note = "Challenges are " + NotAvailable + "."
		return sec, nil
	}
	cs, err := g.src.Challenges(ctx, g.p)
	if err != nil {
		return sec, err
	}
	// The challenges with results first, furthest along first; the others
	// keep their source's order.
	cs = slices.Clone(cs)
	slices.SortStableFunc(cs, func(a, b Challenge) int { return cmp.Compare(standing(b), standing(a)) })
	var j joiner
	reached := 0
	for _, c := range cs {
		src := c.Source
		if src == "" {
			src = "/api/v1/challenges/" + url.PathEscape(c.Name) + "/progress"
		}
		source := Source{API: sanitize(src), CLI: "genesis challenge show " + sanitize(c.Name)}
		j.add(c.Label)
		var m joiner
		m.add(c.Label)
		it := Item{Title: sanitize(c.Title), Marking: m.marking()}
		if it.Title == "" {
			it.Title = sanitize(c.Name)
		}
		if c.Domain != "" {
			it.Lines = append(it.Lines, "Domain: "+sanitize(c.Domain))
		}
		if c.Lead != "" {
			it.Lines = append(it.Lines, "Lead: "+sanitize(c.Lead))
		}
		all := len(c.Targets) > 0
		for _, t := range c.Targets {
			all = all && t.Reached
			name := sanitize(t.Metric)
			unit, yl := "", name
			if t.Unit != "" {
				unit = " " + sanitize(t.Unit)
				yl += " (" + sanitize(t.Unit) + ")"
			}
			best := "no result yet"
			if t.Best != nil {
				best = num(*t.Best) + unit
			}
			state := fmt.Sprintf("%.0f%% of the way", 100*t.Progress)
			if t.Reached {
				state = "reached"
			}
			it.Figures = append(it.Figures, Figure{Name: name + " (target " + num(t.Target) + unit + ")", Value: best + ", " + state, Source: source})
			// A target with no result yet gets its line above, not an empty chart.
			if len(t.History) > 0 {
				end := g.to
				if g.now.Before(end) {
					end = g.now
				}
				ch := Chart{Title: name + ": best so far against the target", YLabel: yl, Source: source, XFrom: g.from, XTo: end}
				pts := bestSoFar(t.Direction, t.History, end)
				if n := len(pts); n > 0 {
					// The best holds until the end of the period.
					pts = append(pts, Point{At: end, Value: pts[n-1].Value})
				}
				ch.Lines = []Line{{Name: "best so far", Points: pts}}
				tv := t.Target
				ch.Target = &tv
				if t.Baseline != nil {
					b := *t.Baseline
					ch.Baseline = &b
				}
				it.Charts = append(it.Charts, ch)
			}
		}
		if all {
			reached++
		}
		if len(c.Targets) == 0 {
			it.Lines = append(it.Lines, "No measurable target yet.")
		}
		sec.Items = append(sec.Items, it)
	}
	if j.err != nil {
		return sec, j.err
	}
	sec.Marking = j.marking()
	src := Source{API: "/api/v1/challenges", CLI: "genesis challenge list"}
	sec.Figures = []Figure{
		{Name: "Challenges", Value: count(len(cs)), Source: src},
		{Name: "Challenges with every target reached", Value: count(reached), Source: src},
	}
	if len(cs) == 0 {
		sec.Note = "No challenge is readable: none has been identified yet, or none is visible to this reader."
	}
	return sec, nil
}

func (g *gather) milestones(ctx context.Context) (Section, error) {
	sec := Section{Key: "milestones", Title: "Milestones"}
	if g.src.Milestones == nil {
		sec.Note = "The mission plan is " + NotAvailable + "."
		return sec, nil
	}
	ms, err := g.src.Milestones(ctx, g.p)
	if err != nil {
		return sec, err
	}
	src := Source{API: "/api/v1/mission/status", CLI: "genesis mission status"}
	var j joiner
	tab := Table{Columns: []string{"Milestone", "Status", "Deadline", "Days left", "Evidence / missing"}, Source: src}
	by := map[string]int{}
	for _, m := range ms {
		j.add(m.Label)
		status := strings.ReplaceAll(sanitize(m.Status), "_", " ") // at_risk is at risk
		by[status]++
		var ev []string
		for _, e := range m.Evidence {
			t := sanitize(e.Text)
			if e.Href != "" {
				t += " (" + sanitize(e.Href) + ")"
			}
			ev = append(ev, t)
		}
		for _, x := range m.Missing {
			ev = append(ev, "missing: "+sanitize(x))
		}
		title := sanitize(m.Title)
		if title == "" {
			title = sanitize(m.Name)
		}
		tab.Rows = append(tab.Rows, []string{title, status, m.Deadline.UTC().Format("2006-01-02"), strconv.Itoa(m.DaysLeft), joinLines(ev)})
	}
	if j.err != nil {
		return sec, j.err
	}
	sec.Marking = j.marking()
	sec.Figures = []Figure{{Name: "Milestones", Value: count(len(ms)), Source: src}}
	for _, st := range []string{"met", "at risk", "missed", "not available"} {
		sec.Figures = append(sec.Figures, Figure{Name: "Milestones " + st, Value: count(by[st]), Source: src})
	}
	if len(ms) == 0 {
		sec.Note = "The mission plan has no milestone."
	} else {
		sec.Tables = []Table{tab}
	}
	return sec, nil
}

func (g *gather) data(ctx context.Context) (Section, error) {
	sec := Section{Key: "data", Title: "Data growth"}
	cat := g.s.c.Catalog
	if cat == nil {
		sec.Note = "The catalog is " + NotAvailable + "."
		return sec, nil
	}
	as, err := pages(func(c string) ([]catalog.Asset, string, error) {
		return cat.List(ctx, g.p, catalog.KindDataset, catalog.ListOptions{Cursor: c, Limit: pageSize})
	})
	if err != nil {
		return sec, err
	}
	var j joiner
	versions, bytes := make([]float64, 12), make([]float64, 12)
	created, nv, nb, stored := 0, 0, int64(0), int64(0)
	for _, a := range as {
		if a.CreatedAt.Before(g.to) {
			j.add(a.Label)
		}
		if g.in(a.CreatedAt) {
			created++
		}
		vs, err := cat.Versions(ctx, g.p, a.ID)
		if err != nil {
			if errors.Is(errors.NotExist, err) {
				continue // gone or relabelled since the list: not counted
			}
			return sec, err
		}
		for _, v := range vs {
			if !v.CreatedAt.Before(g.to) {
				continue
			}
			j.add(v.Label)
			stored += v.TotalBytes
			if g.in(v.CreatedAt) {
				nv++
				nb += v.TotalBytes
				versions[month(v.CreatedAt)]++
				bytes[month(v.CreatedAt)] += float64(v.TotalBytes)
			}
		}
	}
	if j.err != nil {
		return sec, j.err
	}
	sec.Marking = j.marking()
	dsrc := Source{API: "/api/v1/datasets", CLI: "genesis dataset list"}
	vsrc := Source{API: "/api/v1/assets/{name}/versions (for each dataset)", CLI: "genesis dataset versions NAME"}
	sec.Figures = []Figure{
		{Name: "Datasets readable", Value: count(countBefore(as, g.to)), Source: dsrc},
		{Name: fmt.Sprintf("Datasets created in %d", g.from.Year()), Value: count(created), Source: dsrc},
		{Name: fmt.Sprintf("Dataset versions committed in %d", g.from.Year()), Value: count(nv), Source: vsrc},
		{Name: fmt.Sprintf("Bytes committed in %d", g.from.Year()), Value: byteSize(nb), Source: vsrc},
		{Name: "Bytes stored at the end of the period", Value: byteSize(stored), Source: vsrc},
	}
	if nv == 0 {
		sec.Note = fmt.Sprintf("No readable dataset version was committed in %d.", g.from.Year())
		return sec, nil
	}
	mb := make([]float64, 12)
	for i, b := range bytes {
		mb[i] = b / (1 << 20)
	}
	sec.Charts = []Chart{
		{Title: "Dataset versions committed per month", YLabel: "versions", Months: monthNames, Bars: []Bars{{Name: "versions", Values: versions}}, Source: vsrc},
		{Title: "Data committed per month", YLabel: "MiB", Months: monthNames, Bars: []Bars{{Name: "MiB", Values: mb}}, Source: vsrc},
	}
	return sec, nil
}

// pageSize is how many records the report asks for at a time.
const pageSize = 1000

func countBefore(as []catalog.Asset, to time.Time) int {
	n := 0
	for _, a := range as {
		if a.CreatedAt.Before(to) {
			n++
		}
	}
	return n
}

// NodeHours is the node-hours a job used: its nodes times the time from
// its start to its end (0 for a job that never started or has not ended).
func NodeHours(j *jobs.Job) float64 {
	if j.StartedAt == nil || j.FinishedAt == nil || j.Spec == nil {
		return 0
	}
	d := j.FinishedAt.Sub(*j.StartedAt)
	if d <= 0 {
		return 0
	}
	return float64(j.Spec.Resources.Nodes()) * d.Hours()
}

func (g *gather) compute(ctx context.Context) (Section, error) {
	sec := Section{Key: "compute", Title: "Compute growth"}
	js := g.s.c.Jobs
	if js == nil {
		sec.Note = "The job service is " + NotAvailable + "."
		return sec, nil
	}
	all, err := pages(func(c string) ([]jobs.Job, string, error) {
		return js.List(ctx, g.p, jobs.ListOptions{Cursor: c, Limit: pageSize})
	})
	if err != nil {
		return sec, err
	}
	var j joiner
	perMonth, hours := make([]float64, 12), make([]float64, 12)
	by := map[string]int{}
	n, nh := 0, 0.0
	for i := range all {
		job := &all[i]
		if !g.in(job.CreatedAt) {
			continue
		}
		j.add(job.Label)
		n++
		by[job.State]++
		perMonth[month(job.CreatedAt)]++
		h := NodeHours(job)
		nh += h
		hours[month(job.CreatedAt)] += h
	}
	if j.err != nil {
		return sec, j.err
	}
	sec.Marking = j.marking()
	y := g.from.Year()
	src := Source{API: "/api/v1/jobs", CLI: "genesis job list"}
	sec.Figures = []Figure{{Name: fmt.Sprintf("Jobs submitted in %d", y), Value: count(n), Source: src}}
	for _, st := range []string{jobs.Completed, jobs.Failed, jobs.Canceled, jobs.Running, jobs.Pending} {
		sec.Figures = append(sec.Figures, Figure{Name: "… now " + st, Value: count(by[st]), Source: Source{API: "/api/v1/jobs?state=" + st, CLI: "genesis job list --state " + st}})
	}
	sec.Figures = append(sec.Figures, Figure{Name: fmt.Sprintf("Node-hours used by jobs submitted in %d", y), Value: nodeHours(nh), Source: Source{API: "/api/v1/jobs?state=completed (nodes × run time)", CLI: "genesis job list --state completed"}})
	if n == 0 {
		sec.Note = fmt.Sprintf("No readable job was submitted in %d.", y)
		return sec, nil
	}
	sec.Charts = []Chart{
		{Title: "Jobs submitted per month", YLabel: "jobs", Months: monthNames, Bars: []Bars{{Name: "jobs", Values: perMonth}}, Source: src},
		{Title: "Node-hours per month", YLabel: "node-hours", Months: monthNames, Bars: []Bars{{Name: "node-hours", Values: hours}}, Source: src},
	}
	return sec, nil
}

var campaignStates = []string{campaign.Completed, campaign.Running, campaign.Paused, campaign.Stopped, campaign.FailedC, campaign.Draft}

func (g *gather) campaigns(ctx context.Context) (Section, error) {
	sec := Section{Key: "campaigns", Title: "Campaigns run and experiments performed"}
	cs := g.s.c.Campaigns
	if cs == nil {
		sec.Note = "The campaign service is " + NotAvailable + "."
		return sec, nil
	}
	all, err := pages(func(c string) ([]campaign.Campaign, string, error) {
		return cs.List(ctx, g.p, campaign.ListOptions{Cursor: c, Limit: pageSize})
	})
	if err != nil {
		return sec, err
	}
	var j joiner
	by := map[string]int{}
	started, exps := make([]float64, 12), make([]float64, 12)
	n, ne, nf := 0, 0, 0
	for _, c := range all {
		if !c.CreatedAt.Before(g.to) {
			continue
		}
		ran := c.StartedAt != nil && g.in(*c.StartedAt)
		es, err := pages(func(cur string) ([]campaign.Experiment, string, error) {
			return cs.Experiments(ctx, g.p, c.ID, campaign.ExperimentOptions{Cursor: cur, Limit: pageSize})
		})
		if err != nil {
			if errors.Is(errors.NotExist, err) {
				continue
			}
			return sec, err
		}
		done := 0
		for _, e := range es {
			if e.EndedAt == nil || !g.in(*e.EndedAt) {
				continue
			}
			switch e.State {
			case campaign.Observed:
				ne++
			case campaign.ExpFailed:
				nf++
			default:
				continue
			}
			done++
			exps[month(*e.EndedAt)]++
		}
		if !ran && done == 0 && !g.in(c.CreatedAt) {
			continue
		}
		j.add(c.Label)
		n++
		by[c.State]++
		if ran {
			started[month(*c.StartedAt)]++
		}
	}
	if j.err != nil {
		return sec, j.err
	}
	sec.Marking = j.marking()
	y := g.from.Year()
	src := Source{API: "/api/v1/campaigns", CLI: "genesis campaign list"}
	esrc := Source{API: "/api/v1/campaigns/{name}/experiments (for each campaign)", CLI: "genesis campaign show NAME"}
	sec.Figures = []Figure{{Name: fmt.Sprintf("Campaigns created, started or experimenting in %d", y), Value: count(n), Source: src}}
	for _, st := range campaignStates {
		sec.Figures = append(sec.Figures, Figure{Name: "… now " + st, Value: count(by[st]), Source: Source{API: "/api/v1/campaigns?state=" + st, CLI: "genesis campaign list --state " + st}})
	}
	sec.Figures = append(sec.Figures,
		Figure{Name: fmt.Sprintf("Experiments performed in %d (observed)", y), Value: count(ne), Source: esrc},
		Figure{Name: fmt.Sprintf("Experiments failed in %d", y), Value: count(nf), Source: esrc})
	if n == 0 {
		sec.Note = fmt.Sprintf("No readable campaign ran in %d.", y)
		return sec, nil
	}
	sec.Charts = []Chart{{Title: "Campaigns started and experiments performed per month", YLabel: "count", Months: monthNames,
		Bars: []Bars{{Name: "campaigns started", Values: started}, {Name: "experiments ended", Values: exps}}, Source: src}}
	return sec, nil
}

func (g *gather) assets(kind catalog.Kind) func(context.Context) (Section, error) {
	return func(ctx context.Context) (Section, error) {
		sec := Section{Key: string(kind) + "s", Title: "Models registered"}
		src := Source{API: "/api/v1/models", CLI: "genesis model list"}
		if kind == catalog.KindPublication {
			sec.Title = "Publications"
			src = Source{API: "/api/v1/search?kind=publication", CLI: "genesis search --kind publication"}
		}
		cat := g.s.c.Catalog
		if cat == nil {
			sec.Note = "The catalog is " + NotAvailable + "."
			return sec, nil
		}
		as, err := pages(func(c string) ([]catalog.Asset, string, error) {
			return cat.List(ctx, g.p, kind, catalog.ListOptions{Cursor: c, Limit: pageSize})
		})
		if err != nil {
			return sec, err
		}
		var j joiner
		per := make([]float64, 12)
		n, total := 0, 0
		for _, a := range as {
			if !a.CreatedAt.Before(g.to) {
				continue
			}
			j.add(a.Label)
			total++
			if g.in(a.CreatedAt) {
				n++
				per[month(a.CreatedAt)]++
			}
		}
		if j.err != nil {
			return sec, j.err
		}
		sec.Marking = j.marking()
		y := g.from.Year()
		what := "Models"
		if kind == catalog.KindPublication {
			what = "Publications"
		}
		sec.Figures = []Figure{
			{Name: fmt.Sprintf("%s registered in %d", what, y), Value: count(n), Source: src},
			{Name: what + " readable at the end of the period", Value: count(total), Source: src},
		}
		if n == 0 {
			sec.Note = fmt.Sprintf("No readable %s was registered in %d.", kind, y)
			return sec, nil
		}
		sec.Charts = []Chart{{Title: what + " registered per month", YLabel: string(kind) + "s", Months: monthNames, Bars: []Bars{{Name: string(kind) + "s", Values: per}}, Source: src}}
		return sec, nil
	}
}

func (g *gather) partners(ctx context.Context) (Section, error) {
	sec := Section{Key: "partners", Title: "Partners"}
	var j joiner
	if g.src.Partners == nil {
		sec.Note = "The partnership portfolio is " + NotAvailable + "."
	} else {
		ps, err := g.src.Partners(ctx, g.p)
		if err != nil {
			return sec, err
		}
		src := Source{API: "/api/v1/partners", CLI: "genesis partner list"}
		tab := Table{Columns: []string{"Organisation", "Kind", "Agreements", "Contributed", "Used (node-hours)"}, Source: src}
		sort.SliceStable(ps, func(a, b int) bool { return ps[a].Org < ps[b].Org })
		expiring := 0
		for _, pt := range ps {
			j.add(pt.Label)
			var ags []string
			for _, a := range pt.Agreements {
				s := sanitize(a.ID)
				if a.Until != nil {
					s += " until " + a.Until.UTC().Format("2006-01-02")
				}
				if a.Expiring {
					s += " (expiring)"
					expiring++
				}
				ags = append(ags, s)
			}
			tab.Rows = append(tab.Rows, []string{sanitize(pt.Org), sanitize(pt.Kind), joinLines(ags),
				fmt.Sprintf("%d datasets, %d models, %d sites, %d instruments", pt.Datasets, pt.Models, pt.Sites, pt.Instruments), nodeHours(pt.UsedNodeHours)})
		}
		sec.Figures = []Figure{
			{Name: "Partner organisations", Value: count(len(ps)), Source: src},
			{Name: "Agreements nearing expiry", Value: count(expiring), Source: Source{API: "/api/v1/partners?expiring=60d", CLI: "genesis partner list --expiring 60d"}},
		}
		if len(ps) == 0 {
			sec.Note = "No partner organisation is readable."
		} else {
			sec.Tables = []Table{tab}
		}
	}
	// Synthetic data is counted here beside what partners contributed.
	if g.src.Synthetic == nil {
		sec.Figures = append(sec.Figures, Figure{Name: "Synthetic dataset versions", Value: NotAvailable})
	} else {
		sy, err := g.src.Synthetic(ctx, g.p)
		if err != nil {
			return sec, err
		}
		if sy != nil {
			j.add(sy.Label)
			src := sy.Source
			if src == "" {
				src = "/api/v1/search?synthetic=true"
			}
			sec.Figures = append(sec.Figures,
				Figure{Name: "Synthetic dataset versions", Value: count(sy.Synthetic), Source: Source{API: src, CLI: "genesis search --synthetic"}},
				Figure{Name: "Measured dataset versions", Value: count(sy.Measured), Source: Source{API: "/api/v1/datasets", CLI: "genesis dataset list"}})
		}
	}
	if j.err != nil {
		return sec, j.err
	}
	sec.Marking = j.marking()
	return sec, nil
}

// bestSoFar is the running best of h (by direction: "min" or else max)
// before end, in time order: what a challenge's chart draws, whatever
// order or points its source gives.
func bestSoFar(direction string, h []Point, end time.Time) []Point {
	in := append([]Point(nil), h...)
	sort.SliceStable(in, func(i, j int) bool { return in[i].At.Before(in[j].At) })
	var out []Point
	for _, p := range in {
		if !p.At.Before(end) || !finite(p.Value) {
			continue
		}
		if n := len(out); n > 0 {
			last := out[n-1].Value
			if direction == "min" && p.Value >= last || direction != "min" && p.Value <= last {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}

func joinLines(ss []string) string {
	out := ""
	for i, s := range ss {
		if i > 0 {
			out += "; "
		}
		out += s
	}
	return out
}

// nodeHours prints node-hours: whole hours when many, four decimals when few
// (a quick job is a fraction of a node-hour, not nothing).
func nodeHours(h float64) string {
	switch {
	case h >= 100:
		return fmt.Sprintf("%.0f", h)
	case h >= 1:
		return fmt.Sprintf("%.2f", h)
	case h == 0:
		return "0"
	case h < 0.0001:
		return "< 0.0001"
	}
	return fmt.Sprintf("%.4f", h)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// num prints a measured value compactly.
func num(v float64) string {
	if !finite(v) {
		return "n/a"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

// byteSize prints n bytes in binary units, with the exact count.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTP"[exp], n)
}

// standing orders challenges in the report: -1 without any result, else
// the mean progress of its targets (0..1, a reached target counting 1).
func standing(c Challenge) float64 {
	sum, any := 0.0, false
	for _, t := range c.Targets {
		if t.Best != nil || t.Reached {
			any = true
		}
		switch {
		case t.Reached:
			sum++
		case t.Progress > 0:
			sum += min(t.Progress, 1)
		}
	}
	if !any {
		return -1
	}
	return sum / float64(len(c.Targets))
}
