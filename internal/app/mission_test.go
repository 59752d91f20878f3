package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/google/go-cmp/cmp"
)

// missionApp opens a whole system and returns it with its administrator
// and its challenge service.
func missionApp(t *testing.T) (*App, *genesis.Principal, *mission.Service) {
	t.Helper()
	return missionAppOn(t, "")
}

// missionAppOn is missionApp on the metadata store dsn ("": SQLite in the
// data dir).
func missionAppOn(t *testing.T, dsn string) (*App, *genesis.Principal, *mission.Service) {
	t.Helper()
	ctx := context.Background()
	cfg := config.Default(t.TempDir())
	if dsn != "" {
		cfg.Store.DSN = dsn
	}
	a, err := Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := a.Identity.Authenticate(ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	if a.Challenges == nil {
		t.Fatal("no challenge service")
	}
	ch := a.Challenges
	return a, admin, ch
}

func milestone(t *testing.T, st *plan.Status, id string) plan.MilestoneStatus {
	t.Helper()
	for _, m := range st.Milestones {
		if m.ID == id {
			return m
		}
	}
	t.Fatalf("no milestone %s", id)
	return plan.MilestoneStatus{}
}

// TestMissionStatusEmptyPlatform: on an empty platform every milestone of
// the default plan is at risk (days count from this deployment's first
// start) and says exactly what is missing; adding a site, an instrument
// and challenges moves the milestones that look at them.
func TestMissionStatusEmptyPlatform(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testMissionStatusEmptyPlatform(t, "") })
	t.Run("postgres", func(t *testing.T) { testMissionStatusEmptyPlatform(t, storetest.PostgresDSN(t)) })
}

func testMissionStatusEmptyPlatform(t *testing.T, dsn string) {
	ctx := context.Background()
	a, admin, _ := missionAppOn(t, dsn)
	st, err := a.Mission.Status(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"challenges-identified":        {"20 more challenges (0 of 20 identified)", "no challenge in domain advanced-manufacturing, biotechnology, critical-minerals-materials, nuclear-fission-fusion, quantum-information-science, semiconductors-microelectronics, robotics"},
		"inventory-complete":           {"no compute site registered (genesis site add)"},
		"assets-identified":            {"no challenge identified (genesis challenge create)"},
		"labs-reviewed":                {"no instrument registered (genesis instrument add)"},
		"initial-operating-capability": {"no challenge target reached by a campaign yet"},
	}
	days := map[string]int{"challenges-identified": 60, "inventory-complete": 90, "assets-identified": 120, "labs-reviewed": 240, "initial-operating-capability": 270}
	if len(st.Milestones) != len(want) {
		t.Fatalf("%d milestones", len(st.Milestones))
	}
	for id, missing := range want {
		m := milestone(t, st, id)
		if m.Status != plan.AtRisk || m.DaysLeft != days[id] || m.Progress != 0 {
			t.Errorf("%s: %s, %d days left, progress %v", id, m.Status, m.DaysLeft, m.Progress)
		}
		if d := cmp.Diff(missing, m.Missing); d != "" {
			t.Errorf("%s missing (-want +got)\n%s", id, d)
		}
	}

	// A site with capacity and a cap but no draw reported yet.
	if _, err := a.Sites.Add(ctx, admin, sites.Spec{Name: "hpc-1", Kind: sites.KindSlurm, Endpoint: "http://127.0.0.1:9", Credentials: `{"user": "u", "token": "t"}`,
		Accreditation: "OPEN", PowerCapKW: 500, HeartbeatSeconds: 60, Capacity: sites.Capacity{Nodes: 4, CoresPerNode: 64, MemoryGBNode: 256}}); err != nil {
		t.Fatal(err)
	}
	st, _ = a.Mission.Status(ctx, admin)
	if m := milestone(t, st, "inventory-complete"); !slices.Equal(m.Missing, []string{"site hpc-1 reports no power draw"}) || m.Status != plan.AtRisk {
		t.Errorf("site without draw: %s %q", m.Status, m.Missing)
	}
	if _, err := a.Sites.Heartbeat(ctx, admin, "hpc-1", sites.Up, "", 420); err != nil {
		t.Fatal(err)
	}
	st, _ = a.Mission.Status(ctx, admin)
	if m := milestone(t, st, "inventory-complete"); m.Status != plan.Met || len(m.Missing) != 0 || m.Progress != 1 {
		t.Errorf("after a heartbeat: %s %q", m.Status, m.Missing)
	}

	// An instrument in a lab: the lab is now known and waits for a campaign.
	settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": 1200, "seed": 1})
	if _, err := a.Instruments.Add(ctx, admin, instruments.Spec{Name: "reactor-1", Kind: "sim", Settings: settings, Lab: "argonne-241", Accreditation: "OPEN"}); err != nil {
		t.Fatal(err)
	}
	st, _ = a.Mission.Status(ctx, admin)
	if m := milestone(t, st, "labs-reviewed"); !slices.Equal(m.Missing, []string{"lab argonne-241: 0 of 1 completed closed-loop campaigns"}) {
		t.Errorf("instrument added: %q", m.Missing)
	}

	// Risks: energy sees the site at 84 % of its cap; talent, the
	// administrator whose token was just used.
	rs, err := a.Mission.Risks(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	levels := map[string]string{}
	for _, r := range rs.Risks {
		levels[r.Name] = r.Level
	}
	if d := cmp.Diff(map[string]string{"leakage": plan.RiskOK, "silos": plan.RiskOK, "energy": plan.RiskWatch, "talent": plan.RiskOK}, levels); d != "" {
		t.Errorf("risk levels (-want +got)\n%s", d)
	}
}

// TestMissionStatusAsViewer: a challenge the viewer may not read counts
// for nothing (invariant 4), and the audit-based risks are not available
// to a viewer who may not read the audit log; only an administrator sets
// the plan, and a bad plan file is refused naming its field.
func TestMissionStatusAsViewer(t *testing.T) {
	ctx := context.Background()
	a, admin, ch := missionApp(t)
	if _, err := a.Identity.RegisterCompartment(ctx, admin, "FUSION"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Identity.CreateOrg(ctx, genesis.Organization{Name: "argonne", Country: "USA", Kind: "laboratory"}); err != nil {
		t.Fatal(err)
	}
	alice, err := a.Identity.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	carol, err := a.Identity.CreatePrincipal(ctx, genesis.Principal{Name: "carol", Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleViewer}})
	if err != nil {
		t.Fatal(err)
	}
	for i, lbl := range []string{"OPEN", "PROPRIETARY//FUSION"} {
		sp, err := mission.Parse([]byte("name: ch-" + string(rune('a'+i)) + "\ntitle: Better catalysts\ndomain: robotics\nstatement: Find them.\nlead: argonne\nlabel: " + lbl +
			"\ntargets:\n  - {metric: yield, unit: \"%\", direction: max, target: 90, baseline: 60}\n"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ch.Create(ctx, alice, sp); err != nil {
			t.Fatal(err)
		}
	}
	count := func(p *genesis.Principal) string {
		st, err := a.Mission.Status(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return milestone(t, st, "challenges-identified").Missing[0]
	}
	if got := count(alice); got != "18 more challenges (2 of 20 identified)" {
		t.Errorf("alice: %q", got)
	}
	// Invariant 2: each status is labelled the join of what it read.
	for p, want := range map[*genesis.Principal]string{alice: "PROPRIETARY//FUSION", carol: "OPEN"} {
		if st, _ := a.Mission.Status(ctx, p); st.Label != want {
			t.Errorf("%s's status labelled %q, want %q", p.Name, st.Label, want)
		}
	}
	if got := count(carol); got != "19 more challenges (1 of 20 identified)" {
		t.Errorf("carol: %q", got)
	}

	rs, err := a.Mission.Risks(ctx, carol)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs.Risks {
		if (r.Name == "leakage" || r.Name == "talent") != (r.Level == plan.RiskNotAvailable) {
			t.Errorf("carol: %s is %s", r.Name, r.Level)
		}
	}

	// Setting the plan.
	file := []byte("milestones:\n  - {id: five, title: Five challenges, day: 30, check: challenges_identified, params: {min: 2}}\n")
	if _, err := a.Mission.Set(ctx, carol, file, false); !errors.Is(errors.Permission, err) {
		t.Errorf("a viewer set the plan: %v", err)
	}
	if _, err := a.Mission.Set(ctx, admin, []byte("milestones:\n  - {id: five, title: T, day: 30, check: challenges_identified, params: {min: 0}}\n"), false); errors.FieldOf(err) != "milestones[0].params.min" {
		t.Errorf("min 0: %v", err)
	}
	if _, err := a.Mission.Set(ctx, admin, []byte("start: 2025-11-24\nmilestones:\n  - {id: five, title: T, day: 60, check: challenges_identified}\n"), false); !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "in the past") {
		t.Errorf("past deadline: %v", err)
	}
	stored, err := a.Mission.Set(ctx, admin, file, false)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Default || stored.UpdatedBy != string(admin.ID) || len(stored.Milestones) != 1 {
		t.Errorf("stored %+v", stored)
	}
	st, _ := a.Mission.Status(ctx, alice)
	if m := milestone(t, st, "five"); m.Status != plan.Met {
		t.Errorf("alice with min 2: %s %q", m.Status, m.Missing)
	}
	st, _ = a.Mission.Status(ctx, carol)
	if m := milestone(t, st, "five"); m.Status != plan.AtRisk || !slices.Equal(m.Missing, []string{"1 more challenges (1 of 2 identified)"}) {
		t.Errorf("carol with min 2: %s %q", m.Status, m.Missing)
	}
	// The published timeline, on purpose.
	if _, err := a.Mission.Set(ctx, admin, []byte("start: 2025-11-24\nmilestones:\n  - {id: five, title: T, day: 60, check: challenges_identified}\n"), true); err != nil {
		t.Fatal(err)
	}
	st, _ = a.Mission.Status(ctx, admin)
	if m := milestone(t, st, "five"); m.Status != plan.Missed || m.Deadline != "2026-01-23" {
		t.Errorf("published timeline: %s %s", m.Status, m.Deadline)
	}

	// The leakage trend counts the refusal and the plan updates only for
	// an auditor; the record is on the log.
	rs, err = a.Mission.Risks(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if rs.Risks[0].Name != "leakage" || rs.Risks[0].Level == plan.RiskNotAvailable {
		t.Fatalf("admin leakage: %+v", rs.Risks[0])
	}
	denied := 0.0
	for _, f := range rs.Risks[0].Figures {
		if f.Name == "denied_week_minus_0" {
			denied = f.Value
		}
	}
	if denied < 1 {
		t.Errorf("the refused plan update is not counted: %+v", rs.Risks[0].Figures)
	}
}

// TestMissionCampaignEndToEnd: a closed-loop campaign completed on a lab's
// instrument reviews that lab, and a challenge whose target its results
// reached — committed as a results dataset whose version records the
// campaign's activity — gives the initial operating capability.
func TestMissionCampaignEndToEnd(t *testing.T) {
	ctx := context.Background()
	a, admin, ch := missionApp(t)
	settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": 1200, "seed": 1})
	if _, err := a.Instruments.Add(ctx, admin, instruments.Spec{Name: "reactor-1", Kind: "sim", Settings: settings, Lab: "argonne-241", Accreditation: "OPEN"}); err != nil {
		t.Fatal(err)
	}
	src := strings.NewReplacer("name: demo\n", "name: flow\n", "experiments: 30", "experiments: 2", "batch: 2", "batch: 1",
		"workcell: demo-cell", "instrument: reactor-1").Replace(string(demoCampaign))
	spec, err := campaign.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Campaigns.Create(ctx, admin, spec)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Identity.CreateOrg(ctx, genesis.Organization{Name: "argonne", Country: "USA", Kind: "laboratory"}); err != nil {
		t.Fatal(err)
	}
	sp, err := mission.Parse([]byte("name: suzuki\ntitle: Better couplings\ndomain: advanced manufacturing\nstatement: Raise the yield.\nlead: argonne\n" +
		"targets:\n  - {metric: yield, unit: \"%\", direction: max, target: 1, baseline: 0}\n" +
		"links:\n  - {kind: campaign, ref: flow, objective: yield}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.Create(ctx, admin, sp); err != nil {
		t.Fatal(err)
	}
	st, _ := a.Mission.Status(ctx, admin)
	if m := milestone(t, st, "initial-operating-capability"); !slices.Equal(m.Missing, []string{"no challenge target reached by a campaign yet"}) {
		t.Errorf("before the campaign ran: %q", m.Missing)
	}
	if _, err := a.Campaigns.Start(ctx, admin, c.ID); err != nil {
		t.Fatal(err)
	}
	a.Campaigns.SetRunnerID("test")
	for i := 0; ; i++ {
		if i == 6000 { // a hang guard, not a timing assertion
			t.Fatal("the campaign did not complete")
		}
		if err := a.Campaigns.Step(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := a.Campaigns.Get(ctx, admin, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State == campaign.Completed && got.Dataset != "" {
			break
		}
		if got.State == campaign.FailedC || got.State == campaign.Paused || got.State == campaign.Stopped {
			t.Fatalf("campaign %s: %s", got.State, got.Reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
	st, err = a.Mission.Status(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	if m := milestone(t, st, "labs-reviewed"); m.Status != plan.Met {
		t.Errorf("labs after the campaign: %s %q", m.Status, m.Missing)
	}
	m := milestone(t, st, "initial-operating-capability")
	if m.Status != plan.Met || len(m.Evidence) == 0 || m.Evidence[0].Link != "/api/v1/campaigns/flow" {
		t.Errorf("IOC after the campaign: %s %q %+v", m.Status, m.Missing, m.Evidence)
	}
}

// TestMissionHiddenIsMissing (invariant 4): what a reader sees of the
// mission — status and risks — on a platform holding challenges and a
// dataset above the reader's clearance is exactly what the reader sees on
// one where they were never made.
func TestMissionHiddenIsMissing(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testMissionHiddenIsMissing(t, func() string { return "" }) })
	t.Run("postgres", func(t *testing.T) { testMissionHiddenIsMissing(t, func() string { return storetest.PostgresDSN(t) }) })
}

func testMissionHiddenIsMissing(t *testing.T, dsn func() string) {
	ctx := context.Background()
	view := func(hidden bool) (string, string) {
		a, admin, ch := missionAppOn(t, dsn())
		if _, err := a.Identity.RegisterCompartment(ctx, admin, "FUSION"); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Identity.CreateOrg(ctx, genesis.Organization{Name: "argonne", Country: "USA", Kind: "laboratory"}); err != nil {
			t.Fatal(err)
		}
		alice, err := a.Identity.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleContributor}})
		if err != nil {
			t.Fatal(err)
		}
		carol, err := a.Identity.CreatePrincipal(ctx, genesis.Principal{Name: "carol", Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleViewer}})
		if err != nil {
			t.Fatal(err)
		}
		mk := func(name, domain, lbl string) {
			sp, err := mission.Parse([]byte("name: " + name + "\ntitle: T\ndomain: " + domain + "\nstatement: S.\nlead: argonne\nlabel: " + lbl +
				"\ntargets:\n  - {metric: yield, unit: \"%\", direction: max, target: 90, baseline: 60}\n"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ch.Create(ctx, alice, sp); err != nil {
				t.Fatal(err)
			}
		}
		mk("ch-open", "robotics", "OPEN")
		if hidden {
			mk("ch-secret", "biotechnology", "PROPRIETARY//FUSION")
			if _, err := a.Catalog.Create(ctx, alice, catalog.CreateSpec{Name: "secret-data", Label: "PROPRIETARY//FUSION"}); err != nil {
				t.Fatal(err)
			}
		}
		st, err := a.Mission.Status(ctx, carol)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := a.Mission.Risks(ctx, carol)
		if err != nil {
			t.Fatal(err)
		}
		sb, _ := json.Marshal(st)
		rb, _ := json.Marshal(rs)
		return string(sb), string(rb)
	}
	hs, hr := view(true)
	ms, mr := view(false)
	if d := cmp.Diff(ms, hs); d != "" {
		t.Errorf("status differs with hidden objects (-missing +hidden)\n%s", d)
	}
	if d := cmp.Diff(mr, hr); d != "" {
		t.Errorf("risks differ with hidden objects (-missing +hidden)\n%s", d)
	}
	if !strings.Contains(hs, "19 more challenges (1 of 20 identified)") {
		t.Errorf("carol's status: %s", hs)
	}
}

// TestMissionAuditHidden (invariant 4): the leakage trend of an auditor
// not cleared for a dataset counts none of the records about it — a denied
// request for its name counts as one for a missing name does — while an
// auditor cleared for it counts them; and a viewer gets no trend at all.
func TestMissionAuditHidden(t *testing.T) {
	ctx := context.Background()
	count := func(hidden bool) (open, cleared int) {
		a, admin, _ := missionApp(t)
		if _, err := a.Identity.RegisterCompartment(ctx, admin, "FUSION"); err != nil {
			t.Fatal(err)
		}
		mk := func(name, clearance string, role genesis.Role) *genesis.Principal {
			p, err := a.Identity.CreatePrincipal(ctx, genesis.Principal{Name: name, Clearance: clearance, Roles: []genesis.Role{role}})
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		alice := mk("alice", "PROPRIETARY//FUSION", genesis.RoleContributor)
		carol := mk("carol", "OPEN", genesis.RoleContributor)
		stew := mk("stew", "OPEN", genesis.RoleSteward)
		fusion := mk("fusion-stew", "PROPRIETARY//FUSION", genesis.RoleSteward)
		if hidden {
			if _, err := a.Catalog.Create(ctx, alice, catalog.CreateSpec{Name: "secret", Label: "PROPRIETARY//FUSION"}); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			if _, err := a.Catalog.Get(ctx, carol, "secret"); !errors.Is(errors.NotExist, err) {
				t.Fatalf("carol read secret: %v", err)
			}
		}
		// Everything appended so far is integrated once a later record is.
		if _, err := a.Audit.AppendSync(ctx, audit.Record{Principal: "test", Action: "test.sync", ObjectType: "test", Decision: audit.Allow, Label: openMarking}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := a.API.AuditEvents(ctx, carol, time.Now().Add(-time.Hour), plan.MaxAuditScan); !errors.Is(errors.Permission, err) {
			t.Errorf("a contributor read the audit trend: %v", err)
		}
		n := func(p *genesis.Principal) int {
			ev, _, err := a.API.AuditEvents(ctx, p, time.Now().Add(-time.Hour), plan.MaxAuditScan)
			if err != nil {
				t.Fatal(err)
			}
			return len(ev)
		}
		return n(stew), n(fusion)
	}
	hOpen, hCleared := count(true)
	mOpen, mCleared := count(false)
	if hOpen != mOpen {
		t.Errorf("an uncleared auditor counts %d records with a hidden dataset, %d without it", hOpen, mOpen)
	}
	if hCleared <= mCleared {
		t.Errorf("a cleared auditor counts %d records with the dataset, %d without it", hCleared, mCleared)
	}
}

var openMarking, _ = label.MustParse("OPEN").MarshalBinary()

// TestMissionStatusDemo: on the demo `genesis up` seeds, the mission
// status is meaningful out of the box: the challenges milestone is met by
// the demo challenges (counted as demo data), and every milestone says
// what it rests on or exactly what is missing.
func TestMissionStatusDemo(t *testing.T) {
	ctx := context.Background()
	a, admin, _ := missionApp(t)
	if _, err := a.setUpDemo(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	st, err := a.Mission.Status(ctx, admin)
	if err != nil {
		t.Fatal(err)
	}
	m := milestone(t, st, "challenges-identified")
	if m.Status != plan.Met || len(m.Evidence) == 0 || !strings.Contains(m.Evidence[0].Text, "demo data") {
		t.Errorf("demo challenges: %s %q %+v", m.Status, m.Missing, m.Evidence)
	}
	for _, m := range st.Milestones {
		if m.Status == plan.NotAvailable {
			t.Errorf("%s not available on the demo: %q", m.ID, m.Missing)
		}
		if m.Status != plan.Met && len(m.Missing) == 0 {
			t.Errorf("%s is %s and says nothing is missing", m.ID, m.Status)
		}
		t.Logf("%s: %s %.0f%% %q", m.ID, m.Status, 100*m.Progress, m.Missing)
	}
}
