package app

import (
	"context"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/label"
)

// generators resolves the generators of synthetic dataset versions
// (catalog.Generators) through the services that own them, as the author
// sees them: a job or campaign the author may not read is NotExist, as a
// missing one is. A simulator is an instrument of kind sim; instrument
// records are OPEN.
type generators struct {
	jobs        *jobs.Service
	campaigns   *campaign.Service
	instruments *instruments.Registry
}

var _ catalog.Generators = generators{}

func (g generators) Generator(ctx context.Context, p *genesis.Principal, kind, name string) (catalog.Generator, error) {
	const op errors.Op = "app.generator"
	switch kind {
	case catalog.GeneratorJob:
		if g.jobs == nil {
			break
		}
		j, err := g.jobs.Get(ctx, p, name)
		if err != nil {
			return catalog.Generator{}, err
		}
		l, err := label.Parse(j.Label)
		if err != nil {
			return catalog.Generator{}, errors.E(op, errors.Internal, err)
		}
		return catalog.Generator{ID: j.ID, Label: l}, nil
	case catalog.GeneratorCampaign:
		if g.campaigns == nil {
			break
		}
		c, err := g.campaigns.Get(ctx, p, name)
		if err != nil {
			return catalog.Generator{}, err
		}
		l, err := label.Parse(c.Label)
		if err != nil {
			return catalog.Generator{}, errors.E(op, errors.Internal, err)
		}
		return catalog.Generator{ID: c.ID, Label: l}, nil
	case catalog.GeneratorInstrument:
		if g.instruments == nil {
			break
		}
		in, err := g.instruments.Get(ctx, p, name)
		if err != nil {
			return catalog.Generator{}, err
		}
		if in.Kind != "sim" {
			return catalog.Generator{}, errors.E(op, errors.Invalid, errors.Msg("instrument "+in.Name+" is not a simulator (kind sim): its data are measured"))
		}
		return catalog.Generator{ID: in.ID, Label: label.Label{}}, nil
	}
	return catalog.Generator{}, errors.E(op, errors.Unavailable, errors.Msg("this server resolves no "+kind+" generators"))
}
