package cli

import (
	"fmt"
	"net/http"
	"text/tabwriter"
	"time"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
)

func fsckCmd(env *Env) *cobra.Command {
	var quick, asJSON bool
	c := &cobra.Command{
		Use:   "fsck",
		Short: "Check every version's manifest and every chunk (exit 1 on any missing or corrupt)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var rep catalog.FsckReport
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/admin/fsck", httpapi.FsckRequest{Quick: quick}, &rep); err != nil {
				return err
			}
			if err := env.output(asJSON, rep, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "checked %d versions, %d distinct chunks (%s)\n", rep.Versions, rep.Chunks, humanBytes(rep.Bytes))
				for _, p := range rep.Problems {
					fmt.Fprintf(w, "%s\t%s@%d (%s)\t%s\t%s\n", p.Kind, p.Asset, p.Version, p.ID, p.Chunk, p.Detail)
				}
			}); err != nil {
				return err
			}
			if len(rep.Problems) > 0 {
				return errors.E(errors.Internal, errors.Msg(fmt.Sprintf("%d problem(s) found", len(rep.Problems))))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&quick, "quick", false, "only check that chunks exist, without reading and verifying them")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func gcCmd(env *Env) *cobra.Command {
	var grace time.Duration
	var dry, asJSON bool
	c := &cobra.Command{
		Use:   "gc",
		Short: "Reclaim chunks no version references (uploads in progress are safe for --grace)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var rep catalog.GCReport
			if err := c.Do(cmd.Context(), http.MethodPost, "/api/v1/admin/gc", httpapi.GCRequest{GraceSeconds: int64(grace / time.Second), DryRun: dry}, &rep); err != nil {
				return err
			}
			return env.output(asJSON, rep, func(w *tabwriter.Writer) {
				verb := "deleted"
				if dry {
					verb = "would delete"
				}
				fmt.Fprintf(w, "scanned %d chunks; %s %d (%s); kept %d referenced and %d within the %s grace period; forgot %d abandoned uploads\n",
					rep.Scanned, verb, rep.Deleted, humanBytes(rep.DeletedBytes), rep.KeptCommitted, rep.KeptInGrace, grace, rep.Abandoned)
			})
		},
	}
	c.Flags().DurationVar(&grace, "grace", 24*time.Hour, "keep chunks of uploads younger than this")
	c.Flags().BoolVar(&dry, "dry-run", false, "report only")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
