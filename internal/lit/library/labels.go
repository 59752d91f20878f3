package library

import (
	"context"

	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/store"
)

// labelChanged runs inside the catalog's transaction that changed the
// labels of assets (catalog.OnLabelChange). For each publication among
// them, its passages move to the latest version when that version has the
// same content (a release copies a version), and its rows and passage
// search documents take the join of the publication's label and that
// version's — raised or released with the asset, never lower than either.
func (s *Service) labelChanged(ctx context.Context, tx store.Tx, assets []string) error {
	for _, id := range assets {
		var version, latest int64
		err := tx.QueryRow(ctx, `SELECT p.version, a.latest_version FROM lit_publications p JOIN assets a ON a.id = p.id WHERE p.id = ?`, id).Scan(&version, &latest)
		if errors.Is(errors.NotExist, err) {
			continue // not a publication
		}
		if err != nil {
			return err
		}
		if latest != version {
			var m1, m2 string
			if err := tx.QueryRow(ctx, `SELECT manifest FROM asset_versions WHERE asset_id = ? AND version = ?`, id, version).Scan(&m1); err != nil {
				return err
			}
			if err := tx.QueryRow(ctx, `SELECT manifest FROM asset_versions WHERE asset_id = ? AND version = ?`, id, latest).Scan(&m2); err != nil {
				return err
			}
			if m1 == m2 {
				version = latest
			}
		}
		l, err := effectiveLabelTx(ctx, tx, id, version)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE lit_publications SET version = ?, label = ? WHERE id = ?`, version, l.Format(), id); err != nil {
			return err
		}
		pubs, err := queryPubs(ctx, tx, `p.id = ?`, id)
		if err != nil || len(pubs) == 0 {
			return err
		}
		pub := &pubs[0]
		var updated int64
		if err := tx.QueryRow(ctx, `SELECT updated_at FROM assets WHERE id = ?`, id).Scan(&updated); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, ordinal, kind, section, text FROM lit_passages WHERE publication = ? ORDER BY ordinal`, id)
		if err != nil {
			return err
		}
		var docs []lit.Passage
		if err := rows.Each(func() error {
			var ps lit.Passage
			err := rows.Scan(&ps.ID, &ps.Ordinal, &ps.Kind, &ps.Section, &ps.Text)
			docs = append(docs, ps)
			return err
		}); err != nil {
			return err
		}
		sd := make([]search.Doc, 0, len(docs))
		for i := range docs {
			sd = append(sd, passageDoc(pub, &docs[i], store.FromT(updated)))
		}
		if err := upsertDocs(ctx, tx, s.ix, sd); err != nil {
			return err
		}
	}
	return nil
}
