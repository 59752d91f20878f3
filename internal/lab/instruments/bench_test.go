package instruments_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// BenchmarkAdmit is the safety gate's share of the platform's overhead per
// experiment (the budget for the whole of dispatch → observe →
// next suggestion is 20 ms p95 on SQLite).
//
//	go test ./internal/lab/instruments/ -run '^$' -bench Admit -benchtime 2000x
func BenchmarkAdmit(b *testing.B) {
	for name, open := range storetest.Backends() {
		b.Run(name, func(b *testing.B) {
			db := storetest.Migrated(b, open)
			benchAdmit(b, db)
		})
	}
}

func benchAdmit(b *testing.B, db store.DB) {
	e := setup(b, db)
	in, _ := e.add(b, "bench", "PROPRIETARY", []string{"USA"})
	l := label.MustParse("PROPRIETARY")
	b.ResetTimer()
	for b.Loop() {
		if err := e.reg.Admit(ctx, in.ID, "cmp_bench", l, okHeat); err != nil {
			b.Fatal(err)
		}
	}
}
