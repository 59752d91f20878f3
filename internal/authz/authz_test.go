package authz

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

func mustClearance(t testing.TB, lv label.Level, comps []string, nat string) label.Clearance {
	t.Helper()
	c, err := label.NewClearance(lv, comps, nat)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func TestExpiryRevokesAtNextDecision(t *testing.T) {
	start := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	clk := &clock{t: start}
	facts := StaticFacts{"acme": {{ID: "CRADA-0042", Type: CRADA, Parties: []string{"acme"},
		NotBefore: start.Add(-time.Hour), NotAfter: start.Add(time.Hour)}}}
	a, err := New(facts, clk.now)
	if err != nil {
		t.Fatal(err)
	}
	p := Principal{ID: "bob", Kind: User, Org: "acme", Roles: []Role{Viewer}, Clearance: mustClearance(t, label.Proprietary, nil, "USA")}
	r := Resource{Type: Dataset, ID: "d", Label: label.MustParse("PROPRIETARY//AGR:CRADA-0042")}
	ctx := context.Background()
	if err := a.Can(ctx, p, Read, r); err != nil {
		t.Fatalf("in force: %v", err)
	}
	clk.set(start.Add(time.Hour)) // NotAfter is exclusive
	if err := a.Can(ctx, p, Read, r); !errors.Is(errors.NotExist, err) {
		t.Fatalf("after expiry: %v, want NotExist", err)
	}
	clk.set(start)
	facts["acme"][0].Ended = true // ended in the store: next decision sees it
	if err := a.Can(ctx, p, Read, r); !errors.Is(errors.NotExist, err) {
		t.Fatalf("after end: %v, want NotExist", err)
	}
}

type failingFacts struct{ err error }

func (f failingFacts) AgreementsOf(context.Context, string) ([]Agreement, error) { return nil, f.err }

func TestFailClosed(t *testing.T) {
	ctx := context.Background()
	now := func() time.Time { return time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC) }
	admin := Principal{ID: "root", Kind: User, Org: "lab", Roles: []Role{Admin}, Clearance: mustClearance(t, label.NationalSecurity, nil, "USA")}
	open := Resource{Type: Dataset, ID: "d", Label: label.Label{}}

	for _, tc := range []struct {
		name  string
		facts Facts
		kind  errors.Kind
	}{
		{"transient facts", failingFacts{errors.E(errors.Transient, "db down")}, errors.Transient},
		{"broken facts", failingFacts{errors.New("boom")}, errors.Internal},
	} {
		a, err := New(tc.facts, now)
		if err != nil {
			t.Fatal(err)
		}
		err = a.Can(ctx, admin, Read, open)
		if err == nil || errors.KindOf(err) != tc.kind {
			t.Errorf("%s: Can = %v, want kind %v", tc.name, err, tc.kind)
		}
		if rs, err := a.Readable(ctx, admin, []Resource{open}); err == nil || rs[0] {
			t.Errorf("%s: Readable = %v, %v", tc.name, rs, err)
		}
	}

	a, _ := New(StaticFacts{}, now)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := a.Can(cctx, admin, Read, open); !errors.Is(errors.Canceled, err) {
		t.Errorf("canceled ctx: %v", err)
	}
	for name, p := range map[string]Principal{
		"no id":        {Kind: User, Roles: []Role{Admin}},
		"bad kind":     {ID: "x", Kind: "robot", Roles: []Role{Admin}},
		"unknown role": {ID: "x", Kind: User, Roles: []Role{Admin, "root"}},
		"unknown project role": {ID: "x", Kind: User, Roles: []Role{Admin},
			ProjectRoles: map[string][]Role{"p": {"owner"}}},
	} {
		if err := a.Can(ctx, p, Read, open); !errors.Is(errors.NotExist, err) {
			t.Errorf("%s: %v, want NotExist", name, err)
		}
	}
	for name, r := range map[string]Resource{
		"no id":        {Type: Dataset},
		"unknown type": {Type: "spaceship", ID: "x"},
	} {
		if err := a.Can(ctx, admin, Read, r); !errors.Is(errors.NotExist, err) {
			t.Errorf("%s: %v, want NotExist", name, err)
		}
	}
	if err := a.Can(ctx, admin, "fly", open); !errors.Is(errors.NotExist, err) {
		t.Errorf("unknown action: %v", err)
	}
	if _, err := New(nil, now); err == nil {
		t.Error("New(nil facts) succeeded")
	}
}

// A forbid whose condition errors at run time must still deny (Cedar alone
// would skip it and allow).
func TestEvaluationErrorDenies(t *testing.T) {
	src := string(DefaultPolicy()) + `
@id("overflow")
forbid (principal, action, resource is Dataset)
when { 9223372036854775807 + 1 == 0 };
`
	pol, err := ParsePolicy([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := New(StaticFacts{}, time.Now)
	if err := a.SetPolicy(pol); err != nil {
		t.Fatal(err)
	}
	admin := Principal{ID: "root", Kind: User, Roles: []Role{Admin}, Clearance: mustClearance(t, label.NationalSecurity, nil, "USA")}
	ctx := context.Background()
	if err := a.Can(ctx, admin, Read, Resource{Type: Dataset, ID: "d"}); !errors.Is(errors.NotExist, err) {
		t.Errorf("erroring forbid: %v, want NotExist", err)
	}
	if err := a.Can(ctx, admin, Read, Resource{Type: Model, ID: "m"}); err != nil {
		t.Errorf("unaffected type: %v", err)
	}
}

func TestParsePolicyRejects(t *testing.T) {
	def := string(DefaultPolicy())
	for name, src := range map[string]string{
		"empty":         "",
		"comment only":  "// nothing\n",
		"syntax":        "permit (principal, action, resource",
		"unknown attr":  def + `permit (principal, action, resource) when { resource.colour == "red" };`,
		"unknown type":  def + `permit (principal, action, resource is Spaceship);`,
		"unknown act":   def + `permit (principal, action == Action::"fly", resource);`,
		"type error":    def + `permit (principal, action, resource) when { resource.level > 1 };`,
		"duplicate id":  def + `@id("read-open") permit (principal, action, resource);`,
		"lockout":       def + `forbid (principal, action, resource is Policy);`,
		"lockout read":  def + `forbid (principal, action == Action::"read", resource) when { principal.roles.contains("admin") };`,
		"too large":     def + strings.Repeat("//", MaxPolicySize),
		"no admin path": `permit (principal, action == Action::"read", resource is Dataset);`,
	} {
		if _, err := ParsePolicy([]byte(src)); err == nil {
			t.Errorf("%s: accepted", name)
		} else if k := errors.KindOf(err); k != errors.Invalid && k != errors.TooLarge {
			t.Errorf("%s: kind %v: %v", name, k, err)
		}
	}
}

func TestSetPolicySourceIsAtomic(t *testing.T) {
	a, _ := New(StaticFacts{}, time.Now)
	before := a.Policy()
	if err := a.SetPolicySource([]byte("permit (principal, action, resource) when { nope };")); err == nil {
		t.Fatal("bad policy accepted")
	}
	if a.Policy() != before {
		t.Fatal("failed replacement changed the active policy")
	}
	// A valid replacement takes effect at the next decision.
	viewer := Principal{ID: "v", Kind: User, Roles: []Role{Viewer}}
	r := Resource{Type: Dataset, ID: "d"}
	ctx := context.Background()
	if err := a.Can(ctx, viewer, Read, r); err != nil {
		t.Fatal(err)
	}
	src := string(DefaultPolicy()) + `@id("no-viewers") forbid (principal, action, resource) when { principal.roles.contains("viewer") };`
	if err := a.SetPolicySource([]byte(src)); err != nil {
		t.Fatal(err)
	}
	if err := a.Can(ctx, viewer, Read, r); !errors.Is(errors.NotExist, err) {
		t.Fatalf("after replacement: %v", err)
	}
	if string(a.Policy().Source()) != src {
		t.Fatal("Source does not return the active document")
	}
	if err := a.SetPolicy(&Policy{}); err == nil {
		t.Fatal("unvalidated policy activated")
	}
}

// Slicing must never change a decision: compare against Cedar over the
// whole policy for random requests and every action.
func TestSlicingPreservesDecisions(t *testing.T) {
	pol := mustDefault(t)
	var full cedar.PolicyMap = map[cedar.PolicyID]*cedar.Policy{}
	for _, e := range pol.all {
		full[e.id] = e.p
	}
	n := 20000
	if testing.Short() {
		n = 2000
	}
	evaluated, total := 0, 0
	for i := range n {
		c := genCase(uint64(i))
		p, r, err := c.engineInputs()
		if err != nil {
			t.Fatal(err)
		}
		ti := r.Type.index()
		if ti < 0 || r.ID == "" || checkPrincipal(p) != nil {
			continue
		}
		s := &subject{p: p, clearance: p.Clearance}
		ents := requestEntities{p: s.principalEntity(r.Project), r: resourceEntity(ti, r)}
		for ai, act := range Actions {
			req := cedar.Request{Principal: ents.p.UID, Action: actionUIDs[ai], Resource: ents.r.UID}
			d, diag := cedar.Authorize(full, ents, req)
			want := d == cedar.Allow && len(diag.Errors) == 0
			if got := pol.allows(ents, act, ti); got != want {
				t.Fatalf("%s on %s: sliced %v, full %v (%v)", act, r.Type, got, want, c)
			}
			evaluated += len(pol.slices[ai][ti])
			total += len(pol.all)
		}
	}
	t.Logf("slicing evaluates %.1f%% of statements on average (%d statements)", 100*float64(evaluated)/float64(total), len(pol.all))
}

func TestReadableMatchesCan(t *testing.T) {
	ctx := context.Background()
	for i := range 300 {
		c := genCase(uint64(i) * 7919)
		p, _, err := c.engineInputs()
		if err != nil {
			t.Fatal(err)
		}
		var rs []Resource
		for j := range 20 {
			_, r, _ := genCase(uint64(i*100 + j)).engineInputs()
			rs = append(rs, r)
		}
		a := &Authorizer{facts: orgFacts(c.Agreements), now: func() time.Time { return c.Now }}
		a.policy.Store(mustDefault(t))
		got, err := a.Readable(ctx, p, rs)
		if err != nil {
			if checkPrincipal(p) == nil {
				t.Fatal(err)
			}
			continue
		}
		for j, r := range rs {
			if want := a.Can(ctx, p, Read, r) == nil; got[j] != want {
				t.Fatalf("Readable[%d] = %v, Can = %v", j, got[j], want)
			}
		}
	}
}

func TestErrorsDoNotNameTheObject(t *testing.T) {
	a, _ := New(StaticFacts{}, time.Now)
	p := Principal{ID: "v", Kind: User, Roles: []Role{Viewer}}
	r := Resource{Type: Dataset, ID: "secret-plans-42", Label: label.MustParse("NATIONAL-SECURITY//FUSION"), Owner: "eve", Project: "manhattan"}
	err := a.Can(context.Background(), p, Read, r)
	if !errors.Is(errors.NotExist, err) {
		t.Fatal(err)
	}
	for _, s := range []string{err.Error(), errors.SafeMessage(err)} {
		for _, leak := range []string{"secret", "FUSION", "NATIONAL", "eve", "manhattan"} {
			if strings.Contains(s, leak) {
				t.Errorf("error %q mentions %q", s, leak)
			}
		}
	}
}

func FuzzParsePolicy(f *testing.F) {
	f.Add(string(DefaultPolicy()))
	f.Add(`permit (principal, action, resource);`)
	f.Add(`forbid (principal is Service, action in [Action::"read"], resource is Dataset) when { resource.level == "OPEN" };`)
	f.Add(`@id("x") permit (principal == User::"a", action, resource in Project::"p") unless { principal.roles.isEmpty() };`)
	f.Add(string(DefaultPolicy()) + `forbid (principal, action, resource) when { 1 + 9223372036854775807 == 0 };`)
	admin := Principal{ID: "root", Kind: User, Roles: []Role{Admin, Viewer}, ProjectRoles: map[string][]Role{"p": {Steward}}}
	f.Fuzz(func(t *testing.T, src string) {
		pol, err := ParsePolicy([]byte(src))
		if err != nil {
			if k := errors.KindOf(err); k != errors.Invalid && k != errors.TooLarge {
				t.Fatalf("error of kind %v: %v", k, err)
			}
			return
		}
		// An accepted policy decides every action on every type without
		// panicking, and keeps administrators able to replace it.
		a := &Authorizer{facts: StaticFacts{}, now: time.Now}
		a.policy.Store(pol)
		for _, rt := range ResourceTypes() {
			for _, act := range Actions {
				_ = a.Can(context.Background(), admin, act, Resource{Type: rt, ID: "x", Project: "p", Owner: "root"})
			}
		}
		if _, err := ParsePolicy(pol.Source()); err != nil {
			t.Fatalf("accepted policy does not re-parse: %v", err)
		}
	})
}

func TestLongIdentifiers(t *testing.T) {
	a, _ := New(StaticFacts{}, time.Now)
	long := strings.Repeat("x", 5000)
	p := Principal{ID: long, Kind: User, Org: long, Roles: []Role{Viewer}, ProjectRoles: map[string][]Role{long: {Steward}}}
	r := Resource{Type: Dataset, ID: long, Project: long, Owner: long,
		Label: label.MustParse("OPEN//" + strings.Repeat("A", 64) + "/" + strings.Repeat("B", 64))}
	ctx := context.Background()
	for range 2 { // second time from the entity memo
		if err := a.Can(ctx, p, Read, r); !errors.Is(errors.NotExist, err) {
			t.Fatalf("read: %v (compartments not held)", err)
		}
	}
	r.Label = label.Label{}
	for range 2 {
		if err := a.Can(ctx, p, Delete, r); err != nil {
			t.Fatalf("steward delete: %v", err)
		}
	}
}

// The entity memo must not let one request's attributes leak into another's.
func TestEntityMemoKeys(t *testing.T) {
	a, _ := New(StaticFacts{}, time.Now)
	ctx := context.Background()
	p := Principal{ID: "ab", Kind: User, Roles: []Role{Viewer}}
	q := Principal{ID: "a", Kind: User, Org: "b", Roles: []Role{Viewer}}
	own := Resource{Type: Dataset, ID: "d", Owner: "ab"}
	if err := a.Can(ctx, p, Write, own); err != nil {
		t.Fatalf("owner write: %v", err)
	}
	if err := a.Can(ctx, q, Write, own); !errors.Is(errors.Permission, err) {
		t.Fatalf("non-owner write after owner: %v", err)
	}
	r1 := Resource{Type: Dataset, ID: "x", Project: "p", Label: label.MustParse("OPEN//ITAR")}
	r2 := Resource{Type: Dataset, ID: "x", Project: "p", Label: label.MustParse("OPEN")}
	gb := Principal{ID: "g", Kind: User, Roles: []Role{Viewer}, Clearance: mustClearance(t, label.Open, []string{"ITAR"}, "GBR")}
	if err := a.Can(ctx, gb, Read, r2); err != nil {
		t.Fatal(err)
	}
	if err := a.Can(ctx, gb, Read, r1); !errors.Is(errors.NotExist, err) {
		t.Fatalf("same id, ITAR label, after cached OPEN: %v", err)
	}
}

func TestMalformedAgreementGrantsNothing(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	win := func(a Agreement) Agreement {
		a.Parties, a.NotBefore, a.NotAfter = []string{"acme"}, now.Add(-time.Hour), now.Add(time.Hour)
		return a
	}
	facts := StaticFacts{"acme": {
		win(Agreement{ID: "bad id!", Compartments: []string{"BIO"}}),
		win(Agreement{ID: "GOOD", Compartments: []string{"bad compartment!", "FUSION"}}),
		win(Agreement{ID: "CRADA-1", Compartments: []string{"QIS"}}),
		{ID: "NOWINDOW", Parties: []string{"acme"}}, // no validity window: never in force
	}}
	a, _ := New(facts, func() time.Time { return now })
	p := Principal{ID: "b", Kind: User, Org: "acme", Roles: []Role{Viewer}, Clearance: mustClearance(t, label.Proprietary, nil, "USA")}
	ctx := context.Background()
	for marking, want := range map[string]bool{
		"PROPRIETARY//QIS//AGR:CRADA-1": true,  // well-formed agreement still counts
		"PROPRIETARY//BIO":              false, // granted only by the malformed one
		"PROPRIETARY//FUSION":           false, // the agreement with a bad grant is skipped whole
		"PROPRIETARY//AGR:GOOD":         false,
		"PROPRIETARY//AGR:NOWINDOW":     false,
	} {
		r := Resource{Type: Dataset, ID: "d", Label: label.MustParse(marking)}
		if got := a.Can(ctx, p, Read, r) == nil; got != want {
			t.Errorf("%s: readable %v, want %v", marking, got, want)
		}
	}
}
