package llmtest

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/llm"
)

// RecordedRequest is one logged request.
type RecordedRequest struct {
	Seq      int    `json:"seq"`
	Endpoint string `json:"endpoint"` // chat or embeddings
	// Rule is the answering rule's name, "rules[i]" when it has none,
	// "default", or "" when nothing answered.
	Rule   string `json:"rule"`
	Status int    `json:"status"`
	// Authorization is the header as received (a test server: it logs
	// what a test needs to check, keys included).
	Authorization string        `json:"authorization,omitempty"`
	Model         string        `json:"model,omitempty"`
	Messages      []llm.Message `json:"messages,omitempty"`
	Tools         []string      `json:"tools,omitempty"`
	Input         []string      `json:"input,omitempty"`
	// Body is the request body as sent (when it was JSON).
	Body json.RawMessage `json:"body,omitempty"`
}

// Server answers by a script. It is safe for concurrent use.
type Server struct {
	script *Script
	embed  llm.Embedder

	mu    sync.Mutex
	used  []int
	seq   int
	calls int
	log   io.Writer
}

// NewServer serves s, embedding with emb (nil: the hashing embedder) and
// logging requests as JSON lines to log (nil: nowhere).
func NewServer(s *Script, emb llm.Embedder, log io.Writer) *Server {
	if emb == nil {
		emb = llm.NewHashEmbedder(0)
	}
	if log == nil {
		log = io.Discard
	}
	return &Server{script: s, embed: emb, used: make([]int, len(s.Rules)), log: log}
}

// ServeHTTP serves POST /v1/chat/completions, POST /v1/embeddings and
// GET /v1/models.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case path == "/v1/models" && r.Method == http.MethodGet:
		writeJSON(w, 200, map[string]any{"object": "list", "data": []map[string]any{{"id": s.embed.Model(), "object": "model"}}})
	case path == "/v1/chat/completions" && r.Method == http.MethodPost:
		s.chat(w, r)
	case path == "/v1/embeddings" && r.Method == http.MethodPost:
		s.embeddings(w, r)
	default:
		writeError(w, http.StatusNotFound, "llm-script serves POST /v1/chat/completions and /v1/embeddings")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"message": msg, "type": "invalid_request_error"}})
}

func (s *Server) record(rec *RecordedRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	rec.Seq = s.seq
	b, _ := json.Marshal(rec)
	s.log.Write(append(b, '\n'))
}

func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 64<<20+1))
	if err != nil {
		return nil, err
	}
	if len(b) > 64<<20 {
		return nil, fmt.Errorf("request body over 64 MiB")
	}
	return b, nil
}

// pick returns the first rule of endpoint whose matchers hold (claiming
// one of its times), and the submatch indices for expansion.
func (s *Server) pick(endpoint string, ok func(*Rule) (bool, *expansion, []int)) (int, *expansion, []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.script.Rules {
		r := &s.script.Rules[i]
		if r.Endpoint != endpoint || (r.Times > 0 && s.used[i] >= r.Times) {
			continue
		}
		if m, re, sub := ok(r); m {
			s.used[i]++
			return i, re, sub
		}
	}
	return -1, nil, nil
}

func (s *Server) ruleName(i int) string {
	if i < 0 {
		return ""
	}
	if n := s.script.Rules[i].Name; n != "" {
		return n
	}
	return fmt.Sprintf("rules[%d]", i)
}

func (s *Server) chat(w http.ResponseWriter, r *http.Request) {
	rec := &RecordedRequest{Endpoint: "chat", Authorization: r.Header.Get("Authorization")}
	body, err := readBody(r)
	if err != nil {
		rec.Status = 400
		s.record(rec)
		writeError(w, 400, err.Error())
		return
	}
	if json.Valid(body) {
		rec.Body = body
	}
	var req llm.WireChatRequest
	if err := json.Unmarshal(body, &req); err != nil || len(req.Messages) == 0 {
		rec.Status = 400
		s.record(rec)
		writeError(w, 400, "the body must be a chat completion request with messages")
		return
	}
	rec.Model = req.Model
	var lastUser string
	var all []string
	toolResults := false
	for _, m := range req.Messages {
		text, _ := m.Text()
		msg := llm.Message{Role: m.Role, Content: text, ToolCallID: m.ToolCallID}
		for _, tc := range m.ToolCalls {
			c, _ := tc.Call()
			msg.ToolCalls = append(msg.ToolCalls, c)
		}
		rec.Messages = append(rec.Messages, msg)
		all = append(all, text)
		if m.Role == llm.RoleUser {
			lastUser = text
		}
		if m.Role == llm.RoleTool {
			toolResults = true
		}
	}
	for _, t := range req.Tools {
		rec.Tools = append(rec.Tools, t.Function.Name)
	}
	prompt := strings.Join(all, "\n")
	isJSON := req.ResponseFormat != nil && req.ResponseFormat.Type == "json_object"
	i, re, sub := s.pick("chat", func(rule *Rule) (bool, *expansion, []int) {
		m := rule.Match
		if m.UserContains != "" && !strings.Contains(lastUser, m.UserContains) ||
			m.PromptContains != "" && !strings.Contains(prompt, m.PromptContains) ||
			m.Tools != nil && *m.Tools != (len(req.Tools) > 0) ||
			m.ToolResults != nil && *m.ToolResults != toolResults ||
			m.JSON != nil && *m.JSON != isJSON {
			return false, nil, nil
		}
		var re *expansion
		var sub []int
		if rule.prompt != nil {
			if sub = rule.prompt.FindStringSubmatchIndex(prompt); sub == nil {
				return false, nil, nil
			}
			re = &expansion{rule.prompt, prompt}
		}
		if rule.user != nil {
			if sub = rule.user.FindStringSubmatchIndex(lastUser); sub == nil {
				return false, nil, nil
			}
			re = &expansion{rule.user, lastUser}
		}
		return true, re, sub
	})
	var reply *Reply
	switch {
	case i >= 0:
		reply = &s.script.Rules[i].Reply
		rec.Rule = s.ruleName(i)
	case s.script.Default != nil:
		reply = s.script.Default
		rec.Rule = "default"
	default:
		rec.Status = 400
		s.record(rec)
		writeError(w, 400, "llm-script: no rule matches and the script has no default")
		return
	}
	rec.Status = reply.status()
	s.record(rec)
	if !delay(r, reply.DelayMS) {
		return
	}
	if reply.fault(w) {
		return
	}
	expand := func(t string) string {
		if re == nil {
			return t
		}
		return string(re.re.ExpandString(nil, t, re.src, sub))
	}
	msg := map[string]any{"role": "assistant", "content": expand(reply.Content)}
	finish := reply.FinishReason
	if len(reply.ToolCalls) > 0 {
		var calls []map[string]any
		for _, tc := range reply.ToolCalls {
			id := tc.ID
			if id == "" {
				s.mu.Lock()
				s.calls++
				id = fmt.Sprintf("call_%d", s.calls)
				s.mu.Unlock()
			}
			calls = append(calls, map[string]any{"id": id, "type": "function", "function": map[string]string{"name": tc.Name, "arguments": expand(tc.args)}})
		}
		msg["tool_calls"] = calls
		if reply.Content == "" {
			msg["content"] = nil
		}
		if finish == "" {
			finish = "tool_calls"
		}
	}
	if finish == "" {
		finish = "stop"
	}
	writeJSON(w, rec.Status, map[string]any{
		"id":      fmt.Sprintf("chatcmpl-%d", rec.Seq),
		"object":  "chat.completion",
		"created": time.Now().Unix(),
		"model":   req.Model,
		"choices": []any{map[string]any{"index": 0, "message": msg, "finish_reason": finish}},
		"usage":   map[string]int{"prompt_tokens": len(strings.Fields(prompt)), "completion_tokens": len(strings.Fields(reply.Content)), "total_tokens": len(strings.Fields(prompt)) + len(strings.Fields(reply.Content))},
	})
}

type expansion struct {
	re interface {
		ExpandString([]byte, string, string, []int) []byte
	}
	src string
}

func (p *Reply) status() int {
	if p.Status == 0 {
		return 200
	}
	return p.Status
}

// delay waits, or reports false when the client went away first.
func delay(r *http.Request, ms int) bool {
	if ms <= 0 {
		return true
	}
	t := time.NewTimer(time.Duration(ms) * time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// fault writes a raw body or a non-2xx status, reporting whether it did.
func (p *Reply) fault(w http.ResponseWriter) bool {
	for k, v := range p.Headers {
		w.Header().Set(k, v)
	}
	switch {
	case p.Body != "":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(p.status())
		io.WriteString(w, p.Body)
	case p.BodyBytes > 0:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(p.status())
		const head, tail = `{"pad":"`, `"}`
		io.WriteString(w, head)
		pad := strings.Repeat("x", 64<<10)
		for n := p.BodyBytes - len(head) - len(tail); n > 0; n -= len(pad) {
			io.WriteString(w, pad[:min(n, len(pad))])
		}
		io.WriteString(w, tail)
	case p.status()/100 != 2:
		writeError(w, p.status(), fmt.Sprintf("scripted status %d", p.status()))
	default:
		return false
	}
	return true
}

func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) {
	rec := &RecordedRequest{Endpoint: "embeddings", Authorization: r.Header.Get("Authorization")}
	body, err := readBody(r)
	if err != nil {
		rec.Status = 400
		s.record(rec)
		writeError(w, 400, err.Error())
		return
	}
	if json.Valid(body) {
		rec.Body = body
	}
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
	}
	var inputs []string
	if err := json.Unmarshal(body, &req); err == nil {
		var one string
		if json.Unmarshal(req.Input, &one) == nil {
			inputs = []string{one}
		} else if json.Unmarshal(req.Input, &inputs) != nil {
			inputs = nil
		}
	}
	if len(inputs) == 0 {
		rec.Status = 400
		s.record(rec)
		writeError(w, 400, "the body must be an embeddings request with input (a string or a list of strings)")
		return
	}
	rec.Model, rec.Input = req.Model, inputs
	i, _, _ := s.pick("embeddings", func(rule *Rule) (bool, *expansion, []int) {
		if c := rule.Match.InputContains; c != "" && !slices.ContainsFunc(inputs, func(in string) bool { return strings.Contains(in, c) }) {
			return false, nil, nil
		}
		return true, nil, nil
	})
	var reply Reply
	if i >= 0 {
		reply = s.script.Rules[i].Reply
		rec.Rule = s.ruleName(i)
	}
	rec.Status = reply.status()
	s.record(rec)
	if !delay(r, reply.DelayMS) || reply.fault(w) {
		return
	}
	vecs, err := s.embed.Embed(r.Context(), inputs)
	if err != nil {
		writeError(w, 500, errors.SafeMessage(err))
		return
	}
	data := make([]map[string]any, len(vecs))
	for j, v := range vecs {
		var emb any = v
		if req.EncodingFormat == "base64" {
			emb = EncodeBase64(v)
		}
		data[j] = map[string]any{"object": "embedding", "index": j, "embedding": emb}
	}
	writeJSON(w, rec.Status, map[string]any{"object": "list", "data": data, "model": s.embed.Model(), "usage": map[string]int{"prompt_tokens": 0, "total_tokens": 0}})
}

// EncodeBase64 is the encoding_format "base64" form of v (little-endian
// float32s), as OpenAI sends it.
func EncodeBase64(v []float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

// ReadCorpus reads texts for an LSA model: from a directory, every regular
// file (recursively, in path order; at most 8 MiB each) is one text; from
// a JSON Lines file, every line is a JSON string or an object whose
// title, abstract, text and body fields (those present) make one text.
// Invalid UTF-8 is replaced.
func ReadCorpus(path string) ([]string, error) {
	const op errors.Op = "llmtest.ReadCorpus"
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("corpus: "+err.Error()))
	}
	var out []string
	if fi.IsDir() {
		var files []string
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Msg("corpus: "+err.Error()))
		}
		slices.Sort(files)
		for _, p := range files {
			f, err := os.Open(p)
			if err != nil {
				return nil, errors.E(op, errors.Invalid, errors.Msg("corpus: "+err.Error()))
			}
			b, err := io.ReadAll(io.LimitReader(f, 8<<20))
			f.Close()
			if err != nil {
				return nil, errors.E(op, errors.Invalid, errors.Msg("corpus: "+err.Error()))
			}
			out = append(out, strings.ToValidUTF8(string(b), "\uFFFD"))
		}
		return out, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("corpus: "+err.Error()))
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var s string
		if json.Unmarshal(b, &s) == nil {
			out = append(out, strings.ToValidUTF8(s, "\uFFFD"))
			continue
		}
		var o struct{ Title, Abstract, Text, Body string }
		if err := json.Unmarshal(b, &o); err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("corpus %s line %d: not a JSON string or object", filepath.Base(path), line)))
		}
		var parts []string
		for _, p := range []string{o.Title, o.Abstract, o.Text, o.Body} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		out = append(out, strings.ToValidUTF8(strings.Join(parts, "\n"), "\uFFFD"))
	}
	if err := sc.Err(); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("corpus %s line %d: %v", filepath.Base(path), line+1, err)))
	}
	return out, nil
}
