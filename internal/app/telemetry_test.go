package app

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/config"
)

// TestTelemetryWired: the app's /metrics listener serves the app's
// registry (requests, audit queue, scheduler queue); /readyz names the
// blob store when its directory is gone and the audit log once it is
// closed.
func TestTelemetryWired(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg := config.Default(t.TempDir())
	a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	api := httptest.NewServer(a.API)
	defer api.Close()
	get := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get(api.URL + "/readyz"); code != 200 {
		t.Fatalf("readyz = %d %s", code, body)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.ServeMetrics(ctx, ln) }()
	// This replica holds the scheduler's lease; another replica holds
	// the site monitor's.
	if _, ok, err := a.Leases.Acquire(ctx, LeaseScheduler, a.ReplicaID, time.Minute); err != nil || !ok {
		t.Fatalf("acquire scheduler: %v %v", ok, err)
	}
	if _, ok, err := a.Leases.Acquire(ctx, LeaseSiteMonitor, "another-replica", time.Minute); err != nil || !ok {
		t.Fatalf("acquire site monitor: %v %v", ok, err)
	}
	code, body := get("http://" + ln.Addr().String() + "/metrics")
	for _, want := range []string{
		`genesis_http_requests_total{code="200",method="GET",route="/readyz"} 1`,
		`genesis_audit_queue_records `,
		`genesis_scheduler_queue_jobs{state="pending"} 0`,
		`genesis_scheduler_queue_jobs{state="running"} 0`,
		`go_goroutines `,
		`genesis_lease_held{lease="scheduler"} 1`,
		`genesis_lease_held{lease="site-monitor"} 0`,
		`genesis_lease_held{lease="search-reindex"} 0`,
	} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q (status %d)", want, code)
		}
	}
	// The blob store's directory vanishes: not ready, naming it.
	u, _ := config.BlobURL(cfg.Blob.URL)
	if err := os.RemoveAll(u.Path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(u.Path, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body = get(api.URL + "/readyz")
	if code != 503 || !strings.Contains(body, "the blob store") {
		t.Errorf("blob store replaced by a file: readyz = %d %s", code, body)
	}
	os.Remove(u.Path)
	os.MkdirAll(u.Path, 0o750)
	a.Audit.Close()
	code, body = get(api.URL + "/readyz")
	if code != 503 || !strings.Contains(body, "the audit log") {
		t.Errorf("audit log closed: readyz = %d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ServeMetrics: %v", err)
	}
}
