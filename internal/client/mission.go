package client

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission/plan"
)

// MissionStatus evaluates the mission plan's milestones as the client's
// principal sees the platform.
func (c *Client) MissionStatus(ctx context.Context) (*plan.Status, error) {
	var st plan.Status
	return &st, c.Do(ctx, http.MethodGet, "/api/v1/mission/status", nil, &st)
}

// MissionPlan returns the mission plan in force.
func (c *Client) MissionPlan(ctx context.Context) (*plan.Stored, error) {
	var st plan.Stored
	return &st, c.Do(ctx, http.MethodGet, "/api/v1/mission/plan", nil, &st)
}

// SetMissionPlan replaces the mission plan with a plan file (YAML or
// JSON); allowPast accepts deadlines in the past.
func (c *Client) SetMissionPlan(ctx context.Context, file []byte, allowPast bool) (*plan.Stored, error) {
	path := "/api/v1/mission/plan"
	if allowPast {
		path += "?allow_past=true"
	}
	_, _, resp, err := c.RawPut(ctx, path, "application/yaml", file)
	if err != nil {
		return nil, err
	}
	var st plan.Stored
	if err := json.Unmarshal(resp, &st); err != nil {
		return nil, errors.E(errors.Op("client.SetMissionPlan"), errors.Internal, errors.Msg("unexpected response from the server"), err)
	}
	return &st, nil
}

// MissionRisks returns the risk register as the client's principal sees it.
func (c *Client) MissionRisks(ctx context.Context) (*plan.Risks, error) {
	var rs plan.Risks
	return &rs, c.Do(ctx, http.MethodGet, "/api/v1/mission/risks", nil, &rs)
}
