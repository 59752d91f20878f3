package mcp_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/genesis-science/genesis/internal/client"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// BenchmarkSearchCatalog compares one catalog search through the MCP
// endpoint (SDK client → /mcp → tool → catalog) with the same search
// through the REST API, on a booted server: the difference is what MCP
// costs per call.
func BenchmarkSearchCatalog(b *testing.B) {
	w := newWorld(b, "")
	ctx := context.Background()
	b.Run("mcp", func(b *testing.B) {
		cs := w.connect(b, w.bob)
		params := &sdk.CallToolParams{Name: "search_catalog", Arguments: map[string]any{"text": "tokamak shots"}}
		b.ResetTimer()
		for b.Loop() {
			res, err := cs.CallTool(ctx, params)
			if err != nil || res.IsError {
				b.Fatal(err, res)
			}
		}
	})
	b.Run("rest", func(b *testing.B) {
		c := client.New(w.URL, w.bob)
		path := "/api/v1/search?q=" + url.QueryEscape("tokamak shots")
		b.ResetTimer()
		for b.Loop() {
			if err := c.Do(ctx, "GET", path, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}
