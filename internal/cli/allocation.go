package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
)

func allocationCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "allocation", Short: "Node- and GPU-hours per project per site, and their usage"}
	var nodeHours, gpuHours float64
	set := &cobra.Command{
		Use:   "set PROJECT SITE --node-hours N [--gpu-hours M]",
		Short: "Grant a project hours at a site (operators); jobs charged to it (attributes.account) run only within them",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var a jobs.Allocation
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/allocations", httpapi.AllocationRequest{Project: args[0], Site: args[1], NodeHours: nodeHours, GPUHours: gpuHours}, &a); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s has %.1f node-hours and %.1f GPU-hours at %s.\n", args[0], a.NodeHours, a.GPUHours, a.Site)
			return nil
		},
	}
	finiteVar(set, &nodeHours, "node-hours", 0, "node-hours")
	finiteVar(set, &gpuHours, "gpu-hours", 0, "GPU-hours")
	var asJSON bool
	list := &cobra.Command{
		Use:   "list PROJECT",
		Short: "A project's allocations: granted, used (finished jobs), held (running jobs), remaining",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[jobs.Allocation]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/allocations?project="+url.QueryEscape(args[0]), nil, &l); err != nil {
				return err
			}
			return env.output(asJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "SITE\tNODE-HOURS\tUSED\tHELD\tLEFT\tGPU-HOURS\tUSED\tHELD\tLEFT")
				for _, a := range l.Items {
					r := a.Remaining()
					fmt.Fprintf(w, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\n", a.Site, a.NodeHours, a.UsedNodeHours, a.HeldNodeHours, r.NodeHours,
						a.GPUHours, a.UsedGPUHours, a.HeldGPUHours, r.GPUHours)
				}
			})
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.AddCommand(set, list)
	return c
}
