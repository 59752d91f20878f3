package httpapi

import (
	"net/http"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab/instruments"
)

// The lab's instruments, workcells and hazardous-action approvals. Every
// authenticated principal reads instruments and workcells (OPEN
// infrastructure records); operators and administrators change and
// operate them (lab/instruments decides).

func (s *Server) listInstruments(w http.ResponseWriter, r *http.Request) error {
	ins, err := s.instruments.List(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ins))
	return nil
}

func (s *Server) addInstrument(w http.ResponseWriter, r *http.Request) error {
	var req instruments.Spec
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	in, err := s.instruments.Add(r.Context(), me(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, in)
	return nil
}

func (s *Server) getInstrument(w http.ResponseWriter, r *http.Request) error {
	in, err := s.instruments.Get(r.Context(), me(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

func (s *Server) removeInstrument(w http.ResponseWriter, r *http.Request) error {
	if err := s.instruments.Remove(r.Context(), me(r), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// InstrumentStatusRequest is the body of POST /api/v1/instruments/{name}/status.
type InstrumentStatusRequest struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

func (s *Server) setInstrumentStatus(w http.ResponseWriter, r *http.Request) error {
	var req InstrumentStatusRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	in, err := s.instruments.SetStatus(r.Context(), me(r), r.PathValue("name"), req.Status, req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// instrumentVerb serves the body-less operations on one instrument.
func (s *Server) instrumentVerb(do func(reg *instruments.Registry, r *http.Request) (*instruments.Instrument, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		in, err := do(s.instruments, r)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, in)
		return nil
	}
}

func (s *Server) estopInstrument(w http.ResponseWriter, r *http.Request) error {
	return s.instrumentVerb(func(reg *instruments.Registry, r *http.Request) (*instruments.Instrument, error) {
		return reg.EStop(r.Context(), me(r), r.PathValue("name"))
	})(w, r)
}

func (s *Server) resetInstrument(w http.ResponseWriter, r *http.Request) error {
	return s.instrumentVerb(func(reg *instruments.Registry, r *http.Request) (*instruments.Instrument, error) {
		return reg.Reset(r.Context(), me(r), r.PathValue("name"))
	})(w, r)
}

func (s *Server) unlockInstrument(w http.ResponseWriter, r *http.Request) error {
	return s.instrumentVerb(func(reg *instruments.Registry, r *http.Request) (*instruments.Instrument, error) {
		return reg.Unlock(r.Context(), me(r), r.PathValue("name"))
	})(w, r)
}

func (s *Server) refreshInstrument(w http.ResponseWriter, r *http.Request) error {
	return s.instrumentVerb(func(reg *instruments.Registry, r *http.Request) (*instruments.Instrument, error) {
		return reg.Refresh(r.Context(), me(r), r.PathValue("name"))
	})(w, r)
}

// LockRequest is the body of POST /api/v1/instruments/{name}/lock.
type LockRequest struct {
	Campaign string `json:"campaign"`
}

func (s *Server) lockInstrument(w http.ResponseWriter, r *http.Request) error {
	var req LockRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	in, err := s.instruments.Lock(r.Context(), me(r), r.PathValue("name"), req.Campaign)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, in)
	return nil
}

// EStopAllResponse answers POST /api/v1/instruments/estop.
type EStopAllResponse struct {
	Stopped int `json:"stopped"`
}

func (s *Server) estopAll(w http.ResponseWriter, r *http.Request) error {
	n, err := s.instruments.EStopAll(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, EStopAllResponse{Stopped: n})
	return nil
}

func (s *Server) listWorkcells(w http.ResponseWriter, r *http.Request) error {
	ws, err := s.instruments.Workcells(r.Context(), me(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(ws))
	return nil
}

func (s *Server) addWorkcell(w http.ResponseWriter, r *http.Request) error {
	var req instruments.WorkcellSpec
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	wc, err := s.instruments.AddWorkcell(r.Context(), me(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, wc)
	return nil
}

func (s *Server) getWorkcell(w http.ResponseWriter, r *http.Request) error {
	wc, err := s.instruments.Workcell(r.Context(), me(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wc)
	return nil
}

func (s *Server) listApprovals(w http.ResponseWriter, r *http.Request) error {
	all := false
	switch v := r.URL.Query().Get("all"); v {
	case "", "false":
	case "true":
		all = true
	default:
		return errors.E(errors.Op("httpapi.listApprovals"), errors.Invalid, errors.Field("all"), errors.Msg("all must be true or false"))
	}
	as, err := s.instruments.Approvals(r.Context(), me(r), all)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(as))
	return nil
}

func (s *Server) approve(w http.ResponseWriter, r *http.Request) error {
	a, err := s.instruments.Approve(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// DenyRequest is the body of POST /api/v1/approvals/{id}/deny.
type DenyRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) deny(w http.ResponseWriter, r *http.Request) error {
	var req DenyRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	a, err := s.instruments.Deny(r.Context(), me(r), r.PathValue("id"), req.Reason)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}
