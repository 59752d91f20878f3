// Package identity keeps who is who: organisations, principals (users and
// service accounts), their API tokens, and projects with their members. It
// authenticates bearer credentials — Genesis API tokens, or OIDC ID tokens
// from a configured issuer — into a *genesis.Principal.
//
// Token secrets are random (256 bits), shown once at creation and stored
// only as SHA-256 hashes; a revoked or expired token, or a disabled
// principal, authenticates nobody, effective at the next request.
//
// Visibility rules for identity objects: organisations are public to every
// authenticated principal; a principal record is visible to itself and to
// administrators; a project is visible to its members and administrators.
// Whatever is not visible is reported as errors.NotExist, exactly as if it
// did not exist.
package identity

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"slices"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Service is the identity service.
type Service struct {
	db   store.DB
	now  func() time.Time
	oidc *OIDC
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithOIDC accepts ID tokens verified by v.
func WithOIDC(v *OIDC) Option { return func(s *Service) { s.oidc = v } }

// New returns the identity service over db (which must be migrated).
func New(db store.DB, opts ...Option) *Service {
	s := &Service{db: db, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewID returns a random identifier with the given prefix, e.g. "pr_…".
func NewID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

func invalid(op errors.Op, field, msg string) error {
	return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(msg))
}

func validNation(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// ---- organisations

// CreateOrg records a new organisation.
func (s *Service) CreateOrg(ctx context.Context, o genesis.Organization) (*genesis.Organization, error) {
	const op errors.Op = "identity.CreateOrg"
	if err := text.Name("name", o.Name); err != nil {
		return nil, errors.E(op, err)
	}
	o.Country = strings.ToUpper(o.Country)
	if !validNation(o.Country) {
		return nil, invalid(op, "country", "country must be an ISO 3166-1 alpha-3 code such as USA")
	}
	if o.Kind == "" {
		o.Kind = "other"
	}
	if k, ok := genesis.OrgKindAliases[o.Kind]; ok {
		o.Kind = k
	}
	if !slices.Contains(genesis.OrgKinds, o.Kind) {
		return nil, invalid(op, "kind", "kind must be one of "+strings.Join(genesis.OrgKinds, ", "))
	}
	if err := text.Line("display_name", o.DisplayName, 256); err != nil {
		return nil, errors.E(op, err)
	}
	o.ID = genesis.OrgID(NewID("org"))
	o.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	err := s.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO organizations (id, name, display_name, country, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
			o.ID, o.Name, o.DisplayName, o.Country, o.Kind, store.T(o.CreatedAt))
		return err
	})
	if errors.Is(errors.Exist, err) {
		return nil, errors.E(op, errors.Exist, errors.Field("name"), errors.Msg("an organisation with that name exists"))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return &o, nil
}

const orgCols = `id, name, display_name, country, kind, created_at`

func scanOrg(sc interface{ Scan(...any) error }) (*genesis.Organization, error) {
	var o genesis.Organization
	var created int64
	if err := sc.Scan(&o.ID, &o.Name, &o.DisplayName, &o.Country, &o.Kind, &created); err != nil {
		return nil, err
	}
	o.CreatedAt = store.FromT(created)
	return &o, nil
}

// Org returns the organisation with the given ID or name.
func (s *Service) Org(ctx context.Context, idOrName string) (*genesis.Organization, error) {
	const op errors.Op = "identity.Org"
	var o *genesis.Organization
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		o, err = scanOrg(tx.QueryRow(ctx, `SELECT `+orgCols+` FROM organizations WHERE id = ? OR name = ?`, idOrName, idOrName))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return o, nil
}

// Orgs lists all organisations by name.
func (s *Service) Orgs(ctx context.Context) ([]genesis.Organization, error) {
	const op errors.Op = "identity.Orgs"
	var out []genesis.Organization
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+orgCols+` FROM organizations ORDER BY name`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			o, err := scanOrg(rows)
			if err == nil {
				out = append(out, *o)
			}
			return err
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// ---- principals

// CreatePrincipal records a new principal. Defaults: kind user,
// nationality USA, no roles. The clearance must be given (an empty one is
// refused, never read as OPEN), and may name only known compartments.
func (s *Service) CreatePrincipal(ctx context.Context, p genesis.Principal) (*genesis.Principal, error) {
	const op errors.Op = "identity.CreatePrincipal"
	if err := text.Name("name", p.Name); err != nil {
		return nil, errors.E(op, err)
	}
	for _, f := range []struct{ field, v string }{{"display_name", p.DisplayName}, {"email", p.Email}, {"oidc_issuer", p.OIDCIssuer}, {"oidc_subject", p.OIDCSubject}} {
		if err := text.Line(f.field, f.v, 256); err != nil {
			return nil, errors.E(op, err)
		}
	}
	switch p.Kind {
	case "":
		p.Kind = genesis.KindUser
	case genesis.KindUser, genesis.KindService:
	default:
		return nil, invalid(op, "kind", "kind must be user or service")
	}
	if p.Nationality == "" {
		p.Nationality = "USA"
	}
	p.Nationality = strings.ToUpper(p.Nationality)
	if !validNation(p.Nationality) {
		return nil, invalid(op, "nationality", "nationality must be an ISO 3166-1 alpha-3 code such as USA")
	}
	for _, r := range p.Roles {
		if !r.Valid() {
			return nil, invalid(op, "roles", "unknown role "+quote(string(r)))
		}
	}
	p.Roles = normRoles(p.Roles)
	canon, err := clearanceSyntax(p.Clearance)
	if err != nil {
		return nil, errors.E(op, err)
	}
	p.Clearance = canon
	if len(p.Clearance) > 1024 {
		return nil, invalid(op, "clearance", "clearance is longer than 1024 bytes")
	}
	if (p.OIDCIssuer == "") != (p.OIDCSubject == "") {
		return nil, invalid(op, "oidc_subject", "oidc_issuer and oidc_subject go together")
	}
	p.ID = genesis.PrincipalID(NewID("pr"))
	p.CreatedAt = s.now().UTC().Truncate(time.Microsecond)
	p.Disabled = false
	err = s.db.Update(ctx, func(tx store.Tx) error {
		if _, err := admitClearance(ctx, tx, canon, p.Nationality); err != nil {
			return err
		}
		org, err := resolveOrg(ctx, tx, op, &p.Org)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO principals (id, name, kind, display_name, email, org_id, nationality, roles, clearance, oidc_issuer, oidc_subject, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.Name, p.Kind, p.DisplayName, p.Email, org, p.Nationality, joinRoles(p.Roles), p.Clearance, p.OIDCIssuer, p.OIDCSubject, false, store.T(p.CreatedAt))
		return err
	})
	if errors.Is(errors.Exist, err) {
		return nil, errors.E(op, errors.Exist, errors.Field("name"), errors.Msg("a principal with that name or OIDC subject exists"))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return &p, nil
}

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

func normRoles(rs []genesis.Role) []genesis.Role {
	out := slices.Clone(rs)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []genesis.Role{}
	}
	return out
}

func joinRoles(rs []genesis.Role) string {
	ss := make([]string, len(rs))
	for i, r := range rs {
		ss[i] = string(r)
	}
	return strings.Join(ss, ",")
}

func splitRoles(s string) []genesis.Role {
	out := []genesis.Role{}
	for _, r := range strings.Split(s, ",") {
		if r != "" {
			out = append(out, genesis.Role(r))
		}
	}
	return out
}

const principalCols = `id, name, kind, display_name, email, COALESCE(org_id, ''), nationality, roles, clearance, oidc_issuer, oidc_subject, disabled, created_at`

func scanPrincipal(sc interface{ Scan(...any) error }) (*genesis.Principal, error) {
	var p genesis.Principal
	var roles string
	var created int64
	if err := sc.Scan(&p.ID, &p.Name, &p.Kind, &p.DisplayName, &p.Email, &p.Org, &p.Nationality, &roles, &p.Clearance, &p.OIDCIssuer, &p.OIDCSubject, &p.Disabled, &created); err != nil {
		return nil, err
	}
	p.Roles = splitRoles(roles)
	p.CreatedAt = store.FromT(created)
	return &p, nil
}

// Principal returns the principal with the given ID or name, as seen by
// viewer: a non-administrator sees only itself; anything else is NotExist.
func (s *Service) Principal(ctx context.Context, viewer *genesis.Principal, idOrName string) (*genesis.Principal, error) {
	const op errors.Op = "identity.Principal"
	p, err := s.principal(ctx, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if !viewer.IsAdmin() && p.ID != viewer.ID {
		return nil, errors.E(op, errors.NotExist)
	}
	return p, nil
}

func (s *Service) principal(ctx context.Context, idOrName string) (*genesis.Principal, error) {
	var p *genesis.Principal
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = scanPrincipal(tx.QueryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE id = ? OR name = ?`, idOrName, idOrName))
		return err
	})
	return p, err
}

// Principals lists the principals viewer may see, by name.
func (s *Service) Principals(ctx context.Context, viewer *genesis.Principal) ([]genesis.Principal, error) {
	const op errors.Op = "identity.Principals"
	if !viewer.IsAdmin() {
		p, err := s.principal(ctx, string(viewer.ID))
		if err != nil {
			return nil, errors.E(op, err)
		}
		return []genesis.Principal{*p}, nil
	}
	var out []genesis.Principal
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+principalCols+` FROM principals ORDER BY name`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			p, err := scanPrincipal(rows)
			if err == nil {
				out = append(out, *p)
			}
			return err
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// DisablePrincipal disables a principal and revokes all its tokens, at once.
func (s *Service) DisablePrincipal(ctx context.Context, idOrName string) (*genesis.Principal, error) {
	const op errors.Op = "identity.DisablePrincipal"
	var p *genesis.Principal
	now := store.T(s.now())
	err := s.db.Update(ctx, func(tx store.Tx) error {
		var err error
		p, err = scanPrincipal(tx.QueryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE id = ? OR name = ?`, idOrName, idOrName))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE principals SET disabled = ? WHERE id = ?`, true, p.ID); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE tokens SET revoked_at = ? WHERE principal_id = ? AND revoked_at IS NULL`, now, p.ID)
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	p.Disabled = true
	return p, nil
}

// CountPrincipals returns how many principals exist.
func (s *Service) CountPrincipals(ctx context.Context) (int, error) {
	var n int
	err := s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT COUNT(*) FROM principals`).Scan(&n)
	})
	return n, err
}

// ---- tokens

// TokenPrefix starts every Genesis API token, so secrets are recognisable
// (by secret scanners too).
const TokenPrefix = "gnt_"

func hashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateToken issues a new API token for principal. ttl ≤ 0 means no expiry.
// The secret is returned once and never stored.
func (s *Service) CreateToken(ctx context.Context, principal genesis.PrincipalID, name string, ttl time.Duration) (*genesis.Token, string, error) {
	const op errors.Op = "identity.CreateToken"
	if name == "" {
		name = "token"
	}
	if err := text.Line("name", name, 128); err != nil {
		return nil, "", errors.E(op, err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return nil, "", errors.E(op, errors.Internal, err)
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &genesis.Token{ID: genesis.TokenID(NewID("tok")), Principal: principal, Name: name, CreatedAt: now}
	if ttl > 0 {
		exp := now.Add(ttl)
		t.ExpiresAt = &exp
	}
	err := s.db.Update(ctx, func(tx store.Tx) error {
		var disabled bool
		if err := tx.QueryRow(ctx, `SELECT disabled FROM principals WHERE id = ?`, principal).Scan(&disabled); err != nil {
			return err
		}
		if disabled {
			return errors.E(errors.Conflict, errors.Msg("the principal is disabled"))
		}
		_, err := tx.Exec(ctx, `INSERT INTO tokens (id, principal_id, hash, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			t.ID, t.Principal, hashToken(secret), t.Name, store.T(now), store.NullT(t.ExpiresAt))
		return err
	})
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	return t, secret, nil
}

const tokenCols = `id, principal_id, name, created_at, expires_at, revoked_at, last_used_at`

func scanToken(sc interface{ Scan(...any) error }) (*genesis.Token, error) {
	var t genesis.Token
	var created int64
	var exp, rev, used *int64
	if err := sc.Scan(&t.ID, &t.Principal, &t.Name, &created, &exp, &rev, &used); err != nil {
		return nil, err
	}
	t.CreatedAt = store.FromT(created)
	t.ExpiresAt, t.RevokedAt, t.LastUsed = store.FromNullT(exp), store.FromNullT(rev), store.FromNullT(used)
	return &t, nil
}

// Tokens lists principal's tokens, newest first.
func (s *Service) Tokens(ctx context.Context, principal genesis.PrincipalID) ([]genesis.Token, error) {
	const op errors.Op = "identity.Tokens"
	var out []genesis.Token
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+tokenCols+` FROM tokens WHERE principal_id = ? ORDER BY created_at DESC, id`, principal)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			t, err := scanToken(rows)
			if err == nil {
				out = append(out, *t)
			}
			return err
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// RevokeToken revokes one of principal's tokens. A token of another
// principal is NotExist (administrators pass the owner explicitly).
func (s *Service) RevokeToken(ctx context.Context, principal genesis.PrincipalID, id genesis.TokenID) error {
	const op errors.Op = "identity.RevokeToken"
	err := s.db.Update(ctx, func(tx store.Tx) error {
		r, err := tx.Exec(ctx, `UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND principal_id = ?`, store.T(s.now()), id, principal)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return errors.E(errors.NotExist)
		}
		return nil
	})
	if err != nil {
		return errors.E(op, err)
	}
	return nil
}

// Authenticate maps a bearer credential to its principal. Every failure —
// unknown, revoked or expired token, disabled principal, bad JWT — is the
// same Unauthenticated error with no detail.
func (s *Service) Authenticate(ctx context.Context, bearer string) (*genesis.Principal, error) {
	const op errors.Op = "identity.Authenticate"
	fail := errors.E(op, errors.Unauthenticated)
	if bearer == "" || len(bearer) > 8192 {
		return nil, fail
	}
	if !strings.HasPrefix(bearer, TokenPrefix) {
		if s.oidc == nil {
			return nil, fail
		}
		iss, sub, err := s.oidc.Verify(ctx, bearer)
		if err != nil {
			return nil, fail
		}
		var p *genesis.Principal
		err = s.db.View(ctx, func(tx store.Tx) error {
			var err error
			p, err = scanPrincipal(tx.QueryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE oidc_issuer = ? AND oidc_subject = ?`, iss, sub))
			return err
		})
		if err != nil || p.Disabled {
			if err != nil && !errors.Is(errors.NotExist, err) {
				return nil, errors.E(op, err)
			}
			return nil, fail
		}
		return p, nil
	}
	now := s.now()
	var p *genesis.Principal
	var tok *genesis.Token
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		tok, err = scanToken(tx.QueryRow(ctx, `SELECT `+tokenCols+` FROM tokens WHERE hash = ?`, hashToken(bearer)))
		if err != nil {
			return err
		}
		p, err = scanPrincipal(tx.QueryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE id = ?`, tok.Principal))
		return err
	})
	if errors.Is(errors.NotExist, err) {
		return nil, fail
	}
	if err != nil {
		return nil, errors.E(op, err) // store trouble is not the caller's fault
	}
	if !tok.Active(now) || p.Disabled {
		return nil, fail
	}
	// Record use at most once a minute per token to spare the writer.
	if tok.LastUsed == nil || now.Sub(*tok.LastUsed) > time.Minute {
		s.db.Update(ctx, func(tx store.Tx) error {
			_, err := tx.Exec(ctx, `UPDATE tokens SET last_used_at = ? WHERE id = ?`, store.T(now), tok.ID)
			return err
		})
	}
	return p, nil
}

// Bootstrap creates the first administrator, named name, when no principal
// exists yet, and returns its token secret. When principals exist it does
// nothing and returns "".
func (s *Service) Bootstrap(ctx context.Context, name string) (secret string, err error) {
	const op errors.Op = "identity.Bootstrap"
	n, err := s.CountPrincipals(ctx)
	if err != nil {
		return "", errors.E(op, err)
	}
	if n > 0 {
		return "", nil
	}
	p, err := s.CreatePrincipal(ctx, genesis.Principal{
		Name: name, Kind: genesis.KindUser, DisplayName: "Administrator", Clearance: "OPEN",
		Roles: []genesis.Role{genesis.RoleAdmin}, Nationality: "USA",
	})
	if errors.Is(errors.Exist, err) {
		return "", nil // another starter won the race
	}
	if err != nil {
		return "", errors.E(op, err)
	}
	_, secret, err = s.CreateToken(ctx, p.ID, "bootstrap", 0)
	if err != nil {
		return "", errors.E(op, err)
	}
	return secret, nil
}

// resolveOrg turns an organisation reference (ID or name) into its ID, in
// place, and returns the value to store (nil for none).
func resolveOrg(ctx context.Context, tx store.Tx, op errors.Op, ref *genesis.OrgID) (any, error) {
	if *ref == "" {
		return nil, nil
	}
	o, err := scanOrg(tx.QueryRow(ctx, `SELECT `+orgCols+` FROM organizations WHERE id = ? OR name = ?`, *ref, *ref))
	if errors.Is(errors.NotExist, err) {
		return nil, invalid(op, "org", "no such organisation")
	}
	if err != nil {
		return nil, err
	}
	*ref = o.ID
	return string(o.ID), nil
}

// PrincipalUpdate is a change to a principal's organisation and roles; a
// nil field is left as it is.
type PrincipalUpdate struct {
	Org   *genesis.OrgID  // an organisation's name or ID; "" for none
	Roles *[]genesis.Role // the new set of global roles (replaces the old)
}

// UpdatePrincipal changes a principal's organisation or roles
// (administrators decide who may; the caller checks). The last enabled
// administrator cannot lose the admin role: nobody could give it back.
func (s *Service) UpdatePrincipal(ctx context.Context, idOrName string, u PrincipalUpdate) (*genesis.Principal, error) {
	const op errors.Op = "identity.UpdatePrincipal"
	if u.Roles != nil {
		for _, r := range *u.Roles {
			if !r.Valid() {
				return nil, invalid(op, "roles", "unknown role "+quote(string(r))+"; roles are viewer, contributor, steward, operator, classification-officer, admin")
			}
		}
		rs := normRoles(*u.Roles)
		u.Roles = &rs
	}
	var p *genesis.Principal
	err := s.db.Update(ctx, func(tx store.Tx) error {
		var err error
		p, err = scanPrincipal(tx.QueryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE id = ? OR name = ?`, idOrName, idOrName))
		if err != nil {
			return err
		}
		if u.Org != nil {
			ref := *u.Org
			org, err := resolveOrg(ctx, tx, op, &ref)
			if err != nil {
				return err
			}
			p.Org = ref
			if _, err := tx.Exec(ctx, `UPDATE principals SET org_id = ? WHERE id = ?`, org, p.ID); err != nil {
				return err
			}
		}
		if u.Roles != nil {
			if p.IsAdmin() && !p.Disabled && !slices.Contains(*u.Roles, genesis.RoleAdmin) {
				var others int
				if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM principals WHERE id <> ? AND disabled = ? AND (roles = 'admin' OR roles LIKE 'admin,%' OR roles LIKE '%,admin' OR roles LIKE '%,admin,%')`, p.ID, false).Scan(&others); err != nil {
					return err
				}
				if others == 0 {
					return invalid(op, "roles", p.Name+" is the last administrator; make another one first")
				}
			}
			p.Roles = *u.Roles
			if _, err := tx.Exec(ctx, `UPDATE principals SET roles = ? WHERE id = ?`, joinRoles(p.Roles), p.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return p, nil
}
