package llm_test

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/llm/llmtest"
	"github.com/google/go-cmp/cmp"
)

func TestMain(m *testing.M) { os.Exit(llmtest.Main(m)) }

const testKey = "sk-test-Zq9cR2vW8kLmN4"

// start writes script into a temporary file and starts llm-script on it.
func start(t *testing.T, script string, args ...string) (string, func() []llmtest.RecordedRequest) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "script.yaml")
	if err := os.WriteFile(p, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return llmtest.Start(t, p, args...)
}

func newClient(t *testing.T, base string, timeout int) *llm.Client {
	t.Helper()
	t.Setenv("GENESIS_LLM_API_KEY", testKey)
	c, err := llm.New(llm.Config{ChatURL: base, ChatModel: "scripted", EmbedURL: base, EmbedModel: "local", TimeoutSeconds: timeout})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const chatScript = `
rules:
  - name: search first
    match: {user_contains: band gap, tools: true, tool_results: false}
    reply:
      tool_calls: [{name: search, arguments: {query: band gap of CsPbI3, limit: 5}}]
  - name: answer with citation
    match: {tool_results: true, prompt_regexp: '\[(pas_[A-Za-z0-9_]+)\]'}
    reply: {content: "The band gap of CsPbI3 is 1.73 eV [$1]."}
  - name: json
    match: {json: true}
    reply: {content: '{"hypotheses": []}'}
  - name: control characters
    match: {user_contains: escape}
    reply: {content: "red \u001b[31mtext\u001b[0m\r\nnext\tline \u202e"}
default: {content: "I do not know."}
`

func TestChatWithTools(t *testing.T) {
	base, requests := start(t, chatScript)
	ch := newClient(t, base, 0).Chatter()
	ctx := context.Background()
	tools := []llm.Tool{{Name: "search", Description: "Search passages.", Parameters: json.RawMessage(`{"type":"object","properties":{"query":{"type":"string"},"limit":{"type":"integer"}},"required":["query"]}`)}}
	msgs := []llm.Message{
		{Role: llm.RoleSystem, Content: "Cite passages as [pas_…]."},
		{Role: llm.RoleUser, Content: "What is the band gap of CsPbI3?"},
	}
	r, err := ch.Chat(ctx, llm.ChatRequest{Messages: msgs, Tools: tools, Temperature: 0.2, MaxTokens: 300})
	if err != nil {
		t.Fatal(err)
	}
	if r.FinishReason != "tool_calls" || len(r.Message.ToolCalls) != 1 || r.Message.ToolCalls[0].Name != "search" || r.Message.ToolCalls[0].ID == "" {
		t.Fatalf("first answer = %+v, want one search call", r)
	}
	var args struct {
		Query string `json:"query"`
		Limit int    `json:"limit"`
	}
	if err := json.Unmarshal([]byte(r.Message.ToolCalls[0].Arguments), &args); err != nil || args.Query != "band gap of CsPbI3" || args.Limit != 5 {
		t.Fatalf("arguments %q: %+v %v", r.Message.ToolCalls[0].Arguments, args, err)
	}
	msgs = append(msgs, r.Message, llm.Message{Role: llm.RoleTool, ToolCallID: r.Message.ToolCalls[0].ID, Content: "[pas_7xK2] CsPbI3 films show a band gap of 1.73 eV."})
	r2, err := ch.Chat(ctx, llm.ChatRequest{Messages: msgs, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Message.Content != "The band gap of CsPbI3 is 1.73 eV [pas_7xK2]." || r2.FinishReason != "stop" || r2.Model != "scripted" || r2.PromptTokens == 0 {
		t.Fatalf("second answer = %+v", r2)
	}
	r3, err := ch.Chat(ctx, llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hypotheses please"}}, JSON: true})
	if err != nil || r3.Message.Content != `{"hypotheses": []}` {
		t.Fatalf("JSON answer = %+v, %v", r3, err)
	}

	reqs := requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests logged, want 3", len(reqs))
	}
	for _, q := range reqs {
		if q.Endpoint != "chat" || q.Authorization != "Bearer "+testKey || q.Model != "scripted" {
			t.Errorf("request %d: endpoint %q authorization %q model %q", q.Seq, q.Endpoint, q.Authorization, q.Model)
		}
	}
	if got := []string{reqs[0].Rule, reqs[1].Rule, reqs[2].Rule}; !slices.Equal(got, []string{"search first", "answer with citation", "json"}) {
		t.Errorf("rules %v", got)
	}
	// What the model was sent: roles, the assistant's call and its answer.
	var roles []string
	for _, m := range reqs[1].Messages {
		roles = append(roles, m.Role)
	}
	if !slices.Equal(roles, []string{"system", "user", "assistant", "tool"}) || reqs[1].Messages[2].ToolCalls[0].Name != "search" || reqs[1].Messages[3].ToolCallID != r.Message.ToolCalls[0].ID {
		t.Errorf("second request's messages = %+v", reqs[1].Messages)
	}
	var wire struct {
		Temperature    *float64 `json:"temperature"`
		MaxTokens      int      `json:"max_tokens"`
		ResponseFormat *struct {
			Type string `json:"type"`
		} `json:"response_format"`
		Tools []struct {
			Type     string `json:"type"`
			Function struct {
				Name       string          `json:"name"`
				Parameters json.RawMessage `json:"parameters"`
			} `json:"function"`
		} `json:"tools"`
	}
	if err := json.Unmarshal(reqs[0].Body, &wire); err != nil {
		t.Fatal(err)
	}
	if wire.Temperature == nil || *wire.Temperature != 0.2 || wire.MaxTokens != 300 || wire.ResponseFormat != nil ||
		len(wire.Tools) != 1 || wire.Tools[0].Type != "function" || wire.Tools[0].Function.Name != "search" || !strings.Contains(string(wire.Tools[0].Function.Parameters), `"required":["query"]`) {
		t.Errorf("first request body %s", reqs[0].Body)
	}
	if err := json.Unmarshal(reqs[2].Body, &wire); err != nil || wire.ResponseFormat == nil || wire.ResponseFormat.Type != "json_object" || *wire.Temperature != 0 {
		t.Errorf("JSON request body %s", reqs[2].Body)
	}
}

func TestChatSanitisesText(t *testing.T) {
	base, _ := start(t, chatScript)
	r, err := newClient(t, base, 0).Chatter().Chat(context.Background(), llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: "escape"}}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "red \uFFFD[31mtext\uFFFD[0m\nnext\tline \uFFFD"; r.Message.Content != want {
		t.Fatalf("content %q, want %q", r.Message.Content, want)
	}
}

// TestEmbedBatches: 150 texts go in batches of 64, 64 and 22 and come back
// in order — the same vectors as the server's embedder computed here.
func TestEmbedBatches(t *testing.T) {
	base, requests := start(t, "default: {content: x}\n")
	emb := newClient(t, base, 0).Embedder()
	if emb.Model() != "local" {
		t.Errorf("Model() = %q", emb.Model())
	}
	var texts []string
	for i := range 150 {
		texts = append(texts, strings.Repeat("perovskite ", i%7+1)+"sample "+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	got, err := emb.Embed(context.Background(), texts)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := llm.NewHashEmbedder(0).Embed(context.Background(), texts)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("vectors differ from the reference embedder (-want +got):\n%s", diff)
	}
	var sizes []int
	for _, q := range requests() {
		sizes = append(sizes, len(q.Input))
	}
	if !slices.Equal(sizes, []int{64, 64, 22}) {
		t.Errorf("batch sizes %v, want [64 64 22]", sizes)
	}
	if v, err := emb.Embed(context.Background(), nil); err != nil || len(v) != 0 {
		t.Errorf("Embed(nil) = %v, %v", v, err)
	}
}

func base64Vec(v ...float32) string {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return base64.StdEncoding.EncodeToString(b)
}

func TestEmbedByIndexAndBase64(t *testing.T) {
	script := `
rules:
  - endpoint: embeddings
    match: {input_contains: reversed}
    reply: {body: '{"data":[{"index":1,"embedding":"` + base64Vec(0, 1) + `"},{"index":0,"embedding":[1,0]}]}'}
`
	base, _ := start(t, script)
	got, err := newClient(t, base, 0).Embedder().Embed(context.Background(), []string{"reversed a", "b"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]float32{{1, 0}, {0, 1}}, got); diff != "" {
		t.Fatal(diff)
	}
}

// faultScript answers each keyword with one kind of failure.
var faultScript = `
rules:
  - {name: retry-500, match: {user_contains: retry-500}, times: 1, reply: {status: 500}}
  - {name: ok-after-500, match: {user_contains: retry-500}, reply: {content: recovered}}
  - {name: 429, match: {user_contains: rate-limited}, times: 1, reply: {status: 429, headers: {Retry-After: "1"}}}
  - {name: ok-after-429, match: {user_contains: rate-limited}, reply: {content: recovered}}
  - {name: 429-long, match: {user_contains: go-away}, reply: {status: 429, headers: {Retry-After: "120"}}}
  - {name: 401, match: {user_contains: unauthorized}, reply: {status: 401, body: '{"error":{"message":"Incorrect API key provided: ` + testKey + `"}}'}}
  - {name: 404, match: {user_contains: no-model}, reply: {status: 404, body: '{"error":"model not found"}'}}
  - {name: down, match: {user_contains: down}, reply: {status: 503}}
  - {name: garbage, match: {user_contains: garbage}, reply: {body: 'this is not JSON'}}
  - {name: truncated, match: {user_contains: truncated}, reply: {body: '{"choices":[{"message":{"content":"hal'}}
  - {name: no-choices, match: {user_contains: no-choices}, reply: {body: '{"choices":[]}'}}
  - {name: bad-role, match: {user_contains: bad-role}, reply: {body: '{"choices":[{"message":{"role":"system","content":"x"}}]}'}}
  - {name: oversized, match: {user_contains: oversized}, reply: {body_bytes: 17000000}}
  - {name: slow, match: {user_contains: slow}, reply: {delay_ms: 600000, content: late}}
  - {name: dim, endpoint: embeddings, match: {input_contains: wrong-dimension}, reply: {body: '{"data":[{"index":0,"embedding":[1,2,3]},{"index":1,"embedding":[1,2]}]}'}}
  - {name: nan, endpoint: embeddings, match: {input_contains: nan-vector}, reply: {body: '{"data":[{"index":0,"embedding":"` + base64Vec(1, float32(math.NaN())) + `"}]}'}}
  - {name: count, endpoint: embeddings, match: {input_contains: wrong-count}, reply: {body: '{"data":[{"index":0,"embedding":[1,2]}]}'}}
  - {name: dup, endpoint: embeddings, match: {input_contains: duplicate-index}, reply: {body: '{"data":[{"index":0,"embedding":[1,2]},{"index":0,"embedding":[1,2]}]}'}}
  - {name: huge, endpoint: embeddings, match: {input_contains: huge-dimension}, reply: {body: '{"data":[{"index":0,"embedding":"` + base64Vec(make([]float32, 9000)...) + `"}]}'}}
  - {name: embed-500, endpoint: embeddings, match: {input_contains: embed-500}, times: 1, reply: {status: 502}}
default: {content: fine}
`

func TestErrors(t *testing.T) {
	base, requests := start(t, faultScript)
	c := newClient(t, base, 2)
	ch, emb := c.Chatter(), c.Embedder()
	chat := func(ctx context.Context, word string) (*llm.ChatResponse, error) {
		return ch.Chat(ctx, llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: word}}})
	}
	count := func(rule string) int {
		n := 0
		for _, q := range requests() {
			if q.Rule == rule {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		word     string
		kind     errors.Kind
		contains string
		attempts map[string]int // rule → requests it answered
	}{
		{"retry-500", 0, "recovered", map[string]int{"retry-500": 1, "ok-after-500": 1}},
		{"rate-limited", 0, "recovered", map[string]int{"429": 1, "ok-after-429": 1}},
		{"go-away", errors.Unavailable, "retry after 2m0s", map[string]int{"429-long": 1}},
		{"unauthorized", errors.Invalid, "401 Unauthorized: Incorrect API key provided: [redacted]", map[string]int{"401": 1}},
		{"no-model", errors.Invalid, "404 Not Found: model not found", map[string]int{"404": 1}},
		{"down", errors.Unavailable, "503 Service Unavailable", map[string]int{"down": 1 + llm.MaxRetries}},
		{"garbage", errors.Invalid, "not a JSON object", map[string]int{"garbage": 1}},
		{"truncated", errors.Invalid, "malformed response", map[string]int{"truncated": 1}},
		{"no-choices", errors.Invalid, "no choices", map[string]int{"no-choices": 1}},
		{"bad-role", errors.Invalid, "not assistant", map[string]int{"bad-role": 1}},
		{"oversized", errors.Invalid, "more than 16 MiB", map[string]int{"oversized": 1}},
		{"slow", errors.Unavailable, "did not answer within 2s", map[string]int{"slow": 1}},
	} {
		t.Run(tc.word, func(t *testing.T) {
			r, err := chat(context.Background(), tc.word)
			if tc.kind == 0 {
				if err != nil || r.Message.Content != tc.contains {
					t.Fatalf("Chat = %+v, %v; want %q", r, err, tc.contains)
				}
			} else {
				checkErr(t, err, tc.kind, tc.contains, base+"/chat/completions")
			}
			for rule, n := range tc.attempts {
				if got := count(rule); got != n {
					t.Errorf("rule %s answered %d requests, want %d", rule, got, n)
				}
			}
		})
	}
	for _, tc := range []struct {
		input    string
		n        int
		contains string
	}{
		{"wrong-dimension", 2, "dimension 2, the others 3"},
		{"nan-vector", 1, "not a finite number"},
		{"wrong-count", 2, "1 embeddings for 2 inputs"},
		{"duplicate-index", 2, "two embeddings have index 0"},
		{"huge-dimension", 1, "exceeds 8192"},
	} {
		t.Run(tc.input, func(t *testing.T) {
			_, err := emb.Embed(context.Background(), []string{tc.input, "other"}[:tc.n])
			checkErr(t, err, errors.Invalid, tc.contains, base+"/embeddings")
		})
	}
	t.Run("embed-retry", func(t *testing.T) {
		v, err := emb.Embed(context.Background(), []string{"embed-500"})
		if err != nil || len(v) != 1 || count("embed-500") != 1 {
			t.Fatalf("Embed after a 502 = %v, %v (%d faults)", v, err, count("embed-500"))
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		before := count("slow")
		go func() {
			// Cancel once the server has the request.
			for count("slow") == before {
				time.Sleep(20 * time.Millisecond)
			}
			cancel()
		}()
		c := newClient(t, base, 0) // no 2 s timeout: only the cancellation ends it
		_, err := c.Chatter().Chat(ctx, llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: "slow"}}})
		if !errors.Is(errors.Canceled, err) {
			t.Fatalf("err = %v (kind %v), want canceled", err, errors.KindOf(err))
		}
	})
}

func checkErr(t *testing.T, err error, kind errors.Kind, contains, endpoint string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v", kind)
	}
	if errors.KindOf(err) != kind {
		t.Errorf("kind %v, want %v: %v", errors.KindOf(err), kind, err)
	}
	msg := errors.SafeMessage(err)
	if !strings.Contains(msg, contains) || !strings.Contains(msg, endpoint) {
		t.Errorf("message %q does not name %q and %q", msg, contains, endpoint)
	}
	if strings.Contains(err.Error(), testKey) || strings.Contains(msg, testKey) {
		t.Errorf("the error shows the key: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	// A port nothing listens on: connection refused, retried, then
	// Unavailable naming the endpoint without its credentials.
	t.Setenv("GENESIS_LLM_API_KEY", testKey)
	c, err := llm.New(llm.Config{ChatURL: "http://127.0.0.1:1/v1", ChatModel: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Embedder() != nil {
		t.Error("Embedder() is not nil without embed_url")
	}
	_, err = c.Chatter().Chat(context.Background(), llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
	checkErr(t, err, errors.Unavailable, "cannot reach it", "http://127.0.0.1:1/v1/chat/completions")
}

func TestAPIKey(t *testing.T) {
	base, requests := start(t, "default: {content: ok}\n")
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	os.WriteFile(keyFile, []byte("  sk-from-file\n"), 0o600)
	ask := func(cfg llm.Config) string {
		t.Helper()
		c, err := llm.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Chatter().Chat(context.Background(), llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}); err != nil {
			t.Fatal(err)
		}
		reqs := requests()
		return reqs[len(reqs)-1].Authorization
	}
	cfg := llm.Config{ChatURL: base, ChatModel: "m", APIKeyFile: keyFile}
	t.Setenv("GENESIS_LLM_API_KEY", "")
	if got := ask(cfg); got != "Bearer sk-from-file" {
		t.Errorf("from file: %q", got)
	}
	t.Setenv("GENESIS_LLM_API_KEY", "sk-from-env")
	if got := ask(cfg); got != "Bearer sk-from-env" {
		t.Errorf("from env: %q", got)
	}
	t.Setenv("GENESIS_LLM_API_KEY", "")
	if got := ask(llm.Config{ChatURL: base, ChatModel: "m"}); got != "" {
		t.Errorf("no key: %q", got)
	}
	os.WriteFile(keyFile, []byte("sk-bad\x1bkey"), 0o600)
	if _, err := llm.New(cfg); !errors.Is(errors.Invalid, err) || strings.Contains(err.Error(), "sk-bad") {
		t.Errorf("a key with a control character: %v", err)
	}
	if _, err := llm.New(llm.Config{ChatURL: base, ChatModel: "m", APIKeyFile: filepath.Join(dir, "missing")}); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "llm.api_key_file" {
		t.Errorf("a missing key file: %v", err)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg   llm.Config
		field string
	}{
		{llm.Config{}, ""},
		{llm.Config{ChatURL: "http://127.0.0.1:8000/v1", ChatModel: "m"}, ""},
		{llm.Config{EmbedURL: "https://api.example.org/v1", EmbedModel: "e", TimeoutSeconds: 30}, ""},
		{llm.Config{ChatURL: "ftp://x/v1", ChatModel: "m"}, "llm.chat_url"},
		{llm.Config{ChatURL: "127.0.0.1:8000", ChatModel: "m"}, "llm.chat_url"},
		{llm.Config{ChatURL: "http://user:secret@h/v1", ChatModel: "m"}, "llm.chat_url"},
		{llm.Config{ChatURL: "http://h/v1?key=secret", ChatModel: "m"}, "llm.chat_url"},
		{llm.Config{ChatURL: "http://h/v1"}, "llm.chat_model"},
		{llm.Config{EmbedURL: "http://h/v1", EmbedModel: " "}, "llm.embed_model"},
		{llm.Config{EmbedURL: "http://h/v1", EmbedModel: "a\nb"}, "llm.embed_model"},
		{llm.Config{TimeoutSeconds: -1}, "llm.timeout_seconds"},
	} {
		err := tc.cfg.Validate()
		if errors.FieldOf(err) != tc.field || (tc.field != "") != (err != nil) {
			t.Errorf("%+v: %v, want field %q", tc.cfg, err, tc.field)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("the error repeats the URL's secret: %v", err)
		}
	}
}

// TestRetryPolicy checks the client against a reference model of the
// policy on random sequences of answers: attempts go on while the answer
// is a 429 or 5xx, at most 1+MaxRetries of them; the first 200 is the
// result, the first other 4xx an Invalid error, and retries used up an
// Unavailable one.
func TestRetryPolicy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	statuses := []int{200, 500, 502, 503, 429, 400, 401, 404}
	type tcase struct {
		word string
		seq  []int
	}
	var cases []tcase
	var script strings.Builder
	script.WriteString("rules:\n")
	for i := range 40 {
		tc := tcase{word: fmt.Sprintf("case-%d", i)}
		for range 1 + rng.IntN(6) {
			tc.seq = append(tc.seq, statuses[rng.IntN(len(statuses))])
		}
		for j, s := range tc.seq {
			fmt.Fprintf(&script, "  - {name: %s-%d, match: {user_contains: %s}, times: 1, reply: {status: %d, content: answer-%d}}\n", tc.word, j, tc.word+"!", s, j)
		}
		cases = append(cases, tc)
	}
	script.WriteString("default: {status: 503}\n")
	base, requests := start(t, script.String())
	c := newClient(t, base, 0)
	llm.SetBackoff(c, func(int) time.Duration { return time.Millisecond })
	for _, tc := range cases {
		r, err := c.Chatter().Chat(context.Background(), llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: tc.word + "!"}}})
		// The reference model.
		attempts, wantKind, wantAnswer := 0, errors.Kind(0), -1
		for a := 0; a <= llm.MaxRetries; a++ {
			s := 503 // the default once the sequence is used up
			if a < len(tc.seq) {
				s = tc.seq[a]
			}
			attempts++
			if s == 200 {
				wantAnswer = a
				break
			}
			if s != 429 && s < 500 {
				wantKind = errors.Invalid
				break
			}
			wantKind = errors.Unavailable
		}
		if wantAnswer >= 0 {
			wantKind = 0
			if err != nil || r.Message.Content != fmt.Sprintf("answer-%d", wantAnswer) {
				t.Errorf("%s %v: %+v, %v; want answer-%d", tc.word, tc.seq, r, err, wantAnswer)
			}
		}
		if errors.KindOf(err) != wantKind && !(wantKind == 0 && err == nil) {
			t.Errorf("%s %v: err %v, want kind %v", tc.word, tc.seq, err, wantKind)
		}
		got := 0
		for _, q := range requests() {
			if strings.HasPrefix(q.Rule, tc.word+"-") || (q.Rule == "default" && q.Messages[0].Content == tc.word+"!") {
				got++
			}
		}
		if got != attempts {
			t.Errorf("%s %v: %d attempts, want %d", tc.word, tc.seq, got, attempts)
		}
	}
}

func TestChatRequestChecks(t *testing.T) {
	c, err := llm.New(llm.Config{ChatURL: "http://127.0.0.1:1/v1", ChatModel: "m"})
	if err != nil {
		t.Fatal(err)
	}
	user := []llm.Message{{Role: llm.RoleUser, Content: "hi"}}
	for _, tc := range []struct {
		req  llm.ChatRequest
		want string
	}{
		{llm.ChatRequest{}, "at least one message"},
		{llm.ChatRequest{Messages: []llm.Message{{Role: "wizard"}}}, `unknown role "wizard"`},
		{llm.ChatRequest{Messages: user, MaxTokens: -1}, "max_tokens"},
		{llm.ChatRequest{Messages: user, Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`[1]`)}}}, "not a JSON Schema object"},
		{llm.ChatRequest{Messages: user, Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`null`)}}}, "not a JSON Schema object"},
		{llm.ChatRequest{Messages: user, Tools: []llm.Tool{{}}}, "a tool has no name"},
	} {
		// Refused before any request: the port is closed, so a request
		// would be Unavailable instead.
		_, err := c.Chatter().Chat(context.Background(), tc.req)
		if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), tc.want) {
			t.Errorf("%+v: %v, want Invalid %q", tc.req, err, tc.want)
		}
	}
}
