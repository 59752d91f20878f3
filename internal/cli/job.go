package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/sched"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
)

func jobCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "job", Short: "Submit and follow jobs across the federation's sites"}

	var file, label, duration, account string
	var inputs, outputs []string
	var exec bool
	var asJSON bool
	submit := &cobra.Command{
		Use:   "submit (-f job.yaml | [--input NAME@V] [--output PATH=DATASET] --exec CMD [ARG…])",
		Short: "Submit a PSI/J job; its label is the join of its inputs' labels and --label",
		RunE: func(cmd *cobra.Command, args []string) error {
			var body []byte
			switch {
			case file != "" && exec:
				return errors.E(errors.Invalid, errors.Msg("-f and --exec exclude each other"))
			case file != "":
				b, err := os.ReadFile(file)
				if err != nil {
					return errors.E(errors.Invalid, errors.Msg(err.Error()))
				}
				body = b
			case exec && len(args) > 0:
				spec := compute.JobSpec{Executable: args[0], Arguments: args[1:], Label: label, Outputs: map[string]string{}}
				for _, in := range splitList(inputs) {
					spec.Inputs = append(spec.Inputs, compute.AssetRef(in))
				}
				for _, o := range outputs {
					path, ds, ok := strings.Cut(o, "=")
					if !ok {
						return errors.E(errors.Invalid, errors.Msg("--output takes PATH=DATASET"))
					}
					spec.Outputs[path] = ds
				}
				d, err := time.ParseDuration(duration)
				if err != nil || d <= 0 {
					return errors.E(errors.Invalid, errors.Msg("--duration must be positive, e.g. 10m"))
				}
				spec.Attributes.Duration = compute.Duration(d)
				spec.Attributes.Account = account
				body, _ = json.Marshal(spec)
			default:
				return errors.E(errors.Invalid, errors.Msg("give -f job.yaml, or --exec CMD [ARG…]"))
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			_, _, resp, err := c.RawPost(cmd.Context(), "/api/v1/jobs", "application/yaml", body)
			if err != nil {
				return err
			}
			var j jobs.Job
			if err := json.Unmarshal(resp, &j); err != nil {
				return errors.E(errors.Internal, errors.Msg("unexpected response from the server"))
			}
			if asJSON {
				return env.output(true, j, nil)
			}
			fmt.Fprintf(env.Stdout, "Submitted %s, label %s, %s.\n", j.ID, j.Label, j.State)
			for _, w := range j.Warnings {
				fmt.Fprintf(env.Stderr, "warning: %s\n(genesis job explain %s shows every site's verdict)\n", w, j.ID)
			}
			return nil
		},
	}
	f := submit.Flags()
	f.SetInterspersed(false) // everything after the command is the command's
	f.StringVarP(&file, "file", "f", "", "job spec file (YAML or JSON, PSI/J fields)")
	f.BoolVar(&exec, "exec", false, "run the command given as arguments")
	f.StringSliceVar(&inputs, "input", nil, "input version NAME@VERSION, staged read-only under inputs/NAME (repeatable)")
	f.StringArrayVar(&outputs, "output", nil, "PATH=DATASET: after success, PATH becomes a new version of DATASET (repeatable)")
	f.StringVar(&label, "label", "", "label floor")
	f.StringVar(&duration, "duration", "10m", "wall-time limit")
	f.StringVar(&account, "project", "", "project to charge (PSI/J attributes.account); runs only within its allocations")
	f.BoolVar(&asJSON, "json", false, "print JSON")

	get := func(cmd *cobra.Command, id string) (*jobs.Job, error) {
		c, err := env.client()
		if err != nil {
			return nil, err
		}
		var j jobs.Job
		return &j, c.Do(cmd.Context(), http.MethodGet, "/api/v1/jobs/"+url.PathEscape(id), nil, &j)
	}
	var (
		listJSON, mine bool
		state, cursor  string
		limit          int
	)
	list := &cobra.Command{
		Use:   "list",
		Short: "List the jobs you may see, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if mine {
				q.Set("owner", "me")
			}
			if state != "" {
				q.Set("state", state)
			}
			if limit != 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var l httpapi.List[jobs.Job]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/jobs?"+q.Encode(), nil, &l); err != nil {
				return err
			}
			if l.Next != "" {
				defer fmt.Fprintf(env.Stderr, "more: genesis job list --cursor %s (with the same filters)\n", l.Next)
			}
			return env.output(listJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tSTATE\tSITE\tLABEL\tNAME\tSUBMITTED")
				for _, j := range l.Items {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", j.ID, j.State, dash(j.Site), j.Label, dash(j.Name), j.CreatedAt.Format(time.RFC3339))
				}
			})
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	list.Flags().BoolVar(&mine, "mine", false, "only your own jobs")
	list.Flags().StringVar(&state, "state", "", "only jobs in this state: pending, running, completed, failed or canceled")
	list.Flags().IntVar(&limit, "limit", 0, "jobs per page (default 100, at most 1000)")
	list.Flags().StringVar(&cursor, "cursor", "", "the next page, from the cursor a previous list printed")
	var showJSON bool
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			j, err := get(cmd, args[0])
			if err != nil {
				return err
			}
			return env.output(showJSON, j, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "id:\t%s\nstate:\t%s\nsite:\t%s\nlabel:\t%s\ninputs:\t%s\n", j.ID, strings.TrimSpace(j.State+" "+j.Reason), dash(j.Site), j.Label, dash(strings.Join(j.Inputs, ", ")))
				if ended(j.State) { // a job that has not ended has no exit code
					fmt.Fprintf(w, "exit code:\t%d\n", j.ExitCode)
				}
				if j.Detail != "" {
					fmt.Fprintf(w, "detail:\t%s\n", j.Detail)
				}
				for _, o := range j.Outputs {
					fmt.Fprintf(w, "output:\t%s@%d\n", o.Asset, o.Version)
				}
				switch j.State {
				case jobs.Pending:
					fmt.Fprintf(w, "see:\tgenesis job explain %s (why it waits)\n", j.ID)
				case jobs.Failed:
					fmt.Fprintf(w, "see:\tgenesis job logs --stderr %s (its standard error)\n", j.ID)
				}
			})
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	var follow, stderr bool
	logs := &cobra.Command{
		Use:   "logs ID [-f]",
		Short: "Print a job's output (-f: follow until it ends); a failed job's standard error follows, on standard error",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			stream := "stdout"
			if stderr {
				stream = "stderr"
			}
			read := func(stream string, off int64) ([]byte, error) {
				b, _, err := c.Get(cmd.Context(), "/api/v1/jobs/"+url.PathEscape(args[0])+"/logs?stream="+stream+"&offset="+strconv.FormatInt(off, 10))
				return b, err
			}
			var off int64
			var said string // the last state announced on standard error
			// Each poll is two reads of the job, and reads of a job above
			// OPEN are on the audit record: back off while nothing new
			// comes (0.5 s, doubling to 5 s; back to 0.5 s on output).
			const minPoll, maxPoll = 500 * time.Millisecond, 5 * time.Second
			poll := minPoll
			for {
				b, err := read(stream, off)
				if err != nil {
					return err
				}
				env.Stdout.Write(b)
				off += int64(len(b))
				j, err := get(cmd, args[0])
				if err != nil {
					return err
				}
				if ended(j.State) && len(b) == 0 || !follow {
					if !ended(j.State) && off == 0 {
						fmt.Fprintf(env.Stderr, "%s: %s\n", j.ID, waiting(j))
					}
					// A failed job's error is usually on its standard
					// error: show it rather than nothing.
					if j.State == jobs.Failed && !stderr {
						e, err := read("stderr", 0)
						if err != nil {
							return err
						}
						fmt.Fprintf(env.Stderr, "%s failed (%s, exit code %d)%s; its standard error:\n", j.ID, dash(j.Reason), j.ExitCode, suffix(": ", j.Detail))
						env.Stderr.Write(e)
					}
					return nil
				}
				if w := waiting(j); !ended(j.State) && w != said {
					fmt.Fprintf(env.Stderr, "%s: %s\n", j.ID, w)
					said = w
				}
				if len(b) > 0 {
					poll = minPoll
				} else {
					poll = min(2*poll, maxPoll)
				}
				select {
				case <-cmd.Context().Done():
					return nil
				case <-time.After(poll):
				}
			}
		},
	}
	logs.Flags().BoolVarP(&follow, "follow", "f", false, "follow until the job ends")
	logs.Flags().BoolVar(&stderr, "stderr", false, "standard error instead of standard output")
	cancel := &cobra.Command{
		Use:   "cancel ID",
		Short: "Cancel a job",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var j jobs.Job
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/jobs/"+url.PathEscape(args[0])+"/cancel", nil, &j); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is %s.\n", j.ID, j.State)
			return nil
		},
	}
	var explainJSON bool
	explain := &cobra.Command{
		Use:   "explain ID",
		Short: "For every site, why the job was (or would be) placed there or not",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var res struct {
				Job   string          `json:"job"`
				State string          `json:"state"`
				Label string          `json:"label"`
				Sites []sched.Verdict `json:"sites"`
			}
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/jobs/"+url.PathEscape(args[0])+"/explain", nil, &res); err != nil {
				return err
			}
			return env.output(explainJSON, res, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "job %s (%s), label %s\n", res.Job, res.State, res.Label)
				for _, v := range res.Sites {
					switch {
					case v.Chosen:
						fmt.Fprintf(w, "  CHOSEN\t%s\tscore %.1f (start %.0fs, transfer %.1fs, power %.0f%%)\n", v.Site, v.Score, v.StartEstimateS, v.TransferS, 100*v.PowerShare)
					case v.Feasible:
						fmt.Fprintf(w, "  feasible\t%s\tscore %.1f\n", v.Site, v.Score)
					default:
						fmt.Fprintf(w, "  rejected\t%s\t%s\n", v.Site, strings.Join(v.Reasons, "; "))
					}
				}
			})
		},
	}
	explain.Flags().BoolVar(&explainJSON, "json", false, "print JSON")
	c.AddCommand(submit, list, show, logs, cancel, explain)
	return c
}

// ended reports whether a job in state st has ended.
func ended(st string) bool { return st != jobs.Pending && st != jobs.Running }

// waiting says what a job that has not ended is waiting for.
func waiting(j *jobs.Job) string {
	switch {
	case j.State == jobs.Running:
		return "running on " + j.Site
	case j.Site != "":
		return "pending: placed on " + j.Site + ", being started there"
	case j.Reason != "":
		return "pending: " + j.Reason + "; waiting (genesis job explain " + j.ID + " says why)"
	default:
		return "pending: waiting to be placed"
	}
}

func suffix(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}
