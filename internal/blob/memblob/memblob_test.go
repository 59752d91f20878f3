package memblob_test

import (
	"testing"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/blobtest"
	"github.com/genesis-science/genesis/internal/blob/memblob"
)

func TestConformance(t *testing.T) {
	for _, compress := range []bool{false, true} {
		name := "raw"
		if compress {
			name = "zstd"
		}
		t.Run(name, func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) blob.Store { return memblob.New(compress) })
		})
	}
}
