package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/telemetry"
)

// Route labels for requests no pattern matched.
const (
	routeUnmatched = "unmatched" // answered 404/405 by the API
	routeConsole   = "console"   // served by the web console
)

// ReadyCheck is one dependency /readyz checks: Check returns nil while the
// dependency can be used. Name appears in the answer ("blob store").
type ReadyCheck struct {
	Name  string
	Check func(ctx context.Context) error
}

type routeKey struct{}

// setRoute tells observe which route pattern served the request.
func setRoute(ctx context.Context, pattern string) {
	if p, ok := ctx.Value(routeKey{}).(*string); ok {
		*p = pattern
	}
}

// routeLabel is the label for a ServeMux pattern: the pattern without its
// method (the method is a label of its own), or routeUnmatched.
func routeLabel(pattern string) string {
	if pattern == "" {
		return routeUnmatched
	}
	if i := strings.IndexByte(pattern, ' '); i >= 0 {
		return pattern[i+1:]
	}
	return pattern
}

// observe counts every request by method, route pattern and status, and
// when tracing is on wraps it in a span. The route is a pattern, never the
// raw path: labels stay few, and a request for a hidden object is counted
// exactly as one for a missing object.
func (s *Server) observe(next http.Handler) http.Handler {
	if s.metrics == nil && s.tracer == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		var pattern string
		ctx := context.WithValue(r.Context(), routeKey{}, &pattern)
		var span trace.Span
		if s.tracer != nil {
			// A caller's W3C traceparent makes this span its child.
			ctx = propagation.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(r.Header))
			ctx, span = s.tracer.Start(ctx, "HTTP "+telemetry.Method(r.Method), trace.WithSpanKind(trace.SpanKindServer))
		}
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r.WithContext(ctx))
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		route := routeLabel(pattern)
		s.metrics.ObserveRequest(r.Method, route, status, time.Since(start))
		if span != nil {
			span.SetName(telemetry.SpanName(r.Method, route))
			span.SetAttributes(
				attribute.String("http.request.method", telemetry.Method(r.Method)),
				attribute.String("http.route", route),
				attribute.Int("http.response.status_code", status),
				attribute.String("genesis.request_id", requestID(r.Context())),
			)
			if status >= 500 {
				span.SetStatus(codes.Error, strconv.Itoa(status))
			}
			span.End()
		}
	})
}

// readyz answers 200 while the metadata store and every ReadyCheck answer,
// else 503 naming each dependency that does not (and nothing about why:
// the reasons go to the log).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.readyz"
	var down []string
	if err := s.db.Ping(r.Context()); err != nil {
		s.log.WarnContext(r.Context(), "not ready", "dependency", "metadata store", "err", err)
		down = append(down, "the metadata store is not answering")
	}
	for _, c := range s.readyChecks {
		if err := c.Check(r.Context()); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "dependency", c.Name, "err", err)
			down = append(down, c.Name+" is not answering")
		}
	}
	if s.ready != nil {
		if err := s.ready(r.Context()); err != nil {
			return errors.E(op, errors.Unavailable, err)
		}
	}
	if len(down) > 0 {
		return errors.E(op, errors.Unavailable, errors.Msg("not ready: "+strings.Join(down, "; ")))
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}
