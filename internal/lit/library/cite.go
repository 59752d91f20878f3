package library

import (
	"context"
	"strings"

	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/store"
)

// citeTx stores d's references (as publication id's) and the citation
// edges both ways: from id to every publication its references match (by
// DOI, arXiv ID, PMID, else folded title), and from every publication
// whose stored references match d to id — so a paper imported before the
// one it cites gets its edge when that one arrives. Edges are kept
// whoever may read either end; readers see those between publications
// they may read.
func (s *Service) citeTx(ctx context.Context, tx store.Tx, id string, d *lit.Document) error {
	for i, r := range d.References {
		doi, ax, pmid, tk := strings.ToLower(r.DOI), strings.ToLower(r.ArXiv), r.PMID, titleKey(r.Title)
		if doi == "" && ax == "" && pmid == "" && tk == "" {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO lit_refs (publication, ordinal, doi, arxiv, pmid, title_key) VALUES (?, ?, ?, ?, ?, ?)`,
			id, i, doi, ax, pmid, tk); err != nil {
			return err
		}
		cited, err := matching(ctx, tx, "lit_publications", "id", id, doi, ax, pmid, refTitle(doi, ax, pmid, tk), false)
		if err != nil {
			return err
		}
		for _, c := range cited {
			if err := edge(ctx, tx, id, c); err != nil {
				return err
			}
		}
	}
	doi, ax, pmid, tk := d.DOI, strings.ToLower(d.ArXiv), d.PMID, titleKey(d.Title)
	citing, err := matching(ctx, tx, "lit_refs", "publication", id, doi, ax, pmid, tk, true)
	if err != nil {
		return err
	}
	for _, c := range citing {
		if err := edge(ctx, tx, c, id); err != nil {
			return err
		}
	}
	return nil
}

// matching lists the distinct col of table's rows (other than self's)
// holding any of the identifiers given, one indexed lookup each. Rows of
// lit_refs match by title only when they have no identifier (refsByTitle).
func matching(ctx context.Context, tx store.Tx, table, col, self, doi, ax, pmid, tk string, refsByTitle bool) ([]string, error) {
	var parts []string
	var args []any
	for _, f := range [][2]string{{"doi", doi}, {"arxiv", ax}, {"pmid", pmid}} {
		if f[1] != "" {
			parts = append(parts, `SELECT `+col+` FROM `+table+` WHERE `+f[0]+` = ? AND `+col+` <> ?`)
			args = append(args, f[1], self)
		}
	}
	if tk != "" {
		q := `SELECT ` + col + ` FROM ` + table + ` WHERE title_key = ? AND ` + col + ` <> ?`
		if refsByTitle {
			q += ` AND doi = '' AND arxiv = '' AND pmid = ''`
		}
		parts = append(parts, q)
		args = append(args, tk, self)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	return column(ctx, tx, strings.Join(parts, " UNION ")+` ORDER BY 1`, args...)
}

// refTitle is the title key a reference is matched by: only when it has
// no identifier (an identifier that matches nothing is not a title).
func refTitle(doi, ax, pmid, tk string) string {
	if doi != "" || ax != "" || pmid != "" {
		return ""
	}
	return tk
}

func edge(ctx context.Context, tx store.Tx, citing, cited string) error {
	_, err := tx.Exec(ctx, `INSERT INTO lit_citations (citing, cited) VALUES (?, ?) ON CONFLICT DO NOTHING`, citing, cited)
	return err
}
