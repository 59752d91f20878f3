package instruments_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

func TestCheckParamsMessages(t *testing.T) {
	info := reactor()
	heat := info.Action("heat")
	for _, c := range []struct {
		params     map[string]any
		field, msg string
	}{
		{map[string]any{"temperature": 180.0, "time": 60.0, "catalyst": "Pd"}, "params.temperature", "temperature 180 °C is above the safety bound 150 °C"},
		{map[string]any{"temperature": 10, "time": 60.0, "catalyst": "Pd"}, "params.temperature", "temperature 10 °C is below the safety bound 20 °C"},
		{map[string]any{"temperature": math.NaN(), "time": 60.0, "catalyst": "Pd"}, "params.temperature", "temperature must be a finite number"},
		{map[string]any{"temperature": "hot", "time": 60.0, "catalyst": "Pd"}, "params.temperature", "temperature must be a number"},
		{map[string]any{"temperature": 100.0, "time": 1.5, "catalyst": "Pd"}, "params.time", "time 1.5 s must be an integer"},
		{map[string]any{"temperature": 100.0, "catalyst": "Pd"}, "params.time", "time is required by action \"heat\""},
		{map[string]any{"temperature": 100.0, "time": 60.0, "catalyst": "Pt"}, "params.catalyst", "catalyst \"Pt\" is not one of the allowed choices Pd, Ni, Cu"},
		{map[string]any{"temperature": 100.0, "time": 60.0, "catalyst": "Pd", "pressure": 2.0}, "params.pressure", "unknown parameter \"pressure\" for action \"heat\""},
		{map[string]any{"temperature": 100.0, "time": 60.0, "catalyst": "Pd", "stir": 2000.0}, "params.stir", "stir 2000 rpm is above the safety bound 1000 rpm"},
		{map[string]any{"temperature": 100.0, "time": int64(60), "catalyst": "Pd"}, "", ""},
	} {
		err := instruments.CheckParams(heat, c.params)
		if c.field == "" {
			if err != nil {
				t.Errorf("%v: %v", c.params, err)
			}
			continue
		}
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != c.field || errors.SafeMessage(err) != c.msg {
			t.Errorf("%v: got %q (field %q), want %q", c.params, errors.SafeMessage(err), errors.FieldOf(err), c.msg)
		}
	}
}

// ask is one Admit's arguments.
type ask struct {
	campaign string
	l        label.Label
	req      lab.Request
	ok       bool
	bad      string
}

// model is the reference model of one instrument's safety state.
type model struct {
	in        *instruments.Instrument
	dev       *testDev
	acc       label.Label
	nats      []string
	live      lab.Status
	estopped  bool
	held      bool
	lockedBy  string
	approvals map[string]string // request ID → state
	asked     map[string]string // request ID → campaign and parameters the approval is for
	first     map[string]ask    // request ID → the request that made the approval
	aprIDs    map[string]string // request ID → approval ID
}

// expect is what Admit must answer, by the simple rules of lab.Fleet, and
// which parameter an Invalid must name ("" when any may do).
func (m *model) expect(campaign string, l label.Label, req lab.Request, paramsOK bool, badParam string) (errors.Kind, string) {
	if !paramsOK {
		return errors.Invalid, badParam
	}
	nations, restricted := l.ReleasableTo()
	cleared := !restricted || (len(m.nats) > 0 && !slices.ContainsFunc(m.nats, func(n string) bool { return !slices.Contains(nations, n) }))
	if !label.Dominates(m.acc, l) || !cleared {
		return errors.Permission, ""
	}
	if m.estopped || m.held || (m.live != lab.Idle && m.live != lab.Busy) {
		return errors.Conflict, ""
	}
	if m.lockedBy != "" && m.lockedBy != campaign {
		return errors.Conflict, ""
	}
	if req.Action == "ignite" {
		ps, _ := json.Marshal(req.Params)
		what := campaign + " " + string(ps)
		if m.approvals[req.ID] != "" && m.asked[req.ID] != what {
			return errors.Invalid, ""
		}
		m.asked[req.ID] = what
		switch m.approvals[req.ID] {
		case instruments.Approved:
			return errors.Other, ""
		case instruments.Denied:
			return errors.Invalid, ""
		case "":
			m.approvals[req.ID] = instruments.Pending
		}
		return errors.Conflict, ""
	}
	return errors.Other, ""
}

// randomRequest draws a request and says whether its parameters are valid
// (and, when exactly one is not, which).
func randomRequest(rng *rand.Rand, id string) (lab.Request, bool, string) {
	var bad []string
	params := map[string]any{}
	// At most one parameter is broken, in two requests of five.
	broken := ""
	if rng.IntN(5) < 2 {
		broken = []string{"power", "temperature", "time", "stir", "catalyst", "pressure"}[rng.IntN(6)]
	}
	num := func(name string, lo, hi float64, integer, optional bool) {
		c := 5 + rng.IntN(5)
		if name == broken {
			c = rng.IntN(5)
		} else if optional && rng.IntN(2) == 0 {
			c = 3
		}
		switch c {
		case 0:
			params[name] = lo - 1 - rng.Float64()*100
			bad = append(bad, name)
		case 1:
			params[name] = hi + 1 + rng.Float64()*100
			bad = append(bad, name)
		case 2:
			params[name] = []any{math.NaN(), math.Inf(1), "warm", true}[rng.IntN(4)]
			bad = append(bad, name)
		case 3:
			if !optional {
				bad = append(bad, name)
			}
		case 4:
			if integer {
				params[name] = math.Floor(lo+rng.Float64()*(hi-lo-1)) + 0.5
				bad = append(bad, name)
				return
			}
			fallthrough
		default:
			v := lo + rng.Float64()*(hi-lo)
			if integer {
				v = math.Floor(v)
			}
			params[name] = v
		}
	}
	if rng.IntN(3) == 0 {
		num("power", 0, 100, false, false)
		if broken != "power" {
			// The same request asks for the same power each time, as a
			// runner re-sending it does.
			params["power"] = float64(10 + 10*int(id[len(id)-1]-'0'))
		}
		return lab.Request{ID: "ign-" + id, Action: "ignite", Params: params}, len(bad) == 0, only(bad)
	}
	if rng.IntN(25) == 0 {
		return lab.Request{ID: id, Action: "teleport", Params: params}, false, ""
	}
	num("temperature", 20, 150, false, false)
	num("time", 1, 3600, true, false)
	num("stir", 0, 1000, false, true)
	switch {
	case broken == "catalyst" && rng.IntN(3) == 0:
		params["catalyst"] = 3.0
		bad = append(bad, "catalyst")
	case broken == "catalyst" && rng.IntN(2) == 0:
		params["catalyst"] = "Pt"
		bad = append(bad, "catalyst")
	case broken == "catalyst":
		bad = append(bad, "catalyst")
	default:
		params["catalyst"] = []string{"Pd", "Ni", "Cu"}[rng.IntN(3)]
	}
	if broken == "pressure" {
		params["pressure"] = 1.0
		bad = append(bad, "pressure")
	}
	return lab.Request{ID: id, Action: "heat", Params: params}, len(bad) == 0, only(bad)
}

func only(bad []string) string {
	if len(bad) == 1 {
		return "params." + bad[0]
	}
	return ""
}

// TestAdmitModel drives random instruments — accreditations, operator
// nationalities, live statuses, holds, e-stops, locks and approvals — and
// random requests through the real registry, and checks every Admit
// against the reference model.
func TestAdmitModel(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	e := setup(t, db)
	seed := uint64(20261207)
	rng := rand.New(rand.NewPCG(seed, 1))
	accs := []string{"OPEN", "PROPRIETARY", "NATIONAL-SECURITY", "NATIONAL-SECURITY//REL TO USA, GBR"}
	natss := [][]string{nil, {"USA"}, {"USA", "FRA"}}
	var ms []*model
	for i, acc := range accs {
		for j, nats := range natss {
			in, dev := e.add(t, fmt.Sprintf("i%d-%d", i, j), acc, nats)
			ms = append(ms, &model{in: in, dev: dev, acc: label.MustParse(acc), nats: nats, live: lab.Idle,
				approvals: map[string]string{}, aprIDs: map[string]string{}, asked: map[string]string{}, first: map[string]ask{}})
		}
	}
	labels := []label.Label{label.MustParse("OPEN"), label.MustParse("OPEN"), label.MustParse("OPEN"), label.MustParse("PROPRIETARY"), label.MustParse("NATIONAL-SECURITY"),
		label.MustParse("OPEN//REL TO USA"), label.MustParse("PROPRIETARY//REL TO USA, GBR"), label.MustParse("NATIONAL-SECURITY//REL TO USA, GBR")}
	statuses := []lab.Status{lab.Idle, lab.Idle, lab.Busy, lab.Error, lab.Offline, lab.Paused, lab.EStopped}
	campaigns := []string{"cmp_a", "cmp_b"}
	trials := 800
	if testing.Short() {
		trials = 150
	}
	seen := map[errors.Kind]int{}
	for trial := range trials {
		m := ms[rng.IntN(len(ms))]
		name := m.in.Name
		// Change one piece of the instrument's state, through the API.
		step := rng.IntN(6)
		if len(m.aprIDs) > 0 && rng.IntN(2) == 0 {
			step = 5
		}
		switch step {
		case 0:
			s := statuses[rng.IntN(len(statuses))]
			m.dev.set(func(d *testDev) { d.status = lab.NodeStatus{Status: s} })
			if err := e.reg.PollAll(ctx); err != nil {
				t.Fatal(err)
			}
			m.live = s
		case 1:
			if m.estopped {
				if _, err := e.reg.Reset(ctx, e.op, name); err != nil {
					t.Fatal(err)
				}
				m.estopped = false
			} else if rng.IntN(3) == 0 {
				if _, err := e.reg.EStop(ctx, e.op, name); err != nil {
					t.Fatal(err)
				}
				m.estopped = true
			}
		case 2:
			st := []string{instruments.SetIdle, instruments.SetIdle, instruments.SetIdle, instruments.SetOffline, instruments.SetMaintenance}[rng.IntN(5)]
			if _, err := e.reg.SetStatus(ctx, e.op, name, st, ""); err != nil {
				t.Fatal(err)
			}
			m.held = st != instruments.SetIdle
		case 3:
			c := campaigns[rng.IntN(2)]
			_, err := e.reg.Lock(ctx, e.op, name, c)
			if m.lockedBy != "" && m.lockedBy != c {
				if !errors.Is(errors.Conflict, err) {
					t.Fatalf("trial %d: lock held by %s for %s: %v", trial, m.lockedBy, c, err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else {
				m.lockedBy = c
			}
		case 4:
			if _, err := e.reg.Unlock(ctx, e.op, name); err != nil {
				t.Fatal(err)
			}
			m.lockedBy = ""
		case 5:
			// Decide a pending approval of this instrument.
			for _, rid := range slices.Sorted(maps.Keys(m.approvals)) {
				if m.approvals[rid] != instruments.Pending {
					continue
				}
				var err error
				if rng.IntN(2) == 0 {
					_, err = e.reg.Approve(ctx, e.opSecret, m.aprIDs[rid])
					m.approvals[rid] = instruments.Approved
				} else {
					_, err = e.reg.Deny(ctx, e.opSecret, m.aprIDs[rid], "not today")
					m.approvals[rid] = instruments.Denied
				}
				if err != nil {
					t.Fatalf("trial %d: decide %s: %v", trial, m.aprIDs[rid], err)
				}
				break
			}
		}
		a := ask{campaign: campaigns[rng.IntN(2)], l: labels[rng.IntN(len(labels))]}
		a.req, a.ok, a.bad = randomRequest(rng, fmt.Sprintf("req-%d", rng.IntN(3)))
		if decided := slices.Sorted(maps.Keys(m.first)); len(decided) > 0 && rng.IntN(2) == 0 {
			// Ask again as the runner does after a decision (or a crash).
			a = m.first[decided[rng.IntN(len(decided))]]
		}
		campaign, l, req, ok, bad := a.campaign, a.l, a.req, a.ok, a.bad
		want, field := m.expect(campaign, l, req, ok, bad)
		if m.approvals[req.ID] != "" {
			if _, has := m.first[req.ID]; !has {
				m.first[req.ID] = a
			}
		}
		err := e.reg.Admit(ctx, m.in.ID, campaign, l, req)
		got := errors.Other
		if err != nil {
			got = errors.KindOf(err)
		}
		seen[want]++
		if req.Action == "ignite" && ok && want == errors.Other {
			seen[errors.Exist]++ // stands for "approved hazardous action admitted"
		}
		if req.Action == "ignite" && ok && want == errors.Invalid {
			seen[errors.Internal]++ // stands for "denied hazardous action failed"
		}
		if got != want {
			t.Fatalf("trial %d (seed %d): %s on %s (acc %s, nats %v, live %s, estop %v, held %v, lock %q) for %s %s: got %v (%v), want %v",
				trial, seed, req.Action, name, m.acc.Format(), m.nats, m.live, m.estopped, m.held, m.lockedBy, campaign, l.Format(), got, err, want)
		}
		if field != "" && errors.FieldOf(err) != field {
			t.Fatalf("trial %d: %v names %q, want %q", trial, err, errors.FieldOf(err), field)
		}
		if got == errors.Conflict && req.Action == "ignite" && m.approvals[req.ID] == instruments.Pending && strings.Contains(errors.SafeMessage(err), "awaiting approval") {
			msg := errors.SafeMessage(err)
			i := strings.Index(msg, "apr_")
			m.aprIDs[req.ID] = strings.Fields(msg[i:])[0]
		}
	}
	// The draw reaches every outcome, or the test proves little.
	for _, k := range []errors.Kind{errors.Other, errors.Invalid, errors.Permission, errors.Conflict} {
		if seen[k] < 5 {
			t.Errorf("only %d trials expected %v: %v", seen[k], k, seen)
		}
	}
	if seen[errors.Exist] < 10 || seen[errors.Internal] < 10 {
		t.Errorf("too few approved or denied hazardous actions asked again: %v", seen)
	}
	t.Logf("expected outcomes (exist: approved hazardous admitted, internal: denied refused): %v", seen)
}
