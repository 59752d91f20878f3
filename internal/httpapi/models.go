package httpapi

import (
	"net/http"

	"github.com/genesis-science/genesis/internal/catalog"
)

// RegisterModelRequest is the body of POST /api/v1/models.
type RegisterModelRequest struct {
	Name        string   `json:"name"`
	Title       string   `json:"title,omitempty"`
	Description string   `json:"description,omitempty"`
	Project     string   `json:"project,omitempty"`
	LabelFloor  string   `json:"label_floor,omitempty"`
	TrainedOn   []string `json:"trained_on"`
}

func (s *Server) registerModel(w http.ResponseWriter, r *http.Request) error {
	var req RegisterModelRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	refs, err := parseRefs("httpapi.registerModel", "trained_on", req.TrainedOn)
	if err != nil {
		return err
	}
	a, err := s.catalog.RegisterModel(r.Context(), me(r), catalog.RegisterSpec{Name: req.Name, Title: req.Title, Description: req.Description,
		Project: req.Project, Floor: req.LabelFloor, TrainedOn: refs})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) listModels(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageQuery(r)
	if err != nil {
		return err
	}
	as, next, err := s.catalog.List(r.Context(), me(r), catalog.KindModel, catalog.ListOptions{Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[catalog.Asset]{Items: as, Next: next})
	return nil
}

// VersionView is a version as the API shows it, with model metadata for
// model versions.
type VersionView struct {
	catalog.Version
	Model *catalog.ModelMeta `json:"model,omitempty"`
}
