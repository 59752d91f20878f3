// Package library is the literature service: publications imported as
// catalog assets (kind publication), split into citable passages, searched
// with BM25 from the catalog's own full-text index fused with vector
// similarity when an embedder is configured, the facts extracted from
// them, and the citation edges between them.
//
// Guarantees (DESIGN.md invariants 2 and 4):
//
//   - A passage, fact or citation edge is readable exactly when its
//     publication is: the publication's label joined with the label of the
//     version the passages were read from, its project and its owner,
//     decided as a resource of type publication. Passage search documents
//     carry that label, so the search index filters them before ranking,
//     and every other read filters readable publications before anything
//     is ranked, counted or paged.
//   - A hidden publication, passage or fact is NotExist, exactly like a
//     missing one, on every path; citation lists and counts include only
//     readable publications.
//   - One document is one transaction: its version, passages, facts,
//     references, citation edges and search documents are written together
//     or not at all (catalog.PutPublication). Re-importing identical content
//     changes nothing.
//   - When a publication's label changes (raise, release), its passages'
//     search documents and rows follow in the same transaction
//     (catalog.OnLabelChange).
package library

import (
	"context"
	"io"
	"log/slog"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/extract"
	"github.com/genesis-science/genesis/internal/lit/formats"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/store"
)

// ParseFunc parses a file of publications (internal/lit/formats.Parse).
type ParseFunc func(ctx context.Context, name string, r io.Reader, f lit.Format) ([]lit.Document, error)

// ExtractFunc reads the assertions a passage states
// (internal/lit/extract.Extract).
type ExtractFunc func(text string) []lit.Assertion

// Config is what the service needs.
type Config struct {
	DB         store.DB
	Catalog    *catalog.Service
	Index      search.Index
	Authz      *authz.Authorizer
	Principals catalog.Principals
	Audit      audit.Appender // may be nil (tests)
	// Parse reads import bodies; nil: internal/lit/formats.Parse.
	Parse ParseFunc
	// Extract reads facts from passages; nil: internal/lit/extract.Extract.
	Extract ExtractFunc
	// Embedder, if set, embeds passages for hybrid search.
	Embedder llm.Embedder
	Logger   *slog.Logger
}

// Service is the literature.
type Service struct {
	db      store.DB
	cat     *catalog.Service
	ix      search.Index
	az      *authz.Authorizer
	people  catalog.Principals
	audit   audit.Appender
	parse   ParseFunc
	extract ExtractFunc
	emb     llm.Embedder
	log     *slog.Logger
}

var _ lit.Library = (*Service)(nil)

// New returns the service and hooks it to the catalog's label changes.
// Call it once per catalog, while wiring.
func New(c Config) (*Service, error) {
	const op errors.Op = "library.New"
	if c.DB == nil || c.Catalog == nil || c.Index == nil || c.Authz == nil || c.Principals == nil {
		return nil, errors.E(op, errors.Internal, errors.Msg("the literature needs a store, the catalog, its search index, the authorizer and the principals"))
	}
	if c.Parse == nil {
		c.Parse = formats.Parse
	}
	if c.Extract == nil {
		c.Extract = extract.Extract
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{db: c.DB, cat: c.Catalog, ix: c.Index, az: c.Authz, people: c.Principals, audit: c.Audit,
		parse: c.Parse, extract: c.Extract, emb: c.Embedder, log: c.Logger}
	c.Catalog.OnLabelChange(s.labelChanged)
	return s, nil
}

// principal is p's decision input.
func (s *Service) principal(ctx context.Context, p *genesis.Principal) (authz.Principal, error) {
	if p == nil {
		return authz.Principal{}, errors.E(errors.Unauthenticated)
	}
	return s.people.AuthzPrincipal(ctx, p)
}
