package iri

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/errors"
)

// ProviderConfig describes the facility a Provider serves.
type ProviderConfig struct {
	// Facility describes the facility (id required); its URIs and
	// last_modified are filled in.
	Facility Facility
	// Site is the one site the facility's resources are at (id and
	// operating organisation required).
	Site Site
	// Resources are the compute resources, each over a Genesis backend.
	Resources []ProviderResource
	// Tokens maps bearer tokens to user IDs. Every compute, filesystem and
	// task call needs one; facility, status and capabilities are public.
	Tokens map[string]string
	// Projects, with their members and allocations. When non-empty, a job's
	// project must be one of them and include the caller.
	Projects     []ProviderProject
	Capabilities []Capability
	Incidents    []Incident
	// Root holds the provider's job records and the working directories of
	// jobs that name none (created per job under Root/work).
	Root string
	// AllowedDirs are absolute directories, beside Root/work, under which a
	// job may name its directory and stream paths.
	AllowedDirs []string
	// BaseURL is the public URL the provider is reached at, for the URIs in
	// its answers; empty means the request's own scheme and host.
	BaseURL string
	Logger  *slog.Logger
}

// ProviderResource is one compute resource of a Provider.
type ProviderResource struct {
	ID, Name, Description, Group string
	// Type is the resource_type URN (default urn:doe-iri:resource:compute).
	Type string
	// Status is the current_status (default up).
	Status  Status
	Backend compute.Backend
}

// ProviderProject is a project with its members and allocations.
type ProviderProject struct {
	ID, Name, Description string
	Users                 []string
	Allocations           []ProviderAllocation
}

// ProviderAllocation is a project's allocation of one capability.
type ProviderAllocation struct {
	ID         string
	Capability string // a Capability's ID
	Entries    []AllocationEntry
}

// Provider serves the IRI Facility API v2 over Genesis compute backends.
// Use NewProvider.
type Provider struct {
	cfg     ProviderConfig
	log     *slog.Logger
	started time.Time
	mux     *http.ServeMux
	res     map[string]*ProviderResource

	mu       sync.Mutex
	jobs     map[string]*record // by IRI job ID
	keys     map[string]string  // idempotency key hash → job ID
	inflight map[string]bool    // idempotency key hashes being submitted
	streams  map[string]stream  // stream file path → job and stream
	tasks    map[string]*taskEntry
	finals   map[string]compute.Status // final statuses seen, by IRI job ID (they never change)
}

type stream struct {
	job    string
	stream compute.Stream
}

type taskEntry struct {
	user    string
	task    Task
	created time.Time
}

// record is what the provider keeps of a job, as Root/jobs/ID.json.
type record struct {
	ID        string               `json:"id"`
	Resource  string               `json:"resource"`
	User      string               `json:"user"`
	KeyHash   string               `json:"key_hash,omitempty"`
	BodySum   string               `json:"body_sum,omitempty"`
	BackendID compute.BackendJobID `json:"backend_id"`
	Spec      JobSpec              `json:"spec"` // as run: paths absolute
	Response  json.RawMessage      `json:"response"`
	Submitted time.Time            `json:"submitted"`
}

// NewProvider returns the provider's HTTP handler, serving /api/v2/….
// It loads the job records an earlier provider left under cfg.Root.
func NewProvider(cfg ProviderConfig) (*Provider, error) {
	const op errors.Op = "iri.NewProvider"
	bad := func(msg string) error { return errors.E(op, errors.Invalid, errors.Msg(msg)) }
	if cfg.Facility.ID == "" || cfg.Site.ID == "" {
		return nil, bad("IRI provider: facility and site IDs are required")
	}
	if !filepath.IsAbs(cfg.Root) {
		return nil, bad("IRI provider: root must be an absolute directory")
	}
	for _, d := range cfg.AllowedDirs {
		if !filepath.IsAbs(d) {
			return nil, bad("IRI provider: allowed directories must be absolute")
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	p := &Provider{cfg: cfg, log: cfg.Logger, started: time.Now().UTC().Truncate(time.Second),
		res: map[string]*ProviderResource{}, jobs: map[string]*record{}, keys: map[string]string{},
		inflight: map[string]bool{}, streams: map[string]stream{}, tasks: map[string]*taskEntry{}, finals: map[string]compute.Status{}}
	for i := range cfg.Resources {
		r := &p.cfg.Resources[i]
		if r.ID == "" || r.Backend == nil || strings.ContainsAny(r.ID, "/?#%") {
			return nil, bad("IRI provider: every resource needs an ID (no / ? # %) and a backend")
		}
		if r.Type == "" {
			r.Type = "urn:doe-iri:resource:compute"
		}
		if r.Status == "" {
			r.Status = StatusUp
		}
		p.res[r.ID] = r
	}
	for _, d := range []string{"jobs", "work"} {
		if err := os.MkdirAll(filepath.Join(cfg.Root, d), 0o755); err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
	}
	if err := p.load(); err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	p.routes()
	return p, nil
}

func (p *Provider) load() error {
	ents, err := os.ReadDir(filepath.Join(p.cfg.Root, "jobs"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(p.cfg.Root, "jobs", e.Name()))
		if err != nil {
			return err
		}
		var rec record
		if err := json.Unmarshal(data, &rec); err != nil {
			return fmt.Errorf("job record %s: %w", e.Name(), err)
		}
		p.index(&rec)
	}
	return nil
}

// index adds rec to the in-memory maps. p.mu held (or not yet shared).
func (p *Provider) index(rec *record) {
	p.jobs[rec.ID] = rec
	if rec.KeyHash != "" {
		p.keys[rec.KeyHash] = rec.ID
	}
	p.streams[rec.Spec.StdoutPath] = stream{rec.ID, compute.Stdout}
	p.streams[rec.Spec.StderrPath] = stream{rec.ID, compute.Stderr}
}

func (p *Provider) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

func (p *Provider) routes() {
	m := http.NewServeMux()
	const v2 = "/api/v2"
	m.HandleFunc("GET "+v2+"/facility", p.getFacility)
	m.HandleFunc("GET "+v2+"/facility/sites", p.getSites)
	m.HandleFunc("GET "+v2+"/facility/sites/{site_id}", p.getSite)
	m.HandleFunc("GET "+v2+"/status/resources", p.getResources)
	m.HandleFunc("GET "+v2+"/status/resources/{resource_id}", p.getResource)
	m.HandleFunc("GET "+v2+"/status/incidents", p.getIncidents)
	m.HandleFunc("GET "+v2+"/status/incidents/{incident_id}", p.getIncident)
	m.HandleFunc("GET "+v2+"/account/capabilities", p.getCapabilities)
	m.HandleFunc("GET "+v2+"/account/capabilities/{capability_id}", p.getCapability)
	m.HandleFunc("GET "+v2+"/account/projects", p.authed(p.getProjects))
	m.HandleFunc("GET "+v2+"/account/projects/{project_id}", p.authed(p.getProject))
	m.HandleFunc("GET "+v2+"/account/projects/{project_id}/project_allocations", p.authed(p.getAllocations))
	m.HandleFunc("GET "+v2+"/account/projects/{project_id}/project_allocations/{project_allocation_id}", p.authed(p.getAllocation))
	m.HandleFunc("POST "+v2+"/compute/job/{resource_id}", p.authed(p.submit))
	m.HandleFunc("GET "+v2+"/compute/status/{resource_id}/{job_id}", p.authed(p.getJob))
	m.HandleFunc("POST "+v2+"/compute/status/{resource_id}", p.authed(p.listJobs))
	m.HandleFunc("DELETE "+v2+"/compute/cancel/{resource_id}/{job_id}", p.authed(p.cancel))
	m.HandleFunc("POST "+v2+"/filesystem/view/{resource_id}", p.authed(p.view))
	m.HandleFunc("GET "+v2+"/task", p.authed(p.listTasks))
	m.HandleFunc("GET "+v2+"/task/{task_id}", p.authed(p.getTask))
	m.HandleFunc("DELETE "+v2+"/task/{task_id}", p.authed(p.deleteTask))
	// In the spec, not served here: 501, after authentication where the
	// spec asks for it.
	for _, pat := range []string{
		"PUT " + v2 + "/compute/job/{resource_id}/{job_id}",
		"GET " + v2 + "/account/projects/{project_id}/project_allocations/{a}/user_allocations",
		"GET " + v2 + "/account/projects/{project_id}/project_allocations/{a}/user_allocations/{u}",
		"POST " + v2 + "/filesystem/{op}/{resource_id}",
		"GET " + v2 + "/storage/locations/{resource_id}",
		"GET " + v2 + "/storage/access-endpoints/{resource_id}",
	} {
		m.HandleFunc(pat, p.authed(func(w http.ResponseWriter, r *http.Request, _ string) {
			p.problem(w, r, http.StatusNotImplemented, "this facility does not implement this operation")
		}))
	}
	for _, pat := range []string{
		"GET " + v2 + "/status/events", "GET " + v2 + "/status/events/{event_id}",
		"GET " + v2 + "/compute/resources", "POST " + v2 + "/filesystem/resources",
	} {
		m.HandleFunc(pat, func(w http.ResponseWriter, r *http.Request) {
			p.problem(w, r, http.StatusNotImplemented, "this facility does not implement this operation")
		})
	}
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		// A known path asked with another method is 405, with Allow.
		var allow []string
		for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
			rr := r.Clone(r.Context())
			rr.Method = method
			if _, pat := m.Handler(rr); pat != "/" {
				allow = append(allow, method)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			p.problem(w, r, http.StatusMethodNotAllowed, "method not allowed here")
			return
		}
		p.problem(w, r, http.StatusNotFound, "no such endpoint")
	})
	p.mux = m
}

// problem writes an RFC 9457 problem document (as application/json: the
// spec declares its problems so).
func (p *Provider) problem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="iri"`)
	}
	p.writeJSON(w, status, Problem{Type: "about:blank", Status: status, Title: http.StatusText(status), Detail: detail, Instance: r.URL.Path})
}

// fail answers with the status an error's kind calls for; internal causes
// go to the log, not to the caller.
func (p *Provider) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	switch errors.KindOf(err) {
	case errors.Invalid, errors.TooLarge:
		status = http.StatusUnprocessableEntity
	case errors.NotExist:
		status = http.StatusNotFound
	case errors.Permission:
		status = http.StatusForbidden
	case errors.Conflict, errors.Exist:
		status = http.StatusConflict
	case errors.Transient, errors.Unavailable, errors.Canceled:
		status = http.StatusServiceUnavailable
	}
	msg := errors.SafeMessage(err)
	if msg == "" || status == http.StatusInternalServerError {
		msg = http.StatusText(status)
	}
	if status >= 500 {
		p.log.Error("iri provider", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	p.problem(w, r, status, msg)
}

func (p *Provider) writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		p.log.Error("iri provider: encoding a response", "err", err)
		status, data = http.StatusInternalServerError, []byte(`{"type":"about:blank","status":500,"instance":"/"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

// authed wraps a handler that needs a bearer token; it passes the user.
func (p *Provider) authed(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		user := ""
		if ok && tok != "" {
			sum := sha256.Sum256([]byte(tok))
			for t, u := range p.cfg.Tokens {
				ts := sha256.Sum256([]byte(t))
				if subtle.ConstantTimeCompare(sum[:], ts[:]) == 1 {
					user = u
				}
			}
		}
		if user == "" {
			p.problem(w, r, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		h(w, r, user)
	}
}

func (p *Provider) base(r *http.Request) string {
	if p.cfg.BaseURL != "" {
		return strings.TrimRight(p.cfg.BaseURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// --- facility, status, account ---

func (p *Provider) getFacility(w http.ResponseWriter, r *http.Request) {
	f := p.cfg.Facility
	f.LastModified = p.started
	f.SelfURI = p.base(r) + "/api/v2/facility"
	f.SiteURIs = []string{p.siteURI(r)}
	p.writeJSON(w, http.StatusOK, f)
}

func (p *Provider) siteURI(r *http.Request) string {
	return p.base(r) + "/api/v2/facility/sites/" + p.cfg.Site.ID
}

func (p *Provider) site(r *http.Request) Site {
	s := p.cfg.Site
	s.LastModified = p.started
	s.SelfURI = p.siteURI(r)
	s.ResourceURIs = []string{}
	for _, res := range p.cfg.Resources {
		s.ResourceURIs = append(s.ResourceURIs, p.base(r)+"/api/v2/status/resources/"+res.ID)
	}
	return s
}

func (p *Provider) getSites(w http.ResponseWriter, r *http.Request) {
	sites := []Site{p.site(r)}
	if n := r.URL.Query().Get("name"); n != "" && n != sites[0].Name {
		sites = []Site{}
	}
	page(p, w, r, sites)
}

func (p *Provider) getSite(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("site_id") != p.cfg.Site.ID {
		p.problem(w, r, http.StatusNotFound, "no such site")
		return
	}
	p.writeJSON(w, http.StatusOK, p.site(r))
}

func (p *Provider) resource(r *http.Request, res *ProviderResource) Resource {
	caps := []string{}
	for _, c := range p.cfg.Capabilities {
		caps = append(caps, p.base(r)+"/api/v2/account/capabilities/"+c.ID)
	}
	return Resource{
		ID: res.ID, Name: res.Name, Description: res.Description, Group: res.Group,
		CurrentStatus: res.Status, ResourceType: res.Type, SupportedEndpoints: []string{"compute", "filesystem"},
		LastModified: p.started, SelfURI: p.base(r) + "/api/v2/status/resources/" + res.ID,
		SiteURI: p.siteURI(r), CapabilityURIs: caps,
	}
}

func (p *Provider) getResources(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out := []Resource{}
	for i := range p.cfg.Resources {
		res := &p.cfg.Resources[i]
		if (q.Has("name") && q.Get("name") != res.Name) || (q.Has("group") && q.Get("group") != res.Group) ||
			(q.Has("current_status") && q.Get("current_status") != string(res.Status)) ||
			(q.Has("resource_type") && !strings.HasPrefix(res.Type, q.Get("resource_type"))) {
			continue
		}
		out = append(out, p.resource(r, res))
	}
	page(p, w, r, out)
}

func (p *Provider) getResource(w http.ResponseWriter, r *http.Request) {
	res, ok := p.res[r.PathValue("resource_id")]
	if !ok {
		p.problem(w, r, http.StatusNotFound, "no such resource")
		return
	}
	p.writeJSON(w, http.StatusOK, p.resource(r, res))
}

func (p *Provider) incident(r *http.Request, in Incident) Incident {
	in.SelfURI = p.base(r) + "/api/v2/status/incidents/" + in.ID
	if in.LastModified.IsZero() {
		in.LastModified = p.started
	}
	if in.EventURIs == nil {
		in.EventURIs = []string{}
	}
	if in.ResourceURIs == nil {
		in.ResourceURIs = []string{}
	}
	return in
}

func (p *Provider) getIncidents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	out := []Incident{}
	for _, in := range p.cfg.Incidents {
		if (q.Has("status") && q.Get("status") != string(in.Status)) || (q.Has("type") && q.Get("type") != in.Type) ||
			(q.Has("resolution") && q.Get("resolution") != in.Resolution) {
			continue
		}
		out = append(out, p.incident(r, in))
	}
	page(p, w, r, out)
}

func (p *Provider) getIncident(w http.ResponseWriter, r *http.Request) {
	for _, in := range p.cfg.Incidents {
		if in.ID == r.PathValue("incident_id") {
			p.writeJSON(w, http.StatusOK, p.incident(r, in))
			return
		}
	}
	p.problem(w, r, http.StatusNotFound, "no such incident")
}

func (p *Provider) capability(r *http.Request, c Capability) Capability {
	c.SelfURI = p.base(r) + "/api/v2/account/capabilities/" + c.ID
	if c.Units == nil {
		c.Units = []string{}
	}
	return c
}

func (p *Provider) getCapabilities(w http.ResponseWriter, r *http.Request) {
	out := []Capability{}
	for _, c := range p.cfg.Capabilities {
		if n := r.URL.Query().Get("name"); n == "" || n == c.Name {
			out = append(out, p.capability(r, c))
		}
	}
	page(p, w, r, out)
}

func (p *Provider) getCapability(w http.ResponseWriter, r *http.Request) {
	for _, c := range p.cfg.Capabilities {
		if c.ID == r.PathValue("capability_id") {
			p.writeJSON(w, http.StatusOK, p.capability(r, c))
			return
		}
	}
	p.problem(w, r, http.StatusNotFound, "no such capability")
}

// page writes a list with the request's offset and limit applied (default
// 100, at most 1000).
func page[T any](p *Provider, w http.ResponseWriter, r *http.Request, items []T) {
	q := r.URL.Query()
	offset, limit, err := pageParams(q.Get("offset"), q.Get("limit"))
	if err != nil {
		p.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	items = items[min(offset, len(items)):]
	items = items[:min(limit, len(items))]
	p.writeJSON(w, http.StatusOK, items)
}

func pageParams(offs, lims string) (offset, limit int, err error) {
	offset, limit = 0, 100
	if offs != "" {
		if offset, err = strconv.Atoi(offs); err != nil || offset < 0 {
			return 0, 0, fmt.Errorf("offset: want an integer ≥ 0")
		}
	}
	if lims != "" {
		if limit, err = strconv.Atoi(lims); err != nil || limit < 0 || limit > 1000 {
			return 0, 0, fmt.Errorf("limit: want an integer from 0 to 1000")
		}
	}
	return offset, limit, nil
}

// project returns the configured project id if user is a member.
func (p *Provider) project(id, user string) *ProviderProject {
	for i := range p.cfg.Projects {
		pr := &p.cfg.Projects[i]
		if pr.ID == id && slices.Contains(pr.Users, user) {
			return pr
		}
	}
	return nil
}

func (p *Provider) projectDoc(r *http.Request, pr *ProviderProject) Project {
	users := pr.Users
	if users == nil {
		users = []string{}
	}
	return Project{ID: pr.ID, Name: pr.Name, Description: pr.Description, UserIDs: users,
		LastModified: p.started, SelfURI: p.base(r) + "/api/v2/account/projects/" + pr.ID}
}

func (p *Provider) getProjects(w http.ResponseWriter, r *http.Request, user string) {
	out := []Project{}
	for i := range p.cfg.Projects {
		if pr := &p.cfg.Projects[i]; slices.Contains(pr.Users, user) {
			out = append(out, p.projectDoc(r, pr))
		}
	}
	p.writeJSON(w, http.StatusOK, out)
}

// Projects the caller is not a member of do not exist for them.
func (p *Provider) getProject(w http.ResponseWriter, r *http.Request, user string) {
	pr := p.project(r.PathValue("project_id"), user)
	if pr == nil {
		p.problem(w, r, http.StatusNotFound, "no such project")
		return
	}
	p.writeJSON(w, http.StatusOK, p.projectDoc(r, pr))
}

func (p *Provider) allocationDoc(r *http.Request, pr *ProviderProject, a ProviderAllocation) ProjectAllocation {
	entries := a.Entries
	if entries == nil {
		entries = []AllocationEntry{}
	}
	return ProjectAllocation{ID: a.ID, Entries: entries,
		ProjectURI:    p.base(r) + "/api/v2/account/projects/" + pr.ID,
		CapabilityURI: p.base(r) + "/api/v2/account/capabilities/" + a.Capability}
}

func (p *Provider) getAllocations(w http.ResponseWriter, r *http.Request, user string) {
	pr := p.project(r.PathValue("project_id"), user)
	if pr == nil {
		p.problem(w, r, http.StatusNotFound, "no such project")
		return
	}
	out := []ProjectAllocation{}
	for _, a := range pr.Allocations {
		out = append(out, p.allocationDoc(r, pr, a))
	}
	p.writeJSON(w, http.StatusOK, out)
}

func (p *Provider) getAllocation(w http.ResponseWriter, r *http.Request, user string) {
	if pr := p.project(r.PathValue("project_id"), user); pr != nil {
		for _, a := range pr.Allocations {
			if a.ID == r.PathValue("project_allocation_id") {
				p.writeJSON(w, http.StatusOK, p.allocationDoc(r, pr, a))
				return
			}
		}
	}
	p.problem(w, r, http.StatusNotFound, "no such allocation")
}

// --- compute ---

// maxBody bounds request bodies.
const maxBody = compute.MaxJobSpecSize

// DecodeJobSpec reads a submitted job spec strictly: the spec's JobSpec
// admits no members it does not list, and the provider refuses nested
// members it could not honour. Errors are errors.Invalid.
func DecodeJobSpec(data []byte) (*JobSpec, error) {
	const op errors.Op = "iri.DecodeJobSpec"
	if len(data) > maxBody {
		return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("job spec larger than %d bytes", maxBody)))
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var js JobSpec
	if err := dec.Decode(&js); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("job spec: "+truncate(err.Error())))
	}
	if dec.More() {
		return nil, errors.E(op, errors.Invalid, errors.Msg("job spec: data after the JSON object"))
	}
	return &js, nil
}

func (p *Provider) submit(w http.ResponseWriter, r *http.Request, user string) {
	const op errors.Op = "iri.Provider.submit"
	res, ok := p.res[r.PathValue("resource_id")]
	if !ok {
		p.problem(w, r, http.StatusNotFound, "no such resource")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		p.problem(w, r, http.StatusBadRequest, "reading the request body failed")
		return
	}
	js, err := DecodeJobSpec(body)
	if err != nil {
		p.problem(w, r, http.StatusUnprocessableEntity, errors.SafeMessage(err))
		return
	}
	header := r.Header.Get("X-IRI-Facility-Project")
	var account string
	if js.Attributes != nil {
		account = js.Attributes.Account
	}
	if (header == "") == (account == "") {
		p.problem(w, r, http.StatusBadRequest, "give the project in exactly one of attributes.account and X-IRI-Facility-Project")
		return
	}
	project := account + header
	if len(p.cfg.Projects) > 0 && p.project(project, user) == nil {
		p.problem(w, r, http.StatusForbidden, "you may not charge this project")
		return
	}

	// Idempotency: one job per (user, resource, key); the key's job ID is
	// derived from it, so a provider that crashed mid-submit resubmits the
	// same ID to the backend, which is idempotent by it.
	key := r.Header.Get("Idempotency-Key")
	var id, keyHash, bodySum string
	if key != "" {
		kh := sha256.Sum256([]byte(user + "\x00" + res.ID + "\x00" + key))
		keyHash = hex.EncodeToString(kh[:])
		bs := sha256.Sum256(append([]byte(header+"\x00"), body...))
		bodySum = hex.EncodeToString(bs[:])
		id = "j" + keyHash[:24]
		p.mu.Lock()
		if p.inflight[keyHash] {
			p.mu.Unlock()
			p.problem(w, r, http.StatusConflict, "a request with this Idempotency-Key is in flight")
			return
		}
		if jid, ok := p.keys[keyHash]; ok {
			rec := p.jobs[jid]
			p.mu.Unlock()
			if rec.BodySum != bodySum {
				p.problem(w, r, http.StatusUnprocessableEntity, "this Idempotency-Key was used with a different request")
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			w.Write(rec.Response)
			return
		}
		p.inflight[keyHash] = true
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			delete(p.inflight, keyHash)
			p.mu.Unlock()
		}()
	} else {
		var b [12]byte
		rand.Read(b[:])
		id = "j" + hex.EncodeToString(b[:])
	}

	spec, err := FromIRI(js, project)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	workDir, err := p.place(id, spec)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	bid, err := res.Backend.Submit(r.Context(), compute.Request{ID: compute.JobID(id), Spec: spec, WorkDir: workDir})
	if err != nil {
		p.fail(w, r, errors.E(op, err))
		return
	}
	ran := *js
	ran.Directory = workDir
	ran.StdinPath = spec.StdinPath
	ran.StdoutPath, ran.StderrPath = spec.StdoutPath, spec.StderrPath
	if ran.Attributes != nil {
		a := *ran.Attributes
		a.Account = project // the effective project, wherever it was given
		ran.Attributes = &a
	}
	now := time.Now()
	t := float64(now.UnixMilli()) / 1000
	resp, _ := json.Marshal(Job{ID: id, Status: &JobStatus{State: StateQueued, Time: &t}})
	rec := &record{ID: id, Resource: res.ID, User: user, KeyHash: keyHash, BodySum: bodySum,
		BackendID: bid, Spec: ran, Response: resp, Submitted: now.UTC()}
	if err := p.save(rec); err != nil {
		p.fail(w, r, errors.E(op, errors.Internal, err))
		return
	}
	p.mu.Lock()
	p.index(rec)
	p.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(resp)
}

// place decides where the job runs: its directory when absolute and
// allowed, else Root/work/ID (created), with the directory relative to it.
// It makes spec's directory and paths absolute, choosing stream files
// (.iri-ID.out/.err in the directory) when none are given, and checks that
// every path is inside an allowed directory.
func (p *Provider) place(id string, spec *compute.JobSpec) (string, error) {
	const op errors.Op = "iri.Provider.place"
	workDir := spec.Directory
	if !filepath.IsAbs(workDir) {
		base := filepath.Join(p.cfg.Root, "work", id)
		if err := os.MkdirAll(base, 0o755); err != nil {
			return "", errors.E(op, errors.Internal, err)
		}
		workDir = compute.Resolve(base, spec.Directory)
		if !inside(base, workDir) {
			return "", errors.E(op, errors.Invalid, errors.Field("directory"), errors.Msg("directory: a relative directory must stay inside the job's own"))
		}
		if err := os.MkdirAll(workDir, 0o755); err != nil {
			return "", errors.E(op, errors.Internal, err)
		}
	}
	workDir = filepath.Clean(workDir)
	spec.Directory = ""
	spec.StdinPath = resolveOpt(workDir, spec.StdinPath)
	spec.StdoutPath = resolveOpt(workDir, spec.StdoutPath)
	spec.StderrPath = resolveOpt(workDir, spec.StderrPath)
	if spec.StdoutPath == "" {
		spec.StdoutPath = filepath.Join(workDir, ".iri-"+id+".out")
	}
	if spec.StderrPath == "" {
		spec.StderrPath = filepath.Join(workDir, ".iri-"+id+".err")
	}
	for _, f := range []struct{ name, path string }{
		{"directory", workDir}, {"stdin_path", spec.StdinPath}, {"stdout_path", spec.StdoutPath}, {"stderr_path", spec.StderrPath},
	} {
		if f.path != "" && !p.allowed(f.path) {
			return "", errors.E(op, errors.Invalid, errors.Field(f.name), errors.Msg(f.name+": outside the directories this facility lets jobs use"))
		}
	}
	if spec.StdoutPath == spec.StderrPath {
		return "", errors.E(op, errors.Invalid, errors.Field("stderr_path"), errors.Msg("stderr_path: must differ from stdout_path"))
	}
	p.mu.Lock()
	_, taken := p.streams[spec.StdoutPath]
	_, taken2 := p.streams[spec.StderrPath]
	p.mu.Unlock()
	if taken || taken2 {
		return "", errors.E(op, errors.Invalid, errors.Field("stdout_path"), errors.Msg("stdout_path/stderr_path: another job already writes there"))
	}
	return workDir, nil
}

func (p *Provider) allowed(path string) bool {
	if inside(filepath.Join(p.cfg.Root, "work"), path) {
		return true
	}
	for _, d := range p.cfg.AllowedDirs {
		if inside(d, path) {
			return true
		}
	}
	return false
}

// inside reports whether path is dir or below it (lexically: the backend
// runs jobs as the submitting user, whose own permissions govern the rest).
func inside(dir, path string) bool {
	rel, err := filepath.Rel(filepath.Clean(dir), filepath.Clean(path))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

func (p *Provider) save(rec *record) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	dir := filepath.Join(p.cfg.Root, "jobs")
	f, err := os.CreateTemp(dir, ".rec-*")
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), filepath.Join(dir, rec.ID+".json"))
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// lookup returns the caller's job on the resource, or nil: other users'
// jobs do not exist for them.
func (p *Provider) lookup(resource, id, user string) *record {
	p.mu.Lock()
	defer p.mu.Unlock()
	rec := p.jobs[id]
	if rec == nil || rec.Resource != resource || rec.User != user {
		return nil
	}
	return rec
}

// jobDoc reads the job's status from its backend.
func (p *Provider) jobDoc(ctx context.Context, rec *record, withSpec bool) (*Job, error) {
	res := p.res[rec.Resource]
	if res == nil {
		return nil, errors.E(errors.NotExist, errors.Msg("no such job"))
	}
	st, err := res.Backend.Status(ctx, rec.BackendID)
	if err != nil {
		return nil, err
	}
	job := &Job{ID: rec.ID, Status: ToIRIStatus(st, time.Now())}
	if withSpec {
		spec := rec.Spec
		job.JobSpec = &spec
	}
	return job, nil
}

// boolParam reads a strict boolean query parameter.
func boolParam(r *http.Request, name string, def bool) (bool, error) {
	v := r.URL.Query().Get(name)
	switch v {
	case "":
		return def, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("%s: want true or false", name)
}

func (p *Provider) getJob(w http.ResponseWriter, r *http.Request, user string) {
	withSpec, err := boolParam(r, "include_spec", false)
	if err == nil {
		_, err = boolParam(r, "historical", true)
	}
	if err != nil {
		p.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	rec := p.lookup(r.PathValue("resource_id"), r.PathValue("job_id"), user)
	if rec == nil {
		p.problem(w, r, http.StatusNotFound, "no such job")
		return
	}
	job, err := p.jobDoc(r.Context(), rec, withSpec)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.writeJSON(w, http.StatusOK, job)
}

// listJobs answers POST /compute/status: the caller's jobs on the
// resource, oldest first. Filters: "state" (a JobState) and "name".
func (p *Provider) listJobs(w http.ResponseWriter, r *http.Request, user string) {
	withSpec, err := boolParam(r, "include_spec", false)
	var historical bool
	if err == nil {
		historical, err = boolParam(r, "historical", false)
	}
	q := r.URL.Query()
	offset, limit, perr := pageParams(q.Get("offset"), q.Get("limit"))
	if err == nil {
		err = perr
	}
	if err != nil {
		p.problem(w, r, http.StatusBadRequest, err.Error())
		return
	}
	if _, ok := p.res[r.PathValue("resource_id")]; !ok {
		p.problem(w, r, http.StatusNotFound, "no such resource")
		return
	}
	var filters map[string]any
	body, _ := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &filters); err != nil {
			p.problem(w, r, http.StatusUnprocessableEntity, "filters: want a JSON object")
			return
		}
	}
	for k := range filters {
		if k != "state" && k != "name" {
			p.problem(w, r, http.StatusBadRequest, fmt.Sprintf("filter %q: this facility filters by state and name only", truncate(k)))
			return
		}
	}
	p.mu.Lock()
	var recs []*record
	for _, rec := range p.jobs {
		if rec.Resource == r.PathValue("resource_id") && rec.User == user {
			recs = append(recs, rec)
		}
	}
	p.mu.Unlock()
	slices.SortFunc(recs, func(a, b *record) int { return a.Submitted.Compare(b.Submitted) })
	if n, ok := filters["name"].(string); ok {
		recs = slices.DeleteFunc(recs, func(rec *record) bool { return n != rec.Spec.Name })
	}
	sts, err := p.statuses(r.Context(), p.res[r.PathValue("resource_id")], recs)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	out := []Job{}
	now := time.Now()
	for _, rec := range recs {
		st, ok := sts[rec.ID]
		if !ok {
			continue // the backend has forgotten it
		}
		job := &Job{ID: rec.ID, Status: ToIRIStatus(st, now)}
		if withSpec {
			spec := rec.Spec
			job.JobSpec = &spec
		}
		if s, ok := filters["state"].(string); ok && s != string(job.Status.State) {
			continue
		}
		if !historical && StateFinal(job.Status.State) {
			continue
		}
		out = append(out, *job)
	}
	out = out[min(offset, len(out)):]
	p.writeJSON(w, http.StatusOK, out[:min(limit, len(out))])
}

// statuses asks res's backend about recs (compute.StatusesOf); jobs seen
// final before are not asked about again. A job the backend has forgotten
// is absent.
func (p *Provider) statuses(ctx context.Context, res *ProviderResource, recs []*record) (map[string]compute.Status, error) {
	out := make(map[string]compute.Status, len(recs))
	var ask []*record
	p.mu.Lock()
	for _, rec := range recs {
		if st, ok := p.finals[rec.ID]; ok {
			out[rec.ID] = st
		} else {
			ask = append(ask, rec)
		}
	}
	p.mu.Unlock()
	ids := make([]compute.BackendJobID, len(ask))
	for i, rec := range ask {
		ids[i] = rec.BackendID
	}
	sts, err := compute.StatusesOf(ctx, res.Backend, ids)
	if err != nil {
		return nil, err
	}
	for _, rec := range ask {
		if st, ok := sts[rec.BackendID]; ok {
			out[rec.ID] = st
		}
	}
	p.mu.Lock()
	for _, rec := range ask {
		if st, ok := out[rec.ID]; ok && st.State.Final() {
			p.finals[rec.ID] = st
		}
	}
	p.mu.Unlock()
	return out, nil
}

// StateFinal reports whether an IRI job state is final.
func StateFinal(s JobState) bool {
	return s == StateCompleted || s == StateFailed || s == StateCanceled
}

func (p *Provider) cancel(w http.ResponseWriter, r *http.Request, user string) {
	rec := p.lookup(r.PathValue("resource_id"), r.PathValue("job_id"), user)
	if rec == nil {
		p.problem(w, r, http.StatusNotFound, "no such job")
		return
	}
	if err := p.res[rec.Resource].Backend.Cancel(r.Context(), rec.BackendID); err != nil {
		p.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// --- filesystem (view only) and tasks ---

// maxView is the spec's limit on one view.
const maxView = 5242880

// view serves POST /filesystem/view for the standard stream files of the
// caller's own jobs on the resource (read through the backend's Logs), and
// nothing else: the provider is no general file server. The task it
// returns is already complete.
func (p *Provider) view(w http.ResponseWriter, r *http.Request, user string) {
	var req viewRequest
	dec := json.NewDecoder(io.LimitReader(r.Body, 64<<10))
	if err := dec.Decode(&req); err != nil || req.Path == "" {
		p.problem(w, r, http.StatusUnprocessableEntity, "want {\"path\": …, \"size\": …, \"offset\": …}")
		return
	}
	if req.Offset < 0 || req.Size < 0 || req.Size > maxView {
		p.problem(w, r, http.StatusBadRequest, fmt.Sprintf("offset ≥ 0 and size from 1 to %d, please", maxView))
		return
	}
	if req.Size == 0 {
		req.Size = maxView
	}
	p.mu.Lock()
	s, ok := p.streams[filepath.Clean(req.Path)]
	p.mu.Unlock()
	var rec *record
	if ok {
		rec = p.lookup(r.PathValue("resource_id"), s.job, user)
	}
	if rec == nil {
		p.problem(w, r, http.StatusNotFound, "this facility serves only the output files of your jobs")
		return
	}
	task := Task{ID: "", Status: "completed",
		Command: &TaskCommand{Router: "filesystem", Command: "view", Args: map[string]any{"path": req.Path, "size": req.Size, "offset": req.Offset}}}
	rc, err := p.res[rec.Resource].Backend.Logs(r.Context(), rec.BackendID, s.stream, req.Offset)
	if err == nil {
		var data []byte
		data, err = io.ReadAll(io.LimitReader(rc, req.Size))
		rc.Close()
		task.Result, _ = json.Marshal(map[string]string{"output": string(data)})
	}
	if err != nil {
		p.log.Warn("iri provider: view", "job", rec.ID, "err", err)
		task.Status = "failed"
		task.Result, _ = json.Marshal(map[string]string{"error": "reading the file failed: " + errors.SafeMessage(err)})
	}
	var b [12]byte
	rand.Read(b[:])
	task.ID = "t" + hex.EncodeToString(b[:])
	now := time.Now()
	p.mu.Lock()
	for id, t := range p.tasks { // tasks live an hour
		if now.Sub(t.created) > time.Hour {
			delete(p.tasks, id)
		}
	}
	p.tasks[task.ID] = &taskEntry{user: user, task: task, created: now}
	p.mu.Unlock()
	p.writeJSON(w, http.StatusOK, TaskSubmitResponse{TaskID: task.ID, TaskURI: p.base(r) + "/api/v2/task/" + task.ID})
}

func (p *Provider) taskOf(id, user string) *taskEntry {
	p.mu.Lock()
	defer p.mu.Unlock()
	if t := p.tasks[id]; t != nil && t.user == user {
		return t
	}
	return nil
}

func (p *Provider) getTask(w http.ResponseWriter, r *http.Request, user string) {
	t := p.taskOf(r.PathValue("task_id"), user)
	if t == nil {
		p.problem(w, r, http.StatusNotFound, "no such task")
		return
	}
	p.writeJSON(w, http.StatusOK, t.task)
}

func (p *Provider) listTasks(w http.ResponseWriter, r *http.Request, user string) {
	p.mu.Lock()
	var ts []*taskEntry
	for _, t := range p.tasks {
		if t.user == user {
			ts = append(ts, t)
		}
	}
	p.mu.Unlock()
	slices.SortFunc(ts, func(a, b *taskEntry) int { return a.created.Compare(b.created) })
	out := []Task{}
	for _, t := range ts {
		out = append(out, t.task)
	}
	p.writeJSON(w, http.StatusOK, out)
}

func (p *Provider) deleteTask(w http.ResponseWriter, r *http.Request, user string) {
	if p.taskOf(r.PathValue("task_id"), user) == nil {
		p.problem(w, r, http.StatusNotFound, "no such task")
		return
	}
	p.mu.Lock()
	delete(p.tasks, r.PathValue("task_id"))
	p.mu.Unlock()
	p.writeJSON(w, http.StatusOK, "deleted")
}
