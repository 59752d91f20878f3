package httpapi

import (
	"bytes"
	"net/http"
	"strconv"

	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// MaxCampaignFile bounds a campaign file sent to POST /api/v1/campaigns.
const MaxCampaignFile = MaxJSONBody

// createCampaign answers POST /api/v1/campaigns: the body is a campaign
// file (YAML or JSON), parsed and validated as `genesis campaign validate`
// does; the campaign is created in state draft.
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.createCampaign"
	b, err := readBody(r, MaxCampaignFile, mediaJSON, mediaYAML)
	if err != nil {
		return errors.E(op, err)
	}
	spec, err := campaign.Parse(b)
	if err != nil {
		return err
	}
	c, err := s.campaigns.Create(r.Context(), me(r), spec)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/campaigns/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

// campaignPage reads limit and cursor, refusing a cursor no page made
// before the campaign is looked up (so that a bad cursor is answered alike
// for every campaign, missing or not).
func campaignPage(r *http.Request) (int, string, error) {
	limit, cursor, err := pageQuery(r)
	if err == nil && cursor != "" {
		_, err = store.DecodeCursor(cursor)
	}
	return limit, cursor, err
}

// listCampaigns answers GET /api/v1/campaigns?state=S&limit=N&cursor=C.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := campaignPage(r)
	if err != nil {
		return err
	}
	cs, next, err := s.campaigns.List(r.Context(), me(r), campaign.ListOptions{State: r.URL.Query().Get("state"), Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []campaign.Campaign{}
	}
	writeJSON(w, http.StatusOK, List[campaign.Campaign]{Items: cs, Next: next})
	return nil
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request) error {
	c, err := s.campaigns.Get(r.Context(), me(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// CampaignActionRequest is the optional body of POST
// /api/v1/campaigns/{name}/pause and …/stop.
type CampaignActionRequest struct {
	Reason string `json:"reason,omitempty"`
}

// optionalJSON decodes r's body into v when there is one: an empty body
// is the zero request. Anything else is read as decodeJSON reads it.
func optionalJSON(r *http.Request, v any) error {
	body, err := readBody(r, MaxJSONBody, mediaJSON)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return DecodeStrict(body, v)
}

// campaignAction answers POST /api/v1/campaigns/{name}/ACTION.
func (s *Server) campaignAction(action string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req CampaignActionRequest
		if err := optionalJSON(r, &req); err != nil {
			return err
		}
		ctx, p, name := r.Context(), me(r), r.PathValue("name")
		var c *campaign.Campaign
		var err error
		switch action {
		case "start":
			c, err = s.campaigns.Start(ctx, p, name)
		case "pause":
			c, err = s.campaigns.Pause(ctx, p, name, req.Reason)
		case "resume":
			c, err = s.campaigns.Resume(ctx, p, name)
		case "stop":
			c, err = s.campaigns.Stop(ctx, p, name, req.Reason)
		}
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, c)
		return nil
	}
}

// listExperiments answers GET /api/v1/campaigns/{name}/experiments.
func (s *Server) listExperiments(w http.ResponseWriter, r *http.Request) error {
	limit, cursor, err := campaignPage(r)
	if err != nil {
		return err
	}
	es, next, err := s.campaigns.Experiments(r.Context(), me(r), r.PathValue("name"),
		campaign.ExperimentOptions{State: r.URL.Query().Get("state"), Limit: limit, Cursor: cursor})
	if err != nil {
		return err
	}
	if es == nil {
		es = []campaign.Experiment{}
	}
	writeJSON(w, http.StatusOK, List[campaign.Experiment]{Items: es, Next: next})
	return nil
}

// MaxSuggestions bounds n in GET /api/v1/campaigns/{name}/suggestions.
const MaxSuggestions = 20

// Suggestions is the answer to GET /api/v1/campaigns/{name}/suggestions.
type Suggestions struct {
	// Items are the model's next points, parameter name → value (a number,
	// or a category's name); they are not recorded.
	Items []map[string]any `json:"items"`
}

func (s *Server) campaignSuggestions(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.campaignSuggestions"
	n := 1
	if v := r.URL.Query().Get("n"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > MaxSuggestions {
			return errors.E(op, errors.Invalid, errors.Field("n"), errors.Msg("n must be 1.."+strconv.Itoa(MaxSuggestions)))
		}
	}
	sug, err := s.campaigns.Suggestions(r.Context(), me(r), r.PathValue("name"), n)
	if err != nil {
		return err
	}
	if sug == nil {
		sug = []map[string]any{}
	}
	writeJSON(w, http.StatusOK, Suggestions{Items: sug})
	return nil
}

// maxPlotExperiments bounds the experiments a convergence plot reads.
const maxPlotExperiments = 100_000

// campaignPlot answers GET /api/v1/campaigns/{name}/plot?format=png|svg.
func (s *Server) campaignPlot(w http.ResponseWriter, r *http.Request) error {
	const op errors.Op = "httpapi.campaignPlot"
	format := r.URL.Query().Get("format")
	if format == "" {
		format = campaign.PlotPNG
	}
	if format != campaign.PlotPNG && format != campaign.PlotSVG {
		return errors.E(op, errors.Invalid, errors.Field("format"), errors.Msg("format must be png or svg"))
	}
	ctx, p, name := r.Context(), me(r), r.PathValue("name")
	c, err := s.campaigns.Get(ctx, p, name)
	if err != nil {
		return err
	}
	exps, err := AllExperiments(func(cursor string) ([]campaign.Experiment, string, error) {
		return s.campaigns.Experiments(ctx, p, c.ID, campaign.ExperimentOptions{Cursor: cursor, Limit: 1000})
	})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := campaign.Plot(&b, format, c, exps); err != nil {
		return err
	}
	ct := "image/png"
	if format == campaign.PlotSVG {
		ct = "image/svg+xml"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
	return nil
}

// AllExperiments reads every page of a campaign's experiments through
// page (at most 100,000 experiments); the CLI and the plot endpoint share
// it.
func AllExperiments(page func(cursor string) ([]campaign.Experiment, string, error)) ([]campaign.Experiment, error) {
	var all []campaign.Experiment
	cursor := ""
	for {
		es, next, err := page(cursor)
		if err != nil {
			return nil, err
		}
		all = append(all, es...)
		if next == "" || next == cursor || len(all) >= maxPlotExperiments {
			return all, nil
		}
		cursor = next
	}
}
