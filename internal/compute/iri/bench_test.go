package iri_test

import (
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute/computetest"
)

// Submit to running through the IRI API: client → provider child process
// → local backend. Target: p95 ≤ 150 ms (the local backend's 100 ms plus a
// few HTTP round trips). The spec validator is off: it costs milliseconds a
// request, which production does not pay.
func BenchmarkSubmitToRunningIRI(b *testing.B) {
	p := startProvider(b, "local", "", "GENESIS_IRI_VALIDATE=off")
	computetest.BenchSubmitToRunning(b, newClient(b, p.URL, testToken), time.Millisecond)
}

// The same over the test Slurm, when there is one. Run with -benchtime=20x.
func BenchmarkSubmitToRunningIRISlurm(b *testing.B) {
	slurmAvailable(b)
	p := startProvider(b, "slurm", "", "GENESIS_IRI_VALIDATE=off")
	computetest.BenchSubmitToRunning(b, newClient(b, p.URL, testToken), 20*time.Millisecond)
}
