package iri

import (
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/errors"
)

// ToIRI maps a Genesis request to the IRI job spec the client submits.
// Paths become absolute: the directory is resolved against req.WorkDir,
// stream paths against the directory, and when the spec names no
// stdout/stderr file the job writes .genesis-ID.out/.err in its directory
// (so that Logs can find them later through the filesystem API).
func ToIRI(req compute.Request) *JobSpec {
	s := req.Spec
	dir := req.Dir()
	out := &JobSpec{
		Executable:  s.Executable,
		Arguments:   s.Arguments,
		Directory:   dir,
		Name:        s.Name,
		Environment: s.Environment,
		StdinPath:   resolveOpt(dir, s.StdinPath),
		StdoutPath:  resolveOpt(dir, s.StdoutPath),
		StderrPath:  resolveOpt(dir, s.StderrPath),
	}
	if out.Name == "" {
		out.Name = string(req.ID)
	}
	if out.StdoutPath == "" {
		out.StdoutPath = filepath.Join(dir, ".genesis-"+string(req.ID)+".out")
	}
	if out.StderrPath == "" {
		out.StderrPath = filepath.Join(dir, ".genesis-"+string(req.ID)+".err")
	}
	r := s.Resources
	rs := &ResourceSpec{
		NodeCount:          positive(r.NodeCount),
		ProcessCount:       positive(r.ProcessCount),
		ProcessesPerNode:   positive(r.ProcessesPerNode),
		CPUCoresPerProcess: positive(r.CPUCoresPerProcess),
		GPUCoresPerProcess: positive(r.GPUCoresPerProcess),
		// The spec's default is exclusive; Genesis's is not, so say so.
		ExclusiveNodeUse: &r.ExclusiveNodeUse,
	}
	if r.Memory > 0 {
		m := int64(r.Memory)
		rs.Memory = &m
	}
	out.Resources = rs
	a := s.Attributes
	d := DurationSeconds(a.Duration.D())
	out.Attributes = &JobAttributes{
		Duration:         &d,
		QueueName:        a.QueueName,
		Account:          a.Account,
		ReservationID:    a.ReservationID,
		CustomAttributes: a.CustomAttributes,
	}
	if s.Container != "" {
		out.Container = &Container{Image: s.Container}
	}
	return out
}

// DurationSeconds is d in whole seconds, rounded up (the spec's duration
// is an integer ≥ 1: a limit must never shrink).
func DurationSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 1
	}
	return int64((d + time.Second - 1) / time.Second)
}

func positive(n int) *int {
	if n <= 0 {
		return nil
	}
	return &n
}

func resolveOpt(base, p string) string {
	if p == "" {
		return ""
	}
	return compute.Resolve(base, p)
}

// FromIRI maps an IRI job spec (as the provider receives it) to a Genesis
// job spec and validates it. account is the effective project. Every
// error is errors.Invalid naming the field, in the spec's terms.
// pre_launch, post_launch, launcher and volume mounts have no Genesis
// equivalent and are refused rather than silently dropped.
func FromIRI(j *JobSpec, account string) (*compute.JobSpec, error) {
	const op errors.Op = "iri.FromIRI"
	bad := func(field, msg string) error {
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+": "+msg))
	}
	if j.Executable == "" {
		return nil, bad("executable", "missing")
	}
	for _, f := range []struct{ name, v string }{
		{"pre_launch", j.PreLaunch}, {"post_launch", j.PostLaunch}, {"launcher", j.Launcher},
	} {
		if f.v != "" {
			return nil, bad(f.name, "not supported by this facility")
		}
	}
	s := &compute.JobSpec{
		Name:        j.Name,
		Executable:  j.Executable,
		Arguments:   j.Arguments,
		Environment: j.Environment,
		Directory:   j.Directory,
		StdinPath:   j.StdinPath,
		StdoutPath:  j.StdoutPath,
		StderrPath:  j.StderrPath,
	}
	if r := j.Resources; r != nil {
		for _, f := range []struct {
			name string
			v    *int
			dst  *int
		}{
			{"node_count", r.NodeCount, &s.Resources.NodeCount},
			{"process_count", r.ProcessCount, &s.Resources.ProcessCount},
			{"processes_per_node", r.ProcessesPerNode, &s.Resources.ProcessesPerNode},
			{"cpu_cores_per_process", r.CPUCoresPerProcess, &s.Resources.CPUCoresPerProcess},
			{"gpu_cores_per_process", r.GPUCoresPerProcess, &s.Resources.GPUCoresPerProcess},
		} {
			if f.v == nil {
				continue
			}
			if *f.v < 1 {
				return nil, bad("resources."+f.name, "must be at least 1")
			}
			*f.dst = *f.v
		}
		s.Resources.ExclusiveNodeUse = r.ExclusiveNodeUse == nil || *r.ExclusiveNodeUse
		if r.Memory != nil {
			if *r.Memory < 1 {
				return nil, bad("resources.memory", "must be at least 1 byte")
			}
			s.Resources.Memory = compute.ByteSize(*r.Memory)
		}
	} else {
		s.Resources.ExclusiveNodeUse = true
	}
	a := j.Attributes
	if a == nil || a.Duration == nil {
		return nil, bad("attributes.duration", "missing (seconds)")
	}
	if *a.Duration < 1 || *a.Duration > math.MaxInt64/int64(time.Second) {
		return nil, bad("attributes.duration", "must be at least 1 second")
	}
	s.Attributes = compute.Attributes{
		Duration:         compute.Duration(time.Duration(*a.Duration) * time.Second),
		QueueName:        a.QueueName,
		Account:          account,
		ReservationID:    a.ReservationID,
		CustomAttributes: a.CustomAttributes,
	}
	if c := j.Container; c != nil {
		if c.Image == "" {
			return nil, bad("container.image", "missing")
		}
		if len(c.VolumeMounts) > 0 {
			return nil, bad("container.volume_mounts", "not supported by this facility")
		}
		s.Container = c.Image
	}
	if err := s.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	return s, nil
}

// StateToIRI maps a Genesis state to the spec's.
func StateToIRI(s compute.State) JobState {
	switch s {
	case compute.Queued:
		return StateQueued
	case compute.Running:
		return StateActive
	case compute.Completed:
		return StateCompleted
	case compute.Failed:
		return StateFailed
	case compute.Canceled:
		return StateCanceled
	}
	return StateNew
}

// FromIRIStatus maps the spec's job status to a Genesis status. Unknown
// states are an error (errors.Internal: the facility broke the spec).
//
// The spec has no reason field, so the reason is, in order: meta_data's
// "reason" when it is one of Genesis's reasons (the provider writes it),
// ToIRIStatus is a backend's status as the spec's JobStatus at time at;
// the reason goes in meta_data, where FromIRIStatus finds it.
func ToIRIStatus(st compute.Status, at time.Time) *JobStatus {
	t := float64(at.UnixMilli()) / 1000
	js := &JobStatus{State: StateToIRI(st.State), Time: &t}
	if st.Detail != "" {
		js.Message = &st.Detail
	}
	if st.State.Final() && st.ExitCode >= 0 {
		js.ExitCode = &st.ExitCode
	}
	if st.Reason != "" {
		js.MetaData = map[string]any{"reason": st.Reason}
	}
	return js
}

// then the facility's message (time limit, signal), then the exit code.
func FromIRIStatus(js *JobStatus) (compute.Status, error) {
	const op errors.Op = "iri.FromIRIStatus"
	if js == nil {
		return compute.Status{}, errors.E(op, errors.Internal, errors.Msg("IRI job without a status"))
	}
	st := compute.Status{ExitCode: -1}
	if js.ExitCode != nil {
		st.ExitCode = *js.ExitCode
	}
	if js.Message != nil {
		st.Detail = *js.Message
	}
	switch js.State {
	case StateNew, StateQueued, StateHeld:
		st.State = compute.Queued
	case StateActive:
		st.State = compute.Running
	case StateCompleted:
		st.State = compute.Completed
	case StateFailed:
		st.State = compute.Failed
	case StateCanceled:
		st.State = compute.Canceled
	default:
		return compute.Status{}, errors.E(op, errors.Internal, errors.Msg(fmt.Sprintf("IRI job state %q is not in the spec", truncate(string(js.State)))))
	}
	if !st.State.Final() {
		st.ExitCode = -1
		return st, nil
	}
	st.Reason = reason(st.State, st.ExitCode, st.Detail, js.MetaData)
	if st.State == compute.Completed && st.ExitCode < 0 {
		st.ExitCode = 0 // a facility that reports success without a code
	}
	return st, nil
}

var (
	timeoutRE = regexp.MustCompile(`(?i)\b(time ?limit|timeout|timed out|walltime|wall time|duration)\b`)
	signalRE  = regexp.MustCompile(`(?i)\b(signal|killed|sig[a-z]{2,5})\b`)
)

func reason(s compute.State, exit int, msg string, meta map[string]any) string {
	switch s {
	case compute.Completed:
		return ""
	case compute.Canceled:
		return compute.ReasonCanceled
	}
	if r, ok := meta["reason"].(string); ok {
		switch r {
		case compute.ReasonExitCode, compute.ReasonSignal, compute.ReasonTimeout, compute.ReasonLost, compute.ReasonBackend:
			return r
		}
	}
	switch {
	case timeoutRE.MatchString(msg):
		return compute.ReasonTimeout
	case exit > 0:
		return compute.ReasonExitCode
	case signalRE.MatchString(msg):
		return compute.ReasonSignal
	}
	return compute.ReasonBackend
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}
