package library

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
)

// BenchResult is what Bench measured.
type BenchResult struct {
	Documents int `json:"documents"`
	Passages  int `json:"passages"`
	Facts     int `json:"facts"`
	// ImportSeconds is the wall time of the import, embeddings included
	// when an embedder is configured.
	ImportSeconds     float64 `json:"import_seconds"`
	PassagesPerSecond float64 `json:"passages_per_second"`
	// Queries, and the mean latency of each search mode run.
	Queries       int     `json:"queries"`
	BM25Millis    float64 `json:"bm25_ms"`
	HybridMillis  float64 `json:"hybrid_ms,omitempty"`
	Rejected      int     `json:"rejected"`
	FirstRejected string  `json:"first_rejected,omitempty"`
}

// Bench imports docs as p (one transaction per document, as Import) with
// the given marking, then runs each query in BM25 mode and, when an
// embedder is configured, in hybrid mode, and reports throughput and mean
// latencies. For the corpus tools (genesis bench, lit-corpus); the
// package's benchmarks measure the same paths.
func Bench(ctx context.Context, s *Service, p *genesis.Principal, marking string, docs []lit.Document, queries []string) (*BenchResult, error) {
	const op errors.Op = "library.Bench"
	r := &BenchResult{Documents: len(docs), Queries: len(queries)}
	start := time.Now()
	res, err := s.ImportDocuments(ctx, p, marking, "", docs)
	if err != nil {
		return nil, errors.E(op, err)
	}
	r.ImportSeconds = time.Since(start).Seconds()
	for _, im := range res.Publications {
		if im.Status == StatusRejected {
			r.Rejected++
			if r.FirstRejected == "" {
				r.FirstRejected = im.Title + ": " + im.Error
			}
			continue
		}
		r.Passages += im.Passages
		r.Facts += im.Facts
	}
	if r.ImportSeconds > 0 {
		r.PassagesPerSecond = float64(r.Passages) / r.ImportSeconds
	}
	modes := []string{lit.ModeBM25}
	if s.emb != nil {
		modes = append(modes, lit.ModeHybrid)
	}
	for _, mode := range modes {
		start := time.Now()
		for _, q := range queries {
			if _, err := s.Search(ctx, p, lit.Query{Text: q, Mode: mode, Limit: 10}); err != nil {
				return nil, errors.E(op, err)
			}
		}
		if len(queries) == 0 {
			continue
		}
		ms := float64(time.Since(start).Microseconds()) / 1000 / float64(len(queries))
		if mode == lit.ModeBM25 {
			r.BM25Millis = ms
		} else {
			r.HybridMillis = ms
		}
	}
	return r, nil
}
