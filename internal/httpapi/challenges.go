package httpapi

import (
	"net/http"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/store"
)

// challengeRoutes serves the national challenges. The mission service
// puts its own, label-aware records on the audit log.
func (s *Server) challengeRoutes() {
	ch := func(h handlerFunc) http.Handler {
		return s.authedWith(s.needs(s.challenges != nil, "mission service", h), true)
	}
	s.Handle("GET /api/v1/challenges", ch(s.listChallenges))
	s.Handle("POST /api/v1/challenges", ch(s.createChallenge))
	s.Handle("GET /api/v1/challenges/{challenge}", ch(s.getChallenge))
	s.Handle("PATCH /api/v1/challenges/{challenge}", ch(s.updateChallenge))
	s.Handle("GET /api/v1/challenges/{challenge}/progress", ch(s.challengeProgress))
}

// createChallenge answers POST /api/v1/challenges: the body is a
// challenge file (YAML or JSON), parsed as `genesis challenge create`
// does.
func (s *Server) createChallenge(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.createChallenge"
	b, err := readBody(r, MaxJSONBody, mediaJSON, mediaYAML)
	if err != nil {
		return errors.E(op, err)
	}
	spec, err := mission.Parse(b)
	if err != nil {
		return err
	}
	c, err := s.challenges.Create(r.Context(), me(r), spec)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/challenges/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// listChallenges answers GET /api/v1/challenges?domain=D&limit=N&cursor=C.
func (s *Server) listChallenges(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := pageQuery(r)
	if err == nil && cursor != "" {
		_, err = store.DecodeCursor(cursor)
	}
	if err != nil {
		return err
	}
	cs, next, err := s.challenges.List(r.Context(), me(r), mission.ListOptions{Domain: r.URL.Query().Get("domain"), Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, List[mission.Challenge]{Items: cs, Next: next})
	return nil
}

func (s *Server) getChallenge(w http.ResponseWriter, r *http.Request) error {
	c, err := s.challenges.Get(r.Context(), me(r), r.PathValue("challenge"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// updateChallenge answers PATCH /api/v1/challenges/{challenge}: the body
// names the fields to change (mission.Patch); lists replace whole lists.
func (s *Server) updateChallenge(w http.ResponseWriter, r *http.Request) error {
	var patch mission.Patch
	if err := decodeJSON(r, &patch); err != nil {
		return err
	}
	c, err := s.challenges.Update(r.Context(), me(r), r.PathValue("challenge"), patch)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) challengeProgress(w http.ResponseWriter, r *http.Request) error {
	pr, err := s.challenges.Progress(r.Context(), me(r), r.PathValue("challenge"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pr)
	return nil
}
