package agent

import (
	"context"
	"sort"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lit"
)

// reader is the one door a run reads through: the Library as the run's
// principal, remembering every passage and fact it was given, so the run's
// label is the join of all it read (not only what it cites) and its
// lineage names every publication version behind them.
type reader struct {
	lib      lit.Library
	p        *genesis.Principal
	passages map[string]*lit.Passage
	facts    map[string]*lit.Fact
	labels   map[string]bool // markings read
	pubs     map[catalog.VersionRef]bool
}

func newReader(lib lit.Library, p *genesis.Principal) *reader {
	return &reader{lib: lib, p: p, passages: map[string]*lit.Passage{}, facts: map[string]*lit.Fact{},
		labels: map[string]bool{}, pubs: map[catalog.VersionRef]bool{}}
}

func (r *reader) notePassage(ps lit.Passage) {
	if _, ok := r.passages[ps.ID]; !ok {
		cp := ps
		r.passages[ps.ID] = &cp
	}
	r.labels[ps.Label] = true
	if ps.Publication != "" && ps.Version > 0 {
		r.pubs[catalog.VersionRef{Asset: ps.Publication, Version: ps.Version}] = true
	}
}

// search returns the passages found for q.
func (r *reader) search(ctx context.Context, q string, limit int) ([]lit.Passage, error) {
	hits, err := r.lib.Search(ctx, r.p, lit.Query{Text: q, Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]lit.Passage, 0, len(hits))
	for _, h := range hits {
		r.notePassage(h.Passage)
		out = append(out, h.Passage)
	}
	return out, nil
}

// passage returns one passage p may read (NotExist otherwise).
func (r *reader) passage(ctx context.Context, id string) (*lit.Passage, error) {
	if ps, ok := r.passages[id]; ok {
		return ps, nil
	}
	ps, err := r.lib.Passage(ctx, r.p, id)
	if err != nil {
		return nil, err
	}
	r.notePassage(*ps)
	return r.passages[id], nil
}

// facts returns up to max facts of q, reading the passages they come from
// (their publication versions are the run's inputs).
func (r *reader) factsOf(ctx context.Context, q lit.FactQuery, max int) ([]lit.Fact, error) {
	var out []lit.Fact
	for len(out) < max {
		page, next, err := r.lib.Facts(ctx, r.p, q)
		if err != nil {
			return nil, err
		}
		for _, f := range page {
			cp := f
			r.facts[f.ID] = &cp
			r.labels[f.Label] = true
			if _, err := r.passage(ctx, f.Passage); err != nil && !errors.Is(errors.NotExist, err) {
				return nil, err
			}
			out = append(out, f)
		}
		if next == "" || len(page) == 0 {
			break
		}
		q.Cursor = next
	}
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}

func (r *reader) passageIDs() []string {
	out := make([]string, 0, len(r.passages))
	for id := range r.passages {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (r *reader) factIDs() []string {
	out := make([]string, 0, len(r.facts))
	for id := range r.facts {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (r *reader) versions() []catalog.VersionRef {
	out := make([]catalog.VersionRef, 0, len(r.pubs))
	for v := range r.pubs {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Asset != out[j].Asset {
			return out[i].Asset < out[j].Asset
		}
		return out[i].Version < out[j].Version
	})
	return out
}

// join is floor joined with every marking read.
func (r *reader) join(floor label.Label) (label.Label, error) {
	l := floor
	for m := range r.labels {
		x, err := label.Parse(m)
		if err != nil {
			// A marking the library gave that does not parse decides
			// nothing: fail closed.
			return label.Label{}, errors.E(errors.Internal, err)
		}
		l = label.Join(l, x)
	}
	return l, nil
}
