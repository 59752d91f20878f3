package cli

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/text"
	"github.com/spf13/cobra"
)

func init() {
	prev := extraCommands
	extraCommands = func(env *Env) []*cobra.Command { return append(prev(env), agentCmd(env)) }
}

func agentCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "agent", Short: "Research agents: hypotheses from the literature you may read, and campaign drafts from them"}

	var req agent.HypothesizeRequest
	var target, methods string
	var hypJSON bool
	hyp := &cobra.Command{
		Use:   `hypothesize --topic "…" [--challenge ID] [--target "band_gap=1.3 eV"] [--method lbd,gap,llm]`,
		Short: "Generate ranked hypotheses, each with the passages it rests on",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r := req
			if target != "" {
				t, err := agent.ParseTarget(target)
				if err != nil {
					return &usageError{msg: "--target: " + errors.SafeMessage(err)}
				}
				r.Target = t
			}
			if methods != "" {
				r.Methods = strings.Split(methods, ",")
			}
			cl, err := env.client()
			if err != nil {
				return err
			}
			run, err := cl.Hypothesize(cmd.Context(), r)
			if err != nil {
				return err
			}
			if hypJSON {
				return env.output(true, run, nil)
			}
			printRun(env, run)
			return nil
		},
	}
	hyp.Flags().StringVar(&req.Topic, "topic", "", "what to hypothesize about")
	hyp.Flags().StringVar(&req.Challenge, "challenge", "", "a challenge whose target to aim at")
	hyp.Flags().StringVar(&target, "target", "", `a property target: "band_gap=1.3 eV", "yield>=90 %" (max) or "x<=2" (min)`)
	hyp.Flags().StringVar(&methods, "method", "", "methods, comma-separated: lbd, gap, llm (default: all available)")
	hyp.Flags().IntVar(&req.Limit, "limit", 0, "hypotheses at most (default 10)")
	hyp.Flags().StringVar(&req.Project, "project", "", "project of the run's dataset")
	hyp.Flags().StringVar(&req.Label, "label", "", "a floor for the run's label")
	hyp.Flags().BoolVar(&hypJSON, "json", false, "print JSON")

	var runsJSON bool
	var cursor string
	var limit int
	runs := &cobra.Command{
		Use:   "runs",
		Short: "List the agent runs you may read, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			l, err := cl.AgentRuns(cmd.Context(), cursor, limit)
			if err != nil {
				return err
			}
			return env.output(runsJSON, l, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "RUN\tCREATED\tLABEL\tHYPOTHESES\tTOPIC")
				for _, r := range l.Items {
					fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", r.ID, r.CreatedAt.Format(time.RFC3339), r.Label, r.Hypotheses, safe(r.Topic))
				}
				if l.Next != "" {
					fmt.Fprintf(w, "more: --cursor %s\n", l.Next)
				}
			})
		},
	}
	runs.Flags().BoolVar(&runsJSON, "json", false, "print JSON")
	runs.Flags().StringVar(&cursor, "cursor", "", "the next page's cursor")
	runs.Flags().IntVar(&limit, "limit", 0, "runs per page")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show RUN|HYPOTHESIS|DRAFT",
		Short: "Show a run (with its hypotheses), one hypothesis, or a campaign draft",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			id := args[0]
			switch {
			case strings.HasPrefix(id, "hyp_"):
				h, err := cl.Hypothesis(cmd.Context(), id)
				if err != nil {
					return err
				}
				if showJSON {
					return env.output(true, h, nil)
				}
				printHypothesis(env, h)
			case strings.HasPrefix(id, "drf_"):
				d, err := cl.CampaignDraft(cmd.Context(), id)
				if err != nil {
					return err
				}
				if showJSON {
					return env.output(true, d, nil)
				}
				printDraft(env, d)
			default:
				run, err := cl.AgentRun(cmd.Context(), id)
				if err != nil {
					return err
				}
				if showJSON {
					return env.output(true, run, nil)
				}
				printRun(env, run)
			}
			return nil
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	var opts agent.ProposeOptions
	var outFile string
	var proposeJSON bool
	propose := &cobra.Command{
		Use:   "propose-campaign HYPOTHESIS [-o FILE]",
		Short: "Draft a campaign file from a property-gap hypothesis, for a person to approve",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			d, err := cl.ProposeCampaign(cmd.Context(), args[0], opts)
			if err != nil {
				return err
			}
			if outFile != "" {
				if err := os.WriteFile(outFile, []byte(d.Campaign), 0o644); err != nil {
					return errors.E(errors.Invalid, errors.Msg(err.Error()))
				}
				fmt.Fprintf(env.Stderr, "wrote %s\n", outFile)
			}
			if proposeJSON {
				return env.output(true, d, nil)
			}
			printDraft(env, d)
			fmt.Fprintf(env.Stdout, "Approve it with: genesis agent approve %s\n", d.ID)
			return nil
		},
	}
	propose.Flags().StringVarP(&outFile, "output", "o", "", "also write the campaign file here")
	propose.Flags().StringVar(&opts.Instrument, "instrument", "", "run on this instrument (if accredited for the draft's label)")
	propose.Flags().StringVar(&opts.Workcell, "workcell", "", "run on this workcell (if accredited)")
	propose.Flags().StringVar(&opts.Action, "action", "", "the instrument action")
	propose.Flags().IntVar(&opts.Budget, "budget", 0, "experiments (default 20)")
	propose.Flags().StringVar(&opts.Project, "project", "", "project of the draft")
	propose.Flags().BoolVar(&proposeJSON, "json", false, "print JSON")

	var approveJSON bool
	approve := &cobra.Command{
		Use:   "approve DRAFT",
		Short: "Approve a campaign draft (a person cleared for its label)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			d, err := cl.ApproveDraft(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if approveJSON {
				return env.output(true, d, nil)
			}
			fmt.Fprintf(env.Stdout, "Approved %s. Start it with: genesis agent start %s\n", d.ID, d.ID)
			return nil
		},
	}
	approve.Flags().BoolVar(&approveJSON, "json", false, "print JSON")

	var startJSON bool
	start := &cobra.Command{
		Use:   "start DRAFT",
		Short: "Create the campaign of an approved draft",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			cp, err := cl.StartDraft(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if startJSON {
				return env.output(true, cp, nil)
			}
			fmt.Fprintf(env.Stdout, "Created campaign %s (%s), label %s, %s.\nStart it with: genesis campaign start %s\n", cp.Name, cp.ID, cp.Label, cp.State, cp.Name)
			return nil
		},
	}
	start.Flags().BoolVar(&startJSON, "json", false, "print JSON")

	c.AddCommand(hyp, runs, show, propose, approve, start)
	return c
}

func printRun(env *Env, run *agent.Run) {
	w := env.Stdout
	fmt.Fprintf(w, "Run %s (%s), label %s: %d hypotheses from %d passages read", run.ID, run.Name, run.Label, len(run.Hypotheses), len(run.Read))
	if len(run.ReadFacts) > 0 {
		fmt.Fprintf(w, " and %d facts", len(run.ReadFacts))
	}
	fmt.Fprintln(w, ".")
	if d := run.Drops; d.Claims+d.Hypotheses+d.ToolErrors > 0 {
		fmt.Fprintf(w, "Dropped: %d claims, %d hypotheses, %d tool errors.\n", d.Claims, d.Hypotheses, d.ToolErrors)
	}
	for _, n := range run.Notes {
		fmt.Fprintf(w, "Note: %s\n", safe(n))
	}
	for i := range run.Hypotheses {
		fmt.Fprintln(w)
		printHypothesis(env, &run.Hypotheses[i])
	}
}

func printHypothesis(env *Env, h *agent.Hypothesis) {
	w := env.Stdout
	fmt.Fprintf(w, "%d. [%s] %s  (score %.3f, %s)\n", h.Rank, h.Method, safe(h.Statement), h.Score, h.ID)
	for _, c := range h.Claims {
		fmt.Fprintf(w, "   - %s [%s]\n", safe(c.Text), strings.Join(c.Citations, ", "))
	}
}

func printDraft(env *Env, d *agent.Draft) {
	w := env.Stdout
	status := "awaiting approval"
	switch {
	case d.Started != "":
		status = "started as campaign " + d.Started
	case d.ApprovedBy != "":
		status = "approved by " + d.ApprovedBy
	}
	fmt.Fprintf(w, "Draft %s (%s), label %s, executor %s, %s.\n\n", d.ID, d.Name, d.Label, d.Executor, status)
	body, _ := text.Sanitize(d.Campaign, true)
	fmt.Fprintln(w, body)
}
