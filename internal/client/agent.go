package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/campaign"
)

// AgentRunList is a page of agent runs.
type AgentRunList struct {
	Items []agent.RunSummary `json:"items"`
	Next  string             `json:"next,omitempty"`
}

// Hypothesize runs a research agent as the client's principal.
func (c *Client) Hypothesize(ctx context.Context, req agent.HypothesizeRequest) (*agent.Run, error) {
	var run agent.Run
	return &run, c.Do(ctx, http.MethodPost, "/api/v1/agent/hypothesize", req, &run)
}

// AgentRuns lists a page of the agent runs the principal may read.
func (c *Client) AgentRuns(ctx context.Context, cursor string, limit int) (*AgentRunList, error) {
	q := url.Values{}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/api/v1/agent/runs"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l AgentRunList
	return &l, c.Do(ctx, http.MethodGet, path, nil, &l)
}

// AgentRun returns one run.
func (c *Client) AgentRun(ctx context.Context, id string) (*agent.Run, error) {
	var run agent.Run
	return &run, c.Do(ctx, http.MethodGet, "/api/v1/agent/runs/"+url.PathEscape(id), nil, &run)
}

// Hypothesis returns one hypothesis.
func (c *Client) Hypothesis(ctx context.Context, id string) (*agent.Hypothesis, error) {
	var h agent.Hypothesis
	return &h, c.Do(ctx, http.MethodGet, "/api/v1/agent/hypotheses/"+url.PathEscape(id), nil, &h)
}

// ProposeCampaign drafts a campaign from a hypothesis.
func (c *Client) ProposeCampaign(ctx context.Context, hypothesis string, opts agent.ProposeOptions) (*agent.Draft, error) {
	var d agent.Draft
	return &d, c.Do(ctx, http.MethodPost, "/api/v1/agent/hypotheses/"+url.PathEscape(hypothesis)+"/propose-campaign", opts, &d)
}

// CampaignDraft returns one draft.
func (c *Client) CampaignDraft(ctx context.Context, id string) (*agent.Draft, error) {
	var d agent.Draft
	return &d, c.Do(ctx, http.MethodGet, "/api/v1/agent/drafts/"+url.PathEscape(id), nil, &d)
}

// ApproveDraft approves a draft as the client's principal.
func (c *Client) ApproveDraft(ctx context.Context, id string) (*agent.Draft, error) {
	var d agent.Draft
	return &d, c.Do(ctx, http.MethodPost, "/api/v1/agent/drafts/"+url.PathEscape(id)+"/approve", struct{}{}, &d)
}

// StartDraft creates the campaign of an approved draft.
func (c *Client) StartDraft(ctx context.Context, id string) (*campaign.Campaign, error) {
	var cp campaign.Campaign
	return &cp, c.Do(ctx, http.MethodPost, "/api/v1/agent/drafts/"+url.PathEscape(id)+"/start", struct{}{}, &cp)
}
