package campaign_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// BenchmarkOverhead is the platform's overhead per experiment on SQLite:
// one runner round with an instant instrument — observe the result (and
// feed the optimizer), commit the batch's results, propose the next
// experiment, dispatch it — less the time spent in the optimizer's
// Suggest. Reported: mean and p95 per experiment.
func BenchmarkOverhead(b *testing.B) {
	w := newWorld(b, storetest.Migrated(b, storetest.SQLite))
	w.fleet.add("inst", "cell", "OPEN", w.dir)
	s := w.service("bench")
	sp := mkSpec(b, "overhead", "OPEN", "1", 100_000, 1, "cell", "")
	sp.Optimizer.Random = true
	c, err := s.Create(ctx, w.alice, sp)
	if err != nil {
		b.Fatal(err)
	}
	s.Start(ctx, w.alice, c.ID)
	for range 3 { // first proposal and dispatch
		s.Step(ctx)
	}
	per := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		sug := campaign.SuggestTime(s)
		t0 := time.Now()
		if err := campaign.Round(s, ctx); err != nil {
			b.Fatal(err)
		}
		per = append(per, time.Since(t0)-(campaign.SuggestTime(s)-sug))
	}
	b.StopTimer()
	if got := w.get(s, w.alice, c.ID).Counts.Observed; got < b.N-1 {
		b.Fatalf("%d rounds observed %d experiments", b.N, got)
	}
	slices.Sort(per)
	var sum time.Duration
	for _, d := range per {
		sum += d
	}
	b.ReportMetric(float64(sum.Microseconds())/float64(len(per))/1000, "ms/exp")
	b.ReportMetric(float64(per[len(per)*95/100].Microseconds())/1000, "p95-ms/exp")
}

// BenchmarkUtilisation: 50 campaigns share 20 instruments whose actions
// take a fixed time (200 ms, 1 s); utilisation is the instruments' busy
// time over their time while work was queued (from the first dispatch to
// the last).
func BenchmarkUtilisation(b *testing.B) {
	for _, dur := range []time.Duration{200 * time.Millisecond, time.Second} {
		b.Run(dur.String(), func(b *testing.B) { benchUtilisation(b, dur) })
	}
}

func benchUtilisation(b *testing.B, dur time.Duration) {
	for range b.N {
		w := newWorld(b, storetest.Migrated(b, storetest.SQLite))
		const insts, campaigns, budget = 20, 50, 8
		var ds []*testDriver
		for i := range insts {
			d := w.fleet.add(fmt.Sprintf("inst-%02d", i), "cell", "OPEN", w.dir)
			d.Duration, d.NoJournal = dur, true
			ds = append(ds, d)
		}
		s := w.service("bench")
		s.Tick = 10 * time.Millisecond
		var ids []string
		for i := range campaigns {
			sp := mkSpec(b, fmt.Sprintf("u%02d", i), "OPEN", "1", budget, 1, "cell", "")
			sp.Optimizer.Random = true
			c, err := s.Create(ctx, w.alice, sp)
			if err != nil {
				b.Fatal(err)
			}
			s.Start(ctx, w.alice, c.ID)
			ids = append(ids, c.ID)
		}
		cctx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { s.Run(cctx); close(done) }()
		waitFor(b, "all campaigns", func() bool {
			var n int
			w.db.View(ctx, func(tx store.Tx) error {
				return tx.QueryRow(ctx, `SELECT COUNT(*) FROM campaign_experiments WHERE state = 'observed'`).Scan(&n)
			})
			return n == campaigns*budget
		})
		cancel()
		<-done
		var starts []time.Time
		for _, d := range ds {
			starts = append(starts, d.starts()...)
		}
		slices.SortFunc(starts, func(a, b time.Time) int { return a.Compare(b) })
		first, last := starts[0], starts[len(starts)-1]
		// Work is queued until the last dispatch; busy time is counted
		// within that window.
		var busy time.Duration
		for _, t := range starts {
			end := t.Add(dur)
			if end.After(last) {
				end = last
			}
			if end.After(t) {
				busy += end.Sub(t)
			}
		}
		util := float64(busy) / float64(insts*last.Sub(first))
		b.ReportMetric(100*util, "%utilisation")
	}
}
