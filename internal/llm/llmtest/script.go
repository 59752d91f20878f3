// Package llmtest is a scripted, OpenAI-compatible language model for
// tests: a Script says how to answer (rules matched on the conversation,
// replies with text and tool calls, or faults: status codes, garbage,
// oversized bodies, delays), a Server serves /v1/chat/completions and
// /v1/embeddings with it, and Start runs cmd/llm-script — the same server
// — as a separate process, so the code under test talks HTTP to another
// process exactly as it would to vLLM or OpenAI. Every request is logged
// as a JSON line that tests read back (what was the model sent?).
//
// Embeddings come from a deterministic local embedder: an LSA model of a
// corpus (llm.NewLSA) when the script or the command names one, else the
// hashing embedder (llm.NewHashEmbedder).
//
// A script, in YAML (or the same structure in JSON):
//
//	rules:
//	  - name: search first             # optional, shown in the request log
//	    match: {user_contains: band gap, tools: true, tool_results: false}
//	    times: 1                       # apply at most once (0: always)
//	    reply:
//	      tool_calls: [{name: search, arguments: {query: band gap}}]
//	  - match: {tool_results: true, prompt_regexp: '\[(pas_[A-Za-z0-9_]+)\]'}
//	    reply: {content: "The band gap is 1.5 eV [$1]."}
//	  - endpoint: embeddings
//	    match: {input_contains: poison}
//	    reply: {status: 500, body: '{"error":{"message":"boom"}}'}
//	default: {content: "I do not know."}
//	embed: {corpus: corpus.jsonl, dim: 64}  # path relative to the script
//
// Rules are tried in order; the first whose every given matcher holds and
// whose times are not used up answers. Matchers: user_contains and
// user_regexp (the last user message), prompt_contains and prompt_regexp
// (every message's text, joined by newlines, tool results included),
// tools and tool_results (whether the request offers tools or carries
// tool results), json (whether it asks for a JSON object), and for
// embeddings input_contains (any input). With a regexp, content and tool
// arguments are expanded with its match (regexp.Expand: $1, ${name}, $$).
// A reply is content and/or tool_calls with a finish_reason (default stop,
// or tool_calls when there are calls); or a fault: status (with headers
// such as Retry-After), body (sent as is), body_bytes (a JSON body padded
// to that many bytes), delay_ms (wait first; the wait ends if the client
// goes away).
package llmtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/yamlsafe"
	"github.com/goccy/go-yaml"
)

// Script is a scripted model.
type Script struct {
	Rules   []Rule       `json:"rules,omitempty" yaml:"rules,omitempty"`
	Default *Reply       `json:"default,omitempty" yaml:"default,omitempty"`
	Embed   *EmbedConfig `json:"embed,omitempty" yaml:"embed,omitempty"`
}

// Rule answers the requests it matches.
type Rule struct {
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Endpoint is "chat" (the default) or "embeddings".
	Endpoint string `json:"endpoint,omitempty" yaml:"endpoint,omitempty"`
	Match    Match  `json:"match,omitempty" yaml:"match,omitempty"`
	// Times bounds how often the rule answers (0: always).
	Times int   `json:"times,omitempty" yaml:"times,omitempty"`
	Reply Reply `json:"reply" yaml:"reply"`

	user, prompt *regexp.Regexp
}

// Match lists the conditions of a rule; all given ones must hold.
type Match struct {
	UserContains   string `json:"user_contains,omitempty" yaml:"user_contains,omitempty"`
	UserRegexp     string `json:"user_regexp,omitempty" yaml:"user_regexp,omitempty"`
	PromptContains string `json:"prompt_contains,omitempty" yaml:"prompt_contains,omitempty"`
	PromptRegexp   string `json:"prompt_regexp,omitempty" yaml:"prompt_regexp,omitempty"`
	Tools          *bool  `json:"tools,omitempty" yaml:"tools,omitempty"`
	ToolResults    *bool  `json:"tool_results,omitempty" yaml:"tool_results,omitempty"`
	JSON           *bool  `json:"json,omitempty" yaml:"json,omitempty"`
	InputContains  string `json:"input_contains,omitempty" yaml:"input_contains,omitempty"`
}

// Reply is an answer or a fault.
type Reply struct {
	Content      string     `json:"content,omitempty" yaml:"content,omitempty"`
	ToolCalls    []ToolCall `json:"tool_calls,omitempty" yaml:"tool_calls,omitempty"`
	FinishReason string     `json:"finish_reason,omitempty" yaml:"finish_reason,omitempty"`

	Status    int               `json:"status,omitempty" yaml:"status,omitempty"`
	Headers   map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
	Body      string            `json:"body,omitempty" yaml:"body,omitempty"`
	BodyBytes int               `json:"body_bytes,omitempty" yaml:"body_bytes,omitempty"`
	DelayMS   int               `json:"delay_ms,omitempty" yaml:"delay_ms,omitempty"`
}

// ToolCall is a scripted call; Arguments is a JSON object or a string of
// JSON text.
type ToolCall struct {
	ID        string `json:"id,omitempty" yaml:"id,omitempty"`
	Name      string `json:"name" yaml:"name"`
	Arguments any    `json:"arguments,omitempty" yaml:"arguments,omitempty"`

	args string // JSON text
}

// EmbedConfig builds the LSA model the embeddings endpoint serves.
type EmbedConfig struct {
	// Corpus is a directory of text files or a JSON Lines file (see
	// ReadCorpus), relative to the script's directory.
	Corpus string `json:"corpus,omitempty" yaml:"corpus,omitempty"`
	Dim    int    `json:"dim,omitempty" yaml:"dim,omitempty"`
}

// Limits of a script.
const (
	MaxScriptBytes = 4 << 20
	MaxRules       = 10000
	MaxBodyBytes   = 64 << 20
	MaxDelayMS     = 600000
	maxRegexp      = 1000
)

// LoadScript reads a script file (.yaml, .yml or .json); embed.corpus is
// made absolute against the script's directory.
func LoadScript(path string) (*Script, error) {
	const op errors.Op = "llmtest.LoadScript"
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("cannot read script: "+err.Error()))
	}
	s, err := ParseScript(path, b)
	if err != nil {
		return nil, err
	}
	if s.Embed != nil && s.Embed.Corpus != "" && !filepath.IsAbs(s.Embed.Corpus) {
		s.Embed.Corpus = filepath.Join(filepath.Dir(path), s.Embed.Corpus)
	}
	return s, nil
}

// ParseScript decodes and checks a script; name's extension picks YAML or
// JSON. Unknown fields are errors; every error names the rule and field.
func ParseScript(name string, b []byte) (*Script, error) {
	const op errors.Op = "llmtest.ParseScript"
	bad := func(msg string) error { return errors.E(op, errors.Invalid, errors.Msg(name+": "+msg)) }
	if len(b) > MaxScriptBytes {
		return nil, bad(fmt.Sprintf("longer than %d MiB", MaxScriptBytes>>20))
	}
	var s Script
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		if err := d.Decode(&s); err != nil {
			return nil, bad(llm.SanitizeLine(err.Error()))
		}
		if d.More() {
			return nil, bad("trailing data after the script")
		}
	case ".yaml", ".yml":
		if msg := yamlsafe.Check(b); msg != "" {
			return nil, bad(msg)
		}
		if err := yamlsafe.Decode(b, &s, yaml.Strict()); err != nil {
			return nil, bad(llm.SanitizeLine(yamlsafe.Message(err)))
		}
	default:
		return nil, bad("scripts end in .yaml, .yml or .json")
	}
	if err := s.compile(); err != nil {
		return nil, bad(err.Error())
	}
	return &s, nil
}

func (s *Script) compile() error {
	if len(s.Rules) > MaxRules {
		return fmt.Errorf("more than %d rules", MaxRules)
	}
	for i := range s.Rules {
		r := &s.Rules[i]
		where := fmt.Sprintf("rules[%d]", i)
		if r.Name != "" {
			where += fmt.Sprintf(" (%s)", llm.SanitizeLine(r.Name))
		}
		if err := r.compile(); err != nil {
			return fmt.Errorf("%s: %v", where, err)
		}
	}
	if s.Default != nil {
		if err := s.Default.compile(false); err != nil {
			return fmt.Errorf("default: %v", err)
		}
	}
	if s.Embed != nil && (s.Embed.Dim < 0 || s.Embed.Dim > llm.MaxDimension) {
		return fmt.Errorf("embed.dim must be between 0 (the default) and %d", llm.MaxDimension)
	}
	return nil
}

func (r *Rule) compile() error {
	m := r.Match
	switch r.Endpoint {
	case "", "chat":
		r.Endpoint = "chat"
		if m.InputContains != "" {
			return fmt.Errorf("match.input_contains is for embeddings rules")
		}
	case "embeddings":
		if m.UserContains != "" || m.UserRegexp != "" || m.PromptContains != "" || m.PromptRegexp != "" || m.Tools != nil || m.ToolResults != nil || m.JSON != nil {
			return fmt.Errorf("embeddings rules match only on input_contains")
		}
	default:
		return fmt.Errorf("endpoint must be chat or embeddings")
	}
	if r.Times < 0 {
		return fmt.Errorf("times must not be negative")
	}
	var err error
	if r.user, err = compileRegexp("match.user_regexp", m.UserRegexp); err != nil {
		return err
	}
	if r.prompt, err = compileRegexp("match.prompt_regexp", m.PromptRegexp); err != nil {
		return err
	}
	return r.Reply.compile(r.Endpoint == "embeddings")
}

func compileRegexp(field, s string) (*regexp.Regexp, error) {
	if s == "" {
		return nil, nil
	}
	if len(s) > maxRegexp {
		return nil, fmt.Errorf("%s is longer than %d bytes", field, maxRegexp)
	}
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", field, llm.SanitizeLine(err.Error()))
	}
	return re, nil
}

func (p *Reply) compile(embeddings bool) error {
	if p.Status != 0 && (p.Status < 200 || p.Status > 599) {
		return fmt.Errorf("reply.status must be an HTTP status 200-599")
	}
	if p.BodyBytes < 0 || p.BodyBytes > MaxBodyBytes {
		return fmt.Errorf("reply.body_bytes must be between 0 and %d", MaxBodyBytes)
	}
	if p.Body != "" && p.BodyBytes != 0 {
		return fmt.Errorf("reply.body and reply.body_bytes exclude each other")
	}
	if p.DelayMS < 0 || p.DelayMS > MaxDelayMS {
		return fmt.Errorf("reply.delay_ms must be between 0 and %d", MaxDelayMS)
	}
	for k, v := range p.Headers {
		if k == "" || textproto.CanonicalMIMEHeaderKey(k) == "" || strings.ContainsAny(k, " :\r\n\t") || strings.ContainsAny(v, "\r\n\x00") {
			return fmt.Errorf("reply.headers has an invalid header")
		}
	}
	if embeddings && (p.Content != "" || len(p.ToolCalls) > 0 || p.FinishReason != "") {
		return fmt.Errorf("embeddings replies have no content, tool_calls or finish_reason")
	}
	if llm.SanitizeLine(p.FinishReason) != p.FinishReason {
		return fmt.Errorf("reply.finish_reason must be one line")
	}
	for i := range p.ToolCalls {
		tc := &p.ToolCalls[i]
		if tc.Name == "" {
			return fmt.Errorf("reply.tool_calls[%d].name is required", i)
		}
		switch a := tc.Arguments.(type) {
		case nil:
			tc.args = "{}"
		case string:
			tc.args = a
		default:
			b, err := json.Marshal(normalizeYAML(a))
			if err != nil || !bytes.HasPrefix(b, []byte("{")) {
				return fmt.Errorf("reply.tool_calls[%d].arguments must be an object or a string", i)
			}
			tc.args = string(b)
		}
	}
	return nil
}

// normalizeYAML turns YAML's map[any]any (if any) into JSON-encodable maps.
func normalizeYAML(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = normalizeYAML(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = normalizeYAML(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeYAML(e)
		}
		return out
	}
	return v
}
