package campaign

import (
	"context"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
)

// instrumentExecutor runs experiments as actions on the instruments of
// the fleet: the request's ID is the attempt's key, which the driver runs
// at most once.
type instrumentExecutor struct{ fleet lab.Fleet }

var _ ExperimentExecutor = instrumentExecutor{}

func (x instrumentExecutor) driver(ctx context.Context, e *Experiment) (lab.Driver, error) {
	if e.Instrument == "" {
		return nil, errors.E(errors.Internal, errors.Msg("experiment has no instrument"))
	}
	return x.fleet.Driver(ctx, e.Instrument)
}

func (x instrumentExecutor) Start(ctx context.Context, c *Campaign, e *Experiment, key string) error {
	d, err := x.driver(ctx, e)
	if err != nil {
		return err
	}
	params, err := c.Spec.ActionParams(e.Params)
	if err != nil {
		return err
	}
	_, err = d.Start(ctx, lab.Request{ID: key, Action: c.Spec.Executor.Action, Params: params})
	return err
}

func (x instrumentExecutor) Poll(ctx context.Context, c *Campaign, e *Experiment, key string) (*lab.Result, error) {
	d, err := x.driver(ctx, e)
	if err != nil {
		return nil, err
	}
	return d.Result(ctx, key)
}
