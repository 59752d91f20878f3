package campaign

import (
	"bytes"
	"encoding/json"
	stderrors "errors"
	"fmt"
	"math"
	"path"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/text"
	"github.com/genesis-science/genesis/internal/yamlsafe"
	"github.com/goccy/go-yaml"
)

// Limits on a campaign file.
const (
	MaxSpecSize        = 1 << 20 // bytes of a campaign file
	MaxName            = 53      // a campaign's name; its outputs add "-surrogate"
	MaxObjectives      = 3
	MaxParams          = 100
	MaxCategories      = 1000
	MaxDescriptorLen   = 1000
	MaxConstraints     = 100
	MaxExperiments     = 100000
	MaxBatch           = 100
	MaxInFlight        = 1000
	MaxWallTime        = 366 * 24 * time.Hour
	MaxPriors          = 10
	MaxRetryAttempts   = 10
	MaxInitialPoints   = 10000
	MaxExecutorMapping = 1000
	MaxIntegerSpan     = 1e6 // high - low of an integer param
	MaxPool            = 100000
)

// Defaults filled by Parse and Validate.
const (
	DefaultLabel         = "OPEN"
	DefaultBatch         = 1
	DefaultRetryAttempts = 2
)

// quantityRE is the grammar of parameter, objective, outcome and output
// names: they appear in "${name}" mappings, CSV headers and JSON keys.
var quantityRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]{0,63}$`)

// refRE matches "${name}" exactly; varRE finds every "${…}" in a string.
var (
	refRE = regexp.MustCompile(`^\$\{([^{}]*)\}$`)
	varRE = regexp.MustCompile(`\$\{([^{}]*)\}`)
)

// Parse reads a campaign file written in YAML or JSON, refusing unknown
// fields (naming the field, with a suggestion when it looks like a typo),
// fills the defaults and validates it. Every error is errors.Invalid (or
// errors.TooLarge for a file over MaxSpecSize) with a message safe to
// show the file's author and, where there is one, errors.Field naming the
// offending field path ("params[2].high").
func Parse(data []byte) (*Spec, error) {
	const op errors.Op = "campaign.Parse"
	if len(data) > MaxSpecSize {
		return nil, errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("campaign file larger than %d bytes", MaxSpecSize)))
	}
	if !utf8.Valid(data) {
		return nil, errors.E(op, errors.Invalid, errors.Msg("campaign file is not UTF-8"))
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Field("name"), errors.Msg("empty campaign file"))
	}
	if msg := yamlsafe.Check(data); msg != "" {
		return nil, errors.E(op, errors.Invalid, errors.Msg("campaign file: "+msg))
	}
	if yamlsafe.MultipleDocuments(data) {
		return nil, errors.E(op, errors.Invalid, errors.Msg("campaign file: more than one YAML document (---): a campaign file holds one campaign"))
	}
	var s Spec
	if err := yamlsafe.Decode(data, &s, yaml.Strict()); err != nil {
		path := yamlsafe.ErrorPath(data, err)
		if f := yamlsafe.UnknownField(err); f != "" {
			if path == "" {
				path = f
			}
			msg := "campaign file: " + clip(path) + ": unknown field " + strconv.Quote(clip(f))
			if hint := text.Suggest(f, keysAt(path)); hint != "" {
				msg += "; did you mean " + strconv.Quote(hint) + "?"
			}
			return nil, errors.E(op, errors.Invalid, errors.Field(path), errors.Msg(msg))
		}
		var de *durationError
		if stderrors.As(err, &de) && path == "" {
			path = "budget.wall_time" // the file's only duration
		}
		msg := "campaign file: " + decodeMessage(err)
		if path != "" {
			msg = "campaign file: " + clip(path) + ": " + decodeMessage(err)
		}
		return nil, errors.E(op, errors.Invalid, errors.Field(path), errors.Msg(msg))
	}
	if err := checkIntegers(data); err != nil {
		return nil, errors.E(op, err)
	}
	if err := s.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	return &s, nil
}

var goTypeRE = regexp.MustCompile(`cannot unmarshal (.*) into Go (?:struct field \S+|value) of type (\S+)( \( overflow \))?`)

// decodeMessage is yamlsafe.Message with the decoder's Go type names
// ("cannot unmarshal string into Go struct field Spec.Params of type
// float64") replaced by what the file should have said.
func decodeMessage(err error) string {
	msg := yamlsafe.Message(err)
	msg = strings.NewReplacer("where sequence is expected", "where a list is expected", "where mapping is expected", "where a mapping is expected").Replace(msg)
	m := goTypeRE.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg
	}
	typ := msg[m[4]:m[5]]
	want := "a value of another type"
	switch {
	case m[6] >= 0 && strings.HasPrefix(typ, "uint") && strings.HasPrefix(msg[m[2]:m[3]], "-"):
		want = "a whole number, not negative"
	case m[6] >= 0:
		want = "a number in range"
	case typ == "float64":
		want = "a number"
	case strings.HasPrefix(typ, "int"):
		want = "a whole number"
	case strings.HasPrefix(typ, "uint"):
		want = "a whole number, not negative"
	case typ == "string":
		want = "text"
	case typ == "bool":
		want = "true or false"
	case strings.HasPrefix(typ, "[]"):
		want = "a list"
	case strings.HasPrefix(typ, "map["), strings.HasPrefix(typ, "campaign."), strings.HasPrefix(typ, "*campaign."):
		want = "a mapping (key: value)"
	}
	return msg[:m[0]] + "want " + want + msg[m[1]:]
}

// checkIntegers refuses counts and the seed written as fractions or
// beyond what a float64 holds exactly (the decoder truncates 2.5 to 2 and
// wraps 2^64 to 2^63 without a word), and counts written as 0: in the
// struct zero means "not given" (the default), but a file asking for a
// batch of 0 or 0 attempts is a mistake, not a request for the default.
func checkIntegers(data []byte) error {
	var raw struct {
		Batch       any `yaml:"batch"`
		MaxInFlight any `yaml:"max_in_flight"`
		Seed        any `yaml:"seed"`
		Budget      struct {
			Experiments any `yaml:"experiments"`
		} `yaml:"budget"`
		Retry struct {
			Attempts any `yaml:"attempts"`
		} `yaml:"retry"`
		Optimizer struct {
			InitialPoints any `yaml:"initial_points"`
		} `yaml:"optimizer"`
	}
	if yamlsafe.Decode(data, &raw) != nil {
		return nil // the strict decode accepted it; nothing to add
	}
	for _, f := range []struct {
		name     string
		v        any
		positive bool
	}{
		{"batch", raw.Batch, true}, {"max_in_flight", raw.MaxInFlight, true},
		{"budget.experiments", raw.Budget.Experiments, true}, {"retry.attempts", raw.Retry.Attempts, true},
		{"seed", raw.Seed, false}, {"optimizer.initial_points", raw.Optimizer.InitialPoints, false},
	} {
		var zero bool
		if str, ok := f.v.(string); ok { // what the decoder keeps as text: 2^64, 1e30
			if u, err := strconv.ParseUint(strings.TrimSpace(str), 0, 64); err == nil {
				f.v = u
			} else if i, err := strconv.ParseInt(strings.TrimSpace(str), 0, 64); err == nil {
				f.v = i
			} else if x, err := strconv.ParseFloat(strings.TrimSpace(str), 64); err == nil {
				f.v = x
			}
		}
		switch x := f.v.(type) {
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return invalid(f.name, "must be a whole number (at most 2^53 when written with a point or an exponent)")
			}
			zero = x == 0
		case uint64:
			zero = x == 0
		case int64:
			zero = x == 0
		case int:
			zero = x == 0
		}
		if zero && f.positive {
			return invalid(f.name, "must be at least 1 (leave it out for the default)")
		}
	}
	return nil
}

// keysAt lists the keys allowed beside the field at path
// ("objectives[0].gaol": an objective's keys), or every key when the path
// leads nowhere known.
func keysAt(path string) []string {
	t := reflect.TypeOf(Spec{})
	segs := strings.Split(path, ".")
	for _, seg := range segs[:len(segs)-1] {
		if i := strings.IndexByte(seg, '['); i >= 0 {
			seg = seg[:i]
		}
		f, ok := fieldByKey(t, seg)
		if !ok {
			return allKeys
		}
		t = f
	}
	var keys []string
	for i := 0; i < t.NumField(); i++ {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// fieldByKey returns the struct type under key in struct type t
// (through pointers, slices and maps), if it is one.
func fieldByKey(t reflect.Type, key string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		if k, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); k == key {
			ft := t.Field(i).Type
			for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice || ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			return ft, ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Duration{})
		}
	}
	return nil, false
}

// allKeys lists every key a campaign file may use, for did-you-mean.
var allKeys = knownKeys()

func knownKeys() []string {
	seen := map[string]bool{}
	var keys []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || t == reflect.TypeOf(Duration{}) {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if k != "" && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeOf(Spec{}))
	return keys
}

// UnmarshalYAML reads a duration such as "90s" or "2h" (also used for
// JSON).
func (d *Duration) UnmarshalYAML(b []byte) error {
	s := strings.TrimSpace(string(b))
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var u string
		if json.Unmarshal([]byte(s), &u) != nil {
			return &durationError{s}
		}
		s = u
	} else if len(s) >= 2 && s[0] == '\'' && s[len(s)-1] == '\'' {
		s = strings.ReplaceAll(s[1:len(s)-1], "''", "'")
	}
	if s == "" || s == "null" || s == "~" {
		d.Duration = 0
		return nil
	}
	v, err := parseDuration(s)
	if err != nil {
		return &durationError{s}
	}
	d.Duration = v
	return nil
}

var daysRE = regexp.MustCompile(`^(\d{1,4})d(.*)$`)

// parseDuration reads a Go duration ("90m", "1h30m") that may start with
// whole days ("2d", "1d12h").
func parseDuration(s string) (time.Duration, error) {
	if m := daysRE.FindStringSubmatch(s); m != nil {
		days, _ := strconv.Atoi(m[1])
		rest := time.Duration(0)
		if m[2] != "" {
			r, err := time.ParseDuration(m[2])
			if err != nil || r < 0 || r > math.MaxInt64-time.Duration(days)*24*time.Hour {
				return 0, fmt.Errorf("bad duration")
			}
			rest = r
		}
		return time.Duration(days)*24*time.Hour + rest, nil
	}
	return time.ParseDuration(s)
}

type durationError struct{ s string }

func (e *durationError) Error() string {
	return fmt.Sprintf("duration %q: want a duration such as 90s, 30m, 2h or 1d12h", clip(e.s))
}

// UnmarshalJSON accepts what UnmarshalYAML does.
func (d *Duration) UnmarshalJSON(b []byte) error { return d.UnmarshalYAML(b) }

// MarshalJSON writes the duration as a string ("1h30m0s").
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// MarshalYAML writes the duration as a string.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String is the duration's Go form, "0s" when zero.
func (d Duration) String() string { return d.Duration.String() }

func invalid(field, msg string) error {
	return errors.E(errors.Invalid, errors.Field(field), errors.Msg(field+": "+msg))
}

func clip(s string) string {
	if len(s) > 64 {
		s = s[:64]
		for !utf8.ValidString(s) {
			s = s[:len(s)-1]
		}
		return s + "…"
	}
	return s
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func fmtF(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// checkQuantity checks the name of a parameter, objective or output.
func checkQuantity(field, s string) error {
	if quantityRE.MatchString(s) {
		return nil
	}
	if s == "" {
		return invalid(field, "missing")
	}
	if err := text.Line(field, s, 64); err != nil {
		return err
	}
	return invalid(field, "must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or '_'")
}

// Validate checks a Spec built in Go as Parse checks a file, and fills
// the same defaults (label OPEN, batch 1, max_in_flight = batch, retry
// attempts 2; lower-cased acquisition, kernel and goals; the label in
// canonical form). Every error is errors.Invalid naming the field.
func (s *Spec) Validate() error {
	const op errors.Op = "campaign.Spec.Validate"
	if err := s.validate(); err != nil {
		return errors.E(op, err)
	}
	return nil
}

func (s *Spec) validate() error {
	// Identity.
	if s.Name == "" {
		return invalid("name", "missing: a campaign needs a name")
	}
	if err := text.Name("name", s.Name); err != nil {
		return err
	}
	if len(s.Name) > MaxName {
		return invalid("name", fmt.Sprintf("at most %d characters (the campaign's outputs are named NAME-results and NAME-surrogate)", MaxName))
	}
	if strings.HasPrefix(s.Name, "cmp_") {
		return invalid("name", "names starting with cmp_ are campaign IDs")
	}
	if err := text.First(
		text.Line("title", s.Title, text.MaxLine),
		text.Block("description", s.Description, text.MaxDescription),
	); err != nil {
		return err
	}
	if s.Project != "" {
		if err := text.Name("project", s.Project); err != nil {
			return err
		}
	}
	if strings.TrimSpace(s.Label) == "" {
		s.Label = DefaultLabel
	}
	if err := text.Line("label", s.Label, text.MaxLine); err != nil {
		return err
	}
	canon, err := label.Canonical(s.Label)
	if err != nil {
		return errors.E(errors.Invalid, errors.Field("label"), errors.Msg("label: "+err.Error()))
	}
	s.Label = canon

	quantities := map[string]string{} // name → what it is, across params, objectives and outcomes
	claim := func(field, name, what string) error {
		if prev, dup := quantities[name]; dup {
			if prev == what {
				return invalid(field, fmt.Sprintf("%s %q is listed twice", what, name))
			}
			return invalid(field, fmt.Sprintf("%q is already the name of a %s", name, prev))
		}
		quantities[name] = what
		return nil
	}

	// Objectives.
	if len(s.Objectives) == 0 {
		return invalid("objectives", "missing: a campaign needs 1-3 objectives (name and goal: max or min)")
	}
	if len(s.Objectives) > MaxObjectives {
		return invalid("objectives", fmt.Sprintf("%d objectives; at most %d are supported", len(s.Objectives), MaxObjectives))
	}
	for i := range s.Objectives {
		o := &s.Objectives[i]
		f := fmt.Sprintf("objectives[%d]", i)
		if err := checkQuantity(f+".name", o.Name); err != nil {
			return err
		}
		if err := claim(f+".name", o.Name, "objective"); err != nil {
			return err
		}
		switch strings.ToLower(strings.TrimSpace(o.Goal)) {
		case "max", "maximize", "maximise":
			o.Goal = "max"
		case "min", "minimize", "minimise":
			o.Goal = "min"
		case "":
			return invalid(f+".goal", "missing: want max or min")
		default:
			return invalid(f+".goal", fmt.Sprintf("%q: want max or min", clip(o.Goal)))
		}
		if o.Target != nil && !finite(*o.Target) {
			return invalid(f+".target", "must be a finite number")
		}
		if err := text.Line(f+".unit", o.Unit, 64); err != nil {
			return err
		}
	}

	// Parameters.
	if len(s.Params) == 0 {
		return invalid("params", "missing: a campaign needs at least one parameter to search over")
	}
	if len(s.Params) > MaxParams {
		return invalid("params", fmt.Sprintf("%d parameters; at most %d", len(s.Params), MaxParams))
	}
	params := map[string]*Param{}
	for i := range s.Params {
		p := &s.Params[i]
		f := fmt.Sprintf("params[%d]", i)
		if err := checkQuantity(f+".name", p.Name); err != nil {
			return err
		}
		if err := claim(f+".name", p.Name, "parameter"); err != nil {
			return err
		}
		params[p.Name] = p
		if err := p.validate(f); err != nil {
			return err
		}
	}

	// Linear constraints.
	if len(s.Constraints) > MaxConstraints {
		return invalid("constraints", fmt.Sprintf("%d constraints; at most %d", len(s.Constraints), MaxConstraints))
	}
	for i := range s.Constraints {
		if err := s.Constraints[i].validate(fmt.Sprintf("constraints[%d]", i), params); err != nil {
			return err
		}
	}

	// Pool.
	if len(s.Pool) > MaxPool {
		return invalid("pool", fmt.Sprintf("%d candidates; at most %d", len(s.Pool), MaxPool))
	}
	if _, err := s.poolPoints(); err != nil {
		return err
	}

	// Outcome constraints.
	if len(s.OutcomeConstraints) > MaxConstraints {
		return invalid("outcome_constraints", fmt.Sprintf("%d outcome constraints; at most %d", len(s.OutcomeConstraints), MaxConstraints))
	}
	for i, c := range s.OutcomeConstraints {
		f := fmt.Sprintf("outcome_constraints[%d]", i)
		if err := checkQuantity(f+".name", c.Name); err != nil {
			return err
		}
		if prev := quantities[c.Name]; prev == "objective" {
			return invalid(f+".name", fmt.Sprintf("%q is an objective; an outcome constraint bounds another measured quantity", c.Name))
		}
		if err := claim(f+".name", c.Name, "outcome constraint"); err != nil {
			return err
		}
		if c.Rel != "<=" && c.Rel != ">=" {
			return invalid(f+".rel", fmt.Sprintf("%q: want <= or >=", clip(c.Rel)))
		}
		if !finite(c.Bound) {
			return invalid(f+".bound", "must be a finite number")
		}
	}

	// Budget and pacing.
	b := s.Budget
	if b.Experiments < 0 || b.Experiments > MaxExperiments {
		return invalid("budget.experiments", fmt.Sprintf("%d: want 1-%d", b.Experiments, MaxExperiments))
	}
	if b.WallTime.Duration < 0 || b.WallTime.Duration > MaxWallTime {
		return invalid("budget.wall_time", "must be positive and at most 366 days (e.g. 2h)")
	}
	if b.Experiments == 0 && b.WallTime.Duration == 0 {
		return invalid("budget", "missing: give experiments (a number) and/or wall_time (e.g. 8h)")
	}
	if s.Batch == 0 {
		s.Batch = DefaultBatch
	}
	if s.Batch < 1 || s.Batch > MaxBatch {
		return invalid("batch", fmt.Sprintf("%d: want 1-%d", s.Batch, MaxBatch))
	}
	if s.MaxInFlight == 0 {
		s.MaxInFlight = s.Batch
	}
	if s.MaxInFlight < s.Batch || s.MaxInFlight > MaxInFlight {
		return invalid("max_in_flight", fmt.Sprintf("%d: want at least batch (%d) and at most %d", s.MaxInFlight, s.Batch, MaxInFlight))
	}

	// Optimizer.
	o := &s.Optimizer
	o.Acquisition = strings.ToLower(strings.TrimSpace(o.Acquisition))
	switch bo.Acquisition(o.Acquisition) {
	case "", bo.LogEI, bo.UCB, bo.Thompson:
	default:
		return invalid("optimizer.acquisition", fmt.Sprintf("%q: want logei, ucb or thompson", clip(o.Acquisition)))
	}
	o.Kernel = strings.ToLower(strings.TrimSpace(o.Kernel))
	switch bo.KernelType(o.Kernel) {
	case "", bo.Matern52, bo.RBF:
	default:
		return invalid("optimizer.kernel", fmt.Sprintf("%q: want matern52 or rbf", clip(o.Kernel)))
	}
	if o.InitialPoints < 0 || o.InitialPoints > MaxInitialPoints {
		return invalid("optimizer.initial_points", fmt.Sprintf("%d: want 0-%d (0: chosen from the budget)", o.InitialPoints, MaxInitialPoints))
	}

	// Executor.
	if err := s.validateExecutor(params, quantities); err != nil {
		return err
	}

	// Prior data.
	if len(s.Prior) > MaxPriors {
		return invalid("prior", fmt.Sprintf("%d prior datasets; at most %d", len(s.Prior), MaxPriors))
	}
	for i, p := range s.Prior {
		f := fmt.Sprintf("prior[%d]", i)
		if _, _, err := p.Ref(); err != nil {
			return invalid(f+".dataset", err.Error())
		}
		if p.File != "" {
			if err := checkRelPath(f+".file", p.File); err != nil {
				return err
			}
		}
		if len(p.Columns) > MaxExecutorMapping {
			return invalid(f+".columns", "too many columns")
		}
		for _, k := range sortedKeys(p.Columns) {
			if _, ok := quantities[k]; !ok {
				return invalid(f+".columns."+clip(k), fmt.Sprintf("unknown parameter or objective %q%s", clip(k), didYouMean(k, quantities)))
			}
			v := p.Columns[k]
			if strings.TrimSpace(v) == "" {
				return invalid(f+".columns."+k, "empty column name")
			}
			if err := text.Line(f+".columns."+k, v, 256); err != nil {
				return err
			}
		}
	}

	// Retry.
	if s.Retry.Attempts == 0 {
		s.Retry.Attempts = DefaultRetryAttempts
	}
	if s.Retry.Attempts < 1 || s.Retry.Attempts > MaxRetryAttempts {
		return invalid("retry.attempts", fmt.Sprintf("%d: want 1-%d", s.Retry.Attempts, MaxRetryAttempts))
	}
	return nil
}

func (p *Param) validate(f string) error {
	if p.Kind == "" {
		if len(p.Categories) > 0 {
			p.Kind = string(bo.Categorical)
		} else {
			p.Kind = string(bo.Continuous)
		}
	}
	if err := text.Line(f+".unit", p.Unit, 64); err != nil {
		return err
	}
	switch bo.Kind(p.Kind) {
	case bo.Continuous, bo.Integer:
		if len(p.Categories) > 0 || len(p.Descriptors) > 0 {
			return invalid(f+".categories", fmt.Sprintf("only a categorical parameter has categories (%q is %s)", p.Name, p.Kind))
		}
		if p.Low == nil {
			return invalid(f+".low", fmt.Sprintf("missing: %s parameter %q needs low and high bounds", p.Kind, p.Name))
		}
		if p.High == nil {
			return invalid(f+".high", fmt.Sprintf("missing: %s parameter %q needs low and high bounds", p.Kind, p.Name))
		}
		lo, hi := *p.Low, *p.High
		if !finite(lo) {
			return invalid(f+".low", "must be a finite number")
		}
		if !finite(hi) {
			return invalid(f+".high", "must be a finite number")
		}
		if !(lo < hi) {
			return invalid(f+".high", fmt.Sprintf("inverted bounds: high (%s) must be greater than low (%s)", fmtF(hi), fmtF(lo)))
		}
		if p.Log && lo <= 0 {
			return invalid(f+".low", fmt.Sprintf("a log-scaled parameter needs low > 0 (got %s)", fmtF(lo)))
		}
		if bo.Kind(p.Kind) == bo.Integer {
			if lo != math.Trunc(lo) || math.Abs(lo) > 1<<53 {
				return invalid(f+".low", fmt.Sprintf("an integer parameter needs integral bounds (got %s)", fmtF(lo)))
			}
			if hi != math.Trunc(hi) || math.Abs(hi) > 1<<53 {
				return invalid(f+".high", fmt.Sprintf("an integer parameter needs integral bounds (got %s)", fmtF(hi)))
			}
			if hi-lo > MaxIntegerSpan {
				return invalid(f+".high", fmt.Sprintf("an integer parameter spans at most %d values (make a wider one continuous)", int(MaxIntegerSpan)))
			}
		}
	case bo.Categorical:
		if p.Low != nil || p.High != nil {
			return invalid(f+".low", fmt.Sprintf("a categorical parameter has categories, not bounds (%q)", p.Name))
		}
		if p.Log {
			return invalid(f+".log", "a categorical parameter cannot be log-scaled")
		}
		if len(p.Categories) == 0 {
			return invalid(f+".categories", fmt.Sprintf("missing: categorical parameter %q needs categories", p.Name))
		}
		if len(p.Categories) > MaxCategories {
			return invalid(f+".categories", fmt.Sprintf("%d categories; at most %d", len(p.Categories), MaxCategories))
		}
		seen := map[string]bool{}
		for j, c := range p.Categories {
			cf := fmt.Sprintf("%s.categories[%d]", f, j)
			if strings.TrimSpace(c) == "" {
				return invalid(cf, "empty category")
			}
			if c != strings.TrimSpace(c) {
				return invalid(cf, "category has leading or trailing spaces")
			}
			if err := text.Line(cf, c, 256); err != nil {
				return err
			}
			if seen[c] {
				return invalid(cf, fmt.Sprintf("category %q listed twice", clip(c)))
			}
			seen[c] = true
		}
		if len(p.Descriptors) > 0 {
			n := -1
			for _, k := range sortedKeys(p.Descriptors) {
				if !seen[k] {
					return invalid(f+".descriptors."+clip(k), fmt.Sprintf("%q is not a category of %q", clip(k), p.Name))
				}
			}
			for _, c := range p.Categories {
				d, ok := p.Descriptors[c]
				df := f + ".descriptors." + c
				if !ok {
					return invalid(df, fmt.Sprintf("missing: descriptors need a vector for every category (%q has none)", clip(c)))
				}
				if len(d) == 0 || len(d) > MaxDescriptorLen {
					return invalid(df, fmt.Sprintf("a descriptor vector has 1-%d numbers", MaxDescriptorLen))
				}
				if n >= 0 && len(d) != n {
					return invalid(df, fmt.Sprintf("descriptor vectors must have equal lengths (%d, not %d)", n, len(d)))
				}
				n = len(d)
				for _, v := range d {
					if !finite(v) {
						return invalid(df, "descriptors must be finite numbers")
					}
				}
			}
		}
	default:
		return invalid(f+".kind", fmt.Sprintf("%q: want continuous, integer or categorical", clip(p.Kind)))
	}
	return nil
}

func (c *LinearConstraint) validate(f string, params map[string]*Param) error {
	if c.Rel != "<=" && c.Rel != ">=" && c.Rel != "==" {
		return invalid(f+".rel", fmt.Sprintf("%q: want <=, >= or ==", clip(c.Rel)))
	}
	if !finite(c.RHS) {
		return invalid(f+".rhs", "must be a finite number")
	}
	if len(c.Coef) == 0 {
		return invalid(f+".coef", "missing: a constraint needs coefficients (parameter: number)")
	}
	// The range of Σ a·x over the parameters' bounds: a constraint that no
	// point within the bounds satisfies is a mistake worth naming now.
	lo, hi := 0.0, 0.0
	for _, name := range sortedKeys(c.Coef) {
		p, ok := params[name]
		if !ok {
			return invalid(f+".coef."+clip(name), fmt.Sprintf("unknown parameter %q%s", clip(name), didYouMeanParam(name, params)))
		}
		if bo.Kind(p.Kind) == bo.Categorical || p.Log {
			return invalid(f+".coef."+name, fmt.Sprintf("constraints may only use linear-scale continuous or integer parameters (%q is not)", name))
		}
		a := c.Coef[name]
		if !finite(a) {
			return invalid(f+".coef."+name, "coefficients must be finite numbers")
		}
		x0, x1 := a**p.Low, a**p.High
		lo += min(x0, x1)
		hi += max(x0, x1)
	}
	tol := 1e-7 * (1 + math.Abs(c.RHS) + math.Max(math.Abs(lo), math.Abs(hi)))
	never := false
	switch c.Rel {
	case "<=":
		never = lo > c.RHS+tol
	case ">=":
		never = hi < c.RHS-tol
	case "==":
		never = lo > c.RHS+tol || hi < c.RHS-tol
	}
	if never || !finite(lo) || !finite(hi) {
		return invalid(f, fmt.Sprintf("no point within the parameters' bounds satisfies this constraint (the sum ranges over [%s, %s])", fmtF(lo), fmtF(hi)))
	}
	return nil
}

func (s *Spec) validateExecutor(params map[string]*Param, quantities map[string]string) error {
	e := &s.Executor
	n := 0
	for _, set := range []bool{e.Instrument != "", e.Workcell != "", e.Job != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return invalid("executor", "missing: say what runs an experiment: instrument or workcell (with action), or job")
	case n > 1:
		return invalid("executor", "give exactly one of instrument, workcell and job")
	}
	if e.Job == nil {
		field, name := "executor.instrument", e.Instrument
		if e.Workcell != "" {
			field, name = "executor.workcell", e.Workcell
		}
		if err := text.Name(field, name); err != nil {
			return err
		}
		if e.Action == "" {
			return invalid("executor.action", "missing: which action of the instrument runs an experiment")
		}
		if err := checkQuantity("executor.action", e.Action); err != nil {
			return err
		}
	} else {
		if e.Action != "" {
			return invalid("executor.action", "a job executor has no action (the job template says what runs)")
		}
		if len(e.Job.Spec) == 0 {
			return invalid("executor.job.spec", "missing: a PSI/J job spec (executable, arguments…)")
		}
		if e.Job.Output == "" {
			return invalid("executor.job.output", "missing: the file the job writes its measured values to (JSON)")
		}
		if err := checkRelPath("executor.job.output", e.Job.Output); err != nil {
			return err
		}
		if err := checkTemplate("executor.job.spec", e.Job.Spec, params, 0); err != nil {
			return err
		}
		if err := s.checkJobSpec(); err != nil {
			return err
		}
	}
	if len(e.Params) > MaxExecutorMapping {
		return invalid("executor.params", "too many parameters")
	}
	for _, k := range sortedKeys(e.Params) {
		f := "executor.params." + clip(k)
		if err := checkQuantity(f, k); err != nil {
			return err
		}
		v := e.Params[k]
		if err := text.Line(f, v, 1024); err != nil {
			return err
		}
		if m := refRE.FindStringSubmatch(v); m != nil {
			if _, ok := params[m[1]]; !ok {
				return invalid(f, fmt.Sprintf("unknown parameter %q%s", clip(m[1]), didYouMeanParam(m[1], params)))
			}
		} else if strings.Contains(v, "${") {
			return invalid(f, `a mapping is "${param}" (a whole value) or a constant`)
		}
	}
	if len(e.Outputs) > MaxExecutorMapping {
		return invalid("executor.outputs", "too many outputs")
	}
	for _, k := range sortedKeys(e.Outputs) {
		f := "executor.outputs." + clip(k)
		if w := quantities[k]; w != "objective" && w != "outcome constraint" {
			return invalid(f, fmt.Sprintf("%q is not an objective or outcome constraint%s", clip(k), didYouMean(k, outcomeNames(quantities))))
		}
		if err := checkQuantity(f, e.Outputs[k]); err != nil {
			return err
		}
	}
	return nil
}

// checkTemplate checks that every "${name}" in a job template's strings
// names a campaign parameter.
func checkTemplate(field string, v any, params map[string]*Param, depth int) error {
	if depth > 32 {
		return invalid(field, "nested too deeply")
	}
	switch x := v.(type) {
	case string:
		for _, m := range varRE.FindAllStringSubmatch(x, -1) {
			if _, ok := params[m[1]]; !ok {
				return invalid(field, fmt.Sprintf("unknown parameter %q in ${…}%s", clip(m[1]), didYouMeanParam(m[1], params)))
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			f := field + "." + clip(k)
			if depth == 0 && k != "arguments" && k != "environment" && usesVar(x[k], 0) {
				return invalid(f, "only arguments and environment may use ${param}")
			}
			if err := checkTemplate(f, x[k], params, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range x {
			if err := checkTemplate(fmt.Sprintf("%s[%d]", field, i), e, params, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkJobSpec checks the job template as `genesis job submit` would
// check the job it becomes: every "${name}" replaced by a value of that
// parameter (its low bound or first category).
func (s *Spec) checkJobSpec() error {
	sample := map[string]string{}
	for _, p := range s.Params {
		if bo.Kind(p.Kind) == bo.Categorical {
			sample[p.Name] = p.Categories[0]
		} else {
			sample[p.Name] = fmtF(*p.Low)
		}
	}
	b, err := json.Marshal(substitute(s.Executor.Job.Spec, func(name string) string { return sample[name] }))
	if err != nil {
		return invalid("executor.job.spec", "not a job spec (it must be a mapping of strings, numbers, lists and mappings)")
	}
	if _, err := compute.ParseJobSpec(b); err != nil {
		f := "executor.job.spec"
		if ff := errors.FieldOf(err); ff != "" {
			f += "." + ff
		}
		return errors.E(errors.Invalid, errors.Field(f), errors.Msg("executor.job.spec: "+errors.SafeMessage(err)))
	}
	return nil
}

// substitute returns a copy of a job template with every "${name}" in its
// strings replaced by value(name).
func substitute(v any, value func(name string) string) any {
	switch x := v.(type) {
	case string:
		return varRE.ReplaceAllStringFunc(x, func(m string) string { return value(m[2 : len(m)-1]) })
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = substitute(e, value)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = substitute(e, value)
		}
		return out
	}
	return v
}

// usesVar reports whether a template value uses "${…}" anywhere.
func usesVar(v any, depth int) bool {
	switch x := v.(type) {
	case string:
		return strings.Contains(x, "${")
	case map[string]any:
		for k, e := range x {
			if strings.Contains(k, "${") || depth > 32 || usesVar(e, depth+1) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if depth > 32 || usesVar(e, depth+1) {
				return true
			}
		}
	}
	return false
}

func checkRelPath(field, p string) error {
	if err := text.Line(field, p, 1024); err != nil {
		return err
	}
	if p == "" || path.IsAbs(p) || strings.HasPrefix(p, `\`) || strings.Contains(p, `\`) {
		return invalid(field, fmt.Sprintf("%q: want a relative path (with /)", clip(p)))
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." {
			return invalid(field, fmt.Sprintf("%q: a relative path may not use ..", clip(p)))
		}
	}
	if c := path.Clean(p); c == "." {
		return invalid(field, fmt.Sprintf("%q: want a file", clip(p)))
	}
	return nil
}

// Ref returns the prior's dataset name and version (0: the latest).
func (p Prior) Ref() (name string, version int64, err error) {
	name, v, ok := strings.Cut(p.Dataset, "@")
	if name == "" {
		return "", 0, fmt.Errorf("missing: want a dataset NAME or NAME@VERSION")
	}
	if !genesis.ValidName(name) {
		return "", 0, fmt.Errorf("%q: want NAME or NAME@VERSION (a dataset name: lower-case letters, digits, '-', '_', '.')", clip(p.Dataset))
	}
	if ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 || v[0] < '0' || v[0] > '9' {
			return "", 0, fmt.Errorf("%q: the version after @ is a positive number", clip(p.Dataset))
		}
		version = n
	}
	return name, version, nil
}

func outcomeNames(q map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range q {
		if v != "parameter" {
			out[k] = v
		}
	}
	return out
}

func didYouMean(s string, names map[string]string) string {
	if h := text.Suggest(s, sortedKeys(names)); h != "" {
		return "; did you mean " + strconv.Quote(h) + "?"
	}
	return ""
}

func didYouMeanParam(s string, params map[string]*Param) string {
	if h := text.Suggest(s, sortedKeys(params)); h != "" {
		return "; did you mean " + strconv.Quote(h) + "?"
	}
	return ""
}
