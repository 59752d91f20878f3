package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/memblob"
	"github.com/genesis-science/genesis/internal/blob/pack"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/console"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/mission/partners"
	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/genesis-science/genesis/internal/mission/report"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

var ctx = context.Background()

// harness is a server on a fresh database, a bootstrap admin, and an
// OpenAPI validator that checks every request and response the test makes.
type harness struct {
	t      *testing.T
	srv    *httpapi.Server
	ts     *httptest.Server
	admin  string
	router routers.Router
	doc    *openapi3.T
	seen   map[string]bool // operations exercised
	seenMu *sync.Mutex     // requests may run at once (replicas_test); shared by copies
	jobs   *jobs.Service
	sites  *sites.Registry
	camp   *campaign.Service
	unix   *http.Client // to the server's Unix socket, as a same-host client

	instruments *instruments.Registry
	ids         *identity.Service
	lib         *library.Service
	db          store.DB
	cat         *catalog.Service
	ix          search.Index
	az          *authz.Authorizer
	reports     *report.Service
}

func newHarness(t *testing.T, db store.DB) *harness {
	t.Helper()
	id := identity.New(db)
	secret, err := id.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	skey, vkey, err := audit.GenerateKey(audit.Origin("test"))
	if err != nil {
		t.Fatal(err)
	}
	signer, verifier, err := audit.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	log, err := audit.Open(ctx, t.TempDir(), audit.Options{Signer: signer, Verifier: verifier, FlushInterval: 5 * time.Millisecond, CheckpointInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	az, err := authz.New(id, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	cat := catalog.New(catalog.Config{DB: db, Blobs: memblob.New(false), Authz: az, Principals: id, Audit: log})
	ix, err := search.New(db)
	if err != nil {
		t.Fatal(err)
	}
	cat.SetSearch(ix)
	reg, err := sites.New(db, az, id, make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	lb, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	js := jobs.New(db, az, id, cat, reg, t.TempDir())
	ins := instruments.New(db, az, id, t.TempDir())
	t.Cleanup(func() { ins.Close() })
	js.Backend = func(context.Context, *sites.Site) (compute.Backend, error) { return lb, nil }
	camp := campaign.New(db, az, id, cat, log)
	camp.SetJobs(campaign.NewJobExecutor(js, id))
	camp.SetFleet(ins)
	camp.WorkDir = t.TempDir()
	lib, err := library.New(library.Config{DB: db, Catalog: cat, Index: ix, Authz: az, Principals: id, Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	ag, err := agent.New(agent.Config{Library: lib, Catalog: cat, Campaigns: camp, Fleet: ins, Audit: log, DB: db, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	reports := report.New(report.Config{Catalog: cat, Jobs: js, Campaigns: camp, Audit: log})
	chs, err := mission.New(mission.Config{DB: db, Authz: az, Identity: id, Catalog: cat, Campaigns: camp, Sites: reg, Fleet: ins, Audit: log})
	if err != nil {
		t.Fatal(err)
	}
	// The mission plan over no sources (internal/app adapts the services;
	// its tests drive them): every check answers not available.
	ms := plan.New(db, log)
	srv := httpapi.New(httpapi.Config{DB: db, Identity: id, Authz: az, AuditLog: log, AuditKey: vkey, Catalog: cat, Sites: reg, Jobs: js, Campaigns: camp, Instruments: ins,
		Literature: lib, Agent: ag, Challenges: chs, Logger: slog.New(slog.DiscardHandler), Mission: ms, Reports: reports, Partners: partners.New(db, az, id, nil),
		Console: console.New(console.Config{DB: db, Identity: id, Catalog: cat})})
	ms.Audit = srv
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	// The same server on a Unix socket, as app.Serve runs it.
	sock := filepath.Join(t.TempDir(), "api.sock")
	uln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	us := &http.Server{Handler: srv, ConnContext: httpapi.PeerConnContext}
	go us.Serve(uln)
	t.Cleanup(func() { us.Close() })
	srv.SetLocalSocket(sock)
	unixClient := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", sock)
	}}}
	doc := loadDoc(t)
	doc.Servers = openapi3.Servers{{URL: ts.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, srv: srv, ts: ts, admin: secret, router: router, doc: doc, seen: map[string]bool{}, seenMu: new(sync.Mutex), jobs: js, sites: reg, camp: camp, unix: unixClient, instruments: ins, ids: id, lib: lib, db: db, cat: cat, ix: ix, az: az, reports: reports}
}

func init() {
	// Graphviz output is text; the validator only needs to read it.
	openapi3filter.RegisterBodyDecoder("text/vnd.graphviz", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
	openapi3filter.RegisterBodyDecoder("application/x-ndjson", func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
}

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	b, err := httpapi.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(b)
	if err != nil {
		t.Fatalf("load OpenAPI document: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Fatalf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("OpenAPI document invalid: %v", err)
	}
	return doc
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r resp) problem(t *testing.T) httpapi.Problem {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("error response Content-Type = %q, body %s", ct, r.body)
	}
	var p httpapi.Problem
	r.decode(t, &p)
	if p.Status != r.status {
		t.Errorf("problem status %d != HTTP status %d", p.Status, r.status)
	}
	return p
}

// do sends a request and validates request and response against the
// OpenAPI document.
func (h *harness) do(method, path, token string, body any, hdr ...string) resp {
	h.t.Helper()
	return h.doWith(h.ts.Client(), method, path, token, body, hdr...)
}

// doUnix is do over the server's Unix socket.
func (h *harness) doUnix(method, path, token string, body any, hdr ...string) resp {
	h.t.Helper()
	return h.doWith(h.unix, method, path, token, body, hdr...)
}

func (h *harness) doWith(c *http.Client, method, path, token string, body any, hdr ...string) resp {
	h.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		raw, _ = json.Marshal(b)
	}
	req, _ := http.NewRequest(method, h.ts.URL+path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	h.validate(req, raw, res, out)
	return resp{res.StatusCode, res.Header, out}
}

// markSeen records that an operation was exercised.
func (h *harness) markSeen(op string) {
	h.seenMu.Lock()
	h.seen[op] = true
	h.seenMu.Unlock()
}

func (h *harness) validate(req *http.Request, reqBody []byte, res *http.Response, resBody []byte) {
	h.t.Helper()
	route, params, err := h.router.FindRoute(req)
	if err != nil {
		if res.StatusCode == 404 || res.StatusCode == 405 || res.StatusCode == 401 {
			return // unknown paths are not in the document, by design
		}
		if strings.Contains(req.URL.Path, "/files/") {
			h.markSeen("GET /api/v1/assets/{name}/versions/{version}/files/{path}")
			return // a nested {path...} has no OpenAPI template
		}
		h.t.Errorf("%s %s: not in the OpenAPI document: %v", req.Method, req.URL.Path, err)
		return
	}
	h.markSeen(route.Method + " " + route.Path)
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	reqOK := openapi3filter.ValidateRequest(ctx, in) == nil
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: res.StatusCode, Header: res.Header,
		Body:    io.NopCloser(bytes.NewReader(resBody)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		h.t.Errorf("%s %s → %d: response does not match the OpenAPI document: %v\nbody: %s", req.Method, req.URL.Path, res.StatusCode, err, resBody)
	}
	// A request the document accepts must not be refused as malformed.
	if reqOK && res.StatusCode == 400 && !strings.Contains(string(resBody), `"field"`) {
		h.t.Errorf("%s %s: valid request refused: %s", req.Method, req.URL.Path, resBody)
	}
}

func TestOpenAPICoversRoutes(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	var documented []string
	for path, item := range h.doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	var routed []string
	for _, r := range h.srv.Routes() {
		// OpenAPI cannot say "the rest of the path"; {path...} is {path}.
		routed = append(routed, strings.ReplaceAll(r, "...}", "}"))
	}
	slices.Sort(documented)
	slices.Sort(routed)
	if !slices.Equal(documented, routed) {
		t.Errorf("routes.go and openapi.yaml disagree:\nrouted:     %v\ndocumented: %v", routed, documented)
	}
}

// TestAPI walks every endpoint on both backends, with each request and
// response checked against the OpenAPI document, and checks the 401/404
// rules.
func TestAPI(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		h := newHarness(t, db)
		admin := h.admin

		if r := h.do("GET", "/healthz", "", nil); r.status != 200 {
			t.Fatalf("healthz = %d", r.status)
		}
		if r := h.do("GET", "/readyz", "", nil); r.status != 200 {
			t.Fatalf("readyz = %d", r.status)
		}
		if r := h.do("GET", "/api/v1/openapi.json", "", nil); r.status != 200 {
			t.Fatalf("openapi.json = %d", r.status)
		}

		// 401: no detail, same for every way of being unauthenticated.
		for _, tok := range []string{"", "gnt_bogus", "not-a-token"} {
			r := h.do("GET", "/api/v1/whoami", tok, nil)
			p := r.problem(t)
			if r.status != 401 || p.Detail != "" || p.Field != "" || p.Kind != "" {
				t.Errorf("token %q: %d %+v; want a bare 401", tok, r.status, p)
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		}
		if r := h.do("GET", "/api/v1/no-such-thing", "", nil); r.status != 401 {
			t.Errorf("unknown path without token = %d, want 401", r.status)
		}

		var who struct{ ID, Name string }
		h.do("GET", "/api/v1/whoami", admin, nil).decode(t, &who)
		if who.Name != "admin" {
			t.Fatalf("whoami = %+v", who)
		}

		r := h.do("POST", "/api/v1/organizations", admin, map[string]any{"name": "ornl", "country": "USA", "kind": "laboratory", "display_name": "Oak Ridge National Laboratory"})
		if r.status != 201 {
			t.Fatalf("create org: %d %s", r.status, r.body)
		}
		if r := h.do("POST", "/api/v1/organizations", admin, map[string]any{"name": "ornl", "country": "USA"}); r.status != 409 {
			t.Errorf("duplicate org = %d", r.status)
		}
		h.do("GET", "/api/v1/organizations", admin, nil)
		if r := h.do("GET", "/api/v1/organizations/ornl", admin, nil); r.status != 200 {
			t.Errorf("get org = %d", r.status)
		}

		r = h.do("POST", "/api/v1/principals", admin, map[string]any{"name": "alice", "org": "ornl", "nationality": "USA", "roles": []string{"contributor"}})
		if r.status != 201 {
			t.Fatalf("create alice: %d %s", r.status, r.body)
		}
		var alice struct{ ID string }
		r.decode(t, &alice)
		h.do("POST", "/api/v1/principals", admin, map[string]any{"name": "bob", "nationality": "GBR"})

		var nt httpapi.CreateTokenResponse
		r = h.do("POST", "/api/v1/principals/alice/tokens", admin, map[string]any{"name": "laptop", "expires_in_seconds": 3600})
		if r.status != 201 {
			t.Fatalf("token for alice: %d %s", r.status, r.body)
		}
		r.decode(t, &nt)
		aliceTok := nt.Secret
		h.do("POST", "/api/v1/principals/bob/tokens", admin, map[string]any{}).decode(t, &nt)
		bobTok := nt.Secret

		// A non-admin: creating principals is forbidden (the route is public
		// knowledge); other principals are invisible (404, same as missing).
		if r := h.do("POST", "/api/v1/principals", aliceTok, map[string]any{"name": "mallory"}); r.status != 403 {
			t.Errorf("alice creates principal = %d", r.status)
		}
		hidden := h.do("GET", "/api/v1/principals/bob", aliceTok, nil)
		missing := h.do("GET", "/api/v1/principals/nobody", aliceTok, nil)
		if hidden.status != 404 || missing.status != 404 {
			t.Errorf("hidden = %d, missing = %d; want 404 both", hidden.status, missing.status)
		}
		if ph, pm := hidden.problem(t), missing.problem(t); ph.Detail != pm.Detail || ph.Kind != pm.Kind || ph.Title != pm.Title {
			t.Errorf("hidden and missing principals differ: %+v vs %+v", ph, pm)
		}
		if r := h.do("POST", "/api/v1/principals/bob/disable", aliceTok, nil); r.status != 404 {
			t.Errorf("alice disables bob = %d, want 404", r.status)
		}
		if r := h.do("POST", "/api/v1/principals/bob/tokens", aliceTok, map[string]any{}); r.status != 404 {
			t.Errorf("alice mints bob a token = %d, want 404", r.status)
		}
		if r := h.do("GET", "/api/v1/principals", aliceTok, nil); r.status != 200 || strings.Contains(string(r.body), "bob") {
			t.Errorf("alice lists principals: %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/principals/alice", aliceTok, nil); r.status != 200 {
			t.Errorf("alice reads herself = %d", r.status)
		}

		// Projects.
		r = h.do("POST", "/api/v1/projects", aliceTok, map[string]any{"name": "fusion-ml", "title": "Fusion surrogate models"})
		if r.status != 201 {
			t.Fatalf("create project: %d %s", r.status, r.body)
		}
		hidden = h.do("GET", "/api/v1/projects/fusion-ml", bobTok, nil)
		missing = h.do("GET", "/api/v1/projects/no-such", bobTok, nil)
		if hidden.status != 404 || missing.status != 404 || string(stripID(hidden.body)) != string(stripID(missing.body)) {
			t.Errorf("hidden project %d %s vs missing %d %s", hidden.status, hidden.body, missing.status, missing.body)
		}
		if r := h.do("GET", "/api/v1/projects/fusion-ml/members", bobTok, nil); r.status != 404 {
			t.Errorf("non-member lists members = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/projects/fusion-ml/members", aliceTok, map[string]any{"principal": "bob", "role": "viewer"}); r.status != 201 {
			t.Fatalf("add member: %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/projects/fusion-ml", bobTok, nil); r.status != 200 {
			t.Errorf("member reads project = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/projects/fusion-ml/members", bobTok, map[string]any{"principal": "bob", "role": "admin"}); r.status != 403 {
			t.Errorf("viewer promotes himself = %d", r.status)
		}
		h.do("GET", "/api/v1/projects/fusion-ml/members", aliceTok, nil)
		h.do("GET", "/api/v1/projects", bobTok, nil)

		// Tokens.
		r = h.do("POST", "/api/v1/tokens", aliceTok, map[string]any{"name": "second"})
		r.decode(t, &nt)
		var toks httpapi.List[struct{ ID string }]
		h.do("GET", "/api/v1/tokens", aliceTok, nil).decode(t, &toks)
		if len(toks.Items) != 2 {
			t.Errorf("alice has %d tokens", len(toks.Items))
		}
		if r := h.do("DELETE", "/api/v1/tokens/"+string(nt.Token.ID), bobTok, nil); r.status != 404 {
			t.Errorf("bob revokes alice's token = %d", r.status)
		}
		if r := h.do("DELETE", "/api/v1/tokens/"+string(nt.Token.ID), aliceTok, nil); r.status != 204 {
			t.Errorf("revoke = %d", r.status)
		}
		if r := h.do("GET", "/api/v1/whoami", nt.Secret, nil); r.status != 401 {
			t.Errorf("revoked token = %d", r.status)
		}

		// Clearances and agreements.
		if r := h.do("POST", "/api/v1/principals/alice/clearance", aliceTok, map[string]any{"clearance": "NATIONAL-SECURITY"}); r.status != 403 {
			t.Errorf("alice raises her own clearance = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/compartments", admin, map[string]any{"name": "FUSION"}); r.status != 201 {
			t.Fatalf("register compartment = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/compartments", admin, nil); r.status != 200 || !strings.Contains(string(r.body), `"FUSION"`) {
			t.Errorf("list compartments = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/compartments", aliceTok, nil); r.status != 403 {
			t.Errorf("alice lists compartments = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/principals/alice/clearance", admin, map[string]any{"clearance": "PROPRIETARY//FUSION"}); r.status != 200 || !strings.Contains(string(r.body), `"clearance":"PROPRIETARY//FUSION"`) {
			t.Errorf("set clearance = %d %s", r.status, r.body)
		}
		if r := h.do("POST", "/api/v1/principals/alice/clearance", admin, map[string]any{"clearance": "SECRETISH"}); r.status != 400 || r.problem(t).Field != "clearance" {
			t.Errorf("bad clearance = %d %s", r.status, r.body)
		}
		// Organisation and roles: administrators only; others see only
		// themselves (anyone else is not found).
		if r := h.do("PATCH", "/api/v1/principals/alice", aliceTok, map[string]any{"roles": []string{"admin"}}); r.status != 403 {
			t.Errorf("alice makes herself admin = %d %s", r.status, r.body)
		}
		if r := h.do("PATCH", "/api/v1/principals/bob", aliceTok, map[string]any{"roles": []string{"viewer"}}); r.status != 404 {
			t.Errorf("alice changes bob = %d %s", r.status, r.body)
		}
		if r := h.do("PATCH", "/api/v1/principals/alice", admin, map[string]any{"roles": []string{"wizard"}}); r.status != 400 || r.problem(t).Field != "roles" {
			t.Errorf("unknown role = %d %s", r.status, r.body)
		}
		if r := h.do("PATCH", "/api/v1/principals/alice", admin, map[string]any{"roles": []string{"contributor", "steward"}, "org": "ornl"}); r.status != 200 || !strings.Contains(string(r.body), `"roles":["contributor","steward"]`) {
			t.Errorf("update alice = %d %s", r.status, r.body)
		}
		if r := h.do("PATCH", "/api/v1/principals/alice", admin, map[string]any{"roles": []string{"contributor"}}); r.status != 200 || !strings.Contains(string(r.body), `"roles":["contributor"]`) {
			t.Errorf("restore alice = %d %s", r.status, r.body)
		}
		agr := map[string]any{"id": "CRADA-0042", "type": "CRADA", "title": "Fusion materials", "parties": []string{"ornl"},
			"not_before": "2026-01-01T00:00:00Z", "not_after": "2036-01-01T00:00:00Z", "compartments": []string{"FUSION"}, "ip_terms": "joint ownership"}
		if r := h.do("POST", "/api/v1/agreements", aliceTok, agr); r.status != 403 {
			t.Errorf("alice records an agreement = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/agreements", admin, agr); r.status != 201 {
			t.Fatalf("create agreement = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/agreements", aliceTok, nil); !strings.Contains(string(r.body), "CRADA-0042") {
			t.Errorf("party member does not see the agreement: %s", r.body)
		}
		if r := h.do("GET", "/api/v1/agreements/CRADA-0042", bobTok, nil); r.status != 404 {
			t.Errorf("outsider reads agreement = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/agreements/CRADA-0042/end", aliceTok, nil); r.status != 403 {
			t.Errorf("party ends agreement = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/agreements/CRADA-0042/end", admin, nil); r.status != 200 || !strings.Contains(string(r.body), `"in_force":false`) {
			t.Errorf("end agreement = %d %s", r.status, r.body)
		}

		// The policy: read, tested, replaced only when valid.
		var pv struct {
			Version int64
			Source  string
		}
		if r := h.do("GET", "/api/v1/policy", aliceTok, nil); r.status != 403 {
			t.Errorf("contributor reads policy = %d", r.status)
		}
		h.do("GET", "/api/v1/policy", admin, nil).decode(t, &pv)
		if pv.Version != 0 || !strings.Contains(pv.Source, "permit") {
			t.Fatalf("default policy = %d %q", pv.Version, pv.Source[:min(len(pv.Source), 80)])
		}
		cases, err := os.ReadFile("../authz/testdata/cases.yaml")
		if err != nil {
			t.Fatal(err)
		}
		var tr httpapi.TestPolicyResponse
		h.do("POST", "/api/v1/policy/test", admin, map[string]any{"cases": string(cases)}).decode(t, &tr)
		if tr.Failed != 0 || tr.Passed < 10 {
			t.Errorf("policy cases on the active policy: %d passed, %d failed", tr.Passed, tr.Failed)
		}
		// A candidate that permits nothing fails the cases that expect allow.
		h.do("POST", "/api/v1/policy/test", admin, map[string]any{"cases": string(cases), "source": "@id(\"admins\") permit (principal, action, resource) when { principal.roles.contains(\"admin\") };"}).decode(t, &tr)
		if tr.Failed == 0 {
			t.Error("a policy that permits only admins passed every case")
		}
		// Too deep for the parser: refused before it, in words for the user
		// (no internal operation names).
		deep := "permit (principal, action, resource) when { " + strings.Repeat("(", 100) + "true" + strings.Repeat(")", 100) + " };"
		if r := h.do("POST", "/api/v1/policy/test", admin, map[string]any{"cases": string(cases), "source": deep}); r.status != 400 || r.problem(t).Field != "source" ||
			strings.Contains(r.problem(t).Detail, "authz.") || !strings.Contains(r.problem(t).Detail, "nest") {
			t.Errorf("a too-deep candidate policy = %d %s", r.status, r.body)
		}
		if r := h.do("PUT", "/api/v1/policy", admin, map[string]any{"source": "permit (principal, action, resource) when { principal.nope };"}); r.status != 400 || r.problem(t).Field != "source" {
			t.Errorf("invalid policy = %d %s", r.status, r.body)
		}
		if r := h.do("PUT", "/api/v1/policy", aliceTok, map[string]any{"source": pv.Source}); r.status != 403 {
			t.Errorf("contributor replaces policy = %d", r.status)
		}
		if r := h.do("PUT", "/api/v1/policy", admin, map[string]any{"source": pv.Source}); r.status != 200 {
			t.Errorf("replace policy = %d %s", r.status, r.body)
		}
		h.do("GET", "/api/v1/policy", admin, nil).decode(t, &pv)
		if pv.Version != 1 {
			t.Errorf("policy version after replace = %d", pv.Version)
		}

		// The audit log: every mutation so far is on it; alice reads only
		// her own records; proofs verify against the signed checkpoint.
		var cp httpapi.AuditCheckpoint
		for deadline := time.Now().Add(10 * time.Second); ; {
			h.do("GET", "/api/v1/audit/checkpoint", aliceTok, nil).decode(t, &cp)
			if cp.Size >= 20 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if cp.Size < 20 || !strings.Contains(cp.Signed, cp.Origin) {
			t.Fatalf("checkpoint = %+v", cp)
		}
		// The same log in the C2SP tlog-tiles layout, for witnesses: a
		// signed checkpoint of the same origin, at least as large, and no
		// entry bundle (raw records would bypass the read rule above).
		if r := h.do("GET", "/api/v1/audit/tlog/checkpoint", aliceTok, nil); r.status != 200 || !strings.HasPrefix(string(r.body), cp.Origin+"\n") {
			t.Errorf("tlog checkpoint = %d %q", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/audit/tlog/tile/entries/000.p/1", aliceTok, nil); r.status != 404 {
			t.Errorf("tlog entry bundle = %d %s, want 404", r.status, r.body)
		}
		var all, mine httpapi.AuditEntries
		h.do("GET", "/api/v1/audit/entries?from=0&limit=1000", admin, nil).decode(t, &all)
		h.do("GET", "/api/v1/audit/entries?from=0&limit=1000", aliceTok, nil).decode(t, &mine)
		if len(all.Items) < 20 || len(mine.Items) == 0 || len(mine.Items) >= len(all.Items) {
			t.Errorf("admin sees %d entries, alice %d", len(all.Items), len(mine.Items))
		}
		var sawDeny, sawCreate bool
		for _, e := range all.Items {
			sawDeny = sawDeny || (e.Decision == "deny" && e.Principal != "")
			sawCreate = sawCreate || e.Action == "POST /api/v1/agreements" && e.ObjectID == "CRADA-0042" && e.Decision == "allow"
		}
		if !sawDeny || !sawCreate {
			t.Errorf("missing records: deny %v, agreement create %v", sawDeny, sawCreate)
		}
		for _, e := range mine.Items {
			if e.Principal != alice.ID {
				t.Errorf("alice reads someone else's record %+v", e)
			}
		}
		var pr httpapi.AuditProof
		if r := h.do("GET", "/api/v1/audit/entries/0/proof", admin, nil); r.status != 200 {
			t.Errorf("proof = %d %s", r.status, r.body)
		} else {
			r.decode(t, &pr)
			if len(pr.Proof) == 0 || pr.Entry.Index != 0 {
				t.Errorf("proof = %+v", pr)
			}
		}
		if r := h.do("GET", "/api/v1/audit/entries/999999/proof", admin, nil); r.status != 404 {
			t.Errorf("proof beyond the log = %d", r.status)
		}
		if r := h.do("GET", "/api/v1/audit/entries?limit=0", admin, nil); r.status != 400 {
			t.Errorf("limit=0 = %d", r.status)
		}

		// Datasets: the transfer protocol, end to end over HTTP.
		if r := h.do("POST", "/api/v1/datasets", aliceTok, map[string]any{"name": "shots", "label": "PROPRIETARY//FUSION", "title": "Shots"}); r.status != 201 {
			t.Fatalf("create dataset = %d %s", r.status, r.body)
		}
		// To bob, a compartment he is not read into is exactly as unknown
		// as a missing one (compartment.CheckFor).
		if r := h.do("POST", "/api/v1/datasets", bobTok, map[string]any{"name": "x", "label": "PROPRIETARY//FUSION"}); r.status != 400 || !strings.Contains(string(r.body), "unknown compartment") {
			t.Errorf("uncleared create = %d %s", r.status, r.body)
		}
		local := memblob.New(false)
		src := t.TempDir()
		os.WriteFile(src+"/a.txt", []byte("alpha\n"), 0o644)
		os.WriteFile(src+"/big.bin", bytes.Repeat([]byte("0123456789"), 300000), 0o644)
		srcs, _ := pack.Sources([]string{src}, nil)
		res, err := pack.Pack(ctx, local, srcs, pack.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, id := range append(res.Manifest.ChunkIDs(), res.ID) {
			ids = append(ids, id.String())
		}
		var miss httpapi.MissingResponse
		h.do("POST", "/api/v1/assets/shots/chunks/missing", aliceTok, map[string]any{"ids": ids}).decode(t, &miss)
		if len(miss.Missing) != len(ids) {
			t.Errorf("missing = %d of %d", len(miss.Missing), len(ids))
		}
		for _, s := range miss.Missing {
			id, _ := blob.ParseID(s)
			b, _ := local.Get(ctx, id, 0, -1)
			if r := h.do("PUT", "/api/v1/assets/shots/chunks/"+s, aliceTok, b, "Content-Type", "application/octet-stream"); r.status != 204 {
				t.Fatalf("put chunk = %d %s", r.status, r.body)
			}
		}
		h.do("POST", "/api/v1/assets/shots/chunks/missing", aliceTok, map[string]any{"ids": ids}).decode(t, &miss)
		if len(miss.Missing) != 0 {
			t.Errorf("still missing %d", len(miss.Missing))
		}
		if r := h.do("PUT", "/api/v1/assets/shots/chunks/"+ids[0], aliceTok, []byte("not it"), "Content-Type", "application/octet-stream"); r.status != 400 {
			t.Errorf("mismatched chunk = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/assets/shots/versions", aliceTok, map[string]any{"manifest": res.ID.String(), "message": "m", "parent": 0}); r.status != 201 {
			t.Fatalf("commit = %d %s", r.status, r.body)
		}

		// Same-host puts: the socket is offered to loopback clients; over
		// it the server packs the caller's files itself, to the very
		// manifest the client would have made.
		var li httpapi.LocalInfo
		if r := h.do("GET", "/api/v1/local", aliceTok, nil); r.status != 200 {
			t.Fatalf("local info = %d %s", r.status, r.body)
		} else if r.decode(t, &li); li.Socket == "" || li.Instance == "" || li.LocalPut {
			t.Fatalf("local info over TCP = %+v", li)
		}
		var viaSock httpapi.LocalInfo
		if r := h.doUnix("GET", "/api/v1/local", aliceTok, nil); r.status != 200 {
			t.Fatalf("local info over the socket = %d %s", r.status, r.body)
		} else if r.decode(t, &viaSock); viaSock.Instance != li.Instance || !viaSock.LocalPut {
			t.Fatalf("local info over the socket = %+v, over TCP %+v", viaSock, li)
		}
		putReq := map[string]any{"sources": []map[string]any{{"name": "", "path": src}}, "message": "local", "parent": 1}
		if r := h.do("POST", "/api/v1/assets/shots/local-put", aliceTok, putReq); r.status != 404 {
			t.Errorf("local put over TCP = %d %s", r.status, r.body)
		}
		if r := h.doUnix("POST", "/api/v1/assets/shots/local-put", bobTok, putReq); r.status != 404 && r.status != 403 {
			t.Errorf("local put by a reader who may not write = %d %s", r.status, r.body)
		}
		if r := h.doUnix("POST", "/api/v1/assets/shots/local-put", aliceTok, map[string]any{"sources": []map[string]any{{"name": "x", "path": "rel/path"}}}); r.status != 400 {
			t.Errorf("relative local put path = %d %s", r.status, r.body)
		}
		os.WriteFile(src+"/b.txt", []byte("beta\n"), 0o644)
		var lp httpapi.LocalPutResponse
		if r := h.doUnix("POST", "/api/v1/assets/shots/local-put", aliceTok, putReq); r.status != 201 {
			t.Fatalf("local put = %d %s", r.status, r.body)
		} else {
			r.decode(t, &lp)
		}
		want, err := pack.Pack(ctx, memblob.New(false), srcs, pack.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if lp.Version == nil || lp.Version.Version != 2 || lp.Version.Manifest != want.ID.String() || lp.Version.FileCount != 3 || lp.NewChunks == 0 || lp.NewChunks >= lp.Chunks+1 {
			t.Errorf("local put = %+v (version %+v); want version 2 with manifest %s", lp, lp.Version, want.ID)
		}
		// Streamed: progress lines, then the result; a failure after the
		// stream began is its last line.
		os.WriteFile(src+"/c.txt", []byte("gamma\n"), 0o644)
		putReq["parent"] = 2
		if r := h.doUnix("POST", "/api/v1/assets/shots/local-put", aliceTok, putReq, "Accept", "application/x-ndjson"); r.status != 200 || r.header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("streamed local put = %d %s %s", r.status, r.header.Get("Content-Type"), r.body)
		} else {
			lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
			var last httpapi.LocalPutEvent
			json.Unmarshal([]byte(lines[len(lines)-1]), &last)
			if last.Result == nil || last.Result.Version.Version != 3 || last.Result.Version.FileCount != 4 {
				t.Fatalf("streamed local put ended with %s", lines[len(lines)-1])
			}
		}
		putReq["parent"] = 1 // stale: the commit is refused, after packing
		if r := h.doUnix("POST", "/api/v1/assets/shots/local-put", aliceTok, putReq, "Accept", "application/x-ndjson"); r.status != 200 {
			t.Fatalf("streamed stale local put = %d %s", r.status, r.body)
		} else {
			lines := strings.Split(strings.TrimSpace(string(r.body)), "\n")
			var last httpapi.LocalPutEvent
			json.Unmarshal([]byte(lines[len(lines)-1]), &last)
			if last.Problem == nil || last.Problem.Status != 409 || last.Result != nil {
				t.Fatalf("streamed stale local put ended with %s", lines[len(lines)-1])
			}
		}

		// A peer running as another OS user does not see the request.
		rq := httptest.NewRequest("POST", "/api/v1/assets/shots/local-put", strings.NewReader(`{"sources":[{"name":"","path":"/"}]}`))
		rq = rq.WithContext(httpapi.WithPeer(rq.Context(), httpapi.PeerCred{UID: os.Getuid() + 1}))
		rq.Header.Set("Authorization", "Bearer "+aliceTok)
		rq.Header.Set("Content-Type", "application/json")
		rw := httptest.NewRecorder()
		h.srv.ServeHTTP(rw, rq)
		if rw.Code != 404 {
			t.Errorf("local put from another OS user = %d %s", rw.Code, rw.Body)
		}
		h.do("GET", "/api/v1/datasets", aliceTok, nil)
		h.do("GET", "/api/v1/assets/shots", aliceTok, nil)
		h.do("GET", "/api/v1/assets/shots/versions", aliceTok, nil)
		if r := h.do("GET", "/api/v1/assets/shots/versions/latest", aliceTok, nil); r.status != 200 {
			t.Errorf("latest version = %d", r.status)
		}
		if r := h.do("GET", "/api/v1/assets/shots/versions/1/manifest", aliceTok, nil); r.status != 200 || !strings.HasPrefix(string(r.body), "genesis-manifest") {
			t.Errorf("manifest = %d %.40s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/assets/shots/chunks/"+ids[0], aliceTok, nil); r.status != 200 {
			t.Errorf("get chunk = %d", r.status)
		}
		if r := h.do("GET", "/api/v1/assets/shots/versions/1/files/big.bin", aliceTok, nil, "Range", "bytes=1000000-1000009"); r.status != 206 || string(r.body) != "0123456789" {
			t.Errorf("range = %d %q", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/assets/shots/versions/1/files/a.txt", aliceTok, nil); r.status != 200 || string(r.body) != "alpha\n" {
			t.Errorf("file = %d %q", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/assets/shots/versions/1/files/a.txt", bobTok, nil); r.status != 404 {
			t.Errorf("uncleared file read = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/assets/shots/label", aliceTok, map[string]any{"label": "OPEN"}); r.status != 400 {
			t.Errorf("lowering = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/assets/shots/label", aliceTok, map[string]any{"label": "PROPRIETARY//FUSION/ITAR"}); r.status != 400 || !strings.Contains(string(r.body), "unknown compartment") {
			t.Errorf("alice (no ITAR) raises beyond her clearance = %d %s", r.status, r.body)
		}

		// Models: the label is computed from the training data.
		if r := h.do("POST", "/api/v1/models", aliceTok, map[string]any{"name": "surrogate", "trained_on": []string{"shots@1"}, "label_floor": "OPEN"}); r.status != 200 || !strings.Contains(string(r.body), `"label":"PROPRIETARY//FUSION"`) {
			t.Errorf("register model = %d %s", r.status, r.body)
		}
		if r := h.do("POST", "/api/v1/models", bobTok, map[string]any{"name": "m2", "trained_on": []string{"shots@1"}}); r.status != 400 {
			t.Errorf("model trained on data bob cannot read = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/models", aliceTok, nil); !strings.Contains(string(r.body), "surrogate") {
			t.Errorf("models = %s", r.body)
		}

		// Metadata: import, read, set, export, extension schemas.
		doc, err := os.ReadFile("../catalog/meta/testdata/noaa-nasa-data.json")
		if err != nil {
			t.Fatal(err)
		}
		var isum catalog.ImportSummary
		r = h.do("POST", "/api/v1/catalog/import?format=auto&label=OPEN", aliceTok, doc, "Content-Type", "application/octet-stream")
		if r.status != 200 {
			t.Fatalf("import = %d %s", r.status, r.body)
		}
		r.decode(t, &isum)
		if len(isum.Imported) == 0 {
			t.Fatalf("imported nothing: %s", r.body)
		}
		first := isum.Imported[0].Asset
		var md catalog.Metadata
		h.do("GET", "/api/v1/assets/"+first+"/metadata", bobTok, nil).decode(t, &md)
		if md.Core.Title == "" {
			t.Errorf("metadata = %+v", md)
		}
		if r := h.do("PUT", "/api/v1/assets/"+first+"/metadata", aliceTok, map[string]any{"core": md.Core}); r.status != 200 {
			t.Errorf("set metadata = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/assets/"+first+"/metadata/export?format=datacite", bobTok, nil); r.status != 200 {
			t.Errorf("export = %d %s", r.status, r.body)
		}
		// Search: what bob may not read does not exist for him.
		var sr search.Result
		h.do("GET", "/api/v1/search?q="+strings.Fields(md.Core.Title)[0]+"&limit=5", bobTok, nil).decode(t, &sr)
		if sr.Total == 0 {
			t.Errorf("search finds nothing: %+v", sr)
		}
		h.do("GET", "/api/v1/search?q=shots", bobTok, nil).decode(t, &sr)
		for _, hit := range sr.Hits {
			if hit.Name == "shots" {
				t.Errorf("bob finds the labelled dataset: %+v", sr)
			}
		}
		h.do("GET", "/api/v1/search?q=shots&keyword=a&keyword=b&kind=dataset", aliceTok, nil)
		if r := h.do("GET", "/api/v1/search/suggest?prefix=sh", aliceTok, nil); r.status != 200 {
			t.Errorf("suggest = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/search?limit=0", aliceTok, nil); r.status != 400 {
			t.Errorf("limit=0 = %d", r.status)
		}
		if r := h.do("PUT", "/api/v1/extension-schemas/fusion-shot", admin, map[string]any{"type": "object"}); r.status != 204 {
			t.Errorf("register schema = %d %s", r.status, r.body)
		}
		if r := h.do("POST", "/api/v1/catalog/import?label=OPEN", aliceTok, []byte("{nope"), "Content-Type", "application/octet-stream"); r.status != 400 {
			t.Errorf("garbage import = %d", r.status)
		}

		// Sites and inventory.
		site := map[string]any{"name": "polaris", "kind": "slurm", "endpoint": "https://polaris.example.gov", "credentials": "s3cret-token",
			"accreditation": "PROPRIETARY", "capacity": map[string]any{"nodes": 10, "cores_per_node": 32, "memory_gb_per_node": 512,
				"gpus_per_node": []map[string]any{{"model": "A100", "count": 4}}}, "power_cap_kw": 800, "heartbeat_seconds": 30}
		if r := h.do("POST", "/api/v1/sites", aliceTok, site); r.status != 403 {
			t.Errorf("contributor adds a site = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/sites", admin, site); r.status != 201 || strings.Contains(string(r.body), "s3cret") {
			t.Fatalf("add site = %d %s", r.status, r.body)
		}
		h.do("POST", "/api/v1/sites/polaris/heartbeat", admin, map[string]any{"status": "up", "power_draw_kw": 500})
		if r := h.do("GET", "/api/v1/sites", aliceTok, nil); !strings.Contains(string(r.body), `"status":"up"`) || strings.Contains(string(r.body), "s3cret") {
			t.Errorf("sites = %s", r.body)
		}
		h.do("GET", "/api/v1/sites/polaris", aliceTok, nil)
		if r := h.do("GET", "/api/v1/inventory", aliceTok, nil); !strings.Contains(string(r.body), `"A100":40`) {
			t.Errorf("inventory = %s", r.body)
		}
		h.do("POST", "/api/v1/sites/polaris/drain", admin, map[string]any{"reason": "maintenance"})
		// Credentials rotate; only operators may, and they are never shown.
		if r := h.do("PUT", "/api/v1/sites/polaris/credentials", aliceTok, map[string]any{"credentials": "rotated-token"}); r.status != 403 {
			t.Errorf("contributor rotates credentials = %d %s", r.status, r.body)
		}
		if r := h.do("PUT", "/api/v1/sites/polaris/credentials", admin, map[string]any{"credentials": "rotated-token"}); r.status != 200 || strings.Contains(string(r.body), "rotated") || !strings.Contains(string(r.body), `"has_credentials":true`) {
			t.Errorf("rotate credentials = %d %s", r.status, r.body)
		}
		if c, err := h.sites.Credentials(ctx, "polaris"); err != nil || c != "rotated-token" {
			t.Errorf("credentials after rotation = %q, %v", c, err)
		}
		if r := h.do("PUT", "/api/v1/sites/nowhere/credentials", admin, map[string]any{"credentials": "x"}); r.status != 404 {
			t.Errorf("rotate on a missing site = %d", r.status)
		}
		if r := h.do("DELETE", "/api/v1/sites/polaris", admin, nil); r.status != 204 {
			t.Errorf("remove = %d", r.status)
		}

		// Jobs: submit (JSON), follow, logs, explain, cancel.
		h.do("POST", "/api/v1/sites", admin, map[string]any{"name": "box", "kind": "local", "accreditation": "OPEN",
			"capacity": map[string]any{"nodes": 1, "cores_per_node": 2, "memory_gb_per_node": 4}})
		var job struct{ ID, State, Label string }
		r = h.do("POST", "/api/v1/jobs", aliceTok, map[string]any{"executable": "/bin/echo", "arguments": []string{"hello from a job"}, "attributes": map[string]any{"duration": "1m"}})
		if r.status != 201 {
			t.Fatalf("submit = %d %s", r.status, r.body)
		}
		r.decode(t, &job)
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && job.State != "completed"; {
			h.jobs.Step(ctx)
			h.do("GET", "/api/v1/jobs/"+job.ID, aliceTok, nil).decode(t, &job)
			time.Sleep(20 * time.Millisecond)
		}
		if job.State != "completed" {
			t.Fatalf("job = %+v", job)
		}
		if r := h.do("GET", "/api/v1/jobs/"+job.ID+"/logs?stream=stdout", aliceTok, nil); !strings.Contains(string(r.body), "hello from a job") {
			t.Errorf("logs = %d %q", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/jobs/"+job.ID+"/explain", aliceTok, nil); !strings.Contains(string(r.body), `"chosen":true`) {
			t.Errorf("explain = %s", r.body)
		}
		h.do("POST", "/api/v1/jobs/"+job.ID+"/cancel", aliceTok, nil)
		if r := h.do("POST", "/api/v1/allocations", admin, map[string]any{"project": "fusion-ml", "site": "box", "node_hours": 100}); r.status != 200 {
			t.Errorf("set allocation = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/allocations?project=fusion-ml", aliceTok, nil); !strings.Contains(string(r.body), `"node_hours":100`) {
			t.Errorf("allocations = %s", r.body)
		}
		h.do("GET", "/api/v1/jobs", aliceTok, nil)
		if r := h.do("POST", "/api/v1/jobs", aliceTok, map[string]any{"executable": "/bin/true", "bogus": 1}); r.status != 400 {
			t.Errorf("unknown field = %d %s", r.status, r.body)
		}
		if r := h.do("POST", "/api/v1/jobs", aliceTok, map[string]any{"executable": "/bin/true", "inputs": []string{"shots@1"}, "attributes": map[string]any{"duration": "1m"}}); r.status != 201 || !strings.Contains(string(r.body), "PROPRIETARY//FUSION") {
			t.Errorf("job label not computed from its input: %d %s", r.status, r.body)
		}

		// Maintenance.
		if r := h.do("POST", "/api/v1/admin/fsck", aliceTok, map[string]any{}); r.status != 403 {
			t.Errorf("non-admin fsck = %d", r.status)
		}
		if r := h.do("POST", "/api/v1/admin/fsck", admin, map[string]any{"quick": false}); r.status != 200 || !strings.Contains(string(r.body), `"problems":[]`) {
			t.Errorf("fsck = %d %s", r.status, r.body)
		}
		if r := h.do("POST", "/api/v1/admin/gc", admin, map[string]any{"dry_run": true}); r.status != 200 || !strings.Contains(string(r.body), `"deleted":0`) {
			t.Errorf("gc = %d %s", r.status, r.body)
		}

		// Declassification through the API: request by one officer,
		// approval by another.
		var co [2]string
		for i, n := range []string{"co1", "co2"} {
			h.do("POST", "/api/v1/principals", admin, map[string]any{"name": n, "roles": []string{"classification-officer"}, "clearance": "PROPRIETARY//FUSION"})
			h.do("POST", "/api/v1/principals/"+n+"/tokens", admin, map[string]any{}).decode(t, &nt)
			co[i] = nt.Secret
		}
		var rel catalog.Release
		r = h.do("POST", "/api/v1/assets/shots/releases", co[0], map[string]any{"to_label": "OPEN", "justification": "published with the paper"})
		if r.status != 201 {
			t.Fatalf("request release = %d %s", r.status, r.body)
		}
		r.decode(t, &rel)
		if r := h.do("POST", "/api/v1/releases/"+rel.ID+"/approve", co[0], nil); r.status != 403 {
			t.Errorf("self-approval = %d", r.status)
		}
		h.do("GET", "/api/v1/releases", co[1], nil)
		h.do("GET", "/api/v1/releases/"+rel.ID, co[1], nil)
		if r := h.do("POST", "/api/v1/releases/"+rel.ID+"/approve", co[1], nil); r.status != 200 {
			t.Errorf("approve = %d %s", r.status, r.body)
		}
		if r := h.do("POST", "/api/v1/releases/"+rel.ID+"/reject", co[1], nil); r.status != 409 {
			t.Errorf("reject after approve = %d", r.status)
		}
		if r := h.do("GET", "/api/v1/assets/shots/versions/latest/files/a.txt", bobTok, nil); r.status != 200 {
			t.Errorf("bob reads the released version = %d", r.status)
		}
		if r := h.do("GET", "/api/v1/assets/shots/versions/1/files/a.txt", bobTok, nil); r.status != 404 {
			t.Errorf("bob reads the original version = %d", r.status)
		}
		// The version list agrees with the versions one by one: bob is
		// shown only the released version, and nothing in it names the
		// original (its parent, the release, its message).
		var bobsVersions httpapi.List[catalog.Version]
		r = h.do("GET", "/api/v1/assets/shots/versions", bobTok, nil)
		r.decode(t, &bobsVersions)
		if len(bobsVersions.Items) != 1 || bobsVersions.Items[0].Parent != nil || strings.Contains(string(r.body), rel.ID) {
			t.Errorf("bob's version list = %s", r.body)
		}
		for _, v := range bobsVersions.Items {
			if one := h.do("GET", "/api/v1/assets/shots/versions/"+strconv.FormatInt(v.Version, 10), bobTok, nil); one.status != 200 {
				t.Errorf("listed version %d = %d", v.Version, one.status)
			}
		}
		for _, path := range []string{"/api/v1/assets/shots", "/api/v1/assets/shots/versions/latest", "/api/v1/releases"} {
			if r := h.do("GET", path, bobTok, nil); strings.Contains(string(r.body), rel.ID) {
				t.Errorf("bob's GET %s names the release: %s", path, r.body)
			}
		}
		// The released version's lineage cites the release.
		if r := h.do("GET", "/api/v1/assets/shots/lineage?direction=up&depth=3", co[1], nil); r.status != 200 || !strings.Contains(string(r.body), rel.ID) {
			t.Errorf("lineage = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/assets/shots/lineage?format=dot", co[1], nil); !strings.Contains(string(r.body), "digraph lineage") || !strings.Contains(string(r.body), "declassification") {
			t.Errorf("dot = %s", r.body)
		}
		if r := h.do("GET", "/api/v1/assets/shots/lineage?format=openlineage", co[1], nil); !strings.Contains(string(r.body), `"eventType":"COMPLETE"`) {
			t.Errorf("openlineage = %s", r.body)
		}
		if r := h.do("GET", "/api/v1/assets/shots/lineage", bobTok, nil); r.status != 200 || strings.Contains(string(r.body), rel.ID) {
			t.Errorf("bob's lineage view shows the release of data he may not read: %s", r.body)
		}
		if r := h.do("GET", "/api/v1/assets/shots/lineage?direction=sideways", co[1], nil); r.status != 400 {
			t.Errorf("bad direction = %d", r.status)
		}

		// Disabling.
		if r := h.do("POST", "/api/v1/principals/bob/disable", admin, nil); r.status != 200 {
			t.Errorf("disable bob = %d %s", r.status, r.body)
		}
		if r := h.do("GET", "/api/v1/whoami", bobTok, nil); r.status != 401 {
			t.Errorf("disabled bob = %d", r.status)
		}

		exerciseCampaigns(h)
		exerciseInstruments(t, h)
		exerciseLiterature(t, h)
		exerciseAgent(t, h)
		exerciseChallenges(t, h)
		exerciseMission(t, h)
		exercisePartners(t, h)

		// Every documented operation was exercised.
		for path, item := range h.doc.Paths.Map() {
			for method := range item.Operations() {
				if !h.seen[method+" "+path] {
					t.Errorf("operation %s %s not exercised", method, path)
				}
			}
		}
	})
}

func stripID(b []byte) []byte {
	var m map[string]any
	json.Unmarshal(b, &m)
	delete(m, "request_id")
	out, _ := json.Marshal(m)
	return out
}

func TestBadInput(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	h := newHarness(t, db)
	cases := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"malformed", `{"name": "x",`, 400, "body"},
		{"not json", `hello`, 400, "body"},
		{"empty", ``, 400, "body"},
		{"unknown field", `{"name":"x","country":"USA","colour":"red"}`, 400, "colour"},
		{"wrong type", `{"name": 42, "country": "USA"}`, 400, "name"},
		{"array", `[1,2]`, 400, "body"},
		{"trailing", `{"name":"x","country":"USA"} {}`, 400, "body"},
		{"bad value", `{"name":"x","country":"United States"}`, 400, "country"},
		{"oversize", `{"name":"` + strings.Repeat("a", httpapi.MaxJSONBody) + `","country":"USA"}`, 413, "body"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do("POST", "/api/v1/organizations", h.admin, c.body)
			if r.status != c.status {
				t.Fatalf("status = %d, want %d: %s", r.status, c.status, r.body)
			}
			p := r.problem(t)
			if p.Field != c.field {
				t.Errorf("field = %q, want %q (%+v)", p.Field, c.field, p)
			}
			if p.Detail == "" {
				t.Error("no detail")
			}
		})
	}
	if r := h.do("POST", "/api/v1/organizations", h.admin, `{"name":"x","country":"USA"}`, "Content-Type", "text/plain"); r.status != 415 || r.problem(t).Field != "Content-Type" {
		t.Errorf("text/plain body = %d", r.status)
	}
	if r := h.do("PUT", "/api/v1/organizations", h.admin, nil); r.status != 405 || r.header.Get("Allow") == "" {
		t.Errorf("wrong method = %d, Allow %q", r.status, r.header.Get("Allow"))
	} else {
		r.problem(t)
	}
}

func TestIdempotencyKey(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		h := newHarness(t, db)
		body := map[string]any{"name": "fusion"}
		first := h.do("POST", "/api/v1/projects", h.admin, body, "Idempotency-Key", "k-1")
		if first.status != 201 {
			t.Fatalf("first = %d %s", first.status, first.body)
		}
		again := h.do("POST", "/api/v1/projects", h.admin, body, "Idempotency-Key", "k-1")
		if again.status != 201 || !bytes.Equal(again.body, first.body) || again.header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("replay = %d %s (replayed %q), want the first response", again.status, again.body, again.header.Get("Idempotent-Replayed"))
		}
		if r := h.do("POST", "/api/v1/projects", h.admin, map[string]any{"name": "other"}, "Idempotency-Key", "k-1"); r.status != 400 || r.problem(t).Field != "Idempotency-Key" {
			t.Errorf("key reused with another body = %d %s", r.status, r.body)
		}
		// Without a key, the same request is a new request (and conflicts).
		if r := h.do("POST", "/api/v1/projects", h.admin, body); r.status != 409 {
			t.Errorf("no key = %d", r.status)
		}
		// Errors are replayed too (they are answers), except 5xx.
		e1 := h.do("POST", "/api/v1/projects", h.admin, map[string]any{"name": "Bad Name"}, "Idempotency-Key", "k-2")
		e2 := h.do("POST", "/api/v1/projects", h.admin, map[string]any{"name": "Bad Name"}, "Idempotency-Key", "k-2")
		if e1.status != 400 || e2.status != 400 {
			t.Errorf("replayed error = %d, %d", e1.status, e2.status)
		}
		var projects httpapi.List[struct{ Name string }]
		h.do("GET", "/api/v1/projects", h.admin, nil).decode(t, &projects)
		if len(projects.Items) != 1 {
			t.Errorf("projects = %v, want exactly one", projects.Items)
		}
	})
}

// FuzzDecodeStrict checks that no body makes the decoder panic and that
// every failure is an Invalid error naming a field.
func FuzzDecodeStrict(f *testing.F) {
	for _, s := range []string{`{"name":"alice","roles":["viewer"]}`, `{"name":1}`, `{"x":`, `[]`, `null`, `{"name":"a"}{}`, "\xff", `{"roles":{"a":1}}`, `{"expires_in_seconds": 1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, v := range []any{&httpapi.CreatePrincipalRequest{}, &httpapi.CreateTokenRequest{}, &httpapi.AddMemberRequest{}, &httpapi.CreateOrgRequest{}} {
			err := httpapi.DecodeStrict(b, v)
			if err != nil && httpapi.StatusOf(err) != 400 {
				t.Fatalf("decode %q: status %d (%v), want 400", b, httpapi.StatusOf(err), err)
			}
		}
	})
}

// TestOptionalParts: a server built without a catalog, site registry, job
// service or audit log answers their endpoints with 503, not a crash —
// and every operation, present or not, answers as documented.
func TestOptionalParts(t *testing.T) {
	db := storetest.Migrated(t, storetest.SQLite)
	id := identity.New(db)
	secret, _ := id.Bootstrap(ctx, "admin")
	srv := httpapi.New(httpapi.Config{DB: db, Identity: id, Logger: slog.New(slog.DiscardHandler)})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	doc := loadDoc(t)
	doc.Servers = openapi3.Servers{{URL: ts.URL}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, ts: ts, admin: secret, router: router, doc: doc, seen: map[string]bool{}, seenMu: new(sync.Mutex)}
	for _, o := range h.operations() {
		var body any
		if len(o.bodyTypes()) > 0 {
			body = "{}"
		}
		if o.id == "localPut" {
			continue // only over the Unix socket, which this server has not
		}
		h.do(o.method, o.path, secret, body)
	}
	for _, path := range []string{"/api/v1/datasets", "/api/v1/sites", "/api/v1/jobs", "/api/v1/audit/checkpoint", "/api/v1/inventory"} {
		if r := h.do("GET", path, secret, nil); r.status != http.StatusServiceUnavailable {
			t.Errorf("%s = %d, want 503", path, r.status)
		}
	}
}
