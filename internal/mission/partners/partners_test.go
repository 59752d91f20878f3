package partners_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/mission/partners"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

type world struct {
	az    *authz.Authorizer
	db    store.DB
	id    *identity.Service
	cat   *catalog.Service
	pf    *partners.Service
	admin *genesis.Principal
	now   time.Time
}

func newWorld(t testing.TB, db store.DB) *world {
	w := &world{db: db, now: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}
	clock := func() time.Time { return w.now }
	w.id = identity.New(db, identity.WithClock(clock))
	if _, err := w.id.Bootstrap(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	w.admin, _ = w.id.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	for _, c := range []string{"FUSION", "BIO"} {
		if _, err := w.id.RegisterCompartment(ctx, w.admin, c); err != nil {
			t.Fatal(err)
		}
	}
	az, err := authz.New(w.id, clock)
	if err != nil {
		t.Fatal(err)
	}
	w.az = az
	w.cat = catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: w.id, Now: clock})
	w.pf = partners.New(db, az, w.id, clock)
	return w
}

// put commits one small version of asset name.
func (w *world) put(t testing.TB, p *genesis.Principal, name string, size int) {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7 + len(name))
	}
	id := blob.Sum(data)
	m := &manifest.Manifest{Entries: []manifest.Entry{{Path: "f", Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id,
		Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
	raw, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range [][]byte{data, raw} {
		if err := w.cat.PutChunk(ctx, p, name, blob.Sum(b), b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.cat.Commit(ctx, p, name, catalog.CommitSpec{Manifest: blob.Sum(raw)}); err != nil {
		t.Fatal(err)
	}
}

// TestPortfolioMatchesReference builds random organisations, agreements,
// principals and assets, and checks every viewer's portfolio against a
// reference computed from what the catalog and identity let that viewer
// read, one object at a time.
func TestPortfolioMatchesReference(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
				checkRandom(t, newWorld(t, db), rand.New(rand.NewPCG(seed, 15)), fmt.Sprint("s", seed))
			})
		})
	}
}

type refAsset struct {
	name, kind, owner, label string
	bytes                    int64
}

func checkRandom(t *testing.T, w *world, r *rand.Rand, tag string) {
	kinds := genesis.OrgKinds
	var orgs []*genesis.Organization
	for i := range 2 + r.IntN(3) {
		o, err := w.id.CreateOrg(ctx, genesis.Organization{Name: fmt.Sprintf("%s-org%d", tag, i), Country: "USA", Kind: kinds[r.IntN(len(kinds))]})
		if err != nil {
			t.Fatal(err)
		}
		orgs = append(orgs, o)
	}
	// Agreements with windows around now: expired, in force, expiring, pending.
	var agrs []string
	for i := range 2 + r.IntN(4) {
		start := w.now.Add(time.Duration(r.IntN(400)-300) * 24 * time.Hour)
		end := start.Add(time.Duration(1+r.IntN(400)) * 24 * time.Hour)
		var parties []genesis.OrgID
		for _, o := range orgs {
			if r.IntN(2) == 0 {
				parties = append(parties, o.ID)
			}
		}
		if len(parties) == 0 {
			parties = []genesis.OrgID{orgs[0].ID}
		}
		id := fmt.Sprintf("CRADA-%s%d", tag, i)
		if _, err := w.id.CreateAgreement(ctx, w.admin, identity.Agreement{ID: id, Type: authz.CRADA, Parties: parties, NotBefore: start, NotAfter: end}); err != nil {
			t.Fatal(err)
		}
		agrs = append(agrs, id)
	}
	roles := [][]genesis.Role{{genesis.RoleContributor}, {genesis.RoleViewer}, {genesis.RoleSteward}, {}, {genesis.RoleContributor, genesis.RoleClassificationOfficer}}
	clearances := []string{"OPEN", "PROPRIETARY", "PROPRIETARY//FUSION", "PROPRIETARY//BIO/FUSION"}
	var people []*genesis.Principal
	for i := range 5 + r.IntN(4) {
		p := genesis.Principal{Name: fmt.Sprintf("%s-p%d", tag, i), Clearance: clearances[r.IntN(len(clearances))], Roles: roles[r.IntN(len(roles))]}
		if i < 3 { // a few writers, cleared high, so that assets get made
			p.Roles, p.Clearance = []genesis.Role{genesis.RoleContributor}, clearances[len(clearances)-1-r.IntN(2)]
		}
		if r.IntN(5) > 0 {
			p.Org = orgs[r.IntN(len(orgs))].ID
		}
		pp, err := w.id.CreatePrincipal(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		people = append(people, pp)
	}
	// Assets with random labels, some carrying agreements; whatever the
	// catalog refuses is simply not made.
	var assets []refAsset
	for i := range 25 {
		owner := people[r.IntN(3)]
		marking := clearances[r.IntN(len(clearances))]
		if r.IntN(2) == 0 && marking != "OPEN" {
			marking += "//AGR:" + agrs[r.IntN(len(agrs))]
		}
		kind := []catalog.Kind{catalog.KindDataset, catalog.KindModel, catalog.KindPublication}[r.IntN(3)]
		name := fmt.Sprintf("%s-a%d", tag, i)
		a, err := w.cat.Create(ctx, owner, catalog.CreateSpec{Kind: kind, Name: name, Label: marking})
		if err != nil {
			continue
		}
		ra := refAsset{name: name, kind: string(kind), owner: string(owner.ID), label: a.Label}
		if kind != catalog.KindPublication && r.IntN(3) > 0 {
			size := 1 + r.IntN(3000)
			w.put(t, owner, a.ID, size)
			ra.bytes = int64(size)
		}
		assets = append(assets, ra)
	}
	if len(assets) < 5 {
		t.Fatalf("only %d assets made", len(assets))
	}
	orgOf := map[string]genesis.OrgID{}
	for _, p := range people {
		orgOf[string(p.ID)] = p.Org
	}
	within := time.Duration(1+r.IntN(90)) * 24 * time.Hour
	viewers := append([]*genesis.Principal{w.admin}, people...)
	hidden, hiddenAgr := 0, 0
	for _, v := range viewers {
		pf, err := w.pf.List(ctx, v, partners.Options{ExpiringWithin: within})
		if err != nil {
			t.Fatal(err)
		}
		// Reference: what the catalog shows v, asset by asset.
		type contrib struct {
			ds, md, pub int
			dsB, mdB    int64
			lab         label.Label
		}
		want := map[genesis.OrgID]*contrib{}
		cover := map[string]*partners.Coverage{}
		coverLabel := map[string]label.Label{}
		for _, a := range assets {
			got, err := w.cat.Get(ctx, v, a.name)
			if errors.Is(errors.NotExist, err) {
				hidden++
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			_ = got
			l := label.MustParse(a.label)
			for _, x := range l.Agreements() {
				if cover[x] == nil {
					cover[x] = &partners.Coverage{}
				}
				coverLabel[x] = label.Join(coverLabel[x], l)
				switch a.kind {
				case "dataset":
					cover[x].Datasets++
				case "model":
					cover[x].Models++
				case "publication":
					cover[x].Publications++
				}
			}
			org := orgOf[a.owner]
			if org == "" {
				continue
			}
			if want[org] == nil {
				want[org] = &contrib{}
			}
			c := want[org]
			c.lab = label.Join(c.lab, label.MustParse(a.label))
			switch a.kind {
			case "dataset":
				c.ds++
				c.dsB += a.bytes
			case "model":
				c.md++
				c.mdB += a.bytes
			case "publication":
				c.pub++
			}
		}
		visible, err := w.id.Agreements(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		hiddenAgr += len(agrs) - len(visible)
		seen := map[string]bool{}
		all := label.Label{}
		for _, p := range pf.Partners {
			c := want[p.Org.ID]
			if c == nil {
				c = &contrib{}
			}
			wantLabel := c.lab
			for _, a := range p.Agreements {
				wantLabel = label.Join(wantLabel, coverLabel[a.ID])
			}
			all = label.Join(all, wantLabel)
			if p.Label != wantLabel.Format() {
				t.Errorf("viewer %s, org %s: label %s, want %s", v.Name, p.Org.Name, p.Label, wantLabel.Format())
			}
			got := p.Contributed
			if got.Datasets != c.ds || got.Models != c.md || got.Publications != c.pub || got.DatasetBytes != c.dsB || got.ModelBytes != c.mdB {
				t.Errorf("viewer %s, org %s: contributed %+v, want %+v", v.Name, p.Org.Name, got, *c)
			}
			if (p.Principals != nil) != (v.IsAdmin() || v.HasRole(genesis.RoleSteward) || v.HasRole(genesis.RoleClassificationOfficer)) {
				t.Errorf("viewer %s sees principal counts: %v", v.Name, p.Principals != nil)
			}
			for _, a := range p.Agreements {
				seen[a.ID] = true
				wc := cover[a.ID]
				if wc == nil {
					wc = &partners.Coverage{}
				}
				if a.Covers != *wc {
					t.Errorf("viewer %s, agreement %s covers %+v, want %+v", v.Name, a.ID, a.Covers, *wc)
				}
				if a.Label != coverLabel[a.ID].Format() {
					t.Errorf("viewer %s, agreement %s labelled %s, want %s", v.Name, a.ID, a.Label, coverLabel[a.ID].Format())
				}
				if want := refStatus(a, w.now, within); a.Status != want {
					t.Errorf("agreement %s: status %s, want %s", a.ID, a.Status, want)
				}
			}
		}
		if pf.Label != all.Format() {
			t.Errorf("viewer %s: portfolio labelled %s, want %s", v.Name, pf.Label, all.Format())
		}
		for _, a := range visible {
			if !seen[a.ID] {
				t.Errorf("viewer %s may read agreement %s but the portfolio omits it", v.Name, a.ID)
			}
			delete(seen, a.ID)
		}
		if len(seen) > 0 {
			t.Errorf("viewer %s: portfolio shows agreements it may not read: %v", v.Name, seen)
		}
		for i, a := range pf.Expiring {
			if a.Status != partners.StatusExpiring || i > 0 && a.NotAfter.Before(pf.Expiring[i-1].NotAfter) {
				t.Errorf("expiring list: %+v", pf.Expiring)
			}
		}
		if len(pf.Partners) != len(orgs) {
			t.Errorf("viewer %s: %d partners, want %d", v.Name, len(pf.Partners), len(orgs))
		}
	}
	// The draw must exercise invisibility, or the comparison proves little.
	if hidden == 0 || hiddenAgr == 0 {
		t.Fatalf("no viewer had a hidden asset (%d) or agreement (%d)", hidden, hiddenAgr)
	}
}

// refStatus is the status by its definition.
func refStatus(a partners.Agreement, now time.Time, within time.Duration) string {
	if a.EndedAt != nil {
		return partners.StatusEnded
	}
	if !a.NotAfter.After(now) {
		return partners.StatusExpired
	}
	if a.NotBefore.After(now) {
		return partners.StatusPending
	}
	if !a.NotAfter.After(now.Add(within)) {
		return partners.StatusExpiring
	}
	return partners.StatusInForce
}

// TestExpiryBoundaries pins the window's edges: an agreement ending exactly
// at now+window is expiring, a microsecond later it is not; one ending at
// now has expired.
func TestExpiryBoundaries(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		o, err := w.id.CreateOrg(ctx, genesis.Organization{Name: "lab", Country: "USA", Kind: "laboratory"})
		if err != nil {
			t.Fatal(err)
		}
		const within = 60 * 24 * time.Hour
		cases := []struct {
			id         string
			start, end time.Time
			end2       bool
			want       string
		}{
			{"AT-EDGE", w.now.Add(-time.Hour), w.now.Add(within), false, partners.StatusExpiring},
			{"PAST-EDGE", w.now.Add(-time.Hour), w.now.Add(within + time.Microsecond), false, partners.StatusInForce},
			{"ENDS-NOW", w.now.Add(-time.Hour), w.now, false, partners.StatusExpired},
			{"JUST-LEFT", w.now.Add(-time.Hour), w.now.Add(time.Microsecond), false, partners.StatusExpiring},
			{"NOT-YET", w.now.Add(time.Microsecond), w.now.Add(time.Hour), false, partners.StatusPending},
			{"STARTS-NOW", w.now, w.now.Add(400 * 24 * time.Hour), false, partners.StatusInForce},
			{"ENDED", w.now.Add(-time.Hour), w.now.Add(400 * 24 * time.Hour), true, partners.StatusEnded},
		}
		for _, c := range cases {
			if _, err := w.id.CreateAgreement(ctx, w.admin, identity.Agreement{ID: c.id, Type: authz.DataUse, Parties: []genesis.OrgID{o.ID}, NotBefore: c.start, NotAfter: c.end}); err != nil {
				t.Fatal(err)
			}
			if c.end2 {
				if _, err := w.id.EndAgreement(ctx, w.admin, c.id); err != nil {
					t.Fatal(err)
				}
			}
		}
		p, err := w.pf.Get(ctx, w.admin, "lab", partners.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, a := range p.Agreements {
			got[a.ID] = a.Status
		}
		for _, c := range cases {
			if got[c.id] != c.want {
				t.Errorf("%s: status %q, want %q", c.id, got[c.id], c.want)
			}
		}
		if p.Expiring != 2 || p.InForce != 4 || p.Expired != 2 {
			t.Errorf("counts: in force %d, expiring %d, expired %d", p.InForce, p.Expiring, p.Expired)
		}
		pf, err := w.pf.List(ctx, w.admin, partners.Options{ExpiringOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(pf.Expiring) != 2 || pf.Expiring[0].ID != "JUST-LEFT" || pf.Expiring[1].ID != "AT-EDGE" || len(pf.Partners) != 1 {
			t.Errorf("expiring view: %+v", pf.Expiring)
		}
		// A one-hour window flags only the one ending within the hour.
		pf, err = w.pf.List(ctx, w.admin, partners.Options{ExpiringWithin: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if ids := agreementIDs(pf.Expiring); !slices.Equal(ids, []string{"JUST-LEFT"}) {
			t.Errorf("1h window flags %v", ids)
		}
		// An unknown organisation is not found; bad windows are refused.
		if _, err := w.pf.Get(ctx, w.admin, "no-such-org", partners.Options{}); !errors.Is(errors.NotExist, err) {
			t.Errorf("unknown org: %v", err)
		}
		for _, d := range []time.Duration{time.Minute, -time.Hour, partners.MaxExpiringWithin + time.Hour} {
			if _, err := w.pf.List(ctx, w.admin, partners.Options{ExpiringWithin: d}); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "expiring" {
				t.Errorf("window %v: %v", d, err)
			}
		}
	})
}

func agreementIDs(as []partners.Agreement) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

func (w *world) pf2az(*testing.T) *authz.Authorizer { return w.az }
