package meta

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog/meta/metatest"
)

// BenchmarkImportDataJSON10k is the parsing and mapping half of an import
// (BenchmarkImportCatalog10k in internal/catalog is all of it).
func BenchmarkImportDataJSON10k(b *testing.B) {
	doc := metatest.DataJSON(10000)
	b.SetBytes(int64(len(doc)))
	b.ResetTimer()
	for b.Loop() {
		recs, bad, err := Import(bytes.NewReader(doc), Auto)
		if err != nil || len(bad) != 0 || len(recs) != 10000 {
			b.Fatalf("%v %v %d", err, bad, len(recs))
		}
		for i := range recs {
			_ = recs[i].Quality()
		}
	}
}

// TestGeneratedDataJSON keeps the benchmark honest at a small size.
func TestGeneratedDataJSON(t *testing.T) {
	recs, bad, err := Import(bytes.NewReader(metatest.DataJSON(50)), Auto)
	if err != nil || len(bad) != 0 || len(recs) != 50 {
		t.Fatalf("%v %v %d", err, bad, len(recs))
	}
	for _, r := range recs {
		if r.Core.Spatial == nil || r.Core.Spatial.BBox == nil || r.Core.Temporal == nil || r.Core.Domain != EarthEnvironment {
			t.Fatalf("%+v", r.Core)
		}
	}
}

func BenchmarkAssess(b *testing.B) {
	c := validCore()
	for b.Loop() {
		_ = Assess(&c)
	}
}

// BenchmarkImportEachPeakHeap reports the live heap an import of a 60 MB
// data.json holds at its peak (sampled every 1,000 records), streamed
// (the default) and split in memory (the way every document was once):
//
//	go test ./internal/catalog/meta -run XXX -bench ImportEachPeakHeap -benchtime 1x
func BenchmarkImportEachPeakHeap(b *testing.B) {
	doc := metatest.DataJSON(40000)
	for _, tc := range []struct {
		name string
		o    Options
	}{{"stream", Options{}}, {"in-memory", Options{InMemory: DefaultOptions.MaxBytes}}} {
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			var peak uint64
			for b.Loop() {
				var base runtime.MemStats
				runtime.GC()
				runtime.ReadMemStats(&base)
				n := 0
				err := ImportEach(bytes.NewReader(doc), Auto, tc.o, func(*Record, *RecordError) error {
					if n++; n%1000 == 0 {
						var m runtime.MemStats
						runtime.GC()
						runtime.ReadMemStats(&m)
						peak = max(peak, m.HeapAlloc-min(m.HeapAlloc, base.HeapAlloc))
					}
					return nil
				})
				if err != nil || n != 40000 {
					b.Fatal(err, n)
				}
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-live-MiB")
			b.ReportMetric(float64(len(doc))/(1<<20), "doc-MiB")
		})
	}
}
