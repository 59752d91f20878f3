package sites_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// health is a site whose probe answers what the test says (the backends'
// own Probe methods are tested against real Slurm and a real IRI provider
// in their packages).
type health struct {
	compute.Backend
	h, why string
}

func (b *health) Probe(context.Context) (string, string) { return b.h, b.why }

type noProbe struct{ compute.Backend }

func (noProbe) Logs(context.Context, compute.BackendJobID, compute.Stream, int64) (io.ReadCloser, error) {
	return nil, nil
}

// TestProber: one failed probe degrades a site, three in a row take it
// down, one good probe brings it back; sites that send heartbeats, drained
// sites and backends that cannot be probed are left alone.
func TestProber(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	id := identity.New(db)
	id.Bootstrap(ctx, "admin")
	admin, _ := id.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	az, _ := authz.New(id, time.Now)
	reg, err := sites.New(db, az, id, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	capy := sites.Capacity{Nodes: 1, CoresPerNode: 1, MemoryGBNode: 1}
	for _, s := range []sites.Spec{
		{Name: "cluster", Kind: sites.KindSlurm, Endpoint: "http://127.0.0.1:1", Credentials: "{}"},
		{Name: "beating", Kind: sites.KindSlurm, Endpoint: "http://127.0.0.1:1", HeartbeatSeconds: 30},
		{Name: "drained", Kind: sites.KindIRI, Endpoint: "http://127.0.0.1:1"},
		{Name: "opaque", Kind: sites.KindIRI, Endpoint: "http://127.0.0.1:1"},
	} {
		s.Accreditation, s.Capacity = "OPEN", capy
		if _, err := reg.Add(ctx, admin, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := reg.Drain(ctx, admin, "drained", "maintenance"); err != nil {
		t.Fatal(err)
	}
	cluster := &health{h: compute.HealthDown, why: "slurmrestd unreachable"}
	probes := map[string]int{}
	p := &sites.Prober{Registry: reg, Backend: func(_ context.Context, s *sites.Site) (compute.Backend, error) {
		probes[s.Name]++
		switch s.Name {
		case "opaque":
			return noProbe{}, nil
		case "cluster":
			return cluster, nil
		}
		return &health{h: compute.HealthDown, why: "x"}, nil
	}}
	status := func(name string) (string, string) {
		s, err := reg.Get(ctx, admin, name)
		if err != nil {
			t.Fatal(err)
		}
		return s.Status, s.StatusReason
	}
	for i, want := range []string{sites.Degraded, sites.Degraded, sites.Down, sites.Down} {
		if err := p.ProbeAll(ctx); err != nil {
			t.Fatal(err)
		}
		if st, why := status("cluster"); st != want || !strings.Contains(why, "slurmrestd unreachable") {
			t.Errorf("after %d failed probes: %s (%s), want %s", i+1, st, why, want)
		}
	}
	cluster.h, cluster.why = compute.HealthUp, ""
	p.ProbeAll(ctx)
	if st, _ := status("cluster"); st != sites.Up {
		t.Errorf("after a good probe: %s, want up", st)
	}
	cluster.h = compute.HealthDown
	p.ProbeAll(ctx)
	if st, _ := status("cluster"); st != sites.Degraded {
		t.Errorf("one failure after recovery: %s, want degraded (the count starts again)", st)
	}
	if probes["beating"] != 0 || probes["drained"] != 0 {
		t.Errorf("probed a site that sends heartbeats or is drained: %v", probes)
	}
	if st, _ := status("drained"); st != sites.Draining {
		t.Errorf("drained site is %s", st)
	}
	if st, _ := status("opaque"); st != sites.Up {
		t.Errorf("a site whose backend cannot be probed was changed to %s", st)
	}
}
