package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission"
)

// ChallengeList is a page of challenges.
type ChallengeList struct {
	Items []mission.Challenge `json:"items"`
	Next  string              `json:"next,omitempty"`
}

func challengePath(idOrName string, rest ...string) string {
	p := "/api/v1/challenges/" + url.PathEscape(idOrName)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

// CreateChallenge creates a challenge from a challenge file (YAML or
// JSON), checked by the server as mission.Parse checks it.
func (c *Client) CreateChallenge(ctx context.Context, file []byte) (*mission.Challenge, error) {
	_, _, resp, err := c.RawPost(ctx, "/api/v1/challenges", "application/yaml", file)
	if err != nil {
		return nil, err
	}
	var ch mission.Challenge
	if err := json.Unmarshal(resp, &ch); err != nil {
		return nil, errors.E(errors.Internal, errors.Msg("unexpected response from the server"))
	}
	return &ch, nil
}

// Challenges lists a page of the challenges the principal may read,
// optionally of one domain.
func (c *Client) Challenges(ctx context.Context, domain, cursor string, limit int) (*ChallengeList, error) {
	q := url.Values{}
	if domain != "" {
		q.Set("domain", domain)
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/api/v1/challenges"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var l ChallengeList
	return &l, c.Do(ctx, http.MethodGet, path, nil, &l)
}

// Challenge returns one challenge, by ID or name.
func (c *Client) Challenge(ctx context.Context, idOrName string) (*mission.Challenge, error) {
	var ch mission.Challenge
	return &ch, c.Do(ctx, http.MethodGet, challengePath(idOrName), nil, &ch)
}

// UpdateChallenge changes the fields patch names.
func (c *Client) UpdateChallenge(ctx context.Context, idOrName string, patch mission.Patch) (*mission.Challenge, error) {
	var ch mission.Challenge
	return &ch, c.Do(ctx, http.MethodPatch, challengePath(idOrName), patch, &ch)
}

// ChallengeProgress returns a challenge's progress per target.
func (c *Client) ChallengeProgress(ctx context.Context, idOrName string) (*mission.Progress, error) {
	var p mission.Progress
	return &p, c.Do(ctx, http.MethodGet, challengePath(idOrName, "progress"), nil, &p)
}
