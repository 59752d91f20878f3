package httpapi

import (
	"net/http"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
)

// FsckRequest is the body of POST /api/v1/admin/fsck.
type FsckRequest struct {
	Quick bool `json:"quick,omitempty"`
}

func (s *Server) fsck(w http.ResponseWriter, r *http.Request) error {
	var req FsckRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	rep, err := s.catalog.Fsck(r.Context(), me(r), req.Quick)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// GCRequest is the body of POST /api/v1/admin/gc.
type GCRequest struct {
	GraceSeconds int64 `json:"grace_seconds,omitempty"` // default 24 h
	DryRun       bool  `json:"dry_run,omitempty"`
}

func (s *Server) gc(w http.ResponseWriter, r *http.Request) error {
	var req GCRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	grace := 24 * time.Hour
	if req.GraceSeconds != 0 {
		if req.GraceSeconds < 0 || req.GraceSeconds > 10*365*24*3600 {
			return errors.E(errors.Op("httpapi.gc"), errors.Invalid, errors.Field("grace_seconds"), errors.Msg("grace_seconds out of range"))
		}
		grace = time.Duration(req.GraceSeconds) * time.Second
	}
	rep, err := s.catalog.GC(r.Context(), me(r), grace, req.DryRun)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
