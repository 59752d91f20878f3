package mcp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/label"
)

// TestToolsMatchTheLattice is a property test against a simple reference
// model: random datasets with random labels, random principals with
// random clearances; for every principal, what the MCP tools show is
// exactly the datasets whose label its clearance dominates — in search
// (names, total, the answer's label), in get_dataset, and in searches
// for each dataset's own word — and a hidden dataset's error and words
// are those of a missing one.
func TestToolsMatchTheLattice(t *testing.T) {
	marks := []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "PROPRIETARY//ITAR", "PROPRIETARY//FUSION/ITAR"}
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 14))
			sys := boot(t, "")
			ctx := context.Background()
			sys.genesis(t, sys.Admin, "admin", "compartment", "add", "FUSION", "ITAR")
			sys.genesis(t, sys.Admin, "admin", "principal", "set-clearance", "admin", "PROPRIETARY//FUSION/ITAR")
			admin := client.New(sys.URL, sys.Admin)

			type ds struct{ name, word, label string }
			var sets []ds
			for i := range 4 + rng.IntN(6) {
				d := ds{name: fmt.Sprintf("set-%d", i), word: fmt.Sprintf("qx%dword%d", seed, i), label: marks[rng.IntN(len(marks))]}
				if err := admin.Do(ctx, "POST", "/api/v1/datasets", httpapi.CreateDatasetRequest{Name: d.name, Title: "Run " + d.word, Label: d.label}, nil); err != nil {
					t.Fatal(err)
				}
				sets = append(sets, d)
			}
			for i := range 3 {
				clearance := marks[rng.IntN(len(marks))]
				tok := sys.principal(t, fmt.Sprintf("user-%d", i), clearance)
				cs := sys.connect(t, tok)
				cl := label.MustParse(clearance)
				var want []string
				var wantLabels []label.Label
				for _, d := range sets {
					if cl.Dominates(label.MustParse(d.label)) {
						want = append(want, d.name)
						wantLabels = append(wantLabels, label.MustParse(d.label))
					}
				}
				t.Logf("clearance %s reads %d of %d datasets", clearance, len(want), len(sets))
				wantLabel := label.JoinAll(append(wantLabels, label.MustParse("OPEN"))...).Format()

				out, e := call(t, cs, "search_catalog", map[string]any{"text": "", "kind": "dataset", "limit": 200})
				var got []string
				for _, h := range out["hits"].([]any) {
					got = append(got, h.(map[string]any)["name"].(string))
				}
				sort.Strings(got)
				if e != "" || !slices.Equal(got, want) || int(out["total"].(float64)) != len(want) || out["label"] != wantLabel {
					t.Errorf("%s (%s) browses %v total %v label %v (%q), want %v label %s", "user", clearance, got, out["total"], out["label"], e, want, wantLabel)
				}
				_, missing := call(t, cs, "get_dataset", map[string]any{"ref": "set-missing"})
				for _, d := range sets {
					readable := slices.Contains(want, d.name)
					out, e := call(t, cs, "get_dataset", map[string]any{"ref": d.name})
					switch {
					case readable && (e != "" || out["label"] != label.MustParse(d.label).Format()):
						t.Errorf("%s reads %s (%s): %v %q", clearance, d.name, d.label, out, e)
					case !readable && (e != missing || out != nil):
						t.Errorf("%s: hidden %s (%s) answers %v %q, missing %q", clearance, d.name, d.label, out, e, missing)
					}
					res, e := call(t, cs, "search_catalog", map[string]any{"text": d.word})
					b, _ := json.Marshal(res)
					if found := strings.Contains(string(b), d.word); e != "" || found != readable {
						t.Errorf("%s searches %s's word: %s %q", clearance, d.name, b, e)
					}
				}
			}
		})
	}
}
