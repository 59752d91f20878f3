// Package mission manages the national challenges the platform exists to
// make progress on (issue 15): each a problem statement in a priority
// domain, led by an organisation with partners, with measurable targets
// and links to the campaigns, datasets, models, sites and instruments
// that work on it. A target's progress is computed, never ticked: from
// the linked campaigns' observations and the linked models' registered
// metrics, as the reader sees them.
//
// Guarantees:
//   - A challenge is read as every other science object (authz.Challenge):
//     one p may not read is missing on every path — Get, List, names,
//     links, errors.
//   - Links are resolved as their author sees the platform: a link to
//     something the author may not read is refused exactly as a link to
//     a missing thing. They are stored by ID.
//   - On read, a link is shown only if the reader may read the linked
//     object, and progress uses only those: an OPEN challenge linked to a
//     restricted dataset or campaign betrays nothing to an OPEN reader.
package mission

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compartment"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Config is what the service needs. Campaigns, Sites and Fleet may be nil:
// links of their kind are then refused as not found.
type Config struct {
	DB        store.DB
	Authz     *authz.Authorizer
	Identity  *identity.Service
	Catalog   *catalog.Service
	Campaigns *campaign.Service
	Sites     *sites.Registry
	Fleet     lab.Fleet
	Audit     audit.Appender
	Now       func() time.Time
}

// Service stores challenges and computes their progress.
type Service struct {
	c Config
}

// New returns the service.
func New(c Config) (*Service, error) {
	if c.DB == nil || c.Authz == nil || c.Identity == nil || c.Catalog == nil {
		return nil, errors.E("mission.New", errors.Invalid, errors.Msg("mission needs a store, an authorizer, identities and a catalog"))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{c: c}, nil
}

// Challenge is a stored challenge as its reader sees it.
type Challenge struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Title     string   `json:"title"`
	Domain    string   `json:"domain"`
	Statement string   `json:"statement"`
	Lead      Org      `json:"lead"`
	Partners  []Org    `json:"partners"`
	Targets   []Target `json:"targets"`
	// Links are the links the reader may follow (others are not shown).
	Links     []Link    `json:"links"`
	Label     string    `json:"label"`
	Demo      bool      `json:"demo"`
	Owner     string    `json:"owner"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	stored []storedLink
}

// Org names an organisation.
type Org struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Target is a measurable target in its metric's canonical unit.
type Target struct {
	Metric    string  `json:"metric"`
	Unit      string  `json:"unit"`
	Direction string  `json:"direction"`
	Target    float64 `json:"target"`
	Baseline  float64 `json:"baseline"`
}

// Link is a link to a platform object the reader may read.
type Link struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	Name      string `json:"name"`
	Objective string `json:"objective,omitempty"`
	Metric    string `json:"metric,omitempty"`
}

type storedLink struct {
	Kind      string `json:"kind"`
	ID        string `json:"id"`
	Name      string `json:"name,omitempty"` // instruments: the name the author linked
	Objective string `json:"objective,omitempty"`
	Metric    string `json:"metric,omitempty"`
}

// ListOptions filters and pages List.
type ListOptions struct {
	Domain string
	Cursor string
	Limit  int
}

func (s *Service) now() time.Time { return s.c.Now().UTC().Truncate(time.Microsecond) }

const cols = `id, name, title, domain, statement, lead_org, partners, targets, links, label, demo, owner_id, created_at, updated_at`

type row struct {
	Challenge
	lead     string
	partners []string
}

func scan(sc interface{ Scan(...any) error }) (*row, error) {
	var r row
	var partners, targets, links string
	var demo int
	var c, u int64
	if err := sc.Scan(&r.ID, &r.Name, &r.Title, &r.Domain, &r.Statement, &r.lead, &partners, &targets, &links, &r.Label, &demo, &r.Owner, &c, &u); err != nil {
		return nil, err
	}
	if json.Unmarshal([]byte(partners), &r.partners) != nil || json.Unmarshal([]byte(targets), &r.Targets) != nil || json.Unmarshal([]byte(links), &r.stored) != nil {
		return nil, errors.E(errors.Internal, errors.Msg("a stored challenge does not decode"))
	}
	r.Demo = demo != 0
	r.CreatedAt, r.UpdatedAt = store.FromT(c), store.FromT(u)
	return &r, nil
}

func (s *Service) resource(c *Challenge) (authz.Resource, error) {
	l, err := label.Parse(c.Label)
	if err != nil {
		return authz.Resource{}, errors.E(errors.Internal, err)
	}
	return authz.Resource{Type: authz.Challenge, ID: c.ID, Label: l, Owner: c.Owner}, nil
}

func (s *Service) canAs(ctx context.Context, ap authz.Principal, act authz.Action, c *Challenge) error {
	res, err := s.resource(c)
	if err != nil {
		return err
	}
	return s.c.Authz.Can(ctx, ap, act, res)
}

// record puts an action on a challenge on the audit log under its label.
func (s *Service) record(ctx context.Context, p *genesis.Principal, action string, c *Challenge, detail string) error {
	l, err := label.Parse(c.Label)
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	return catalog.Record(ctx, s.c.Audit, audit.Record{Principal: string(p.ID), Action: "challenge." + action, ObjectType: "challenge", ObjectID: c.ID, Decision: audit.Allow, Detail: detail}, l)
}

func (s *Service) notFound(ctx context.Context, p *genesis.Principal, action, asked string) {
	if s.c.Audit == nil {
		return
	}
	asked, _ = text.Sanitize(strings.ToValidUTF8(asked[:min(len(asked), 256)], ""), false)
	s.c.Audit.Append(context.WithoutCancel(ctx), audit.Record{Principal: string(p.ID), Action: "challenge." + action, ObjectType: "challenge",
		ObjectID: asked, Decision: audit.Deny, RequestID: catalog.RequestID(ctx), Detail: "not found"})
}

// visibleNamed returns the oldest challenge named name that ap may read, or nil.
func (s *Service) visibleNamed(ctx context.Context, tx store.Tx, ap authz.Principal, name string) (*row, error) {
	rows, err := tx.Query(ctx, `SELECT `+cols+` FROM challenges WHERE name = ? ORDER BY created_at, id`, name)
	if err != nil {
		return nil, err
	}
	var rs []*row
	if err := rows.Each(func() error {
		r, err := scan(rows)
		if err == nil {
			rs = append(rs, r)
		}
		return err
	}); err != nil {
		return nil, err
	}
	for _, r := range rs {
		if s.canAs(ctx, ap, authz.Read, &r.Challenge) == nil {
			return r, nil
		}
	}
	return nil, nil
}

// find resolves idOrName as ap sees the challenges (NotExist if hidden).
func (s *Service) find(ctx context.Context, tx store.Tx, ap authz.Principal, idOrName string) (*row, error) {
	if strings.HasPrefix(idOrName, "chl_") {
		r, err := scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM challenges WHERE id = ?`, idOrName))
		if err != nil {
			return nil, err
		}
		if s.canAs(ctx, ap, authz.Read, &r.Challenge) != nil {
			return nil, errors.E(errors.NotExist)
		}
		return r, nil
	}
	r, err := s.visibleNamed(ctx, tx, ap, idOrName)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errors.E(errors.NotExist)
	}
	return r, nil
}

func notFoundErr(op errors.Op, idOrName string) error {
	return errors.E(op, errors.NotExist, errors.Msg("challenge "+quote(idOrName)+" not found"))
}

// load resolves idOrName for p: NotExist (on the record) when p may not
// read it.
func (s *Service) load(ctx context.Context, op errors.Op, p *genesis.Principal, idOrName string) (*row, authz.Principal, error) {
	ap, err := s.c.Identity.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, ap, errors.E(op, err)
	}
	var r *row
	err = s.c.DB.View(ctx, func(tx store.Tx) error {
		var err error
		r, err = s.find(ctx, tx, ap, idOrName)
		return err
	})
	if errors.Is(errors.NotExist, err) {
		s.notFound(ctx, p, "read", idOrName)
		return nil, ap, notFoundErr(op, idOrName)
	}
	if err != nil {
		return nil, ap, errors.E(op, err)
	}
	return r, ap, nil
}

// Get returns the challenge p may read, by ID or name (NotExist
// otherwise), with the links p may follow. Reads above OPEN are on the
// record.
func (s *Service) Get(ctx context.Context, p *genesis.Principal, idOrName string) (*Challenge, error) {
	const op errors.Op = "mission.Get"
	r, _, err := s.load(ctx, op, p, idOrName)
	if err != nil {
		return nil, err
	}
	if err := s.present(ctx, p, r); err != nil {
		return nil, errors.E(op, err)
	}
	if l, err := label.Parse(r.Label); err != nil || l.Level() != label.Open {
		if err := s.record(ctx, p, "read", &r.Challenge, ""); err != nil {
			return nil, errors.E(op, err)
		}
	}
	return &r.Challenge, nil
}

// presenter fills challenges for one reader, remembering what it looked up
// (organisations, links' visibility) for the rest of one call.
type presenter struct {
	s     *Service
	p     *genesis.Principal
	orgs  map[string]Org
	links map[string]linkSeen
}

type linkSeen struct {
	name string
	ok   bool
}

func (s *Service) presenter(p *genesis.Principal) *presenter {
	return &presenter{s: s, p: p, orgs: map[string]Org{}, links: map[string]linkSeen{}}
}

// present fills r's organisations and the links p may follow.
func (s *Service) present(ctx context.Context, p *genesis.Principal, r *row) error {
	return s.presenter(p).present(ctx, r)
}

func (pr *presenter) present(ctx context.Context, r *row) error {
	org := func(id string) (Org, error) {
		if o, ok := pr.orgs[id]; ok {
			return o, nil
		}
		o, err := pr.s.org(ctx, id)
		if err == nil {
			pr.orgs[id] = o
		}
		return o, err
	}
	lead, err := org(r.lead)
	if err != nil {
		return err
	}
	r.Lead = lead
	r.Partners = []Org{}
	for _, id := range r.partners {
		o, err := org(id)
		if err != nil {
			return err
		}
		r.Partners = append(r.Partners, o)
	}
	r.Links = []Link{}
	for _, l := range r.stored {
		key := l.Kind + "\x00" + l.ID + "\x00" + l.Name
		seen, ok := pr.links[key]
		if !ok {
			name, visible, err := pr.s.visible(ctx, pr.p, l)
			if err != nil {
				return err
			}
			seen = linkSeen{name, visible}
			pr.links[key] = seen
		}
		if seen.ok {
			r.Links = append(r.Links, Link{Kind: l.Kind, ID: l.ID, Name: seen.name, Objective: l.Objective, Metric: l.Metric})
		}
	}
	return nil
}

func (s *Service) org(ctx context.Context, id string) (Org, error) {
	o, err := s.c.Identity.Org(ctx, id)
	if errors.Is(errors.NotExist, err) {
		return Org{ID: id, Name: id}, nil
	}
	if err != nil {
		return Org{}, err
	}
	return Org{ID: string(o.ID), Name: o.Name}, nil
}

// hidden reports whether err means "p may not see it" (missing, hidden or
// refused) rather than a failure.
func hidden(err error) bool {
	switch errors.KindOf(err) {
	case errors.NotExist, errors.Permission, errors.Invalid:
		return true
	}
	return false
}

// visible reports whether p may read the linked object, and its name.
func (s *Service) visible(ctx context.Context, p *genesis.Principal, l storedLink) (string, bool, error) {
	id, name, err := s.resolve(ctx, p, l.Kind, l.ID)
	if err != nil {
		if hidden(err) {
			return "", false, nil
		}
		return "", false, err
	}
	if id != l.ID {
		return "", false, nil
	}
	if name == "" {
		name = l.Name
	}
	return name, true, nil
}

// resolve finds the object of kind ref names as p sees the platform: its
// ID and name. Hidden and missing are alike (NotExist).
func (s *Service) resolve(ctx context.Context, p *genesis.Principal, kind, ref string) (id, name string, err error) {
	nf := errors.E(errors.NotExist)
	switch kind {
	case LinkCampaign:
		if s.c.Campaigns == nil {
			return "", "", nf
		}
		c, err := s.c.Campaigns.Get(ctx, p, ref)
		if err != nil {
			return "", "", err
		}
		return c.ID, c.Name, nil
	case LinkDataset, LinkModel:
		a, err := s.c.Catalog.Get(ctx, p, ref)
		if err != nil {
			return "", "", err
		}
		if string(a.Kind) != kind {
			return "", "", nf
		}
		return a.ID, a.Name, nil
	case LinkSite:
		if s.c.Sites == nil {
			return "", "", nf
		}
		st, err := s.c.Sites.Get(ctx, p, ref)
		if err != nil {
			return "", "", err
		}
		return st.ID, st.Name, nil
	case LinkInstrument:
		if s.c.Fleet == nil {
			return "", "", nf
		}
		ids, err := s.c.Fleet.Select(ctx, p, ref, "", "")
		if err != nil {
			return "", "", err
		}
		if len(ids) != 1 {
			return "", "", nf
		}
		return ids[0], "", nil
	case LinkChallenge:
		ap, err := s.c.Identity.AuthzPrincipal(ctx, p)
		if err != nil {
			return "", "", err
		}
		var r *row
		err = s.c.DB.View(ctx, func(tx store.Tx) error {
			var err error
			r, err = s.find(ctx, tx, ap, ref)
			return err
		})
		if err != nil {
			return "", "", err
		}
		return r.ID, r.Name, nil
	}
	return "", "", nf
}

// List lists the challenges p may read, newest first, optionally of one
// domain.
func (s *Service) List(ctx context.Context, p *genesis.Principal, o ListOptions) ([]Challenge, string, error) {
	const op errors.Op = "mission.List"
	domain := ""
	if o.Domain != "" {
		d, err := ParseDomain(o.Domain)
		if err != nil {
			return nil, "", errors.E(op, err)
		}
		domain = d
	}
	ap, err := s.c.Identity.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	fetch := func(after string, n int) ([]row, error) {
		at, atID := int64(math.MaxInt64), ""
		if after != "" {
			us, id, ok := strings.Cut(after, ".")
			t, err := strconv.ParseInt(us, 10, 64)
			if !ok || err != nil || id == "" {
				return nil, store.MalformedCursor()
			}
			at, atID = t, id
		}
		where, args := `(created_at < ? OR created_at = ? AND id < ?)`, []any{at, at, atID}
		if domain != "" {
			where, args = where+` AND domain = ?`, append(args, domain)
		}
		var rs []row
		err := s.c.DB.View(ctx, func(tx store.Tx) error {
			rows, err := tx.Query(ctx, `SELECT `+cols+` FROM challenges WHERE `+where+` ORDER BY created_at DESC, id DESC LIMIT `+strconv.Itoa(n), args...)
			if err != nil {
				return err
			}
			return rows.Each(func() error {
				r, err := scan(rows)
				if err == nil {
					rs = append(rs, *r)
				}
				return err
			})
		})
		return rs, err
	}
	key := func(r *row) string { return strconv.FormatInt(store.T(r.CreatedAt), 10) + "." + r.ID }
	keep := func(rs []row) ([]bool, error) {
		ok := make([]bool, len(rs))
		for i := range rs {
			ok[i] = s.canAs(ctx, ap, authz.Read, &rs[i].Challenge) == nil
		}
		return ok, nil
	}
	rs, next, err := store.Page(o.Cursor, o.Limit, 100, fetch, key, keep)
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	out := make([]Challenge, 0, len(rs))
	pres := s.presenter(p)
	for i := range rs {
		if err := pres.present(ctx, &rs[i]); err != nil {
			return nil, "", errors.E(op, err)
		}
		out = append(out, rs[i].Challenge)
	}
	return out, next, nil
}

// resolved is a validated spec resolved against the store as its author
// sees it.
type resolved struct {
	lead     string
	partners []string
	links    []storedLink
}

// resolveSpec resolves sp's organisations and links as p sees them. self
// is the challenge being updated ("" on create), for the cycle check.
func (s *Service) resolveSpec(ctx context.Context, p *genesis.Principal, ap authz.Principal, sp *Spec, self string) (*resolved, error) {
	var out resolved
	orgID := func(field, name string) (string, error) {
		o, err := s.c.Identity.Org(ctx, name)
		if errors.Is(errors.NotExist, err) {
			return "", invalid(field, field+": organisation "+quote(name)+" not found (genesis org list shows them)")
		}
		if err != nil {
			return "", err
		}
		return string(o.ID), nil
	}
	var err error
	if out.lead, err = orgID("lead", sp.Lead); err != nil {
		return nil, err
	}
	seen := map[string]bool{out.lead: true}
	for i, name := range sp.Partners {
		f := "partners[" + strconv.Itoa(i) + "]"
		id, err := orgID(f, name)
		if err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, invalid(f, f+": "+quote(name)+" is named twice (the lead is not a partner too)")
		}
		seen[id] = true
		out.partners = append(out.partners, id)
	}
	type key struct{ kind, id string }
	dup := map[key]int{}
	for i, l := range sp.Links {
		f := "links[" + strconv.Itoa(i) + "]"
		id, _, err := s.resolve(ctx, p, l.Kind, l.Ref)
		if err != nil && !hidden(err) {
			return nil, err
		}
		if err != nil {
			return nil, invalid(f+".ref", f+": "+l.Kind+" "+quote(l.Ref)+" not found")
		}
		if j, ok := dup[key{l.Kind, id}]; ok {
			return nil, invalid(f, f+": duplicate link (links["+strconv.Itoa(j)+"] links the same "+l.Kind+")")
		}
		dup[key{l.Kind, id}] = i
		if l.Kind == LinkChallenge {
			if id == self {
				return nil, invalid(f+".ref", f+": a challenge cannot be part of itself")
			}
			if self != "" {
				cyc, err := s.reaches(ctx, ap, id, self)
				if err != nil {
					return nil, err
				}
				if cyc {
					return nil, invalid(f+".ref", f+": challenge "+quote(l.Ref)+" is already (through its links) part of this one: the links would form a cycle")
				}
			}
		}
		sl := storedLink{Kind: l.Kind, ID: id, Objective: l.Objective, Metric: l.Metric}
		if l.Kind == LinkInstrument {
			sl.Name = l.Ref
		}
		out.links = append(out.links, sl)
	}
	return &out, nil
}

// reaches reports whether challenge from reaches challenge to through
// "part of" links, following only challenges ap may read (so the answer
// says nothing about hidden ones; reads stop at each visited node).
func (s *Service) reaches(ctx context.Context, ap authz.Principal, from, to string) (bool, error) {
	seen := map[string]bool{}
	queue := []string{from}
	for len(queue) > 0 && len(seen) < 10000 {
		id := queue[0]
		queue = queue[1:]
		if id == to {
			return true, nil
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		var r *row
		err := s.c.DB.View(ctx, func(tx store.Tx) error {
			var err error
			r, err = scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM challenges WHERE id = ?`, id))
			return err
		})
		if errors.Is(errors.NotExist, err) {
			continue
		}
		if err != nil {
			return false, err
		}
		if s.canAs(ctx, ap, authz.Read, &r.Challenge) != nil {
			continue
		}
		for _, l := range r.stored {
			if l.Kind == LinkChallenge {
				queue = append(queue, l.ID)
			}
		}
	}
	return false, nil
}

func targetsOf(sp *Spec) []Target {
	out := make([]Target, len(sp.Targets))
	for i, t := range sp.Targets {
		out[i] = Target{Metric: t.Metric, Unit: t.Unit, Direction: t.Direction, Target: *t.Target, Baseline: *t.Baseline}
	}
	return out
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Create stores a new challenge from spec, resolved as p sees the
// platform. Its name is polyinstantiated as campaign names are: a
// challenge p can read of that name is a conflict; one p cannot read is
// not in the way.
func (s *Service) Create(ctx context.Context, p *genesis.Principal, spec *Spec) (*Challenge, error) {
	const op errors.Op = "mission.Create"
	if spec == nil {
		return nil, errors.E(op, invalid("spec", "a challenge needs a spec"))
	}
	sp := *spec
	sp.Partners = append([]string(nil), spec.Partners...)
	sp.Targets = append([]TargetSpec(nil), spec.Targets...)
	sp.Links = append([]LinkSpec(nil), spec.Links...)
	if err := sp.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	ap, err := s.c.Identity.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	res, err := s.resolveSpec(ctx, p, ap, &sp, "")
	if err != nil {
		return nil, errors.E(op, err)
	}
	marking := sp.Label
	if marking == "" {
		marking = "OPEN"
	}
	now := s.now()
	c := &Challenge{ID: identity.NewID("chl"), Name: sp.Name, Title: sp.Title, Domain: sp.Domain, Statement: sp.Statement, Targets: targetsOf(&sp),
		Demo: sp.Demo, Owner: string(p.ID), CreatedAt: now, UpdatedAt: now, stored: res.links}
	err = s.c.DB.Update(ctx, func(tx store.Tx) error {
		l, err := compartment.ParseFor(ctx, tx, p, "label", marking)
		if err != nil {
			return err
		}
		c.Label = l.Format()
		r, err := s.resource(c)
		if err != nil {
			return err
		}
		if err := s.c.Authz.Can(ctx, ap, authz.Write, r); err != nil {
			if errors.Is(errors.NotExist, err) {
				err = errors.E(errors.Permission, errors.Msg("you may not write challenges at label "+c.Label))
			}
			return err
		}
		if other, err := s.visibleNamed(ctx, tx, ap, sp.Name); err != nil {
			return err
		} else if other != nil {
			return errors.E(errors.Exist, errors.Field("name"), errors.Msg("a challenge named "+sp.Name+" exists ("+other.ID+")"))
		}
		demo := 0
		if c.Demo {
			demo = 1
		}
		_, err = tx.Exec(ctx, `INSERT INTO challenges (`+cols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.ID, c.Name, c.Title, c.Domain, c.Statement, res.lead, jsonText(orEmpty(res.partners)), jsonText(c.Targets), jsonText(orEmptyLinks(res.links)),
			c.Label, demo, c.Owner, store.T(now), store.T(now))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.record(ctx, p, "create", c, ""); err != nil {
		return nil, errors.E(op, err)
	}
	r := &row{Challenge: *c, lead: res.lead, partners: res.partners}
	if err := s.present(ctx, p, r); err != nil {
		return nil, errors.E(op, err)
	}
	return &r.Challenge, nil
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func orEmptyLinks(s []storedLink) []storedLink {
	if s == nil {
		return []storedLink{}
	}
	return s
}

// Patch changes some of a challenge's fields; nil fields are left alone.
// Targets, Partners and Links replace the whole list. Links the author may
// not read stay as they are (they are not the author's to see, and so
// not to remove).
type Patch struct {
	Title     *string       `json:"title,omitempty"`
	Domain    *string       `json:"domain,omitempty"`
	Statement *string       `json:"statement,omitempty"`
	Lead      *string       `json:"lead,omitempty"`
	Partners  *[]string     `json:"partners,omitempty"`
	Label     *string       `json:"label,omitempty"`
	Demo      *bool         `json:"demo,omitempty"`
	Targets   *[]TargetSpec `json:"targets,omitempty"`
	Links     *[]LinkSpec   `json:"links,omitempty"`
}

// PatchOf is the patch that makes a challenge what sp says (its name
// aside): an update from a whole file.
func PatchOf(sp *Spec) Patch {
	label := sp.Label
	if label == "" {
		label = "OPEN"
	}
	partners, targets, links := append([]string{}, sp.Partners...), append([]TargetSpec{}, sp.Targets...), append([]LinkSpec{}, sp.Links...)
	return Patch{Title: &sp.Title, Domain: &sp.Domain, Statement: &sp.Statement, Lead: &sp.Lead, Partners: &partners, Label: &label, Demo: &sp.Demo,
		Targets: &targets, Links: &links}
}

// Update applies patch to the challenge p names, if p may write it. Its
// label may be raised, never lowered (that is a declassification).
func (s *Service) Update(ctx context.Context, p *genesis.Principal, idOrName string, patch Patch) (*Challenge, error) {
	const op errors.Op = "mission.Update"
	r, ap, err := s.load(ctx, op, p, idOrName)
	if err != nil {
		return nil, err
	}
	if err := s.canAs(ctx, ap, authz.Write, &r.Challenge); err != nil {
		if errors.Is(errors.NotExist, err) {
			err = errors.E(errors.Permission, errors.Msg("you may not change challenge "+r.Name))
		}
		return nil, errors.E(op, err)
	}
	// The spec as it stands, as p sees it, then the patch over it.
	if err := s.present(ctx, p, r); err != nil {
		return nil, errors.E(op, err)
	}
	sp := Spec{Name: r.Name, Title: r.Title, Domain: r.Domain, Statement: r.Statement, Lead: r.Lead.ID, Label: r.Label, Demo: r.Demo}
	for _, o := range r.Partners {
		sp.Partners = append(sp.Partners, o.ID)
	}
	for _, t := range r.Targets {
		sp.Targets = append(sp.Targets, TargetSpec{Metric: t.Metric, Unit: t.Unit, Direction: t.Direction, Target: ptr(t.Target), Baseline: ptr(t.Baseline)})
	}
	for _, l := range r.Links {
		sp.Links = append(sp.Links, LinkSpec{Kind: l.Kind, Ref: l.ID, Objective: l.Objective, Metric: l.Metric})
	}
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&sp.Title, patch.Title)
	set(&sp.Domain, patch.Domain)
	set(&sp.Statement, patch.Statement)
	set(&sp.Lead, patch.Lead)
	set(&sp.Label, patch.Label)
	if patch.Demo != nil {
		sp.Demo = *patch.Demo
	}
	if patch.Partners != nil {
		sp.Partners = *patch.Partners
	}
	if patch.Targets != nil {
		sp.Targets = *patch.Targets
	}
	if patch.Links != nil {
		sp.Links = *patch.Links
	}
	if err := sp.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	res, err := s.resolveSpec(ctx, p, ap, &sp, r.ID)
	if err != nil {
		return nil, errors.E(op, err)
	}
	// Links p cannot see are kept.
	seen := map[string]bool{}
	for _, l := range r.Links {
		seen[l.Kind+"\x00"+l.ID] = true
	}
	links := res.links
	for _, l := range r.stored {
		if !seen[l.Kind+"\x00"+l.ID] {
			links = append(links, l)
		}
	}
	if len(links) > MaxLinks {
		return nil, errors.E(op, invalid("links", "at most "+strconv.Itoa(MaxLinks)+" links"))
	}
	marking := sp.Label
	if marking == "" {
		marking = "OPEN"
	}
	now := s.now()
	c := r.Challenge
	c.Title, c.Domain, c.Statement, c.Demo, c.Targets, c.stored, c.UpdatedAt = sp.Title, sp.Domain, sp.Statement, sp.Demo, targetsOf(&sp), links, now
	err = s.c.DB.Update(ctx, func(tx store.Tx) error {
		l, err := compartment.ParseFor(ctx, tx, p, "label", marking)
		if err != nil {
			return err
		}
		old, err := label.Parse(r.Label)
		if err != nil {
			return errors.E(errors.Internal, err)
		}
		if !label.Dominates(l, old) {
			return invalid("label", "a challenge's label may be raised, not lowered (from "+r.Label+" to "+l.Format()+" is a declassification)")
		}
		c.Label = l.Format()
		if err := s.canAs(ctx, ap, authz.Write, &c); err != nil {
			if errors.Is(errors.NotExist, err) {
				err = errors.E(errors.Permission, errors.Msg("you may not write challenges at label "+c.Label))
			}
			return err
		}
		demo := 0
		if c.Demo {
			demo = 1
		}
		res2, err := tx.Exec(ctx, `UPDATE challenges SET title = ?, domain = ?, statement = ?, lead_org = ?, partners = ?, targets = ?, links = ?, label = ?, demo = ?, updated_at = ?
			WHERE id = ? AND updated_at = ?`, c.Title, c.Domain, c.Statement, res.lead, jsonText(orEmpty(res.partners)), jsonText(c.Targets), jsonText(orEmptyLinks(links)),
			c.Label, demo, store.T(now), c.ID, store.T(r.UpdatedAt))
		if err != nil {
			return err
		}
		if n, _ := res2.RowsAffected(); n == 0 {
			return errors.E(errors.Conflict, errors.Msg("the challenge changed meanwhile; read it again and retry"))
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.record(ctx, p, "update", &c, ""); err != nil {
		return nil, errors.E(op, err)
	}
	out := &row{Challenge: c, lead: res.lead, partners: res.partners}
	if err := s.present(ctx, p, out); err != nil {
		return nil, errors.E(op, err)
	}
	return &out.Challenge, nil
}

func ptr(v float64) *float64 { return &v }
