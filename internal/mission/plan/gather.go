package plan

import (
	"context"
	stderrors "errors"
	"fmt"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
)

// The sources a State is gathered from. Each returns only what p may read
// (invariant 4: a hidden object is as if missing), and errors.Permission or
// errors.NotExist when p may not read that kind of record at all: the
// State then holds nil for it (not available to p), never an error.
// internal/app adapts the real services to them.
type (
	// ChallengeSource lists the challenges p may read.
	ChallengeSource interface {
		Challenges(ctx context.Context, p *genesis.Principal) ([]Challenge, error)
	}
	// SiteSource lists the compute sites p may read.
	SiteSource interface {
		Sites(ctx context.Context, p *genesis.Principal) ([]Site, error)
	}
	// InstrumentSource lists the instruments p may read.
	InstrumentSource interface {
		Instruments(ctx context.Context, p *genesis.Principal) ([]Instrument, error)
	}
	// CampaignSource lists the campaigns p may read.
	CampaignSource interface {
		Campaigns(ctx context.Context, p *genesis.Principal) ([]Campaign, error)
	}
	// AssetSource lists the datasets and models p may read, with their
	// metadata quality and whether lineage links them.
	AssetSource interface {
		Assets(ctx context.Context, p *genesis.Principal) ([]Asset, error)
	}
)

// Sources are what a State is gathered from; a nil source is not
// available.
type Sources struct {
	Challenges  ChallengeSource
	Sites       SiteSource
	Instruments InstrumentSource
	Campaigns   CampaignSource
	Assets      AssetSource
}

// Truncated is what a source returns, with the records it did list, when
// it stopped at its bound (Limit records): the State keeps them and says
// so (State.Notes), so a count is never silently partial.
type Truncated struct {
	Source string
	Limit  int
}

func (e *Truncated) Error() string {
	return fmt.Sprintf("only the first %d %s were counted", e.Limit, e.Source)
}

// hidden reports whether err means p may not read that kind of record.
func hidden(err error) bool {
	return errors.Is(errors.Permission, err) || errors.Is(errors.NotExist, err)
}

func gather1[S any, T any](ctx context.Context, p *genesis.Principal, s *State, name string, src S, isNil bool, f func(S, context.Context, *genesis.Principal) ([]T, error)) (*[]T, error) {
	if isNil {
		return nil, nil
	}
	xs, err := f(src, ctx, p)
	var tr *Truncated
	if stderrors.As(err, &tr) {
		s.Notes = append(s.Notes, tr.Error())
		err = nil
	}
	if err != nil {
		if hidden(err) {
			s.Why[name] = "not available to you"
			return nil, nil
		}
		return nil, err
	}
	if xs == nil {
		xs = []T{}
	}
	return &xs, nil
}

// Gather collects the State as p sees it at now.
func (src *Sources) Gather(ctx context.Context, p *genesis.Principal, now time.Time) (*State, error) {
	const op errors.Op = "plan.Gather"
	s := &State{Now: now, Why: map[string]string{}}
	var err error
	if s.Challenges, err = gather1(ctx, p, s, "challenges", src.Challenges, src.Challenges == nil, ChallengeSource.Challenges); err != nil {
		return nil, errors.E(op, err)
	}
	if s.Sites, err = gather1(ctx, p, s, "sites", src.Sites, src.Sites == nil, SiteSource.Sites); err != nil {
		return nil, errors.E(op, err)
	}
	if s.Instruments, err = gather1(ctx, p, s, "instruments", src.Instruments, src.Instruments == nil, InstrumentSource.Instruments); err != nil {
		return nil, errors.E(op, err)
	}
	if s.Campaigns, err = gather1(ctx, p, s, "campaigns", src.Campaigns, src.Campaigns == nil, CampaignSource.Campaigns); err != nil {
		return nil, errors.E(op, err)
	}
	if s.Assets, err = gather1(ctx, p, s, "assets", src.Assets, src.Assets == nil, AssetSource.Assets); err != nil {
		return nil, errors.E(op, err)
	}
	// An asset a readable challenge links is linked, for the silos risk.
	if s.Assets != nil && s.Challenges != nil {
		linked := map[string]bool{}
		for _, c := range *s.Challenges {
			for _, a := range c.Assets {
				linked[a] = true
			}
		}
		for i := range *s.Assets {
			a := &(*s.Assets)[i]
			if linked[a.ID] || linked[a.Name] {
				a.Linked = true
			}
		}
	}
	return s, nil
}
