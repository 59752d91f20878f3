package catalog

import (
	"context"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
)

// Synthetic data. A dataset version may be marked synthetic, naming its
// generator: a job (job:ID), a campaign (campaign:NAME), a simulator
// (instrument:NAME, an instrument of kind sim) or a model (model:NAME).
// The generator is an input of the version: its author must be able to
// read it (a generator missing and one the author may not read get the
// same answer), and the dataset's label must dominate the generator's
// (invariant 2). A model generator becomes a lineage edge like any
// input, so raising the model raises the version. The version records the
// generator as kind:ID; a version made by a release stays synthetic but
// names no generator (the source version, at its own label, does).

// Generator kinds.
const (
	GeneratorJob        = "job"
	GeneratorCampaign   = "campaign"
	GeneratorInstrument = "instrument"
	GeneratorModel      = "model"
)

// MaxGeneratorLen bounds a generator reference, in bytes.
const MaxGeneratorLen = 200

// GeneratorRef is a parsed generator reference KIND:NAME.
type GeneratorRef struct {
	Kind string
	Name string
}

func (g GeneratorRef) String() string { return g.Kind + ":" + g.Name }

// ParseGenerator parses KIND:NAME, where KIND is job, campaign, instrument
// or model (any case) and NAME is an ID or name (genesis.ValidName).
func ParseGenerator(s string) (GeneratorRef, error) {
	const op errors.Op = "catalog.ParseGenerator"
	bad := func(why string) error {
		return errors.E(op, errors.Invalid, errors.Field("generator"), errors.Msg("generator: "+why+"; want job:ID, campaign:NAME, instrument:NAME or model:NAME"))
	}
	if len(s) > MaxGeneratorLen {
		return GeneratorRef{}, bad("longer than " + strconv.Itoa(MaxGeneratorLen) + " bytes")
	}
	kind, name, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return GeneratorRef{}, bad("no kind")
	}
	kind = strings.ToLower(kind)
	switch kind {
	case GeneratorJob, GeneratorCampaign, GeneratorInstrument, GeneratorModel:
	default:
		return GeneratorRef{}, bad("unknown kind " + strconv.Quote(kind))
	}
	if name == "" {
		return GeneratorRef{}, bad("no name")
	}
	// IDs (job_…, cmp_…, ins_…, mdl_…) and names share the name grammar,
	// so nothing else — spaces, controls, bidirectional overrides — is
	// ever echoed back in a message.
	if !genesis.ValidName(name) {
		return GeneratorRef{}, bad("a name or ID is 1-63 lower-case letters, digits, '-', '_' or '.'")
	}
	return GeneratorRef{Kind: kind, Name: name}, nil
}

// Generator is a resolved generator outside the catalog.
type Generator struct {
	// ID is the generator's stable ID (a job ID, campaign ID, instrument ID).
	ID string
	// Label is the generator's label: the dataset's must dominate it.
	Label label.Label
}

// Generators resolves generators that live outside the catalog (jobs,
// campaigns, instruments); internal/app wires it. Generator returns
// errors.NotExist when there is no such generator or p may not read it,
// and errors.Invalid (naming why) when it cannot generate data (an
// instrument that is not a simulator).
type Generators interface {
	Generator(ctx context.Context, p *genesis.Principal, kind, name string) (Generator, error)
}

// GeneratedBy is a generator an in-process caller decided on itself (the
// campaign runner naming its own campaign): Ref is kind:ID, Label the
// generator's label, which the dataset's must dominate.
type GeneratedBy struct {
	Ref   string
	Label label.Label
}

// SetGenerators installs the resolver of job, campaign and instrument
// generators.
func (s *Service) SetGenerators(g Generators) { s.generators = g }

// resolveGenerator checks the generator of a synthetic version for p and
// returns its recorded form (kind:ID), its label and, for a model, the
// version to add to the inputs.
func (s *Service) resolveGenerator(ctx context.Context, p *genesis.Principal, spec string) (string, label.Label, *VersionRef, error) {
	const op errors.Op = "catalog.generator"
	g, err := ParseGenerator(spec)
	if err != nil {
		return "", label.Label{}, nil, err
	}
	// The caller's own words: a missing generator and one the caller may
	// not read get the same answer.
	notFound := errors.E(op, errors.Invalid, errors.Field("generator"), errors.Msg("generator "+g.String()+": not found"))
	if g.Kind == GeneratorModel {
		a, v, err := s.Version(ctx, p, g.Name, 0)
		if errors.Is(errors.NotExist, err) || err == nil && a.Kind != KindModel {
			return "", label.Label{}, nil, notFound
		}
		if err != nil {
			return "", label.Label{}, nil, err
		}
		eff, err := s.effectiveLabel(ctx, a.ID, v.Version)
		if err != nil {
			return "", label.Label{}, nil, err
		}
		return GeneratorModel + ":" + a.ID, eff, &VersionRef{Asset: a.ID, Version: v.Version}, nil
	}
	if s.generators == nil {
		return "", label.Label{}, nil, errors.E(op, errors.Unavailable, errors.Field("generator"), errors.Msg("this server resolves no "+g.Kind+" generators"))
	}
	r, err := s.generators.Generator(ctx, p, g.Kind, g.Name)
	if errors.Is(errors.NotExist, err) {
		return "", label.Label{}, nil, notFound
	}
	if err != nil {
		return "", label.Label{}, nil, errors.E(op, errors.Field("generator"), err)
	}
	return g.Kind + ":" + r.ID, r.Label, nil, nil
}

// SyntheticCount is how many datasets a viewer reads are synthetic (their
// newest readable version is marked synthetic), measured (it is not), or
// empty (no version the viewer may read).
type SyntheticCount struct {
	Synthetic int `json:"synthetic"`
	Measured  int `json:"measured"`
	Empty     int `json:"empty"`
	// Label is the join of the labels of the datasets and versions
	// counted (invariant 2: a count is labelled at least its inputs).
	Label string `json:"label"`
}

// CountSynthetic counts the datasets p may read by whether their newest
// version p may read is synthetic: nothing p may not read is counted.
func (s *Service) CountSynthetic(ctx context.Context, p *genesis.Principal) (SyntheticCount, error) {
	const op errors.Op = "catalog.CountSynthetic"
	var out SyntheticCount
	ap, err := s.people.AuthzPrincipal(ctx, p)
	if err != nil {
		return out, errors.E(op, err)
	}
	// The newest version's flag comes with each asset; only an asset
	// whose newest version p may not read (rare: listSeenBy walks down)
	// is asked again.
	var all []Asset
	newest := map[string]bool{}
	newestLabel := map[string]string{}
	err = s.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT a.id, a.kind, a.name, a.title, a.description, a.label, COALESCE(a.project_id, ''), a.owner_id, a.latest_version, a.created_at, a.updated_at,
			COALESCE(v.synthetic, FALSE), COALESCE(v.label, '') FROM assets a
			LEFT JOIN asset_versions v ON v.asset_id = a.id AND v.version = a.latest_version WHERE a.kind = ?`, KindDataset)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			var a Asset
			var c, u int64
			var syn bool
			var vl string
			if err := rows.Scan(&a.ID, &a.Kind, &a.Name, &a.Title, &a.Description, &a.Label, &a.Project, &a.Owner, &a.LatestVersion, &c, &u, &syn, &vl); err != nil {
				return err
			}
			a.CreatedAt, a.UpdatedAt = store.FromT(c), store.FromT(u)
			all = append(all, a)
			newest[a.ID], newestLabel[a.ID] = syn, vl
			return nil
		})
	})
	if err != nil {
		return out, errors.E(op, err)
	}
	ok, err := s.readable(ctx, ap, all)
	if err != nil {
		return out, errors.E(op, err)
	}
	var seen []Asset
	latest := map[string]int64{}
	for i := range all {
		if ok[i] {
			seen = append(seen, all[i])
			latest[all[i].ID] = all[i].LatestVersion
		}
	}
	if err := s.listSeenBy(ctx, p, seen); err != nil {
		return out, errors.E(op, err)
	}
	joined := label.Label{}
	addLabel := func(m string) error {
		l, err := label.Parse(m) // stored, admitted when written
		if err != nil {
			return errors.E(errors.Internal, err)
		}
		joined = label.Join(joined, l)
		return nil
	}
	err = s.db.View(ctx, func(tx store.Tx) error {
		for _, a := range seen {
			if err := addLabel(a.Label); err != nil {
				return err
			}
			if a.LatestVersion == 0 {
				out.Empty++
				continue
			}
			syn := newest[a.ID]
			vl := newestLabel[a.ID]
			if a.LatestVersion != latest[a.ID] {
				if err := tx.QueryRow(ctx, `SELECT synthetic, label FROM asset_versions WHERE asset_id = ? AND version = ?`, a.ID, a.LatestVersion).Scan(&syn, &vl); err != nil {
					return err
				}
			}
			if err := addLabel(vl); err != nil {
				return err
			}
			if syn {
				out.Synthetic++
			} else {
				out.Measured++
			}
		}
		return nil
	})
	if err != nil {
		return out, errors.E(op, err)
	}
	out.Label = joined.Format()
	return out, nil
}
