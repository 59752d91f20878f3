package identity_test

import (
	"slices"
	"strconv"
	"testing"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestUpdatePrincipal changes an existing principal's organisation and
// roles (the README tour makes its classification officers so), refuses
// unknown roles and organisations naming the field, and never removes the
// last administrator.
func TestUpdatePrincipal(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		s := identity.New(db)
		if _, err := s.Bootstrap(ctx, "admin"); err != nil {
			t.Fatal(err)
		}
		org, err := s.CreateOrg(ctx, genesis.Organization{Name: "ornl", Country: "USA", Kind: "laboratory"})
		if err != nil {
			t.Fatal(err)
		}
		alice, err := s.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleContributor}})
		if err != nil {
			t.Fatal(err)
		}
		orgRef := genesis.OrgID("ornl")
		roles := []genesis.Role{genesis.RoleClassificationOfficer, genesis.RoleContributor, genesis.RoleContributor}
		p, err := s.UpdatePrincipal(ctx, "alice", identity.PrincipalUpdate{Org: &orgRef, Roles: &roles})
		if err != nil {
			t.Fatal(err)
		}
		want := []genesis.Role{genesis.RoleClassificationOfficer, genesis.RoleContributor}
		if p.Org != org.ID || !slices.Equal(p.Roles, want) {
			t.Errorf("updated = org %q roles %v, want %q %v", p.Org, p.Roles, org.ID, want)
		}
		admin := &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}
		got, err := s.Principal(ctx, admin, string(alice.ID))
		if err != nil || got.Org != org.ID || !slices.Equal(got.Roles, want) || got.Clearance != alice.Clearance {
			t.Errorf("stored = %+v, %v", got, err)
		}
		// Nil fields are left alone; an empty organisation clears it.
		none := genesis.OrgID("")
		if p, err := s.UpdatePrincipal(ctx, "alice", identity.PrincipalUpdate{Org: &none}); err != nil || p.Org != "" || !slices.Equal(p.Roles, want) {
			t.Errorf("clear org = %+v, %v", p, err)
		}

		bad := []genesis.Role{"wizard"}
		nowhere := genesis.OrgID("nowhere")
		noAdmin := []genesis.Role{genesis.RoleViewer}
		for _, c := range []struct {
			who, field string
			u          identity.PrincipalUpdate
		}{
			{"alice", "roles", identity.PrincipalUpdate{Roles: &bad}},
			{"alice", "org", identity.PrincipalUpdate{Org: &nowhere}},
			{"admin", "roles", identity.PrincipalUpdate{Roles: &noAdmin}}, // the last administrator
		} {
			_, err := s.UpdatePrincipal(ctx, c.who, c.u)
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field {
				t.Errorf("update %s %+v = %v, want Invalid on %s", c.who, c.u, err, c.field)
			}
		}
		if _, err := s.UpdatePrincipal(ctx, "nobody", identity.PrincipalUpdate{Roles: &want}); !errors.Is(errors.NotExist, err) {
			t.Errorf("update of a missing principal = %v", err)
		}
		// With a second administrator, the first may step down.
		two := []genesis.Role{genesis.RoleAdmin}
		if _, err := s.UpdatePrincipal(ctx, "alice", identity.PrincipalUpdate{Roles: &two}); err != nil {
			t.Fatal(err)
		}
		if p, err := s.UpdatePrincipal(ctx, "admin", identity.PrincipalUpdate{Roles: &noAdmin}); err != nil || p.IsAdmin() {
			t.Errorf("admin steps down = %+v, %v", p, err)
		}
	})
}

// TestOrgKinds: allied-government is a kind, national-lab is read as
// laboratory, anything else is refused naming the field.
func TestOrgKinds(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		s := identity.New(db)
		for in, want := range map[string]string{"allied-government": "allied-government", "national-lab": "laboratory", "laboratory": "laboratory", "": "other"} {
			o, err := s.CreateOrg(ctx, genesis.Organization{Name: "org-" + want + "-" + strconv.Itoa(len(in)), Country: "GBR", Kind: in})
			if err != nil || o.Kind != want {
				t.Errorf("kind %q: %v, %v", in, o, err)
			}
		}
		if _, err := s.CreateOrg(ctx, genesis.Organization{Name: "x", Country: "GBR", Kind: "government"}); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "kind" {
			t.Errorf("bad kind: %v", err)
		}
	})
}
