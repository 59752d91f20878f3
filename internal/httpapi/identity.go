package httpapi

import (
	"net/http"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
)

// List is the envelope of every list response.
type List[T any] struct {
	Items []T `json:"items"`
	// Next is the cursor of the next page, for lists that page; "" after
	// the last.
	Next string `json:"next,omitempty"`
}

func list[T any](items []T) List[T] {
	if items == nil {
		items = []T{}
	}
	return List[T]{Items: items}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func me(r *http.Request) *genesis.Principal { return genesis.FromContext(r.Context()) }

func requireAdmin(r *http.Request, what string) error {
	if !me(r).IsAdmin() {
		return errors.E(errors.Op("httpapi"), errors.Permission, errors.Msg("only administrators can "+what))
	}
	return nil
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, me(r))
	return nil
}

// CreatePrincipalRequest is the body of POST /api/v1/principals.
type CreatePrincipalRequest struct {
	Name        string                `json:"name"`
	Kind        genesis.PrincipalKind `json:"kind,omitempty"`
	DisplayName string                `json:"display_name,omitempty"`
	Email       string                `json:"email,omitempty"`
	Org         string                `json:"org,omitempty"`
	Nationality string                `json:"nationality,omitempty"`
	Roles       []genesis.Role        `json:"roles,omitempty"`
	// Clearance defaults to OPEN when absent; present and empty is refused.
	Clearance   *string `json:"clearance,omitempty"`
	OIDCIssuer  string  `json:"oidc_issuer,omitempty"`
	OIDCSubject string  `json:"oidc_subject,omitempty"`
}

func (s *Server) createPrincipal(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "create principals"); err != nil {
		return err
	}
	var req CreatePrincipalRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	clearance := "OPEN"
	if req.Clearance != nil {
		clearance = *req.Clearance
	}
	p, err := s.id.CreatePrincipal(r.Context(), genesis.Principal{
		Name: req.Name, Kind: req.Kind, DisplayName: req.DisplayName, Email: req.Email,
		Org: genesis.OrgID(req.Org), Nationality: req.Nationality, Roles: req.Roles,
		Clearance: clearance, OIDCIssuer: req.OIDCIssuer, OIDCSubject: req.OIDCSubject,
	})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/principals/"+string(p.ID))
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) listPrincipals(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.id.Principals(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ps))
	return nil
}

func (s *Server) getPrincipal(w http.ResponseWriter, r *http.Request) error {
	p, err := s.id.Principal(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// UpdatePrincipalRequest is the body of PATCH /api/v1/principals/{id}: an
// absent field is left as it is.
type UpdatePrincipalRequest struct {
	Org   *string         `json:"org,omitempty"`   // name or ID; "" for none
	Roles *[]genesis.Role `json:"roles,omitempty"` // replaces the global roles
}

func (s *Server) updatePrincipal(w http.ResponseWriter, r *http.Request) error {
	// Non-administrators cannot see other principals: NotExist, not 403.
	if _, err := s.id.Principal(r.Context(), me(r), r.PathValue("id")); err != nil {
		return err
	}
	if err := requireAdmin(r, "change principals' organisations and roles"); err != nil {
		return err
	}
	var req UpdatePrincipalRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	u := identity.PrincipalUpdate{Roles: req.Roles}
	if req.Org != nil {
		org := genesis.OrgID(*req.Org)
		u.Org = &org
	}
	p, err := s.id.UpdatePrincipal(r.Context(), r.PathValue("id"), u)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) disablePrincipal(w http.ResponseWriter, r *http.Request) error {
	// Non-administrators cannot see other principals: NotExist, not 403.
	if _, err := s.id.Principal(r.Context(), me(r), r.PathValue("id")); err != nil {
		return err
	}
	if err := requireAdmin(r, "disable principals"); err != nil {
		return err
	}
	p, err := s.id.DisablePrincipal(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// CreateTokenRequest is the body of POST /api/v1/tokens.
type CreateTokenRequest struct {
	Name string `json:"name,omitempty"`
	// ExpiresInSeconds is the token's lifetime; 0 means no expiry.
	ExpiresInSeconds int64 `json:"expires_in_seconds,omitempty"`
}

// CreateTokenResponse carries the secret, shown this once.
type CreateTokenResponse struct {
	Token  *genesis.Token `json:"token"`
	Secret string         `json:"secret"`
}

func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	return s.issueToken(w, r, me(r).ID)
}

func (s *Server) createTokenFor(w http.ResponseWriter, r *http.Request) error {
	p, err := s.id.Principal(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	if p.ID != me(r).ID {
		if err := requireAdmin(r, "issue tokens for others"); err != nil {
			return err
		}
	}
	return s.issueToken(w, r, p.ID)
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request, pid genesis.PrincipalID) error {
	var req CreateTokenRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	const maxTTL = 10 * 365 * 24 * time.Hour
	if req.ExpiresInSeconds < 0 || req.ExpiresInSeconds > int64(maxTTL/time.Second) {
		return errors.E(errors.Op("httpapi.issueToken"), errors.Invalid, errors.Field("expires_in_seconds"), errors.Msg("expires_in_seconds must be between 0 (no expiry) and ten years"))
	}
	t, secret, err := s.id.CreateToken(r.Context(), pid, req.Name, time.Duration(req.ExpiresInSeconds)*time.Second)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, CreateTokenResponse{Token: t, Secret: secret})
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.id.Tokens(r.Context(), me(r).ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ts))
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.id.RevokeToken(r.Context(), me(r).ID, genesis.TokenID(r.PathValue("id"))); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// CreateOrgRequest is the body of POST /api/v1/organizations.
type CreateOrgRequest struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
	Country     string `json:"country"`
	Kind        string `json:"kind,omitempty"`
}

func (s *Server) createOrg(w http.ResponseWriter, r *http.Request) error {
	if err := requireAdmin(r, "create organisations"); err != nil {
		return err
	}
	var req CreateOrgRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	o, err := s.id.CreateOrg(r.Context(), genesis.Organization{Name: req.Name, DisplayName: req.DisplayName, Country: req.Country, Kind: req.Kind})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/organizations/"+string(o.ID))
	writeJSON(w, http.StatusCreated, o)
	return nil
}

func (s *Server) listOrgs(w http.ResponseWriter, r *http.Request) error {
	os, err := s.id.Orgs(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(os))
	return nil
}

func (s *Server) getOrg(w http.ResponseWriter, r *http.Request) error {
	o, err := s.id.Org(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}

// CreateProjectRequest is the body of POST /api/v1/projects.
type CreateProjectRequest struct {
	Name        string `json:"name"`
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Org         string `json:"org,omitempty"`
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) error {
	var req CreateProjectRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	p, err := s.id.CreateProject(r.Context(), me(r), genesis.Project{Name: req.Name, Title: req.Title, Description: req.Description, Org: genesis.OrgID(req.Org)})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/projects/"+string(p.ID))
	writeJSON(w, http.StatusCreated, p)
	return nil
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.id.Projects(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ps))
	return nil
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	p, err := s.id.Project(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// AddMemberRequest is the body of POST /api/v1/projects/{id}/members.
type AddMemberRequest struct {
	Principal string       `json:"principal"`
	Role      genesis.Role `json:"role"`
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request) error {
	var req AddMemberRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	m, err := s.id.AddMember(r.Context(), me(r), r.PathValue("id"), req.Principal, req.Role)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, m)
	return nil
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	ms, err := s.id.Members(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ms))
	return nil
}
