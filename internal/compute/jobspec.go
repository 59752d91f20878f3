package compute

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/goccy/go-yaml"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/text"
	"github.com/genesis-science/genesis/internal/yamlsafe"
)

// MaxJobSpecSize bounds the job spec documents ParseJobSpec accepts.
const MaxJobSpecSize = 1 << 20

// JobSpec is a job description following PSI/J (the Portable Submission
// Interface for Jobs: executable, arguments, environment, directory,
// standard streams, resources and attributes), plus Genesis's inputs,
// outputs and label floor. Field names are PSI/J's, in snake_case.
type JobSpec struct {
	// Name is an optional human-readable name.
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// Executable is the program to run: a path, or a name looked up in PATH.
	Executable string   `yaml:"executable" json:"executable"`
	Arguments  []string `yaml:"arguments,omitempty" json:"arguments,omitempty"`
	// Environment is added to the backend's minimal base environment.
	Environment map[string]string `yaml:"environment,omitempty" json:"environment,omitempty"`
	// Directory is the job's working directory. Relative paths are resolved
	// against the per-job directory the caller gives the backend; empty means
	// that directory itself.
	Directory string `yaml:"directory,omitempty" json:"directory,omitempty"`
	// Standard streams; relative paths are resolved against Directory. Empty
	// stdout/stderr paths mean the backend captures them itself (see Backend.Logs).
	StdinPath  string `yaml:"stdin_path,omitempty" json:"stdin_path,omitempty"`
	StdoutPath string `yaml:"stdout_path,omitempty" json:"stdout_path,omitempty"`
	StderrPath string `yaml:"stderr_path,omitempty" json:"stderr_path,omitempty"`

	Resources  Resources  `yaml:"resources,omitempty" json:"resources,omitempty"`
	Attributes Attributes `yaml:"attributes,omitempty" json:"attributes,omitempty"`
	// Container is an optional container image reference.
	Container string `yaml:"container,omitempty" json:"container,omitempty"`

	// Inputs are asset versions (NAME@VERSION) staged read-only into the
	// job's directory before it starts.
	Inputs []AssetRef `yaml:"inputs,omitempty" json:"inputs,omitempty"`
	// Outputs map a path (relative to the job's directory) to the dataset
	// or model that receives it as a new version after success.
	Outputs map[string]string `yaml:"outputs,omitempty" json:"outputs,omitempty"`
	// Models map a path the job wrote to the model that receives it as a
	// new version after success, trained on the job's inputs: training a
	// model on the platform registers it with its lineage.
	Models map[string]ModelOutput `yaml:"models,omitempty" json:"models,omitempty"`
	// Label is an optional floor (a label marking); the job's label is the
	// join of its inputs' labels and this floor. Parsed by the caller.
	Label string `yaml:"label,omitempty" json:"label,omitempty"`
}

// ModelOutput names the model a job's output becomes, and describes it.
type ModelOutput struct {
	Name      string `yaml:"name" json:"name"`
	Framework string `yaml:"framework" json:"framework"`
	Task      string `yaml:"task" json:"task"`
	// Metrics and Card are optional paths, relative to the job's
	// directory, of a JSON object of metrics and a Markdown model card the
	// job wrote.
	Metrics string `yaml:"metrics,omitempty" json:"metrics,omitempty"`
	Card    string `yaml:"card,omitempty" json:"card,omitempty"`
}

// Resources follows PSI/J's ResourceSpecV1. Zero means "not specified".
type Resources struct {
	NodeCount          int      `yaml:"node_count,omitempty" json:"node_count,omitempty"`
	ProcessCount       int      `yaml:"process_count,omitempty" json:"process_count,omitempty"`
	ProcessesPerNode   int      `yaml:"processes_per_node,omitempty" json:"processes_per_node,omitempty"`
	CPUCoresPerProcess int      `yaml:"cpu_cores_per_process,omitempty" json:"cpu_cores_per_process,omitempty"`
	GPUCoresPerProcess int      `yaml:"gpu_cores_per_process,omitempty" json:"gpu_cores_per_process,omitempty"`
	ExclusiveNodeUse   bool     `yaml:"exclusive_node_use,omitempty" json:"exclusive_node_use,omitempty"`
	Memory             ByteSize `yaml:"memory,omitempty" json:"memory,omitempty"` // per node
}

// Attributes follows PSI/J's JobAttributes.
type Attributes struct {
	// Duration is the wall-clock limit; the job is killed when it runs longer.
	Duration         Duration          `yaml:"duration,omitempty" json:"duration,omitempty"`
	QueueName        string            `yaml:"queue_name,omitempty" json:"queue_name,omitempty"`
	Account          string            `yaml:"account,omitempty" json:"account,omitempty"`
	ReservationID    string            `yaml:"reservation_id,omitempty" json:"reservation_id,omitempty"`
	CustomAttributes map[string]string `yaml:"custom_attributes,omitempty" json:"custom_attributes,omitempty"`
}

// AssetRef names one version of a dataset or model: NAME@VERSION.
type AssetRef string

// Split returns the name and version of r.
func (r AssetRef) Split() (name, version string) {
	name, version, _ = strings.Cut(string(r), "@")
	return name, version
}

// Nodes returns the number of nodes the job needs (at least 1).
func (r Resources) Nodes() int {
	if r.NodeCount > 0 {
		return r.NodeCount
	}
	if r.ProcessCount > 0 && r.ProcessesPerNode > 0 {
		return (r.ProcessCount + r.ProcessesPerNode - 1) / r.ProcessesPerNode
	}
	return 1
}

// Processes returns the total number of processes (at least 1).
func (r Resources) Processes() int {
	switch {
	case r.ProcessCount > 0:
		return r.ProcessCount
	case r.ProcessesPerNode > 0:
		return r.ProcessesPerNode * r.Nodes()
	}
	return 1
}

// CoresPerProcess returns the CPU cores per process (at least 1).
func (r Resources) CoresPerProcess() int {
	if r.CPUCoresPerProcess > 0 {
		return r.CPUCoresPerProcess
	}
	return 1
}

// Duration is a time.Duration written as a Go duration string ("90s",
// "1h30m"), as HH:MM:SS, or as a number of seconds.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalJSON writes d as a Go duration string.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// MarshalYAML writes d as a Go duration string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML implements yaml.BytesUnmarshaler (also used for JSON).
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := scalar(b)
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// UnmarshalJSON accepts the same forms as UnmarshalYAML.
func (d *Duration) UnmarshalJSON(b []byte) error { return d.UnmarshalYAML(b) }

var hmsRE = regexp.MustCompile(`^(\d+):([0-5]\d):([0-5]\d)$`)

func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration")
	}
	if m := hmsRE.FindStringSubmatch(s); m != nil {
		h, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil || h > 1<<20 {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		mi, _ := strconv.Atoi(m[2])
		se, _ := strconv.Atoi(m[3])
		return time.Duration(h)*time.Hour + time.Duration(mi)*time.Minute + time.Duration(se)*time.Second, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > float64(math.MaxInt64/int64(time.Second)) {
			return 0, fmt.Errorf("duration %q out of range", s)
		}
		return time.Duration(f * float64(time.Second)), nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want e.g. 90s, 1h30m, 01:30:00 or seconds", s)
	}
	return v, nil
}

// ByteSize is a number of bytes, written as an integer or with a unit
// (K, M, G, T: powers of 1024; KB, MB, GB, TB: powers of 1000; KiB… too).
type ByteSize int64

// UnmarshalYAML implements yaml.BytesUnmarshaler (also used for JSON).
func (s *ByteSize) UnmarshalYAML(b []byte) error {
	v, err := parseByteSize(scalar(b))
	if err != nil {
		return err
	}
	*s = ByteSize(v)
	return nil
}

// UnmarshalJSON accepts the same forms as UnmarshalYAML.
func (s *ByteSize) UnmarshalJSON(b []byte) error { return s.UnmarshalYAML(b) }

var sizeRE = regexp.MustCompile(`^(-?\d+(?:\.\d+)?)\s*([KMGTkmgt]?)(i?[Bb]?)$`)

func parseByteSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("memory %q: want bytes or a size such as 512M, 4GiB", s)
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("memory %q: %v", s, err)
	}
	base := 1024.0
	if m[2] != "" && (m[3] == "B" || m[3] == "b") {
		base = 1000
	}
	exp := strings.Index("KMGT", strings.ToUpper(m[2])) + 1
	if m[2] == "" {
		exp = 0
	}
	f *= math.Pow(base, float64(exp))
	if f > math.MaxInt64/2 || f < math.MinInt64/2 {
		return 0, fmt.Errorf("memory %q out of range", s)
	}
	return int64(f), nil
}

// scalar returns the text of a YAML/JSON scalar, unquoted.
func scalar(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"') {
		var u string
		if json.Unmarshal([]byte(s), &u) == nil {
			return u
		}
	}
	if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		return strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	return s
}

// ParseJobSpec parses a job spec written in YAML or JSON, rejecting unknown
// fields, and validates it. Every error is errors.Invalid and names the
// offending field where there is one.
func ParseJobSpec(data []byte) (*JobSpec, error) {
	const op errors.Op = "compute.ParseJobSpec"
	if len(data) > MaxJobSpecSize {
		return nil, errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("job spec larger than %d bytes", MaxJobSpecSize)))
	}
	if !utf8.Valid(data) {
		return nil, errors.E(op, errors.Invalid, errors.Msg("job spec is not UTF-8"))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Field("executable"), errors.Msg("empty job spec"))
	}
	if msg := yamlsafe.Check(data); msg != "" {
		return nil, errors.E(op, errors.Invalid, errors.Msg("job spec: "+msg))
	}
	var spec JobSpec
	if err := yamlsafe.Decode(data, &spec, yaml.Strict()); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field(yamlsafe.UnknownField(err)), errors.Msg("job spec: "+yamlsafe.Message(err)))
	}
	if err := checkExplicitZeros(data); err != nil {
		return nil, errors.E(op, err)
	}
	if err := spec.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	return &spec, nil
}

// checkExplicitZeros rejects counts written as 0: in the struct, zero means
// "not given", but a spec asking for zero nodes or processes is impossible.
func checkExplicitZeros(data []byte) error {
	var raw struct {
		Resources struct {
			NodeCount          *int `yaml:"node_count"`
			ProcessCount       *int `yaml:"process_count"`
			ProcessesPerNode   *int `yaml:"processes_per_node"`
			CPUCoresPerProcess *int `yaml:"cpu_cores_per_process"`
		} `yaml:"resources"`
	}
	if yamlsafe.Decode(data, &raw) != nil {
		return nil // the strict decode already accepted it; nothing to add
	}
	r := raw.Resources
	for _, f := range []struct {
		name string
		v    *int
	}{{"node_count", r.NodeCount}, {"process_count", r.ProcessCount}, {"processes_per_node", r.ProcessesPerNode}, {"cpu_cores_per_process", r.CPUCoresPerProcess}} {
		if f.v != nil && *f.v == 0 {
			return errors.E(errors.Invalid, errors.Field("resources."+f.name), errors.Msg("resources."+f.name+": must be at least 1"))
		}
	}
	return nil
}

// Limits on a job spec's contents.
const (
	maxArgs       = 4096
	maxStringLen  = 64 << 10
	maxCount      = 1 << 20
	maxDuration   = 366 * 24 * time.Hour
	maxListLength = 10000
)

var (
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	assetRefRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}@[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)
	simpleRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$`)
)

// Validate checks that s describes a job some backend could run. Every error
// is errors.Invalid naming the offending field (PSI/J names, dotted).
func (s *JobSpec) Validate() error {
	const op errors.Op = "compute.JobSpec.Validate"
	bad := func(field, msg string) error {
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+": "+msg))
	}
	if strings.TrimSpace(s.Executable) == "" {
		return bad("executable", "missing")
	}
	if err := checkString(s.Executable); err != nil {
		return bad("executable", err.Error())
	}
	if err := text.Line("name", s.Name, 256); err != nil {
		return err
	}
	if len(s.Arguments) > maxArgs {
		return bad("arguments", fmt.Sprintf("more than %d arguments", maxArgs))
	}
	for i, a := range s.Arguments {
		if err := checkString(a); err != nil {
			return bad(fmt.Sprintf("arguments[%d]", i), err.Error())
		}
	}
	if len(s.Environment) > maxListLength {
		return bad("environment", "too many variables")
	}
	for k, v := range s.Environment {
		if !envNameRE.MatchString(k) {
			return bad("environment", fmt.Sprintf("variable name %q: want letters, digits and _ not starting with a digit", truncate(k)))
		}
		if err := checkString(v); err != nil {
			return bad("environment."+k, err.Error())
		}
	}
	for _, p := range []struct{ field, v string }{
		{"directory", s.Directory}, {"stdin_path", s.StdinPath}, {"stdout_path", s.StdoutPath}, {"stderr_path", s.StderrPath},
	} {
		if err := checkPath(p.v); err != nil {
			return bad(p.field, err.Error())
		}
	}
	if err := s.Resources.validate(); err != nil {
		var e *errors.Error
		if errors.As(err, &e) {
			return bad("resources."+e.Field, e.Msg)
		}
		return err
	}
	a := s.Attributes
	if a.Duration.D() <= 0 {
		return bad("attributes.duration", "must be positive (e.g. 10m)")
	}
	if a.Duration.D() > maxDuration {
		return bad("attributes.duration", "longer than 366 days")
	}
	for _, f := range []struct{ field, v string }{
		{"attributes.queue_name", a.QueueName}, {"attributes.account", a.Account}, {"attributes.reservation_id", a.ReservationID},
	} {
		if f.v != "" && !simpleRE.MatchString(f.v) {
			return bad(f.field, "want letters, digits and . _ : + - (at most 128)")
		}
	}
	for k, v := range a.CustomAttributes {
		if !simpleRE.MatchString(k) {
			return bad("attributes.custom_attributes", fmt.Sprintf("key %q: want letters, digits and . _ : + -", truncate(k)))
		}
		if err := checkString(v); err != nil {
			return bad("attributes.custom_attributes."+k, err.Error())
		}
	}
	if err := checkString(s.Container); err != nil || strings.ContainsAny(s.Container, " \t\n") {
		return bad("container", "not an image reference")
	}
	if len(s.Inputs) > maxListLength {
		return bad("inputs", "too many inputs")
	}
	seen := map[string]bool{}
	for i, in := range s.Inputs {
		if !assetRefRE.MatchString(string(in)) {
			return bad(fmt.Sprintf("inputs[%d]", i), fmt.Sprintf("%q: want NAME@VERSION", truncate(string(in))))
		}
		name, _ := in.Split()
		if seen[name] {
			return bad(fmt.Sprintf("inputs[%d]", i), fmt.Sprintf("asset %q listed twice", name))
		}
		seen[name] = true
	}
	if len(s.Outputs) > maxListLength {
		return bad("outputs", "too many outputs")
	}
	for p, asset := range s.Outputs {
		if p == "" || path.IsAbs(p) || !pathInside(p) {
			return bad("outputs", fmt.Sprintf("path %q: want a relative path inside the job directory", truncate(p)))
		}
		if !assetNameRE.MatchString(asset) {
			return bad("outputs."+p, fmt.Sprintf("%q: want a dataset or model name", truncate(asset)))
		}
	}
	if len(s.Models) > maxListLength {
		return bad("models", "too many models")
	}
	for p, m := range s.Models {
		if p == "" || path.IsAbs(p) || !pathInside(p) {
			return bad("models", fmt.Sprintf("path %q: want a relative path inside the job directory", truncate(p)))
		}
		if _, dup := s.Outputs[p]; dup {
			return bad("models."+p, "the path is also a dataset output")
		}
		if !assetNameRE.MatchString(m.Name) {
			return bad("models."+p+".name", fmt.Sprintf("%q: want a model name", truncate(m.Name)))
		}
		if m.Framework == "" || text.Line("framework", m.Framework, 128) != nil {
			return bad("models."+p+".framework", "framework is required (e.g. pytorch, jax, sklearn), at most 128 characters")
		}
		if m.Task == "" || text.Line("task", m.Task, 256) != nil {
			return bad("models."+p+".task", "task is required (e.g. regression, segmentation), at most 256 characters")
		}
		for field, f := range map[string]string{"metrics": m.Metrics, "card": m.Card} {
			if f != "" && (path.IsAbs(f) || !pathInside(f)) {
				return bad("models."+p+"."+field, fmt.Sprintf("path %q: want a relative path inside the job directory", truncate(f)))
			}
		}
	}
	if err := checkString(s.Label); err != nil {
		return bad("label", err.Error())
	}
	return nil
}

var assetNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$`)

func (r Resources) validate() error {
	bad := func(field, msg string) error {
		return errors.E(errors.Invalid, errors.Field(field), errors.Msg(msg))
	}
	for _, f := range []struct {
		name string
		v    int
	}{
		{"node_count", r.NodeCount}, {"process_count", r.ProcessCount}, {"processes_per_node", r.ProcessesPerNode},
		{"cpu_cores_per_process", r.CPUCoresPerProcess}, {"gpu_cores_per_process", r.GPUCoresPerProcess},
	} {
		if f.v < 0 {
			return bad(f.name, "must not be negative")
		}
		if f.v > maxCount {
			return bad(f.name, "too large")
		}
	}
	if r.Memory < 0 {
		return bad("memory", "must not be negative")
	}
	// A present-but-zero node count is caught by the parser's raw check
	// (zeroNodeCount); here zero means "not given".
	if r.NodeCount > 0 && r.ProcessesPerNode > 0 && r.ProcessCount > 0 &&
		r.NodeCount*r.ProcessesPerNode != r.ProcessCount {
		return bad("process_count", fmt.Sprintf("%d processes do not fill %d nodes × %d processes per node", r.ProcessCount, r.NodeCount, r.ProcessesPerNode))
	}
	if r.NodeCount > 0 && r.ProcessCount > 0 && r.ProcessCount < r.NodeCount {
		return bad("process_count", fmt.Sprintf("%d processes cannot occupy %d nodes", r.ProcessCount, r.NodeCount))
	}
	if r.NodeCount == 0 && r.ProcessesPerNode > 0 && r.ProcessCount > 0 && r.ProcessCount%r.ProcessesPerNode != 0 {
		return bad("process_count", fmt.Sprintf("%d processes are not a multiple of %d processes per node", r.ProcessCount, r.ProcessesPerNode))
	}
	return nil
}

func checkString(s string) error {
	if len(s) > maxStringLen {
		return fmt.Errorf("longer than %d bytes", maxStringLen)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("contains a NUL byte")
	}
	return nil
}

func checkPath(p string) error {
	if p == "" {
		return nil
	}
	if err := checkString(p); err != nil {
		return err
	}
	if strings.ContainsAny(p, "\n\r%") {
		return fmt.Errorf("contains a newline or %%")
	}
	return nil
}

// pathInside reports whether the relative path p stays inside its root.
func pathInside(p string) bool {
	c := path.Clean(p)
	return c != ".." && !strings.HasPrefix(c, "../") && c != "."
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
