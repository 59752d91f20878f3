package catalog_test

import (
	"bytes"
	"flag"
	"testing"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta/metatest"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var importDocs = flag.Int("import.n", 10000, "datasets in BenchmarkImportCatalog10k's data.json")

// BenchmarkImportCatalog10k is the import target end to end: a
// 10,000-dataset data.json imported into a SQLite catalog with its search
// index — parsing, one transaction per batch of records (a savepoint per
// record), the original kept as a blob, the search documents written once
// per batch, the audit records.
func BenchmarkImportCatalog10k(b *testing.B) {
	importN := *importDocs
	doc := metatest.DataJSON(importN)
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b, storetest.Migrated(b, storetest.SQLite))
		b.StartTimer()
		sum, err := w.cat.Import(ctx, w.alice, bytes.NewReader(doc), catalog.ImportSpec{Label: "OPEN"})
		if err != nil || len(sum.Imported) != importN {
			b.Fatalf("%v, %d imported, %v", err, len(sum.Imported), sum.Rejected[:min(3, len(sum.Rejected))])
		}
	}
}
