package meta

import (
	"bytes"
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
