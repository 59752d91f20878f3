package report_test

import (
	"context"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/mission/report"
)

// demoSources is a mission of n challenges, each with one target and a
// year of monthly progress, five milestones and three partners.
func demoSources(n int) report.Sources {
	domains := []string{"advanced manufacturing", "biotechnology", "critical minerals & materials", "nuclear fission & fusion energy",
		"quantum information science", "semiconductors & microelectronics", "robotics", "other"}
	var cs []report.Challenge
	for i := range n {
		tg := report.Target{Metric: "figure of merit", Unit: "%", Direction: "max", Baseline: f(10), Target: 90}
		v := 10.0
		for m := range 11 {
			v += float64((i+m)%7) * 1.5
			tg.History = append(tg.History, report.Point{At: time.Date(2026, time.Month(m+1), 15, 0, 0, 0, 0, time.UTC), Value: v})
		}
		tg.Best, tg.Progress = f(v), (v-10)/80
		cs = append(cs, report.Challenge{Name: fmt.Sprintf("challenge-%02d", i), Title: fmt.Sprintf("Challenge %d: %s", i, domains[i%len(domains)]),
			Domain: domains[i%len(domains)], Lead: "National Laboratory", Label: "OPEN", Targets: []report.Target{tg}})
	}
	ms := []report.Milestone{
		{Name: "day-60", Title: "20 challenges identified", Status: "met", Deadline: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), DaysLeft: -281, Evidence: []report.Link{{Text: "20 challenges", Href: "/api/v1/challenges"}}},
		{Name: "day-90", Title: "Inventory complete", Status: "at_risk", Deadline: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), DaysLeft: 24, Missing: []string{"site lab-b reports no power"}},
	}
	ps := []report.Partner{{Org: "State University", Kind: "university", Datasets: 4, Models: 2, UsedNodeHours: 1200.5, Agreements: []report.Agreement{{ID: "CRADA-7", Expiring: true}}}}
	return report.Sources{
		Challenges: func(context.Context, *genesis.Principal) ([]report.Challenge, error) { return cs, nil },
		Milestones: func(context.Context, *genesis.Principal) ([]report.Milestone, error) { return ms, nil },
		Partners:   func(context.Context, *genesis.Principal) ([]report.Partner, error) { return ps, nil },
		Synthetic: func(context.Context, *genesis.Principal) (*report.Synthetic, error) {
			return &report.Synthetic{Synthetic: 3, Measured: 12, Label: "OPEN"}, nil
		},
	}
}

// BenchmarkRender renders a 20-challenge report (one chart each).
func BenchmarkRender(b *testing.B) {
	s := report.New(report.Config{Now: fixedNow, Sources: demoSources(20)})
	d, err := s.Gather(context.Background(), reader, 2026)
	if err != nil {
		b.Fatal(err)
	}
	for _, format := range []string{"html", "pdf"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				if err := report.Render(io.Discard, format, d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
