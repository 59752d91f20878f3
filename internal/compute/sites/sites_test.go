package sites_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

func TestRegistry(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		id := identity.New(db)
		id.Bootstrap(ctx, "admin")
		admin, _ := id.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
		op, _ := id.CreatePrincipal(ctx, genesis.Principal{Clearance: "OPEN", Name: "opal", Roles: []genesis.Role{genesis.RoleOperator}})
		sci, _ := id.CreatePrincipal(ctx, genesis.Principal{Clearance: "OPEN", Name: "sci", Roles: []genesis.Role{genesis.RoleContributor}})
		az, _ := authz.New(id, time.Now)
		key := make([]byte, 32)
		reg, err := sites.New(db, az, id, key)
		if err != nil {
			t.Fatal(err)
		}
		// An accreditation names only recorded agreements.
		unrecorded := sites.Spec{Name: "early", Kind: sites.KindLocal, Accreditation: "PROPRIETARY//AGR:CRADA-0042",
			Capacity: sites.Capacity{Nodes: 1, CoresPerNode: 1, MemoryGBNode: 1}}
		if _, err := reg.Add(ctx, op, unrecorded); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "accreditation" {
			t.Errorf("site accredited for an unrecorded agreement: %v", err)
		}
		if _, err := id.CreateOrg(ctx, genesis.Organization{Name: "ornl", Country: "USA", Kind: "laboratory"}); err != nil {
			t.Fatal(err)
		}
		if _, err := id.CreateAgreement(ctx, admin, identity.Agreement{ID: "CRADA-0042", Type: authz.CRADA, Parties: []genesis.OrgID{"ornl"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		clock := time.Now()
		sites.SetClock(reg, func() time.Time { return clock })

		spec := sites.Spec{Name: "perlmutter", Kind: sites.KindSlurm, Endpoint: "https://slurm.example.gov", Credentials: "jwt-secret-value",
			Accreditation: "PROPRIETARY//AGR:CRADA-0042", Nationalities: []string{"usa"}, PowerCapKW: 5000, HeartbeatSeconds: 30,
			Capacity: sites.Capacity{Nodes: 100, CoresPerNode: 64, MemoryGBNode: 512, GPUsPerNode: []sites.GPU{{Model: "A100", Count: 4}}, ScratchTB: 1000, BandwidthGbps: 100}}
		if _, err := reg.Add(ctx, sci, spec); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor adds a site: %v", err)
		}
		s, err := reg.Add(ctx, op, spec)
		if err != nil {
			t.Fatal(err)
		}
		if !s.HasCredential || s.Status != sites.Down || s.Accreditation != "PROPRIETARY//AGR:CRADA-0042" {
			t.Errorf("site = %+v", s)
		}
		if got, err := reg.Credentials(ctx, "perlmutter"); err != nil || got != "jwt-secret-value" {
			t.Errorf("credentials = %q, %v", got, err)
		}
		// Encrypted at rest: the secret is not in the stored bytes.
		db.View(ctx, func(tx store.Tx) error {
			var raw []byte
			tx.QueryRow(ctx, `SELECT credentials FROM sites WHERE name = 'perlmutter'`).Scan(&raw)
			if strings.Contains(string(raw), "jwt-secret") || len(raw) == 0 {
				t.Errorf("credentials stored in clear: %q", raw)
			}
			return nil
		})
		// A different key cannot decrypt them.
		other, _ := sites.New(db, az, id, append(make([]byte, 31), 1))
		if _, err := other.Credentials(ctx, "perlmutter"); err == nil {
			t.Error("credentials decrypted with another key")
		}

		bad := []sites.Spec{
			{Name: "x", Kind: "k8s", Accreditation: "OPEN", Capacity: spec.Capacity},
			{Name: "x", Kind: sites.KindSlurm, Endpoint: "ftp://x", Accreditation: "OPEN", Capacity: spec.Capacity},
			{Name: "x", Kind: sites.KindLocal, Accreditation: "SECRET", Capacity: spec.Capacity},
			{Name: "x", Kind: sites.KindLocal, Accreditation: "OPEN"},
			{Name: "x", Kind: sites.KindLocal, Accreditation: "OPEN", Capacity: spec.Capacity, Nationalities: []string{"usa1"}},
		}
		for _, b := range bad {
			if _, err := reg.Add(ctx, op, b); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) == "" {
				t.Errorf("Add(%+v) = %v", b, err)
			}
		}
		if _, err := reg.Add(ctx, op, spec); !errors.Is(errors.Exist, err) {
			t.Errorf("duplicate: %v", err)
		}

		// Heartbeats bring it up; silence brings it down.
		if s, err = reg.Heartbeat(ctx, op, "perlmutter", "", "", 3100); err != nil || s.Status != sites.Up || s.PowerDrawKW != 3100 {
			t.Fatalf("heartbeat = %+v, %v", s, err)
		}
		if _, err := reg.Heartbeat(ctx, sci, "perlmutter", "", "", 1); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor heartbeat: %v", err)
		}
		clock = clock.Add(60 * time.Second)
		if n, _ := reg.MarkMissing(ctx); n != 0 {
			t.Errorf("marked down after two missed heartbeats")
		}
		clock = clock.Add(60 * time.Second)
		if n, _ := reg.MarkMissing(ctx); n != 1 {
			t.Errorf("not marked down after four missed heartbeats")
		}
		s, _ = reg.Get(ctx, sci, "perlmutter")
		if s.Status != sites.Down || s.StatusReason != "missed three heartbeats" {
			t.Errorf("after silence: %+v", s)
		}
		// A drain outlasts heartbeats.
		reg.Heartbeat(ctx, op, "perlmutter", sites.Up, "", 3000)
		if s, _ = reg.Drain(ctx, op, "perlmutter", "maintenance"); s.Status != sites.Draining {
			t.Errorf("drain: %+v", s)
		}
		if s, _ = reg.Heartbeat(ctx, op, "perlmutter", sites.Up, "", 2000); s.Status != sites.Draining || s.StatusReason != "maintenance" {
			t.Errorf("heartbeat undid the drain: %+v", s)
		}

		// Inventory.
		reg.Add(ctx, admin, sites.Spec{Name: "local", Kind: sites.KindLocal, Accreditation: "OPEN", Capacity: sites.Capacity{Nodes: 1, CoresPerNode: 2, MemoryGBNode: 24}})
		inv, err := reg.Inventory(ctx, sci)
		if err != nil {
			t.Fatal(err)
		}
		if inv.Totals.Sites != 2 || inv.Totals.Cores != 100*64+2 || inv.Totals.GPUs["A100"] != 400 || inv.ByLevel["PROPRIETARY"].Nodes != 100 || inv.ByLevel["OPEN"].Cores != 2 {
			t.Errorf("inventory = %+v", inv)
		}
		if err := reg.Remove(ctx, sci, "local"); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor removes: %v", err)
		}
		if err := reg.Remove(ctx, admin, "local"); err != nil {
			t.Fatal(err)
		}
		if _, err := reg.Get(ctx, sci, "local"); !errors.Is(errors.NotExist, err) {
			t.Errorf("removed site: %v", err)
		}
	})
}
