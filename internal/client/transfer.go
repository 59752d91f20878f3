package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

// raw sends a request with a byte body and returns the response body,
// retrying transport errors and 503s (chunk PUTs and GETs are idempotent).
func (c *Client) raw(ctx context.Context, method, path string, hdr http.Header, body []byte) (int, http.Header, []byte, error) {
	op := errors.Op("client " + method + " " + path)
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return 0, nil, nil, errors.E(op, errors.Canceled, ctx.Err())
			case <-time.After(time.Duration(100<<attempt) * time.Millisecond):
			}
		}
		req, err := c.newRequest(ctx, op, method, path, body, hdr)
		if err != nil {
			return 0, nil, nil, err
		}
		res, err := c.HTTP.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return 0, nil, nil, errors.E(op, errors.Canceled, ctx.Err())
			}
			last = errors.E(op, errors.Transient, errors.Msg("cannot reach "+c.BaseURL+": "+rootCause(err)))
			continue
		}
		b, err := readAll(res)
		res.Body.Close()
		if err != nil {
			last = errors.E(op, errors.Transient, errors.Msg("the response was cut short"))
			continue
		}
		if res.StatusCode == http.StatusServiceUnavailable || res.StatusCode == http.StatusBadGateway {
			last = c.problemError(op, res.StatusCode, b)
			continue
		}
		if res.StatusCode >= 400 {
			return res.StatusCode, res.Header, b, c.problemError(op, res.StatusCode, b)
		}
		return res.StatusCode, res.Header, b, nil
	}
	return 0, nil, nil, last
}

// readAll reads a response body into one buffer of its declared length
// when it has one (io.ReadAll would grow and copy a 1 MiB chunk several
// times over).
func readAll(res *http.Response) ([]byte, error) {
	if n := res.ContentLength; n >= 0 && n <= blob.MaxSize {
		b := make([]byte, n)
		if _, err := io.ReadFull(res.Body, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	return io.ReadAll(res.Body)
}

// Get fetches a path's raw bytes (manifests, files).
func (c *Client) Get(ctx context.Context, path string) ([]byte, http.Header, error) {
	_, h, b, err := c.raw(ctx, http.MethodGet, path, nil, nil)
	return b, h, err
}

// Stream opens a GET of path for streaming (large files), with an optional
// byte range [off, off+n).
func (c *Client) Stream(ctx context.Context, path string) (io.ReadCloser, error) {
	op := errors.Op("client GET " + path)
	req, err := c.newRequest(ctx, op, http.MethodGet, path, nil, nil)
	if err != nil {
		return nil, err
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		return nil, errors.E(op, errors.Transient, errors.Msg("cannot reach "+c.BaseURL+": "+rootCause(err)))
	}
	if res.StatusCode >= 400 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		res.Body.Close()
		return nil, c.problemError(op, res.StatusCode, b)
	}
	return res.Body, nil
}

// AssetStore is one asset on a server seen as a blob store: the transfer
// client packs into it (only chunks the asset lacks are sent) and restores
// from it (every chunk verified against its ID here, on the client).
type AssetStore struct {
	c    *Client
	base string
}

// Asset returns the blob-store view of dataset name. Its transfers keep
// enough connections open for parallel chunk transfers (Go's default
// transport keeps two per host, so eight parallel uploads would open and
// close a connection for most chunks).
func (c *Client) Asset(name string) *AssetStore {
	tc := c
	if c.HTTP != nil && c.HTTP.Transport == nil {
		h := *c.HTTP
		h.Transport = transferTransport
		cc := *c
		cc.HTTP = &h
		tc = &cc
	}
	return &AssetStore{c: tc, base: "/api/v1/assets/" + url.PathEscape(name) + "/chunks/"}
}

var transferTransport = func() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.MaxIdleConns = 256
	return t
}()

var (
	_ blob.Putter = (*AssetStore)(nil)
	_ blob.Stater = (*AssetStore)(nil)
	_ blob.Getter = (*AssetStore)(nil)
)

// Stat asks whether the asset holds the chunk.
func (s *AssetStore) Stat(ctx context.Context, id blob.ID) (blob.Info, error) {
	_, _, _, err := s.c.raw(ctx, http.MethodHead, s.base+id.String(), nil, nil)
	if err != nil {
		return blob.Info{}, err
	}
	return blob.Info{ID: id}, nil
}

// Put sends a chunk.
func (s *AssetStore) Put(ctx context.Context, id blob.ID, data []byte) error {
	if err := blob.CheckPut("client.Put", id, data); err != nil {
		return err
	}
	h := http.Header{"Content-Type": {"application/octet-stream"}}
	_, _, _, err := s.c.raw(ctx, http.MethodPut, s.base+id.String(), h, data)
	return err
}

// Get fetches a chunk, verifies it, and returns [off, off+length).
func (s *AssetStore) Get(ctx context.Context, id blob.ID, off, length int64) ([]byte, error) {
	const op errors.Op = "client.AssetStore.Get"
	_, _, b, err := s.c.raw(ctx, http.MethodGet, s.base+id.String(), nil, nil)
	if err != nil {
		return nil, err
	}
	if blob.Sum(b) != id {
		return nil, blob.Corrupt(op, id, fmt.Errorf("received %d bytes that do not hash to the chunk ID", len(b)))
	}
	return blob.Slice(op, b, off, length)
}

var (
	_ blob.MissingFinder    = (*AssetStore)(nil)
	_ blob.TrustedPutter    = (*AssetStore)(nil)
	_ blob.UnverifiedGetter = (*AssetStore)(nil)
)

// GetUnverified fetches a whole chunk without hashing it here (see
// blob.UnverifiedGetter: restore checks every file's hash instead).
func (s *AssetStore) GetUnverified(ctx context.Context, id blob.ID) ([]byte, error) {
	_, _, b, err := s.c.raw(ctx, http.MethodGet, s.base+id.String(), nil, nil)
	return b, err
}

// Missing asks, in batches of up to 10,000, which chunks the asset lacks:
// one round trip instead of one per chunk.
func (s *AssetStore) Missing(ctx context.Context, ids []blob.ID) ([]blob.ID, error) {
	const batch = 10000
	var out []blob.ID
	for len(ids) > 0 {
		n := min(batch, len(ids))
		req := struct {
			IDs []string `json:"ids"`
		}{IDs: make([]string, n)}
		for i, id := range ids[:n] {
			req.IDs[i] = id.String()
		}
		var res struct {
			Missing []string `json:"missing"`
		}
		// Asking is idempotent (an answer only reserves what is missing),
		// so it goes without an Idempotency-Key: the server need not
		// record every answer, two more transactions per batch.
		body, err := json.Marshal(req)
		if err != nil {
			return nil, errors.E(errors.Op("client.Missing"), errors.Internal, err)
		}
		h := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}}
		_, _, b, err := s.c.raw(ctx, http.MethodPost, strings.TrimSuffix(s.base, "/")+"/missing", h, body)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &res); err != nil {
			return nil, errors.E(errors.Op("client.Missing"), errors.Internal, errors.Msg("unexpected response from the server"), err)
		}
		for _, m := range res.Missing {
			id, err := blob.ParseID(m)
			if err != nil {
				return nil, errors.E(errors.Op("client.Missing"), errors.Internal, errors.Msg("malformed chunk id from the server"))
			}
			out = append(out, id)
		}
		ids = ids[n:]
	}
	return out, nil
}

// PutTrusted sends a chunk pack has just hashed, without hashing it again
// here (the server verifies it anyway).
func (s *AssetStore) PutTrusted(ctx context.Context, id blob.ID, data []byte) error {
	h := http.Header{"Content-Type": {"application/octet-stream"}}
	_, _, _, err := s.c.raw(ctx, http.MethodPut, s.base+id.String(), h, data)
	return err
}

// RawPost sends a non-JSON body (a metadata document) with POST.
func (c *Client) RawPost(ctx context.Context, path, contentType string, body []byte) (int, http.Header, []byte, error) {
	return c.raw(ctx, http.MethodPost, path, http.Header{"Content-Type": {contentType}}, body)
}

// RawPut sends a body with PUT.
func (c *Client) RawPut(ctx context.Context, path, contentType string, body []byte) (int, http.Header, []byte, error) {
	return c.raw(ctx, http.MethodPut, path, http.Header{"Content-Type": {contentType}}, body)
}
