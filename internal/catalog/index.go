package catalog

import (
	"context"
	"encoding/json"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// SetSearch installs the search index. From then on every change to an
// asset's label or metadata updates its search document in the same
// transaction, so the index never shows an asset under a label it no
// longer has.
func (s *Service) SetSearch(ix search.Index) { s.search = ix }

// indexTx rebuilds asset id's search document inside tx.
func (s *Service) indexTx(ctx context.Context, tx store.Tx, id string) error {
	if s.search == nil {
		return nil
	}
	d, err := searchDoc(ctx, tx, id)
	if err != nil {
		return err
	}
	return s.search.Upsert(ctx, tx, d)
}

// indexBatchTx rebuilds the search documents of ids inside tx, each the
// same document indexTx writes, through one batch upsert when the index
// has one (appending each posting once per batch rather than per document).
func (s *Service) indexBatchTx(ctx context.Context, tx store.Tx, ids []string) error {
	if s.search == nil || len(ids) == 0 {
		return nil
	}
	docs := make([]search.Doc, 0, len(ids))
	for _, id := range ids {
		d, err := searchDoc(ctx, tx, id)
		if err != nil {
			return err
		}
		docs = append(docs, d)
	}
	if b, ok := s.search.(search.BatchUpserter); ok {
		return b.UpsertBatch(ctx, tx, docs)
	}
	for _, d := range docs {
		if err := s.search.Upsert(ctx, tx, d); err != nil {
			return err
		}
	}
	return nil
}

// searchDoc is asset id's search document as tx sees it: the asset's row,
// with its harmonised metadata (if any) filling in the text fields.
func searchDoc(ctx context.Context, tx store.Tx, id string) (search.Doc, error) {
	a, err := scanAsset(tx.QueryRow(ctx, `SELECT `+assetCols+` FROM assets WHERE id = ?`, id))
	if err != nil {
		return search.Doc{}, err
	}
	d := search.Doc{ID: a.ID, Kind: string(a.Kind), Name: a.Name, Title: a.Title, Description: a.Description,
		Project: string(a.Project), Owner: string(a.Owner), Label: a.Label, Updated: a.UpdatedAt}
	if a.LatestVersion > 0 {
		if err := tx.QueryRow(ctx, `SELECT synthetic FROM asset_versions WHERE asset_id = ? AND version = ?`, id, a.LatestVersion).Scan(&d.Synthetic); err != nil {
			return search.Doc{}, err
		}
	}
	var core string
	err = tx.QueryRow(ctx, `SELECT core FROM asset_metadata WHERE asset_id = ?`, id).Scan(&core)
	switch {
	case err == nil:
		var c meta.Core
		if err := json.Unmarshal([]byte(core), &c); err == nil {
			if c.Title != "" {
				d.Title = c.Title
			}
			if c.Description != "" {
				d.Description = c.Description
			}
			d.Keywords, d.Domain, d.Org = c.Keywords, string(c.Domain), c.Organization
			for _, cr := range c.Creators {
				d.Creators = append(d.Creators, cr.Name)
			}
			for _, v := range c.Variables {
				d.Variables = append(d.Variables, search.Variable{Name: v.Name, Unit: v.Unit})
			}
		}
	case !errors.Is(errors.NotExist, err):
		return search.Doc{}, err
	}
	return d, nil
}

// Search runs a query over the assets p may read: visibility is decided
// per class by the authorizer and applied inside the index, before
// anything is ranked, counted or faceted.
func (s *Service) Search(ctx context.Context, p *genesis.Principal, q search.Query) (*search.Result, error) {
	const op errors.Op = "catalog.Search"
	vis, err := s.visibility(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	res, err := s.search.Search(ctx, q, vis)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return res, nil
}

// Suggest completes a prefix over the assets p may read.
func (s *Service) Suggest(ctx context.Context, p *genesis.Principal, prefix string, n int) ([]search.Suggestion, error) {
	const op errors.Op = "catalog.Suggest"
	vis, err := s.visibility(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	out, err := s.search.Suggest(ctx, prefix, vis, n)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

func (s *Service) visibility(ctx context.Context, p *genesis.Principal) (search.Visibility, error) {
	if s.search == nil {
		return search.Visibility{}, errors.E(errors.Unavailable, errors.Msg("this server has no search index"))
	}
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return search.Visibility{}, err
	}
	classes, err := s.search.Classes(ctx)
	if err != nil {
		return search.Visibility{}, err
	}
	return search.VisibilityFor(ctx, classes, s.authz, ap)
}
