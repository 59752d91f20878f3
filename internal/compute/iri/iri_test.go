package iri_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/computetest"
	"github.com/genesis-science/genesis/internal/compute/iri"
	"github.com/genesis-science/genesis/internal/errors"
)

// The conformance suite through the IRI API: client → provider child
// process (checked against the spec) → local backend.
func TestConformanceLocal(t *testing.T) {
	p := startProvider(t, "local", "")
	computetest.Run(t, func(t *testing.T) compute.Backend { return newClient(t, p.URL, testToken) })
}

// The same over the test Slurm, when there is one.
func TestConformanceSlurm(t *testing.T) {
	slurmAvailable(t)
	p := startProvider(t, "slurm", "")
	computetest.Run(t, func(t *testing.T) compute.Backend { return newClient(t, p.URL, testToken) })
}

func submitReq(t *testing.T, name string, spec *compute.JobSpec) compute.Request {
	return compute.Request{ID: computetest.NewID(name), Spec: spec, WorkDir: computetest.WorkDir(t)}
}

func wantKind(t *testing.T, what string, err error, kind errors.Kind, msg string) {
	t.Helper()
	if !errors.Is(kind, err) {
		t.Fatalf("%s: %v, want %v", what, err, kind)
	}
	if msg != "" && !strings.Contains(errors.SafeMessage(err), msg) {
		t.Fatalf("%s: message %q, want it to say %q", what, errors.SafeMessage(err), msg)
	}
}

func TestFaults(t *testing.T) {
	ctx := context.Background()
	p := startProvider(t, "local", "")
	c := newClient(t, p.URL, testToken)

	t.Run("backend refuses", func(t *testing.T) {
		spec := computetest.Shell("true", time.Minute)
		spec.Resources.NodeCount = 2
		_, err := c.Submit(ctx, submitReq(t, "multi", spec))
		wantKind(t, "multi-node job on a local resource", err, errors.Invalid, "one node")
	})
	t.Run("provider refuses", func(t *testing.T) {
		spec := computetest.Shell("true", time.Minute)
		spec.Container = "docker.io/library/alpine:3"
		_, err := c.Submit(ctx, submitReq(t, "container", spec))
		wantKind(t, "container on a local resource", err, errors.Invalid, "containers")
		req := submitReq(t, "outside", computetest.Shell("true", time.Minute))
		req.WorkDir = "/etc"
		_, err = c.Submit(ctx, req)
		wantKind(t, "directory outside the allowed ones", err, errors.Invalid, "directory: outside")
	})
	t.Run("no project", func(t *testing.T) {
		nc, err := iri.NewClient(iri.ClientConfig{URL: p.URL, Token: testToken, Resource: "cpu"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = nc.Submit(ctx, submitReq(t, "noproj", computetest.Shell("true", time.Minute)))
		wantKind(t, "no project anywhere", err, errors.Invalid, "exactly one")
		spec := computetest.Shell("true", time.Minute)
		spec.Attributes.Account = "bobs"
		_, err = nc.Submit(ctx, submitReq(t, "bobsproj", spec))
		wantKind(t, "someone else's project", err, errors.Permission, "")
	})
	t.Run("changed resubmission", func(t *testing.T) {
		req := submitReq(t, "changed", computetest.Shell("true", time.Minute))
		if _, err := c.Submit(ctx, req); err != nil {
			t.Fatal(err)
		}
		req.Spec = computetest.Shell("echo other", time.Minute)
		_, err := c.Submit(ctx, req)
		wantKind(t, "same ID, other spec", err, errors.Invalid, "different request")
	})
	t.Run("unknown job", func(t *testing.T) {
		for _, id := range []compute.BackendJobID{"j0000", "../../etc/passwd", "a/b", "%2e%2e"} {
			if _, err := c.Status(ctx, id); !errors.Is(errors.NotExist, err) {
				t.Errorf("Status(%q): %v, want NotExist", id, err)
			}
		}
	})
	t.Run("other users' jobs do not exist", func(t *testing.T) {
		id, err := c.Submit(ctx, submitReq(t, "mine", computetest.Shell("true", time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		bob := newClient(t, p.URL, otherToken)
		if _, err := bob.Status(ctx, id); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob's Status of alice's job: %v, want NotExist", err)
		}
		if err := bob.Cancel(ctx, id); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob's Cancel of alice's job: %v, want NotExist", err)
		}
		if _, err := bob.Logs(ctx, id, compute.Stdout, 0); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob's Logs of alice's job: %v, want NotExist", err)
		}
	})
	t.Run("jobs belong to their resource", func(t *testing.T) {
		id, err := c.Submit(ctx, submitReq(t, "oncpu", computetest.Shell("true", time.Minute)))
		if err != nil {
			t.Fatal(err)
		}
		small, err := iri.NewClient(iri.ClientConfig{URL: p.URL, Token: testToken, Resource: "small", Project: testProject})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := small.Status(ctx, id); !errors.Is(errors.NotExist, err) {
			t.Errorf("cpu's job asked of small: %v, want NotExist", err)
		}
		nowhere, err := iri.NewClient(iri.ClientConfig{URL: p.URL, Token: testToken, Resource: "nowhere", Project: testProject})
		if err != nil {
			t.Fatal(err)
		}
		_, err = nowhere.Submit(ctx, submitReq(t, "nowhere", computetest.Shell("true", time.Minute)))
		wantKind(t, "Submit to an unknown resource", err, errors.NotExist, "")
	})
	t.Run("bad token", func(t *testing.T) {
		bad := newClient(t, p.URL, "wrong")
		_, err := bad.Submit(ctx, submitReq(t, "badtok", computetest.Shell("true", time.Minute)))
		wantKind(t, "wrong token", err, errors.Unauthenticated, "")
		if _, err := bad.Projects(ctx); !errors.Is(errors.Unauthenticated, err) {
			t.Errorf("Projects with a wrong token: %v", err)
		}
	})
	t.Run("provider down", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		url := "http://" + ln.Addr().String()
		ln.Close()
		down := newClient(t, url, testToken)
		_, err = down.Submit(ctx, submitReq(t, "down", computetest.Shell("true", time.Minute)))
		wantKind(t, "Submit to nothing", err, errors.Transient, "")
		_, err = down.Status(ctx, "j1")
		wantKind(t, "Status from nothing", err, errors.Transient, "")
		wantKind(t, "Cancel at nothing", down.Cancel(ctx, "j1"), errors.Transient, "")
	})
}

// A provider that is stopped is unreachable (Transient); restarted on the
// same root, it answers for the jobs it ran and replays their submissions.
func TestProviderRestart(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	p := startProvider(t, "local", root)
	c := newClient(t, p.URL, testToken)
	req := submitReq(t, "restart", computetest.Shell("echo before", time.Minute))
	id, err := c.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if st := computetest.WaitFinal(t, c, id); st.State != compute.Completed {
		t.Fatalf("status %+v", st)
	}
	p.stop(t)
	_, err = c.Status(ctx, id)
	wantKind(t, "Status while the provider is down", err, errors.Transient, "")

	p2 := startProvider(t, "local", root)
	c2 := newClient(t, p2.URL, testToken)
	if st, err := c2.Status(ctx, id); err != nil || st.State != compute.Completed {
		t.Fatalf("after restart: %+v, %v", st, err)
	}
	if got := computetest.ReadLog(t, c2, id, compute.Stdout, 0); got != "before\n" {
		t.Fatalf("stdout after restart %q", got)
	}
	again, err := c2.Submit(ctx, req)
	if err != nil || again != id {
		t.Fatalf("resubmit after restart: %s, %v; want %s", again, err, id)
	}
}

// The facility, status and account documents come back as configured.
func TestFacilityAndAllocations(t *testing.T) {
	ctx := context.Background()
	p := startProvider(t, "local", "")
	c := newClient(t, p.URL, testToken)
	cfg := providerConfig("/", nil)

	f, err := c.Facility(ctx)
	if err != nil || f.ID != cfg.Facility.ID || f.Name != cfg.Facility.Name || len(f.SiteURIs) != 1 {
		t.Fatalf("Facility: %+v, %v", f, err)
	}
	rs, err := c.Resources(ctx)
	if err != nil || len(rs) != 2 || rs[0].ID != "cpu" || rs[0].CurrentStatus != iri.StatusUp || rs[0].ResourceType != "urn:doe-iri:resource:compute" ||
		rs[1].ID != "small" || rs[1].CurrentStatus != iri.StatusDegraded {
		t.Fatalf("Resources: %+v, %v", rs, err)
	}
	r, err := c.ResourceStatus(ctx)
	if err != nil || r.ID != "cpu" || r.CurrentStatus != iri.StatusUp {
		t.Fatalf("ResourceStatus: %+v, %v", r, err)
	}
	is, err := c.Incidents(ctx)
	if err != nil || len(is) != 1 || is[0].ID != "inc-1" || is[0].End == nil || !is[0].End.Equal(*cfg.Incidents[0].End) {
		t.Fatalf("Incidents: %+v, %v", is, err)
	}
	cs, err := c.Capabilities(ctx)
	if err != nil || len(cs) != 1 || cs[0].Units[0] != "urn:doe-iri:allocation:node-hours" {
		t.Fatalf("Capabilities: %+v, %v", cs, err)
	}
	ps, err := c.Projects(ctx)
	if err != nil || len(ps) != 1 || ps[0].ID != testProject || ps[0].UserIDs[0] != testUser {
		t.Fatalf("Projects (only alice's): %+v, %v", ps, err)
	}
	as, err := c.Allocations(ctx, testProject)
	want := cfg.Projects[0].Allocations[0].Entries
	if err != nil || len(as) != 1 || as[0].ID != "alloc-1" || len(as[0].Entries) != 1 || as[0].Entries[0] != want[0] ||
		!strings.HasSuffix(as[0].CapabilityURI, "/api/v2/account/capabilities/cpu-node-hours") {
		t.Fatalf("Allocations: %+v, %v", as, err)
	}
	if _, err := c.Allocations(ctx, "bobs"); !errors.Is(errors.NotExist, err) {
		t.Fatalf("someone else's project's allocations: %v, want NotExist", err)
	}

	// A few raw calls the client does not make, for the validator to see.
	for _, tc := range []struct {
		method, path string
		body         any
		want         int
	}{
		{"GET", "/api/v2/facility/sites", nil, 200},
		{"GET", "/api/v2/facility/sites/site-1", nil, 200},
		{"GET", "/api/v2/facility/sites/nope", nil, 404},
		{"GET", "/api/v2/status/resources?group=compute&limit=5", nil, 200},
		{"GET", "/api/v2/status/resources?current_status=degraded", nil, 200},
		{"GET", "/api/v2/status/resources?limit=5000", nil, 400},
		{"GET", "/api/v2/status/resources/nope", nil, 404},
		{"GET", "/api/v2/status/incidents/inc-1", nil, 200},
		{"GET", "/api/v2/status/events", nil, 501},
		{"GET", "/api/v2/account/capabilities/cpu-node-hours", nil, 200},
		{"GET", "/api/v2/account/projects/genesis-test", nil, 200},
		{"GET", "/api/v2/account/projects/bobs", nil, 404},
		{"GET", "/api/v2/account/projects/genesis-test/project_allocations/alloc-1", nil, 200},
		{"GET", "/api/v2/account/projects/genesis-test/project_allocations/alloc-1/user_allocations", nil, 501},
		{"POST", "/api/v2/compute/status/cpu?historical=true&include_spec=true", map[string]any{"state": "completed"}, 200},
		{"POST", "/api/v2/compute/status/cpu?historical=maybe", nil, 400},
		{"POST", "/api/v2/compute/status/cpu", map[string]any{"user": "x"}, 400},
		{"PUT", "/api/v2/compute/job/cpu/j1", map[string]any{"executable": "/bin/true"}, 501},
		{"POST", "/api/v2/filesystem/ls/cpu", map[string]any{"path": "/"}, 501},
		{"POST", "/api/v2/filesystem/view/cpu", map[string]any{"path": "/etc/passwd"}, 404},
		{"GET", "/api/v2/task", nil, 200},
		{"GET", "/api/v2/task/nope", nil, 404},
		{"POST", "/api/v2/compute/job/cpu", `{"executable": "/bin/true", "attributes": {"duration": 10, "account": "genesis-test"}, "bogus": 1}`, 422},
		{"POST", "/api/v2/compute/job/cpu", `{"executable": "/bin/true", "attributes": {"account": "genesis-test"}}`, 422},
		{"POST", "/api/v2/compute/job/cpu", `not json`, 422},
		{"POST", "/api/v2/compute/job/nope", `{"executable": "/bin/true", "attributes": {"duration": 10, "account": "genesis-test"}}`, 404},
		{"GET", "/api/v2/nowhere", nil, 404},
		{"GET", "/api/v2/compute/job/cpu", nil, 405},
		{"PATCH", "/api/v2/facility", nil, 405},
	} {
		status, body := rawJSON(t, tc.method, p.URL+tc.path, testToken, nil, tc.body)
		if status != tc.want {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, status, body, tc.want)
		}
	}
	if status, _ := rawJSON(t, "GET", p.URL+"/api/v2/account/projects", "", nil, nil); status != 401 {
		t.Errorf("projects without a token: %d, want 401", status)
	}
}

// Idempotency-Key at the HTTP level: replay, changed body, no key.
func TestIdempotencyKeyHTTP(t *testing.T) {
	p := startProvider(t, "local", "")
	dir := computetest.WorkDir(t)
	body := map[string]any{"executable": "/bin/true", "directory": dir, "attributes": map[string]any{"duration": 10, "account": testProject}}
	key := map[string]string{"Idempotency-Key": "0f8fad5b-d9cb-469f-a165-70867728950e"}
	s1, b1 := rawJSON(t, "POST", p.URL+"/api/v2/compute/job/cpu", testToken, key, body)
	s2, b2 := rawJSON(t, "POST", p.URL+"/api/v2/compute/job/cpu", testToken, key, body)
	if s1 != 200 || s2 != 200 || string(b1) != string(b2) {
		t.Fatalf("replay: %d %s / %d %s", s1, b1, s2, b2)
	}
	// The same key from another user is another job.
	bobBody := map[string]any{"executable": "/bin/true", "directory": dir, "attributes": map[string]any{"duration": 10, "account": "bobs"}}
	s3, b3 := rawJSON(t, "POST", p.URL+"/api/v2/compute/job/cpu", otherToken, key, bobBody)
	if s3 != 200 || string(b3) == string(b1) {
		t.Fatalf("bob with alice's key: %d %s", s3, b3)
	}
	body["arguments"] = []string{"x"}
	if s, b := rawJSON(t, "POST", p.URL+"/api/v2/compute/job/cpu", testToken, key, body); s != 422 {
		t.Fatalf("changed body: %d %s, want 422", s, b)
	}
	var j1, j2 iri.Job
	_, a := rawJSON(t, "POST", p.URL+"/api/v2/compute/job/cpu", testToken, nil, body)
	_, b := rawJSON(t, "POST", p.URL+"/api/v2/compute/job/cpu", testToken, nil, body)
	if json.Unmarshal(a, &j1) != nil || json.Unmarshal(b, &j2) != nil || j1.ID == "" || j1.ID == j2.ID {
		t.Fatalf("without a key, two submissions are two jobs: %s / %s", a, b)
	}
}

func TestIdempotencyKeyIsUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	k := iri.IdempotencyKey("cpu", "job-1")
	if !re.MatchString(k) || k != iri.IdempotencyKey("cpu", "job-1") ||
		k == iri.IdempotencyKey("gpu", "job-1") || k == iri.IdempotencyKey("cpu", "job-2") {
		t.Fatalf("key %q: want a stable v5 UUID per resource and job", k)
	}
}

// Logs larger than one view (the spec caps a view at 5 MiB) are read in
// chunks, from any offset.
func TestLargeLogs(t *testing.T) {
	ctx := context.Background()
	p := startProvider(t, "local", "")
	c := newClient(t, p.URL, testToken)
	const n = 9<<20 + 12345
	// Lines of 10 bytes, each holding its own offset.
	script := fmt.Sprintf(`seq -f '%%09.0f' 0 10 %d | head -c %d`, n+10, n)
	id, err := c.Submit(ctx, submitReq(t, "large", computetest.Shell(script, time.Minute)))
	if err != nil {
		t.Fatal(err)
	}
	if st := computetest.WaitFinal(t, c, id); st.State != compute.Completed {
		t.Fatalf("status %+v", st)
	}
	for _, off := range []int64{0, 5<<20 - 3, n - 7, n, n + 100} {
		got := computetest.ReadLog(t, c, id, compute.Stdout, off)
		want := int64(0)
		if off < n {
			want = n - off
		}
		if int64(len(got)) != want {
			t.Fatalf("offset %d: read %d bytes, want %d", off, len(got), want)
		}
		// Every line is its own offset: check one in the middle.
		if want > 30 {
			start := (off + 9) / 10 * 10
			line := got[start-off : start-off+9]
			if line != fmt.Sprintf("%09d", start) {
				t.Fatalf("offset %d: line at %d is %q", off, start, line)
			}
		}
	}
}

// The job list (POST /compute/status) has the caller's active jobs, all
// of them with historical=true, filtered by state; never another user's.
func TestListJobs(t *testing.T) {
	ctx := context.Background()
	p := startProvider(t, "local", "")
	c := newClient(t, p.URL, testToken)
	bob := newClient(t, p.URL, otherToken)
	dir := computetest.WorkDir(t)
	done, err := c.Submit(ctx, compute.Request{ID: computetest.NewID("list-done"), Spec: computetest.Shell("true", time.Minute), WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Submit(ctx, compute.Request{ID: computetest.NewID("list-run"), Spec: computetest.Shell("sleep 300", 10*time.Minute), WorkDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Cancel(context.Background(), run) })
	computetest.WaitFinal(t, c, done)
	computetest.Wait(t, c, run, "running", func(s compute.Status) bool { return s.State == compute.Running })
	list := func(query string, filters any) []string {
		t.Helper()
		status, body := rawJSON(t, "POST", p.URL+"/api/v2/compute/status/cpu"+query, testToken, nil, filters)
		var jobs []iri.Job
		if status != 200 || json.Unmarshal(body, &jobs) != nil {
			t.Fatalf("list %s: %d %s", query, status, body)
		}
		var ids []string
		for _, j := range jobs {
			ids = append(ids, j.ID)
		}
		return ids
	}
	for _, tc := range []struct {
		query   string
		filters any
		want    []string
	}{
		{"", nil, []string{string(run)}},
		{"?historical=true", nil, []string{string(done), string(run)}},
		{"?historical=true", map[string]any{"state": "completed"}, []string{string(done)}},
		{"?historical=true&limit=1&offset=1", nil, []string{string(run)}},
	} {
		for range 2 { // the second time, finished jobs come from what the provider remembers
			if got := list(tc.query, tc.filters); !slices.Equal(got, tc.want) {
				t.Errorf("list %s %v: %v, want %v", tc.query, tc.filters, got, tc.want)
			}
		}
	}
	// Bob's list does not have them, and his Statuses does not see them.
	sts, err := bob.Statuses(ctx, []compute.BackendJobID{done, run})
	if err != nil || len(sts) != 0 {
		t.Errorf("another user's Statuses: %v, %v; want nothing", sts, err)
	}
}
