package console

// Operations pages (issue 16, item 4): compute sites, allocations and the
// job queue; a job's page with its placement explanation and a live log
// tail; the lab's instruments and workcells with the emergency stop. Every
// read goes through the services as the viewer, with the API's rules: a
// job the viewer may not read is the not-found page, byte for byte, and
// the e-stop, reset and cancel are the services' own calls (which decide
// who may, and audit them).

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/sched"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/text"
)

// Bounds of the operations pages.
const (
	// jobsShown is how many jobs /compute lists (newest first).
	jobsShown = 100
	// logTail is how much of the end of each log stream a job page shows;
	// logScan how much of a stream it reads at most to find that end.
	logTail = 8 << 10
	logScan = 8 << 20
	// LivePollSeconds is how often static/ops.js asks for a running OPEN
	// job's live part; LivePollLabelled for a job above OPEN, whose every
	// read is on the audit record (each poll reads it three times: the
	// job with its placement, and its two log streams).
	LivePollSeconds  = 2
	LivePollLabelled = 10
)

// siteRow is a site with what the viewer's visible jobs do there.
type siteRow struct {
	sites.Site
	// Queued counts the viewer-visible jobs running at the site (jobs the
	// viewer may not read are not counted: a count must not betray them).
	Queued int
	// Draw is power draw as a share of the cap, in percent (0 without a cap).
	Draw int
}

type allocationRow struct {
	jobs.Allocation
	ProjectName string
	UsedPct     int
}

type jobRow struct {
	jobs.Job
	Elapsed string
}

type computeData struct {
	NoSites       bool
	Sites         []siteRow
	NoJobs        bool
	Jobs          []jobRow
	JobsMore      bool
	Allocations   []allocationRow
	Pending       int
	Running       int
	AllocationsNA bool
}

// elapsed is how long a job has run (to now while it runs), rounded.
func elapsed(j *jobs.Job, now time.Time) string {
	if j.StartedAt == nil {
		return ""
	}
	end := now
	if j.FinishedAt != nil {
		end = *j.FinishedAt
	}
	d := end.Sub(*j.StartedAt)
	if d < 0 {
		d = 0
	}
	switch {
	case d < time.Minute:
		return d.Round(time.Second).String()
	default:
		return d.Round(time.Minute).String()
	}
}

// compute is /compute: sites, the viewer's allocations and the job queue
// as the viewer may read it.
func (c *Console) compute(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx, p := r.Context(), v.p
	pg := c.newPage("Compute", v, "")
	pg.Nav = "compute"
	d := computeData{}
	now := c.now()
	byID := map[string]int{}
	if c.cfg.Jobs == nil {
		d.NoJobs, d.AllocationsNA = true, true
	} else {
		js, next, err := c.cfg.Jobs.List(ctx, p, jobs.ListOptions{Limit: jobsShown})
		if err != nil {
			return err
		}
		d.JobsMore = next != ""
		for i := range js {
			if err := pg.show(js[i].Label); err != nil {
				return err
			}
			d.Jobs = append(d.Jobs, jobRow{Job: js[i], Elapsed: elapsed(&js[i], now)})
			switch js[i].State {
			case jobs.Pending:
				d.Pending++
			case jobs.Running:
				d.Running++
				byID[js[i].Site]++
			}
		}
		projects, err := c.cfg.Identity.Projects(ctx, p)
		if err != nil {
			return err
		}
		for _, prj := range projects {
			as, err := c.cfg.Jobs.Allocations(ctx, p, string(prj.ID))
			if errors.Is(errors.NotExist, err) {
				continue
			}
			if err != nil {
				return err
			}
			for _, a := range as {
				row := allocationRow{Allocation: a, ProjectName: prj.Name}
				if a.NodeHours > 0 {
					row.UsedPct = min(100, int((a.UsedNodeHours+a.HeldNodeHours)*100/a.NodeHours))
				}
				d.Allocations = append(d.Allocations, row)
			}
		}
	}
	if c.cfg.Sites == nil {
		d.NoSites = true
	} else {
		ss, err := c.cfg.Sites.List(ctx, p)
		if err != nil {
			return err
		}
		for _, s := range ss {
			row := siteRow{Site: s, Queued: byID[s.Name]}
			if s.PowerCapKW > 0 {
				row.Draw = min(100, int(s.PowerDrawKW*100/s.PowerCapKW))
			}
			d.Sites = append(d.Sites, row)
		}
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "compute", pg)
}

// stateStep is one step of a job's history.
type stateStep struct {
	State string
	At    time.Time
	Note  string
}

// history is a job's states with their times, from its record.
func history(j *jobs.Job) []stateStep {
	out := []stateStep{{State: "submitted", At: j.CreatedAt}}
	if j.StartedAt != nil {
		note := ""
		if j.Site != "" {
			note = "on " + j.Site
		}
		out = append(out, stateStep{State: jobs.Running, At: *j.StartedAt, Note: note})
	}
	switch j.State {
	case jobs.Completed, jobs.Failed, jobs.Canceled:
		at := j.UpdatedAt
		if j.FinishedAt != nil {
			at = *j.FinishedAt
		}
		note := j.Reason
		if j.Detail != "" {
			note = strings.TrimSpace(note + ": " + j.Detail)
		}
		out = append(out, stateStep{State: j.State, At: at, Note: note})
	}
	return out
}

// jobLive is what a job page refreshes while the job runs.
type jobLive struct {
	Job       *jobs.Job
	History   []stateStep
	Explain   []sched.Verdict
	Stdout    string
	Stderr    string
	LogCut    bool
	Live      bool
	CanCancel bool
	CSRF      string
	Error     string
	Elapsed   string
	Poll      int
	// Owner is the owner's name when the viewer may know it, else its ID.
	Owner string
	// Marking is the banner the job's page needs now (the job's label may
	// rise while the page is open: ops.js then reloads it).
	Marking string
}

type jobData struct {
	Live *jobLive
	Spec *compute.JobSpec
	Job  *jobs.Job
}

func final(state string) bool {
	return state == jobs.Completed || state == jobs.Failed || state == jobs.Canceled
}

// liveOf reads a job's live part as the viewer: the job with its
// placement explanation, its history and the tails of its logs.
func (c *Console) liveOf(ctx context.Context, v *viewer, id string) (*jobLive, error) {
	const op errors.Op = "console.job"
	if c.cfg.Jobs == nil {
		return nil, errors.E(op, errors.NotExist)
	}
	p := v.p
	j, vs, err := c.cfg.Jobs.Explain(ctx, p, id)
	if err != nil {
		return nil, err
	}
	l := &jobLive{Job: j, History: history(j), Explain: vs, Live: !final(j.State), CSRF: v.sess.CSRF,
		Elapsed: elapsed(j, c.now()), Poll: LivePollSeconds}
	lb, err := label.Parse(j.Label)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	l.Marking = label.Join(label.MustParse("OPEN"), lb).Format()
	if lb.Level() != label.Open {
		l.Poll = LivePollLabelled
	}
	l.Owner = j.Owner
	switch {
	case j.Owner == string(p.ID):
		l.Owner = p.Name + " (you)"
	case p.IsAdmin():
		if o, err := c.cfg.Identity.Principal(ctx, p, j.Owner); err == nil {
			l.Owner = o.Name
		}
	}
	l.CanCancel = !final(j.State) && (j.Owner == string(p.ID) || p.IsAdmin() || p.HasRole(genesis.RoleOperator))
	for _, s := range []compute.Stream{compute.Stdout, compute.Stderr} {
		tail, cut, err := c.logTail(ctx, p, j.ID, s)
		if err != nil {
			return nil, err
		}
		if s == compute.Stdout {
			l.Stdout = tail
		} else {
			l.Stderr = tail
		}
		l.LogCut = l.LogCut || cut
	}
	return l, nil
}

// logTail returns the last logTail bytes of a job's stream (read through
// the service as the viewer, at most logScan bytes), as clean text, and
// whether it cut anything off. A log the backend no longer has is empty.
func (c *Console) logTail(ctx context.Context, p *genesis.Principal, id string, s compute.Stream) (string, bool, error) {
	rc, err := c.cfg.Jobs.Logs(ctx, p, id, s, 0)
	if err != nil {
		if errors.Is(errors.NotExist, err) && ctx.Err() == nil {
			// The job was readable a moment ago (Explain): a NotExist here
			// is the log's, not the job's.
			if _, gerr := c.cfg.Jobs.Get(ctx, p, id); gerr == nil {
				return "", false, nil
			}
		}
		return "", false, err
	}
	defer rc.Close()
	tail, cut, err := readTail(rc, logTail, logScan)
	if err != nil {
		return "", false, errors.E(errors.Op("console.logTail"), errors.Unavailable, errors.Msg("the job's log could not be read"), err)
	}
	return tail, cut, nil
}

// readTail reads at most scan bytes of r and returns the last keep of
// them as clean text (valid UTF-8, no control characters but tab and
// newline; a cut starts after a newline when one is near), and whether
// anything was left out.
func readTail(r io.Reader, keep, scan int) (string, bool, error) {
	buf := make([]byte, 0, keep*2)
	chunk := make([]byte, 32<<10)
	total, cut := 0, false
	for total < scan {
		n, err := r.Read(chunk[:min(len(chunk), scan-total)])
		total += n
		buf = append(buf, chunk[:n]...)
		if len(buf) > keep {
			buf = append(buf[:0], buf[len(buf)-keep:]...)
			cut = true
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", false, err
		}
	}
	if total >= scan {
		// Something may follow: say so.
		var one [1]byte
		if n, _ := r.Read(one[:]); n > 0 {
			cut = true
		}
	}
	if cut {
		if i := bytes.IndexByte(buf, '\n'); i >= 0 && i < 256 {
			buf = buf[i+1:]
		}
	}
	s, _ := text.Sanitize(string(buf), true)
	return s, cut, nil
}

// job is a job's page. A job the viewer may not read, like one that does
// not exist, is the not-found page.
func (c *Console) job(w http.ResponseWriter, r *http.Request, v *viewer) error {
	l, err := c.liveOf(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.renderJob(w, r, v, http.StatusOK, l)
}

func (c *Console) renderJob(w http.ResponseWriter, r *http.Request, v *viewer, status int, l *jobLive) error {
	name := l.Job.Name
	if name == "" {
		name = l.Job.ID
	}
	pg := c.newPage("Job "+name, v, "")
	pg.Nav = "compute"
	if err := pg.show(l.Job.Label); err != nil {
		return err
	}
	pg.Data = jobData{Live: l, Spec: l.Job.Spec, Job: l.Job}
	return c.render(w, r, status, "job", pg)
}

// jobLivePart is the job page's live part as an HTML fragment, for
// static/ops.js to swap in while the job runs. It shows nothing the
// page's banner does not cover (the job's own label).
func (c *Console) jobLivePart(w http.ResponseWriter, r *http.Request, v *viewer) error {
	l, err := c.liveOf(r.Context(), v, r.PathValue("id"))
	if err != nil {
		return err
	}
	return c.renderFragment(w, "job", "joblive", l)
}

// cancelJob cancels a job through the service (its owner or an operator);
// a refusal is shown on the job's page.
func (c *Console) cancelJob(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.cancelJob"
	if c.cfg.Jobs == nil {
		return errors.E(op, errors.NotExist)
	}
	id := r.PathValue("id")
	j, err := c.cfg.Jobs.Cancel(r.Context(), v.p, id)
	if err != nil {
		if errors.Is(errors.NotExist, err) {
			return err
		}
		status, ok := formStatus(err)
		if !ok {
			return err
		}
		l, lerr := c.liveOf(r.Context(), v, id)
		if lerr != nil {
			return lerr
		}
		l.Error = errors.SafeMessage(err)
		if l.Error == "" {
			l.Error = "The job could not be canceled."
		}
		return c.renderJob(w, r, v, status, l)
	}
	http.Redirect(w, r, "/compute/jobs/"+url.PathEscape(j.ID), http.StatusSeeOther)
	return nil
}

// instrumentRow is an instrument as /labs shows it.
type instrumentRow struct {
	instruments.Instrument
	// Holder is the lock holder's campaign name, "" when the viewer may
	// not read it (Locked still says it is held).
	Holder     string
	Locked     bool
	CanOperate bool
}

type workcellRow struct {
	instruments.Workcell
	Statuses map[string]int
}

type labsData struct {
	NoInstruments bool
	Instruments   []instrumentRow
	Workcells     []workcellRow
	CanOperate    bool
	Stopped       int
	Notice        string
}

// operates reports whether p may operate the instrument (e-stop, reset):
// the registry's own rule (authz Operate on the OPEN instrument record).
func (c *Console) operates(ctx context.Context, p *genesis.Principal, id string) bool {
	if c.cfg.Authz == nil {
		return false
	}
	ap, err := c.cfg.Identity.AuthzPrincipal(ctx, p)
	if err != nil {
		return false
	}
	return c.cfg.Authz.Can(ctx, ap, authz.Operate, authz.Resource{Type: authz.Instrument, ID: id, Label: label.MustParse("OPEN")}) == nil
}

// holderCampaign returns the campaign holding an instrument's lock if the
// viewer may read it (nil otherwise: the page says only that it is held).
func (c *Console) holderCampaign(ctx context.Context, p *genesis.Principal, campaignID string) *campaign.Campaign {
	if campaignID == "" || c.cfg.Campaigns == nil {
		return nil
	}
	cp, err := c.cfg.Campaigns.Get(ctx, p, campaignID)
	if err != nil {
		return nil
	}
	return cp
}

func (c *Console) instrumentRow(ctx context.Context, pg *page, p *genesis.Principal, in instruments.Instrument) (instrumentRow, error) {
	row := instrumentRow{Instrument: in, Locked: in.LockedBy != "", CanOperate: c.operates(ctx, p, in.ID)}
	if row.Locked {
		if cp := c.holderCampaign(ctx, p, in.LockedBy); cp != nil {
			if err := pg.show(cp.Label); err != nil {
				return row, err
			}
			row.Holder = cp.Name
		}
	}
	return row, nil
}

// labs is /labs: every instrument and workcell with its status, lock and
// the emergency stop.
func (c *Console) labs(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx, p := r.Context(), v.p
	pg := c.newPage("Labs", v, "")
	pg.Nav = "labs"
	d := labsData{}
	if c.cfg.Instruments == nil {
		d.NoInstruments = true
	} else {
		ins, err := c.cfg.Instruments.List(ctx, p)
		if err != nil {
			return err
		}
		status := map[string]lab.Status{}
		for _, in := range ins {
			row, err := c.instrumentRow(ctx, pg, p, in)
			if err != nil {
				return err
			}
			d.Instruments = append(d.Instruments, row)
			status[in.Name] = in.Status
			if in.Status == lab.EStopped {
				d.Stopped++
			}
		}
		d.CanOperate = c.operates(ctx, p, "instruments")
		ws, err := c.cfg.Instruments.Workcells(ctx, p)
		if err != nil {
			return err
		}
		for _, wc := range ws {
			row := workcellRow{Workcell: wc, Statuses: map[string]int{}}
			for _, m := range wc.Instruments {
				row.Statuses[string(status[m])]++
			}
			d.Workcells = append(d.Workcells, row)
		}
	}
	switch r.URL.Query().Get("done") {
	case "estop":
		d.Notice = "Emergency stop recorded."
	case "estop-all":
		d.Notice = "Every instrument is e-stopped."
	case "reset":
		d.Notice = "Reset: the emergency stop is cleared."
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "labs", pg)
}

type instrumentData struct {
	Row       instrumentRow
	Approvals []instruments.Approval
	Workcell  *instruments.Workcell
	Runs      []runRow
}

// runRow is an experiment a campaign ran (or runs) on an instrument.
type runRow struct {
	campaign.Experiment
	CampaignName string
	Label        string
}

// Bounds of an instrument page's recent runs: the newest campaigns the
// viewer may read, the first experiments of each, the newest runs shown.
const (
	runCampaigns   = 20
	runExperiments = 1000
	runsShown      = 20
)

// recentRuns returns the newest experiments on instrument id among the
// campaigns the viewer may read, adding each shown campaign's label to
// the page.
func (c *Console) recentRuns(ctx context.Context, pg *page, p *genesis.Principal, id string) ([]runRow, error) {
	if c.cfg.Campaigns == nil {
		return nil, nil
	}
	cs, _, err := c.cfg.Campaigns.List(ctx, p, campaign.ListOptions{Limit: runCampaigns})
	if err != nil {
		return nil, err
	}
	var runs []runRow
	for _, cp := range cs {
		exps, _, err := c.cfg.Campaigns.Experiments(ctx, p, cp.ID, campaign.ExperimentOptions{Limit: runExperiments})
		if errors.Is(errors.NotExist, err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range exps {
			if e.Instrument == id {
				runs = append(runs, runRow{Experiment: e, CampaignName: cp.Name, Label: cp.Label})
			}
		}
	}
	slices.SortStableFunc(runs, func(a, b runRow) int { return b.ProposedAt.Compare(a.ProposedAt) })
	runs = runs[:min(len(runs), runsShown)]
	for _, r := range runs {
		if err := pg.show(r.Label); err != nil {
			return nil, err
		}
	}
	return runs, nil
}

// instrument is an instrument's page: status, lock and queue, actions and
// the approvals pending that the viewer may decide.
func (c *Console) instrument(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.instrument"
	if c.cfg.Instruments == nil {
		return errors.E(op, errors.NotExist)
	}
	ctx, p := r.Context(), v.p
	in, err := c.cfg.Instruments.Get(ctx, p, r.PathValue("name"))
	if err != nil {
		return err
	}
	pg := c.newPage(in.Name, v, "")
	pg.Nav = "labs"
	row, err := c.instrumentRow(ctx, pg, p, *in)
	if err != nil {
		return err
	}
	d := instrumentData{Row: row}
	if d.Runs, err = c.recentRuns(ctx, pg, p, in.ID); err != nil {
		return err
	}
	aps, err := c.cfg.Instruments.Approvals(ctx, p, false)
	if err != nil && !errors.Is(errors.Permission, err) && !errors.Is(errors.NotExist, err) {
		return err
	}
	for _, a := range aps {
		if a.Instrument != in.ID {
			continue
		}
		if err := pg.show(a.Label); err != nil {
			return err
		}
		d.Approvals = append(d.Approvals, a)
	}
	if in.Workcell != "" {
		if wc, err := c.cfg.Instruments.Workcell(ctx, p, in.Workcell); err == nil {
			d.Workcell = wc
		}
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "instrument", pg)
}

type estopData struct {
	// Name is the instrument ("" for every instrument).
	Name   string
	Action string
	Count  int
}

// estopConfirm is the emergency stop's confirmation page: a form that
// works without script and without a browser dialog.
func (c *Console) estopConfirm(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.estopConfirm"
	if c.cfg.Instruments == nil {
		return errors.E(op, errors.NotExist)
	}
	ctx, p := r.Context(), v.p
	d := estopData{Name: r.PathValue("name")}
	title := "Stop every instrument"
	if d.Name != "" {
		in, err := c.cfg.Instruments.Get(ctx, p, d.Name)
		if err != nil {
			return err
		}
		if !c.operates(ctx, p, in.ID) {
			return errEStopRefused
		}
		d.Name, d.Action = in.Name, "/labs/instruments/"+url.PathEscape(in.Name)+"/estop"
		title = "Emergency stop of " + in.Name
	} else {
		if !c.operates(ctx, p, "instruments") {
			return errEStopRefused
		}
		ins, err := c.cfg.Instruments.List(ctx, p)
		if err != nil {
			return err
		}
		d.Action, d.Count = "/labs/estop", len(ins)
	}
	pg := c.newPage(title, v, "")
	pg.Nav = "labs"
	pg.Data = d
	return c.render(w, r, http.StatusOK, "estop", pg)
}

var errEStopRefused = errors.E(errors.Op("console.estop"), errors.Permission, errors.Msg("only operators and administrators change or operate instruments"))

// estop e-stops one instrument through the registry, which records and
// audits it.
func (c *Console) estop(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.estop"
	if c.cfg.Instruments == nil {
		return errors.E(op, errors.NotExist)
	}
	in, err := c.cfg.Instruments.EStop(r.Context(), v.p, r.PathValue("name"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/labs?done=estop#instrument-"+url.PathEscape(in.Name), http.StatusSeeOther)
	return nil
}

// estopAll e-stops every instrument through the registry.
func (c *Console) estopAll(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.estopAll"
	if c.cfg.Instruments == nil {
		return errors.E(op, errors.NotExist)
	}
	if _, err := c.cfg.Instruments.EStopAll(r.Context(), v.p); err != nil {
		return err
	}
	http.Redirect(w, r, "/labs?done=estop-all", http.StatusSeeOther)
	return nil
}

// resetInstrument clears an emergency stop through the registry.
func (c *Console) resetInstrument(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.reset"
	if c.cfg.Instruments == nil {
		return errors.E(op, errors.NotExist)
	}
	in, err := c.cfg.Instruments.Reset(r.Context(), v.p, r.PathValue("name"))
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/labs?done=reset#instrument-"+url.PathEscape(in.Name), http.StatusSeeOther)
	return nil
}

// statusClass is the CSS name of an instrument or site status.
func statusClass(s string) string {
	s = strings.ToLower(s)
	if slices.Contains([]string{"idle", "busy", "error", "offline", "e-stopped", "paused", "up", "down", "degraded", "draining",
		"pending", "running", "completed", "failed", "canceled", "submitted"}, s) {
		return s
	}
	return "unknown"
}

func init() { funcs["status"] = statusClass }
