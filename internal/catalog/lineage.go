package catalog

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// VersionRef names one version of an asset ("name@3"; version 0 = latest).
type VersionRef struct {
	Asset   string `json:"asset"`
	Version int64  `json:"version"`
}

// ParseRef parses NAME[@VERSION].
func ParseRef(s string) (VersionRef, error) {
	name, v, ok := strings.Cut(strings.TrimSpace(s), "@")
	name = strings.TrimSpace(name)
	r := VersionRef{Asset: name}
	if name == "" {
		return r, errors.E(errors.Invalid, errors.Msg("expected NAME[@VERSION], got "+strconv.Quote(s)))
	}
	if ok && v != "latest" {
		digits := strings.TrimPrefix(v, "v")
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n < 1 || digits[0] < '0' || digits[0] > '9' { // no sign: "x@+3" is not version 3
			return r, errors.E(errors.Invalid, errors.Msg("bad version in "+strconv.Quote(s)))
		}
		r.Version = n
	}
	return r, nil
}

func (r VersionRef) String() string { return r.Asset + "@" + strconv.FormatInt(r.Version, 10) }

// Activities recorded on lineage edges.
const (
	ActivityPut              = "put"
	ActivityJob              = "job"
	ActivityTraining         = "training"
	ActivityCampaign         = "campaign"
	ActivityImport           = "import"
	ActivityDeclassification = "declassification"
	// ActivityAgent: a research agent's run (internal/agent) derived the
	// version from the passages it read.
	ActivityAgent = "agent"
)

// resolveInputs checks that p may read every input and returns them pinned
// to concrete versions, with the join of their labels and their total size.
func (s *Service) resolveInputs(ctx context.Context, p *genesis.Principal, in []VersionRef) ([]VersionRef, label.Label, int64, error) {
	const op errors.Op = "catalog.inputs"
	join := label.Label{}
	var bytes int64
	out := make([]VersionRef, 0, len(in))
	for i, r := range in {
		a, v, err := s.Version(ctx, p, r.Asset, r.Version)
		if errors.Is(errors.NotExist, err) {
			// The caller's own words: a missing version and one the caller
			// may not read get the same answer.
			ref := r.Asset
			if r.Version != 0 {
				ref = r.String()
			}
			return nil, join, 0, errors.E(op, errors.Invalid, errors.Field("inputs"), errors.Msg("input "+strconv.Itoa(i+1)+" ("+ref+"): not found"))
		}
		if err != nil {
			return nil, join, 0, err
		}
		eff, err := s.effectiveLabel(ctx, a.ID, v.Version)
		if err != nil {
			return nil, join, 0, err
		}
		join = label.Join(join, eff)
		bytes += v.TotalBytes
		out = append(out, VersionRef{Asset: a.ID, Version: v.Version})
	}
	return out, join, bytes, nil
}

// effectiveLabel is a version's label joined with the current labels of
// everything it was derived from (except across a declassification). If an
// input is reclassified upward, its descendants become unreadable to those
// no longer cleared, until a steward raises their labels: fail closed.
func (s *Service) effectiveLabel(ctx context.Context, asset string, version int64) (label.Label, error) {
	const op errors.Op = "catalog.effectiveLabel"
	var marks []string
	err := s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `WITH RECURSIVE up(a, v, depth) AS (
				SELECT CAST(? AS TEXT), CAST(? AS BIGINT), 0
				UNION
				SELECT e.parent_asset, e.parent_version, up.depth + 1 FROM lineage_edges e
				JOIN up ON e.child_asset = up.a AND e.child_version = up.v
				WHERE e.activity <> 'declassification' AND up.depth < 64
			)
			SELECT DISTINCT v.label FROM up JOIN asset_versions v ON v.asset_id = up.a AND v.version = up.v`, asset, version)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var m string
			err := rows.Scan(&m)
			marks = append(marks, m)
			return err
		})
	})
	if err != nil {
		return label.Label{}, errors.E(op, err)
	}
	eff := label.Label{}
	for _, m := range marks {
		l, err := label.Parse(m)
		if err != nil {
			return label.Label{}, errors.E(op, errors.Internal, err)
		}
		eff = label.Join(eff, l)
	}
	return eff, nil
}

func insertEdges(ctx context.Context, tx store.Tx, child VersionRef, parents []VersionRef, activity, activityID string, agent genesis.PrincipalID, now time.Time) error {
	for _, par := range parents {
		if par == child {
			continue
		}
		if _, err := tx.Exec(ctx, `INSERT INTO lineage_edges (child_asset, child_version, parent_asset, parent_version, activity, activity_id, agent, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, child.Asset, child.Version, par.Asset, par.Version, activity, activityID, agent, store.T(now)); err != nil {
			if errors.Is(errors.Exist, err) {
				continue
			}
			return err
		}
	}
	return nil
}

// Node is an asset version in a lineage graph.
type Node struct {
	Asset   string `json:"asset"`
	Name    string `json:"name"`
	Kind    Kind   `json:"kind"`
	Version int64  `json:"version"`
	Label   string `json:"label"`
	// Title is the asset's title (shown with its name wherever the
	// name is: it is readable exactly when the name is).
	Title string `json:"title,omitempty"`
}

// Edge says Child was derived from Parent by an activity.
type Edge struct {
	Child      VersionRef `json:"child"`
	Parent     VersionRef `json:"parent"`
	Activity   string     `json:"activity"`
	ActivityID string     `json:"activity_id,omitempty"`
	Agent      string     `json:"agent"`
	Time       time.Time  `json:"time"`
}

// Graph is a lineage view.
type Graph struct {
	Root  VersionRef `json:"root"`
	Nodes []Node     `json:"nodes"`
	Edges []Edge     `json:"edges"`
}

// Lineage returns the provenance graph around a version, upstream (what it
// was derived from) or downstream (what was derived from it), up to depth
// steps. It is computed only over what p may read: an unreadable version,
// and every edge touching it, is left out, as if it did not exist.
func (s *Service) Lineage(ctx context.Context, p *genesis.Principal, ref VersionRef, up bool, depth int) (*Graph, error) {
	const op errors.Op = "catalog.Lineage"
	if depth <= 0 || depth > 100 {
		return nil, errors.E(op, errors.Invalid, errors.Field("depth"), errors.Msg("depth must be 1..100"))
	}
	a, v, err := s.Version(ctx, p, ref.Asset, ref.Version)
	if err != nil {
		return nil, errors.E(op, err)
	}
	root := VersionRef{Asset: a.ID, Version: v.Version}
	edges, err := s.walk(ctx, root, up, depth)
	if err != nil {
		return nil, errors.E(op, err)
	}
	g := &Graph{Root: root, Nodes: []Node{}, Edges: []Edge{}}
	refs := map[VersionRef]bool{root: true}
	for _, e := range edges {
		refs[e.Child], refs[e.Parent] = true, true
	}
	readable, err := s.readableVersions(ctx, p, refs)
	if err != nil {
		return nil, errors.E(op, err)
	}
	// Only what p can reach from the root through versions p may read,
	// within depth steps: a readable version reached only through a
	// hidden one would betray that one (a gap in the graph).
	from := func(e Edge) (VersionRef, VersionRef) {
		if up {
			return e.Child, e.Parent
		}
		return e.Parent, e.Child
	}
	out := map[VersionRef][]Edge{}
	for _, e := range edges {
		if readable[e.Child] != nil && readable[e.Parent] != nil {
			f, _ := from(e)
			out[f] = append(out[f], e)
		}
	}
	dist := map[VersionRef]int{root: 0}
	for frontier := []VersionRef{root}; len(frontier) > 0; {
		var next []VersionRef
		for _, n := range frontier {
			if dist[n] >= depth {
				continue
			}
			for _, e := range out[n] {
				g.Edges = append(g.Edges, e)
				if _, to := from(e); !hasKey(dist, to) {
					dist[to] = dist[n] + 1
					next = append(next, to)
				}
			}
		}
		frontier = next
	}
	seen := map[VersionRef]bool{}
	add := func(r VersionRef) {
		if n := readable[r]; n != nil && !seen[r] {
			seen[r] = true
			g.Nodes = append(g.Nodes, *n)
		}
	}
	add(root)
	for _, e := range g.Edges {
		add(e.Child)
		add(e.Parent)
	}
	return g, nil
}

// walk collects the edges within depth steps of root, breadth first: one
// indexed query per batch of the frontier (row-value IN on the edge
// table's key), each node expanded once.
func (s *Service) walk(ctx context.Context, root VersionRef, up bool, depth int) ([]Edge, error) {
	from, to := "child", "parent"
	if !up {
		from, to = "parent", "child"
	}
	const batch = 400
	seen := map[VersionRef]bool{root: true}
	frontier := []VersionRef{root}
	var edges []Edge
	err := s.db.View(ctx, func(tx store.Tx) error {
		for d := 0; d < depth && len(frontier) > 0; d++ {
			var next []VersionRef
			for i := 0; i < len(frontier); i += batch {
				part := frontier[i:min(i+batch, len(frontier))]
				args := make([]any, 0, 2*len(part))
				for _, r := range part {
					args = append(args, r.Asset, r.Version)
				}
				rows, err := tx.Query(ctx, `SELECT child_asset, child_version, parent_asset, parent_version, activity, activity_id, agent, created_at
					FROM lineage_edges WHERE (`+from+`_asset, `+from+`_version) IN (VALUES `+valuesList(len(part))+`)`, args...)
				if err != nil {
					return err
				}
				if err := rows.Each(func() error {
					var e Edge
					var t int64
					if err := rows.Scan(&e.Child.Asset, &e.Child.Version, &e.Parent.Asset, &e.Parent.Version, &e.Activity, &e.ActivityID, &e.Agent, &t); err != nil {
						return err
					}
					e.Time = store.FromT(t)
					edges = append(edges, e)
					n := e.Parent
					if to == "child" {
						n = e.Child
					}
					if !seen[n] {
						seen[n] = true
						next = append(next, n)
					}
					return nil
				}); err != nil {
					return err
				}
			}
			frontier = next
		}
		return nil
	})
	return edges, err
}

// readableVersions loads the given versions in batches and decides, once
// per distinct (kind, label, project, owner), which p may read: a version
// is readable when its asset is (its name is shown) and its own label is
// (see versionGate). Version labels already dominate their inputs'
// (commit checks it, relabel propagates it), so the stored labels are the
// ones to decide on.
func (s *Service) readableVersions(ctx context.Context, p *genesis.Principal, refs map[VersionRef]bool) (map[VersionRef]*Node, error) {
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, err
	}
	byAsset := map[string][]int64{}
	for r := range refs {
		byAsset[r.Asset] = append(byAsset[r.Asset], r.Version)
	}
	ids := make([]string, 0, len(byAsset))
	for id := range byAsset {
		ids = append(ids, id)
	}
	type row struct {
		a Asset
		v int64
		l string
	}
	var rows []row
	const batch = 500
	err = s.db.View(ctx, func(tx store.Tx) error {
		for i := 0; i < len(ids); i += batch {
			part := ids[i:min(i+batch, len(ids))]
			args := make([]any, len(part))
			for j, id := range part {
				args[j] = id
			}
			rs, err := tx.Query(ctx, `SELECT a.id, a.kind, a.name, a.title, a.label, COALESCE(a.project_id, ''), a.owner_id, v.version, v.label
				FROM asset_versions v JOIN assets a ON a.id = v.asset_id
				WHERE v.asset_id IN (`+store.Placeholders(len(part))+`)`, args...)
			if err != nil {
				return err
			}
			if err := rs.Each(func() error {
				var r row
				err := rs.Scan(&r.a.ID, &r.a.Kind, &r.a.Name, &r.a.Title, &r.a.Label, &r.a.Project, &r.a.Owner, &r.v, &r.l)
				rows = append(rows, r)
				return err
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	type class struct {
		kind                  Kind
		label, project, owner string
	}
	decided := map[class]bool{}
	may := func(a Asset, m string) bool {
		c := class{a.Kind, m, string(a.Project), string(a.Owner)}
		ok, done := decided[c]
		if !done {
			probe := a
			probe.Label = m
			res, err := probe.resource()
			ok = err == nil && s.authz.Can(ctx, ap, authz.Read, res) == nil
			decided[c] = ok
		}
		return ok
	}
	out := map[VersionRef]*Node{}
	for _, r := range rows {
		ref := VersionRef{Asset: r.a.ID, Version: r.v}
		if !refs[ref] {
			continue
		}
		if may(r.a, r.a.Label) && may(r.a, r.l) {
			out[ref] = &Node{Asset: r.a.ID, Name: r.a.Name, Kind: r.a.Kind, Version: r.v, Label: r.l, Title: r.a.Title}
		}
	}
	return out, nil
}

// valuesList is n typed (asset, version) rows for a row-value IN, typed so
// that PostgreSQL compares them with the key columns' types.
func valuesList(n int) string {
	const row = "(CAST(? AS TEXT), CAST(? AS BIGINT))"
	return row + strings.Repeat(", "+row, n-1)
}

func hasKey[K comparable, V any](m map[K]V, k K) bool { _, ok := m[k]; return ok }
