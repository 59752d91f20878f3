package campaign

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/store"
)

// Campaign states.
const (
	Draft     = "draft"
	Running   = "running"
	Paused    = "paused"
	Stopped   = "stopped"
	Completed = "completed"
	FailedC   = "failed"
)

// Experiment states.
const (
	Proposed   = "proposed"
	Dispatched = "dispatched"
	InFlight   = "running"
	Observed   = "observed"
	ExpFailed  = "failed"
	Cancelled  = "cancelled"
)

// ExperimentExecutor runs experiments of one kind; Start is idempotent by
// key. (The contract called it Executor; that name is taken by the spec's
// Executor struct in spec.go.)
type ExperimentExecutor interface {
	Start(ctx context.Context, c *Campaign, e *Experiment, key string) error
	// Poll reports the experiment's state: lab.Running/Pending (not final), or
	// lab.Succeeded with values, lab.Failed/Cancelled with a reason.
	Poll(ctx context.Context, c *Campaign, e *Experiment, key string) (*lab.Result, error)
}

// Counts counts a campaign's experiments by state.
type Counts struct {
	Proposed   int `json:"proposed"`
	Dispatched int `json:"dispatched"`
	Running    int `json:"running"`
	Observed   int `json:"observed"`
	Failed     int `json:"failed"`
	Cancelled  int `json:"cancelled"`
}

// Campaign is a stored campaign.
type Campaign struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Owner   string `json:"owner"`
	Project string `json:"project,omitempty"`
	Label   string `json:"label"`
	// State is draft, running, paused, stopped, completed or failed.
	State string `json:"state"`
	// Reason says why the campaign is paused, stopped or failed.
	Reason string `json:"reason,omitempty"`
	Spec   Spec   `json:"spec"`
	Counts Counts `json:"counts"`
	// Best is the best observed experiment so far, nil if none.
	Best *Experiment `json:"best,omitempty"`
	// Dataset and Model name the output dataset and surrogate model, once made.
	Dataset   string     `json:"dataset,omitempty"`
	Model     string     `json:"model,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	EndedAt   *time.Time `json:"ended_at,omitempty"`
	UpdatedAt time.Time  `json:"updated_at"`
}

// Experiment is one proposed point and what became of it.
type Experiment struct {
	ID       string         `json:"id"`
	Campaign string         `json:"campaign"`
	Seq      int            `json:"seq"`
	Batch    int            `json:"batch"`
	Attempt  int            `json:"attempt"`
	Params   map[string]any `json:"params"`
	// State is proposed, dispatched, running, observed, failed or cancelled.
	State        string             `json:"state"`
	Instrument   string             `json:"instrument,omitempty"`
	Job          string             `json:"job,omitempty"`
	Values       map[string]float64 `json:"values,omitempty"`
	Reason       string             `json:"reason,omitempty"`
	ProposedAt   time.Time          `json:"proposed_at"`
	DispatchedAt *time.Time         `json:"dispatched_at,omitempty"`
	EndedAt      *time.Time         `json:"ended_at,omitempty"`
}

// ListOptions filters and pages List.
type ListOptions struct {
	State  string
	Cursor string
	Limit  int
}

// ExperimentOptions filters and pages Experiments (by seq).
type ExperimentOptions struct {
	State  string
	Cursor string
	Limit  int
}

// Service creates, reads and runs campaigns.
type Service struct {
	db  store.DB
	az  *authz.Authorizer
	ids *identity.Service
	cat *catalog.Service
	log audit.Appender

	fleet lab.Fleet
	jobs  ExperimentExecutor
}

// New returns a campaign service over db.
func New(db store.DB, az *authz.Authorizer, ids *identity.Service, cat *catalog.Service, log audit.Appender) *Service {
	return &Service{db: db, az: az, ids: ids, cat: cat, log: log}
}

// SetFleet sets the instrument registry the instrument executor uses.
func (s *Service) SetFleet(f lab.Fleet) { s.fleet = f }

// SetJobs sets the compute-job executor.
func (s *Service) SetJobs(x ExperimentExecutor) { s.jobs = x }

func notYet(op string) error { return errors.E(errors.Op(op), errors.Internal, errors.Msg("not yet")) }

// Create stores a new campaign in state draft.
func (s *Service) Create(ctx context.Context, p *genesis.Principal, spec *Spec) (*Campaign, error) {
	return nil, notYet("campaign.Create")
}

// Get returns a campaign p may read, by ID or name.
func (s *Service) Get(ctx context.Context, p *genesis.Principal, idOrName string) (*Campaign, error) {
	return nil, notYet("campaign.Get")
}

// List lists the campaigns p may read.
func (s *Service) List(ctx context.Context, p *genesis.Principal, o ListOptions) ([]Campaign, string, error) {
	return nil, "", notYet("campaign.List")
}

// Start sets a draft (or paused) campaign running.
func (s *Service) Start(ctx context.Context, p *genesis.Principal, idOrName string) (*Campaign, error) {
	return nil, notYet("campaign.Start")
}

// Pause pauses a running campaign: nothing new is dispatched.
func (s *Service) Pause(ctx context.Context, p *genesis.Principal, idOrName, reason string) (*Campaign, error) {
	return nil, notYet("campaign.Pause")
}

// Resume resumes a paused campaign.
func (s *Service) Resume(ctx context.Context, p *genesis.Principal, idOrName string) (*Campaign, error) {
	return nil, notYet("campaign.Resume")
}

// Stop ends a campaign for good.
func (s *Service) Stop(ctx context.Context, p *genesis.Principal, idOrName, reason string) (*Campaign, error) {
	return nil, notYet("campaign.Stop")
}

// Experiments lists a campaign's experiments by seq.
func (s *Service) Experiments(ctx context.Context, p *genesis.Principal, idOrName string, o ExperimentOptions) ([]Experiment, string, error) {
	return nil, "", notYet("campaign.Experiments")
}

// Suggestions returns the model's next n suggestions, not recorded.
func (s *Service) Suggestions(ctx context.Context, p *genesis.Principal, idOrName string, n int) ([]map[string]any, error) {
	return nil, notYet("campaign.Suggestions")
}

// Run runs campaigns until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
