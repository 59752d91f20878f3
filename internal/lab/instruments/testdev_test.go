package instruments_test

import (
	"context"
	"os"
	"sync"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
)

// testdev is a small driver whose description, status and failures a test
// controls; instruments of kind "testdev" find theirs by endpoint.
type testDev struct {
	mu        sync.Mutex
	info      lab.Info
	status    lab.NodeStatus
	statusErr error
	adminErr  error
	hang      bool // admin commands block until ctx ends
	admin     []lab.AdminCommand
	started   map[string]*lab.Result
}

var devs sync.Map // endpoint → *testDev

func init() {
	lab.RegisterKind("testdev", func(cfg lab.Config) (lab.Driver, error) {
		d, ok := devs.Load(cfg.Endpoint)
		if !ok {
			return nil, errors.E(errors.Invalid, errors.Field("endpoint"), errors.Msg("no test device "+cfg.Endpoint))
		}
		// Like a simulator's journal: durable state in StateDir.
		if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
			return nil, err
		}
		return d.(*testDev), nil
	})
}

func f(v float64) *float64 { return &v }

// reactor is the description test devices start with.
func reactor() lab.Info {
	return lab.Info{Model: "test reactor", Actions: []lab.Action{
		{Name: "heat", Params: []lab.Param{
			{Name: "temperature", Kind: lab.Number, Unit: "°C", Min: f(20), Max: f(150)},
			{Name: "time", Kind: lab.Integer, Unit: "s", Min: f(1), Max: f(3600)},
			{Name: "catalyst", Kind: lab.Choice, Choices: []string{"Pd", "Ni", "Cu"}},
			{Name: "stir", Kind: lab.Number, Unit: "rpm", Min: f(0), Max: f(1000), Optional: true},
		}, Outputs: []lab.Output{{Name: "yield", Unit: "%"}}, Consumes: map[string]float64{"solvent": 5}},
		{Name: "ignite", Hazardous: true, Params: []lab.Param{{Name: "power", Kind: lab.Number, Unit: "W", Min: f(0), Max: f(100)}}},
	}, Consumables: []lab.Consumable{{Name: "solvent", Unit: "mL", Level: 500, Capacity: 1000}}}
}

func newDev(endpoint string) *testDev {
	d := &testDev{info: reactor(), status: lab.NodeStatus{Status: lab.Idle}, started: map[string]*lab.Result{}}
	devs.Store(endpoint, d)
	return d
}

func (d *testDev) set(fn func(d *testDev)) {
	d.mu.Lock()
	defer d.mu.Unlock()
	fn(d)
}

func (d *testDev) commands() []lab.AdminCommand {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]lab.AdminCommand(nil), d.admin...)
}

func (d *testDev) Info(ctx context.Context) (*lab.Info, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	info := d.info
	return &info, nil
}

func (d *testDev) Status(ctx context.Context) (*lab.NodeStatus, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.statusErr != nil {
		return nil, d.statusErr
	}
	st := d.status
	return &st, nil
}

func (d *testDev) Start(ctx context.Context, req lab.Request) (*lab.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.started[req.ID]; ok {
		return r, nil
	}
	r := &lab.Result{ID: req.ID, Action: req.Action, State: lab.Running}
	d.started[req.ID] = r
	return r, nil
}

func (d *testDev) Result(ctx context.Context, id string) (*lab.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r, ok := d.started[id]; ok {
		return r, nil
	}
	return nil, errors.E(errors.NotExist)
}

func (d *testDev) Admin(ctx context.Context, cmd lab.AdminCommand) error {
	d.mu.Lock()
	d.admin = append(d.admin, cmd)
	hang, err := d.hang, d.adminErr
	d.mu.Unlock()
	if hang {
		<-ctx.Done()
		return errors.E(errors.Transient, ctx.Err())
	}
	return err
}

func (d *testDev) Close() error { return nil }
