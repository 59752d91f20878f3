package campaign_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// The job a campaign's template makes: it computes
// y = -(x-0.3)² + n (+1 for catalyst "b") with awk from its arguments,
// and writes its catalyst argument back, to show that it arrived as it
// was, uninterpreted.
const jobCampaign = `
name: sim
objectives: [{name: y, goal: max}]
params:
  - {name: x, kind: continuous, low: -1, high: 1}
  - {name: n, kind: integer, low: 0, high: 100}
  - {name: cat, kind: categorical, categories: [a, b, "$(touch pwned); echo 'q\"' ` + "`id`" + `"]}
budget: {experiments: 10}
executor:
  job:
    output: out.json
    spec:
      executable: /bin/sh
      arguments:
        - -c
        - |
          printf '%s' "$3" > cat.txt
          awk -v x="$1" -v n="$2" -v c="$3" 'BEGIN { y = -(x-0.3)^2 + n; if (c == "b") y += 1; printf "{\"y\": %.17g, \"extra\": 7}", y }' > out.json
        - sh
        - ${x}
        - ${n}
        - ${cat}
      environment: {SCALE: "${x}"}
      attributes: {duration: 5m}
`

func reference(params map[string]any) float64 {
	x, n := params["x"].(float64), params["n"].(float64)
	y := -(x-0.3)*(x-0.3) + n
	if params["cat"] == "b" {
		y++
	}
	return y
}

type jobFixture struct {
	js    *jobs.Service
	x     *campaign.JobExecutor
	alice *genesis.Principal
	work  string
}

func newJobFixture(t *testing.T, db store.DB) *jobFixture {
	t.Helper()
	ctx := context.Background()
	ids := identity.New(db)
	if _, err := ids.Bootstrap(ctx, "admin"); err != nil {
		t.Fatal(err)
	}
	admin, err := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ids.RegisterCompartment(ctx, admin, "FUSION"); err != nil {
		t.Fatal(err)
	}
	alice, err := ids.CreatePrincipal(ctx, genesis.Principal{Name: "alice", Clearance: "PROPRIETARY//FUSION", Roles: []genesis.Role{genesis.RoleContributor}})
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(ids, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: ids})
	reg, err := sites.New(db, az, ids, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	lb, err := local.New(filepath.Join(work, "backend"), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	js := jobs.New(db, az, ids, cat, reg, filepath.Join(work, "jobs"))
	js.Backend = func(context.Context, *sites.Site) (compute.Backend, error) { return lb, nil }
	capy := sites.Capacity{Nodes: 1, CoresPerNode: 8, MemoryGBNode: 8}
	for _, s := range []sites.Spec{
		{Name: "open-box", Kind: sites.KindLocal, Accreditation: "OPEN", Capacity: capy},
		{Name: "secure-box", Kind: sites.KindLocal, Accreditation: "PROPRIETARY//FUSION", Capacity: capy},
	} {
		if _, err := reg.Add(ctx, admin, s); err != nil {
			t.Fatal(err)
		}
	}
	return &jobFixture{js: js, x: campaign.NewJobExecutor(js, ids), alice: alice, work: work}
}

// poll steps the scheduler until the experiment's job is final.
func (f *jobFixture) poll(t *testing.T, c *campaign.Campaign, e *campaign.Experiment, key string) *lab.Result {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if err := f.js.Step(ctx); err != nil {
			t.Fatal(err)
		}
		r, err := f.x.Poll(ctx, c, e, key)
		if err != nil {
			t.Fatalf("poll %s: %v", key, err)
		}
		if r.State.Final() {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s not final: %+v", key, r)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func jobsNamed(t *testing.T, js *jobs.Service, p *genesis.Principal, name string) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		l, next, err := js.List(context.Background(), p, jobs.ListOptions{Owner: string(p.ID), Cursor: cursor, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range l {
			if j.Name == name {
				n++
			}
		}
		if next == "" {
			return n
		}
		cursor = next
	}
}

// TestJobExecutor runs experiments as jobs on the local compute site end
// to end: each job computes a known function of its parameters; Start
// sent twice submits once; the values equal the reference; the campaign's
// label places the job on the accredited site only; a parameter value
// full of shell syntax arrives as it was.
func TestJobExecutor(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		f := newJobFixture(t, db)
		spec, err := campaign.Parse([]byte(jobCampaign))
		if err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(7, 8))
		for i, label := range []string{"OPEN", "PROPRIETARY//FUSION", "OPEN"} {
			c := &campaign.Campaign{ID: "c" + strconv.Itoa(i), Name: "sim", Owner: string(f.alice.ID), Label: label, Spec: *spec}
			params := map[string]any{
				"x":   math.Round((r.Float64()*2-1)*1e6) / 1e6,
				"n":   float64(r.IntN(101)),
				"cat": spec.Params[2].Categories[i%3],
			}
			e := &campaign.Experiment{ID: "e" + strconv.Itoa(i), Campaign: c.ID, Seq: i + 1, Params: params, State: campaign.Dispatched}
			key := c.ID + "." + strconv.Itoa(e.Seq) + ".1"
			if _, err := f.x.Poll(ctx, c, e, key); !errors.Is(errors.NotExist, err) {
				t.Fatalf("poll before start: %v, want NotExist", err)
			}
			for range 2 { // a Start re-sent after a crash
				if err := f.x.Start(ctx, c, e, key); err != nil {
					t.Fatal(err)
				}
			}
			res := f.poll(t, c, e, key)
			if err := f.x.Start(ctx, c, e, key); err != nil { // and after it ended
				t.Fatal(err)
			}
			if n := jobsNamed(t, f.js, f.alice, key); n != 1 {
				t.Errorf("%d jobs named %s, want 1", n, key)
			}
			if res.State != lab.Succeeded {
				t.Fatalf("experiment %d: %+v", i, res)
			}
			if want := reference(params); res.Values["y"] != want || res.Values["extra"] != 7 {
				t.Errorf("experiment %d %v: values %v, want y = %v", i, params, res.Values, want)
			}
			j, err := f.js.ByName(ctx, f.alice, key)
			if err != nil {
				t.Fatal(err)
			}
			if res.ID != j.ID {
				t.Errorf("result ID %s, want the job's ID %s", res.ID, j.ID)
			}
			if j.Label != label {
				t.Errorf("job label %s, want the campaign's %s", j.Label, label)
			}
			if label != "OPEN" && j.Site != "secure-box" {
				t.Errorf("a %s job ran on %s", label, j.Site)
			}
			got, err := f.js.WorkFile(ctx, f.alice, j.ID, "cat.txt", 1<<10)
			if err != nil || string(got) != params["cat"] {
				t.Errorf("the job received category %q (%v), want %q", got, err, params["cat"])
			}
			if env := j.Spec.Environment["SCALE"]; env != strconv.FormatFloat(params["x"].(float64), 'g', -1, 64) {
				t.Errorf("environment SCALE = %q for x = %v", env, params["x"])
			}
		}
		if matches, _ := filepath.Glob(filepath.Join(f.work, "*", "*", "*", "pwned")); len(matches) > 0 {
			t.Errorf("a parameter value was run as a command: %v", matches)
		}
	})
}

// TestJobExecutorFailures: a job that fails fails the experiment with its
// reason; a job whose output lacks an objective, is not JSON, or is
// missing fails it saying so.
func TestJobExecutorFailures(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	ctx := context.Background()
	f := newJobFixture(t, db)
	for i, tc := range []struct {
		script, want string
	}{
		{`echo broken >&2; exit 3`, "failed"},
		{`printf '{"z": 1}' > out.json`, `no "y"`},
		{`printf '{"y": 1} {}' > out.json`, "unexpected data"},
		{`printf '{"y": "1"}' > out.json`, "not a number"},
		{`printf '{"y": 1, "y": 2}' > out.json`, "twice"},
		{`true`, "did not write out.json"},
		{`ln -s /etc/passwd out.json`, "did not write out.json"},
	} {
		yaml := strings.Replace(`
name: bad
objectives: [{name: y, goal: max}]
params: [{name: x, kind: continuous, low: 0, high: 1}]
budget: {experiments: 3}
executor:
  job:
    output: out.json
    spec:
      executable: /bin/sh
      arguments: ["-c", "SCRIPT", "${x}"]
      attributes: {duration: 5m}
`, "SCRIPT", strings.ReplaceAll(tc.script, `"`, `\"`), 1)
		spec, err := campaign.Parse([]byte(yaml))
		if err != nil {
			t.Fatalf("%s: %v", tc.script, err)
		}
		c := &campaign.Campaign{ID: "bad", Name: "bad", Owner: string(f.alice.ID), Label: "OPEN", Spec: *spec}
		e := &campaign.Experiment{ID: "e", Seq: i + 1, Params: map[string]any{"x": 0.5}}
		key := "bad." + strconv.Itoa(i)
		if err := f.x.Start(ctx, c, e, key); err != nil {
			t.Fatal(err)
		}
		res := f.poll(t, c, e, key)
		if res.State != lab.Failed || !strings.Contains(res.Reason, tc.want) {
			t.Errorf("%s: %s %q, want failed saying %q", tc.script, res.State, res.Reason, tc.want)
		}
	}
}

// TestJobSpecSubstitution: random parameter values are substituted into
// the template's arguments and environment so that they read back
// exactly; nothing of "${" remains; a missing value is Invalid.
func TestJobSpecSubstitution(t *testing.T) {
	spec, err := campaign.Parse([]byte(jobCampaign))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 10))
	for range 500 {
		x := (r.Float64()*2 - 1) * math.Pow(10, float64(r.IntN(30)-15))
		n := float64(r.IntN(101))
		cat := spec.Params[2].Categories[r.IntN(3)]
		js, err := campaign.JobSpec(spec, map[string]any{"x": x, "n": n, "cat": cat})
		if err != nil {
			t.Fatal(err)
		}
		args := js.Arguments
		if len(args) != 6 {
			t.Fatalf("arguments %q", args)
		}
		if got, err := strconv.ParseFloat(args[3], 64); err != nil || got != x {
			t.Fatalf("x %v became %q", x, args[3])
		}
		if args[4] != strconv.Itoa(int(n)) {
			t.Fatalf("n %v became %q (want an integer)", n, args[4])
		}
		if args[5] != cat || js.Environment["SCALE"] != args[3] {
			t.Fatalf("cat %q became %q; SCALE %q", cat, args[5], js.Environment["SCALE"])
		}
		if args[1] != spec.Executor.Job.Spec["arguments"].([]any)[1] {
			t.Fatalf("the script changed: %q", args[1])
		}
	}
	if _, err := campaign.JobSpec(spec, map[string]any{"x": 0.1, "n": 1.0}); !errors.Is(errors.Invalid, err) {
		t.Errorf("missing cat: %v, want Invalid", err)
	}
	if _, err := campaign.JobSpec(spec, map[string]any{"x": "a", "n": 1.0, "cat": "a"}); !errors.Is(errors.Invalid, err) {
		t.Errorf("a string for a number: %v, want Invalid", err)
	}
	if _, err := campaign.JobSpec(spec, map[string]any{"x": math.NaN(), "n": 1.0, "cat": "a"}); !errors.Is(errors.Invalid, err) {
		t.Errorf("NaN: %v, want Invalid", err)
	}
	// "${…}" outside arguments and environment is refused.
	bad := *spec
	job := *spec.Executor.Job
	job.Spec = map[string]any{"executable": "/bin/${cat}", "attributes": map[string]any{"duration": "5m"}}
	bad.Executor.Job = &job
	if _, err := campaign.JobSpec(&bad, map[string]any{"x": 0.1, "n": 1.0, "cat": "a"}); !errors.Is(errors.Invalid, err) {
		t.Errorf("${cat} in the executable: %v, want Invalid", err)
	}
}

// FuzzParseJobOutput: whatever ParseJobOutput accepts is a JSON object of
// finite numbers that encoding/json reads alike, holding every wanted
// name; what encoding/json refuses as a map of numbers, it refuses.
func FuzzParseJobOutput(f *testing.F) {
	for _, s := range []string{`{"y": 1}`, `{"y": 1.5e3, "z": -2}`, `{}`, `{"y": 1} x`, `{"y": "1"}`, `[1]`, `{"y": 1e999}`, `{"y":1,"y":2}`, ` {"y" : 0 } `, `{"y": {"a": 1}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		vals, err := campaign.ParseJobOutput(b, []string{"y"})
		var ref map[string]float64
		refErr := json.Unmarshal(b, &ref)
		if err != nil {
			if !errors.Is(errors.Invalid, err) && !errors.Is(errors.TooLarge, err) {
				t.Fatalf("error of kind other than Invalid: %v", err)
			}
			return
		}
		if refErr != nil {
			t.Fatalf("accepted %q, which encoding/json refuses: %v", b, refErr)
		}
		if _, ok := vals["y"]; !ok {
			t.Fatalf("accepted %q without y", b)
		}
		if len(vals) != len(ref) {
			t.Fatalf("%q: %v, encoding/json %v", b, vals, ref)
		}
		for k, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) || ref[k] != v {
				t.Fatalf("%q: %s = %v, encoding/json %v", b, k, v, ref[k])
			}
		}
	})
}
