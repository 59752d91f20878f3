package httpapi_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/genesis-science/genesis/internal/telemetry"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		out = append(out, m)
	}
	return out
}

// telemetryServer is the API over db with a catalog, an audit log, metrics
// and a JSON logger, as internal/app wires them.
type telemetryServer struct {
	ts      *httptest.Server
	admin   string
	metrics *telemetry.Metrics
	logs    *syncBuffer
	audit   *audit.Log
	db      store.DB
}

func newTelemetryServer(t *testing.T, db store.DB, tracer func(*httpapi.Config)) *telemetryServer {
	t.Helper()
	id := identity.New(db)
	secret, err := id.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := audit.GenerateKey(audit.Origin("test"))
	if err != nil {
		t.Fatal(err)
	}
	signer, verifier, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	m := telemetry.NewMetrics()
	log, err := audit.Open(ctx, t.TempDir(), audit.Options{Signer: signer, Verifier: verifier,
		FlushInterval: 5 * time.Millisecond, CheckpointInterval: 20 * time.Millisecond, OnAppend: m.AuditAppend})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	az, err := authz.New(id, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	az.Observe(func(rt authz.ResourceType, ok bool, n int) { m.AuthzDecision(string(rt), ok, n) })
	blobs := memblob.New(false)
	cat := catalog.New(catalog.Config{DB: db, Blobs: blobs, Authz: az, Principals: id, Audit: log})
	ix, err := search.New(db)
	if err != nil {
		t.Fatal(err)
	}
	cat.SetSearch(ix)
	logs := &syncBuffer{}
	cfg := httpapi.Config{DB: db, Identity: id, Authz: az, AuditLog: log, AuditKey: vkey, Catalog: cat,
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: m,
		ReadyChecks: []httpapi.ReadyCheck{{Name: "the audit log", Check: func(context.Context) error { return log.Healthy() }}}}
	if tracer != nil {
		tracer(&cfg)
	}
	ts := httptest.NewServer(httpapi.New(cfg))
	t.Cleanup(ts.Close)
	return &telemetryServer{ts: ts, admin: secret, metrics: m, logs: logs, audit: log, db: db}
}

func (s *telemetryServer) do(t *testing.T, method, path, token string, body []byte, ct string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, s.ts.URL+path, bytes.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// value is the value of the sample of family name with exactly labels (0
// when absent), from the registry as /metrics would serve it.
func value(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, lp := range m.GetLabel() {
				if labels[lp.GetName()] != lp.GetValue() {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue()
			case m.Gauge != nil:
				return m.Gauge.GetValue()
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return 0
}

// routes returns every route label of genesis_http_requests_total.
func routes(t *testing.T, reg *prometheus.Registry) map[string]bool {
	t.Helper()
	mfs, _ := reg.Gather()
	out := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "genesis_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "route" {
					out[lp.GetValue()] = true
				}
			}
		}
	}
	return out
}

func mkToken(t *testing.T, s *telemetryServer, name string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"name": name})
	if r := s.do(t, "POST", "/api/v1/principals", s.admin, body, "application/json"); r.StatusCode != 201 {
		t.Fatalf("create %s = %d", name, r.StatusCode)
	}
	req, _ := http.NewRequest("POST", s.ts.URL+"/api/v1/principals/"+name+"/tokens", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.admin)
	res, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok httpapi.CreateTokenResponse
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.Secret == "" {
		t.Fatalf("token for %s: %d %v", name, res.StatusCode, err)
	}
	return tok.Secret
}

// TestMetricsCountRequests drives a known sequence of requests and checks
// each counter moved by exactly what the sequence implies, with route
// patterns as labels.
func TestMetricsCountRequests(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		s := newTelemetryServer(t, db, nil)
		reg := s.metrics.Registry()
		alice := mkToken(t, s, "alice")
		mkToken(t, s, "bob")

		for range 3 {
			if r := s.do(t, "GET", "/healthz", "", nil, ""); r.StatusCode != 200 {
				t.Fatalf("healthz = %d", r.StatusCode)
			}
		}
		if got := value(t, reg, "genesis_http_requests_total", map[string]string{"method": "GET", "route": "/healthz", "code": "200"}); got != 3 {
			t.Errorf("healthz count = %v, want 3", got)
		}
		if got := value(t, reg, "genesis_http_request_duration_seconds", map[string]string{"method": "GET", "route": "/healthz"}); got != 3 {
			t.Errorf("healthz latency samples = %v, want 3", got)
		}

		// Invariant 4: a hidden principal and a missing one are counted
		// under the same labels, and nothing names either.
		hidden := s.do(t, "GET", "/api/v1/principals/bob", alice, nil, "")
		missing := s.do(t, "GET", "/api/v1/principals/nobody-at-all", alice, nil, "")
		if hidden.StatusCode != 404 || missing.StatusCode != 404 {
			t.Fatalf("hidden = %d, missing = %d", hidden.StatusCode, missing.StatusCode)
		}
		if got := value(t, reg, "genesis_http_requests_total", map[string]string{"method": "GET", "route": "/api/v1/principals/{id}", "code": "404"}); got != 2 {
			t.Errorf("principal 404s = %v, want 2", got)
		}
		// Unknown paths and odd methods: fixed labels, whatever the path.
		s.do(t, "GET", "/api/v1/no/such/"+strings.Repeat("x", 50), alice, nil, "")
		s.do(t, "GET", "/api/v1/another-unknown", alice, nil, "")
		if got := value(t, reg, "genesis_http_requests_total", map[string]string{"method": "GET", "route": "unmatched", "code": "404"}); got != 2 {
			t.Errorf("unmatched = %v, want 2", got)
		}
		s.do(t, "BREW", "/healthz", "", nil, "")
		if got := value(t, reg, "genesis_http_requests_total", map[string]string{"method": "other", "route": "unmatched", "code": "405"}); got != 1 {
			t.Errorf("BREW = %v, want 1", got)
		}
		for r := range routes(t, reg) {
			if strings.Contains(r, "bob") || strings.Contains(r, "nobody") || strings.Contains(r, "xxx") {
				t.Errorf("a raw path leaked into a route label: %q", r)
			}
		}

		// Chunks in and out, and the authorization decisions about the
		// dataset they belong to.
		body, _ := json.Marshal(map[string]any{"name": "open-data", "label": "OPEN"})
		if r := s.do(t, "POST", "/api/v1/datasets", s.admin, body, "application/json"); r.StatusCode != 201 {
			t.Fatalf("create dataset = %d", r.StatusCode)
		}
		allow0 := value(t, reg, "genesis_authz_decisions_total", map[string]string{"resource_type": "dataset", "decision": "allow"})
		if r := s.do(t, "GET", "/api/v1/assets/open-data", alice, nil, ""); r.StatusCode != 200 {
			t.Fatalf("get dataset = %d", r.StatusCode)
		}
		if got := value(t, reg, "genesis_authz_decisions_total", map[string]string{"resource_type": "dataset", "decision": "allow"}); got <= allow0 {
			t.Errorf("dataset allow decisions %v → %v: did not move", allow0, got)
		}
		data := bytes.Repeat([]byte("genesis "), 1000)
		id := blob.Sum(data)
		if r := s.do(t, "PUT", "/api/v1/assets/open-data/chunks/"+id.String(), s.admin, data, "application/octet-stream"); r.StatusCode != 204 {
			t.Fatalf("put chunk = %d", r.StatusCode)
		}
		if r := s.do(t, "GET", "/api/v1/assets/open-data/chunks/"+id.String(), s.admin, nil, ""); r.StatusCode != 200 {
			t.Fatalf("get chunk = %d", r.StatusCode)
		}
		in := value(t, reg, "genesis_chunk_bytes_total", map[string]string{"direction": "in"})
		out := value(t, reg, "genesis_chunk_bytes_total", map[string]string{"direction": "out"})
		if in != float64(len(data)) || out != float64(len(data)) {
			t.Errorf("chunk bytes in %v out %v, want %d each", in, out, len(data))
		}
		if got := value(t, reg, "genesis_http_requests_total", map[string]string{"method": "PUT", "route": "/api/v1/assets/{name}/chunks/{id}", "code": "204"}); got != 1 {
			t.Errorf("put chunk count = %v", got)
		}
		// Audit appends were timed (principals, tokens and the dataset are
		// on the record).
		var appends float64
		for _, mode := range []string{"sync", "async"} {
			appends += value(t, reg, "genesis_audit_append_duration_seconds", map[string]string{"mode": mode, "result": "ok"})
		}
		if appends < 5 {
			t.Errorf("audit appends timed = %v, want at least 5", appends)
		}

		// What /metrics serves lints clean.
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range problems {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
		rec := httptest.NewRecorder()
		s.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), `genesis_http_requests_total{code="404",method="GET",route="/api/v1/principals/{id}"} 2`) {
			t.Errorf("/metrics = %d:\n%.2000s", rec.Code, rec.Body.String())
		}
		p := expfmt.NewTextParser(model.LegacyValidation)
		if _, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String())); err != nil {
			t.Errorf("/metrics does not parse: %v", err)
		}
	})
}

// TestLogsAndAuditCarryRequestID: every log line of a request carries its
// ID, and so do the audit records it made.
func TestLogsAndAuditCarryRequestID(t *testing.T) {
	s := newTelemetryServer(t, storetest.Migrated(t, storetest.SQLite), nil)
	body, _ := json.Marshal(map[string]any{"name": "carol"})
	r := s.do(t, "POST", "/api/v1/principals", s.admin, body, "application/json")
	body, _ = json.Marshal(map[string]any{"name": "traced", "label": "OPEN"})
	r2 := s.do(t, "POST", "/api/v1/datasets", s.admin, body, "application/json")
	if r.StatusCode != 201 || r2.StatusCode != 201 {
		t.Fatalf("create = %d, %d", r.StatusCode, r2.StatusCode)
	}
	ids := map[string]string{"principal": r.Header.Get("X-Request-Id"), "dataset": r2.Header.Get("X-Request-Id")}
	seen := map[string]int{}
	for _, l := range s.logs.lines(t) {
		if l["msg"] != "http" {
			continue
		}
		rid, _ := l["request_id"].(string)
		if rid == "" {
			t.Errorf("log line without request_id: %v", l)
		}
		for what, id := range ids {
			if rid == id {
				seen[what]++
			}
		}
	}
	for what := range ids {
		if seen[what] != 1 {
			t.Errorf("%s request: %d log lines with its ID, want 1", what, seen[what])
		}
	}
	// The audit records of both requests carry their IDs. (They are
	// appended asynchronously: a synchronous marker makes them readable.)
	if _, err := s.audit.AppendSync(ctx, audit.Record{Principal: "test", Action: "marker", Decision: audit.Allow}); err != nil {
		t.Fatal(err)
	}
	cp, _, err := s.audit.Checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	onRecord := map[string]int{}
	for i := uint64(0); i < cp.Size; i++ {
		e, err := s.audit.Entry(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := audit.DecodeRecord(e)
		if err != nil {
			t.Fatal(err)
		}
		for what, id := range ids {
			if rec.RequestID == id {
				onRecord[what]++
			}
		}
	}
	for what := range ids {
		if onRecord[what] == 0 {
			t.Errorf("no audit record carries the %s request's ID %s", what, ids[what])
		}
	}
}

// TestReadyzFlips: /readyz answers 503 naming the dependency while the
// audit log cannot append or the store cannot be reached.
func TestReadyzFlips(t *testing.T) {
	s := newTelemetryServer(t, storetest.Migrated(t, storetest.SQLite), nil)
	ready := func() (int, httpapi.Problem) {
		res, err := s.ts.Client().Get(s.ts.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var p httpapi.Problem
		json.NewDecoder(res.Body).Decode(&p)
		return res.StatusCode, p
	}
	if code, p := ready(); code != 200 {
		t.Fatalf("readyz = %d %+v", code, p)
	}
	s.audit.Close()
	code, p := ready()
	if code != 503 || !strings.Contains(p.Detail, "the audit log") || strings.Contains(p.Detail, "metadata store") {
		t.Errorf("audit log closed: readyz = %d %q", code, p.Detail)
	}
	s.db.Close()
	code, p = ready()
	if code != 503 || !strings.Contains(p.Detail, "the metadata store") || !strings.Contains(p.Detail, "the audit log") {
		t.Errorf("store and audit log closed: readyz = %d %q", code, p.Detail)
	}
}

// TestTracesOverOTLP: with a tracer configured, each request's span
// reaches an OTLP/HTTP receiver, named by its route pattern and carrying
// its status.
func TestTracesOverOTLP(t *testing.T) {
	var mu sync.Mutex
	var spans []map[string]any
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "unexpected "+r.URL.Path+" "+r.Header.Get("Content-Type"), 400)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &req); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		for _, rs := range req.GetResourceSpans() {
			for _, ss := range rs.GetScopeSpans() {
				for _, sp := range ss.GetSpans() {
					m := map[string]any{"name": sp.GetName(), "trace_id": hex.EncodeToString(sp.GetTraceId())}
					for _, a := range sp.GetAttributes() {
						if v := a.GetValue(); v.GetStringValue() != "" {
							m[a.GetKey()] = v.GetStringValue()
						} else {
							m[a.GetKey()] = v.GetIntValue()
						}
					}
					spans = append(spans, m)
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ = proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Write(b)
	}))
	defer recv.Close()
	tracer, stop, err := telemetry.Tracing(ctx, recv.URL, "genesis-test", "0")
	if err != nil {
		t.Fatal(err)
	}
	s := newTelemetryServer(t, storetest.Migrated(t, storetest.SQLite), func(c *httpapi.Config) { c.Tracer = tracer })
	alice := mkToken(t, s, "alice")
	// The caller's trace continues: its traceparent is the span's parent.
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, _ := http.NewRequest("GET", s.ts.URL+"/api/v1/principals/nobody", nil)
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	r, err := s.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if err := stop(ctx); err != nil { // flushes
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	var found bool
	for _, sp := range spans {
		if sp["name"] == "GET /api/v1/principals/{id}" {
			found = true
			if sp["http.route"] != "/api/v1/principals/{id}" || sp["http.response.status_code"] != int64(404) || sp["genesis.request_id"] != r.Header.Get("X-Request-Id") || sp["trace_id"] != traceID {
				t.Errorf("span = %v", sp)
			}
		}
	}
	if !found || len(spans) < 3 {
		t.Errorf("spans = %v", spans)
	}
}
