package httpapi

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/errors"
)

// MaxImportBody bounds a metadata document sent for import.
const MaxImportBody = 256 << 20

func (s *Server) importMetadata(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.importMetadata"
	q := r.URL.Query()
	f := meta.Auto
	if v := q.Get("format"); v != "" {
		var err error
		if f, err = meta.ParseFormat(v); err != nil {
			return errors.E(op, errors.Invalid, errors.Field("format"), err)
		}
	}
	// A few imports run at once; more wait. Each holds at most one batch
	// and a document's envelope (see catalog.Import and meta.ImportEach).
	select {
	case s.imports <- struct{}{}:
		defer func() { <-s.imports }()
	case <-r.Context().Done():
		return errors.E(op, errors.Canceled, r.Context().Err())
	}
	body := io.LimitReader(r.Body, MaxImportBody+1)
	cr := &countingReader{r: body}
	sum, err := s.catalog.Import(r.Context(), me(r), cr, catalog.ImportSpec{Format: f, Label: q.Get("label"), Project: q.Get("project")})
	if cr.n > MaxImportBody {
		return errors.E(op, errors.TooLarge, errors.Msg("the document exceeds 256 MiB"))
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sum)
	return nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (s *Server) getMetadata(w http.ResponseWriter, r *http.Request) error {
	_, m, err := s.catalog.GetMetadata(r.Context(), me(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// SetMetadataRequest is the body of PUT /api/v1/assets/{name}/metadata.
type SetMetadataRequest struct {
	Core            meta.Core       `json:"core"`
	ExtensionSchema string          `json:"extension_schema,omitempty"`
	Extension       json.RawMessage `json:"extension,omitempty"`
}

func (s *Server) setMetadata(w http.ResponseWriter, r *http.Request) error {
	var req SetMetadataRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	m, err := s.catalog.SetMetadata(r.Context(), me(r), r.PathValue("name"), req.Core, req.ExtensionSchema, req.Extension)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

func (s *Server) exportMetadata(w http.ResponseWriter, r *http.Request) error {
	b, err := s.catalog.Export(r.Context(), me(r), r.PathValue("name"), meta.Format(r.URL.Query().Get("format")))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
	return nil
}

func (s *Server) registerSchema(w http.ResponseWriter, r *http.Request) error {
	b, err := readBody(r, meta.MaxSchemaSize, mediaJSON)
	if err != nil {
		return errors.E(errors.Op("httpapi.registerSchema"), err)
	}
	if err := s.catalog.RegisterExtensionSchema(r.Context(), me(r), r.PathValue("name"), b); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
