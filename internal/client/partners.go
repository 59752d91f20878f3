package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/genesis-science/genesis/internal/mission/partners"
)

// PartnerOptions narrow the portfolio: Expiring is the window in which
// agreements are flagged ("60d", "8w", "36h"; empty: the server's default
// of 60 days); ExpiringOnly keeps partners with an expiring agreement.
type PartnerOptions struct {
	Expiring     string
	ExpiringOnly bool
}

func (o PartnerOptions) query() string {
	q := url.Values{}
	if o.Expiring != "" {
		q.Set("expiring", o.Expiring)
	}
	if o.ExpiringOnly {
		q.Set("expiring_only", "true")
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Partners returns the partnerships portfolio as the client's principal
// sees it.
func (c *Client) Partners(ctx context.Context, o PartnerOptions) (*partners.Portfolio, error) {
	var pf partners.Portfolio
	return &pf, c.Do(ctx, http.MethodGet, "/api/v1/partners"+o.query(), nil, &pf)
}

// Partner returns one organisation's entry in the portfolio (by ID or
// name); ExpiringOnly does not apply.
func (c *Client) Partner(ctx context.Context, org string, o PartnerOptions) (*partners.Partner, error) {
	o.ExpiringOnly = false
	var p partners.Partner
	return &p, c.Do(ctx, http.MethodGet, "/api/v1/partners/"+url.PathEscape(org)+o.query(), nil, &p)
}
