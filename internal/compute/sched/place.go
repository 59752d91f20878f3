// Package sched decides where a job may and should run. Place is a pure
// function of the job and the candidate sites, so that the one rule that
// must never break — no job on a site whose accreditation does not dominate
// its label (DESIGN invariant 3) — can be tested over random inputs, and so
// that `genesis job explain` can show, for every site, why it was chosen or
// rejected.
package sched

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/label"
)

// Remaining is what is left of a project's allocation at one site.
type Remaining struct {
	NodeHours, GPUHours float64
}

// Job is what placement needs to know about a job.
type Job struct {
	Label     label.Label
	Resources compute.Resources
	// InputBytes is how much input data must reach the site.
	InputBytes int64
	// Charged jobs belong to a project and run only where it holds an
	// allocation large enough: Remaining is by site name; NodeHours and
	// GPUHours are what the job may use (nodes × duration).
	Charged             bool
	Project             string
	Remaining           map[string]Remaining
	NodeHours, GPUHours float64
	// Nationality of the submitter is not a site constraint; the label's
	// REL TO is (every operator of the site must be releasable to).
}

// Load is what the scheduler knows about a site's current work.
type Load struct {
	RunningJobs  int
	RunningNodes int
}

// Candidate is a site with its load. Build it with NewCandidate, which
// parses the accreditation once (a scheduler cycle judges many jobs against
// the same sites).
type Candidate struct {
	Site sites.Site
	Load Load

	acc    label.Label
	accErr error
	parsed bool
}

// NewCandidate prepares a site for placement decisions.
func NewCandidate(s sites.Site, l Load) Candidate {
	acc, err := label.Parse(s.Accreditation)
	return Candidate{Site: s, Load: l, acc: acc, accErr: err, parsed: true}
}

// Verdict is the decision about one site.
type Verdict struct {
	Site     string   `json:"site"`
	Feasible bool     `json:"feasible"`
	Reasons  []string `json:"reasons,omitempty"` // why not, when infeasible
	Score    float64  `json:"score,omitempty"`   // lower is better, when feasible
	// Components of the score, for explain.
	StartEstimateS float64 `json:"start_estimate_s,omitempty"`
	TransferS      float64 `json:"transfer_s,omitempty"`
	PowerShare     float64 `json:"power_share,omitempty"`
	Chosen         bool    `json:"chosen,omitempty"`
}

// Place returns the chosen site ("" if none is feasible) and a verdict for
// every candidate, in the candidates' order, with the reasons for each
// rejection (for explain).
func Place(job Job, cands []Candidate) (string, []Verdict) { return place(job, cands, true) }

// Choose is Place without the rejection reasons: the scheduler's fast path.
func Choose(job Job, cands []Candidate) string {
	chosen, _ := place(job, cands, false)
	return chosen
}

// need is a job's demands, computed once per decision.
type need struct {
	job               Job
	nations           []string
	restricted        bool
	nodes, perNode    int
	coresPerNode, gpu int
	memGB             float64
}

func needsOf(job Job) need {
	r := job.Resources
	n := need{job: job, nodes: max(1, r.Nodes())}
	n.nations, n.restricted = job.Label.ReleasableTo()
	n.perNode = max(1, r.ProcessesPerNode)
	if r.ProcessesPerNode == 0 {
		n.perNode = max(1, (r.Processes()+n.nodes-1)/n.nodes)
	}
	n.coresPerNode = n.perNode * max(1, r.CoresPerProcess())
	n.gpu = n.perNode * r.GPUCoresPerProcess
	n.memGB = float64(r.Memory) / (1 << 30)
	return n
}

func place(job Job, cands []Candidate, explain bool) (string, []Verdict) {
	n := needsOf(job)
	var vs []Verdict
	if explain {
		vs = make([]Verdict, len(cands))
	}
	best, bestScore := -1, 0.0
	for i := range cands {
		c := &cands[i]
		if !c.parsed {
			*c = NewCandidate(c.Site, c.Load)
		}
		ok := feasible(&n, c)
		var sc, start, transfer, power float64
		if ok {
			sc, start, transfer, power = score(&n, c)
			if best < 0 || sc < bestScore || (sc == bestScore && c.Site.Name < cands[best].Site.Name) {
				best, bestScore = i, sc
			}
		}
		if explain {
			vs[i] = Verdict{Site: c.Site.Name, Feasible: ok}
			if ok {
				vs[i].Score, vs[i].StartEstimateS, vs[i].TransferS, vs[i].PowerShare = sc, start, transfer, power
			} else {
				vs[i].Reasons = reasons(&n, c)
			}
		}
	}
	if best < 0 {
		return "", vs
	}
	if explain {
		vs[best].Chosen = true
	}
	return cands[best].Site.Name, vs
}

func up(status string) bool { return status == sites.Up || status == sites.Degraded }

func gpusPerNode(cp *sites.Capacity) int {
	have := 0
	for _, x := range cp.GPUsPerNode {
		have += x.Count
	}
	return have
}

// feasible is the placement rule; reasons must say why exactly when it is
// false (a test holds the two together).
func feasible(n *need, c *Candidate) bool {
	s, cp := &c.Site, &c.Site.Capacity
	if !up(s.Status) || c.accErr != nil || !label.Dominates(c.acc, n.job.Label) {
		return false
	}
	if !cleared(n.nations, n.restricted, s.Nationalities) {
		return false
	}
	if n.nodes > cp.Nodes || n.coresPerNode > cp.CoresPerNode || n.memGB > cp.MemoryGBNode {
		return false
	}
	if n.gpu > 0 && n.gpu > gpusPerNode(cp) {
		return false
	}
	if j := &n.job; j.Charged {
		a, ok := j.Remaining[s.Name]
		if !ok || a.NodeHours < j.NodeHours || a.GPUHours < j.GPUHours {
			return false
		}
	}
	return s.PowerCapKW <= 0 || s.PowerDrawKW < s.PowerCapKW
}

// Accredits reports whether equipment accredited for acc, whose operators
// hold the given nationalities, may process data labelled l (DESIGN
// invariant 3): acc dominates l (level, compartments and agreements), and
// when l is REL TO some nations, every operator nationality is among them
// (and they are recorded). Place applies it to sites; the lab's instrument
// registry applies it to instruments.
func Accredits(acc label.Label, operatorNationalities []string, l label.Label) bool {
	nations, restricted := l.ReleasableTo()
	return label.Dominates(acc, l) && cleared(nations, restricted, operatorNationalities)
}

// cleared is the nationality half of Accredits.
func cleared(nations []string, restricted bool, operators []string) bool {
	if !restricted {
		return true
	}
	if len(operators) == 0 {
		return false
	}
	for _, nat := range operators {
		if !slices.Contains(nations, nat) {
			return false
		}
	}
	return true
}

func reasons(n *need, c *Candidate) []string {
	s, cp := &c.Site, &c.Site.Capacity
	var out []string
	no := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if !up(s.Status) {
		no("site is %s", s.Status)
	}
	switch {
	case c.accErr != nil:
		no("accreditation does not parse (fail closed)")
	case !label.Dominates(c.acc, n.job.Label):
		no("accreditation %s does not dominate the job's label %s", c.acc.Format(), n.job.Label.Format())
	}
	if n.restricted {
		if len(s.Nationalities) == 0 {
			no("label is REL TO %v but the site's operator nationalities are not recorded", n.nations)
		}
		for _, nat := range s.Nationalities {
			if !slices.Contains(n.nations, nat) {
				no("operators of nationality %s are not in the label's REL TO", nat)
			}
		}
	}
	if n.nodes > cp.Nodes {
		no("needs %d nodes, site has %d", n.nodes, cp.Nodes)
	}
	if n.coresPerNode > cp.CoresPerNode {
		no("needs %d cores per node, site has %d", n.coresPerNode, cp.CoresPerNode)
	}
	if n.memGB > cp.MemoryGBNode {
		no("needs %.1f GB per node, site has %.1f", n.memGB, cp.MemoryGBNode)
	}
	if n.gpu > 0 && n.gpu > gpusPerNode(cp) {
		no("needs %d GPUs per node, site has %d", n.gpu, gpusPerNode(cp))
	}
	if j := &n.job; j.Charged {
		a, ok := j.Remaining[s.Name]
		switch {
		case !ok:
			no("project %s has no allocation at this site", j.Project)
		case a.NodeHours < j.NodeHours:
			no("project %s has %.1f node-hours left here, the job may use %.1f", j.Project, a.NodeHours, j.NodeHours)
		case a.GPUHours < j.GPUHours:
			no("project %s has %.1f GPU-hours left here, the job may use %.1f", j.Project, a.GPUHours, j.GPUHours)
		}
	}
	if s.PowerCapKW > 0 && s.PowerDrawKW >= s.PowerCapKW {
		no("no power headroom (%.0f of %.0f kW)", s.PowerDrawKW, s.PowerCapKW)
	}
	return out
}

// score is lower for better sites: estimated start (the queue ahead, in
// jobs of this size), time to move the inputs, and the share of the power
// cap already drawn.
func score(n *need, c *Candidate) (total, start, transfer, power float64) {
	s, cp := &c.Site, &c.Site.Capacity
	if free := cp.Nodes - c.Load.RunningNodes; free < n.nodes {
		start = 600 * float64(c.Load.RunningJobs+1) * float64(n.nodes) / float64(cp.Nodes)
	}
	if n.job.InputBytes > 0 {
		bw := cp.BandwidthGbps
		if bw <= 0 {
			bw = 1
		}
		transfer = float64(n.job.InputBytes) * 8 / (bw * 1e9)
	}
	if s.PowerCapKW > 0 {
		power = s.PowerDrawKW / s.PowerCapKW
	}
	total = start + transfer + 60*power
	if math.IsNaN(total) {
		total = math.Inf(1)
	}
	return total, start, transfer, power
}

// Sorted returns verdicts with the chosen first, then feasible by score,
// then infeasible, for display.
func Sorted(vs []Verdict) []Verdict {
	out := slices.Clone(vs)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Chosen != b.Chosen {
			return a.Chosen
		}
		if a.Feasible != b.Feasible {
			return a.Feasible
		}
		return a.Score < b.Score
	})
	return out
}

// Ever is Place on the sites as they would be at their best — up, idle and
// with power to spare: it says whether any candidate could ever run the
// job without anyone changing an accreditation, an operator, a capacity or
// an allocation, and, for every site that could not, why not (for the
// warning a submission gets). Status, load and power draw change by
// themselves; the rest does not.
func Ever(job Job, cands []Candidate) (bool, []Verdict) {
	best := make([]Candidate, len(cands))
	for i := range cands {
		s := cands[i].Site
		s.Status, s.PowerDrawKW = sites.Up, 0
		best[i] = NewCandidate(s, Load{})
	}
	chosen, vs := Place(job, best)
	return chosen != "", vs
}
