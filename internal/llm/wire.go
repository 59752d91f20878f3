package llm

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/text"
)

// The OpenAI-compatible wire format, shared by the client and the scripted
// server (internal/llm/llmtest). Decoding is strict enough: the document
// must be one JSON object with no trailing data and the known fields must
// have their types; unknown fields are ignored, because every endpoint adds
// its own (system_fingerprint, logprobs, refusal …).

// Limits on what an endpoint may send back.
const (
	// MaxResponseBytes bounds a response body.
	MaxResponseBytes = 16 << 20
	// MaxDimension bounds an embedding's length.
	MaxDimension = 8192
	// MaxBatch is the most inputs sent in one embeddings request.
	MaxBatch = 64
	// MaxToolCalls bounds the tool calls of one answer.
	MaxToolCalls = 128
)

// WireChatRequest is the body of POST /chat/completions.
type WireChatRequest struct {
	Model          string          `json:"model"`
	Messages       []WireMessage   `json:"messages"`
	Tools          []WireTool      `json:"tools,omitempty"`
	Temperature    *float64        `json:"temperature,omitempty"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	ResponseFormat *ResponseFormat `json:"response_format,omitempty"`
}

// ResponseFormat asks for {"type":"json_object"}.
type ResponseFormat struct {
	Type string `json:"type"`
}

// WireMessage is a message as the API spells it. Content is a string, null,
// or (from some servers) a list of {"type":"text","text":…} parts.
type WireMessage struct {
	Role       string          `json:"role"`
	Content    json.RawMessage `json:"content,omitempty"`
	ToolCalls  []WireToolCall  `json:"tool_calls,omitempty"`
	ToolCallID string          `json:"tool_call_id,omitempty"`
}

// WireTool is {"type":"function","function":{…}}.
type WireTool struct {
	Type     string       `json:"type"`
	Function WireFunction `json:"function"`
}

// WireFunction describes a tool.
type WireFunction struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
}

// WireToolCall is a call in an assistant message. Arguments is a JSON
// string holding JSON text (OpenAI) or, from some servers, a JSON object.
type WireToolCall struct {
	ID       string `json:"id,omitempty"`
	Type     string `json:"type,omitempty"`
	Function struct {
		Name      string          `json:"name"`
		Arguments json.RawMessage `json:"arguments"`
	} `json:"function"`
}

// WireChatResponse is the body a chat endpoint answers.
type WireChatResponse struct {
	Model   string `json:"model"`
	Choices []struct {
		Index        int         `json:"index"`
		Message      WireMessage `json:"message"`
		FinishReason *string     `json:"finish_reason"`
	} `json:"choices"`
	Usage *struct {
		PromptTokens     int `json:"prompt_tokens"`
		CompletionTokens int `json:"completion_tokens"`
	} `json:"usage"`
	Error *WireError `json:"error"`
}

// WireError is the {"error":{…}} body of a failed request.
type WireError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
}

// WireEmbedRequest is the body of POST /embeddings.
type WireEmbedRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	EncodingFormat string   `json:"encoding_format,omitempty"`
}

// WireEmbedResponse is the body an embeddings endpoint answers. Each
// embedding is a list of numbers or (encoding_format base64) a base64
// string of little-endian float32s.
type WireEmbedResponse struct {
	Model string `json:"model"`
	Data  []struct {
		Index     *int            `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Error *WireError `json:"error"`
}

// decodeStrict decodes one JSON value of b into v, refusing trailing data.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("trailing data after the JSON object")
	}
	if _, err := d.Token(); err == nil {
		return fmt.Errorf("trailing data after the JSON object")
	}
	return nil
}

func isObject(b []byte) bool {
	b = bytes.TrimLeft(b, " \t\r\n")
	return len(b) > 0 && b[0] == '{'
}

// DecodeChatResponse parses a chat endpoint's answer. The model's text,
// tool names, IDs and arguments come back sanitised: valid UTF-8 with no
// control characters but newline and tab. Errors describe what is wrong
// (never echoing the body).
func DecodeChatResponse(b []byte) (*ChatResponse, error) {
	if !isObject(b) {
		return nil, fmt.Errorf("the response is not a JSON object")
	}
	var w WireChatResponse
	if err := decodeStrict(b, &w); err != nil {
		return nil, fmt.Errorf("malformed response: %s", jsonProblem(err))
	}
	if w.Error != nil && len(w.Choices) == 0 {
		return nil, fmt.Errorf("the endpoint reported an error: %s", Sanitize(truncate(w.Error.Message, 300)))
	}
	if len(w.Choices) == 0 {
		return nil, fmt.Errorf("the response has no choices")
	}
	c := w.Choices[0]
	if c.Message.Role != "" && c.Message.Role != RoleAssistant {
		return nil, fmt.Errorf("the answer's role is %q, not assistant", SanitizeLine(truncate(c.Message.Role, 40)))
	}
	content, err := decodeContent(c.Message.Content)
	if err != nil {
		return nil, err
	}
	if len(c.Message.ToolCalls) > MaxToolCalls {
		return nil, fmt.Errorf("the answer asks for %d tool calls (at most %d)", len(c.Message.ToolCalls), MaxToolCalls)
	}
	r := &ChatResponse{
		Message: Message{Role: RoleAssistant, Content: Sanitize(content)},
		Model:   SanitizeLine(truncate(w.Model, 200)),
	}
	for i, tc := range c.Message.ToolCalls {
		if tc.Type != "" && tc.Type != "function" {
			return nil, fmt.Errorf("tool call %d has type %q, not function", i, SanitizeLine(truncate(tc.Type, 40)))
		}
		name := SanitizeLine(tc.Function.Name)
		if name == "" {
			return nil, fmt.Errorf("tool call %d names no function", i)
		}
		if len(name) > 256 {
			return nil, fmt.Errorf("tool call %d names a function longer than 256 bytes", i)
		}
		args, err := decodeArguments(tc.Function.Arguments)
		if err != nil {
			return nil, fmt.Errorf("tool call %d: %v", i, err)
		}
		id := SanitizeLine(truncate(tc.ID, 256))
		if id == "" {
			id = fmt.Sprintf("call_%d", i)
		}
		r.Message.ToolCalls = append(r.Message.ToolCalls, ToolCall{ID: id, Name: name, Arguments: args})
	}
	if c.FinishReason != nil {
		r.FinishReason = SanitizeLine(truncate(*c.FinishReason, 40))
	}
	if w.Usage != nil {
		if w.Usage.PromptTokens < 0 || w.Usage.CompletionTokens < 0 {
			return nil, fmt.Errorf("the usage counts are negative")
		}
		r.PromptTokens, r.OutputTokens = w.Usage.PromptTokens, w.Usage.CompletionTokens
	}
	return r, nil
}

// decodeContent reads a message's content: a string, null, or a list of
// text parts (other part types are refused: a chat answer is text).
func decodeContent(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("malformed message content")
		}
		return s, nil
	}
	if raw[0] == '[' {
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &parts); err != nil {
			return "", fmt.Errorf("malformed message content parts")
		}
		var b strings.Builder
		for _, p := range parts {
			if p.Type != "text" {
				return "", fmt.Errorf("message content part of type %q is not text", SanitizeLine(truncate(p.Type, 40)))
			}
			b.WriteString(p.Text)
		}
		return b.String(), nil
	}
	return "", fmt.Errorf("message content is neither a string nor text parts")
}

// decodeArguments returns a tool call's arguments as JSON text: the string
// as the model wrote it, or a JSON object re-encoded compactly.
func decodeArguments(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", nil
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("malformed arguments")
		}
		return Sanitize(s), nil
	case raw[0] == '{':
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return "", fmt.Errorf("malformed arguments")
		}
		return Sanitize(buf.String()), nil
	}
	return "", fmt.Errorf("arguments are neither a string nor an object")
}

// DecodeEmbedResponse parses an embeddings endpoint's answer to n inputs:
// exactly n embeddings, placed by their index, all of one dimension (at
// most MaxDimension) and every value finite.
func DecodeEmbedResponse(b []byte, n int) ([][]float32, error) {
	if !isObject(b) {
		return nil, fmt.Errorf("the response is not a JSON object")
	}
	var w WireEmbedResponse
	if err := decodeStrict(b, &w); err != nil {
		return nil, fmt.Errorf("malformed response: %s", jsonProblem(err))
	}
	if w.Error != nil && len(w.Data) == 0 {
		return nil, fmt.Errorf("the endpoint reported an error: %s", Sanitize(truncate(w.Error.Message, 300)))
	}
	if len(w.Data) != n {
		return nil, fmt.Errorf("%d embeddings for %d inputs", len(w.Data), n)
	}
	out := make([][]float32, n)
	dim := -1
	for i, d := range w.Data {
		idx := i
		if d.Index != nil {
			idx = *d.Index
		}
		if idx < 0 || idx >= n {
			return nil, fmt.Errorf("embedding %d has index %d, outside 0..%d", i, idx, n-1)
		}
		if out[idx] != nil {
			return nil, fmt.Errorf("two embeddings have index %d", idx)
		}
		v, err := decodeVector(d.Embedding)
		if err != nil {
			return nil, fmt.Errorf("embedding %d: %v", idx, err)
		}
		if dim < 0 {
			dim = len(v)
		}
		if len(v) != dim {
			return nil, fmt.Errorf("embedding %d has dimension %d, the others %d", idx, len(v), dim)
		}
		out[idx] = v
	}
	if n > 0 && dim == 0 {
		return nil, fmt.Errorf("the embeddings are empty")
	}
	return out, nil
}

func decodeVector(raw json.RawMessage) ([]float32, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, fmt.Errorf("missing")
	}
	var v []float32
	switch raw[0] {
	case '[':
		var fs []float64
		if err := json.Unmarshal(raw, &fs); err != nil {
			return nil, fmt.Errorf("not a list of numbers")
		}
		if len(fs) > MaxDimension {
			return nil, fmt.Errorf("dimension %d exceeds %d", len(fs), MaxDimension)
		}
		v = make([]float32, len(fs))
		for i, f := range fs {
			v[i] = float32(f)
		}
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("malformed base64 string")
		}
		if base64.StdEncoding.DecodedLen(len(s)) > 4*MaxDimension+4 {
			return nil, fmt.Errorf("dimension exceeds %d", MaxDimension)
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b)%4 != 0 {
			return nil, fmt.Errorf("not base64 of float32 values")
		}
		if len(b)/4 > MaxDimension {
			return nil, fmt.Errorf("dimension %d exceeds %d", len(b)/4, MaxDimension)
		}
		v = make([]float32, len(b)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
	default:
		return nil, fmt.Errorf("neither a list of numbers nor a base64 string")
	}
	for i, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("value %d is not a finite number", i)
		}
	}
	return v, nil
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %s has the wrong type (%s)", SanitizeLine(truncate(te.Field, 80)), te.Value)
		}
		return fmt.Sprintf("a value has the wrong type (%s)", te.Value)
	}
	return SanitizeLine(truncate(err.Error(), 120))
}

// Sanitize makes text from a model storable and printable: invalid UTF-8
// and control characters (all but newline and tab; a carriage return is
// dropped) and bidirectional overrides become U+FFFD.
func Sanitize(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	out, _ := text.Sanitize(s, true)
	if strings.IndexByte(out, '\r') >= 0 {
		out = strings.ReplaceAll(out, "\r", "\uFFFD")
	}
	return out
}

// SanitizeLine is Sanitize for one-line text (no newline or tab either).
func SanitizeLine(s string) string {
	out, _ := text.Sanitize(s, false)
	return out
}

// truncate cuts s to at most n bytes at a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Text returns the message's content as text (a string, null, or text
// parts), unsanitised.
func (m WireMessage) Text() (string, error) { return decodeContent(m.Content) }

// Call returns the tool call with its arguments as JSON text.
func (tc WireToolCall) Call() (ToolCall, error) {
	args, err := decodeArguments(tc.Function.Arguments)
	return ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: args}, err
}
