package console

import (
	"bytes"
	"github.com/genesis-science/genesis"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/mission/plan"
)

// Dashboard bounds.
const (
	dashChallenges = 20
	dashCampaigns  = 20
	dashActivity   = 20
	// activityWindow is how far back the dashboard's activity looks, and
	// activityScan how many audit records it reads at most.
	activityWindow = 7 * 24 * time.Hour
	activityScan   = 4096
)

// challengeRow is a challenge with its progress as the viewer sees it.
type challengeRow struct {
	mission.Challenge
	Progress *mission.Progress
}

type dashboardData struct {
	Challenges    []challengeRow
	NoChallenges  bool
	Campaigns     []campaign.Campaign
	NoCampaigns   bool
	Sites         []sites.Site
	NoSites       bool
	Instruments   []instruments.Instrument
	NoInstruments bool
	Activity      []plan.AuditEvent
	ActivityNote  string
}

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request, v *viewer) error {
	ctx, p := r.Context(), v.p
	pg := c.newPage("Dashboard", v, "")
	pg.Nav = "dashboard"
	var d dashboardData
	if c.cfg.Challenges == nil {
		d.NoChallenges = true
	} else {
		chs, _, err := c.cfg.Challenges.List(ctx, p, mission.ListOptions{Limit: dashChallenges})
		if err != nil {
			return err
		}
		for _, ch := range chs {
			if err := pg.show(ch.Label); err != nil {
				return err
			}
			row := challengeRow{Challenge: ch}
			if pr, err := c.cfg.Challenges.Progress(ctx, p, ch.ID); err == nil {
				if err := pg.show(pr.Label); err != nil {
					return err
				}
				row.Progress = pr
			} else if !errors.Is(errors.NotExist, err) {
				return err
			}
			d.Challenges = append(d.Challenges, row)
		}
	}
	if c.cfg.Campaigns == nil {
		d.NoCampaigns = true
	} else {
		cs, _, err := c.cfg.Campaigns.List(ctx, p, campaign.ListOptions{State: "running", Limit: dashCampaigns})
		if err != nil {
			return err
		}
		for _, cp := range cs {
			if err := pg.show(cp.Label); err != nil {
				return err
			}
		}
		d.Campaigns = cs
	}
	if c.cfg.Sites == nil {
		d.NoSites = true
	} else {
		ss, err := c.cfg.Sites.List(ctx, p)
		if err != nil {
			return err
		}
		d.Sites = ss
	}
	if c.cfg.Instruments == nil {
		d.NoInstruments = true
	} else {
		is, err := c.cfg.Instruments.List(ctx, p)
		if err != nil {
			return err
		}
		d.Instruments = is
	}
	if c.cfg.Activity == nil {
		d.ActivityNote = "No audit log is configured."
	} else {
		evs, err := c.recentActivity(ctx, p)
		switch {
		case errors.Is(errors.Permission, err):
			d.ActivityNote = "The audit trail is shown to stewards, classification officers and administrators."
		case err != nil:
			return err
		default:
			if len(evs) > dashActivity {
				evs = evs[:dashActivity]
			}
			// Who acted is named as the viewer may see them (an ID when
			// the identity service does not show that principal).
			names := map[string]string{}
			for i, e := range evs {
				if err := pg.show(e.Label); err != nil {
					return err
				}
				n, ok := names[e.Principal]
				if !ok {
					n = c.principalName(r, v, genesis.PrincipalID(e.Principal))
					names[e.Principal] = n
				}
				evs[i].Principal = n
			}
			d.Activity = evs
			if len(evs) == 0 {
				d.ActivityNote = "No activity in the last seven days."
			}
		}
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "dashboard", pg)
}

// facetGroup is one facet with its values, each a link that narrows the
// search to it.
type facetGroup struct {
	Name   string
	Values []facetValue
}

type facetValue struct {
	Value    string
	Count    int
	Href     string
	Selected bool
}

type searchData struct {
	Query   string
	Domain  string
	Kind    string
	Org     string
	Keyword string
	Result  *search.Result
	Facets  []facetGroup
	Next    string
	Error   string
}

var facetOrder = []string{search.FacetDomain, search.FacetKind, search.FacetOrg, search.FacetKeyword}

// search is the catalog search: as the viewer, so the total, the hits and
// every facet count are over what it may read.
func (c *Console) search(w http.ResponseWriter, r *http.Request, v *viewer) error {
	pg := c.newPage("Search", v, "")
	pg.Nav = "search"
	q := r.URL.Query()
	d := searchData{Query: q.Get("q"), Domain: q.Get("domain"), Kind: q.Get("kind"), Org: q.Get("org"), Keyword: q.Get("keyword")}
	if c.cfg.Catalog == nil {
		return errors.E(errors.Op("console.search"), errors.Unavailable, errors.Msg("the catalog is not configured"))
	}
	sq := search.Query{Text: d.Query, Domain: d.Domain, Kind: d.Kind, Org: d.Org, Cursor: q.Get("cursor"), Limit: search.DefaultLimit}
	if d.Keyword != "" {
		sq.Keywords = []string{d.Keyword}
	}
	res, err := c.cfg.Catalog.Search(r.Context(), v.p, sq)
	if err != nil {
		status := http.StatusBadRequest
		switch {
		case errors.Is(errors.TooLarge, err):
			status = http.StatusRequestEntityTooLarge
		case !errors.Is(errors.Invalid, err):
			return err
		}
		d.Error = errors.SafeMessage(err)
		if d.Error == "" {
			d.Error = "That search is not valid."
		}
		pg.Data = d
		return c.render(w, r, status, "search", pg)
	}
	for _, h := range res.Hits {
		if err := pg.show(h.Label); err != nil {
			return err
		}
	}
	d.Result = res
	for _, name := range facetOrder {
		vals := res.Facets[name]
		if len(vals) == 0 {
			continue
		}
		g := facetGroup{Name: name}
		for _, fv := range vals {
			nq := url.Values{}
			for k, vs := range q {
				if k != "cursor" {
					nq[k] = vs
				}
			}
			sel := q.Get(name) == fv.Value
			if sel {
				nq.Del(name)
			} else {
				nq.Set(name, fv.Value)
			}
			g.Values = append(g.Values, facetValue{Value: fv.Value, Count: fv.Count, Href: "/search?" + nq.Encode(), Selected: sel})
		}
		d.Facets = append(d.Facets, g)
	}
	if res.Next != "" {
		nq := url.Values{}
		for k, vs := range q {
			nq[k] = vs
		}
		nq.Set("cursor", res.Next)
		d.Next = "/search?" + nq.Encode()
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "search", pg)
}

// lineageLink is an upstream or downstream asset version.
type lineageLink struct {
	catalog.Node
	Activity string
}

type fileRow struct {
	Path string
	Size int64
	Href string
}

type assetData struct {
	Asset      *catalog.Asset
	Metadata   *catalog.Metadata
	Core       *meta.Core
	Versions   []catalog.Version
	Version    *catalog.Version
	Files      []fileRow
	FilesMore  bool
	Upstream   []lineageLink
	Downstream []lineageLink
	// Graph is the lineage drawn by static/lineage.js (lineage.go).
	Graph *lineageGraph
	// GraphJSON is Graph as JSON, in an attribute of #lineage-graph (the
	// page has no inline script, not even a data block).
	GraphJSON string
}

// Page bounds of the asset page.
const (
	maxFilesShown    = 200
	maxVersionsShown = 50
)

// asset is an asset's page: metadata, quality, versions, the newest
// version's files, lineage one step up and down — every read as the
// viewer. Anything it may not read is NotExist, so the page is the
// not-found page, the same as for a name that does not exist.
func (c *Console) asset(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.asset"
	if c.cfg.Catalog == nil {
		return errors.E(op, errors.NotExist)
	}
	ctx, p, name := r.Context(), v.p, r.PathValue("asset")
	cat := c.cfg.Catalog
	a, err := cat.Get(ctx, p, name)
	if err != nil {
		return err
	}
	pg := c.newPage(a.Name, v, "")
	pg.Nav = "search"
	if err := pg.show(a.Label); err != nil {
		return err
	}
	d := assetData{Asset: a}
	if _, m, err := cat.GetMetadata(ctx, p, a.ID); err == nil {
		d.Metadata, d.Core = m, &m.Core
	} else if !errors.Is(errors.NotExist, err) {
		return err
	}
	vs, err := cat.Versions(ctx, p, a.ID)
	if err != nil {
		return err
	}
	slices.SortFunc(vs, func(x, y catalog.Version) int { return int(y.Version - x.Version) })
	if len(vs) > maxVersionsShown {
		vs = vs[:maxVersionsShown]
	}
	for _, ver := range vs {
		if err := pg.show(ver.Label); err != nil {
			return err
		}
	}
	d.Versions = vs
	if len(vs) > 0 {
		_, ver, man, err := cat.Manifest(ctx, p, a.ID, vs[0].Version)
		if err != nil {
			return err
		}
		d.Version = ver
		for _, e := range man.Entries {
			if e.Type != manifest.File {
				continue
			}
			if len(d.Files) == maxFilesShown {
				d.FilesMore = true
				break
			}
			d.Files = append(d.Files, fileRow{Path: e.Path, Size: e.Size, Href: fileHref(a.Name, ver.Version, e.Path)})
		}
		ref := catalog.VersionRef{Asset: a.ID, Version: ver.Version}
		g, err := buildLineage(ctx, cat, p, ref, lineageQuery{Dir: dirBoth, Depth: pageLineageDepth}, pageGraphLimit)
		if err != nil {
			return err
		}
		if err := pg.showGraph(g); err != nil {
			return err
		}
		if d.GraphJSON, err = graphJSON(g); err != nil {
			return err
		}
		d.Graph, d.Upstream, d.Downstream = g, g.parents, g.children
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "asset", pg)
}

func fileHref(asset string, version int64, p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return "/assets/" + url.PathEscape(asset) + "/versions/" + strconv.FormatInt(version, 10) + "/files/" + strings.Join(segs, "/")
}

// download serves a file of a version through the catalog, as the viewer
// (a file it may not read is the not-found page). It is always an
// attachment, never rendered by the browser.
func (c *Console) download(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.download"
	if c.cfg.Catalog == nil {
		return errors.E(op, errors.NotExist)
	}
	ver, err := strconv.ParseInt(r.PathValue("version"), 10, 64)
	if err != nil || ver <= 0 {
		return errors.E(op, errors.NotExist)
	}
	fr, _, _, e, err := c.cfg.Catalog.OpenFile(r.Context(), v.p, r.PathValue("asset"), ver, r.PathValue("path"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "application/octet-stream")
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(e.Path)}))
	h.Set("Content-Length", strconv.FormatInt(e.Size, 10))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if _, err := io.Copy(w, fr); err != nil {
		c.log.WarnContext(r.Context(), "console download cut short", "err", err)
	}
	return nil
}

type campaignsData struct {
	Campaigns []campaign.Campaign
	State     string
	Next      string
}

const campaignsPage = 50

func (c *Console) campaigns(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.campaigns"
	if c.cfg.Campaigns == nil {
		return errors.E(op, errors.Unavailable, errors.Msg("the campaign service is not configured"))
	}
	pg := c.newPage("Campaigns", v, "")
	pg.Nav = "campaigns"
	q := r.URL.Query()
	cs, next, err := c.cfg.Campaigns.List(r.Context(), v.p, campaign.ListOptions{State: q.Get("state"), Cursor: q.Get("cursor"), Limit: campaignsPage})
	if err != nil {
		return err
	}
	for _, cp := range cs {
		if err := pg.show(cp.Label); err != nil {
			return err
		}
	}
	d := campaignsData{Campaigns: cs, State: q.Get("state")}
	if next != "" {
		nq := url.Values{"cursor": {next}}
		if d.State != "" {
			nq.Set("state", d.State)
		}
		d.Next = "/campaigns?" + nq.Encode()
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "campaigns", pg)
}

// maxPlotExperiments bounds the experiments one plot reads.
const maxPlotExperiments = 10000

// campaignPlot is the convergence plot (campaign.Plot) as SVG, as the
// viewer; the campaign page's script reloads it while the campaign runs.
func (c *Console) campaignPlot(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.campaignPlot"
	if c.cfg.Campaigns == nil {
		return errors.E(op, errors.NotExist)
	}
	ctx, p := r.Context(), v.p
	cp, err := c.cfg.Campaigns.Get(ctx, p, r.PathValue("name"))
	if err != nil {
		return err
	}
	var all []campaign.Experiment
	cursor := ""
	for {
		exps, next, err := c.cfg.Campaigns.Experiments(ctx, p, cp.ID, campaign.ExperimentOptions{Cursor: cursor, Limit: 1000})
		if err != nil {
			return err
		}
		all = append(all, exps...)
		if next == "" || len(all) >= maxPlotExperiments {
			break
		}
		cursor = next
	}
	var b bytes.Buffer
	if err := campaign.Plot(&b, campaign.PlotSVG, cp, all); err != nil {
		return err
	}
	writeSVG(w, b.Bytes())
	return nil
}

// notFound is every other path: the not-found page.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return errors.E(errors.Op("console"), errors.NotExist)
}
