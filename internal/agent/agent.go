// Package agent runs research agents on behalf of a principal: it reads
// the literature through lit.Library as that principal, proposes
// hypotheses — literature-based discovery (Swanson's ABC model), property
// gaps from extracted facts near a target, and, when a chat model is
// configured, an LLM whose every claim must cite a passage the run read —
// and drafts campaigns from them for a person to approve and start.
//
// Guarantees:
//   - An agent never reads above its principal: every read goes through
//     the Library as p, and model tool calls are decided like p's requests
//     (unknown tool, malformed arguments, a hidden or missing passage → a
//     tool error, never privilege). Permissions come from p, never from
//     model output or document text.
//   - Runs are on the record: a run's outputs are a catalog dataset
//     (agent-run-…) whose label is the join of the labels of every passage
//     and fact the run read (and of the challenge), whose version's lineage
//     (activity agent) names the publication versions read. A relabel of a
//     publication therefore raises the runs that read it, and reading a
//     run, a hypothesis or a draft is reading its asset: hidden = missing.
//   - A draft (campaign.yaml) parses with the campaign parser; it starts
//     only after a person cleared for its label approves it.
package agent

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compartment"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lit"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Methods of hypothesis generation.
const (
	MethodLBD = "lbd" // literature-based discovery (ABC)
	MethodGap = "gap" // property gaps near a target
	MethodLLM = "llm" // a chat model citing passages
)

// Challenges gives the target of a national challenge (issue 15). A nil
// Challenges refuses --challenge with a clear error.
type Challenges interface {
	Target(ctx context.Context, p *genesis.Principal, id string) (*Target, error)
}

// Target is a property value to reach.
type Target struct {
	Property string  `json:"property"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit,omitempty"`
	// Direction is "near" (default), "min" or "max".
	Direction string `json:"direction,omitempty"`
	// Label is the marking of where the target came from (a challenge);
	// the run's label joins it.
	Label string `json:"label,omitempty"`
}

// Config is what the agent service needs.
type Config struct {
	Library    lit.Library
	Catalog    *catalog.Service
	Campaigns  *campaign.Service // for Start; nil refuses Start
	Chatter    llm.Chatter       // nil: no LLM method
	Challenges Challenges        // nil until issue 15
	Fleet      lab.Fleet         // instruments for drafts; nil: job templates only
	Audit      audit.Appender
	DB         store.DB
	Logger     *slog.Logger
	Now        func() time.Time
	// WorkDir holds run files while they are packed (default: os.TempDir).
	WorkDir string
}

// Service is the research agent service.
type Service struct {
	c Config
}

// New returns the service.
func New(c Config) (*Service, error) {
	if c.Library == nil || c.Catalog == nil || c.DB == nil {
		return nil, errors.E("agent.New", errors.Invalid, errors.Msg("agent needs a library, a catalog and a store"))
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return &Service{c: c}, nil
}

// HypothesizeRequest asks for hypotheses about a topic.
type HypothesizeRequest struct {
	Topic     string   `json:"topic"`
	Challenge string   `json:"challenge,omitempty"`
	Target    *Target  `json:"target,omitempty"`
	Limit     int      `json:"limit,omitempty"`   // 0 = 10; at most 50
	Methods   []string `json:"methods,omitempty"` // lbd, gap, llm; default all available
	Project   string   `json:"project,omitempty"`
	Label     string   `json:"label,omitempty"` // floor for the run's label
}

// Claim is one cited statement of a hypothesis.
type Claim struct {
	Text      string   `json:"text"`
	Citations []string `json:"citations"` // passage IDs (psg_…)
}

// Hypothesis is one ranked proposal of a run.
type Hypothesis struct {
	ID        string  `json:"id"`
	Run       string  `json:"run"`
	Rank      int     `json:"rank"`
	Method    string  `json:"method"`
	Statement string  `json:"statement"`
	Score     float64 `json:"score"`
	// ScoreExplained says how Score was computed.
	ScoreExplained string  `json:"score_explained"`
	Claims         []Claim `json:"claims"`
	// Passages are every passage the hypothesis rests on; Facts the facts.
	Passages []string `json:"passages"`
	Facts    []string `json:"facts,omitempty"`
	// LBD: the A and C concepts and the linking B terms.
	A   string   `json:"a,omitempty"`
	C   string   `json:"c,omitempty"`
	Via []string `json:"via,omitempty"`
	// Gap: the proposal in numbers, for drafts.
	Gap *GapProposal `json:"gap,omitempty"`
}

// GapProposal is a property-gap hypothesis in numbers.
type GapProposal struct {
	Property string  `json:"property"`
	Target   float64 `json:"target"`
	Unit     string  `json:"unit,omitempty"`
	// Kind: "near" (a material measured near the target) or "mix" (a
	// composition between two materials bracketing it).
	Kind      string  `json:"kind"`
	Material  string  `json:"material"`
	Value     float64 `json:"value"`
	Other     string  `json:"other,omitempty"` // mix: the second material
	OtherVal  float64 `json:"other_value,omitempty"`
	Fraction  float64 `json:"fraction,omitempty"` // mix: the predicted fraction of Other
	Direction string  `json:"direction,omitempty"`
	// Conditions seen with the facts: name → [low, high] in canonical units.
	Conditions map[string][2]float64 `json:"conditions,omitempty"`
	Units      map[string]string     `json:"condition_units,omitempty"`
}

// Drops counts what a run refused from a model.
type Drops struct {
	Claims     int            `json:"claims"`
	Hypotheses int            `json:"hypotheses"`
	ToolErrors int            `json:"tool_errors"`
	Reasons    map[string]int `json:"reasons,omitempty"`
}

func (d *Drops) add(reason string) {
	if d.Reasons == nil {
		d.Reasons = map[string]int{}
	}
	d.Reasons[reason]++
}

// Run is one agent run on the record.
type Run struct {
	ID         string       `json:"id"`
	Asset      string       `json:"asset"`   // the catalog dataset holding run.json
	Name       string       `json:"name"`    // its name (agent-run-…)
	Version    int64        `json:"version"` // its version
	Label      string       `json:"label"`
	Topic      string       `json:"topic"`
	Challenge  string       `json:"challenge,omitempty"`
	Target     *Target      `json:"target,omitempty"`
	Methods    []string     `json:"methods"`
	Hypotheses []Hypothesis `json:"hypotheses"`
	// Read lists every passage the run read; ReadFacts every fact.
	Read      []string  `json:"read_passages"`
	ReadFacts []string  `json:"read_facts,omitempty"`
	Drops     Drops     `json:"drops"`
	Notes     []string  `json:"notes,omitempty"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// RunSummary is a run as lists show it.
type RunSummary struct {
	ID         string    `json:"id"`
	Asset      string    `json:"asset"`
	Name       string    `json:"name"`
	Label      string    `json:"label"`
	Topic      string    `json:"topic"`
	Hypotheses int       `json:"hypotheses"`
	CreatedAt  time.Time `json:"created_at"`
}

const (
	maxLimit    = 50
	runFile     = "run.json"
	maxRunBytes = 64 << 20
)

// Hypothesize runs the requested methods as p and stores the run.
func (s *Service) Hypothesize(ctx context.Context, p *genesis.Principal, req HypothesizeRequest) (*Run, error) {
	const op errors.Op = "agent.Hypothesize"
	if p == nil {
		return nil, errors.E(op, errors.Permission, errors.Msg("no principal"))
	}
	req.Topic = strings.TrimSpace(req.Topic)
	if err := text.Line("topic", req.Topic, 1000); err != nil {
		return nil, errors.E(op, err)
	}
	if req.Topic == "" && req.Target == nil && req.Challenge == "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("topic"), errors.Msg("give a topic, a target or a challenge"))
	}
	switch {
	case req.Limit == 0:
		req.Limit = 10
	case req.Limit < 1 || req.Limit > maxLimit:
		return nil, errors.E(op, errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1.."+strconv.Itoa(maxLimit)))
	}
	floor := label.Label{}
	if req.Label != "" {
		// Not label.Parse: a user's marking interns only tokens the
		// deployment knows and p may know of (compartment.Admit).
		l, err := compartment.ParseForDB(ctx, s.c.DB, p, "label", req.Label)
		if err != nil {
			return nil, errors.E(op, err)
		}
		floor = l
	}
	target := req.Target
	if req.Challenge != "" {
		if s.c.Challenges == nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("challenge"), errors.Msg("challenges are not available on this server yet; give a target instead (--target \"band_gap=1.3 eV\")"))
		}
		t, err := s.c.Challenges.Target(ctx, p, req.Challenge)
		if errors.Is(errors.NotExist, err) && genesis.ValidName(req.Challenge) {
			// A hidden challenge is a missing one: the same words.
			return nil, errors.E(op, errors.NotExist, errors.Field("challenge"), errors.Msg("challenge "+req.Challenge+" not found"))
		}
		if err != nil {
			return nil, errors.E(op, err)
		}
		if target == nil {
			target = t
		}
		if t.Label != "" {
			l, err := label.Parse(t.Label)
			if err != nil {
				return nil, errors.E(op, errors.Internal, err)
			}
			floor = label.Join(floor, l)
		}
	}
	if target != nil {
		if err := target.check(); err != nil {
			return nil, errors.E(op, err)
		}
	}
	methods, explicit, err := s.methods(req.Methods)
	if err != nil {
		return nil, errors.E(op, err)
	}
	rd := newReader(s.c.Library, p)
	run := &Run{ID: identity.NewID("run"), Topic: req.Topic, Challenge: req.Challenge, Target: target, Methods: methods,
		CreatedBy: string(p.ID), CreatedAt: s.c.Now().UTC().Truncate(time.Microsecond)}
	var all []Hypothesis
	for _, m := range methods {
		var hs []Hypothesis
		var err error
		switch m {
		case MethodLBD:
			if req.Topic == "" {
				if explicit[m] {
					return nil, errors.E(op, errors.Invalid, errors.Field("topic"), errors.Msg("literature-based discovery needs a topic"))
				}
				run.Notes = append(run.Notes, "lbd: skipped, no topic")
				continue
			}
			hs, err = s.lbd(ctx, rd, req.Topic, req.Limit)
		case MethodGap:
			if target == nil {
				if explicit[m] {
					return nil, errors.E(op, errors.Invalid, errors.Field("target"), errors.Msg("property gaps need a target (\"band_gap=1.3 eV\") or a challenge"))
				}
				run.Notes = append(run.Notes, "gap: skipped, no target")
				continue
			}
			hs, err = s.gaps(ctx, rd, target, req.Limit)
		case MethodLLM:
			hs, err = s.llmHypotheses(ctx, rd, req.Topic, target, req.Limit, &run.Drops)
			if err != nil && !explicit[m] && errors.Is(errors.Transient, err) {
				// Asked for all methods: the others' hypotheses stand, and
				// the run says the model failed. (What the method read
				// before it failed still counts in the label.)
				run.Notes = append(run.Notes, "llm: "+errors.SafeMessage(err))
				s.c.Logger.Warn("agent: chat model failed", "run", run.ID, "err", err)
				err = nil
			}
		}
		if err != nil {
			return nil, errors.E(op, err)
		}
		all = append(all, hs...)
	}
	// Rank: by score within each method's scale is not comparable across
	// methods, so interleave methods by their own rank, then by score.
	all = rankAll(all, req.Limit)
	for i := range all {
		all[i].ID = identity.NewID("hyp")
		all[i].Run = run.ID
		all[i].Rank = i + 1
	}
	run.Hypotheses = all
	if run.Hypotheses == nil {
		run.Hypotheses = []Hypothesis{}
	}
	run.Read = rd.passageIDs()
	run.ReadFacts = rd.factIDs()
	l, err := rd.join(floor)
	if err != nil {
		return nil, errors.E(op, err)
	}
	run.Label = l.Format()
	if err := s.store(ctx, p, run, req.Project, rd.versions()); err != nil {
		return nil, errors.E(op, err)
	}
	s.audit(ctx, p, "run", run.Asset, run.Label, run.ID)
	s.c.Logger.Info("agent run", "run", run.ID, "principal", p.ID, "hypotheses", len(run.Hypotheses), "read", len(run.Read), "dropped_claims", run.Drops.Claims)
	return run, nil
}

// methods resolves the requested methods (default: all available).
func (s *Service) methods(req []string) ([]string, map[string]bool, error) {
	explicit := map[string]bool{}
	if len(req) == 0 {
		ms := []string{MethodLBD, MethodGap}
		if s.c.Chatter != nil {
			ms = append(ms, MethodLLM)
		}
		return ms, explicit, nil
	}
	var out []string
	for _, m := range req {
		m = strings.TrimSpace(strings.ToLower(m))
		switch m {
		case MethodLBD, MethodGap:
		case MethodLLM:
			if s.c.Chatter == nil {
				return nil, nil, errors.E(errors.Invalid, errors.Field("methods"), errors.Msg("method llm: no chat model is configured on this server"))
			}
		default:
			return nil, nil, errors.E(errors.Invalid, errors.Field("methods"), errors.Msg("unknown method "+strconv.Quote(clip(m, 40))+"; methods are lbd, gap and llm"))
		}
		if !explicit[m] {
			explicit[m] = true
			out = append(out, m)
		}
	}
	return out, explicit, nil
}

// rankAll orders hypotheses: round-robin over methods in their own score
// order (scores of different methods are on different scales), cut to n.
// It returns a new slice.
func rankAll(hs []Hypothesis, n int) []Hypothesis {
	by := map[string][]Hypothesis{}
	var order []string
	for _, h := range hs {
		if _, ok := by[h.Method]; !ok {
			order = append(order, h.Method)
		}
		by[h.Method] = append(by[h.Method], h)
	}
	for _, m := range order {
		sort.SliceStable(by[m], func(i, j int) bool { return by[m][i].Score > by[m][j].Score })
	}
	out := hs[:0:0]
	for i := 0; len(out) < n; i++ {
		added := false
		for _, m := range order {
			if i < len(by[m]) && len(out) < n {
				out = append(out, by[m][i])
				added = true
			}
		}
		if !added {
			break
		}
	}
	return out
}

func (t *Target) check() error {
	t.Property = strings.TrimSpace(t.Property)
	if t.Property == "" || len(t.Property) > 64 || strings.Trim(t.Property, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		return errors.E(errors.Invalid, errors.Field("target.property"), errors.Msg("a target property is snake_case (band_gap, yield, …)"))
	}
	if !finite(t.Value) {
		return errors.E(errors.Invalid, errors.Field("target.value"), errors.Msg("a target value must be a finite number"))
	}
	if err := text.Line("target.unit", t.Unit, 32); err != nil {
		return err
	}
	switch t.Direction {
	case "":
		t.Direction = "near"
	case "near", "min", "max":
	default:
		return errors.E(errors.Invalid, errors.Field("target.direction"), errors.Msg("direction is near, min or max"))
	}
	return nil
}

// ParseTarget reads "band_gap=1.3 eV", "yield>=90 %" (max) or "x<=2" (min).
func ParseTarget(s string) (*Target, error) {
	const op errors.Op = "agent.ParseTarget"
	s = strings.TrimSpace(s)
	dir := "near"
	var prop, rest string
	switch {
	case strings.Contains(s, ">="):
		prop, rest, _ = strings.Cut(s, ">=")
		dir = "max"
	case strings.Contains(s, "<="):
		prop, rest, _ = strings.Cut(s, "<=")
		dir = "min"
	case strings.Contains(s, "="):
		prop, rest, _ = strings.Cut(s, "=")
	default:
		return nil, errors.E(op, errors.Invalid, errors.Field("target"), errors.Msg("a target is PROPERTY=VALUE [UNIT], e.g. \"band_gap=1.3 eV\""))
	}
	rest = strings.TrimSpace(rest)
	num, unit, _ := strings.Cut(rest, " ")
	v, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("target"), errors.Msg("target value "+strconv.Quote(clip(num, 40))+" is not a number"))
	}
	t := &Target{Property: strings.TrimSpace(prop), Value: v, Unit: strings.TrimSpace(unit), Direction: dir}
	if err := t.check(); err != nil {
		return nil, errors.E(op, err)
	}
	return t, nil
}

// store writes the run as a catalog dataset version (run.json) derived
// from the publication versions read, then its rows.
func (s *Service) store(ctx context.Context, p *genesis.Principal, run *Run, project string, inputs []catalog.VersionRef) error {
	run.Name = "agent-run-" + strings.ToLower(strings.TrimPrefix(run.ID, "run_"))
	a, v, err := s.commitAsset(ctx, p, catalog.CreateSpec{Kind: catalog.KindDataset, Name: run.Name, Title: "Agent run: " + clip(run.Topic, 200),
		Description: "Hypotheses of agent run " + run.ID + " on behalf of " + string(p.ID) + ".", Label: run.Label, Project: project},
		inputs, run.ID, func(dir string) error {
			// Asset and version are filled below; reads fill them from
			// the dataset holding run.json.
			return writeJSON(filepath.Join(dir, runFile), run)
		})
	if err != nil {
		return err
	}
	run.Asset, run.Version = a.ID, v
	return s.c.DB.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO agent_runs (id, asset_id, version, created_by, created_at) VALUES (?, ?, ?, ?, ?)`,
			run.ID, a.ID, v, string(p.ID), store.T(run.CreatedAt)); err != nil {
			return err
		}
		for i, h := range run.Hypotheses {
			if _, err := tx.Exec(ctx, `INSERT INTO agent_hypotheses (id, run_id, ordinal) VALUES (?, ?, ?)`, h.ID, run.ID, i); err != nil {
				return err
			}
		}
		return nil
	})
}

// commitAsset creates a dataset and commits one version of the files write
// puts in a fresh directory, derived from inputs by activity agent.
func (s *Service) commitAsset(ctx context.Context, p *genesis.Principal, spec catalog.CreateSpec, inputs []catalog.VersionRef, activityID string, write func(dir string) error) (*catalog.Asset, int64, error) {
	dir, err := os.MkdirTemp(s.c.WorkDir, "agent-")
	if err != nil {
		return nil, 0, errors.E(errors.Internal, err)
	}
	defer os.RemoveAll(dir)
	if err := write(dir); err != nil {
		return nil, 0, err
	}
	a, err := s.c.Catalog.Create(ctx, p, spec)
	if err != nil {
		return nil, 0, err
	}
	srcs, err := pack.Sources([]string{dir + string(filepath.Separator)}, nil)
	if err != nil {
		return nil, 0, errors.E(errors.Internal, err)
	}
	res, err := pack.Pack(ctx, s.c.Catalog.Blobs(p, a.ID), srcs, pack.Options{})
	if err != nil {
		return nil, 0, err
	}
	v, err := s.c.Catalog.Commit(ctx, p, a.ID, catalog.CommitSpec{Manifest: res.ID, Inputs: inputs,
		Activity: catalog.ActivityAgent, ActivityID: activityID, Message: catalog.ActivityAgent + " " + activityID})
	if err != nil {
		return nil, 0, err
	}
	return a, v.Version, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// readFile reads one file of an asset version as p (hidden = NotExist).
func (s *Service) readFile(ctx context.Context, p *genesis.Principal, asset string, version int64, path string, max int64) ([]byte, *catalog.Asset, error) {
	f, a, _, _, err := s.c.Catalog.OpenFile(ctx, p, asset, version, path)
	if err != nil {
		return nil, nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(b)) > max {
		return nil, nil, errors.E(errors.Internal, errors.Msg(path+" is too large"))
	}
	return b, a, nil
}

// Run returns a run p may read (its asset readable), else NotExist.
func (s *Service) Run(ctx context.Context, p *genesis.Principal, id string) (*Run, error) {
	const op errors.Op = "agent.Run"
	run, err := s.run(ctx, p, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return run, nil
}

func notFound(what, id string) error {
	return errors.E(errors.NotExist, errors.Msg(what+" "+strconv.Quote(clip(id, 64))+" not found"))
}

func (s *Service) run(ctx context.Context, p *genesis.Principal, id string) (*Run, error) {
	var asset string
	var version int64
	err := s.c.DB.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT asset_id, version FROM agent_runs WHERE id = ?`, id).Scan(&asset, &version)
	})
	if errors.Is(errors.NotExist, err) {
		return nil, notFound("run", id)
	}
	if err != nil {
		return nil, err
	}
	b, a, err := s.readFile(ctx, p, asset, version, runFile, maxRunBytes)
	if errors.Is(errors.NotExist, err) {
		return nil, notFound("run", id)
	}
	if err != nil {
		return nil, err
	}
	var run Run
	if err := json.Unmarshal(b, &run); err != nil {
		return nil, errors.E(errors.Internal, err)
	}
	run.Asset, run.Name, run.Version = a.ID, a.Name, version
	// The asset's label now: a relabel since the run raised it.
	run.Label = a.Label
	return &run, nil
}

// Hypothesis returns one hypothesis of a run p may read.
func (s *Service) Hypothesis(ctx context.Context, p *genesis.Principal, id string) (*Hypothesis, error) {
	const op errors.Op = "agent.Hypothesis"
	h, _, err := s.hypothesis(ctx, p, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return h, nil
}

func (s *Service) hypothesis(ctx context.Context, p *genesis.Principal, id string) (*Hypothesis, *Run, error) {
	var runID string
	err := s.c.DB.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT run_id FROM agent_hypotheses WHERE id = ?`, id).Scan(&runID)
	})
	if errors.Is(errors.NotExist, err) {
		return nil, nil, notFound("hypothesis", id)
	}
	if err != nil {
		return nil, nil, err
	}
	run, err := s.run(ctx, p, runID)
	if errors.Is(errors.NotExist, err) {
		return nil, nil, notFound("hypothesis", id)
	}
	if err != nil {
		return nil, nil, err
	}
	for i := range run.Hypotheses {
		if run.Hypotheses[i].ID == id {
			return &run.Hypotheses[i], run, nil
		}
	}
	return nil, nil, notFound("hypothesis", id)
}

// Runs lists the runs p may read, newest first, a page at a time.
func (s *Service) Runs(ctx context.Context, p *genesis.Principal, cursor string, limit int) ([]RunSummary, string, error) {
	const op errors.Op = "agent.Runs"
	type row struct {
		id, asset string
		version   int64
		created   int64
	}
	// Key: created_at (inverted for newest first) and ID, fixed width.
	key := func(r *row) string {
		return strconv.FormatInt(1<<62-r.created, 10) + "/" + r.id
	}
	fetch := func(after string, n int) ([]row, error) {
		var out []row
		err := s.c.DB.View(ctx, func(tx store.Tx) error {
			inv, id := int64(1<<62), ""
			if after != "" {
				a, b, ok := strings.Cut(after, "/")
				v, err := strconv.ParseInt(a, 10, 64)
				if !ok || err != nil {
					return store.MalformedCursor()
				}
				inv, id = v, b
			}
			created := int64(1<<62) - inv
			q := `SELECT id, asset_id, version, created_at FROM agent_runs ORDER BY created_at DESC, id ASC LIMIT ?`
			args := []any{n}
			if after != "" {
				q = `SELECT id, asset_id, version, created_at FROM agent_runs WHERE created_at < ? OR (created_at = ? AND id > ?) ORDER BY created_at DESC, id ASC LIMIT ?`
				args = []any{created, created, id, n}
			}
			rows, err := tx.Query(ctx, q, args...)
			if err != nil {
				return err
			}
			return rows.Each(func() error {
				var r row
				err := rows.Scan(&r.id, &r.asset, &r.version, &r.created)
				out = append(out, r)
				return err
			})
		})
		return out, err
	}
	keep := func(rs []row) ([]bool, error) {
		ok := make([]bool, len(rs))
		for i, r := range rs {
			_, _, err := s.c.Catalog.Version(ctx, p, r.asset, r.version)
			switch {
			case err == nil:
				ok[i] = true
			case errors.Is(errors.NotExist, err):
			default:
				return nil, err
			}
		}
		return ok, nil
	}
	rows, next, err := store.Page(cursor, limit, 50, fetch, key, keep)
	if err != nil {
		return nil, "", errors.E(op, err)
	}
	out := make([]RunSummary, 0, len(rows))
	for _, r := range rows {
		run, err := s.run(ctx, p, r.id)
		if errors.Is(errors.NotExist, err) {
			continue // hidden between the check and the read
		}
		if err != nil {
			return nil, "", errors.E(op, err)
		}
		out = append(out, RunSummary{ID: run.ID, Asset: run.Asset, Name: run.Name, Label: run.Label, Topic: run.Topic, Hypotheses: len(run.Hypotheses), CreatedAt: run.CreatedAt})
	}
	return out, next, nil
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
