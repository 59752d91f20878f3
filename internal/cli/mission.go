package cli

import (
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/spf13/cobra"
)

func init() {
	prev := extraCommands
	extraCommands = func(env *Env) []*cobra.Command { return append(prev(env), missionCmd(env)) }
}

func missionCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "mission", Short: "The mission plan: milestones evaluated live, and the risk register"}

	var statusJSON bool
	status := &cobra.Command{
		Use:   "status",
		Short: "Each milestone: met, at risk, missed or not available, its evidence, what is missing and the days left",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			st, err := cl.MissionStatus(cmd.Context())
			if err != nil {
				return err
			}
			if statusJSON {
				return env.output(true, st, nil)
			}
			printStatus(env, st)
			return nil
		},
	}
	status.Flags().BoolVar(&statusJSON, "json", false, "print JSON")

	planCmd := &cobra.Command{Use: "plan", Short: "Show or set the mission plan (start date and milestones)"}
	var showJSON, showFile bool
	show := &cobra.Command{
		Use:   "show",
		Short: "Show the plan in force (--file: as a plan file to edit and set)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			st, err := cl.MissionPlan(cmd.Context())
			if err != nil {
				return err
			}
			if showFile {
				_, err := env.Stdout.Write(st.Plan.Format())
				return err
			}
			if showJSON {
				return env.output(true, st, nil)
			}
			printPlan(env, st)
			return nil
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	show.Flags().BoolVar(&showFile, "file", false, "print the plan as a plan file (JSON, which is YAML)")

	var file string
	var allowPast, setJSON bool
	set := &cobra.Command{
		Use:   "set -f FILE [--allow-past]",
		Short: "Replace the plan with a plan file (YAML or JSON; - reads standard input); administrators only",
		Long: `Replace the mission plan with a plan file:

  start: 2026-01-05          # optional; else the deployment's first start
  milestones:
    - id: challenges-identified
      title: At least 20 challenges identified
      day: 60                # or date: 2026-03-06
      check: challenges_identified
      params: {min: 20, domains: [robotics, biotechnology]}

Check kinds: ` + strings.Join(plan.KindNames(), ", ") + `.
A new or changed milestone may not have a deadline in the past unless
--allow-past (recording a timeline that began earlier, e.g. the executive
order's start: 2025-11-24).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file == "" {
				return &usageError{msg: "give the plan file with -f FILE"}
			}
			var body []byte
			var err error
			if file == "-" {
				body, err = readAtMost(env.Stdin, plan.MaxPlanSize)
			} else {
				var f *os.File
				if f, err = os.Open(file); err == nil {
					defer f.Close()
					body, err = readAtMost(f, plan.MaxPlanSize)
				}
			}
			if err != nil {
				return fmt.Errorf("plan file: %v", err)
			}
			cl, err := env.client()
			if err != nil {
				return err
			}
			st, err := cl.SetMissionPlan(cmd.Context(), body, allowPast)
			if err != nil {
				return err
			}
			if setJSON {
				return env.output(true, st, nil)
			}
			fmt.Fprintf(env.Stdout, "Mission plan set: %d milestones, starting %s.\n", len(st.Milestones), st.StartDate(st.FirstStart).Format(time.DateOnly))
			return nil
		},
	}
	set.Flags().StringVarP(&file, "file", "f", "", "plan file (YAML or JSON)")
	set.Flags().BoolVar(&allowPast, "allow-past", false, "accept deadlines in the past")
	set.Flags().BoolVar(&setJSON, "json", false, "print JSON")
	var addID, addTitle, addDate, addCheck string
	var addDay int
	var addParams []string
	var addPast bool
	add := &cobra.Command{
		Use:   "add --id ID --title TITLE (--day N | --date YYYY-MM-DD) --check KIND [--param NAME=VALUE]…",
		Short: "Add a milestone to the plan in force (or replace the one with its id); administrators only",
		Long: `Add a milestone to the plan in force, or replace the milestone with the
same id. A param's value is a whole number, or a comma-separated list of
names (--param domains=robotics,biotechnology). Check kinds: ` + strings.Join(plan.KindNames(), ", ") + `.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if addID == "" || addTitle == "" || addCheck == "" {
				return &usageError{msg: "give --id, --title and --check"}
			}
			if cmd.Flags().Changed("day") == (addDate != "") {
				return &usageError{msg: "give --day or --date (one of them)"}
			}
			m := plan.Milestone{ID: addID, Title: addTitle, Date: addDate, Check: addCheck}
			if addDate == "" {
				m.Day = &addDay
			}
			for _, kv := range addParams {
				k, v, ok := strings.Cut(kv, "=")
				if !ok || k == "" {
					return &usageError{msg: "--param wants NAME=VALUE, not " + strconv.Quote(kv)}
				}
				if m.Params == nil {
					m.Params = map[string]any{}
				}
				if n, err := strconv.Atoi(v); err == nil {
					m.Params[k] = n
				} else if v == "" {
					m.Params[k] = []string{}
				} else {
					m.Params[k] = strings.Split(v, ",")
				}
			}
			return editPlan(cmd, env, addPast, func(p *plan.Plan) error {
				for i := range p.Milestones {
					if p.Milestones[i].ID == m.ID {
						p.Milestones[i] = m
						return nil
					}
				}
				p.Milestones = append(p.Milestones, m)
				return nil
			})
		},
	}
	add.Flags().StringVar(&addID, "id", "", "the milestone's id")
	add.Flags().StringVar(&addTitle, "title", "", "its title")
	add.Flags().IntVar(&addDay, "day", 0, "its deadline, in days after the plan's start")
	add.Flags().StringVar(&addDate, "date", "", "its deadline, a date (YYYY-MM-DD)")
	add.Flags().StringVar(&addCheck, "check", "", "its check kind")
	add.Flags().StringArrayVar(&addParams, "param", nil, "a threshold of the check, NAME=VALUE (repeatable)")
	add.Flags().BoolVar(&addPast, "allow-past", false, "accept a deadline in the past")

	remove := &cobra.Command{
		Use:   "remove ID",
		Short: "Remove a milestone from the plan in force; administrators only",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return editPlan(cmd, env, false, func(p *plan.Plan) error {
				n := len(p.Milestones)
				p.Milestones = slices.DeleteFunc(p.Milestones, func(m plan.Milestone) bool { return m.ID == args[0] })
				if len(p.Milestones) == n {
					return fmt.Errorf("the plan has no milestone %q", args[0])
				}
				return nil
			})
		},
	}
	planCmd.AddCommand(show, set, add, remove)

	var risksJSON bool
	risks := &cobra.Command{
		Use:   "risks",
		Short: "Live risk indicators (leakage, silos, energy, talent) with their level, figures and evidence",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := env.client()
			if err != nil {
				return err
			}
			rs, err := cl.MissionRisks(cmd.Context())
			if err != nil {
				return err
			}
			if risksJSON {
				return env.output(true, rs, nil)
			}
			printRisks(env, rs)
			return nil
		},
	}
	risks.Flags().BoolVar(&risksJSON, "json", false, "print JSON")

	c.AddCommand(status, planCmd, risks)
	return c
}

var statusWords = map[string]string{plan.Met: "met", plan.AtRisk: "at risk", plan.Missed: "MISSED", plan.NotAvailable: "not available"}

func daysText(n int) string {
	switch {
	case n == 0:
		return "due today"
	case n == 1:
		return "1 day left"
	case n > 0:
		return fmt.Sprintf("%d days left", n)
	case n == -1:
		return "1 day ago"
	}
	return fmt.Sprintf("%d days ago", -n)
}

func printStatus(env *Env, st *plan.Status) {
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	if st.Label != "" {
		fmt.Fprintf(w, "%s\n", st.Label)
	}
	fmt.Fprintf(w, "Mission plan from %s; today %s.\n\n", st.Start, st.Today)
	fmt.Fprintln(w, "MILESTONE\tSTATUS\tDEADLINE\tDAYS\tPROGRESS")
	for _, m := range st.Milestones {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%.0f%%\n", m.ID, statusWords[m.Status], m.Deadline, daysText(m.DaysLeft), 100*m.Progress)
	}
	w.Flush()
	for _, n := range st.Notes {
		fmt.Fprintf(env.Stdout, "note: %s\n", n)
	}
	for _, m := range st.Milestones {
		fmt.Fprintf(env.Stdout, "\n%s — %s (%s)\n", m.ID, m.Title, statusWords[m.Status])
		for _, e := range m.Evidence {
			if e.Link != "" {
				fmt.Fprintf(env.Stdout, "  evidence: %s  [%s]\n", e.Text, e.Link)
			} else {
				fmt.Fprintf(env.Stdout, "  evidence: %s\n", e.Text)
			}
		}
		for _, s := range m.Missing {
			fmt.Fprintf(env.Stdout, "  missing:  %s\n", s)
		}
	}
}

func missionParamsText(p map[string]any) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		switch v := p[k].(type) {
		case []any:
			var xs []string
			for _, x := range v {
				xs = append(xs, fmt.Sprint(x))
			}
			parts = append(parts, k+"="+strings.Join(xs, ","))
		default:
			parts = append(parts, fmt.Sprintf("%s=%v", k, v))
		}
	}
	return strings.Join(parts, " ")
}

func printPlan(env *Env, st *plan.Stored) {
	start := st.StartDate(st.FirstStart)
	from := "from " + start.Format(time.DateOnly)
	if st.Start == "" {
		from += " (this deployment's first start)"
	}
	origin := "the default plan"
	if !st.Default {
		origin = "set by " + st.UpdatedBy
		if st.UpdatedAt != nil {
			origin += " at " + st.UpdatedAt.Format(time.RFC3339)
		}
	}
	fmt.Fprintf(env.Stdout, "Mission plan %s, %s.\n\n", from, origin)
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "MILESTONE\tDEADLINE\tCHECK\tPARAMS\tTITLE")
	for _, m := range st.Milestones {
		dl := m.Deadline(start).Format(time.DateOnly)
		if m.Day != nil {
			dl += fmt.Sprintf(" (day %d)", *m.Day)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", m.ID, dl, m.Check, missionParamsText(m.Params), m.Title)
	}
	w.Flush()
}

func printRisks(env *Env, rs *plan.Risks) {
	w := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	if rs.Label != "" {
		fmt.Fprintf(w, "%s\n", rs.Label)
	}
	fmt.Fprintln(w, "RISK\tLEVEL\tSUMMARY")
	for _, r := range rs.Risks {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.Name, strings.ReplaceAll(r.Level, "_", " "), r.Summary)
	}
	w.Flush()
	for _, n := range rs.Notes {
		fmt.Fprintf(env.Stdout, "note: %s\n", n)
	}
	for _, r := range rs.Risks {
		if len(r.Evidence) == 0 {
			continue
		}
		fmt.Fprintf(env.Stdout, "\n%s:\n", r.Name)
		for _, e := range r.Evidence {
			if e.Link != "" {
				fmt.Fprintf(env.Stdout, "  %s  [%s]\n", e.Text, e.Link)
			} else {
				fmt.Fprintf(env.Stdout, "  %s\n", e.Text)
			}
		}
	}
}

// editPlan reads the plan in force, applies edit and sets the result. The
// server checks the edited plan whole, as it does a plan file.
func editPlan(cmd *cobra.Command, env *Env, allowPast bool, edit func(*plan.Plan) error) error {
	cl, err := env.client()
	if err != nil {
		return err
	}
	st, err := cl.MissionPlan(cmd.Context())
	if err != nil {
		return err
	}
	p := st.Plan
	if err := edit(&p); err != nil {
		return err
	}
	if len(p.Milestones) == 0 {
		return fmt.Errorf("a plan has at least one milestone")
	}
	out, err := cl.SetMissionPlan(cmd.Context(), p.Format(), allowPast)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "Mission plan set: %d milestones, starting %s.\n", len(out.Milestones), out.StartDate(out.FirstStart).Format(time.DateOnly))
	return nil
}
