package iri_test

import (
	"context"
	"testing"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/iri"
)

// TestProbe: a client reads its resource's status from the provider's
// status API; a provider that is gone is down.
func TestProbe(t *testing.T) {
	ctx := context.Background()
	p := startProvider(t, "local", "")
	if h, why := newClient(t, p.URL, testToken).Probe(ctx); h != compute.HealthUp {
		t.Errorf("cpu: %s (%s), want up", h, why)
	}
	small, err := iri.NewClient(iri.ClientConfig{URL: p.URL, Token: testToken, Resource: "small", Project: testProject})
	if err != nil {
		t.Fatal(err)
	}
	if h, why := small.Probe(ctx); h != compute.HealthDegraded || why == "" {
		t.Errorf("small: %s (%q), want degraded with a reason", h, why)
	}
	p.stop(t)
	if h, why := small.Probe(ctx); h != compute.HealthDown || why == "" {
		t.Errorf("stopped provider: %s (%q), want down with a reason", h, why)
	}
}
