package mcp

import (
	"context"
	"encoding/base64"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/lit"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// readOnly marks a tool that changes nothing.
var readOnly = &sdk.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: ptr(false)}

func ptr[T any](v T) *T { return &v }

func (s *Server) addTools() {
	if s.cfg.Catalog != nil {
		tool(s, &sdk.Tool{Name: "search_catalog", Annotations: readOnly,
			Description: "Search the Genesis catalog (datasets, models, publications) by free text, as your principal: " +
				"only assets you may read are found, ranked by relevance. Returns names, kinds, labels and snippets; " +
				"page on with the cursor 'next'."},
			func(in SearchCatalogIn) string { return in.Text }, s.searchCatalog)
		tool(s, &sdk.Tool{Name: "get_dataset", Annotations: readOnly,
			Description: "Describe one asset (a dataset or model, by name or ID, optionally NAME@VERSION): its metadata, " +
				"its versions, and the files of the chosen version (latest by default)."},
			func(in GetDatasetIn) string { return in.Ref }, s.getDataset)
		tool(s, &sdk.Tool{Name: "read_file", Annotations: readOnly,
			Description: "Read part of a file in an asset version: ref is NAME[@VERSION], path the file's path, offset " +
				"and limit (at most 1 MiB) select the bytes. Valid UTF-8 text comes back as text, anything else as base64."},
			func(in ReadFileIn) string { return in.Ref + ":" + in.Path }, s.readFile)
		tool(s, &sdk.Tool{Name: "lineage", Annotations: readOnly,
			Description: "The provenance graph of an asset version (NAME[@VERSION]): what it was derived from (direction " +
				"up, the default) or what was derived from it (down), with the activities (puts, jobs, campaigns, agent " +
				"runs) between them. Versions you may not read are left out."},
			func(in LineageIn) string { return in.Ref }, s.lineage)
	}
	if s.cfg.Campaigns != nil {
		tool(s, &sdk.Tool{Name: "campaign_status", Annotations: readOnly,
			Description: "The state of a closed-loop campaign (by name or ID): draft, running, paused, stopped, completed " +
				"or failed, why it waits, its experiment counts and the best result so far."},
			func(in CampaignStatusIn) string { return in.ID }, s.campaignStatus)
	}
	if s.cfg.Library != nil {
		tool(s, &sdk.Tool{Name: "search_literature", Annotations: readOnly,
			Description: "Search the passages of the imported literature (BM25, fused with vector similarity when the " +
				"server has an embedding model) as your principal. Each hit is a citable passage with its ID (psg_…), " +
				"the publication's citation and the passage text."},
			func(in SearchLiteratureIn) string { return in.Query }, s.searchLiterature)
		tool(s, &sdk.Tool{Name: "get_passage", Annotations: readOnly,
			Description: "One passage of a publication by its ID (psg_…), with its citation."},
			func(in GetPassageIn) string { return in.ID }, s.getPassage)
		tool(s, &sdk.Tool{Name: "list_facts", Annotations: readOnly,
			Description: "Facts extracted from the literature: property statements (band_gap, yield, conductivity, …) " +
				"of materials with values in normalised units, conditions and methods, each with the passage and " +
				"citation it came from. Filter by property and material; page on with the cursor 'next'."},
			func(in ListFactsIn) string { return in.Property + "/" + in.Material }, s.listFacts)
		tool(s, &sdk.Tool{Name: "get_publication", Annotations: readOnly,
			Description: "One imported publication (by asset ID pub_… or name): citation, abstract, passage and fact " +
				"counts, and the readable publications it cites and that cite it."},
			func(in GetPublicationIn) string { return in.Ref }, s.getPublication)
		s.addResources()
	}
	s.addAgentTools()
}

// SearchCatalogIn is search_catalog's input.
type SearchCatalogIn struct {
	Text   string `json:"text" jsonschema:"free text to search for; empty lists everything readable"`
	Kind   string `json:"kind,omitempty" jsonschema:"only assets of this kind: dataset, model or publication"`
	Limit  int    `json:"limit,omitempty" jsonschema:"hits per page, 1..200 (default 20)"`
	Cursor string `json:"cursor,omitempty" jsonschema:"the 'next' of the previous page"`
}

// SearchCatalogOut is search_catalog's output.
type SearchCatalogOut struct {
	Hits  []search.Hit `json:"hits"`
	Total int          `json:"total"`
	Next  string       `json:"next,omitempty"`
	// Label is the join of the hits' labels: what the answer as a whole is.
	Label string `json:"label"`
}

func (s *Server) searchCatalog(ctx context.Context, p *genesis.Principal, in SearchCatalogIn) (SearchCatalogOut, error) {
	const op errors.Op = "mcp.search_catalog"
	if err := checkText(op, "text", in.Text, search.MaxQueryBytes); err != nil {
		return SearchCatalogOut{}, err
	}
	if err := checkText(op, "kind", in.Kind, 64); err != nil {
		return SearchCatalogOut{}, err
	}
	if err := checkText(op, "cursor", in.Cursor, MaxRefArg); err != nil {
		return SearchCatalogOut{}, err
	}
	if in.Limit < 0 || in.Limit > search.MaxLimit {
		return SearchCatalogOut{}, errors.E(op, errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1..200"))
	}
	res, err := s.cfg.Catalog.Search(ctx, p, search.Query{Text: in.Text, Kind: in.Kind, Limit: in.Limit, Cursor: in.Cursor})
	if err != nil {
		return SearchCatalogOut{}, err
	}
	out := SearchCatalogOut{Hits: res.Hits, Total: res.Total, Next: res.Next}
	if out.Hits == nil {
		out.Hits = []search.Hit{}
	}
	ls := make([]string, len(out.Hits))
	for i, h := range out.Hits {
		ls[i] = h.Label
	}
	if out.Label, err = joinLabels(ls...); err != nil {
		return SearchCatalogOut{}, errors.E(op, err)
	}
	return out, nil
}

// joinLabels is the canonical marking of the join of markings (OPEN for
// none).
func joinLabels(markings ...string) (string, error) {
	l := openLabel
	for _, m := range markings {
		x, err := label.Parse(m)
		if err != nil {
			return "", errors.E(errors.Internal, err)
		}
		l = label.Join(l, x)
	}
	return l.Format(), nil
}

// GetDatasetIn is get_dataset's input.
type GetDatasetIn struct {
	Ref string `json:"ref" jsonschema:"the asset's name or ID, optionally with @VERSION (latest by default)"`
}

// FileInfo is one entry of a version's file tree.
type FileInfo struct {
	Path string `json:"path"`
	Type string `json:"type"` // file, dir or symlink
	Size int64  `json:"size,omitempty"`
}

// GetDatasetOut is get_dataset's output.
type GetDatasetOut struct {
	Asset    catalog.Asset     `json:"asset"`
	Versions []catalog.Version `json:"versions"`
	// Version is the version whose files are listed (0: the asset has none).
	Version int64      `json:"version"`
	Label   string     `json:"label"` // the listed version's label (the asset's if none)
	Files   []FileInfo `json:"files"`
	// FilesTruncated says more files exist than the 1000 listed.
	FilesTruncated bool `json:"files_truncated,omitempty"`
}

func (s *Server) getDataset(ctx context.Context, p *genesis.Principal, in GetDatasetIn) (GetDatasetOut, error) {
	const op errors.Op = "mcp.get_dataset"
	ref, err := parseRef(op, "ref", in.Ref)
	if err != nil {
		return GetDatasetOut{}, err
	}
	a, err := s.cfg.Catalog.Get(ctx, p, ref.Asset)
	if err != nil {
		return GetDatasetOut{}, err
	}
	vs, err := s.cfg.Catalog.Versions(ctx, p, a.ID)
	if err != nil {
		return GetDatasetOut{}, err
	}
	out := GetDatasetOut{Asset: *a, Versions: vs, Label: a.Label, Files: []FileInfo{}}
	if out.Versions == nil {
		out.Versions = []catalog.Version{}
	}
	if len(vs) == 0 && ref.Version == 0 {
		return out, nil
	}
	_, v, m, err := s.cfg.Catalog.Manifest(ctx, p, a.ID, ref.Version)
	if err != nil {
		return GetDatasetOut{}, err
	}
	out.Version, out.Label = v.Version, v.Label
	for _, e := range m.Entries {
		if len(out.Files) == MaxFilesListed {
			out.FilesTruncated = true
			break
		}
		fi := FileInfo{Path: e.Path, Type: "file", Size: e.Size}
		switch e.Type {
		case manifest.Dir:
			fi.Type, fi.Size = "dir", 0
		case manifest.Symlink:
			fi.Type, fi.Size = "symlink", 0
		}
		out.Files = append(out.Files, fi)
	}
	return out, nil
}

// parseRef parses NAME[@VERSION] from a tool argument.
func parseRef(op errors.Op, field, s string) (catalog.VersionRef, error) {
	if err := checkText(op, field, s, MaxRefArg); err != nil {
		return catalog.VersionRef{}, err
	}
	ref, err := catalog.ParseRef(s)
	if err != nil {
		return ref, errors.E(op, errors.Invalid, errors.Field(field), err)
	}
	return ref, nil
}

// ReadFileIn is read_file's input.
type ReadFileIn struct {
	Ref    string `json:"ref" jsonschema:"the asset's name or ID, optionally with @VERSION (latest by default)"`
	Path   string `json:"path" jsonschema:"the file's path in the version, as get_dataset lists it"`
	Offset int64  `json:"offset,omitempty" jsonschema:"the first byte to read (default 0)"`
	Limit  int    `json:"limit,omitempty" jsonschema:"how many bytes to read, 1..1048576 (default 65536)"`
}

// ReadFileOut is read_file's output.
type ReadFileOut struct {
	Asset   string `json:"asset"`
	Version int64  `json:"version"`
	Path    string `json:"path"`
	Label   string `json:"label"`
	Size    int64  `json:"size"`   // the whole file's
	Offset  int64  `json:"offset"` // of the first byte returned
	Bytes   int    `json:"bytes"`  // how many bytes were read
	// Encoding is "text" (Content is the bytes as UTF-8) or "base64".
	Encoding string `json:"encoding"`
	Content  string `json:"content"`
	EOF      bool   `json:"eof"` // the read reached the end of the file
}

func (s *Server) readFile(ctx context.Context, p *genesis.Principal, in ReadFileIn) (ReadFileOut, error) {
	const op errors.Op = "mcp.read_file"
	ref, err := parseRef(op, "ref", in.Ref)
	if err != nil {
		return ReadFileOut{}, err
	}
	if err := checkText(op, "path", in.Path, 4096); err != nil {
		return ReadFileOut{}, err
	}
	if in.Offset < 0 {
		return ReadFileOut{}, errors.E(op, errors.Invalid, errors.Field("offset"), errors.Msg("offset must not be negative"))
	}
	limit := in.Limit
	switch {
	case limit == 0:
		limit = 64 << 10
	case limit < 0 || limit > MaxReadBytes:
		return ReadFileOut{}, errors.E(op, errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1..1048576"))
	}
	f, a, v, e, err := s.cfg.Catalog.OpenFile(ctx, p, ref.Asset, ref.Version, strings.TrimPrefix(in.Path, "/"))
	if err != nil {
		return ReadFileOut{}, err
	}
	out := ReadFileOut{Asset: a.Name, Version: v.Version, Path: e.Path, Label: v.Label, Size: e.Size, Offset: in.Offset}
	if in.Offset >= e.Size {
		out.EOF, out.Encoding = true, "text"
		return out, nil
	}
	if _, err := f.Seek(in.Offset, io.SeekStart); err != nil {
		return ReadFileOut{}, err
	}
	buf := make([]byte, min(int64(limit), e.Size-in.Offset))
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return ReadFileOut{}, err
	}
	buf = buf[:n]
	out.Bytes, out.EOF = n, in.Offset+int64(n) >= e.Size
	if utf8.Valid(buf) && validText(string(buf)) {
		out.Encoding, out.Content = "text", string(buf)
	} else {
		out.Encoding, out.Content = "base64", base64.StdEncoding.EncodeToString(buf)
	}
	return out, nil
}

// LineageIn is lineage's input.
type LineageIn struct {
	Ref       string `json:"ref" jsonschema:"the asset version, NAME[@VERSION] (latest by default)"`
	Direction string `json:"direction,omitempty" jsonschema:"up (what it was derived from, the default) or down (what was derived from it)"`
	Depth     int    `json:"depth,omitempty" jsonschema:"how many steps to follow, 1..100 (default 5)"`
}

func (s *Server) lineage(ctx context.Context, p *genesis.Principal, in LineageIn) (*catalog.Graph, error) {
	const op errors.Op = "mcp.lineage"
	ref, err := parseRef(op, "ref", in.Ref)
	if err != nil {
		return nil, err
	}
	up := true
	switch in.Direction {
	case "", "up":
	case "down":
		up = false
	default:
		return nil, errors.E(op, errors.Invalid, errors.Field("direction"), errors.Msg("direction must be up or down"))
	}
	depth := in.Depth
	if depth == 0 {
		depth = 5
	}
	return s.cfg.Catalog.Lineage(ctx, p, ref, up, depth)
}

// CampaignStatusIn is campaign_status's input.
type CampaignStatusIn struct {
	ID string `json:"id" jsonschema:"the campaign's name or ID"`
}

// CampaignStatusOut is campaign_status's output.
type CampaignStatusOut struct {
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Label     string          `json:"label"`
	State     string          `json:"state"`
	Reason    string          `json:"reason,omitempty"`
	Waiting   string          `json:"waiting,omitempty"`
	Counts    campaign.Counts `json:"counts"`
	Best      *BestExperiment `json:"best,omitempty"`
	Objective []ObjectiveInfo `json:"objectives,omitempty"`
	Dataset   string          `json:"dataset,omitempty"`
	Model     string          `json:"model,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
	StartedAt *time.Time      `json:"started_at,omitempty"`
	EndedAt   *time.Time      `json:"ended_at,omitempty"`
}

// BestExperiment is a campaign's best observed experiment.
type BestExperiment struct {
	Seq    int                `json:"seq"`
	Params map[string]any     `json:"params"`
	Values map[string]float64 `json:"values"`
}

// ObjectiveInfo is one of a campaign's objectives.
type ObjectiveInfo struct {
	Name string `json:"name"`
	Goal string `json:"goal"`
}

func (s *Server) campaignStatus(ctx context.Context, p *genesis.Principal, in CampaignStatusIn) (CampaignStatusOut, error) {
	const op errors.Op = "mcp.campaign_status"
	if err := checkText(op, "id", in.ID, MaxRefArg); err != nil {
		return CampaignStatusOut{}, err
	}
	if strings.TrimSpace(in.ID) == "" {
		return CampaignStatusOut{}, errors.E(op, errors.Invalid, errors.Field("id"), errors.Msg("id is required"))
	}
	c, err := s.cfg.Campaigns.Get(ctx, p, in.ID)
	if err != nil {
		return CampaignStatusOut{}, err
	}
	return campaignOut(c), nil
}

func campaignOut(c *campaign.Campaign) CampaignStatusOut {
	out := CampaignStatusOut{ID: c.ID, Name: c.Name, Label: c.Label, State: c.State, Reason: c.Reason, Waiting: c.Waiting,
		Counts: c.Counts, Dataset: c.Dataset, Model: c.Model, CreatedAt: c.CreatedAt, StartedAt: c.StartedAt, EndedAt: c.EndedAt}
	if c.Best != nil {
		out.Best = &BestExperiment{Seq: c.Best.Seq, Params: c.Best.Params, Values: c.Best.Values}
	}
	for _, o := range c.Spec.Objectives {
		out.Objective = append(out.Objective, ObjectiveInfo{Name: o.Name, Goal: o.Goal})
	}
	return out
}

// SearchLiteratureIn is search_literature's input.
type SearchLiteratureIn struct {
	Query       string `json:"query" jsonschema:"what to look for, in words"`
	Mode        string `json:"mode,omitempty" jsonschema:"bm25, hybrid, or empty for the best the server has"`
	Limit       int    `json:"limit,omitempty" jsonschema:"passages to return, 1..100 (default 10)"`
	Publication string `json:"publication,omitempty" jsonschema:"only passages of this publication (ID or name)"`
}

// SearchLiteratureOut is search_literature's output.
type SearchLiteratureOut struct {
	Hits []lit.Hit `json:"hits"`
	// Label is the join of the passages' labels.
	Label string `json:"label"`
}

func (s *Server) searchLiterature(ctx context.Context, p *genesis.Principal, in SearchLiteratureIn) (SearchLiteratureOut, error) {
	const op errors.Op = "mcp.search_literature"
	if err := checkText(op, "query", in.Query, MaxTextArg); err != nil {
		return SearchLiteratureOut{}, err
	}
	if err := checkText(op, "publication", in.Publication, MaxRefArg); err != nil {
		return SearchLiteratureOut{}, err
	}
	switch in.Mode {
	case "", lit.ModeBM25, lit.ModeHybrid:
	default:
		return SearchLiteratureOut{}, errors.E(op, errors.Invalid, errors.Field("mode"), errors.Msg("mode must be bm25 or hybrid"))
	}
	if in.Limit < 0 || in.Limit > 100 {
		return SearchLiteratureOut{}, errors.E(op, errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1..100"))
	}
	hits, err := s.cfg.Library.Search(ctx, p, lit.Query{Text: in.Query, Mode: in.Mode, Limit: in.Limit, Publication: in.Publication})
	if err != nil {
		return SearchLiteratureOut{}, err
	}
	out := SearchLiteratureOut{Hits: hits}
	if out.Hits == nil {
		out.Hits = []lit.Hit{}
	}
	ls := make([]string, len(hits))
	for i, h := range hits {
		ls[i] = h.Label
	}
	if out.Label, err = joinLabels(ls...); err != nil {
		return SearchLiteratureOut{}, errors.E(op, err)
	}
	return out, nil
}

// GetPassageIn is get_passage's input.
type GetPassageIn struct {
	ID string `json:"id" jsonschema:"the passage ID (psg_…)"`
}

func (s *Server) getPassage(ctx context.Context, p *genesis.Principal, in GetPassageIn) (*lit.Passage, error) {
	const op errors.Op = "mcp.get_passage"
	if err := checkText(op, "id", in.ID, MaxRefArg); err != nil {
		return nil, err
	}
	return s.cfg.Library.Passage(ctx, p, in.ID)
}

// ListFactsIn is list_facts's input.
type ListFactsIn struct {
	Property    string `json:"property,omitempty" jsonschema:"canonical property name: band_gap, yield, conductivity, …"`
	Material    string `json:"material,omitempty" jsonschema:"material name or formula (case-insensitive)"`
	Publication string `json:"publication,omitempty" jsonschema:"only facts of this publication (ID or name)"`
	Limit       int    `json:"limit,omitempty" jsonschema:"facts per page, 1..500 (default 50)"`
	Cursor      string `json:"cursor,omitempty" jsonschema:"the 'next' of the previous page"`
}

// ListFactsOut is list_facts's output.
type ListFactsOut struct {
	Facts []lit.Fact `json:"facts"`
	Next  string     `json:"next,omitempty"`
	Label string     `json:"label"` // the join of the facts' labels
}

func (s *Server) listFacts(ctx context.Context, p *genesis.Principal, in ListFactsIn) (ListFactsOut, error) {
	const op errors.Op = "mcp.list_facts"
	for _, f := range []struct{ name, v string }{{"property", in.Property}, {"material", in.Material}, {"publication", in.Publication}, {"cursor", in.Cursor}} {
		if err := checkText(op, f.name, f.v, MaxRefArg); err != nil {
			return ListFactsOut{}, err
		}
	}
	if in.Limit < 0 || in.Limit > 500 {
		return ListFactsOut{}, errors.E(op, errors.Invalid, errors.Field("limit"), errors.Msg("limit must be 1..500"))
	}
	fs, next, err := s.cfg.Library.Facts(ctx, p, lit.FactQuery{Property: in.Property, Material: in.Material, Publication: in.Publication, Limit: in.Limit, Cursor: in.Cursor})
	if err != nil {
		return ListFactsOut{}, err
	}
	out := ListFactsOut{Facts: fs, Next: next}
	if out.Facts == nil {
		out.Facts = []lit.Fact{}
	}
	ls := make([]string, len(fs))
	for i, f := range fs {
		ls[i] = f.Label
	}
	if out.Label, err = joinLabels(ls...); err != nil {
		return ListFactsOut{}, errors.E(op, err)
	}
	return out, nil
}

// GetPublicationIn is get_publication's input.
type GetPublicationIn struct {
	Ref string `json:"ref" jsonschema:"the publication's asset ID (pub_…) or name"`
}

func (s *Server) getPublication(ctx context.Context, p *genesis.Principal, in GetPublicationIn) (*lit.Publication, error) {
	const op errors.Op = "mcp.get_publication"
	if err := checkText(op, "ref", in.Ref, MaxRefArg); err != nil {
		return nil, err
	}
	return s.cfg.Library.Publication(ctx, p, in.Ref)
}
