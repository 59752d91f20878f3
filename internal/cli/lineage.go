package cli

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/spf13/cobra"
)

func lineageCmd(env *Env) *cobra.Command {
	var upFlag, down, asJSON, dot, ol bool
	var depth int
	c := &cobra.Command{
		Use:   "lineage ASSET[@VERSION] [--up|--down] [--depth N] [--json|--dot|--openlineage]",
		Short: "Show where a version came from (--up) or what was derived from it (--down), over what you may read",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if upFlag && down {
				return errors.E(errors.Invalid, errors.Msg("--up and --down exclude each other"))
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			r, err := catalog.ParseRef(args[0])
			if err != nil {
				return err
			}
			q := url.Values{"depth": {strconv.Itoa(depth)}, "direction": {"up"}}
			if down {
				q.Set("direction", "down")
			}
			if r.Version > 0 {
				q.Set("version", strconv.FormatInt(r.Version, 10))
			}
			path := "/api/v1/assets/" + url.PathEscape(r.Asset) + "/lineage?"
			switch {
			case dot:
				q.Set("format", "dot")
				b, _, err := c.Get(cmd.Context(), path+q.Encode())
				if err != nil {
					return err
				}
				_, err = env.Stdout.Write(b)
				return err
			case ol:
				q.Set("format", "openlineage")
				b, _, err := c.Get(cmd.Context(), path+q.Encode())
				if err != nil {
					return err
				}
				_, err = env.Stdout.Write(b)
				return err
			}
			var g catalog.Graph
			if err := c.Do(cmd.Context(), http.MethodGet, path+q.Encode(), nil, &g); err != nil {
				return err
			}
			if asJSON {
				return env.output(true, g, nil)
			}
			names := map[catalog.VersionRef]catalog.Node{}
			for _, n := range g.Nodes {
				names[catalog.VersionRef{Asset: n.Asset, Version: n.Version}] = n
			}
			show := func(ref catalog.VersionRef) string {
				n := names[ref]
				return fmt.Sprintf("%s@%d [%s]", n.Name, n.Version, n.Label)
			}
			fmt.Fprintln(env.Stdout, show(g.Root))
			printTree(env, &g, g.Root, !down, "", map[catalog.VersionRef]bool{g.Root: true}, show)
			return nil
		},
	}
	c.Flags().BoolVar(&upFlag, "up", false, "upstream: what it was derived from (default)")
	c.Flags().BoolVar(&down, "down", false, "downstream: what was derived from it")
	c.Flags().IntVar(&depth, "depth", 5, "how many steps to follow")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Flags().BoolVar(&dot, "dot", false, "print Graphviz dot")
	c.Flags().BoolVar(&ol, "openlineage", false, "print OpenLineage run events (JSON)")
	return c
}

func printTree(env *Env, g *catalog.Graph, at catalog.VersionRef, up bool, indent string, seen map[catalog.VersionRef]bool, show func(catalog.VersionRef) string) {
	for _, e := range g.Edges {
		from, to := e.Child, e.Parent
		if !up {
			from, to = e.Parent, e.Child
		}
		if from != at {
			continue
		}
		arrow := "←"
		if !up {
			arrow = "→"
		}
		fmt.Fprintf(env.Stdout, "%s  %s %s  (%s %s)\n", indent, arrow, show(to), e.Activity, e.ActivityID)
		if !seen[to] {
			seen[to] = true
			printTree(env, g, to, up, indent+"    ", seen, show)
		}
	}
}
