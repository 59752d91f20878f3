package identity_test

import (
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestClearanceRefusals: an empty clearance is refused (never OPEN by
// omission), and a clearance may name only known compartments, never on
// OPEN; a compartment becomes known when an agreement grants it or an
// administrator registers it.
func TestClearanceRefusals(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		clk := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
		s := identity.New(db, identity.WithClock(clk.Now))
		s.Bootstrap(ctx, "admin")
		admin, _ := s.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
		s.CreateOrg(ctx, genesis.Organization{Name: "acme", Country: "USA", Kind: "company"})

		refused := func(what string, err error, field, want string) {
			t.Helper()
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != field || !strings.Contains(errors.SafeMessage(err), want) {
				t.Errorf("%s: %v; want Invalid on %s saying %q", what, err, field, want)
			}
		}
		for _, c := range []struct{ clearance, want string }{
			{"", "a clearance marking is required"},
			{"   ", "a clearance marking is required"},
			{"OPEN//FUSION", `PROPRIETARY or higher; did you mean "PROPRIETARY//FUSION"?`},
			{"PROPRIETARY//FUSION", "unknown compartment"},
			{"PROPRIETARY/FUSION", `did you mean "PROPRIETARY//FUSION"?`},
		} {
			_, err := s.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: c.clearance})
			refused("create "+c.clearance, err, "clearance", c.want)
			_, err = s.SetClearance(ctx, "admin", c.clearance)
			refused("set "+c.clearance, err, "clearance", c.want)
		}
		if _, err := s.CreateAgreement(ctx, admin, identity.Agreement{ID: "CRADA-1", Type: authz.CRADA, Parties: []genesis.OrgID{"acme"},
			NotBefore: clk.Now(), NotAfter: clk.Now().Add(time.Hour), Compartments: []string{"fusion"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "PROPRIETARY//FUSION"}); err != nil {
			t.Fatalf("a compartment an agreement grants: %v", err)
		}
		_, err := s.SetClearance(ctx, "alice", "NATIONAL-SECURITY//FUSON")
		refused("typo", err, "clearance", `did you mean "NATIONAL-SECURITY//FUSION"?`)
		_, err = s.SetClearance(ctx, "alice", "NATIONAL-SECURITY//ITAR")
		refused("unregistered", err, "clearance", "unknown compartment")
		if _, err := s.RegisterCompartment(ctx, admin, " itar "); err != nil {
			t.Fatal(err)
		}
		if p, err := s.SetClearance(ctx, "alice", "NATIONAL-SECURITY//ITAR/FUSION"); err != nil || p.Clearance != "NATIONAL-SECURITY//FUSION/ITAR" {
			t.Fatalf("registered: %+v, %v", p, err)
		}
		if got, _ := s.Compartments(ctx); strings.Join(got, ",") != "FUSION,ITAR" {
			t.Errorf("Compartments = %v", got)
		}
		_, err = s.RegisterCompartment(ctx, admin, "FU SION")
		refused("register", err, "name", "compartment")
	})
}

// TestTextRefusals: free text and names that would reach someone's terminal
// are refused at the service, naming the field.
func TestTextRefusals(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		s := identity.New(db)
		s.Bootstrap(ctx, "admin")
		admin, _ := s.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
		check := func(what string, err error, field string) {
			t.Helper()
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != field || !strings.HasPrefix(errors.SafeMessage(err), field+": ") {
				t.Errorf("%s: %v; want Invalid naming %s", what, err, field)
			}
		}
		_, err := s.CreateOrg(ctx, genesis.Organization{Name: "acme", Country: "USA", DisplayName: "ACME\x1b[2J"})
		check("org display name", err, "display_name")
		_, err = s.CreateOrg(ctx, genesis.Organization{Name: "ac\x00me", Country: "USA"})
		check("org name", err, "name")
		_, err = s.CreatePrincipal(ctx, genesis.Principal{Name: "bob", Clearance: "OPEN", DisplayName: "Bob\u202egnp.exe"})
		check("principal display name", err, "display_name")
		_, err = s.CreateProject(ctx, admin, genesis.Project{Name: "p", Title: "t\nx"})
		check("project title", err, "title")
		_, err = s.CreateProject(ctx, admin, genesis.Project{Name: "p", Description: "ok\x07"})
		check("project description", err, "description")
		_, _, err = s.CreateToken(ctx, admin.ID, "laptop\x1b]0;pwned\x07", 0)
		check("token name", err, "name")
		// What people write passes.
		if _, err := s.CreateProject(ctx, admin, genesis.Project{Name: "p", Title: "Études du plasma — 核融合 🚀", Description: "line one\n\tline two\r\n"}); err != nil {
			t.Fatal(err)
		}
	})
}
