package mission_test

import (
	"fmt"
	"testing"

	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// BenchmarkList: a page of 100 challenges, each with two dataset links
// and one model link resolved as the reader sees them (SQLite).
func BenchmarkList(b *testing.B) {
	db := storetest.Migrated(b, storetest.SQLite)
	w := newWorld(b, db)
	w.dataset(w.bob, "d1", "OPEN")
	w.dataset(w.bob, "d2", "OPEN")
	w.model(w.bob, "m1", "d1", map[string]float64{"yield": 70})
	for i := 0; i < 100; i++ {
		w.create(w.bob, spec(fmt.Sprintf("c%03d", i), "links:\n  - {kind: dataset, ref: d1}\n  - {kind: dataset, ref: d2}\n  - {kind: model, ref: m1}\n"))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cs, _, err := w.svc.List(ctx, w.carol, mission.ListOptions{Limit: 100})
		if err != nil || len(cs) != 100 {
			b.Fatal(len(cs), err)
		}
	}
}

// BenchmarkProgress: progress of a challenge linked to a model with 50
// versions, each with registered metrics (SQLite).
func BenchmarkProgress(b *testing.B) {
	db := storetest.Migrated(b, storetest.SQLite)
	w := newWorld(b, db)
	w.dataset(w.bob, "d1", "OPEN")
	vs := make([]map[string]float64, 50)
	for i := range vs {
		vs[i] = map[string]float64{"yield": float64(60 + i%30)}
	}
	w.model(w.bob, "m1", "d1", vs...)
	w.create(w.bob, spec("c", "links:\n  - {kind: model, ref: m1}\n"))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pr, err := w.svc.Progress(ctx, w.carol, "c")
		if err != nil || pr.Targets[0].Observations != 50 {
			b.Fatal(err)
		}
	}
}
