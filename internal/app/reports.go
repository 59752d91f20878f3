package app

import (
	"context"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/mission/partners"
	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/genesis-science/genesis/internal/mission/report"
)

// The annual report's mission sources: each adapts a mission service to
// the report's view, read as the reader (so a hidden record is as if
// missing: it is never listed, and what is listed carries the join of the
// labels it was computed from).

// MaxReportChallenges bounds the challenges one report shows.
const MaxReportChallenges = 500

func (a *App) reportSources() report.Sources {
	var src report.Sources
	if a.Challenges != nil {
		src.Challenges = reportChallenges{a.Challenges}.Challenges
	}
	if a.Mission != nil {
		src.Milestones = reportMilestones{a.Mission}.Milestones
	}
	if a.Partners != nil {
		src.Partners = reportPartners{a.Partners}.Partners
	}
	if a.Catalog != nil {
		cat := a.Catalog
		src.Synthetic = func(ctx context.Context, p *genesis.Principal) (*report.Synthetic, error) {
			n, err := cat.CountSynthetic(ctx, p)
			if err != nil {
				return nil, err
			}
			return &report.Synthetic{Synthetic: n.Synthetic, Measured: n.Measured, Label: n.Label}, nil
		}
	}
	return src
}

type reportChallenges struct{ s *mission.Service }

func (r reportChallenges) Challenges(ctx context.Context, p *genesis.Principal) ([]report.Challenge, error) {
	var out []report.Challenge
	cursor := ""
	for len(out) < MaxReportChallenges {
		cs, next, err := r.s.List(ctx, p, mission.ListOptions{Cursor: cursor, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			pr, err := r.s.Progress(ctx, p, c.ID)
			if errors.Is(errors.NotExist, err) {
				continue // removed or hidden since the list: as if missing
			}
			if err != nil {
				return nil, err
			}
			rc := report.Challenge{Name: c.Name, Title: c.Title, Domain: c.Domain, Lead: c.Lead.Name, Label: pr.Label,
				Source: "/api/v1/challenges/" + c.ID + "/progress"}
			for _, t := range pr.Targets {
				base := t.Baseline
				rt := report.Target{Metric: t.Metric, Unit: t.Unit, Direction: t.Direction, Baseline: &base, Target: t.Target.Target,
					Best: t.Best, Progress: t.Fraction, Reached: t.Reached}
				for _, h := range t.History {
					rt.History = append(rt.History, report.Point{At: h.At, Value: h.Value})
				}
				rc.Targets = append(rc.Targets, rt)
			}
			out = append(out, rc)
			if len(out) == MaxReportChallenges {
				break
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return out, nil
}

type reportMilestones struct{ s *plan.Service }

func (r reportMilestones) Milestones(ctx context.Context, p *genesis.Principal) ([]report.Milestone, error) {
	st, err := r.s.Status(ctx, p)
	if err != nil {
		return nil, err
	}
	out := make([]report.Milestone, 0, len(st.Milestones))
	for _, m := range st.Milestones {
		dl, err := time.Parse(time.DateOnly, m.Deadline)
		if err != nil {
			return nil, errors.E(errors.Internal, err)
		}
		rm := report.Milestone{Name: m.ID, Title: m.Title, Status: m.Status, Deadline: dl, DaysLeft: m.DaysLeft,
			Missing: m.Missing, Label: st.Label}
		for _, e := range m.Evidence {
			rm.Evidence = append(rm.Evidence, report.Link{Text: e.Text, Href: e.Link})
		}
		out = append(out, rm)
	}
	return out, nil
}

type reportPartners struct{ s *partners.Service }

func (r reportPartners) Partners(ctx context.Context, p *genesis.Principal) ([]report.Partner, error) {
	pf, err := r.s.List(ctx, p, partners.Options{})
	if err != nil {
		return nil, err
	}
	out := make([]report.Partner, 0, len(pf.Partners))
	for _, pt := range pf.Partners {
		rp := report.Partner{Org: pt.Org.Name, Kind: pt.Org.Kind, Datasets: pt.Contributed.Datasets, Models: pt.Contributed.Models,
			Sites: len(pt.Contributed.Sites), Instruments: len(pt.Contributed.Instruments), UsedNodeHours: pt.Used.UsedNodeHours,
			Label: pt.Label, Source: "/api/v1/partners/" + pt.Org.Name}
		for _, ag := range pt.Agreements {
			until := ag.NotAfter
			rp.Agreements = append(rp.Agreements, report.Agreement{ID: ag.ID, Until: &until, Expiring: ag.Status == partners.StatusExpiring})
		}
		out = append(out, rp)
	}
	return out, nil
}
