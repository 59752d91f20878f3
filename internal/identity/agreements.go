package identity

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/compartment"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Agreement is a partnership agreement as stored and shown.
type Agreement struct {
	ID           string              `json:"id"`
	Type         authz.AgreementType `json:"type"`
	Title        string              `json:"title"`
	Parties      []genesis.OrgID     `json:"parties"`
	NotBefore    time.Time           `json:"not_before"`
	NotAfter     time.Time           `json:"not_after"`
	Compartments []string            `json:"compartments"`
	IPTerms      string              `json:"ip_terms,omitempty"`
	EndedAt      *time.Time          `json:"ended_at,omitempty"`
	CreatedBy    genesis.PrincipalID `json:"created_by"`
	CreatedAt    time.Time           `json:"created_at"`
	// InForce is computed at read time.
	InForce bool `json:"in_force"`
}

var agreementTypes = []authz.AgreementType{authz.CRADA, authz.UserFacility, authz.DataUse, authz.NDA, authz.OtherType}

// CreateAgreement records an agreement between organisations (by ID or
// name). Its ID is the token used in label markings (AGR:ID).
func (s *Service) CreateAgreement(ctx context.Context, creator *genesis.Principal, a Agreement) (*Agreement, error) {
	const op errors.Op = "identity.CreateAgreement"
	a.ID = strings.ToUpper(strings.TrimSpace(a.ID))
	if !label.IsToken(a.ID) {
		return nil, invalid(op, "id", "id must be an agreement token usable in markings, e.g. CRADA-0042")
	}
	if !slices.Contains(agreementTypes, a.Type) {
		return nil, invalid(op, "type", "type must be CRADA, user-facility, data-use, NDA or other")
	}
	if len(a.Parties) == 0 {
		return nil, invalid(op, "parties", "an agreement needs at least one party organisation")
	}
	if a.NotBefore.IsZero() || a.NotAfter.IsZero() || !a.NotBefore.Before(a.NotAfter) {
		return nil, invalid(op, "not_after", "the validity window needs not_before < not_after")
	}
	comps := make([]string, 0, len(a.Compartments))
	for _, c := range a.Compartments {
		c = strings.ToUpper(strings.TrimSpace(c))
		if !label.IsToken(c) {
			return nil, invalid(op, "compartments", "bad compartment "+quote(c))
		}
		comps = append(comps, c)
	}
	slices.Sort(comps)
	a.Compartments = slices.Compact(comps)
	if err := text.Line("title", a.Title, text.MaxLine); err != nil {
		return nil, errors.E(op, err)
	}
	if err := text.Block("ip_terms", a.IPTerms, text.MaxTerms); err != nil {
		return nil, errors.E(op, err)
	}
	a.CreatedBy = creator.ID
	a.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	a.NotBefore, a.NotAfter = a.NotBefore.UTC().Truncate(time.Microsecond), a.NotAfter.UTC().Truncate(time.Microsecond)
	a.EndedAt = nil
	err := s.db.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO agreements (id, type, title, not_before, not_after, compartments, ip_terms, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Type, a.Title, store.T(a.NotBefore), store.T(a.NotAfter), strings.Join(a.Compartments, ","), a.IPTerms, a.CreatedBy, store.T(a.CreatedAt)); err != nil {
			return err
		}
		var ids []genesis.OrgID
		for _, p := range a.Parties {
			o, err := scanOrg(tx.QueryRow(ctx, `SELECT `+orgCols+` FROM organizations WHERE id = ? OR name = ?`, p, p))
			if errors.Is(errors.NotExist, err) {
				return invalid(op, "parties", "no such organisation "+quote(string(p)))
			}
			if err != nil {
				return err
			}
			if slices.Contains(ids, o.ID) {
				continue
			}
			ids = append(ids, o.ID)
			if _, err := tx.Exec(ctx, `INSERT INTO agreement_parties (agreement_id, org_id) VALUES (?, ?)`, a.ID, o.ID); err != nil {
				return err
			}
		}
		a.Parties = ids
		return nil
	})
	if errors.Is(errors.Exist, err) {
		return nil, errors.E(op, errors.Exist, errors.Field("id"), errors.Msg("an agreement with that ID exists"))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	a.InForce = a.authz().InForce(s.now())
	return &a, nil
}

func (a *Agreement) authz() authz.Agreement {
	parties := make([]string, len(a.Parties))
	for i, p := range a.Parties {
		parties[i] = string(p)
	}
	return authz.Agreement{
		ID: a.ID, Type: a.Type, Parties: parties, NotBefore: a.NotBefore, NotAfter: a.NotAfter,
		Compartments: slices.Clone(a.Compartments), IPTerms: a.IPTerms, Ended: a.EndedAt != nil,
	}
}

const agreementCols = `id, type, title, not_before, not_after, compartments, ip_terms, ended_at, created_by, created_at`

func scanAgreement(sc interface{ Scan(...any) error }) (*Agreement, error) {
	var a Agreement
	var nb, na, created int64
	var ended *int64
	var comps string
	if err := sc.Scan(&a.ID, &a.Type, &a.Title, &nb, &na, &comps, &a.IPTerms, &ended, &a.CreatedBy, &created); err != nil {
		return nil, err
	}
	a.NotBefore, a.NotAfter, a.CreatedAt, a.EndedAt = store.FromT(nb), store.FromT(na), store.FromT(created), store.FromNullT(ended)
	a.Compartments = []string{}
	if comps != "" {
		a.Compartments = strings.Split(comps, ",")
	}
	return &a, nil
}

// agreements loads agreements matching where (with their parties).
func (s *Service) agreements(ctx context.Context, tx store.Tx, where string, args ...any) ([]Agreement, error) {
	rows, err := tx.Query(ctx, `SELECT `+agreementCols+` FROM agreements `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	var out []Agreement
	if err := rows.Each(func() error {
		a, err := scanAgreement(rows)
		if err == nil {
			out = append(out, *a)
		}
		return err
	}); err != nil {
		return nil, err
	}
	now := s.now()
	for i := range out {
		prow, err := tx.Query(ctx, `SELECT org_id FROM agreement_parties WHERE agreement_id = ? ORDER BY org_id`, out[i].ID)
		if err != nil {
			return nil, err
		}
		out[i].Parties = []genesis.OrgID{}
		if err := prow.Each(func() error {
			var o genesis.OrgID
			err := prow.Scan(&o)
			out[i].Parties = append(out[i].Parties, o)
			return err
		}); err != nil {
			return nil, err
		}
		out[i].InForce = out[i].authz().InForce(now)
	}
	return out, nil
}

// mayReadAgreement: administrators, classification officers and stewards
// see every agreement; others see those their organisation is party to.
func mayReadAgreement(viewer *genesis.Principal, a *Agreement) bool {
	if viewer.IsAdmin() || viewer.HasRole(genesis.RoleClassificationOfficer) || viewer.HasRole(genesis.RoleSteward) {
		return true
	}
	return viewer.Org != "" && slices.Contains(a.Parties, viewer.Org)
}

// Agreements lists the agreements viewer may see.
func (s *Service) Agreements(ctx context.Context, viewer *genesis.Principal) ([]Agreement, error) {
	const op errors.Op = "identity.Agreements"
	var all []Agreement
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		all, err = s.agreements(ctx, tx, "")
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	out := []Agreement{}
	for i := range all {
		if mayReadAgreement(viewer, &all[i]) {
			out = append(out, all[i])
		}
	}
	return out, nil
}

// Agreement returns one agreement, or NotExist if viewer may not see it.
func (s *Service) Agreement(ctx context.Context, viewer *genesis.Principal, id string) (*Agreement, error) {
	const op errors.Op = "identity.Agreement"
	var as []Agreement
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		as, err = s.agreements(ctx, tx, "WHERE id = ?", strings.ToUpper(id))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if len(as) == 0 || !mayReadAgreement(viewer, &as[0]) {
		return nil, errors.E(op, errors.NotExist)
	}
	return &as[0], nil
}

// EndAgreement ends an agreement now: from the next decision on, it grants
// nothing.
func (s *Service) EndAgreement(ctx context.Context, viewer *genesis.Principal, id string) (*Agreement, error) {
	const op errors.Op = "identity.EndAgreement"
	if _, err := s.Agreement(ctx, viewer, id); err != nil {
		return nil, errors.E(op, err)
	}
	if !viewer.IsAdmin() {
		return nil, errors.E(op, errors.Permission, errors.Msg("only administrators can end agreements"))
	}
	err := s.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE agreements SET ended_at = COALESCE(ended_at, ?) WHERE id = ?`, store.T(s.now()), strings.ToUpper(id))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return s.Agreement(ctx, viewer, id)
}

// AgreementsOf implements authz.Facts: the agreements org is party to, read
// fresh from the store at every decision (no cache can serve a stale grant).
func (s *Service) AgreementsOf(ctx context.Context, org string) ([]authz.Agreement, error) {
	var as []Agreement
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		as, err = s.agreements(ctx, tx, "WHERE id IN (SELECT agreement_id FROM agreement_parties WHERE org_id = ?)", org)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]authz.Agreement, len(as))
	for i := range as {
		out[i] = as[i].authz()
	}
	return out, nil
}

var _ authz.Facts = (*Service)(nil)

// ParseClearance parses a clearance marking (a level and compartments, e.g.
// "PROPRIETARY//FUSION") for a principal of the given nationality.
// An empty marking is refused: no clearance is granted by omission.
// It interns every compartment it reads, so it is for stored clearances;
// one from outside goes through clearanceSyntax and admitClearance.
func ParseClearance(marking, nationality string) (label.Clearance, error) {
	const op errors.Op = "identity.ParseClearance"
	if strings.TrimSpace(marking) == "" {
		return label.Clearance{}, errors.E(op, errors.Invalid, errors.Field("clearance"), errors.Msg("clearance: a clearance marking is required, e.g. OPEN or PROPRIETARY//FUSION"))
	}
	l, err := label.Parse(marking)
	if err != nil {
		return label.Clearance{}, errors.E(op, errors.Invalid, errors.Field("clearance"), errors.Msg("clearance: "+label.Message(err)))
	}
	if _, restricted := l.ReleasableTo(); len(l.Agreements()) > 0 || restricted {
		return label.Clearance{}, errors.E(op, errors.Invalid, errors.Field("clearance"), errors.Msg("a clearance names a level and compartments only; agreements come from the principal's organisation"))
	}
	c, err := label.NewClearance(l.Level(), l.Compartments(), nationality)
	if err != nil {
		return label.Clearance{}, errors.E(op, errors.Invalid, errors.Field("clearance"), errors.Msg("clearance: "+label.Message(err)))
	}
	return c, nil
}

// clearanceSyntax checks a clearance marking from outside (its syntax and
// that it names a level and compartments only) without interning anything,
// and returns its canonical form; admitClearance then checks it against
// the deployment.
func clearanceSyntax(marking string) (string, error) {
	const op errors.Op = "identity.ParseClearance"
	if strings.TrimSpace(marking) == "" {
		return "", errors.E(op, errors.Invalid, errors.Field("clearance"), errors.Msg("clearance: a clearance marking is required, e.g. OPEN or PROPRIETARY//FUSION"))
	}
	canon, err := label.Canonical(marking)
	if err != nil {
		return "", errors.E(op, errors.Invalid, errors.Field("clearance"), errors.Msg("clearance: "+label.Message(err)))
	}
	if strings.Contains(canon, "//AGR:") || strings.Contains(canon, "//REL TO") {
		return "", errors.E(op, errors.Invalid, errors.Field("clearance"), errors.Msg("a clearance names a level and compartments only; agreements come from the principal's organisation"))
	}
	return canon, nil
}

// admitClearance refuses a clearance (canonical, from clearanceSyntax) that
// puts compartments on OPEN or names a compartment the deployment does not
// know, and interns nothing else (compartment.Parse): not label.Parse,
// which would intern made-up compartments process-wide.
func admitClearance(ctx context.Context, tx store.Tx, canon, nationality string) (label.Clearance, error) {
	if _, err := compartment.Parse(ctx, tx, "clearance", canon); err != nil {
		return label.Clearance{}, err
	}
	return ParseClearance(canon, nationality)
}

// AuthzPrincipal is p as the authorizer sees it: roles, project roles and
// clearance, read fresh.
func (s *Service) AuthzPrincipal(ctx context.Context, p *genesis.Principal) (authz.Principal, error) {
	const op errors.Op = "identity.AuthzPrincipal"
	if p == nil || p.Disabled {
		return authz.Principal{}, errors.E(op, errors.Unauthenticated)
	}
	c, err := ParseClearance(p.Clearance, p.Nationality)
	if err != nil {
		return authz.Principal{}, errors.E(op, errors.Internal, err) // stored clearances were validated
	}
	ap := authz.Principal{ID: string(p.ID), Kind: authz.PrincipalKind(p.Kind), Org: string(p.Org), Clearance: c, ProjectRoles: map[string][]authz.Role{}}
	for _, r := range p.Roles {
		ap.Roles = append(ap.Roles, authz.Role(r))
	}
	err = s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT project_id, role FROM project_members WHERE principal_id = ?`, p.ID)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var prj, role string
			if err := rows.Scan(&prj, &role); err != nil {
				return err
			}
			ap.ProjectRoles[prj] = append(ap.ProjectRoles[prj], authz.Role(role))
			return nil
		})
	})
	if err != nil {
		return authz.Principal{}, errors.E(op, err)
	}
	return ap, nil
}

// SetClearance changes a principal's clearance (administrators and
// classification officers decide who may; the caller checks).
func (s *Service) SetClearance(ctx context.Context, idOrName, marking string) (*genesis.Principal, error) {
	const op errors.Op = "identity.SetClearance"
	var p *genesis.Principal
	err := s.db.Update(ctx, func(tx store.Tx) error {
		var err error
		p, err = scanPrincipal(tx.QueryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE id = ? OR name = ?`, idOrName, idOrName))
		if err != nil {
			return err
		}
		canon, err := clearanceSyntax(marking)
		if err != nil {
			return err
		}
		c, err := admitClearance(ctx, tx, canon, p.Nationality)
		if err != nil {
			return err
		}
		p.Clearance = clearanceMarking(c)
		_, err = tx.Exec(ctx, `UPDATE principals SET clearance = ? WHERE id = ?`, p.Clearance, p.ID)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return p, nil
}

// clearanceMarking is the canonical marking of a clearance's level and
// compartments.
func clearanceMarking(c label.Clearance) string {
	l, err := label.New(c.Level(), c.Compartments(), nil)
	if err != nil {
		return "OPEN"
	}
	return l.Format()
}

// RegisterCompartment makes a compartment known, so markings may name it
// (administrators decide who may; the caller checks).
func (s *Service) RegisterCompartment(ctx context.Context, by *genesis.Principal, name string) (string, error) {
	return compartment.Register(ctx, s.db, by.ID, name, s.now().UTC())
}

// Compartments lists the known compartments: registered, or granted by an
// agreement.
func (s *Service) Compartments(ctx context.Context) ([]string, error) {
	return compartment.List(ctx, s.db)
}
