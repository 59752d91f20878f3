package httpapi

import (
	"net/http"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
)

// CreateAgreementRequest is the body of POST /api/v1/agreements.
type CreateAgreementRequest struct {
	ID           string              `json:"id"`
	Type         authz.AgreementType `json:"type"`
	Title        string              `json:"title,omitempty"`
	Parties      []string            `json:"parties"`
	NotBefore    time.Time           `json:"not_before"`
	NotAfter     time.Time           `json:"not_after"`
	Compartments []string            `json:"compartments,omitempty"`
	IPTerms      string              `json:"ip_terms,omitempty"`
}

func (s *Server) createAgreement(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "record agreements"); err != nil {
		return err
	}
	var req CreateAgreementRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	parties := make([]genesis.OrgID, len(req.Parties))
	for i, p := range req.Parties {
		parties[i] = genesis.OrgID(p)
	}
	a, err := s.id.CreateAgreement(r.Context(), me(r), identity.Agreement{
		ID: req.ID, Type: req.Type, Title: req.Title, Parties: parties,
		NotBefore: req.NotBefore, NotAfter: req.NotAfter, Compartments: req.Compartments, IPTerms: req.IPTerms,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/agreements/"+a.ID)
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) listAgreements(w http.ResponseWriter, r *http.Request) error {
	as, err := s.id.Agreements(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(as))
	return nil
}

func (s *Server) getAgreement(w http.ResponseWriter, r *http.Request) error {
	a, err := s.id.Agreement(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) endAgreement(w http.ResponseWriter, r *http.Request) error {
	a, err := s.id.EndAgreement(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// SetClearanceRequest is the body of POST /api/v1/principals/{id}/clearance.
type SetClearanceRequest struct {
	Clearance string `json:"clearance"`
}

func (s *Server) setClearance(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.id.Principal(r.Context(), me(r), r.PathValue("id")); err != nil {
		return err
	}
	if p := me(r); !p.IsAdmin() && !p.HasRole(genesis.RoleClassificationOfficer) {
		return errors.E(errors.Op("httpapi.setClearance"), errors.Permission, errors.Msg("only administrators and classification officers set clearances"))
	}
	var req SetClearanceRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	p, err := s.id.SetClearance(r.Context(), r.PathValue("id"), req.Clearance)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// RegisterCompartmentRequest is the body of POST /api/v1/compartments.
type RegisterCompartmentRequest struct {
	Name string `json:"name"`
}

// Compartment is a known compartment, as listed.
type Compartment struct {
	Name string `json:"name"`
}

func (s *Server) registerCompartment(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "register compartments"); err != nil {
		return err
	}
	var req RegisterCompartmentRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	name, err := s.id.RegisterCompartment(r.Context(), me(r), req.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, Compartment{Name: name})
	return nil
}

// listCompartments shows every known compartment to administrators and
// classification officers only: a compartment's name is need-to-know.
func (s *Server) listCompartments(w http.ResponseWriter, r *http.Request) error {
	if p := me(r); !p.IsAdmin() && !p.HasRole(genesis.RoleClassificationOfficer) {
		return errors.E(errors.Op("httpapi.listCompartments"), errors.Permission, errors.Msg("only administrators and classification officers list compartments"))
	}
	names, err := s.id.Compartments(r.Context())
	if err != nil {
		return err
	}
	out := make([]Compartment, len(names))
	for i, n := range names {
		out[i] = Compartment{Name: n}
	}
	writeJSON(w, http.StatusOK, list(out))
	return nil
}
