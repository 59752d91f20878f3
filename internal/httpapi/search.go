package httpapi

import (
	"net/http"
	"strconv"

	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
)

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	query := search.Query{Text: q.Get("q"), Domain: q.Get("domain"), Kind: q.Get("kind"), Org: q.Get("org"),
		Keywords: q["keyword"], Cursor: q.Get("cursor")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > search.MaxLimit {
			return errors.E(errors.Op("httpapi.search"), errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1.."+strconv.Itoa(search.MaxLimit)))
		}
		query.Limit = n
	}
	if v, ok := q["synthetic"]; ok {
		switch v[0] {
		case "true", "false":
			b := v[0] == "true"
			query.Synthetic = &b
		default:
			return errors.E(errors.Op("httpapi.search"), errors.Invalid, errors.Field("synthetic"), errors.Msg("synthetic must be true or false"))
		}
	}
	res, err := s.catalog.Search(r.Context(), me(r), query)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) suggest(w http.ResponseWriter, r *http.Request) error {
	n := 10
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 100 {
			return errors.E(errors.Op("httpapi.suggest"), errors.Invalid, errors.Field("n"), errors.Msg("n must be 1..100"))
		}
	}
	out, err := s.catalog.Suggest(r.Context(), me(r), r.URL.Query().Get("prefix"), n)
	if err != nil {
		return err
	}
	if out == nil {
		out = []search.Suggestion{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"suggestions": out})
	return nil
}
