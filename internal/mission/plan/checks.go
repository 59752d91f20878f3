package plan

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/text"
)

// State is what the checks look at: the platform as one viewer sees it.
// Each source is nil when it is not available (the part is not wired, or
// the viewer may not read it); a check that needs it is then "not
// available", never failed.
type State struct {
	Now         time.Time
	Challenges  *[]Challenge
	Sites       *[]Site
	Instruments *[]Instrument
	Campaigns   *[]Campaign
	Assets      *[]Asset
	// Why says why a nil source is not available, by source name
	// ("challenges", "sites", "instruments", "campaigns", "assets"); a
	// source without an entry is not on this platform.
	Why map[string]string
	// Notes say which sources stopped at their bound (see Truncated).
	Notes []string
}

// Challenge is the view of a national challenge the checks need.
type Challenge struct {
	ID, Name, Title, Domain string
	// Label is the marking of the challenge's progress (its label joined
	// with every record the progress was computed from).
	Label string
	Demo  bool
	// Assets are the IDs or names of the linked datasets and models the
	// viewer may read.
	Assets  []string
	Targets []Target
}

// Target is a challenge's measurable target and whether a campaign
// reached it.
type Target struct {
	Metric  string
	Reached bool
	// ReachedBy is the ID or name of the campaign whose result reached it.
	ReachedBy string
}

// Site is the view of a compute site the checks need.
type Site struct {
	Name             string
	Status           string
	Accreditation    string
	CapacityReported bool // nodes (and cores) stated
	PowerCapKW       float64
	PowerDrawKW      float64
	DrawReported     bool // a heartbeat (or a probe) reported a draw
}

// Instrument is the view of an instrument the checks need.
type Instrument struct {
	Name, Lab string
}

// Campaign is the view of a campaign the checks need.
type Campaign struct {
	ID, Name string
	Label    string // its marking
	// State is draft, running, paused, stopped, completed or failed.
	State string
	// Labs are the labs of the instruments (or workcell) it runs on; none
	// for a campaign on compute jobs.
	Labs []string
	// Dataset names its results dataset, "" if none was committed (or the
	// viewer may not read it).
	Dataset string
	// ResultsLineage: a readable version of the results dataset was
	// committed by this campaign's activity (the lineage record of a result).
	ResultsLineage bool
}

// Asset is the view of a dataset or model the checks and risks need.
type Asset struct {
	ID, Name, Kind string
	Label          string // its marking
	// Quality is the metadata quality score, 0..100; -1 when the asset has
	// no metadata record.
	Quality int
	// Linked: the asset has lineage edges (either way) or a challenge
	// links it.
	Linked bool
}

// Evidence is a pointer to what a result rests on: an API path or a CLI
// command, with a line of text.
type Evidence struct {
	Text string `json:"text"`
	Link string `json:"link,omitempty"`
}

// Result is what a check found.
type Result struct {
	// Available is false when a source the check needs is not available;
	// Missing then says which.
	Available bool       `json:"available"`
	Met       bool       `json:"met"`
	Progress  float64    `json:"progress"` // 0..1
	Evidence  []Evidence `json:"evidence"`
	// Missing says exactly what is missing for the check to be met.
	Missing []string `json:"missing"`
}

// Limits on what a result lists: a result names at most this many items
// of each kind and then says how many more.
const maxListed = 20

type paramSpec struct {
	name   string
	list   bool // a list of names, else a whole number
	lo, hi int64
	def    any
	doc    string
}

// Kind is a check kind: its params and its pure evaluation.
type Kind struct {
	Name  string
	Doc   string
	specs []paramSpec
	needs []string // the sources it reads, for "not available"
	eval  func(s *State, p params) Result
}

type params map[string]any

func (p params) int(name string) int {
	n, _ := integer(p[name])
	return int(n)
}

func (p params) list(name string) []string {
	switch v := p[name].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

var kinds = map[string]*Kind{}

func register(k *Kind) { kinds[k.Name] = k }

// KindNames lists the check kinds, sorted.
func KindNames() []string {
	out := make([]string, 0, len(kinds))
	for n := range kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// params checks a milestone's params against the kind (unknown, mistyped,
// out of range: refused naming path.NAME) and fills the defaults.
func (k *Kind) params(path string, in map[string]any) (map[string]any, error) {
	names := make([]string, len(k.specs))
	for i, s := range k.specs {
		names[i] = s.name
	}
	for n := range in {
		if !slices.Contains(names, n) {
			msg := fmt.Sprintf("unknown param %q of check %s", clip(n), k.Name)
			if len(names) == 0 {
				msg += " (it takes none)"
			} else if hint := text.Suggest(n, names); hint != "" {
				msg += "; did you mean " + strconv.Quote(hint) + "?"
			} else {
				msg += " (it takes " + strings.Join(names, ", ") + ")"
			}
			return nil, invalid(path+"."+clip(n), msg)
		}
	}
	out := map[string]any{}
	for _, s := range k.specs {
		f := path + "." + s.name
		v, ok := in[s.name]
		if !ok || v == nil {
			out[s.name] = s.def
			continue
		}
		if s.list {
			xs, ok := v.([]any)
			if !ok {
				if ys, ok2 := v.([]string); ok2 {
					xs = make([]any, len(ys))
					for i := range ys {
						xs[i] = ys[i]
					}
					ok = true
				}
			}
			if !ok {
				return nil, invalid(f, "want a list of names")
			}
			if int64(len(xs)) > s.hi {
				return nil, invalid(f, fmt.Sprintf("more than %d names", s.hi))
			}
			var names []string
			for i, x := range xs {
				str, ok := x.(string)
				fi := f + "[" + strconv.Itoa(i) + "]"
				if !ok {
					return nil, invalid(fi, "want a name (text)")
				}
				if err := text.Line(fi, str, 100); err != nil || strings.TrimSpace(str) == "" {
					return nil, invalid(fi, "want a name: one line of printable text, at most 100 bytes")
				}
				if slices.Contains(names, str) {
					return nil, invalid(fi, fmt.Sprintf("%q listed twice", clip(str)))
				}
				names = append(names, str)
			}
			if names == nil {
				names = []string{}
			}
			out[s.name] = names
			continue
		}
		n, ok := integer(v)
		if !ok {
			return nil, invalid(f, "want a whole number")
		}
		if n < s.lo || n > s.hi {
			return nil, invalid(f, fmt.Sprintf("%d is out of range %d..%d", n, s.lo, s.hi))
		}
		out[s.name] = int(n)
	}
	return out, nil
}

// Evaluate runs the check kind over s with params p (already checked by
// Parse). An unknown kind or a missing source is not available.
func Evaluate(kind string, s *State, p map[string]any) Result {
	k := kinds[kind]
	if k == nil {
		return Result{Missing: []string{"unknown check kind " + strconv.Quote(kind)}, Evidence: []Evidence{}}
	}
	var missing []string
	for _, n := range k.needs {
		if !s.has(n) {
			missing = append(missing, n+": "+s.why(n))
		}
	}
	if missing != nil {
		return Result{Missing: missing, Evidence: []Evidence{}}
	}
	full, err := k.params("params", p)
	if err != nil {
		return Result{Missing: []string{errors.SafeMessage(err)}, Evidence: []Evidence{}}
	}
	r := k.eval(s, full)
	r.Available = true
	r.Met = len(r.Missing) == 0
	if r.Met {
		r.Progress = 1
	}
	if r.Missing == nil {
		r.Missing = []string{}
	}
	if r.Evidence == nil {
		r.Evidence = []Evidence{}
	}
	r.Progress = max(0, min(1, r.Progress))
	return r
}

func (s *State) has(source string) bool {
	switch source {
	case "challenges":
		return s.Challenges != nil
	case "sites":
		return s.Sites != nil
	case "instruments":
		return s.Instruments != nil
	case "campaigns":
		return s.Campaigns != nil
	case "assets":
		return s.Assets != nil
	}
	return false
}

// capped appends at most maxListed of items to out, then one line saying
// how many more.
func capped(out []string, items []string) []string {
	if len(items) > maxListed {
		return append(append(out, items[:maxListed]...), fmt.Sprintf("… and %d more", len(items)-maxListed))
	}
	return append(out, items...)
}

// Domain is the canonical form of a domain name: lower case, runs of
// anything but letters and digits as one '-' ("Critical minerals &
// materials" → "critical-minerals-materials").
func Domain(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}

func init() {
	register(&Kind{
		Name:  "challenges_identified",
		Doc:   "at least min challenges the viewer may read, with at least one in each of domains",
		needs: []string{"challenges"},
		specs: []paramSpec{
			{name: "min", lo: 1, hi: 10000, def: 20},
			{name: "domains", list: true, hi: 50, def: []string{}},
		},
		eval: func(s *State, p params) Result {
			want := p.int("min")
			cs := *s.Challenges
			var r Result
			covered := map[string]bool{}
			demo := 0
			for _, c := range cs {
				covered[Domain(c.Domain)] = true
				if c.Demo {
					demo++
				}
			}
			ev := fmt.Sprintf("%s identified", plural(len(cs), "challenge", "challenges"))
			if demo > 0 {
				ev += fmt.Sprintf(" (%d of them demo data)", demo)
			}
			r.Evidence = append(r.Evidence, Evidence{Text: ev, Link: "/api/v1/challenges"})
			if len(cs) < want {
				r.Missing = append(r.Missing, fmt.Sprintf("%d more challenges (%d of %d identified)", want-len(cs), len(cs), want))
			}
			domains := p.list("domains")
			var uncovered []string
			for _, d := range domains {
				if !covered[Domain(d)] {
					uncovered = append(uncovered, d)
				}
			}
			if len(uncovered) > 0 {
				r.Missing = append(r.Missing, "no challenge in domain "+strings.Join(uncovered, ", "))
			}
			r.Progress = float64(min(len(cs), want)) / float64(want)
			if len(domains) > 0 {
				r.Progress = (r.Progress + float64(len(domains)-len(uncovered))/float64(len(domains))) / 2
				r.Evidence = append(r.Evidence, Evidence{Text: fmt.Sprintf("%d of %d priority domains covered", len(domains)-len(uncovered), len(domains)), Link: "genesis challenge list"})
			}
			return r
		},
	})
	register(&Kind{
		Name:  "inventory_complete",
		Doc:   "at least one site, and every registered site reports capacity, accreditation, power cap and draw, and status",
		needs: []string{"sites"},
		eval: func(s *State, _ params) Result {
			var r Result
			sites := *s.Sites
			if len(sites) == 0 {
				r.Missing = []string{"no compute site registered (genesis site add)"}
				return r
			}
			complete := 0
			var missing []string
			for _, st := range sites {
				var lacks []string
				if !st.CapacityReported {
					lacks = append(lacks, "no capacity")
				}
				if st.Accreditation == "" {
					lacks = append(lacks, "no accreditation")
				}
				if st.PowerCapKW <= 0 {
					lacks = append(lacks, "no power cap")
				}
				if !st.DrawReported {
					lacks = append(lacks, "no power draw")
				}
				if st.Status == "" {
					lacks = append(lacks, "no status")
				}
				if len(lacks) == 0 {
					complete++
					continue
				}
				missing = append(missing, "site "+st.Name+" reports "+strings.Join(lacks, ", "))
			}
			r.Missing = capped(nil, missing)
			r.Progress = float64(complete) / float64(len(sites))
			r.Evidence = []Evidence{{Text: fmt.Sprintf("%d of %s report capacity, accreditation, power and status", complete, plural(len(sites), "site", "sites")), Link: "/api/v1/sites"}}
			return r
		},
	})
	register(&Kind{
		Name:  "assets_identified",
		Doc:   "every challenge links at least one dataset or model whose metadata quality is at least min_quality",
		needs: []string{"challenges", "assets"},
		specs: []paramSpec{{name: "min_quality", lo: 0, hi: 100, def: 50}},
		eval: func(s *State, p params) Result {
			var r Result
			q := p.int("min_quality")
			cs := *s.Challenges
			if len(cs) == 0 {
				r.Missing = []string{"no challenge identified (genesis challenge create)"}
				return r
			}
			assets := map[string]Asset{}
			for _, a := range *s.Assets {
				assets[a.ID] = a
				if _, ok := assets[a.Name]; !ok {
					assets[a.Name] = a
				}
			}
			good := 0
			var missing []string
			for _, c := range cs {
				best, bestName, linked := -1, "", 0
				for _, ref := range c.Assets {
					a, ok := assets[ref]
					if !ok {
						continue // not readable: as if not linked
					}
					linked++
					if a.Quality > best {
						best, bestName = a.Quality, a.Name
					}
				}
				switch {
				case linked == 0:
					missing = append(missing, "challenge "+c.Name+" links no dataset or model")
				case best < q:
					if best < 0 {
						missing = append(missing, fmt.Sprintf("challenge %s: its linked assets have no metadata (quality needs %d)", c.Name, q))
					} else {
						missing = append(missing, fmt.Sprintf("challenge %s: best linked asset %s has metadata quality %d, below %d", c.Name, bestName, best, q))
					}
				default:
					good++
				}
			}
			r.Missing = capped(nil, missing)
			r.Progress = float64(good) / float64(len(cs))
			r.Evidence = []Evidence{{Text: fmt.Sprintf("%d of %s link a dataset or model of metadata quality ≥ %d", good, plural(len(cs), "challenge", "challenges"), q), Link: "/api/v1/challenges"}}
			return r
		},
	})
	register(&Kind{
		Name:  "labs_reviewed",
		Doc:   "instruments registered, and at least min_campaigns completed closed-loop campaigns on each lab's instruments (labs: only those labs)",
		needs: []string{"instruments", "campaigns"},
		specs: []paramSpec{
			{name: "min_campaigns", lo: 1, hi: 1000, def: 1},
			{name: "labs", list: true, hi: 100, def: []string{}},
		},
		eval: func(s *State, p params) Result {
			var r Result
			ins := *s.Instruments
			if len(ins) == 0 {
				r.Missing = []string{"no instrument registered (genesis instrument add)"}
				return r
			}
			labs := p.list("labs")
			if len(labs) == 0 {
				seen := map[string]bool{}
				for _, in := range ins {
					l := in.Lab
					if l == "" {
						l = "(no lab)"
					}
					if !seen[l] {
						seen[l] = true
						labs = append(labs, l)
					}
				}
				sort.Strings(labs)
			}
			hasInstruments := map[string]int{}
			for _, in := range ins {
				l := in.Lab
				if l == "" {
					l = "(no lab)"
				}
				hasInstruments[l]++
			}
			done := map[string]int{}
			for _, c := range *s.Campaigns {
				if c.State != "completed" {
					continue
				}
				for _, l := range c.Labs {
					if l == "" {
						l = "(no lab)"
					}
					done[l]++
				}
			}
			want := p.int("min_campaigns")
			ok := 0
			var missing []string
			for _, l := range labs {
				switch {
				case hasInstruments[l] == 0:
					missing = append(missing, "lab "+l+" has no instrument registered")
				case done[l] < want:
					missing = append(missing, fmt.Sprintf("lab %s: %d of %d completed closed-loop campaigns", l, done[l], want))
				default:
					ok++
				}
			}
			r.Missing = capped(nil, missing)
			r.Progress = float64(ok) / float64(len(labs))
			r.Evidence = []Evidence{
				{Text: fmt.Sprintf("%s registered in %s", plural(len(ins), "instrument", "instruments"), plural(len(hasInstruments), "lab", "labs")), Link: "/api/v1/instruments"},
				{Text: fmt.Sprintf("%d of %s with ≥ %d completed campaigns", ok, plural(len(labs), "lab", "labs"), want), Link: "/api/v1/campaigns?state=completed"},
			}
			return r
		},
	})
	register(&Kind{
		Name:  "initial_operating_capability",
		Doc:   "at least min challenges with a target reached by a campaign on the platform whose results dataset records the campaign's lineage",
		needs: []string{"challenges", "campaigns"},
		specs: []paramSpec{{name: "min", lo: 1, hi: 1000, def: 1}},
		eval: func(s *State, p params) Result {
			var r Result
			want := p.int("min")
			camps := map[string]Campaign{}
			for _, c := range *s.Campaigns {
				camps[c.ID] = c
				if _, ok := camps[c.Name]; !ok {
					camps[c.Name] = c
				}
			}
			done := 0
			var gaps []string
			reachedAny := false
			for _, ch := range *s.Challenges {
				ok := false
				for _, t := range ch.Targets {
					if !t.Reached {
						continue
					}
					reachedAny = true
					c, found := camps[t.ReachedBy]
					switch {
					case !found:
						gaps = append(gaps, fmt.Sprintf("challenge %s: target %s was reached outside a campaign you may read", ch.Name, t.Metric))
					case c.Dataset == "":
						gaps = append(gaps, fmt.Sprintf("challenge %s: target %s reached by campaign %s, which recorded no results dataset", ch.Name, t.Metric, c.Name))
					case !c.ResultsLineage:
						gaps = append(gaps, fmt.Sprintf("challenge %s: target %s reached by campaign %s, but its results dataset %s records no lineage to the campaign", ch.Name, t.Metric, c.Name, c.Dataset))
					default:
						if !ok {
							r.Evidence = append(r.Evidence, Evidence{
								Text: fmt.Sprintf("challenge %s: target %s reached by campaign %s, results in %s", ch.Name, t.Metric, c.Name, c.Dataset),
								Link: "/api/v1/campaigns/" + c.Name,
							})
						}
						ok = true
					}
				}
				if ok {
					done++
				}
			}
			if done < want {
				if !reachedAny {
					r.Missing = append(r.Missing, "no challenge target reached by a campaign yet")
				}
				r.Missing = capped(r.Missing, gaps)
				if done > 0 || reachedAny {
					r.Missing = append(r.Missing, fmt.Sprintf("%d of %d challenges reached end to end", done, want))
				}
			}
			r.Progress = float64(min(done, want)) / float64(want)
			r.Evidence = append(r.Evidence, Evidence{Text: fmt.Sprintf("%d of %s with a target reached end to end", done, plural(len(*s.Challenges), "challenge", "challenges")), Link: "/api/v1/challenges"})
			return r
		},
	})
}

// Label is the join of the labels of every record s holds (sites and
// instruments are OPEN records): what a status or risk register computed
// from s is labelled (invariant 2). An unparsable marking counts as the
// top it cannot be shown under: the result is refused (ok false).
func (s *State) Label() (string, bool) {
	var ms []string
	if s.Challenges != nil {
		for _, c := range *s.Challenges {
			ms = append(ms, c.Label)
		}
	}
	if s.Campaigns != nil {
		for _, c := range *s.Campaigns {
			ms = append(ms, c.Label)
		}
	}
	if s.Assets != nil {
		for _, a := range *s.Assets {
			ms = append(ms, a.Label)
		}
	}
	return joinMarkings(ms...)
}

// joinMarkings joins canonical markings ("" counts as OPEN).
func joinMarkings(ms ...string) (string, bool) {
	j := label.MustParse("OPEN")
	seen := map[string]bool{}
	for _, m := range ms {
		if m == "" || seen[m] {
			continue
		}
		seen[m] = true
		l, err := label.Parse(m)
		if err != nil {
			return "", false
		}
		j = label.Join(j, l)
	}
	return j.Format(), true
}
