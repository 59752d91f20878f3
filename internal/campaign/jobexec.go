package campaign

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/text"
)

// MaxJobOutput bounds the output file a campaign's job writes.
const MaxJobOutput = 1 << 20

// JobExecutor runs experiments as compute jobs made from a campaign's
// job template (Executor.Job): "${param}" in the template's arguments and
// environment is replaced by the experiment's value of param, the job is
// submitted as the campaign's owner with the campaign's label as its
// floor (so that it runs only on a site accredited for it), and once it
// has completed, the JSON object of numbers it wrote to Output gives the
// experiment's values.
//
// A job is named by the experiment's key: Start finds a job of that name
// before it submits one, so a Start re-sent after a crash does not submit
// twice.
type JobExecutor struct {
	jobs *jobs.Service
	ids  *identity.Service
}

var _ ExperimentExecutor = (*JobExecutor)(nil)

// NewJobExecutor returns the compute-job executor over the job service.
func NewJobExecutor(js *jobs.Service, ids *identity.Service) *JobExecutor {
	return &JobExecutor{jobs: js, ids: ids}
}

// owner is the campaign's owner, as whom its jobs run.
func (x *JobExecutor) owner(ctx context.Context, c *Campaign) (*genesis.Principal, error) {
	return x.ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, c.Owner)
}

// Start submits e's job unless a job named key exists.
func (x *JobExecutor) Start(ctx context.Context, c *Campaign, e *Experiment, key string) error {
	const op errors.Op = "campaign.JobExecutor.Start"
	p, err := x.owner(ctx, c)
	if err != nil {
		return errors.E(op, err)
	}
	if _, err := x.jobs.ByName(ctx, p, key); err == nil {
		return nil
	} else if !errors.Is(errors.NotExist, err) {
		return errors.E(op, err)
	}
	spec, err := JobSpec(&c.Spec, e.Params)
	if err != nil {
		return errors.E(op, err)
	}
	spec.Name = key
	spec.Label = c.Label
	if _, err := x.jobs.Submit(ctx, p, spec); err != nil {
		return errors.E(op, err)
	}
	return nil
}

// Poll reports on e's job (Result.ID is the job's ID): Pending or Running while it is, Succeeded
// with the values of its output file once completed, Failed (with the
// job's reason, or what is wrong with its output) or Cancelled. A job
// never started is errors.NotExist.
func (x *JobExecutor) Poll(ctx context.Context, c *Campaign, e *Experiment, key string) (*lab.Result, error) {
	const op errors.Op = "campaign.JobExecutor.Poll"
	p, err := x.owner(ctx, c)
	if err != nil {
		return nil, errors.E(op, err)
	}
	j, err := x.jobs.ByName(ctx, p, key)
	if err != nil {
		return nil, errors.E(op, err)
	}
	// The result's ID is the job's: the runner records it on the
	// experiment.
	r := &lab.Result{ID: j.ID, Action: "job", StartedAt: j.StartedAt, EndedAt: j.FinishedAt}
	switch j.State {
	case jobs.Pending:
		r.State = lab.Pending
	case jobs.Running:
		r.State = lab.Running
	case jobs.Canceled:
		r.State, r.Reason = lab.Cancelled, jobReason(j)
	case jobs.Failed:
		r.State, r.Reason = lab.Failed, jobReason(j)
	case jobs.Completed:
		out := c.Spec.Executor.Job.Output
		b, err := x.jobs.WorkFile(ctx, p, j.ID, out, MaxJobOutput)
		if errors.Is(errors.Transient, err) || errors.Is(errors.Internal, err) {
			return nil, errors.E(op, err)
		}
		if err != nil {
			r.State, r.Reason = lab.Failed, "job "+j.ID+": "+errors.SafeMessage(err)
			return r, nil
		}
		vals, err := ParseJobOutput(b, c.Spec.Outputs())
		if err != nil {
			r.State, r.Reason = lab.Failed, "job "+j.ID+": "+out+": "+errors.SafeMessage(err)
			return r, nil
		}
		r.State, r.Values = lab.Succeeded, vals
	default:
		return nil, errors.E(op, errors.Internal, errors.Msg("job "+j.ID+" is in an unknown state"))
	}
	return r, nil
}

func jobReason(j *jobs.Job) string {
	why := "job " + j.ID + " " + j.State
	if j.Reason != "" {
		why += ": " + j.Reason
	}
	if j.Detail != "" {
		why += " (" + j.Detail + ")"
	}
	s, _ := text.Sanitize(why, false)
	if len(s) > 1024 {
		s = s[:1024]
	}
	return strings.ToValidUTF8(s, "")
}

// JobSpec makes the job spec of an experiment with params from s's job
// template: every "${name}" in an argument or an environment value is
// replaced by the text of params[name] — a number written so that it
// reads back exactly (an integer parameter without a fraction), or a
// category's name. The values become the job's argument vector and
// environment as they are: no shell reads them. "${…}" anywhere else in
// the template, a parameter missing from params or a value of another
// type is errors.Invalid.
func JobSpec(s *Spec, params map[string]any) (*compute.JobSpec, error) {
	const op errors.Op = "campaign.JobSpec"
	if s.Executor.Job == nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("executor.job"), errors.Msg("the campaign's executor is not a job"))
	}
	kinds := make(map[string]string, len(s.Params))
	for _, p := range s.Params {
		kinds[p.Name] = p.Kind
	}
	value := func(name string) (string, error) {
		v, ok := params[name]
		if !ok {
			return "", errors.E(op, errors.Invalid, errors.Field("executor.job.spec"), errors.Msg("no value for parameter "+strconv.Quote(name)))
		}
		switch x := v.(type) {
		case string:
			if kinds[name] != "categorical" {
				return "", errors.E(op, errors.Invalid, errors.Msg("parameter "+strconv.Quote(name)+" is a number, not "+strconv.Quote(x)))
			}
			return x, nil
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return "", errors.E(op, errors.Invalid, errors.Msg("parameter "+strconv.Quote(name)+" is not a finite number"))
			}
			if kinds[name] == "integer" && x == math.Trunc(x) && math.Abs(x) < 1<<53 {
				return strconv.FormatInt(int64(x), 10), nil
			}
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case int:
			return strconv.Itoa(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		}
		return "", errors.E(op, errors.Invalid, errors.Msg("parameter "+strconv.Quote(name)+" has a value of an unknown type"))
	}
	subst := func(field, in string) (string, error) {
		var err error
		out := varRE.ReplaceAllStringFunc(in, func(m string) string {
			v, e := value(m[2 : len(m)-1])
			if e != nil && err == nil {
				err = errors.E(op, errors.Field(field), e)
			}
			return v
		})
		return out, err
	}
	tmpl := make(map[string]any, len(s.Executor.Job.Spec))
	for k, v := range s.Executor.Job.Spec {
		switch k {
		case "arguments":
			args, ok := v.([]any)
			if !ok {
				return nil, errors.E(op, errors.Invalid, errors.Field("executor.job.spec.arguments"), errors.Msg("arguments must be a list of strings"))
			}
			out := make([]any, len(args))
			for i, a := range args {
				str, ok := a.(string)
				if !ok {
					out[i] = a // the job spec's own parser refuses it
					continue
				}
				var err error
				if out[i], err = subst("executor.job.spec.arguments", str); err != nil {
					return nil, err
				}
			}
			tmpl[k] = out
		case "environment":
			env, ok := v.(map[string]any)
			if !ok {
				return nil, errors.E(op, errors.Invalid, errors.Field("executor.job.spec.environment"), errors.Msg("environment must be a map of strings"))
			}
			out := make(map[string]any, len(env))
			for name, a := range env {
				str, ok := a.(string)
				if !ok {
					out[name] = a
					continue
				}
				var err error
				if out[name], err = subst("executor.job.spec.environment", str); err != nil {
					return nil, err
				}
			}
			tmpl[k] = out
		default:
			if hasVar(v, 0) {
				return nil, errors.E(op, errors.Invalid, errors.Field("executor.job.spec."+k), errors.Msg("only arguments and environment may use ${param}"))
			}
			tmpl[k] = v
		}
	}
	b, err := json.Marshal(tmpl)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("executor.job.spec"), errors.Msg("the job template is not a JSON object"))
	}
	spec, err := compute.ParseJobSpec(b)
	if err != nil {
		return nil, errors.E(op, errors.Field("executor.job.spec"), err)
	}
	return spec, nil
}

func hasVar(v any, depth int) bool {
	if depth > 32 {
		return true
	}
	switch x := v.(type) {
	case string:
		return varRE.MatchString(x)
	case map[string]any:
		for k, y := range x {
			if varRE.MatchString(k) || hasVar(y, depth+1) {
				return true
			}
		}
	case []any:
		for _, y := range x {
			if hasVar(y, depth+1) {
				return true
			}
		}
	}
	return false
}

// ParseJobOutput reads a job's output file: one JSON object whose values
// are finite numbers (strictly: no trailing data, no duplicate keys, at
// most MaxJobOutput bytes), which must give every name in want. Extra
// keys are kept. Its errors are errors.Invalid with a message fit to show.
func ParseJobOutput(b []byte, want []string) (map[string]float64, error) {
	const op errors.Op = "campaign.ParseJobOutput"
	bad := func(msg string) error { return errors.E(op, errors.Invalid, errors.Msg(msg)) }
	if len(b) > MaxJobOutput {
		return nil, errors.E(op, errors.TooLarge, errors.Msg("the output is larger than "+strconv.Itoa(MaxJobOutput)+" bytes"))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, bad("the output is not a JSON object")
	}
	vals := map[string]float64{}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, bad("the output is not valid JSON")
		}
		k, _ := kt.(string)
		if _, dup := vals[k]; dup {
			return nil, bad("the output gives " + strconv.Quote(clipText(k)) + " twice")
		}
		vt, err := dec.Token()
		if err != nil {
			return nil, bad("the output is not valid JSON")
		}
		n, ok := vt.(json.Number)
		if !ok {
			return nil, bad("the output's " + strconv.Quote(clipText(k)) + " is not a number")
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, bad("the output's " + strconv.Quote(clipText(k)) + " is not a finite number")
		}
		vals[k] = f
	}
	if _, err := dec.Token(); err != nil {
		return nil, bad("the output is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("unexpected data after the output's JSON object")
	}
	for _, w := range want {
		if _, ok := vals[w]; !ok {
			return nil, bad("the output gives no " + strconv.Quote(w))
		}
	}
	return vals, nil
}

func clipText(s string) string {
	s, _ = text.Sanitize(s, false)
	if len(s) > 64 {
		s = strings.ToValidUTF8(s[:64], "") + "…"
	}
	return s
}
