package mcp

import (
	"context"
	"strings"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/errors"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Agent is what the MCP tools use of the research agents
// (*agent.Service): each call runs as p and is decided by the service.
type Agent interface {
	Hypothesize(ctx context.Context, p *genesis.Principal, req agent.HypothesizeRequest) (*agent.Run, error)
	ProposeCampaign(ctx context.Context, p *genesis.Principal, hypothesisID string, opts agent.ProposeOptions) (*agent.Draft, error)
	Draft(ctx context.Context, p *genesis.Principal, id string) (*agent.Draft, error)
	Start(ctx context.Context, p *genesis.Principal, draftID string) (*campaign.Campaign, error)
}

var _ Agent = (*agent.Service)(nil)

func (s *Server) addAgentTools() {
	if s.cfg.Agent == nil {
		return
	}
	tool(s, &sdk.Tool{Name: "hypothesize", Annotations: &sdk.ToolAnnotations{OpenWorldHint: ptr(false)},
		Description: "Generate ranked research hypotheses on a topic from the literature you may read: literature-based " +
			"discovery (concepts linked through intermediate terms), property gaps near a target (e.g. \"band_gap=1.3 eV\"), " +
			"and, when the server has a language model, model proposals whose every claim cites a passage. Each " +
			"hypothesis lists the passages it rests on. The run is stored, labelled with the join of what it read."},
		func(in HypothesizeIn) string { return in.Topic }, s.hypothesize)
	tool(s, &sdk.Tool{Name: "propose_campaign", Annotations: &sdk.ToolAnnotations{OpenWorldHint: ptr(false)},
		Description: "Draft a closed-loop campaign (a campaign file: parameters and ranges from extracted facts, the " +
			"objective from the hypothesis's target, an accredited instrument or a job template) from a property-gap " +
			"hypothesis (hyp_…). The draft is stored for a person to review; it does not run until a person approves it " +
			"(genesis agent approve DRAFT) and it is started."},
		func(in ProposeCampaignIn) string { return in.HypothesisID }, s.proposeCampaign)
	tool(s, &sdk.Tool{Name: "start_campaign", Annotations: &sdk.ToolAnnotations{OpenWorldHint: ptr(false), DestructiveHint: ptr(false)},
		Description: "Start the campaign of a draft (drf_…) that a person has approved. A draft not yet approved is not " +
			"started: the answer's status is awaiting_approval, and says how a person approves it."},
		func(in StartCampaignIn) string { return in.DraftID }, s.startCampaign)
}

// HypothesizeIn is hypothesize's input.
type HypothesizeIn struct {
	Topic   string   `json:"topic" jsonschema:"the research topic, in words"`
	Target  string   `json:"target,omitempty" jsonschema:"a property target: PROPERTY=VALUE [UNIT] (near), PROPERTY>=VALUE (max) or PROPERTY<=VALUE (min)"`
	Methods []string `json:"methods,omitempty" jsonschema:"lbd, gap and/or llm (default: all the server has)"`
	Limit   int      `json:"limit,omitempty" jsonschema:"hypotheses to return, 1..50 (default 10)"`
}

func (s *Server) hypothesize(ctx context.Context, p *genesis.Principal, in HypothesizeIn) (*agent.Run, error) {
	const op errors.Op = "mcp.hypothesize"
	if err := checkText(op, "topic", in.Topic, MaxTextArg); err != nil {
		return nil, err
	}
	if strings.TrimSpace(in.Topic) == "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("topic"), errors.Msg("topic is required"))
	}
	if err := checkText(op, "target", in.Target, 256); err != nil {
		return nil, err
	}
	if len(in.Methods) > 8 {
		return nil, errors.E(op, errors.Invalid, errors.Field("methods"), errors.Msg("at most 8 methods"))
	}
	for _, m := range in.Methods {
		if err := checkText(op, "methods", m, 32); err != nil {
			return nil, err
		}
	}
	if in.Limit < 0 || in.Limit > 50 {
		return nil, errors.E(op, errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1..50"))
	}
	req := agent.HypothesizeRequest{Topic: in.Topic, Methods: in.Methods, Limit: in.Limit}
	if in.Target != "" {
		t, err := agent.ParseTarget(in.Target)
		if err != nil {
			return nil, err
		}
		req.Target = t
	}
	return s.cfg.Agent.Hypothesize(ctx, p, req)
}

// ProposeCampaignIn is propose_campaign's input.
type ProposeCampaignIn struct {
	HypothesisID string `json:"hypothesis_id" jsonschema:"the hypothesis (hyp_…) to draft a campaign for"`
	Instrument   string `json:"instrument,omitempty" jsonschema:"an instrument to run it on, if accredited for the draft's label"`
	Action       string `json:"action,omitempty" jsonschema:"the instrument's action to use"`
	Budget       int    `json:"budget,omitempty" jsonschema:"number of experiments, 1..1000 (default 20)"`
}

// DraftOut is a campaign draft and what it waits for.
type DraftOut struct {
	*agent.Draft
	// Status is awaiting_approval, approved or started.
	Status  string `json:"status"`
	Message string `json:"message"`
}

func draftOut(d *agent.Draft) DraftOut {
	switch {
	case d.Started != "":
		return DraftOut{Draft: d, Status: "started", Message: "started as campaign " + d.Started + " (see campaign_status)"}
	case d.ApprovedBy != "":
		return DraftOut{Draft: d, Status: "approved", Message: "approved by " + d.ApprovedBy + "; start it with start_campaign"}
	}
	return DraftOut{Draft: d, Status: "awaiting_approval", Message: "awaiting approval: a person cleared for the draft's label " +
		"reviews it and approves it (genesis agent approve " + d.ID + "); only then can it be started"}
}

func (s *Server) proposeCampaign(ctx context.Context, p *genesis.Principal, in ProposeCampaignIn) (DraftOut, error) {
	const op errors.Op = "mcp.propose_campaign"
	for _, f := range []struct{ name, v string }{{"hypothesis_id", in.HypothesisID}, {"instrument", in.Instrument}, {"action", in.Action}} {
		if err := checkText(op, f.name, f.v, MaxRefArg); err != nil {
			return DraftOut{}, err
		}
	}
	if in.Budget < 0 || in.Budget > 1000 {
		return DraftOut{}, errors.E(op, errors.Invalid, errors.Field("budget"), errors.Msg("budget must be 1..1000"))
	}
	d, err := s.cfg.Agent.ProposeCampaign(ctx, p, in.HypothesisID, agent.ProposeOptions{Instrument: in.Instrument, Action: in.Action, Budget: in.Budget})
	if err != nil {
		return DraftOut{}, err
	}
	return draftOut(d), nil
}

// StartCampaignIn is start_campaign's input.
type StartCampaignIn struct {
	DraftID string `json:"draft_id" jsonschema:"the campaign draft (drf_…)"`
}

// StartCampaignOut is start_campaign's output.
type StartCampaignOut struct {
	// Status is awaiting_approval (nothing was started), started, or
	// created (the campaign exists but could not be started: Reason says
	// why).
	Status   string             `json:"status"`
	Message  string             `json:"message"`
	Draft    string             `json:"draft"`
	Campaign *CampaignStatusOut `json:"campaign,omitempty"`
}

func (s *Server) startCampaign(ctx context.Context, p *genesis.Principal, in StartCampaignIn) (StartCampaignOut, error) {
	const op errors.Op = "mcp.start_campaign"
	if err := checkText(op, "draft_id", in.DraftID, MaxRefArg); err != nil {
		return StartCampaignOut{}, err
	}
	d, err := s.cfg.Agent.Draft(ctx, p, in.DraftID)
	if err != nil {
		return StartCampaignOut{}, err
	}
	if d.ApprovedBy == "" {
		o := draftOut(d)
		return StartCampaignOut{Status: o.Status, Message: o.Message, Draft: d.ID}, nil
	}
	// Approved: the agent creates the campaign as p (the campaign service
	// checks it whole), then p starts it, as `genesis campaign start`.
	c, err := s.cfg.Agent.Start(ctx, p, d.ID)
	if err != nil {
		return StartCampaignOut{}, err
	}
	out := StartCampaignOut{Status: "started", Draft: d.ID}
	if s.cfg.Campaigns != nil {
		started, err := s.cfg.Campaigns.Start(ctx, p, c.ID)
		if err != nil {
			co := campaignOut(c)
			out.Status, out.Campaign = "created", &co
			out.Message = "campaign " + c.Name + " was created but not started: " + ToolError(err)
			return out, nil
		}
		c = started
	}
	co := campaignOut(c)
	out.Campaign, out.Message = &co, "campaign "+c.Name+" is "+c.State
	return out, nil
}
