package telemetry

import (
	"context"
	"net/url"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/genesis-science/genesis/internal/errors"
)

// Tracing exports spans over OTLP/HTTP (protobuf) to endpoint, a URL such
// as "http://collector:4318" (the path /v1/traces is added when the URL has
// none). It returns the tracer and a shutdown that flushes the spans not yet
// sent. Callers that are not configured for tracing keep a nil tracer and
// pay nothing.
func Tracing(ctx context.Context, endpoint, service, version string) (trace.Tracer, func(context.Context) error, error) {
	const op errors.Op = "telemetry.Tracing"
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, errors.E(op, errors.Invalid, errors.Field("telemetry.otlp_endpoint"),
			errors.Msg("want an http:// or https:// URL such as http://collector:4318"))
	}
	path := u.Path
	if path == "" || path == "/" {
		path = "/v1/traces"
	}
	opts := []otlptracehttp.Option{otlptracehttp.WithEndpoint(u.Host), otlptracehttp.WithURLPath(path)}
	if u.Scheme == "http" {
		opts = append(opts, otlptracehttp.WithInsecure())
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, nil, errors.E(op, errors.Invalid, errors.Field("telemetry.otlp_endpoint"), err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", service), attribute.String("service.version", version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return tp.Tracer("github.com/genesis-science/genesis"), tp.Shutdown, nil
}

// SpanName is a request span's name: the method and route pattern, as the
// OpenTelemetry HTTP conventions ask ("GET /api/v1/datasets/{id}").
func SpanName(method, route string) string {
	// A ServeMux pattern may carry its method already ("GET /x").
	if _, rest, ok := strings.Cut(route, " "); ok {
		route = rest
	}
	return Method(method) + " " + route
}
