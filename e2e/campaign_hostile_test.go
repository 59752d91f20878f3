package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/lab/madsci/madscitest"
)

// TestCampaignBadInput (issue 13 "Bad input") sends `genesis campaign
// create` the mistakes users make, against a real `genesis up`: each gets
// a clear error naming what is wrong, and nothing is created. Prior data
// the author may not read is refused exactly as missing data is.
func TestCampaignBadInput(t *testing.T) {
	u := &labUser{t: t, dir: filepath.Join(t.TempDir(), "data")}
	u.start()
	u.setUpCrashLab()

	// A compartment, an administrator cleared for it, a dataset labelled
	// with it, and bob, a contributor cleared for OPEN only.
	u.must("admin", "compartment", "add", "FUSION")
	u.must("admin", "principal", "set-clearance", "admin", "PROPRIETARY//FUSION")
	work := t.TempDir()
	csvFile := filepath.Join(work, "runs.csv")
	os.WriteFile(csvFile, []byte("temperature,residence_time,concentration,catalyst,yield,impurity\n50,2,0.5,Pd-A,40,1\n"), 0o644)
	u.must("dataset", "create", "secret-runs", "--label", "PROPRIETARY//FUSION")
	u.must("dataset", "put", "secret-runs", csvFile)
	u.must("dataset", "create", "open-runs", "--label", "OPEN")
	u.must("dataset", "put", "open-runs", csvFile)
	m := regexp.MustCompile(`gnt_[A-Za-z0-9_-]+`).FindString(string(u.must("admin", "principal", "create", "bob", "--role", "contributor", "--token")))
	if m == "" {
		t.Fatal("no token for bob")
	}
	bob := &labUser{t: t, dir: u.dir, sys: u.sys, token: m}

	good := fmt.Sprintf(crashCampaign, "bad", 4)
	// The good file is good: bob creates it with readable prior data (and
	// it is removed from the count below).
	okFile := filepath.Join(work, "ok.yaml")
	os.WriteFile(okFile, []byte(strings.Replace(good, "name: bad", "name: fine", 1)+"prior:\n  - {dataset: open-runs, file: runs.csv}\n"), 0o644)
	bob.must("campaign", "create", "-f", okFile)

	edit := func(old, new string) string {
		if !strings.Contains(good, old) {
			t.Fatalf("the campaign file has no %q", old)
		}
		return strings.Replace(good, old, new, 1)
	}
	cases := []struct {
		name string
		who  *labUser
		file string
		says []string // in the error, in order of appearance not required
	}{
		{"invalid YAML", u, "name: [bad\n  objectives: :\n", []string{"campaign file"}},
		{"unknown key", u, good + "batchsize: 3\n", []string{`unknown field "batchsize"`}},
		{"inverted bounds", u, edit("low: 30, high: 150", "low: 150, high: 30"), []string{"params[0].high", "inverted bounds"}},
		{"missing objectives", u, edit("objectives:\n  - {name: yield, goal: max, unit: \"%\"}\n", ""), []string{"objectives", "missing"}},
		{"unknown param in a constraint", u, good + "constraints:\n  - {coef: {temprature: 1}, rel: \"<=\", rhs: 100}\n",
			[]string{"constraints[0].coef.temprature", `did you mean "temperature"`}},
		{"executor param the action lacks", u, edit("action: run}", `action: run, params: {temperatur: "${temperature}"}}`),
			[]string{"executor.params.temperatur", `unknown parameter "temperatur"`, `did you mean "temperature"`}},
		{"campaign param the action lacks", u, edit("name: concentration", "name: conc"),
			[]string{"params[2].name", `unknown parameter "conc"`}},
		{"missing instrument", u, edit("workcell: crash-cell", "instrument: no-such-reactor"), []string{"not found"}},
		{"missing workcell", u, edit("workcell: crash-cell", "workcell: no-such-cell"), []string{"not found"}},
		{"workcell not accredited for the label", u, good + "label: PROPRIETARY//FUSION\n",
			[]string{"may not run this campaign", "accredited for OPEN", "executor.workcell"}},
		{"unknown compartment", u, good + "label: PROPRIETARY//FUZION\n", []string{"label"}},
		{"prior data above the author's clearance", bob, good + "prior:\n  - {dataset: secret-runs, file: runs.csv}\n", []string{"not found"}},
		{"missing prior data", bob, good + "prior:\n  - {dataset: no-such-runs, file: runs.csv}\n", []string{"not found"}},
		{"prior file missing", bob, good + "prior:\n  - {dataset: open-runs, file: nope.csv}\n", []string{"prior[0]"}},
	}
	errs := map[string]string{}
	for _, tc := range cases {
		file := filepath.Join(work, strings.ReplaceAll(tc.name, " ", "-")+".yaml")
		os.WriteFile(file, []byte(tc.file), 0o644)
		out, err := tc.who.run("campaign", "create", "-f", file, "--start")
		if err == nil {
			t.Errorf("%s: created:\n%s", tc.name, out)
			continue
		}
		errs[tc.name] = string(out)
		for _, s := range tc.says {
			if !strings.Contains(string(out), s) {
				t.Errorf("%s: the error does not say %q:\n%s", tc.name, s, out)
			}
		}
		if strings.Contains(string(out), "internal error") || strings.Contains(string(out), "panic") {
			t.Errorf("%s: %s", tc.name, out)
		}
	}
	// A dataset bob may not read is answered exactly as a missing one.
	if a, b := errs["prior data above the author's clearance"], errs["missing prior data"]; a != b {
		t.Errorf("an unreadable prior dataset is answered unlike a missing one:\n  %q\n  %q", a, b)
	}
	// Nothing was created: the one campaign is the good one.
	var cs []campaign.Campaign
	u.mustJSON(&cs, "campaign", "list", "--json")
	if len(cs) != 1 || cs[0].Name != "fine" {
		t.Errorf("refused creates left campaigns behind: %+v", cs)
	}
}

// TestCampaignMADSciFaults registers MADSci nodes (cmd/madsci-node
// processes) that misbehave: one that answers garbage is refused at
// registration with a clear error and nothing registered; a campaign on
// one that vanishes right after accepting an action pauses with a reason
// rather than spinning. (A node that hangs mid-action is left to
// internal/lab/madsci's and internal/campaign's tests: the runner's
// transient limit, 2 min, is not a setting of the service.)
func TestCampaignMADSciFaults(t *testing.T) {
	u := &labUser{t: t, dir: filepath.Join(t.TempDir(), "data")}
	u.start()
	node := func(fault string) string {
		url, _ := madscitest.StartNode(t, "--kind", "sim", "--settings", `{"model": "flow-reactor", "speed": 1000, "noise": 0}`, fault)
		return url
	}

	// Garbage: refused at registration, nothing registered.
	out, err := u.run("instrument", "add", "babbler", "--kind", "madsci", "--endpoint", node("--garbage"), "--accreditation", "OPEN")
	if err == nil || !strings.Contains(string(out), "not valid MADSci") {
		t.Errorf("instrument add of a node answering garbage: %v\n%s", err, out)
	}
	if out, err := u.run("instrument", "show", "babbler"); err == nil {
		t.Errorf("a refused instrument was registered:\n%s", out)
	}

	// Vanishes after accepting an action: the campaign pauses, saying why.
	u.must("workcell", "add", "flaky-cell")
	u.must("instrument", "add", "vanisher", "--kind", "madsci", "--endpoint", node("--exit-after-start"),
		"--accreditation", "OPEN", "--workcell", "flaky-cell")
	file := filepath.Join(t.TempDir(), "flaky.yaml")
	os.WriteFile(file, []byte(strings.Replace(fmt.Sprintf(crashCampaign, "flaky", 4), "workcell: crash-cell", "workcell: flaky-cell", 1)), 0o644)
	u.must("campaign", "create", "-f", file, "--start")
	var c campaign.Campaign
	for deadline := time.Now().Add(5 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		c = u.status("flaky")
		if c.State != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign still runs 5 min after its only instrument vanished: %+v", c.Counts)
		}
	}
	if c.State != "paused" || !strings.Contains(c.Reason, "vanisher") {
		t.Errorf("campaign on a vanished node: %s (%q), want paused naming the instrument", c.State, c.Reason)
	}
	// It stays paused: nothing is dispatched while the node is gone.
	es := u.experiments("flaky")
	time.Sleep(2 * time.Second)
	if c2 := u.status("flaky"); c2.State != "paused" || len(u.experiments("flaky")) != len(es) {
		t.Errorf("the paused campaign moved on: %s, %d experiments (were %d)", c2.State, len(u.experiments("flaky")), len(es))
	}
}
