package search_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/catalog/search/searchtest"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func opener(open storetest.Opener) searchtest.Opener {
	return func(t testing.TB) (store.DB, search.Index) {
		t.Helper()
		db := storetest.Migrated(t, open)
		ix, err := search.New(db)
		if err != nil {
			t.Fatal(err)
		}
		return db, ix
	}
}

func TestSQLite(t *testing.T) { searchtest.Run(t, opener(storetest.SQLite)) }

func TestPostgres(t *testing.T) { searchtest.Run(t, opener(storetest.Postgres)) }
