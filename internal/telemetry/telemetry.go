// Package telemetry is how an operator watches a running Genesis: Prometheus
// metrics in a registry owned by the app (never the global default, so that
// tests and several servers in one process do not share counters), the
// request ID that follows a request through its log lines and audit
// records, and OpenTelemetry traces exported over OTLP when configured.
//
// Every method of a nil *Metrics is a no-op, so parts of the system record
// unconditionally and pay nothing when metrics are off.
package telemetry

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds Genesis's Prometheus collectors and their registry.
type Metrics struct {
	reg            *prometheus.Registry
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	authz          *prometheus.CounterVec
	auditAppend    *prometheus.HistogramVec
	schedDecisions *prometheus.CounterVec
	chunkBytes     *prometheus.CounterVec
}

// NewMetrics returns the collectors in a new registry, with the Go runtime
// and process collectors.
func NewMetrics() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "genesis_http_requests_total",
		Help: "HTTP requests answered, by method, route pattern and status code.",
	}, []string{"method", "route", "code"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "genesis_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by method and route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"method", "route"})
	m.authz = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "genesis_authz_decisions_total",
		Help: "Authorization decisions, by resource type and decision (allow or deny).",
	}, []string{"resource_type", "decision"})
	m.auditAppend = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "genesis_audit_append_duration_seconds",
		Help:    "Time to append an audit record (mode sync: until a signed checkpoint covers it), by mode and result.",
		Buckets: []float64{.0001, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"mode", "result"})
	m.schedDecisions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "genesis_scheduler_decisions_total",
		Help: "Scheduler decisions about jobs, by decision.",
	}, []string{"decision"})
	m.chunkBytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "genesis_chunk_bytes_total",
		Help: "Chunk bytes received (in) and sent (out) through the API.",
	}, []string{"direction"})
	m.reg.MustRegister(m.requests, m.latency, m.authz, m.auditAppend, m.schedDecisions, m.chunkBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry the collectors are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, MaxRequestsInFlight: 4})
}

// methods bounds the method label: anything else is "other".
var methods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// Method returns the method label for m: the standard methods by name, any
// other "other" (a client chooses the method, and labels must stay few).
func Method(m string) string {
	if methods[m] {
		return m
	}
	return "other"
}

// ObserveRequest counts one answered request. route must be a route
// pattern (or a fixed word such as "unmatched"), never a raw path.
func (m *Metrics) ObserveRequest(method, route string, code int, d time.Duration) {
	if m == nil {
		return
	}
	method = Method(method)
	m.requests.WithLabelValues(method, route, strconv.Itoa(code)).Inc()
	m.latency.WithLabelValues(method, route).Observe(d.Seconds())
}

// AuthzDecision counts n authorization decisions about a resource type.
func (m *Metrics) AuthzDecision(resourceType string, allowed bool, n int) {
	if m == nil {
		return
	}
	d := "deny"
	if allowed {
		d = "allow"
	}
	m.authz.WithLabelValues(resourceType, d).Add(float64(n))
}

// AuditAppend records one audit append's latency.
func (m *Metrics) AuditAppend(sync bool, d time.Duration, err error) {
	if m == nil {
		return
	}
	mode, result := "async", "ok"
	if sync {
		mode = "sync"
	}
	if err != nil {
		result = "error"
	}
	m.auditAppend.WithLabelValues(mode, result).Observe(d.Seconds())
}

// SchedulerDecision counts n scheduler decisions of one kind (such as
// "started", "failed", "no_site").
func (m *Metrics) SchedulerDecision(decision string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.schedDecisions.WithLabelValues(decision).Add(float64(n))
}

// ChunkBytes counts chunk bytes received ("in") or sent ("out").
func (m *Metrics) ChunkBytes(direction string, n int64) {
	if m == nil || n <= 0 {
		return
	}
	m.chunkBytes.WithLabelValues(direction).Add(float64(n))
}

// Gauge registers a gauge read from f at every scrape (a queue's depth,
// say). It panics if name is already registered, as a programming error.
func (m *Metrics) Gauge(name, help string, f func() float64) {
	if m == nil {
		return
	}
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, f))
}

// GaugeVec registers gauges with one label, all read from f at every
// scrape: f returns the value per label value. Label values f stops
// returning disappear.
func (m *Metrics) GaugeVec(name, help, label string, f func(ctx context.Context) (map[string]float64, error)) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&gaugeVec{desc: prometheus.NewDesc(name, help, []string{label}, nil), f: f})
}

type gaugeVec struct {
	desc *prometheus.Desc
	f    func(ctx context.Context) (map[string]float64, error)
}

func (g *gaugeVec) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc }

func (g *gaugeVec) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	vals, err := g.f(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(g.desc, err)
		return
	}
	for k, v := range vals {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v, k)
	}
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request ID id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestIDHandler wraps h so that every record logged with a context
// carrying a request ID has a request_id attribute (once: a record that
// already has one keeps it).
func RequestIDHandler(h slog.Handler) slog.Handler {
	if _, ok := h.(requestIDHandler); ok {
		return h
	}
	return requestIDHandler{h}
}

type requestIDHandler struct{ slog.Handler }

func (h requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx != nil {
		if id := RequestID(ctx); id != "" {
			has := false
			r.Attrs(func(a slog.Attr) bool {
				has = a.Key == "request_id"
				return !has
			})
			if !has {
				r = r.Clone()
				r.AddAttrs(slog.String("request_id", id))
			}
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h requestIDHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return requestIDHandler{h.Handler.WithAttrs(as)}
}

func (h requestIDHandler) WithGroup(name string) slog.Handler {
	return requestIDHandler{h.Handler.WithGroup(name)}
}
