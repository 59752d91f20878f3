package app

import (
	"context"
	"net"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/telemetry"
)

// openTelemetry connects the metrics to the parts that report them and,
// when telemetry.otlp_endpoint is set, starts exporting traces (nil tracer
// otherwise: no span is ever made).
func (a *App) openTelemetry(ctx context.Context) (trace.Tracer, error) {
	m := a.Metrics
	a.Authz.Observe(func(t authz.ResourceType, allowed bool, n int) { m.AuthzDecision(string(t), allowed, n) })
	a.Jobs.Decisions = m.SchedulerDecision
	jobs := a.Jobs
	m.GaugeVec("genesis_scheduler_queue_jobs", "Jobs waiting to be placed or submitted (pending) and running, over all owners.", "state",
		jobs.QueueDepths)
	// Which leases this replica holds: summed over the replicas, each
	// background loop's lease is 1 while someone holds it and 0 when
	// nobody does (alert on that); leases taken on demand (gc, campaign
	// runners) appear while held.
	m.GaugeVec("genesis_lease_held", "1 for each lease this replica holds, 0 for the background loops' leases it does not hold.", "lease",
		func(ctx context.Context) (map[string]float64, error) { return a.leasesHeld(ctx) })
	if a.Config.Telemetry.OTLPEndpoint == "" {
		return nil, nil
	}
	tracer, stop, err := telemetry.Tracing(ctx, a.Config.Telemetry.OTLPEndpoint, "genesis", Version)
	if err != nil {
		return nil, err
	}
	a.stopTracing = stop
	a.Log.Info("exporting traces over OTLP/HTTP", "endpoint", a.Config.Telemetry.OTLPEndpoint)
	return tracer, nil
}

// loopLeases are the background loops' leases: one replica holds each.
var loopLeases = []string{LeaseScheduler, LeaseSiteMonitor, LeaseSiteProbes, LeaseInstrumentPoller, LeaseSearchReindex, LeaseLiteratureEmbed}

// leasesHeld is the lease gauge: 1 for every live lease this replica
// holds, 0 for each loop lease it does not.
func (a *App) leasesHeld(ctx context.Context) (map[string]float64, error) {
	out := make(map[string]float64, len(loopLeases))
	for _, n := range loopLeases {
		out[n] = 0
	}
	ls, err := a.Leases.List(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if l.Holder == a.ReplicaID {
			out[l.Name] = 1
		}
	}
	return out, nil
}

// readyProbe is the chunk ID /readyz asks the blob store about: any
// answer, found or not found, shows the store is reachable.
var readyProbe = blob.Sum([]byte("genesis readiness probe"))

// readyChecks are /readyz's dependencies besides the metadata store.
func (a *App) readyChecks() []httpapi.ReadyCheck {
	var out []httpapi.ReadyCheck
	if st, ok := a.Blobs.(blob.Stater); ok {
		out = append(out, httpapi.ReadyCheck{Name: "the blob store", Check: func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			if _, err := st.Stat(ctx, readyProbe); err != nil && !errors.Is(errors.NotExist, err) {
				return err
			}
			return nil
		}})
	}
	if l := a.Audit; l != nil {
		out = append(out, httpapi.ReadyCheck{Name: "the audit log", Check: func(context.Context) error { return l.Healthy() }})
	}
	return out
}

// ServeMetrics serves GET /metrics on ln until ctx ends: unauthenticated,
// as Prometheus scrapes, which is why it has a listener of its own
// (telemetry.metrics_addr) rather than a path on the API's.
func (a *App) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}
