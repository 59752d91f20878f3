package cli

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"text/tabwriter"

	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/spf13/cobra"
)

func modelCmd(env *Env) *cobra.Command {
	c := &cobra.Command{Use: "model", Short: "The model registry: artifacts, model cards, metrics and training lineage"}

	var req httpapi.RegisterModelRequest
	var dir, framework, task, metricsFile, cardFile, message string
	var trained []string
	register := &cobra.Command{
		Use:   "register NAME --from-dir DIR --framework F --task T --trained-on DS@V[,DS@V…]",
		Short: "Register a model version; its label is the join of its training data (computed, not typed)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return errors.E(errors.Invalid, errors.Msg("--from-dir DIR is required"))
			}
			meta := &catalog.ModelMeta{Framework: framework, Task: task}
			if metricsFile != "" {
				b, err := os.ReadFile(metricsFile)
				if err != nil {
					return errors.E(errors.Invalid, errors.Msg(err.Error()))
				}
				if !json.Valid(b) {
					return errors.E(errors.Invalid, errors.Msg(metricsFile+" is not valid JSON"))
				}
				meta.Metrics = b
			}
			if cardFile != "" {
				b, err := os.ReadFile(cardFile)
				if err != nil {
					return errors.E(errors.Invalid, errors.Msg(err.Error()))
				}
				meta.Card = string(b)
			}
			c, err := env.client()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			req.Name, req.TrainedOn = args[0], splitList(trained)
			var a catalog.Asset
			if err := c.Do(ctx, http.MethodPost, "/api/v1/models", req, &a); err != nil {
				return err
			}
			srcs, err := pack.Sources([]string{dir}, env.Stdin)
			if err != nil {
				return err
			}
			parent := a.LatestVersion
			var v catalog.Version
			// On the server's machine, as its user, the server packs the
			// directory itself (as dataset put does); else send the chunks.
			lp, err := localPut(ctx, c, a.Name, srcs, httpapi.LocalPutRequest{Message: message, Parent: &parent, Inputs: req.TrainedOn, Model: meta}, nil)
			switch {
			case err == nil:
				v = *lp.Version
			case !errors.Is(errors.NotExist, err):
				return movedOn(err, a.Name)
			default:
				res, err := pack.Pack(ctx, c.Asset(a.Name), srcs, pack.Options{})
				if err != nil {
					return err
				}
				if err := c.Do(ctx, http.MethodPost, "/api/v1/assets/"+url.PathEscape(a.Name)+"/versions",
					httpapi.CommitRequest{Manifest: res.ID.String(), Message: message, Parent: &parent, Inputs: req.TrainedOn, Model: meta}, &v); err != nil {
					return movedOn(err, a.Name)
				}
			}
			where := ""
			if lp != nil {
				where = " (packed by the server on this machine)"
			}
			fmt.Fprintf(env.Stdout, "Registered model %s@%d (%s, %s), label %s, trained on %v; %s, %s%s.\n",
				a.Name, v.Version, framework, task, v.Label, req.TrainedOn, count(v.FileCount, "file"), humanBytes(v.TotalBytes), where)
			return nil
		},
	}
	f := register.Flags()
	f.StringVar(&dir, "from-dir", "", "directory of model artifacts")
	f.StringVar(&framework, "framework", "", "framework, e.g. pytorch, jax, sklearn")
	f.StringVar(&task, "task", "", "task, e.g. regression, classification, segmentation")
	f.StringSliceVar(&trained, "trained-on", nil, "training data versions, DS@V (repeatable or comma-separated)")
	f.StringVar(&metricsFile, "metrics", "", "metrics JSON file (an object)")
	f.StringVar(&cardFile, "card", "", "model card (Markdown)")
	f.StringVar(&req.LabelFloor, "label", "", "optional label floor; the label is at least the join of the training data")
	f.StringVar(&req.Title, "title", "", "title")
	f.StringVar(&req.Project, "project", "", "project")
	f.StringVarP(&message, "message", "m", "", "what this version is")

	list := env.assetList("models", "/api/v1/models")

	fetch := func(cmd *cobra.Command, s string) (*httpapi.VersionView, error) {
		c, err := env.client()
		if err != nil {
			return nil, err
		}
		r, err := catalog.ParseRef(s)
		if err != nil {
			return nil, err
		}
		var v httpapi.VersionView
		if err := c.Do(cmd.Context(), http.MethodGet, versionPath(r), nil, &v); err != nil {
			return nil, err
		}
		return &v, nil
	}
	var showJSON bool
	show := &cobra.Command{
		Use:   "show NAME[@VERSION]",
		Short: "Show a model version: label, framework, task, metrics, card",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := fetch(cmd, args[0])
			if err != nil {
				return err
			}
			if showJSON {
				return env.output(true, v, nil)
			}
			fmt.Fprintf(env.Stdout, "version:   %d\nlabel:     %s\nfiles:     %d (%s)\n", v.Version.Version, v.Label, v.FileCount, humanBytes(v.TotalBytes))
			if v.Model != nil {
				fmt.Fprintf(env.Stdout, "framework: %s\ntask:      %s\n", v.Model.Framework, v.Model.Task)
				for _, kv := range flatMetrics(v.Model.Metrics) {
					fmt.Fprintf(env.Stdout, "metric:    %s = %s\n", kv[0], kv[1])
				}
				if v.Model.Card != "" {
					fmt.Fprintf(env.Stdout, "\n%s\n", v.Model.Card)
				}
			}
			return nil
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")

	var cmpJSON bool
	compare := &cobra.Command{
		Use:   "compare NAME@A NAME@B",
		Short: "Compare the metrics of two model versions",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := fetch(cmd, args[0])
			if err != nil {
				return err
			}
			b, err := fetch(cmd, args[1])
			if err != nil {
				return err
			}
			ma, mb := metricMap(a.Model), metricMap(b.Model)
			keys := map[string]bool{}
			for k := range ma {
				keys[k] = true
			}
			for k := range mb {
				keys[k] = true
			}
			type row struct {
				Metric string   `json:"metric"`
				A      *float64 `json:"a"`
				B      *float64 `json:"b"`
				Delta  *float64 `json:"delta,omitempty"`
			}
			var rows []row
			for k := range keys {
				r := row{Metric: k}
				if v, ok := ma[k]; ok {
					r.A = &v
				}
				if v, ok := mb[k]; ok {
					r.B = &v
				}
				if r.A != nil && r.B != nil {
					d := *r.B - *r.A
					r.Delta = &d
				}
				rows = append(rows, r)
			}
			sort.Slice(rows, func(i, j int) bool { return rows[i].Metric < rows[j].Metric })
			return env.output(cmpJSON, rows, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "METRIC\t%s\t%s\tDELTA\n", args[0], args[1])
				num := func(p *float64) string {
					if p == nil {
						return "-"
					}
					return strconv.FormatFloat(*p, 'g', 6, 64)
				}
				for _, r := range rows {
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", r.Metric, num(r.A), num(r.B), num(r.Delta))
				}
			})
		},
	}
	compare.Flags().BoolVar(&cmpJSON, "json", false, "print JSON")
	c.AddCommand(register, list, show, compare)
	return c
}

// metricMap flattens a metrics object into dotted names → numbers.
func metricMap(m *catalog.ModelMeta) map[string]float64 {
	out := map[string]float64{}
	if m == nil || len(m.Metrics) == 0 {
		return out
	}
	var v any
	if json.Unmarshal(m.Metrics, &v) != nil {
		return out
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, e)
			}
		case float64:
			if !math.IsNaN(x) {
				out[prefix] = x
			}
		}
	}
	walk("", v)
	return out
}

func flatMetrics(raw json.RawMessage) [][2]string {
	m := metricMap(&catalog.ModelMeta{Metrics: raw})
	var out [][2]string
	for k, v := range m {
		out = append(out, [2]string{k, strconv.FormatFloat(v, 'g', 6, 64)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}
