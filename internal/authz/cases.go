package authz

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
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
	rn := newRenamer(pol.Source())
	facts := StaticFacts{}
	for i, a := range c.Agreements {
		id, err := rn.token(label.Agreement, a.ID)
		if err != nil {
			return nil, fail("agreement %d: %v", i, err)
		}
		comps, err := rn.tokens(label.Compartment, a.Compartments)
		if err != nil {
			return nil, fail("agreement %s: %v", a.ID, err)
		}
		ag := Agreement{ID: id, Type: AgreementType(a.Type), Parties: a.Parties, NotBefore: a.NotBefore,
			NotAfter: a.NotAfter, Compartments: comps, Ended: a.Ended}
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
		comps, err := rn.tokens(label.Compartment, cp.Clearance.Compartments)
		if err != nil {
			return nil, fail("principal %s: %v", name, err)
		}
		cl, err := label.NewClearance(lv, comps, cp.Clearance.Nationality)
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
		l, err := rn.label(cr.Label)
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

// Cases are hypothetical: their compartments and agreements need not exist,
// yet label interns every token it parses process-wide, for good. So that a
// steward testing the policy cannot fill label's tables (and lock out
// compartments registered later), Run renames each distinct compartment and
// agreement of a document to a placeholder from a fixed pool before
// parsing, except tokens the process already knows and tokens the policy
// names (as a quoted literal, e.g. "ITAR"). A decision depends only on
// which tokens are equal and on the names the policy mentions, and results
// name no label, so the renaming changes nothing a case can observe; the
// pool bounds what runs under one policy ever intern.
type renamer struct {
	names  map[label.TokenKind]map[string]string
	used   map[label.TokenKind]map[string]bool // names handed out
	policy []byte
	fresh  int // tokens kept that were not interned
}

// maxCaseTokens bounds the distinct compartments (and, separately,
// agreements) of one Cases document.
const maxCaseTokens = 256

func newRenamer(policy []byte) *renamer {
	return &renamer{policy: policy, names: map[label.TokenKind]map[string]string{label.Compartment: {}, label.Agreement: {}},
		used: map[label.TokenKind]map[string]bool{label.Compartment: {}, label.Agreement: {}}}
}

// token returns tok's placeholder (tok is validated, not interned).
func (r *renamer) token(kind label.TokenKind, tok string) (string, error) {
	u := strings.ToUpper(strings.TrimSpace(tok))
	if !label.IsToken(u) {
		return "", fmt.Errorf("%s %q: 1-64 letters, digits, '-', '_' or '.', starting with a letter or digit", kind, tok)
	}
	m := r.names[kind]
	if p, ok := m[u]; ok {
		return p, nil
	}
	used := r.used[kind]
	if keep := label.IsInterned(kind, u); keep || bytes.Contains(r.policy, []byte(strconv.Quote(u))) {
		if used[u] {
			return "", fmt.Errorf("%s %q is a name policy tests use for placeholders; rename it in the cases", kind, tok)
		}
		if !keep {
			if r.fresh++; r.fresh > maxCaseTokens {
				return "", fmt.Errorf("more than %d new compartments and agreements the policy names", maxCaseTokens)
			}
		}
		m[u], used[u] = u, true
		return u, nil
	}
	if len(m) >= maxCaseTokens {
		return "", fmt.Errorf("more than %d distinct %ss", maxCaseTokens, kind)
	}
	for i := 0; ; i++ {
		p := fmt.Sprintf("CASE-%c%d", strings.ToUpper(kind.String())[0], i)
		if !used[p] {
			m[u], used[p] = p, true
			return p, nil
		}
	}
}

func (r *renamer) tokens(kind label.TokenKind, toks []string) ([]string, error) {
	var out []string
	for _, t := range toks {
		p, err := r.token(kind, t)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// label parses a marking with its tokens renamed. It reads the canonical
// marking (label.Canonical interns nothing): LEVEL[//C/…][//AGR:A/…][//REL TO …].
func (r *renamer) label(marking string) (label.Label, error) {
	canon, err := label.Canonical(marking)
	if err != nil {
		return label.Label{}, err
	}
	secs := strings.Split(canon, "//")
	for i := 1; i < len(secs); i++ {
		kind, body, prefix := label.Compartment, secs[i], ""
		switch {
		case strings.HasPrefix(body, "REL TO "):
			continue // nations: at most 26³ codes, bounded by their syntax
		case strings.HasPrefix(body, "AGR:"):
			kind, body, prefix = label.Agreement, body[len("AGR:"):], "AGR:"
		}
		toks, err := r.tokens(kind, strings.Split(body, "/"))
		if err != nil {
			return label.Label{}, err
		}
		secs[i] = prefix + strings.Join(toks, "/")
	}
	return label.Parse(strings.Join(secs, "//"))
}
