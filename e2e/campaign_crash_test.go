package e2e

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/lab/sim"
)

// crashCampaign is the campaign of TestCampaignCrash (%[1]s its name, %[2]d
// its budget): synchronous batches of 2 on a workcell of two noiseless
// simulated flow reactors, a fixed seed and no target, so it runs its
// whole budget and its course depends only on the seed (a noiseless sim's
// values depend only on the params, not on the experiment's ID).
const crashCampaign = `name: %[1]s
objectives:
  - {name: yield, goal: max, unit: "%%"}
params:
  - {name: temperature, kind: continuous, low: 30, high: 150}
  - {name: residence_time, kind: continuous, low: 0.5, high: 30, log: true}
  - {name: concentration, kind: continuous, low: 0.05, high: 1.0}
  - {name: catalyst, kind: categorical, categories: [Pd-A, Pd-B, Ni-C, Cu-D]}
outcome_constraints:
  - {name: impurity, rel: "<=", bound: 5}
budget: {experiments: %[2]d}
batch: 2
max_in_flight: 2
seed: 11
executor: {workcell: crash-cell, action: run}
retry: {attempts: 2}
`

// labUser drives a `genesis up` through the CLI as a user would.
type labUser struct {
	t     *testing.T
	dir   string // the data dir
	sys   *proc
	token string
}

func (u *labUser) start() {
	u.sys = startUp(u.t, u.dir)
	if u.token == "" {
		b, err := os.ReadFile(filepath.Join(u.dir, "admin.token"))
		if err != nil {
			u.t.Fatal(err)
		}
		u.token = strings.TrimSpace(string(b))
	}
}

// kill stops the server with SIGKILL and waits until it is gone.
func (u *labUser) kill() {
	u.sys.cmd.Process.Kill()
	<-u.sys.done
	u.sys.done <- nil // for the cleanup
}

func (u *labUser) run(args ...string) ([]byte, error) {
	cmd := exec.Command(genesisBinary(u.t), args...)
	cmd.Env = append(os.Environ(), "GENESIS_URL="+u.sys.url, "GENESIS_TOKEN="+u.token)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return []byte(out.String() + errb.String()), err
	}
	return []byte(out.String()), nil
}

func (u *labUser) must(args ...string) []byte {
	u.t.Helper()
	out, err := u.run(args...)
	if err != nil {
		u.t.Fatalf("genesis %s: %v\n%s\nserver stderr:\n%s", strings.Join(args, " "), err, out, u.sys.stderr)
	}
	return out
}

func (u *labUser) mustJSON(v any, args ...string) {
	u.t.Helper()
	out := u.must(args...)
	if err := json.Unmarshal(out, v); err != nil {
		u.t.Fatalf("genesis %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// setUpCrashLab registers the workcell and two fast noiseless reactors,
// and returns the instruments' IDs.
func (u *labUser) setUpCrashLab() []string {
	u.t.Helper()
	u.must("workcell", "add", "crash-cell", "--lab", "crash lab")
	var ids []string
	for i, name := range []string{"reactor-a", "reactor-b"} {
		// speed 500: a 600 s run takes 1.2 s.
		settings := fmt.Sprintf(`{"model": "flow-reactor", "speed": 500, "noise": 0, "seed": %d, "consumables": {"substrate": 100000}}`, i+1)
		u.must("instrument", "add", name, "--kind", "sim", "--accreditation", "OPEN", "--workcell", "crash-cell",
			"--lab", "crash lab", "--settings", settings)
		var in struct{ ID, Name string }
		u.mustJSON(&in, "instrument", "show", name, "--json")
		if in.ID == "" || in.Name != name {
			u.t.Fatalf("instrument show %s: %+v", name, in)
		}
		ids = append(ids, in.ID)
	}
	return ids
}

// startCampaign creates and starts the crash campaign named name.
func (u *labUser) startCampaign(name string, budget int) {
	u.t.Helper()
	file := filepath.Join(u.t.TempDir(), name+".yaml")
	if err := os.WriteFile(file, fmt.Appendf(nil, crashCampaign, name, budget), 0o644); err != nil {
		u.t.Fatal(err)
	}
	u.must("campaign", "create", "-f", file, "--start")
}

func (u *labUser) status(name string) campaign.Campaign {
	u.t.Helper()
	var c campaign.Campaign
	u.mustJSON(&c, "campaign", "status", name, "--json")
	return c
}

func (u *labUser) experiments(name string) []campaign.Experiment {
	u.t.Helper()
	var l []campaign.Experiment // the budget is well below one page
	u.mustJSON(&l, "campaign", "experiments", name, "--json", "--limit", "1000")
	return l
}

// waitCompleted polls until the campaign has ended (generous deadline) and
// fails unless it completed.
func (u *labUser) waitCompleted(name string, deadline time.Duration) campaign.Campaign {
	u.t.Helper()
	end := time.Now().Add(deadline)
	for {
		c := u.status(name)
		switch c.State {
		case "completed":
			return c
		case "failed", "stopped", "paused":
			u.t.Fatalf("campaign %s %s: %s\nserver stderr:\n%s", name, c.State, c.Reason, u.sys.stderr)
		}
		if time.Now().After(end) {
			u.t.Fatalf("campaign %s still %s after %v: %+v\nserver stderr:\n%s", name, c.State, deadline, c.Counts, u.sys.stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// observation is what the test compares between runs.
type observation struct {
	Seq    int
	Params map[string]any
	Values map[string]float64
}

func observations(es []campaign.Experiment) []observation {
	var obs []observation
	for _, e := range es {
		if e.State == "observed" {
			obs = append(obs, observation{e.Seq, e.Params, e.Values})
		}
	}
	return obs
}

// TestCampaignCrash (issue 13 §6) kills `genesis up` with SIGKILL at random
// moments while a campaign runs on two simulated reactors, restarts it on
// the same data dir each time, until the campaign completes (and runs
// another campaign the same way until there were enough kills). Then, for
// each: no dispatch key ran twice on an instrument and every observed
// experiment ran exactly once per attempt (the instruments' journals); no
// observation reported between kills was lost or changed; the counts add
// up to the budget and the results dataset's last version holds every
// observation; and the course equals an uninterrupted run of the same
// campaign file on a fresh data dir.
func TestCampaignCrash(t *testing.T) {
	trials := 20
	if testing.Short() {
		trials = 4
	}
	if v, err := strconv.Atoi(os.Getenv("GENESIS_CRASH_TRIALS")); err == nil && v > 0 {
		trials = v
	}
	const budget = 24
	seed := uint64(time.Now().UnixNano())
	r := rand.New(rand.NewPCG(13, seed))
	t.Logf("random seed %d", seed)

	// The reference: the same campaign, uninterrupted, on a fresh data dir.
	ref := &labUser{t: t, dir: filepath.Join(t.TempDir(), "ref")}
	ref.start()
	ref.setUpCrashLab()
	ref.startCampaign("crash", budget)
	ref.waitCompleted("crash", 5*time.Minute)
	want := observations(ref.experiments("crash"))
	if len(want) != budget {
		t.Fatalf("the uninterrupted run observed %d experiments, want %d", len(want), budget)
	}
	ref.kill()

	u := &labUser{t: t, dir: filepath.Join(t.TempDir(), "data")}
	u.start()
	ids := u.setUpCrashLab()

	// checkJournals reads the instruments' journals and checks that no key
	// started twice.
	checkJournals := func(when string) map[string]int {
		t.Helper()
		all := map[string]int{}
		for _, id := range ids {
			runs, err := sim.JournalRuns(filepath.Join(u.dir, "lab", id))
			if err != nil {
				t.Fatalf("%s: journal of %s: %v", when, id, err)
			}
			for key, n := range runs {
				all[key] += n
			}
		}
		for key, n := range all {
			if n != 1 {
				t.Fatalf("%s: dispatch key %s started %d times", when, key, n)
			}
		}
		return all
	}

	kills, killsRunning := 0, 0
	for round := 0; killsRunning < trials; round++ {
		name := fmt.Sprintf("crash-%d", round)
		u.startCampaign(name, budget)
		seen := map[string]campaign.Experiment{} // every experiment ever reported observed, by ID
		// record checks that every experiment seen observed still is, with
		// the same params and values, and records the newly observed.
		record := func(when string) campaign.Campaign {
			t.Helper()
			es := u.experiments(name)
			now := map[string]campaign.Experiment{}
			for _, e := range es {
				now[e.ID] = e
			}
			for id, old := range seen {
				e, ok := now[id]
				if !ok {
					t.Fatalf("%s: observed experiment %s lost", when, id)
				}
				if e.State != "observed" || !reflect.DeepEqual(old.Values, e.Values) || !reflect.DeepEqual(old.Params, e.Params) ||
					old.Seq != e.Seq || old.Attempt != e.Attempt {
					t.Fatalf("%s: experiment %s was observed as %+v, now %+v", when, id, old, e)
				}
			}
			for _, e := range es {
				if e.State == "observed" {
					seen[e.ID] = e
				}
			}
			return u.status(name)
		}
		for killsRunning < trials {
			// A random moment: right after the restart (recovery itself
			// is interrupted) up to about a batch's runs later.
			time.Sleep(time.Duration(r.IntN(1500)) * time.Millisecond)
			c := record(fmt.Sprintf("%s: before kill %d", name, kills+1))
			u.kill()
			kills++
			if c.State == "running" {
				killsRunning++
			}
			checkJournals(fmt.Sprintf("%s: after kill %d", name, kills))
			u.start()
			if c := record(fmt.Sprintf("%s: after restart %d", name, kills)); c.State == "completed" {
				break
			}
		}
		c := u.waitCompleted(name, 5*time.Minute)
		record(name + ": at the end")
		es := u.experiments(name)
		runs := checkJournals(name + ": at the end")

		// (a) Every observed experiment ran exactly once per attempt;
		// every key the instruments ran for this campaign belongs to one
		// of its experiments' attempts.
		keys := map[string]bool{}
		for _, e := range es {
			for a := 1; a <= e.Attempt; a++ {
				keys[fmt.Sprintf("%s.%d", e.ID, a)] = true
			}
			if e.State == "observed" {
				if n := runs[fmt.Sprintf("%s.%d", e.ID, e.Attempt)]; n != 1 {
					t.Errorf("%s: observed experiment %s (attempt %d) ran %d times", name, e.ID, e.Attempt, n)
				}
			}
		}
		prefix := strings.Replace(c.ID, "cmp_", "exp_", 1) + "-"
		ran := 0
		for key := range runs {
			if !strings.HasPrefix(key, prefix) {
				continue
			}
			ran++
			if !keys[key] {
				t.Errorf("%s: an instrument ran key %s, which no experiment's attempt has", name, key)
			}
		}

		// (b) Nothing lost; the counts add up; the dataset holds it all.
		obs := observations(es)
		if len(obs) != budget || c.Counts.Observed != budget {
			t.Errorf("%s: observed %d experiments (counts say %d), want the budget %d; counts %+v", name, len(obs), c.Counts.Observed, budget, c.Counts)
		}
		if len(seen) != len(obs) {
			t.Errorf("%s: %d experiments were reported observed between kills, %d at the end", name, len(seen), len(obs))
		}
		if c.Dataset == "" {
			t.Fatalf("%s: the campaign has no results dataset", name)
		}
		checkResultsCSV(t, u.must("dataset", "cat", c.Dataset, "observations.csv"), es)

		// (c) The same course as the uninterrupted run.
		if len(want) != len(obs) {
			t.Fatalf("%s: the uninterrupted run observed %d, the killed one %d", name, len(want), len(obs))
		}
		for i := range want {
			if !reflect.DeepEqual(want[i], obs[i]) {
				t.Errorf("%s: experiment %d differs from the uninterrupted run:\n  killed:        %+v\n  uninterrupted: %+v", name, i, obs[i], want[i])
			}
		}
		if !t.Failed() {
			t.Logf("%s: %d experiments observed, %d keys started on the instruments, each once; the course equals an uninterrupted run", name, len(obs), ran)
		}
	}
	t.Logf("%d kill -9s (%d while a campaign ran)", kills, killsRunning)
}

// checkResultsCSV checks that the results file holds exactly the final
// experiments, with the same values.
func checkResultsCSV(t *testing.T, b []byte, es []campaign.Experiment) {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil || len(rows) < 1 {
		t.Fatalf("observations.csv: %v\n%s", err, b)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, h := range []string{"seq", "state", "yield", "impurity"} {
		if _, ok := col[h]; !ok {
			t.Fatalf("observations.csv has no column %q: %v", h, rows[0])
		}
	}
	bySeq := map[int][]string{}
	for _, row := range rows[1:] {
		seq, err := strconv.Atoi(row[col["seq"]])
		if err != nil {
			t.Fatalf("observations.csv: seq %q", row[col["seq"]])
		}
		if _, dup := bySeq[seq]; dup {
			t.Fatalf("observations.csv: seq %d twice", seq)
		}
		bySeq[seq] = row
	}
	for _, e := range es {
		if e.State != "observed" && e.State != "failed" && e.State != "cancelled" {
			continue
		}
		row, ok := bySeq[e.Seq]
		if !ok {
			t.Errorf("observations.csv lacks experiment %d (%s)", e.Seq, e.State)
			continue
		}
		delete(bySeq, e.Seq)
		if row[col["state"]] != e.State {
			t.Errorf("observations.csv: experiment %d is %s, the campaign says %s", e.Seq, row[col["state"]], e.State)
		}
		for name, v := range e.Values {
			i, ok := col[name]
			if !ok {
				continue
			}
			got, err := strconv.ParseFloat(row[i], 64)
			if err != nil || got != v {
				t.Errorf("observations.csv: experiment %d %s = %q, want %v", e.Seq, name, row[i], v)
			}
		}
	}
	for seq := range bySeq {
		t.Errorf("observations.csv holds experiment %d, which is not final", seq)
	}
}
