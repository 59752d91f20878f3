package sim_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/sim"
)

// BenchmarkStartResult measures the driver's own overhead per action at
// speed 1e6 (a 600 s run lasts 0.6 ms): Start, then Result of the
// finished run. The clock moves 1 ms per action, so the figure is the
// driver's time, not the run's. "memory" keeps the journal in memory;
// "disk" writes and fsyncs it.
func BenchmarkStartResult(b *testing.B) {
	for _, where := range []string{"memory", "disk"} {
		b.Run(where, func(b *testing.B) {
			dir := ""
			if where == "disk" {
				dir = b.TempDir()
			}
			s, err := sim.ParseSettings([]byte(`{"model":"flow-reactor","speed":1e6,"consumables":{"substrate":1e9}}`))
			if err != nil {
				b.Fatal(err)
			}
			o := s.Options()
			o.StateDir = dir
			c := newClock()
			o.Now = c.Now
			d, err := sim.New(s.Instrument(), o)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req := request(sim.FlowReactor, i)
				req.ID = fmt.Sprint("b", i)
				if _, err := d.Start(ctx, req); err != nil {
					b.Fatal(err)
				}
				c.Add(time.Millisecond)
				r, err := d.Result(ctx, req.ID)
				if err != nil || r.State != lab.Succeeded {
					b.Fatal(r, err)
				}
			}
		})
	}
}

// BenchmarkReopen measures opening an instrument whose journal holds
// 10,000 runs (reading, checking and replaying it), as after a restart.
func BenchmarkReopen(b *testing.B) {
	dir := b.TempDir()
	s, err := sim.ParseSettings([]byte(`{"model":"flow-reactor","speed":1e6,"consumables":{"substrate":1e9}}`))
	if err != nil {
		b.Fatal(err)
	}
	o := s.Options()
	o.StateDir = dir
	d, err := sim.New(s.Instrument(), o)
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < 10000; i++ {
		req := request(sim.FlowReactor, i)
		req.ID = fmt.Sprint("r", i)
		if _, err := d.Start(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	d.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := sim.New(s.Instrument(), o)
		if err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
}
