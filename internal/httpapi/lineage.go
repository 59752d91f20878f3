package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
)

func (s *Server) lineage(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.lineage"
	q := r.URL.Query()
	ref := catalog.VersionRef{Asset: r.PathValue("name")}
	if v := q.Get("version"); v != "" && v != "latest" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return errors.E(op, errors.Invalid, errors.Field("version"), errors.Msg("version must be a positive number or latest"))
		}
		ref.Version = n
	}
	up := true
	switch q.Get("direction") {
	case "", "up":
	case "down":
		up = false
	default:
		return errors.E(op, errors.Invalid, errors.Field("direction"), errors.Msg("direction must be up or down"))
	}
	depth := 5
	if v := q.Get("depth"); v != "" {
		var err error
		if depth, err = strconv.Atoi(v); err != nil {
			return errors.E(op, errors.Invalid, errors.Field("depth"), errors.Msg("depth must be a number"))
		}
	}
	g, err := s.catalog.Lineage(r.Context(), me(r), ref, up, depth)
	if err != nil {
		return err
	}
	switch q.Get("format") {
	case "", "json":
		writeJSON(w, http.StatusOK, g)
	case "dot":
		w.Header().Set("Content-Type", "text/vnd.graphviz; charset=utf-8")
		w.Write([]byte(Dot(g)))
	case "openlineage":
		writeJSON(w, http.StatusOK, OpenLineage(g))
	default:
		return errors.E(op, errors.Invalid, errors.Field("format"), errors.Msg("format must be json, dot or openlineage"))
	}
	return nil
}

// Dot renders a lineage graph for Graphviz.
func Dot(g *catalog.Graph) string {
	var b strings.Builder
	b.WriteString("digraph lineage {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n")
	names := map[catalog.VersionRef]string{}
	for _, n := range g.Nodes {
		ref := catalog.VersionRef{Asset: n.Asset, Version: n.Version}
		names[ref] = n.Name
		fmt.Fprintf(&b, "  %q [label=%q];\n", ref.String(), fmt.Sprintf("%s@%d\n%s\n%s", n.Name, n.Version, n.Kind, n.Label))
	}
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "  %q -> %q [label=%q];\n", e.Parent.String(), e.Child.String(), e.Activity)
	}
	b.WriteString("}\n")
	return b.String()
}

// OpenLineageEvent is an OpenLineage run event (COMPLETE), one per activity.
type OpenLineageEvent struct {
	EventType string           `json:"eventType"`
	EventTime string           `json:"eventTime"`
	Producer  string           `json:"producer"`
	SchemaURL string           `json:"schemaURL"`
	Run       map[string]any   `json:"run"`
	Job       map[string]any   `json:"job"`
	Inputs    []map[string]any `json:"inputs"`
	Outputs   []map[string]any `json:"outputs"`
}

// OpenLineage turns a lineage graph into OpenLineage run events: each
// activity (a put, job, training run, release) is a run whose inputs and
// outputs are asset versions in the "genesis" namespace.
func OpenLineage(g *catalog.Graph) []OpenLineageEvent {
	names := map[catalog.VersionRef]catalog.Node{}
	for _, n := range g.Nodes {
		names[catalog.VersionRef{Asset: n.Asset, Version: n.Version}] = n
	}
	ds := func(r catalog.VersionRef) map[string]any {
		n := names[r]
		return map[string]any{"namespace": "genesis", "name": fmt.Sprintf("%s@%d", n.Name, n.Version),
			"facets": map[string]any{"genesis_label": map[string]any{"label": n.Label}}}
	}
	type key struct {
		activity, id string
		child        catalog.VersionRef
	}
	byRun := map[key]*OpenLineageEvent{}
	var order []key
	for _, e := range g.Edges {
		k := key{e.Activity, e.ActivityID, e.Child}
		ev := byRun[k]
		if ev == nil {
			runID := e.ActivityID
			if runID == "" {
				runID = fmt.Sprintf("%s-%s", e.Activity, e.Child.String())
			}
			ev = &OpenLineageEvent{EventType: "COMPLETE", EventTime: e.Time.UTC().Format("2006-01-02T15:04:05.000Z"),
				Producer:  "https://github.com/genesis-science/genesis",
				SchemaURL: "https://openlineage.io/spec/2-0-2/OpenLineage.json#/definitions/RunEvent",
				Run:       map[string]any{"runId": runID},
				Job:       map[string]any{"namespace": "genesis", "name": e.Activity},
				Outputs:   []map[string]any{ds(e.Child)}}
			byRun[k] = ev
			order = append(order, k)
		}
		ev.Inputs = append(ev.Inputs, ds(e.Parent))
	}
	out := []OpenLineageEvent{}
	for _, k := range order {
		out = append(out, *byRun[k])
	}
	return out
}
