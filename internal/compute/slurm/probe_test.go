package slurm_test

import (
	"context"
	"testing"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/slurm"
)

// TestProbe: the test cluster's controller answers; a slurmrestd that is
// not there is down, with a reason.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	if h, why := newBackend(t).Probe(ctx); h != compute.HealthUp {
		t.Errorf("test cluster: %s (%s), want up", h, why)
	}
	gone, err := slurm.New(slurm.Config{URL: "http://127.0.0.1:1", User: "u", Token: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if h, why := gone.Probe(ctx); h != compute.HealthDown || why == "" {
		t.Errorf("no slurmrestd: %s (%q), want down with a reason", h, why)
	}
}
