// Package computetest is the conformance suite every compute.Backend
// passes: jobs that succeed, fail, are cancelled, run out of time; exact
// arguments and environment; working directories; concurrent and
// idempotent submission; unknown jobs.
//
// Jobs run /bin/sh scripts, so the machine the backend runs them on needs a
// POSIX shell and coreutils. Work directories are created world-writable
// (under a world-readable parent) because a backend such as Slurm runs jobs
// as another user.
package computetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/errors"
)

// Timeout bounds how long the suite waits for a job to reach a state.
// Generous: a Slurm job takes a few seconds to start.
var Timeout = 90 * time.Second

var runID = fmt.Sprintf("t%x", time.Now().UnixNano())
var seq atomic.Int64

// NewID returns a job ID unique to this test process, so reruns against a
// long-lived backend (a Slurm cluster) never collide with earlier jobs.
func NewID(name string) compute.JobID {
	return compute.JobID(fmt.Sprintf("%s-%d-%s", runID, seq.Add(1), name))
}

// WorkDir returns a fresh per-job directory that any user can write.
func WorkDir(t testing.TB) string {
	t.Helper()
	d := t.TempDir()
	for _, p := range []struct {
		path string
		mode os.FileMode
	}{{filepath.Dir(d), 0o755}, {d, 0o777}} {
		if err := os.Chmod(p.path, p.mode); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// Shell returns a spec running script with /bin/sh -c; extra arguments
// become $1….
func Shell(script string, duration time.Duration, args ...string) *compute.JobSpec {
	return &compute.JobSpec{
		Executable: "/bin/sh",
		Arguments:  append([]string{"-c", script, "sh"}, args...),
		Attributes: compute.Attributes{Duration: compute.Duration(duration)},
	}
}

// Wait polls until the job's state satisfies done, and returns the status.
func Wait(t testing.TB, b compute.Backend, id compute.BackendJobID, what string, done func(compute.Status) bool) compute.Status {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(Timeout)
	var st compute.Status
	var err error
	for time.Now().Before(deadline) {
		st, err = b.Status(ctx, id)
		if err != nil {
			t.Fatalf("Status(%s): %v", id, err)
		}
		if done(st) {
			return st
		}
		if st.State.Final() {
			t.Fatalf("job %s ended %+v while waiting for %s", id, st, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("job %s: still %+v after %v waiting for %s", id, st, Timeout, what)
	return st
}

// WaitFinal waits for a final state.
func WaitFinal(t testing.TB, b compute.Backend, id compute.BackendJobID) compute.Status {
	t.Helper()
	return Wait(t, b, id, "a final state", func(s compute.Status) bool { return s.State.Final() })
}

// ReadLog returns the whole of a stream.
func ReadLog(t testing.TB, b compute.Backend, id compute.BackendJobID, s compute.Stream, offset int64) string {
	t.Helper()
	r, err := b.Logs(context.Background(), id, s, offset)
	if err != nil {
		t.Fatalf("Logs(%s, %s, %d): %v", id, s, offset, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func submit(t testing.TB, b compute.Backend, id compute.JobID, spec *compute.JobSpec, dir string) compute.BackendJobID {
	t.Helper()
	bid, err := b.Submit(context.Background(), compute.Request{ID: id, Spec: spec, WorkDir: dir})
	if err != nil {
		t.Fatalf("Submit(%s): %v", id, err)
	}
	return bid
}

// Run runs the suite; newBackend returns a backend for one subtest (it may
// share state with other subtests' backends). Subtests run in parallel.
func Run(t *testing.T, newBackend func(t *testing.T) compute.Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b compute.Backend)
	}{
		{"Succeeds", testSucceeds},
		{"Fails", testFails},
		{"Cancel", testCancel},
		{"Timeout", testTimeout},
		{"ArgumentsAndEnvironment", testArgsEnv},
		{"WorkingDirectory", testWorkingDirectory},
		{"Stdin", testStdin},
		{"ConcurrentSubmits", testConcurrent},
		{"IdempotentSubmit", testIdempotent},
		{"UnknownJob", testUnknown},
		{"BadRequest", testBadRequest},
		{"Statuses", CheckStatuses},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newBackend(t))
		})
	}
}

func testSucceeds(t *testing.T, b compute.Backend) {
	dir := WorkDir(t)
	id := submit(t, b, NewID("ok"), Shell("echo hello; echo oops >&2", time.Minute), dir)
	st := WaitFinal(t, b, id)
	if st.State != compute.Completed || st.ExitCode != 0 {
		t.Fatalf("status %+v, want completed with exit code 0", st)
	}
	if got := ReadLog(t, b, id, compute.Stdout, 0); got != "hello\n" {
		t.Errorf("stdout %q, want %q", got, "hello\n")
	}
	if got := ReadLog(t, b, id, compute.Stdout, 2); got != "llo\n" {
		t.Errorf("stdout from offset 2: %q, want %q", got, "llo\n")
	}
	if got := ReadLog(t, b, id, compute.Stderr, 0); got != "oops\n" {
		t.Errorf("stderr %q, want %q", got, "oops\n")
	}
	// A final job stays final, and cancelling it changes nothing.
	if err := b.Cancel(context.Background(), id); err != nil {
		t.Fatalf("Cancel of a completed job: %v", err)
	}
	if st2, err := b.Status(context.Background(), id); err != nil || st2.State != compute.Completed {
		t.Fatalf("after Cancel: %+v, %v", st2, err)
	}
}

func testFails(t *testing.T, b compute.Backend) {
	id := submit(t, b, NewID("fail"), Shell("echo about to fail; exit 3", time.Minute), WorkDir(t))
	st := WaitFinal(t, b, id)
	if st.State != compute.Failed || st.ExitCode != 3 || st.Reason != compute.ReasonExitCode {
		t.Fatalf("status %+v, want failed, exit code 3, reason %s", st, compute.ReasonExitCode)
	}
	if got := ReadLog(t, b, id, compute.Stdout, 0); got != "about to fail\n" {
		t.Errorf("stdout %q", got)
	}
}

func testCancel(t *testing.T, b compute.Backend) {
	dir := WorkDir(t)
	// The background children check that the whole job is killed, not
	// only the shell: each would live 30 s, and one ignores SIGTERM (a
	// backend sends SIGKILL after its grace). Each writes its process ID,
	// so the test sees them end (it runs on the job's host). Only their
	// ends are checked, not what they do while being killed: Slurm with
	// proctrack/linuxproc signals a job's processes one by one, so a
	// shell may run its next command between its child's death and its
	// own.
	script := `(sh -c 'echo $PPID' > pid1; sleep 30) & (trap '' TERM; sh -c 'echo $PPID' > pid2; sleep 30) & ` +
		`while ! [ -s pid1 ] || ! [ -s pid2 ]; do sleep 0.01; done; echo started; sleep 300`
	id := submit(t, b, NewID("cancel"), Shell(script, 10*time.Minute), dir)
	Wait(t, b, id, "running with output", func(s compute.Status) bool {
		return s.State == compute.Running && ReadLog(t, b, id, compute.Stdout, 0) == "started\n"
	})
	if err := b.Cancel(context.Background(), id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	st := WaitFinal(t, b, id)
	if st.State != compute.Canceled {
		t.Fatalf("status %+v, want canceled", st)
	}
	if err := b.Cancel(context.Background(), id); err != nil {
		t.Fatalf("second Cancel: %v", err)
	}
	for _, f := range []string{"pid1", "pid2"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s: %q", f, b)
		}
		deadline := time.Now().Add(20 * time.Second)
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("process %d (%s) of the cancelled job still runs 20 s after the cancel", pid, f)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

func testTimeout(t *testing.T, b compute.Backend) {
	dir := WorkDir(t)
	id := submit(t, b, NewID("timeout"), Shell("echo started; sleep 120; touch finished", 3*time.Second), dir)
	st := WaitFinal(t, b, id)
	if st.State != compute.Failed || st.Reason != compute.ReasonTimeout {
		t.Fatalf("status %+v, want failed with reason %s", st, compute.ReasonTimeout)
	}
	if _, err := os.Stat(filepath.Join(dir, "finished")); err == nil {
		t.Fatalf("the job ran to its end")
	}
}

func testArgsEnv(t *testing.T, b compute.Backend) {
	args := []string{"plain", "two words", "it's", `say "hi"`, "", `$HOME`, "`id`", `back\slash`, "*", "line1\nline2", "--", "-n", "ünï ☃"}
	env := map[string]string{
		"GENESIS_A":     `a b 'c' "d" $X ` + "`e`" + ` \n`,
		"GENESIS_EMPTY": "",
		"GENESIS_UTF8":  "énergie ⚛",
	}
	script := `for a in "$@"; do printf '[%s]\n' "$a"; done; printf '<%s>\n' "$GENESIS_A" "${GENESIS_EMPTY-unset}" "$GENESIS_UTF8"`
	spec := Shell(script, time.Minute, args...)
	spec.Environment = env
	id := submit(t, b, NewID("argsenv"), spec, WorkDir(t))
	if st := WaitFinal(t, b, id); st.State != compute.Completed {
		t.Fatalf("status %+v; stderr %q", st, ReadLog(t, b, id, compute.Stderr, 0))
	}
	var want strings.Builder
	for _, a := range args {
		fmt.Fprintf(&want, "[%s]\n", a)
	}
	fmt.Fprintf(&want, "<%s>\n<%s>\n<%s>\n", env["GENESIS_A"], "", env["GENESIS_UTF8"])
	if got := ReadLog(t, b, id, compute.Stdout, 0); got != want.String() {
		t.Errorf("stdout\n%s\nwant\n%s", got, want.String())
	}
}

func testWorkingDirectory(t *testing.T, b compute.Backend) {
	dir := WorkDir(t)
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "input.txt"), []byte("staged input\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	id := submit(t, b, NewID("cwd"), Shell("pwd -P; cat input.txt; echo out > result.txt", time.Minute), dir)
	if st := WaitFinal(t, b, id); st.State != compute.Completed {
		t.Fatalf("status %+v; stderr %q", st, ReadLog(t, b, id, compute.Stderr, 0))
	}
	if got, want := ReadLog(t, b, id, compute.Stdout, 0), real+"\nstaged input\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "result.txt")); err != nil || string(data) != "out\n" {
		t.Errorf("result.txt: %q, %v", data, err)
	}

	// A relative directory and relative stream paths resolve inside it.
	sub := filepath.Join(dir, "sub")
	if err := os.Mkdir(sub, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sub, 0o777); err != nil {
		t.Fatal(err)
	}
	spec := Shell("pwd -P; echo to-stderr >&2", time.Minute)
	spec.Directory = "sub"
	spec.StdoutPath = "my.out"
	spec.StderrPath = "my.err"
	id = submit(t, b, NewID("subdir"), spec, dir)
	if st := WaitFinal(t, b, id); st.State != compute.Completed {
		t.Fatalf("status %+v", st)
	}
	if got, want := ReadLog(t, b, id, compute.Stdout, 0), filepath.Join(real, "sub")+"\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	if data, err := os.ReadFile(filepath.Join(sub, "my.err")); err != nil || string(data) != "to-stderr\n" {
		t.Errorf("sub/my.err: %q, %v", data, err)
	}
	if got := ReadLog(t, b, id, compute.Stderr, 0); got != "to-stderr\n" {
		t.Errorf("stderr via Logs: %q", got)
	}
}

func testStdin(t *testing.T, b compute.Backend) {
	dir := WorkDir(t)
	if err := os.WriteFile(filepath.Join(dir, "in.txt"), []byte("line one\nline two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec := Shell("tac", time.Minute)
	spec.StdinPath = "in.txt"
	id := submit(t, b, NewID("stdin"), spec, dir)
	if st := WaitFinal(t, b, id); st.State != compute.Completed {
		t.Fatalf("status %+v; stderr %q", st, ReadLog(t, b, id, compute.Stderr, 0))
	}
	if got, want := ReadLog(t, b, id, compute.Stdout, 0), "line two\nline one\n"; got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
	// Without a stdin path, the job reads end-of-file at once.
	id = submit(t, b, NewID("nostdin"), Shell("cat; echo eof", time.Minute), dir)
	if st := WaitFinal(t, b, id); st.State != compute.Completed {
		t.Fatalf("status %+v", st)
	}
	if got := ReadLog(t, b, id, compute.Stdout, 0); got != "eof\n" {
		t.Errorf("stdout %q, want %q", got, "eof\n")
	}
}

func testConcurrent(t *testing.T, b compute.Backend) {
	const n = 8
	ids := make([]compute.BackendJobID, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := b.Submit(context.Background(), compute.Request{
				ID: NewID(fmt.Sprintf("conc%d", i)), Spec: Shell(fmt.Sprintf("echo job-%d", i), time.Minute), WorkDir: WorkDir(t),
			})
			if err != nil {
				errs <- err
				return
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("Submit: %v", err)
	}
	seen := map[compute.BackendJobID]bool{}
	for i, id := range ids {
		if seen[id] {
			t.Fatalf("backend job ID %s returned twice", id)
		}
		seen[id] = true
		if st := WaitFinal(t, b, id); st.State != compute.Completed {
			t.Fatalf("job %d: %+v", i, st)
		}
		if got, want := ReadLog(t, b, id, compute.Stdout, 0), fmt.Sprintf("job-%d\n", i); got != want {
			t.Errorf("job %d stdout %q, want %q", i, got, want)
		}
	}
}

func testIdempotent(t *testing.T, b compute.Backend) {
	dir := WorkDir(t)
	gid := NewID("idem")
	spec := Shell("echo ran >> count; sleep 1", time.Minute)
	const n = 4
	ids := make([]compute.BackendJobID, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := b.Submit(context.Background(), compute.Request{ID: gid, Spec: spec, WorkDir: dir})
			if err != nil {
				t.Errorf("Submit %d: %v", i, err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Fatalf("same Genesis job ID gave backend jobs %v", ids)
		}
	}
	if st := WaitFinal(t, b, ids[0]); st.State != compute.Completed {
		t.Fatalf("status %+v", st)
	}
	// After the job has finished, resubmitting still returns it.
	again := submit(t, b, gid, spec, dir)
	if again != ids[0] {
		t.Fatalf("resubmit after completion gave %s, want %s", again, ids[0])
	}
	time.Sleep(500 * time.Millisecond)
	if data, err := os.ReadFile(filepath.Join(dir, "count")); err != nil || string(data) != "ran\n" {
		t.Fatalf("the job ran %q times (want once): %v", data, err)
	}
}

func testUnknown(t *testing.T, b compute.Backend) {
	ctx := context.Background()
	for _, id := range []compute.BackendJobID{"999999999", "no-such-job", ""} {
		if _, err := b.Status(ctx, id); !errors.Is(errors.NotExist, err) {
			t.Errorf("Status(%q): %v, want NotExist", id, err)
		}
		if err := b.Cancel(ctx, id); !errors.Is(errors.NotExist, err) {
			t.Errorf("Cancel(%q): %v, want NotExist", id, err)
		}
		if _, err := b.Logs(ctx, id, compute.Stdout, 0); !errors.Is(errors.NotExist, err) {
			t.Errorf("Logs(%q): %v, want NotExist", id, err)
		}
	}
}

// CheckStatuses checks a backend that lists statuses against its own
// Status: finished jobs of each outcome, a running one, and unknown IDs.
// (A backend that answers in more than one way runs it for each.)
func CheckStatuses(t *testing.T, b compute.Backend) {
	l, ok := b.(compute.StatusLister)
	if !ok {
		t.Skip("the backend does not list statuses")
	}
	ctx := context.Background()
	ok1 := submit(t, b, NewID("list-ok"), Shell("true", time.Minute), WorkDir(t))
	bad := submit(t, b, NewID("list-fail"), Shell("exit 4", time.Minute), WorkDir(t))
	run := submit(t, b, NewID("list-run"), Shell("echo started; sleep 300", 10*time.Minute), WorkDir(t))
	t.Cleanup(func() { b.Cancel(context.Background(), run) })
	WaitFinal(t, b, ok1)
	WaitFinal(t, b, bad)
	Wait(t, b, run, "running", func(s compute.Status) bool { return s.State == compute.Running })
	ids := []compute.BackendJobID{ok1, bad, run, "999999999", "no-such-job", ""}
	got, err := l.Statuses(ctx, ids)
	if err != nil {
		t.Fatalf("Statuses: %v", err)
	}
	for _, id := range ids[:3] {
		want, err := b.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		st, found := got[id]
		if !found {
			t.Errorf("Statuses left out job %s (%s)", id, want.State)
			continue
		}
		if st.State != want.State || st.ExitCode != want.ExitCode || st.Reason != want.Reason {
			t.Errorf("job %s: Statuses says %+v, Status %+v", id, st, want)
		}
	}
	for _, id := range ids[3:] {
		if st, found := got[id]; found {
			t.Errorf("Statuses reports unknown job %q: %+v", id, st)
		}
	}
	if len(got) != 3 {
		t.Errorf("Statuses returned %d jobs, want the 3 asked about that exist", len(got))
	}
}

func testBadRequest(t *testing.T, b compute.Backend) {
	ctx := context.Background()
	dir := WorkDir(t)
	for name, req := range map[string]compute.Request{
		"bad id":       {ID: "../x", Spec: Shell("true", time.Minute), WorkDir: dir},
		"no spec":      {ID: NewID("nospec"), WorkDir: dir},
		"invalid spec": {ID: NewID("nodur"), Spec: &compute.JobSpec{Executable: "/bin/true"}, WorkDir: dir},
	} {
		if _, err := b.Submit(ctx, req); !errors.Is(errors.Invalid, err) {
			t.Errorf("%s: %v, want Invalid", name, err)
		}
	}
}

// BenchSubmitToRunning measures, per job, the time from Submit to the
// first Status that reports Running (polling every poll), and reports the
// p50 and p95 in milliseconds. Each job sleeps until it is cancelled.
func BenchSubmitToRunning(b *testing.B, be compute.Backend, poll time.Duration) {
	ctx := context.Background()
	dir := WorkDir(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		id, err := be.Submit(ctx, compute.Request{ID: NewID(fmt.Sprintf("bench%d", i)), Spec: Shell("sleep 600", time.Hour), WorkDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		for {
			st, err := be.Status(ctx, id)
			if err != nil {
				b.Fatal(err)
			}
			if st.State == compute.Running {
				break
			}
			if st.State.Final() || time.Since(start) > Timeout {
				b.Fatalf("job %s: %+v after %v", id, st, time.Since(start))
			}
			time.Sleep(poll)
		}
		lat = append(lat, time.Since(start))
		b.StopTimer()
		if err := be.Cancel(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	ReportLatency(b, lat)
}

// ReportLatency reports the p50 and p95 of lat in milliseconds.
func ReportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	q := func(p float64) float64 {
		return float64(lat[int(math.Ceil(p*float64(len(lat))))-1]) / float64(time.Millisecond)
	}
	b.ReportMetric(q(0.50), "p50-ms")
	b.ReportMetric(q(0.95), "p95-ms")
}
