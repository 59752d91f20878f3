package iri_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/iri"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/slurm"
	"github.com/genesis-science/genesis/internal/testenv"
)

// The provider under test runs in a separate process: this test binary,
// re-executed with GENESIS_IRI_CHILD set to the backend kind. It serves on
// 127.0.0.1:0, prints its address on stdout, checks every request and
// response against the spec (testdata/all_spec_v2.yaml), appends each
// violation to the file named by GENESIS_IRI_VIOLATIONS, and exits when
// its stdin closes or it gets SIGTERM.
func TestMain(m *testing.M) {
	if kind := os.Getenv("GENESIS_IRI_CHILD"); kind != "" {
		os.Exit(child(kind))
	}
	os.Exit(m.Run())
}

const (
	testToken   = "s3cret-token"
	testUser    = "alice"
	otherToken  = "other-token"
	testProject = "genesis-test"
)

// providerConfig is the facility the child serves; the tests read it back.
func providerConfig(root string, backend compute.Backend) iri.ProviderConfig {
	end := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	return iri.ProviderConfig{
		Facility: iri.Facility{ID: "genesis-test-facility", Name: "Genesis test facility", ShortName: "gtf", OrganizationName: "Genesis"},
		Site:     iri.Site{ID: "site-1", Name: "Test site", OperatingOrganization: "Genesis", CountryName: "USA"},
		Resources: []iri.ProviderResource{
			{ID: "cpu", Name: "cpu", Description: "test compute", Group: "compute", Backend: backend},
			{ID: "small", Name: "small", Group: "compute", Status: iri.StatusDegraded, Backend: backend},
		},
		Tokens: map[string]string{testToken: testUser, otherToken: "bob"},
		Projects: []iri.ProviderProject{{
			ID: testProject, Name: "Genesis tests", Description: "the test project", Users: []string{testUser},
			Allocations: []iri.ProviderAllocation{{ID: "alloc-1", Capability: "cpu-node-hours",
				Entries: []iri.AllocationEntry{{Allocation: 1000, Usage: 12.5, Unit: "urn:doe-iri:allocation:node-hours"}}}},
		}, {ID: "bobs", Name: "Bob's", Description: "not alice's", Users: []string{"bob"}}},
		Capabilities: []iri.Capability{{ID: "cpu-node-hours", Name: "CPU node hours", Units: []string{"urn:doe-iri:allocation:node-hours"}}},
		Incidents: []iri.Incident{{ID: "inc-1", Name: "maintenance", Status: iri.StatusDegraded, Type: "planned",
			Resolution: "completed", Start: end.Add(-time.Hour), End: &end}},
		Root:        root,
		AllowedDirs: []string{os.TempDir()},
	}
}

func child(kind string) int {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var backend compute.Backend
	var closeBackend func()
	switch kind {
	case "local":
		lb, err := local.New(filepath.Join(os.Getenv("GENESIS_IRI_ROOT"), "local"), local.Options{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		backend, closeBackend = lb, func() { lb.Close() }
	case "slurm":
		sb, err := slurm.New(slurm.Config{URL: os.Getenv("GENESIS_TEST_SLURM"), User: os.Getenv("GENESIS_TEST_SLURM_USER"),
			Token: os.Getenv("GENESIS_TEST_SLURM_TOKEN"), Partition: os.Getenv("GENESIS_TEST_SLURM_PARTITION")})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		backend, closeBackend = sb, func() {}
	default:
		fmt.Fprintln(os.Stderr, "unknown backend", kind)
		return 2
	}
	defer closeBackend()
	cfg := providerConfig(os.Getenv("GENESIS_IRI_ROOT"), backend)
	cfg.Logger = logger
	p, err := iri.NewProvider(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	v, err := newValidator(os.Getenv("GENESIS_IRI_VIOLATIONS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var h http.Handler = p
	if os.Getenv("GENESIS_IRI_VALIDATE") != "off" {
		h = v.wrap(p)
	}
	// SIGTERM is handled from before the address is printed: the parent
	// may stop the child as soon as it has read it (once, under load, the
	// signal came first and killed the child outright).
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	fmt.Printf("%s\n", ln.Addr())

	done := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(done) }()
	select {
	case <-done:
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	srv.Shutdown(ctx)
	return 0
}

// validator checks requests and responses against the spec: kin-openapi
// finds the operation and checks parameters, headers, status and content
// type; bodies are checked with JSON Schema 2020-12 schemas compiled once
// per operation and status (kin-openapi compiles on every call, which is
// too slow for the suite's polling under -race).
type validator struct {
	router routers.Router
	bodies *bodySchemas
	mu     sync.Mutex
	out    *os.File
}

// bodySchemas compiles, on first use, the schema at a JSON pointer into
// the spec (as JSON), and caches it.
type bodySchemas struct {
	mu    sync.Mutex
	c     *jsonschema.Compiler
	cache map[string]*jsonschema.Schema
}

const specURL = "file:///iri/all_spec_v2.json"

func newBodySchemas() (*bodySchemas, error) {
	data, err := os.ReadFile("testdata/all_spec_v2.yaml")
	if err != nil {
		return nil, err
	}
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(js))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	if err := c.AddResource(specURL, doc); err != nil {
		return nil, err
	}
	return &bodySchemas{c: c, cache: map[string]*jsonschema.Schema{}}, nil
}

// validate checks a JSON body against the schema at the pointer (its
// tokens unescaped); a pointer with no schema there is an error.
func (b *bodySchemas) validate(body []byte, tokens ...string) error {
	var ptr strings.Builder
	for _, t := range tokens {
		ptr.WriteString("/" + strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1"))
	}
	b.mu.Lock()
	sch, ok := b.cache[ptr.String()]
	if !ok {
		var err error
		sch, err = b.c.Compile(specURL + "#" + ptr.String())
		if err != nil {
			b.mu.Unlock()
			return fmt.Errorf("no schema at %s: %v", ptr.String(), err)
		}
		b.cache[ptr.String()] = sch
	}
	b.mu.Unlock()
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	return sch.Validate(v)
}

func loadSpec() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile("testdata/all_spec_v2.yaml")
	if err != nil {
		return nil, err
	}
	// The spec's PostViewRequest.size has default 0 under minimum 1 (an
	// upstream defect); everything else must validate.
	if err := doc.Validate(loader.Context, openapi3.DisableSchemaDefaultsValidation()); err != nil {
		return nil, fmt.Errorf("the IRI spec does not validate: %w", err)
	}
	doc.Servers = nil // match any host
	return doc, nil
}

func newValidator(path string) (*validator, error) {
	doc, err := loadSpec()
	if err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	bodies, err := newBodySchemas()
	if err != nil {
		return nil, err
	}
	return &validator{router: router, bodies: bodies, out: f}, nil
}

func (v *validator) violation(format string, args ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fmt.Fprintf(v.out, format+"\n", args...)
}

type recorder struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.h }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}

// wrap validates each exchange. A request the spec rejects must get a 4xx;
// a request to a path the spec does not have must get 404; every response
// to a known operation must match the spec.
func (v *validator) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reqBody, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(reqBody))
		rec := &recorder{h: http.Header{}}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = 200
		}
		for k, vs := range rec.h {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body.Bytes())

		what := fmt.Sprintf("%s %s → %d", r.Method, r.URL.RequestURI(), rec.status)
		// The router matches on the full URL; requests reach us with a path only.
		vr := r.Clone(context.Background())
		vr.URL.Scheme, vr.URL.Host = "http", r.Host
		vr.Body = io.NopCloser(bytes.NewReader(reqBody))
		route, params, err := v.router.FindRoute(vr)
		if err != nil {
			if rec.status != http.StatusNotFound && rec.status != http.StatusMethodNotAllowed {
				v.violation("%s: not an operation of the spec (%v), but not answered 404/405", what, err)
			}
			return
		}
		in := &openapi3filter.RequestValidationInput{Request: vr, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true, ExcludeRequestBody: true}}
		reqErr := openapi3filter.ValidateRequest(context.Background(), in)
		method := strings.ToLower(r.Method)
		if reqErr == nil && route.Operation.RequestBody != nil && (len(reqBody) > 0 || route.Operation.RequestBody.Value.Required) {
			reqErr = v.bodies.validate(reqBody, "paths", route.Path, method, "requestBody", "content", "application/json", "schema")
		}
		if reqErr != nil && rec.status/100 == 2 {
			v.violation("%s: accepted a request the spec rejects: %v", what, reqErr)
		}
		out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.status, Header: rec.h,
			Body: io.NopCloser(bytes.NewReader(rec.body.Bytes())), Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, ExcludeResponseBody: true}}
		if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
			v.violation("%s: response does not match the spec: %v\n\tbody: %.500s", what, err, rec.body.String())
			return
		}
		if resp := route.Operation.Responses.Status(rec.status); resp != nil && resp.Value.Content.Get("application/json") != nil {
			if err := v.bodies.validate(rec.body.Bytes(), "paths", route.Path, method, "responses", strconv.Itoa(rec.status), "content", "application/json", "schema"); err != nil {
				v.violation("%s: response body does not match the spec: %v\n\tbody: %.500s", what, err, rec.body.String())
			}
		} else if rec.body.Len() > 0 {
			v.violation("%s: the spec declares no body for this status, but there is one: %.200s", what, rec.body.String())
		}
	})
}

// provider is a running provider child process.
type provider struct {
	URL        string
	cmd        *exec.Cmd
	stdin      io.Closer
	violations string
	stopped    bool
}

// startProvider starts a provider over the given backend kind ("local" or
// "slurm") with its state under root (a fresh one when ""), and env added
// to the child's environment. At cleanup it
// stops the child and fails the test on any spec violation.
func startProvider(t testing.TB, kind, root string, env ...string) *provider {
	t.Helper()
	if root == "" {
		root = t.TempDir()
	}
	viol := filepath.Join(t.TempDir(), "violations.txt")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "GENESIS_IRI_CHILD="+kind, "GENESIS_IRI_ROOT="+root, "GENESIS_IRI_VIOLATIONS="+viol)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("provider child: %q, %v", line, err)
	}
	p := &provider{URL: "http://" + strings.TrimSpace(line), cmd: cmd, stdin: stdin, violations: viol}
	t.Cleanup(func() {
		p.stop(t)
		data, _ := os.ReadFile(viol)
		if len(data) > 0 {
			t.Errorf("the provider broke the IRI spec:\n%s", data)
		}
	})
	return p
}

// stop ends the child (SIGTERM, then SIGKILL after 5 s).
func (p *provider) stop(t testing.TB) {
	if p.stopped {
		return
	}
	p.stopped = true
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("provider child: %v", err)
		}
	case <-time.After(5 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	p.stdin.Close()
}

func newClient(t testing.TB, url, token string) *iri.Client {
	t.Helper()
	c, err := iri.NewClient(iri.ClientConfig{URL: url, Token: token, Resource: "cpu", Project: testProject})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// slurmAvailable skips (loudly) or fails like the slurm package's tests.
func slurmAvailable(t testing.TB) {
	testenv.Need(t, "slurm", "GENESIS_TEST_SLURM")
	testenv.Need(t, "slurm", "GENESIS_TEST_SLURM_TOKEN")
	testenv.Need(t, "slurm", "GENESIS_TEST_SLURM_USER")
}

// rawJSON is a tiny helper for hand-made requests.
func rawJSON(t testing.TB, method, url, token string, h map[string]string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range h {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}
