package library

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/store"
)

// pubRow is a publication as the literature keeps it.
type pubRow struct {
	ID, Name       string
	Version        int64
	Label          string
	Project, Owner string
	Format         string
	Cit            lit.Citation
	Citation       string
	Abstract       string
	Imported       time.Time
	Created        int64
}

const pubCols = `p.id, a.name, p.version, p.label, p.project_id, p.owner_id, p.format, p.citation, p.abstract, p.imported_at, a.created_at`

func scanPub(sc interface{ Scan(...any) error }) (pubRow, error) {
	var r pubRow
	var cit string
	var at int64
	if err := sc.Scan(&r.ID, &r.Name, &r.Version, &r.Label, &r.Project, &r.Owner, &r.Format, &cit, &r.Abstract, &at, &r.Created); err != nil {
		return r, err
	}
	json.Unmarshal([]byte(cit), &r.Cit)
	r.Citation = formatCitation(r.Cit)
	r.Imported = store.FromT(at)
	return r, nil
}

const pubFrom = ` FROM lit_publications p JOIN assets a ON a.id = p.id`

func queryPubs(ctx context.Context, tx store.Tx, where string, args ...any) ([]pubRow, error) {
	rows, err := tx.Query(ctx, `SELECT `+pubCols+pubFrom+` WHERE `+where+` ORDER BY a.created_at, p.id`, args...)
	if err != nil {
		return nil, err
	}
	var out []pubRow
	err = rows.Each(func() error {
		r, err := scanPub(rows)
		out = append(out, r)
		return err
	})
	return out, err
}

// readable decides, without putting anything on the record, which of rs
// ap may read: as a publication with the row's label (the join of the
// publication's and its version's), project and owner. Decisions are made
// once per (label, project, owned) class, as the search index's classes
// are (search.VisibilityFor). An unparseable label is unreadable.
func (s *Service) readable(ctx context.Context, ap authz.Principal, rs []pubRow) ([]bool, error) {
	type class struct {
		label, project string
		owned          bool
	}
	idx := map[class]int{}
	var res []authz.Resource
	of := make([]int, len(rs))
	for i, r := range rs {
		c := class{r.Label, r.Project, r.Owner == ap.ID && ap.ID != ""}
		j, ok := idx[c]
		if !ok {
			l, err := label.Parse(r.Label)
			if err != nil {
				of[i] = -1
				continue
			}
			owner := "\x00nobody"
			if c.owned {
				owner = ap.ID
			}
			j = len(res)
			idx[c] = j
			res = append(res, authz.Resource{Type: authz.Publication, ID: "lit-class", Label: l, Project: r.Project, Owner: owner})
		}
		of[i] = j
	}
	ok, err := s.az.Readable(ctx, ap, res)
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(rs))
	for i := range rs {
		out[i] = of[i] >= 0 && ok[of[i]]
	}
	return out, nil
}

// readableSet is every publication ap may read, by ID.
func (s *Service) readableSet(ctx context.Context, ap authz.Principal) (map[string]*pubRow, error) {
	var all []pubRow
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		all, err = queryPubs(ctx, tx, `1 = 1`)
		return err
	})
	if err != nil {
		return nil, err
	}
	ok, err := s.readable(ctx, ap, all)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*pubRow, len(all))
	for i := range all {
		if ok[i] {
			out[all[i].ID] = &all[i]
		}
	}
	return out, nil
}

// resolve finds the publication idOrName names for ap: the one with that
// ID if readable, else the oldest readable one of that name; else
// NotExist (hidden and missing alike).
func (s *Service) resolve(ctx context.Context, ap authz.Principal, idOrName string) (*pubRow, error) {
	if idOrName == "" || len(idOrName) > 200 {
		return nil, errors.E(errors.NotExist)
	}
	var rs []pubRow
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		rs, err = queryPubs(ctx, tx, `p.id = ? OR a.name = ?`, idOrName, idOrName)
		return err
	})
	if err != nil {
		return nil, err
	}
	ok, err := s.readable(ctx, ap, rs)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		if ok[i] && rs[i].ID == idOrName {
			return &rs[i], nil
		}
	}
	for i := range rs {
		if ok[i] {
			return &rs[i], nil
		}
	}
	return nil, errors.E(errors.NotExist)
}

// recordRead puts a read of non-OPEN literature on the record, as the
// catalog records reads of assets.
func (s *Service) recordRead(ctx context.Context, p *genesis.Principal, action string, pub *pubRow, detail string) error {
	l, err := label.Parse(pub.Label)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	if l.Level() == label.Open {
		return nil
	}
	return catalog.Record(ctx, s.audit, audit.Record{Principal: string(p.ID), Action: "publication." + action, ObjectType: "publication",
		ObjectID: pub.ID, Decision: audit.Allow, Detail: detail}, l)
}

// recordNotFound records a refused read of something that is hidden or
// missing, alike (no label: the API shows it to no one).
func (s *Service) recordNotFound(ctx context.Context, p *genesis.Principal, typ, asked string) {
	if s.audit == nil || p == nil {
		return
	}
	s.audit.Append(context.WithoutCancel(ctx), audit.Record{Principal: string(p.ID), Action: typ + ".read", ObjectType: typ,
		ObjectID: asked, Decision: audit.Deny, RequestID: catalog.RequestID(ctx), Detail: "not found"})
}

// Publication returns one publication p may read (ID or name).
func (s *Service) Publication(ctx context.Context, p *genesis.Principal, idOrName string) (*lit.Publication, error) {
	const op errors.Op = "library.Publication"
	ap, err := s.principal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	pub, err := s.resolve(ctx, ap, idOrName)
	if err != nil {
		if errors.Is(errors.NotExist, err) {
			s.recordNotFound(ctx, p, "publication", idOrName)
		}
		return nil, errors.E(op, err)
	}
	out := &lit.Publication{ID: pub.ID, Name: pub.Name, Version: pub.Version, Label: pub.Label, Format: lit.Format(pub.Format), Citation: pub.Cit,
		Abstract: pub.Abstract, Imported: pub.Imported, Cites: []string{}, CitedBy: []string{}}
	var cites, citedBy []string
	err = s.db.View(ctx, func(tx store.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM lit_passages WHERE publication = ?`, pub.ID).Scan(&out.Passages); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM lit_facts WHERE publication = ?`, pub.ID).Scan(&out.Facts); err != nil {
			return err
		}
		var err error
		if cites, err = column(ctx, tx, `SELECT cited FROM lit_citations WHERE citing = ?`, pub.ID); err != nil {
			return err
		}
		citedBy, err = column(ctx, tx, `SELECT citing FROM lit_citations WHERE cited = ?`, pub.ID)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if out.Cites, err = s.readableIDs(ctx, ap, cites); err != nil {
		return nil, errors.E(op, err)
	}
	if out.CitedBy, err = s.readableIDs(ctx, ap, citedBy); err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.recordRead(ctx, p, "read", pub, "literature"); err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// readableIDs keeps the publications of ids ap may read, sorted.
func (s *Service) readableIDs(ctx context.Context, ap authz.Principal, ids []string) ([]string, error) {
	out := []string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rs []pubRow
	err := s.db.View(ctx, func(tx store.Tx) error {
		for lo := 0; lo < len(ids); lo += 500 {
			part := ids[lo:min(len(ids), lo+500)]
			r, err := queryPubs(ctx, tx, `p.id IN (`+store.Placeholders(len(part))+`)`, anys(part)...)
			if err != nil {
				return err
			}
			rs = append(rs, r...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	ok, err := s.readable(ctx, ap, rs)
	if err != nil {
		return nil, err
	}
	for i := range rs {
		if ok[i] {
			out = append(out, rs[i].ID)
		}
	}
	sort.Strings(out)
	return out, nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func column(ctx context.Context, tx store.Tx, q string, args ...any) ([]string, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var out []string
	err = rows.Each(func() error {
		var s string
		err := rows.Scan(&s)
		out = append(out, s)
		return err
	})
	return out, err
}

func passageOf(pub *pubRow, id string, ord int, kind, section, text string) lit.Passage {
	return lit.Passage{ID: id, Publication: pub.ID, Name: pub.Name, Version: pub.Version, Ordinal: ord, Kind: kind, Section: section, Text: text,
		Label: pub.Label, Citation: pub.Citation}
}

// Passage returns one passage p may read. Of publications sharing it (one
// document imported at two labels), the oldest readable one's.
func (s *Service) Passage(ctx context.Context, p *genesis.Principal, id string) (*lit.Passage, error) {
	const op errors.Op = "library.Passage"
	ap, err := s.principal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if !strings.HasPrefix(id, "psg_") || len(id) > 64 {
		s.recordNotFound(ctx, p, "passage", id)
		return nil, errors.E(op, errors.NotExist)
	}
	type row struct {
		pub                 pubRow
		ord                 int
		kind, section, text string
	}
	var rs []row
	err = s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+pubCols+`, s.ordinal, s.kind, s.section, s.text`+pubFrom+` JOIN lit_passages s ON s.publication = p.id
			WHERE s.id = ? ORDER BY a.created_at, p.id`, id)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var r row
			var cit string
			var at int64
			err := rows.Scan(&r.pub.ID, &r.pub.Name, &r.pub.Version, &r.pub.Label, &r.pub.Project, &r.pub.Owner, &r.pub.Format, &cit,
				&r.pub.Abstract, &at, &r.pub.Created, &r.ord, &r.kind, &r.section, &r.text)
			json.Unmarshal([]byte(cit), &r.pub.Cit)
			r.pub.Citation, r.pub.Imported = formatCitation(r.pub.Cit), store.FromT(at)
			rs = append(rs, r)
			return err
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	pubs := make([]pubRow, len(rs))
	for i := range rs {
		pubs[i] = rs[i].pub
	}
	ok, err := s.readable(ctx, ap, pubs)
	if err != nil {
		return nil, errors.E(op, err)
	}
	for i, r := range rs {
		if !ok[i] {
			continue
		}
		ps := passageOf(&rs[i].pub, id, r.ord, r.kind, r.section, r.text)
		if err := s.recordRead(ctx, p, "read", &rs[i].pub, "passage "+id); err != nil {
			return nil, errors.E(op, err)
		}
		return &ps, nil
	}
	s.recordNotFound(ctx, p, "passage", id)
	return nil, errors.E(op, errors.NotExist)
}

// Passages returns a readable publication's passages in order.
func (s *Service) Passages(ctx context.Context, p *genesis.Principal, pubRef string) ([]lit.Passage, error) {
	const op errors.Op = "library.Passages"
	ap, err := s.principal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	pub, err := s.resolve(ctx, ap, pubRef)
	if err != nil {
		if errors.Is(errors.NotExist, err) {
			s.recordNotFound(ctx, p, "publication", pubRef)
		}
		return nil, errors.E(op, err)
	}
	out := []lit.Passage{}
	err = s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, ordinal, kind, section, text FROM lit_passages WHERE publication = ? ORDER BY ordinal`, pub.ID)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var id, kind, section, text string
			var ord int
			err := rows.Scan(&id, &ord, &kind, &section, &text)
			out = append(out, passageOf(pub, id, ord, kind, section, text))
			return err
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.recordRead(ctx, p, "read", pub, "passages"); err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// Facts returns one page of the facts p may read, ordered by ID, and the
// next page's cursor ("" at the end). Readability is decided per
// publication before the query, which counts and pages readable rows
// only.
func (s *Service) Facts(ctx context.Context, p *genesis.Principal, q lit.FactQuery) ([]lit.Fact, string, error) {
	const op errors.Op = "library.Facts"
	ap, err := s.principal(ctx, p)
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	limit := q.Limit
	switch {
	case limit <= 0:
		limit = 50
	case limit > 500:
		limit = 500
	}
	for _, f := range []struct{ name, v string }{{"property", q.Property}, {"material", q.Material}} {
		if len(f.v) > 200 {
			return nil, "", errors.E(op, errors.Invalid, errors.Field(f.name), errors.Msg(f.name+" is longer than 200 bytes"))
		}
	}
	var afterID, afterPub string
	if q.Cursor != "" {
		key, err := store.DecodeCursor(q.Cursor)
		if err != nil {
			return nil, "", errors.E(op, errors.Field("cursor"), err)
		}
		var ok bool
		if afterID, afterPub, ok = strings.Cut(key, "\x00"); !ok || afterID == "" {
			return nil, "", errors.E(op, errors.Field("cursor"), store.MalformedCursor())
		}
	}
	var pubs map[string]*pubRow
	if q.Publication != "" {
		pub, err := s.resolve(ctx, ap, q.Publication)
		if err != nil {
			if errors.Is(errors.NotExist, err) {
				s.recordNotFound(ctx, p, "publication", q.Publication)
			}
			return nil, "", errors.E(op, err)
		}
		pubs = map[string]*pubRow{pub.ID: pub}
	} else if pubs, err = s.readableSet(ctx, ap); err != nil {
		return nil, "", errors.E(op, err)
	}
	out := []lit.Fact{}
	if len(pubs) == 0 {
		return out, "", nil
	}
	ids := make([]string, 0, len(pubs))
	for id := range pubs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	where := []string{`f.publication IN (` + store.Placeholders(len(ids)) + `)`}
	args := anys(ids)
	if q.Property != "" {
		where = append(where, `f.property = ?`)
		args = append(args, strings.ToLower(strings.TrimSpace(q.Property)))
	}
	if q.Material != "" {
		m := strings.ToLower(strings.TrimSpace(q.Material))
		where = append(where, `(f.material_key = ? OR f.formula_key = ?)`)
		args = append(args, m, m)
	}
	if afterID != "" {
		where = append(where, `(f.id > ? OR (f.id = ? AND f.publication > ?))`)
		args = append(args, afterID, afterID, afterPub)
	}
	args = append(args, limit+1)
	err = s.db.View(ctx, func(tx store.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `SELECT f.publication, f.id, f.passage, f.property, f.material, f.formula, f.value, f.unit, f.raw, f.conditions,
			f.methods, f.span_start, f.span_end, f.statement FROM lit_facts f WHERE `+strings.Join(where, " AND ")+` ORDER BY f.id, f.publication LIMIT ?`, args...)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var f lit.Fact
			var conds, methods string
			if err := rows.Scan(&f.Publication, &f.ID, &f.Passage, &f.Property, &f.Material, &f.Formula, &f.Value.Value, &f.Value.Unit, &f.Value.Raw,
				&conds, &methods, &f.Start, &f.End, &f.Statement); err != nil {
				return err
			}
			json.Unmarshal([]byte(conds), &f.Conditions)
			json.Unmarshal([]byte(methods), &f.Methods)
			pub := pubs[f.Publication]
			f.Label, f.Citation = pub.Label, pub.Citation
			if math.IsNaN(f.Value.Value) || math.IsInf(f.Value.Value, 0) {
				f.Value.Value = 0
			}
			out = append(out, f)
			return nil
		})
	})
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[len(out)-1]
		next = store.EncodeCursor(last.ID + "\x00" + last.Publication)
	}
	seen := map[string]bool{}
	for _, f := range out {
		if !seen[f.Publication] {
			seen[f.Publication] = true
			if err := s.recordRead(ctx, p, "read", pubs[f.Publication], "facts"); err != nil {
				return nil, "", errors.E(op, err)
			}
		}
	}
	return out, next, nil
}
