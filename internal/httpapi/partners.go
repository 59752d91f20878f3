package httpapi

import (
	"net/http"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission/partners"
)

// partnerRoutes serves the partnerships portfolio: every organisation's
// agreements (as identity shows them to the caller), what each agreement's
// marking covers, and what each partner contributed and used, counted over
// what the caller may read.
func (s *Server) partnerRoutes() {
	pr := func(h handlerFunc) http.Handler {
		return s.authed(s.needs(s.partners != nil, "partnerships portfolio", h))
	}
	s.Handle("GET /api/v1/partners", pr(s.listPartners))
	s.Handle("GET /api/v1/partners/{org}", pr(s.getPartner))
}

// partnerOptions reads ?expiring=60d&expiring_only=true.
func partnerOptions(r *http.Request) (partners.Options, error) {
	const op errors.Op = "httpapi.partners"
	var o partners.Options
	q := r.URL.Query()
	if v, ok := q["expiring"]; ok {
		d, err := partners.ParseWindow(v[0])
		if err != nil {
			return o, err
		}
		o.ExpiringWithin = d
	}
	switch q.Get("expiring_only") {
	case "", "false":
	case "true":
		o.ExpiringOnly = true
	default:
		return o, errors.E(op, errors.Invalid, errors.Field("expiring_only"), errors.Msg("expiring_only must be true or false"))
	}
	return o, nil
}

func (s *Server) listPartners(w http.ResponseWriter, r *http.Request) error {
	o, err := partnerOptions(r)
	if err != nil {
		return err
	}
	pf, err := s.partners.List(r.Context(), me(r), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pf)
	return nil
}

func (s *Server) getPartner(w http.ResponseWriter, r *http.Request) error {
	o, err := partnerOptions(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("expiring_only") {
		return errors.E(errors.Op("httpapi.getPartner"), errors.Invalid, errors.Field("expiring_only"), errors.Msg("expiring_only applies to the list"))
	}
	p, err := s.partners.Get(r.Context(), me(r), r.PathValue("org"), o)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}
