package local_test

import (
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute/computetest"
	"github.com/genesis-science/genesis/internal/compute/local"
)

// Target: p95 ≤ 100 ms.
func BenchmarkSubmitToRunning(b *testing.B) {
	be, err := local.New(b.TempDir(), local.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	computetest.BenchSubmitToRunning(b, be, time.Millisecond)
}
