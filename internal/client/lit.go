package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/library"
)

// LitImport sends one file of publications (at most 64 MiB) to be
// imported with the given label into project ("" for none); format ""
// lets the server detect it from name and content.
func (c *Client) LitImport(ctx context.Context, name string, format lit.Format, label, project string, body []byte) (*library.ImportResult, error) {
	q := url.Values{"name": {name}, "label": {label}}
	if format != "" {
		q.Set("format", string(format))
	}
	if project != "" {
		q.Set("project", project)
	}
	_, _, b, err := c.RawPost(ctx, "/api/v1/lit/import?"+q.Encode(), "application/octet-stream", body)
	if err != nil {
		return nil, err
	}
	var res library.ImportResult
	if err := json.Unmarshal(b, &res); err != nil {
		return nil, errors.E(errors.Op("client.LitImport"), errors.Internal, errors.Msg("unexpected response from the server"))
	}
	return &res, nil
}

// LitSearch searches the passages the caller may read.
func (c *Client) LitSearch(ctx context.Context, q lit.Query) ([]lit.Hit, error) {
	v := url.Values{"q": {q.Text}}
	if q.Mode != "" {
		v.Set("mode", q.Mode)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Publication != "" {
		v.Set("publication", q.Publication)
	}
	var out struct {
		Hits []lit.Hit `json:"hits"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/v1/lit/search?"+v.Encode(), nil, &out); err != nil {
		return nil, err
	}
	return out.Hits, nil
}

// LitPassage returns one readable passage.
func (c *Client) LitPassage(ctx context.Context, id string) (*lit.Passage, error) {
	var p lit.Passage
	if err := c.Do(ctx, http.MethodGet, "/api/v1/lit/passages/"+url.PathEscape(id), nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// LitFacts returns one page of readable facts and the next cursor.
func (c *Client) LitFacts(ctx context.Context, q lit.FactQuery) ([]lit.Fact, string, error) {
	v := url.Values{}
	for k, s := range map[string]string{"property": q.Property, "material": q.Material, "publication": q.Publication, "cursor": q.Cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out struct {
		Facts []lit.Fact `json:"facts"`
		Next  string     `json:"next"`
	}
	if err := c.Do(ctx, http.MethodGet, "/api/v1/lit/facts?"+v.Encode(), nil, &out); err != nil {
		return nil, "", err
	}
	return out.Facts, out.Next, nil
}

// LitPublicationView is a publication with, when asked for, its passages.
type LitPublicationView struct {
	lit.Publication
	PassageList []lit.Passage `json:"passage_list,omitempty"`
}

// LitPublication returns one readable publication (ID or name), with its
// passages if withPassages.
func (c *Client) LitPublication(ctx context.Context, ref string, withPassages bool) (*LitPublicationView, error) {
	path := "/api/v1/lit/publications/" + url.PathEscape(ref)
	if withPassages {
		path += "?passages=true"
	}
	var p LitPublicationView
	if err := c.Do(ctx, http.MethodGet, path, nil, &p); err != nil {
		return nil, err
	}
	return &p, nil
}
