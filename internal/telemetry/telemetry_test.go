package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// TestRequestIDHandler: a line logged with a request's context carries its
// ID exactly once, whatever else it has; a line without one carries none.
func TestRequestIDHandler(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		var buf bytes.Buffer
		log := slog.New(RequestIDHandler(slog.NewJSONHandler(&buf, nil)))
		if rng.IntN(2) == 0 {
			log = log.With("component", "x") // WithAttrs keeps the wrapper
		}
		id := ""
		ctx := context.Background()
		if rng.IntN(3) != 0 {
			id = strings.Repeat("ab", 1+rng.IntN(8))
			ctx = WithRequestID(ctx, id)
		}
		var args []any
		explicit := rng.IntN(4) == 0
		for k := range rng.IntN(4) {
			args = append(args, "k"+string(rune('a'+k)), k)
		}
		if explicit {
			args = append(args, "request_id", "given")
		}
		log.InfoContext(ctx, "m", args...)
		n := strings.Count(buf.String(), `"request_id"`)
		var m map[string]any
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		switch {
		case explicit:
			if n != 1 || m["request_id"] != "given" {
				t.Fatalf("case %d: explicit ID: %s", i, buf.String())
			}
		case id != "":
			if n != 1 || m["request_id"] != id {
				t.Fatalf("case %d: want %q once: %s", i, id, buf.String())
			}
		default:
			if n != 0 {
				t.Fatalf("case %d: no ID in ctx but %s", i, buf.String())
			}
		}
	}
	// Wrapping twice does not add it twice.
	var buf bytes.Buffer
	slog.New(RequestIDHandler(RequestIDHandler(slog.NewJSONHandler(&buf, nil)))).InfoContext(WithRequestID(context.Background(), "r1"), "m")
	if strings.Count(buf.String(), "r1") != 1 {
		t.Errorf("double wrap: %s", buf.String())
	}
}

// TestMethodBounded: only the standard methods become labels.
func TestMethodBounded(t *testing.T) {
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"} {
		if Method(m) != m {
			t.Errorf("Method(%q) = %q", m, Method(m))
		}
	}
	for _, m := range []string{"get", "BREW", "", "PROPFIND", strings.Repeat("X", 100)} {
		if Method(m) != "other" {
			t.Errorf("Method(%q) = %q, want other", m, Method(m))
		}
	}
}

// TestNilMetrics: a nil *Metrics records nothing and does not panic.
func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("GET", "/x", 200, time.Millisecond)
	m.AuthzDecision("dataset", true, 3)
	m.AuditAppend(true, time.Millisecond, nil)
	m.SchedulerDecision("started", 1)
	m.ChunkBytes("in", 10)
	m.Gauge("x", "y", func() float64 { return 0 })
	m.GaugeVec("x", "y", "z", nil)
}

// TestMetricsLint: every family, with a sample each, lints clean, and the
// gauge vector reports what its function returns (or fails the scrape's
// family when the function fails).
func TestMetricsLint(t *testing.T) {
	m := NewMetrics()
	m.ObserveRequest("GET", "/x", 200, time.Millisecond)
	m.AuthzDecision("dataset", false, 2)
	m.AuditAppend(false, time.Millisecond, errors.New("x"))
	m.SchedulerDecision("no_site", 4)
	m.ChunkBytes("out", 7)
	m.Gauge("genesis_test_queue_records", "A queue.", func() float64 { return 3 })
	fail := false
	m.GaugeVec("genesis_test_queue_jobs", "Jobs by state.", "state", func(context.Context) (map[string]float64, error) {
		if fail {
			return nil, errors.New("store down")
		}
		return map[string]float64{"pending": 2, "running": 1}, nil
	})
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "genesis_test_queue_jobs" {
			for _, s := range mf.GetMetric() {
				got[s.GetLabel()[0].GetValue()] = s.GetGauge().GetValue()
			}
		}
	}
	if got["pending"] != 2 || got["running"] != 1 || len(got) != 2 {
		t.Errorf("queue gauge = %v", got)
	}
	fail = true
	if _, err := m.Registry().Gather(); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Errorf("a failing gauge function: Gather err = %v", err)
	}
}

// TestTracingEndpoint: only http(s) URLs with a host are accepted, and the
// error names the setting.
func TestTracingEndpoint(t *testing.T) {
	for _, e := range []string{"", "collector:4318", "ftp://x", "http://", "::"} {
		if _, _, err := Tracing(context.Background(), e, "s", "v"); err == nil || !strings.Contains(err.Error(), "otlp_endpoint") {
			t.Errorf("Tracing(%q) err = %v", e, err)
		}
	}
	_, stop, err := Tracing(context.Background(), "http://127.0.0.1:1", "s", "v")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	stop(ctx) // nothing to send: returns
}

func TestSpanName(t *testing.T) {
	for in, want := range map[[2]string]string{
		{"GET", "/api/v1/x/{id}"}:     "GET /api/v1/x/{id}",
		{"GET", "GET /api/v1/x/{id}"}: "GET /api/v1/x/{id}",
		{"BREW", "unmatched"}:         "other unmatched",
	} {
		if got := SpanName(in[0], in[1]); got != want {
			t.Errorf("SpanName(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzTracingEndpoint: an accepted endpoint is an http(s) URL with a host;
// a refused one names the setting.
func FuzzTracingEndpoint(f *testing.F) {
	for _, s := range []string{"http://collector:4318", "https://otel.example.org/v1/traces", "collector:4318", "http://", "ftp://h", "http://[::1]:4318/x", "http://h:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, e string) {
		_, stop, err := Tracing(context.Background(), e, "s", "v")
		if err != nil {
			if !strings.Contains(err.Error(), "telemetry.otlp_endpoint") {
				t.Fatalf("error does not name the setting: %v", err)
			}
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		stop(ctx)
		u, perr := url.Parse(e)
		if perr != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("accepted %q", e)
		}
	})
}

// BenchmarkObserveRequest is the per-request cost of the request metrics.
func BenchmarkObserveRequest(b *testing.B) {
	m := NewMetrics()
	for b.Loop() {
		m.ObserveRequest("GET", "/api/v1/assets/{name}", 200, time.Millisecond)
	}
}
