package library_test

import (
	"context"
	"encoding/json"
	"io"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
)

// jsonParse reads a JSON list of documents: the parser these tests give
// the service (the real ones are internal/lit/formats').
func jsonParse(_ context.Context, _ string, r io.Reader, _ lit.Format) ([]lit.Document, error) {
	var docs []lit.Document
	if err := json.NewDecoder(r).Decode(&docs); err != nil {
		return nil, errors.E(errors.Invalid, errors.Msg("not a JSON list of documents"))
	}
	return docs, nil
}
