package console

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// Steering actions, in the order the page offers them.
var steerActions = []string{"start", "pause", "resume", "stop"}

// objectiveRow is an objective with its target and the best value so far.
type objectiveRow struct {
	Name, Goal, Unit string
	Target           string
	Best             string
}

// expRow is an experiment as the table shows it: parameters and outcomes
// as name=value text (numbers to 4 significant digits), the instrument by
// name when the viewer may see it.
type expRow struct {
	campaign.Experiment
	ParamText  []string
	ValueText  []string
	Instrument string
	At         time.Time
}

// pairs formats a map as sorted name=value strings.
func pairs[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k + "=" + paramText(any(m[k]))
	}
	return out
}

// paramPlot is a parameter's scatter against the first objective.
type paramPlot struct {
	Name string
	Src  string
}

// campaignData is the campaign page and its live part.
type campaignData struct {
	Campaign    *campaign.Campaign
	Experiments []expRow
	// Next is the link to the next page of experiments ("" on the last);
	// First the link back to the first ("" on it).
	Next  string
	First string
	More  bool
	Plot  string
	Live  bool
	// CSRF is the session's form token; Steer the transitions that are
	// valid now and that the viewer may make (empty for one who may not).
	CSRF  string
	Steer []string
	// Error is what the service said of a refused transition.
	Error      string
	Objectives []objectiveRow
	// Best is the first objective's best value so far ("" before any);
	// BestParams its experiment's parameters.
	Best       string
	BestParams []string
	// Finished counts observed and failed experiments: the budget used.
	Finished   int
	Budget     int
	WallUsed   string
	WallBudget string
	ParamPlots []paramPlot
}

const experimentsShown = 50

// validFrom is the campaign states each action may leave (the service's
// own rules; it is the one that enforces them).
var validFrom = map[string][]string{
	"start":  {campaign.Draft},
	"pause":  {campaign.Running},
	"resume": {campaign.Paused},
	"stop":   {campaign.Draft, campaign.Running, campaign.Paused},
}

// maySteer reports whether v may steer cp: its owner, or one the
// authorizer lets operate it (the service's rule). Without an authorizer
// only the owner may.
func (c *Console) maySteer(r *http.Request, v *viewer, cp *campaign.Campaign) (bool, error) {
	if string(v.p.ID) == cp.Owner {
		return true, nil
	}
	if c.cfg.Authz == nil || c.cfg.Identity == nil {
		return false, nil
	}
	ap, err := c.cfg.Identity.AuthzPrincipal(r.Context(), v.p)
	if err != nil {
		return false, err
	}
	res, err := campaignResource(cp)
	if err != nil {
		return false, err
	}
	err = c.cfg.Authz.Can(r.Context(), ap, authz.Operate, res)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(errors.Permission, err), errors.Is(errors.NotExist, err):
		return false, nil
	}
	return false, err
}

func campaignResource(cp *campaign.Campaign) (authz.Resource, error) {
	l, err := parseLabel(cp.Label)
	if err != nil {
		return authz.Resource{}, err
	}
	return authz.Resource{Type: authz.Campaign, ID: cp.ID, Label: l, Owner: cp.Owner, Project: cp.Project}, nil
}

// liveData is the campaign's summary: state, objectives, best, budget and
// the transitions the viewer may make now.
func (c *Console) liveData(r *http.Request, v *viewer, cp *campaign.Campaign) (campaignData, error) {
	// Live while it runs, and while a paused or stopped campaign's
	// experiments in flight finish.
	inFlight := cp.Counts.Dispatched+cp.Counts.Running > 0
	live := cp.State == campaign.Running || inFlight && (cp.State == campaign.Paused || cp.State == campaign.Stopped)
	d := campaignData{Campaign: cp, Live: live, CSRF: v.sess.CSRF,
		Plot: "/campaigns/" + url.PathEscape(cp.Name) + "/plot.svg"}
	may, err := c.maySteer(r, v, cp)
	if err != nil {
		return d, err
	}
	if may {
		for _, a := range steerActions {
			if slices.Contains(validFrom[a], cp.State) {
				d.Steer = append(d.Steer, a)
			}
		}
	}
	for i, o := range cp.Spec.Objectives {
		row := objectiveRow{Name: o.Name, Goal: o.Goal, Unit: o.Unit}
		if o.Target != nil {
			row.Target = num(*o.Target)
		}
		if cp.Best != nil {
			if x, ok := cp.Best.Values[o.Name]; ok {
				row.Best = num(x)
				if i == 0 {
					d.Best = row.Best
				}
			}
		}
		d.Objectives = append(d.Objectives, row)
	}
	if cp.Best != nil {
		d.BestParams = pairs(cp.Best.Params)
	}
	d.Finished = cp.Counts.Observed + cp.Counts.Failed
	d.Budget = cp.Spec.Budget.Experiments
	if cp.StartedAt != nil {
		end := c.now()
		if cp.EndedAt != nil {
			end = *cp.EndedAt
		}
		d.WallUsed = end.Sub(*cp.StartedAt).Truncate(time.Second).String()
	}
	if w := cp.Spec.Budget.WallTime.Duration; w > 0 {
		d.WallBudget = w.String()
	}
	for _, p := range cp.Spec.Params {
		d.ParamPlots = append(d.ParamPlots, paramPlot{Name: p.Name,
			Src: "/campaigns/" + url.PathEscape(cp.Name) + "/params/" + url.PathEscape(p.Name)})
	}
	return d, nil
}

// campaign is a campaign's page: its state, objectives and targets, best
// so far, budget used, the convergence plot, one plot per parameter
// against the first objective, the experiments (paged by index) and the
// steering buttons the viewer may use now. Hidden and missing campaigns
// are the same not-found page.
func (c *Console) campaign(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return c.campaignPage(w, r, v, nil, http.StatusOK, "")
}

// campaignPage renders the page; with cp already read (after a refused
// transition) it shows errMsg with status.
func (c *Console) campaignPage(w http.ResponseWriter, r *http.Request, v *viewer, cp *campaign.Campaign, status int, errMsg string) error {
	const op errors.Op = "console.campaign"
	if c.cfg.Campaigns == nil {
		return errors.E(op, errors.NotExist)
	}
	ctx, p := r.Context(), v.p
	if cp == nil {
		var err error
		if cp, err = c.cfg.Campaigns.Get(ctx, p, r.PathValue("name")); err != nil {
			return err
		}
	}
	pg := c.newPage(cp.Name, v, "")
	pg.Nav = "campaigns"
	if err := pg.show(cp.Label); err != nil {
		return err
	}
	d, err := c.liveData(r, v, cp)
	if err != nil {
		return err
	}
	d.Error = errMsg
	cursor := ""
	if status == http.StatusOK {
		cursor = r.URL.Query().Get("cursor")
	}
	exps, next, err := c.cfg.Campaigns.Experiments(ctx, p, cp.ID, campaign.ExperimentOptions{Cursor: cursor, Limit: experimentsShown})
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, e := range exps {
		at := e.ProposedAt
		if e.EndedAt != nil {
			at = *e.EndedAt
		} else if e.DispatchedAt != nil {
			at = *e.DispatchedAt
		}
		d.Experiments = append(d.Experiments, expRow{Experiment: e, At: at, ParamText: pairs(e.Params), ValueText: pairs(e.Values),
			Instrument: c.instrumentName(r, v, names, e.Instrument)})
	}
	if cursor != "" {
		d.First = "/campaigns/" + url.PathEscape(cp.Name) + "#experiments"
	}
	if next != "" {
		d.More = true
		d.Next = "/campaigns/" + url.PathEscape(cp.Name) + "?" + url.Values{"cursor": {next}}.Encode() + "#experiments"
	}
	pg.Data = d
	return c.render(w, r, status, "campaign", pg)
}

// campaignLive is the campaign page's live part (state, objectives, best,
// budget, experiments count and the steering buttons) as an HTML
// fragment, for the page's script to swap in while the campaign runs (no
// full reload; the page works without it). It is read as the viewer like
// the page, and shows nothing the page's banner does not cover (the
// campaign's own label).
func (c *Console) campaignLive(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.campaignLive"
	if c.cfg.Campaigns == nil {
		return errors.E(op, errors.NotExist)
	}
	cp, err := c.cfg.Campaigns.Get(r.Context(), v.p, r.PathValue("name"))
	if err != nil {
		return err
	}
	d, err := c.liveData(r, v, cp)
	if err != nil {
		return err
	}
	return c.renderFragment(w, "campaign", "live", d)
}

// steer is POST /campaigns/{name}/{action}: start, pause, resume or stop
// the campaign as the viewer (the authed wrapper has checked the origin
// and the CSRF token). The service decides: on success the browser goes
// back to the page (303); a refusal is the page with the service's
// message (403 not allowed, 409 not valid in this state); a campaign the
// viewer may not read is the not-found page.
func (c *Console) steer(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.steer"
	if c.cfg.Campaigns == nil {
		return errors.E(op, errors.NotExist)
	}
	ctx, p, name, action := r.Context(), v.p, r.PathValue("name"), r.PathValue("action")
	reason := r.PostFormValue("reason")
	var err error
	switch action {
	case "start":
		_, err = c.cfg.Campaigns.Start(ctx, p, name)
	case "pause":
		_, err = c.cfg.Campaigns.Pause(ctx, p, name, reason)
	case "resume":
		_, err = c.cfg.Campaigns.Resume(ctx, p, name)
	case "stop":
		_, err = c.cfg.Campaigns.Stop(ctx, p, name, reason)
	default:
		return errors.E(op, errors.NotExist)
	}
	if err == nil {
		http.Redirect(w, r, "/campaigns/"+url.PathEscape(name), http.StatusSeeOther)
		return nil
	}
	status, ok := formStatus(err)
	if !ok {
		return err
	}
	msg := errors.SafeMessage(err)
	if msg == "" {
		msg = "The campaign could not be " + map[string]string{"start": "started", "pause": "paused", "resume": "resumed", "stop": "stopped"}[action] + "."
	}
	cp, gerr := c.cfg.Campaigns.Get(ctx, p, name)
	if gerr != nil {
		return gerr
	}
	return c.campaignPage(w, r, v, cp, status, msg)
}

// allExperiments reads up to maxPlotExperiments of a campaign's
// experiments as p.
func (c *Console) allExperiments(r *http.Request, v *viewer, id string) ([]campaign.Experiment, error) {
	var all []campaign.Experiment
	cursor := ""
	for {
		exps, next, err := c.cfg.Campaigns.Experiments(r.Context(), v.p, id, campaign.ExperimentOptions{Cursor: cursor, Limit: 1000})
		if err != nil {
			return nil, err
		}
		all = append(all, exps...)
		if next == "" || len(all) >= maxPlotExperiments {
			return all, nil
		}
		cursor = next
	}
}

// paramChart is the scatter of one parameter against the campaign's first
// objective: one point per observed experiment with a value for both, the
// campaign's best experiment marked. A parameter the spec does not name
// is NotExist.
func paramChart(cp *campaign.Campaign, name string, exps []campaign.Experiment) (*chart, error) {
	var prm *campaign.Param
	for i := range cp.Spec.Params {
		if cp.Spec.Params[i].Name == name {
			prm = &cp.Spec.Params[i]
		}
	}
	if prm == nil || len(cp.Spec.Objectives) == 0 {
		return nil, errors.E(errors.Op("console.paramChart"), errors.NotExist)
	}
	obj := cp.Spec.Objectives[0]
	ch := &chart{Title: prm.Name + " vs " + obj.Name, XLabel: withUnit(prm.Name, prm.Unit), YLabel: withUnit(obj.Name, obj.Unit),
		LogX: prm.Log, Target: obj.Target}
	if prm.Kind == "categorical" {
		ch.XCats, ch.LogX = prm.Categories, false
	} else {
		ch.XLo, ch.XHi = prm.Low, prm.High
	}
	bestSeq := -1
	if cp.Best != nil {
		bestSeq = cp.Best.Seq
	}
	for _, e := range exps {
		if e.State != campaign.Observed {
			continue
		}
		y, ok := e.Values[obj.Name]
		if !ok {
			continue
		}
		x, ok := paramValue(prm, e.Params[prm.Name])
		if !ok {
			continue
		}
		ch.Points = append(ch.Points, chartPoint{X: x, Y: y, Best: e.Seq == bestSeq,
			Tip: "#" + strconv.Itoa(e.Seq) + ": " + prm.Name + "=" + paramText(e.Params[prm.Name]) + ", " + obj.Name + "=" + num(y)})
	}
	return ch, nil
}

func withUnit(name, unit string) string {
	if unit == "" {
		return name
	}
	return name + " (" + unit + ")"
}

// paramValue is a parameter's value as a number on its axis: the number
// itself, or a category's index.
func paramValue(p *campaign.Param, v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, !math.IsNaN(x) && !math.IsInf(x, 0)
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case string:
		if i := slices.Index(p.Categories, x); i >= 0 {
			return float64(i), true
		}
	}
	return 0, false
}

func paramText(v any) string {
	switch x := v.(type) {
	case float64:
		return num(x)
	case string:
		return x
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

// instrumentName is the name of the instrument with id as the viewer sees
// it (its ID when the registry is not configured or it may not see it),
// remembered in names for the page.
func (c *Console) instrumentName(r *http.Request, v *viewer, names map[string]string, id string) string {
	if id == "" || c.cfg.Instruments == nil {
		return id
	}
	if n, ok := names[id]; ok {
		return n
	}
	n := id
	if in, err := c.cfg.Instruments.Get(r.Context(), v.p, id); err == nil {
		n = in.Name
	}
	names[id] = n
	return n
}

// campaignParamPlot is GET /campaigns/{name}/params/{param}: that
// parameter's scatter against the first objective, as SVG, as the viewer.
func (c *Console) campaignParamPlot(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.campaignParamPlot"
	if c.cfg.Campaigns == nil {
		return errors.E(op, errors.NotExist)
	}
	cp, err := c.cfg.Campaigns.Get(r.Context(), v.p, r.PathValue("name"))
	if err != nil {
		return err
	}
	exps, err := c.allExperiments(r, v, cp.ID)
	if err != nil {
		return err
	}
	ch, err := paramChart(cp, r.PathValue("param"), exps)
	if err != nil {
		return err
	}
	writeSVG(w, ch.svg())
	return nil
}

func writeSVG(w http.ResponseWriter, b []byte) { writeBody(w, http.StatusOK, "image/svg+xml", b) }

// parseLabel parses a stored marking (one that does not parse is an
// internal error: fail closed).
func parseLabel(marking string) (label.Label, error) {
	l, err := label.Parse(marking)
	if err != nil {
		return label.Label{}, errors.E(errors.Op("console.parseLabel"), errors.Internal, err)
	}
	return l, nil
}
