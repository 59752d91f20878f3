package mission_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestCreateGetList(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.dataset(w.bob, "open-data", "OPEN")
		c := w.create(w.bob, spec("catalysts", `links:
  - {kind: dataset, ref: open-data}
`))
		if !strings.HasPrefix(c.ID, "chl_") || c.Domain != "critical-minerals-materials" || c.Lead.Name != "argonne" || len(c.Partners) != 1 || c.Partners[0].Name != "mit" {
			t.Errorf("created %+v", c)
		}
		if len(c.Links) != 1 || c.Links[0].Kind != "dataset" || c.Links[0].Name != "open-data" || !strings.HasPrefix(c.Links[0].ID, "ds_") && c.Links[0].ID == "" {
			t.Errorf("links = %+v", c.Links)
		}
		if c.Label != "OPEN" || c.Targets[0].Metric != "yield" || c.Targets[0].Target != 90 {
			t.Errorf("label/targets = %s %+v", c.Label, c.Targets)
		}
		for _, ref := range []string{c.ID, "catalysts"} {
			g, err := w.svc.Get(ctx, w.carol, ref)
			if err != nil || g.ID != c.ID {
				t.Errorf("get %s as carol: %+v, %v", ref, g, err)
			}
		}
		secret := w.create(w.alice, strings.Replace(spec("fusion-secret", "label: NATIONAL-SECURITY//FUSION\n"), "critical minerals & materials", "fusion", 1))
		if secret.Domain != "nuclear-fission-fusion" {
			t.Errorf("domain fusion → %s", secret.Domain)
		}
		// Hidden is missing: same error, same message shape.
		_, e1 := w.svc.Get(ctx, w.bob, secret.ID)
		_, e2 := w.svc.Get(ctx, w.bob, "chl_nothing")
		_, e3 := w.svc.Get(ctx, w.bob, "fusion-secret")
		for _, e := range []error{e1, e2, e3} {
			if !errors.Is(errors.NotExist, e) {
				t.Errorf("hidden/missing: %v", e)
			}
		}
		if strings.Contains(errors.SafeMessage(e1), "fusion") || strings.Contains(errors.SafeMessage(e3), secret.ID) {
			t.Errorf("message betrays: %q %q", errors.SafeMessage(e1), errors.SafeMessage(e3))
		}
		list := func(p any, o mission.ListOptions) []string {
			t.Helper()
			var out []string
			for {
				var cs []mission.Challenge
				var next string
				var err error
				switch p {
				case "alice":
					cs, next, err = w.svc.List(ctx, w.alice, o)
				default:
					cs, next, err = w.svc.List(ctx, w.bob, o)
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cs {
					out = append(out, c.Name)
				}
				if next == "" {
					return out
				}
				o.Cursor = next
			}
		}
		if got := fmt.Sprint(list("bob", mission.ListOptions{Limit: 1})); got != "[catalysts]" {
			t.Errorf("bob lists %s", got)
		}
		if got := fmt.Sprint(list("alice", mission.ListOptions{Limit: 1})); got != "[fusion-secret catalysts]" {
			t.Errorf("alice lists %s", got)
		}
		if got := fmt.Sprint(list("alice", mission.ListOptions{Domain: "Nuclear fission & fusion energy"})); got != "[fusion-secret]" {
			t.Errorf("alice lists nuclear: %s", got)
		}
		if _, _, err := w.svc.List(ctx, w.alice, mission.ListOptions{Domain: "robotcs"}); !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), `did you mean "robotics"`) {
			t.Errorf("typo domain: %v", err)
		}
		if _, _, err := w.svc.List(ctx, w.alice, mission.ListOptions{Cursor: "garbage"}); !errors.Is(errors.Invalid, err) {
			t.Errorf("bad cursor: %v", err)
		}
		// A viewer may read, not write.
		if _, err := w.svc.Create(ctx, w.carol, parse(t, spec("viewer-made", ""))); !errors.Is(errors.Permission, err) {
			t.Errorf("viewer creates: %v", err)
		}
	})
}

// Names are polyinstantiated as campaign names: a challenge bob cannot
// read is not in the way of his; one he can read is.
func TestNames(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		hiddenOne := w.create(w.alice, spec("same", "label: NATIONAL-SECURITY//FUSION\n"))
		mine := w.create(w.bob, spec("same", ""))
		if _, err := w.svc.Create(ctx, w.bob, parse(t, spec("same", ""))); !errors.Is(errors.Exist, err) {
			t.Errorf("second visible same: %v", err)
		}
		if g, err := w.svc.Get(ctx, w.bob, "same"); err != nil || g.ID != mine.ID {
			t.Errorf("bob's same = %v, %v", g, err)
		}
		if g, err := w.svc.Get(ctx, w.alice, "same"); err != nil || g.ID != hiddenOne.ID {
			t.Errorf("alice's same (the oldest she reads) = %v, %v", g, err)
		}
	})
}

func TestBadInput(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.dataset(w.alice, "secret-data", "NATIONAL-SECURITY//FUSION")
		w.dataset(w.bob, "open-data", "OPEN")
		w.create(w.bob, spec("parent", ""))
		for _, tc := range []struct {
			name, src, field, msg string
		}{
			{"unknown metric", strings.Replace(spec("x", ""), "metric: yield", "metric: yeild", 1), "targets[0].metric", `did you mean "yield"?`},
			{"unit of wrong dimension", strings.Replace(spec("x", ""), `unit: "%"`, `unit: "eV"`, 1), "targets[0].unit", "not a unit of yield"},
			{"mission metric wrong unit", spec("x", "") + "  - {metric: coherence_time, unit: kg, direction: max, target: 1, baseline: 0.1}\n", "targets[1].unit", "not a unit of coherence_time"},
			{"baseline equals target", strings.Replace(spec("x", ""), "baseline: 60", "baseline: 90", 1), "targets[0].baseline", "equals the target"},
			{"wrong way", strings.Replace(spec("x", ""), "direction: max", "direction: min", 1), "targets[0].target", "below the baseline"},
			{"unknown domain", strings.Replace(spec("x", ""), "critical minerals & materials", "biotechnolgy", 1), "domain", `did you mean "biotechnology"?`},
			{"unknown organisation", strings.Replace(spec("x", ""), "[mit]", "[nowhere-u]", 1), "partners[0]", `organisation "nowhere-u" not found`},
			{"unknown lead", strings.Replace(spec("x", ""), "lead: argonne", "lead: nobody", 1), "lead", "not found"},
			{"missing dataset", spec("x", "links:\n  - {kind: dataset, ref: no-such}\n"), "links[0].ref", `dataset "no-such" not found`},
			{"unreadable dataset", spec("x", "links:\n  - {kind: dataset, ref: secret-data}\n"), "links[0].ref", `dataset "secret-data" not found`},
			{"dataset is no model", spec("x", "links:\n  - {kind: model, ref: open-data}\n"), "links[0].ref", `model "open-data" not found`},
			{"duplicate link", spec("x", "links:\n  - {kind: dataset, ref: open-data}\n  - {kind: dataset, ref: open-data}\n"), "links[1]", "duplicate link"},
			{"self part", spec("x", "links:\n  - {kind: challenge, ref: x}\n"), "links[0].ref", "part of itself"},
			{"unknown link kind", spec("x", "links:\n  - {kind: datset, ref: open-data}\n"), "links[0].kind", `did you mean "dataset"?`},
			{"chl name", spec("chl_abc", ""), "name", "challenge IDs"},
			{"control chars", strings.Replace(spec("x", ""), "Better catalysts", "Better\\u0007catalysts", 1), "title", ""},
			{"unknown field", spec("x", "targts: []\n"), "targts", `did you mean "targets"?`},
			{"unknown target field", strings.Replace(spec("x", ""), "baseline: 60", "baseline: 60, dirction: max", 1), "targets[0].dirction", `did you mean "direction"?`},
			{"no targets", strings.Replace(spec("x", ""), "targets:\n  - {metric: yield, unit: \"%\", direction: max, target: 90, baseline: 60}\n", "targets: []\n", 1), "targets", "at least one"},
			{"oversized statement", strings.Replace(spec("x", ""), "  Two lines.", "  "+strings.Repeat("long ", 4000), 1), "statement", ""},
			{"metric without objective", spec("x", "links:\n  - {kind: model, ref: m, metric: yield}\n"), "links[0].objective", "name the objective"},
			{"objective metric not a target", spec("x", "links:\n  - {kind: model, ref: m, objective: s, metric: fidelity}\n"), "links[0].metric", "not one of this challenge's target metrics"},
			{"metric mapping to no target", spec("x", "links:\n  - {kind: dataset, ref: open-data, objective: y}\n"), "links[0].objective", "has none"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if strings.Contains(tc.src, "\\u0007") {
					tc.src = strings.Replace(tc.src, "title: Better\\u0007catalysts", "title: \"Better\\acatalysts\"", 1)
				}
				sp, err := mission.Parse([]byte(tc.src))
				if err == nil {
					_, err = w.svc.Create(ctx, w.bob, sp)
				}
				if !errors.Is(errors.Invalid, err) {
					t.Fatalf("err = %v, want Invalid", err)
				}
				if f := errors.FieldOf(err); f != tc.field {
					t.Errorf("field = %q, want %q (%v)", f, tc.field, err)
				}
				if !strings.Contains(errors.SafeMessage(err), tc.msg) {
					t.Errorf("message %q lacks %q", errors.SafeMessage(err), tc.msg)
				}
			})
		}
		// A link to a thing bob cannot read is refused exactly as one to a
		// missing thing: same kind, field and message beside the name.
		_, e1 := w.svc.Create(ctx, w.bob, parse(t, spec("x", "links:\n  - {kind: dataset, ref: secret-data}\n")))
		_, e2 := w.svc.Create(ctx, w.bob, parse(t, spec("x", "links:\n  - {kind: dataset, ref: secret-dat4}\n")))
		if strings.Replace(errors.SafeMessage(e1), "secret-data", "NAME", 1) != strings.Replace(errors.SafeMessage(e2), "secret-dat4", "NAME", 1) || errors.KindOf(e1) != errors.KindOf(e2) {
			t.Errorf("hidden %v vs missing %v", e1, e2)
		}
		// Nothing half-stored.
		if cs, _, _ := w.svc.List(ctx, w.alice, mission.ListOptions{}); len(cs) != 1 {
			t.Errorf("after refusals: %d challenges", len(cs))
		}
	})
}

func TestCyclesAndUpdate(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		a := w.create(w.bob, spec("a", ""))
		w.create(w.bob, spec("b", "links:\n  - {kind: challenge, ref: a}\n"))
		w.create(w.bob, spec("c", "links:\n  - {kind: challenge, ref: b}\n"))
		// a part of c: c → b → a → c.
		links := []mission.LinkSpec{{Kind: "challenge", Ref: "c"}}
		_, err := w.svc.Update(ctx, w.bob, "a", mission.Patch{Links: &links})
		if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "cycle") || errors.FieldOf(err) != "links[0].ref" {
			t.Errorf("cycle: %v", err)
		}
		title := "A new title"
		u, err := w.svc.Update(ctx, w.bob, a.ID, mission.Patch{Title: &title})
		if err != nil || u.Title != title || !u.UpdatedAt.After(a.UpdatedAt) && !u.UpdatedAt.Equal(a.UpdatedAt) {
			t.Fatalf("update: %+v, %v", u, err)
		}
		// Carol (viewer) may read, not change.
		if _, err := w.svc.Update(ctx, w.carol, "a", mission.Patch{Title: &title}); !errors.Is(errors.Permission, err) {
			t.Errorf("viewer updates: %v", err)
		}
		// The label may rise, not fall.
		hi, lo := "NATIONAL-SECURITY//FUSION", "OPEN"
		if _, err := w.svc.Update(ctx, w.alice, "a", mission.Patch{Label: &hi}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.Update(ctx, w.alice, "a", mission.Patch{Label: &lo}); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "label" {
			t.Errorf("lowering: %v", err)
		}
		if _, err := w.svc.Get(ctx, w.bob, "a"); !errors.Is(errors.NotExist, err) {
			t.Errorf("raised challenge still visible to bob: %v", err)
		}
		// b's link to a is now hidden from bob, and kept when bob updates b.
		b, err := w.svc.Get(ctx, w.bob, "b")
		if err != nil || len(b.Links) != 0 {
			t.Fatalf("bob's b = %+v, %v", b, err)
		}
		if _, err := w.svc.Update(ctx, w.bob, "b", mission.Patch{Title: &title}); err != nil {
			t.Fatal(err)
		}
		if b, _ := w.svc.Get(ctx, w.alice, "b"); len(b.Links) != 1 || b.Links[0].ID != a.ID {
			t.Errorf("alice's b = %+v: the link bob could not see was lost", b.Links)
		}
	})
}

// An OPEN challenge linked (by alice) to restricted things betrays
// nothing to an OPEN reader: the links are not shown, and progress uses
// only what the reader may read.
func TestLinksAsViewer(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		w.dataset(w.alice, "secret-data", "NATIONAL-SECURITY//FUSION")
		w.dataset(w.bob, "open-data", "OPEN")
		w.model(w.alice, "secret-model", "secret-data", map[string]float64{"yield": 95})
		w.model(w.bob, "open-model", "open-data", map[string]float64{"yield": 70})
		w.model(w.bob, "mapped-model", "open-data", map[string]float64{"score": 75, "yield": 1})
		c := w.create(w.alice, spec("mixed", `links:
  - {kind: dataset, ref: secret-data}
  - {kind: dataset, ref: open-data}
  - {kind: model, ref: secret-model}
  - {kind: model, ref: open-model}
  - {kind: model, ref: mapped-model, objective: score}
`))
		if len(c.Links) != 5 {
			t.Fatalf("alice sees %d links", len(c.Links))
		}
		bc, err := w.svc.Get(ctx, w.carol, "mixed")
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range bc.Links {
			if strings.Contains(l.Name, "secret") {
				t.Errorf("carol sees %+v", l)
			}
		}
		if len(bc.Links) != 3 {
			t.Errorf("carol sees %d links, want 3", len(bc.Links))
		}
		pa, err := w.svc.Progress(ctx, w.alice, "mixed")
		if err != nil {
			t.Fatal(err)
		}
		pc, err := w.svc.Progress(ctx, w.carol, "mixed")
		if err != nil {
			t.Fatal(err)
		}
		if tp := pa.Targets[0]; !tp.Reached || *tp.Best != 95 || tp.ReachedBy.Name != "secret-model" || pa.Label != "NATIONAL-SECURITY//FUSION" {
			t.Errorf("alice's progress %+v, label %s (computed from a restricted model)", tp, pa.Label)
		}
		// The mapped model counts its "score" (not its "yield") toward yield.
		if tp := pc.Targets[0]; tp.Reached || *tp.Best != 75 || tp.Fraction != 0.5 || tp.BestBy.Name != "mapped-model" || tp.Observations != 2 || pc.Label != "OPEN" {
			t.Errorf("carol's progress %+v, label %s", tp, pc.Label)
		}
	})
}

// Every mutation is on the audit log under the challenge's label, reads
// above OPEN too, and a hidden or missing challenge asked for is a denial
// that does not name what was hidden.
func TestAudit(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	w := newWorld(t, db)
	c := w.create(w.alice, spec("audited", "label: NATIONAL-SECURITY//FUSION\n"))
	title := "Audited"
	if _, err := w.svc.Update(ctx, w.alice, "audited", mission.Patch{Title: &title}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.Get(ctx, w.alice, c.ID); err != nil {
		t.Fatal(err)
	}
	w.svc.Get(ctx, w.bob, c.ID)
	n, _ := w.log.Size(ctx)
	seen := map[string]string{}
	for i := uint64(0); i < n; i++ {
		e, err := w.log.Get(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(e.Action, "challenge.") {
			seen[e.Action+" "+string(e.Decision)+" "+e.Principal] = e.ObjectID
		}
	}
	for _, want := range []string{"challenge.create allow " + string(w.alice.ID), "challenge.update allow " + string(w.alice.ID), "challenge.read allow " + string(w.alice.ID), "challenge.read deny " + string(w.bob.ID)} {
		if _, ok := seen[want]; !ok {
			t.Errorf("no %q on the audit log: %v", want, seen)
		}
	}
}

// Sites and instruments link by name, are stored by ID, and show with
// their names (the registries show them to every reader); a missing one is
// not found.
func TestSiteAndInstrumentLinks(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		w := newWorld(t, db)
		if _, err := w.sites.EnsureLocal(ctx, "OPEN", sites.Capacity{Nodes: 1, CoresPerNode: 2, MemoryGBNode: 1}); err != nil {
			t.Fatal(err)
		}
		settings, _ := json.Marshal(map[string]any{"model": "flow-reactor"})
		if _, err := w.ins.Ensure(ctx, instruments.Spec{Name: "reactor", Kind: "sim", Settings: settings, Accreditation: "OPEN"}); err != nil {
			t.Fatal(err)
		}
		c := w.create(w.alice, spec("kit", `links:
  - {kind: site, ref: local}
  - {kind: instrument, ref: reactor}
`))
		if len(c.Links) != 2 || c.Links[0].Name != "local" || !strings.HasPrefix(c.Links[0].ID, "site_") || c.Links[1].Name != "reactor" || !strings.HasPrefix(c.Links[1].ID, "ins_") {
			t.Errorf("alice's links %+v", c.Links)
		}
		for _, l := range []string{"{kind: instrument, ref: no-reactor}", "{kind: site, ref: no-site}"} {
			if _, err := w.svc.Create(ctx, w.bob, parse(t, spec("kit2", "links:\n  - "+l+"\n"))); !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "not found") {
				t.Errorf("%s: %v", l, err)
			}
		}
		got, err := w.svc.Get(ctx, w.carol, "kit")
		if err != nil || len(got.Links) != 2 {
			t.Errorf("carol's links %+v, %v", got, err)
		}
	})
}
