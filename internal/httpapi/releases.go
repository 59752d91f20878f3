package httpapi

import (
	"net/http"
)

// ReleaseRequest is the body of POST /api/v1/assets/{name}/releases.
type ReleaseRequest struct {
	Version       int64  `json:"version,omitempty"` // 0: latest
	ToLabel       string `json:"to_label"`
	Justification string `json:"justification"`
}

func (s *Server) requestRelease(w http.ResponseWriter, r *http.Request) error {
	var req ReleaseRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	rel, err := s.catalog.RequestRelease(r.Context(), me(r), r.PathValue("name"), req.Version, req.ToLabel, req.Justification)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/releases/"+rel.ID)
	writeJSON(w, http.StatusCreated, rel)
	return nil
}

func (s *Server) listReleases(w http.ResponseWriter, r *http.Request) error {
	rs, err := s.catalog.Releases(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(rs))
	return nil
}

func (s *Server) getRelease(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.catalog.Release(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rel)
	return nil
}

func (s *Server) approveRelease(w http.ResponseWriter, r *http.Request) error {
	return s.decideRelease(w, r, true)
}

func (s *Server) rejectRelease(w http.ResponseWriter, r *http.Request) error {
	return s.decideRelease(w, r, false)
}

func (s *Server) decideRelease(w http.ResponseWriter, r *http.Request, approve bool) error {
	rel, err := s.catalog.DecideRelease(r.Context(), me(r), r.PathValue("id"), approve)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rel)
	return nil
}
