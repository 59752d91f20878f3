package cli

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// watchView is what `genesis campaign watch` shows at one moment.
type watchView struct {
	C           *campaign.Campaign
	Curve       campaign.Curve
	InFlight    []campaign.Experiment
	Suggestions []map[string]any
	// SuggestErr says why there are no suggestions ("" when there are, or
	// none were asked for).
	SuggestErr string
	Now        time.Time
}

// campaignEnded reports whether a campaign in state st will change no more.
func campaignEnded(st string) bool {
	return st == campaign.Stopped || st == campaign.Completed || st == campaign.FailedC
}

// watchCampaign follows campaign name until it ends or the command's
// context does (Ctrl-C): on a terminal a view redrawn in place, elsewhere
// one line per change.
func watchCampaign(cmd *cobra.Command, env *Env, cl *client.Client, name string, interval time.Duration, suggestN int) error {
	ctx := cmd.Context()
	f, tty := env.Stdout.(*os.File)
	tty = tty && isatty.IsTerminal(f.Fd())
	width := 100
	if tty {
		if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
			width = w
		}
	}
	var (
		v          watchView
		lastCounts campaign.Counts
		lastState  string
		haveExps   bool
		drawn      int    // lines of the view on the terminal
		said       string // the last line printed without a terminal
	)
	poll := interval
	for {
		var c campaign.Campaign
		if err := cl.Do(ctx, http.MethodGet, campaignPath(name), nil, &c); err != nil {
			return quietOnInterrupt(ctx, err)
		}
		changed := !haveExps || c.Counts != lastCounts || c.State != lastState
		if changed {
			exps, err := httpapi.AllExperiments(func(cursor string) ([]campaign.Experiment, string, error) {
				var l httpapi.List[campaign.Experiment]
				err := cl.Do(ctx, http.MethodGet, campaignPath(c.ID, "experiments")+"?limit=1000&cursor="+url.QueryEscape(cursor), nil, &l)
				return l.Items, l.Next, err
			})
			if err != nil {
				return quietOnInterrupt(ctx, err)
			}
			v.Curve = campaign.Convergence(&c.Spec, exps)
			v.InFlight = v.InFlight[:0]
			for _, e := range exps {
				if e.State == campaign.Dispatched || e.State == campaign.InFlight {
					v.InFlight = append(v.InFlight, e)
				}
			}
			v.Suggestions, v.SuggestErr = nil, ""
			if suggestN > 0 && !campaignEnded(c.State) {
				var s httpapi.Suggestions
				err := cl.Do(ctx, http.MethodGet, campaignPath(c.ID, "suggestions")+"?n="+strconv.Itoa(suggestN), nil, &s)
				switch {
				case ctx.Err() != nil:
					return nil
				case err != nil:
					v.SuggestErr = Message(err)
				default:
					v.Suggestions = s.Items
				}
			}
			haveExps, lastCounts, lastState = true, c.Counts, c.State
		}
		v.C, v.Now = &c, time.Now()
		if tty {
			drawn = redraw(env.Stdout, drawn, renderWatch(&v, width))
		} else if line := watchLine(&v); line != said {
			fmt.Fprintln(env.Stdout, time.Now().UTC().Format(time.TimeOnly)+" "+line)
			said = line
		}
		if campaignEnded(c.State) {
			return nil
		}
		if changed {
			poll = interval
		} else {
			poll = min(2*poll, 10*interval)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(poll):
		}
	}
}

// redraw replaces the drawn lines last written to a terminal w with
// lines: up to the first of them, clear to the end of the screen, write
// the new ones. It returns how many lines it drew. Every line must fit the
// terminal's width (renderWatch clips them), or the count is wrong.
func redraw(w io.Writer, drawn int, lines []string) int {
	var b strings.Builder
	if drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", drawn)
	}
	b.WriteString("\r\x1b[J")
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	io.WriteString(w, b.String())
	return len(lines)
}

// quietOnInterrupt ends a watch that Ctrl-C interrupted mid-request
// without an error: stopping to watch is what the user asked for.
func quietOnInterrupt(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// watchLine is the one-line summary printed on each change without a
// terminal.
func watchLine(v *watchView) string {
	c := v.C
	line := fmt.Sprintf("%s %s: %s", c.Name, stateText(c), countsText(c.Counts))
	if n := len(v.Curve.Best); n > 0 {
		b := v.Curve.Best[n-1]
		name, _ := firstObjective(&c.Spec)
		line += fmt.Sprintf("; best %s = %s at experiment %d", name, num(b.Value), b.Seq)
	}
	return line
}

// renderWatch draws the terminal view, each line at most width columns.
func renderWatch(v *watchView, width int) []string {
	c := v.C
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, clip(fmt.Sprintf(format, args...), width)) }
	title := c.Name
	if c.Title != "" {
		title += " — " + safe(c.Title)
	}
	add("%s   [%s]   label %s", title, stateText(c), c.Label)
	add("objectives: %s; budget %s", objectivesText(&c.Spec), budgetText(&c.Spec))
	add("experiments: %s", countsText(c.Counts))
	if c.StartedAt != nil {
		end := v.Now
		if c.EndedAt != nil {
			end = *c.EndedAt
		}
		add("running for %s", end.Sub(*c.StartedAt).Truncate(time.Second))
	}
	name, _ := firstObjective(&c.Spec)
	if n := len(v.Curve.Best); n > 0 {
		b := v.Curve.Best[n-1]
		add("best %s: %s at experiment %d%s", name, num(b.Value), b.Seq, targetGap(&c.Spec, b.Value))
		if c.Best != nil {
			add("  with %s", paramsText(c.Best.Params))
		}
	} else {
		add("best %s: none yet", name)
	}
	if sp := sparkline(bestSeries(&v.Curve, c.Spec.Objectives), width-14); sp != "" {
		add("convergence: %s", sp)
	}
	lines = append(lines, "")
	if len(v.InFlight) == 0 {
		add("in flight: none")
	} else {
		add("in flight (%d):", len(v.InFlight))
		for i, e := range v.InFlight {
			if i == 8 {
				add("  … and %d more", len(v.InFlight)-i)
				break
			}
			since := e.ProposedAt
			if e.DispatchedAt != nil {
				since = *e.DispatchedAt
			}
			add("  #%-4d %-10s %-16s %8s  %s", e.Seq, e.State, dash(executorOf(&e)), v.Now.Sub(since).Truncate(time.Second), paramsText(e.Params))
		}
	}
	switch {
	case v.SuggestErr != "":
		add("next suggestions: unavailable (%s)", v.SuggestErr)
	case len(v.Suggestions) > 0:
		add("next suggestions:")
		for _, s := range v.Suggestions {
			add("  %s", paramsText(s))
		}
	}
	if !campaignEnded(c.State) {
		add("(Ctrl-C stops watching; the campaign goes on)")
	}
	return lines
}

// targetGap says how far value is from the first objective's target.
func targetGap(s *campaign.Spec, value float64) string {
	if len(s.Objectives) == 0 || s.Objectives[0].Target == nil {
		return ""
	}
	o := s.Objectives[0]
	t := *o.Target
	if (o.Goal == "min" && value <= t) || (o.Goal != "min" && value >= t) {
		return " — target " + num(t) + " reached"
	}
	return " (target " + num(t) + ")"
}

// bestSeries is the best so far after each observation.
func bestSeries(cv *campaign.Curve, objs []campaign.Objective) []float64 {
	minimise := len(objs) > 0 && objs[0].Goal == "min"
	out := make([]float64, 0, len(cv.Points))
	best := math.NaN()
	for _, p := range cv.Points {
		if math.IsNaN(best) || (minimise && p.Value < best) || (!minimise && p.Value > best) {
			best = p.Value
		}
		out = append(out, best)
	}
	return out
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// sparkline draws the last width values of xs as a line of block
// characters, scaled between their least and greatest.
func sparkline(xs []float64, width int) string {
	if width <= 0 || len(xs) == 0 {
		return ""
	}
	if len(xs) > width {
		xs = xs[len(xs)-width:]
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range xs {
		lo, hi = math.Min(lo, x), math.Max(hi, x)
	}
	var b strings.Builder
	for _, x := range xs {
		i := len(sparks) / 2
		if hi > lo {
			i = int(math.Round((x - lo) / (hi - lo) * float64(len(sparks)-1)))
		}
		b.WriteRune(sparks[i])
	}
	return b.String()
}

// clip cuts s to width runes, so that no line wraps and the view can be
// redrawn in place.
func clip(s string, width int) string {
	if width <= 1 || utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}
