package mcp

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// MaxStdioMessage bounds one JSON-RPC message read from stdin by Proxy:
// anything the server would take (MaxRequestBody) fits, with room for
// escaping; a longer line ends the session instead of growing a buffer.
const MaxStdioMessage = 2 * MaxRequestBody

// ProxyConfig is what Proxy needs.
type ProxyConfig struct {
	// Endpoint is the server's MCP endpoint (https://host/mcp).
	Endpoint string
	// Token is the bearer token every forwarded request carries: the
	// tools run as its principal.
	Token string
	// HTTP sends the requests; nil means a client with a 2-minute
	// timeout.
	HTTP   *http.Client
	Logger *slog.Logger
	// Version is reported to the local client.
	Version string
}

// Proxy serves MCP on t (stdin/stdout for `genesis mcp`) by forwarding
// to a Genesis server's /mcp endpoint: it lists the server's tools and
// resource templates once, offers the same ones, and forwards every call
// and read with the configured token. There is one implementation of the
// tools — the server's — so the local assistant gets exactly what the
// token's principal may do, decided and audited by the server. Proxy
// returns when the local client goes away or ctx ends.
func Proxy(ctx context.Context, t sdk.Transport, cfg ProxyConfig) error {
	const op errors.Op = "mcp.Proxy"
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	hc = &http.Client{Transport: bearerTransport{token: cfg.Token, next: hc.Transport}, Timeout: hc.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	c := sdk.NewClient(&sdk.Implementation{Name: "genesis-mcp", Version: cfg.Version}, &sdk.ClientOptions{Logger: log})
	rc := &remoteConn{dial: func(ctx context.Context) (*sdk.ClientSession, error) {
		return c.Connect(ctx, &sdk.StreamableClientTransport{Endpoint: cfg.Endpoint, HTTPClient: hc, MaxRetries: -1, DisableStandaloneSSE: true}, nil)
	}}
	remote, err := rc.get(ctx)
	if err != nil {
		msg := "cannot open an MCP session with " + cfg.Endpoint
		if strings.Contains(err.Error(), "Unauthorized") || strings.Contains(err.Error(), "401") {
			return errors.E(op, errors.Unauthenticated, errors.Msg(msg+": the server refused the token"), err)
		}
		return errors.E(op, errors.Unavailable, errors.Msg(msg+": "+oneLine(err.Error())), err)
	}
	defer rc.close()

	instructions := ""
	if ir := remote.InitializeResult(); ir != nil {
		instructions = ir.Instructions
	}
	local := sdk.NewServer(&sdk.Implementation{Name: "genesis", Title: "Genesis", Version: cfg.Version}, &sdk.ServerOptions{Instructions: instructions, Logger: log})
	n := 0
	for tl, err := range remote.Tools(ctx, nil) {
		if err != nil {
			return errors.E(op, errors.Unavailable, errors.Msg("cannot list the server's tools: "+oneLine(err.Error())), err)
		}
		name := tl.Name
		local.AddTool(tl, func(ctx context.Context, req *sdk.CallToolRequest) (*sdk.CallToolResult, error) {
			// Refused here what the server would refuse with 413 (which
			// ends an HTTP MCP session): the arguments and the envelope
			// must fit its body limit.
			if len(req.Params.Arguments) > MaxRequestBody-4096 {
				return &sdk.CallToolResult{IsError: true, Content: []sdk.Content{&sdk.TextContent{Text: "too-large: the arguments exceed 1 MiB"}}}, nil
			}
			var res *sdk.CallToolResult
			err := rc.do(ctx, func(s *sdk.ClientSession) (err error) {
				res, err = s.CallTool(ctx, &sdk.CallToolParams{Name: name, Arguments: req.Params.Arguments})
				return err
			})
			return res, err
		})
		n++
	}
	for rt, err := range remote.ResourceTemplates(ctx, nil) {
		if err != nil {
			return errors.E(op, errors.Unavailable, errors.Msg("cannot list the server's resources: "+oneLine(err.Error())), err)
		}
		local.AddResourceTemplate(rt, func(ctx context.Context, req *sdk.ReadResourceRequest) (*sdk.ReadResourceResult, error) {
			var res *sdk.ReadResourceResult
			err := rc.do(ctx, func(s *sdk.ClientSession) (err error) {
				res, err = s.ReadResource(ctx, &sdk.ReadResourceParams{URI: req.Params.URI})
				return err
			})
			return res, err
		})
	}
	log.Info("serving MCP on stdio", "endpoint", cfg.Endpoint, "tools", n)
	err = local.Run(ctx, t)
	if err != nil && ctx.Err() == nil && !errors.IsErr(err, context.Canceled) {
		return errors.E(op, errors.Msg("the MCP session ended: "+oneLine(err.Error())), err)
	}
	return nil
}

// bearerTransport adds the token to every request.
type bearerTransport struct {
	token string
	next  http.RoundTripper
}

func (b bearerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := b.next
	if next == nil {
		next = http.DefaultTransport
	}
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return next.RoundTrip(r)
}

func oneLine(s string) string { return clip(strings.ReplaceAll(s, "\n", " "), 300) }

// remoteConn is the proxy's session with the server. A session the
// server ended (it went away, or refused a request in a way that closes
// the HTTP session) is dropped, and the next call opens a new one; the
// call that failed is not repeated, since it may have been done.
type remoteConn struct {
	dial func(ctx context.Context) (*sdk.ClientSession, error)
	mu   sync.Mutex
	s    *sdk.ClientSession
}

func (r *remoteConn) get(ctx context.Context) (*sdk.ClientSession, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s != nil {
		return r.s, nil
	}
	s, err := r.dial(ctx)
	if err != nil {
		return nil, err
	}
	r.s = s
	return s, nil
}

func (r *remoteConn) do(ctx context.Context, f func(*sdk.ClientSession) error) error {
	s, err := r.get(ctx)
	if err != nil {
		return err
	}
	err = f(s)
	if errors.IsErr(err, sdk.ErrConnectionClosed) {
		r.mu.Lock()
		if r.s == s {
			r.s = nil
		}
		r.mu.Unlock()
		s.Close()
	}
	return err
}

func (r *remoteConn) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s != nil {
		r.s.Close()
		r.s = nil
	}
}
