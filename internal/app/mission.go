package app

import (
	"context"
	"strings"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/mission/plan"
)

// The mission plan's sources: each adapts a service to the small view the
// checks need, read as the viewer (so a hidden record is as if missing).

// MaxMissionAssets bounds the datasets and models one mission status or
// risks request looks at (each costs a metadata and two lineage reads).
const MaxMissionAssets = 2000

// MaxMissionCampaigns bounds the campaigns one request looks at.
const MaxMissionCampaigns = 2000

type missionSites struct{ r *sites.Registry }

func (m missionSites) Sites(ctx context.Context, p *genesis.Principal) ([]plan.Site, error) {
	ss, err := m.r.List(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]plan.Site, 0, len(ss))
	for _, s := range ss {
		out = append(out, plan.Site{Name: s.Name, Status: s.Status, Accreditation: s.Accreditation,
			CapacityReported: s.Capacity.Nodes > 0 && s.Capacity.CoresPerNode > 0,
			PowerCapKW:       s.PowerCapKW, PowerDrawKW: s.PowerDrawKW,
			DrawReported: s.LastHeartbeat != nil || s.PowerDrawKW > 0})
	}
	return out, nil
}

type missionInstruments struct{ r *instruments.Registry }

func (m missionInstruments) Instruments(ctx context.Context, p *genesis.Principal) ([]plan.Instrument, error) {
	ins, err := m.r.List(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]plan.Instrument, 0, len(ins))
	for _, in := range ins {
		out = append(out, plan.Instrument{Name: in.Name, Lab: in.Lab})
	}
	return out, nil
}

type missionCampaigns struct {
	c   *campaign.Service
	ins *instruments.Registry
	cat *catalog.Service
}

func (m missionCampaigns) Campaigns(ctx context.Context, p *genesis.Principal) ([]plan.Campaign, error) {
	labOf := map[string]string{} // instrument or workcell name → lab
	if m.ins != nil {
		if ins, err := m.ins.List(ctx, p); err == nil {
			for _, in := range ins {
				labOf[in.Name] = in.Lab
			}
		}
		if wcs, err := m.ins.Workcells(ctx, p); err == nil {
			for _, w := range wcs {
				labOf["workcell:"+w.Name] = w.Lab
			}
		}
	}
	var out []plan.Campaign
	cursor := ""
	for len(out) < MaxMissionCampaigns {
		cs, next, err := m.c.List(ctx, p, campaign.ListOptions{Cursor: cursor, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			v := plan.Campaign{ID: c.ID, Name: c.Name, Label: c.Label, State: c.State, Dataset: c.Dataset}
			switch ex := c.Spec.Executor; {
			case ex.Instrument != "":
				if l, ok := labOf[ex.Instrument]; ok {
					v.Labs = []string{l}
				}
			case ex.Workcell != "":
				if l, ok := labOf["workcell:"+ex.Workcell]; ok {
					v.Labs = []string{l}
				}
			}
			if c.Dataset != "" && m.cat != nil {
				// The results are recorded with lineage when a version the
				// viewer may read was committed by this campaign's activity
				// (its message names it: "campaign ID batch N").
				if vs, err := m.cat.Versions(ctx, p, c.Dataset); err == nil {
					for _, ver := range vs {
						if strings.HasPrefix(ver.Message, catalog.ActivityCampaign+" "+c.ID+" ") {
							v.ResultsLineage = true
							break
						}
					}
				} else if errors.Is(errors.NotExist, err) {
					v.Dataset = "" // not readable: as if none
				} else {
					return nil, err
				}
			}
			out = append(out, v)
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
	return out, &plan.Truncated{Source: "campaigns", Limit: MaxMissionCampaigns}
}

type missionAssets struct{ cat *catalog.Service }

func (m missionAssets) Assets(ctx context.Context, p *genesis.Principal) ([]plan.Asset, error) {
	var out []plan.Asset
	truncated := false
	for _, kind := range []catalog.Kind{catalog.KindDataset, catalog.KindModel} {
		cursor := ""
		for {
			as, next, err := m.cat.List(ctx, p, kind, catalog.ListOptions{Cursor: cursor, Limit: 500})
			if err != nil {
				return nil, err
			}
			for _, a := range as {
				if len(out) == MaxMissionAssets {
					truncated = true
					break
				}
				v := plan.Asset{ID: a.ID, Name: a.Name, Kind: string(a.Kind), Label: a.Label, Quality: -1}
				if _, md, err := m.cat.GetMetadata(ctx, p, a.ID); err == nil {
					v.Quality = md.Quality.Score
				} else if !errors.Is(errors.NotExist, err) {
					return nil, err
				}
				if a.LatestVersion > 0 {
					ref := catalog.VersionRef{Asset: a.ID, Version: a.LatestVersion}
					for _, up := range []bool{true, false} {
						if g, err := m.cat.Lineage(ctx, p, ref, up, 1); err == nil && len(g.Edges) > 0 {
							v.Linked = true
							break
						}
					}
				}
				out = append(out, v)
			}
			if next == "" || truncated {
				break
			}
			cursor = next
		}
	}
	if truncated {
		return out, &plan.Truncated{Source: "datasets and models", Limit: MaxMissionAssets}
	}
	return out, nil
}

type missionPeople struct{ ids *identity.Service }

// MaxMissionPeople bounds the accounts whose tokens one risks request
// reads (one query each); past it, only audit records tell who is active.
const MaxMissionPeople = 5000

// People lists accounts for administrators only: the only role that reads
// every account (identity.Principals shows others just themselves).
func (m missionPeople) People(ctx context.Context, p *genesis.Principal) ([]plan.Person, error) {
	if !p.IsAdmin() {
		return nil, errors.E(errors.Permission, errors.Msg("only administrators read accounts"))
	}
	ps, err := m.ids.Principals(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]plan.Person, 0, len(ps))
	for i, x := range ps {
		v := plan.Person{ID: string(x.ID), Name: x.Name, Org: string(x.Org), Disabled: x.Disabled}
		if i < MaxMissionPeople && !x.Disabled {
			ts, err := m.ids.Tokens(ctx, x.ID)
			if err != nil {
				return nil, err
			}
			for _, t := range ts {
				if t.LastUsed != nil && (v.TokenUsed == nil || t.LastUsed.After(*v.TokenUsed)) {
					v.TokenUsed = t.LastUsed
				}
			}
		}
		out = append(out, v)
	}
	return out, nil
}

// openMission builds the mission plan service over the services already
// open and records the deployment's first start. The audit source (the
// API server, which decides who reads which record) is set after the API.
func (a *App) openMission(ctx context.Context) error {
	a.Mission = plan.New(a.DB, a.Audit)
	a.Mission.Sources = plan.Sources{
		Sites:       missionSites{a.Sites},
		Instruments: missionInstruments{a.Instruments},
		Campaigns:   missionCampaigns{c: a.Campaigns, ins: a.Instruments, cat: a.Catalog},
		Assets:      missionAssets{a.Catalog},
	}
	if a.Challenges != nil {
		a.Mission.Sources.Challenges = missionChallenges{a.Challenges}
	}
	a.Mission.People = missionPeople{a.Identity}
	return a.Mission.Init(ctx)
}

// missionChallenges adapts the challenge service (internal/mission) to the
// plan's view: the challenges p may read, the datasets and models they
// link that p may read, and whether a campaign reached each target.
type missionChallenges struct{ s *mission.Service }

// MaxMissionChallenges bounds the challenges one request looks at.
const MaxMissionChallenges = 2000

func (m missionChallenges) Challenges(ctx context.Context, p *genesis.Principal) ([]plan.Challenge, error) {
	var out []plan.Challenge
	cursor := ""
	for len(out) < MaxMissionChallenges {
		cs, next, err := m.s.List(ctx, p, mission.ListOptions{Cursor: cursor, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			v := plan.Challenge{ID: c.ID, Name: c.Name, Title: c.Title, Domain: c.Domain, Label: c.Label, Demo: c.Demo}
			for _, l := range c.Links { // only the links p may follow
				if l.Kind == mission.LinkDataset || l.Kind == mission.LinkModel {
					v.Assets = append(v.Assets, l.ID)
				}
			}
			pr, err := m.s.Progress(ctx, p, c.ID)
			if errors.Is(errors.NotExist, err) {
				continue // removed or hidden since the list: as if missing
			}
			if err != nil {
				return nil, err
			}
			v.Label = pr.Label // the challenge's joined with what its progress read
			for _, t := range pr.Targets {
				pt := plan.Target{Metric: t.Metric, Reached: t.Reached}
				if t.ReachedBy != nil && t.ReachedBy.Kind == mission.LinkCampaign {
					pt.ReachedBy = t.ReachedBy.ID
				}
				v.Targets = append(v.Targets, pt)
			}
			out = append(out, v)
		}
		if next == "" {
			return out, nil
		}
		cursor = next
	}
	return out, &plan.Truncated{Source: "challenges", Limit: MaxMissionChallenges}
}
