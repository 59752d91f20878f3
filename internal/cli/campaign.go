package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/text"
	"github.com/spf13/cobra"
)

func init() {
	prev := extraCommands
	extraCommands = func(env *Env) []*cobra.Command { return append(prev(env), campaignCmd(env)) }
}

// maxCampaignFile bounds a campaign file the CLI reads.
const maxCampaignFile = httpapi.MaxCampaignFile

func readCampaignFile(env *Env, path string) ([]byte, error) {
	if path == "" {
		return nil, &usageError{msg: "give the campaign file with -f FILE"}
	}
	var b []byte
	var err error
	if path == "-" {
		b, err = readAtMost(env.Stdin, maxCampaignFile)
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			defer f.Close()
			b, err = readAtMost(f, maxCampaignFile)
		}
	}
	if err != nil {
		return nil, errors.E(errors.Invalid, errors.Msg(err.Error()))
	}
	return b, nil
}

func readAtMost(r io.Reader, n int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, n+1))
	if err == nil && int64(len(b)) > n {
		err = fmt.Errorf("the campaign file exceeds %s", sizeOf(n))
	}
	return b, err
}

func sizeOf(n int64) string {
	if n%(1<<20) == 0 {
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

func campaignPath(name string, rest ...string) string {
	p := "/api/v1/campaigns/" + url.PathEscape(name)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func campaignCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "campaign", Short: "Closed-loop campaigns: an optimizer proposes experiments, instruments or jobs run them"}

	getCampaign := func(cmd *cobra.Command, cl *client.Client, name string) (*campaign.Campaign, error) {
		var cp campaign.Campaign
		return &cp, cl.Do(cmd.Context(), http.MethodGet, campaignPath(name), nil, &cp)
	}

	var file string
	var startNow, createJSON bool
	create := &cobra.Command{
		Use:   "create -f FILE [--start]",
		Short: "Create a campaign from a campaign file (YAML or JSON; - reads standard input)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readCampaignFile(env, file)
			if err != nil {
				return err
			}
			cl, err := env.client()
			if err != nil {
				return err
			}
			_, _, resp, err := cl.RawPost(cmd.Context(), "/api/v1/campaigns", "application/yaml", body)
			if err != nil {
				return err
			}
			var cp campaign.Campaign
			if err := json.Unmarshal(resp, &cp); err != nil {
				return errors.E(errors.Internal, errors.Msg("unexpected response from the server"))
			}
			if startNow {
				if err := cl.Do(cmd.Context(), http.MethodPost, campaignPath(cp.ID, "start"), nil, &cp); err != nil {
					fmt.Fprintf(env.Stderr, "Created campaign %s (%s), label %s, a draft; it did not start:\n", cp.Name, cp.ID, cp.Label)
					return err
				}
			}
			if createJSON {
				return env.output(true, cp, nil)
			}
			fmt.Fprintf(env.Stdout, "Created campaign %s, label %s, %s.\n", cp.Name, cp.Label, cp.State)
			if cp.State == campaign.Draft {
				fmt.Fprintf(env.Stdout, "Start it with: genesis campaign start %s\n", cp.Name)
			} else {
				fmt.Fprintf(env.Stdout, "Follow it with: genesis campaign watch %s\n", cp.Name)
			}
			return nil
		},
	}
	create.Flags().StringVarP(&file, "file", "f", "", "campaign file (YAML or JSON)")
	create.Flags().BoolVar(&startNow, "start", false, "start the campaign once created")
	create.Flags().BoolVar(&createJSON, "json", false, "print JSON")

	var vfile string
	var validateJSON bool
	validate := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check a campaign file here, without a server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readCampaignFile(env, vfile)
			if err != nil {
				return err
			}
			spec, err := campaign.Parse(body)
			if err != nil {
				return err
			}
			if validateJSON {
				return env.output(true, spec, nil)
			}
			fmt.Fprintf(env.Stdout, "%s: valid — %s over %s; %s.\n", spec.Name, objectivesText(spec), count(len(spec.Params), "parameter"), "budget "+budgetText(spec))
			return nil
		},
	}
	validate.Flags().StringVarP(&vfile, "file", "f", "", "campaign file (YAML or JSON)")
	validate.Flags().BoolVar(&validateJSON, "json", false, "print the campaign as read, with its defaults filled in, as JSON")

	action := func(verb, short string, reason bool) *cobra.Command {
		var why string
		var asJSON bool
		a := &cobra.Command{
			Use:   verb + " NAME",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				cl, err := env.client()
				if err != nil {
					return err
				}
				var body any
				if reason && why != "" {
					body = httpapi.CampaignActionRequest{Reason: why}
				}
				var cp campaign.Campaign
				if err := cl.Do(cmd.Context(), http.MethodPost, campaignPath(args[0], verb), body, &cp); err != nil {
					return err
				}
				if asJSON {
					return env.output(true, cp, nil)
				}
				fmt.Fprintf(env.Stdout, "%s is %s.\n", cp.Name, stateText(&cp))
				return nil
			},
		}
		if reason {
			a.Flags().StringVar(&why, "reason", "", "why (shown on the campaign)")
		}
		a.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		return a
	}

	var plotPath string
	var statusJSON bool
	status := &cobra.Command{
		Use:   "status NAME [--plot out.png|out.svg]",
		Short: "Show a campaign: state, counts, best so far; --plot writes its convergence plot",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var format string
			if plotPath != "" {
				switch strings.ToLower(filepath.Ext(plotPath)) {
				case ".png":
					format = "png"
				case ".svg":
					format = "svg"
				default:
					return &usageError{msg: "--plot takes a file name ending in .png or .svg"}
				}
			}
			cl, err := env.client()
			if err != nil {
				return err
			}
			cp, err := getCampaign(cmd, cl, args[0])
			if err != nil {
				return err
			}
			if format != "" {
				b, _, err := cl.Get(cmd.Context(), campaignPath(args[0], "plot")+"?format="+format)
				if err != nil {
					return err
				}
				if err := os.WriteFile(plotPath, b, 0o644); err != nil {
					return errors.E(errors.Invalid, errors.Msg(err.Error()))
				}
				if !statusJSON {
					defer fmt.Fprintf(env.Stderr, "wrote %s\n", plotPath)
				}
			}
			return env.output(statusJSON, cp, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "name:\t%s\n", cp.Name)
				if cp.Title != "" {
					fmt.Fprintf(w, "title:\t%s\n", safe(cp.Title))
				}
				fmt.Fprintf(w, "state:\t%s\n", stateText(cp))
				fmt.Fprintf(w, "label:\t%s\n", cp.Label)
				fmt.Fprintf(w, "owner:\t%s\n", cp.Owner)
				if cp.Project != "" {
					fmt.Fprintf(w, "project:\t%s\n", cp.Project)
				}
				fmt.Fprintf(w, "objectives:\t%s\n", objectivesText(&cp.Spec))
				fmt.Fprintf(w, "budget:\t%s\n", budgetText(&cp.Spec))
				fmt.Fprintf(w, "experiments:\t%s\n", countsText(cp.Counts))
				fmt.Fprintf(w, "best:\t%s\n", bestText(cp))
				if cp.Dataset != "" {
					fmt.Fprintf(w, "dataset:\t%s\n", cp.Dataset)
				}
				if cp.Model != "" {
					fmt.Fprintf(w, "model:\t%s\n", cp.Model)
				}
				fmt.Fprintf(w, "created:\t%s\n", cp.CreatedAt.Format(time.RFC3339))
				if cp.StartedAt != nil {
					fmt.Fprintf(w, "started:\t%s\n", cp.StartedAt.Format(time.RFC3339))
				}
				if cp.EndedAt != nil {
					fmt.Fprintf(w, "ended:\t%s\n", cp.EndedAt.Format(time.RFC3339))
				}
			})
		},
	}
	status.Flags().StringVar(&plotPath, "plot", "", "write the convergence plot to this file (.png or .svg)")
	status.Flags().BoolVar(&statusJSON, "json", false, "print JSON")

	var listJSON bool
	var listState, listCursor string
	var listLimit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List the campaigns you may see, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if listState != "" {
				q.Set("state", listState)
			}
			if listLimit != 0 {
				q.Set("limit", strconv.Itoa(listLimit))
			}
			if listCursor != "" {
				q.Set("cursor", listCursor)
			}
			var l httpapi.List[campaign.Campaign]
			if err := cl.Do(cmd.Context(), http.MethodGet, "/api/v1/campaigns?"+q.Encode(), nil, &l); err != nil {
				return err
			}
			if l.Next != "" {
				defer fmt.Fprintf(env.Stderr, "more: genesis campaign list --cursor %s (with the same filters)\n", l.Next)
			}
			return env.output(listJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "NAME\tSTATE\tOBSERVED\tIN FLIGHT\tBEST\tLABEL\tCREATED")
				for i := range l.Items {
					cp := &l.Items[i]
					fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\t%s\t%s\n", cp.Name, cp.State, cp.Counts.Observed, inFlight(cp.Counts),
						bestValue(cp), cp.Label, cp.CreatedAt.Format(time.RFC3339))
				}
			})
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")
	list.Flags().StringVar(&listState, "state", "", "only campaigns in this state: draft, running, paused, stopped, completed or failed")
	list.Flags().IntVar(&listLimit, "limit", 0, "campaigns per page (default 100, at most 1000)")
	list.Flags().StringVar(&listCursor, "cursor", "", "the next page, from the cursor a previous list printed")

	var expJSON bool
	var expState, expCursor string
	var expLimit int
	experiments := &cobra.Command{
		Use:   "experiments NAME",
		Short: "List a campaign's experiments in the order they were proposed",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if expState != "" {
				q.Set("state", expState)
			}
			if expLimit != 0 {
				q.Set("limit", strconv.Itoa(expLimit))
			}
			if expCursor != "" {
				q.Set("cursor", expCursor)
			}
			var l httpapi.List[campaign.Experiment]
			if err := cl.Do(cmd.Context(), http.MethodGet, campaignPath(args[0], "experiments")+"?"+q.Encode(), nil, &l); err != nil {
				return err
			}
			if l.Next != "" {
				defer fmt.Fprintf(env.Stderr, "more: genesis campaign experiments %s --cursor %s (with the same filters)\n", args[0], l.Next)
			}
			return env.output(expJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "SEQ\tSTATE\tPARAMS\tVALUES\tON\tREASON")
				for _, e := range l.Items {
					fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.State, paramsText(e.Params), valuesText(e.Values), dash(executorOf(&e)), dash(safe(e.Reason)))
				}
			})
		},
	}
	experiments.Flags().BoolVar(&expJSON, "json", false, "print JSON")
	experiments.Flags().StringVar(&expState, "state", "", "only experiments in this state: proposed, dispatched, running, observed, failed or cancelled")
	experiments.Flags().IntVar(&expLimit, "limit", 0, "experiments per page (default 100, at most 1000)")
	experiments.Flags().StringVar(&expCursor, "cursor", "", "the next page, from the cursor a previous list printed")

	var interval time.Duration
	var suggestN int
	watch := &cobra.Command{
		Use:   "watch NAME",
		Short: "Follow a campaign live until it ends (Ctrl-C to stop watching; the campaign goes on)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if interval <= 0 {
				return &usageError{msg: "--interval must be positive"}
			}
			if suggestN < 0 || suggestN > httpapi.MaxSuggestions {
				return &usageError{msg: "--suggestions must be 0.." + strconv.Itoa(httpapi.MaxSuggestions)}
			}
			cl, err := env.client()
			if err != nil {
				return err
			}
			return watchCampaign(cmd, env, cl, args[0], interval, suggestN)
		},
	}
	watch.Flags().DurationVar(&interval, "interval", time.Second, "how often to look while things change (backs off to 10× while nothing does)")
	watch.Flags().IntVar(&suggestN, "suggestions", 3, "how many of the model's next suggestions to show")

	c.AddCommand(create, validate,
		action("start", "Start a draft campaign", false),
		action("pause", "Pause a campaign: nothing new is dispatched; experiments in flight finish", true),
		action("resume", "Resume a paused campaign", false),
		action("stop", "Stop a campaign for good", true),
		status, list, experiments, watch)
	return c
}

// safe is text from the server (an instrument's reason, a title) made fit
// for a terminal: control and escape characters replaced.
func safe(s string) string {
	s, _ = text.Sanitize(s, false)
	return s
}

func stateText(c *campaign.Campaign) string {
	switch {
	case c.Reason != "":
		return c.State + " (" + safe(c.Reason) + ")"
	case c.Waiting != "":
		return c.State + " (waiting: " + safe(c.Waiting) + ")"
	}
	return c.State
}

func objectivesText(s *campaign.Spec) string {
	var parts []string
	for _, o := range s.Objectives {
		p := o.Goal + "imise " + o.Name
		if o.Target != nil {
			rel := "≥"
			if o.Goal == "min" {
				rel = "≤"
			}
			p += " (target " + rel + " " + num(*o.Target) + ")"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func budgetText(s *campaign.Spec) string {
	var parts []string
	if s.Budget.Experiments > 0 {
		parts = append(parts, count(s.Budget.Experiments, "experiment"))
	}
	if s.Budget.WallTime.Duration > 0 {
		parts = append(parts, s.Budget.WallTime.Duration.String())
	}
	if len(parts) == 0 {
		return "none"
	}
	b := strings.Join(parts, " or ")
	if s.Batch > 1 {
		b += ", batches of " + strconv.Itoa(s.Batch)
	}
	return b
}

func countsText(n campaign.Counts) string {
	return fmt.Sprintf("%d observed, %d failed, %d in flight, %d proposed, %d cancelled",
		n.Observed, n.Failed, inFlight(n), n.Proposed, n.Cancelled)
}

func inFlight(n campaign.Counts) int { return n.Dispatched + n.Running }

// firstObjective is the name and output of c's first objective.
func firstObjective(s *campaign.Spec) (name, output string) {
	if len(s.Objectives) == 0 {
		return "", ""
	}
	name = s.Objectives[0].Name
	output = name
	if m := s.Executor.Outputs[name]; m != "" {
		output = m
	}
	return name, output
}

func bestValue(c *campaign.Campaign) string {
	if c.Best == nil {
		return "-"
	}
	name, out := firstObjective(&c.Spec)
	if v, ok := c.Best.Values[out]; ok {
		return num(v)
	}
	if v, ok := c.Best.Values[name]; ok {
		return num(v)
	}
	return "-"
}

func bestText(c *campaign.Campaign) string {
	if c.Best == nil {
		return "none yet"
	}
	name, _ := firstObjective(&c.Spec)
	return fmt.Sprintf("%s = %s at experiment %d (%s)", name, bestValue(c), c.Best.Seq, paramsText(c.Best.Params))
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', 5, 64) }

// paramsText writes parameters as "a=1, b=x", sorted by name.
func paramsText(p map[string]any) string {
	ks := make([]string, 0, len(p))
	for k := range p {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	parts := make([]string, len(ks))
	for i, k := range ks {
		switch v := p[k].(type) {
		case float64:
			parts[i] = safe(k) + "=" + num(v)
		case string:
			parts[i] = safe(k) + "=" + safe(v)
		default:
			b, _ := json.Marshal(v)
			parts[i] = safe(k) + "=" + safe(string(b))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func valuesText(vs map[string]float64) string {
	if len(vs) == 0 {
		return "-"
	}
	p := make(map[string]any, len(vs))
	for k, v := range vs {
		p[k] = v
	}
	return paramsText(p)
}

func executorOf(e *campaign.Experiment) string {
	switch {
	case e.Instrument != "":
		return e.Instrument
	case e.Job != "":
		return "job " + e.Job
	}
	return ""
}
