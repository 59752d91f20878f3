package client

import (
	"context"
	"net"
	"net/http"
	"os"

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
	lc := &Client{BaseURL: c.BaseURL, Token: c.Token, HTTP: &http.Client{Transport: tr}}
	// The same server answers on the socket, and lets this process put
	// through it (it runs as the server's OS user), or it is not ours.
	var via info
	if err := lc.Do(ctx, http.MethodGet, "/api/v1/local", nil, &via); err != nil || via.Instance != tcp.Instance || !via.LocalPut {
		tr.CloseIdleConnections()
		return nil, errors.E(op, errors.NotExist)
	}
	return lc, nil
}
