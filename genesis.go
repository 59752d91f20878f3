// Package genesis holds the domain types every part of Genesis speaks in —
// principals, organisations, projects, tokens — and the context plumbing that
// carries the authenticated principal through a request. It imports only the
// standard library; the parts (store, identity, authz, catalog, compute, …)
// live under internal/ and meet here.
package genesis

import (
	"context"
	"slices"
	"strings"
	"time"
)

// PrincipalID identifies a user or service account. It is opaque and stable;
// Name is the human handle.
type PrincipalID string

// OrgID identifies an organisation (a lab, university, company, agency).
type OrgID string

// ProjectID identifies a project.
type ProjectID string

// TokenID identifies an API token (not its secret).
type TokenID string

// PrincipalKind distinguishes people from service accounts.
type PrincipalKind string

const (
	KindUser    PrincipalKind = "user"
	KindService PrincipalKind = "service"
)

// Role is what a principal may do, globally or in a project.
type Role string

// The roles of DESIGN.md. The list is closed: an unknown role grants nothing.
const (
	RoleViewer                Role = "viewer"
	RoleContributor           Role = "contributor"
	RoleSteward               Role = "steward"
	RoleOperator              Role = "operator"
	RoleClassificationOfficer Role = "classification-officer"
	RoleAdmin                 Role = "admin"
)

// Roles lists every known role, in order of the table in DESIGN.md.
var Roles = []Role{RoleViewer, RoleContributor, RoleSteward, RoleOperator, RoleClassificationOfficer, RoleAdmin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Principal is a user or a service account.
type Principal struct {
	ID          PrincipalID   `json:"id"`
	Name        string        `json:"name"`
	Kind        PrincipalKind `json:"kind"`
	DisplayName string        `json:"display_name,omitempty"`
	Email       string        `json:"email,omitempty"`
	Org         OrgID         `json:"org,omitempty"`
	// Nationality is an ISO 3166-1 alpha-3 code, e.g. "USA".
	Nationality string `json:"nationality"`
	// Roles are global roles; project roles live in project memberships.
	Roles []Role `json:"roles"`
	// Clearance is the canonical marking of the highest label the principal
	// is cleared for (level and compartments), e.g. "PROPRIETARY//FUSION".
	Clearance string `json:"clearance"`
	// OIDCIssuer and OIDCSubject map an external identity to this principal.
	OIDCIssuer  string    `json:"oidc_issuer,omitempty"`
	OIDCSubject string    `json:"oidc_subject,omitempty"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
}

// HasRole reports whether p holds global role r.
func (p *Principal) HasRole(r Role) bool { return p != nil && slices.Contains(p.Roles, r) }

// IsAdmin reports whether p is an administrator.
func (p *Principal) IsAdmin() bool { return p.HasRole(RoleAdmin) }

// Organization is a party to agreements: a national laboratory, a
// university, a company, an allied agency.
type Organization struct {
	ID          OrgID  `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name,omitempty"`
	// Country is an ISO 3166-1 alpha-3 code.
	Country   string    `json:"country"`
	Kind      string    `json:"kind"` // laboratory, university, company, agency, allied-government, other
	CreatedAt time.Time `json:"created_at"`
}

// OrgKinds are the accepted organisation kinds. "national-lab" is
// accepted on input as another word for laboratory (OrgKindAliases), so
// stored kinds stay one of these.
var OrgKinds = []string{"laboratory", "university", "company", "agency", "allied-government", "other"}

// OrgKindAliases maps other accepted words to an organisation kind.
var OrgKindAliases = map[string]string{"national-lab": "laboratory", "national-laboratory": "laboratory"}

// Project groups members, their roles and (later) allocations.
type Project struct {
	ID          ProjectID   `json:"id"`
	Name        string      `json:"name"`
	Title       string      `json:"title,omitempty"`
	Description string      `json:"description,omitempty"`
	Org         OrgID       `json:"org,omitempty"`
	CreatedBy   PrincipalID `json:"created_by"`
	CreatedAt   time.Time   `json:"created_at"`
}

// Member is a principal's role in a project.
type Member struct {
	Project   ProjectID   `json:"project"`
	Principal PrincipalID `json:"principal"`
	Role      Role        `json:"role"`
	AddedAt   time.Time   `json:"added_at"`
}

// Token describes an API token. The secret is shown once, at creation, and
// only its hash is stored.
type Token struct {
	ID        TokenID     `json:"id"`
	Principal PrincipalID `json:"principal"`
	Name      string      `json:"name"`
	CreatedAt time.Time   `json:"created_at"`
	ExpiresAt *time.Time  `json:"expires_at,omitempty"`
	RevokedAt *time.Time  `json:"revoked_at,omitempty"`
	LastUsed  *time.Time  `json:"last_used_at,omitempty"`
}

// Active reports whether the token authenticates at time now.
func (t *Token) Active(now time.Time) bool {
	if t.RevokedAt != nil {
		return false
	}
	return t.ExpiresAt == nil || now.Before(*t.ExpiresAt)
}

type principalKey struct{}

// NewContext returns a context carrying the authenticated principal.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the authenticated principal, or nil.
func FromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// ValidName reports whether s is acceptable as a handle for principals,
// organisations and projects: 1–63 characters of lower-case letters, digits,
// '-', '_' and '.', starting with a letter or digit.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case (c == '-' || c == '_' || c == '.') && i > 0:
		default:
			return false
		}
	}
	return !strings.Contains(s, "..")
}
