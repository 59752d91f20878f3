package authz

import (
	"context"
	"fmt"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/yamlsafe"
)

// Cases is a policy test document (YAML): named principals, resources and
// agreements, and the decisions expected for requests over them. It is the
// format of testdata/cases.yaml and of `genesis admin policy test`.
type Cases struct {
	Now        time.Time                `yaml:"now"`
	Agreements []CaseAgreement          `yaml:"agreements"`
	Principals map[string]CasePrincipal `yaml:"principals"`
	Resources  map[string]CaseResource  `yaml:"resources"`
	Cases      []Case                   `yaml:"cases"`
}

// CaseAgreement is an Agreement in a Cases document.
type CaseAgreement struct {
	ID           string    `yaml:"id"`
	Type         string    `yaml:"type"`
	Parties      []string  `yaml:"parties"`
	NotBefore    time.Time `yaml:"not_before"`
	NotAfter     time.Time `yaml:"not_after"`
	Compartments []string  `yaml:"compartments"`
	Ended        bool      `yaml:"ended"`
}

// CasePrincipal is a Principal in a Cases document.
type CasePrincipal struct {
	Kind         string              `yaml:"kind"`
	Org          string              `yaml:"org"`
	Roles        []string            `yaml:"roles"`
	ProjectRoles map[string][]string `yaml:"project_roles"`
	Clearance    struct {
		Level        string   `yaml:"level"`
		Compartments []string `yaml:"compartments"`
		Nationality  string   `yaml:"nationality"`
	} `yaml:"clearance"`
}

// CaseResource is a Resource in a Cases document; Label is a marking.
type CaseResource struct {
	Type    string `yaml:"type"`
	Label   string `yaml:"label"`
	Project string `yaml:"project"`
	Owner   string `yaml:"owner"`
}

// Case is one request and its expected outcome: allow, not-exist,
// permission, or deny (either of the last two).
type Case struct {
	Name      string    `yaml:"name"`
	Principal string    `yaml:"principal"`
	Action    string    `yaml:"action"`
	Resource  string    `yaml:"resource"`
	Now       time.Time `yaml:"now"` // overrides the document's now
	Expect    string    `yaml:"expect"`
}

// CaseResult is the outcome of one Case.
type CaseResult struct {
	Case Case
	Got  string // allow, not-exist, permission, or error:<kind>
	OK   bool
}

// ParseCases reads a YAML Cases document, strictly (unknown fields are errors).
func ParseCases(doc []byte) (*Cases, error) {
	const op errors.Op = "authz.ParseCases"
	// yamlsafe: the decoder panics on some inputs ("cases: !x 0") and
	// expands aliases without bound.
	if msg := yamlsafe.Check(doc); msg != "" {
		return nil, errors.E(op, errors.Invalid, errors.Msg("cases do not parse: "+msg))
	}
	var c Cases
	if err := yamlsafe.Decode(doc, &c, yaml.Strict()); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("cases do not parse: "+err.Error()), err)
	}
	return &c, nil
}

// Run evaluates every case against pol and returns the results in order.
// An error means the document itself is inconsistent (an unknown name, a
// bad marking, an unknown expectation).
func (c *Cases) Run(ctx context.Context, pol *Policy) ([]CaseResult, error) {
	const op errors.Op = "authz.Cases.Run"
	fail := func(format string, args ...any) error {
		msg := fmt.Sprintf(format, args...)
		return errors.E(op, errors.Invalid, errors.Msg(msg))
	}
	facts := StaticFacts{}
	for _, a := range c.Agreements {
		ag := Agreement{ID: a.ID, Type: AgreementType(a.Type), Parties: a.Parties, NotBefore: a.NotBefore,
			NotAfter: a.NotAfter, Compartments: a.Compartments, Ended: a.Ended}
		for _, p := range a.Parties {
			facts[p] = append(facts[p], ag)
		}
	}
	principals := map[string]Principal{}
	for name, cp := range c.Principals {
		lv, err := label.ParseLevel(cp.Clearance.Level)
		if cp.Clearance.Level == "" {
			lv, err = label.Open, nil
		}
		if err != nil {
			return nil, fail("principal %s: %v", name, err)
		}
		cl, err := label.NewClearance(lv, cp.Clearance.Compartments, cp.Clearance.Nationality)
		if err != nil {
			return nil, fail("principal %s: %v", name, err)
		}
		p := Principal{ID: name, Kind: PrincipalKind(cp.Kind), Org: cp.Org, Clearance: cl}
		if p.Kind == "" {
			p.Kind = User
		}
		for _, r := range cp.Roles {
			p.Roles = append(p.Roles, Role(r))
		}
		for proj, rs := range cp.ProjectRoles {
			if p.ProjectRoles == nil {
				p.ProjectRoles = map[string][]Role{}
			}
			for _, r := range rs {
				p.ProjectRoles[proj] = append(p.ProjectRoles[proj], Role(r))
			}
		}
		principals[name] = p
	}
	resources := map[string]Resource{}
	for name, cr := range c.Resources {
		l, err := label.Parse(cr.Label)
		if cr.Label == "" {
			l, err = label.Label{}, nil
		}
		if err != nil {
			return nil, fail("resource %s: %v", name, err)
		}
		resources[name] = Resource{Type: ResourceType(cr.Type), ID: name, Label: l, Project: cr.Project, Owner: cr.Owner}
	}
	var out []CaseResult
	for i, k := range c.Cases {
		p, ok := principals[k.Principal]
		if !ok {
			return nil, fail("case %d: unknown principal %q", i, k.Principal)
		}
		r, ok := resources[k.Resource]
		if !ok {
			return nil, fail("case %d: unknown resource %q", i, k.Resource)
		}
		switch k.Expect {
		case "allow", "not-exist", "permission", "deny":
		default:
			return nil, fail("case %d: expect must be allow, not-exist, permission or deny, not %q", i, k.Expect)
		}
		now := c.Now
		if !k.Now.IsZero() {
			now = k.Now
		}
		a := &Authorizer{facts: facts, now: func() time.Time { return now }}
		a.policy.Store(pol)
		got := outcome(a.Can(ctx, p, Action(k.Action), r))
		ok = got == k.Expect || k.Expect == "deny" && (got == "not-exist" || got == "permission")
		out = append(out, CaseResult{Case: k, Got: got, OK: ok})
	}
	return out, nil
}

// outcome names a Can result as Cases spell it.
func outcome(err error) string {
	switch {
	case err == nil:
		return "allow"
	case errors.Is(errors.NotExist, err):
		return "not-exist"
	case errors.Is(errors.Permission, err):
		return "permission"
	}
	return "error:" + errors.KindOf(err).String()
}
