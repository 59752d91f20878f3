package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// Metadata is an asset's harmonised metadata as stored.
type Metadata struct {
	Core            meta.Core       `json:"core"`
	Quality         meta.Quality    `json:"quality"`
	Provenance      meta.Provenance `json:"provenance"`
	SourceID        string          `json:"source_id,omitempty"`
	Original        string          `json:"original,omitempty"` // blob ID of the source record
	ExtensionSchema string          `json:"extension_schema,omitempty"`
	Extension       json.RawMessage `json:"extension,omitempty"`
	UpdatedBy       string          `json:"updated_by"`
	UpdatedAt       time.Time       `json:"updated_at"`
}

// SetRegistry installs the domain-extension schema registry.
func (s *Service) SetRegistry(r *meta.Registry) { s.registry = r }

// LoadExtensionSchemas registers the stored extension schemas (at start).
func (s *Service) LoadExtensionSchemas(ctx context.Context) error {
	if s.registry == nil {
		s.registry = meta.NewRegistry()
	}
	return s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT name, source FROM extension_schemas`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var name, src string
			if err := rows.Scan(&name, &src); err != nil {
				return err
			}
			if err := s.registry.Register(name, []byte(src)); err != nil {
				return errors.E(errors.Internal, errors.Msg("stored extension schema "+name+" does not compile"), err)
			}
			return nil
		})
	})
}

// currentSchema brings the registry's schema name up to the stored one:
// a schema registered or replaced through another replica is in force
// here at the next write that names it. One indexed read per write with
// an extension; the schema is compiled again only when its source moved.
func (s *Service) currentSchema(ctx context.Context, name string) error {
	var src string
	err := s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT source FROM extension_schemas WHERE name = ?`, name).Scan(&src)
	})
	if errors.Is(errors.NotExist, err) {
		return nil // not stored: the registry answers (no such schema)
	}
	if err != nil {
		return err
	}
	s.schemaMu.Lock()
	defer s.schemaMu.Unlock()
	if s.registry == nil {
		s.registry = meta.NewRegistry()
	}
	if have, err := s.registry.Source(name); err == nil && string(have) == src {
		return nil
	}
	if err := s.registry.Register(name, []byte(src)); err != nil {
		return errors.E(errors.Internal, errors.Msg("stored extension schema "+name+" does not compile"), err)
	}
	return nil
}

// RegisterExtensionSchema stores and activates a JSON Schema for domain
// extensions (stewards and administrators).
func (s *Service) RegisterExtensionSchema(ctx context.Context, p *genesis.Principal, name string, schema []byte) error {
	const op errors.Op = "catalog.RegisterExtensionSchema"
	if !p.IsAdmin() && !p.HasRole(genesis.RoleSteward) {
		return errors.E(op, errors.Permission, errors.Msg("only stewards and administrators register extension schemas"))
	}
	if !genesis.ValidName(name) {
		return invalid(op, "name", "name must be 1-63 lower-case letters, digits, '-', '_' or '.'")
	}
	if s.registry == nil {
		s.registry = meta.NewRegistry()
	}
	probe := meta.NewRegistry()
	if err := probe.Register(name, schema); err != nil {
		return errors.E(op, errors.Invalid, errors.Field("schema"), err)
	}
	err := s.db.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Exec(ctx, `UPDATE extension_schemas SET source = ?, created_by = ?, created_at = ? WHERE name = ?`, string(schema), p.ID, store.T(s.now()), name)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n > 0 {
			return nil
		}
		_, err = tx.Exec(ctx, `INSERT INTO extension_schemas (name, source, created_by, created_at) VALUES (?, ?, ?, ?)`, name, string(schema), p.ID, store.T(s.now()))
		return err
	})
	if err != nil {
		return errors.E(op, err)
	}
	return s.registry.Register(name, schema)
}

// SetMetadata replaces an asset's core metadata (and optionally its domain
// extension, validated against the named schema). Writers only.
func (s *Service) SetMetadata(ctx context.Context, p *genesis.Principal, idOrName string, core meta.Core, extSchema string, ext json.RawMessage) (*Metadata, error) {
	const op errors.Op = "catalog.SetMetadata"
	a, err := s.writable(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	core.Normalize()
	if err := core.Validate(); err != nil {
		return nil, errors.E(op, errors.Invalid, err)
	}
	if extSchema != "" {
		if err := s.currentSchema(ctx, extSchema); err != nil {
			return nil, errors.E(op, err)
		}
		if s.registry == nil {
			return nil, invalid(op, "extension_schema", "no such extension schema")
		}
		if err := s.registry.ValidateExtension(extSchema, ext); err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("extension"), err)
		}
	}
	m := &Metadata{Core: core, Quality: meta.Assess(&core), Provenance: meta.Provenance{Format: "genesis", Fields: map[string][]string{}},
		ExtensionSchema: extSchema, Extension: ext, UpdatedBy: string(p.ID), UpdatedAt: s.now().UTC().Truncate(time.Microsecond)}
	err = s.db.Update(ctx, func(tx store.Tx) error {
		var src, orig string
		tx.QueryRow(ctx, `SELECT source_id, original FROM asset_metadata WHERE asset_id = ?`, a.ID).Scan(&src, &orig)
		m.SourceID, m.Original = src, orig
		if err := putMetadata(ctx, tx, a.ID, m); err != nil {
			return err
		}
		return s.indexTx(ctx, tx, a.ID)
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.afterMetadata(ctx, p, a, m, "metadata.set"); err != nil {
		return nil, errors.E(op, err)
	}
	return m, nil
}

func putMetadata(ctx context.Context, tx store.Tx, asset string, m *Metadata) error {
	core, _ := json.Marshal(m.Core)
	prov := m.Provenance
	prov.Original = nil // the original lives in its blob
	provJSON, _ := json.Marshal(prov)
	findings, _ := json.Marshal(m.Quality.Findings)
	ext := string(m.Extension)
	if _, err := tx.Exec(ctx, `DELETE FROM asset_metadata WHERE asset_id = ?`, asset); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO asset_metadata (asset_id, core, provenance, format, source_id, original, quality, findings, extension_schema, extension, updated_by, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, asset, string(core), string(provJSON), string(prov.Format), m.SourceID, m.Original,
		m.Quality.Score, string(findings), m.ExtensionSchema, ext, m.UpdatedBy, store.T(m.UpdatedAt))
	return err
}

func (s *Service) afterMetadata(ctx context.Context, p *genesis.Principal, a *Asset, m *Metadata, action string) error {
	l, err := label.Parse(a.Label)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	return s.record(ctx, p, action, a, l, audit.Allow, "quality "+strconv.Itoa(m.Quality.Score))
}

// GetMetadata returns a readable asset's metadata (NotExist if it has none).
func (s *Service) GetMetadata(ctx context.Context, p *genesis.Principal, idOrName string) (*Asset, *Metadata, error) {
	const op errors.Op = "catalog.GetMetadata"
	a, err := s.Get(ctx, p, idOrName)
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	m, err := s.loadMetadata(ctx, a.ID)
	if err != nil {
		return nil, nil, errors.E(op, err)
	}
	return a, m, nil
}

func (s *Service) loadMetadata(ctx context.Context, asset string) (*Metadata, error) {
	var m Metadata
	var core, prov, findings, ext string
	var at int64
	err := s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT core, provenance, source_id, original, quality, findings, extension_schema, extension, updated_by, updated_at FROM asset_metadata WHERE asset_id = ?`, asset).
			Scan(&core, &prov, &m.SourceID, &m.Original, &m.Quality.Score, &findings, &m.ExtensionSchema, &ext, &m.UpdatedBy, &at)
	})
	if err != nil {
		return nil, err
	}
	json.Unmarshal([]byte(core), &m.Core)
	json.Unmarshal([]byte(prov), &m.Provenance)
	json.Unmarshal([]byte(findings), &m.Quality.Findings)
	if ext != "" {
		m.Extension = json.RawMessage(ext)
	}
	m.UpdatedAt = store.FromT(at)
	return &m, nil
}

// ImportSummary says what an import did.
type ImportSummary struct {
	Format   meta.Format     `json:"format"`
	Imported []ImportedAsset `json:"imported"`
	Updated  []ImportedAsset `json:"updated"`
	Rejected []Rejection     `json:"rejected"`
}

// ImportedAsset is one record that became (or updated) an asset.
type ImportedAsset struct {
	Index    int    `json:"index"`
	SourceID string `json:"source_id,omitempty"`
	Asset    string `json:"asset"`
	ID       string `json:"id"` // the asset's: its name may be another's too
	Quality  int    `json:"quality"`
}

// Rejection is one record that was not imported, and why.
type Rejection struct {
	Index    int    `json:"index"`
	SourceID string `json:"source_id,omitempty"`
	Field    string `json:"field,omitempty"`
	Reason   string `json:"reason"`
}

// ImportSpec says how to import a metadata document.
type ImportSpec struct {
	Format  meta.Format
	Label   string // label of the assets it creates
	Project string
}

// Import harmonises a metadata document (one or many records) into the
// catalog: each valid record creates a dataset (named from its title) or
// updates the one already imported with the same source identifier; each
// record's original is kept as a blob. Records are written in batches as
// the document is read, one transaction per batch with each record under
// its own savepoint, so a bad record never half-writes and never stops the
// rest (importBatcher), and memory holds one batch, not the document.
//
// Whether p may create datasets with the label in the project is decided
// before the document is read: a caller who may not is refused at once.
// A document that is not valid (its syntax is checked to the end before
// any record is stored) stores nothing. An error that stops the import
// part-way (cancellation, an unavailable store or audit log) leaves the
// batches already stored in place, and its message says how many.`
func (s *Service) Import(ctx context.Context, p *genesis.Principal, r io.Reader, spec ImportSpec) (*ImportSummary, error) {
	const op errors.Op = "catalog.Import"
	l, err := s.normLabel(ctx, op, p, spec.Label)
	if err != nil {
		return nil, err
	}
	if spec.Format == "" {
		spec.Format = meta.Auto
	}
	if err := s.mayImport(ctx, p, l, spec.Project); err != nil {
		return nil, errors.E(op, err)
	}
	// Records are stored as they are read, a batch at a time: memory holds
	// one batch, never the document (meta streams large ones).
	sum := &ImportSummary{Imported: []ImportedAsset{}, Updated: []ImportedAsset{}, Rejected: []Rejection{}}
	b := importBatcher{s: s, p: p, l: l, project: spec.Project, sum: sum}
	err = meta.ImportEach(r, spec.Format, meta.DefaultOptions, func(rec *meta.Record, bad *meta.RecordError) error {
		if bad != nil {
			sum.Rejected = append(sum.Rejected, Rejection{Index: bad.Index, SourceID: bad.SourceID, Field: bad.Field, Reason: bad.Error()})
			return nil
		}
		if sum.Format == "" {
			sum.Format = rec.Provenance.Format
		}
		return b.add(ctx, *rec)
	})
	if err == nil {
		err = b.flush(ctx)
	}
	if err != nil {
		if !b.storing {
			if errors.Is(errors.TooLarge, err) {
				return nil, errors.E(op, errors.Field("document"), err)
			}
			return nil, errors.E(op, errors.Invalid, errors.Field("document"), err)
		}
		// Batches already stored stay stored (they are acknowledged by
		// this message); a retry of the document updates them in place by
		// their source identifiers.
		if n := len(sum.Imported) + len(sum.Updated); n > 0 {
			return nil, errors.E(op, err, errors.Msg(fmt.Sprintf("the import stopped after %d records were stored (%s); sending the document again updates those with a source identifier in place", n, errors.SafeMessage(err))))
		}
		return nil, errors.E(op, err)
	}
	return sum, nil
}

// mayImport decides whether p may create datasets with label l in the
// project, as each record's import will.
func (s *Service) mayImport(ctx context.Context, p *genesis.Principal, l label.Label, project string) error {
	proj := projectResolver{s: s, p: p, name: project}
	pid, err := proj.get(ctx)
	if err != nil {
		return err
	}
	return s.mayCreate(ctx, p, &Asset{ID: newID("ds"), Kind: KindDataset, Label: l.Format(), Project: genesis.ProjectID(pid), Owner: p.ID})
}

// Export renders a readable asset's metadata as DataCite JSON or DCAT-US.
func (s *Service) Export(ctx context.Context, p *genesis.Principal, idOrName string, format meta.Format) ([]byte, error) {
	const op errors.Op = "catalog.Export"
	_, m, err := s.GetMetadata(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	switch format {
	case meta.Format("datacite"):
		return meta.ExportDataCite(m.Core)
	case meta.Format("dcat-us"):
		return json.MarshalIndent(meta.ExportDCATUS(m.Core, meta.DCATUSOptions{}), "", "  ")
	}
	return nil, invalid(op, "format", "export formats are datacite and dcat-us")
}

func slug(title string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(title) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "dataset"
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
