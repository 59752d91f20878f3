package catalog

import (
	"context"
	"strconv"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// CheckOutput decides whether p may write a computation's output labelled
// l into the asset name of kind k — before the computation runs, so that
// a job is refused at submission rather than after it ran, and again when
// its output is committed. A missing asset is created at commit, labelled
// l, if p may create one; an existing one must be of kind k and writable
// by p, and a dataset's label must dominate l (no write down; a model's
// label is raised to dominate its training data instead).
func (s *Service) CheckOutput(ctx context.Context, p *genesis.Principal, k Kind, name string, l label.Label) error {
	const op errors.Op = "catalog.CheckOutput"
	field := "outputs"
	if k == KindModel {
		field = "models"
	}
	if !genesis.ValidName(name) {
		return invalid(op, field, "invalid "+string(k)+" name "+strconv.Quote(name))
	}
	a, err := s.Get(ctx, p, name)
	if errors.Is(errors.NotExist, err) {
		probe := &Asset{ID: newID("probe"), Kind: k, Name: name, Label: l.Format()}
		if err := s.mayCreate(ctx, p, probe); err != nil {
			return errors.E(op, errors.Field(field), err)
		}
		return nil
	}
	if err != nil {
		return errors.E(op, err)
	}
	if a.Kind != k {
		return invalid(op, field, "the "+string(a.Kind)+" "+name+" is not a "+string(k))
	}
	if err := s.mayWrite(ctx, p, a); err != nil {
		return errors.E(op, errors.Field(field), err)
	}
	if k != KindDataset {
		return nil
	}
	cur, err := label.Parse(a.Label)
	if err != nil {
		return errors.E(op, errors.Internal, err)
	}
	if !label.Dominates(cur, l) {
		return invalid(op, field, "no write down: dataset "+name+" is labelled "+cur.Format()+", which does not dominate "+l.Format()+
			"; write to a new dataset, or raise "+name+"'s label first (genesis dataset relabel)")
	}
	return nil
}
