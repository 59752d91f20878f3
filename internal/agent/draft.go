package agent

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/goccy/go-yaml"
)

// ProposeOptions tunes a draft.
type ProposeOptions struct {
	// Instrument or Workcell, with Action, asks for a lab executor; it is
	// used when an instrument it names is accredited for the draft's
	// label (lab.Fleet.Admit), else the draft falls back to a job template
	// and its notes say why.
	Instrument string `json:"instrument,omitempty"`
	Workcell   string `json:"workcell,omitempty"`
	Action     string `json:"action,omitempty"`
	// Budget is the number of experiments (default 20, at most 1000).
	Budget  int    `json:"budget,omitempty"`
	Project string `json:"project,omitempty"`
}

// Draft is a proposed campaign awaiting a person's approval.
type Draft struct {
	ID         string `json:"id"`
	Hypothesis string `json:"hypothesis"`
	Run        string `json:"run"`
	Asset      string `json:"asset"`
	Name       string `json:"name"`
	Version    int64  `json:"version"`
	Label      string `json:"label"`
	// Campaign is the campaign file (YAML) as drafted.
	Campaign   string     `json:"campaign_yaml"`
	Notes      string     `json:"notes"`
	Executor   string     `json:"executor"` // instrument or job
	ApprovedBy string     `json:"approved_by,omitempty"`
	ApprovedAt *time.Time `json:"approved_at,omitempty"`
	Started    string     `json:"campaign,omitempty"` // campaign ID once started
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
}

const (
	draftFile  = "campaign.yaml"
	notesFile  = "notes.md"
	maxDraftFs = 1 << 20
)

// ProposeCampaign drafts a campaign from a property-gap hypothesis p may
// read. The draft parses with the campaign parser and is stored as a
// dataset (campaign.yaml, notes.md) derived from the run's version and the
// publications of the passages the hypothesis cites.
func (s *Service) ProposeCampaign(ctx context.Context, p *genesis.Principal, hypothesisID string, opts ProposeOptions) (*Draft, error) {
	const op errors.Op = "agent.ProposeCampaign"
	h, run, err := s.hypothesis(ctx, p, hypothesisID)
	if err != nil {
		return nil, errors.E(op, err)
	}
	switch {
	case opts.Budget == 0:
		opts.Budget = 20
	case opts.Budget < 1 || opts.Budget > 1000:
		return nil, errors.E(op, errors.Invalid, errors.Field("budget"), errors.Msg("budget must be 1..1000 experiments"))
	}
	if h.Gap == nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("hypothesis"), errors.Msg("only property-gap hypotheses (method gap) carry the target and parameter ranges a campaign needs; run hypothesize with --target"))
	}
	// The draft reads the cited passages again as p: their labels join the
	// run's, and their publication versions are its inputs.
	rd := newReader(s.c.Library, p)
	for _, id := range h.Passages {
		if _, err := rd.passage(ctx, id); err != nil && !errors.Is(errors.NotExist, err) {
			return nil, errors.E(op, err)
		}
	}
	rl, err := label.Parse(run.Label)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	l, err := rd.join(rl)
	if err != nil {
		return nil, errors.E(op, err)
	}
	d := &Draft{ID: identity.NewID("drf"), Hypothesis: h.ID, Run: run.ID, Label: l.Format(), CreatedBy: string(p.ID), CreatedAt: s.c.Now().UTC().Truncate(time.Microsecond)}
	spec, notes, err := s.buildSpec(ctx, p, d, h, l, opts)
	if err != nil {
		return nil, errors.E(op, err)
	}
	y, err := yaml.Marshal(spec)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	// The draft must be a campaign file the parser takes, strictly.
	if _, err := campaign.Parse(y); err != nil {
		return nil, errors.E(op, errors.Internal, errors.Msg("the drafted campaign does not parse: "+errors.SafeMessage(err)), err)
	}
	d.Campaign, d.Notes = string(y), notes
	d.Name = "agent-draft-" + strings.ToLower(strings.TrimPrefix(d.ID, "drf_"))
	inputs := append([]catalog.VersionRef{{Asset: run.Asset, Version: run.Version}}, rd.versions()...)
	a, v, err := s.commitAsset(ctx, p, catalog.CreateSpec{Kind: catalog.KindDataset, Name: d.Name, Title: "Campaign draft from hypothesis " + h.ID,
		Description: "Drafted by agent run " + run.ID + ": " + clip(h.Statement, 1000), Label: d.Label, Project: opts.Project},
		inputs, d.ID, func(dir string) error {
			if err := os.WriteFile(filepath.Join(dir, draftFile), y, 0o600); err != nil {
				return errors.E(errors.Internal, err)
			}
			return os.WriteFile(filepath.Join(dir, notesFile), []byte(notes), 0o600)
		})
	if err != nil {
		return nil, errors.E(op, err)
	}
	d.Asset, d.Version = a.ID, v
	err = s.c.DB.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO agent_drafts (id, hypothesis_id, asset_id, version, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			d.ID, h.ID, a.ID, v, string(p.ID), store.T(d.CreatedAt))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	s.audit(ctx, p, "draft", d.Asset, d.Label, d.ID)
	return d, nil
}

// buildSpec makes the campaign spec of a gap hypothesis.
func (s *Service) buildSpec(ctx context.Context, p *genesis.Principal, d *Draft, h *Hypothesis, l label.Label, opts ProposeOptions) (*campaign.Spec, string, error) {
	g := h.Gap
	var notes strings.Builder
	fmt.Fprintf(&notes, "# Campaign draft %s\n\nHypothesis %s (run %s): %s\n\nScore %.4g — %s\n\n", d.ID, h.ID, d.Run, h.Statement, h.Score, h.ScoreExplained)
	obj := campaign.Objective{Name: g.Property, Unit: g.Unit}
	target := g.Target
	switch g.Direction {
	case "max", "min":
		obj.Goal = g.Direction
	default:
		// Near a target: climb from the candidate's side of it toward the
		// target; the campaign stops when an observation reaches it.
		obj.Goal = "max"
		if g.Kind == "near" && g.Value > g.Target {
			obj.Goal = "min"
		}
	}
	obj.Target = &target
	fmt.Fprintf(&notes, "Objective: %s %s, stopping at %g %s.\n\n", obj.Goal, g.Property, g.Target, g.Unit)
	var params []campaign.Param
	if g.Kind == "mix" {
		lo, hi := math.Max(0, round6(g.Fraction-0.25)), math.Min(1, round6(g.Fraction+0.25))
		params = append(params, campaign.Param{Name: "fraction", Kind: "continuous", Low: &lo, High: &hi})
		fmt.Fprintf(&notes, "Parameter fraction: the share of %s in a mix with %s; linear interpolation between %g and %g %s puts the target at %.3f, the range is ±0.25 around it.\n",
			g.Other, g.Material, g.Value, g.OtherVal, g.Unit, g.Fraction)
	}
	names := make([]string, 0, len(g.Conditions))
	for n := range g.Conditions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		r := g.Conditions[n]
		lo, hi := r[0], r[1]
		if hi-lo < 1e-9*math.Max(1, math.Abs(hi)) {
			w := math.Max(0.1*math.Abs(lo), 1)
			lo, hi = lo-w, hi+w
		}
		if len(params) >= 8 {
			break
		}
		pn := paramName(n)
		params = append(params, campaign.Param{Name: pn, Kind: "continuous", Low: &lo, High: &hi, Unit: g.Units[n]})
		fmt.Fprintf(&notes, "Parameter %s: the %s range seen with the cited facts (%g–%g %s).\n", pn, n, r[0], r[1], g.Units[n])
	}
	if len(params) == 0 {
		return nil, "", errors.E(errors.Invalid, errors.Field("hypothesis"), errors.Msg("the hypothesis's facts give no parameter to vary (no composition between two materials and no conditions); nothing to draft"))
	}
	sp := &campaign.Spec{Name: "hyp-" + strings.ToLower(strings.TrimPrefix(h.ID, "hyp_")), Title: clip("From hypothesis: "+h.Statement, 200),
		Label: l.Format(), Project: opts.Project, Objectives: []campaign.Objective{obj}, Params: params,
		Budget: campaign.Budget{Experiments: opts.Budget}, Batch: 1, Seed: 1}
	d.Executor = "job"
	if (opts.Instrument != "" || opts.Workcell != "") && opts.Action != "" {
		why, ok := s.accredited(ctx, p, l, opts, params)
		if ok {
			d.Executor = "instrument"
			sp.Executor = campaign.Executor{Instrument: opts.Instrument, Workcell: opts.Workcell, Action: opts.Action}
			fmt.Fprintf(&notes, "\nExecutor: action %s on %s, accredited for %s.\n", opts.Action, firstNonEmpty(opts.Instrument, opts.Workcell), l.Format())
		} else {
			fmt.Fprintf(&notes, "\nThe instrument asked for is not used: %s.\n", why)
		}
	}
	if d.Executor == "job" {
		args := []any{g.Property}
		for _, pr := range params {
			args = append(args, "--"+pr.Name, "${"+pr.Name+"}")
		}
		sp.Executor = campaign.Executor{Job: &campaign.JobTemplate{Output: "result.json",
			Spec: map[string]any{"name": sp.Name, "executable": "measure", "arguments": args, "attributes": map[string]any{"duration": "1h"}}}}
		fmt.Fprintf(&notes, "\nExecutor: a job template. Replace the executable \"measure\" with the simulation or measurement that writes {\"%s\": value} to result.json before approving.\n", g.Property)
	}
	fmt.Fprintf(&notes, "\nCited passages: %s\n", strings.Join(h.Passages, ", "))
	if len(h.Facts) > 0 {
		fmt.Fprintf(&notes, "Facts: %s\n", strings.Join(h.Facts, ", "))
	}
	return sp, notes.String(), nil
}

// accredited asks the fleet whether an instrument of opts may run the
// draft: its action exists, measures the objective, and Admit (no
// dispatch) passes at the middle of the draft's ranges.
func (s *Service) accredited(ctx context.Context, p *genesis.Principal, l label.Label, opts ProposeOptions, params []campaign.Param) (string, bool) {
	if s.c.Fleet == nil {
		return "no lab fleet on this server", false
	}
	ids, err := s.c.Fleet.Select(ctx, p, opts.Instrument, opts.Workcell, opts.Action)
	if err != nil || len(ids) == 0 {
		return "no instrument offers that action", false
	}
	req := lab.Request{Action: opts.Action, Params: map[string]any{}}
	for _, pr := range params {
		req.Params[pr.Name] = (*pr.Low + *pr.High) / 2
	}
	why := "no instrument offering it is accredited for " + l.Format()
	for _, id := range ids {
		err := s.c.Fleet.Admit(ctx, id, "", l, req)
		switch {
		case err == nil, errors.Is(errors.Conflict, err):
			// Conflict is "not now" (an interlock, a lock): the campaign
			// waits for it; the instrument can run the draft.
			return "", true
		case errors.Is(errors.Invalid, err):
			why = "the instrument refuses the draft's parameters: " + errors.SafeMessage(err)
		}
	}
	return why, false
}

func paramName(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	n := strings.Trim(b.String(), "_")
	if n == "" || n[0] >= '0' && n[0] <= '9' {
		n = "c_" + n
	}
	return clip(n, 40)
}

type draftRow struct {
	id, hyp, asset, createdBy, approvedBy, campaignID string
	version, created, approved                        int64
}

func (s *Service) draftRow(ctx context.Context, id string) (*draftRow, error) {
	var r draftRow
	err := s.c.DB.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT id, hypothesis_id, asset_id, version, created_by, created_at, approved_by, approved_at, campaign_id FROM agent_drafts WHERE id = ?`, id).
			Scan(&r.id, &r.hyp, &r.asset, &r.version, &r.createdBy, &r.created, &r.approvedBy, &r.approved, &r.campaignID)
	})
	if errors.Is(errors.NotExist, err) {
		return nil, notFound("draft", id)
	}
	return &r, err
}

// Draft returns a draft p may read (its asset readable), else NotExist.
func (s *Service) Draft(ctx context.Context, p *genesis.Principal, id string) (*Draft, error) {
	const op errors.Op = "agent.Draft"
	d, err := s.draft(ctx, p, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return d, nil
}

func (s *Service) draft(ctx context.Context, p *genesis.Principal, id string) (*Draft, error) {
	r, err := s.draftRow(ctx, id)
	if err != nil {
		return nil, err
	}
	y, a, err := s.readFile(ctx, p, r.asset, r.version, draftFile, maxDraftFs)
	if errors.Is(errors.NotExist, err) {
		return nil, notFound("draft", id)
	}
	if err != nil {
		return nil, err
	}
	notes, _, err := s.readFile(ctx, p, r.asset, r.version, notesFile, maxDraftFs)
	if err != nil && !errors.Is(errors.NotExist, err) {
		return nil, err
	}
	var runID string
	if err := s.c.DB.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT run_id FROM agent_hypotheses WHERE id = ?`, r.hyp).Scan(&runID)
	}); err != nil {
		return nil, err
	}
	d := &Draft{ID: r.id, Hypothesis: r.hyp, Run: runID, Asset: a.ID, Name: a.Name, Version: r.version, Label: a.Label,
		Campaign: string(y), Notes: string(notes), Executor: "job", ApprovedBy: r.approvedBy, Started: r.campaignID,
		CreatedBy: r.createdBy, CreatedAt: store.FromT(r.created)}
	if sp, err := campaign.Parse(y); err == nil && sp.Executor.Job == nil {
		d.Executor = "instrument"
	}
	if r.approved != 0 {
		t := store.FromT(r.approved)
		d.ApprovedAt = &t
	}
	return d, nil
}

// Approve records that a person — not a service account — who may read
// the draft (and so is cleared for its label) approves it.
func (s *Service) Approve(ctx context.Context, p *genesis.Principal, draftID string) error {
	const op errors.Op = "agent.Approve"
	d, err := s.draft(ctx, p, draftID)
	if err != nil {
		return errors.E(op, err)
	}
	if p.Kind == genesis.KindService {
		return errors.E(op, errors.Permission, errors.Msg("campaign drafts are approved by a named person, not a service account"))
	}
	if d.Started != "" {
		return errors.E(op, errors.Conflict, errors.Msg("the draft was started already (campaign "+d.Started+")"))
	}
	now := s.c.Now().UTC()
	err = s.c.DB.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE agent_drafts SET approved_by = ?, approved_at = ? WHERE id = ? AND campaign_id = ''`, string(p.ID), store.T(now), draftID)
		return err
	})
	if err != nil {
		return errors.E(op, err)
	}
	s.audit(ctx, p, "approve", d.Asset, d.Label, d.ID)
	return nil
}

// Start creates the campaign of an approved draft, as p, through the
// campaign service (which checks it whole, as any campaign file).
func (s *Service) Start(ctx context.Context, p *genesis.Principal, draftID string) (*campaign.Campaign, error) {
	const op errors.Op = "agent.Start"
	d, err := s.draft(ctx, p, draftID)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if d.ApprovedBy == "" {
		return nil, errors.E(op, errors.Conflict, errors.Msg("the draft is not approved yet: a person cleared for its label approves it first (genesis agent approve "+d.ID+")"))
	}
	if d.Started != "" {
		return nil, errors.E(op, errors.Conflict, errors.Msg("the draft was started already (campaign "+d.Started+")"))
	}
	if s.c.Campaigns == nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("campaigns are not available on this server"))
	}
	sp, err := campaign.Parse([]byte(d.Campaign))
	if err != nil {
		return nil, errors.E(op, err)
	}
	c, err := s.c.Campaigns.Create(ctx, p, sp)
	if err != nil {
		return nil, errors.E(op, err)
	}
	err = s.c.DB.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE agent_drafts SET campaign_id = ? WHERE id = ?`, c.ID, draftID)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	s.audit(ctx, p, "start", d.Asset, d.Label, d.ID+" campaign "+c.ID)
	return c, nil
}

// audit records an agent action (agent.run, agent.draft, agent.approve,
// agent.start; detail: the run or draft ID) about the dataset that holds
// it, at its label: the log shows it to whoever may read that dataset,
// as it shows the catalog's own records (the catalog records the assets
// it writes as well).
func (s *Service) audit(ctx context.Context, p *genesis.Principal, action, asset, marking, detail string) {
	if s.c.Audit == nil {
		return
	}
	l, err := label.Parse(marking)
	if err != nil {
		return
	}
	if err := catalog.Record(ctx, s.c.Audit, audit.Record{Principal: string(p.ID), Action: "agent." + action, ObjectType: string(catalog.KindDataset), ObjectID: asset, Decision: audit.Allow, Detail: detail}, l); err != nil {
		s.c.Logger.Warn("agent audit", "err", err)
	}
}

// round6 rounds a bound a person will read to six decimals (0.0277…78123
// → 0.027778).
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
