package mission

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// Bounds of a progress computation.
const (
	// MaxHistory bounds a target's history: a longer best-so-far curve is
	// thinned evenly, keeping its first and last points.
	MaxHistory = 200
	// maxObservations bounds the experiments read per linked campaign.
	maxObservations = 20000
	// maxModelVersions bounds the versions read per linked model.
	maxModelVersions = 1000
)

// Source is the record a value came from: a campaign's experiment or a
// model's version.
type Source struct {
	Kind string `json:"kind"` // campaign or model
	// ID and Name name the campaign or the model.
	ID   string `json:"id"`
	Name string `json:"name"`
	// Ref is the experiment ID (campaigns) or the version (models, "3").
	Ref string    `json:"ref"`
	At  time.Time `json:"at"`
}

// Observation is one value of a target's metric from a record, in the
// metric's canonical unit.
type Observation struct {
	Value  float64
	Source Source
}

// Point is a point of a target's best-so-far curve.
type Point struct {
	At     time.Time `json:"at"`
	Value  float64   `json:"value"`
	Source string    `json:"source"` // the experiment ID or model@version
}

// TargetProgress is one target's progress, computed from the records the
// reader may read.
type TargetProgress struct {
	Target
	// Best is the best value observed (nil: none yet), BestBy its record.
	Best   *float64 `json:"best,omitempty"`
	BestBy *Source  `json:"best_by,omitempty"`
	// Fraction is how far Best has come from the baseline to the target,
	// clamped to 0..1 (0 with no observation).
	Fraction float64 `json:"fraction"`
	Reached  bool    `json:"reached"`
	// ReachedBy is the first record (in time) that reached the target.
	ReachedBy *Source `json:"reached_by,omitempty"`
	// Observations counts the values considered.
	Observations int `json:"observations"`
	// History is the best-so-far curve over the records' own times.
	History []Point `json:"history"`
}

// Progress is a challenge's progress as its reader sees it.
type Progress struct {
	Challenge string `json:"challenge"`
	Name      string `json:"name"`
	// Label is the join of the challenge's label and the labels of every
	// record the progress was computed from (invariant 2): what it says
	// depends on them.
	Label   string           `json:"label"`
	Targets []TargetProgress `json:"targets"`
	// Reached counts the targets reached.
	Reached    int       `json:"reached"`
	ComputedAt time.Time `json:"computed_at"`
}

// better reports whether a beats b in direction dir.
func better(dir string, a, b float64) bool {
	if dir == "min" {
		return a < b
	}
	return a > b
}

// reaches reports whether v reaches t's target.
func (t *Target) reaches(v float64) bool {
	if t.Direction == "min" {
		return v <= t.Target
	}
	return v >= t.Target
}

// fraction is how far v has come from the baseline to the target, in 0..1.
func (t *Target) fraction(v float64) float64 {
	f := (v - t.Baseline) / (t.Target - t.Baseline)
	switch {
	case f != f || f < 0:
		return 0
	case f > 1:
		return 1
	}
	return f
}

func sourceKey(s *Source) string {
	if s.Kind == "model" {
		return s.Name + "@" + s.Ref
	}
	return s.Ref
}

// naturalLess orders keys with their trailing numbers as numbers
// ("exp_x-2" before "exp_x-10", "m@9" before "m@10"), else as text.
func naturalLess(a, b string) bool {
	pa, na, oka := splitNumber(a)
	pb, nb, okb := splitNumber(b)
	if oka && okb && pa == pb && na != nb {
		return na < nb
	}
	return a < b
}

// splitNumber splits s into a prefix and its trailing decimal number.
func splitNumber(s string) (string, uint64, bool) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	if i == len(s) || len(s)-i > 18 {
		return s, 0, false
	}
	n, err := strconv.ParseUint(s[i:], 10, 64)
	return s[:i], n, err == nil
}

// ProgressOf computes t's progress from obs: the best value, the fraction
// of the way from baseline to target, whether and by which record (the
// first in time) it was reached, and the best-so-far curve over the
// records' times (ties in time broken by source: experiments by sequence,
// model versions by number), at most maxPoints
// points. It is a pure function of its arguments.
func ProgressOf(t Target, obs []Observation, maxPoints int) TargetProgress {
	out := TargetProgress{Target: t, Observations: len(obs), History: []Point{}}
	o := append([]Observation(nil), obs...)
	sort.SliceStable(o, func(i, j int) bool {
		a, b := &o[i].Source, &o[j].Source
		if !a.At.Equal(b.At) {
			return a.At.Before(b.At)
		}
		return naturalLess(sourceKey(a), sourceKey(b))
	})
	var hist []Point
	for i := range o {
		v := o[i].Value
		if v != v { // NaN
			continue
		}
		if out.Best == nil || better(t.Direction, v, *out.Best) {
			b := v
			src := o[i].Source
			out.Best, out.BestBy = &b, &src
			hist = append(hist, Point{At: src.At, Value: v, Source: sourceKey(&src)})
			if !out.Reached && t.reaches(v) {
				out.Reached, out.ReachedBy = true, &src
			}
		}
	}
	if out.Best != nil {
		out.Fraction = t.fraction(*out.Best)
	}
	out.History = thin(hist, maxPoints)
	return out
}

// thin keeps at most n points of h, evenly, with its first and last.
func thin(h []Point, n int) []Point {
	if n < 2 {
		n = 2
	}
	if len(h) <= n {
		if h == nil {
			return []Point{}
		}
		return h
	}
	out := make([]Point, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, h[i*(len(h)-1)/(n-1)])
	}
	return out
}

// Progress computes the progress of the challenge p names from the linked
// campaigns' observed experiments and the linked models' registered
// metrics that p may read.
func (s *Service) Progress(ctx context.Context, p *genesis.Principal, idOrName string) (*Progress, error) {
	const op errors.Op = "mission.Progress"
	c, err := s.Get(ctx, p, idOrName)
	if err != nil {
		return nil, err
	}
	obs := map[string][]Observation{} // by metric
	join, err := label.Parse(c.Label)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	for _, l := range c.Links {
		var err error
		switch l.Kind {
		case LinkCampaign:
			err = s.campaignObservations(ctx, p, c, l, obs, &join)
		case LinkModel:
			err = s.modelObservations(ctx, p, c, l, obs, &join)
		}
		if err != nil && !hidden(err) {
			return nil, errors.E(op, err)
		}
	}
	pr := &Progress{Challenge: c.ID, Name: c.Name, Label: join.Format(), Targets: []TargetProgress{}, ComputedAt: s.now()}
	for _, t := range c.Targets {
		tp := ProgressOf(t, obs[t.Metric], MaxHistory)
		if tp.Reached {
			pr.Reached++
		}
		pr.Targets = append(pr.Targets, tp)
	}
	return pr, nil
}

// measures maps the names a linked record measures to the challenge's
// target metrics: the link's objective to its metric, else each target
// metric to itself.
func measures(c *Challenge, l Link) map[string]string {
	m := map[string]string{}
	if l.Objective != "" {
		m[l.Objective] = l.Metric
		return m
	}
	for _, t := range c.Targets {
		m[t.Metric] = t.Metric
	}
	return m
}

// canonUnit is the (canonical) unit of c's target on metric.
func canonUnit(c *Challenge, metric string) string {
	for _, t := range c.Targets {
		if t.Metric == metric {
			return t.Unit
		}
	}
	return ""
}

// joinLabel raises *join to dominate marking.
func joinLabel(join *label.Label, marking string) error {
	l, err := label.Parse(marking)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	*join = label.Join(*join, l)
	return nil
}

func (s *Service) campaignObservations(ctx context.Context, p *genesis.Principal, c *Challenge, l Link, obs map[string][]Observation, join *label.Label) error {
	if s.c.Campaigns == nil {
		return nil
	}
	cmp, err := s.c.Campaigns.Get(ctx, p, l.ID)
	if err != nil {
		return err
	}
	type col struct{ output, metric, unit string }
	var cols []col
	want := measures(c, l)
	for _, o := range cmp.Spec.Objectives {
		metric, ok := want[o.Name]
		if !ok {
			continue
		}
		out := o.Name
		if x := cmp.Spec.Executor.Outputs[o.Name]; x != "" {
			out = x
		}
		cols = append(cols, col{out, metric, o.Unit})
	}
	if len(cols) == 0 {
		return nil
	}
	cursor, n := "", 0
	for {
		es, next, err := s.c.Campaigns.Experiments(ctx, p, cmp.ID, campaign.ExperimentOptions{State: campaign.Observed, Cursor: cursor, Limit: 1000})
		if err != nil {
			return err
		}
		for _, e := range es {
			at := e.ProposedAt
			if e.EndedAt != nil {
				at = *e.EndedAt
			}
			for _, k := range cols {
				v, ok := e.Values[k.output]
				if !ok {
					continue
				}
				if k.unit != "" && k.unit != canonUnit(c, k.metric) {
					_, cv, _, err := Canonical("value", k.metric, v, k.unit)
					if err != nil {
						continue // a unit that does not convert measures something else
					}
					v = cv
				}
				if err := joinLabel(join, cmp.Label); err != nil {
					return err
				}
				obs[k.metric] = append(obs[k.metric], Observation{Value: v, Source: Source{Kind: LinkCampaign, ID: cmp.ID, Name: cmp.Name, Ref: e.ID, At: at}})
			}
		}
		n += len(es)
		if next == "" || n >= maxObservations {
			return nil
		}
		cursor = next
	}
}

func (s *Service) modelObservations(ctx context.Context, p *genesis.Principal, c *Challenge, l Link, obs map[string][]Observation, join *label.Label) error {
	vs, err := s.c.Catalog.Versions(ctx, p, l.ID)
	if err != nil {
		return err
	}
	if len(vs) > maxModelVersions {
		vs = vs[len(vs)-maxModelVersions:]
	}
	want := measures(c, l)
	for _, v := range vs {
		_, m, err := s.c.Catalog.ModelMeta(ctx, p, l.ID, v.Version)
		if err != nil {
			if hidden(err) {
				continue
			}
			return err
		}
		if m == nil || len(m.Metrics) == 0 {
			continue
		}
		var metrics map[string]any
		if json.Unmarshal(m.Metrics, &metrics) != nil {
			continue
		}
		for key, metric := range want {
			x, ok := metrics[key].(float64)
			if !ok {
				continue
			}
			if err := joinLabel(join, v.Label); err != nil {
				return err
			}
			obs[metric] = append(obs[metric], Observation{Value: x, Source: Source{Kind: LinkModel, ID: l.ID, Name: l.Name, Ref: strconv.FormatInt(v.Version, 10), At: v.CreatedAt}})
		}
	}
	return nil
}

// Target is the challenge's target an agent aims at (agent.Challenges):
// its first unreached target as p sees the progress, or its first target
// when all are reached. Its label is the progress's: the challenge's
// marking joined with the records that decided which target is unreached.
func (s *Service) Target(ctx context.Context, p *genesis.Principal, id string) (*agent.Target, error) {
	const op errors.Op = "mission.Target"
	pr, err := s.Progress(ctx, p, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if len(pr.Targets) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("challenge "+pr.Name+" has no target"))
	}
	t := pr.Targets[0]
	for _, x := range pr.Targets {
		if !x.Reached {
			t = x
			break
		}
	}
	return &agent.Target{Property: t.Metric, Value: t.Target.Target, Unit: t.Unit, Direction: t.Direction, Label: pr.Label}, nil
}

var _ agent.Challenges = (*Service)(nil)
