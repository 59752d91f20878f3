package instruments_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

var ctx = context.Background()

type env struct {
	db                            store.DB
	reg                           *instruments.Registry
	log                           *audit.Memory
	admin, op, sci, svc, opSecret *genesis.Principal
	halts                         *haltLog
	root                          string // the drivers' state root
}

type haltLog struct {
	mu  sync.Mutex
	got map[string][]string
}

func (h *haltLog) of(id string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.got[id]...)
}

func setup(t testing.TB, db store.DB) *env {
	t.Helper()
	id := identity.New(db)
	if _, err := id.Bootstrap(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	e := &env{db: db, log: audit.NewMemory(), halts: &haltLog{got: map[string][]string{}}}
	e.admin, _ = id.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	mk := func(name, clearance string, kind genesis.PrincipalKind, role genesis.Role) *genesis.Principal {
		p, err := id.CreatePrincipal(ctx, genesis.Principal{Clearance: clearance, Name: name, Kind: kind, Nationality: "USA", Roles: []genesis.Role{role}})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	e.op = mk("opal", "OPEN", genesis.KindUser, genesis.RoleOperator)
	e.opSecret = mk("oscar", "NATIONAL-SECURITY", genesis.KindUser, genesis.RoleOperator)
	e.sci = mk("sci", "OPEN", genesis.KindUser, genesis.RoleContributor)
	e.svc = mk("robot", "NATIONAL-SECURITY", genesis.KindService, genesis.RoleOperator)
	az, err := authz.New(id, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.root = t.TempDir()
	e.reg = instruments.New(db, az, id, e.root)
	e.reg.Audit = e.log
	e.reg.Timeout = 2 * time.Second // the hanging device's admin commands end here
	e.reg.OnHalt(func(id, reason string) {
		e.halts.mu.Lock()
		defer e.halts.mu.Unlock()
		e.halts.got[id] = append(e.halts.got[id], reason)
	})
	t.Cleanup(func() { e.reg.Close() })
	return e
}

// audited reports whether the log holds a record of action on id.
func (e *env) audited(t testing.TB, action, id string) bool {
	t.Helper()
	n, _ := e.log.Size(ctx)
	for i := uint64(0); i < n; i++ {
		r, err := e.log.Get(ctx, i)
		if err == nil && r.Action == "instrument."+action && r.ObjectID == id {
			return true
		}
	}
	return false
}

func endpoint(t testing.TB, name string) string { return "testdev://" + t.Name() + "/" + name }

func TestRegistry(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		e := setup(t, db)
		dev := newDev(endpoint(t, "r1"))
		spec := instruments.Spec{Name: "reactor-1", Kind: "testdev", Endpoint: endpoint(t, "r1"), Lab: "Argonne 241", Location: "bay 3",
			OwnerOrg: "anl", Nationalities: []string{"usa"}, Accreditation: "PROPRIETARY", Settings: []byte(`{"speed": 10}`),
			Bounds: instruments.Bounds{"heat": {"temperature": {Max: f(120)}, "catalyst": {Choices: []string{"Pd", "Ni"}}}}}
		if _, err := e.reg.Add(ctx, e.sci, spec); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor adds an instrument: %v", err)
		}
		// Bad specs: each refused naming its field.
		for _, c := range []struct {
			field, msg string
			edit       func(s *instruments.Spec)
		}{
			{"kind", "unknown instrument kind", func(s *instruments.Spec) { s.Kind = "warp-drive" }},
			{"kind", "required", func(s *instruments.Spec) { s.Kind = "" }},
			{"name", "", func(s *instruments.Spec) { s.Name = "bad name\u202e" }},
			{"accreditation", "", func(s *instruments.Spec) { s.Accreditation = "TOP-SECRET-ISH" }},
			{"accreditation", "", func(s *instruments.Spec) { s.Accreditation = "PROPRIETARY//AGR:NOPE-1" }},
			{"operator_nationalities", "", func(s *instruments.Spec) { s.Nationalities = []string{"usa", "12"} }},
			{"settings", "JSON object", func(s *instruments.Spec) { s.Settings = []byte(`[1]`) }},
			{"workcell", "no workcell", func(s *instruments.Spec) { s.Workcell = "nowhere" }},
			{"bounds.heat.temperature.max", "temperature maximum 180 °C is above the instrument's bound 150 °C", func(s *instruments.Spec) {
				s.Bounds = instruments.Bounds{"heat": {"temperature": {Max: f(180)}}}
			}},
			{"bounds.heat.temperature.min", "temperature minimum 10 °C is below the instrument's bound 20 °C", func(s *instruments.Spec) {
				s.Bounds = instruments.Bounds{"heat": {"temperature": {Min: f(10)}}}
			}},
			{"bounds.heat.catalyst", "choice \"Pt\" is not one the instrument offers", func(s *instruments.Spec) {
				s.Bounds = instruments.Bounds{"heat": {"catalyst": {Choices: []string{"Pd", "Pt"}}}}
			}},
			{"bounds.heat.time", "above its maximum", func(s *instruments.Spec) {
				s.Bounds = instruments.Bounds{"heat": {"time": {Min: f(100), Max: f(50)}}}
			}},
			{"bounds", "does not offer", func(s *instruments.Spec) { s.Bounds = instruments.Bounds{"fly": {}} }},
			{"bounds.heat.pressure", "does not take", func(s *instruments.Spec) {
				s.Bounds = instruments.Bounds{"heat": {"pressure": {Max: f(1)}}}
			}},
		} {
			s := spec
			c.edit(&s)
			_, err := e.reg.Add(ctx, e.op, s)
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field || !strings.Contains(errors.SafeMessage(err), c.msg) {
				t.Errorf("%s: err = %v (field %q)", c.field, err, errors.FieldOf(err))
			}
		}
		if all, _ := e.reg.All(ctx); len(all) != 0 {
			t.Fatalf("refused specs left %d instruments", len(all))
		}
		if dirs, _ := os.ReadDir(e.root); len(dirs) != 0 {
			t.Errorf("refused specs left %d driver state directories", len(dirs))
		}
		wc, err := e.reg.AddWorkcell(ctx, e.op, instruments.WorkcellSpec{Name: "flow-cell", Lab: "Argonne 241", Description: "flow chemistry"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.AddWorkcell(ctx, e.op, instruments.WorkcellSpec{Name: "flow-cell"}); !errors.Is(errors.Exist, err) {
			t.Errorf("duplicate workcell: %v", err)
		}
		if _, err := e.reg.AddWorkcell(ctx, e.sci, instruments.WorkcellSpec{Name: "mine"}); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor adds a workcell: %v", err)
		}
		spec.Workcell = "flow-cell"
		in, err := e.reg.Add(ctx, e.op, spec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.Add(ctx, e.op, spec); !errors.Is(errors.Exist, err) {
			t.Errorf("duplicate name: %v", err)
		}
		if !e.audited(t, "add", in.ID) {
			t.Error("add not audited")
		}
		heat := in.Action("heat")
		if in.Status != lab.Idle || in.Workcell != "flow-cell" || !in.HasSettings || in.Model != "test reactor" || heat == nil ||
			*heat.Params[0].Max != 120 || *heat.Params[0].Min != 20 || strings.Join(heat.Params[2].Choices, ",") != "Pd,Ni" ||
			len(in.Consumables) != 1 || in.Nationalities[0] != "USA" {
			t.Errorf("instrument = %+v", in)
		}
		// Every authenticated principal reads instruments.
		for _, p := range []*genesis.Principal{e.sci, e.op} {
			if got, err := e.reg.Get(ctx, p, "reactor-1"); err != nil || got.ID != in.ID {
				t.Errorf("get by name: %v", err)
			}
			if got, err := e.reg.Get(ctx, p, in.ID); err != nil || got.Name != "reactor-1" {
				t.Errorf("get by ID: %v", err)
			}
		}
		if _, err := e.reg.Get(ctx, e.sci, "nope"); !errors.Is(errors.NotExist, err) {
			t.Errorf("get missing: %v", err)
		}
		w, err := e.reg.Workcell(ctx, e.sci, wc.Name)
		if err != nil || len(w.Instruments) != 1 || w.Instruments[0] != "reactor-1" {
			t.Errorf("workcell = %+v, %v", w, err)
		}
		// Select: by instrument, by workcell and action.
		if ids, err := e.reg.Select(ctx, e.sci, "", "flow-cell", "heat"); err != nil || len(ids) != 1 || ids[0] != in.ID {
			t.Errorf("select workcell = %v, %v", ids, err)
		}
		if _, err := e.reg.Select(ctx, e.sci, "", "flow-cell", "fly"); !errors.Is(errors.NotExist, err) {
			t.Errorf("select workcell without the action: %v", err)
		}
		if _, err := e.reg.Select(ctx, e.sci, "reactor-1", "", "fly"); !errors.Is(errors.NotExist, err) {
			t.Errorf("select instrument without the action: %v", err)
		}
		if a, err := e.reg.Action(ctx, in.ID, "heat"); err != nil || *a.Params[0].Max != 120 {
			t.Errorf("action = %+v, %v", a, err)
		}

		// Status: an operator's hold outlasts the poller.
		if _, err := e.reg.SetStatus(ctx, e.sci, "reactor-1", instruments.SetMaintenance, ""); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor sets status: %v", err)
		}
		if _, err := e.reg.SetStatus(ctx, e.op, "reactor-1", "broken", ""); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "status" {
			t.Errorf("bad status: %v", err)
		}
		got, err := e.reg.SetStatus(ctx, e.op, "reactor-1", instruments.SetMaintenance, "new seals")
		if err != nil || got.Status != lab.Offline || got.StatusReason != "maintenance: new seals" {
			t.Errorf("maintenance = %+v, %v", got, err)
		}
		if err := e.reg.PollAll(ctx); err != nil {
			t.Fatal(err)
		}
		if got, _ := e.reg.Get(ctx, e.op, in.ID); got.Status != lab.Offline || got.CheckedAt == nil {
			t.Errorf("poll cleared an operator's hold: %+v", got)
		}
		if got, _ := e.reg.SetStatus(ctx, e.op, "reactor-1", instruments.SetIdle, ""); got.Status != lab.Idle {
			t.Errorf("idle = %+v", got)
		}

		// Refresh reads the description again.
		dev.set(func(d *testDev) {
			d.info.Actions = append(d.info.Actions, lab.Action{Name: "flush"})
			d.info.Model = "test reactor mk2"
		})
		if got, err := e.reg.Refresh(ctx, e.op, "reactor-1"); err != nil || got.Action("flush") == nil || got.Model != "test reactor mk2" ||
			*got.Action("heat").Params[0].Max != 120 {
			t.Errorf("refresh = %+v, %v", got, err)
		}

		// Remove: refused while locked or running.
		if _, err := e.reg.Lock(ctx, e.op, "reactor-1", "cmp_a"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.Lock(ctx, e.op, "reactor-1", "cmp_b"); !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "cmp_a") {
			t.Errorf("lock held by another: %v", err)
		}
		if err := e.reg.Remove(ctx, e.op, "reactor-1"); !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "locked by campaign cmp_a") {
			t.Errorf("remove while locked: %v", err)
		}
		if _, err := e.reg.Unlock(ctx, e.op, "reactor-1"); err != nil {
			t.Fatal(err)
		}
		dev.set(func(d *testDev) { d.status = lab.NodeStatus{Status: lab.Busy, Running: []string{"x1"}} })
		if err := e.reg.Remove(ctx, e.op, "reactor-1"); !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "running") {
			t.Errorf("remove while running: %v", err)
		}
		dev.set(func(d *testDev) { d.status = lab.NodeStatus{Status: lab.Idle} })
		if err := e.reg.Remove(ctx, e.sci, "reactor-1"); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor removes: %v", err)
		}
		if err := e.reg.Remove(ctx, e.op, "reactor-1"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.reg.Get(ctx, e.op, "reactor-1"); !errors.Is(errors.NotExist, err) {
			t.Errorf("removed instrument: %v", err)
		}
		for _, a := range []string{"set-status", "refresh", "lock", "unlock", "remove"} {
			if !e.audited(t, a, in.ID) {
				t.Errorf("%s not audited", a)
			}
		}
	})
}

// add registers a test device as an instrument.
func (e *env) add(t testing.TB, name, acc string, nats []string) (*instruments.Instrument, *testDev) {
	t.Helper()
	dev := newDev(endpoint(t, name))
	in, err := e.reg.Add(ctx, e.op, instruments.Spec{Name: name, Kind: "testdev", Endpoint: endpoint(t, name), Accreditation: acc, Nationalities: nats})
	if err != nil {
		t.Fatal(err)
	}
	return in, dev
}

var okHeat = lab.Request{ID: "r1", Action: "heat", Params: map[string]any{"temperature": 100.0, "time": 60.0, "catalyst": "Pd"}}

func TestEmergencyStop(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		e := setup(t, db)
		a, devA := e.add(t, "a", "OPEN", nil)
		b, devB := e.add(t, "b", "OPEN", nil)
		open := label.MustParse("OPEN")
		// A node that hangs on the stop does not hold it up past the
		// registry's timeout, and the stop holds regardless.
		devA.set(func(d *testDev) { d.hang = true })
		var logged syncBuf
		e.reg.Log = slog.New(slog.NewTextHandler(&logged, nil))
		if _, err := e.reg.EStop(ctx, e.sci, "a"); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor e-stops: %v", err)
		}
		got, err := e.reg.EStop(ctx, e.op, "a")
		if err != nil || got.Status != lab.EStopped || !strings.Contains(got.StatusReason, "opal") {
			t.Fatalf("estop = %+v, %v", got, err)
		}
		if cmds := devA.commands(); len(cmds) != 1 || cmds[0] != lab.SafetyStop {
			t.Errorf("device got %v", cmds)
		}
		if !strings.Contains(logged.String(), "did not take the safety stop") || !strings.Contains(logged.String(), "instrument=a") {
			t.Errorf("the hanging node's stop is not logged: %q", logged.String())
		}
		if h := e.halts.of(a.ID); len(h) != 1 || !strings.Contains(h[0], "e-stopped") {
			t.Errorf("halt hooks = %v", h)
		}
		if !e.audited(t, "estop", a.ID) {
			t.Error("estop not audited")
		}
		if err := e.reg.Admit(ctx, a.ID, "c", open, okHeat); !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "e-stopped") {
			t.Errorf("admit on an e-stopped instrument: %v", err)
		}
		// The poller does not clear it.
		e.reg.PollAll(ctx)
		if err := e.reg.Admit(ctx, a.ID, "c", open, okHeat); !errors.Is(errors.Conflict, err) {
			t.Errorf("admit after a poll: %v", err)
		}
		// A reset the node does not take keeps the stop.
		devA.set(func(d *testDev) { d.hang, d.adminErr = false, errors.E(errors.Transient, errors.Msg("node gone")) })
		if _, err := e.reg.Reset(ctx, e.op, "a"); err == nil {
			t.Error("reset the node refused cleared the stop")
		}
		if err := e.reg.Admit(ctx, a.ID, "c", open, okHeat); !errors.Is(errors.Conflict, err) {
			t.Errorf("admit after a failed reset: %v", err)
		}
		devA.set(func(d *testDev) { d.adminErr = nil })
		if _, err := e.reg.Reset(ctx, e.sci, "a"); !errors.Is(errors.Permission, err) {
			t.Errorf("contributor resets: %v", err)
		}
		if got, err := e.reg.Reset(ctx, e.op, "a"); err != nil || got.Status != lab.Idle {
			t.Errorf("reset = %+v, %v", got, err)
		}
		if !e.audited(t, "reset", a.ID) {
			t.Error("reset not audited")
		}
		if err := e.reg.Admit(ctx, a.ID, "c", open, okHeat); err != nil {
			t.Errorf("admit after reset: %v", err)
		}
		// All at once.
		if n, err := e.reg.EStopAll(ctx, e.op); err != nil || n != 2 {
			t.Errorf("estop all = %d, %v", n, err)
		}
		for _, in := range []*instruments.Instrument{a, b} {
			if err := e.reg.Admit(ctx, in.ID, "c", open, okHeat); !errors.Is(errors.Conflict, err) {
				t.Errorf("%s after estop all: %v", in.Name, err)
			}
		}
		if cmds := devB.commands(); len(cmds) != 1 || cmds[0] != lab.SafetyStop {
			t.Errorf("b got %v", cmds)
		}
		if len(e.halts.of(b.ID)) != 1 {
			t.Errorf("b halts = %v", e.halts.of(b.ID))
		}
	})
}

func TestPoller(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		e := setup(t, db)
		in, dev := e.add(t, "p", "OPEN", nil)
		dev.set(func(d *testDev) {
			d.status = lab.NodeStatus{Status: lab.Busy, Running: []string{"x"}, Consumables: []lab.Consumable{{Name: "solvent", Unit: "mL", Level: 42, Capacity: 1000}}}
		})
		if err := e.reg.PollAll(ctx); err != nil {
			t.Fatal(err)
		}
		got, _ := e.reg.Get(ctx, e.sci, "p")
		if got.Status != lab.Busy || got.Running != 1 || got.Consumables[0].Level != 42 {
			t.Errorf("after poll: %+v", got)
		}
		// Unreachable: offline, and the hooks hear of it once.
		dev.set(func(d *testDev) { d.statusErr = errors.E(errors.Transient, errors.Msg("connection refused\x1b[2J")) })
		e.reg.PollAll(ctx)
		e.reg.PollAll(ctx)
		got, _ = e.reg.Get(ctx, e.sci, "p")
		if got.Status != lab.Offline || !strings.Contains(got.StatusReason, "connection refused") || strings.ContainsRune(got.StatusReason, 0x1b) {
			t.Errorf("unreachable: %+v", got)
		}
		if h := e.halts.of(in.ID); len(h) != 1 {
			t.Errorf("halts = %v", h)
		}
		if err := e.reg.Admit(ctx, in.ID, "c", label.MustParse("OPEN"), okHeat); !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "offline") {
			t.Errorf("admit while offline: %v", err)
		}
		// Garbage status: error.
		dev.set(func(d *testDev) { d.statusErr, d.status = nil, lab.NodeStatus{Status: "on-fire"} })
		e.reg.PollAll(ctx)
		if got, _ := e.reg.Get(ctx, e.sci, "p"); got.Status != lab.Error {
			t.Errorf("unknown status: %+v", got)
		}
		dev.set(func(d *testDev) { d.status = lab.NodeStatus{Status: lab.Idle} })
		e.reg.PollAll(ctx)
		if err := e.reg.Admit(ctx, in.ID, "c", label.MustParse("OPEN"), okHeat); err != nil {
			t.Errorf("admit once back: %v", err)
		}
		// The inventory counts by status and accreditation.
		e.add(t, "q", "PROPRIETARY", nil)
		inv, err := e.reg.Inventory(ctx, e.sci)
		if err != nil || inv.Total != 2 || inv.ByStatus["idle"] != 2 || inv.ByLevel["OPEN"] != 1 || inv.ByLevel["PROPRIETARY"] != 1 {
			t.Errorf("inventory = %+v, %v", inv, err)
		}
	})
}

func TestApprovals(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		e := setup(t, db)
		in, _ := e.add(t, "igniter", "NATIONAL-SECURITY", nil)
		open, secret := label.MustParse("OPEN"), label.MustParse("NATIONAL-SECURITY")
		// A check without a request ID (a campaign being created) asks
		// for no approval: nobody is asked about a run that will not happen.
		if err := e.reg.Admit(ctx, in.ID, "cmp_a", open, lab.Request{Action: "ignite", Params: map[string]any{"power": 50.0}}); err != nil {
			t.Fatalf("check of a hazardous action: %v", err)
		}
		if list, err := e.reg.Approvals(ctx, e.op, false); err != nil || len(list) != 0 {
			t.Fatalf("a check asked for approvals: %+v, %v", list, err)
		}
		req := lab.Request{ID: "exp-1", Action: "ignite", Params: map[string]any{"power": 50.0}}
		err := e.reg.Admit(ctx, in.ID, "cmp_a", open, req)
		if !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "awaiting approval apr_") {
			t.Fatalf("hazardous admit: %v", err)
		}
		// Once per request ID.
		err2 := e.reg.Admit(ctx, in.ID, "cmp_a", open, req)
		if errors.SafeMessage(err) != errors.SafeMessage(err2) {
			t.Errorf("second admit: %v, first %v", err2, err)
		}
		list, err := e.reg.Approvals(ctx, e.op, false)
		if err != nil || len(list) != 1 || list[0].Action != "ignite" || list[0].Campaign != "cmp_a" || list[0].Params["power"] != 50.0 || list[0].State != instruments.Pending {
			t.Fatalf("approvals = %+v, %v", list, err)
		}
		apr := list[0].ID
		if l, _ := e.reg.Approvals(ctx, e.sci, false); len(l) != 0 {
			t.Errorf("contributor sees approvals: %+v", l)
		}
		if _, err := e.reg.Approve(ctx, e.sci, apr); !errors.Is(errors.NotExist, err) {
			t.Errorf("contributor approves: %v", err)
		}
		if _, err := e.reg.Approve(ctx, e.svc, apr); !errors.Is(errors.Permission, err) || !strings.Contains(errors.SafeMessage(err), "named person") {
			t.Errorf("service account approves: %v", err)
		}
		a, err := e.reg.Approve(ctx, e.op, apr)
		if err != nil || a.State != instruments.Approved || a.DecidedBy != "opal" || a.DecidedAt == nil {
			t.Fatalf("approve = %+v, %v", a, err)
		}
		if !e.audited(t, "approval.approve", in.ID) {
			t.Error("approval not audited")
		}
		if _, err := e.reg.Deny(ctx, e.op, apr, "changed my mind"); !errors.Is(errors.Conflict, err) {
			t.Errorf("deny after approve: %v", err)
		}
		if err := e.reg.Admit(ctx, in.ID, "cmp_a", open, req); err != nil {
			t.Errorf("approved admit: %v", err)
		}
		// The approval covers what was asked, nothing else.
		for _, other := range []struct {
			campaign string
			req      lab.Request
		}{
			{"cmp_a", lab.Request{ID: "exp-1", Action: "ignite", Params: map[string]any{"power": 99.0}}},
			{"cmp_b", req},
		} {
			if err := e.reg.Admit(ctx, in.ID, other.campaign, open, other.req); !errors.Is(errors.Invalid, err) {
				t.Errorf("approved request ID reused for %v in %s: %v", other.req.Params, other.campaign, err)
			}
		}
		if err := e.reg.Admit(ctx, in.ID, "cmp_a", open, lab.Request{ID: "exp-1", Action: "ignite", Params: map[string]any{"power": 50}}); err != nil {
			t.Errorf("same parameters as an int: %v", err)
		}
		// Another request needs its own approval; a denial fails it.
		req2 := lab.Request{ID: "exp-2", Action: "ignite", Params: map[string]any{"power": 90.0}}
		e.reg.Admit(ctx, in.ID, "cmp_a", open, req2)
		list, _ = e.reg.Approvals(ctx, e.op, false)
		if len(list) != 1 || list[0].RequestID != "exp-2" {
			t.Fatalf("pending = %+v", list)
		}
		if _, err := e.reg.Deny(ctx, e.op, list[0].ID, ""); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "reason" {
			t.Errorf("deny without reason: %v", err)
		}
		if _, err := e.reg.Deny(ctx, e.op, list[0].ID, "too much power"); err != nil {
			t.Fatal(err)
		}
		if !e.audited(t, "approval.deny", in.ID) {
			t.Error("denial not audited")
		}
		if err := e.reg.Admit(ctx, in.ID, "cmp_a", open, req2); !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "denied by opal: too much power") {
			t.Errorf("denied admit: %v", err)
		}
		// Concurrent asks for one new request make one approval.
		req4 := lab.Request{ID: "exp-4", Action: "ignite", Params: map[string]any{"power": 1.0}}
		msgs := make([]string, 8)
		var wg sync.WaitGroup
		for i := range msgs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				err := e.reg.Admit(ctx, in.ID, "cmp_a", open, req4)
				if !errors.Is(errors.Conflict, err) {
					msgs[i] = "unexpected: " + fmt.Sprint(err)
					return
				}
				msgs[i] = errors.SafeMessage(err)
			}()
		}
		wg.Wait()
		for _, m := range msgs {
			if m != msgs[0] || !strings.Contains(m, "awaiting approval apr_") {
				t.Errorf("concurrent asks: %q", msgs)
				break
			}
		}
		var rows int
		db.View(ctx, func(tx store.Tx) error {
			return tx.QueryRow(ctx, `SELECT COUNT(*) FROM instrument_approvals WHERE request_id = 'exp-4'`).Scan(&rows)
		})
		if rows != 1 {
			t.Errorf("%d approvals for one request", rows)
		}
		// An approval for a campaign above the operator's clearance is
		// missing to them; a cleared operator decides it.
		req3 := lab.Request{ID: "exp-3", Action: "ignite", Params: map[string]any{"power": 10.0}}
		e.reg.Admit(ctx, in.ID, "cmp_s", secret, req3)
		var hidden string
		all, _ := e.reg.Approvals(ctx, e.opSecret, false)
		for _, x := range all {
			if x.RequestID == "exp-3" {
				hidden = x.ID
			}
		}
		if hidden == "" {
			t.Fatalf("cleared operator does not see the approval: %+v", all)
		}
		if !e.audited(t, "approval.read", in.ID) {
			t.Error("a read of a NATIONAL-SECURITY campaign's approval is not on the record")
		}
		if l, _ := e.reg.Approvals(ctx, e.op, true); len(l) != 3 {
			t.Errorf("uncleared operator sees %d approvals, want 3", len(l))
		}
		_, hiddenErr := e.reg.Approve(ctx, e.op, hidden)
		_, missingErr := e.reg.Approve(ctx, e.op, "apr_"+strings.Repeat("x", len(hidden)-4))
		if !errors.Is(errors.NotExist, hiddenErr) || strings.ReplaceAll(errors.SafeMessage(hiddenErr), hidden, "ID") != strings.ReplaceAll(errors.SafeMessage(missingErr), "apr_"+strings.Repeat("x", len(hidden)-4), "ID") {
			t.Errorf("uncleared approve: %v; missing: %v", hiddenErr, missingErr)
		}
		if _, err := e.reg.Approve(ctx, e.opSecret, hidden); err != nil {
			t.Errorf("cleared approve: %v", err)
		}
	})
}

// A driver's description comes from outside: its text is cleaned before it
// is stored, and one Admit could not enforce is refused.
func TestDescriptionFromOutside(t *testing.T) {
	e := setup(t, storetest.Migrated(t, storetest.SQLite))
	dev := newDev(endpoint(t, "x"))
	dev.set(func(d *testDev) {
		d.info.Model = "evil\x1b[2J model"
		d.info.Actions[0].Description = "heats\u202e things"
		d.info.Actions[0].Params[0].Unit = "°C\x07"
	})
	in, err := e.reg.Add(ctx, e.op, instruments.Spec{Name: "x", Kind: "testdev", Endpoint: endpoint(t, "x"), Accreditation: "OPEN"})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{in.Model, in.Actions[0].Description, in.Actions[0].Params[0].Unit} {
		if strings.ContainsAny(s, "\x1b\u202e\x07") {
			t.Errorf("stored %q", s)
		}
	}
	for name, edit := range map[string]func(d *testDev){
		"nan bound":    func(d *testDev) { d.info = reactor(); d.info.Actions[0].Params[0].Max = f(math.NaN()) },
		"twice":        func(d *testDev) { d.info = reactor(); d.info.Actions[1].Name = "heat" },
		"unknown kind": func(d *testDev) { d.info = reactor(); d.info.Actions[0].Params[0].Kind = "vector" },
		"control name": func(d *testDev) { d.info = reactor(); d.info.Actions[0].Name = "he\x1bat" },
	} {
		dev := newDev(endpoint(t, name))
		dev.set(edit)
		if _, err := e.reg.Add(ctx, e.op, instruments.Spec{Name: "y", Kind: "testdev", Endpoint: endpoint(t, name), Accreditation: "OPEN"}); !errors.Is(errors.Invalid, err) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Ensure and EnsureWorkcell register the platform's own instruments once
// (genesis up), whatever is already there.
func TestEnsure(t *testing.T) {
	e := setup(t, storetest.Migrated(t, storetest.SQLite))
	newDev(endpoint(t, "demo"))
	for i, want := range []bool{true, false} {
		if got, err := e.reg.EnsureWorkcell(ctx, instruments.WorkcellSpec{Name: "demo-cell"}); err != nil || got != want {
			t.Errorf("workcell %d: %v, %v", i, got, err)
		}
		got, err := e.reg.Ensure(ctx, instruments.Spec{Name: "demo", Kind: "testdev", Endpoint: endpoint(t, "demo"), Accreditation: "OPEN", Workcell: "demo-cell"})
		if err != nil || got != want {
			t.Errorf("instrument %d: %v, %v", i, got, err)
		}
	}
	if _, err := e.reg.Ensure(ctx, instruments.Spec{Name: "bad", Kind: "nope", Accreditation: "OPEN"}); !errors.Is(errors.Invalid, err) {
		t.Errorf("bad spec: %v", err)
	}
	in, err := e.reg.Get(ctx, e.sci, "demo")
	if err != nil || in.CreatedBy != "genesis" || in.Workcell != "demo-cell" {
		t.Errorf("demo = %+v, %v", in, err)
	}
	if ids, err := e.reg.Select(ctx, e.sci, "", "demo-cell", "heat"); err != nil || len(ids) != 1 {
		t.Errorf("select = %v, %v", ids, err)
	}
}

// syncBuf is a bytes.Buffer safe for concurrent writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
