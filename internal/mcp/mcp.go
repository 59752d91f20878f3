// Package mcp serves Genesis to outside AI agents and assistants over the
// Model Context Protocol (the official Go SDK): search the catalog and the
// literature, read datasets and their files, list extracted facts, follow
// lineage, generate hypotheses, draft campaigns and — once a person has
// approved a draft — start them.
//
// What it guarantees: every tool runs as the principal of the bearer token
// that came with the HTTP request, through the same services the REST API
// uses (catalog, campaign, literature library, agent). There is no other
// privilege path: a tool decides nothing itself, the services decide as
// they do for the API. A hidden object is indistinguishable from a missing
// one in tool results and errors (the error text of a NotExist is "not
// found", whatever the cause), and every tool call is put on the audit
// record (action mcp.TOOL) with its outcome, besides the records the
// services make themselves.
//
// The HTTP handler (Server.Handler) is mounted by internal/httpapi behind
// its bearer authentication at /mcp. It is stateless (no session is held
// between requests, so a client cannot make the server keep memory), bodies
// are bounded, and the number of requests served at once is bounded.
// Proxy serves the same tools on stdin/stdout for local assistants by
// forwarding to a server's /mcp endpoint (`genesis mcp`).
package mcp

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/modelcontextprotocol/go-sdk/auth"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// Limits of the HTTP endpoint.
const (
	// MaxRequestBody bounds one JSON-RPC request body (the REST API's
	// JSON limit).
	MaxRequestBody = 1 << 20
	// DefaultSlots is how many MCP requests are served at once; more wait
	// for a slot (or for their client to give up).
	DefaultSlots = 16
	// MaxReadBytes bounds one read_file call.
	MaxReadBytes = 1 << 20
	// MaxTextArg bounds free-text arguments (queries, topics), in bytes.
	MaxTextArg = 1024
	// MaxRefArg bounds names, references and IDs, in bytes.
	MaxRefArg = 512
	// MaxFilesListed bounds the files get_dataset lists.
	MaxFilesListed = 1000
	// MaxBatch bounds the messages of one JSON-RPC batch (protocol
	// versions before 2025-06-18 allow batches): one request runs at
	// most this many tool calls.
	MaxBatch = 16
)

// Config is what the MCP server needs. Catalog is required; the others
// are optional, and their tools are offered only when they are set.
type Config struct {
	Catalog   *catalog.Service
	Campaigns *campaign.Service
	// Library is the literature as one principal may read it.
	Library lit.Library
	// Agent generates hypotheses and campaign drafts.
	Agent Agent
	// Audit receives one record per tool call.
	Audit  audit.Appender
	Logger *slog.Logger
	// Slots bounds the requests served at once; 0 means DefaultSlots.
	Slots int
	// Version is reported to clients as the server's version.
	Version string
}

// Server is the MCP server. Build it with New.
type Server struct {
	cfg   Config
	log   *slog.Logger
	mcp   *sdk.Server
	slots chan struct{}
	http  http.Handler
}

// New returns the MCP server with its tools registered.
func New(cfg Config) *Server {
	s := &Server{cfg: cfg, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	n := cfg.Slots
	if n <= 0 {
		n = DefaultSlots
	}
	s.slots = make(chan struct{}, n)
	version := cfg.Version
	if version == "" {
		version = "dev"
	}
	s.mcp = sdk.NewServer(&sdk.Implementation{Name: "genesis", Title: "Genesis", Version: version}, &sdk.ServerOptions{
		Instructions: "Genesis: labelled, audited science data, literature, compute and labs. Every tool runs as the " +
			"principal of your token and sees only what that principal may read; anything else is \"not found\". " +
			"Campaigns start only from drafts a person has approved.",
		Logger: s.log,
	})
	s.addTools()
	h := sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s.mcp }, &sdk.StreamableHTTPOptions{
		Stateless:    true,
		JSONResponse: true,
		// The SDK refuses requests that reach a loopback address with
		// another Host (DNS rebinding against unauthenticated local
		// servers). Every request here carries a bearer token a page
		// cannot have, and a server behind a reverse proxy on the same
		// host sees exactly that pattern, so the check stays off.
		DisableLocalhostProtection: true,
		MaxRequestBodyBytes:        MaxRequestBody,
		Logger:                     s.log,
	})
	// The SDK reads the caller from the token info in the request context;
	// the token was verified by the API's authentication before this
	// handler runs, so the verifier only hands on its principal.
	verify := func(ctx context.Context, _ string, r *http.Request) (*auth.TokenInfo, error) {
		p := genesis.FromContext(r.Context())
		if p == nil {
			return nil, auth.ErrInvalidToken
		}
		return &auth.TokenInfo{UserID: string(p.ID), Extra: map[string]any{principalKey: p, requestIDKey: catalog.RequestID(r.Context())}}, nil
	}
	s.http = auth.RequireBearerToken(verify, &auth.RequireBearerTokenOptions{AllowMissingExpiration: true})(h)
	return s
}

// Keys of the token info's Extra.
const (
	principalKey = "genesis.principal"
	requestIDKey = "genesis.request_id"
)

// Handler serves MCP over streamable HTTP. It must be mounted behind the
// API's authentication, which puts the caller in the request context
// (genesis.NewContext); without one every request is refused.
func (s *Server) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if genesis.FromContext(r.Context()) == nil {
			http.Error(w, "unauthenticated", http.StatusUnauthorized)
			return
		}
		select {
		case s.slots <- struct{}{}:
			defer func() { <-s.slots }()
		case <-r.Context().Done():
			return
		}
		if r.Method == http.MethodPost {
			body, err := io.ReadAll(io.LimitReader(r.Body, MaxRequestBody+1))
			switch {
			case err != nil:
				rpcError(w, http.StatusBadRequest, "cannot read the request body")
				return
			case len(body) > MaxRequestBody:
				rpcError(w, http.StatusRequestEntityTooLarge, "the request body exceeds 1 MiB")
				return
			case batchLen(body) > MaxBatch:
				rpcError(w, http.StatusBadRequest, "a batch holds at most "+strconv.Itoa(MaxBatch)+" messages")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		s.http.ServeHTTP(w, r)
	})
}

// batchLen is the number of messages of a JSON-RPC batch body (0 for
// anything else, which the SDK reads and answers).
func batchLen(body []byte) int {
	b := bytes.TrimLeft(body, " \t\r\n")
	if len(b) == 0 || b[0] != '[' {
		return 0
	}
	var msgs []json.RawMessage
	if json.Unmarshal(b, &msgs) != nil {
		return 0
	}
	return len(msgs)
}

// rpcError answers a request refused before the protocol read it.
func rpcError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": nil, "error": map[string]any{"code": -32600, "message": msg}})
	w.Write(b)
}

// SDK returns the underlying MCP server (for in-process transports).
func (s *Server) SDK() *sdk.Server { return s.mcp }

// caller returns the principal a tool call runs as, and a context that
// carries it and the API request ID (for the audit records the services
// make).
func caller(ctx context.Context, req *sdk.CallToolRequest) (context.Context, *genesis.Principal, error) {
	var ti *auth.TokenInfo
	if req != nil && req.Extra != nil {
		ti = req.Extra.TokenInfo
	}
	return callerFrom(ctx, ti)
}

func callerFrom(ctx context.Context, ti *auth.TokenInfo) (context.Context, *genesis.Principal, error) {
	if ti != nil {
		if p, ok := ti.Extra[principalKey].(*genesis.Principal); ok && p != nil {
			if id, _ := ti.Extra[requestIDKey].(string); id != "" {
				ctx = catalog.WithRequestID(ctx, id)
			}
			return genesis.NewContext(ctx, p), p, nil
		}
	}
	// Fail closed: a call that did not come through the API's
	// authentication runs as no one.
	return ctx, nil, errors.E(errors.Op("mcp.caller"), errors.Unauthenticated, errors.Msg("no authenticated principal"))
}

// ToolError renders err as the text of a tool's error result, with only
// the user-safe parts the API's problem documents carry: the kind, the
// message and the field. A NotExist is always "not found", so a hidden
// object reads exactly like a missing one.
func ToolError(err error) string {
	k := errors.KindOf(err)
	switch k {
	case errors.NotExist:
		return "not-exist: not found"
	case errors.Unauthenticated:
		return "unauthenticated"
	case errors.Internal, errors.Other:
		return "internal: internal error; the server log has the details"
	}
	msg := errors.SafeMessage(err)
	if msg == "" {
		msg = k.String()
	}
	if f := errors.FieldOf(err); f != "" && !strings.Contains(msg, f) {
		msg += " (field " + f + ")"
	}
	return k.String() + ": " + msg
}

// toolErr is the error a tool handler returns: the SDK puts its text in
// an error result.
type toolErr struct{ err error }

func (e toolErr) Error() string { return ToolError(e.err) }
func (e toolErr) Unwrap() error { return e.err }

var openLabel = label.MustParse("OPEN")

// tool registers a typed tool whose handler runs as the caller and whose
// every call is audited. object names the call's object for the record
// (what the caller asked for, never what the server found).
func tool[In, Out any](s *Server, t *sdk.Tool, object func(In) string, h func(ctx context.Context, p *genesis.Principal, in In) (Out, error)) {
	sdk.AddTool(s.mcp, t, func(ctx context.Context, req *sdk.CallToolRequest, in In) (*sdk.CallToolResult, Out, error) {
		var zero Out
		ctx, p, err := caller(ctx, req)
		if err != nil {
			return nil, zero, toolErr{err}
		}
		start := time.Now()
		out, err := h(ctx, p, in)
		s.record(ctx, p, t.Name, object(in), err)
		if err != nil {
			s.log.DebugContext(ctx, "mcp tool refused", "tool", t.Name, "principal", p.ID, "err", err, "ms", time.Since(start).Milliseconds())
			return nil, zero, toolErr{err}
		}
		return nil, out, nil
	})
}

// record puts a tool call on the audit record: who, which tool, what was
// asked for, and the outcome. A refusal of a hidden object and of a
// missing one leave the same record (both are NotExist).
func (s *Server) record(ctx context.Context, p *genesis.Principal, name, object string, err error) {
	if s.cfg.Audit == nil {
		return
	}
	dec, detail := audit.Allow, "ok"
	if err != nil {
		detail = errors.KindOf(err).String()
		switch errors.KindOf(err) {
		case errors.NotExist, errors.Permission, errors.Unauthenticated:
			dec = audit.Deny
		default:
			dec = audit.Error
		}
	}
	rec := audit.Record{Principal: string(p.ID), Action: "mcp." + name, ObjectType: "mcp", ObjectID: clip(object, MaxRefArg), Decision: dec, Detail: detail}
	if aerr := catalog.Record(ctx, s.cfg.Audit, rec, openLabel); aerr != nil {
		s.log.ErrorContext(ctx, "audit append failed", "err", aerr, "tool", name)
	}
}

// clip bounds s to n bytes of valid UTF-8 without control characters.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// checkText refuses a text argument that is too long or not UTF-8.
func checkText(op errors.Op, field, v string, max int) error {
	if len(v) > max {
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+" is longer than "+strconv.Itoa(max)+" bytes"))
	}
	if !validText(v) {
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+" must be valid UTF-8 without control characters"))
	}
	return nil
}

func validText(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	return true
}
