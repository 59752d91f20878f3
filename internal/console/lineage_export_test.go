package console

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/genesis-science/genesis"
)

// LineageJSON is lineage.json's graph around the asset name as p, with a
// node limit of the test's choosing (the handler's is maxGraphNodes).
func LineageJSON(ctx context.Context, c *Console, p *genesis.Principal, name, dir string, depth, limit int) ([]byte, error) {
	g, err := c.assetLineage(ctx, p, name, lineageQuery{Dir: dir, Depth: depth}, limit)
	if err != nil {
		return nil, err
	}
	return json.Marshal(g)
}

// SetPageGraphLimit sets the asset page's node bound until the test ends.
func SetPageGraphLimit(t testing.TB, n int) {
	old := pageGraphLimit
	pageGraphLimit = n
	t.Cleanup(func() { pageGraphLimit = old })
}
