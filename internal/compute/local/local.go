// Package local is the compute backend that runs jobs as processes on this
// machine. It is the embedded default: no isolation beyond what a Unix
// process gives, so a site backed by it should be accredited accordingly.
//
// What it guarantees:
//
//   - Each job runs in its own process group (Setpgid) in the directory the
//     caller prepared; Cancel and the duration limit kill the whole group
//     (SIGTERM, then SIGKILL after a grace period).
//   - On Linux a job does not outlive the process that started it: when
//     that process dies, even by SIGKILL, a reaper process kills the job's
//     process group (reaper_linux.go) — so a replica killed while it held
//     the scheduler's lease leaves nothing running that the next holder
//     runs again. What leaves the group (setsid, setpgid) is beyond it.
//   - A replica that loses the scheduler's lease while alive calls
//     Abandon: its running jobs are killed at once and recorded lost, so
//     they run again only where the next holder places them.
//   - Where prlimit(1) is available, memory (RLIMIT_AS, per the spec's
//     memory) and CPU time (RLIMIT_CPU, from the duration × cores) are
//     limited.
//   - stdout and stderr go to files (the spec's paths, or files in the
//     backend's state directory) and can be read while the job runs.
//   - Job records live under the state directory, written atomically, so a
//     backend restarted on the same directory answers Status, Logs and
//     idempotent Submit for every job it ever ran.
//   - Across a restart, a job that was still running cannot be waited for
//     (its exit status belongs to the old process): the new backend kills
//     what is left of its process group and reports it Failed with
//     compute.ReasonLost. A scheduler may then resubmit it under a new ID.
//
// It runs one process per job on one node: specs asking for more nodes or
// processes are refused as errors.Invalid.
package local

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/errors"
)

var _ compute.Backend = (*Backend)(nil)

// DefaultPath is the PATH a job gets unless its spec sets one.
const DefaultPath = "/usr/local/bin:/usr/bin:/bin"

// Backend runs jobs as local processes. Use New; Close kills running jobs.
type Backend struct {
	dir     string
	grace   time.Duration
	prlimit string // path of prlimit(1), or ""

	mu     sync.Mutex
	jobs   map[compute.JobID]*job
	closed bool
	// reaper kills the running jobs' process groups if this process dies
	// (reaper_linux.go); nil where there is none.
	reaper *reaper
	wg     sync.WaitGroup
}

// job is one job's record; the exported part is persisted as record.json.
type job struct {
	Record
	cmd       *exec.Cmd
	timer     *time.Timer
	canceled  bool
	timedOut  bool
	abandoned string // why Abandon killed it ("" if it did not)
	done      chan struct{}
	killTimer *time.Timer
}

// Record is what the backend persists about a job.
type Record struct {
	ID         compute.JobID  `json:"id"`
	Status     compute.Status `json:"status"`
	Dir        string         `json:"dir"` // the job's working directory
	StdoutPath string         `json:"stdout"`
	StderrPath string         `json:"stderr"`
	PID        int            `json:"pid,omitempty"`
	StartTicks uint64         `json:"start_ticks,omitempty"` // /proc/PID/stat starttime, against PID reuse
	Submitted  time.Time      `json:"submitted"`
	Started    time.Time      `json:"started,omitzero"`
	Ended      time.Time      `json:"ended,omitzero"`
}

// Options tune a Backend; the zero value is fine.
type Options struct {
	// KillGrace is the time between SIGTERM and SIGKILL (default 2 s).
	KillGrace time.Duration
	// NoRlimits disables prlimit(1) even when it is installed.
	NoRlimits bool
}

// New returns a backend keeping its records under dir (created if needed).
// Jobs a previous backend on dir left running are reported lost.
func New(dir string, opts Options) (*Backend, error) {
	const op errors.Op = "local.New"
	if opts.KillGrace <= 0 {
		opts.KillGrace = 2 * time.Second
	}
	b := &Backend{dir: dir, grace: opts.KillGrace, jobs: map[compute.JobID]*job{}}
	if !opts.NoRlimits {
		if p, err := exec.LookPath("prlimit"); err == nil {
			b.prlimit = p
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "jobs"), 0o700); err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	if err := b.recover(); err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	return b, nil
}

// recover marks jobs left running by an earlier backend as lost.
func (b *Backend) recover() error {
	ents, err := os.ReadDir(filepath.Join(b.dir, "jobs"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		r, err := b.readRecord(compute.JobID(e.Name()))
		if err != nil || r.Status.State.Final() {
			continue
		}
		if r.PID > 0 && r.StartTicks != 0 && startTicks(r.PID) == r.StartTicks {
			_ = syscall.Kill(-r.PID, syscall.SIGKILL)
		}
		r.Status = compute.Status{State: compute.Failed, Reason: compute.ReasonLost, ExitCode: -1,
			Detail: "the local backend restarted while the job was running"}
		r.Ended = time.Now().UTC()
		if err := b.writeRecord(r); err != nil {
			return err
		}
	}
	return nil
}

func (b *Backend) jobDir(id compute.JobID) string { return filepath.Join(b.dir, "jobs", string(id)) }

func (b *Backend) readRecord(id compute.JobID) (*Record, error) {
	data, err := os.ReadFile(filepath.Join(b.jobDir(id), "record.json"))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// writeRecord replaces the job's record atomically (and durably).
func (b *Backend) writeRecord(r *Record) error {
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	d := b.jobDir(r.ID)
	f, err := os.CreateTemp(d, ".record-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	return os.Rename(f.Name(), filepath.Join(d, "record.json"))
}

// lookup returns the job with id, loading finished jobs from disk. b.mu held.
func (b *Backend) lookup(id compute.JobID) *job {
	if j, ok := b.jobs[id]; ok {
		return j
	}
	if id.Validate() != nil {
		return nil
	}
	r, err := b.readRecord(id)
	if err != nil {
		return nil
	}
	j := &job{Record: *r}
	b.jobs[id] = j
	return j
}

// Submit starts the job as a process, or returns the existing one.
func (b *Backend) Submit(ctx context.Context, req compute.Request) (compute.BackendJobID, error) {
	const op errors.Op = "local.Submit"
	if err := req.Validate(); err != nil {
		return "", errors.E(op, err)
	}
	if err := ctx.Err(); err != nil {
		return "", errors.E(op, err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return "", errors.E(op, errors.Unavailable, errors.Msg("local backend is closed"))
	}
	if j := b.lookup(req.ID); j != nil {
		return compute.BackendJobID(j.ID), nil
	}
	spec := req.Spec
	if n := spec.Resources.Nodes(); n > 1 {
		return "", errors.E(op, errors.Invalid, errors.Field("resources.node_count"), errors.Msg("the local backend runs jobs on one node"))
	}
	if n := spec.Resources.Processes(); n > 1 {
		return "", errors.E(op, errors.Invalid, errors.Field("resources.process_count"), errors.Msg("the local backend runs one process per job"))
	}
	if spec.Container != "" {
		return "", errors.E(op, errors.Invalid, errors.Field("container"), errors.Msg("the local backend does not run containers"))
	}
	jd := b.jobDir(req.ID)
	if err := os.Mkdir(jd, 0o700); err != nil {
		return "", errors.E(op, errors.Internal, err)
	}
	cwd := req.Dir()
	j := &job{Record: Record{
		ID:         req.ID,
		Dir:        cwd,
		StdoutPath: filepath.Join(jd, "stdout"),
		StderrPath: filepath.Join(jd, "stderr"),
		Submitted:  time.Now().UTC(),
		Status:     compute.Status{State: compute.Queued, ExitCode: -1},
	}, done: make(chan struct{})}
	if spec.StdoutPath != "" {
		j.StdoutPath = compute.Resolve(cwd, spec.StdoutPath)
	}
	if spec.StderrPath != "" {
		j.StderrPath = compute.Resolve(cwd, spec.StderrPath)
	}
	b.jobs[req.ID] = j
	if err := b.start(j, spec); err != nil {
		// The job exists (idempotency holds) but could not start.
		j.Status = compute.Status{State: compute.Failed, Reason: compute.ReasonBackend, ExitCode: -1, Detail: err.Error()}
		j.Ended = time.Now().UTC()
		close(j.done)
	}
	if err := b.writeRecord(&j.Record); err != nil {
		return "", errors.E(op, errors.Internal, err)
	}
	return compute.BackendJobID(req.ID), nil
}

// start launches j's process. b.mu held.
func (b *Backend) start(j *job, spec *compute.JobSpec) error {
	env := environ(j.ID, j.Dir, spec.Environment)
	argv := append([]string{spec.Executable}, spec.Arguments...)
	path := spec.Executable
	if b.prlimit != "" {
		cores := spec.Resources.CoresPerProcess()
		cpu := int64(math.Ceil(spec.Attributes.Duration.D().Seconds()))*int64(cores) + 5
		pre := []string{b.prlimit, "--cpu=" + strconv.FormatInt(cpu, 10)}
		if m := spec.Resources.Memory; m > 0 {
			pre = append(pre, "--as="+strconv.FormatInt(int64(m), 10))
		}
		pre = append(pre, "--")
		argv = append(pre, argv...)
		path = b.prlimit
	} else if !strings.Contains(path, "/") {
		p, err := lookPath(path, env)
		if err != nil {
			return err
		}
		path = p
	}
	var stdin *os.File
	if spec.StdinPath != "" {
		f, err := os.Open(compute.Resolve(j.Dir, spec.StdinPath))
		if err != nil {
			return fmt.Errorf("stdin: %w", err)
		}
		stdin = f
		defer f.Close()
	}
	stdout, err := os.OpenFile(j.StdoutPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("stdout: %w", err)
	}
	defer stdout.Close()
	stderr := stdout
	if j.StderrPath != j.StdoutPath {
		stderr, err = os.OpenFile(j.StderrPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return fmt.Errorf("stderr: %w", err)
		}
		defer stderr.Close()
	}
	cmd := &exec.Cmd{
		Path:        path,
		Args:        argv,
		Env:         env,
		Dir:         j.Dir,
		Stdout:      stdout,
		Stderr:      stderr,
		SysProcAttr: jobAttr(),
	}
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if err := startJob(cmd); err != nil {
		return err
	}
	j.cmd = cmd
	j.PID = cmd.Process.Pid
	b.guard('+', j.PID)
	j.StartTicks = startTicks(j.PID)
	j.Started = time.Now().UTC()
	j.Status = compute.Status{State: compute.Running, ExitCode: -1}
	j.timer = time.AfterFunc(spec.Attributes.Duration.D(), func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if !j.Status.State.Final() && !j.canceled {
			j.timedOut = true
			b.kill(j)
		}
	})
	b.wg.Add(1)
	go b.wait(j)
	return nil
}

// kill signals j's process group: SIGTERM now, SIGKILL after the grace
// period. b.mu held.
func (b *Backend) kill(j *job) {
	pid := j.PID
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	if j.killTimer == nil {
		j.killTimer = time.AfterFunc(b.grace, func() { _ = syscall.Kill(-pid, syscall.SIGKILL) })
	}
}

// guard names (+) or withdraws (-) a running job's process group to the
// reaper, starting one if there is none or it died (then naming every
// running group to it). A job no reaper knows still runs: its leader dies
// with this process (PR_SET_PDEATHSIG), only what it started may not.
// b.mu held.
func (b *Backend) guard(op byte, pgid int) {
	if b.reaper != nil && b.reaper.send(op, pgid) == nil {
		return
	}
	if b.reaper != nil {
		b.reaper.close()
		b.reaper = nil
	}
	r, err := startReaper()
	if err != nil || r == nil {
		return
	}
	for _, j := range b.jobs {
		if j.cmd != nil && !j.Status.State.Final() && (op == '+' || j.PID != pgid) {
			if r.send('+', j.PID) != nil {
				r.close()
				return
			}
		}
	}
	b.reaper = r
}

// wait reaps j's process and records its final state.
func (b *Backend) wait(j *job) {
	defer b.wg.Done()
	err := j.cmd.Wait()
	// Anything the job left behind in its group goes with it.
	_ = syscall.Kill(-j.PID, syscall.SIGKILL)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.guard('-', j.PID)
	j.timer.Stop()
	if j.killTimer != nil {
		j.killTimer.Stop()
	}
	st := compute.Status{ExitCode: -1}
	ws, _ := j.cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case j.abandoned != "":
		st.State, st.Reason, st.Detail = compute.Failed, compute.ReasonLost, j.abandoned
	case j.canceled:
		st.State, st.Reason, st.Detail = compute.Canceled, compute.ReasonCanceled, "canceled"
	case j.timedOut:
		st.State, st.Reason, st.Detail = compute.Failed, compute.ReasonTimeout, "killed after running longer than its duration"
	case err == nil:
		st.State, st.ExitCode = compute.Completed, 0
	case ws.Signaled():
		st.State, st.Reason, st.Detail = compute.Failed, compute.ReasonSignal, "killed by signal "+ws.Signal().String()
	default:
		st.State, st.Reason, st.ExitCode = compute.Failed, compute.ReasonExitCode, j.cmd.ProcessState.ExitCode()
		st.Detail = fmt.Sprintf("exit code %d", st.ExitCode)
		if b.prlimit != "" && st.ExitCode == 127 && ws.ExitStatus() == 127 {
			st.Detail = "exit code 127 (executable not found?)"
		}
	}
	if ws.Signaled() && !j.canceled && !j.timedOut && j.abandoned == "" && ws.Signal() == syscall.SIGXCPU {
		st.Reason, st.Detail = compute.ReasonTimeout, "CPU time limit exceeded"
	}
	if !j.canceled && !j.timedOut && j.abandoned == "" {
		st.ExitCode = j.cmd.ProcessState.ExitCode()
	}
	j.Status = st
	j.Ended = time.Now().UTC()
	if err := b.writeRecord(&j.Record); err != nil {
		j.Status.Detail += " (record not saved: " + err.Error() + ")"
	}
	close(j.done)
}

// Statuses reports each of ids this backend knows (compute.StatusLister).
func (b *Backend) Statuses(ctx context.Context, ids []compute.BackendJobID) (map[compute.BackendJobID]compute.Status, error) {
	return compute.EachStatus(ctx, b, ids)
}

var _ compute.StatusLister = (*Backend)(nil)

// Status reports the job's state.
func (b *Backend) Status(ctx context.Context, id compute.BackendJobID) (compute.Status, error) {
	const op errors.Op = "local.Status"
	b.mu.Lock()
	defer b.mu.Unlock()
	j := b.lookup(compute.JobID(id))
	if j == nil {
		return compute.Status{}, errors.E(op, errors.NotExist, errors.Msg("no such job"))
	}
	return j.Status, nil
}

// Cancel kills the job's process group; a final job is left alone.
func (b *Backend) Cancel(ctx context.Context, id compute.BackendJobID) error {
	const op errors.Op = "local.Cancel"
	b.mu.Lock()
	defer b.mu.Unlock()
	j := b.lookup(compute.JobID(id))
	if j == nil {
		return errors.E(op, errors.NotExist, errors.Msg("no such job"))
	}
	if j.Status.State.Final() || j.cmd == nil {
		return nil
	}
	j.canceled = true
	b.kill(j)
	return nil
}

// Logs returns the job's stream from offset on.
func (b *Backend) Logs(ctx context.Context, id compute.BackendJobID, stream compute.Stream, offset int64) (io.ReadCloser, error) {
	const op errors.Op = "local.Logs"
	if offset < 0 {
		return nil, errors.E(op, errors.Invalid, errors.Field("offset"), errors.Msg("negative offset"))
	}
	b.mu.Lock()
	j := b.lookup(compute.JobID(id))
	var p string
	if j != nil {
		switch stream {
		case compute.Stdout:
			p = j.StdoutPath
		case compute.Stderr:
			p = j.StderrPath
		}
	}
	b.mu.Unlock()
	if j == nil {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no such job"))
	}
	if p == "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("stream"), errors.Msg("stream must be stdout or stderr"))
	}
	f, err := os.Open(p)
	if os.IsNotExist(err) {
		return io.NopCloser(strings.NewReader("")), nil
	}
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		f.Close()
		return nil, errors.E(op, errors.Internal, err)
	}
	return f, nil
}

// Abandon kills every running job's process group at once (SIGKILL, no
// grace period) and waits until each is reaped and recorded Failed with
// compute.ReasonLost and the detail why, which a scheduler takes as "run
// it again". It returns how many it killed. A replica calls it when it
// loses the scheduler's lease while still alive (a stalled or partitioned
// store): the next holder does not know these jobs and will place them
// again, so they must not go on running here — the reaper covers the
// replica's death, this covers its survival. A job being canceled is
// killed too but stays Canceled. Jobs submitted afterwards run as usual.
func (b *Backend) Abandon(why string) int {
	b.mu.Lock()
	var killed []*job
	for _, j := range b.jobs {
		if j.cmd != nil && !j.Status.State.Final() {
			if !j.canceled && j.abandoned == "" {
				j.abandoned = why // a canceled job stays Canceled
			}
			_ = syscall.Kill(-j.PID, syscall.SIGKILL)
			killed = append(killed, j)
		}
	}
	b.mu.Unlock()
	for _, j := range killed {
		<-j.done
	}
	return len(killed)
}

// Close kills the running jobs (they are recorded Canceled) and waits for
// them to be reaped. Records stay on disk.
func (b *Backend) Close() error {
	b.mu.Lock()
	b.closed = true
	for _, j := range b.jobs {
		if j.cmd != nil && !j.Status.State.Final() {
			j.canceled = true
			_ = syscall.Kill(-j.PID, syscall.SIGKILL)
		}
	}
	b.mu.Unlock()
	b.wg.Wait()
	b.mu.Lock()
	if b.reaper != nil {
		b.reaper.close()
		b.reaper = nil
	}
	b.mu.Unlock()
	return nil
}

// environ builds a job's environment: a minimal base, then the spec's.
func environ(id compute.JobID, dir string, spec map[string]string) []string {
	m := map[string]string{
		"PATH":           DefaultPath,
		"HOME":           dir,
		"GENESIS_JOB_ID": string(id),
	}
	for k, v := range spec {
		m[k] = v
	}
	env := make([]string, 0, len(m))
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	return env
}

// lookPath finds file in the PATH of env.
func lookPath(file string, env []string) (string, error) {
	path := DefaultPath
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	for _, d := range filepath.SplitList(path) {
		p := filepath.Join(d, file)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("executable %q not found in PATH", file)
}

// startTicks returns the start time of pid from /proc (0 if unknown), so a
// recorded PID is not mistaken for a new process that reused it.
func startTicks(pid int) uint64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	// Fields after the command: state is field 3, starttime field 22.
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}
