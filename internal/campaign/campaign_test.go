package campaign_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

type world struct {
	t                 testing.TB
	db                store.DB
	ids               *identity.Service
	az                *authz.Authorizer
	cat               *catalog.Service
	fleet             *testFleet
	dir               string
	admin, alice, bob *genesis.Principal
}

func newWorld(t testing.TB, db store.DB) *world {
	w := &world{t: t, db: db, dir: t.TempDir(), fleet: newFleet()}
	w.ids = identity.New(db)
	w.ids.Bootstrap(ctx, "admin")
	w.admin, _ = w.ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	if _, err := w.ids.RegisterCompartment(ctx, w.admin, "FUSION"); err != nil {
		t.Fatal(err)
	}
	var err error
	w.alice, err = w.ids.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "NATIONAL-SECURITY//FUSION", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	w.bob, err = w.ids.CreatePrincipal(ctx, genesis.Principal{Name: "bob", Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	w.az, _ = authz.New(w.ids, time.Now)
	w.cat = catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: w.az, Principals: w.ids})
	return w
}

// service returns a campaign service on w's store, as a runner named id.
func (w *world) service(id string) *campaign.Service {
	s := campaign.New(w.db, w.az, w.ids, w.cat, nil)
	s.SetFleet(w.fleet)
	s.SetRunnerID(id)
	s.Tick = 2 * time.Millisecond
	s.WorkDir = w.dir
	return s
}

const baseSpec = `
name: %s
label: %s
objectives:
  - {name: yield, goal: max}
params:
  - {name: x, kind: continuous, low: 0, high: %s}
  - {name: y, kind: continuous, low: 0, high: 1}
budget: {experiments: %d}
batch: %d
seed: 7
optimizer: {initial_points: 4}
executor: {workcell: %s, action: run}
`

func mkSpec(t testing.TB, name, marking, xHigh string, budget, batch int, cell string, extra string) *campaign.Spec {
	t.Helper()
	sp, err := campaign.Parse([]byte(fmt.Sprintf(baseSpec, name, marking, xHigh, budget, batch, cell) + extra))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return sp
}

// runUntil runs s until cond holds (generous deadline), then stops it.
func runUntil(t testing.TB, s *campaign.Service, what string, cond func() bool) {
	t.Helper()
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.Run(cctx); close(done) }()
	defer func() { cancel(); <-done }()
	waitFor(t, what, cond)
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (w *world) get(s *campaign.Service, p *genesis.Principal, id string) *campaign.Campaign {
	w.t.Helper()
	c, err := s.Get(ctx, p, id)
	if err != nil {
		w.t.Fatalf("get %s: %v", id, err)
	}
	return c
}

func (w *world) state(s *campaign.Service, id string) func() bool {
	return func() bool {
		c, err := s.Get(ctx, w.alice, id)
		return err == nil && c.State == campaign.Completed && c.Model != ""
	}
}

// stored reports what w.state reports, read straight from the store: for
// loops that ask after every step, where Get (authorization, counts) would
// cost more than the step.
func (w *world) stored(id string) bool {
	var state, model string
	err := w.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT state, model FROM campaigns WHERE id = ?`, id).Scan(&state, &model)
	})
	if err != nil {
		w.t.Fatalf("campaign %s: %v", id, err)
	}
	return state == campaign.Completed && model != ""
}

func allExperiments(t testing.TB, s *campaign.Service, p *genesis.Principal, id string) []campaign.Experiment {
	t.Helper()
	var out []campaign.Experiment
	cursor := ""
	for {
		es, next, err := s.Experiments(ctx, p, id, campaign.ExperimentOptions{Cursor: cursor, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, es...)
		if next == "" {
			return out
		}
		cursor = next
	}
}

func TestLifecycle(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		d1 := w.fleet.add("inst-a", "cell", "OPEN", w.dir)
		d2 := w.fleet.add("inst-b", "cell", "OPEN", w.dir)
		d1.Polls, d2.Polls = 2, 2
		s := w.service("r1")
		c, err := s.Create(ctx, w.alice, mkSpec(t, "reactor", "OPEN", "1", 6, 2, "cell", ""))
		if err != nil {
			t.Fatal(err)
		}
		if c.State != campaign.Draft || c.Label != "OPEN" || !strings.HasPrefix(c.ID, "cmp_") {
			t.Fatalf("created %+v", c)
		}
		// Names: taken among what alice reads; IDs and names both resolve.
		if _, err := s.Create(ctx, w.alice, mkSpec(t, "reactor", "OPEN", "1", 6, 2, "cell", "")); !errors.Is(errors.Exist, err) || errors.FieldOf(err) != "name" {
			t.Fatalf("duplicate name: %v", err)
		}
		if got := w.get(s, w.alice, "reactor"); got.ID != c.ID {
			t.Fatalf("by name: %s", got.ID)
		}
		if _, err := s.Pause(ctx, w.alice, c.ID, ""); !errors.Is(errors.Conflict, err) {
			t.Fatalf("pause a draft: %v", err)
		}
		if _, err := s.Start(ctx, w.bob, c.ID); !errors.Is(errors.Permission, err) {
			t.Fatalf("bob starts alice's campaign: %v", err)
		}
		if _, err := s.Start(ctx, w.alice, c.ID); err != nil {
			t.Fatal(err)
		}
		runUntil(t, s, "completion", w.state(s, c.ID))
		c = w.get(s, w.alice, c.ID)
		if c.Counts.Observed != 6 || c.Counts.Proposed+c.Counts.Dispatched+c.Counts.Running != 0 {
			t.Fatalf("counts %+v", c.Counts)
		}
		if !strings.Contains(c.Reason, "budget") || c.EndedAt == nil || c.StartedAt == nil {
			t.Fatalf("ended %q %v %v", c.Reason, c.StartedAt, c.EndedAt)
		}
		es := allExperiments(t, s, w.alice, c.ID)
		if len(es) != 6 {
			t.Fatalf("%d experiments", len(es))
		}
		best := es[0]
		for i, e := range es {
			if e.Seq != i || e.Batch != i/2+1 || e.State != campaign.Observed || e.Instrument == "" || e.DispatchedAt == nil || e.EndedAt == nil {
				t.Fatalf("experiment %d: %+v", i, e)
			}
			want := objective(e.Params)
			if e.Values["yield"] != want["yield"] {
				t.Fatalf("experiment %d values %v, want %v", i, e.Values, want)
			}
			if e.Values["yield"] > best.Values["yield"] {
				best = e
			}
		}
		if c.Best == nil || c.Best.Seq != best.Seq {
			t.Fatalf("best %+v, want seq %d", c.Best, best.Seq)
		}
		for _, d := range []*testDriver{d1, d2} {
			if _, most := d.runCounts(); most > 1 {
				t.Fatalf("a key ran %d times", most)
			}
		}
		// Results: a dataset version per batch, the surrogate as a model.
		if c.Dataset != "reactor-results" || c.Model != "reactor-surrogate" {
			t.Fatalf("outputs %q %q", c.Dataset, c.Model)
		}
		vs, err := w.cat.Versions(ctx, w.alice, "reactor-results")
		if err != nil || len(vs) != 3 {
			t.Fatalf("dataset versions %d: %v", len(vs), err)
		}
		r, _, _, _, err := w.cat.OpenFile(ctx, w.alice, "reactor-results", 3, "observations.csv")
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 1<<16)
		n, _ := r.Read(b)
		lines := strings.Split(strings.TrimSpace(string(b[:n])), "\n")
		if len(lines) != 7 || !strings.HasPrefix(lines[0], "seq,batch,attempt,state,instrument,x,y,yield") {
			t.Fatalf("observations.csv:\n%s", b[:n])
		}
		if _, err := w.cat.Get(ctx, w.alice, "reactor-surrogate"); err != nil {
			t.Fatalf("surrogate: %v", err)
		}
		// The model can still suggest.
		sg, err := s.Suggestions(ctx, w.alice, c.ID, 3)
		if err != nil || len(sg) != 3 {
			t.Fatalf("suggestions %v: %v", sg, err)
		}
		// Lists.
		cs, _, err := s.List(ctx, w.alice, campaign.ListOptions{State: campaign.Completed})
		if err != nil || len(cs) != 1 || cs[0].ID != c.ID {
			t.Fatalf("list %v: %v", cs, err)
		}
		if _, _, err := s.List(ctx, w.alice, campaign.ListOptions{State: "bogus"}); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "state" {
			t.Fatalf("bad state: %v", err)
		}
	})
}

func TestHiddenCampaignLooksMissing(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.fleet.add("secure", "cell", "NATIONAL-SECURITY//FUSION", w.dir)
		s := w.service("r1")
		c, err := s.Create(ctx, w.alice, mkSpec(t, "secret", "PROPRIETARY//FUSION", "1", 4, 1, "cell", ""))
		if err != nil {
			t.Fatal(err)
		}
		_, errHidden := s.Get(ctx, w.bob, c.ID)
		_, errMissing := s.Get(ctx, w.bob, "cmp_doesnotexist")
		if !errors.Is(errors.NotExist, errHidden) || !errors.Is(errors.NotExist, errMissing) {
			t.Fatalf("hidden %v, missing %v", errHidden, errMissing)
		}
		if strings.Contains(errHidden.Error(), "secret") && !strings.Contains(errMissing.Error(), "doesnotexist") {
			t.Fatalf("messages differ in shape: %q vs %q", errHidden, errMissing)
		}
		if _, err := s.Get(ctx, w.bob, "secret"); !errors.Is(errors.NotExist, err) {
			t.Fatalf("by name: %v", err)
		}
		for _, f := range []func() error{
			func() error { _, err := s.Start(ctx, w.bob, c.ID); return err },
			func() error { _, err := s.Stop(ctx, w.bob, c.ID, ""); return err },
			func() error { _, _, err := s.Experiments(ctx, w.bob, c.ID, campaign.ExperimentOptions{}); return err },
			func() error { _, err := s.Suggestions(ctx, w.bob, c.ID, 1); return err },
		} {
			if err := f(); !errors.Is(errors.NotExist, err) {
				t.Fatalf("bob acts on a hidden campaign: %v", err)
			}
		}
		cs, _, err := s.List(ctx, w.bob, campaign.ListOptions{})
		if err != nil || len(cs) != 0 {
			t.Fatalf("bob lists %v: %v", cs, err)
		}
		// Polyinstantiated names: bob may use the name alice's hidden
		// campaign bears; alice still means hers by it.
		w.fleet.add("open", "open-cell", "OPEN", w.dir)
		cb, err := s.Create(ctx, w.bob, mkSpec(t, "secret", "OPEN", "1", 4, 1, "open-cell", ""))
		if err != nil {
			t.Fatalf("bob's campaign of the same name: %v", err)
		}
		if got := w.get(s, w.alice, "secret"); got.ID != c.ID {
			t.Fatalf("alice's name now means %s", got.ID)
		}
		if got := w.get(s, w.bob, "secret"); got.ID != cb.ID {
			t.Fatalf("bob's name means %s", got.ID)
		}
	})
}

func TestCreateRefuses(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.fleet.add("open-1", "open-cell", "OPEN", w.dir)
		s := w.service("r1")
		for _, tc := range []struct {
			name  string
			who   *genesis.Principal
			spec  *campaign.Spec
			kind  errors.Kind
			field string
			says  string
		}{
			{"no such workcell", w.bob, mkSpec(t, "c1", "OPEN", "1", 4, 1, "nowhere", ""), errors.NotExist, "executor.workcell", "nowhere"},
			{"not accredited", w.alice, mkSpec(t, "c2", "PROPRIETARY", "1", 4, 1, "open-cell", ""), errors.Permission, "executor.workcell", "open-1"},
			{"unknown compartment", w.bob, mkSpec(t, "c3", "PROPRIETARY//NOPE", "1", 4, 1, "open-cell", ""), errors.Invalid, "label", ""},
			{"unreadable prior", w.bob, mkSpec(t, "c4", "OPEN", "1", 4, 1, "open-cell", "prior: [{dataset: nothing-here}]\n"), errors.NotExist, "prior[0].dataset", "nothing-here"},
			{"id-like name", w.bob, func() *campaign.Spec {
				sp := mkSpec(t, "c5", "OPEN", "1", 4, 1, "open-cell", "")
				sp.Name = "cmp_x"
				return sp
			}(), errors.Invalid, "name", ""},
		} {
			_, err := s.Create(ctx, tc.who, tc.spec)
			if !errors.Is(tc.kind, err) || errors.FieldOf(err) != tc.field || !strings.Contains(errors.SafeMessage(err), tc.says) {
				t.Errorf("%s: %v (kind %v, field %q)", tc.name, err, errors.KindOf(err), errors.FieldOf(err))
			}
		}
		cs, _, _ := s.List(ctx, w.admin, campaign.ListOptions{})
		if len(cs) != 0 {
			t.Fatalf("refused creates left %d campaigns", len(cs))
		}
	})
}

// writeDataset commits a CSV as a new dataset version, as p, at marking.
func (w *world) writeDataset(p *genesis.Principal, name, marking, csv string) {
	w.t.Helper()
	dir := filepath.Join(w.t.TempDir(), "d")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "prior.csv"), []byte(csv), 0o644)
	if _, err := w.cat.Create(ctx, p, catalog.CreateSpec{Name: name, Label: marking}); err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.cat.CommitOutput(ctx, p, name, dir, mustLabel(marking), nil, catalog.ActivityPut, "seed"); err != nil {
		w.t.Fatal(err)
	}
}

func TestPriorData(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.fleet.add("secure", "cell", "NATIONAL-SECURITY//FUSION", w.dir)
		w.writeDataset(w.alice, "earlier", "PROPRIETARY//FUSION", "x,y,yield\n0.1,0.1,50\n0.5,0.5,80\n0.9,0.2,30\n")
		s := w.service("r1")
		sp := mkSpec(t, "warm", "OPEN", "1", 6, 1, "cell", "prior: [{dataset: earlier}]\n")
		// Bob cannot read the prior data: not found, as if it did not exist.
		_, err := s.Create(ctx, w.bob, sp)
		_, errMissing := s.Create(ctx, w.bob, mkSpec(t, "warm", "OPEN", "1", 6, 1, "cell", "prior: [{dataset: never}]\n"))
		if !errors.Is(errors.NotExist, err) || errors.KindOf(err) != errors.KindOf(errMissing) || errors.FieldOf(err) != errors.FieldOf(errMissing) {
			t.Fatalf("unreadable prior %v; missing prior %v", err, errMissing)
		}
		c, err := s.Create(ctx, w.alice, sp)
		if err != nil {
			t.Fatal(err)
		}
		// The campaign's label is the join of its own and its prior data's.
		if c.Label != "PROPRIETARY//FUSION" {
			t.Fatalf("label %q", c.Label)
		}
		if _, err := s.Get(ctx, w.bob, c.ID); !errors.Is(errors.NotExist, err) {
			t.Fatalf("bob sees a campaign above his clearance: %v", err)
		}
		sg, err := s.Suggestions(ctx, w.alice, c.ID, 1)
		if err != nil || len(sg) != 1 {
			t.Fatalf("suggest after prior: %v %v", sg, err)
		}
		if _, err := s.Start(ctx, w.alice, c.ID); err != nil {
			t.Fatal(err)
		}
		runUntil(t, s, "completion", w.state(s, c.ID))
		// Outputs at the campaign's label, with lineage to the prior data.
		a, err := w.cat.Get(ctx, w.alice, "warm-results")
		if err != nil || a.Label != "PROPRIETARY//FUSION" {
			t.Fatalf("results %+v: %v", a, err)
		}
		if _, err := w.cat.Get(ctx, w.bob, "warm-results"); !errors.Is(errors.NotExist, err) {
			t.Fatalf("bob reads the results: %v", err)
		}
		g, err := w.cat.Lineage(ctx, w.alice, catalog.VersionRef{Asset: "warm-results", Version: 1}, true, 2)
		if err != nil || !strings.Contains(fmt.Sprint(g), "earlier") {
			t.Fatalf("lineage %+v: %v", g, err)
		}
	})
}
