package cli

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
)

func siteCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "site", Short: "Compute sites of the federation: kind, accreditation, capacity, power, status"}
	var req httpapi.SiteRequest
	var credFile string
	var gpus, nats []string
	var heartbeat time.Duration
	add := &cobra.Command{
		Use:   "add NAME --kind local|slurm|iri --accreditation MARKING --nodes N --cores-per-node N --memory-gb N",
		Short: "Register a site (operators); credentials are read from a file and stored encrypted",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			if credFile != "" {
				b, err := os.ReadFile(credFile)
				if err != nil {
					return errors.E(errors.Invalid, errors.Msg(err.Error()))
				}
				req.Credentials = strings.TrimSpace(string(b))
			}
			for _, g := range splitList(gpus) {
				model, n, ok := strings.Cut(g, ":")
				count, err := strconv.Atoi(n)
				if !ok || err != nil {
					return errors.E(errors.Invalid, errors.Msg("--gpu takes MODEL:COUNT per node, e.g. A100:4"))
				}
				req.Capacity.GPUsPerNode = append(req.Capacity.GPUsPerNode, sites.GPU{Model: model, Count: count})
			}
			req.Nationalities = splitList(nats)
			req.HeartbeatSeconds = int64(heartbeat / time.Second)
			c, err := env.client()
			if err != nil {
				return err
			}
			var s sites.Site
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/sites", req, &s); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Added %s site %s, accredited for %s, status %s.\n", s.Kind, s.Name, s.Accreditation, s.Status)
			return nil
		},
	}
	f := add.Flags()
	f.StringVar(&req.Kind, "kind", "", "local, slurm or iri")
	f.StringVar(&req.Endpoint, "endpoint", "", "slurmrestd or IRI API URL")
	f.StringVar(&credFile, "credentials-file", "", "file holding the site's credentials (never echoed)")
	f.StringVar(&req.Accreditation, "accreditation", "OPEN", "the highest label the site may process")
	f.StringVar(&req.OperatorOrg, "operator-org", "", "the organisation operating the site")
	f.StringSliceVar(&nats, "operator-nationality", nil, "nationalities of the operators (for REL TO constraints)")
	f.IntVar(&req.Capacity.Nodes, "nodes", 1, "nodes")
	f.IntVar(&req.Capacity.CoresPerNode, "cores-per-node", 1, "cores per node")
	finiteVar(add, &req.Capacity.MemoryGBNode, "memory-gb", 1, "memory per node, GB")
	f.StringSliceVar(&gpus, "gpu", nil, "GPUs per node, MODEL:COUNT (repeatable)")
	finiteVar(add, &req.Capacity.ScratchTB, "scratch-tb", 0, "scratch storage, TB")
	finiteVar(add, &req.Capacity.BandwidthGbps, "bandwidth-gbps", 0, "network bandwidth to the platform, Gb/s")
	finiteVar(add, &req.PowerCapKW, "power-cap-kw", 0, "power cap, kW")
	f.DurationVar(&heartbeat, "heartbeat", 0, "expected heartbeat interval (0: none)")

	var listJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List sites",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var l httpapi.List[sites.Site]
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/sites", nil, &l); err != nil {
				return err
			}
			return env.output(listJSON, l.Items, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "NAME\tKIND\tSTATUS\tACCREDITATION\tNODES\tCORES\tGPUS\tPOWER kW")
				for _, s := range l.Items {
					gpus := 0
					for _, g := range s.Capacity.GPUsPerNode {
						gpus += g.Count * s.Capacity.Nodes
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%d\t%d\t%.0f/%.0f\n", s.Name, s.Kind, s.Status, s.Accreditation, s.Capacity.Nodes,
						s.Capacity.Nodes*s.Capacity.CoresPerNode, gpus, s.PowerDrawKW, s.PowerCapKW)
				}
			})
		},
	}
	list.Flags().BoolVar(&listJSON, "json", false, "print JSON")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a site",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var s sites.Site
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/sites/"+url.PathEscape(args[0]), nil, &s); err != nil {
				return err
			}
			return env.output(showJSON, s, func(w *tabwriter.Writer) {
				hb := "-"
				if s.LastHeartbeat != nil {
					hb = s.LastHeartbeat.Format(time.RFC3339)
				}
				fmt.Fprintf(w, "name:\t%s\nkind:\t%s\nendpoint:\t%s\ncredentials:\t%v\naccreditation:\t%s\nstatus:\t%s %s\nlast heartbeat:\t%s\nnodes:\t%d × %d cores, %.0f GB\npower:\t%.0f / %.0f kW\n",
					s.Name, s.Kind, dash(s.Endpoint), map[bool]string{true: "stored (encrypted)", false: "none"}[s.HasCredential], s.Accreditation,
					s.Status, s.StatusReason, hb, s.Capacity.Nodes, s.Capacity.CoresPerNode, s.Capacity.MemoryGBNode, s.PowerDrawKW, s.PowerCapKW)
			})
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	var reason string
	drain := &cobra.Command{
		Use:   "drain NAME",
		Short: "Stop placing new work on a site",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var s sites.Site
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/sites/"+url.PathEscape(args[0])+"/drain", httpapi.DrainRequest{Reason: reason}, &s); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "%s is draining (%s).\n", s.Name, s.StatusReason)
			return nil
		},
	}
	drain.Flags().StringVar(&reason, "reason", "", "why")
	remove := &cobra.Command{
		Use:   "remove NAME",
		Short: "Remove a site",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), http.MethodDelete, "/api/v1/sites/"+url.PathEscape(args[0]), nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Removed %s.\n", args[0])
			return nil
		},
	}
	var rotFile string
	setCreds := &cobra.Command{
		Use:   "set-credentials NAME --credentials-file FILE",
		Short: "Replace a site's credentials (a rotated token); read from a file, stored encrypted, never shown",
		Long: `Replaces the credentials Genesis uses to talk to a site, e.g. a new
slurmrestd JWT or IRI token before the old one expires. The next job
placed or followed on the site uses them. An empty file removes them.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rotFile == "" {
				return errors.E(errors.Invalid, errors.Msg("--credentials-file is required"))
			}
			b, err := os.ReadFile(rotFile)
			if err != nil {
				return errors.E(errors.Invalid, errors.Msg(err.Error()))
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			var s sites.Site
			if err := c.Do(cmd.Context(), http.MethodPut, "/api/v1/sites/"+url.PathEscape(args[0])+"/credentials",
				httpapi.CredentialsRequest{Credentials: strings.TrimSpace(string(b))}, &s); err != nil {
				return err
			}
			if s.HasCredential {
				fmt.Fprintf(env.Stdout, "Replaced the credentials of %s.\n", s.Name)
			} else {
				fmt.Fprintf(env.Stdout, "Removed the credentials of %s.\n", s.Name)
			}
			return nil
		},
	}
	setCreds.Flags().StringVar(&rotFile, "credentials-file", "", "file holding the new credentials (never echoed)")
	c.AddCommand(add, list, show, drain, setCreds, remove)
	return c
}

func inventoryCmd(env *Env) *cobra.Command {
	var asJSON, asCSV bool
	c := &cobra.Command{
		Use:   "inventory",
		Short: "Compute, storage, network and power across all sites, per site and by accreditation level",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var resp httpapi.InventoryResponse
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/inventory", nil, &resp); err != nil {
				return err
			}
			inv := resp.Inventory
			if inv == nil {
				inv = &sites.Inventory{}
			}
			gpuStr := func(m map[string]int) string {
				var ks []string
				for k, v := range m {
					ks = append(ks, fmt.Sprintf("%s×%d", k, v))
				}
				sort.Strings(ks)
				return strings.Join(ks, " ")
			}
			if asCSV {
				w := csv.NewWriter(env.Stdout)
				w.Write([]string{"scope", "name", "status", "accreditation", "sites", "nodes", "cores", "memory_tb", "gpus", "scratch_tb", "bandwidth_gbps", "power_cap_kw", "power_draw_kw"})
				row := func(scope, name, status, acc string, t sites.Totals) {
					w.Write([]string{scope, name, status, acc, strconv.Itoa(t.Sites), strconv.Itoa(t.Nodes), strconv.Itoa(t.Cores),
						fmt.Sprintf("%.2f", t.MemoryTB), gpuStr(t.GPUs), fmt.Sprintf("%.1f", t.ScratchTB), fmt.Sprintf("%.1f", t.BandwidthGbps),
						fmt.Sprintf("%.1f", t.PowerCapKW), fmt.Sprintf("%.1f", t.PowerDrawKW)})
				}
				for _, s := range inv.Sites {
					row("site", s.Name, s.Status, s.Accreditation, s.Totals)
				}
				levels := make([]string, 0, len(inv.ByLevel))
				for l := range inv.ByLevel {
					levels = append(levels, l)
				}
				sort.Strings(levels)
				for _, l := range levels {
					row("level", l, "", l, inv.ByLevel[l])
				}
				row("total", "all", "", "", inv.Totals)
				if lab := resp.Instruments; lab != nil {
					for _, in := range lab.Instruments {
						w.Write([]string{"instrument", in.Name, in.Status, in.Accreditation})
					}
				}
				w.Flush()
				return w.Error()
			}
			return env.output(asJSON, resp, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, "SITE\tSTATUS\tACCREDITATION\tNODES\tCORES\tMEMORY TB\tGPUS\tSCRATCH TB\tGb/s\tkW (draw/cap)")
				line := func(name, status, acc string, t sites.Totals) {
					fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%d\t%.2f\t%s\t%.1f\t%.1f\t%.0f/%.0f\n", name, status, acc, t.Nodes, t.Cores, t.MemoryTB,
						dash(gpuStr(t.GPUs)), t.ScratchTB, t.BandwidthGbps, t.PowerDrawKW, t.PowerCapKW)
				}
				for _, s := range inv.Sites {
					line(s.Name, s.Status, s.Accreditation, s.Totals)
				}
				for l, t := range inv.ByLevel {
					line("("+l+")", fmt.Sprintf("%d/%d up", t.SitesUp, t.Sites), l, t)
				}
				line("TOTAL", fmt.Sprintf("%d/%d up", inv.Totals.SitesUp, inv.Totals.Sites), "", inv.Totals)
				if lab := resp.Instruments; lab != nil {
					// Instruments beside sites: each, then counts by
					// status and by accreditation level.
					w.Flush()
					fmt.Fprintln(w)
					fmt.Fprintln(w, "INSTRUMENT\tKIND\tSTATUS\tACCREDITATION\tWORKCELL\tLAB")
					for _, in := range lab.Instruments {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", in.Name, in.Kind, in.Status, in.Accreditation, dash(in.Workcell), dash(in.Lab))
					}
					fmt.Fprintf(w, "(%d instruments)\tby status:\t%s\tby accreditation:\t%s\n", lab.Total, counts(lab.ByStatus), counts(lab.ByLevel))
				}
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&asCSV, "csv", false, "print CSV")
	return c
}

// counts prints a tally as "a 2, b 1", by key.
func counts(m map[string]int) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	for i, k := range ks {
		ks[i] = k + " " + strconv.Itoa(m[k])
	}
	return dash(strings.Join(ks, ", "))
}
