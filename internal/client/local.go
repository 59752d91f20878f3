package client

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// Local returns a client for the same server over its Unix socket, when
// the server offers one to this client for same-host puts (it is on the
// same machine and runs as the server's OS user; see GET /api/v1/local),
// or errors.NotExist. Its requests have no overall
// timeout: a same-host put is one long request; ctx bounds it.
func (c *Client) Local(ctx context.Context) (*Client, error) {
	const op errors.Op = "client.Local"
	type info struct {
		Socket   string `json:"socket"`
		Instance string `json:"instance"`
		LocalPut bool   `json:"local_put"`
	}
	var tcp info
	if err := c.Do(ctx, http.MethodGet, "/api/v1/local", nil, &tcp); err != nil {
		return nil, err
	}
	if tcp.Socket == "" || tcp.Instance == "" {
		return nil, errors.E(op, errors.NotExist)
	}
	sock := tcp.Socket
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Type() != os.ModeSocket {
		return nil, errors.E(op, errors.NotExist) // another machine's path
	}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}
	lc := &Client{BaseURL: c.BaseURL, Token: c.Token, TokenFrom: c.TokenFrom, HTTP: &http.Client{Transport: tr}}
	// The same server answers on the socket, and lets this process put
	// through it (it runs as the server's OS user), or it is not ours.
	var via info
	if err := lc.Do(ctx, http.MethodGet, "/api/v1/local", nil, &via); err != nil || via.Instance != tcp.Instance || !via.LocalPut {
		tr.CloseIdleConnections()
		return nil, errors.E(op, errors.NotExist)
	}
	return lc, nil
}

// PostStream sends body with POST to path asking for a streamed answer
// (application/x-ndjson, as local-put gives): progress is called with each
// {"progress": …} line's value, and the {"result": …} line's value is
// returned; a {"problem": …} line, or an error status before the stream,
// is returned as the error. It is not retried.
func (c *Client) PostStream(ctx context.Context, path string, body any, progress func(json.RawMessage)) (json.RawMessage, error) {
	op := errors.Op("client POST " + path)
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, err)
	}
	req, err := c.newRequest(ctx, op, http.MethodPost, path, raw, http.Header{"Content-Type": {"application/json"}, "Accept": {"application/x-ndjson"}})
	if err != nil {
		return nil, err
	}
	res, err := c.HTTP.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, errors.E(op, errors.Canceled, ctx.Err())
		}
		return nil, errors.E(op, errors.Transient, errors.Msg("cannot reach "+c.BaseURL+": "+rootCause(err)))
	}
	defer res.Body.Close()
	if res.StatusCode >= 400 || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/x-ndjson") {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		if res.StatusCode < 400 {
			return nil, errors.E(op, errors.Internal, errors.Msg("unexpected response from the server"))
		}
		return nil, c.problemError(op, res.StatusCode, b)
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var ev struct {
			Progress json.RawMessage `json:"progress"`
			Result   json.RawMessage `json:"result"`
			Problem  json.RawMessage `json:"problem"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			return nil, errors.E(op, errors.Internal, errors.Msg("unexpected response from the server"), err)
		}
		switch {
		case ev.Result != nil:
			return ev.Result, nil
		case ev.Problem != nil:
			var p struct {
				Status int `json:"status"`
			}
			json.Unmarshal(ev.Problem, &p)
			return nil, c.problemError(op, p.Status, ev.Problem)
		case ev.Progress != nil && progress != nil:
			progress(ev.Progress)
		}
	}
	if ctx.Err() != nil {
		return nil, errors.E(op, errors.Canceled, ctx.Err())
	}
	return nil, errors.E(op, errors.Transient, errors.Msg("the server stopped answering before the end"))
}
