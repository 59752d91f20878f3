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
	r := VersionRef{Asset: name}
	if name == "" {
		return r, errors.E(errors.Invalid, errors.Msg("expected NAME[@VERSION], got "+strconv.Quote(s)))
	}
	if ok && v != "latest" {
		n, err := strconv.ParseInt(strings.TrimPrefix(v, "v"), 10, 64)
		if err != nil || n < 1 {
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
)

// resolveInputs checks that p may read every input and returns them with
// their labels resolved to concrete versions.
func (s *Service) resolveInputs(ctx context.Context, p *genesis.Principal, in []VersionRef) ([]VersionRef, label.Label, error) {
	const op errors.Op = "catalog.inputs"
	join := label.Label{}
	out := make([]VersionRef, 0, len(in))
	for i, r := range in {
		a, v, err := s.Version(ctx, p, r.Asset, r.Version)
		if errors.Is(errors.NotExist, err) {
			return nil, join, errors.E(op, errors.Invalid, errors.Field("inputs"), errors.Msg("input "+strconv.Itoa(i+1)+" ("+r.Asset+") not found"))
		}
		if err != nil {
			return nil, join, err
		}
		eff, err := s.effectiveLabel(ctx, a.ID, v.Version)
		if err != nil {
			return nil, join, err
		}
		join = label.Join(join, eff)
		out = append(out, VersionRef{Asset: a.ID, Version: v.Version})
	}
	return out, join, nil
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
	// One recursive query collects every edge within depth.
	next, cur := "parent", "child"
	if !up {
		next, cur = "child", "parent"
	}
	q := `WITH RECURSIVE walk(a, v, depth) AS (
			SELECT CAST(? AS TEXT), CAST(? AS BIGINT), 0
			UNION
			SELECT e.` + next + `_asset, e.` + next + `_version, walk.depth + 1 FROM lineage_edges e
			JOIN walk ON e.` + cur + `_asset = walk.a AND e.` + cur + `_version = walk.v
			WHERE walk.depth < ?
		)
		SELECT DISTINCT e.child_asset, e.child_version, e.parent_asset, e.parent_version, e.activity, e.activity_id, e.agent, e.created_at
		FROM lineage_edges e JOIN walk ON e.` + cur + `_asset = walk.a AND e.` + cur + `_version = walk.v
		WHERE walk.depth < ?`
	var edges []Edge
	err = s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, q, root.Asset, root.Version, depth, depth)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var e Edge
			var t int64
			if err := rows.Scan(&e.Child.Asset, &e.Child.Version, &e.Parent.Asset, &e.Parent.Version, &e.Activity, &e.ActivityID, &e.Agent, &t); err != nil {
				return err
			}
			e.Time = store.FromT(t)
			edges = append(edges, e)
			return nil
		})
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	g := &Graph{Root: root, Nodes: []Node{}, Edges: []Edge{}}
	readable := map[VersionRef]*Node{}
	visible := func(r VersionRef) bool {
		if n, ok := readable[r]; ok {
			return n != nil
		}
		readable[r] = nil
		na, nv, err := s.versionQuiet(ctx, p, r)
		if err != nil {
			return false
		}
		readable[r] = &Node{Asset: na.ID, Name: na.Name, Kind: na.Kind, Version: nv.Version, Label: nv.Label}
		return true
	}
	visible(root)
	for _, e := range edges {
		if visible(e.Child) && visible(e.Parent) {
			g.Edges = append(g.Edges, e)
		}
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

// versionQuiet is Version without recording the decision (lineage views
// decide many nodes at once; the view itself is recorded by the caller).
func (s *Service) versionQuiet(ctx context.Context, p *genesis.Principal, r VersionRef) (*Asset, *Version, error) {
	var a *Asset
	var v *Version
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		if a, err = s.load(ctx, tx, r.Asset); err != nil {
			return err
		}
		v, err = scanVersion(tx.QueryRow(ctx, `SELECT `+versionCols+` FROM asset_versions WHERE asset_id = ? AND version = ?`, a.ID, r.Version))
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	eff, err := s.effectiveLabel(ctx, a.ID, v.Version)
	if err != nil {
		return nil, nil, err
	}
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, nil, err
	}
	probe := *a
	probe.Label = eff.Format()
	res, err := probe.resource()
	if err != nil {
		return nil, nil, err
	}
	if err := s.authz.Can(ctx, ap, authz.Read, res); err != nil {
		return nil, nil, err
	}
	return a, v, nil
}
