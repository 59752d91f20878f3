package mission_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/store"
)

var ctx = context.Background()

type world struct {
	t                        testing.TB
	db                       store.DB
	ids                      *identity.Service
	az                       *authz.Authorizer
	cat                      *catalog.Service
	camp                     *campaign.Service
	ins                      *instruments.Registry
	sites                    *sites.Registry
	svc                      *mission.Service
	log                      *audit.Memory
	admin, alice, bob, carol *genesis.Principal
}

// newWorld is a platform with organisations, two contributors — alice
// cleared for NATIONAL-SECURITY//FUSION, bob for OPEN — and carol, an
// OPEN viewer.
func newWorld(t testing.TB, db store.DB) *world {
	t.Helper()
	w := &world{t: t, db: db, log: audit.NewMemory()}
	w.ids = identity.New(db)
	if _, err := w.ids.Bootstrap(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	w.admin, _ = w.ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	if _, err := w.ids.RegisterCompartment(ctx, w.admin, "FUSION"); err != nil {
		t.Fatal(err)
	}
	mk := func(name, clearance string, role genesis.Role) *genesis.Principal {
		p, err := w.ids.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: clearance, Roles: []genesis.Role{role}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	w.alice = mk("alice", "NATIONAL-SECURITY//FUSION", genesis.RoleContributor)
	w.bob = mk("bob", "OPEN", genesis.RoleContributor)
	w.carol = mk("carol", "OPEN", genesis.RoleViewer)
	for _, o := range []string{"argonne", "mit", "acme-robotics", "doe"} {
		if _, err := w.ids.CreateOrg(ctx, genesis.Organization{Name: o, Country: "USA", Kind: "laboratory"}); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	w.az, err = authz.New(w.ids, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	w.cat = catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: w.az, Principals: w.ids})
	w.camp = campaign.New(db, w.az, w.ids, w.cat, nil)
	w.camp.WorkDir = t.TempDir()
	w.camp.SetRunnerID("test")
	w.camp.Tick = 2 * time.Millisecond
	w.ins = instruments.New(db, w.az, w.ids, t.TempDir())
	t.Cleanup(func() { w.ins.Close() })
	w.camp.SetFleet(w.ins)
	if w.sites, err = sites.New(db, w.az, w.ids, make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
	w.svc, err = mission.New(mission.Config{DB: db, Authz: w.az, Identity: w.ids, Catalog: w.cat, Campaigns: w.camp, Sites: w.sites, Fleet: w.ins, Audit: w.log})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// dataset creates a dataset with one version.
func (w *world) dataset(p *genesis.Principal, name, marking string) *catalog.Asset {
	w.t.Helper()
	a, err := w.cat.Create(ctx, p, catalog.CreateSpec{Name: name, Label: marking})
	if err != nil {
		w.t.Fatal(err)
	}
	w.commit(p, name, "data of "+name, nil)
	return a
}

// commit puts one version of asset name (a model version when m is set).
func (w *world) commit(p *genesis.Principal, name, content string, m *catalog.ModelMeta, inputs ...catalog.VersionRef) *catalog.Version {
	w.t.Helper()
	data := []byte(content)
	id := blob.Sum(data)
	man := &manifest.Manifest{Entries: []manifest.Entry{{Path: "f", Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id,
		Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
	raw, err := man.Marshal()
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.cat.PutChunk(ctx, p, name, id, data); err != nil {
		w.t.Fatal(err)
	}
	if err := w.cat.PutChunk(ctx, p, name, blob.Sum(raw), raw); err != nil {
		w.t.Fatal(err)
	}
	v, err := w.cat.Commit(ctx, p, name, catalog.CommitSpec{Manifest: blob.Sum(raw), Inputs: inputs, Model: m})
	if err != nil {
		w.t.Fatal(err)
	}
	return v
}

// model registers a model trained on dataset and commits one version per
// metrics value given (metric → value).
func (w *world) model(p *genesis.Principal, name, trainedOn string, versions ...map[string]float64) {
	w.t.Helper()
	in := []catalog.VersionRef{{Asset: trainedOn, Version: 1}}
	if _, err := w.cat.RegisterModel(ctx, p, catalog.RegisterSpec{Name: name, TrainedOn: in}); err != nil {
		w.t.Fatal(err)
	}
	for i, m := range versions {
		b, _ := json.Marshal(m)
		w.commit(p, name, name+" weights "+strconv.Itoa(i), &catalog.ModelMeta{Framework: "sklearn", Task: "regression", Metrics: b}, in...)
	}
}

// spec is a valid challenge file with the given name and extra YAML.
func spec(name, extra string) string {
	return `name: ` + name + `
title: Better catalysts
domain: critical minerals & materials
statement: |
  Find catalysts that do better.
  Two lines.
lead: argonne
partners: [mit]
targets:
  - {metric: yield, unit: "%", direction: max, target: 90, baseline: 60}
` + extra
}

func parse(t testing.TB, src string) *mission.Spec {
	t.Helper()
	sp, err := mission.Parse([]byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	return sp
}

func (w *world) create(p *genesis.Principal, src string) *mission.Challenge {
	w.t.Helper()
	c, err := w.svc.Create(ctx, p, parse(w.t, src))
	if err != nil {
		w.t.Fatalf("create: %v", err)
	}
	return c
}
