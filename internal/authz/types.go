package authz

import (
	"context"
	"time"

	"github.com/genesis-science/genesis/internal/label"
)

// PrincipalKind says whether a principal is a person or a service account.
type PrincipalKind string

const (
	User    PrincipalKind = "user"
	Service PrincipalKind = "service"
)

// Role is a named set of permissions; the default policy says what each may do.
type Role string

const (
	Viewer                Role = "viewer"
	Contributor           Role = "contributor"
	Steward               Role = "steward"
	Operator              Role = "operator"
	ClassificationOfficer Role = "classification-officer"
	Admin                 Role = "admin"
)

// Roles lists every role, in order of increasing reach.
var Roles = []Role{Viewer, Contributor, Steward, Operator, ClassificationOfficer, Admin}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case Viewer, Contributor, Steward, Operator, ClassificationOfficer, Admin:
		return true
	}
	return false
}

// Principal is who asks. Identity code fills it in for every request.
type Principal struct {
	ID   string
	Kind PrincipalKind
	Org  string // organisation ID; agreements are held through it
	// Roles are global: they apply to every resource.
	Roles []Role
	// ProjectRoles apply to resources whose Project is the key.
	ProjectRoles map[string][]Role
	// Clearance carries the maximum level, compartments and nationality.
	// Agreements are added at decision time from Facts.
	Clearance label.Clearance
}

// Nationality is the principal's nationality from its clearance.
func (p Principal) Nationality() string { return p.Clearance.Nationality() }

// AgreementType is the kind of a partnership agreement.
type AgreementType string

const (
	CRADA        AgreementType = "CRADA"
	UserFacility AgreementType = "user-facility"
	DataUse      AgreementType = "data-use"
	NDA          AgreementType = "NDA"
	OtherType    AgreementType = "other"
)

// Agreement is an organisation-level partnership record. It is in force at t
// when NotBefore ≤ t < NotAfter and it has not been Ended; a record without
// a validity window (either bound zero) is never in force.
type Agreement struct {
	ID           string // as in label markings, e.g. CRADA-0042 (case-insensitive)
	Type         AgreementType
	Parties      []string // organisation IDs
	NotBefore    time.Time
	NotAfter     time.Time
	Compartments []string // compartments the agreement grants to its parties
	IPTerms      string   // free text, not interpreted
	Ended        bool
}

// InForce reports whether a is in force at t.
func (a Agreement) InForce(t time.Time) bool {
	if a.Ended || a.NotBefore.IsZero() || a.NotAfter.IsZero() {
		return false
	}
	return !t.Before(a.NotBefore) && t.Before(a.NotAfter)
}

// HeldBy reports whether a member of org holds a at t: it is in force and
// org is one of its parties.
func (a Agreement) HeldBy(org string, t time.Time) bool {
	if org == "" || !a.InForce(t) {
		return false
	}
	for _, p := range a.Parties {
		if p == org {
			return true
		}
	}
	return false
}

// ResourceType is the kind of object a decision is about.
type ResourceType string

const (
	Dataset           ResourceType = "dataset"
	Model             ResourceType = "model"
	Publication       ResourceType = "publication"
	Job               ResourceType = "job"
	Site              ResourceType = "site"
	Instrument        ResourceType = "instrument"
	Campaign          ResourceType = "campaign"
	Challenge         ResourceType = "challenge"
	AgreementResource ResourceType = "agreement"
	PrincipalResource ResourceType = "principal"
	Project           ResourceType = "project"
	PolicyResource    ResourceType = "policy"
	Audit             ResourceType = "audit"
)

// resourceTypes maps each ResourceType to its Cedar entity type; the index
// is the slicing key.
var resourceTypes = []struct {
	t     ResourceType
	cedar string
}{
	{Dataset, "Dataset"}, {Model, "Model"}, {Publication, "Publication"}, {Job, "Job"}, {Site, "Site"},
	{Instrument, "Instrument"}, {Campaign, "Campaign"}, {Challenge, "Challenge"},
	{AgreementResource, "Agreement"}, {PrincipalResource, "Account"}, {Project, "Project"},
	{PolicyResource, "Policy"}, {Audit, "AuditLog"},
}

// ResourceTypes lists every resource type.
func ResourceTypes() []ResourceType {
	out := make([]ResourceType, len(resourceTypes))
	for i, r := range resourceTypes {
		out[i] = r.t
	}
	return out
}

func (t ResourceType) index() int {
	for i, r := range resourceTypes {
		if r.t == t {
			return i
		}
	}
	return -1
}

// Resource is what a decision is about.
type Resource struct {
	Type    ResourceType
	ID      string
	Label   label.Label
	Project string // owning project, "" for global objects; a project's own ID for a project
	Owner   string // principal ID of the creator/owner, if any
}

// Action is what the principal wants to do.
type Action string

const (
	Read       Action = "read"
	Write      Action = "write"
	Delete     Action = "delete"
	Submit     Action = "submit"
	Operate    Action = "operate"
	Declassify Action = "declassify"
	Administer Action = "administer"
)

// Actions lists every action.
var Actions = []Action{Read, Write, Delete, Submit, Operate, Declassify, Administer}

func (a Action) index() int {
	for i, x := range Actions {
		if x == a {
			return i
		}
	}
	return -1
}

// Facts is what a decision looks up. Implementations read the store on every
// call: a decision never sees grants older than the call itself.
type Facts interface {
	// AgreementsOf returns the agreements org is a party to, in force or
	// not (the decision checks the window against its clock).
	AgreementsOf(ctx context.Context, org string) ([]Agreement, error)
}

// StaticFacts is an in-memory Facts, for tests and single-process tools.
type StaticFacts map[string][]Agreement

// AgreementsOf implements Facts.
func (f StaticFacts) AgreementsOf(_ context.Context, org string) ([]Agreement, error) {
	return f[org], nil
}

var _ Facts = StaticFacts(nil)
