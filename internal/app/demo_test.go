package app

import (
	"os"
	"testing"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/google/go-cmp/cmp"
)

// The demo campaign is the flow-reactor example under another name: what
// the README points a new user to is what `genesis up` runs.
func TestDemoIsTheExample(t *testing.T) {
	demo, err := campaign.Parse(demoCampaign)
	if err != nil {
		t.Fatalf("the embedded demo campaign does not parse: %v", err)
	}
	b, err := os.ReadFile("../../examples/campaigns/flow-reactor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ex, err := campaign.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if demo.Name != DemoCampaign {
		t.Errorf("demo campaign is named %q, want %q", demo.Name, DemoCampaign)
	}
	demo.Name, demo.Title = ex.Name, ex.Title
	if d := cmp.Diff(ex, demo); d != "" {
		t.Errorf("internal/app/demo.yaml differs from examples/campaigns/flow-reactor.yaml beyond its name and title (-example +demo):\n%s", d)
	}
	if demo.Executor.Workcell != DemoWorkcell {
		t.Errorf("the demo runs on workcell %q, genesis up sets up %q", demo.Executor.Workcell, DemoWorkcell)
	}
}
