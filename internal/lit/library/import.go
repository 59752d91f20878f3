package library

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/store"
)

// MaxImportBytes bounds one imported file.
const MaxImportBytes = 64 << 20

// Bounds on what one document may bring.
const (
	maxPassages   = 20000
	maxReferences = 5000
	maxFacts      = 50000
)

// ImportRequest is one file of publications to import.
type ImportRequest struct {
	Name    string     // the file's name (format detection, messages)
	Format  lit.Format // "" detects
	Label   string     // marking of the publications it creates
	Project string     // ID or name; "" for none
	Body    io.Reader  // at most MaxImportBytes
}

// Import statuses (besides catalog's created, updated, unchanged).
const StatusRejected = "rejected"

// Imported is what became of one document of the file.
type Imported struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Version  int64  `json:"version,omitempty"`
	Status   string `json:"status"` // created, updated, unchanged, rejected
	Title    string `json:"title,omitempty"`
	SourceID string `json:"source_id,omitempty"`
	Passages int    `json:"passages"`
	Facts    int    `json:"facts"`
	Error    string `json:"error,omitempty"` // why it was rejected
}

// ImportResult reports per document, in file order.
type ImportResult struct {
	Publications []Imported `json:"publications"`
}

// Import stores the publications of one file. Whether p may create
// publications with the label in the project is decided before the body
// is read; the body is read to its end (at most MaxImportBytes, else
// TooLarge) and parsed fully before anything is stored (a file that does
// not parse stores nothing). Each document is then its own transaction:
// one that fails is reported and stores nothing, and the others go on.
func (s *Service) Import(ctx context.Context, p *genesis.Principal, r ImportRequest) (*ImportResult, error) {
	const op errors.Op = "library.Import"
	t, err := s.cat.MayCreatePublication(ctx, p, r.Label, r.Project)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if s.parse == nil {
		return nil, errors.E(op, errors.Unavailable, errors.Msg("this server has no publication parsers"))
	}
	if r.Body == nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("body"), errors.Msg("no document was sent"))
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxImportBytes+1))
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("body"), errors.Msg("the document could not be read"), err)
	}
	if len(body) > MaxImportBytes {
		return nil, errors.E(op, errors.TooLarge, errors.Field("body"), errors.Msg("a file may hold at most 64 MiB"))
	}
	docs, err := s.parse(ctx, r.Name, bytes.NewReader(body), r.Format)
	if err != nil {
		if errors.KindOf(err) == errors.Other || errors.KindOf(err) == errors.Internal {
			err = errors.E(errors.Invalid, err)
		}
		return nil, errors.E(op, errors.Field("body"), err)
	}
	return s.importDocs(ctx, p, t, docs)
}

// ImportDocuments stores parsed documents as Import does, for callers
// that parse themselves (corpus loaders, benchmarks).
func (s *Service) ImportDocuments(ctx context.Context, p *genesis.Principal, marking, project string, docs []lit.Document) (*ImportResult, error) {
	const op errors.Op = "library.ImportDocuments"
	t, err := s.cat.MayCreatePublication(ctx, p, marking, project)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return s.importDocs(ctx, p, t, docs)
}

func (s *Service) importDocs(ctx context.Context, p *genesis.Principal, t *catalog.PublicationTarget, docs []lit.Document) (*ImportResult, error) {
	res := &ImportResult{Publications: []Imported{}}
	stored := map[string][]lit.Passage{}
	for i := range docs {
		im, passages, err := s.importDoc(ctx, p, t, &docs[i])
		if err == nil && (im.Status == catalog.PublicationCreated || im.Status == catalog.PublicationUpdated) {
			stored[im.ID] = passages
		}
		if err != nil {
			if errors.Is(errors.Canceled, err) || errors.Is(errors.Unavailable, err) {
				return nil, errors.E(errors.Op("library.Import"), err,
					errors.Msg("the import stopped after "+strconv.Itoa(i)+" documents: "+errors.SafeMessage(err)))
			}
			msg := errors.SafeMessage(err)
			if msg == "" {
				msg = "could not be stored"
			}
			im.Status, im.Error = StatusRejected, msg
		}
		res.Publications = append(res.Publications, im)
	}
	if s.emb != nil && len(stored) > 0 {
		// Vectors are filled outside the documents' transactions: a search
		// tolerates a passage without one, and ReindexVectors fills it.
		if err := s.embedNew(ctx, stored); err != nil {
			s.log.Warn("literature: embedding new passages failed; run ReindexVectors later", "err", err)
		}
	}
	return res, nil
}

// prepared is a document ready to store.
type prepared struct {
	doc      *lit.Document
	src      string
	content  []byte
	passages []lit.Passage
	facts    [][]lit.Assertion // per passage
	nFacts   int
}

func (s *Service) prepare(d *lit.Document) (*prepared, error) {
	sanitize(d)
	if d.Title == "" {
		return nil, errors.E(errors.Invalid, errors.Field("title"), errors.Msg("a publication needs a title"))
	}
	if len(d.References) > maxReferences {
		return nil, errors.E(errors.Invalid, errors.Field("references"), errors.Msg("a publication may list at most 5000 references"))
	}
	pr := &prepared{doc: d, src: sourceID(d)}
	var err error
	if pr.content, err = json.Marshal(d); err != nil {
		return nil, errors.E(errors.Internal, err)
	}
	pr.passages = split(d, pr.src)
	if len(pr.passages) > maxPassages {
		return nil, errors.E(errors.Invalid, errors.Msg("a publication may have at most 20000 passages"))
	}
	pr.facts = make([][]lit.Assertion, len(pr.passages))
	if s.extract != nil {
		for i, ps := range pr.passages {
			for _, a := range s.extract(ps.Text) {
				if a.Property == "" || a.Start < 0 || a.End > len(ps.Text) || a.Start > a.End ||
					math.IsNaN(a.Value.Value) || math.IsInf(a.Value.Value, 0) {
					continue
				}
				pr.facts[i] = append(pr.facts[i], a)
				pr.nFacts++
			}
		}
		if pr.nFacts > maxFacts {
			return nil, errors.E(errors.Invalid, errors.Msg("a publication may state at most 50000 facts"))
		}
	}
	return pr, nil
}

func (s *Service) importDoc(ctx context.Context, p *genesis.Principal, t *catalog.PublicationTarget, d *lit.Document) (Imported, []lit.Passage, error) {
	pr, err := s.prepare(d)
	im := Imported{Title: d.Title, SourceID: pr.srcOrEmpty()}
	if err != nil {
		return im, nil, err
	}
	core := meta.Core{Title: truncateRunes(d.Title, 512), Description: truncateRunes(d.Abstract, 65536), Keywords: d.Keywords, DOI: d.DOI,
		Publisher: d.Venue, Domain: ""}
	for _, a := range d.Authors {
		core.Creators = append(core.Creators, meta.Creator{Name: a})
	}
	if d.Year > 0 {
		core.Issued = strconv.Itoa(d.Year)
	}
	for _, id := range []struct{ v, scheme string }{{d.ArXiv, "arxiv"}, {d.PMID, "pmid"}, {d.PMCID, "pmcid"}} {
		if id.v != "" {
			core.Identifiers = append(core.Identifiers, meta.Identifier{Value: id.v, Scheme: id.scheme})
		}
	}
	spec := catalog.PublicationSpec{
		SourceID: pr.src, Name: baseName(d), Core: core, File: "document.json", Content: pr.content,
		Tx: func(ctx context.Context, tx store.Tx, a *catalog.Asset, version int64) error {
			return s.storeTx(ctx, tx, a, version, pr)
		},
	}
	res, err := s.cat.PutPublication(ctx, p, t, spec)
	// A concurrent import of the same document (another file of the same
	// batch, another client) created it first: this one updates it.
	for try := 0; try < 3 && errors.Is(errors.Conflict, err); try++ {
		res, err = s.cat.PutPublication(ctx, p, t, spec)
	}
	if err != nil {
		return im, nil, err
	}
	im.ID, im.Name, im.Version, im.Status = res.Asset.ID, res.Asset.Name, res.Version, res.Status
	im.Passages, im.Facts = len(pr.passages), pr.nFacts
	return im, pr.passages, nil
}

func (pr *prepared) srcOrEmpty() string {
	if pr == nil {
		return ""
	}
	return pr.src
}

func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utfStart(s[n]) {
		n--
	}
	return s[:n]
}

func utfStart(b byte) bool { return b&0xC0 != 0x80 }

// storeTx writes a new version's literature inside the catalog's
// transaction: the publication row, passages (replacing the previous
// version's), their search documents, facts, references and citation
// edges both ways.
func (s *Service) storeTx(ctx context.Context, tx store.Tx, a *catalog.Asset, version int64, pr *prepared) error {
	d := pr.doc
	if err := s.clearTx(ctx, tx, a.ID, pr.passages); err != nil {
		return err
	}
	l, err := effectiveLabelTx(ctx, tx, a.ID, version)
	if err != nil {
		return err
	}
	cit, _ := json.Marshal(citationOf(d))
	now := store.T(a.UpdatedAt)
	if _, err := tx.Exec(ctx, `INSERT INTO lit_publications (id, version, label, project_id, owner_id, source_id, doi, arxiv, pmid, title_key, format, citation, abstract, imported_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET version = excluded.version, label = excluded.label, source_id = excluded.source_id, doi = excluded.doi,
			arxiv = excluded.arxiv, pmid = excluded.pmid, title_key = excluded.title_key, format = excluded.format, citation = excluded.citation,
			abstract = excluded.abstract, imported_at = excluded.imported_at`,
		a.ID, version, l.Format(), string(a.Project), string(a.Owner), pr.src, d.DOI, strings.ToLower(d.ArXiv), d.PMID, titleKey(d.Title),
		string(d.Format), string(cit), d.Abstract, now); err != nil {
		return err
	}
	pub := pubRow{ID: a.ID, Name: a.Name, Version: version, Label: l.Format(), Project: string(a.Project), Owner: string(a.Owner), Citation: formatCitation(citationOf(d))}
	docs := make([]search.Doc, 0, len(pr.passages))
	// Passages go in by the hundred: one statement each.
	for lo := 0; lo < len(pr.passages); lo += 100 {
		part := pr.passages[lo:min(len(pr.passages), lo+100)]
		args := make([]any, 0, 6*len(part))
		for _, ps := range part {
			args = append(args, a.ID, ps.ID, ps.Ordinal, ps.Kind, ps.Section, ps.Text)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO lit_passages (publication, id, ordinal, kind, section, text) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?), ", len(part)), ", "), args...); err != nil {
			return err
		}
	}
	for i := range pr.passages {
		ps := &pr.passages[i]
		docs = append(docs, passageDoc(&pub, ps, a.UpdatedAt))
		for j, f := range pr.facts[i] {
			if err := insertFact(ctx, tx, a.ID, ps, j, f); err != nil {
				return err
			}
		}
	}
	if err := upsertDocs(ctx, tx, s.ix, docs); err != nil {
		return err
	}
	return s.citeTx(ctx, tx, a.ID, d)
}

// clearTx removes what the previous version of publication id left: its
// passages, their search documents and the vectors of passages that do
// not come back, facts, references and outgoing citation edges.
func (s *Service) clearTx(ctx context.Context, tx store.Tx, id string, next []lit.Passage) error {
	rows, err := tx.Query(ctx, `SELECT id FROM lit_passages WHERE publication = ?`, id)
	if err != nil {
		return err
	}
	var old []string
	if err := rows.Each(func() error {
		var x string
		err := rows.Scan(&x)
		old = append(old, x)
		return err
	}); err != nil {
		return err
	}
	keep := map[string]bool{}
	for _, p := range next {
		keep[p.ID] = true
	}
	for _, x := range old {
		if err := s.ix.Delete(ctx, tx, docID(id, x)); err != nil {
			return err
		}
		if !keep[x] {
			if _, err := tx.Exec(ctx, `DELETE FROM lit_vectors WHERE publication = ? AND passage = ?`, id, x); err != nil {
				return err
			}
		}
	}
	for _, q := range []string{`DELETE FROM lit_passages WHERE publication = ?`, `DELETE FROM lit_facts WHERE publication = ?`,
		`DELETE FROM lit_refs WHERE publication = ?`, `DELETE FROM lit_citations WHERE citing = ?`} {
		if _, err := tx.Exec(ctx, q, id); err != nil {
			return err
		}
	}
	return nil
}

// effectiveLabelTx is the join of publication id's label and its
// version's: what its passages are read under.
func effectiveLabelTx(ctx context.Context, tx store.Tx, id string, version int64) (label.Label, error) {
	return catalog.InputLabelTx(ctx, tx, []catalog.VersionRef{{Asset: id, Version: version}})
}

// docID is a passage's search document: passages of polyinstantiated
// publications share IDs, documents may not. The passage comes first so
// that equal scores are ordered by passage ID, which is the same in every
// deployment holding the document.
func docID(pub, passage string) string { return passage + "@" + pub }

// splitDocID is docID's inverse.
func splitDocID(doc string) (pub, passage string, ok bool) {
	passage, pub, ok = strings.Cut(doc, "@")
	return pub, passage, ok
}

func passageDoc(pub *pubRow, ps *lit.Passage, updated time.Time) search.Doc {
	d := search.Doc{ID: docID(pub.ID, ps.ID), Kind: search.KindPassage, Name: pub.Name, Title: ps.Section, Description: ps.Text,
		Domain: pub.ID, Project: pub.Project, Owner: pub.Owner, Label: pub.Label, Updated: updated}
	return d
}

func upsertDocs(ctx context.Context, tx store.Tx, ix search.Index, docs []search.Doc) error {
	if len(docs) == 0 {
		return nil
	}
	if b, ok := ix.(search.BatchUpserter); ok {
		return b.UpsertBatch(ctx, tx, docs)
	}
	for _, d := range docs {
		if err := ix.Upsert(ctx, tx, d); err != nil {
			return err
		}
	}
	return nil
}

func factID(passage string, n int) string {
	return "fct_" + strings.TrimPrefix(passage, "psg_") + "_" + strconv.Itoa(n)
}

func insertFact(ctx context.Context, tx store.Tx, pub string, ps *lit.Passage, n int, a lit.Assertion) error {
	conds, _ := json.Marshal(nonNil(a.Conditions))
	methods, _ := json.Marshal(nonNilS(a.Methods))
	_, err := tx.Exec(ctx, `INSERT INTO lit_facts (publication, id, passage, property, material, material_key, formula, formula_key, value, unit, raw,
		conditions, methods, span_start, span_end, statement) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		pub, factID(ps.ID, n), ps.ID, clean(a.Property, false), clean(a.Material, false), strings.ToLower(clean(a.Material, false)),
		clean(a.Formula, false), strings.ToLower(clean(a.Formula, false)), a.Value.Value, clean(a.Value.Unit, false), clean(a.Value.Raw, false),
		string(conds), string(methods), a.Start, a.End, statement(ps.Text, a.Start, a.End))
	return err
}

func nonNil(c []lit.Condition) []lit.Condition {
	if c == nil {
		return []lit.Condition{}
	}
	return c
}

func nonNilS(c []string) []string {
	if c == nil {
		return []string{}
	}
	return c
}

// statement is the sentence of text holding [start, end).
func statement(text string, start, end int) string {
	for _, s := range sentenceSpans(text) {
		if s[0] <= start && end <= s[1] {
			return text[s[0]:s[1]]
		}
	}
	if start >= 0 && end <= len(text) && start <= end {
		return text[start:end]
	}
	return ""
}

// sentenceSpans are the byte ranges of sentences(text) in text.
func sentenceSpans(text string) [][2]int {
	var out [][2]int
	at := 0
	for _, s := range sentences(text) {
		i := strings.Index(text[at:], s)
		if i < 0 {
			continue
		}
		out = append(out, [2]int{at + i, at + i + len(s)})
		at += i + len(s)
	}
	return out
}
