package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/spf13/cobra"
)

func searchCmd(env *Env) *cobra.Command {
	var domain, kind, org, cursor string
	var keywords []string
	var limit int
	var asJSON, synthetic, measured bool
	c := &cobra.Command{
		Use:   "search [QUERY]",
		Short: "Search the catalog (only what you may read exists for you): ranked hits, snippets and facets",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if len(args) == 1 {
				q.Set("q", args[0])
			}
			for k, v := range map[string]string{"domain": domain, "kind": kind, "org": org, "cursor": cursor} {
				if v != "" {
					q.Set(k, v)
				}
			}
			for _, k := range splitList(keywords) {
				q.Add("keyword", k)
			}
			if limit > 0 {
				q.Set("limit", strconv.Itoa(limit))
			}
			switch {
			case synthetic && measured:
				return errors.E(errors.Invalid, errors.Field("synthetic"), errors.Msg("--synthetic and --measured exclude each other"))
			case synthetic:
				q.Set("synthetic", "true")
			case measured:
				q.Set("synthetic", "false")
			}
			var res search.Result
			if err := c.Do(cmd.Context(), http.MethodGet, "/api/v1/search?"+q.Encode(), nil, &res); err != nil {
				return err
			}
			return env.output(asJSON, res, func(w *tabwriter.Writer) {
				fmt.Fprintln(w, count(res.Total, "result"))
				for _, h := range res.Hits {
					kind := h.Kind
					if h.Synthetic {
						kind += " (synthetic)"
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", h.Name, kind, h.Label, h.Title)
					if h.Snippet != "" && h.Snippet != h.Title {
						fmt.Fprintf(w, "\t\t\t  %s\n", oneLine(h.Snippet, 120))
					}
				}
				names := make([]string, 0, len(res.Facets))
				for n := range res.Facets {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					var parts []string
					for _, f := range res.Facets[n] {
						parts = append(parts, fmt.Sprintf("%s (%d)", f.Value, f.Count))
					}
					if len(parts) > 0 {
						fmt.Fprintf(w, "%s:\t%s\n", n, strings.Join(parts, ", "))
					}
				}
				if res.Next != "" {
					fmt.Fprintf(w, "more: --cursor %s\n", res.Next)
				}
			})
		},
	}
	f := c.Flags()
	f.StringVar(&domain, "domain", "", "only this domain, e.g. nuclear-fission-fusion")
	f.StringVar(&kind, "kind", "", "only this kind: dataset or model")
	f.StringVar(&org, "org", "", "only this organisation")
	f.StringSliceVar(&keywords, "keyword", nil, "only assets with this keyword (repeatable)")
	f.IntVar(&limit, "limit", 0, "results per page")
	f.StringVar(&cursor, "cursor", "", "continue from a previous page")
	f.BoolVar(&synthetic, "synthetic", false, "only assets whose newest version is synthetic data")
	f.BoolVar(&measured, "measured", false, "only assets whose newest version is not synthetic")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}
