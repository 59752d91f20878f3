package slurm

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/errors"
)

// Property: bash reads back exactly what shellQuote quoted.
func TestShellQuoteRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("ab '\"\\$`!*?[]{}()<>|&;#~%^\n\t=-_.é☃")
	var want []string
	for i := 0; i < 400; i++ {
		n := r.IntN(12)
		var b strings.Builder
		for j := 0; j < n; j++ {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		want = append(want, b.String())
	}
	var script strings.Builder
	script.WriteString("printf '%s\\0'")
	for _, s := range want {
		script.WriteString(" " + shellQuote(s))
	}
	out, err := exec.Command("bash", "-c", script.String()).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-quoted +read back)\n%s", d)
	}
}

func TestDescribe(t *testing.T) {
	b, err := New(Config{URL: "http://x", User: "u", Token: "t", Partition: "debug"})
	if err != nil {
		t.Fatal(err)
	}
	spec := &compute.JobSpec{
		Executable:  "python3",
		Arguments:   []string{"x y"},
		Environment: map[string]string{"A": "1", "PATH": "/opt/bin"},
		Directory:   "run",
		StdinPath:   "in",
		Resources: compute.Resources{NodeCount: 2, ProcessesPerNode: 3, CPUCoresPerProcess: 4, GPUCoresPerProcess: 1,
			Memory: 1<<30 + 1, ExclusiveNodeUse: true},
		Attributes: compute.Attributes{Duration: compute.Duration(61 * time.Second), Account: "proj", ReservationID: "r1",
			CustomAttributes: map[string]string{"slurm.constraint": "cpu", "slurm.qos": "high", "other": "x"}},
	}
	got := b.describe(compute.Request{ID: "j1", Spec: spec, WorkDir: "/w"}).Job
	want := jobProperties{
		Name: "genesis-j1", Comment: "genesis-job-id=j1", Account: "proj", Partition: "debug", Reservation: "r1",
		Nodes: "2", Tasks: 6, TasksPerNode: 3, CPUsPerTask: 4, GPUsPerTask: "1", MemoryPerNode: 1025,
		Exclusive: "true", TimeLimit: 3, Environment: map[string]string{"A": "1", "PATH": "/opt/bin", "GENESIS_JOB_ID": "j1"},
		CurrentWorkingDirectory: "/w/run", StandardInput: "/w/run/in",
		StandardOutput: "/w/run/.genesis-j1.out", StandardError: "/w/run/.genesis-j1.err",
		Constraints: "cpu", QOS: "high",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Fatalf("(-want +got)\n%s", d)
	}
	sc := b.describe(compute.Request{ID: "j1", Spec: spec, WorkDir: "/w"}).Script
	if !strings.Contains(sc, "srun --kill-on-bad-exit=1 'python3' 'x y' < '/w/run/in' &") || !strings.Contains(sc, "sleep 61 &") {
		t.Fatalf("script:\n%s", sc)
	}
}

func TestStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		j    jobInfo
		want compute.Status
	}{
		{jobInfo{JobState: "PENDING", StateReason: "Resources"}, compute.Status{State: compute.Queued, ExitCode: -1, Detail: "Resources"}},
		{jobInfo{JobState: "RUNNING"}, compute.Status{State: compute.Running, ExitCode: -1}},
		{jobInfo{JobState: "COMPLETING"}, compute.Status{State: compute.Running, ExitCode: -1}},
		{jobInfo{JobState: "COMPLETED"}, compute.Status{State: compute.Completed}},
		{jobInfo{JobState: "FAILED", ExitCode: 3 << 8, StateReason: "NonZeroExitCode"}, compute.Status{State: compute.Failed, ExitCode: 3, Reason: compute.ReasonExitCode, Detail: "exit code 3"}},
		{jobInfo{JobState: "FAILED", ExitCode: 9, StateReason: "NonZeroExitCode"}, compute.Status{State: compute.Failed, ExitCode: -1, Reason: compute.ReasonSignal, Detail: "killed by signal 9"}},
		{jobInfo{JobState: "FAILED", ExitCode: 1, StateReason: "JobLaunchFailure", CurrentWorkingDirectory: "/d/jobs/x"}, compute.Status{State: compute.Failed, ExitCode: -1, Reason: compute.ReasonBackend,
			Detail: `Slurm could not start the job (JobLaunchFailure): can the job's user reach and write "/d/jobs/x"? slurmd's log on the node names the cause`}},
		{jobInfo{JobState: "FAILED", ExitCode: 1, StateReason: "BadConstraints"}, compute.Status{State: compute.Failed, ExitCode: -1, Reason: compute.ReasonBackend, Detail: "Slurm: BadConstraints"}},
		{jobInfo{JobState: "CANCELLED"}, compute.Status{State: compute.Canceled, ExitCode: -1, Reason: compute.ReasonCanceled, Detail: "canceled"}},
		{jobInfo{JobState: "TIMEOUT"}, compute.Status{State: compute.Failed, ExitCode: -1, Reason: compute.ReasonTimeout, Detail: "killed by Slurm at its time limit"}},
		{jobInfo{JobState: "NODE_FAIL"}, compute.Status{State: compute.Failed, ExitCode: -1, Reason: compute.ReasonLost, Detail: "Slurm: node_fail"}},
		{jobInfo{JobState: "OUT_OF_MEMORY"}, compute.Status{State: compute.Failed, ExitCode: -1, Reason: compute.ReasonBackend, Detail: "out of memory"}},
		{jobInfo{JobState: "WEIRD"}, compute.Status{State: compute.Failed, ExitCode: -1, Reason: compute.ReasonBackend, Detail: "Slurm state WEIRD"}},
	} {
		if d := cmp.Diff(tc.want, status(&tc.j)); d != "" {
			t.Errorf("%+v (-want +got)\n%s", tc.j, d)
		}
	}
}

// Error kinds, against a fake slurmrestd answering as 22.05 does.
func TestErrorKinds(t *testing.T) {
	ctx := context.Background()
	spec := &compute.JobSpec{Executable: "true", Attributes: compute.Attributes{Duration: compute.Duration(time.Minute)}}
	req := compute.Request{ID: "e1", Spec: spec, WorkDir: "/tmp"}

	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	b, _ := New(Config{URL: down.URL, User: "u", Token: "t"})
	if _, err := b.Submit(ctx, req); !errors.Is(errors.Transient, err) {
		t.Errorf("slurmrestd down: Submit %v, want Transient", err)
	}
	if _, err := b.Status(ctx, "12"); !errors.Is(errors.Transient, err) {
		t.Errorf("slurmrestd down: Status %v, want Transient", err)
	}

	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Header.Get("X-SLURM-USER-TOKEN") != "t":
			http.Error(w, "Authentication failure", http.StatusUnauthorized)
		case r.URL.Path == "/slurm/v0.0.38/jobs":
			w.Write([]byte(`{"errors":[],"jobs":[]}`))
		case r.URL.Path == "/slurm/v0.0.38/job/submit":
			w.WriteHeader(500)
			w.Write([]byte(`{"errors":[{"error_code":2000,"error":"Invalid partition name specified"}]}`))
		default:
			w.WriteHeader(500)
			w.Write([]byte(`{"errors":[{"description":"Unable to find JobId=12","error_number":2017,"error":"Invalid job id specified","source":"slurm_load_job"}],"jobs":[]}`))
		}
	}))
	defer fake.Close()
	b, _ = New(Config{URL: fake.URL, User: "u", Token: "t"})
	_, err := b.Submit(ctx, req)
	if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "Invalid partition name specified") {
		t.Errorf("refused job: %v (message %q), want Invalid with Slurm's message", err, errors.SafeMessage(err))
	}
	if _, err := b.Status(ctx, "12"); !errors.Is(errors.NotExist, err) {
		t.Errorf("unknown job: %v, want NotExist", err)
	}
	bad, _ := New(Config{URL: fake.URL, User: "u", Token: "wrong"})
	if _, err := bad.Status(ctx, "12"); !errors.Is(errors.Unauthenticated, err) {
		t.Errorf("bad token: %v, want Unauthenticated", err)
	}
}

// A cancel is Slurm's SIGTERM to every process below the batch script,
// the script too, in no set order; it may come at any moment once the
// command has written its first output — before the script has finished
// setting itself up, too. Whenever and in whatever order it comes,
// nothing the command started may run on (Slurm's own SIGKILL, with
// proctrack/linuxproc, only finds processes still below the script). The
// script is run by bash directly here, without Slurm, so only its own
// handling counts.
func TestScriptCancelLeavesNothing(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Fatal("bash is needed")
	}
	const trials = 60
	r := rand.New(rand.NewPCG(3, 4))
	var wg sync.WaitGroup
	errs := make(chan error, trials)
	for i := 0; i < trials; i++ {
		dir := t.TempDir()
		how := cancelHow(i % 3)
		delay := time.Duration(r.IntN(8000)) * time.Microsecond
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- cancelTrial(dir, how, delay)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// cancelHow is where a trial's SIGTERM goes, and when.
type cancelHow int

const (
	scriptAfterOutput cancelHow = iota // to the script, after the command's first output
	scriptAnyTime                      // to the script, after it starts
	belowAfterOutput                   // below the script after the first output, then the script
)

func (h cancelHow) String() string {
	return [...]string{"to the script after the first output", "to the script after its start", "below the script after the first output, then to the script"}[h]
}

// cancelTrial runs one job script in dir, sends SIGTERM as how says,
// delay after the moment it names, and reports whether any of the
// command's processes outlived the script. The command leaves one process
// that dies on SIGTERM and one that ignores it; both would run for ten
// minutes.
//
// Nothing here waits for a time to pass: every process of the command
// holds the write end of a FIFO that only the command opens, so once the
// script has ended, reading the FIFO ends (EOF) exactly when the last of
// them is gone — at once if the script killed them all, in ten minutes
// if one escaped. (The test once let the processes live 1 s and 1.5 s and
// looked for what they left behind 1.5 s after the script ended: under
// load the cancel itself took longer than that, and the test failed.)
func cancelTrial(dir string, how cancelHow, delay time.Duration) error {
	alive := filepath.Join(dir, "alive")
	if err := syscall.Mkfifo(alive, 0o600); err != nil {
		return err
	}
	// Opened for reading without blocking (there is no writer yet): a
	// read blocks while a writer holds it open and ends at EOF after the
	// last writer has gone.
	fifo, err := os.OpenFile(alive, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return err
	}
	defer fifo.Close()
	spec := &compute.JobSpec{
		Executable: "/bin/bash",
		Arguments:  []string{"-c", "exec 3>alive; echo $$ > pgid; echo started; (sleep 600; touch survivor) & (trap '' TERM; sleep 600; touch survivor2) & wait"},
	}
	spec.Attributes.Duration = compute.Duration(time.Minute)
	cmd := exec.Command("bash", "-c", script("t-cancel", spec, "", false, 300*time.Millisecond))
	cmd.Dir = dir
	out := filepath.Join(dir, "out")
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		return err
	}
	for how != scriptAnyTime {
		if b, _ := os.ReadFile(out); len(b) > 0 {
			break
		}
		time.Sleep(50 * time.Microsecond)
	}
	time.Sleep(delay)
	if how == belowAfterOutput {
		for _, pid := range descendants(cmd.Process.Pid) {
			syscall.Kill(pid, syscall.SIGTERM)
		}
		time.Sleep(20 * time.Millisecond) // the script may have ended by now, or not: both must hold
	}
	cmd.Process.Signal(syscall.SIGTERM)
	cmd.Wait()
	// The deadline is for a failure only (an escaped process runs for ten
	// minutes); a pass ends as soon as the last process is gone.
	fifo.SetReadDeadline(time.Now().Add(3 * time.Minute))
	n, err := fifo.Read(make([]byte, 1))
	if n != 0 || err != io.EOF {
		if b, _ := os.ReadFile(filepath.Join(dir, "pgid")); len(b) > 0 {
			var pgid int
			fmt.Sscan(string(b), &pgid)
			if pgid > 1 {
				syscall.Kill(-pgid, syscall.SIGKILL)
			}
		}
		return fmt.Errorf("SIGTERM %v, %v later: a process of the command still ran after the script ended (read %d, %v)", how, delay, n, err)
	}
	for _, name := range []string{"survivor", "survivor2"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("SIGTERM %v, %v later: %s was created", how, delay, name)
		}
	}
	return nil
}

// descendants lists the processes below pid (from /proc's children
// lists), children before their own children.
func descendants(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, field := range strings.Fields(string(b)) {
			var c int
			if _, err := fmt.Sscan(field, &c); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}
