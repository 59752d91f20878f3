package console

import (
	"encoding/json"
	"math"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
)

// Bounds of the models pages.
const (
	modelsPage = 30
	// cardMetrics is how many metrics a model card shows.
	cardMetrics = 4
	// modelVersionsShown bounds the versions the model page reads.
	modelVersionsShown = 100
)

// metricValue is a named number of a model version's metrics.
type metricValue struct {
	Name  string
	Value string
}

// modelCard is a model as the models page shows it.
type modelCard struct {
	Asset     catalog.Asset
	Latest    int64
	Framework string
	Task      string
	Metrics   []metricValue
	TrainedOn []lineageLink
}

type modelsData struct {
	Models []modelCard
	Next   string
}

// numericMetrics returns the top-level numeric entries of a metrics JSON
// object (nested objects and other values are not plotted), by name.
func numericMetrics(raw json.RawMessage) map[string]float64 {
	if len(raw) == 0 {
		return nil
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	out := map[string]float64{}
	for k, v := range obj {
		if x, ok := v.(float64); ok && !math.IsNaN(x) && !math.IsInf(x, 0) {
			out[k] = x
		}
	}
	return out
}

func sortedKeys(m map[string]float64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// trainedOn is the version's inputs the viewer may read (its lineage one
// step up), each shown on the page's banner.
func (c *Console) trainedOn(r *http.Request, v *viewer, pg *page, ref catalog.VersionRef) ([]lineageLink, error) {
	g, err := c.cfg.Catalog.Lineage(r.Context(), v.p, ref, true, 1)
	if err != nil {
		return nil, err
	}
	return lineageOf(pg, g, ref, true)
}

// models is the models page: a card for each model the viewer may read,
// with its latest version's framework, key metrics and training data.
func (c *Console) models(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.models"
	if c.cfg.Catalog == nil {
		return errors.E(op, errors.Unavailable, errors.Msg("the catalog is not configured"))
	}
	ctx, p := r.Context(), v.p
	pg := c.newPage("Models", v, "")
	pg.Nav = "models"
	as, next, err := c.cfg.Catalog.List(ctx, p, catalog.KindModel, catalog.ListOptions{Limit: modelsPage, Cursor: r.URL.Query().Get("cursor")})
	if err != nil {
		return err
	}
	d := modelsData{}
	for _, a := range as {
		if err := pg.show(a.Label); err != nil {
			return err
		}
		card := modelCard{Asset: a}
		vs, err := c.cfg.Catalog.Versions(ctx, p, a.ID)
		if err != nil {
			return err
		}
		if len(vs) > 0 {
			latest := vs[0]
			for _, ver := range vs {
				if ver.Version > latest.Version {
					latest = ver
				}
			}
			if err := pg.show(latest.Label); err != nil {
				return err
			}
			card.Latest = latest.Version
			_, mm, err := c.cfg.Catalog.ModelMeta(ctx, p, a.ID, latest.Version)
			if err != nil {
				return err
			}
			if mm != nil {
				card.Framework, card.Task = mm.Framework, mm.Task
				ms := numericMetrics(mm.Metrics)
				for _, k := range sortedKeys(ms) {
					if len(card.Metrics) == cardMetrics {
						break
					}
					card.Metrics = append(card.Metrics, metricValue{Name: k, Value: num(ms[k])})
				}
			}
			if card.TrainedOn, err = c.trainedOn(r, v, pg, catalog.VersionRef{Asset: a.ID, Version: latest.Version}); err != nil {
				return err
			}
		}
		d.Models = append(d.Models, card)
	}
	if next != "" {
		d.Next = "/models?" + url.Values{"cursor": {next}}.Encode()
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "models", pg)
}

// modelVersionRow is a version of a model with its metrics and lineage.
type modelVersionRow struct {
	catalog.Version
	Framework string
	Task      string
	// Values holds the version's value of each of the page's metrics, in
	// the page's order ("" where it has none).
	Values    []string
	TrainedOn []lineageLink
}

type modelData struct {
	Asset    *catalog.Asset
	Metrics  []string
	Charts   []paramPlot
	Versions []modelVersionRow
	Card     string
}

// getModel reads a model as the viewer: an asset of another kind is
// missing here, like one it may not read.
func (c *Console) getModel(r *http.Request, v *viewer) (*catalog.Asset, error) {
	const op errors.Op = "console.model"
	if c.cfg.Catalog == nil {
		return nil, errors.E(op, errors.NotExist)
	}
	a, err := c.cfg.Catalog.Get(r.Context(), v.p, r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	if a.Kind != catalog.KindModel {
		return nil, errors.E(op, errors.NotExist)
	}
	return a, nil
}

// modelVersions reads the model's newest versions (oldest first) with
// their metadata, as the viewer.
func (c *Console) modelVersions(r *http.Request, v *viewer, a *catalog.Asset) ([]catalog.Version, []*catalog.ModelMeta, error) {
	vs, err := c.cfg.Catalog.Versions(r.Context(), v.p, a.ID)
	if err != nil {
		return nil, nil, err
	}
	slices.SortFunc(vs, func(x, y catalog.Version) int { return int(x.Version - y.Version) })
	if len(vs) > modelVersionsShown {
		vs = vs[len(vs)-modelVersionsShown:]
	}
	ms := make([]*catalog.ModelMeta, len(vs))
	for i, ver := range vs {
		_, m, err := c.cfg.Catalog.ModelMeta(r.Context(), v.p, a.ID, ver.Version)
		if err != nil {
			return nil, nil, err
		}
		ms[i] = m
	}
	return vs, ms, nil
}

// model is a model's page: its metrics across versions as a table and a
// chart per metric, and each version with the data it was trained on.
func (c *Console) model(w http.ResponseWriter, r *http.Request, v *viewer) error {
	a, err := c.getModel(r, v)
	if err != nil {
		return err
	}
	pg := c.newPage(a.Name, v, "")
	pg.Nav = "models"
	if err := pg.show(a.Label); err != nil {
		return err
	}
	vs, ms, err := c.modelVersions(r, v, a)
	if err != nil {
		return err
	}
	names := map[string]float64{}
	per := make([]map[string]float64, len(vs))
	d := modelData{Asset: a}
	for i, m := range ms {
		if err := pg.show(vs[i].Label); err != nil {
			return err
		}
		if m != nil {
			per[i] = numericMetrics(m.Metrics)
			for k := range per[i] {
				names[k] = 0
			}
			if m.Card != "" {
				d.Card = m.Card
			}
		}
	}
	d.Metrics = sortedKeys(names)
	for _, k := range d.Metrics {
		d.Charts = append(d.Charts, paramPlot{Name: k, Src: "/models/" + url.PathEscape(a.Name) + "/metrics/" + url.PathEscape(k)})
	}
	// Newest first in the table.
	for i := len(vs) - 1; i >= 0; i-- {
		row := modelVersionRow{Version: vs[i]}
		if ms[i] != nil {
			row.Framework, row.Task = ms[i].Framework, ms[i].Task
		}
		for _, k := range d.Metrics {
			s := ""
			if x, ok := per[i][k]; ok {
				s = num(x)
			}
			row.Values = append(row.Values, s)
		}
		if row.TrainedOn, err = c.trainedOn(r, v, pg, catalog.VersionRef{Asset: a.ID, Version: vs[i].Version}); err != nil {
			return err
		}
		d.Versions = append(d.Versions, row)
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "model", pg)
}

// modelMetricPlot is GET /models/{name}/metrics/{metric}: the metric
// across the model's versions the viewer may read, as SVG (one point per
// version that has it, the best — the highest, or the lowest for a loss
// or error — marked). A metric no version has is NotExist.
func (c *Console) modelMetricPlot(w http.ResponseWriter, r *http.Request, v *viewer) error {
	a, err := c.getModel(r, v)
	if err != nil {
		return err
	}
	vs, ms, err := c.modelVersions(r, v, a)
	if err != nil {
		return err
	}
	metric := r.PathValue("metric")
	ch := &chart{Title: metric + " by version", XLabel: "version", YLabel: metric, Line: true}
	best := -1
	lower := lowerIsBetter(metric)
	for i, m := range ms {
		if m == nil {
			continue
		}
		x, ok := numericMetrics(m.Metrics)[metric]
		if !ok {
			continue
		}
		ch.Points = append(ch.Points, chartPoint{X: float64(vs[i].Version), Y: x, Tip: "v" + num(float64(vs[i].Version)) + ": " + num(x)})
		j := len(ch.Points) - 1
		if best < 0 || (lower && x < ch.Points[best].Y) || (!lower && x > ch.Points[best].Y) {
			best = j
		}
	}
	if len(ch.Points) == 0 {
		return errors.E(errors.Op("console.modelMetricPlot"), errors.NotExist)
	}
	ch.Points[best].Best = true
	writeSVG(w, ch.svg())
	return nil
}

// lowerIsBetter guesses a metric's direction from its name: losses and
// errors are better low.
func lowerIsBetter(metric string) bool {
	m := strings.ToLower(metric)
	for _, s := range []string{"loss", "err", "rmse", "mae", "mse", "perplexity"} {
		if strings.Contains(m, s) {
			return true
		}
	}
	return false
}

// lineageOf is the assets one step up (up) or down from ref in g, each
// shown on the page's banner.
func lineageOf(pg *page, g *catalog.Graph, ref catalog.VersionRef, up bool) ([]lineageLink, error) {
	nodes := map[catalog.VersionRef]catalog.Node{}
	for _, n := range g.Nodes {
		nodes[catalog.VersionRef{Asset: n.Asset, Version: n.Version}] = n
	}
	var out []lineageLink
	seen := map[catalog.VersionRef]bool{}
	for _, e := range g.Edges {
		var other catalog.VersionRef
		switch {
		case up && e.Child == ref:
			other = e.Parent
		case !up && e.Parent == ref:
			other = e.Child
		default:
			continue
		}
		n, ok := nodes[other]
		if !ok || seen[other] {
			continue
		}
		seen[other] = true
		if err := pg.show(n.Label); err != nil {
			return nil, err
		}
		out = append(out, lineageLink{Node: n, Activity: e.Activity})
	}
	return out, nil
}
