package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/errors"
)

// releaseRow is a declassification record with its requester's name
// (the ID when the viewer may not see the principal).
type releaseRow struct {
	catalog.Release
	Requester string
	Decider   string
	Decided   time.Time
}

type releasesData struct {
	Releases []releaseRow
}

func (c *Console) catalogOrUnavailable(op errors.Op) error {
	if c.cfg.Catalog == nil {
		return errors.E(op, errors.Unavailable, errors.Msg("the catalog is not configured"))
	}
	return nil
}

// principalName names a principal as the viewer may see it.
func (c *Console) principalName(r *http.Request, v *viewer, id genesis.PrincipalID) string {
	if id == v.p.ID {
		return v.p.Name
	}
	if p, err := c.cfg.Identity.Principal(r.Context(), v.p, string(id)); err == nil {
		return p.Name
	}
	return string(id)
}

func (c *Console) releaseRowOf(r *http.Request, v *viewer, rel catalog.Release) releaseRow {
	row := releaseRow{Release: rel, Requester: c.principalName(r, v, rel.RequestedBy)}
	if rel.DecidedBy != nil {
		row.Decider = c.principalName(r, v, *rel.DecidedBy)
	}
	if rel.DecidedAt != nil {
		row.Decided = *rel.DecidedAt
	}
	return row
}

// releases lists the declassification requests about assets the viewer
// may read. A record carries the label the version had before release.
func (c *Console) releases(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := c.catalogOrUnavailable("console.releases"); err != nil {
		return err
	}
	rs, err := c.cfg.Catalog.Releases(r.Context(), v.p)
	if err != nil {
		return err
	}
	pg := c.newPage("Declassification", v, "")
	pg.Nav = "releases"
	var d releasesData
	for _, rel := range rs {
		if err := pg.show(rel.FromLabel); err != nil {
			return err
		}
		d.Releases = append(d.Releases, c.releaseRowOf(r, v, rel))
	}
	pg.Data = d
	return c.render(w, r, http.StatusOK, "releases", pg)
}

// releaseForm is the request form's input, kept when the service refuses.
type releaseForm struct {
	Asset         *catalog.Asset
	Versions      []catalog.Version
	Version       string
	ToLabel       string
	Justification string
	Error         string
}

// releaseNew is the request form for one asset (the viewer must be able
// to read it: otherwise the not-found page).
func (c *Console) releaseNew(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return c.renderReleaseForm(w, r, v, http.StatusOK, releaseForm{}, r.URL.Query().Get("asset"))
}

func (c *Console) renderReleaseForm(w http.ResponseWriter, r *http.Request, v *viewer, status int, f releaseForm, asset string) error {
	const op errors.Op = "console.releaseNew"
	if err := c.catalogOrUnavailable(op); err != nil {
		return err
	}
	if asset == "" {
		return errors.E(op, errors.NotExist)
	}
	a, err := c.cfg.Catalog.Get(r.Context(), v.p, asset)
	if err != nil {
		return err
	}
	vs, err := c.cfg.Catalog.Versions(r.Context(), v.p, a.ID)
	if err != nil {
		return err
	}
	pg := c.newPage("Request declassification", v, "")
	pg.Nav = "releases"
	if err := pg.show(a.Label); err != nil {
		return err
	}
	for _, ver := range vs {
		if err := pg.show(ver.Label); err != nil {
			return err
		}
	}
	f.Asset, f.Versions = a, vs
	if f.Version == "" {
		f.Version = strconv.FormatInt(a.LatestVersion, 10)
	}
	pg.Data = f
	return c.render(w, r, status, "releasenew", pg)
}

// requestRelease files a declassification request; a refusal (bad
// marking, not lower, not an officer) is shown in the form, input kept.
func (c *Console) requestRelease(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.requestRelease"
	if err := c.catalogOrUnavailable(op); err != nil {
		return err
	}
	asset := r.PostFormValue("asset")
	f := releaseForm{Version: strings.TrimSpace(r.PostFormValue("version")), ToLabel: strings.TrimSpace(r.PostFormValue("to_label")),
		Justification: r.PostFormValue("justification")}
	ver, err := strconv.ParseInt(f.Version, 10, 64)
	if err != nil || ver < 0 {
		f.Error = "The version must be a version number."
		return c.renderReleaseForm(w, r, v, http.StatusBadRequest, f, asset)
	}
	rel, err := c.cfg.Catalog.RequestRelease(r.Context(), v.p, asset, ver, f.ToLabel, f.Justification)
	if err != nil {
		status, ok := formStatus(err)
		if !ok {
			return err
		}
		f.Error = errorText(err)
		return c.renderReleaseForm(w, r, v, status, f, asset)
	}
	http.Redirect(w, r, "/releases/"+url.PathEscape(rel.ID), http.StatusSeeOther)
	return nil
}

// errorText is a refusal's user-safe message.
func errorText(err error) string {
	if m := errors.SafeMessage(err); m != "" {
		return m
	}
	return "The request was refused."
}

type releaseData struct {
	Release releaseRow
	// CanDecide: the viewer is a classification officer other than the
	// requester and the release is pending. Why says why not, when the
	// release is pending.
	CanDecide bool
	Why       string
	Error     string
}

func (c *Console) release(w http.ResponseWriter, r *http.Request, v *viewer) error {
	return c.renderRelease(w, r, v, http.StatusOK, "")
}

func (c *Console) renderRelease(w http.ResponseWriter, r *http.Request, v *viewer, status int, msg string) error {
	if err := c.catalogOrUnavailable("console.release"); err != nil {
		return err
	}
	rel, err := c.cfg.Catalog.Release(r.Context(), v.p, r.PathValue("id"))
	if err != nil {
		return err
	}
	pg := c.newPage("Release "+rel.ID, v, "")
	pg.Nav = "releases"
	if err := pg.show(rel.FromLabel); err != nil {
		return err
	}
	d := releaseData{Release: c.releaseRowOf(r, v, *rel), Error: msg}
	if rel.State == catalog.ReleasePending {
		switch {
		case rel.RequestedBy == v.p.ID:
			d.Why = "You requested this release. Under the two-person rule another classification officer must approve or reject it."
		case !v.p.HasRole(genesis.RoleClassificationOfficer):
			d.Why = "Only a classification officer cleared for the asset may approve or reject a release."
		default:
			d.CanDecide = true
		}
	}
	pg.Data = d
	return c.render(w, r, status, "release", pg)
}

// decideRelease approves or rejects a release. The service enforces the
// two-person rule and the officer's clearance; a refusal is shown on the
// release's page.
func (c *Console) decideRelease(w http.ResponseWriter, r *http.Request, v *viewer) error {
	const op errors.Op = "console.decideRelease"
	if err := c.catalogOrUnavailable(op); err != nil {
		return err
	}
	var approve bool
	switch r.PostFormValue("decision") {
	case "approve":
		approve = true
	case "reject":
	default:
		return c.renderRelease(w, r, v, http.StatusBadRequest, "The decision must be approve or reject.")
	}
	rel, err := c.cfg.Catalog.DecideRelease(r.Context(), v.p, r.PathValue("id"), approve)
	if err != nil {
		status, ok := formStatus(err)
		if !ok {
			return err
		}
		return c.renderRelease(w, r, v, status, errorText(err))
	}
	http.Redirect(w, r, "/releases/"+url.PathEscape(rel.ID), http.StatusSeeOther)
	return nil
}
