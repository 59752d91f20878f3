// Package partners is the partnerships portfolio of the mission: every
// organisation with its agreements (in force, expiring, expired), what each
// agreement's marking AGR:X covers and who holds it, what each partner
// contributed (datasets, models, publications, compute sites, instruments)
// and what it used (jobs run, node- and GPU-hours consumed).
//
// Who sees what. Organisations are public to every authenticated
// principal. Agreements are shown as identity shows them (GET
// /api/v1/agreements): stewards, classification officers and
// administrators see all of them (Cedar policy read-agreements); others see
// those their own organisation is party to. Every count of assets, jobs
// and campaigns is computed only over what the viewer may read (invariant
// 4): a hidden dataset changes no number, and a viewer who reads nothing
// sees zeros, never a "hidden" count. The number of principals of an
// organisation is shown to agreement readers only (principals are visible
// to administrators alone in identity).
package partners

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// Identity is what the portfolio needs from internal/identity.
type Identity interface {
	Orgs(ctx context.Context) ([]genesis.Organization, error)
	Agreements(ctx context.Context, viewer *genesis.Principal) ([]identity.Agreement, error)
	AuthzPrincipal(ctx context.Context, p *genesis.Principal) (authz.Principal, error)
}

// Service computes the portfolio from the metadata store.
type Service struct {
	db    store.DB
	authz *authz.Authorizer
	ids   Identity
	now   func() time.Time
}

// New returns the portfolio service. now may be nil (time.Now).
func New(db store.DB, az *authz.Authorizer, ids Identity, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, authz: az, ids: ids, now: now}
}

// DefaultExpiringWithin is the default window in which an agreement in
// force is flagged as expiring.
const DefaultExpiringWithin = 60 * 24 * time.Hour

// MaxExpiringWithin bounds the window (ten years).
const MaxExpiringWithin = 3650 * 24 * time.Hour

// Agreement statuses.
const (
	StatusPending  = "pending"  // not yet in force (not_before in the future)
	StatusInForce  = "in-force" // in force, not ending within the window
	StatusExpiring = "expiring" // in force, ending within the window
	StatusExpired  = "expired"  // past not_after
	StatusEnded    = "ended"    // ended early by an administrator
)

// Coverage counts what carries an agreement's marking AGR:X, among what
// the viewer may read.
type Coverage struct {
	Datasets     int `json:"datasets"`
	Models       int `json:"models"`
	Publications int `json:"publications"`
	Campaigns    int `json:"campaigns"`
}

// Holder is a party organisation of an agreement.
type Holder struct {
	Org  genesis.OrgID `json:"org"`
	Name string        `json:"name"`
	// Principals is the number of its (enabled) principals, who hold the
	// agreement through it; shown to agreement readers only.
	Principals *int `json:"principals,omitempty"`
}

// Agreement is one agreement in the portfolio.
type Agreement struct {
	ID           string              `json:"id"`
	Type         authz.AgreementType `json:"type"`
	Title        string              `json:"title,omitempty"`
	NotBefore    time.Time           `json:"not_before"`
	NotAfter     time.Time           `json:"not_after"`
	EndedAt      *time.Time          `json:"ended_at,omitempty"`
	Compartments []string            `json:"compartments"`
	IPTerms      string              `json:"ip_terms,omitempty"`
	Status       string              `json:"status"`
	// DaysLeft is the number of whole days until not_after (negative once
	// past); meaningful for pending, in-force and expiring agreements.
	DaysLeft int      `json:"days_left"`
	Holders  []Holder `json:"holders"`
	Covers   Coverage `json:"covers"`
	// Label is the join of the labels of the objects Covers counts
	// (invariant 2: a count is labelled at least its inputs).
	Label string `json:"label"`
}

// Contribution is what a partner brought: assets owned by its principals
// (as the viewer sees them), compute sites it operates, instruments it owns.
type Contribution struct {
	Datasets     int      `json:"datasets"`
	DatasetBytes int64    `json:"dataset_bytes"`
	Models       int      `json:"models"`
	ModelBytes   int64    `json:"model_bytes"`
	Publications int      `json:"publications"`
	Campaigns    int      `json:"campaigns"`
	Sites        []string `json:"sites"`
	Instruments  []string `json:"instruments"`
	// Labs are the labs its instruments are in.
	Labs []string `json:"labs"`
}

// Usage is what a partner used: the jobs its principals ran (as the
// viewer sees them) and the node- and GPU-hours they consumed (finished
// jobs: nodes × wall time, as allocations are charged), and the projects
// its principals are members of.
type Usage struct {
	Jobs          int     `json:"jobs"`
	UsedNodeHours float64 `json:"used_node_hours"`
	UsedGPUHours  float64 `json:"used_gpu_hours"`
	Projects      int     `json:"projects"`
}

// Partner is one organisation in the portfolio.
type Partner struct {
	Org        genesis.Organization `json:"org"`
	Principals *int                 `json:"principals,omitempty"`
	Agreements []Agreement          `json:"agreements"`
	// InForce counts agreements in force (expiring ones included).
	InForce     int          `json:"in_force"`
	Expiring    int          `json:"expiring"`
	Expired     int          `json:"expired"`
	Contributed Contribution `json:"contributed"`
	Used        Usage        `json:"used"`
	// Label is the join of the labels of every object counted here (its
	// contributions, usage and its agreements' coverage).
	Label string `json:"label"`
}

// Portfolio is every partner as the viewer sees it.
type Portfolio struct {
	AsOf time.Time `json:"as_of"`
	// ExpiringWithinDays is the window in which agreements are flagged.
	ExpiringWithinDays int       `json:"expiring_within_days"`
	Partners           []Partner `json:"partners"`
	// Expiring lists the agreements flagged expiring, soonest first.
	Expiring []Agreement `json:"expiring"`
	// Label is the join of the labels of every object counted.
	Label string `json:"label"`
}

// Options tune the portfolio.
type Options struct {
	// ExpiringWithin flags agreements in force that end within it (0:
	// DefaultExpiringWithin).
	ExpiringWithin time.Duration
	// ExpiringOnly keeps only partners with an expiring agreement.
	ExpiringOnly bool
}

// ParseWindow parses an expiry window: a whole number of days, weeks or
// hours ("60d", "8w", "36h") or a bare number of days ("60"), between one
// hour and ten years.
func ParseWindow(s string) (time.Duration, error) {
	const op errors.Op = "partners.ParseWindow"
	bad := func(why string) error {
		return errors.E(op, errors.Invalid, errors.Field("expiring"), errors.Msg("expiring: "+why+`, e.g. 60d, 8w or 36h`))
	}
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, bad("a window is required")
	}
	if len(t) > 16 {
		return 0, bad("the window is too long")
	}
	unit := 24 * time.Hour
	switch t[len(t)-1] {
	case 'd', 'D':
		t = t[:len(t)-1]
	case 'w', 'W':
		unit, t = 7*24*time.Hour, t[:len(t)-1]
	case 'h', 'H':
		unit, t = time.Hour, t[:len(t)-1]
	}
	if t == "" || strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' }) >= 0 {
		return 0, bad("not a whole number of days, weeks or hours")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n > int64(MaxExpiringWithin/unit) {
		return 0, bad("at most ten years")
	}
	d := time.Duration(n) * unit
	if d < time.Hour {
		return 0, bad("at least one hour")
	}
	return d, nil
}

// Status is an agreement's status at now with the expiry window.
func Status(a *identity.Agreement, now time.Time, within time.Duration) string {
	switch {
	case a.EndedAt != nil && !a.EndedAt.After(now):
		return StatusEnded
	case !now.Before(a.NotAfter):
		return StatusExpired
	case now.Before(a.NotBefore):
		return StatusPending
	case a.NotAfter.Sub(now) <= within:
		return StatusExpiring
	}
	return StatusInForce
}

// daysLeft is the number of whole days from now to t (rounded toward
// negative infinity).
func daysLeft(now, t time.Time) int {
	d := t.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

// mayReadAgreements reports whether viewer reads every agreement.
func mayReadAgreements(p *genesis.Principal) bool {
	return p.IsAdmin() || p.HasRole(genesis.RoleClassificationOfficer) || p.HasRole(genesis.RoleSteward)
}

// List returns the portfolio of every organisation as viewer sees it.
func (s *Service) List(ctx context.Context, viewer *genesis.Principal, o Options) (*Portfolio, error) {
	const op errors.Op = "partners.List"
	pf, err := s.portfolio(ctx, viewer, o, "")
	if err != nil {
		return nil, errors.E(op, err)
	}
	return pf, nil
}

// Get returns one organisation's entry (by ID or name); NotExist if there
// is no such organisation.
func (s *Service) Get(ctx context.Context, viewer *genesis.Principal, org string, o Options) (*Partner, error) {
	const op errors.Op = "partners.Get"
	o.ExpiringOnly = false
	pf, err := s.portfolio(ctx, viewer, o, org)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if len(pf.Partners) != 1 {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no such organisation"))
	}
	return &pf.Partners[0], nil
}

// reader decides reads for one viewer, once per distinct resource shape.
type reader struct {
	ctx     context.Context
	az      *authz.Authorizer
	ap      authz.Principal
	decided map[[5]string]bool
	labels  map[string]label.Label
}

// may reports whether the viewer may read a resource of type t with this
// label, project and owner; anything undecidable is false (fail closed).
//
// As in the search index's visibility classes, objects of one type, label
// and project are read by the same principals, owners aside: the owner
// takes part in the decision only when it is the viewer, so the number of
// decisions does not grow with the number of owners.
func (r *reader) may(t authz.ResourceType, marking, project, owner string) bool {
	if owner != r.ap.ID {
		owner = ""
	}
	key := [5]string{string(t), marking, project, owner}
	if ok, done := r.decided[key]; done {
		return ok
	}
	l, ok := r.labels[marking]
	if !ok {
		var err error
		l, err = label.Parse(marking) // stored markings were admitted when written
		if err != nil {
			r.decided[key] = false
			return false
		}
		r.labels[marking] = l
	}
	ok = r.az.Can(r.ctx, r.ap, authz.Read, authz.Resource{Type: t, ID: "portfolio", Label: l, Project: project, Owner: owner}) == nil
	r.decided[key] = ok
	return ok
}

// label returns the parsed stored marking (decided by may before).
func (r *reader) label(marking string) label.Label { return r.labels[marking] }

// agreementsOf returns the AGR tokens of a stored marking.
func (r *reader) agreementsOf(marking string) []string {
	l, ok := r.labels[marking]
	if !ok {
		return nil
	}
	return l.Agreements()
}

func (s *Service) portfolio(ctx context.Context, viewer *genesis.Principal, o Options, only string) (*Portfolio, error) {
	if viewer == nil {
		return nil, errors.E(errors.Unauthenticated)
	}
	if o.ExpiringWithin == 0 {
		o.ExpiringWithin = DefaultExpiringWithin
	}
	if o.ExpiringWithin < time.Hour || o.ExpiringWithin > MaxExpiringWithin {
		return nil, errors.E(errors.Invalid, errors.Field("expiring"), errors.Msg("expiring: the window must be between one hour and ten years"))
	}
	ap, err := s.ids.AuthzPrincipal(ctx, viewer)
	if err != nil {
		return nil, err
	}
	rd := &reader{ctx: ctx, az: s.authz, ap: ap, decided: map[[5]string]bool{}, labels: map[string]label.Label{}}
	now := s.now().UTC()
	orgs, err := s.ids.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	if only != "" {
		var keep []genesis.Organization
		for _, org := range orgs {
			if string(org.ID) == only || org.Name == only {
				keep = append(keep, org)
			}
		}
		orgs = keep
	}
	ags, err := s.ids.Agreements(ctx, viewer)
	if err != nil {
		return nil, err
	}
	st, err := s.load(ctx)
	if err != nil {
		return nil, err
	}
	privileged := mayReadAgreements(viewer)

	// Per agreement: coverage over readable assets and campaigns.
	cover := map[string]*Coverage{}
	coverLabel := map[string]label.Label{}
	for i := range ags {
		cover[ags[i].ID] = &Coverage{}
	}
	orgLabel := map[genesis.OrgID]label.Label{}
	join := func(p *Partner, marking string) {
		orgLabel[p.Org.ID] = label.Join(orgLabel[p.Org.ID], rd.label(marking))
	}
	// Per organisation: contributions and usage.
	byOrg := map[genesis.OrgID]*Partner{}
	for _, org := range orgs {
		byOrg[org.ID] = &Partner{Org: org, Agreements: []Agreement{},
			Contributed: Contribution{Sites: []string{}, Instruments: []string{}, Labs: []string{}}}
	}
	orgOf := func(owner string) *Partner { return byOrg[st.orgOf[owner]] }
	for _, a := range st.assets {
		if !rd.may(authz.ResourceType(a.kind), a.label, a.project, a.owner) {
			continue
		}
		for _, agr := range rd.agreementsOf(a.label) {
			if c := cover[agr]; c != nil {
				coverLabel[agr] = label.Join(coverLabel[agr], rd.label(a.label))
				switch a.kind {
				case "dataset":
					c.Datasets++
				case "model":
					c.Models++
				case "publication":
					c.Publications++
				}
			}
		}
		p := orgOf(a.owner)
		if p == nil {
			continue
		}
		// The bytes of the newest version, if the viewer may read it too.
		var bytes int64
		join(p, a.label)
		if a.versionLabel != "" && rd.may(authz.ResourceType(a.kind), a.versionLabel, a.project, a.owner) {
			bytes = a.bytes
			join(p, a.versionLabel)
		}
		switch a.kind {
		case "dataset":
			p.Contributed.Datasets++
			p.Contributed.DatasetBytes += bytes
		case "model":
			p.Contributed.Models++
			p.Contributed.ModelBytes += bytes
		case "publication":
			p.Contributed.Publications++
		}
	}
	for _, c := range st.campaigns {
		if !rd.may(authz.Campaign, c.label, c.project, c.owner) {
			continue
		}
		for _, agr := range rd.agreementsOf(c.label) {
			if cv := cover[agr]; cv != nil {
				cv.Campaigns++
				coverLabel[agr] = label.Join(coverLabel[agr], rd.label(c.label))
			}
		}
		if p := orgOf(c.owner); p != nil {
			p.Contributed.Campaigns++
			join(p, c.label)
		}
	}
	for _, j := range st.jobs {
		p := orgOf(j.owner)
		if p == nil || !rd.may(authz.Job, j.label, j.project, j.owner) {
			continue
		}
		p.Used.Jobs++
		join(p, j.label)
		p.Used.UsedNodeHours += j.nodeHours
		p.Used.UsedGPUHours += j.gpuHours
	}
	if rd.may(authz.Site, "OPEN", "", "") {
		for _, si := range st.sites {
			if p := matchOrg(byOrg, si.org); p != nil {
				p.Contributed.Sites = append(p.Contributed.Sites, si.name)
			}
		}
	}
	if rd.may(authz.Instrument, "OPEN", "", "") {
		for _, in := range st.instruments {
			if p := matchOrg(byOrg, in.org); p != nil {
				p.Contributed.Instruments = append(p.Contributed.Instruments, in.name)
				if in.lab != "" && !slices.Contains(p.Contributed.Labs, in.lab) {
					p.Contributed.Labs = append(p.Contributed.Labs, in.lab)
				}
			}
		}
	}
	for org, n := range st.projects {
		if p := byOrg[org]; p != nil {
			p.Used.Projects = n
		}
	}

	names := map[genesis.OrgID]string{}
	all, err := s.ids.Orgs(ctx)
	if err != nil {
		return nil, err
	}
	for _, org := range all {
		names[org.ID] = org.Name
	}
	pf := &Portfolio{AsOf: now, ExpiringWithinDays: int(o.ExpiringWithin / (24 * time.Hour)), Partners: []Partner{}, Expiring: []Agreement{}}
	views := make([]Agreement, len(ags))
	for i := range ags {
		a := &ags[i]
		v := Agreement{ID: a.ID, Type: a.Type, Title: a.Title, NotBefore: a.NotBefore, NotAfter: a.NotAfter, EndedAt: a.EndedAt,
			Compartments: slices.Clone(a.Compartments), IPTerms: a.IPTerms, Status: Status(a, now, o.ExpiringWithin),
			DaysLeft: daysLeft(now, a.NotAfter), Holders: []Holder{}, Covers: *cover[a.ID], Label: coverLabel[a.ID].Format()}
		if v.Compartments == nil {
			v.Compartments = []string{}
		}
		for _, org := range a.Parties {
			h := Holder{Org: org, Name: names[org]}
			if privileged {
				n := st.principals[org]
				h.Principals = &n
			}
			v.Holders = append(v.Holders, h)
		}
		views[i] = v
		if v.Status == StatusExpiring && (only == "" || slices.ContainsFunc(a.Parties, func(id genesis.OrgID) bool { return byOrg[id] != nil })) {
			pf.Expiring = append(pf.Expiring, v)
		}
		for _, org := range a.Parties {
			p := byOrg[org]
			if p == nil {
				continue
			}
			p.Agreements = append(p.Agreements, v)
			orgLabel[org] = label.Join(orgLabel[org], coverLabel[a.ID])
			switch v.Status {
			case StatusInForce:
				p.InForce++
			case StatusExpiring:
				p.InForce++
				p.Expiring++
			case StatusExpired, StatusEnded:
				p.Expired++
			}
		}
	}
	slices.SortStableFunc(pf.Expiring, func(a, b Agreement) int { return a.NotAfter.Compare(b.NotAfter) })
	joined := label.Label{}
	for _, a := range pf.Expiring {
		joined = label.Join(joined, coverLabel[a.ID])
	}
	for _, org := range orgs {
		p := byOrg[org.ID]
		if privileged {
			n := st.principals[org.ID]
			p.Principals = &n
		}
		if o.ExpiringOnly && p.Expiring == 0 {
			continue
		}
		p.Label = orgLabel[org.ID].Format()
		joined = label.Join(joined, orgLabel[org.ID])
		pf.Partners = append(pf.Partners, *p)
	}
	pf.Label = joined.Format()
	return pf, nil
}

// matchOrg finds the organisation a free-text operator/owner field names:
// by ID, by name, or by a name equal but for case when only one matches.
func matchOrg(byOrg map[genesis.OrgID]*Partner, s string) *Partner {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	if p := byOrg[genesis.OrgID(s)]; p != nil {
		return p
	}
	var fold *Partner
	n := 0
	for _, p := range byOrg {
		if p.Org.Name == s {
			return p
		}
		if strings.EqualFold(p.Org.Name, s) {
			fold, n = p, n+1
		}
	}
	if n == 1 {
		return fold
	}
	return nil
}
