package httpapi

import (
	"io"
	"net/http"
	"strconv"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/errors"
)

func (s *Server) submitJob(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.submitJob"
	b, err := readBody(r, compute.MaxJobSpecSize, mediaJSON, mediaYAML)
	if err != nil {
		return errors.E(op, err)
	}
	spec, err := compute.ParseJobSpec(b)
	if err != nil {
		return err
	}
	j, err := s.jobs.Submit(r.Context(), me(r), spec)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/jobs/"+j.ID)
	writeJSON(w, http.StatusCreated, j)
	return nil
}

// listJobs answers GET /api/v1/jobs?owner=me|ID&state=S&limit=N&cursor=C.
func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageQuery(r)
	if err != nil {
		return err
	}
	o := jobs.ListOptions{Owner: r.URL.Query().Get("owner"), State: r.URL.Query().Get("state"), Limit: limit, Cursor: cursor}
	if o.Owner == "me" {
		o.Owner = string(me(r).ID)
	}
	js, next, err := s.jobs.List(r.Context(), me(r), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[jobs.Job]{Items: js, Next: next})
	return nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) error {
	j, err := s.jobs.Get(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) error {
	j, err := s.jobs.Cancel(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) explainJob(w http.ResponseWriter, r *http.Request) error {
	j, vs, err := s.jobs.Explain(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"job": j.ID, "state": j.State, "label": j.Label, "sites": vs})
	return nil
}

func (s *Server) jobLogs(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.jobLogs"
	q := r.URL.Query()
	stream := compute.Stdout
	switch q.Get("stream") {
	case "", "stdout":
	case "stderr":
		stream = compute.Stderr
	default:
		return errors.E(op, errors.Invalid, errors.Field("stream"), errors.Msg("stream must be stdout or stderr"))
	}
	var off int64
	if v := q.Get("offset"); v != "" {
		var err error
		if off, err = strconv.ParseInt(v, 10, 64); err != nil || off < 0 {
			return errors.E(op, errors.Invalid, errors.Field("offset"), errors.Msg("offset must be a byte count"))
		}
	}
	rc, err := s.jobs.Logs(r.Context(), me(r), r.PathValue("id"), stream, off)
	if err != nil {
		return err
	}
	defer rc.Close()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.Copy(w, io.LimitReader(rc, 64<<20))
	return nil
}

// AllocationRequest is the body of POST /api/v1/allocations.
type AllocationRequest struct {
	Project   string  `json:"project"`
	Site      string  `json:"site"`
	NodeHours float64 `json:"node_hours"`
	GPUHours  float64 `json:"gpu_hours,omitempty"`
}

func (s *Server) setAllocation(w http.ResponseWriter, r *http.Request) error {
	var req AllocationRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	a, err := s.jobs.SetAllocation(r.Context(), me(r), req.Project, req.Site, req.NodeHours, req.GPUHours)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) listAllocations(w http.ResponseWriter, r *http.Request) error {
	project := r.URL.Query().Get("project")
	if project == "" {
		return errors.E(errors.Op("httpapi.listAllocations"), errors.Invalid, errors.Field("project"), errors.Msg("name the project"))
	}
	as, err := s.jobs.Allocations(r.Context(), me(r), project)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list(as))
	return nil
}
