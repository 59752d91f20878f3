package slurm_test

import (
	"context"
	"flag"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/computetest"
	"golang.org/x/sync/errgroup"
)

// Target: p95 ≤ 2 s on the local Slurm of scripts/slurm.sh. Run with
// -benchtime=20x: each job takes about a second.
func BenchmarkSubmitToRunning(b *testing.B) {
	computetest.BenchSubmitToRunning(b, newBackend(b), 20*time.Millisecond)
}

// BenchmarkFollow is what a scheduling round pays to learn the state of
// every job it follows on one Slurm cluster: one request per job
// (Status), against one request for all (Statuses, GET /jobs). It holds
// -slurm.follow jobs (default 200, sleeping or queued) while it runs and
// reports milliseconds per round.
func BenchmarkFollow(b *testing.B) {
	be := newBackend(b)
	ctx := context.Background()
	var ids []compute.BackendJobID
	b.Cleanup(func() {
		for _, id := range ids {
			be.Cancel(context.Background(), id)
		}
	})
	dir := computetest.WorkDir(b)
	for range *followJobs {
		id, err := be.Submit(ctx, compute.Request{ID: computetest.NewID("follow"), Spec: computetest.Shell("sleep 600", 20*time.Minute), WorkDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	b.Run("Status-each", func(b *testing.B) {
		for b.Loop() {
			for _, id := range ids {
				if _, err := be.Status(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/round")
	})
	b.Run("Status-16-at-once", func(b *testing.B) {
		for b.Loop() {
			var g errgroup.Group
			g.SetLimit(16)
			for _, id := range ids {
				g.Go(func() error {
					_, err := be.Status(ctx, id)
					return err
				})
			}
			if err := g.Wait(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/round")
	})
	b.Run("Statuses", func(b *testing.B) {
		for b.Loop() {
			sts, err := be.Statuses(ctx, ids)
			if err != nil || len(sts) != len(ids) {
				b.Fatalf("%d of %d: %v", len(sts), len(ids), err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/round")
	})
}

var followJobs = flag.Int("slurm.follow", 200, "jobs BenchmarkFollow holds")
