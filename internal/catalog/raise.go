package catalog

import (
	"context"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// RaiseHook is called inside the transaction that raises labels (Relabel,
// and the descendants it raises) with the IDs of every asset whose label
// or versions' labels rose. What is derived from those assets outside the
// catalog — jobs — rises in the same transaction, so no reader ever sees
// it at a label lower than its inputs' (invariant 2). An error aborts the
// raise.
type RaiseHook func(ctx context.Context, tx store.Tx, assets []string) error

// OnRaise adds a hook to every raise of labels. Call it while wiring,
// before the service is used.
func (s *Service) OnRaise(h RaiseHook) { s.raiseHooks = append(s.raiseHooks, h) }

// OnLabelChange adds a hook to every change of an asset's label: the
// raises OnRaise sees, and the approval of a release (declassification),
// which lowers the asset's label and adds a version at the lower label.
// Indexes kept outside the catalog that copy an asset's label (the
// literature's passages) follow it in the same transaction. Call it while
// wiring, before the service is used.
func (s *Service) OnLabelChange(h RaiseHook) { s.labelHooks = append(s.labelHooks, h) }

// InputLabelTx is, as tx sees it, the join of the stored labels of the
// given pinned versions and of their assets: what reads them (a job, whose
// spec names the assets) must be labelled at least that. Version labels
// already dominate what they were derived from (Commit checks it, Relabel
// raises descendants), so the stored labels suffice. A version that does
// not exist is NotExist.
func InputLabelTx(ctx context.Context, tx store.Tx, refs []VersionRef) (label.Label, error) {
	join := label.Label{}
	for _, r := range refs {
		var am, vm string
		err := tx.QueryRow(ctx, `SELECT a.label, v.label FROM asset_versions v JOIN assets a ON a.id = v.asset_id WHERE v.asset_id = ? AND v.version = ?`,
			r.Asset, r.Version).Scan(&am, &vm)
		if err != nil {
			return join, err
		}
		for _, m := range []string{am, vm} {
			l, err := label.Parse(m)
			if err != nil {
				return join, errors.E(errors.Internal, err)
			}
			join = label.Join(join, l)
		}
	}
	return join, nil
}

// versionLabelTx is, as tx sees it, the join of the stored labels of the
// given pinned versions.
func versionLabelTx(ctx context.Context, tx store.Tx, refs []VersionRef) (label.Label, error) {
	join := label.Label{}
	for _, r := range refs {
		var m string
		if err := tx.QueryRow(ctx, `SELECT label FROM asset_versions WHERE asset_id = ? AND version = ?`, r.Asset, r.Version).Scan(&m); err != nil {
			return join, err
		}
		l, err := label.Parse(m)
		if err != nil {
			return join, errors.E(errors.Internal, err)
		}
		join = label.Join(join, l)
	}
	return join, nil
}
