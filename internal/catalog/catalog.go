// Package catalog keeps Genesis's assets — datasets now, models and more
// later — with their immutable versions, labels and release records.
//
// Every call takes the acting principal and decides through the one
// authorizer: an asset the principal may not read does not exist for it
// (errors.NotExist, the same as a missing one); a readable asset the
// principal may not change gives errors.Permission. Decisions about
// non-OPEN assets, and every mutation, are appended to the audit log with
// the asset's label hash; for NATIONAL-SECURITY assets the record is durable
// before the call returns, and if it cannot be written the call fails.
//
// A version's bytes are a manifest blob (see blob/manifest) naming content-
// addressed chunks. Chunks reach the store through the asset they are sent
// to, and the asset remembers them (asset_chunks): "which of these chunks do
// you lack?" is answered per asset, so nobody can probe for content held
// only by assets they cannot write.
package catalog

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/compartment"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// Principals turns an authenticated principal into decision input.
type Principals interface {
	AuthzPrincipal(ctx context.Context, p *genesis.Principal) (authz.Principal, error)
}

// Service is the catalog.
type Service struct {
	db     store.DB
	blobs  blob.Store
	authz  *authz.Authorizer
	people Principals
	audit  audit.Appender // may be nil (tests)
	// exclusive, when set, runs GC on one replica at a time (SetExclusive).
	exclusive func(ctx context.Context, name string, work func(context.Context) error) error
	now       func() time.Time

	registry *meta.Registry
	schemaMu sync.Mutex // serialises bringing registry's schemas up to the store's
	search   search.Index

	generators Generators

	raiseHooks []RaiseHook
	labelHooks []RaiseHook
}

// Config is what the catalog needs.
type Config struct {
	DB         store.DB
	Blobs      blob.Store
	Authz      *authz.Authorizer
	Principals Principals
	Audit      audit.Appender
	Now        func() time.Time
}

// New returns the catalog.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{db: c.DB, blobs: c.Blobs, authz: c.Authz, people: c.Principals, audit: c.Audit, now: c.Now}
}

// Kind is an asset kind.
type Kind string

const (
	KindDataset Kind = "dataset"
	KindModel   Kind = "model"
	// KindPublication is a paper, preprint or report imported by
	// internal/lit: its versions hold the source document and its parse,
	// its passages are searched through the literature index.
	KindPublication Kind = "publication"
)

// Bounds on an asset's own title and description, in bytes.
const (
	MaxTitleLen       = 512
	MaxDescriptionLen = 65536
)

// Asset is a catalog entry.
type Asset struct {
	ID            string              `json:"id"`
	Kind          Kind                `json:"kind"`
	Name          string              `json:"name"`
	Title         string              `json:"title,omitempty"`
	Description   string              `json:"description,omitempty"`
	Label         string              `json:"label"`
	Project       genesis.ProjectID   `json:"project,omitempty"`
	Owner         genesis.PrincipalID `json:"owner"`
	LatestVersion int64               `json:"latest_version"`
	CreatedAt     time.Time           `json:"created_at"`
	UpdatedAt     time.Time           `json:"updated_at"`
}

// Version is one immutable version of an asset.
type Version struct {
	Asset      string `json:"asset"`
	Version    int64  `json:"version"`
	Manifest   string `json:"manifest"`
	Parent     *int64 `json:"parent,omitempty"`
	Message    string `json:"message,omitempty"`
	TotalBytes int64  `json:"total_bytes"`
	FileCount  int64  `json:"file_count"`
	Label      string `json:"label"`
	ReleaseID  string `json:"release,omitempty"`
	// Synthetic marks data made by a generator (a job, campaign, simulator
	// or model) rather than measured; Generator names it as kind:ID
	// (empty on a version made by a release).
	Synthetic bool                `json:"synthetic,omitempty"`
	Generator string              `json:"generator,omitempty"`
	CreatedBy genesis.PrincipalID `json:"created_by"`
	// generatorLabel is the generator's label when the version was made.
	generatorLabel string
	CreatedAt      time.Time `json:"created_at"`
}

func (a *Asset) resource() (authz.Resource, error) {
	l, err := label.Parse(a.Label)
	if err != nil {
		// A stored label that does not parse decides nothing: fail closed.
		return authz.Resource{}, errors.E(errors.Internal, err)
	}
	return authz.Resource{Type: authz.ResourceType(a.Kind), ID: a.ID, Label: l, Project: string(a.Project), Owner: string(a.Owner)}, nil
}

const assetCols = `id, kind, name, title, description, label, COALESCE(project_id, ''), owner_id, latest_version, created_at, updated_at`

func scanAsset(sc interface{ Scan(...any) error }) (*Asset, error) {
	var a Asset
	var c, u int64
	if err := sc.Scan(&a.ID, &a.Kind, &a.Name, &a.Title, &a.Description, &a.Label, &a.Project, &a.Owner, &a.LatestVersion, &c, &u); err != nil {
		return nil, err
	}
	a.CreatedAt, a.UpdatedAt = store.FromT(c), store.FromT(u)
	return &a, nil
}

const versionCols = `asset_id, version, manifest, parent, message, total_bytes, file_count, label, COALESCE(release_id, ''), synthetic, generator, generator_label, created_by, created_at`

func scanVersion(sc interface{ Scan(...any) error }) (*Version, error) {
	var v Version
	var c int64
	if err := sc.Scan(&v.Asset, &v.Version, &v.Manifest, &v.Parent, &v.Message, &v.TotalBytes, &v.FileCount, &v.Label, &v.ReleaseID, &v.Synthetic, &v.Generator, &v.generatorLabel, &v.CreatedBy, &c); err != nil {
		return nil, err
	}
	v.CreatedAt = store.FromT(c)
	return &v, nil
}

// decide checks act on a for p. Decisions about non-OPEN assets are
// recorded; an unreadable asset is NotExist.
func (s *Service) decide(ctx context.Context, p *genesis.Principal, act authz.Action, a *Asset) error {
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return err
	}
	return s.decideAs(ctx, p, ap, act, a)
}

// decideAs is decide for a caller that already has p's decision input ap.
func (s *Service) decideAs(ctx context.Context, p *genesis.Principal, ap authz.Principal, act authz.Action, a *Asset) error {
	res, err := a.resource()
	if err != nil {
		return err
	}
	err = s.authz.Can(ctx, ap, act, res)
	// Every refusal is recorded, even of a read of OPEN data: a hidden
	// asset must leave as many records as a missing one (recordNotFound).
	if res.Label.Level() != label.Open || act != authz.Read || err != nil {
		dec := audit.Allow
		if err != nil {
			dec = audit.Deny
		}
		if aerr := s.record(ctx, p, string(act), a, res.Label, dec, ""); aerr != nil && err == nil {
			return aerr
		}
	}
	return err
}

// record appends an audit record about asset a. NATIONAL-SECURITY records
// are durable before it returns, and their failure is the caller's failure.
func (s *Service) record(ctx context.Context, p *genesis.Principal, action string, a *Asset, l label.Label, dec audit.Decision, detail string) error {
	return Record(ctx, s.audit, audit.Record{Principal: string(p.ID), Action: string(a.Kind) + "." + action, ObjectType: string(a.Kind), ObjectID: a.ID,
		Decision: dec, Detail: detail}, l)
}

// recordNotFound records that p asked for an object of type typ (an
// asset, a version, a release) that does not exist. A hidden one leaves a deny record (decide); a missing one
// must leave one too, or the log's size would tell them apart. It has no
// label, so the API shows it to no one (httpapi.mayReadEntry), as it
// shows the hidden one only to those who may read it.
func (s *Service) recordNotFound(ctx context.Context, p *genesis.Principal, typ, asked string) {
	if s.audit == nil || p == nil {
		return
	}
	s.audit.Append(context.WithoutCancel(ctx), audit.Record{Principal: string(p.ID), Action: typ + ".read", ObjectType: typ,
		ObjectID: asked, Decision: audit.Deny, RequestID: RequestID(ctx), Detail: "not found"})
}

// Record appends rec about an object labelled l, filling in the label
// (which the log keys into the record's label hash) and the request ID. A record about NATIONAL-SECURITY data is durable
// before Record returns, and if it cannot be written the action it records
// must fail (AU-5): the error says so. A nil log records nothing.
func Record(ctx context.Context, log audit.Appender, rec audit.Record, l label.Label) error {
	if log == nil {
		return nil
	}
	lb, err := l.MarshalBinary()
	if err != nil {
		return errors.E(errors.Op("catalog.Record"), errors.Internal, err)
	}
	rec.Label, rec.RequestID = lb, RequestID(ctx)
	ctx = context.WithoutCancel(ctx)
	if l.Level() == label.NationalSecurity {
		if _, err := log.AppendSync(ctx, rec); err != nil {
			return errors.E(errors.Op("catalog.Record"), errors.Unavailable, errors.Msg("the audit log cannot be written; actions on NATIONAL-SECURITY data are refused"), err)
		}
		return nil
	}
	_, err = log.Append(ctx, rec)
	return err
}

type requestIDKey struct{}

// WithRequestID lets audit records carry the API request ID.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID carried by ctx, or "".
func RequestID(ctx context.Context) string { s, _ := ctx.Value(requestIDKey{}).(string); return s }

func invalid(op errors.Op, field, msg string) error {
	return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(msg))
}

// normLabel parses a marking p is about to put on something, and refuses
// one that puts compartments on OPEN or names a compartment the deployment
// does not know, or p may not know of (compartment.CheckFor).
func (s *Service) normLabel(ctx context.Context, op errors.Op, p *genesis.Principal, marking string) (label.Label, error) {
	if strings.TrimSpace(marking) == "" {
		return label.Label{}, invalid(op, "label", "a label marking is required, e.g. OPEN or PROPRIETARY//AGR:CRADA-0042")
	}
	// Not label.Parse: a marking from a user interns only tokens the
	// deployment knows (see compartment.Admit).
	l, err := compartment.ParseForDB(ctx, s.db, p, "label", marking)
	if err != nil {
		return label.Label{}, errors.E(op, err)
	}
	return l, nil
}
