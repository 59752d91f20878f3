package mcp_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/mcp"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// FuzzToolArguments sends arbitrary arguments to the tools of a booted
// server as bob, who may not read alice's dataset, and checks what any
// answer must be: a result or a protocol error (never a crash, never an
// internal error), an error text that is one line of known kinds, and no
// word of the hidden dataset anywhere.
func FuzzToolArguments(f *testing.F) {
	seeds, err := os.Open("testdata/tool_args.txt")
	if err != nil {
		f.Fatal(err)
	}
	sc := bufio.NewScanner(seeds)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			tool, args, _ := strings.Cut(line, "\t")
			f.Add(tool, []byte(args))
		}
	}
	seeds.Close()
	w := newWorld(f, "")
	bob := w.connect(f, w.bob)
	f.Fuzz(func(t *testing.T, tool string, args []byte) {
		if !json.Valid(args) {
			return // the transport refuses it before any tool (TestHostileRequests)
		}
		res, err := bob.CallTool(context.Background(), &sdk.CallToolParams{Name: tool, Arguments: json.RawMessage(args)})
		if err != nil {
			if strings.Contains(err.Error(), "connection closed") || strings.Contains(err.Error(), "client is closing") {
				t.Fatalf("%s %s: the session broke: %v", tool, args, err)
			}
			return // a protocol error: unknown tool, arguments not an object
		}
		b, _ := json.Marshal(res)
		if strings.Contains(string(b), "quokkazebra") {
			t.Fatalf("%s %s: the hidden word in %s", tool, args, b)
		}
		if res.IsError {
			text := res.Content[0].(*sdk.TextContent).Text
			if !utf8.ValidString(text) || strings.HasPrefix(text, "internal") {
				t.Fatalf("%s %s: error %q", tool, args, text)
			}
			known := false
			for _, k := range []string{"invalid: ", "not-exist: not found", "validating \"arguments\"", "too-large: ", "conflict: ", "unavailable: ", "permission: ", "json: ", "unmarshaling "} {
				known = known || strings.HasPrefix(text, k)
			}
			if !known {
				t.Fatalf("%s %s: unexpected error text %q", tool, args, text)
			}
		}
	})
}

// FuzzClip checks the bounding of recorded and echoed text: valid UTF-8,
// no control characters, at most the bound, and the identity on clean
// short text.
func FuzzClip(f *testing.F) {
	for _, s := range []string{"", "abc", "é\x00\x1b[31m", "\xff\xfe", strings.Repeat("日本", 300)} {
		f.Add(s, 10)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 4096 {
			return
		}
		got := mcp.Clip(s, n)
		if !utf8.ValidString(got) || len(got) > n {
			t.Fatalf("Clip(%q, %d) = %q", s, n, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
				t.Fatalf("Clip(%q, %d) = %q keeps a control character", s, n, got)
			}
		}
		if mcp.ValidText(s) && !strings.ContainsAny(s, "\t\n\r") && len(s) <= n && got != s {
			t.Fatalf("Clip changed clean text %q to %q", s, got)
		}
	})
}
