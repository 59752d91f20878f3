package cli

import (
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/mission/partners"
	"github.com/spf13/cobra"
)

func init() {
	prev := extraCommands
	extraCommands = func(env *Env) []*cobra.Command { return append(prev(env), partnerCmd(env)) }
}

func partnerCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "partner", Short: "The partnerships portfolio: agreements, what they cover, what partners contributed and used"}

	var expiring string
	var expiringOnly, asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "Every organisation with its agreements (expiring ones flagged) and what it contributed and used, over what you may read",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := partnerOptions(expiring)
			if err != nil {
				return err
			}
			o.ExpiringOnly = expiringOnly
			c, err := env.client()
			if err != nil {
				return err
			}
			pf, err := c.Partners(cmd.Context(), o)
			if err != nil {
				return err
			}
			return env.output(asJSON, pf, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ORG\tKIND\tCOUNTRY\tIN FORCE\tEXPIRING\tEXPIRED\tDATASETS\tMODELS\tSITES\tINSTRUMENTS\tJOBS\tNODE-H")
				for _, p := range pf.Partners {
					fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%d\t%d (%s)\t%d\t%d\t%d\t%d\t%.1f\n", p.Org.Name, p.Org.Kind, p.Org.Country, p.InForce, p.Expiring, p.Expired,
						p.Contributed.Datasets, humanBytes(p.Contributed.DatasetBytes), p.Contributed.Models, len(p.Contributed.Sites), len(p.Contributed.Instruments),
						p.Used.Jobs, p.Used.UsedNodeHours)
				}
				printExpiring(w, pf)
				fmt.Fprintf(w, "Counted under:\t%s\n", pf.Label)
			})
		},
	}
	list.Flags().StringVar(&expiring, "expiring", "", "flag agreements ending within this window: 60d, 8w or 36h (default 60d)")
	list.Flags().BoolVar(&expiringOnly, "expiring-only", false, "only partners with an expiring agreement")
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")

	var showExpiring string
	var showJSON bool
	show := &cobra.Command{
		Use:   "show ORG",
		Short: "One partner: its agreements (status, window, coverage, holders), contributions and usage",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := partnerOptions(showExpiring)
			if err != nil {
				return err
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			p, err := c.Partner(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			return env.output(showJSON, p, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "Organisation:\t%s (%s, %s, %s)\n", p.Org.Name, p.Org.ID, p.Org.Kind, p.Org.Country)
				fmt.Fprintf(w, "Counted under:\t%s\n", p.Label)
				if p.Principals != nil {
					fmt.Fprintf(w, "Principals:\t%d\n", *p.Principals)
				}
				fmt.Fprintf(w, "Agreements:\t%d in force (%d expiring), %d expired or ended\n", p.InForce, p.Expiring, p.Expired)
				for _, a := range p.Agreements {
					fmt.Fprintf(w, "  %s\t%s\t%s\t%s → %s\t%s\n", a.ID, a.Type, agreementStatus(a), a.NotBefore.Format("2006-01-02"), a.NotAfter.Format("2006-01-02"), dash(a.Title))
					if len(a.Compartments) > 0 {
						fmt.Fprintf(w, "  \tgrants\t%s\n", strings.Join(a.Compartments, ", "))
					}
					var holders []string
					for _, h := range a.Holders {
						holders = append(holders, h.Name)
					}
					fmt.Fprintf(w, "  \theld by\t%s\n", strings.Join(holders, ", "))
					fmt.Fprintf(w, "  \tcovers\t%s, %s, %s, %s\n", count(a.Covers.Datasets, "dataset"), count(a.Covers.Models, "model"),
						count(a.Covers.Publications, "publication"), count(a.Covers.Campaigns, "campaign"))
					if a.IPTerms != "" {
						fmt.Fprintf(w, "  \tIP terms\t%s\n", oneLine(a.IPTerms, 100))
					}
				}
				k := p.Contributed
				fmt.Fprintf(w, "Contributed:\t%s (%s), %s (%s), %s, %s\n", count(k.Datasets, "dataset"), humanBytes(k.DatasetBytes),
					count(k.Models, "model"), humanBytes(k.ModelBytes), count(k.Publications, "publication"), count(k.Campaigns, "campaign"))
				fmt.Fprintf(w, "Sites operated:\t%s\n", dash(strings.Join(k.Sites, ", ")))
				fmt.Fprintf(w, "Instruments:\t%s\n", dash(strings.Join(k.Instruments, ", ")))
				fmt.Fprintf(w, "Labs:\t%s\n", dash(strings.Join(k.Labs, ", ")))
				fmt.Fprintf(w, "Used:\t%s, %.1f node-hours, %.1f GPU-hours, in %s\n", count(p.Used.Jobs, "job"), p.Used.UsedNodeHours, p.Used.UsedGPUHours, count(p.Used.Projects, "project"))
			})
		},
	}
	show.Flags().StringVar(&showExpiring, "expiring", "", "flag agreements ending within this window (default 60d)")
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	c.AddCommand(list, show)
	return c
}

// agreementExpiringCmd lists the agreements ending within a window
// (genesis agreement expiring).
func agreementExpiringCmd(env *Env) *cobra.Command {
	var within string
	var asJSON bool
	c := &cobra.Command{
		Use:   "expiring",
		Short: "Agreements in force that end within a window (default 60 days), soonest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o, err := partnerOptions(within)
			if err != nil {
				return err
			}
			o.ExpiringOnly = true
			c, err := env.client()
			if err != nil {
				return err
			}
			pf, err := c.Partners(cmd.Context(), o)
			if err != nil {
				return err
			}
			return env.output(asJSON, pf.Expiring, func(w *tabwriter.Writer) {
				printExpiring(w, pf)
				if len(pf.Expiring) == 0 {
					fmt.Fprintf(w, "No agreement you may see ends within %d days.\n", pf.ExpiringWithinDays)
				}
			})
		},
	}
	c.Flags().StringVar(&within, "within", "", "window: 60d, 8w or 36h (default 60d)")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

// partnerOptions checks a window flag before anything is asked.
func partnerOptions(window string) (client.PartnerOptions, error) {
	if window != "" {
		if _, err := partners.ParseWindow(window); err != nil {
			return client.PartnerOptions{}, err
		}
	}
	return client.PartnerOptions{Expiring: window}, nil
}

func printExpiring(w *tabwriter.Writer, pf *partners.Portfolio) {
	if len(pf.Expiring) == 0 {
		return
	}
	fmt.Fprintf(w, "Expiring within %d days:\n", pf.ExpiringWithinDays)
	for _, a := range pf.Expiring {
		var holders []string
		for _, h := range a.Holders {
			holders = append(holders, h.Name)
		}
		fmt.Fprintf(w, "  %s\t%s\tends %s (%s)\t%s\n", a.ID, a.Type, a.NotAfter.Format("2006-01-02"), count(a.DaysLeft, "day")+" left", strings.Join(holders, ", "))
	}
}

func agreementStatus(a partners.Agreement) string {
	switch a.Status {
	case partners.StatusExpiring, partners.StatusInForce, partners.StatusPending:
		return fmt.Sprintf("%s, %s left", a.Status, count(a.DaysLeft, "day"))
	}
	return a.Status
}
