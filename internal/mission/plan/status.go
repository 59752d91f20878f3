package plan

import (
	"math"
	"strconv"
	"time"
)

// Statuses of a milestone.
const (
	Met          = "met"
	AtRisk       = "at_risk"
	Missed       = "missed"
	NotAvailable = "not_available"
)

// MilestoneStatus is one milestone evaluated.
type MilestoneStatus struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Check    string `json:"check"`
	Deadline string `json:"deadline"` // YYYY-MM-DD
	// DaysLeft is the number of days from today to the deadline; negative
	// once it has passed.
	DaysLeft int            `json:"days_left"`
	Status   string         `json:"status"`
	Params   map[string]any `json:"params,omitempty"`
	Result
}

// Status is the plan evaluated over a State.
type Status struct {
	// Label is the join of the labels of every record the status was
	// computed from: its classification banner.
	Label      string            `json:"label"`
	Start      string            `json:"start"` // YYYY-MM-DD
	Today      string            `json:"today"`
	Milestones []MilestoneStatus `json:"milestones"`
	// Notes say which sources were counted only up to their bound.
	Notes []string `json:"notes"`
}

// day is t's UTC calendar day at midnight.
func day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// daysBetween counts whole days from a to b (both UTC midnights).
func daysBetween(a, b time.Time) int {
	return int(math.Round(b.Sub(a).Hours() / 24))
}

// Evaluate evaluates every milestone of p over s: met; at risk (not met,
// deadline today or ahead); missed (not met, deadline past); not available
// (a source the check needs is not available). firstStart is the
// deployment's first start, which a plan without a start counts from.
func (p *Plan) Evaluate(s *State, firstStart time.Time) *Status {
	start := p.StartDate(firstStart)
	today := day(s.Now)
	out := &Status{Start: start.Format(time.DateOnly), Today: today.Format(time.DateOnly), Milestones: []MilestoneStatus{}, Notes: append([]string{}, s.Notes...)}
	for _, m := range p.Milestones {
		dl := m.Deadline(start)
		r := Evaluate(m.Check, s, m.Params)
		ms := MilestoneStatus{ID: m.ID, Title: m.Title, Check: m.Check, Deadline: dl.Format(time.DateOnly), DaysLeft: daysBetween(today, dl), Params: m.Params, Result: r}
		switch {
		case !r.Available:
			ms.Status = NotAvailable
		case r.Met:
			ms.Status = Met
		case ms.DaysLeft < 0:
			ms.Status = Missed
		default:
			ms.Status = AtRisk
		}
		out.Milestones = append(out.Milestones, ms)
	}
	return out
}

// CheckChanges refuses a new plan whose new or changed milestones have a
// deadline before today, unless allowPast (recording a timeline that began
// in the past, such as the executive order's 2025-11-24, is deliberate).
// A milestone is changed when its deadline moved; one kept as it was (its
// deadline unchanged) may lie in the past.
func CheckChanges(old, next *Plan, firstStart, now time.Time, allowPast bool) error {
	if allowPast {
		return nil
	}
	today := day(now)
	was := map[string]time.Time{}
	if old != nil {
		os := old.StartDate(firstStart)
		for _, m := range old.Milestones {
			was[m.ID] = m.Deadline(os)
		}
	}
	ns := next.StartDate(firstStart)
	for i, m := range next.Milestones {
		dl := m.Deadline(ns)
		if prev, ok := was[m.ID]; ok && prev.Equal(dl) {
			continue
		}
		if dl.Before(today) {
			field := "milestones[" + strconv.Itoa(i) + "]"
			if m.Date != "" {
				field += ".date"
			} else {
				field += ".day"
			}
			return invalid(field, "deadline "+dl.Format(time.DateOnly)+" of "+m.ID+" is in the past (today is "+today.Format(time.DateOnly)+"); to record a past timeline on purpose, allow past deadlines (--allow-past)")
		}
	}
	return nil
}
