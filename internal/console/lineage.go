package console

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// Bounds of the lineage graph (the asset page's drawing and its
// lineage.json).
const (
	// maxLineageDepth is the deepest a graph may look, each way (the
	// catalog's own bound).
	maxLineageDepth = 100
	// defaultLineageDepth is lineage.json's depth when none is asked for.
	defaultLineageDepth = 10
	// pageLineageDepth is how far, each way, the asset page draws.
	pageLineageDepth = 16
	// maxGraphNodes bounds the nodes of one graph: past it the graph keeps
	// the nodes nearest the asset (fewest steps, then by name) and says
	// it was truncated; edges to dropped nodes are dropped with them.
	maxGraphNodes = 2000
)

// pageGraphLimit is the asset page's node bound (a variable so that a
// test can see the page truncate without making thousands of assets).
var pageGraphLimit = maxGraphNodes

// Directions of a lineage graph.
const (
	dirUp   = "up"
	dirDown = "down"
	dirBoth = "both"
)

// lineageQuery is lineage.json's query: which way and how far.
type lineageQuery struct {
	Dir   string
	Depth int
}

// parseLineageQuery parses lineage.json's query parameters: dir (up, down
// or both; both when absent) and depth (1..maxLineageDepth;
// defaultLineageDepth when absent). Any other parameter, or one given
// twice, is refused: a typo must not silently return a different graph.
// Messages name the parameter, never echo the value.
func parseLineageQuery(q url.Values) (lineageQuery, error) {
	const op errors.Op = "console.lineageQuery"
	lq := lineageQuery{Dir: dirBoth, Depth: defaultLineageDepth}
	for k, vs := range q {
		switch k {
		case "dir", "depth":
			if len(vs) != 1 {
				return lq, errors.E(op, errors.Invalid, errors.Field(k), errors.Msg("parameter "+k+" is given more than once"))
			}
		default:
			return lq, errors.E(op, errors.Invalid, errors.Msg("unknown query parameter: lineage.json takes dir and depth"))
		}
	}
	if vs, ok := q["dir"]; ok {
		switch vs[0] {
		case dirUp, dirDown, dirBoth:
			lq.Dir = vs[0]
		default:
			return lq, errors.E(op, errors.Invalid, errors.Field("dir"), errors.Msg("dir must be up, down or both"))
		}
	}
	if vs, ok := q["depth"]; ok {
		d, err := strconv.Atoi(vs[0])
		if err != nil || d < 1 || d > maxLineageDepth || vs[0][0] == '+' || (len(vs[0]) > 1 && vs[0][0] == '0') {
			return lq, errors.E(op, errors.Invalid, errors.Field("depth"), errors.Msg("depth must be a whole number from 1 to "+strconv.Itoa(maxLineageDepth)))
		}
		lq.Depth = d
	}
	return lq, nil
}

// Encode is the query back as URL parameters (parseLineageQuery's
// inverse).
func (lq lineageQuery) Encode() string {
	return url.Values{"dir": {lq.Dir}, "depth": {strconv.Itoa(lq.Depth)}}.Encode()
}

// graphNode is an asset version in the drawn graph.
type graphNode struct {
	// ID is "ASSETID@VERSION", unique in the graph.
	ID      string       `json:"id"`
	Name    string       `json:"name"`
	Version int64        `json:"version"`
	Kind    catalog.Kind `json:"kind"`
	Title   string       `json:"title,omitempty"`
	Marking string       `json:"marking"`
	// Level is the marking's level as the console's CSS names it (open,
	// proprietary, national-security).
	Level string `json:"level"`
	// Side is root, up (the asset was derived from it) or down.
	Side string `json:"side"`
	// Dist is the fewest steps from the root.
	Dist int `json:"dist"`
}

// graphEdge says To was derived from From (data flows from → to).
type graphEdge struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Activity string `json:"activity"`
}

// lineageGraph is what lineage.json answers and the asset page embeds.
type lineageGraph struct {
	Root  string      `json:"root"`
	Dir   string      `json:"dir"`
	Depth int         `json:"depth"`
	Nodes []graphNode `json:"nodes"`
	Edges []graphEdge `json:"edges"`
	// Up and Down count the nodes on each side (the root in neither).
	Up   int `json:"up"`
	Down int `json:"down"`
	// Truncated says nodes were left out past Limit.
	Truncated bool `json:"truncated"`
	Limit     int  `json:"limit"`
	// Marking is the join of the nodes' markings (what a page showing
	// the graph must be marked at least).
	Marking string `json:"marking"`

	// parents and children are the root's immediate neighbours, with
	// the activity that links them (the asset page's link lists).
	parents, children []lineageLink
}

func nodeID(r catalog.VersionRef) string { return r.Asset + "@" + strconv.FormatInt(r.Version, 10) }

// buildLineage reads the graph around ref as p (catalog.Lineage, once per
// direction): what p may not read is absent, as from the API's lineage.
func buildLineage(ctx context.Context, cat *catalog.Service, p *genesis.Principal, ref catalog.VersionRef, lq lineageQuery, limit int) (*lineageGraph, error) {
	const op errors.Op = "console.lineage"
	g := &lineageGraph{Dir: lq.Dir, Depth: lq.Depth, Nodes: []graphNode{}, Edges: []graphEdge{}, Limit: limit}
	nodes := map[catalog.VersionRef]*graphNode{}
	var order []*graphNode
	type edgeKey struct{ from, to catalog.VersionRef }
	seenEdge := map[edgeKey]bool{}
	var edges []catalog.Edge
	for _, up := range []bool{true, false} {
		if (up && lq.Dir == dirDown) || (!up && lq.Dir == dirUp) {
			continue
		}
		cg, err := cat.Lineage(ctx, p, ref, up, lq.Depth)
		if err != nil {
			return nil, errors.E(op, err)
		}
		ref = cg.Root
		side := dirDown
		if up {
			side = dirUp
		}
		for _, n := range cg.Nodes {
			r := catalog.VersionRef{Asset: n.Asset, Version: n.Version}
			if nodes[r] != nil {
				continue
			}
			s := side
			if r == cg.Root {
				s = "root"
			}
			gn := &graphNode{ID: nodeID(r), Name: n.Name, Version: n.Version, Kind: n.Kind, Title: n.Title,
				Marking: n.Label, Level: markingLevel(n.Label), Side: s, Dist: -1}
			nodes[r] = gn
			order = append(order, gn)
		}
		for _, e := range cg.Edges {
			k := edgeKey{e.Parent, e.Child}
			if seenEdge[k] || nodes[e.Parent] == nil || nodes[e.Child] == nil {
				continue
			}
			seenEdge[k] = true
			edges = append(edges, e)
			if up && e.Child == cg.Root {
				g.parents = append(g.parents, lineageLink{Node: nodeOf(*nodes[e.Parent], e.Parent), Activity: e.Activity})
			}
			if !up && e.Parent == cg.Root {
				g.children = append(g.children, lineageLink{Node: nodeOf(*nodes[e.Child], e.Child), Activity: e.Activity})
			}
		}
	}
	g.Root = nodeID(ref)
	// Fewest steps from the root, breadth first over the undirected
	// edges (each side's edges only reach that side).
	adj := map[catalog.VersionRef][]catalog.VersionRef{}
	for _, e := range edges {
		adj[e.Parent] = append(adj[e.Parent], e.Child)
		adj[e.Child] = append(adj[e.Child], e.Parent)
	}
	if rn := nodes[ref]; rn != nil {
		rn.Dist = 0
	}
	for frontier := []catalog.VersionRef{ref}; len(frontier) > 0; {
		var next []catalog.VersionRef
		for _, n := range frontier {
			for _, m := range adj[n] {
				if gm := nodes[m]; gm != nil && gm.Dist < 0 {
					gm.Dist = nodes[n].Dist + 1
					next = append(next, m)
				}
			}
		}
		frontier = next
	}
	slices.SortStableFunc(order, func(a, b *graphNode) int {
		return cmp.Or(cmp.Compare(a.Dist, b.Dist), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Version, b.Version), cmp.Compare(a.ID, b.ID))
	})
	if len(order) > limit {
		for _, n := range order[limit:] {
			n.Dist = -2 // dropped
		}
		order = order[:limit]
		g.Truncated = true
	}
	join := label.Label{}
	for _, n := range order {
		l, err := label.Parse(n.Marking)
		if err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
		join = label.Join(join, l)
		switch n.Side {
		case dirUp:
			g.Up++
		case dirDown:
			g.Down++
		}
		g.Nodes = append(g.Nodes, *n)
	}
	for _, e := range edges {
		if nodes[e.Parent].Dist < 0 || nodes[e.Child].Dist < 0 {
			continue
		}
		g.Edges = append(g.Edges, graphEdge{From: nodeID(e.Parent), To: nodeID(e.Child), Activity: e.Activity})
	}
	g.Marking = join.Format()
	return g, nil
}

func nodeOf(n graphNode, r catalog.VersionRef) catalog.Node {
	return catalog.Node{Asset: r.Asset, Name: n.Name, Kind: n.Kind, Version: r.Version, Label: n.Marking, Title: n.Title}
}

// notFoundJSON is lineage.json's answer for an asset that does not exist
// and for one the viewer may not read: the same bytes.
var notFoundJSON = []byte(`{"error":"not found"}` + "\n")

// lineageJSON is GET /assets/{asset}/lineage.json: the graph around the
// asset's newest version that the viewer may read, as the viewer.
func (c *Console) lineageJSON(w http.ResponseWriter, r *http.Request, v *viewer) error {
	lq, err := parseLineageQuery(r.URL.Query())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": errors.SafeMessage(err), "field": errors.FieldOf(err)})
		return nil
	}
	if c.cfg.Catalog == nil {
		writeJSONBytes(w, http.StatusNotFound, notFoundJSON)
		return nil
	}
	g, err := c.assetLineage(r.Context(), v.p, r.PathValue("asset"), lq, maxGraphNodes)
	switch {
	case errors.Is(errors.NotExist, err):
		writeJSONBytes(w, http.StatusNotFound, notFoundJSON)
		return nil
	case errors.Is(errors.Canceled, err):
		return nil
	case err != nil:
		c.log.ErrorContext(r.Context(), "console lineage.json", "err", err)
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the server could not build this graph; the error is in its log"})
		return nil
	}
	writeJSON(w, http.StatusOK, g)
	return nil
}

// assetLineage is the graph around the newest version of the asset that p
// may read (NotExist when p may read none, or not the asset).
func (c *Console) assetLineage(ctx context.Context, p *genesis.Principal, name string, lq lineageQuery, limit int) (*lineageGraph, error) {
	cat := c.cfg.Catalog
	a, err := cat.Get(ctx, p, name)
	if err != nil {
		return nil, err
	}
	vs, err := cat.Versions(ctx, p, a.ID)
	if err != nil {
		return nil, err
	}
	if len(vs) == 0 {
		return nil, errors.E(errors.Op("console.lineage"), errors.NotExist)
	}
	newest := slices.MaxFunc(vs, func(x, y catalog.Version) int { return cmp.Compare(x.Version, y.Version) })
	return buildLineage(ctx, cat, p, catalog.VersionRef{Asset: a.ID, Version: newest.Version}, lq, limit)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		status, b = http.StatusInternalServerError, *bytes.NewBufferString(`{"error":"internal error"}` + "\n")
	}
	writeJSONBytes(w, status, b.Bytes())
}

func writeJSONBytes(w http.ResponseWriter, status int, b []byte) {
	writeBody(w, status, "application/json", b)
}

// showGraph adds everything the graph shows to the page's banner.
func (pg *page) showGraph(g *lineageGraph) error {
	if err := pg.show(g.Marking); err != nil {
		return err
	}
	for _, l := range slices.Concat(g.parents, g.children) {
		if err := pg.show(l.Label); err != nil {
			return err
		}
	}
	return nil
}

// graphJSON is the graph as the asset page embeds it for its script.
func graphJSON(g *lineageGraph) (string, error) {
	b, err := json.Marshal(g)
	if err != nil {
		return "", errors.E(errors.Op("console.graphJSON"), errors.Internal, err)
	}
	return string(b), nil
}
