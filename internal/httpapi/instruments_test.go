package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// apiDev is a minimal driver for the API tests: one reactor with a
// hazardous action, always idle, taking every admin command.
type apiDev struct{}

func init() {
	lab.RegisterKind("apidev", func(lab.Config) (lab.Driver, error) { return apiDev{}, nil })
}

func fptr(v float64) *float64 { return &v }

func (apiDev) Info(context.Context) (*lab.Info, error) {
	return &lab.Info{Model: "api reactor", Actions: []lab.Action{
		{Name: "heat", Params: []lab.Param{{Name: "temperature", Kind: lab.Number, Unit: "°C", Min: fptr(20), Max: fptr(150)}},
			Outputs: []lab.Output{{Name: "yield", Unit: "%"}}},
		{Name: "ignite", Hazardous: true, Params: []lab.Param{{Name: "power", Kind: lab.Number, Unit: "W", Min: fptr(0), Max: fptr(100)}}},
	}, Consumables: []lab.Consumable{{Name: "solvent", Unit: "mL", Level: 5, Capacity: 10}}}, nil
}
func (apiDev) Status(context.Context) (*lab.NodeStatus, error) {
	return &lab.NodeStatus{Status: lab.Idle}, nil
}
func (apiDev) Start(context.Context, lab.Request) (*lab.Result, error) {
	return nil, errors.E(errors.Invalid, errors.Msg("runs nothing"))
}
func (apiDev) Result(context.Context, string) (*lab.Result, error) {
	return nil, errors.E(errors.NotExist)
}
func (apiDev) Admin(context.Context, lab.AdminCommand) error { return nil }
func (apiDev) Close() error                                  { return nil }

func TestInstrumentsAPI(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		exerciseInstruments(t, newHarness(t, db))
	})
}

// exerciseInstruments drives every instrument, workcell and approval
// operation; TestAPI calls it too, so that its every-operation check sees
// them.
func exerciseInstruments(t *testing.T, h *harness) {
	t.Helper()
	admin := h.admin
	h.do("POST", "/api/v1/principals", admin, map[string]any{"name": "carol", "nationality": "USA", "roles": []string{"contributor"}})
	var nt httpapi.CreateTokenResponse
	h.do("POST", "/api/v1/principals/carol/tokens", admin, map[string]any{}).decode(t, &nt)
	carol := nt.Secret

	if r := h.do("POST", "/api/v1/workcells", admin, map[string]any{"name": "cell", "lab": "B241"}); r.status != 201 {
		t.Fatalf("add workcell = %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/workcells", carol, map[string]any{"name": "mine"}); r.status != 403 {
		t.Errorf("contributor adds a workcell = %d", r.status)
	}
	body := map[string]any{"name": "r1", "kind": "apidev", "accreditation": "OPEN", "workcell": "cell", "settings": map[string]any{"token": "s3cret"},
		"bounds": map[string]any{"heat": map[string]any{"temperature": map[string]any{"max": 180}}}}
	r := h.do("POST", "/api/v1/instruments", admin, body)
	if p := r.problem(t); r.status != 400 || p.Field != "bounds.heat.temperature.max" || !strings.Contains(p.Detail, "150 °C") {
		t.Errorf("widening bound = %d %s", r.status, r.body)
	}
	body["bounds"] = map[string]any{"heat": map[string]any{"temperature": map[string]any{"max": 120}}}
	if r := h.do("POST", "/api/v1/instruments", carol, body); r.status != 403 {
		t.Errorf("contributor adds an instrument = %d", r.status)
	}
	var in instruments.Instrument
	r = h.do("POST", "/api/v1/instruments", admin, body)
	if r.status != 201 || strings.Contains(string(r.body), "s3cret") {
		t.Fatalf("add = %d %s", r.status, r.body)
	}
	r.decode(t, &in)
	if *in.Action("heat").Params[0].Max != 120 || !in.HasSettings || in.Workcell != "cell" {
		t.Errorf("added %+v", in)
	}
	for _, path := range []string{"/api/v1/instruments", "/api/v1/instruments/r1", "/api/v1/instruments/" + in.ID, "/api/v1/workcells", "/api/v1/workcells/cell"} {
		if r := h.do("GET", path, carol, nil); r.status != 200 || strings.Contains(string(r.body), "s3cret") {
			t.Errorf("GET %s = %d %s", path, r.status, r.body)
		}
	}
	if r := h.do("GET", "/api/v1/workcells/nowhere", carol, nil); r.status != 404 {
		t.Errorf("missing workcell = %d", r.status)
	}
	if r := h.do("POST", "/api/v1/instruments/r1/status", admin, map[string]any{"status": "maintenance", "reason": "seals"}); r.status != 200 || !strings.Contains(string(r.body), `"status":"offline"`) {
		t.Errorf("status = %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/instruments/r1/status", admin, map[string]any{"status": "idle"}); r.status != 200 {
		t.Errorf("idle = %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/instruments/r1/lock", admin, map[string]any{"campaign": "cmp_x"}); r.status != 200 {
		t.Errorf("lock = %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/instruments/r1/lock", admin, map[string]any{"campaign": "cmp_y"}); r.status != 409 || !strings.Contains(r.problem(t).Detail, "cmp_x") {
		t.Errorf("second lock = %d %s", r.status, r.body)
	}
	if r := h.do("DELETE", "/api/v1/instruments/r1", admin, nil); r.status != 409 {
		t.Errorf("delete while locked = %d", r.status)
	}
	if r := h.do("POST", "/api/v1/instruments/r1/unlock", admin, nil); r.status != 200 {
		t.Errorf("unlock = %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/instruments/r1/estop", carol, nil); r.status != 403 {
		t.Errorf("contributor estop = %d", r.status)
	}
	if r := h.do("POST", "/api/v1/instruments/r1/estop", admin, nil); r.status != 200 || !strings.Contains(string(r.body), `"status":"e-stopped"`) {
		t.Errorf("estop = %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/instruments/r1/reset", admin, nil); r.status != 200 || !strings.Contains(string(r.body), `"status":"idle"`) {
		t.Errorf("reset = %d %s", r.status, r.body)
	}
	var all httpapi.EStopAllResponse
	if r := h.do("POST", "/api/v1/instruments/estop", admin, nil); r.status != 200 {
		t.Errorf("estop all = %d %s", r.status, r.body)
	} else if r.decode(t, &all); all.Stopped != 1 {
		t.Errorf("estop all stopped %d", all.Stopped)
	}
	h.do("POST", "/api/v1/instruments/r1/reset", admin, nil)
	if r := h.do("POST", "/api/v1/instruments/r1/refresh", admin, nil); r.status != 200 {
		t.Errorf("refresh = %d %s", r.status, r.body)
	}

	// Approvals: the runner's Admit asks; a person decides.
	for _, id := range []string{"e1", "e2"} {
		err := h.instruments.Admit(ctx, in.ID, "cmp_x", label.MustParse("OPEN"), lab.Request{ID: id, Action: "ignite", Params: map[string]any{"power": 5.0}})
		if !errors.Is(errors.Conflict, err) {
			t.Fatalf("hazardous admit: %v", err)
		}
	}
	var aprs httpapi.List[instruments.Approval]
	if r := h.do("GET", "/api/v1/approvals", admin, nil); r.status != 200 {
		t.Fatalf("approvals = %d %s", r.status, r.body)
	} else {
		r.decode(t, &aprs)
	}
	if len(aprs.Items) != 2 || aprs.Items[0].Params["power"] != 5.0 {
		t.Fatalf("approvals = %+v", aprs.Items)
	}
	if r := h.do("GET", "/api/v1/approvals?all=maybe", admin, nil); r.status != 400 || r.problem(t).Field != "all" {
		t.Errorf("all=maybe = %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/approvals/"+aprs.Items[0].ID+"/approve", carol, nil); r.status != 404 {
		t.Errorf("contributor approves = %d", r.status)
	}
	if r := h.do("POST", "/api/v1/approvals/"+aprs.Items[0].ID+"/approve", admin, nil); r.status != 200 || !strings.Contains(string(r.body), `"state":"approved"`) {
		t.Errorf("approve = %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/approvals/"+aprs.Items[1].ID+"/deny", admin, map[string]any{}); r.status != 400 || r.problem(t).Field != "reason" {
		t.Errorf("deny without reason = %d %s", r.status, r.body)
	}
	if r := h.do("POST", "/api/v1/approvals/"+aprs.Items[1].ID+"/deny", admin, map[string]any{"reason": "no"}); r.status != 200 {
		t.Errorf("deny = %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/approvals?all=true", admin, nil); r.status != 200 || strings.Count(string(r.body), `"id":"apr_`) != 2 {
		t.Errorf("all approvals = %d %s", r.status, r.body)
	}
	if err := h.instruments.Admit(ctx, in.ID, "cmp_x", label.MustParse("OPEN"), lab.Request{ID: "e1", Action: "ignite", Params: map[string]any{"power": 5.0}}); err != nil {
		t.Errorf("approved admit: %v", err)
	}

	if r := h.do("GET", "/api/v1/inventory", carol, nil); r.status != 200 || !strings.Contains(string(r.body), `"instruments":{"total":1`) {
		t.Errorf("inventory = %d %s", r.status, r.body)
	}
	if r := h.do("DELETE", "/api/v1/instruments/r1", admin, nil); r.status != 204 {
		t.Errorf("delete = %d %s", r.status, r.body)
	}
	if r := h.do("GET", "/api/v1/instruments/r1", admin, nil); r.status != 404 {
		t.Errorf("deleted = %d", r.status)
	}
}
