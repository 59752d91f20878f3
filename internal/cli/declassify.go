package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
)

func declassifyCmd(env *Env) *cobra.Command {
	c := &cobra.Command{
		Use:   "declassify",
		Short: "Lower a label the only way there is: requested by one classification officer, approved by another",
	}
	var to, why string
	request := &cobra.Command{
		Use:   "request NAME[@VERSION] --to MARKING --justification TEXT",
		Short: "Request the release of a version at a lower label",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			r, err := catalog.ParseRef(args[0])
			if err != nil {
				return err
			}
			var rel catalog.Release
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/assets/"+url.PathEscape(r.Asset)+"/releases",
				httpapi.ReleaseRequest{Version: r.Version, ToLabel: to, Justification: why}, &rel); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Requested release %s of %s@%d: %s -> %s. Another classification officer must approve it.\n",
				rel.ID, rel.AssetName, rel.Version, rel.FromLabel, rel.ToLabel)
			return nil
		},
	}
	request.Flags().StringVar(&to, "to", "", "the lower label marking")
	request.Flags().StringVar(&why, "justification", "", "why this may be released (kept on the record)")

	decide := func(verb string, approve bool) *cobra.Command {
		return &cobra.Command{
			Use:   verb + " ID",
			Short: map[bool]string{true: "Approve a release (creates the lower-labelled version)", false: "Reject a release"}[approve],
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				c, err := env.client()
				if err != nil {
					return err
				}
				var rel catalog.Release
				if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/releases/"+url.PathEscape(args[0])+"/"+verb, nil, &rel); err != nil {
					return err
				}
				if approve {
					fmt.Fprintf(env.Stdout, "Approved %s: %s@%d is %s.\n", rel.ID, rel.AssetName, *rel.NewVersion, rel.ToLabel)
				} else {
					fmt.Fprintf(env.Stdout, "Rejected %s.\n", rel.ID)
				}
				return nil
			},
		}
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List release records",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[catalog.Release]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/releases", nil, &l); err != nil {
				return err
			}
			return env.output(asJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "ID\tSTATE\tASSET\tFROM\tTO\tREQUESTED BY\tDECIDED BY\tWHEN")
				for _, r := range l.Items {
					by := "-"
					if r.DecidedBy != nil {
						by = string(*r.DecidedBy)
					}
					fmt.Fprintf(w, "%s\t%s\t%s@%d\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.State, r.AssetName, r.Version, r.FromLabel, r.ToLabel, r.RequestedBy, by, r.RequestedAt.Format(time.RFC3339))
				}
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(request, decide("approve", true), decide("reject", false), list)
	return c
}
