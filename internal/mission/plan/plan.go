// Package plan is the mission plan: a start date and milestones, each a
// named check over the platform's state with a deadline, evaluated live
// (genesis mission status), and the risk register (genesis mission risks).
//
// A check is a pure function of a gathered State and its params (checks.go),
// so CI covers every kind with fixture States. The State is gathered as the
// viewer (gather.go): counts run only over what the viewer may read, and a
// source that is not wired (a part not landed yet) makes the checks that
// need it "not available", never failed.
package plan

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/text"
	"github.com/genesis-science/genesis/internal/yamlsafe"
)

// Limits of a plan file.
const (
	MaxPlanSize   = 64 << 10
	MaxMilestones = 100
	MaxTitle      = 200
	// MaxDay bounds a deadline's day offset (about 27 years).
	MaxDay = 10000
)

//go:embed default.yaml
var defaultYAML []byte

// Plan is a mission plan. Start is "" when days count from the
// deployment's first start.
type Plan struct {
	Start      string      `json:"start,omitempty"`
	Milestones []Milestone `json:"milestones"`
}

// Milestone is a named check with a deadline: Day days after the plan's
// start, or Date. Exactly one of Day and Date is set.
type Milestone struct {
	ID     string         `json:"id"`
	Title  string         `json:"title"`
	Day    *int           `json:"day,omitempty"`
	Date   string         `json:"date,omitempty"`
	Check  string         `json:"check"`
	Params map[string]any `json:"params,omitempty"`
}

// Default returns the embedded default plan.
func Default() *Plan {
	p, err := Parse(defaultYAML)
	if err != nil {
		panic("plan: the embedded default plan is invalid: " + err.Error())
	}
	return p
}

// StartDate is the day the plan counts from: its Start, else firstStart.
func (p *Plan) StartDate(firstStart time.Time) time.Time {
	if p.Start != "" {
		if t, err := time.Parse(time.DateOnly, p.Start); err == nil {
			return t
		}
	}
	y, m, d := firstStart.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Deadline is the milestone's deadline (a UTC day) for a plan starting on
// start.
func (m *Milestone) Deadline(start time.Time) time.Time {
	if m.Date != "" {
		t, _ := time.Parse(time.DateOnly, m.Date)
		return t
	}
	if m.Day != nil {
		return start.AddDate(0, 0, *m.Day)
	}
	return start
}

func invalid(field, msg string) error {
	if field != "" && !strings.HasPrefix(msg, field+": ") {
		msg = field + ": " + msg
	}
	return errors.E(errors.Op("plan.Parse"), errors.Invalid, errors.Field(field), errors.Msg("plan file: "+msg))
}

var (
	planKeys      = []string{"start", "milestones"}
	milestoneKeys = []string{"id", "title", "day", "date", "check", "params"}
)

// Parse reads a plan file (YAML or JSON, which is YAML) strictly: an
// unknown key is refused with a suggestion from its own mapping, and every
// error is errors.Invalid naming the field's path ("milestones[2].params.min").
// It checks everything that does not depend on the clock or the stored
// plan (see CheckChanges for deadlines in the past).
func Parse(data []byte) (*Plan, error) {
	const op errors.Op = "plan.Parse"
	if len(data) > MaxPlanSize {
		return nil, errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("plan file larger than %d bytes", MaxPlanSize)))
	}
	if !utf8.Valid(data) {
		return nil, invalid("", "not UTF-8")
	}
	if strings.TrimSpace(strings.TrimPrefix(string(data), "\ufeff")) == "" {
		return nil, invalid("milestones", "empty plan file")
	}
	var raw any
	if err := yamlsafe.Unmarshal(data, &raw); err != nil {
		return nil, invalid("", yamlsafe.Message(err))
	}
	top, ok := raw.(map[string]any)
	if !ok {
		return nil, invalid("", "want a mapping with start and milestones")
	}
	if err := unknownKeys("", top, planKeys); err != nil {
		return nil, err
	}
	var p Plan
	if v, ok := top["start"]; ok && v != nil {
		s, err := dateOf("start", v)
		if err != nil {
			return nil, err
		}
		p.Start = s
	}
	ms, ok := top["milestones"].([]any)
	if !ok {
		if _, present := top["milestones"]; present {
			return nil, invalid("milestones", "want a list of milestones")
		}
		return nil, invalid("milestones", "missing: a plan lists its milestones")
	}
	if len(ms) == 0 {
		return nil, invalid("milestones", "empty: a plan has at least one milestone")
	}
	if len(ms) > MaxMilestones {
		return nil, invalid("milestones", fmt.Sprintf("more than %d milestones", MaxMilestones))
	}
	seen := map[string]int{}
	for i, v := range ms {
		path := "milestones[" + strconv.Itoa(i) + "]"
		m, err := parseMilestone(path, v)
		if err != nil {
			return nil, err
		}
		if j, dup := seen[m.ID]; dup {
			return nil, invalid(path+".id", fmt.Sprintf("duplicate id %q (also milestones[%d])", m.ID, j))
		}
		seen[m.ID] = i
		p.Milestones = append(p.Milestones, *m)
	}
	return &p, nil
}

func unknownKeys(path string, m map[string]any, keys []string) error {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		if !slices.Contains(keys, k) {
			f := k
			if path != "" {
				f = path + "." + k
			}
			msg := "unknown field " + strconv.Quote(clip(k))
			if hint := text.Suggest(k, keys); hint != "" {
				msg += "; did you mean " + strconv.Quote(hint) + "?"
			}
			return invalid(clip(f), msg)
		}
	}
	return nil
}

func clip(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	s, _ = text.Sanitize(s, false)
	return s
}

func dateOf(field string, v any) (string, error) {
	switch d := v.(type) {
	case time.Time:
		return d.UTC().Format(time.DateOnly), nil
	case string:
		t, err := time.Parse(time.DateOnly, d)
		if err != nil {
			return "", invalid(field, fmt.Sprintf("%q is not a date (want YYYY-MM-DD)", clip(d)))
		}
		if t.Year() < 2000 || t.Year() > 2100 {
			return "", invalid(field, "year must be 2000..2100")
		}
		return d, nil
	}
	return "", invalid(field, "want a date (YYYY-MM-DD)")
}

func parseMilestone(path string, v any) (*Milestone, error) {
	raw, ok := v.(map[string]any)
	if !ok {
		return nil, invalid(path, "want a mapping (id, title, day or date, check, params)")
	}
	if err := unknownKeys(path, raw, milestoneKeys); err != nil {
		return nil, err
	}
	var m Milestone
	id, ok := raw["id"].(string)
	if !ok {
		return nil, invalid(path+".id", "missing or not text: every milestone has an id")
	}
	if err := text.Name(path+".id", id); err != nil {
		return nil, invalid(path+".id", "must be 1-63 lower-case letters, digits, '-', '_' or '.', starting with a letter or digit")
	}
	m.ID = id
	title, ok := raw["title"].(string)
	if !ok || strings.TrimSpace(title) == "" {
		return nil, invalid(path+".title", "missing or not text: every milestone has a title")
	}
	if err := text.Line(path+".title", title, MaxTitle); err != nil {
		return nil, invalid(path+".title", errors.SafeMessage(err))
	}
	m.Title = title
	dv, hasDay := raw["day"]
	tv, hasDate := raw["date"]
	switch {
	case hasDay && hasDate:
		return nil, invalid(path+".date", "give day or date, not both")
	case hasDay:
		n, ok := integer(dv)
		if !ok || n < 0 || n > MaxDay {
			return nil, invalid(path+".day", fmt.Sprintf("want a whole number of days 0..%d after the start", MaxDay))
		}
		d := int(n)
		m.Day = &d
	case hasDate:
		s, err := dateOf(path+".date", tv)
		if err != nil {
			return nil, err
		}
		m.Date = s
	default:
		return nil, invalid(path+".day", "missing: give day (days after the start) or date (YYYY-MM-DD)")
	}
	check, ok := raw["check"].(string)
	if !ok {
		return nil, invalid(path+".check", "missing or not text: name a check kind ("+strings.Join(KindNames(), ", ")+")")
	}
	k := kinds[check]
	if k == nil {
		msg := fmt.Sprintf("unknown check kind %q", clip(check))
		if hint := text.Suggest(check, KindNames()); hint != "" {
			msg += "; did you mean " + strconv.Quote(hint) + "?"
		}
		return nil, invalid(path+".check", msg+" (known: "+strings.Join(KindNames(), ", ")+")")
	}
	m.Check = check
	params := map[string]any{}
	if pv, ok := raw["params"]; ok && pv != nil {
		pm, ok := pv.(map[string]any)
		if !ok {
			return nil, invalid(path+".params", "want a mapping of the check's params")
		}
		params = pm
	}
	out, err := k.params(path+".params", params)
	if err != nil {
		return nil, err
	}
	if len(out) > 0 {
		m.Params = out
	}
	return &m, nil
}

// integer returns v as a whole number, if it is one.
func integer(v any) (int64, bool) {
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	case uint64:
		if n > 1<<53 {
			return 0, false
		}
		return int64(n), true
	case float64:
		if n == float64(int64(n)) && n >= -1<<53 && n <= 1<<53 {
			return int64(n), true
		}
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

// Format prints the plan as YAML-compatible JSON, indented: a document
// Parse reads back to the same plan.
func (p *Plan) Format() []byte {
	b, _ := json.MarshalIndent(p, "", "  ")
	return append(b, '\n')
}
