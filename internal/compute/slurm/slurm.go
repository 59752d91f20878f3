// Package slurm is the compute backend that submits jobs to a Slurm
// cluster through slurmrestd (REST API v0.0.38, Slurm 22.05 as in Debian
// 12), authenticating with a JWT (X-SLURM-USER-NAME, X-SLURM-USER-TOKEN).
//
// What it guarantees, beyond compute.Backend's contract:
//
//   - A PSI/J spec becomes one batch job: a #!/bin/bash script that runs
//     the executable with its arguments quoted exactly (through srun when
//     the job has several processes or nodes), with nodes, tasks,
//     cpus_per_task, memory_per_node, partition, account, reservation,
//     environment, working directory and standard stream paths mapped.
//   - Durations are enforced to the second by the script (Slurm's own
//     time limit, in whole minutes, is set one minute above as a backstop);
//     a job killed either way is Failed with compute.ReasonTimeout.
//   - Submit is idempotent by the Genesis job ID, which is recorded in the
//     job's comment: a resubmission finds the job as long as Slurm still
//     holds its record (MinJobAge; scripts/slurm.sh sets one hour). The
//     scheduler must store the returned ID.
//   - slurmrestd unreachable or failing → errors.Transient; a job Slurm
//     refuses → errors.Invalid carrying Slurm's message; bad credentials →
//     errors.Unauthenticated; an ID Slurm does not know → errors.NotExist.
//
// Output is read from the paths Slurm writes, so the backend must see the
// cluster's shared filesystem at the same paths (true on one machine; on a
// real site the staging layer must provide it). Default output files are
// .genesis-ID.out and .genesis-ID.err in the job's working directory.
package slurm

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/errors"
	"golang.org/x/sync/errgroup"
)

var _ compute.Backend = (*Backend)(nil)

// APIVersion is the slurmrestd API this client speaks.
const APIVersion = "v0.0.38"

// Config says how to reach slurmrestd.
type Config struct {
	// URL is slurmrestd's base URL, e.g. http://127.0.0.1:6820.
	URL string
	// User and Token are the JWT credentials (scontrol token username=USER).
	// Jobs run as User.
	User  string
	Token string
	// Partition is used when a spec names no queue (default: the cluster's).
	Partition string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
	// KillGrace is the time between SIGTERM and SIGKILL when a job runs out
	// of time or is cancelled (default 5 s). Keep it below the cluster's
	// KillWait: Slurm kills the batch script then, and with
	// proctrack/linuxproc a process that ignores SIGTERM and has left the
	// command's first process is no longer found (proctrack/cgroup finds
	// it).
	KillGrace time.Duration
}

// Backend is a slurmrestd client. It keeps no state that matters across
// restarts: everything is asked of Slurm.
type Backend struct {
	cfg  Config
	base string

	// locks serialise Submits of one Genesis job ID in this process
	// (striped, so memory does not grow with the number of jobs).
	locks [64]sync.Mutex

	// When Statuses last listed all of the cluster's jobs, and how many
	// there were.
	listMu      sync.Mutex
	listed      time.Time
	clusterJobs int
}

// New returns a backend for the slurmrestd at cfg.URL. It does not dial.
func New(cfg Config) (*Backend, error) {
	const op errors.Op = "slurm.New"
	if cfg.URL == "" || cfg.User == "" || cfg.Token == "" {
		return nil, errors.E(op, errors.Invalid, errors.Msg("slurm backend needs a URL, a user and a token"))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.KillGrace <= 0 {
		cfg.KillGrace = 5 * time.Second
	}
	return &Backend{cfg: cfg, base: strings.TrimRight(cfg.URL, "/") + "/slurm/" + APIVersion}, nil
}

// The parts of the v0.0.38 documents this client reads and writes.
type (
	jobProperties struct {
		Name                    string            `json:"name"`
		Comment                 string            `json:"comment"`
		Account                 string            `json:"account,omitempty"`
		Partition               string            `json:"partition,omitempty"`
		Reservation             string            `json:"reservation,omitempty"`
		Nodes                   string            `json:"nodes"` // "N": min = max = N (22.05 ignores the [min, max] array form)
		Tasks                   int               `json:"tasks"`
		TasksPerNode            int               `json:"tasks_per_node,omitempty"`
		CPUsPerTask             int               `json:"cpus_per_task"`
		GPUsPerTask             string            `json:"gpus_per_task,omitempty"`
		MemoryPerNode           int64             `json:"memory_per_node,omitempty"` // MiB
		Exclusive               string            `json:"exclusive,omitempty"`
		TimeLimit               int               `json:"time_limit"` // minutes
		Environment             map[string]string `json:"environment"`
		CurrentWorkingDirectory string            `json:"current_working_directory"`
		StandardInput           string            `json:"standard_input,omitempty"`
		StandardOutput          string            `json:"standard_output"`
		StandardError           string            `json:"standard_error"`
		Constraints             string            `json:"constraints,omitempty"`
		QOS                     string            `json:"qos,omitempty"`
		Requeue                 bool              `json:"requeue"`
	}
	submission struct {
		Job    jobProperties `json:"job"`
		Script string        `json:"script"`
	}
	apiError struct {
		Error       string `json:"error"`
		Description string `json:"description"`
		ErrorNumber int    `json:"error_number"`
		ErrorCode   int    `json:"error_code"`
	}
	submitResponse struct {
		Errors []apiError `json:"errors"`
		JobID  *int64     `json:"job_id"`
		// job_submit_user_msg is informational.
	}
	jobInfo struct {
		JobID                   int64  `json:"job_id"`
		Name                    string `json:"name"`
		Comment                 string `json:"comment"`
		JobState                string `json:"job_state"`
		StateReason             string `json:"state_reason"`
		StateDescription        string `json:"state_description"`
		ExitCode                int    `json:"exit_code"`
		StandardOutput          string `json:"standard_output"`
		StandardError           string `json:"standard_error"`
		CurrentWorkingDirectory string `json:"current_working_directory"`
	}
	jobsResponse struct {
		Errors []apiError `json:"errors"`
		Jobs   []jobInfo  `json:"jobs"`
	}
)

// Slurm error numbers this client recognises (slurm_errno.h).
const (
	errInvalidJobID = 2017
)

const commentPrefix = "genesis-job-id="

// lock serialises Submits of one Genesis job ID within this process.
func (b *Backend) lock(id compute.JobID) func() {
	h := fnv.New32a()
	h.Write([]byte(id))
	l := &b.locks[h.Sum32()%uint32(len(b.locks))]
	l.Lock()
	return l.Unlock
}

// Submit sends the job to Slurm, unless a job with the same Genesis ID is
// already known to Slurm.
func (b *Backend) Submit(ctx context.Context, req compute.Request) (compute.BackendJobID, error) {
	const op errors.Op = "slurm.Submit"
	if err := req.Validate(); err != nil {
		return "", errors.E(op, err)
	}
	if req.Spec.Container != "" {
		// Slurm 22.05's "container" is an OCI bundle path, not an image.
		return "", errors.E(op, errors.Invalid, errors.Field("container"), errors.Msg("the slurm backend does not run container images yet"))
	}
	unlock := b.lock(req.ID)
	defer unlock()
	if id, err := b.find(ctx, req.ID); err != nil {
		return "", errors.E(op, err)
	} else if id != "" {
		return id, nil
	}
	sub := b.describe(req)
	body, err := json.Marshal(sub)
	if err != nil {
		return "", errors.E(op, errors.Internal, err)
	}
	var resp submitResponse
	status, err := b.do(ctx, http.MethodPost, "/job/submit", body, &resp)
	if err != nil {
		return "", errors.E(op, err)
	}
	if len(resp.Errors) > 0 || resp.JobID == nil {
		msg := "Slurm refused the job"
		if len(resp.Errors) > 0 {
			msg += ": " + resp.Errors[0].text()
		}
		if status >= 500 && len(resp.Errors) > 0 && resp.Errors[0].ErrorNumber == -1 {
			return "", errors.E(op, errors.Transient, errors.Msg(msg))
		}
		return "", errors.E(op, errors.Invalid, errors.Msg(msg))
	}
	return compute.BackendJobID(strconv.FormatInt(*resp.JobID, 10)), nil
}

func (e apiError) text() string {
	s := e.Error
	if e.Description != "" && e.Description != s {
		if s != "" {
			s += ": "
		}
		s += e.Description
	}
	return s
}

// find returns the Slurm job carrying Genesis job ID gid, or "".
func (b *Backend) find(ctx context.Context, gid compute.JobID) (compute.BackendJobID, error) {
	var resp jobsResponse
	if _, err := b.do(ctx, http.MethodGet, "/jobs", nil, &resp); err != nil {
		return "", err
	}
	if len(resp.Errors) > 0 {
		return "", errors.E(errors.Transient, errors.Msg("slurmrestd: "+resp.Errors[0].text()))
	}
	want := commentPrefix + string(gid)
	for _, j := range resp.Jobs {
		if j.Comment == want {
			return compute.BackendJobID(strconv.FormatInt(j.JobID, 10)), nil
		}
	}
	return "", nil
}

// describe maps a request to a v0.0.38 job submission.
func (b *Backend) describe(req compute.Request) submission {
	spec := req.Spec
	r := spec.Resources
	cwd := req.Dir()
	abs := func(p, def string) string {
		if p == "" {
			p = def
		}
		return compute.Resolve(cwd, p)
	}
	env := map[string]string{"PATH": "/usr/local/bin:/usr/bin:/bin", "GENESIS_JOB_ID": string(req.ID)}
	for k, v := range spec.Environment {
		env[k] = v
	}
	name := spec.Name
	if name == "" {
		name = "genesis-" + string(req.ID)
	}
	p := jobProperties{
		Name:                    name,
		Comment:                 commentPrefix + string(req.ID),
		Account:                 spec.Attributes.Account,
		Partition:               spec.Attributes.QueueName,
		Reservation:             spec.Attributes.ReservationID,
		Nodes:                   strconv.Itoa(r.Nodes()),
		Tasks:                   r.Processes(),
		TasksPerNode:            r.ProcessesPerNode,
		CPUsPerTask:             r.CoresPerProcess(),
		TimeLimit:               int(math.Ceil(spec.Attributes.Duration.D().Minutes())) + 1,
		Environment:             env,
		CurrentWorkingDirectory: cwd,
		StandardOutput:          abs(spec.StdoutPath, ".genesis-"+string(req.ID)+".out"),
		StandardError:           abs(spec.StderrPath, ".genesis-"+string(req.ID)+".err"),
	}
	if spec.StdinPath != "" {
		p.StandardInput = abs(spec.StdinPath, "")
	}
	if p.Partition == "" {
		p.Partition = b.cfg.Partition
	}
	if r.GPUCoresPerProcess > 0 {
		p.GPUsPerTask = strconv.Itoa(r.GPUCoresPerProcess)
	}
	if r.Memory > 0 {
		p.MemoryPerNode = (int64(r.Memory) + 1<<20 - 1) >> 20
	}
	if r.ExclusiveNodeUse {
		p.Exclusive = "true"
	}
	// Custom attributes with a "slurm." prefix pass through where this
	// client knows the field.
	for k, v := range spec.Attributes.CustomAttributes {
		switch k {
		case "slurm.constraint", "slurm.constraints":
			p.Constraints = v
		case "slurm.qos":
			p.QOS = v
		}
	}
	return submission{Job: p, Script: script(req.ID, spec, p.StandardInput, r.Processes() > 1 || r.Nodes() > 1, b.cfg.KillGrace)}
}

// script is the batch script: it runs the command in its own session so
// that, at the end of the duration, the whole process tree is signalled,
// and it leaves a marker so Status can tell a timeout from a failure.
func script(id compute.JobID, spec *compute.JobSpec, stdinPath string, parallel bool, grace time.Duration) string {
	var cmd strings.Builder
	if parallel {
		cmd.WriteString("srun --kill-on-bad-exit=1 ")
	}
	cmd.WriteString(shellQuote(spec.Executable))
	for _, a := range spec.Arguments {
		cmd.WriteByte(' ')
		cmd.WriteString(shellQuote(a))
	}
	secs := int64(math.Ceil(spec.Attributes.Duration.D().Seconds()))
	g := int64(math.Ceil(grace.Seconds()))
	stdin := "/dev/null"
	if stdinPath != "" {
		stdin = shellQuote(stdinPath)
	}
	// set -m puts the command in its own process group, set by bash in
	// parent and child (no race with a later kill); +m keeps job
	// notices out of the job's stderr. The watchdog is killed with its
	// sleep when the command ends first.
	//
	// A cancel is Slurm's SIGTERM to every process below the script, in
	// no set order, then SIGKILL to what is still below it after
	// KillWait. Whichever gets it first — the script, whose trap is set
	// before anything starts, or the command, whose end the script waits
	// for — the script ends with finish: SIGTERM to what is left of the
	// command's process group, SIGKILL after the grace, and only then
	// exit. (Processes that outlive the command's first process are no
	// longer below the script, so Slurm's own kill would not find them;
	// Slurm also kills a job's leftover processes when its script ends,
	// which finish does for these.) A cancel that comes before the
	// watchdog is known is acted on once it is.
	return fmt.Sprintf(`#!/bin/bash
# Genesis job %[1]s
marker=%[2]s
rm -f -- "$marker"
pid= watchdog= cancelled=
finish() {
	trap '' TERM
	kill "$watchdog" 2>/dev/null
	if kill -0 -- -"$pid" 2>/dev/null; then
		kill -TERM -- -"$pid" 2>/dev/null
		for ((i = 0; i < %[7]d; i++)); do
			kill -0 -- -"$pid" 2>/dev/null || exit "$1"
			sleep 0.1
		done
		kill -KILL -- -"$pid" 2>/dev/null
	fi
	exit "$1"
}
trap 'cancelled=1; [ -z "$watchdog" ] || finish 143' TERM
set -m
%[3]s < %[4]s &
pid=$!
set +m
(
	trap 'kill "$s" 2>/dev/null; exit 0' TERM
	sleep %[5]d & s=$!
	wait "$s"
	echo %[5]d > "$marker"
	kill -TERM -- -"$pid" 2>/dev/null
	sleep %[6]d & s=$!
	wait "$s"
	kill -KILL -- -"$pid" 2>/dev/null
) &
watchdog=$!
[ -z "$cancelled" ] || finish 143
wait "$pid"
finish $?
`, id, shellQuote(timeoutMarker(id)), cmd.String(), stdin, secs, g, (grace+99*time.Millisecond)/(100*time.Millisecond))
}

// timeoutMarker is the file, relative to the job's working directory, the
// script writes when it kills the job for running out of time.
func timeoutMarker(id compute.JobID) string { return ".genesis-" + string(id) + ".timeout" }

// shellQuote quotes s for bash, exactly.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// job fetches one job's record.
func (b *Backend) job(ctx context.Context, id compute.BackendJobID) (*jobInfo, error) {
	if _, err := strconv.ParseUint(string(id), 10, 32); err != nil {
		return nil, errors.E(errors.NotExist, errors.Msg("no such job"))
	}
	var resp jobsResponse
	_, err := b.do(ctx, http.MethodGet, "/job/"+string(id), nil, &resp)
	if err != nil {
		return nil, err
	}
	if len(resp.Errors) > 0 {
		if resp.Errors[0].ErrorNumber == errInvalidJobID {
			return nil, errors.E(errors.NotExist, errors.Msg("no such job"))
		}
		return nil, errors.E(errors.Transient, errors.Msg("slurmrestd: "+resp.Errors[0].text()))
	}
	if len(resp.Jobs) == 0 {
		return nil, errors.E(errors.NotExist, errors.Msg("no such job"))
	}
	return &resp.Jobs[0], nil
}

// Statuses reports those of ids Slurm knows. Slurm can list jobs only
// all at once (GET /jobs, whose cost grows with every job the cluster
// holds, anyone's), so it lists them when the jobs asked about are at
// least half of what the last list held (or that list is old), and
// otherwise asks about each job, 16 requests at a time.
func (b *Backend) Statuses(ctx context.Context, ids []compute.BackendJobID) (map[compute.BackendJobID]compute.Status, error) {
	const op errors.Op = "slurm.Statuses"
	b.listMu.Lock()
	list := b.listed.IsZero() || time.Since(b.listed) > relist || 2*len(ids) >= b.clusterJobs
	b.listMu.Unlock()
	if list {
		out, err := b.list(ctx, ids)
		if err != nil {
			return nil, errors.E(op, err)
		}
		return out, nil
	}
	var (
		mu  sync.Mutex
		out = make(map[compute.BackendJobID]compute.Status, len(ids))
		g   errgroup.Group
	)
	g.SetLimit(16)
	for _, id := range ids {
		g.Go(func() error {
			j, err := b.job(ctx, id)
			if errors.Is(errors.NotExist, err) {
				return nil
			}
			if err != nil {
				return err
			}
			st := status(j)
			mu.Lock()
			out[id] = st
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// relist is how old the last list may be before Statuses lists again to
// learn the cluster's job count.
const relist = 5 * time.Minute

// list reports those of ids among all the cluster's jobs.
func (b *Backend) list(ctx context.Context, ids []compute.BackendJobID) (map[compute.BackendJobID]compute.Status, error) {
	want := make(map[compute.BackendJobID]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	var resp jobsResponse
	if _, err := b.do(ctx, http.MethodGet, "/jobs", nil, &resp); err != nil {
		return nil, err
	}
	if len(resp.Errors) > 0 {
		return nil, errors.E(errors.Transient, errors.Msg("slurmrestd: "+resp.Errors[0].text()))
	}
	b.listMu.Lock()
	b.listed, b.clusterJobs = time.Now(), len(resp.Jobs)
	b.listMu.Unlock()
	out := make(map[compute.BackendJobID]compute.Status, len(ids))
	for i := range resp.Jobs {
		if id := compute.BackendJobID(strconv.FormatInt(resp.Jobs[i].JobID, 10)); want[id] {
			out[id] = status(&resp.Jobs[i])
		}
	}
	return out, nil
}

var _ compute.StatusLister = (*Backend)(nil)

// RunAs is the user Slurm runs this backend's jobs as (the one its token
// is for).
func (b *Backend) RunAs() string { return b.cfg.User }

var _ compute.RunAs = (*Backend)(nil)

// Status maps Slurm's job state.
func (b *Backend) Status(ctx context.Context, id compute.BackendJobID) (compute.Status, error) {
	const op errors.Op = "slurm.Status"
	j, err := b.job(ctx, id)
	if err != nil {
		return compute.Status{}, errors.E(op, err)
	}
	return status(j), nil
}

func status(j *jobInfo) compute.Status {
	st := compute.Status{ExitCode: -1}
	code, sig := -1, 0
	if j.ExitCode&0x7f == 0 {
		code = (j.ExitCode >> 8) & 0xff
	} else {
		sig = j.ExitCode & 0x7f
	}
	timedOut := false
	if gid, ok := strings.CutPrefix(j.Comment, commentPrefix); ok && j.CurrentWorkingDirectory != "" {
		_, err := os.Stat(filepath.Join(j.CurrentWorkingDirectory, timeoutMarker(compute.JobID(gid))))
		timedOut = err == nil
	}
	detail := j.StateReason
	if detail == "None" {
		detail = ""
	}
	if j.StateDescription != "" {
		detail = j.StateDescription
	}
	state, _, _ := strings.Cut(j.JobState, "+")
	switch state {
	case "PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD":
		st.State, st.Detail = compute.Queued, detail
	case "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING":
		st.State = compute.Running
	case "COMPLETED":
		st.State, st.ExitCode = compute.Completed, code
		if timedOut { // the command exited 0 on SIGTERM
			st.State, st.Reason, st.Detail = compute.Failed, compute.ReasonTimeout, "killed after running longer than its duration"
		}
	case "CANCELLED":
		st.State, st.Reason, st.Detail = compute.Canceled, compute.ReasonCanceled, "canceled"
	case "TIMEOUT", "DEADLINE":
		st.State, st.Reason, st.Detail = compute.Failed, compute.ReasonTimeout, "killed by Slurm at its time limit"
	case "FAILED":
		st.State, st.ExitCode = compute.Failed, code
		switch {
		case timedOut:
			st.Reason, st.Detail = compute.ReasonTimeout, "killed after running longer than its duration"
		case j.StateReason == "NonZeroExitCode" && sig != 0:
			st.Reason, st.Detail = compute.ReasonSignal, fmt.Sprintf("killed by signal %d", sig)
		case j.StateReason == "NonZeroExitCode":
			st.Reason, st.Detail = compute.ReasonExitCode, fmt.Sprintf("exit code %d", code)
		case j.StateReason == "JobLaunchFailure":
			// Most often the job's user cannot reach its working
			// directory or create its output files there.
			st.Reason, st.Detail = compute.ReasonBackend, "Slurm could not start the job (JobLaunchFailure): can the job's user reach and write "+
				strconv.Quote(j.CurrentWorkingDirectory)+"? slurmd's log on the node names the cause"
		default:
			st.Reason, st.Detail = compute.ReasonBackend, "Slurm: "+detail
		}
	case "OUT_OF_MEMORY":
		st.State, st.Reason, st.Detail = compute.Failed, compute.ReasonBackend, "out of memory"
	case "NODE_FAIL", "BOOT_FAIL", "PREEMPTED", "REVOKED":
		st.State, st.Reason, st.Detail = compute.Failed, compute.ReasonLost, "Slurm: "+strings.ToLower(state)
	default:
		st.State, st.Reason, st.Detail = compute.Failed, compute.ReasonBackend, "Slurm state "+j.JobState
	}
	return st
}

// Cancel asks Slurm to cancel the job (a no-op for a finished job).
func (b *Backend) Cancel(ctx context.Context, id compute.BackendJobID) error {
	const op errors.Op = "slurm.Cancel"
	j, err := b.job(ctx, id)
	if err != nil {
		return errors.E(op, err)
	}
	if status(j).State.Final() {
		return nil
	}
	var resp jobsResponse
	if _, err := b.do(ctx, http.MethodDelete, "/job/"+string(id), nil, &resp); err != nil {
		return errors.E(op, err)
	}
	if len(resp.Errors) > 0 {
		if resp.Errors[0].ErrorNumber == errInvalidJobID {
			return errors.E(op, errors.NotExist, errors.Msg("no such job"))
		}
		// Finishing between our look and the cancel is not an error.
		if j, err := b.job(ctx, id); err == nil && status(j).State.Final() {
			return nil
		}
		return errors.E(op, errors.Transient, errors.Msg("slurmrestd: "+resp.Errors[0].text()))
	}
	return nil
}

// Logs reads the output file Slurm writes, from the shared filesystem.
func (b *Backend) Logs(ctx context.Context, id compute.BackendJobID, stream compute.Stream, offset int64) (io.ReadCloser, error) {
	const op errors.Op = "slurm.Logs"
	if offset < 0 {
		return nil, errors.E(op, errors.Invalid, errors.Field("offset"), errors.Msg("negative offset"))
	}
	j, err := b.job(ctx, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	var p string
	switch stream {
	case compute.Stdout:
		p = j.StandardOutput
	case compute.Stderr:
		p = j.StandardError
		if p == "" {
			p = j.StandardOutput
		}
	default:
		return nil, errors.E(op, errors.Invalid, errors.Field("stream"), errors.Msg("stream must be stdout or stderr"))
	}
	if p == "" {
		return io.NopCloser(strings.NewReader("")), nil
	}
	p = strings.ReplaceAll(p, "%j", string(id))
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

// do sends one request and decodes the JSON answer into out. Transport
// failures and gateway errors are Transient, refused credentials
// Unauthenticated; other statuses are returned for the caller to read the
// errors array.
func (b *Backend) do(ctx context.Context, method, path string, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, rd)
	if err != nil {
		return 0, errors.E(errors.Internal, err)
	}
	req.Header.Set("X-SLURM-USER-NAME", b.cfg.User)
	req.Header.Set("X-SLURM-USER-TOKEN", b.cfg.Token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, errors.E(ctx.Err())
		}
		return 0, errors.E(errors.Transient, errors.Msg("slurmrestd unreachable"), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return 0, errors.E(errors.Transient, errors.Msg("slurmrestd: reading the response"), err)
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return resp.StatusCode, errors.E(errors.Unauthenticated, errors.Msg("slurmrestd refused the credentials"))
	case resp.StatusCode == http.StatusBadGateway || resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusGatewayTimeout:
		return resp.StatusCode, errors.E(errors.Transient, errors.Msg("slurmrestd unavailable: "+resp.Status))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return resp.StatusCode, errors.E(errors.Transient, errors.Msg("slurmrestd: unreadable "+resp.Status+" response"), err)
	}
	return resp.StatusCode, nil
}

var _ compute.Prober = (*Backend)(nil)

// Probe asks slurmrestd to ping the cluster's controllers: up when the
// primary answers, degraded when only a backup does, down otherwise.
func (b *Backend) Probe(ctx context.Context) (health, reason string) {
	var doc struct {
		Errors []apiError `json:"errors"`
		Pings  []struct {
			Hostname string `json:"hostname"`
			Ping     string `json:"ping"`
			Mode     string `json:"mode"`
		} `json:"pings"`
	}
	code, err := b.do(ctx, http.MethodGet, "/ping", nil, &doc)
	if err != nil {
		return compute.HealthDown, errors.SafeMessage(err)
	}
	if code != http.StatusOK {
		return compute.HealthDown, "slurmrestd answered " + http.StatusText(code)
	}
	var up, down []string
	primary := false
	for _, p := range doc.Pings {
		if strings.EqualFold(p.Ping, "UP") {
			up = append(up, p.Hostname)
			primary = primary || p.Mode == "primary"
		} else {
			down = append(down, p.Hostname+" "+p.Ping)
		}
	}
	switch {
	case primary && len(down) == 0:
		return compute.HealthUp, ""
	case len(up) > 0:
		return compute.HealthDegraded, "controllers not answering: " + strings.Join(down, ", ")
	default:
		return compute.HealthDown, "no Slurm controller answers"
	}
}
