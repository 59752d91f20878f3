// Package llm talks to language-model endpoints that speak the OpenAI-
// compatible HTTP API: /v1/embeddings and /v1/chat/completions (OpenAI,
// vLLM, llama.cpp's server, Ollama, LiteLLM, …). Genesis works without
// any model; when one is configured, the literature index embeds passages
// for hybrid search and agents may ask a chat model — whose every claim
// must cite a passage the principal may read, and whose every tool call is
// decided like a user's request (internal/agent).
//
// Everything a model returns is data from outside: bounded in size,
// decoded strictly, sanitised before it is stored or shown, and never a
// source of permissions.
package llm

import (
	"context"
	"encoding/json"
)

// Config says where the endpoints are. Empty URLs mean "not configured".
type Config struct {
	// ChatURL and EmbedURL are base URLs up to and including /v1
	// ("http://127.0.0.1:8000/v1"); the client appends /chat/completions
	// and /embeddings.
	ChatURL    string `yaml:"chat_url" toml:"chat_url"`
	ChatModel  string `yaml:"chat_model" toml:"chat_model"`
	EmbedURL   string `yaml:"embed_url" toml:"embed_url"`
	EmbedModel string `yaml:"embed_model" toml:"embed_model"`
	// APIKeyFile, if set, holds the bearer token (read at start, never
	// logged); the GENESIS_LLM_API_KEY environment variable overrides it.
	APIKeyFile string `yaml:"api_key_file" toml:"api_key_file"`
	// TimeoutSeconds bounds one request (default 120).
	TimeoutSeconds int `yaml:"timeout_seconds" toml:"timeout_seconds"`
}

// Embedder turns texts into vectors.
type Embedder interface {
	// Embed returns one vector per text, in order, all of one dimension.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Model names the embedding model (vectors of different models are
	// never compared).
	Model() string
}

// Chatter completes conversations.
type Chatter interface {
	Chat(ctx context.Context, req ChatRequest) (*ChatResponse, error)
}

// Roles of messages.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
	RoleTool      = "tool"
)

// Message is one turn of a conversation.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
	// ToolCalls are the calls an assistant message asks for.
	ToolCalls []ToolCall `json:"tool_calls,omitempty"`
	// ToolCallID answers a call (role tool).
	ToolCallID string `json:"tool_call_id,omitempty"`
}

// Tool is a function the model may ask to call. Parameters is a JSON
// Schema object.
type Tool struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Parameters  json.RawMessage `json:"parameters"`
}

// ToolCall is a model's request to call a tool; Arguments is JSON text as
// the model wrote it (untrusted: decode strictly).
type ToolCall struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// ChatRequest is one completion request.
type ChatRequest struct {
	Messages    []Message
	Tools       []Tool
	Temperature float64
	MaxTokens   int // 0 = endpoint default
	// JSON asks for a JSON object response (response_format json_object).
	JSON bool
}

// ChatResponse is the model's answer.
type ChatResponse struct {
	Message      Message
	FinishReason string // stop, tool_calls, length, …
	Model        string
	PromptTokens int
	OutputTokens int
}
