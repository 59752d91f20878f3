package slurm_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/computetest"
	"github.com/genesis-science/genesis/internal/compute/slurm"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/testenv"
)

// newBackend returns a client of the test Slurm (scripts/slurm.sh), or
// skips loudly / fails under GENESIS_TEST_REQUIRE.
func newBackend(t testing.TB) *slurm.Backend {
	url := testenv.Need(t, "slurm", "GENESIS_TEST_SLURM")
	tok := testenv.Need(t, "slurm", "GENESIS_TEST_SLURM_TOKEN")
	user := testenv.Need(t, "slurm", "GENESIS_TEST_SLURM_USER")
	b, err := slurm.New(slurm.Config{URL: url, User: user, Token: tok, Partition: os.Getenv("GENESIS_TEST_SLURM_PARTITION")})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConformance(t *testing.T) {
	computetest.Run(t, func(t *testing.T) compute.Backend { return newBackend(t) })
}

// A job Slurm refuses is Invalid with Slurm's reason.
func TestRejectedJob(t *testing.T) {
	b := newBackend(t)
	spec := computetest.Shell("true", time.Minute)
	spec.Attributes.QueueName = "no-such-partition"
	_, err := b.Submit(context.Background(), compute.Request{ID: computetest.NewID("rejected"), Spec: spec, WorkDir: computetest.WorkDir(t)})
	if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "Invalid partition") {
		t.Fatalf("got %v (message %q), want Invalid naming the partition", err, errors.SafeMessage(err))
	}
}
