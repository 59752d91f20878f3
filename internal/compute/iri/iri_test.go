package iri_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/computetest"
)

// The conformance suite through the IRI API: client → provider child
// process (checked against the spec) → local backend.
func TestConformanceLocal(t *testing.T) {
	p := startProvider(t, "local", "")
	computetest.Run(t, func(t *testing.T) compute.Backend { return newClient(t, p.URL, testToken) })
}

// The same over the test Slurm, when there is one.
func TestConformanceSlurm(t *testing.T) {
	slurmAvailable(t)
	p := startProvider(t, "slurm", "")
	computetest.Run(t, func(t *testing.T) compute.Backend { return newClient(t, p.URL, testToken) })
}
