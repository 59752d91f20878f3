package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/spf13/cobra"
)

func init() {
	prev := extraCommands
	extraCommands = func(env *Env) []*cobra.Command { return append(prev(env), challengeCmd(env)) }
}

func readChallengeFile(env *Env, path string) ([]byte, error) {
	if path == "" {
		return nil, &usageError{msg: "give the challenge file with -f FILE"}
	}
	return readCampaignFile(env, path)
}

func challengeCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "challenge", Short: "National challenges: targets whose progress is computed from linked campaigns and models"}

	var file string
	var createJSON bool
	create := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a challenge from a challenge file (YAML or JSON; - reads standard input)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readChallengeFile(env, file)
			if err != nil {
				return err
			}
			cl, err := env.client()
			if err != nil {
				return err
			}
			ch, err := cl.CreateChallenge(cmd.Context(), body)
			if err != nil {
				return err
			}
			if createJSON {
				return env.output(true, ch, nil)
			}
			fmt.Fprintf(env.Stdout, "Created challenge %s (%s), label %s, %s.\n", ch.Name, ch.ID, ch.Label, count(len(ch.Targets), "target"))
			return nil
		},
	}
	create.Flags().StringVarP(&file, "file", "f", "", "challenge file (YAML or JSON)")
	create.Flags().BoolVar(&createJSON, "json", false, "print JSON")

	var vfile string
	var validateJSON bool
	validate := &cobra.Command{
		Use:   "validate -f FILE",
		Short: "Check a challenge file here, without a server (organisations and links are checked on create)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			body, err := readChallengeFile(env, vfile)
			if err != nil {
				return err
			}
			sp, err := mission.Parse(body)
			if err != nil {
				return err
			}
			if validateJSON {
				return env.output(true, sp, nil)
			}
			fmt.Fprintf(env.Stdout, "%s: valid — %s, %s, %s.\n", sp.Name, sp.Domain, count(len(sp.Targets), "target"), count(len(sp.Links), "link"))
			return nil
		},
	}
	validate.Flags().StringVarP(&vfile, "file", "f", "", "challenge file (YAML or JSON)")
	validate.Flags().BoolVar(&validateJSON, "json", false, "print the challenge as read, in canonical units, as JSON")

	var domain string
	var listJSON bool
	list := &cobra.Command{
		Use:   "list [--domain D]",
		Short: "List the challenges you may read, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			all := []mission.Challenge{}
			cursor := ""
			for {
				page, err := cl.Challenges(cmd.Context(), domain, cursor, 0)
				if err != nil {
					return err
				}
				all = append(all, page.Items...)
				if page.Next == "" || len(all) >= 10000 {
					break
				}
				cursor = page.Next
			}
			return env.output(listJSON, all, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "NAME\tDOMAIN\tLABEL\tLEAD\tTARGETS\tTITLE")
				for _, ch := range all {
					title := safe(ch.Title)
					if ch.Demo {
						title = "[demo] " + title
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\n", ch.Name, ch.Domain, ch.Label, safe(ch.Lead.Name), len(ch.Targets), title)
				}
			})
		},
	}
	list.Flags().StringVar(&domain, "domain", "", "only this priority domain")
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a challenge: statement, organisations, targets and the links you may follow",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			ch, err := cl.Challenge(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return env.output(showJSON, ch, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "name:\t%s (%s)\n", ch.Name, ch.ID)
				fmt.Fprintf(w, "title:\t%s\n", safe(ch.Title))
				if ch.Demo {
					fmt.Fprintf(w, "demo:\tyes (set up by genesis up)\n")
				}
				fmt.Fprintf(w, "domain:\t%s\n", ch.Domain)
				fmt.Fprintf(w, "label:\t%s\n", ch.Label)
				fmt.Fprintf(w, "lead:\t%s\n", safe(ch.Lead.Name))
				var ps []string
				for _, p := range ch.Partners {
					ps = append(ps, safe(p.Name))
				}
				if len(ps) > 0 {
					fmt.Fprintf(w, "partners:\t%s\n", strings.Join(ps, ", "))
				}
				for i, t := range ch.Targets {
					fmt.Fprintf(w, "target %d:\t%s\n", i+1, targetText(&t))
				}
				for _, l := range ch.Links {
					extra := ""
					if l.Objective != "" {
						extra = " (objective " + safe(l.Objective) + " → " + l.Metric + ")"
					}
					fmt.Fprintf(w, "link:\t%s %s%s\n", l.Kind, safe(l.Name), extra)
				}
				fmt.Fprintf(w, "statement:\t\n")
				w.Flush()
				st, _ := safeBlock(ch.Statement)
				for _, line := range strings.Split(strings.TrimRight(st, "\n"), "\n") {
					fmt.Fprintf(env.Stdout, "  %s\n", line)
				}
			})
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	var ufile, utitle, ulabel, ustatement string
	var updateJSON bool
	update := &cobra.Command{
		Use:   "update NAME [-f FILE] [--title T] [--label L] [--statement S]",
		Short: "Change a challenge: from a whole challenge file, or some fields by flag",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var patch mission.Patch
			if ufile != "" {
				body, err := readChallengeFile(env, ufile)
				if err != nil {
					return err
				}
				sp, err := mission.Parse(body)
				if err != nil {
					return err
				}
				if sp.Name != args[0] && !strings.HasPrefix(args[0], "chl_") {
					return &usageError{msg: "the file describes challenge " + sp.Name + ", not " + safe(args[0]) + " (a challenge's name does not change)"}
				}
				patch = mission.PatchOf(sp)
			}
			set := func(dst **string, flag, v string) {
				if cmd.Flags().Changed(flag) {
					*dst = &v
				}
			}
			set(&patch.Title, "title", utitle)
			set(&patch.Label, "label", ulabel)
			set(&patch.Statement, "statement", ustatement)
			if ufile == "" && patch.Title == nil && patch.Label == nil && patch.Statement == nil {
				return &usageError{msg: "say what to change: -f FILE, --title, --label or --statement"}
			}
			cl, err := env.client()
			if err != nil {
				return err
			}
			ch, err := cl.UpdateChallenge(cmd.Context(), args[0], patch)
			if err != nil {
				return err
			}
			if updateJSON {
				return env.output(true, ch, nil)
			}
			fmt.Fprintf(env.Stdout, "Updated challenge %s, label %s.\n", ch.Name, ch.Label)
			return nil
		},
	}
	update.Flags().StringVarP(&ufile, "file", "f", "", "challenge file (YAML or JSON): the whole challenge as it should be")
	update.Flags().StringVar(&utitle, "title", "", "new title")
	update.Flags().StringVar(&ulabel, "label", "", "new label (may be raised, not lowered)")
	update.Flags().StringVar(&ustatement, "statement", "", "new problem statement")
	update.Flags().BoolVar(&updateJSON, "json", false, "print JSON")

	linkCmd := func(add bool) *cobra.Command {
		var objective, metric string
		var asJSON bool
		use, short := "link NAME KIND REF", "Link a campaign, dataset, model, site, instrument or (part-of) challenge, resolved as you see it"
		if !add {
			use, short = "unlink NAME KIND REF", "Remove a link (REF: the linked object's name or ID)"
		}
		l := &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.ExactArgs(3),
			RunE: func(cmd *cobra.Command, args []string) error {
				cl, err := env.client()
				if err != nil {
					return err
				}
				ch, err := cl.Challenge(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				kind, ref := strings.ToLower(args[1]), args[2]
				links := []mission.LinkSpec{}
				found := false
				for _, x := range ch.Links {
					if !add && x.Kind == kind && (x.ID == ref || x.Name == ref) {
						found = true
						continue
					}
					links = append(links, mission.LinkSpec{Kind: x.Kind, Ref: x.ID, Objective: x.Objective, Metric: x.Metric})
				}
				if add {
					links = append(links, mission.LinkSpec{Kind: kind, Ref: ref, Objective: objective, Metric: metric})
				} else if !found {
					return errors.E(errors.NotExist, errors.Msg(ch.Name+" has no "+kind+" link "+strconv.Quote(safe(ref))))
				}
				ch, err = cl.UpdateChallenge(cmd.Context(), ch.ID, mission.Patch{Links: &links})
				if err != nil {
					return err
				}
				if asJSON {
					return env.output(true, ch, nil)
				}
				fmt.Fprintf(env.Stdout, "%s: %s.\n", ch.Name, count(len(ch.Links), "link"))
				return nil
			},
		}
		if add {
			l.Flags().StringVar(&objective, "objective", "", "the campaign objective or model metrics key that measures the target")
			l.Flags().StringVar(&metric, "metric", "", "the target metric it measures (default: the first target's)")
		}
		l.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		return l
	}

	var progJSON bool
	progress := &cobra.Command{
		Use:   "progress NAME",
		Short: "Show each target's progress, computed from the linked campaigns and models you may read",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			pr, err := cl.ChallengeProgress(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return env.output(progJSON, pr, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "challenge:\t%s (label %s), %d of %s reached\n", pr.Name, pr.Label, pr.Reached, count(len(pr.Targets), "target"))
				fmt.Fprintln(w, "METRIC\tTARGET\tBASELINE\tBEST\tPROGRESS\tREACHED BY")
				for _, t := range pr.Targets {
					best, by := "—", ""
					if t.Best != nil {
						best = num(*t.Best) + unitSuffix(t.Unit)
					}
					if t.ReachedBy != nil {
						by = t.ReachedBy.Kind + " " + safe(t.ReachedBy.Name) + " " + t.ReachedBy.Ref + " at " + t.ReachedBy.At.Format("2006-01-02 15:04")
					} else if t.Best != nil {
						by = "not yet (best by " + safe(t.BestBy.Name) + " " + t.BestBy.Ref + ")"
					} else {
						by = "no observations you may read"
					}
					fmt.Fprintf(w, "%s\t%s %s\t%s\t%s\t%s\t%s\n", t.Metric, dirSymbol(t.Direction), num(t.Target.Target)+unitSuffix(t.Unit), num(t.Baseline)+unitSuffix(t.Unit), best, bar(t.Fraction), by)
				}
			})
		},
	}
	progress.Flags().BoolVar(&progJSON, "json", false, "print JSON")

	var metricsJSON bool
	metrics := &cobra.Command{
		Use:   "metrics",
		Short: "List the metrics a target may name, with their canonical units",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ms := mission.Metrics()
			return env.output(metricsJSON, ms, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "METRIC\tUNIT\tSOURCE\tDESCRIPTION")
				for _, m := range ms {
					u := m.Unit
					if u == "" {
						u = "(none)"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", m.Name, u, m.Source, m.Description)
				}
			})
		},
	}
	metrics.Flags().BoolVar(&metricsJSON, "json", false, "print JSON")

	c.AddCommand(create, validate, list, show, update, linkCmd(true), linkCmd(false), progress, metrics)
	return c
}

func targetText(t *mission.Target) string {
	return fmt.Sprintf("%s %s %s%s (baseline %s%s)", t.Metric, dirSymbol(t.Direction), num(t.Target), unitSuffix(t.Unit), num(t.Baseline), unitSuffix(t.Unit))
}

func dirSymbol(d string) string {
	if d == "min" {
		return "≤"
	}
	return "≥"
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " " + u
}

// bar draws a fraction as ten cells and a percentage.
func bar(f float64) string {
	n := int(f*10 + 0.5)
	return strings.Repeat("█", n) + strings.Repeat("░", 10-n) + fmt.Sprintf(" %3.0f%%", f*100)
}

func safeBlock(s string) (string, bool) {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		b.WriteString(safe(line))
		b.WriteByte('\n')
	}
	return b.String(), true
}
