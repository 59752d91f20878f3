package library_test

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"io"
	"strings"
	"unicode"

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

// hashEmbedder is a deterministic embedding model: each word (lower-cased
// letters and digits) adds ±1 to a few of 64 dimensions chosen by its
// hash, so texts that share words point the same way. It is a real
// embedder (the service cannot tell it from a remote one), small enough
// for property tests.
type hashEmbedder struct {
	model string
	fail  bool
	calls int
}

func (e *hashEmbedder) Model() string { return e.model }

func (e *hashEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	e.calls++
	if e.fail {
		return nil, errors.E(errors.Transient, errors.Msg("embedding endpoint down"))
	}
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, 64)
		for _, w := range words(t) {
			h := fnv.New64a()
			h.Write([]byte(w))
			x := h.Sum64()
			for k := 0; k < 3; k++ {
				d := int(x % 64)
				x /= 64
				if x&1 == 0 {
					v[d]++
				} else {
					v[d]--
				}
				x >>= 1
			}
		}
		out[i] = v
	}
	return out, nil
}

func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}
