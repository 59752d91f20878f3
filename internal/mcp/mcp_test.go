package mcp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/cli"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/mcp"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/genesis-science/genesis/internal/testenv"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// system is a Genesis server booted through internal/app, as `genesis
// up` boots it, serving on a loopback port.
type system struct {
	URL, Admin string
	App        *app.App
}

func boot(t testing.TB, dsn string) *system { return bootWith(t, dsn, nil) }

// bootWith is boot with a change to the app before it serves.
func bootWith(t testing.TB, dsn string, change func(*app.App)) *system {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config.Default(t.TempDir())
	cfg.Listen.Addr = "127.0.0.1:0"
	if dsn != "" {
		cfg.Store.DSN = dsn
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if change != nil {
		change(a)
	}
	ln, err := net.Listen("tcp", cfg.Listen.Addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	return &system{URL: "http://" + ln.Addr().String(), Admin: secret, App: a}
}

// backends yields the embedded SQLite and, when available, PostgreSQL.
func backends(t testing.TB) map[string]string {
	out := map[string]string{"sqlite": ""}
	if os.Getenv("GENESIS_TEST_POSTGRES") != "" || testenv.Required("postgres") {
		out["postgres"] = storetest.PostgresDSN(t)
	}
	return out
}

// genesis runs the CLI in-process as the holder of token.
func (s *system) genesis(t testing.TB, token string, args ...string) string {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"GENESIS_URL": s.URL, "GENESIS_TOKEN": token, "HOME": t.TempDir()}
	if code := cli.Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb); code != 0 {
		t.Fatalf("genesis %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// principal creates a principal with a clearance and returns its token.
func (s *system) principal(t testing.TB, name, clearance string) string {
	t.Helper()
	ctx := context.Background()
	admin := client.New(s.URL, s.Admin)
	if err := admin.Do(ctx, "POST", "/api/v1/principals", httpapi.CreatePrincipalRequest{Name: name, Nationality: "USA", Clearance: &clearance, Roles: []genesis.Role{genesis.RoleContributor}}, nil); err != nil {
		t.Fatal(err)
	}
	var nt httpapi.CreateTokenResponse
	if err := admin.Do(ctx, "POST", "/api/v1/principals/"+name+"/tokens", httpapi.CreateTokenRequest{Name: "mcp"}, &nt); err != nil {
		t.Fatal(err)
	}
	return nt.Secret
}

// bearer adds a token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// connect opens an MCP client session over streamable HTTP as token's
// principal.
func (s *system) connect(t testing.TB, token string) *sdk.ClientSession {
	t.Helper()
	c := sdk.NewClient(&sdk.Implementation{Name: "mcp-test", Version: "1"}, nil)
	tr := &sdk.StreamableClientTransport{Endpoint: s.URL + "/mcp", MaxRetries: -1,
		HTTPClient: &http.Client{Transport: bearer{token, http.DefaultTransport}}}
	cs, err := c.Connect(context.Background(), tr, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call calls a tool and returns its structured output (or error text).
func call(t *testing.T, cs *sdk.ClientSession, name string, args any) (out map[string]any, errText string) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &sdk.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error %v", name, err)
	}
	if res.IsError {
		var b strings.Builder
		for _, c := range res.Content {
			if tc, ok := c.(*sdk.TextContent); ok {
				b.WriteString(tc.Text)
			}
		}
		return nil, b.String()
	}
	raw, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: structured content %s: %v", name, raw, err)
	}
	return out, ""
}

// world is a booted system with two principals of different clearances
// and datasets of both labels.
type world struct {
	*system
	alice, bob string // tokens: PROPRIETARY//FUSION and OPEN
}

func newWorld(t testing.TB, dsn string) *world {
	sys := boot(t, dsn)
	sys.genesis(t, sys.Admin, "admin", "compartment", "add", "FUSION")
	w := &world{system: sys, alice: sys.principal(t, "alice", "PROPRIETARY//FUSION"), bob: sys.principal(t, "bob", "OPEN")}
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(p, 0o755)
		os.WriteFile(filepath.Join(p, "notes.txt"), []byte(content), 0o644)
		os.WriteFile(filepath.Join(p, "raw.bin"), []byte{0xff, 0x00, 0xfe, 'x', 0x01}, 0o644)
		return p
	}
	sys.genesis(t, w.alice, "dataset", "create", "open-shots", "--label", "OPEN", "--title", "Tokamak shots, public")
	sys.genesis(t, w.alice, "dataset", "put", "open-shots", write("open", "plasma current 1.2 MA; nothing secret here\n"), "--no-local")
	sys.genesis(t, w.alice, "dataset", "create", "secret-shots", "--label", "PROPRIETARY//FUSION", "--title", "Tokamak shots, quokkazebra")
	sys.genesis(t, w.alice, "dataset", "put", "secret-shots", write("secret", "quokkazebra disruption precursor\n"), "--no-local")
	return w
}

func TestToolsAsThePrincipal(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, dsn)
			alice, bob := w.connect(t, w.alice), w.connect(t, w.bob)

			// The tools are listed with input and output schemas.
			tools, err := bob.ListTools(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, tl := range tools.Tools {
				have[tl.Name] = true
				if tl.Description == "" || tl.InputSchema == nil || tl.OutputSchema == nil {
					t.Errorf("tool %s lacks a description or a schema", tl.Name)
				}
			}
			for _, n := range []string{"search_catalog", "get_dataset", "read_file", "lineage", "campaign_status"} {
				if !have[n] {
					t.Errorf("tool %s not listed (have %v)", n, have)
				}
			}

			// Search: each sees only what it may read; the answer's
			// label is the join of what it holds.
			names := func(out map[string]any) []string {
				var ns []string
				for _, h := range out["hits"].([]any) {
					ns = append(ns, h.(map[string]any)["name"].(string))
				}
				return ns
			}
			out, e := call(t, alice, "search_catalog", map[string]any{"text": "tokamak shots"})
			if e != "" || len(names(out)) != 2 || out["label"] != "PROPRIETARY//FUSION" {
				t.Errorf("alice's search: %v %q", out, e)
			}
			out, e = call(t, bob, "search_catalog", map[string]any{"text": "tokamak shots"})
			if e != "" || strings.Join(names(out), ",") != "open-shots" || out["label"] != "OPEN" || out["total"].(float64) != 1 {
				t.Errorf("bob's search: %v %q", out, e)
			}
			out, e = call(t, bob, "search_catalog", map[string]any{"text": "quokkazebra"})
			if e != "" || len(names(out)) != 0 || out["total"].(float64) != 0 {
				t.Errorf("bob's search for the hidden word: %v %q", out, e)
			}

			// get_dataset: the file list of the version.
			out, e = call(t, alice, "get_dataset", map[string]any{"ref": "secret-shots"})
			if e != "" || out["label"] != "PROPRIETARY//FUSION" || out["version"].(float64) != 1 || len(out["files"].([]any)) != 2 {
				t.Errorf("alice's get_dataset: %v %q", out, e)
			}

			// read_file: text as text, bytes as base64, ranges.
			out, e = call(t, bob, "read_file", map[string]any{"ref": "open-shots@1", "path": "notes.txt"})
			if e != "" || out["encoding"] != "text" || out["content"] != "plasma current 1.2 MA; nothing secret here\n" || out["eof"] != true {
				t.Errorf("read_file notes.txt: %v %q", out, e)
			}
			out, e = call(t, bob, "read_file", map[string]any{"ref": "open-shots", "path": "raw.bin", "offset": 1, "limit": 3})
			if e != "" || out["encoding"] != "base64" || out["content"] != base64.StdEncoding.EncodeToString([]byte{0x00, 0xfe, 'x'}) || out["eof"] != false {
				t.Errorf("read_file raw.bin: %v %q", out, e)
			}
			if _, e = call(t, bob, "read_file", map[string]any{"ref": "open-shots", "path": "notes.txt", "limit": mcp.MaxReadBytes + 1}); !strings.Contains(e, "limit must be 1..1048576") {
				t.Errorf("read_file over 1 MiB: %q", e)
			}

			// Hidden = missing: every tool's error for alice's dataset is,
			// for bob, the error for a name that does not exist.
			for _, c := range []struct {
				tool string
				args func(ref string) map[string]any
			}{
				{"get_dataset", func(r string) map[string]any { return map[string]any{"ref": r} }},
				{"get_dataset", func(r string) map[string]any { return map[string]any{"ref": r + "@1"} }},
				{"read_file", func(r string) map[string]any { return map[string]any{"ref": r, "path": "notes.txt"} }},
				{"read_file", func(r string) map[string]any { return map[string]any{"ref": r, "path": "nope.txt"} }},
				{"lineage", func(r string) map[string]any { return map[string]any{"ref": r} }},
				{"lineage", func(r string) map[string]any { return map[string]any{"ref": r + "@1", "direction": "down"} }},
				{"campaign_status", func(r string) map[string]any { return map[string]any{"id": r} }},
			} {
				_, hidden := call(t, bob, c.tool, c.args("secret-shots"))
				_, missing := call(t, bob, c.tool, c.args("no-such-shots"))
				if hidden == "" || hidden != missing {
					t.Errorf("%s %v: hidden %q, missing %q", c.tool, c.args("secret-shots"), hidden, missing)
				}
				if hidden != "" && hidden != "not-exist: not found" {
					t.Errorf("%s: %q, want not-exist: not found", c.tool, hidden)
				}
			}
			if _, e = call(t, alice, "read_file", map[string]any{"ref": "secret-shots", "path": "notes.txt"}); e != "" {
				t.Errorf("alice reads her file: %q", e)
			}

			// Every call is on the audit record, as its principal sees it.
			want := map[string]int{"mcp.search_catalog/allow": 2, "mcp.get_dataset/deny": 4, "mcp.read_file/allow": 2,
				"mcp.read_file/error": 1, "mcp.read_file/deny": 4, "mcp.lineage/deny": 4, "mcp.campaign_status/deny": 2}
			got := w.auditOf(t, w.bob, "mcp.", want)
			if !maps.Equal(got, want) {
				t.Errorf("bob's audit records of MCP calls: %v, want %v", got, want)
			}
		})
	}
}

// auditOf counts the audit entries token's principal sees whose action
// begins with prefix, by "action/decision"; it waits (boundedly) for the
// log to integrate them until the counts are want.
func (s *system) auditOf(t *testing.T, token, prefix string, want map[string]int) map[string]int {
	t.Helper()
	var got map[string]int
	for try := 0; try < 600; try++ {
		var mine httpapi.AuditEntries
		if err := client.New(s.URL, token).Do(context.Background(), "GET", "/api/v1/audit/entries?from=0&limit=1000", nil, &mine); err != nil {
			t.Fatal(err)
		}
		got = map[string]int{}
		for _, e := range mine.Items {
			if strings.HasPrefix(e.Action, prefix) {
				got[e.Action+"/"+string(e.Decision)]++
			}
		}
		if maps.Equal(got, want) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return got
}

// post sends one raw JSON-RPC body to /mcp as the MCP transport does.
func (s *system) post(t *testing.T, token string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", s.URL+"/mcp", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestHostileRequests(t *testing.T) {
	w := newWorld(t, "")
	ping := []byte(`{"jsonrpc":"2.0","id":1,"method":"ping"}`)

	// No token, a wrong one: the API's 401, with nothing more said.
	var first string
	for _, tok := range []string{"", "gnt_wrong", "not-a-token"} {
		status, body := w.post(t, tok, ping)
		if status != 401 || !strings.Contains(body, `"status":401`) {
			t.Errorf("token %q: %d %s", tok, status, body)
		}
		body = stripRequestID(body)
		if first == "" {
			first = body
		} else if body != first {
			t.Errorf("401 bodies differ: %s vs %s", body, first)
		}
	}
	if status, body := w.post(t, w.bob, ping); status != 200 || !strings.Contains(body, `"result"`) {
		t.Errorf("ping: %d %s", status, body)
	}

	// Bodies past 1 MiB are refused before they are decoded.
	big := []byte(`{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"search_catalog","arguments":{"text":"` + strings.Repeat("x", mcp.MaxRequestBody) + `"}}}`)
	if status, _ := w.post(t, w.bob, big); status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d, want 413", status)
	}
	// Batches (older protocol versions) are bounded.
	batch := func(n int) []byte {
		msgs := make([]string, n)
		for i := range msgs {
			msgs[i] = `{"jsonrpc":"2.0","id":` + strconv.Itoa(i+1) + `,"method":"tools/call","params":{"name":"search_catalog","arguments":{"text":"tokamak"}}}`
		}
		return []byte("[" + strings.Join(msgs, ",") + "]")
	}
	if status, body := w.post(t, w.bob, batch(mcp.MaxBatch)); status != 200 || strings.Count(body, `"total":1`) != mcp.MaxBatch {
		t.Errorf("a batch of %d: %d %.300s", mcp.MaxBatch, status, body)
	}
	if status, body := w.post(t, w.bob, batch(mcp.MaxBatch+1)); status != 400 || !strings.Contains(body, "a batch holds at most 16 messages") {
		t.Errorf("a batch of %d: %d %.300s", mcp.MaxBatch+1, status, body)
	}
	// Behind a reverse proxy on the same host, requests reach a loopback
	// address with the public Host: served.
	req, _ := http.NewRequest("POST", w.URL+"/mcp", bytes.NewReader(ping))
	req.Host = "genesis.example.org"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+w.bob)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Errorf("a proxied Host: %v %v", res, err)
	} else {
		res.Body.Close()
	}

	// Malformed JSON-RPC: a parse error, not a crash.
	for _, body := range []string{`{`, `[]`, `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":"x"}`, "\x00\xff", `{"jsonrpc":"2.0","id":4}`} {
		status, resp := w.post(t, w.bob, []byte(body))
		if status < 200 || status >= 500 || !strings.Contains(resp, "error") && status == 200 {
			t.Errorf("body %q: %d %s", body, status, resp)
		}
	}

	cs := w.connect(t, w.bob)
	ctx := context.Background()
	// An unknown tool is a protocol error.
	if _, err := cs.CallTool(ctx, &sdk.CallToolParams{Name: "drop_tables", Arguments: map[string]any{}}); err == nil || !strings.Contains(err.Error(), "unknown tool") {
		t.Errorf("unknown tool: %v", err)
	}
	// Malformed arguments: an error naming what is wrong, and nothing run.
	for _, c := range []struct {
		tool string
		args any
		want string
	}{
		{"search_catalog", map[string]any{"text": 7}, "text"},
		{"search_catalog", map[string]any{"text": "x", "limit": "ten"}, "limit"},
		{"search_catalog", map[string]any{"text": "x", "sudo": true}, "sudo"},
		{"search_catalog", map[string]any{"text": "x", "limit": 100000}, "limit must be 1..200"},
		{"search_catalog", map[string]any{"text": strings.Repeat("é", 600)}, "text is longer than"},
		{"search_catalog", map[string]any{"text": "a\x00b"}, "control characters"},
		{"get_dataset", map[string]any{}, "ref"},
		{"get_dataset", map[string]any{"ref": "x@-3"}, "bad version"},
		{"read_file", map[string]any{"ref": "open-shots", "path": "notes.txt", "offset": -1}, "offset"},
		{"lineage", map[string]any{"ref": "open-shots", "direction": "sideways"}, "direction must be up or down"},
		{"lineage", map[string]any{"ref": "open-shots", "depth": 1000}, "depth must be 1..100"},
	} {
		_, e := call(t, cs, c.tool, c.args)
		if !strings.Contains(e, c.want) {
			t.Errorf("%s %v: %q, want it to mention %q", c.tool, c.args, e, c.want)
		}
	}
	// Every request is authenticated: a token revoked mid-session stops
	// at once.
	var nt httpapi.CreateTokenResponse
	if err := client.New(w.URL, w.bob).Do(ctx, "POST", "/api/v1/tokens", httpapi.CreateTokenRequest{Name: "short-lived"}, &nt); err != nil {
		t.Fatal(err)
	}
	short := w.connect(t, nt.Secret)
	if _, e := call(t, short, "search_catalog", map[string]any{"text": "tokamak"}); e != "" {
		t.Fatalf("before revocation: %q", e)
	}
	if err := client.New(w.URL, nt.Secret).Do(ctx, "DELETE", "/api/v1/tokens/"+string(nt.Token.ID), nil, nil); err != nil {
		t.Fatal(err)
	}
	if res, err := short.CallTool(ctx, &sdk.CallToolParams{Name: "search_catalog", Arguments: map[string]any{"text": "tokamak"}}); err == nil {
		t.Errorf("a revoked token's call was answered: %+v", res)
	}

	// The server is still answering.
	if out, e := call(t, cs, "search_catalog", map[string]any{"text": "tokamak"}); e != "" || out["total"].(float64) != 1 {
		t.Errorf("after the hostile calls: %v %q", out, e)
	}
}

func stripRequestID(s string) string {
	var m map[string]any
	if json.Unmarshal([]byte(s), &m) != nil {
		return s
	}
	delete(m, "request_id")
	b, _ := json.Marshal(m)
	return string(b)
}
