// The lab conformance suite against a madsci-node process.

package madsci_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/labtest"
	"github.com/genesis-science/genesis/internal/lab/madsci/madscitest"
)

func TestConformance(t *testing.T) {
	labtest.Run(t, func(t *testing.T) labtest.Harness {
		url, _ := madscitest.StartNode(t, "--settings", `{"duration":"400ms"}`)
		drvDir := t.TempDir()
		var mu sync.Mutex
		params := map[string]map[string]any{} // request ID → the params first asked for
		request := func(i int) lab.Request {
			r := lab.Request{ID: fmt.Sprintf("%s-run-%d", t.Name()[len("TestConformance/"):], i), Action: "synthesize",
				Params: map[string]any{"temperature": 20 + float64(i)*1.5, "time": 1 + float64(i%50), "solvent": []string{"water", "ethanol", "toluene"}[i%3]}}
			mu.Lock()
			if _, ok := params[r.ID]; !ok {
				params[r.ID] = r.Params
			}
			mu.Unlock()
			return r
		}
		return labtest.Harness{
			Driver:  open(t, url, drvDir, ""),
			Request: request,
			Invalid: lab.Request{ID: "too-hot", Action: "synthesize", Params: map[string]any{"temperature": 20.0, "time": 5.0, "solvent": "mercury"}},
			Reopen:  func(t *testing.T) lab.Driver { return open(t, url, drvDir, "") },
			// Runs counts the node's started actions with the ID's params
			// (every request of the harness has its own).
			Runs: func(t *testing.T, id string) int {
				mu.Lock()
				want := params[id]
				mu.Unlock()
				resp, err := http.Get(url + "/state")
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var st struct {
					Started []struct {
						Args map[string]any `json:"args"`
					} `json:"started_actions"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, s := range st.Started {
					if reflect.DeepEqual(s.Args, want) {
						n++
					}
				}
				return n
			},
		}
	})
}
