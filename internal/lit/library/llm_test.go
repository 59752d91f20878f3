package library_test

import (
	"os"
	"testing"

	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/llm/llmtest"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(llmtest.Main(m)) }

// Hybrid search through the real client (internal/llm) against a scripted
// OpenAI-compatible server running as a separate process (cmd/llm-script):
// passages are embedded at import over HTTP, the query too, and the hits
// carry both ranks.
func TestHybridOverHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts cmd/llm-script")
	}
	url, requests := llmtest.Start(t, "testdata/embed.yaml")
	c, err := llm.New(llm.Config{EmbedURL: url, EmbedModel: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite), worldOpts{embedder: c.Embedder()})
	if _, err := w.lib.ImportDocuments(ctx, w.alice, "OPEN", "", []lit.Document{
		doc("10.8/a", "Sodium ion battery cathodes", "Layered oxides store sodium ions reversibly."),
		doc("10.8/b", "Lithium metal anodes", "Dendrites grow on lithium metal during plating."),
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := w.lib.ReindexVectors(ctx); err != nil || n != 0 {
		t.Fatalf("passages left without vectors: %d %v", n, err)
	}
	hits, err := w.lib.Search(ctx, w.bob, lit.Query{Text: "sodium cathodes", Mode: lit.ModeHybrid, Limit: 20})
	if err != nil || len(hits) == 0 || hits[0].BM25 == 0 || hits[0].Vector == 0 {
		t.Fatalf("hybrid: %+v %v", hits, err)
	}
	embeds := 0
	for _, r := range requests() {
		if r.Endpoint == "embeddings" {
			embeds++
		}
	}
	if embeds < 2 {
		t.Errorf("%d embedding requests reached the server", embeds)
	}
}
