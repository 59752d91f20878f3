package catalog

import (
	"context"
	"strings"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// An asset's versions carry labels of their own: after a declassification
// the asset (and its newest version) is labelled lower than the versions
// before it. Reading the asset therefore says nothing about reading one of
// its versions. Every read path that shows a version, counts versions or
// names one (a parent, a release, latest_version) decides on the version's
// own label, through versionGate: a version p may read is one whose asset
// and own label p may read; the rest do not exist for p — not listed, not
// counted, not named by a version p may read.

// versionGate decides which labels of readable asset a's versions p may
// read, once per distinct label.
type versionGate struct {
	ctx     context.Context
	s       *Service
	ap      authz.Principal
	a       *Asset
	decided map[string]bool
}

// gate returns the version gate of asset a, which p may read.
func (s *Service) gate(ctx context.Context, p *genesis.Principal, a *Asset) (*versionGate, error) {
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return nil, err
	}
	return s.gateAs(ctx, ap, a), nil
}

// gateAs is gate for a caller that already has p's decision input ap.
func (s *Service) gateAs(ctx context.Context, ap authz.Principal, a *Asset) *versionGate {
	return &versionGate{ctx: ctx, s: s, ap: ap, a: a, decided: map[string]bool{a.Label: true}}
}

// may reports whether p may read a version of the asset labelled m.
// Anything that cannot be decided is false (fail closed).
func (g *versionGate) may(m string) bool {
	if m == "" {
		return false // no such version
	}
	ok, done := g.decided[m]
	if !done {
		probe := *g.a
		probe.Label = m
		res, err := probe.resource()
		ok = err == nil && g.s.authz.Can(g.ctx, g.ap, authz.Read, res) == nil
		g.decided[m] = ok
	}
	return ok
}

// hide blanks in v, which p may read, what names a version p may not:
// its parent, and the release it came from (the record, and the message
// that names it, belong to the released version). labelOf gives the labels
// of the asset's versions ("" for none); releasedFrom the version a
// release was made of.
func (g *versionGate) hide(v *Version, labelOf func(int64) string, releasedFrom map[string]int64) {
	if v.Generator != "" && !g.mayGenerator(v) {
		v.Generator = ""
	}
	if v.Parent != nil && !g.may(labelOf(*v.Parent)) {
		v.Parent = nil
	}
	if v.ReleaseID != "" {
		src, ok := releasedFrom[v.ReleaseID]
		if !ok || !g.may(labelOf(src)) {
			v.ReleaseID, v.Message = "", ""
		}
	}
}

// latest returns the newest version of a that p may read (0 for none).
func (g *versionGate) latest(tx store.Tx) (int64, error) {
	if g.a.LatestVersion == 0 {
		return 0, nil
	}
	var m string
	err := tx.QueryRow(g.ctx, `SELECT label FROM asset_versions WHERE asset_id = ? AND version = ?`, g.a.ID, g.a.LatestVersion).Scan(&m)
	if err != nil && !errors.Is(errors.NotExist, err) {
		return 0, err
	}
	if err == nil && g.may(m) {
		return g.a.LatestVersion, nil
	}
	// Rare: the newest version is hidden from p. Walk down to one p may read.
	rows, err := tx.Query(g.ctx, `SELECT version, label FROM asset_versions WHERE asset_id = ? AND version < ? ORDER BY version DESC`, g.a.ID, g.a.LatestVersion)
	if err != nil {
		return 0, err
	}
	var found int64
	err = rows.Each(func() error {
		var v int64
		var m string
		if err := rows.Scan(&v, &m); err != nil {
			return err
		}
		if found == 0 && g.may(m) {
			found = v
		}
		return nil
	})
	return found, err
}

// asSeenBy sets a.LatestVersion to the newest version p may read.
func (s *Service) asSeenBy(ctx context.Context, p *genesis.Principal, a *Asset) error {
	if a.LatestVersion == 0 {
		return nil
	}
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return err
	}
	return s.asSeenByAs(ctx, ap, a)
}

// asSeenByAs is asSeenBy for a caller that already has p's decision input.
func (s *Service) asSeenByAs(ctx context.Context, ap authz.Principal, a *Asset) error {
	if a.LatestVersion == 0 {
		return nil
	}
	g := s.gateAs(ctx, ap, a)
	return s.db.View(ctx, func(tx store.Tx) error {
		n, err := g.latest(tx)
		a.LatestVersion = n
		return err
	})
}

// listSeenBy sets the LatestVersion of each of as, which p may read, to
// the newest version p may read: one query for the page, and a walk only
// for the assets whose newest version carries a label other than theirs.
func (s *Service) listSeenBy(ctx context.Context, p *genesis.Principal, as []Asset) error {
	idx := map[string]int{}
	args := []any{}
	for i := range as {
		if as[i].LatestVersion > 0 {
			idx[as[i].ID] = i
			args = append(args, as[i].ID, as[i].LatestVersion)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	same := map[string]bool{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		for len(args) > 0 {
			n := min(len(args), 2*400)
			part := args[:n]
			args = args[n:]
			rows, err := tx.Query(ctx, `SELECT asset_id, label FROM asset_versions WHERE (asset_id, version) IN (VALUES `+valuesList(len(part)/2)+`)`, part...)
			if err != nil {
				return err
			}
			if err := rows.Each(func() error {
				var id, m string
				if err := rows.Scan(&id, &m); err != nil {
					return err
				}
				same[id] = m == as[idx[id]].Label
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for id, i := range idx {
		if !same[id] {
			if err := s.asSeenBy(ctx, p, &as[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// releaseSources maps the releases of asset to the versions they released.
func releaseSources(ctx context.Context, tx store.Tx, asset string) (map[string]int64, error) {
	rows, err := tx.Query(ctx, `SELECT id, version FROM releases WHERE asset_id = ?`, asset)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	err = rows.Each(func() error {
		var id string
		var v int64
		err := rows.Scan(&id, &v)
		out[id] = v
		return err
	})
	return out, err
}

// versionLabels returns the labels of the given versions of asset.
func versionLabels(ctx context.Context, tx store.Tx, asset string, vs ...int64) (map[int64]string, error) {
	out := map[int64]string{}
	for _, v := range vs {
		var m string
		err := tx.QueryRow(ctx, `SELECT label FROM asset_versions WHERE asset_id = ? AND version = ?`, asset, v).Scan(&m)
		if errors.Is(errors.NotExist, err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[v] = m
	}
	return out, nil
}

// hideOne applies g.hide to one version, loading the labels it needs.
func (s *Service) hideOne(ctx context.Context, g *versionGate, v *Version) error {
	var labels map[int64]string
	src := map[string]int64{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		want := []int64{}
		if v.Parent != nil {
			want = append(want, *v.Parent)
		}
		if v.ReleaseID != "" {
			var from int64
			err := tx.QueryRow(ctx, `SELECT version FROM releases WHERE id = ?`, v.ReleaseID).Scan(&from)
			if err != nil && !errors.Is(errors.NotExist, err) {
				return err
			}
			if err == nil {
				src[v.ReleaseID] = from
				want = append(want, from)
			}
		}
		var err error
		labels, err = versionLabels(ctx, tx, v.Asset, want...)
		return err
	})
	if err != nil {
		return err
	}
	g.hide(v, func(n int64) string { return labels[n] }, src)
	return nil
}

// ReadableOutputs keeps, of outs (what a computation produced), the
// versions p may read, deciding as Lineage does and without recording
// each decision: a job's outputs can rise above the job later (another of
// their inputs was raised), and a reader of the job must not learn of
// them then.
func (s *Service) ReadableOutputs(ctx context.Context, p *genesis.Principal, outs []Output) ([]Output, error) {
	if len(outs) == 0 {
		return outs, nil
	}
	ids := map[string]string{}
	err := s.db.View(ctx, func(tx store.Tx) error {
		for _, o := range outs {
			if o.ID != "" {
				continue // the asset the output went into, named by ID
			}
			if _, ok := ids[o.Asset]; ok {
				continue
			}
			// An output recorded before names were per reader (no ID):
			// names were unique then, so the oldest of the name is it.
			var id string
			err := tx.QueryRow(ctx, `SELECT id FROM assets WHERE name = ? OR id = ? ORDER BY created_at, id LIMIT 1`, o.Asset, o.Asset).Scan(&id)
			if err != nil && !errors.Is(errors.NotExist, err) {
				return err
			}
			ids[o.Asset] = id
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	refs := map[VersionRef]bool{}
	idOf := func(o Output) string {
		if o.ID != "" {
			return o.ID
		}
		return ids[o.Asset]
	}
	for _, o := range outs {
		if id := idOf(o); id != "" {
			refs[VersionRef{Asset: id, Version: o.Version}] = true
		}
	}
	ok, err := s.readableVersions(ctx, p, refs)
	if err != nil {
		return nil, err
	}
	keep := []Output{}
	for _, o := range outs {
		if ok[VersionRef{Asset: idOf(o), Version: o.Version}] != nil {
			keep = append(keep, o)
		}
	}
	return keep, nil
}

// generatorTypes maps a generator kind to the resource type decided.
var generatorTypes = map[string]authz.ResourceType{GeneratorJob: authz.Job, GeneratorCampaign: authz.Campaign,
	GeneratorInstrument: authz.Instrument, GeneratorModel: authz.Model}

// mayGenerator reports whether p may read the generator v names, at the
// label it had when v was made: a reader who may not is not told its ID
// (the version stays synthetic). Anything undecidable is false.
func (g *versionGate) mayGenerator(v *Version) bool {
	kind, id, _ := strings.Cut(v.Generator, ":")
	t, ok := generatorTypes[kind]
	if !ok || v.generatorLabel == "" {
		return false
	}
	key := "\x00gen\x00" + kind + "\x00" + v.generatorLabel
	if ok, done := g.decided[key]; done {
		return ok
	}
	l, err := label.Parse(v.generatorLabel) // stored, admitted when the version was made
	ok = err == nil && g.s.authz.Can(g.ctx, g.ap, authz.Read, authz.Resource{Type: t, ID: id, Label: l}) == nil
	g.decided[key] = ok
	return ok
}
