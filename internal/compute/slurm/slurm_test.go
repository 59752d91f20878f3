package slurm_test

import (
	"context"
	"os"
	"slices"
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
	newBackend(t) // skip (or fail) once, not in every subtest
	computetest.Run(t, func(t *testing.T) compute.Backend { return newBackend(t) })
}

// Jobs Slurm refuses are Invalid with Slurm's reason (EnforcePartLimits=ALL
// makes an impossible request fail at submission instead of pending).
// Statuses asks about each job when the cluster holds many more than are
// asked about; the conformance suite's run covers the listing.
func TestStatusesEach(t *testing.T) {
	b := newBackend(t)
	slurm.AskEachJob(b)
	computetest.CheckStatuses(t, b)
}

func TestRejectedJob(t *testing.T) {
	b := newBackend(t)
	for _, tc := range []struct {
		name string
		edit func(*compute.JobSpec)
		msg  string
	}{
		{"no such partition", func(s *compute.JobSpec) { s.Attributes.QueueName = "no-such-partition" }, "Invalid partition"},
		{"too much memory", func(s *compute.JobSpec) { s.Resources.Memory = 1 << 50 }, "node configuration is not available"},
		{"too many nodes", func(s *compute.JobSpec) { s.Resources.NodeCount = 5 }, "Node count specification invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := computetest.Shell("true", time.Minute)
			tc.edit(spec)
			_, err := b.Submit(context.Background(), compute.Request{ID: computetest.NewID("rejected"), Spec: spec, WorkDir: computetest.WorkDir(t)})
			if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), tc.msg) {
				t.Fatalf("got %v (message %q), want Invalid saying %q", err, errors.SafeMessage(err), tc.msg)
			}
		})
	}
}

// Several processes run through srun, each with its rank.
func TestParallelJob(t *testing.T) {
	b := newBackend(t)
	spec := computetest.Shell(`echo "task $SLURM_PROCID of $SLURM_NTASKS"`, time.Minute)
	spec.Resources = compute.Resources{ProcessCount: 3, CPUCoresPerProcess: 1, Memory: 300 << 20}
	id, err := b.Submit(context.Background(), compute.Request{ID: computetest.NewID("mpi"), Spec: spec, WorkDir: computetest.WorkDir(t)})
	if err != nil {
		t.Fatal(err)
	}
	if st := computetest.WaitFinal(t, b, id); st.State != compute.Completed {
		t.Fatalf("status %+v; stderr %q", st, computetest.ReadLog(t, b, id, compute.Stderr, 0))
	}
	lines := strings.Split(strings.TrimSpace(computetest.ReadLog(t, b, id, compute.Stdout, 0)), "\n")
	slices.Sort(lines)
	want := []string{"task 0 of 3", "task 1 of 3", "task 2 of 3"}
	if !slices.Equal(lines, want) {
		t.Fatalf("stdout lines %q, want %q", lines, want)
	}
}

// A second client (a restarted scheduler) finds the job the first submitted.
func TestIdempotentAcrossClients(t *testing.T) {
	a, b := newBackend(t), newBackend(t)
	req := compute.Request{ID: computetest.NewID("twoclients"), Spec: computetest.Shell("true", time.Minute), WorkDir: computetest.WorkDir(t)}
	id1, err := a.Submit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := b.Submit(context.Background(), req)
	if err != nil || id2 != id1 {
		t.Fatalf("second client: %s, %v; want %s", id2, err, id1)
	}
}
