// Package compute describes jobs and the backends that run them.
//
// A JobSpec is a PSI/J-style job description (executable, arguments,
// environment, resources, attributes) plus Genesis's inputs, outputs and
// label floor; ParseJobSpec reads one from YAML or JSON, rejecting unknown
// fields and impossible resources with errors.Invalid naming the field.
//
// A Backend runs jobs on one kind of compute resource: compute/local runs
// processes on this machine, compute/slurm submits to Slurm through
// slurmrestd. Every backend passes the conformance suite in
// compute/computetest. The guarantees a scheduler can rely on:
//
//   - Submit is idempotent by the Genesis job ID: submitting the same ID
//     again returns the backend job of the first submission and starts
//     nothing new.
//   - Status reports one of five states; a job that ran out of its duration
//     is Failed with ReasonTimeout, a cancelled job is Canceled.
//   - An unknown backend job ID is errors.NotExist.
//   - A backend that cannot be reached is errors.Transient; a job the
//     backend refuses is errors.Invalid with the backend's message.
//
// Sites, allocations and placement are built on top of this package.
package compute

import (
	"context"
	"io"
	"path/filepath"
	"regexp"

	"github.com/genesis-science/genesis/internal/errors"
)

// JobID is Genesis's own identifier of a job; backends use it as the
// idempotency key of Submit. It is 1–128 characters of [A-Za-z0-9._-],
// not starting with '.' or '-'.
type JobID string

var jobIDRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// Validate reports whether id is well formed.
func (id JobID) Validate() error {
	if !jobIDRE.MatchString(string(id)) {
		return errors.E(errors.Invalid, errors.Field("id"), errors.Msg("job id: want 1-128 of A-Z a-z 0-9 . _ - (not starting with . or -)"))
	}
	return nil
}

// BackendJobID is a backend's own identifier of a job (a Slurm job ID, …).
// It is opaque to callers, who store it to ask about the job later.
type BackendJobID string

// State is where a job is in its life. Completed, Failed and Canceled are
// final.
type State string

const (
	Queued    State = "queued"
	Running   State = "running"
	Completed State = "completed"
	Failed    State = "failed"
	Canceled  State = "canceled"
)

// Final reports whether s is a final state.
func (s State) Final() bool { return s == Completed || s == Failed || s == Canceled }

// Reasons a job failed or was cancelled, beyond a non-zero exit code.
const (
	ReasonExitCode = "exit-code"         // the job exited non-zero
	ReasonSignal   = "signal"            // the job was killed by a signal it did not expect
	ReasonTimeout  = "duration-exceeded" // the job ran longer than its duration and was killed
	ReasonCanceled = "canceled"          // Cancel was called
	ReasonLost     = "lost"              // the backend lost track of the job (node failure, restart)
	ReasonBackend  = "backend"           // the backend refused or aborted the job
)

// Status is what a backend knows about a job.
type Status struct {
	State State
	// Reason explains Failed and Canceled states (one of the Reason
	// constants); Detail is the backend's own wording, safe to show the
	// job's owner.
	Reason string
	Detail string
	// ExitCode is the job's exit status once it is final (-1 when it was
	// killed or never ran).
	ExitCode int
}

// Request is what a scheduler hands a backend to run one job.
type Request struct {
	// ID is Genesis's job ID, the idempotency key.
	ID JobID
	// Spec is a validated job spec.
	Spec *JobSpec
	// WorkDir is the job's per-job directory, prepared by the caller (inputs
	// staged) and reachable by the backend's compute nodes at this path.
	// Spec.Directory, when relative, is resolved against it.
	WorkDir string
}

// Validate checks what every backend needs of a request: a well-formed
// ID, a valid spec and an absolute work directory.
func (r Request) Validate() error {
	if err := r.ID.Validate(); err != nil {
		return err
	}
	if r.Spec == nil {
		return errors.E(errors.Invalid, errors.Field("spec"), errors.Msg("missing job spec"))
	}
	if err := r.Spec.Validate(); err != nil {
		return err
	}
	if !filepath.IsAbs(r.WorkDir) {
		return errors.E(errors.Invalid, errors.Field("workdir"), errors.Msg("work directory must be an absolute path"))
	}
	return nil
}

// Dir is the job's working directory: Spec.Directory resolved against
// WorkDir.
func (r Request) Dir() string { return Resolve(r.WorkDir, r.Spec.Directory) }

// Resolve returns p resolved against base: base when p is empty, p
// cleaned when it is absolute.
func Resolve(base, p string) string {
	if p == "" {
		return base
	}
	if filepath.IsAbs(p) {
		return filepath.Clean(p)
	}
	return filepath.Join(base, p)
}

// Stream names a job's output stream.
type Stream string

const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// Backend runs jobs on one compute resource. Implementations are safe for
// concurrent use.
type Backend interface {
	// Submit starts the job described by req, or returns the backend job of
	// an earlier Submit with the same req.ID.
	Submit(ctx context.Context, req Request) (BackendJobID, error)
	// Status reports the job's state. Unknown IDs are errors.NotExist.
	Status(ctx context.Context, id BackendJobID) (Status, error)
	// Cancel stops a queued or running job; cancelling a final job is a
	// no-op. Unknown IDs are errors.NotExist.
	Cancel(ctx context.Context, id BackendJobID) error
	// Logs returns the job's stdout or stderr from byte offset on, as far
	// as it has been written. A job that has not written the stream yet
	// yields an empty reader.
	Logs(ctx context.Context, id BackendJobID, stream Stream, offset int64) (io.ReadCloser, error)
}

// Health values a Prober reports (the site statuses of the same names).
const (
	HealthUp       = "up"
	HealthDegraded = "degraded"
	HealthDown     = "down"
)

// A Prober is a backend that can say whether its resource is up, so that
// the platform can poll a site instead of waiting for it to send
// heartbeats. Probe never fails: an unreachable resource is HealthDown
// with the reason.
type Prober interface {
	Probe(ctx context.Context) (health, reason string)
}

// A StatusLister is a backend that can report many jobs' states in one
// call, for a scheduler that follows thousands of jobs on one site.
// Statuses returns the status of each of ids the backend knows; an ID
// absent from the result is one Status would answer errors.NotExist. An
// error means nothing is known of any of them (the caller may ask one by
// one).
type StatusLister interface {
	Statuses(ctx context.Context, ids []BackendJobID) (map[BackendJobID]Status, error)
}

// StatusesOf asks b about ids — in one call where b is a StatusLister,
// else one by one (EachStatus) — and returns the status of each b knows.
func StatusesOf(ctx context.Context, b Backend, ids []BackendJobID) (map[BackendJobID]Status, error) {
	if l, ok := b.(StatusLister); ok {
		return l.Statuses(ctx, ids)
	}
	return EachStatus(ctx, b, ids)
}

// EachStatus asks b's Status about each of ids and returns the status of
// each b knows; any other error ends it.
func EachStatus(ctx context.Context, b Backend, ids []BackendJobID) (map[BackendJobID]Status, error) {
	out := make(map[BackendJobID]Status, len(ids))
	for _, id := range ids {
		st, err := b.Status(ctx, id)
		switch {
		case err == nil:
			out[id] = st
		case !errors.Is(errors.NotExist, err):
			return nil, err
		}
	}
	return out, nil
}

// A RunAs backend runs jobs as a known user of this host (a cluster that
// shares this file system), so that a job's directory can be given to
// that user alone.
type RunAs interface {
	RunAs() string
}
