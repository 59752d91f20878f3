// Package lit is the literature: publications imported into the catalog
// (assets of kind publication), split into citable passages, searched with
// label filtering before ranking (BM25 from the catalog's own full-text
// engine, fused with vector similarity when an embedding endpoint is
// configured), and the facts extracted from them — assertions about
// materials, properties, values with normalised units, conditions and
// methods, each linked to the passage it came from.
//
// Everything here is read as one principal: a passage is readable exactly
// when its publication (asset and version) is, and a hidden passage, fact
// or publication is indistinguishable from a missing one (DESIGN.md
// invariant 4).
//
// This file holds the types other packages share: the parsed Document a
// format parser produces (internal/lit/formats), the Assertion the
// extractor produces (internal/lit/extract), and the Library that agents
// and the MCP server read through (internal/agent, internal/mcp).
package lit

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
)

// Format is a publication's source format.
type Format string

const (
	FormatJATS     Format = "jats"     // JATS XML (PubMed Central, publishers)
	FormatArXiv    Format = "arxiv"    // arXiv API Atom feed (one or more entries)
	FormatOAIPMH   Format = "oai-pmh"  // OAI-PMH ListRecords/GetRecord (oai_dc, arXiv, arXivRaw)
	FormatCrossref Format = "crossref" // Crossref REST work JSON (single or items list)
	FormatDataCite Format = "datacite" // DataCite JSON (REST API attributes or metadata JSON)
	FormatBibTeX   Format = "bibtex"
	FormatRIS      Format = "ris"
	FormatMarkdown Format = "markdown"
	FormatText     Format = "text"
	FormatPDF      Format = "pdf" // text by poppler's pdftotext
)

// Document is one publication as a parser read it: metadata, and the text
// in reading order. Parsers fill what the source has; a bibliographic
// record (BibTeX, RIS, Crossref, arXiv metadata) has no body. All strings
// are valid UTF-8, sanitised (no control characters but newlines in
// paragraphs), whitespace-normalised.
type Document struct {
	Format Format `json:"format"`
	// Identifiers, normalised: DOI lower-case without "https://doi.org/";
	// arXiv ID without version ("2101.00001", "cond-mat/0101001"); PMID and
	// PMCID ("PMC123456") as digits/strings.
	DOI   string `json:"doi,omitempty"`
	ArXiv string `json:"arxiv,omitempty"`
	PMID  string `json:"pmid,omitempty"`
	PMCID string `json:"pmcid,omitempty"`

	Title    string    `json:"title"`
	Authors  []string  `json:"authors,omitempty"` // "Given Family" each, in order
	Year     int       `json:"year,omitempty"`
	Venue    string    `json:"venue,omitempty"` // journal, conference or archive
	License  string    `json:"license,omitempty"`
	Keywords []string  `json:"keywords,omitempty"`
	Abstract string    `json:"abstract,omitempty"`
	Sections []Section `json:"sections,omitempty"`
	// Captions of figures and tables, in order ("Figure 2. …").
	Captions   []Caption   `json:"captions,omitempty"`
	References []Reference `json:"references,omitempty"`
}

// Section is a titled part of the body; nested sections are flattened in
// reading order with their heading path ("Results / Band gaps").
type Section struct {
	Heading    string   `json:"heading,omitempty"`
	Paragraphs []string `json:"paragraphs"`
}

// Caption is a figure or table caption.
type Caption struct {
	Label string `json:"label,omitempty"` // "Figure 2", "Table 1"
	Text  string `json:"text"`
}

// Reference is one entry of the reference list. Identifiers are normalised
// as in Document, so a reference to an imported publication is matched by
// DOI, arXiv ID or PMID (else by normalised title).
type Reference struct {
	DOI   string `json:"doi,omitempty"`
	ArXiv string `json:"arxiv,omitempty"`
	PMID  string `json:"pmid,omitempty"`
	Title string `json:"title,omitempty"`
	Text  string `json:"text,omitempty"` // the reference as printed, bounded
}

// Passage kinds.
const (
	PassageTitle    = "title"
	PassageAbstract = "abstract"
	PassageBody     = "body"
	PassageCaption  = "caption"
)

// Passage is a citable piece of a publication: a paragraph (long ones split
// at sentence boundaries), a caption, the abstract. Its ID (psg_…) is
// stable: derived from the publication's source identity and the passage's
// place and text, so re-importing the same document gives the same IDs.
type Passage struct {
	ID          string `json:"id"`
	Publication string `json:"publication"` // asset ID (pub_…)
	Name        string `json:"name"`        // the publication's asset name
	Version     int64  `json:"version"`     // publication version it belongs to
	Ordinal     int    `json:"ordinal"`     // 0-based position in the publication
	Kind        string `json:"kind"`        // Passage* constants
	Section     string `json:"section,omitempty"`
	Text        string `json:"text"`
	Label       string `json:"label"` // canonical marking; the publication's
	Citation    string `json:"citation"`
}

// Citation formats a publication for a reader: "Family et al. (2021) Title.
// Venue. doi:…".
type Citation struct {
	Title   string   `json:"title"`
	Authors []string `json:"authors,omitempty"`
	Year    int      `json:"year,omitempty"`
	Venue   string   `json:"venue,omitempty"`
	DOI     string   `json:"doi,omitempty"`
	ArXiv   string   `json:"arxiv,omitempty"`
}

// Publication is an imported publication as a reader sees it.
type Publication struct {
	ID       string    `json:"id"`   // asset ID
	Name     string    `json:"name"` // asset name
	Version  int64     `json:"version"`
	Label    string    `json:"label"`
	Format   Format    `json:"format"`
	Citation Citation  `json:"citation"`
	Abstract string    `json:"abstract,omitempty"`
	Passages int       `json:"passages"`
	Facts    int       `json:"facts"`
	Cites    []string  `json:"cites,omitempty"`    // readable publications it cites (asset IDs)
	CitedBy  []string  `json:"cited_by,omitempty"` // readable publications citing it
	Imported time.Time `json:"imported"`
}

// Value is a number with its unit, as written and normalised.
type Value struct {
	// Value and Unit normalised: Unit is the property's canonical unit
	// (eV, %, K, S/cm, …; see internal/lit/extract's unit table).
	Value float64 `json:"value"`
	Unit  string  `json:"unit,omitempty"`
	// Raw is the value as written ("1.2 × 10⁻³ S/cm").
	Raw string `json:"raw"`
	// Low and High bound a range ("1.5–1.7 eV": Value is the midpoint) or
	// a value ± its uncertainty ("1.62 ± 0.02 eV": Value is 1.62), in
	// Unit; they are set only when High > Low.
	Low  float64 `json:"low,omitempty"`
	High float64 `json:"high,omitempty"`
}

// Condition qualifies an assertion ("at 350 °C": temperature 623.15 K).
type Condition struct {
	Name  string `json:"name"` // temperature, pressure, time, atmosphere, …
	Value Value  `json:"value"`
}

// Assertion is one fact a passage states: a property of a material, with
// a value, under conditions, measured or computed by methods.
type Assertion struct {
	Material   string      `json:"material,omitempty"` // as named ("CsPbI3", "methylammonium lead iodide")
	Formula    string      `json:"formula,omitempty"`  // normalised formula when one is known ("CsPbI3")
	Property   string      `json:"property"`           // canonical snake_case: band_gap, yield, conductivity, …
	Value      Value       `json:"value"`
	Conditions []Condition `json:"conditions,omitempty"`
	Methods    []string    `json:"methods,omitempty"` // methods and instruments (DFT, XRD, UV-vis, …)
	// Span is the byte range of the statement in the passage text.
	Start int `json:"start"`
	End   int `json:"end"`
}

// Fact is a stored assertion as a reader sees it, with where it came from.
type Fact struct {
	ID          string `json:"id"` // fct_…
	Passage     string `json:"passage"`
	Publication string `json:"publication"`
	Label       string `json:"label"`
	Citation    string `json:"citation"`
	Statement   string `json:"statement"` // the sentence it was read from
	Assertion
}

// Query asks for passages.
type Query struct {
	Text string
	// Mode: "" (hybrid when an embedder is configured, else BM25), "bm25",
	// or "hybrid" (an error when no embedder is configured).
	Mode  string
	Limit int // 0 = 10; at most 100
	// Publication, if set, restricts to one publication (ID or name).
	Publication string
}

// Search modes.
const (
	ModeBM25   = "bm25"
	ModeHybrid = "hybrid"
)

// Hit is one passage found, with its rank scores.
type Hit struct {
	Passage
	Score   float64 `json:"score"`                 // fused score, higher first
	BM25    int     `json:"bm25_rank,omitempty"`   // 1-based rank in the BM25 list; 0 = absent
	Vector  int     `json:"vector_rank,omitempty"` // 1-based rank in the vector list; 0 = absent
	Snippet string  `json:"snippet,omitempty"`
}

// FactQuery selects facts. Property and Material match canonical names
// (material also matches the normalised formula, case-insensitively).
type FactQuery struct {
	Property    string
	Material    string
	Publication string
	Limit       int    // 0 = 50; at most 500
	Cursor      string // from the previous page
}

// Library is the literature as one principal may read it: what agents and
// the MCP server use. Every method decides readability before anything is
// ranked or counted; a hidden object is NotExist, exactly like a missing
// one. Implemented by *library.Service (internal/lit/library).
type Library interface {
	// Search returns the best passages for q among those p may read.
	Search(ctx context.Context, p *genesis.Principal, q Query) ([]Hit, error)
	// Passage returns one passage p may read.
	Passage(ctx context.Context, p *genesis.Principal, id string) (*Passage, error)
	// Facts returns one page of facts p may read, and the next cursor.
	Facts(ctx context.Context, p *genesis.Principal, q FactQuery) ([]Fact, string, error)
	// Publication returns one publication p may read (ID or name).
	Publication(ctx context.Context, p *genesis.Principal, idOrName string) (*Publication, error)
}
