package iri

import (
	"encoding/json"
	"time"
)

// The wire types below are the subset of the IRI v2 schemas (components/
// schemas in all_spec_v2.yaml) that the client and the provider use, with
// the spec's field names. Optional strings are omitted when empty (the spec
// gives them minLength 1, so "" is never a valid value); required members
// are always written.

// JobSpec is the spec's JobSpec, a PSI/J job description (psij-python
// 0.9.11). The spec forbids members it does not list.
type JobSpec struct {
	Executable         string            `json:"executable,omitempty"`
	Arguments          []string          `json:"arguments,omitempty"`
	Directory          string            `json:"directory,omitempty"`
	Name               string            `json:"name,omitempty"`
	InheritEnvironment *bool             `json:"inherit_environment,omitempty"`
	Environment        map[string]string `json:"environment,omitempty"`
	StdinPath          string            `json:"stdin_path,omitempty"`
	StdoutPath         string            `json:"stdout_path,omitempty"`
	StderrPath         string            `json:"stderr_path,omitempty"`
	Resources          *ResourceSpec     `json:"resources,omitempty"`
	Attributes         *JobAttributes    `json:"attributes,omitempty"`
	PreLaunch          string            `json:"pre_launch,omitempty"`
	PostLaunch         string            `json:"post_launch,omitempty"`
	Launcher           string            `json:"launcher,omitempty"`
	Container          *Container        `json:"container,omitempty"`
}

// ResourceSpec is the spec's ResourceSpec. Counts are at least 1 when
// present; memory is in bytes; exclusive_node_use defaults to true.
type ResourceSpec struct {
	NodeCount          *int   `json:"node_count,omitempty"`
	ProcessCount       *int   `json:"process_count,omitempty"`
	ProcessesPerNode   *int   `json:"processes_per_node,omitempty"`
	CPUCoresPerProcess *int   `json:"cpu_cores_per_process,omitempty"`
	GPUCoresPerProcess *int   `json:"gpu_cores_per_process,omitempty"`
	ExclusiveNodeUse   *bool  `json:"exclusive_node_use,omitempty"`
	Memory             *int64 `json:"memory,omitempty"`
}

// JobAttributes is the spec's JobAttributes; duration is in whole seconds.
type JobAttributes struct {
	Duration         *int64            `json:"duration,omitempty"`
	QueueName        string            `json:"queue_name,omitempty"`
	Account          string            `json:"account,omitempty"`
	ReservationID    string            `json:"reservation_id,omitempty"`
	CustomAttributes map[string]string `json:"custom_attributes,omitempty"`
}

// Container is the spec's Container.
type Container struct {
	Image        string        `json:"image"`
	VolumeMounts []VolumeMount `json:"volume_mounts,omitempty"`
}

// VolumeMount is the spec's VolumeMount.
type VolumeMount struct {
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly *bool  `json:"read_only,omitempty"`
}

// JobState is the spec's JobState: PSI/J's states plus held.
type JobState string

const (
	StateNew       JobState = "new"
	StateQueued    JobState = "queued"
	StateHeld      JobState = "held"
	StateActive    JobState = "active"
	StateCompleted JobState = "completed"
	StateFailed    JobState = "failed"
	StateCanceled  JobState = "canceled"
)

// Job is the spec's Job.
type Job struct {
	ID      string     `json:"id"`
	Status  *JobStatus `json:"status,omitempty"`
	JobSpec *JobSpec   `json:"job_spec,omitempty"`
}

// JobStatus is the spec's JobStatus. Time is seconds since the epoch.
type JobStatus struct {
	State    JobState       `json:"state"`
	Time     *float64       `json:"time,omitempty"`
	Message  *string        `json:"message,omitempty"`
	ExitCode *int           `json:"exit_code,omitempty"`
	MetaData map[string]any `json:"meta_data,omitempty"`
}

// Problem is the spec's RFC 9457 error document.
type Problem struct {
	Type     string `json:"type"`
	Status   int    `json:"status"`
	Title    string `json:"title,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance"`
}

// Status is a resource's or incident's state: up, down, degraded, unknown.
type Status string

const (
	StatusUp       Status = "up"
	StatusDown     Status = "down"
	StatusDegraded Status = "degraded"
	StatusUnknown  Status = "unknown"
)

// Facility is the spec's Facility.
type Facility struct {
	ID               string    `json:"id"`
	Name             string    `json:"name,omitempty"`
	ShortName        string    `json:"short_name,omitempty"`
	Description      string    `json:"description,omitempty"`
	OrganizationName string    `json:"organization_name,omitempty"`
	SupportURI       string    `json:"support_uri,omitempty"`
	LastModified     time.Time `json:"last_modified"`
	SelfURI          string    `json:"self_uri"`
	SiteURIs         []string  `json:"site_uris"`
}

// Resource is the spec's Resource (facility status).
type Resource struct {
	ID                 string    `json:"id"`
	Name               string    `json:"name,omitempty"`
	Description        string    `json:"description,omitempty"`
	Group              string    `json:"group,omitempty"`
	CurrentStatus      Status    `json:"current_status,omitempty"`
	ResourceType       string    `json:"resource_type"`
	SupportedEndpoints []string  `json:"supported_endpoints,omitempty"`
	LastModified       time.Time `json:"last_modified"`
	SelfURI            string    `json:"self_uri"`
	SiteURI            string    `json:"site_uri"`
	CapabilityURIs     []string  `json:"capability_uris"`
}

// Incident is the spec's Incident.
type Incident struct {
	ID           string     `json:"id"`
	Name         string     `json:"name,omitempty"`
	Description  string     `json:"description,omitempty"`
	Status       Status     `json:"status"`
	Type         string     `json:"type"`       // planned, unplanned, reservation
	Resolution   string     `json:"resolution"` // unresolved, cancelled, completed, extended, pending
	Start        time.Time  `json:"start"`
	End          *time.Time `json:"end,omitempty"`
	LastModified time.Time  `json:"last_modified"`
	SelfURI      string     `json:"self_uri"`
	EventURIs    []string   `json:"event_uris"`
	ResourceURIs []string   `json:"resource_uris"`
}

// Capability is the spec's Capability: something allocations are counted
// in (node hours on a machine, …), with its units as URNs.
type Capability struct {
	ID           string     `json:"id"`
	Name         string     `json:"name,omitempty"`
	Description  string     `json:"description,omitempty"`
	Units        []string   `json:"units"`
	LastModified *time.Time `json:"last_modified,omitempty"`
	SelfURI      string     `json:"self_uri"`
}

// Project is the spec's Project.
type Project struct {
	ID           string    `json:"id"`
	Name         string    `json:"name"`
	Description  string    `json:"description"`
	UserIDs      []string  `json:"user_ids"`
	LastModified time.Time `json:"last_modified"`
	SelfURI      string    `json:"self_uri"`
}

// ProjectAllocation is the spec's ProjectAllocation.
type ProjectAllocation struct {
	ID            string            `json:"id"`
	Entries       []AllocationEntry `json:"entries"`
	ProjectURI    string            `json:"project_uri"`
	CapabilityURI string            `json:"capability_uri"`
}

// AllocationEntry is the spec's AllocationEntry: an amount granted and
// used, in a unit URN such as urn:doe-iri:allocation:node-hours.
type AllocationEntry struct {
	Allocation float64 `json:"allocation"`
	Usage      float64 `json:"usage"`
	Unit       string  `json:"unit"`
}

// TaskSubmitResponse is the spec's answer to an asynchronous operation.
type TaskSubmitResponse struct {
	TaskID  string `json:"task_id"`
	TaskURI string `json:"task_uri"`
}

// Task is the spec's Task.
type Task struct {
	ID      string          `json:"id"`
	Status  string          `json:"status"` // pending, active, completed, failed, canceled
	Result  json.RawMessage `json:"result,omitempty"`
	Command *TaskCommand    `json:"command,omitempty"`
}

// TaskCommand is the spec's TaskCommand.
type TaskCommand struct {
	Router  string         `json:"router"`
	Command string         `json:"command"`
	Args    map[string]any `json:"args"`
}

// viewRequest is the spec's PostViewRequest.
type viewRequest struct {
	Path   string `json:"path"`
	Size   int64  `json:"size,omitempty"`
	Offset int64  `json:"offset,omitempty"`
}

// viewResult is a view task's result: {"output": "..."} as FirecREST (and
// the IRI reference implementation) return it; newer versions wrap the text
// as {"output": {"content": "..."}}, which the client also reads.
type viewResult struct {
	Output json.RawMessage `json:"output"`
}

// Site is the spec's Site: where a facility's resources are.
type Site struct {
	ID                    string    `json:"id"`
	Name                  string    `json:"name,omitempty"`
	Description           string    `json:"description,omitempty"`
	ShortName             string    `json:"short_name,omitempty"`
	OperatingOrganization string    `json:"operating_organization"`
	CountryName           string    `json:"country_name,omitempty"`
	LocalityName          string    `json:"locality_name,omitempty"`
	LastModified          time.Time `json:"last_modified"`
	SelfURI               string    `json:"self_uri"`
	ResourceURIs          []string  `json:"resource_uris"`
}
