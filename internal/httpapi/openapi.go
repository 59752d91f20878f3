package httpapi

import (
	_ "embed"
	"net/http"
	"sync"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/goccy/go-yaml"
)

//go:embed openapi.yaml
var openapiYAML []byte

var openapiJSON = sync.OnceValues(func() ([]byte, error) { return yaml.YAMLToJSON(openapiYAML) })

// OpenAPI returns the API's OpenAPI 3.1 document as JSON.
func OpenAPI() ([]byte, error) { return openapiJSON() }

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	b, err := OpenAPI()
	if err != nil {
		return errors.E(errors.Op("httpapi.openapi"), errors.Internal, err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
	return nil
}
