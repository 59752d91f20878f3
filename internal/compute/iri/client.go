package iri

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/errors"
)

var _ compute.Backend = (*Client)(nil)

// ClientConfig says how to reach one compute resource of an IRI facility.
type ClientConfig struct {
	// URL is the facility API's base URL, without /api/v2
	// (e.g. https://api.iri.nersc.gov).
	URL string
	// Token is the bearer token sent with every request.
	Token string
	// Resource is the compute resource's ID (the spec's resource_id).
	Resource string
	// Project is sent as X-IRI-Facility-Project for jobs whose spec names
	// no attributes.account. The spec wants the project in exactly one of
	// the two places; with neither, the facility refuses the job.
	Project string
	// HTTPClient defaults to a client with a 30 s timeout.
	HTTPClient *http.Client
}

// Client is a compute.Backend that submits jobs to one resource of an IRI
// facility, and reads the facility's status and allocations. It keeps no
// state that matters: everything is asked of the facility.
type Client struct {
	cfg  ClientConfig
	base string
	hc   *http.Client

	// paths caches jobs' stream paths (a job's spec never changes), which
	// saves Logs a request; cleared when full.
	mu    sync.Mutex
	paths map[compute.BackendJobID][2]string
}

const maxCachedPaths = 4096

// NewClient returns a client; it does not contact the facility.
func NewClient(cfg ClientConfig) (*Client, error) {
	const op errors.Op = "iri.NewClient"
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("url"), errors.Msg("IRI URL: want http(s)://host[:port]"))
	}
	if cfg.Resource == "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("resource"), errors.Msg("IRI resource ID missing"))
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{cfg: cfg, base: strings.TrimRight(cfg.URL, "/") + "/api/v2", hc: hc, paths: map[compute.BackendJobID][2]string{}}, nil
}

// IdempotencyKey is the Idempotency-Key the client sends for a Genesis job
// on a resource: a name-based (version 5) UUID, as the spec asks for a
// UUID, derived from both so that a retry anywhere sends the same key.
func IdempotencyKey(resource string, id compute.JobID) string {
	// Namespace: a fixed random UUID for Genesis job IDs.
	ns := [16]byte{0x6b, 0x1e, 0x5c, 0x3a, 0x0f, 0x2d, 0x4e, 0x91, 0x8a, 0x77, 0x3c, 0x52, 0xd1, 0x0e, 0x9f, 0x64}
	h := sha1.New()
	h.Write(ns[:])
	h.Write([]byte(resource + "\x00" + string(id)))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// inFlightPatience bounds how long Submit retries a 409 (the same key in
// flight); after it, the 409 is returned as errors.Transient.
const inFlightPatience = 2 * time.Minute

// Submit posts the job to POST /compute/job/{resource_id} with an
// Idempotency-Key derived from the Genesis job ID. A 409 (the same key
// still in flight) is retried until ctx ends or for inFlightPatience.
func (c *Client) Submit(ctx context.Context, req compute.Request) (compute.BackendJobID, error) {
	const op errors.Op = "iri.Submit"
	if err := req.Validate(); err != nil {
		return "", errors.E(op, err)
	}
	body, err := json.Marshal(ToIRI(req))
	if err != nil {
		return "", errors.E(op, errors.Internal, err)
	}
	h := http.Header{"Idempotency-Key": {IdempotencyKey(c.cfg.Resource, req.ID)}}
	if req.Spec.Attributes.Account == "" && c.cfg.Project != "" {
		h.Set("X-IRI-Facility-Project", c.cfg.Project)
	}
	var job Job
	giveUp := time.Now().Add(inFlightPatience)
	for wait := 10 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		status, err := c.do(ctx, http.MethodPost, "/compute/job/"+url.PathEscape(c.cfg.Resource), h, body, &job)
		if status != http.StatusConflict || time.Now().After(giveUp) {
			if err != nil {
				return "", errors.E(op, err)
			}
			break
		}
		select {
		case <-ctx.Done():
			return "", errors.E(op, errors.Transient, errors.Msg("IRI submission still in flight"), ctx.Err())
		case <-time.After(wait):
		}
	}
	if job.ID == "" {
		return "", errors.E(op, errors.Internal, errors.Msg("IRI facility returned a job without an id"))
	}
	return compute.BackendJobID(job.ID), nil
}

// Job returns the facility's record of a job (GET /compute/status), with
// its spec when withSpec.
func (c *Client) Job(ctx context.Context, id compute.BackendJobID, withSpec bool) (*Job, error) {
	const op errors.Op = "iri.Job"
	if id == "" {
		return nil, errors.E(op, errors.NotExist, errors.Msg("no such job"))
	}
	q := ""
	if withSpec {
		q = "?include_spec=true"
	}
	var job Job
	if _, err := c.do(ctx, http.MethodGet, "/compute/status/"+url.PathEscape(c.cfg.Resource)+"/"+url.PathEscape(string(id))+q, nil, nil, &job); err != nil {
		return nil, errors.E(op, err)
	}
	return &job, nil
}

// Status reads the job's status and maps it to Genesis's states.
func (c *Client) Status(ctx context.Context, id compute.BackendJobID) (compute.Status, error) {
	const op errors.Op = "iri.Status"
	job, err := c.Job(ctx, id, false)
	if err != nil {
		return compute.Status{}, errors.E(op, err)
	}
	st, err := FromIRIStatus(job.Status)
	if err != nil {
		return compute.Status{}, errors.E(op, err)
	}
	return st, nil
}

// Statuses lists the caller's active jobs on the resource (POST
// /compute/status, listPage at a time) and asks about the rest of ids one
// by one: those have finished since, or the facility has forgotten them.
// (Listing historical jobs too would return every job ever submitted.)
func (c *Client) Statuses(ctx context.Context, ids []compute.BackendJobID) (map[compute.BackendJobID]compute.Status, error) {
	const op errors.Op = "iri.Statuses"
	want := make(map[compute.BackendJobID]bool, len(ids))
	for _, id := range ids {
		want[id] = true
	}
	out := make(map[compute.BackendJobID]compute.Status, len(ids))
	for offset := 0; offset < maxListed; offset += listPage {
		var page []Job
		path := "/compute/status/" + url.PathEscape(c.cfg.Resource) + "?limit=" + strconv.Itoa(listPage) + "&offset=" + strconv.Itoa(offset)
		if _, err := c.do(ctx, http.MethodPost, path, nil, []byte("{}"), &page); err != nil {
			return nil, errors.E(op, err)
		}
		for _, j := range page {
			if id := compute.BackendJobID(j.ID); want[id] {
				st, err := FromIRIStatus(j.Status)
				if err != nil {
					return nil, errors.E(op, err)
				}
				out[id] = st
			}
		}
		if len(page) < listPage {
			break
		}
	}
	var rest []compute.BackendJobID
	for _, id := range ids {
		if _, ok := out[id]; !ok {
			rest = append(rest, id)
		}
	}
	more, err := compute.EachStatus(ctx, c, rest)
	if err != nil {
		return nil, errors.E(op, err)
	}
	maps.Copy(out, more)
	return out, nil
}

// listPage is the spec's largest page; maxListed bounds one listing.
const (
	listPage  = 1000
	maxListed = 100 * listPage
)

var _ compute.StatusLister = (*Client)(nil)

// Cancel calls DELETE /compute/cancel. Cancelling a final job is a no-op
// at the facility.
func (c *Client) Cancel(ctx context.Context, id compute.BackendJobID) error {
	const op errors.Op = "iri.Cancel"
	if id == "" {
		return errors.E(op, errors.NotExist, errors.Msg("no such job"))
	}
	if _, err := c.do(ctx, http.MethodDelete, "/compute/cancel/"+url.PathEscape(c.cfg.Resource)+"/"+url.PathEscape(string(id)), nil, nil, nil); err != nil {
		return errors.E(op, err)
	}
	return nil
}

// viewChunk is how much one filesystem/view task reads (the spec's maximum
// is 5 MiB).
const viewChunk = 4 << 20

// Logs reads a stream through the filesystem API: it finds the stream's
// path in the job's spec (include_spec=true), then reads it with
// POST /filesystem/view/{resource_id} tasks from offset on, chunk by chunk
// as the reader is drained. A file not yet written reads as empty. The view
// result is JSON text, so bytes that are not UTF-8 do not survive.
func (c *Client) Logs(ctx context.Context, id compute.BackendJobID, stream compute.Stream, offset int64) (io.ReadCloser, error) {
	const op errors.Op = "iri.Logs"
	if stream != compute.Stdout && stream != compute.Stderr {
		return nil, errors.E(op, errors.Invalid, errors.Field("stream"), errors.Msg("stream: want stdout or stderr"))
	}
	if offset < 0 {
		return nil, errors.E(op, errors.Invalid, errors.Field("offset"), errors.Msg("offset must not be negative"))
	}
	paths, err := c.streamPaths(ctx, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	path := paths[0]
	if stream == compute.Stderr {
		path = paths[1]
	}
	if path == "" {
		return nil, errors.E(op, errors.Invalid, errors.Msg("the job names no "+string(stream)+" file, so its output cannot be read through the IRI API"))
	}
	r := &viewReader{c: c, ctx: ctx, path: path, offset: offset}
	// Read the first chunk now, so errors surface here and not in Read.
	if err := r.fill(); err != nil {
		return nil, errors.E(op, err)
	}
	return r, nil
}

// streamPaths returns the job's stdout and stderr paths, from its spec.
func (c *Client) streamPaths(ctx context.Context, id compute.BackendJobID) ([2]string, error) {
	c.mu.Lock()
	p, ok := c.paths[id]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	job, err := c.Job(ctx, id, true)
	if err != nil {
		return p, err
	}
	if job.JobSpec != nil {
		p = [2]string{job.JobSpec.StdoutPath, job.JobSpec.StderrPath}
	}
	c.mu.Lock()
	if len(c.paths) >= maxCachedPaths {
		clear(c.paths)
	}
	c.paths[id] = p
	c.mu.Unlock()
	return p, nil
}

// viewReader reads a file chunk by chunk as it is drained. It keeps the
// Logs call's ctx, as sql.Rows does: the reader is that call's result.
type viewReader struct {
	c      *Client
	ctx    context.Context
	path   string
	offset int64
	buf    []byte
	eof    bool
}

func (r *viewReader) fill() error {
	data, err := r.c.View(r.ctx, r.path, r.offset, viewChunk)
	if err != nil {
		return err
	}
	r.buf = data
	r.offset += int64(len(data))
	r.eof = len(data) < viewChunk
	return nil
}

func (r *viewReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *viewReader) Close() error { return nil }

// View reads up to size bytes of a file on the resource from offset, with
// a filesystem/view task. A file that does not exist reads as empty.
func (c *Client) View(ctx context.Context, path string, offset, size int64) ([]byte, error) {
	const op errors.Op = "iri.View"
	body, _ := json.Marshal(viewRequest{Path: path, Size: size, Offset: offset})
	var sub TaskSubmitResponse
	if _, err := c.do(ctx, http.MethodPost, "/filesystem/view/"+url.PathEscape(c.cfg.Resource), nil, body, &sub); err != nil {
		return nil, errors.E(op, err)
	}
	task, err := c.WaitTask(ctx, sub.TaskID)
	if err != nil {
		return nil, errors.E(op, err)
	}
	var res viewResult
	if len(task.Result) > 0 {
		if err := json.Unmarshal(task.Result, &res); err != nil {
			return nil, errors.E(op, errors.Internal, errors.Msg("IRI view task result is not an object"), err)
		}
	}
	if task.Status != "completed" {
		msg := taskError(task.Result)
		if strings.Contains(strings.ToLower(msg), "no such file") {
			return nil, nil
		}
		return nil, errors.E(op, errors.Transient, errors.Msg("IRI view task "+task.Status+": "+truncate(msg)))
	}
	var text string
	if len(res.Output) > 0 && res.Output[0] == '{' {
		var fc struct {
			Content string `json:"content"`
		}
		if err := json.Unmarshal(res.Output, &fc); err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
		text = fc.Content
	} else if len(res.Output) > 0 && string(res.Output) != "null" {
		if err := json.Unmarshal(res.Output, &text); err != nil {
			return nil, errors.E(op, errors.Internal, errors.Msg("IRI view task output is not text"), err)
		}
	}
	return []byte(text), nil
}

func taskError(result json.RawMessage) string {
	var m map[string]any
	if json.Unmarshal(result, &m) == nil {
		for _, k := range []string{"error", "detail", "message", "output"} {
			if s, ok := m[k].(string); ok {
				return s
			}
		}
	}
	return string(result)
}

// WaitTask polls GET /task/{task_id} until the task is no longer pending
// or active.
func (c *Client) WaitTask(ctx context.Context, id string) (*Task, error) {
	const op errors.Op = "iri.WaitTask"
	if id == "" {
		return nil, errors.E(op, errors.Internal, errors.Msg("IRI facility returned a task without an id"))
	}
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 500*time.Millisecond) {
		var t Task
		if _, err := c.do(ctx, http.MethodGet, "/task/"+url.PathEscape(id), nil, nil, &t); err != nil {
			return nil, errors.E(op, err)
		}
		if t.Status != "pending" && t.Status != "active" && t.Status != "" {
			return &t, nil
		}
		select {
		case <-ctx.Done():
			return nil, errors.E(op, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Facility returns GET /facility.
func (c *Client) Facility(ctx context.Context) (*Facility, error) {
	var f Facility
	if _, err := c.do(ctx, http.MethodGet, "/facility", nil, nil, &f); err != nil {
		return nil, errors.E(errors.Op("iri.Facility"), err)
	}
	return &f, nil
}

// Resources returns the facility's resources and their status
// (GET /status/resources).
func (c *Client) Resources(ctx context.Context) ([]Resource, error) {
	var rs []Resource
	if _, err := c.do(ctx, http.MethodGet, "/status/resources", nil, nil, &rs); err != nil {
		return nil, errors.E(errors.Op("iri.Resources"), err)
	}
	return rs, nil
}

// ResourceStatus returns the status of the client's own resource.
func (c *Client) ResourceStatus(ctx context.Context) (*Resource, error) {
	var r Resource
	if _, err := c.do(ctx, http.MethodGet, "/status/resources/"+url.PathEscape(c.cfg.Resource), nil, nil, &r); err != nil {
		return nil, errors.E(errors.Op("iri.ResourceStatus"), err)
	}
	return &r, nil
}

// Incidents returns the facility's incidents (GET /status/incidents).
func (c *Client) Incidents(ctx context.Context) ([]Incident, error) {
	var is []Incident
	if _, err := c.do(ctx, http.MethodGet, "/status/incidents", nil, nil, &is); err != nil {
		return nil, errors.E(errors.Op("iri.Incidents"), err)
	}
	return is, nil
}

// Capabilities returns what allocations are counted in
// (GET /account/capabilities).
func (c *Client) Capabilities(ctx context.Context) ([]Capability, error) {
	var cs []Capability
	if _, err := c.do(ctx, http.MethodGet, "/account/capabilities", nil, nil, &cs); err != nil {
		return nil, errors.E(errors.Op("iri.Capabilities"), err)
	}
	return cs, nil
}

// Projects returns the caller's projects (GET /account/projects).
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	var ps []Project
	if _, err := c.do(ctx, http.MethodGet, "/account/projects", nil, nil, &ps); err != nil {
		return nil, errors.E(errors.Op("iri.Projects"), err)
	}
	return ps, nil
}

// Allocations returns a project's allocations
// (GET /account/projects/{project_id}/project_allocations).
func (c *Client) Allocations(ctx context.Context, project string) ([]ProjectAllocation, error) {
	if project == "" {
		return nil, errors.E(errors.Op("iri.Allocations"), errors.NotExist, errors.Msg("no such project"))
	}
	var as []ProjectAllocation
	if _, err := c.do(ctx, http.MethodGet, "/account/projects/"+url.PathEscape(project)+"/project_allocations", nil, nil, &as); err != nil {
		return nil, errors.E(errors.Op("iri.Allocations"), err)
	}
	return as, nil
}

// maxResponse bounds a response body (a view task carries up to 5 MiB of
// JSON-escaped text).
const maxResponse = 64 << 20

// do sends one request and decodes a 2xx JSON answer into out. It returns
// the HTTP status (0 when there was no answer) and an error whose kind
// follows the status: 404 NotExist; 401 Unauthenticated; 403 Permission;
// 409, 429 and 5xx but 501 Transient; other 4xx and 501 Invalid; the
// facility's problem detail is the message. No answer is Transient.
func (c *Client) do(ctx context.Context, method, path string, h http.Header, body []byte, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return 0, errors.E(errors.Internal, err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, errors.E(errors.Canceled, ctx.Err())
		}
		return 0, errors.E(errors.Transient, errors.Msg("IRI facility unreachable"), err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponse))
	if err != nil {
		return res.StatusCode, errors.E(errors.Transient, errors.Msg("IRI facility: reading the response failed"), err)
	}
	if res.StatusCode/100 == 2 {
		if out != nil && res.StatusCode != http.StatusNoContent {
			if err := json.Unmarshal(data, out); err != nil {
				return res.StatusCode, errors.E(errors.Internal, errors.Msg("IRI facility sent a response that is not the spec's JSON"), err)
			}
		}
		return res.StatusCode, nil
	}
	return res.StatusCode, statusError(res.StatusCode, data)
}

// statusError maps an HTTP error answer to an error kind, keeping the
// facility's problem detail (or title) as the user-safe message.
func statusError(status int, body []byte) error {
	var p Problem
	msg := ""
	if json.Unmarshal(body, &p) == nil {
		msg = p.Detail
		if msg == "" {
			msg = p.Title
		}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	msg = truncateMsg(msg)
	cause := fmt.Errorf("IRI facility answered %d", status)
	var kind errors.Kind
	switch {
	case status == http.StatusNotFound:
		kind = errors.NotExist
	case status == http.StatusUnauthorized:
		kind = errors.Unauthenticated
	case status == http.StatusForbidden:
		kind = errors.Permission
	case status == http.StatusConflict, status == http.StatusTooManyRequests, status >= 500 && status != http.StatusNotImplemented:
		kind = errors.Transient
	case status >= 400:
		kind = errors.Invalid
	default:
		kind = errors.Internal
	}
	return errors.E(kind, errors.Msg("IRI facility: "+msg), cause)
}

func truncateMsg(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 500 {
		return s[:500] + "…"
	}
	return s
}

var _ compute.Prober = (*Client)(nil)

// Probe reads the resource's status from the facility's status API.
func (c *Client) Probe(ctx context.Context) (health, reason string) {
	r, err := c.ResourceStatus(ctx)
	if err != nil {
		return compute.HealthDown, errors.SafeMessage(err)
	}
	switch r.CurrentStatus {
	case StatusUp:
		return compute.HealthUp, ""
	case StatusDegraded:
		return compute.HealthDegraded, "the facility reports " + r.Name + " degraded"
	case StatusDown:
		return compute.HealthDown, "the facility reports " + r.Name + " down"
	default:
		return compute.HealthDegraded, fmt.Sprintf("the facility reports %s status %q", r.Name, r.CurrentStatus)
	}
}
