package app

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab/instruments"
)

// The embedded default's lab: a workcell of simulated flow reactors, and a
// demo campaign on them that reaches its target in a few minutes.

//go:embed demo.yaml
var demoCampaign []byte

// DemoWorkcell and DemoCampaign name what `genesis up` sets up.
const (
	DemoWorkcell = "demo-cell"
	DemoCampaign = "demo"
	demoMarker   = "demo.done"
	// demoMissionMarker records that the demo challenges were set up.
	demoMissionMarker = "demo-mission.done"
	// demoSpeed makes a reactor run (600 s on the real thing) take 12 s: the demo reaches its target in a few minutes, slowly enough to watch.
	demoSpeed = 50
)

// demoReactors are the demo workcell's instruments.
var demoReactors = []string{"reactor-1", "reactor-2"}

// setUpDemo sets up the demo lab (setUpDemoLab), then the demo's mission
// content (setUpDemoMission) — each once per data dir, recorded by its own
// marker file, so that a data dir set up before the mission content
// existed gets it on its next start.
func (a *App) setUpDemo(ctx context.Context, admin string) (started bool, err error) {
	const op errors.Op = "app.setUpDemo"
	if started, err = a.setUpDemoLab(ctx, admin); err != nil {
		return false, err
	}
	marker := filepath.Join(a.Config.DataDir, demoMissionMarker)
	if _, err := os.Stat(marker); err == nil {
		return started, nil
	}
	viewer := &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}
	p, err := a.Identity.Principal(ctx, viewer, admin)
	if err != nil {
		return started, errors.E(op, err)
	}
	if _, err := a.setUpDemoMission(ctx, p); err != nil {
		return started, errors.E(op, err)
	}
	if err := os.WriteFile(marker, []byte("the demo challenges were set up; delete this file to set them up again\n"), 0o600); err != nil {
		return started, errors.E(op, errors.Internal, err)
	}
	return started, nil
}

// setUpDemoLab registers the demo workcell and its instruments and starts the
// demo campaign as the first administrator — once per data dir: each step
// is idempotent, and a marker file records that all of them were done (so
// a demo the user removed or stopped is left alone on the next start).
func (a *App) setUpDemoLab(ctx context.Context, admin string) (started bool, err error) {
	const op errors.Op = "app.setUpDemoLab"
	marker := filepath.Join(a.Config.DataDir, demoMarker)
	if _, err := os.Stat(marker); err == nil {
		return false, nil
	}
	if _, err := a.Instruments.EnsureWorkcell(ctx, instruments.WorkcellSpec{Name: DemoWorkcell, Lab: "Genesis demo lab",
		Description: "Simulated continuous-flow reactors (lab/sim model flow-reactor), set up by genesis up."}); err != nil {
		return false, errors.E(op, err)
	}
	for i, name := range demoReactors {
		settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": demoSpeed, "seed": i + 1,
			"consumables": map[string]float64{"substrate": 100000}})
		if _, err := a.Instruments.Ensure(ctx, instruments.Spec{Name: name, Kind: "sim", Settings: settings, Lab: "Genesis demo lab",
			Location: fmt.Sprintf("bench %d", i+1), Workcell: DemoWorkcell, Accreditation: "OPEN"}); err != nil {
			return false, errors.E(op, err)
		}
	}
	viewer := &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}
	p, err := a.Identity.Principal(ctx, viewer, admin)
	if err != nil {
		return false, errors.E(op, err)
	}
	if _, err := a.Campaigns.Get(ctx, p, DemoCampaign); errors.Is(errors.NotExist, err) {
		spec, err := campaign.Parse(demoCampaign)
		if err != nil {
			return false, errors.E(op, errors.Internal, err)
		}
		if _, err := a.Campaigns.Create(ctx, p, spec); err != nil {
			return false, errors.E(op, err)
		}
		if _, err := a.Campaigns.Start(ctx, p, DemoCampaign); err != nil {
			return false, errors.E(op, err)
		}
		started = true
	} else if err != nil {
		return false, errors.E(op, err)
	}
	if err := os.WriteFile(marker, []byte("the demo workcell and campaign were set up; delete this file to set them up again\n"), 0o600); err != nil {
		return false, errors.E(op, errors.Internal, err)
	}
	return started, nil
}

// SetUpDemo does what genesis up does after Open on a new data directory
// (the first administrator must exist): it registers the local compute
// site and sets up the demo lab, campaign and challenges. Tests that need
// a platform as a new user meets it (the console's browser tests) use it.
func (a *App) SetUpDemo(ctx context.Context) error {
	if _, err := a.Sites.EnsureLocal(ctx, "OPEN", localCapacity(a.Config.DataDir)); err != nil {
		return err
	}
	_, err := a.setUpDemo(ctx, "admin")
	return err
}
