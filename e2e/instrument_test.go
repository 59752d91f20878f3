package e2e

import (
	"context"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
)

// e2edev is a minimal instrument driver for the instrument script (the
// simulators of lab/sim take its place once they exist): one reactor,
// always idle, that takes every admin command.
type e2eDev struct{}

func init() {
	lab.RegisterKind("e2edev", func(cfg lab.Config) (lab.Driver, error) { return e2eDev{}, nil })
}

func fp(v float64) *float64 { return &v }

func (e2eDev) Info(context.Context) (*lab.Info, error) {
	return &lab.Info{Model: "e2e reactor", Actions: []lab.Action{
		{Name: "heat", Params: []lab.Param{
			{Name: "temperature", Kind: lab.Number, Unit: "°C", Min: fp(20), Max: fp(150)},
			{Name: "catalyst", Kind: lab.Choice, Choices: []string{"Pd", "Ni"}},
		}, Outputs: []lab.Output{{Name: "yield", Unit: "%"}}},
		{Name: "ignite", Hazardous: true, Params: []lab.Param{{Name: "power", Kind: lab.Number, Unit: "W", Min: fp(0), Max: fp(100)}}},
	}, Consumables: []lab.Consumable{{Name: "solvent", Unit: "mL", Level: 500, Capacity: 1000}}}, nil
}

func (e2eDev) Status(context.Context) (*lab.NodeStatus, error) {
	return &lab.NodeStatus{Status: lab.Idle}, nil
}

func (e2eDev) Start(_ context.Context, req lab.Request) (*lab.Result, error) {
	return nil, errors.E(errors.Invalid, errors.Msg("the e2e device runs nothing"))
}

func (e2eDev) Result(context.Context, string) (*lab.Result, error) {
	return nil, errors.E(errors.NotExist)
}

func (e2eDev) Admin(context.Context, lab.AdminCommand) error { return nil }
func (e2eDev) Close() error                                  { return nil }
