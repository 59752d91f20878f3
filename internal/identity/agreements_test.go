package identity_test

import (
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestAgreementsDriveDecisions checks, end to end through the store, that
// an agreement grants access only while in force and while the principal's
// organisation is a party, and that ending or expiry revokes it at the
// very next decision.
func TestAgreementsDriveDecisions(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		clk := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
		s := identity.New(db, identity.WithClock(clk.Now))
		s.Bootstrap(ctx, "admin")
		admin, _ := s.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
		acme, _ := s.CreateOrg(ctx, genesis.Organization{Name: "acme", Country: "USA", Kind: "company"})
		s.CreateOrg(ctx, genesis.Organization{Name: "ornl", Country: "USA", Kind: "laboratory"})
		other, _ := s.CreateOrg(ctx, genesis.Organization{Name: "other", Country: "USA"})

		a, err := s.CreateAgreement(ctx, admin, identity.Agreement{
			ID: "crada-0042", Type: authz.CRADA, Title: "Fusion materials", Parties: []genesis.OrgID{"acme", "ornl", "acme"},
			NotBefore: clk.Now().Add(-time.Hour), NotAfter: clk.Now().Add(time.Hour), Compartments: []string{"fusion"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != "CRADA-0042" || len(a.Parties) != 2 || !a.InForce || a.Compartments[0] != "FUSION" {
			t.Errorf("agreement = %+v", a)
		}
		for _, bad := range []identity.Agreement{
			{ID: "bad id!", Type: authz.NDA, Parties: []genesis.OrgID{"acme"}, NotBefore: clk.Now(), NotAfter: clk.Now().Add(time.Hour)},
			{ID: "NDA-1", Type: "handshake", Parties: []genesis.OrgID{"acme"}, NotBefore: clk.Now(), NotAfter: clk.Now().Add(time.Hour)},
			{ID: "NDA-2", Type: authz.NDA, NotBefore: clk.Now(), NotAfter: clk.Now().Add(time.Hour)},
			{ID: "NDA-3", Type: authz.NDA, Parties: []genesis.OrgID{"acme"}, NotBefore: clk.Now(), NotAfter: clk.Now()},
			{ID: "NDA-4", Type: authz.NDA, Parties: []genesis.OrgID{"ghost"}, NotBefore: clk.Now(), NotAfter: clk.Now().Add(time.Hour)},
		} {
			if _, err := s.CreateAgreement(ctx, admin, bad); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) == "" {
				t.Errorf("CreateAgreement(%+v) = %v", bad, err)
			}
		}
		if _, err := s.CreateAgreement(ctx, admin, identity.Agreement{ID: "NDA-4", Type: authz.NDA, Parties: []genesis.OrgID{"ghost"}, NotBefore: clk.Now(), NotAfter: clk.Now().Add(time.Hour)}); err == nil {
			t.Error("failed agreement was half-written")
		}

		alice, err := s.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Org: acme.ID, Clearance: "proprietary//fusion", Roles: []genesis.Role{genesis.RoleViewer}})
		if err != nil {
			t.Fatal(err)
		}
		if alice.Clearance != "PROPRIETARY//FUSION" {
			t.Errorf("clearance stored as %q", alice.Clearance)
		}
		eve, _ := s.CreatePrincipal(ctx, genesis.Principal{Name: "eve", Org: other.ID, Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleViewer}})
		if _, err := s.CreatePrincipal(ctx, genesis.Principal{Name: "mallory", Clearance: "PROPRIETARY//AGR:CRADA-0042"}); errors.FieldOf(err) != "clearance" {
			t.Errorf("clearance naming an agreement: %v", err)
		}

		az, err := authz.New(s, clk.Now)
		if err != nil {
			t.Fatal(err)
		}
		data := authz.Resource{Type: authz.Dataset, ID: "ds1", Label: label.MustParse("PROPRIETARY//FUSION//AGR:CRADA-0042")}
		can := func(p *genesis.Principal) error {
			ap, err := s.AuthzPrincipal(ctx, p)
			if err != nil {
				return err
			}
			return az.Can(ctx, ap, authz.Read, data)
		}
		if err := can(alice); err != nil {
			t.Fatalf("party member in force: %v", err)
		}
		if err := can(eve); !errors.Is(errors.NotExist, err) {
			t.Errorf("non-party: %v, want NotExist", err)
		}
		clk.Add(2 * time.Hour) // expired
		if err := can(alice); !errors.Is(errors.NotExist, err) {
			t.Errorf("after expiry: %v, want NotExist", err)
		}

		// A second agreement, ended explicitly.
		s.CreateAgreement(ctx, admin, identity.Agreement{ID: "DUA-7", Type: authz.DataUse, Parties: []genesis.OrgID{"acme"},
			NotBefore: clk.Now().Add(-time.Minute), NotAfter: clk.Now().Add(24 * time.Hour)})
		data.Label = label.MustParse("PROPRIETARY//AGR:DUA-7")
		if err := can(alice); err != nil {
			t.Fatalf("in force: %v", err)
		}
		if _, err := s.EndAgreement(ctx, alice, "DUA-7"); !errors.Is(errors.Permission, err) {
			t.Errorf("party ends agreement: %v", err)
		}
		if _, err := s.EndAgreement(ctx, eve, "DUA-7"); !errors.Is(errors.NotExist, err) {
			t.Errorf("outsider ends agreement: %v", err)
		}
		ended, err := s.EndAgreement(ctx, admin, "dua-7")
		if err != nil || ended.InForce || ended.EndedAt == nil {
			t.Fatalf("end: %+v %v", ended, err)
		}
		if err := can(alice); !errors.Is(errors.NotExist, err) {
			t.Errorf("after end: %v", err)
		}

		// Visibility of the records themselves.
		if as, _ := s.Agreements(ctx, eve); len(as) != 0 {
			t.Errorf("eve sees %v", as)
		}
		if as, _ := s.Agreements(ctx, alice); len(as) != 2 {
			t.Errorf("alice sees %d agreements, want 2", len(as))
		}
		if _, err := s.Agreement(ctx, eve, "CRADA-0042"); !errors.Is(errors.NotExist, err) {
			t.Errorf("eve reads CRADA: %v", err)
		}

		// Clearance changes apply at once.
		if _, err := s.SetClearance(ctx, "alice", "OPEN"); err != nil {
			t.Fatal(err)
		}
		alice, _ = s.Principal(ctx, admin, "alice")
		data.Label = label.MustParse("PROPRIETARY")
		if err := can(alice); !errors.Is(errors.NotExist, err) {
			t.Errorf("after lowering clearance: %v", err)
		}
	})
}
