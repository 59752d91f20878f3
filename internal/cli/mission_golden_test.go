package cli

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/google/go-cmp/cmp"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files of the mission tables")

// TestMissionTablesGolden: the readable status, plan and risks tables, as
// golden files (go test -run MissionTablesGolden -update rewrites them).
func TestMissionTablesGolden(t *testing.T) {
	day := func(n int) *int { return &n }
	p := &plan.Plan{Milestones: []plan.Milestone{
		{ID: "challenges-identified", Title: "Twenty challenges", Day: day(60), Check: "challenges_identified", Params: map[string]any{"min": 20, "domains": []any{"robotics", "biotechnology"}}},
		{ID: "inventory-complete", Title: "Inventory complete", Day: day(90), Check: "inventory_complete"},
		{ID: "labs-reviewed", Title: "Labs reviewed", Date: "2026-01-02", Check: "labs_reviewed"},
	}}
	first := time.Date(2025, 11, 24, 9, 0, 0, 0, time.UTC)
	sites := []plan.Site{{Name: "hpc-1", Status: "up", Accreditation: "OPEN", CapacityReported: true, PowerCapKW: 500, PowerDrawKW: 450, DrawReported: true},
		{Name: "cloud-2", Status: "up", Accreditation: "OPEN", CapacityReported: true}}
	s := &plan.State{Now: time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC), Sites: &sites, Why: map[string]string{"challenges": "not available to you"}}
	updated := time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)
	stored := &plan.Stored{Plan: *p, FirstStart: first, UpdatedBy: "p_admin", UpdatedAt: &updated}
	for name, render := range map[string]func(env *Env){
		"status": func(env *Env) {
			st := p.Evaluate(s, first)
			st.Label = "OPEN"
			printStatus(env, st)
		},
		"plan": func(env *Env) { printPlan(env, stored) },
		"risks": func(env *Env) {
			rs := plan.ComputeRisks(s, plan.RiskInputs{})
			rs.Label = "OPEN"
			printRisks(env, rs)
		},
	} {
		var out bytes.Buffer
		render(&Env{Stdout: &out})
		path := filepath.Join("testdata", "mission", name+".golden")
		if *updateGolden {
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update to write it)", err)
		}
		if d := cmp.Diff(string(want), out.String()); d != "" {
			t.Errorf("%s (-golden +got)\n%s", name, d)
		}
	}
}
