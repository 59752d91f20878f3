package authz

import (
	_ "embed"
	"fmt"
	"iter"
	"strings"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/ast"
	xast "github.com/cedar-policy/cedar-go/x/exp/ast"
	"github.com/cedar-policy/cedar-go/x/exp/schema"
	"github.com/cedar-policy/cedar-go/x/exp/schema/validate"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

//go:embed default.cedar
var defaultPolicy []byte

//go:embed schema.cedarschema
var schemaSource []byte

// DefaultPolicy returns the source of the built-in policy (default.cedar).
func DefaultPolicy() []byte { return append([]byte(nil), defaultPolicy...) }

// Schema returns the Cedar schema policies are validated against.
func Schema() []byte { return append([]byte(nil), schemaSource...) }

// MaxPolicySize bounds a policy document.
const MaxPolicySize = 1 << 20

// validator is built once from the embedded schema.
var validator = func() *validate.Validator {
	var s schema.Schema
	s.SetFilename("schema.cedarschema")
	if err := s.UnmarshalCedar(schemaSource); err != nil {
		panic("authz: embedded schema: " + err.Error())
	}
	r, err := s.Resolve()
	if err != nil {
		panic("authz: embedded schema: " + err.Error())
	}
	return validate.New(r)
}()

// Policy is a parsed, schema-validated Cedar policy document, indexed so
// that a decision evaluates only the statements whose scope can match its
// action and resource type. A Policy is immutable and safe for concurrent use.
type Policy struct {
	source []byte
	all    []entry
	// slices[action][resource type] lists the statements to evaluate.
	slices [][]policySlice
}

type entry struct {
	id cedar.PolicyID
	p  *cedar.Policy
}

// policySlice is a cedar.PolicyIterator over a fixed list.
type policySlice []entry

func (s policySlice) All() iter.Seq2[cedar.PolicyID, *cedar.Policy] {
	return func(yield func(cedar.PolicyID, *cedar.Policy) bool) {
		for _, e := range s {
			if !yield(e.id, e.p) {
				return
			}
		}
	}
}

// Source returns the policy document.
func (p *Policy) Source() []byte { return append([]byte(nil), p.source...) }

// Len returns the number of statements.
func (p *Policy) Len() int { return len(p.all) }

// ParsePolicy parses src (Cedar policy language), validates every statement
// against the Genesis schema, and checks that the policy does not lock
// administrators out of replacing it. Statement IDs come from @id("...")
// annotations, which must be unique, or are policy0, policy1, …
func ParsePolicy(src []byte) (*Policy, error) {
	const op errors.Op = "authz.ParsePolicy"
	// The Cedar parser recurses without bound: a source too deep for it
	// must never reach it (see CheckPolicyShape).
	if err := CheckPolicyShape(src); err != nil {
		return nil, errors.E(op, err)
	}
	list, err := cedar.NewPolicyListFromBytes("policy.cedar", src)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("policy"), errors.Msg("policy does not parse: "+err.Error()), err)
	}
	if len(list) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Field("policy"), errors.Msg("policy has no statements"))
	}
	pol := &Policy{source: append([]byte(nil), src...)}
	seen := map[cedar.PolicyID]bool{}
	var problems []string
	for i, p := range list {
		id := cedar.PolicyID(fmt.Sprintf("policy%d", i))
		if v, ok := p.Annotations()["id"]; ok {
			id = cedar.PolicyID(v)
		}
		if seen[id] {
			problems = append(problems, fmt.Sprintf("duplicate policy id %q", id))
		}
		seen[id] = true
		if err := validator.Policy(string(id), (*xast.Policy)(p.AST())); err != nil {
			problems = append(problems, err.Error())
		}
		pol.all = append(pol.all, entry{id, p})
	}
	if len(problems) > 0 {
		msg := "policy does not validate against the schema: " + strings.Join(problems, "; ")
		return nil, errors.E(op, errors.Invalid, errors.Field("policy"), errors.Msg(msg))
	}
	pol.index()
	if err := pol.lockoutCheck(); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("policy"), errors.Msg(err.Error()))
	}
	return pol, nil
}

// index builds the per-(action, resource type) slices. It narrows only on
// what the scope proves (action ==, action in [...], resource is T,
// resource == T::"id"); anything else is kept in every slice, which is
// always correct because Cedar still evaluates the full scope.
func (p *Policy) index() {
	p.slices = make([][]policySlice, len(Actions))
	for ai := range Actions {
		p.slices[ai] = make([]policySlice, len(resourceTypes))
	}
	for _, e := range p.all {
		a := (*xast.Policy)(e.p.AST())
		acts := actionsInScope(a.Action)
		types := typesInScope(a.Resource)
		fast := entry{e.id, prescoped(a)}
		for ai := range Actions {
			if !acts[ai] {
				continue
			}
			for ti := range resourceTypes {
				if types[ti] {
					p.slices[ai][ti] = append(p.slices[ai][ti], fast)
				}
			}
		}
	}
}

// prescoped returns the statement with the scope parts that slicing has
// already decided replaced by "all": an action == / in [...] scope (the
// statement sits only in slices of its actions; Genesis has no action
// groups, so "in" is membership) and a resource "is T" scope (it sits only
// in T's slices). Cedar then skips re-checking them; "action in [...]" is
// the costly one.
func prescoped(a *xast.Policy) *cedar.Policy {
	cp := *a
	switch s := a.Action.(type) {
	case xast.ScopeTypeEq:
		if Action(s.Entity.ID).index() >= 0 && s.Entity.Type == "Action" {
			cp.Action = xast.ScopeTypeAll{}
		}
	case xast.ScopeTypeInSet:
		ok := true
		for _, e := range s.Entities {
			ok = ok && e.Type == "Action" && Action(e.ID).index() >= 0
		}
		if ok {
			cp.Action = xast.ScopeTypeAll{}
		}
	}
	if s, ok := a.Resource.(xast.ScopeTypeIs); ok {
		for _, r := range resourceTypes {
			if cedar.EntityType(r.cedar) == s.Type {
				cp.Resource = xast.ScopeTypeAll{}
			}
		}
	}
	return cedar.NewPolicyFromAST((*ast.Policy)(&cp))
}

func actionsInScope(s xast.IsActionScopeNode) []bool {
	out := make([]bool, len(Actions))
	mark := func(uid cedar.EntityUID) {
		if uid.Type == "Action" {
			if i := Action(uid.ID).index(); i >= 0 {
				out[i] = true
			}
		}
	}
	switch s := s.(type) {
	case xast.ScopeTypeEq:
		mark(s.Entity)
	case xast.ScopeTypeInSet:
		for _, e := range s.Entities {
			mark(e)
		}
	default: // all, or in an action group
		for i := range out {
			out[i] = true
		}
	}
	return out
}

func typesInScope(s xast.IsResourceScopeNode) []bool {
	out := make([]bool, len(resourceTypes))
	only := func(t cedar.EntityType) {
		for i, r := range resourceTypes {
			if cedar.EntityType(r.cedar) == t {
				out[i] = true
				return
			}
		}
		// Unknown type: matches none of ours.
	}
	switch s := s.(type) {
	case xast.ScopeTypeIs:
		only(s.Type)
	case xast.ScopeTypeIsIn:
		only(s.Type)
	case xast.ScopeTypeEq:
		only(s.Entity.Type)
	default:
		for i := range out {
			out[i] = true
		}
	}
	return out
}

// lockoutCheck refuses a policy under which a fully cleared administrator
// could no longer read and replace the policy.
func (p *Policy) lockoutCheck() error {
	c, err := label.NewClearance(label.MaxLevel, nil, "USA")
	if err != nil {
		return err
	}
	admin := Principal{ID: "lockout-check", Kind: User, Roles: []Role{Admin}, Clearance: c}
	res := Resource{Type: PolicyResource, ID: "active"}
	for _, act := range []Action{Read, Administer} {
		s := subject{p: admin, clearance: c}
		if err := p.decide(&s, act, res); err != nil {
			return fmt.Errorf("policy would stop administrators from %s on the policy itself", act)
		}
	}
	return nil
}
