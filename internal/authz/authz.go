// Package authz decides who may do what: a request is allowed only if the
// principal's clearance, with the agreements its organisation holds at the
// moment of the decision, dominates the resource's label (package label),
// AND the active Cedar policy permits it.
//
// Guarantees:
//
//   - One entry point: (*Authorizer).Can returns nil (allowed), an error of
//     kind NotExist when the principal may not read the resource (so an
//     unreadable object is indistinguishable from a missing one), or kind
//     Permission when it may read but not perform the action. Readable is
//     the batch form of the read check, for search and listings.
//   - Fail closed: an unknown action, resource type or role, a missing ID,
//     a Facts error, a canceled context, or any Cedar evaluation error is a
//     deny. A Cedar statement that errors is never ignored (Cedar itself
//     would skip an erroring forbid; Genesis denies instead).
//   - No stale grants: agreements are fetched from Facts and checked against
//     the injected clock on every call; nothing is cached between calls, so
//     an agreement that expires or is ended stops granting at the next
//     decision.
//   - Policies are validated (parsed, type-checked against the embedded
//     Cedar schema, and checked not to lock administrators out) before they
//     are activated; activation is atomic.
//   - Per request, only the statements whose scope can match the action and
//     resource type are evaluated (policy slicing); this never changes a
//     decision.
//
// The default policy is default.cedar, documented in POLICY.md.
package authz

import (
	"context"
	"sync/atomic"
	"time"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// Authorizer makes decisions against the active policy. It is safe for
// concurrent use.
type Authorizer struct {
	facts      Facts
	now        func() time.Time
	policy     atomic.Pointer[Policy]
	principals entityCache
	resources  entityCache
	labelSets  entityCache
	// observe, if set, is told of decisions (see Observe).
	observe atomic.Pointer[func(t ResourceType, allowed bool, n int)]
}

// Observe has f told of every decision Can and Readable make: n decisions
// about resources of type t, allowed or not (Readable reports a batch in
// one call per type and outcome). f must be fast and must not block; nil
// stops it.
func (a *Authorizer) Observe(f func(t ResourceType, allowed bool, n int)) {
	if f == nil {
		a.observe.Store(nil)
		return
	}
	a.observe.Store(&f)
}

// New returns an Authorizer using the default policy. facts supplies
// agreements; now is the clock (time.Now in production).
func New(facts Facts, now func() time.Time) (*Authorizer, error) {
	const op errors.Op = "authz.New"
	if facts == nil || now == nil {
		return nil, errors.E(op, errors.Internal, "authz: nil Facts or clock")
	}
	p, err := ParsePolicy(defaultPolicy)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	a := &Authorizer{facts: facts, now: now}
	a.policy.Store(p)
	return a, nil
}

// Policy returns the active policy.
func (a *Authorizer) Policy() *Policy { return a.policy.Load() }

// SetPolicy activates p, which ParsePolicy has validated. Decisions already
// running finish with the policy they started with.
func (a *Authorizer) SetPolicy(p *Policy) error {
	if p == nil || p.slices == nil {
		return errors.E(errors.Op("authz.SetPolicy"), errors.Invalid, errors.Msg("policy was not validated"))
	}
	a.policy.Store(p)
	return nil
}

// SetPolicySource parses, validates and activates src; on any error the
// active policy is unchanged.
func (a *Authorizer) SetPolicySource(src []byte) error {
	p, err := ParsePolicy(src)
	if err != nil {
		return err
	}
	return a.SetPolicy(p)
}

// Messages shown to callers; they never name the object.
var (
	errInvisible = &errors.Error{Kind: errors.NotExist, Msg: "not found"}
	errForbidden = &errors.Error{Kind: errors.Permission, Msg: "permission denied"}
)

// Can decides whether p may perform act on r. It returns nil if allowed,
// an error of kind NotExist if p may not read r (treat exactly like a
// missing object), Permission if p may read r but not do act, and for a
// decision that could not be made (Facts unavailable, context canceled,
// malformed principal) another kind. Every non-nil result is a deny.
func (a *Authorizer) Can(ctx context.Context, p Principal, act Action, r Resource) error {
	const op errors.Op = "authz.Can"
	s, err := a.prepare(ctx, p)
	if err == nil {
		err = a.policy.Load().decide(s, act, r)
	}
	if f := a.observe.Load(); f != nil {
		(*f)(r.Type, err == nil, 1)
	}
	if err != nil {
		return errors.E(op, err)
	}
	return nil
}

// Readable reports, for each resource, whether p may read it: the filter
// for search results, listings, counts and lineage views. If the decision
// cannot be made at all it returns an error and all false.
func (a *Authorizer) Readable(ctx context.Context, p Principal, rs []Resource) ([]bool, error) {
	const op errors.Op = "authz.Readable"
	out := make([]bool, len(rs))
	s, err := a.prepare(ctx, p)
	if err != nil {
		a.observeBatch(rs, out)
		return out, errors.E(op, err)
	}
	pol := a.policy.Load()
	for i, r := range rs {
		out[i] = pol.decide(s, Read, r) == nil
	}
	a.observeBatch(rs, out)
	return out, nil
}

// observeBatch reports Readable's decisions, one call per resource type
// and outcome.
func (a *Authorizer) observeBatch(rs []Resource, out []bool) {
	f := a.observe.Load()
	if f == nil || len(rs) == 0 {
		return
	}
	type key struct {
		t  ResourceType
		ok bool
	}
	counts := map[key]int{}
	for i, r := range rs {
		counts[key{r.Type, out[i]}]++
	}
	for k, n := range counts {
		(*f)(k.t, k.ok, n)
	}
}

// subject is a principal prepared for decisions at one instant.
type subject struct {
	p          Principal
	clearance  label.Clearance // with agreements held now
	principals *entityCache    // nil: no caching
	resources  *entityCache
	labelSets  *entityCache
	// principal entity for the last project seen (Readable batches).
	project string
	entity  cedar.Entity
	built   bool
}

func (a *Authorizer) prepare(ctx context.Context, p Principal) (*subject, error) {
	if err := ctx.Err(); err != nil {
		return nil, errors.E(errors.Canceled, err)
	}
	if err := checkPrincipal(p); err != nil {
		return nil, err
	}
	now := a.now()
	c := p.Clearance
	if p.Org != "" {
		ags, err := a.facts.AgreementsOf(ctx, p.Org)
		if err != nil {
			k := errors.KindOf(err)
			if k != errors.Canceled && k != errors.Transient && k != errors.Unavailable {
				k = errors.Internal
			}
			return nil, errors.E(k, errors.Msg("authorization is unavailable"), err)
		}
		var held, granted []string
		for _, ag := range ags {
			if ag.HeldBy(p.Org, now) {
				held = append(held, ag.ID)
				granted = append(granted, ag.Compartments...)
			}
		}
		if len(held) > 0 {
			withAll, err := c.WithAgreements(held, granted)
			if err != nil {
				// Some agreement is malformed: it grants nothing (it could
				// match no label anyway); the well-formed ones still count.
				withAll = c
				for _, ag := range ags {
					if ag.HeldBy(p.Org, now) {
						if w, err := withAll.WithAgreements([]string{ag.ID}, ag.Compartments); err == nil {
							withAll = w
						}
					}
				}
			}
			c = withAll
		}
	}
	return &subject{p: p, clearance: c, principals: &a.principals, resources: &a.resources, labelSets: &a.labelSets}, nil
}

func checkPrincipal(p Principal) error {
	bad := func(why string) error {
		return errors.E(errors.NotExist, errors.Msg("not found"), "authz: malformed principal: "+why)
	}
	if p.ID == "" {
		return bad("empty ID")
	}
	if p.Kind != User && p.Kind != Service {
		return bad("unknown kind " + string(p.Kind))
	}
	for _, r := range p.Roles {
		if !r.Valid() {
			return bad("unknown role " + string(r))
		}
	}
	for _, rs := range p.ProjectRoles {
		for _, r := range rs {
			if !r.Valid() {
				return bad("unknown role " + string(r))
			}
		}
	}
	return nil
}

// decide is the whole decision for one resource; s is already prepared.
func (pol *Policy) decide(s *subject, act Action, r Resource) error {
	ai := act.index()
	ti := r.Type.index()
	if ai < 0 || ti < 0 || r.ID == "" || !r.Label.Level().Valid() {
		return errInvisible
	}
	if !s.clearance.MayRead(r.Label) {
		return errInvisible
	}
	ents := requestEntities{p: s.principalEntity(r.Project), r: s.resourceEntity(ti, r)}
	if !pol.allows(ents, Read, ti) {
		return errInvisible
	}
	if act == Read {
		return nil
	}
	if !pol.allows(ents, act, ti) {
		return errForbidden
	}
	return nil
}

var actionUIDs = func() []cedar.EntityUID {
	out := make([]cedar.EntityUID, len(Actions))
	for i, a := range Actions {
		out[i] = cedar.NewEntityUID("Action", cedar.String(a))
	}
	return out
}()

func (pol *Policy) allows(ents requestEntities, act Action, ti int) bool {
	ai := act.index()
	req := cedar.Request{Principal: ents.p.UID, Action: actionUIDs[ai], Resource: ents.r.UID}
	d, diag := cedar.Authorize(pol.slices[ai][ti], ents, req)
	return d == cedar.Allow && len(diag.Errors) == 0
}

// requestEntities is the two-entity store a decision needs.
type requestEntities struct{ p, r cedar.Entity }

func (e requestEntities) Get(uid cedar.EntityUID) (cedar.Entity, bool) {
	switch uid {
	case e.p.UID:
		return e.p, true
	case e.r.UID:
		return e.r, true
	}
	return cedar.Entity{}, false
}

func (s *subject) principalEntity(project string) cedar.Entity {
	if s.built && s.project == project {
		return s.entity
	}
	var projRoles []Role
	if project != "" {
		projRoles = s.p.ProjectRoles[project]
	}
	var buf [256]byte
	key := append(buf[:0], s.p.Kind[0])
	key = appendField(key, s.p.ID)
	key = appendField(key, s.p.Org)
	key = appendField(key, s.clearance.Nationality())
	for _, r := range s.p.Roles {
		key = appendField(key, string(r))
	}
	for _, r := range projRoles {
		key = appendField(key, string(r))
	}
	e, ok := s.principals.get(key)
	if !ok {
		roles := make([]cedar.Value, 0, len(s.p.Roles)+len(projRoles))
		for _, r := range s.p.Roles {
			roles = append(roles, cedar.String(r))
		}
		for _, r := range projRoles {
			roles = append(roles, cedar.String(r))
		}
		typ := cedar.EntityType("User")
		if s.p.Kind == Service {
			typ = "Service"
		}
		e = cedar.Entity{
			UID: cedar.NewEntityUID(typ, cedar.String(s.p.ID)),
			Attributes: cedar.NewRecord(cedar.RecordMap{
				"id":          cedar.String(s.p.ID),
				"org":         cedar.String(s.p.Org),
				"nationality": cedar.String(s.clearance.Nationality()),
				"roles":       cedar.NewSet(roles...),
			}),
		}
		s.principals.put(key, e)
	}
	s.entity, s.project, s.built = e, project, true
	return e
}

func (s *subject) resourceEntity(ti int, r Resource) cedar.Entity {
	var buf [512]byte
	key := append(buf[:0], byte(ti))
	key = appendField(key, r.ID)
	key = appendField(key, r.Project)
	key = appendField(key, r.Owner)
	key = r.Label.AppendKey(key)
	if e, ok := s.resources.get(key); ok {
		return e
	}
	// Many objects share a label: reuse its compartment and agreement sets.
	var lbuf [256]byte
	lkey := r.Label.AppendKey(lbuf[:0])
	sets, ok := s.labelSets.get(lkey)
	if !ok {
		sets = labelSets(r.Label)
		s.labelSets.put(lkey, sets)
	}
	comps, _ := sets.Attributes.Get("compartments")
	agrs, _ := sets.Attributes.Get("agreements")
	e := cedar.Entity{
		UID: cedar.NewEntityUID(cedar.EntityType(resourceTypes[ti].cedar), cedar.String(r.ID)),
		Attributes: cedar.NewRecord(cedar.RecordMap{
			"id":           cedar.String(r.ID),
			"level":        cedar.String(r.Label.Level().String()),
			"compartments": comps,
			"agreements":   agrs,
			"project":      cedar.String(r.Project),
			"owner":        cedar.String(r.Owner),
		}),
	}
	s.resources.put(key, e)
	return e
}

// labelSets carries a label's Cedar sets in a pseudo-entity (its own
// memo, keyed by the label alone).
func labelSets(l label.Label) cedar.Entity {
	return cedar.Entity{Attributes: cedar.NewRecord(cedar.RecordMap{
		"compartments": stringSet(l.Compartments()),
		"agreements":   stringSet(l.Agreements()),
	})}
}

func resourceEntity(ti int, r Resource) cedar.Entity {
	return cedar.Entity{
		UID: cedar.NewEntityUID(cedar.EntityType(resourceTypes[ti].cedar), cedar.String(r.ID)),
		Attributes: cedar.NewRecord(cedar.RecordMap{
			"id":           cedar.String(r.ID),
			"level":        cedar.String(r.Label.Level().String()),
			"compartments": stringSet(r.Label.Compartments()),
			"agreements":   stringSet(r.Label.Agreements()),
			"project":      cedar.String(r.Project),
			"owner":        cedar.String(r.Owner),
		}),
	}
}

func stringSet(ss []string) cedar.Set {
	vs := make([]cedar.Value, len(ss))
	for i, s := range ss {
		vs[i] = cedar.String(s)
	}
	return cedar.NewSet(vs...)
}
