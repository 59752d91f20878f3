// Package client is the Go client of Genesis's HTTP API, used by the CLI and
// the end-to-end tests. Errors from the server come back as *errors.Error
// with the kind, field and message of the problem document.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

// Client talks to one Genesis server as one principal.
type Client struct {
	BaseURL string // e.g. http://127.0.0.1:8080
	Token   string
	// TokenFrom says where Token came from ("GENESIS_TOKEN"), for the
	// message when the server refuses it.
	TokenFrom string
	HTTP      *http.Client
}

// New returns a client for baseURL with token. baseURL may be the
// server's root or its API's URL (…/api/v1, as `genesis up` prints it):
// see BaseURL.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: BaseURL(baseURL), Token: token, HTTP: &http.Client{Timeout: 2 * time.Minute}}
}

// BaseURL is the server root that u names: without surrounding space,
// trailing slashes, or a trailing /api/v1 (every request path of the
// client begins with /api/v1 itself).
func BaseURL(u string) string {
	for {
		v := strings.TrimSuffix(strings.TrimRight(strings.TrimSpace(u), "/"), "/api/v1")
		if v == u {
			return u
		}
		u = v
	}
}

// newRequest builds a request for path with body (nil for none), a copy
// of hdr, and the client's token.
func (c *Client) newRequest(ctx context.Context, op errors.Op, method, path string, body []byte, hdr http.Header) (*http.Request, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("bad server URL "+c.BaseURL), err)
	}
	req.Header = hdr.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	return req, nil
}

var kindByName = map[string]errors.Kind{}

func init() {
	for k := errors.Other; k <= errors.LastKind; k++ {
		kindByName[k.String()] = k
	}
}

// Do sends a JSON request (body may be nil) and decodes a JSON response
// into out (may be nil). POSTs carry a fresh Idempotency-Key, so the
// client's own retries never apply a mutation twice.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	op := errors.Op("client " + method + " " + path)
	var raw []byte
	hdr := http.Header{"Accept": {"application/json"}}
	if body != nil {
		var err error
		raw, err = json.Marshal(body)
		if err != nil {
			return errors.E(op, errors.Invalid, err)
		}
	}
	if raw != nil {
		hdr.Set("Content-Type", "application/json")
	}
	if method == http.MethodPost {
		var b [16]byte
		rand.Read(b[:])
		hdr.Set("Idempotency-Key", hex.EncodeToString(b[:]))
	}
	var res *http.Response
	for attempt := 0; ; attempt++ {
		req, err := c.newRequest(ctx, op, method, path, raw, hdr)
		if err != nil {
			return err
		}
		res, err = c.HTTP.Do(req)
		if err == nil && res.StatusCode != http.StatusServiceUnavailable {
			break
		}
		if ctx.Err() != nil {
			return errors.E(op, errors.Canceled, ctx.Err())
		}
		if attempt >= 3 {
			if err != nil {
				return errors.E(op, errors.Transient, errors.Msg("cannot reach "+c.BaseURL+": "+rootCause(err)))
			}
			break
		}
		if res != nil {
			res.Body.Close()
		}
		time.Sleep(time.Duration(200*(attempt+1)) * time.Millisecond)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return errors.E(op, errors.Transient, err)
	}
	if res.StatusCode >= 400 {
		return c.problemError(op, res.StatusCode, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return errors.E(op, errors.Internal, errors.Msg("unexpected response from the server"), err)
		}
	}
	return nil
}

func rootCause(err error) string {
	for {
		u := errors.Unwrap(err)
		if u == nil {
			return err.Error()
		}
		err = u
	}
}

// problem mirrors httpapi.Problem (the client does not import the server).
type problem struct {
	Title, Detail, Kind, Field string
	Status                     int
	RequestID                  string `json:"request_id"`
}

func (c *Client) problemError(op errors.Op, status int, body []byte) error {
	var p problem
	json.Unmarshal(body, &p)
	k, ok := kindByName[p.Kind]
	if !ok {
		switch status {
		case 401:
			k = errors.Unauthenticated
		case 404:
			k = errors.NotExist
		case 403:
			k = errors.Permission
		default:
			k = errors.Other
		}
	}
	msg := p.Detail
	switch {
	case status == 401 && c.Token == "":
		msg = "not authenticated: set GENESIS_TOKEN or run `genesis login`"
	case status == 401:
		from := c.TokenFrom
		if from == "" {
			from = "the client"
		}
		// The server says no more (a wrong token and a revoked one look
		// alike to whoever holds it), so neither does the client.
		msg = "not authenticated: the server refused the token from " + from + " (invalid, expired or revoked); set GENESIS_TOKEN to a valid token or run `genesis login`"
	case status == 404:
		msg = "not found"
	case msg == "":
		msg = fmt.Sprintf("%d %s", status, p.Title)
	}
	if p.RequestID != "" && status >= 500 {
		msg += " (request " + p.RequestID + ")"
	}
	return errors.E(op, k, errors.Field(p.Field), errors.Msg(msg))
}
