package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

// Retry policy: at most MaxRetries more attempts after a 429, a 5xx or a
// failed connection, waiting an exponential backoff (0.5 s, 1 s, 2 s, with
// jitter) or the endpoint's Retry-After when that is at most
// MaxRetryAfter. A longer Retry-After ends the call at once; any other 4xx
// is never retried, and neither is a request that timed out.
const (
	MaxRetries    = 3
	MaxRetryAfter = 30 * time.Second
)

// DefaultTimeout bounds one request when Config.TimeoutSeconds is 0.
const DefaultTimeout = 120 * time.Second

// Client talks to one configuration's endpoints.
type Client struct {
	cfg     Config
	key     string
	http    *http.Client
	timeout time.Duration
	chat    endpoint
	embed   endpoint
	// backoff is the wait before retry attempt (1, 2, …).
	backoff func(attempt int) time.Duration
}

// endpoint is a full URL and the form of it errors may show.
type endpoint struct {
	name  string // "chat" or "embeddings"
	url   string
	shown string
}

var (
	_ Embedder = (*clientEmbedder)(nil)
	_ Chatter  = (*clientChatter)(nil)
)

// New checks c and reads the API key: GENESIS_LLM_API_KEY if set, else
// the file APIKeyFile names (surrounding white space trimmed). The key is
// sent as a bearer token and appears in no log and no error.
func New(c Config) (*Client, error) {
	const op errors.Op = "llm.New"
	if err := c.Validate(); err != nil {
		return nil, err
	}
	key := os.Getenv("GENESIS_LLM_API_KEY")
	if key == "" && c.APIKeyFile != "" {
		b, err := os.ReadFile(c.APIKeyFile)
		if err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("llm.api_key_file"), errors.Msg("llm.api_key_file: cannot read "+c.APIKeyFile))
		}
		if len(b) > 8<<10 {
			return nil, errors.E(op, errors.Invalid, errors.Field("llm.api_key_file"), errors.Msg("llm.api_key_file: longer than 8 KiB; is it the key?"))
		}
		key = strings.TrimSpace(string(b))
	}
	for _, r := range key {
		if r < 0x21 || r > 0x7e {
			return nil, errors.E(op, errors.Invalid, errors.Field("llm.api_key_file"), errors.Msg("the API key holds a character not allowed in an HTTP header (spaces, control characters or non-ASCII)"))
		}
	}
	timeout := DefaultTimeout
	if c.TimeoutSeconds > 0 {
		timeout = time.Duration(c.TimeoutSeconds) * time.Second
	}
	cl := &Client{
		cfg:     c,
		key:     key,
		timeout: timeout,
		http:    &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		backoff: func(attempt int) time.Duration {
			d := 500 * time.Millisecond << (attempt - 1)
			return d + rand.N(d/4+1)
		},
	}
	if c.ChatURL != "" {
		cl.chat = newEndpoint("chat", c.ChatURL, "/chat/completions")
	}
	if c.EmbedURL != "" {
		cl.embed = newEndpoint("embeddings", c.EmbedURL, "/embeddings")
	}
	return cl, nil
}

func newEndpoint(name, base, path string) endpoint {
	full := strings.TrimRight(base, "/") + path
	u, err := url.Parse(full)
	shown := name + " endpoint"
	if err == nil {
		s := *u
		s.User, s.RawQuery, s.Fragment = nil, "", ""
		shown = s.String()
	}
	return endpoint{name: name, url: full, shown: shown}
}

// Embedder returns the embeddings client, or nil when no EmbedURL is set.
func (c *Client) Embedder() Embedder {
	if c.cfg.EmbedURL == "" {
		return nil
	}
	return &clientEmbedder{c}
}

// Chatter returns the chat client, or nil when no ChatURL is set.
func (c *Client) Chatter() Chatter {
	if c.cfg.ChatURL == "" {
		return nil
	}
	return &clientChatter{c}
}

type clientEmbedder struct{ c *Client }

func (e *clientEmbedder) Model() string { return e.c.cfg.EmbedModel }

// Embed sends texts in batches of at most MaxBatch and checks every answer.
func (e *clientEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	const op errors.Op = "llm.Embed"
	c := e.c
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += MaxBatch {
		batch := texts[start:min(start+MaxBatch, len(texts))]
		body, err := json.Marshal(WireEmbedRequest{Model: c.cfg.EmbedModel, Input: batch, EncodingFormat: "float"})
		if err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
		b, err := c.post(ctx, op, c.embed, body)
		if err != nil {
			return nil, err
		}
		vecs, err := DecodeEmbedResponse(b, len(batch))
		if err != nil {
			return nil, c.bad(op, c.embed, err.Error())
		}
		if len(out) > 0 && len(vecs) > 0 && len(vecs[0]) != len(out[0]) {
			return nil, c.bad(op, c.embed, fmt.Sprintf("embeddings of dimension %d after earlier ones of %d", len(vecs[0]), len(out[0])))
		}
		out = append(out, vecs...)
	}
	return out, nil
}

type clientChatter struct{ c *Client }

// Chat sends one completion request.
func (ch *clientChatter) Chat(ctx context.Context, req ChatRequest) (*ChatResponse, error) {
	const op errors.Op = "llm.Chat"
	c := ch.c
	w, err := c.chatRequest(req)
	if err != nil {
		return nil, errors.E(op, err)
	}
	body, err := json.Marshal(w)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	b, err := c.post(ctx, op, c.chat, body)
	if err != nil {
		return nil, err
	}
	r, err := DecodeChatResponse(b)
	if err != nil {
		return nil, c.bad(op, c.chat, err.Error())
	}
	if r.Model == "" {
		r.Model = c.cfg.ChatModel
	}
	return r, nil
}

func (c *Client) chatRequest(req ChatRequest) (*WireChatRequest, error) {
	const op errors.Op = "llm.Chat"
	if len(req.Messages) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("a chat request needs at least one message"))
	}
	temp := req.Temperature
	w := &WireChatRequest{Model: c.cfg.ChatModel, Temperature: &temp, MaxTokens: req.MaxTokens}
	if req.MaxTokens < 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("max_tokens is negative"))
	}
	if req.JSON {
		w.ResponseFormat = &ResponseFormat{Type: "json_object"}
	}
	for i, m := range req.Messages {
		switch m.Role {
		case RoleSystem, RoleUser, RoleAssistant, RoleTool:
		default:
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("message %d has unknown role %q", i, SanitizeLine(truncate(m.Role, 40)))))
		}
		wm := WireMessage{Role: m.Role, ToolCallID: m.ToolCallID}
		if m.Content == "" && len(m.ToolCalls) > 0 {
			wm.Content = json.RawMessage("null")
		} else {
			s, _ := json.Marshal(m.Content)
			wm.Content = s
		}
		for _, tc := range m.ToolCalls {
			var wt WireToolCall
			wt.ID, wt.Type = tc.ID, "function"
			wt.Function.Name = tc.Name
			a := tc.Arguments
			if strings.TrimSpace(a) == "" {
				a = "{}"
			}
			args, _ := json.Marshal(a)
			wt.Function.Arguments = args
			wm.ToolCalls = append(wm.ToolCalls, wt)
		}
		w.Messages = append(w.Messages, wm)
	}
	for _, t := range req.Tools {
		params := bytes.TrimSpace(t.Parameters)
		if len(params) == 0 {
			params = []byte(`{"type":"object","properties":{}}`)
		}
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(params, &probe); err != nil || probe == nil {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("tool %q: parameters are not a JSON Schema object", SanitizeLine(truncate(t.Name, 64)))))
		}
		if t.Name == "" {
			return nil, errors.E(op, errors.Invalid, errors.Msg("a tool has no name"))
		}
		w.Tools = append(w.Tools, WireTool{Type: "function", Function: WireFunction{Name: t.Name, Description: t.Description, Parameters: params}})
	}
	return w, nil
}

// post sends body to ep with the retry policy and returns a 2xx body.
func (c *Client) post(ctx context.Context, op errors.Op, ep endpoint, body []byte) ([]byte, error) {
	var last error
	for attempt := 0; ; attempt++ {
		b, status, retryAfter, err := c.once(ctx, ep, body)
		if err == nil {
			return b, nil
		}
		if ctx.Err() != nil {
			return nil, errors.E(op, errors.Canceled, errors.Msg(ep.name+" request canceled"), ctx.Err())
		}
		last = err
		var retry bool
		var wait time.Duration
		switch {
		case status == 0:
			retry = !errors.Is(errors.Canceled, err) && !isTimeout(err)
		case status == http.StatusTooManyRequests || status >= 500:
			retry = true
		}
		if !retry || attempt == MaxRetries {
			if retry && attempt > 0 {
				return nil, errors.E(op, errors.Unavailable, errors.Msg(fmt.Sprintf("%s (after %d attempts)", errors.SafeMessage(last), attempt+1)), last)
			}
			return nil, last
		}
		wait = c.backoff(attempt + 1)
		if retryAfter > 0 {
			if retryAfter > MaxRetryAfter {
				return nil, errors.E(op, errors.Unavailable, errors.Msg(fmt.Sprintf("%s; it asks to retry after %s, longer than %s", errors.SafeMessage(last), retryAfter, MaxRetryAfter)), last)
			}
			wait = retryAfter
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, errors.E(op, errors.Canceled, errors.Msg(ep.name+" request canceled"), ctx.Err())
		case <-t.C:
		}
	}
}

type timeoutError struct{ error }

func isTimeout(err error) bool {
	var t timeoutError
	return errors.As(err, &t)
}

// once makes one attempt. status is 0 when no response arrived.
func (c *Client) once(ctx context.Context, ep endpoint, body []byte) (b []byte, status int, retryAfter time.Duration, err error) {
	op := errors.Op("llm." + ep.name)
	rctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, ep.url, bytes.NewReader(body))
	if err != nil {
		return nil, 0, 0, c.unavailable(op, ep, "cannot build the request")
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, 0, c.transportError(ctx, rctx, op, ep, err)
	}
	defer resp.Body.Close()
	b, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, 0, 0, c.transportError(ctx, rctx, op, ep, err)
	}
	if len(b) > MaxResponseBytes {
		return nil, resp.StatusCode, 0, c.bad(op, ep, fmt.Sprintf("answered more than %d MiB", MaxResponseBytes>>20))
	}
	if resp.StatusCode/100 == 2 {
		return b, resp.StatusCode, 0, nil
	}
	msg := fmt.Sprintf("%s answered %s", ep.shown, resp.Status)
	if m := errorMessage(b); m != "" {
		msg += ": " + m
	}
	msg = c.redact(SanitizeLine(msg))
	kind := errors.Invalid
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		kind = errors.Unavailable
		retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return nil, resp.StatusCode, retryAfter, errors.E(op, kind, errors.Msg(msg))
}

func (c *Client) transportError(ctx, rctx context.Context, op errors.Op, ep endpoint, err error) error {
	if ctx.Err() != nil {
		return errors.E(op, errors.Canceled, errors.Msg(ep.name+" request canceled"), ctx.Err())
	}
	if rctx.Err() != nil {
		return errors.E(op, errors.Unavailable, errors.Msg(fmt.Sprintf("%s did not answer within %s", ep.shown, c.timeout)), timeoutError{rctx.Err()})
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error repeats the URL, which may hold credentials
	}
	return c.unavailable(op, ep, "cannot reach it: "+c.redact(SanitizeLine(truncate(err.Error(), 200))))
}

func (c *Client) unavailable(op errors.Op, ep endpoint, what string) error {
	return errors.E(op, errors.Unavailable, errors.Msg(ep.shown+": "+what))
}

// bad reports an answer that cannot be used.
func (c *Client) bad(op errors.Op, ep endpoint, what string) error {
	return errors.E(op, errors.Invalid, errors.Msg(c.redact(ep.shown+": "+what)))
}

// redact removes the key from text an endpoint sent back (some echo it).
func (c *Client) redact(s string) string {
	if c.key == "" {
		return s
	}
	return strings.ReplaceAll(s, c.key, "[redacted]")
}

// errorMessage extracts {"error":{"message":…}} or {"error":"…"} from an
// error body, sanitised and short; other bodies (HTML pages) give "".
func errorMessage(b []byte) string {
	var w struct {
		Error json.RawMessage `json:"error"`
	}
	if json.Unmarshal(b, &w) != nil || len(w.Error) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(w.Error, &s) != nil {
		var e WireError
		if json.Unmarshal(w.Error, &e) != nil {
			return ""
		}
		s = e.Message
	}
	return SanitizeLine(truncate(s, 300))
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 if absent or bad.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		if n > 1<<20 {
			n = 1 << 20
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// Validate checks the configuration; errors name the field (llm.…) and
// never repeat a URL, which could hold credentials.
func (c Config) Validate() error {
	bad := func(field, msg string) error {
		return errors.E(errors.Op("config.Validate"), errors.Invalid, errors.Field(field), errors.Msg(field+": "+msg))
	}
	check := func(field, u, modelField, model string) error {
		if u == "" {
			return nil
		}
		p, err := url.Parse(u)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return bad(field, "must be an http:// or https:// base URL such as http://127.0.0.1:8000/v1")
		}
		if p.User != nil {
			return bad(field, "must not hold credentials; put the key in llm.api_key_file or GENESIS_LLM_API_KEY")
		}
		if p.RawQuery != "" || p.Fragment != "" {
			return bad(field, "must be a base URL without query or fragment")
		}
		if strings.TrimSpace(model) == "" {
			return bad(modelField, "is required with "+field)
		}
		if len(model) > 256 || SanitizeLine(model) != model {
			return bad(modelField, "must be one line of at most 256 bytes")
		}
		return nil
	}
	if err := check("llm.chat_url", c.ChatURL, "llm.chat_model", c.ChatModel); err != nil {
		return err
	}
	if err := check("llm.embed_url", c.EmbedURL, "llm.embed_model", c.EmbedModel); err != nil {
		return err
	}
	if c.TimeoutSeconds < 0 || c.TimeoutSeconds > 3600 {
		return bad("llm.timeout_seconds", "must be between 0 (the default, 120) and 3600")
	}
	return nil
}
