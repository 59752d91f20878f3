package httpapi

import (
	"net/http"

	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/lab/instruments"
)

// SiteRequest is the body of POST /api/v1/sites.
type SiteRequest struct {
	Name             string         `json:"name"`
	Kind             string         `json:"kind"`
	Endpoint         string         `json:"endpoint,omitempty"`
	Credentials      string         `json:"credentials,omitempty"`
	Accreditation    string         `json:"accreditation"`
	OperatorOrg      string         `json:"operator_org,omitempty"`
	Nationalities    []string       `json:"operator_nationalities,omitempty"`
	Capacity         sites.Capacity `json:"capacity"`
	PowerCapKW       float64        `json:"power_cap_kw,omitempty"`
	HeartbeatSeconds int64          `json:"heartbeat_seconds,omitempty"`
}

func (s *Server) addSite(w http.ResponseWriter, r *http.Request) error {
	var req SiteRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	site, err := s.sites.Add(r.Context(), me(r), sites.Spec{Name: req.Name, Kind: req.Kind, Endpoint: req.Endpoint, Credentials: req.Credentials,
		Accreditation: req.Accreditation, OperatorOrg: req.OperatorOrg, Nationalities: req.Nationalities, Capacity: req.Capacity,
		PowerCapKW: req.PowerCapKW, HeartbeatSeconds: req.HeartbeatSeconds})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, site)
	return nil
}

func (s *Server) listSites(w http.ResponseWriter, r *http.Request) error {
	ss, err := s.sites.List(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ss))
	return nil
}

func (s *Server) getSite(w http.ResponseWriter, r *http.Request) error {
	site, err := s.sites.Get(r.Context(), me(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, site)
	return nil
}

func (s *Server) removeSite(w http.ResponseWriter, r *http.Request) error {
	if err := s.sites.Remove(r.Context(), me(r), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DrainRequest is the body of POST /api/v1/sites/{name}/drain.
type DrainRequest struct {
	Reason string `json:"reason,omitempty"`
}

func (s *Server) drainSite(w http.ResponseWriter, r *http.Request) error {
	var req DrainRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	site, err := s.sites.Drain(r.Context(), me(r), r.PathValue("name"), req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, site)
	return nil
}

// CredentialsRequest is the body of PUT /api/v1/sites/{name}/credentials.
type CredentialsRequest struct {
	Credentials string `json:"credentials"`
}

func (s *Server) setSiteCredentials(w http.ResponseWriter, r *http.Request) error {
	var req CredentialsRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	site, err := s.sites.SetCredentials(r.Context(), me(r), r.PathValue("name"), req.Credentials)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, site)
	return nil
}

// HeartbeatRequest is the body of POST /api/v1/sites/{name}/heartbeat.
type HeartbeatRequest struct {
	Status      string  `json:"status,omitempty"`
	Reason      string  `json:"reason,omitempty"`
	PowerDrawKW float64 `json:"power_draw_kw,omitempty"`
}

func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) error {
	var req HeartbeatRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	site, err := s.sites.Heartbeat(r.Context(), me(r), r.PathValue("name"), req.Status, req.Reason, req.PowerDrawKW)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, site)
	return nil
}

func (s *Server) inventory(w http.ResponseWriter, r *http.Request) error {
	inv, err := s.sites.Inventory(r.Context(), me(r))
	if err != nil {
		return err
	}
	if s.instruments == nil {
		writeJSON(w, http.StatusOK, inv)
		return nil
	}
	// Instruments appear beside sites.
	lab, err := s.instruments.Inventory(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, InventoryResponse{Inventory: inv, Instruments: lab})
	return nil
}

// InventoryResponse is the body of GET /api/v1/inventory: the sites'
// inventory, with the lab's instruments beside them.
type InventoryResponse struct {
	*sites.Inventory
	Instruments *instruments.Inventory `json:"instruments,omitempty"`
}
