package httpapi

import (
	"net/http"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
)

// mcpRoute serves the Model Context Protocol endpoint behind the API's
// own bearer authentication: no token or a bad one is the same 401
// problem document as anywhere in the API; otherwise the MCP handler runs
// with the principal and the request ID in its context, and every tool
// it runs decides and audits as that principal (internal/mcp). The body
// is bounded by the MCP handler (MaxJSONBody) and read under the same
// body deadlines as every request.
func (s *Server) mcpRoute(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx := genesis.NewContext(r.Context(), p)
		h.ServeHTTP(w, r.WithContext(catalog.WithRequestID(ctx, requestID(ctx))))
	})
}
