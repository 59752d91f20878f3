package slurm_test

import (
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute/computetest"
)

// Target: p95 ≤ 2 s on the local Slurm of scripts/slurm.sh. Run with
// -benchtime=20x: each job takes about a second.
func BenchmarkSubmitToRunning(b *testing.B) {
	computetest.BenchSubmitToRunning(b, newBackend(b), 20*time.Millisecond)
}
