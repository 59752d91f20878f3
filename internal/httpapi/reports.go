package httpapi

import (
	"bytes"
	"net/http"

	"github.com/genesis-science/genesis/internal/mission/report"
)

func (s *Server) reportRoutes() {
	// The report service audits each report it makes (report.generate,
	// labelled with the report's banner).
	s.Handle("GET /api/v1/reports/annual", s.authedWith(s.needs(s.reports != nil, "report service", s.annualReport), true))
}

// annualReport answers GET /api/v1/reports/annual?year=YYYY&format=html|pdf:
// the annual progress report as the caller may read it, whole or not at
// all.
func (s *Server) annualReport(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	year, err := report.ParseYear(q.Get("year"), s.now())
	if err != nil {
		return err
	}
	format, err := report.ParseFormat(q.Get("format"))
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if _, err := s.reports.Generate(r.Context(), me(r), year, format, &b); err != nil {
		return err
	}
	w.Header().Set("Content-Type", report.MediaType(format))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if format == report.FormatHTML {
		// The page is self-contained: nothing may load, nothing may run.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
	}
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return nil
}
