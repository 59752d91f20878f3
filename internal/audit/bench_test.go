package audit

import (
	"context"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// checkpointLag watches a log's checkpoints and measures, for sampled
// appends, the time from Append returning to a durable signed checkpoint
// covering the entry.
type checkpointLag struct {
	mu      sync.Mutex
	waiting map[uint64]time.Time
	lags    []time.Duration
	stop    chan struct{}
	done    chan struct{}
}

func watchCheckpoints(l *Log) *checkpointLag {
	c := &checkpointLag{waiting: map[uint64]time.Time{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-tick.C:
			}
			cp, _, _ := l.Checkpoint(context.Background())
			now := time.Now()
			c.mu.Lock()
			for i, t := range c.waiting {
				if i < cp.Size {
					c.lags = append(c.lags, now.Sub(t))
					delete(c.waiting, i)
				}
			}
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *checkpointLag) sample(i uint64) {
	c.mu.Lock()
	c.waiting[i] = time.Now()
	c.mu.Unlock()
}

func (c *checkpointLag) report(b *testing.B) {
	close(c.stop)
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.lags) == 0 {
		return
	}
	sort.Slice(c.lags, func(i, j int) bool { return c.lags[i] < c.lags[j] })
	b.ReportMetric(float64(c.lags[len(c.lags)/2].Milliseconds()), "cp-lag-p50-ms")
	b.ReportMetric(float64(c.lags[len(c.lags)-1].Milliseconds()), "cp-lag-max-ms")
}

// BenchmarkAppend measures sustained buffered appends from parallel
// callers on local disk, including the final flush in Close, and how long
// entries wait for a signed checkpoint (cp-lag-*-ms; must stay < 5000).
// Run: go test -run '^$' -bench 'Append$' -benchtime 200000x ./internal/audit/
func BenchmarkAppend(b *testing.B) {
	benchAppend(b, false)
}

// BenchmarkAppendSync measures AU-5 appends: each returns once its entry is
// fsynced and in a durable signed checkpoint. Throughput comes from group
// commit across the parallel callers (SetParallelism 32 per CPU).
// Run: go test -run '^$' -bench 'AppendSync$' -benchtime 20000x ./internal/audit/
func BenchmarkAppendSync(b *testing.B) {
	benchAppend(b, true)
}

func benchAppend(b *testing.B, sync bool) {
	ctx := context.Background()
	dir := b.TempDir()
	s, v := testKeys(b)
	l, err := Open(ctx, dir, Options{Signer: s, Verifier: v})
	if err != nil {
		b.Fatal(err)
	}
	lag := watchCheckpoints(l)
	var n atomic.Int64
	if sync {
		b.SetParallelism(32)
	}
	start := time.Now()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := n.Add(1)
			r := testRecord(int(k))
			var i uint64
			var err error
			if sync {
				i, err = l.AppendSync(ctx, r)
			} else {
				i, err = l.Append(ctx, r)
			}
			if err != nil {
				b.Error(err)
				return
			}
			if k%500 == 0 {
				lag.sample(i)
			}
		}
	})
	if sync {
		lag.report(b)
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	el := time.Since(start)
	if !sync {
		lag.report(b)
	}
	b.ReportMetric(float64(b.N)/el.Seconds(), "records/s")
}

// BenchmarkVerify1M verifies a log of 10⁶ entries (built once, with
// Append, in $GENESIS_AUDIT_BENCH_DIR or a temporary directory). Skipped
// unless GENESIS_AUDIT_BENCH_1M=1.
// Run: GENESIS_AUDIT_BENCH_1M=1 go test -run '^$' -bench Verify1M -benchtime 1x -timeout 30m ./internal/audit/
func BenchmarkVerify1M(b *testing.B) {
	if os.Getenv("GENESIS_AUDIT_BENCH_1M") == "" {
		b.Skip("set GENESIS_AUDIT_BENCH_1M=1 to build and verify a 10⁶-entry log")
	}
	const n = 1_000_000
	ctx := context.Background()
	dir := b.TempDir()
	skey, _, err := GenerateKey(Origin("bench"))
	if err != nil {
		b.Fatal(err)
	}
	s, v, err := NewSigner(skey)
	if err != nil {
		b.Fatal(err)
	}
	l, err := Open(ctx, dir, Options{Signer: s, Verifier: v})
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	for i := 0; i < n; i++ {
		if _, err := l.Append(ctx, testRecord(i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d entries in %v (%.0f records/s, one appender)", n, time.Since(t0), n/time.Since(t0).Seconds())
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rep, err := Verify(ctx, dir, v)
		if err != nil || rep.Entries != n {
			b.Fatalf("verify: %v %+v", err, rep.Problems)
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "entries/s")
}
