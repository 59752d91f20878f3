package console_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// benchLineageWorld makes the browser benchmark's 1,000-node lineage
// (browsertest.benchLineage: 12 upstream layers of 42 with fan-out, 11
// downstream layers of 45 with fan-in and some longer edges) around
// bench-root, in a SQLite catalog, with alice signed in.
func benchLineageWorld(b *testing.B) *browser {
	w := newWorld(b, storetest.Migrated(b, storetest.SQLite), false)
	rng := rand.New(rand.NewPCG(1, 1000))
	ids := map[string]string{}
	put := func(name string, ins []string) {
		var refs []catalog.VersionRef
		for _, in := range ins {
			r := catalog.VersionRef{Asset: ids[in], Version: 1}
			if !slices.Contains(refs, r) {
				refs = append(refs, r)
			}
		}
		ids[name] = w.put(b, w.alice, name, "OPEN", name, refs...).ID
	}
	const upLayers, upWidth, downLayers, downWidth = 12, 42, 11, 45
	name := func(side string, l, i int) string { return fmt.Sprintf("bench-%s-%02d-%02d", side, l, i) }
	for l := upLayers; l >= 1; l-- {
		for i := range upWidth {
			var ins []string
			if l < upLayers {
				ins = append(ins, name("up", l+1, i))
				for k := rng.IntN(3); k > 0; k-- {
					if j := rng.IntN(upWidth); j != i {
						ins = append(ins, name("up", l+1, j))
					}
				}
			}
			put(name("up", l, i), ins)
		}
	}
	var rootIns []string
	for i := range upWidth {
		rootIns = append(rootIns, name("up", 1, i))
	}
	put("bench-root", rootIns)
	for l := 1; l <= downLayers; l++ {
		for i := range downWidth {
			ins := []string{"bench-root"}
			if l > 1 {
				ins = []string{name("down", l-1, i)}
				for k := rng.IntN(3); k > 0; k-- {
					ins = append(ins, name("down", l-1, rng.IntN(downWidth)))
				}
				if l > 2 && rng.IntN(5) == 0 {
					ins = append(ins, name("down", l-2, rng.IntN(downWidth)))
				}
			}
			put(name("down", l, i), ins)
		}
	}
	br := w.browser(b)
	br.signIn(w.aliceT)
	return br
}

// BenchmarkLineageJSON1000 fetches lineage.json (both ways, depth 16:
// the asset page's graph) and the asset page (which builds the same
// graph) around a 1,000-node lineage, reporting each one's median server
// round trip in milliseconds.
func BenchmarkLineageJSON1000(b *testing.B) {
	br := benchLineageWorld(b)
	for _, c := range []struct{ name, path string }{
		{"json", "/assets/bench-root/lineage.json?dir=both&depth=16"},
		{"page", "/assets/bench-root"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var ds []float64
			for b.Loop() {
				start := time.Now()
				res, err := br.c.Get(br.w.srv.URL + c.path)
				if err != nil {
					b.Fatal(err)
				}
				n, _ := io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					b.Fatalf("%s: %d", c.path, res.StatusCode)
				}
				ds = append(ds, float64(time.Since(start).Microseconds())/1000)
				b.SetBytes(n)
			}
			slices.Sort(ds)
			b.ReportMetric(ds[len(ds)/2], "ms")
		})
	}
}
