package console

import (
	"net/http"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/label"
)

// agreementTypes are the choices of the agreement form.
var agreementTypes = []authz.AgreementType{authz.CRADA, authz.UserFacility, authz.DataUse, authz.NDA, authz.OtherType}

// agreementForm is the create-agreement form's input, kept on refusal.
type agreementForm struct {
	ID, Type, Title, Parties, NotBefore, NotAfter, Compartments string
}

type agreementRow struct {
	identity.Agreement
	State string
}

type adminData struct {
	Principals []genesis.Principal
	Orgs       []genesis.Organization
	Agreements []agreementRow
	Types      []authz.AgreementType
	Form       agreementForm
	Error      string
	// ErrorAt names the form the error is about (an element id).
	ErrorAt string
}

// errAdminOnly is what a non-administrator gets from every /admin path:
// the not-found page, as for a path that does not exist.
var errAdminOnly = errors.E(errors.Op("console.admin"), errors.NotExist)

// admin is the administration page: principals, organisations and
// agreements. Administrators only.
func (c *Console) admin(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if !v.p.IsAdmin() {
		return errAdminOnly
	}
	return c.renderAdmin(w, r, v, http.StatusOK, adminData{})
}

func (c *Console) renderAdmin(w http.ResponseWriter, r *http.Request, v *viewer, status int, d adminData) error {
	ctx := r.Context()
	var err error
	if d.Principals, err = c.cfg.Identity.Principals(ctx, v.p); err != nil {
		return err
	}
	if d.Orgs, err = c.cfg.Identity.Orgs(ctx); err != nil {
		return err
	}
	as, err := c.cfg.Identity.Agreements(ctx, v.p)
	if err != nil {
		return err
	}
	now := c.now()
	for _, a := range as {
		row := agreementRow{Agreement: a, State: "in force"}
		switch {
		case a.EndedAt != nil:
			row.State = "ended"
		case now.Before(a.NotBefore):
			row.State = "not yet in force"
		case !now.Before(a.NotAfter):
			row.State = "expired"
		case !a.InForce:
			row.State = "not in force"
		}
		d.Agreements = append(d.Agreements, row)
	}
	d.Types = agreementTypes
	pg := c.newPage("Administration", v, "")
	pg.Nav = "admin"
	pg.Data = d
	return c.render(w, r, status, "admin", pg)
}

// adminAction runs one administrator's change through the identity
// service and records it on the audit log as the API's generic mutation
// record would (action, object, decision by outcome, made under OPEN). A
// refusal is shown on the admin page, next to the form (at).
func (c *Console) adminAction(w http.ResponseWriter, r *http.Request, v *viewer, action, typ, id, at string, form agreementForm, do func() error) error {
	if !v.p.IsAdmin() {
		c.recordAdmin(r, v, action, typ, id, errAdminOnly)
		return errAdminOnly
	}
	err := do()
	c.recordAdmin(r, v, action, typ, id, err)
	if err != nil {
		status, ok := formStatus(err)
		if !ok {
			return err
		}
		return c.renderAdmin(w, r, v, status, adminData{Form: form, Error: errorText(err), ErrorAt: at})
	}
	http.Redirect(w, r, "/admin", http.StatusSeeOther)
	return nil
}

var openMarking = func() []byte { b, _ := label.MustParse("OPEN").MarshalBinary(); return b }()

func (c *Console) recordAdmin(r *http.Request, v *viewer, action, typ, id string, err error) {
	if c.cfg.Audit == nil {
		return
	}
	dec, detail := audit.Allow, "console"
	switch kind := errors.KindOf(err); {
	case err == nil:
	case kind == errors.NotExist || kind == errors.Permission:
		dec, detail = audit.Deny, "console: refused"
	default:
		dec, detail = audit.Error, "console: failed"
	}
	rec := audit.Record{Principal: string(v.p.ID), Action: action, ObjectType: typ, ObjectID: id, Decision: dec, Label: openMarking, Detail: detail}
	if _, err := c.cfg.Audit.Append(r.Context(), rec); err != nil {
		c.log.ErrorContext(r.Context(), "audit append failed", "err", err)
	}
}

func (c *Console) disablePrincipal(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := r.PathValue("id")
	return c.adminAction(w, r, v, "POST /api/v1/principals/{id}/disable", "principal", id, "principals", agreementForm{}, func() error {
		if id == string(v.p.ID) || id == v.p.Name {
			return errors.E(errors.Op("console.disablePrincipal"), errors.Invalid, errors.Msg("you cannot disable yourself"))
		}
		_, err := c.cfg.Identity.DisablePrincipal(r.Context(), id)
		return err
	})
}

func (c *Console) setClearance(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := r.PathValue("id")
	return c.adminAction(w, r, v, "POST /api/v1/principals/{id}/clearance", "principal", id, "principals", agreementForm{}, func() error {
		_, err := c.cfg.Identity.SetClearance(r.Context(), id, strings.TrimSpace(r.PostFormValue("clearance")))
		return err
	})
}

func (c *Console) createAgreement(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.createAgreement"
	f := agreementForm{ID: r.PostFormValue("id"), Type: r.PostFormValue("type"), Title: r.PostFormValue("title"), Parties: r.PostFormValue("parties"),
		NotBefore: r.PostFormValue("not_before"), NotAfter: r.PostFormValue("not_after"), Compartments: r.PostFormValue("compartments")}
	return c.adminAction(w, r, v, "POST /api/v1/agreements", "agreement", strings.ToUpper(strings.TrimSpace(f.ID)), "agreement-create", f, func() error {
		nb, err := formDate(f.NotBefore, "not_before", false)
		if err != nil {
			return errors.E(op, err)
		}
		na, err := formDate(f.NotAfter, "not_after", true)
		if err != nil {
			return errors.E(op, err)
		}
		var parties []genesis.OrgID
		for _, p := range splitList(f.Parties) {
			parties = append(parties, genesis.OrgID(p))
		}
		_, err = c.cfg.Identity.CreateAgreement(r.Context(), v.p, identity.Agreement{ID: f.ID, Type: authz.AgreementType(f.Type), Title: strings.TrimSpace(f.Title),
			Parties: parties, NotBefore: nb, NotAfter: na, Compartments: splitList(f.Compartments)})
		return err
	})
}

func (c *Console) createOrg(w http.ResponseWriter, r *http.Request, v *viewer) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	return c.adminAction(w, r, v, "POST /api/v1/organizations", "organization", name, "org-create", agreementForm{}, func() error {
		_, err := c.cfg.Identity.CreateOrg(r.Context(), genesis.Organization{Name: name, DisplayName: strings.TrimSpace(r.PostFormValue("display_name")),
			Country: strings.TrimSpace(r.PostFormValue("country")), Kind: strings.TrimSpace(r.PostFormValue("kind"))})
		return err
	})
}

func (c *Console) endAgreement(w http.ResponseWriter, r *http.Request, v *viewer) error {
	id := strings.ToUpper(r.PathValue("id"))
	return c.adminAction(w, r, v, "POST /api/v1/agreements/{id}/end", "agreement", id, "agreements", agreementForm{}, func() error {
		_, err := c.cfg.Identity.EndAgreement(r.Context(), v.p, id)
		return err
	})
}

// formDate reads a date input (2006-01-02, UTC); end makes it the end of
// that day.
func formDate(s, field string, end bool) (time.Time, error) {
	t, err := time.Parse("2006-01-02", strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, errors.E(errors.Invalid, errors.Field(field), errors.Msg(field+" must be a date such as 2026-01-31"))
	}
	if end {
		t = t.Add(24*time.Hour - time.Microsecond)
	}
	return t, nil
}

// splitList splits a comma- or space-separated list, dropping empties.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}
