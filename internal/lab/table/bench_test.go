package table_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/sim"
	"github.com/genesis-science/genesis/internal/lab/table"
)

// BenchmarkStartResult: the table driver's own time per measurement on
// the direct-arylation table (1,728 experiments), journal in memory: Start
// (row lookup, journal) then Result.
func BenchmarkStartResult(b *testing.B) {
	s, m := model(b, arylationSettings(""))
	rows := m.Rows()
	now := time.Unix(1e9, 0)
	o := s.Options()
	o.Now = func() time.Time { return now }
	d, err := sim.New(m, o)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprint("b", i)
		if _, err := d.Start(ctx, lab.Request{ID: id, Action: table.Action, Params: rows[i%len(rows)]}); err != nil {
			b.Fatal(err)
		}
		if r, err := d.Result(ctx, id); err != nil || r.State != lab.Succeeded {
			b.Fatal(r, err)
		}
	}
}
