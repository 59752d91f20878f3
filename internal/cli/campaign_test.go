package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"image/png"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// campaignServer is an API server with a campaign service whose
// experiments are jobs on a local site; step advances the runner and the
// job scheduler by one round each.
type campaignServer struct {
	env  func(string) string
	step func()
}

func newCampaignServer(t *testing.T) *campaignServer {
	t.Helper()
	ctx := context.Background()
	db := storetest.Migrated(t, storetest.SQLite)
	ids := identity.New(db)
	secret, err := ids.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := ids.Principal(ctx, &genesis.Principal{Roles: []genesis.Role{genesis.RoleAdmin}}, "admin")
	if err != nil {
		t.Fatal(err)
	}
	az, err := authz.New(ids, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: ids})
	reg, err := sites.New(db, az, ids, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	lb, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	js := jobs.New(db, az, ids, cat, reg, t.TempDir())
	js.Backend = func(context.Context, *sites.Site) (compute.Backend, error) { return lb, nil }
	if _, err := reg.Add(ctx, admin, sites.Spec{Name: "here", Kind: sites.KindLocal, Accreditation: "OPEN", Capacity: sites.Capacity{Nodes: 1, CoresPerNode: 4, MemoryGBNode: 8}}); err != nil {
		t.Fatal(err)
	}
	camp := campaign.New(db, az, ids, cat, nil)
	camp.SetJobs(campaign.NewJobExecutor(js, ids))
	camp.WorkDir = t.TempDir()
	srv := httpapi.New(httpapi.Config{DB: db, Identity: ids, Authz: az, Catalog: cat, Sites: reg, Jobs: js, Campaigns: camp, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	home := t.TempDir()
	vars := map[string]string{"GENESIS_URL": ts.URL, "GENESIS_TOKEN": secret, "HOME": home, "XDG_CONFIG_HOME": home}
	return &campaignServer{
		env: func(k string) string { return vars[k] },
		step: func() {
			camp.Step(ctx)
			js.Step(ctx)
		},
	}
}

func (s *campaignServer) run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, s.env, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

const cliCampaign = `name: parabola
title: A parabola
objectives: [{name: y, goal: max, target: 0.5}]
params: [{name: x, kind: continuous, low: -1, high: 1}]
budget: {experiments: 4}
batch: 2
seed: 5
executor:
  job:
    output: out.json
    spec:
      executable: /bin/sh
      arguments: ["-c", "awk -v x=\"$1\" 'BEGIN { printf \"{\\\"y\\\": %.17g}\", -(x-0.3)^2 }' > out.json", "sh", "${x}"]
      attributes: {duration: 5m}
`

// TestCampaignCLI drives the campaign commands against a real server: a
// file is validated here and created there, runs to completion while
// `watch` (without a terminal) prints a line per change and ends by
// itself; status writes plots that decode; list and experiments print
// what the API holds.
func TestCampaignCLI(t *testing.T) {
	s := newCampaignServer(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	os.WriteFile(file, []byte(cliCampaign), 0o644)

	if code, out, errs := s.run(t, "campaign", "validate", "-f", file); code != 0 || !strings.Contains(out, "parabola: valid") {
		t.Fatalf("validate: %d %q %q", code, out, errs)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(cliCampaign, "low: -1, high: 1", "low: 2, high: 1", 1)), 0o644)
	if code, _, errs := s.run(t, "campaign", "validate", "-f", bad); code != 1 || !strings.Contains(errs, "params[0]") {
		t.Errorf("validate a bad file: %d %q, want 1 naming params[0]", code, errs)
	}
	if code, _, errs := s.run(t, "campaign", "create", "-f", bad); code != 1 || !strings.Contains(errs, "params[0]") {
		t.Errorf("create from a bad file: %d %q, want 1 naming params[0]", code, errs)
	}
	if code, _, errs := s.run(t, "campaign", "validate"); code != 2 {
		t.Errorf("validate without -f: %d %q, want 2", code, errs)
	}

	code, out, errs := s.run(t, "campaign", "create", "-f", file, "--start")
	if code != 0 || !strings.Contains(out, "Created campaign parabola") || !strings.Contains(out, "running") {
		t.Fatalf("create --start: %d %q %q", code, out, errs)
	}

	// watch, without a terminal, until the campaign ends by itself.
	var wout, werr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), []string{"campaign", "watch", "parabola", "--interval", "20ms"}, s.env, strings.NewReader(""), &wout, &werr)
	}()
	deadline := time.Now().Add(2 * time.Minute)
	var wcode int
wait:
	for {
		s.step()
		select {
		case wcode = <-done:
			break wait
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("watch did not end: %q %q", wout.String(), werr.String())
		}
	}
	lines := strings.Split(strings.TrimSpace(wout.String()), "\n")
	if wcode != 0 || len(lines) < 2 || !strings.Contains(lines[len(lines)-1], "parabola completed") || !strings.Contains(lines[len(lines)-1], "4 observed") {
		t.Errorf("watch: %d %q %q", wcode, wout.String(), werr.String())
	}
	for i := 1; i < len(lines); i++ {
		if lines[i][9:] == lines[i-1][9:] {
			t.Errorf("watch printed an unchanged line twice: %q", lines[i])
		}
	}

	// status, with both plots.
	for _, ext := range []string{"png", "svg"} {
		plot := filepath.Join(dir, "plot."+ext)
		code, out, errs := s.run(t, "campaign", "status", "parabola", "--plot", plot)
		if code != 0 || !strings.Contains(out, "completed") || !strings.Contains(out, "best:") {
			t.Fatalf("status: %d %q %q", code, out, errs)
		}
		b, err := os.ReadFile(plot)
		if err != nil {
			t.Fatal(err)
		}
		if ext == "png" {
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("png: %v", err)
			}
		} else {
			var root struct{ XMLName xml.Name }
			if err := xml.Unmarshal(b, &root); err != nil || root.XMLName.Local != "svg" {
				t.Errorf("svg: %v %v", root.XMLName, err)
			}
		}
	}
	if code, _, _ := s.run(t, "campaign", "status", "parabola", "--plot", filepath.Join(dir, "p.gif")); code != 2 {
		t.Errorf("--plot p.gif: %d, want 2", code)
	}

	var st campaign.Campaign
	code, out, _ = s.run(t, "campaign", "status", "parabola", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || st.State != campaign.Completed || st.Counts.Observed != 4 {
		t.Fatalf("status --json: %d %s", code, out)
	}
	var exps []campaign.Experiment
	code, out, _ = s.run(t, "campaign", "experiments", "parabola", "--json", "--state", "observed")
	if code != 0 || json.Unmarshal([]byte(out), &exps) != nil || len(exps) != 4 {
		t.Fatalf("experiments --json: %d %s", code, out)
	}
	for _, e := range exps {
		x := e.Params["x"].(float64)
		if e.Values["y"] != -(x-0.3)*(x-0.3) {
			t.Errorf("experiment %d: x %v y %v", e.Seq, x, e.Values["y"])
		}
	}
	if code, out, _ := s.run(t, "campaign", "experiments", "parabola"); code != 0 || strings.Count(out, "observed") != 4 || !strings.Contains(out, "job ") && !strings.Contains(out, "x=") {
		t.Errorf("experiments: %d %q", code, out)
	}

	// A second campaign: the lifecycle commands, and list.
	os.WriteFile(file, []byte(strings.Replace(strings.Replace(cliCampaign, "parabola", "second", 1), "experiments: 4", "experiments: 40", 1)), 0o644)
	if code, out, errs := s.run(t, "campaign", "create", "-f", file); code != 0 || !strings.Contains(out, "draft") {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"start", "second"}, "second is running."},
		{[]string{"pause", "second", "--reason", "coffee"}, "second is paused (coffee)."},
		{[]string{"resume", "second"}, "second is running."},
		{[]string{"stop", "second", "--reason", "done"}, "second is stopped (done)."},
	} {
		if code, out, errs := s.run(t, append([]string{"campaign"}, c.args...)...); code != 0 || strings.TrimSpace(out) != c.want {
			t.Errorf("%v: %d %q %q, want %q", c.args, code, out, errs, c.want)
		}
	}
	var l []campaign.Campaign
	code, out, _ = s.run(t, "campaign", "list", "--json")
	if code != 0 || json.Unmarshal([]byte(out), &l) != nil || len(l) != 2 || l[0].Name != "second" || l[1].Name != "parabola" {
		t.Errorf("list --json: %d %s", code, out)
	}
	code, out, _ = s.run(t, "campaign", "list", "--state", "stopped")
	if code != 0 || !strings.Contains(out, "second") || strings.Contains(out, "parabola") {
		t.Errorf("list --state stopped: %d %q", code, out)
	}
	if code, _, errs := s.run(t, "campaign", "status", "no-such"); code != 1 || !strings.Contains(errs, "no-such: not found") {
		t.Errorf("status no-such: %d %q", code, errs)
	}
	// watch of an ended campaign prints once and ends.
	if code, out, _ := s.run(t, "campaign", "watch", "second"); code != 0 || strings.Count(strings.TrimSpace(out), "\n") != 0 || !strings.Contains(out, "stopped") {
		t.Errorf("watch a stopped campaign: %d %q", code, out)
	}
}

// TestWatchViewProperties: for random campaigns and widths, no line of
// the view is wider than the terminal (the view redraws in place only if
// no line wraps), text from the server cannot smuggle a terminal escape
// or a line break into it, and the sparkline shows the best so far as a
// non-decreasing series for a maximised objective.
func TestWatchViewProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for trial := range 300 {
		width := 20 + r.IntN(150)
		target := r.NormFloat64()
		c := &campaign.Campaign{
			Name: "c" + strconv.Itoa(trial), Title: "title \x1b[2Jwith\nescapes", Label: "OPEN", State: campaign.Running,
			Reason: "node said \x1b]0;pwned\x07", Counts: campaign.Counts{Observed: r.IntN(100), Running: r.IntN(5)},
			Spec: campaign.Spec{Objectives: []campaign.Objective{{Name: "yield", Goal: "max", Target: &target}}, Budget: campaign.Budget{Experiments: 100}},
		}
		now := time.Now()
		c.StartedAt = &now
		var exps []campaign.Experiment
		for i := range r.IntN(80) {
			e := campaign.Experiment{Seq: i, State: campaign.Observed, Values: map[string]float64{"yield": r.NormFloat64()},
				Params: map[string]any{"x": r.Float64(), "cat": "a\x1b[31m" + strings.Repeat("z", r.IntN(300))}}
			if r.IntN(5) == 0 {
				e.State, e.Instrument, e.Reason = campaign.InFlight, "reactor-"+strconv.Itoa(i), "\x1b[H"
				e.DispatchedAt = &now
			}
			exps = append(exps, e)
		}
		v := &watchView{C: c, Curve: campaign.Convergence(&c.Spec, exps), Now: now.Add(time.Duration(r.IntN(1000)) * time.Second)}
		for _, e := range exps {
			if e.State == campaign.InFlight {
				v.InFlight = append(v.InFlight, e)
			}
		}
		v.Suggestions = []map[string]any{{"x": 0.5, "cat": "\x1b[0m"}}
		for _, line := range renderWatch(v, width) {
			if n := utf8.RuneCountInString(line); n > width {
				t.Fatalf("width %d: a line of %d: %q", width, n, line)
			}
			if strings.ContainsAny(line, "\x1b\x07\n\r") {
				t.Fatalf("a control character reached the terminal: %q", line)
			}
		}
		if line := watchLine(v); strings.ContainsAny(line, "\x1b\x07\n\r") {
			t.Fatalf("a control character in the line: %q", line)
		}
		series := bestSeries(&v.Curve, c.Spec.Objectives)
		sp := []rune(sparkline(series, width))
		if len(series) > 0 && len(sp) != min(len(series), width) {
			t.Fatalf("sparkline of %d values in width %d has %d", len(series), width, len(sp))
		}
		for i := 1; i < len(sp); i++ {
			if strings.IndexRune(string(sparks), sp[i]) < strings.IndexRune(string(sparks), sp[i-1]) {
				t.Fatalf("best so far drawn decreasing: %s", string(sp))
			}
		}
		for i := 1; i < len(series); i++ {
			if series[i] < series[i-1] || math.IsNaN(series[i]) {
				t.Fatalf("best series not monotone: %v", series)
			}
		}
	}
}

// TestWatchEndsOnInterrupt: Ctrl-C (the command's context ending) stops
// watching a campaign that goes on, with status 0, and leaves the
// campaign running.
func TestWatchEndsOnInterrupt(t *testing.T) {
	s := newCampaignServer(t)
	file := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(file, []byte(cliCampaign), 0o644)
	if code, out, errs := s.run(t, "campaign", "create", "-f", file, "--start"); code != 0 {
		t.Fatalf("create: %d %q %q", code, out, errs)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(ctx, []string{"campaign", "watch", "parabola", "--interval", "20ms"}, s.env, strings.NewReader(""), &out, &errb)
	}()
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(out.String(), "parabola running") {
		if time.Now().After(deadline) {
			t.Fatalf("watch printed nothing: %q %q", out.String(), errb.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 || errb.String() != "" {
			t.Errorf("interrupted watch: %d %q", code, errb.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("watch did not stop on interrupt")
	}
	if code, out, _ := s.run(t, "campaign", "status", "parabola"); code != 0 || !strings.Contains(out, "running") {
		t.Errorf("after watching: %d %q", code, out)
	}
}

// term is a reference model of the few terminal controls redraw uses:
// cursor up n lines, carriage return, clear to the end of the screen.
type screenModel struct {
	lines []string
	row   int
}

func (t *screenModel) write(s string) {
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, "\x1b["):
			i := 2
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			n, _ := strconv.Atoi(s[2:i])
			switch s[i] {
			case 'A':
				t.row = max(0, t.row-n)
			case 'J':
				t.lines = t.lines[:min(t.row, len(t.lines))]
			}
			s = s[i+1:]
		case s[0] == '\r':
			s = s[1:]
		case s[0] == '\n':
			t.row++
			s = s[1:]
		default:
			end := strings.IndexAny(s, "\x1b\r\n")
			if end < 0 {
				end = len(s)
			}
			for len(t.lines) <= t.row {
				t.lines = append(t.lines, "")
			}
			t.lines[t.row] += s[:end]
			s = s[end:]
		}
	}
}

// TestRedrawInPlace: after any sequence of views of any lengths, the
// terminal shows what was there before the watch, then exactly the last
// view — nothing of a longer earlier view is left below it.
func TestRedrawInPlace(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 200 {
		var buf strings.Builder
		buf.WriteString("$ genesis campaign watch demo\n")
		drawn := 0
		var last []string
		for range 1 + r.IntN(8) {
			last = nil
			for i := range r.IntN(12) {
				last = append(last, "line "+strconv.Itoa(i)+" "+strings.Repeat("x", r.IntN(20)))
			}
			var b strings.Builder
			drawn = redraw(&b, drawn, last)
			buf.WriteString(b.String())
		}
		var tm screenModel
		tm.write(buf.String())
		want := append([]string{"$ genesis campaign watch demo"}, last...)
		if strings.Join(tm.lines, "\n") != strings.Join(want, "\n") {
			t.Fatalf("screen:\n%s\nwant:\n%s", strings.Join(tm.lines, "\n"), strings.Join(want, "\n"))
		}
	}
}
