// Package campaign runs closed-loop campaigns: an optimizer (campaign/bo)
// proposes experiments, instruments (lab drivers) or compute jobs run
// them, their results are observed, stored as labelled data, and the next
// experiments follow — until the budget is spent or the target reached.
//
// A Spec is what a scientist writes (campaign.yaml); Parse reads and
// validates one. The runner keeps its whole state in the metadata store so
// that a crash at any instant loses no observation and runs no experiment
// twice (docs/DESIGN.md, invariant 7).
package campaign

import "time"

// Spec is a campaign as written in a campaign file. Field names are the
// YAML/JSON keys. Parse fills defaults and validates it.
type Spec struct {
	Name        string `json:"name" yaml:"name"`
	Title       string `json:"title,omitempty" yaml:"title,omitempty"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	Project     string `json:"project,omitempty" yaml:"project,omitempty"`
	// Label is the campaign's marking (default OPEN). Its effective label
	// is the join of Label and its prior data's labels.
	Label string `json:"label,omitempty" yaml:"label,omitempty"`

	// Objectives: 1–3 measured quantities to maximise or minimise.
	Objectives []Objective `json:"objectives" yaml:"objectives"`
	// Params is the search space.
	Params []Param `json:"params" yaml:"params"`
	// Constraints are linear constraints over continuous/integer params
	// (e.g. a simplex: fractions summing to 1).
	Constraints []LinearConstraint `json:"constraints,omitempty" yaml:"constraints,omitempty"`
	// OutcomeConstraints require measured quantities to satisfy a bound.
	OutcomeConstraints []OutcomeConstraint `json:"outcome_constraints,omitempty" yaml:"outcome_constraints,omitempty"`
	// Pool, when given, lists the only points the optimizer may propose,
	// each naming a value for every param (a compound library, the rows of
	// a table).
	Pool []map[string]any `json:"pool,omitempty" yaml:"pool,omitempty"`

	Budget Budget `json:"budget" yaml:"budget"`
	// Batch is how many experiments the optimizer proposes at once
	// (default 1); MaxInFlight bounds experiments dispatched and not yet
	// final (default Batch). With MaxInFlight == Batch batches are
	// synchronous — a batch is proposed when the previous one is final —
	// and a campaign's course depends only on its seed and its results.
	Batch       int    `json:"batch,omitempty" yaml:"batch,omitempty"`
	MaxInFlight int    `json:"max_in_flight,omitempty" yaml:"max_in_flight,omitempty"`
	Seed        uint64 `json:"seed,omitempty" yaml:"seed,omitempty"`

	Optimizer OptimizerSpec `json:"optimizer,omitzero" yaml:"optimizer,omitempty"`
	Executor  Executor      `json:"executor" yaml:"executor"`
	// Prior data warm-starts the model.
	Prior []Prior `json:"prior,omitempty" yaml:"prior,omitempty"`
	Retry Retry   `json:"retry,omitempty" yaml:"retry,omitempty"`
}

// Objective is one measured quantity to optimise.
type Objective struct {
	Name string `json:"name" yaml:"name"`
	Goal string `json:"goal" yaml:"goal"` // "max" or "min"
	// Target, when set, stops the campaign once an observation reaches it
	// (≥ for max, ≤ for min; with several objectives, all at once).
	Target *float64 `json:"target,omitempty" yaml:"target,omitempty"`
	Unit   string   `json:"unit,omitempty" yaml:"unit,omitempty"`
}

// Param is one dimension of the search space.
type Param struct {
	Name string `json:"name" yaml:"name"`
	// Kind is continuous, integer or categorical.
	Kind string   `json:"kind" yaml:"kind"`
	Low  *float64 `json:"low,omitempty" yaml:"low,omitempty"`
	High *float64 `json:"high,omitempty" yaml:"high,omitempty"`
	Log  bool     `json:"log,omitempty" yaml:"log,omitempty"`
	Unit string   `json:"unit,omitempty" yaml:"unit,omitempty"`
	// Categories of a categorical param; Descriptors optionally give each
	// category a numeric vector (same length for all).
	Categories  []string             `json:"categories,omitempty" yaml:"categories,omitempty"`
	Descriptors map[string][]float64 `json:"descriptors,omitempty" yaml:"descriptors,omitempty"`
}

// LinearConstraint requires Σ coef[name]·x[name] rel rhs.
type LinearConstraint struct {
	Coef map[string]float64 `json:"coef" yaml:"coef"`
	Rel  string             `json:"rel" yaml:"rel"` // "<=", ">=" or "=="
	RHS  float64            `json:"rhs" yaml:"rhs"`
}

// OutcomeConstraint requires a measured quantity (an action output) to
// satisfy value rel bound.
type OutcomeConstraint struct {
	Name  string  `json:"name" yaml:"name"`
	Rel   string  `json:"rel" yaml:"rel"` // "<=" or ">="
	Bound float64 `json:"bound" yaml:"bound"`
}

// Budget bounds a campaign. At least one of Experiments and WallTime is set.
type Budget struct {
	Experiments int      `json:"experiments,omitempty" yaml:"experiments,omitempty"`
	WallTime    Duration `json:"wall_time,omitzero" yaml:"wall_time,omitempty"`
}

// Duration is a time.Duration written as "90s", "2h".
type Duration struct{ time.Duration }

// OptimizerSpec tunes the optimizer (campaign/bo); zero values are its
// defaults.
type OptimizerSpec struct {
	Acquisition   string `json:"acquisition,omitempty" yaml:"acquisition,omitempty"` // logei, ucb, thompson
	Kernel        string `json:"kernel,omitempty" yaml:"kernel,omitempty"`
	InitialPoints int    `json:"initial_points,omitempty" yaml:"initial_points,omitempty"`
	Warp          bool   `json:"warp,omitempty" yaml:"warp,omitempty"`
	// Random proposes uniformly at random (a baseline).
	Random bool `json:"random,omitempty" yaml:"random,omitempty"`
}

// Executor says what runs an experiment: an instrument action (on one
// instrument, or on any instrument of a workcell that offers the action),
// or a compute job made from a template.
type Executor struct {
	Instrument string `json:"instrument,omitempty" yaml:"instrument,omitempty"`
	Workcell   string `json:"workcell,omitempty" yaml:"workcell,omitempty"`
	Action     string `json:"action,omitempty" yaml:"action,omitempty"`
	// Params maps the action's parameters to values: "${name}" is the
	// campaign parameter name, anything else a constant. Unmapped action
	// parameters take the campaign parameter of the same name.
	Params map[string]string `json:"params,omitempty" yaml:"params,omitempty"`
	// Outputs maps objective and outcome-constraint names to the action's
	// output names (default: the same name).
	Outputs map[string]string `json:"outputs,omitempty" yaml:"outputs,omitempty"`

	Job *JobTemplate `json:"job,omitempty" yaml:"job,omitempty"`
}

// JobTemplate is a PSI/J job spec (as `genesis job submit` reads) whose
// arguments and environment may use "${param}"; the job writes Output, a
// JSON object of measured values, in its working directory.
type JobTemplate struct {
	Spec   map[string]any `json:"spec" yaml:"spec"`
	Output string         `json:"output" yaml:"output"`
}

// Prior names observations to warm-start the model with: a CSV file in a
// catalog dataset version, whose columns are the campaign's params and
// objectives (Columns renames them: campaign name → column).
type Prior struct {
	Dataset string            `json:"dataset" yaml:"dataset"` // NAME@VERSION or NAME (latest)
	File    string            `json:"file,omitempty" yaml:"file,omitempty"`
	Columns map[string]string `json:"columns,omitempty" yaml:"columns,omitempty"`
}

// Retry says what happens to an experiment that fails.
type Retry struct {
	// Attempts is how many times an experiment is tried in all (default 2).
	Attempts int `json:"attempts,omitempty" yaml:"attempts,omitempty"`
	// LearnFailures tells the optimizer about failed experiments (as
	// infeasible points); by default it learns nothing from them.
	LearnFailures bool `json:"learn_failures,omitempty" yaml:"learn_failures,omitempty"`
}
