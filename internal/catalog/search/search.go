// Package search is the catalog's label-filtered full-text index: free text
// over names, titles, keywords, creators, variables and descriptions, with
// filters, facets, pagination, snippets and suggestions.
//
// # The visibility contract (DESIGN.md invariant 4)
//
// Every document belongs to a visibility class: the (kind, label, project)
// triple that, with the owner, is everything the authorizer looks at when it
// decides a read. The index keeps a table of classes with small integer IDs.
// A caller lists them (Classes), decides each class with its authorizer
// (VisibilityFor does it for internal/authz), and passes the answer as a
// Visibility. Every query restricts to readable documents inside SQL, before
// matching is ranked, counted, faceted, snippeted or suggested:
//
//	readable(d) = d.class ∈ ReadableClasses
//	           ∨ (d.owner = Owner ∧ d.class ∈ OwnerReadableClasses)
//
// Guarantee: Search and Suggest return exactly what they would return over an
// index holding only the readable documents — same hits in the same order,
// same scores, totals, facet counts, snippets and suggestions. Nothing a
// caller cannot read influences any number or string returned (the property
// test in searchtest checks this on every backend). That is why ranking never
// uses corpus statistics of the whole index: both backends compute BM25 in
// Go with N, average lengths and document frequencies taken over the
// readable documents only (PostgreSQL's phrase queries use ts_rank_cd,
// which depends on the document and the query alone). The zero Visibility
// reads nothing. The class list itself is for the authorizer, never for
// users.
//
// # Query language
//
// Text is split into terms: words, "quoted phrases" and prefixes (word*).
// All terms must match (AND). Everything else — operators of either engine,
// quotes that do not close, SQL metacharacters — is plain text: the parser
// keeps only letters and digits (after case and diacritic folding), so no
// input reaches an engine's query syntax. Empty text browses (newest first).
//
// # Backends
//
// New picks the backend by the store's dialect: SQLite FTS5 (embedded
// default) or PostgreSQL full text (tsvector, GIN). Both answer words and
// prefixes from the index's own postings, scored in Go (postings.go), with
// the same hits, order and scores on both (TestPostgresEqualsSQLite), and
// both pass searchtest.Run. Tables come from migrations 0005_search,
// (SQLite) 0013_search_postings and (PostgreSQL) 0032_search_class_facets
// and 0035_search_postings.
// Upsert and Delete run inside the caller's store transaction, so the
// catalog indexes an asset atomically with writing it.
package search

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// Doc is one searchable asset.
type Doc struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"` // dataset, model, …
	Name        string     `json:"name"`
	Title       string     `json:"title,omitempty"`
	Description string     `json:"description,omitempty"`
	Keywords    []string   `json:"keywords,omitempty"`
	Creators    []string   `json:"creators,omitempty"`
	Variables   []Variable `json:"variables,omitempty"`
	Domain      string     `json:"domain,omitempty"`
	Org         string     `json:"org,omitempty"`
	Project     string     `json:"project,omitempty"`
	Owner       string     `json:"owner,omitempty"`
	Label       string     `json:"label"` // canonical marking (label.Format)
	// Synthetic: the asset's newest version is synthetic data.
	Synthetic bool      `json:"synthetic,omitempty"`
	Updated   time.Time `json:"updated"`
}

// KindPassage is the kind of a literature passage's document
// (internal/lit/library): Name is its publication's name, Title its
// section, Description its text, and its label, project and owner are the
// publication's. It is decided as a publication (VisibilityFor) and
// searched only when a Query asks for passages.
const KindPassage = "passage"

// Variable is a measured or simulated quantity in a dataset.
type Variable struct {
	Name string `json:"name"`
	Unit string `json:"unit,omitempty"`
}

// ClassID identifies a visibility class inside one index.
type ClassID int64

// Class is a visibility class: documents with the same kind, label and
// project are read by exactly the same principals (owners aside).
type Class struct {
	ID      ClassID
	Kind    string
	Label   string
	Project string
}

// Visibility says which documents a caller may read. See the package doc.
type Visibility struct {
	// ReadableClasses: every document of these classes is readable.
	ReadableClasses []ClassID
	// Owner, if set, with OwnerReadableClasses: documents owned by Owner in
	// these classes are readable too (owner-read policy rules).
	Owner                string
	OwnerReadableClasses []ClassID
}

// Query is a search request.
type Query struct {
	Text     string   // free text; empty browses
	Domain   string   // exact match, if set
	Kind     string   // exact match, if set
	Org      string   // exact match, if set
	Keywords []string // every one must be present (exact match)
	// Synthetic, if set, keeps only documents whose synthetic flag equals
	// it (synthetic data, or measured/other).
	Synthetic *bool
	// Passages searches the literature's passages (documents of kind
	// KindPassage) instead of assets. Without it no passage is searched,
	// counted, faceted or suggested: the catalog's search shows assets only.
	Passages bool
	Limit    int    // page size; 0 means DefaultLimit, capped at MaxLimit
	Cursor   string // from Result.Next; empty for the first page
}

// Limits.
const (
	DefaultLimit  = 20
	MaxLimit      = 200
	MaxQueryBytes = 1024
	MaxTerms      = 16
	// MaxFacetValues is how many values each facet lists (by count).
	MaxFacetValues = 20
	MaxSuggestions = 50
)

// Result is one page of a search.
type Result struct {
	Hits   []Hit              `json:"hits"`
	Total  int                `json:"total"` // readable documents matching, all pages
	Facets map[string][]Facet `json:"facets"`
	Next   string             `json:"next,omitempty"` // cursor of the next page; "" at the end
}

// Facet names.
const (
	FacetDomain  = "domain"
	FacetKind    = "kind"
	FacetOrg     = "org"
	FacetKeyword = "keyword"
	// FacetSynthetic counts the synthetic documents, under the one value
	// "true" (the rest of the total is not synthetic). Only that value is
	// counted so that indexes built before the flag need no new counts.
	FacetSynthetic = "synthetic"
)

// Facet is one value of a facet and the number of matching documents with it.
type Facet struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// Hit is one result.
type Hit struct {
	ID      string    `json:"id"`
	Kind    string    `json:"kind"`
	Name    string    `json:"name"`
	Title   string    `json:"title,omitempty"`
	Domain  string    `json:"domain,omitempty"`
	Org     string    `json:"org,omitempty"`
	Label   string    `json:"label"`
	Updated time.Time `json:"updated"`
	// Synthetic: the asset's newest version is synthetic data.
	Synthetic bool `json:"synthetic,omitempty"`
	// Score orders hits (higher first); comparable within one backend only.
	Score float64 `json:"score"`
	// Snippet is plain text (never markup) from the best-matching field;
	// Highlights are byte ranges of it that matched the query.
	Snippet    string `json:"snippet,omitempty"`
	Highlights []Span `json:"highlights,omitempty"`
}

// Span is a byte range [Start, End).
type Span struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Suggestion is a completion: a keyword or title starting with the prefix,
// and how many readable documents carry it.
type Suggestion struct {
	Text  string `json:"text"`
	Count int    `json:"count"`
}

// Index is a label-filtered full-text index.
type Index interface {
	// Upsert adds or replaces d, inside the caller's write transaction.
	Upsert(ctx context.Context, tx store.Tx, d Doc) error
	// Delete removes the document with id, if any, inside tx.
	Delete(ctx context.Context, tx store.Tx, id string) error
	// Search returns one page of the readable documents matching q.
	Search(ctx context.Context, q Query, v Visibility) (*Result, error)
	// Suggest returns up to n completions of prefix among readable documents.
	Suggest(ctx context.Context, prefix string, v Visibility, n int) ([]Suggestion, error)
	// Classes lists the visibility classes, for the caller's authorizer.
	Classes(ctx context.Context) ([]Class, error)
}

// New returns the index for db's dialect. db must be migrated.
func New(db store.DB) (Index, error) {
	switch db.Dialect() {
	case store.SQLite:
		return &sqliteIndex{db: db}, nil
	case store.Postgres:
		return &pgIndex{db: db, cache: docCache{pg: true}}, nil
	}
	return nil, errors.E(errors.Op("search.New"), errors.Internal, errors.Msg("no search backend for this store"))
}

// Put upserts docs in one write transaction (a convenience for importers
// and tests; the catalog calls Upsert inside its own transaction).
func Put(ctx context.Context, db store.DB, idx Index, docs ...Doc) error {
	return db.Update(ctx, func(tx store.Tx) error {
		for _, d := range docs {
			if err := idx.Upsert(ctx, tx, d); err != nil {
				return err
			}
		}
		return nil
	})
}

// Remove deletes ids in one write transaction.
func Remove(ctx context.Context, db store.DB, idx Index, ids ...string) error {
	return db.Update(ctx, func(tx store.Tx) error {
		for _, id := range ids {
			if err := idx.Delete(ctx, tx, id); err != nil {
				return err
			}
		}
		return nil
	})
}

func validateDoc(op errors.Op, d *Doc) error {
	switch {
	case d.ID == "" || len(d.ID) > 200:
		return errors.E(op, errors.Invalid, errors.Field("id"), errors.Msg("a document needs an ID of at most 200 bytes"))
	case d.Kind == "":
		return errors.E(op, errors.Invalid, errors.Field("kind"), errors.Msg("a document needs a kind"))
	case d.Label == "":
		return errors.E(op, errors.Invalid, errors.Field("label"), errors.Msg("a document needs a label"))
	}
	return nil
}

// classKinds caches which classes hold passages. A class's kind never
// changes (search_classes rows are only ever inserted), so an entry never
// goes stale; classes not cached yet are read.
type classKinds struct {
	mu      sync.RWMutex
	passage map[ClassID]bool
}

// forKinds narrows v to the classes of passages (passages) or of
// everything else: a class's kind never changes, so this may be read
// apart from the search that uses it. A class that does not exist counts
// as not holding passages.
func (ck *classKinds) forKinds(ctx context.Context, db store.DB, v Visibility, passages bool) (Visibility, error) {
	var unknown []ClassID
	ck.mu.RLock()
	for _, cs := range [][]ClassID{v.ReadableClasses, v.OwnerReadableClasses} {
		for _, c := range cs {
			if _, ok := ck.passage[c]; !ok {
				unknown = append(unknown, c)
			}
		}
	}
	ck.mu.RUnlock()
	if len(unknown) > 0 {
		found := map[ClassID]bool{}
		err := db.View(ctx, func(tx store.Tx) error {
			clear(found)
			rows, err := tx.Query(ctx, `SELECT id, kind FROM search_classes WHERE id IN (`+intList(unknown)+`)`)
			if err != nil {
				return err
			}
			return rows.Each(func() error {
				var id ClassID
				var kind string
				err := rows.Scan(&id, &kind)
				found[id] = kind == KindPassage
				return err
			})
		})
		if err != nil {
			return Visibility{}, err
		}
		ck.mu.Lock()
		if ck.passage == nil {
			ck.passage = map[ClassID]bool{}
		}
		for id, p := range found {
			ck.passage[id] = p
		}
		ck.mu.Unlock()
	}
	ck.mu.RLock()
	defer ck.mu.RUnlock()
	keep := func(in []ClassID) []ClassID {
		var out []ClassID
		for _, c := range in {
			if ck.passage[c] == passages {
				out = append(out, c)
			}
		}
		return out
	}
	return Visibility{ReadableClasses: keep(v.ReadableClasses), Owner: v.Owner, OwnerReadableClasses: keep(v.OwnerReadableClasses)}, nil
}

// page is a parsed Query: limit and offset.
func page(op errors.Op, q Query) (limit, offset int, err error) {
	limit = q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	if q.Cursor != "" {
		key, err := store.DecodeCursor(q.Cursor)
		if err != nil {
			return 0, 0, errors.E(op, err)
		}
		n, ok := strings.CutPrefix(key, "o:")
		if offset, err = strconv.Atoi(n); !ok || err != nil || offset <= 0 {
			return 0, 0, errors.E(op, store.MalformedCursor())
		}
	}
	return limit, offset, nil
}

// cursorAt is the cursor of the page that starts at offset (one cursor
// format for every list: see store.EncodeCursor).
func cursorAt(offset int) string { return store.EncodeCursor("o:" + strconv.Itoa(offset)) }

// scanSuggestions reads (text, count) rows.
func scanSuggestions(rows *store.Rows) ([]Suggestion, error) {
	var out []Suggestion
	err := rows.Each(func() error {
		var s Suggestion
		if err := rows.Scan(&s.Text, &s.Count); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	return out, err
}
