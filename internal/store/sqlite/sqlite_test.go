package sqlite_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestConformance(t *testing.T) { storetest.Run(t, storetest.SQLite) }
