package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
)

// opsPlatform is a booted Genesis with what genesis up registers for
// operations — the local site and a workcell of simulated instruments
// (lab/sim flow reactors, as the demo's) — and an operator, olga.
type opsPlatform struct {
	*System
	OperatorToken string
}

func newOpsPlatform(t *testing.T) *opsPlatform {
	t.Helper()
	sys := Boot(t)
	ctx := context.Background()
	if _, err := sys.App.Sites.EnsureLocal(ctx, "OPEN", sites.Capacity{Nodes: 1, CoresPerNode: 2, MemoryGBNode: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := sys.App.Instruments.EnsureWorkcell(ctx, instruments.WorkcellSpec{Name: "cell-1", Lab: "browser lab",
		Description: "simulated flow reactors"}); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"reactor-1", "reactor-2"} {
		settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": 50, "seed": i + 1})
		if _, err := sys.App.Instruments.Ensure(ctx, instruments.Spec{Name: name, Kind: "sim", Settings: settings, Lab: "browser lab",
			Location: fmt.Sprintf("bench %d", i+1), Workcell: "cell-1", Accreditation: "OPEN"}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := sys.App.Identity.CreatePrincipal(ctx, genesis.Principal{Name: "olga", Kind: genesis.KindUser, Nationality: "USA",
		Clearance: "OPEN", Roles: []genesis.Role{genesis.RoleOperator}})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := sys.App.Identity.CreateToken(ctx, p.ID, "browser", 0)
	if err != nil {
		t.Fatal(err)
	}
	return &opsPlatform{System: sys, OperatorToken: secret}
}

func (pf *opsPlatform) instrumentStatus(t *testing.T, name string) lab.Status {
	t.Helper()
	in, err := pf.App.Instruments.Get(context.Background(), pf.Admin(t), name)
	if err != nil {
		t.Fatal(err)
	}
	return in.Status
}

// rowStatus is the .status text of tr.instrument[data-name=NAME] on /labs.
func rowStatus(name string) string {
	return fmt.Sprintf(`(() => { const r = document.querySelector('tr.instrument[data-name=%q] .status'); return r ? r.textContent.trim() : "<missing>"; })()`, name)
}

// TestConsoleEStop: an operator opens /labs, presses the e-stop of a
// simulated instrument, confirms on the confirmation page (no browser
// dialog), and sees it e-stopped — as the registry does — then resets it.
func TestConsoleEStop(t *testing.T) {
	pf := newOpsPlatform(t)
	p := NewPage(t)
	p.SignIn(pf.URL, pf.OperatorToken)
	p.Open(pf.URL + "/labs")
	checkChrome(t, p, "open", "OPEN")
	if got := Eval[string](p, rowStatus("reactor-1")); got == "e-stopped" || got == "<missing>" {
		t.Fatalf("before the e-stop reactor-1's status is %q", got)
	}
	p.Screenshot("labs")

	p.Navigating("pressing e-stop on reactor-1",
		chromedp.Click(chromedp.CSS(`tr.instrument[data-name="reactor-1"] button.estop`)))
	if got := path(t, p); got != "/labs/instruments/reactor-1/estop" {
		t.Fatalf("e-stop led to %q, want the confirmation page", got)
	}
	checkChrome(t, p, "open", "OPEN")
	if !strings.Contains(p.Text(), "Confirm emergency stop of reactor-1") {
		t.Errorf("the confirmation page says %q", p.Text())
	}
	if s := pf.instrumentStatus(t, "reactor-1"); s == lab.EStopped {
		t.Fatalf("reactor-1 was stopped before the confirmation")
	}
	p.Screenshot("estop-confirm")
	p.Navigating("confirming", chromedp.Click(chromedp.CSS("#estop-confirm")))
	if got := path(t, p); got != "/labs" {
		t.Errorf("after confirming the browser is at %q, want /labs", got)
	}
	if got := Eval[string](p, rowStatus("reactor-1")); got != "e-stopped" {
		t.Errorf("after the e-stop /labs shows reactor-1 %q", got)
	}
	if got := Eval[string](p, `document.querySelector('tr.instrument[data-name="reactor-1"]').textContent`); !strings.Contains(got, "emergency stop by olga") {
		t.Errorf("/labs does not say who stopped reactor-1: %q", got)
	}
	if s := pf.instrumentStatus(t, "reactor-1"); s != lab.EStopped {
		t.Errorf("after the e-stop the registry says reactor-1 is %s", s)
	}
	if got := Eval[string](p, rowStatus("reactor-2")); got == "e-stopped" {
		t.Errorf("reactor-2 was stopped too")
	}
	p.Screenshot("labs-estopped")

	p.Navigating("resetting reactor-1",
		chromedp.Click(chromedp.CSS(`tr.instrument[data-name="reactor-1"] button.reset`)))
	if got := Eval[string](p, rowStatus("reactor-1")); got == "e-stopped" {
		t.Errorf("after reset /labs still shows reactor-1 e-stopped")
	}
	if s := pf.instrumentStatus(t, "reactor-1"); s == lab.EStopped {
		t.Errorf("after reset the registry says reactor-1 is still e-stopped")
	}
	if d := p.Dialogs(); len(d) != 0 {
		t.Errorf("the e-stop opened browser dialogs: %q", d)
	}
}

// TestConsoleJobLive: a job submitted through the service on the local
// site shows in /compute's queue; its page follows it from running to
// completed — state and log tail — without reloading (a marker set on the
// window survives).
func TestConsoleJobLive(t *testing.T) {
	pf := newOpsPlatform(t)
	ctx := context.Background()
	gate := filepath.Join(t.TempDir(), "go")
	j, err := pf.App.Jobs.Submit(ctx, pf.Admin(t), &compute.JobSpec{Name: "watch-me", Executable: "/bin/sh",
		Arguments:   []string{"-c", `echo started; while [ ! -e "$GATE" ]; do sleep 0.1; done; echo finished-ok`},
		Environment: map[string]string{"GATE": gate},
		Attributes:  compute.Attributes{Duration: compute.Duration(10 * time.Minute)}})
	if err != nil {
		t.Fatal(err)
	}
	p := NewPage(t)
	p.SignIn(pf.URL, pf.AdminToken)
	p.Open(pf.URL + "/compute")
	checkChrome(t, p, "open", "OPEN")
	if n := Eval[int](p, fmt.Sprintf(`document.querySelectorAll('table#sites tr.site[data-name="local"]').length + document.querySelectorAll('table#jobs tr.job[data-id=%q]').length`, j.ID)); n != 2 {
		t.Fatalf("/compute lacks the local site or the job (%d of 2)", n)
	}
	p.Navigating("opening the job", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr.job[data-id=%q] a`, j.ID))))
	if got := path(t, p); got != "/compute/jobs/"+j.ID {
		t.Fatalf("the job link led to %q", got)
	}
	checkChrome(t, p, "open", "OPEN")
	// Wait (live) until it runs and has said "started".
	p.Do("waiting for the job to run", Until(`document.getElementById("job-state").dataset.state === "running" && document.getElementById("job-stdout").textContent.includes("started")`))
	if n := Eval[int](p, `document.querySelectorAll('#job-explain tr.verdict.chosen[data-site="local"]').length`); n != 1 {
		t.Errorf("#job-explain does not show the local site chosen: %q", Eval[string](p, `document.getElementById("job-explain").textContent`))
	}
	Eval[bool](p, `window.__opsNoReload = true`)
	p.Screenshot("job-running")
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	p.Do("watching the job complete", Until(`document.getElementById("job-state").dataset.state === "completed"`))
	if !Eval[bool](p, `window.__opsNoReload === true`) {
		t.Errorf("the page was reloaded to show the new state")
	}
	if got := Eval[string](p, `document.getElementById("job-stdout").textContent`); !strings.Contains(got, "finished-ok") {
		t.Errorf("the live log tail %q lacks the job's last line", got)
	}
	if n := Eval[int](p, `document.querySelectorAll("#job-cancel").length`); n != 0 {
		t.Errorf("a completed job still offers cancel")
	}
	p.Screenshot("job")
	p.Open(pf.URL + "/compute")
	p.Screenshot("compute")
}

// TestConsoleOpsPhoneWidth: the operations pages fit a phone's width
// (wide tables scroll inside their box, not the page), and the e-stop
// button is reachable from the keyboard.
func TestConsoleOpsPhoneWidth(t *testing.T) {
	pf := newOpsPlatform(t)
	p := NewPage(t)
	p.Do("a phone-sized viewport", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile))
	p.SignIn(pf.URL, pf.OperatorToken)
	for _, u := range []string{"/compute", "/labs", "/labs/instruments/reactor-1", "/labs/instruments/reactor-1/estop", "/labs/estop"} {
		p.Open(pf.URL + u)
		checkChrome(t, p, "open", "OPEN")
		checkFitsWidth(t, p, u)
	}
	p.Screenshot("phone-labs-estop")
	p.Open(pf.URL + "/labs")
	focused := func() string {
		return Eval[string](p, `(() => { const e = document.activeElement; const r = e && e.closest("tr.instrument");
			return e && e.matches("button.estop") && r ? r.dataset.name : ""; })()`)
	}
	for i := 0; focused() != "reactor-1"; i++ {
		if i == 40 {
			t.Fatalf("40 Tabs never focused reactor-1's e-stop button")
		}
		p.Do("Tab", chromedp.KeyEvent("\t"))
	}
	p.Navigating("Enter on the e-stop button", chromedp.KeyEvent("\r"))
	if got := path(t, p); got != "/labs/instruments/reactor-1/estop" {
		t.Errorf("Enter on the e-stop button led to %q", got)
	}
}

// runCampaign is a small OPEN campaign on reactor-fast (a simulated flow
// reactor run fast) — the runs an instrument page lists.
const runCampaign = `name: fast-flow
title: Fast flow
label: OPEN
objectives:
  - {name: yield, goal: max, target: 99, unit: "%"}
params:
  - {name: temperature, kind: continuous, low: 30, high: 150, unit: °C}
budget: {experiments: 2, wall_time: 1h}
batch: 1
seed: 1
executor:
  instrument: reactor-fast
  action: run
  params: {residence_time: 5, concentration: 0.5, catalyst: Pd-A}
`

// TestConsoleInstrumentRuns: an instrument's page lists the runs of the
// campaigns using it, as the campaign runner records them.
func TestConsoleInstrumentRuns(t *testing.T) {
	pf := newOpsPlatform(t)
	ctx := context.Background()
	settings, _ := json.Marshal(map[string]any{"model": "flow-reactor", "speed": 5000, "seed": 7})
	if _, err := pf.App.Instruments.Ensure(ctx, instruments.Spec{Name: "reactor-fast", Kind: "sim", Settings: settings,
		Lab: "browser lab", Workcell: "cell-1", Accreditation: "OPEN"}); err != nil {
		t.Fatal(err)
	}
	spec, err := campaign.Parse([]byte(runCampaign))
	if err != nil {
		t.Fatal(err)
	}
	admin := pf.Admin(t)
	if _, err := pf.App.Campaigns.Create(ctx, admin, spec); err != nil {
		t.Fatal(err)
	}
	if _, err := pf.App.Campaigns.Start(ctx, admin, "fast-flow"); err != nil {
		t.Fatal(err)
	}
	p := NewPage(t)
	p.SignIn(pf.URL, pf.OperatorToken)
	p.Open(pf.URL + "/labs/instruments/reactor-fast")
	checkChrome(t, p, "open", "OPEN")
	// The runner dispatches in the background: reload until a run shows
	// (the page is not live; the wait is bounded by the action timeout).
	p.Do("waiting for a run on reactor-fast", Until(`(() => {
		if (document.querySelector('#instrument-runs tr.run')) return true;
		if (!window.__reloading) { window.__reloading = true; setTimeout(() => location.reload(), 500); }
		return false; })()`))
	if got := Eval[string](p, `document.querySelector('#instrument-runs tr.run').textContent`); !strings.Contains(got, "fast-flow") {
		t.Errorf("the run row %q does not name its campaign", got)
	}
	p.Screenshot("instrument")
}
