package sites

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
)

// Prober polls the backends of sites that do not send heartbeats (Slurm
// clusters through slurmrestd, IRI facilities through their status API)
// and records what it sees. One failed probe makes a site degraded; Misses
// consecutive failures make it down (so its running jobs are placed
// again), and one good probe brings it back up.
type Prober struct {
	Registry *Registry
	// Backend returns a site's backend; those that are compute.Probers are
	// probed.
	Backend func(ctx context.Context, s *Site) (compute.Backend, error)
	Every   time.Duration
	// Misses is how many failed probes in a row mark a site down
	// (default 3).
	Misses  int
	OnError func(error)

	mu     sync.Mutex
	failed map[string]int
}

// Run probes every p.Every until ctx ends.
func (p *Prober) Run(ctx context.Context) error { return every(ctx, p.Every, p.ProbeAll, p.OnError) }

// ProbeAll probes every site that expects no heartbeats and is not the
// platform's own (local) site, once.
func (p *Prober) ProbeAll(ctx context.Context) error {
	ss, err := p.Registry.All(ctx)
	if err != nil {
		return err
	}
	misses := p.Misses
	if misses <= 0 {
		misses = 3
	}
	p.mu.Lock()
	if p.failed == nil {
		p.failed = map[string]int{}
	}
	p.mu.Unlock()
	for i := range ss {
		s := &ss[i]
		if s.Kind == KindLocal || s.HeartbeatSeconds > 0 || s.Status == Draining {
			continue
		}
		health, reason := compute.HealthDown, ""
		b, err := p.Backend(ctx, s)
		if err != nil {
			reason = "cannot reach the site's backend: " + err.Error()
		} else if pr, ok := b.(compute.Prober); ok {
			health, reason = pr.Probe(ctx)
		} else {
			continue
		}
		p.mu.Lock()
		status := health
		if health == compute.HealthDown {
			p.failed[s.Name]++
			if n := p.failed[s.Name]; n < misses {
				status, reason = Degraded, reason+" (probe "+strconv.Itoa(n)+" of "+strconv.Itoa(misses)+" failed)"
			}
		} else {
			delete(p.failed, s.Name)
		}
		p.mu.Unlock()
		if status == s.Status && reason == s.StatusReason {
			continue
		}
		if err := p.Registry.Observe(ctx, s.ID, status, reason); err != nil {
			return err
		}
	}
	return nil
}
