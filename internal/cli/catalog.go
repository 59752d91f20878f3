package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/spf13/cobra"
)

func catalogCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "catalog", Short: "Harmonised metadata: import from DataCite, schema.org, DCAT-US, CKAN or CSV; show; export"}

	var format, lbl, project string
	var importJSON bool
	imp := &cobra.Command{
		Use:         "import FILE --label MARKING [--format auto|datacite|schemaorg|dcat-us|ckan|csv]",
		Annotations: map[string]string{refsAnnotation: "0"},
		Short:       "Import one or many metadata records; prints what was imported, updated and rejected (with reasons)",
		Args:        cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[0])
			if err != nil {
				return errors.E(errors.Invalid, errors.Msg(err.Error()))
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			q := url.Values{"format": {format}, "label": {lbl}}
			if project != "" {
				q.Set("project", project)
			}
			_, _, body, err := c.RawPost(cmd.Context(), "/api/v1/catalog/import?"+q.Encode(), "application/octet-stream", b)
			if err != nil {
				return err
			}
			var sum catalog.ImportSummary
			if err := json.Unmarshal(body, &sum); err != nil {
				return errors.E(errors.Internal, errors.Msg("unexpected response from the server"))
			}
			if err := env.output(importJSON, sum, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "%s: %d imported, %d updated, %d rejected\n", sum.Format, len(sum.Imported), len(sum.Updated), len(sum.Rejected))
				for _, a := range sum.Imported {
					fmt.Fprintf(w, "  imported\t#%d\t%s\tquality %d\t%s\n", a.Index, a.Asset, a.Quality, a.SourceID)
				}
				for _, a := range sum.Updated {
					fmt.Fprintf(w, "  updated\t#%d\t%s\tquality %d\t%s\n", a.Index, a.Asset, a.Quality, a.SourceID)
				}
				for _, r := range sum.Rejected {
					fmt.Fprintf(w, "  rejected\t#%d\t%s\t%s\n", r.Index, dash(r.SourceID), r.Reason)
				}
			}); err != nil {
				return err
			}
			if len(sum.Imported)+len(sum.Updated) == 0 && len(sum.Rejected) > 0 {
				return errors.E(errors.Invalid, errors.Msg("no record was imported"))
			}
			return nil
		},
	}
	imp.Flags().StringVar(&format, "format", "auto", "auto, datacite, schemaorg, dcat-us, ckan or csv")
	imp.Flags().StringVar(&lbl, "label", "", "label of the assets the import creates (required)")
	imp.Flags().StringVar(&project, "project", "", "project of the assets the import creates")
	imp.Flags().BoolVar(&importJSON, "json", false, "print JSON")

	var showJSON bool
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an asset's metadata, quality score and findings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			var m catalog.Metadata
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/assets/"+url.PathEscape(args[0])+"/metadata", nil, &m); err != nil {
				return err
			}
			return env.output(showJSON, m, func(w *tabwriter.Writer) {
				co := m.Core
				fmt.Fprintf(w, "title:\t%s\n", co.Title)
				if co.DOI != "" {
					fmt.Fprintf(w, "doi:\t%s\n", co.DOI)
				}
				var creators []string
				for _, cr := range co.Creators {
					creators = append(creators, cr.Name)
				}
				fmt.Fprintf(w, "creators:\t%s\norganization:\t%s\ndomain:\t%s\nlicense:\t%s\nkeywords:\t%s\nquality:\t%d/100\n",
					dash(strings.Join(creators, "; ")), dash(co.Organization), dash(string(co.Domain)), dash(co.License), dash(strings.Join(co.Keywords, ", ")), m.Quality.Score)
				for _, f := range m.Quality.Findings {
					fmt.Fprintf(w, "  -%d\t%s\n", f.Penalty, f.Message)
				}
				if m.Provenance.Format != "" {
					fmt.Fprintf(w, "source:\t%s %s\n", m.Provenance.Format, m.SourceID)
				}
			})
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	var exportFormat string
	export := &cobra.Command{
		Use:   "export NAME --format datacite|dcat-us",
		Short: "Export an asset's metadata as DataCite JSON or a DCAT-US dataset",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			b, _, err := c.Get(cmd.Context(), "/api/v1/assets/"+url.PathEscape(args[0])+"/metadata/export?format="+url.QueryEscape(exportFormat))
			if err != nil {
				return err
			}
			var out bytes.Buffer
			if json.Indent(&out, b, "", "  ") != nil {
				out.Reset()
				out.Write(b)
			}
			out.WriteByte('\n')
			_, err = env.Stdout.Write(out.Bytes())
			return err
		},
	}
	export.Flags().StringVar(&exportFormat, "format", "datacite", "datacite or dcat-us")

	schema := &cobra.Command{
		Use:         "schema NAME FILE",
		Annotations: map[string]string{refsAnnotation: "1"},
		Short:       "Register a JSON Schema for a domain extension (stewards)",
		Args:        cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			b, err := os.ReadFile(args[1])
			if err != nil {
				return errors.E(errors.Invalid, errors.Msg(err.Error()))
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			if _, _, _, err := c.RawPut(cmd.Context(), "/api/v1/extension-schemas/"+url.PathEscape(args[0]), "application/json", b); err != nil {
				return err
			}
			fmt.Fprintf(env.Stdout, "Registered extension schema %s.\n", args[0])
			return nil
		},
	}
	c.AddCommand(imp, show, export, schema)
	return c
}
