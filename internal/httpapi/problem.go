package httpapi

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/genesis-science/genesis/internal/errors"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Extensions.
	Kind      string `json:"kind,omitempty"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// kindStatus is the one table that maps error kinds to HTTP statuses.
var kindStatus = map[errors.Kind]int{
	errors.Invalid:          http.StatusBadRequest,
	errors.NotExist:         http.StatusNotFound,
	errors.Exist:            http.StatusConflict,
	errors.Conflict:         http.StatusConflict,
	errors.Permission:       http.StatusForbidden,
	errors.Unauthenticated:  http.StatusUnauthorized,
	errors.Transient:        http.StatusServiceUnavailable,
	errors.Unavailable:      http.StatusServiceUnavailable,
	errors.TooLarge:         http.StatusRequestEntityTooLarge,
	errors.Canceled:         499, // client closed request (nginx's convention)
	errors.UnsupportedMedia: http.StatusUnsupportedMediaType,
	errors.Internal:         http.StatusInternalServerError,
	errors.Other:            http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for err's kind.
func StatusOf(err error) int {
	if s, ok := kindStatus[errors.KindOf(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// problemFor builds the problem document for err. Only user-safe parts of
// err reach it: the kind, the field, and the message set with errors.Msg.
// NotExist and Unauthenticated carry no detail at all, so that a hidden
// object and a missing one look the same.
func problemFor(err error, requestID string) Problem {
	k := errors.KindOf(err)
	status := StatusOf(err)
	p := Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Kind:      k.String(),
		RequestID: requestID,
	}
	if status == 499 {
		p.Title = "Client Closed Request"
	}
	switch k {
	case errors.NotExist:
		p.Detail = "not found"
	case errors.Unauthenticated:
		p.Kind = ""
	case errors.Internal, errors.Other:
		p.Kind = errors.Internal.String()
		p.Detail = "internal error; the request ID identifies it in the server log"
	default:
		p.Detail = errors.SafeMessage(err)
		p.Field = errors.FieldOf(err)
	}
	return p
}

// writeError writes err as a problem document and logs what the caller
// does not see.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	writeProblem(w, s.problem(r, err))
}

// problem is the problem document for err in answer to r, logged (server
// faults as errors, refusals at debug level).
func (s *Server) problem(r *http.Request, err error) Problem {
	id := requestID(r.Context())
	p := problemFor(err, id)
	if p.Status >= 500 {
		s.log.ErrorContext(r.Context(), "request failed", "request_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.DebugContext(r.Context(), "request refused", "request_id", id, "status", p.Status, "err", err)
	}
	return p
}

func writeProblem(w http.ResponseWriter, p Problem) {
	if p.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="genesis"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("encode response", "err", err)
		writeProblem(w, Problem{Type: "about:blank", Title: "Internal Server Error", Status: 500})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
	w.Write([]byte("\n"))
}
