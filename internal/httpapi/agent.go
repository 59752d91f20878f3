package httpapi

import (
	"net/http"

	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/store"
)

// agentRoutes registers the research agents' endpoints. The agent service
// reads as the caller through the literature library and stores its runs
// and drafts through the catalog, which records its own decisions.
func (s *Server) agentRoutes() {
	ag := func(h handlerFunc) http.Handler {
		return s.authedWith(s.needs(s.agent != nil, "agent service", h), true)
	}
	s.Handle("POST /api/v1/agent/hypothesize", ag(s.hypothesize))
	s.Handle("GET /api/v1/agent/runs", ag(s.listAgentRuns))
	s.Handle("GET /api/v1/agent/runs/{id}", ag(s.getAgentRun))
	s.Handle("GET /api/v1/agent/hypotheses/{id}", ag(s.getHypothesis))
	s.Handle("POST /api/v1/agent/hypotheses/{id}/propose-campaign", ag(s.proposeCampaign))
	s.Handle("GET /api/v1/agent/drafts/{id}", ag(s.getDraft))
	s.Handle("POST /api/v1/agent/drafts/{id}/approve", ag(s.approveDraft))
	s.Handle("POST /api/v1/agent/drafts/{id}/start", ag(s.startDraft))
}

// hypothesize answers POST /api/v1/agent/hypothesize.
func (s *Server) hypothesize(w http.ResponseWriter, r *http.Request) error {
	var req agent.HypothesizeRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	run, err := s.agent.Hypothesize(r.Context(), me(r), req)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/agent/runs/"+run.ID)
	writeJSON(w, http.StatusCreated, run)
	return nil
}

// listAgentRuns answers GET /api/v1/agent/runs?limit=N&cursor=C.
func (s *Server) listAgentRuns(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageQuery(r)
	if err != nil {
		return err
	}
	if cursor != "" {
		if _, err := store.DecodeCursor(cursor); err != nil {
			return err
		}
	}
	runs, next, err := s.agent.Runs(r.Context(), me(r), cursor, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[agent.RunSummary]{Items: runs, Next: next})
	return nil
}

func (s *Server) getAgentRun(w http.ResponseWriter, r *http.Request) error {
	run, err := s.agent.Run(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, run)
	return nil
}

func (s *Server) getHypothesis(w http.ResponseWriter, r *http.Request) error {
	h, err := s.agent.Hypothesis(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, h)
	return nil
}

// proposeCampaign answers POST /api/v1/agent/hypotheses/{id}/propose-campaign
// (body: optional ProposeOptions).
func (s *Server) proposeCampaign(w http.ResponseWriter, r *http.Request) error {
	var opts agent.ProposeOptions
	if err := optionalJSON(r, &opts); err != nil {
		return err
	}
	d, err := s.agent.ProposeCampaign(r.Context(), me(r), r.PathValue("id"), opts)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/agent/drafts/"+d.ID)
	writeJSON(w, http.StatusCreated, d)
	return nil
}

func (s *Server) getDraft(w http.ResponseWriter, r *http.Request) error {
	d, err := s.agent.Draft(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) approveDraft(w http.ResponseWriter, r *http.Request) error {
	ctx, p, id := r.Context(), me(r), r.PathValue("id")
	if err := s.agent.Approve(ctx, p, id); err != nil {
		return err
	}
	d, err := s.agent.Draft(ctx, p, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

func (s *Server) startDraft(w http.ResponseWriter, r *http.Request) error {
	c, err := s.agent.Start(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/campaigns/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}
