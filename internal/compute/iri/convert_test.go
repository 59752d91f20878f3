package iri_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/iri"
	"github.com/genesis-science/genesis/internal/errors"
)

func randSpec(r *rand.Rand) *compute.JobSpec {
	str := func() string {
		alphabet := []string{"a", "B", " ", "'", `"`, "$", "é", "☃", "\\", "\n", "-", "", "*"}
		n := r.IntN(6)
		s := ""
		for range n {
			s += alphabet[r.IntN(len(alphabet))]
		}
		return s
	}
	path := func() string {
		return []string{"", "sub", "a/b", "/tmp/x", "out.txt", "./rel"}[r.IntN(6)]
	}
	s := &compute.JobSpec{Executable: []string{"/bin/sh", "python3", "./run"}[r.IntN(3)]}
	for range r.IntN(5) {
		s.Arguments = append(s.Arguments, str())
	}
	if r.IntN(2) == 0 {
		s.Environment = map[string]string{}
		for i := range r.IntN(4) {
			s.Environment[fmt.Sprintf("V_%d", i)] = str()
		}
	}
	if r.IntN(2) == 0 {
		s.Name = "job " + strings.ReplaceAll(str(), "\n", " ") // a name is one line
	}
	s.Directory, s.StdinPath, s.StdoutPath, s.StderrPath = path(), path(), path(), path()
	if s.StdoutPath != "" && s.StdoutPath == s.StderrPath {
		s.StderrPath = ""
	}
	nodes := r.IntN(3)
	s.Resources = compute.Resources{NodeCount: nodes, CPUCoresPerProcess: r.IntN(4), GPUCoresPerProcess: r.IntN(2),
		ExclusiveNodeUse: r.IntN(2) == 0, Memory: compute.ByteSize(r.IntN(3) << 30)}
	if nodes > 0 && r.IntN(2) == 0 {
		s.Resources.ProcessesPerNode = 1 + r.IntN(4)
		s.Resources.ProcessCount = nodes * s.Resources.ProcessesPerNode
	}
	s.Attributes = compute.Attributes{
		Duration:  compute.Duration(time.Duration(1+r.IntN(7200000)) * time.Millisecond),
		QueueName: []string{"", "debug", "regular"}[r.IntN(3)],
		Account:   []string{"", "proj1"}[r.IntN(2)],
	}
	if r.IntN(3) == 0 {
		s.Attributes.CustomAttributes = map[string]string{"constraint": str()}
	}
	if r.IntN(4) == 0 {
		s.Container = "docker.io/library/alpine:3"
	}
	return s
}

// What the provider gets back from what the client sends is the Genesis
// spec the client started from, with paths made absolute, the duration
// rounded up to seconds and the project filled in — and what the client
// sends is a valid JobSpec of the spec. Checked on random specs.
func TestJobSpecRoundTrip(t *testing.T) {
	schemas, err := newBodySchemas()
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		orig := randSpec(r)
		if err := orig.Validate(); err != nil {
			t.Fatalf("generator made an invalid spec: %v", err)
		}
		req := compute.Request{ID: compute.JobID(fmt.Sprintf("job-%d", i)), Spec: orig, WorkDir: "/work/dir"}
		data, err := json.Marshal(iri.ToIRI(req))
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas.validate(data, "components", "schemas", "JobSpec"); err != nil {
			t.Fatalf("%s\nis not a JobSpec of the spec: %v", data, err)
		}
		js, err := iri.DecodeJobSpec(data)
		if err != nil {
			t.Fatalf("decode %s: %v", data, err)
		}
		account := orig.Attributes.Account
		if account == "" {
			account = "from-header"
		}
		got, err := iri.FromIRI(js, account)
		if err != nil {
			t.Fatalf("FromIRI(%s): %v", data, err)
		}
		want := *orig
		abs := func(base, p string) string {
			if p == "" || filepath.IsAbs(p) {
				return filepath.Clean(p)
			}
			return filepath.Join(base, p)
		}
		want.Directory = abs("/work/dir", orig.Directory)
		if orig.Directory == "" {
			want.Directory = "/work/dir"
		}
		want.StdinPath = abs(want.Directory, orig.StdinPath)
		if orig.StdinPath == "" {
			want.StdinPath = ""
		}
		want.StdoutPath, want.StderrPath = abs(want.Directory, orig.StdoutPath), abs(want.Directory, orig.StderrPath)
		if orig.StdoutPath == "" {
			want.StdoutPath = filepath.Join(want.Directory, ".genesis-"+string(req.ID)+".out")
		}
		if orig.StderrPath == "" {
			want.StderrPath = filepath.Join(want.Directory, ".genesis-"+string(req.ID)+".err")
		}
		if want.Name == "" {
			want.Name = string(req.ID)
		}
		want.Attributes.Duration = compute.Duration(time.Duration(iri.DurationSeconds(orig.Attributes.Duration.D())) * time.Second)
		want.Attributes.Account = account
		if len(want.Arguments) == 0 {
			want.Arguments = nil
		}
		if len(want.Environment) == 0 {
			want.Environment = nil
		}
		if diff := cmp.Diff(&want, got); diff != "" {
			t.Fatalf("round trip of %+v (-want +got):\n%s", orig, diff)
		}
	}
}

func TestDurationSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{{time.Nanosecond, 1}, {time.Second, 1}, {time.Second + 1, 2}, {90 * time.Minute, 5400}, {0, 1}, {-time.Second, 1}} {
		if got := iri.DurationSeconds(tc.d); got != tc.want {
			t.Errorf("DurationSeconds(%v) = %d, want %d", tc.d, got, tc.want)
		}
	}
}

// Every Genesis state survives the trip through the spec's states, with
// its reason (carried in meta_data) and exit code.
func TestStateRoundTrip(t *testing.T) {
	for _, st := range []compute.Status{
		{State: compute.Queued, ExitCode: -1},
		{State: compute.Running, ExitCode: -1},
		{State: compute.Completed, ExitCode: 0},
		{State: compute.Failed, Reason: compute.ReasonExitCode, ExitCode: 3, Detail: "exit status 3"},
		{State: compute.Failed, Reason: compute.ReasonTimeout, ExitCode: -1},
		{State: compute.Failed, Reason: compute.ReasonSignal, ExitCode: -1},
		{State: compute.Failed, Reason: compute.ReasonLost, ExitCode: -1},
		{State: compute.Failed, Reason: compute.ReasonBackend, ExitCode: -1},
		{State: compute.Canceled, Reason: compute.ReasonCanceled, ExitCode: -1},
	} {
		js := iri.ToIRIStatus(st, time.Now())
		got, err := iri.FromIRIStatus(js)
		if err != nil || got != st {
			t.Errorf("%+v → %+v → %+v, %v", st, js, got, err)
		}
	}
}

// Statuses from other facilities: no meta_data, reasons from the message.
func TestForeignStatus(t *testing.T) {
	i := func(n int) *int { return &n }
	s := func(v string) *string { return &v }
	for _, tc := range []struct {
		in   iri.JobStatus
		want compute.Status
	}{
		{iri.JobStatus{State: "held"}, compute.Status{State: compute.Queued, ExitCode: -1}},
		{iri.JobStatus{State: "new"}, compute.Status{State: compute.Queued, ExitCode: -1}},
		{iri.JobStatus{State: "completed"}, compute.Status{State: compute.Completed, ExitCode: 0}},
		{iri.JobStatus{State: "failed", ExitCode: i(2)}, compute.Status{State: compute.Failed, Reason: compute.ReasonExitCode, ExitCode: 2}},
		{iri.JobStatus{State: "failed", Message: s("TIMEOUT: job exceeded its time limit")}, compute.Status{State: compute.Failed, Reason: compute.ReasonTimeout, ExitCode: -1, Detail: "TIMEOUT: job exceeded its time limit"}},
		{iri.JobStatus{State: "failed", Message: s("killed by signal 9")}, compute.Status{State: compute.Failed, Reason: compute.ReasonSignal, ExitCode: -1, Detail: "killed by signal 9"}},
		{iri.JobStatus{State: "failed", Message: s("NODE_FAIL")}, compute.Status{State: compute.Failed, Reason: compute.ReasonBackend, ExitCode: -1, Detail: "NODE_FAIL"}},
		{iri.JobStatus{State: "canceled", ExitCode: i(143)}, compute.Status{State: compute.Canceled, Reason: compute.ReasonCanceled, ExitCode: 143}},
	} {
		got, err := iri.FromIRIStatus(&tc.in)
		if err != nil || got != tc.want {
			t.Errorf("%+v: %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	if _, err := iri.FromIRIStatus(&iri.JobStatus{State: "exploded"}); !errors.Is(errors.Internal, err) {
		t.Errorf("unknown state: %v, want Internal", err)
	}
}

// The provider's decoding of submitted specs: whatever it accepts maps to a
// valid Genesis spec, and that spec survives another trip through the
// client's mapping.
func FuzzDecodeJobSpec(f *testing.F) {
	for _, s := range []string{
		`{"executable": "/bin/true", "attributes": {"duration": 10}}`,
		`{"executable": "/bin/sh", "arguments": ["-c", "echo hi"], "directory": "sub", "environment": {"A": "b"}, "resources": {"node_count": 1, "memory": 1024, "exclusive_node_use": false}, "attributes": {"duration": 60, "queue_name": "debug", "custom_attributes": {"constraint": "gpu"}}}`,
		`{"executable": "x", "attributes": {"duration": 1}, "container": {"image": "alpine"}}`,
		`{"executable": "x", "attributes": {"duration": 0}}`,
		`{"executable": null, "attributes": null}`,
		`{"executable": "x", "resources": {"node_count": -1}, "attributes": {"duration": 5}}`,
		`{"executable": "x", "launcher": "srun", "attributes": {"duration": 5}}`,
		`{"executable": "x", "attributes": {"duration": 9223372036854775807}}`,
		`[]`, `{"executable": "x"} {}`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		js, err := iri.DecodeJobSpec(data)
		if err != nil {
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("decode error of kind %v: %v", errors.KindOf(err), err)
			}
			return
		}
		spec, err := iri.FromIRI(js, "proj")
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.SafeMessage(err) == "" {
				t.Fatalf("FromIRI error without kind Invalid and a message: %v", err)
			}
			return
		}
		if err := spec.Validate(); err != nil {
			t.Fatalf("FromIRI returned an invalid spec: %v", err)
		}
		again, err := json.Marshal(iri.ToIRI(compute.Request{ID: "fuzz", Spec: spec, WorkDir: "/w"}))
		if err != nil {
			t.Fatal(err)
		}
		js2, err := iri.DecodeJobSpec(again)
		if err != nil {
			t.Fatalf("re-decode %s: %v", again, err)
		}
		long := slices.ContainsFunc([]string{spec.Directory, spec.StdinPath, spec.StdoutPath, spec.StderrPath}, func(s string) bool { return len(s) > 60000 })
		spec2, err := iri.FromIRI(js2, "proj")
		if err != nil && !long {
			t.Fatalf("round trip %s: %v", again, err)
		}
		if err == nil && (spec2.Executable != spec.Executable || !slices.Equal(spec2.Arguments, spec.Arguments) ||
			spec2.Attributes.Duration != spec.Attributes.Duration || spec2.Resources != spec.Resources) {
			t.Fatalf("round trip changed the job: %+v → %+v", spec, spec2)
		}
	})
}

// Any status a facility sends maps to a Genesis status that keeps the
// contract, or to an Internal error for states the spec does not have.
func FuzzFromIRIStatus(f *testing.F) {
	f.Add("failed", 3, true, "exit status 3", "")
	f.Add("failed", 0, false, "TIMEOUT", "")
	f.Add("failed", 0, false, "", "duration-exceeded")
	f.Add("canceled", 0, false, "", "")
	f.Add("completed", 0, true, "", "")
	f.Add("active", 0, false, "running", "")
	f.Add("held", 0, false, "", "bogus")
	f.Add("weird", 1, true, "x", "y")
	f.Fuzz(func(t *testing.T, state string, exit int, hasExit bool, msg, reason string) {
		js := &iri.JobStatus{State: iri.JobState(state), Message: &msg}
		if hasExit {
			js.ExitCode = &exit
		}
		if reason != "" {
			js.MetaData = map[string]any{"reason": reason}
		}
		st, err := iri.FromIRIStatus(js)
		valid := slices.Contains([]string{"new", "queued", "held", "active", "completed", "failed", "canceled"}, state)
		if !valid {
			if !errors.Is(errors.Internal, err) {
				t.Fatalf("state %q: %+v, %v; want Internal", state, st, err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case !st.State.Final():
			if st.Reason != "" || st.ExitCode != -1 {
				t.Fatalf("non-final %+v has a reason or exit code", st)
			}
		case st.State == compute.Completed:
			if st.Reason != "" {
				t.Fatalf("completed with reason %q", st.Reason)
			}
		default:
			known := []string{compute.ReasonExitCode, compute.ReasonSignal, compute.ReasonTimeout, compute.ReasonCanceled, compute.ReasonLost, compute.ReasonBackend}
			if !slices.Contains(known, st.Reason) {
				t.Fatalf("%+v: reason not one of Genesis's", st)
			}
			if (st.State == compute.Canceled) != (st.Reason == compute.ReasonCanceled) {
				t.Fatalf("%+v: canceled iff reason canceled", st)
			}
		}
	})
}
