package client

import (
	"context"
	"mime"
	"net/url"
	"strconv"

	"github.com/genesis-science/genesis/internal/errors"
)

// AnnualReport fetches the annual progress report for year (0: this year
// on the server) in format "html" or "pdf", as the client's principal may
// read it.
func (c *Client) AnnualReport(ctx context.Context, year int, format string) ([]byte, error) {
	const op errors.Op = "client.AnnualReport"
	q := url.Values{"format": {format}}
	if year != 0 {
		q.Set("year", strconv.Itoa(year))
	}
	b, h, err := c.Get(ctx, "/api/v1/reports/annual?"+q.Encode())
	if err != nil {
		return nil, err
	}
	want := map[string]string{"html": "text/html", "pdf": "application/pdf"}[format]
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); mt != want {
		return nil, errors.E(op, errors.Internal, errors.Msg("the server answered "+strconv.Quote(h.Get("Content-Type"))+" for a "+format+" report"))
	}
	return b, nil
}
