package mission

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/text"
	"github.com/genesis-science/genesis/internal/yamlsafe"
)

// Bounds of a challenge file.
const (
	MaxSpecSize  = 256 << 10
	MaxStatement = 16 << 10
	MaxTargets   = 10
	MaxLinks     = 200
	MaxPartners  = 50
	maxRef       = 256
)

// Link kinds.
const (
	LinkCampaign   = "campaign"
	LinkDataset    = "dataset"
	LinkModel      = "model"
	LinkSite       = "site"
	LinkInstrument = "instrument"
	LinkChallenge  = "challenge" // this challenge is part of the linked one
)

// LinkKinds are the kinds of object a challenge links.
var LinkKinds = []string{LinkCampaign, LinkDataset, LinkModel, LinkSite, LinkInstrument, LinkChallenge}

// Spec is a challenge as written in a challenge file (YAML or JSON).
type Spec struct {
	Name  string `json:"name" yaml:"name"`
	Title string `json:"title" yaml:"title"`
	// Domain is a priority domain (Domains), or an obvious spelling of one.
	Domain string `json:"domain" yaml:"domain"`
	// Statement is the problem statement (multi-line text).
	Statement string `json:"statement" yaml:"statement"`
	// Lead and Partners name organisations (by name or ID).
	Lead     string   `json:"lead" yaml:"lead"`
	Partners []string `json:"partners,omitempty" yaml:"partners,omitempty"`
	// Label is the challenge's marking (default OPEN).
	Label string `json:"label,omitempty" yaml:"label,omitempty"`
	// Demo marks demo content.
	Demo    bool         `json:"demo,omitempty" yaml:"demo,omitempty"`
	Targets []TargetSpec `json:"targets" yaml:"targets"`
	Links   []LinkSpec   `json:"links,omitempty" yaml:"links,omitempty"`
}

// TargetSpec is a measurable target as written.
type TargetSpec struct {
	Metric    string   `json:"metric" yaml:"metric"`
	Unit      string   `json:"unit,omitempty" yaml:"unit,omitempty"`
	Direction string   `json:"direction" yaml:"direction"` // max or min
	Target    *float64 `json:"target" yaml:"target"`
	Baseline  *float64 `json:"baseline" yaml:"baseline"`
}

// LinkSpec is a link as written: a kind and a name or ID, resolved as the
// author sees the platform. Objective (campaigns and models) names the
// campaign objective or model metrics key that measures Metric (default:
// the first target's metric); without it a campaign objective or model
// metric counts toward the target of the same name.
type LinkSpec struct {
	Kind      string `json:"kind" yaml:"kind"`
	Ref       string `json:"ref" yaml:"ref"`
	Objective string `json:"objective,omitempty" yaml:"objective,omitempty"`
	Metric    string `json:"metric,omitempty" yaml:"metric,omitempty"`
}

func invalid(field, msg string) error {
	return errors.E(errors.Invalid, errors.Field(field), errors.Msg(msg))
}

// quote shows a short, sanitised rendering of user text in a message.
func quote(s string) string {
	s, _ = text.Sanitize(s, false)
	if len(s) > 40 {
		s = strings.ToValidUTF8(s[:40], "") + "…"
	}
	return strconv.Quote(s)
}

// Parse reads a challenge file written in YAML or JSON, refusing unknown
// fields (naming the field path, with a suggestion when it looks like a
// typo), and validates it (Validate). Every error is errors.Invalid (or
// TooLarge over MaxSpecSize) with a message safe to show its author and
// errors.Field naming the field path where there is one.
func Parse(data []byte) (*Spec, error) {
	const op errors.Op = "mission.Parse"
	if len(data) > MaxSpecSize {
		return nil, errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("challenge file larger than %d bytes", MaxSpecSize)))
	}
	if !utf8.Valid(data) {
		return nil, errors.E(op, errors.Invalid, errors.Msg("challenge file is not UTF-8"))
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Field("name"), errors.Msg("empty challenge file"))
	}
	if msg := yamlsafe.Check(data); msg != "" {
		return nil, errors.E(op, errors.Invalid, errors.Msg("challenge file: "+msg))
	}
	if yamlsafe.MultipleDocuments(data) {
		return nil, errors.E(op, errors.Invalid, errors.Msg("challenge file: more than one YAML document (---): a challenge file holds one challenge"))
	}
	var s Spec
	if err := yamlsafe.Decode(data, &s, yaml.Strict()); err != nil {
		path := yamlsafe.ErrorPath(data, err)
		if f := yamlsafe.UnknownField(err); f != "" {
			if path == "" {
				path = f
			}
			msg := "challenge file: " + quote(path) + ": unknown field " + quote(f) + didYouMean(f, keysAt(path))
			return nil, errors.E(op, errors.Invalid, errors.Field(path), errors.Msg(msg))
		}
		msg := "challenge file: " + yamlsafe.Message(err)
		if path != "" {
			msg = "challenge file: " + path + ": " + yamlsafe.Message(err)
		}
		return nil, errors.E(op, errors.Invalid, errors.Field(path), errors.Msg(msg))
	}
	if err := s.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	return &s, nil
}

var (
	topKeys    = []string{"name", "title", "domain", "statement", "lead", "partners", "label", "demo", "targets", "links"}
	targetKeys = []string{"metric", "unit", "direction", "target", "baseline"}
	linkKeys   = []string{"kind", "ref", "objective", "metric"}
)

// keysAt lists the keys a mapping at path (of the unknown key) may hold.
func keysAt(path string) []string {
	switch {
	case strings.HasPrefix(path, "targets["):
		return targetKeys
	case strings.HasPrefix(path, "links["):
		return linkKeys
	}
	return topKeys
}

// Validate checks s without the store and puts it in canonical form:
// domain as its slug, metrics by canonical name, each target's values in
// its metric's canonical unit.
func (s *Spec) Validate() error {
	if s.Name == "" {
		return invalid("name", "a challenge needs a name")
	}
	if strings.HasPrefix(s.Name, "chl_") {
		return invalid("name", "names starting with chl_ are challenge IDs")
	}
	if !genesis.ValidName(s.Name) {
		return invalid("name", "a challenge name is lower-case letters, digits, '-', '_' and '.', at most 63 characters")
	}
	if strings.TrimSpace(s.Title) == "" {
		return invalid("title", "a challenge needs a title")
	}
	if err := text.First(text.Line("title", s.Title, text.MaxLine), text.Block("statement", s.Statement, MaxStatement),
		text.Line("lead", s.Lead, maxRef), text.Line("label", s.Label, text.MaxLine)); err != nil {
		return err
	}
	if strings.TrimSpace(s.Statement) == "" {
		return invalid("statement", "a challenge needs a problem statement")
	}
	d, err := ParseDomain(s.Domain)
	if err != nil {
		return err
	}
	s.Domain = d
	if strings.TrimSpace(s.Lead) == "" {
		return invalid("lead", "a challenge needs a lead organisation")
	}
	if len(s.Partners) > MaxPartners {
		return invalid("partners", fmt.Sprintf("at most %d partners", MaxPartners))
	}
	seen := map[string]bool{s.Lead: true}
	for i, p := range s.Partners {
		f := fmt.Sprintf("partners[%d]", i)
		if err := text.Line(f, p, maxRef); err != nil {
			return err
		}
		if strings.TrimSpace(p) == "" {
			return invalid(f, f+": an empty organisation name")
		}
		if seen[p] {
			return invalid(f, f+": "+quote(p)+" is named twice (the lead is not a partner too)")
		}
		seen[p] = true
	}
	if len(s.Targets) == 0 {
		return invalid("targets", "a challenge needs at least one measurable target")
	}
	if len(s.Targets) > MaxTargets {
		return invalid("targets", fmt.Sprintf("at most %d targets", MaxTargets))
	}
	metrics := map[string]bool{}
	for i := range s.Targets {
		if err := s.Targets[i].validate(fmt.Sprintf("targets[%d]", i)); err != nil {
			return err
		}
		if metrics[s.Targets[i].Metric] {
			return invalid(fmt.Sprintf("targets[%d].metric", i), fmt.Sprintf("targets[%d].metric: %s has a target already", i, s.Targets[i].Metric))
		}
		metrics[s.Targets[i].Metric] = true
	}
	if len(s.Links) > MaxLinks {
		return invalid("links", fmt.Sprintf("at most %d links", MaxLinks))
	}
	type key struct{ kind, ref string }
	links := map[key]int{}
	for i := range s.Links {
		l := &s.Links[i]
		f := fmt.Sprintf("links[%d]", i)
		l.Kind = strings.ToLower(strings.TrimSpace(l.Kind))
		ok := false
		for _, k := range LinkKinds {
			ok = ok || k == l.Kind
		}
		if !ok {
			return invalid(f+".kind", f+".kind: unknown link kind "+quote(l.Kind)+didYouMean(l.Kind, LinkKinds)+" (one of "+strings.Join(LinkKinds, ", ")+")")
		}
		if err := text.First(text.Line(f+".ref", l.Ref, maxRef), text.Line(f+".objective", l.Objective, 64)); err != nil {
			return err
		}
		if strings.TrimSpace(l.Ref) == "" {
			return invalid(f+".ref", f+".ref: a link names what it links to")
		}
		if l.Kind == LinkChallenge && l.Ref == s.Name {
			return invalid(f+".ref", f+": a challenge cannot be part of itself")
		}
		if l.Kind != LinkCampaign && l.Kind != LinkModel && (l.Objective != "" || l.Metric != "") {
			return invalid(f+".objective", f+": objective and metric map a campaign's or model's measurements; a "+l.Kind+" link has none")
		}
		if l.Metric != "" && l.Objective == "" {
			return invalid(f+".objective", f+": metric says which target an objective measures; name the objective too")
		}
		if l.Metric != "" {
			l.Metric = foldMetric(l.Metric)
			if !metrics[l.Metric] {
				return invalid(f+".metric", f+".metric: "+quote(l.Metric)+" is not one of this challenge's target metrics")
			}
		} else if l.Objective != "" {
			l.Metric = s.Targets[0].Metric
		}
		k := key{l.Kind, l.Ref}
		if j, dup := links[k]; dup {
			return invalid(f, fmt.Sprintf("%s: duplicate link (links[%d] links %s %s already)", f, j, l.Kind, quote(l.Ref)))
		}
		links[k] = i
	}
	return nil
}

func (t *TargetSpec) validate(f string) error {
	if t.Metric == "" {
		return invalid(f+".metric", f+".metric: a target names a metric")
	}
	if err := text.First(text.Line(f+".metric", t.Metric, 64), text.Line(f+".unit", t.Unit, 32)); err != nil {
		return err
	}
	switch t.Direction {
	case "max", "min":
	case "":
		return invalid(f+".direction", f+".direction: say max or min")
	default:
		return invalid(f+".direction", f+".direction: "+quote(t.Direction)+" is neither max nor min")
	}
	if t.Target == nil {
		return invalid(f+".target", f+".target: a target needs a target value")
	}
	if t.Baseline == nil {
		return invalid(f+".baseline", f+".baseline: a target needs a baseline (where the field stands today)")
	}
	name, tv, unit, err := Canonical(f, t.Metric, *t.Target, t.Unit)
	if err != nil {
		return err
	}
	_, bv, _, err := Canonical(f, t.Metric, *t.Baseline, t.Unit)
	if err != nil {
		return err
	}
	if math.Abs(tv) > 1e300 || math.Abs(bv) > 1e300 {
		return invalid(f+".target", f+": values out of range")
	}
	switch {
	case tv == bv:
		return invalid(f+".baseline", f+": the baseline equals the target: there is nothing to reach")
	case t.Direction == "max" && tv < bv:
		return invalid(f+".target", f+": direction max wants a target above the baseline")
	case t.Direction == "min" && tv > bv:
		return invalid(f+".target", f+": direction min wants a target below the baseline")
	}
	t.Metric, t.Unit, t.Target, t.Baseline = name, unit, &tv, &bv
	return nil
}
