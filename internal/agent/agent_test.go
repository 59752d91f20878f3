package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/lit/extract"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

// world is a real store, catalog, search index, literature library and
// agent service.
type world struct {
	t                testing.TB
	db               store.DB
	ids              *identity.Service
	az               *authz.Authorizer
	cat              *catalog.Service
	lib              *library.Service
	camp             *campaign.Service
	ag               *agent.Service
	admin, boss      *genesis.Principal // boss: cleared for everything, a steward
	alice, bob, robo *genesis.Principal
}

func newWorld(t testing.TB, db store.DB, chat llm.Chatter) *world {
	t.Helper()
	w := &world{t: t, db: db}
	w.ids = identity.New(db)
	w.ids.Bootstrap(ctx, "admin")
	w.admin, _ = w.ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	if _, err := w.ids.RegisterCompartment(ctx, w.admin, "ALPHA"); err != nil {
		t.Fatal(err)
	}
	var err error
	w.boss, err = w.ids.CreatePrincipal(ctx, genesis.Principal{Name: "boss", Clearance: "NATIONAL-SECURITY//ALPHA", Roles: []genesis.Role{genesis.RoleContributor, genesis.RoleSteward, genesis.RoleAdmin}})
	if err != nil {
		t.Fatal(err)
	}
	w.alice, err = w.ids.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "PROPRIETARY", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	w.bob, err = w.ids.CreatePrincipal(ctx, genesis.Principal{Name: "bob", Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	w.robo, err = w.ids.CreatePrincipal(ctx, genesis.Principal{Name: "robo", Kind: genesis.KindService, Clearance: "PROPRIETARY", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	w.az, _ = authz.New(w.ids, time.Now)
	w.cat = catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: w.az, Principals: w.ids})
	ix, err := search.New(db)
	if err != nil {
		t.Fatal(err)
	}
	w.cat.SetSearch(ix)
	w.lib, err = library.New(library.Config{DB: db, Catalog: w.cat, Index: ix, Authz: w.az, Principals: w.ids, Extract: extract.Extract})
	if err != nil {
		t.Fatal(err)
	}
	w.camp = campaign.New(db, w.az, w.ids, w.cat, nil)
	w.ag, err = agent.New(agent.Config{Library: w.lib, Catalog: w.cat, Campaigns: w.camp, Chatter: chat, DB: db, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// doc is one test publication: a title and paragraphs.
func doc(title string, paras ...string) lit.Document {
	return lit.Document{Format: lit.FormatMarkdown, Title: title, Sections: []lit.Section{{Heading: "Body", Paragraphs: paras}}}
}

func (w *world) put(p *genesis.Principal, marking string, docs ...lit.Document) {
	w.t.Helper()
	res, err := w.lib.ImportDocuments(ctx, p, marking, "", docs)
	if err != nil {
		w.t.Fatalf("import: %v", err)
	}
	for _, im := range res.Publications {
		if im.Status == "rejected" {
			w.t.Fatalf("import rejected %s: %s", im.Name, im.Error)
		}
	}
}

// passagesWith returns the IDs of passages (as boss reads them) whose
// text contains word.
func (w *world) passagesWith(word string) []string {
	w.t.Helper()
	hits, err := w.lib.Search(ctx, w.boss, lit.Query{Text: word, Limit: 100, Mode: lit.ModeBM25})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, h := range hits {
		if strings.Contains(strings.ToLower(h.Text), strings.ToLower(word)) {
			out = append(out, h.ID)
		}
	}
	return out
}

// swanson is the classic ABC: Raynaud's disease — blood viscosity,
// platelet aggregation — fish oil (eicosapentaenoic acid).
var swanson = []lit.Document{
	doc("Raynaud syndrome and blood viscosity", "Patients with Raynaud syndrome show elevated blood viscosity in the digits."),
	doc("Raynaud phenomenon and platelets", "Raynaud phenomenon is accompanied by platelet aggregation and vasospasm."),
	doc("Dietary eicosapentaenoic acid", "Dietary eicosapentaenoic acid lowers blood viscosity in healthy volunteers."),
	doc("Eicosapentaenoic acid and platelets", "Eicosapentaenoic acid reduces platelet aggregation in vitro."),
	doc("Hematocrit", "Blood viscosity rises with hematocrit."),
	doc("Unrelated", "Perovskite films crystallise on heated substrates."),
}

func TestLBDFindsTheLinkAndCitesIt(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db, nil)
		w.put(w.bob, "OPEN", swanson...)
		run, err := w.ag.Hypothesize(ctx, w.bob, agent.HypothesizeRequest{Topic: "Raynaud", Methods: []string{"lbd"}, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		var found *agent.Hypothesis
		for i, h := range run.Hypotheses {
			if h.C == "eicosapentaenoic" {
				found = &run.Hypotheses[i]
			}
			w.checkLBD(run, &h)
		}
		if found == nil {
			t.Fatalf("no hypothesis links raynaud to eicosapentaenoic: %+v", run.Hypotheses)
		}
		if !contains(found.Via, "viscosity") || !contains(found.Via, "aggregation") {
			t.Errorf("via %v, want viscosity and aggregation among them", found.Via)
		}
		if run.Label != "OPEN" || len(run.Read) == 0 {
			t.Errorf("run label %q, read %d", run.Label, len(run.Read))
		}
		// Read back as bob; and as alice, who cannot read bob's OPEN run?
		// She can (OPEN), so both see it.
		got, err := w.ag.Run(ctx, w.alice, run.ID)
		if err != nil || len(got.Hypotheses) != len(run.Hypotheses) {
			t.Fatalf("run as alice: %v", err)
		}
		h, err := w.ag.Hypothesis(ctx, w.bob, found.ID)
		if err != nil || h.C != "eicosapentaenoic" {
			t.Fatalf("hypothesis: %v %+v", err, h)
		}
	})
}

// checkLBD checks what an LBD hypothesis claims against the passages: an
// A–B claim cites passages with A and B, a B–C claim passages with B and C,
// and no passage the run's reader can find co-mentions A and C.
func (w *world) checkLBD(run *agent.Run, h *agent.Hypothesis) {
	w.t.Helper()
	p, _ := w.ids.Principal(ctx, w.admin, run.CreatedBy)
	for _, c := range h.Claims {
		if len(c.Citations) == 0 {
			w.t.Errorf("%s: claim %q without citations", h.ID, c.Text)
		}
		a, b, _ := strings.Cut(c.Text, " is mentioned with ")
		for _, id := range c.Citations {
			ps, err := w.lib.Passage(ctx, p, id)
			if err != nil {
				w.t.Fatalf("cited passage %s unreadable by the run's principal: %v", id, err)
			}
			txt := strings.ToLower(ps.Text)
			if !strings.Contains(txt, strings.ToLower(a)) || !strings.Contains(txt, strings.ToLower(b)) {
				w.t.Errorf("%s cites %s for %q: %q", h.ID, id, c.Text, ps.Text)
			}
		}
	}
	hits, err := w.lib.Search(ctx, p, lit.Query{Text: h.A + " " + h.C, Limit: 100})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, hit := range hits {
		txt := strings.ToLower(hit.Text)
		if strings.Contains(txt, strings.ToLower(h.A)) && containsWord(txt, h.C) {
			w.t.Errorf("%s: %s and %s are co-mentioned in %s", h.ID, h.A, h.C, hit.ID)
		}
	}
}

func TestHiddenCoMentionOnlyCountsForThoseWhoMayReadIt(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db, nil)
		w.put(w.bob, "OPEN", swanson...)
		// A proprietary report says it outright: bob cannot read it.
		w.put(w.alice, "PROPRIETARY", doc("Internal report", "Raynaud patients improved on eicosapentaenoic acid supplements."))
		hasLink := func(p *genesis.Principal) (*agent.Run, bool) {
			run, err := w.ag.Hypothesize(ctx, p, agent.HypothesizeRequest{Topic: "Raynaud", Methods: []string{"lbd"}, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range run.Hypotheses {
				if h.C == "eicosapentaenoic" {
					return run, true
				}
			}
			return run, false
		}
		bobRun, ok := hasLink(w.bob)
		if !ok {
			t.Fatal("bob, who cannot read the report, should get the hypothesis")
		}
		if bobRun.Label != "OPEN" {
			t.Errorf("bob's run label %s, want OPEN", bobRun.Label)
		}
		aliceRun, ok := hasLink(w.alice)
		if ok {
			t.Fatal("alice reads the report: A and C are co-mentioned, no hypothesis")
		}
		if aliceRun.Label != "PROPRIETARY" {
			t.Errorf("alice's run read the report: label %s, want PROPRIETARY", aliceRun.Label)
		}
		// Bob cannot see alice's run: not found, as a missing one.
		_, err := w.ag.Run(ctx, w.bob, aliceRun.ID)
		_, err2 := w.ag.Run(ctx, w.bob, "run_doesnotexist")
		if !errors.Is(errors.NotExist, err) || !errors.Is(errors.NotExist, err2) {
			t.Fatalf("hidden run: %v; missing: %v", err, err2)
		}
		if strings.Replace(err.Error(), aliceRun.ID, "X", 1) != strings.Replace(err2.Error(), "run_doesnotexist", "X", 1) {
			t.Errorf("hidden and missing differ: %q vs %q", err, err2)
		}
		list, _, err := w.ag.Runs(ctx, w.bob, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list {
			if r.ID == aliceRun.ID {
				t.Error("bob's list shows alice's proprietary run")
			}
		}
		if len(list) != 1 || list[0].ID != bobRun.ID {
			t.Errorf("bob's runs: %+v", list)
		}
	})
}

func TestRunsAreOnTheRecord(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db, nil)
		w.put(w.bob, "OPEN", swanson...)
		run, err := w.ag.Hypothesize(ctx, w.bob, agent.HypothesizeRequest{Topic: "Raynaud", Methods: []string{"lbd"}})
		if err != nil {
			t.Fatal(err)
		}
		// Lineage: the run's version was derived (activity agent) from
		// the publication version of every passage read.
		g, err := w.cat.Lineage(ctx, w.bob, catalog.VersionRef{Asset: run.Asset, Version: run.Version}, true, 1)
		if err != nil {
			t.Fatal(err)
		}
		pubs := map[string]bool{}
		for _, id := range run.Read {
			ps, err := w.lib.Passage(ctx, w.bob, id)
			if err != nil {
				t.Fatal(err)
			}
			pubs[ps.Publication] = true
		}
		inputs := map[string]bool{}
		for _, e := range g.Edges {
			if e.Activity != catalog.ActivityAgent || e.ActivityID != run.ID {
				t.Errorf("edge %+v", e)
			}
			inputs[e.Parent.Asset] = true
		}
		if fmt.Sprint(sortedKeys(inputs)) != fmt.Sprint(sortedKeys(pubs)) {
			t.Errorf("lineage inputs %v, publications read %v", sortedKeys(inputs), sortedKeys(pubs))
		}
		// Raising a publication it read raises the run: bob no longer
		// sees it, anywhere.
		ps, _ := w.lib.Passage(ctx, w.bob, run.Read[0])
		if _, err := w.cat.Relabel(ctx, w.boss, ps.Publication, "PROPRIETARY"); err != nil {
			t.Fatal(err)
		}
		if _, err := w.ag.Run(ctx, w.bob, run.ID); !errors.Is(errors.NotExist, err) {
			t.Fatalf("run after its input was raised: %v", err)
		}
		if len(run.Hypotheses) > 0 {
			if _, err := w.ag.Hypothesis(ctx, w.bob, run.Hypotheses[0].ID); !errors.Is(errors.NotExist, err) {
				t.Fatalf("hypothesis after its input was raised: %v", err)
			}
		}
		if l, _, _ := w.ag.Runs(ctx, w.bob, "", 0); len(l) != 0 {
			t.Fatalf("bob still lists %v", l)
		}
		got, err := w.ag.Run(ctx, w.alice, run.ID)
		if err != nil || got.Label != "PROPRIETARY" {
			t.Fatalf("alice reads the raised run: %v %+v", err, got)
		}
	})
}

// perovskites states band gaps: CsPbI3 1.73 eV and CsPbBr3 2.36 eV
// bracket a 2.0 eV target; CsSnI3 at 1.3 eV is far from it.
var perovskites = []lit.Document{
	doc("Iodide perovskite", "The band gap of CsPbI3 is 1.73 eV at 300 K according to UV-vis absorption."),
	doc("Bromide perovskite", "We find that the band gap of CsPbBr3 is 2.36 eV at 295 K."),
	doc("Tin perovskite", "The band gap of CsSnI3 is 1.3 eV at 300 K."),
	doc("Mixed bromide", "Thin films of CsPbBr3 are stable in air; the band gap of CsPbBr3 is 2.3 eV at 310 K."),
}

func TestPropertyGapsAndDrafts(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db, nil)
		w.put(w.bob, "OPEN", perovskites...)
		w.put(w.alice, "PROPRIETARY", doc("Secret", "The band gap of CsGeI3 is 2.0 eV at 300 K."))
		target, err := agent.ParseTarget("band_gap=2.0 eV")
		if err != nil {
			t.Fatal(err)
		}
		run, err := w.ag.Hypothesize(ctx, w.bob, agent.HypothesizeRequest{Topic: "perovskite band gap", Target: target, Methods: []string{"gap"}})
		if err != nil {
			t.Fatal(err)
		}
		if run.Label != "OPEN" {
			t.Errorf("label %s", run.Label)
		}
		var mix *agent.Hypothesis
		for i, h := range run.Hypotheses {
			if strings.Contains(h.Statement, "CsGeI3") {
				t.Fatalf("bob's run names a material only a proprietary report states: %s", h.Statement)
			}
			if h.Gap == nil || len(h.Passages) == 0 || len(h.Claims) == 0 {
				t.Fatalf("gap hypothesis without numbers or citations: %+v", h)
			}
			if h.Gap.Kind == "mix" && mix == nil {
				mix = &run.Hypotheses[i]
			}
			for _, c := range h.Claims {
				for _, id := range c.Citations {
					ps, err := w.lib.Passage(ctx, w.bob, id)
					if err != nil || !strings.Contains(ps.Text, "band gap of") {
						t.Errorf("%s cites %s: %v", h.ID, id, err)
					}
				}
			}
		}
		if mix == nil || mix.Gap.Material != "CsPbI3" || mix.Gap.Other != "CsPbBr3" {
			t.Fatalf("no CsPbI3/CsPbBr3 mix: %+v", run.Hypotheses)
		}
		// Linear interpolation: 1.73 + x (2.33 − 1.73) = 2.0.
		if want := (2.0 - 1.73) / (2.33 - 1.73); abs(mix.Gap.Fraction-want) > 1e-9 {
			t.Errorf("fraction %v, want %v", mix.Gap.Fraction, want)
		}
		// Alice's run reads the proprietary fact: CsGeI3 at the target
		// ranks first and her run is PROPRIETARY.
		arun, err := w.ag.Hypothesize(ctx, w.alice, agent.HypothesizeRequest{Target: target, Methods: []string{"gap"}})
		if err != nil {
			t.Fatal(err)
		}
		if arun.Label != "PROPRIETARY" || !strings.Contains(arun.Hypotheses[0].Statement, "CsGeI3") {
			t.Errorf("alice: %s %s", arun.Label, arun.Hypotheses[0].Statement)
		}

		d, err := w.ag.ProposeCampaign(ctx, w.bob, mix.ID, agent.ProposeOptions{Budget: 12})
		if err != nil {
			t.Fatal(err)
		}
		sp, err := campaign.Parse([]byte(d.Campaign))
		if err != nil {
			t.Fatalf("draft does not parse: %v\n%s", err, d.Campaign)
		}
		if sp.Objectives[0].Name != "band_gap" || sp.Objectives[0].Target == nil || *sp.Objectives[0].Target != 2.0 || sp.Budget.Experiments != 12 {
			t.Errorf("objective %+v budget %+v", sp.Objectives, sp.Budget)
		}
		var frac, temp *campaign.Param
		for i := range sp.Params {
			switch sp.Params[i].Name {
			case "fraction":
				frac = &sp.Params[i]
			case "temperature":
				temp = &sp.Params[i]
			}
		}
		if frac == nil || *frac.Low > mix.Gap.Fraction || *frac.High < mix.Gap.Fraction {
			t.Errorf("fraction param %+v", frac)
		}
		if temp == nil || *temp.Low != 295 || *temp.High != 310 {
			t.Errorf("temperature param %+v, want the range of the cited facts 295–310 K", temp)
		}
		if d.Executor != "job" || sp.Executor.Job == nil {
			t.Errorf("executor %s", d.Executor)
		}
		// Lineage: the draft derives from the run and the cited
		// publications.
		g, err := w.cat.Lineage(ctx, w.bob, catalog.VersionRef{Asset: d.Asset, Version: d.Version}, true, 1)
		if err != nil {
			t.Fatal(err)
		}
		parents := map[string]bool{}
		for _, e := range g.Edges {
			parents[e.Parent.Asset] = true
		}
		if !parents[run.Asset] || len(parents) < 3 {
			t.Errorf("draft lineage parents %v (run %s)", sortedKeys(parents), run.Asset)
		}
		// Start refuses an unapproved draft; a service account cannot
		// approve; bob (who may read it, a person) can.
		if _, err := w.ag.Start(ctx, w.bob, d.ID); !errors.Is(errors.Conflict, err) {
			t.Fatalf("start unapproved: %v", err)
		}
		if err := w.ag.Approve(ctx, w.robo, d.ID); !errors.Is(errors.Permission, err) {
			t.Fatalf("approve by a service account: %v", err)
		}
		if err := w.ag.Approve(ctx, w.bob, d.ID); err != nil {
			t.Fatal(err)
		}
		// Alice's proprietary draft: bob cannot see, approve or start it.
		var amix string
		for _, h := range arun.Hypotheses {
			if h.Gap != nil && h.Gap.Kind == "mix" {
				amix = h.ID
				break
			}
		}
		if amix != "" {
			ad, err := w.ag.ProposeCampaign(ctx, w.alice, amix, agent.ProposeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ad.Label != "PROPRIETARY" {
				t.Errorf("alice's draft label %s", ad.Label)
			}
			if err := w.ag.Approve(ctx, w.bob, ad.ID); !errors.Is(errors.NotExist, err) {
				t.Errorf("bob approves a hidden draft: %v", err)
			}
			if _, err := w.ag.ProposeCampaign(ctx, w.bob, amix, agent.ProposeOptions{}); !errors.Is(errors.NotExist, err) {
				t.Errorf("bob drafts from a hidden hypothesis: %v", err)
			}
		}
		got, err := w.ag.Draft(ctx, w.bob, d.ID)
		if err != nil || got.ApprovedBy != string(w.bob.ID) || got.Campaign != d.Campaign {
			t.Fatalf("draft: %v %+v", err, got)
		}
	})
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

var wordRE = regexp.MustCompile(`[\p{L}\p{N}-]+`)

func containsWord(text, w string) bool {
	for _, x := range wordRE.FindAllString(strings.ToLower(text), -1) {
		if x == strings.ToLower(w) {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func sortStrings(xs []string) {
	for i := 1; i < len(xs); i++ {
		for j := i; j > 0 && xs[j] < xs[j-1]; j-- {
			xs[j], xs[j-1] = xs[j-1], xs[j]
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestLimitAcrossMethods: the limit bounds the run, whatever the methods;
// methods take turns in the ranking, each in its own score order.
func TestLimitAcrossMethods(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite), nil)
	w.put(w.bob, "OPEN", append(append([]lit.Document{}, swanson...), perovskites...)...)
	target, _ := agent.ParseTarget("band_gap=2.0 eV")
	for _, limit := range []int{1, 3, 4, 7} {
		run, err := w.ag.Hypothesize(ctx, w.bob, agent.HypothesizeRequest{Topic: "Raynaud", Target: target, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(run.Hypotheses) != limit {
			t.Fatalf("limit %d: %d hypotheses", limit, len(run.Hypotheses))
		}
		last := map[string]float64{}
		for i, h := range run.Hypotheses {
			if h.Rank != i+1 {
				t.Errorf("rank %d at %d", h.Rank, i)
			}
			if i < 4 && h.Method != []string{"lbd", "gap"}[i%2] {
				t.Errorf("limit %d: position %d is %s; methods take turns", limit, i, h.Method)
			}
			if prev, ok := last[h.Method]; ok && h.Score > prev {
				t.Errorf("%s scores rise: %v after %v", h.Method, h.Score, prev)
			}
			last[h.Method] = h.Score
			if _, err := w.ag.Hypothesis(ctx, w.bob, h.ID); err != nil {
				t.Errorf("stored hypothesis %s: %v", h.ID, err)
			}
		}
	}
}

// challenges is an in-memory challenge registry (issue 15 brings the
// real one): one proprietary challenge with a band-gap target.
type challenges struct{}

func (challenges) Target(_ context.Context, p *genesis.Principal, id string) (*agent.Target, error) {
	if id != "chl_perovskite" || p.Clearance == "OPEN" {
		return nil, errors.E(errors.NotExist, errors.Msg("challenge not found"))
	}
	return &agent.Target{Property: "band_gap", Value: 2.0, Unit: "eV", Label: "PROPRIETARY"}, nil
}

// TestChallengeTargetAndLabel: a challenge's target drives the gap method,
// and its label joins the run's, though every passage read is OPEN.
func TestChallengeTargetAndLabel(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite), nil)
	w.put(w.bob, "OPEN", perovskites...)
	ag, err := agent.New(agent.Config{Library: w.lib, Catalog: w.cat, Challenges: challenges{}, DB: w.db, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	run, err := ag.Hypothesize(ctx, w.alice, agent.HypothesizeRequest{Challenge: "chl_perovskite", Methods: []string{"gap"}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Label != "PROPRIETARY" || run.Target == nil || run.Target.Value != 2.0 || len(run.Hypotheses) == 0 {
		t.Fatalf("run %s target %+v hypotheses %d", run.Label, run.Target, len(run.Hypotheses))
	}
	if _, err := ag.Run(ctx, w.bob, run.ID); !errors.Is(errors.NotExist, err) {
		t.Errorf("bob reads a run labelled by a challenge he may not see: %v", err)
	}
	_, hidden := ag.Hypothesize(ctx, w.bob, agent.HypothesizeRequest{Challenge: "chl_perovskite"})
	if !errors.Is(errors.NotExist, hidden) || errors.FieldOf(hidden) != "challenge" {
		t.Errorf("bob's hidden challenge: %v", hidden)
	}
	// A hidden challenge reads exactly as a missing one of that name.
	_, missing := ag.Hypothesize(ctx, w.bob, agent.HypothesizeRequest{Challenge: "chl_perovskitf"})
	if want := strings.Replace(errors.SafeMessage(missing), "perovskitf", "perovskite", 1); errors.SafeMessage(hidden) != want {
		t.Errorf("hidden %q, missing %q", errors.SafeMessage(hidden), errors.SafeMessage(missing))
	}
	noCh, _ := agent.New(agent.Config{Library: w.lib, Catalog: w.cat, DB: w.db})
	if _, err := noCh.Hypothesize(ctx, w.alice, agent.HypothesizeRequest{Challenge: "chl_perovskite"}); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "challenge" {
		t.Errorf("no challenges: %v", err)
	}
}

// TestRequestsRefused: bad requests are Invalid naming the field, and
// store nothing.
func TestRequestsRefused(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite), nil)
	w.put(w.bob, "OPEN", swanson...)
	for _, c := range []struct {
		req   agent.HypothesizeRequest
		field string
	}{
		{agent.HypothesizeRequest{}, "topic"},
		{agent.HypothesizeRequest{Topic: "a\x1b[31mb"}, "topic"},
		{agent.HypothesizeRequest{Topic: strings.Repeat("x", 1001)}, "topic"},
		{agent.HypothesizeRequest{Topic: "Raynaud", Limit: 51}, "limit"},
		{agent.HypothesizeRequest{Topic: "Raynaud", Limit: -1}, "limit"},
		{agent.HypothesizeRequest{Topic: "Raynaud", Methods: []string{"magic"}}, "methods"},
		{agent.HypothesizeRequest{Topic: "Raynaud", Methods: []string{"llm"}}, "methods"},
		{agent.HypothesizeRequest{Topic: "Raynaud", Methods: []string{"gap"}}, "target"},
		{agent.HypothesizeRequest{Topic: "Raynaud", Label: "PROPRIETARY//NOSUCHCOMPARTMENT"}, "label"},
		{agent.HypothesizeRequest{Topic: "Raynaud", Target: &agent.Target{Property: "Band Gap", Value: 1}}, "target.property"},
		{agent.HypothesizeRequest{Topic: "Raynaud", Target: &agent.Target{Property: "band_gap", Value: math.NaN()}}, "target.value"},
		{agent.HypothesizeRequest{Topic: "Raynaud", Target: &agent.Target{Property: "band_gap", Value: 1, Direction: "up"}}, "target.direction"},
	} {
		_, err := w.ag.Hypothesize(ctx, w.bob, c.req)
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field {
			t.Errorf("%+v: %v (field %q), want Invalid naming %s", c.req, err, errors.FieldOf(err), c.field)
		}
	}
	if l, _, _ := w.ag.Runs(ctx, w.bob, "", 0); len(l) != 0 {
		t.Errorf("refused requests stored runs: %+v", l)
	}
	// A floor raises the run's label.
	run, err := w.ag.Hypothesize(ctx, w.alice, agent.HypothesizeRequest{Topic: "Raynaud", Label: "PROPRIETARY", Methods: []string{"lbd"}})
	if err != nil || run.Label != "PROPRIETARY" {
		t.Fatalf("floor: %v %+v", err, run)
	}
}

// TestRunsPaging: pages of one run each list every readable run once,
// newest first, skipping hidden ones; a cursor the service did not make is
// refused.
func TestRunsPaging(t *testing.T) {
	w := newWorld(t, storetest.Migrated(t, storetest.SQLite), nil)
	w.put(w.bob, "OPEN", swanson...)
	var want []string
	for i := range 5 {
		p := w.bob
		if i%2 == 1 {
			p = w.alice
		}
		floor := "OPEN"
		if i == 3 {
			floor = "PROPRIETARY" // alice's, hidden from bob
		}
		run, err := w.ag.Hypothesize(ctx, p, agent.HypothesizeRequest{Topic: "Raynaud", Methods: []string{"lbd"}, Label: floor})
		if err != nil {
			t.Fatal(err)
		}
		if i != 3 {
			want = append([]string{run.ID}, want...)
		}
	}
	var got []string
	cursor := ""
	for range 10 {
		page, next, err := w.ag.Runs(ctx, w.bob, cursor, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bob's pages %v, want %v", got, want)
	}
	if _, _, err := w.ag.Runs(ctx, w.bob, "bm90IGEgY3Vyc29y", 1); !errors.Is(errors.Invalid, err) {
		t.Errorf("a made-up cursor: %v", err)
	}
}
