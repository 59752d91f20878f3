package jobs_test

import (
	"context"
	"os"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
)

func writeFile(t *testing.T, path, s string) {
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

type catStore struct {
	c     *catalog.Service
	p     *genesis.Principal
	asset string
}

func (s catStore) Put(ctx context.Context, id blob.ID, data []byte) error {
	return s.c.PutChunk(ctx, s.p, s.asset, id, data)
}

func (s catStore) Stat(ctx context.Context, id blob.ID) (blob.Info, error) {
	ok, err := s.c.HasChunks(ctx, s.p, s.asset, []blob.ID{id})
	if err != nil {
		return blob.Info{}, err
	}
	if !ok[0] {
		return blob.Info{}, errors.E(errors.NotExist)
	}
	return blob.Info{ID: id}, nil
}
