package httpapi

import (
	"net/http"
	"strconv"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/library"
)

// litRoute is authed for the literature, which writes its own label-aware
// audit records (through the catalog's).
func (s *Server) litRoute(h handlerFunc) http.Handler {
	return s.authedWith(s.needs(s.lit != nil, "literature service", h), true)
}

func (s *Server) litImport(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.litImport"
	q := r.URL.Query()
	f := lit.Format(q.Get("format"))
	switch f {
	case "", lit.FormatJATS, lit.FormatArXiv, lit.FormatOAIPMH, lit.FormatCrossref, lit.FormatDataCite, lit.FormatBibTeX, lit.FormatRIS,
		lit.FormatMarkdown, lit.FormatText, lit.FormatPDF:
	default:
		return errors.E(op, errors.Invalid, errors.Field("format"), errors.Msg("format must be one of jats, arxiv, oai-pmh, crossref, datacite, bibtex, ris, markdown, text, pdf"))
	}
	name := q.Get("name")
	if len(name) > 255 {
		return errors.E(op, errors.Invalid, errors.Field("name"), errors.Msg("name is longer than 255 bytes"))
	}
	// Imports share the catalog's slots: a few run at once, more wait.
	select {
	case s.imports <- struct{}{}:
		defer func() { <-s.imports }()
	case <-r.Context().Done():
		return errors.E(op, errors.Canceled, r.Context().Err())
	}
	res, err := s.lit.Import(r.Context(), me(r), library.ImportRequest{Name: name, Format: f, Label: q.Get("label"), Project: q.Get("project"), Body: r.Body})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func queryInt(op errors.Op, r *http.Request, field string, lo, hi int) (int, error) {
	v := r.URL.Query().Get(field)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+" must be "+strconv.Itoa(lo)+".."+strconv.Itoa(hi)))
	}
	return n, nil
}

func (s *Server) litSearch(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.litSearch"
	q := r.URL.Query()
	n, err := queryInt(op, r, "limit", 1, 100)
	if err != nil {
		return err
	}
	hits, err := s.lit.Search(r.Context(), me(r), lit.Query{Text: q.Get("q"), Mode: q.Get("mode"), Limit: n, Publication: q.Get("publication")})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"hits": hits})
	return nil
}

func (s *Server) litPassage(w http.ResponseWriter, r *http.Request) error {
	p, err := s.lit.Passage(r.Context(), me(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) litFacts(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.litFacts"
	q := r.URL.Query()
	n, err := queryInt(op, r, "limit", 1, 500)
	if err != nil {
		return err
	}
	facts, next, err := s.lit.Facts(r.Context(), me(r), lit.FactQuery{Property: q.Get("property"), Material: q.Get("material"),
		Publication: q.Get("publication"), Limit: n, Cursor: q.Get("cursor")})
	if err != nil {
		return err
	}
	out := map[string]any{"facts": facts}
	if next != "" {
		out["next"] = next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) litPublication(w http.ResponseWriter, r *http.Request) error {
	p, err := s.lit.Publication(r.Context(), me(r), r.PathValue("ref"))
	if err != nil {
		return err
	}
	out := struct {
		*lit.Publication
		Passages []lit.Passage `json:"passage_list,omitempty"`
	}{Publication: p}
	if r.URL.Query().Get("passages") == "true" {
		if out.Passages, err = s.lit.Passages(r.Context(), me(r), p.ID); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
