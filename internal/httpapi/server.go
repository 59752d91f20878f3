// Package httpapi is Genesis's HTTP API under /api/v1: JSON in and out,
// RFC 9457 problem documents for errors (kind → status in one table, in
// problem.go), bearer authentication on everything but health checks and
// the OpenAPI document, and Idempotency-Key on POST. routes.go lists every
// endpoint; openapi.yaml describes them and a test holds the two together.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/mission/partners"
	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/genesis-science/genesis/internal/mission/report"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/telemetry"
	"go.opentelemetry.io/otel/trace"
	"golang.org/x/mod/sumdb/tlog"
	"golang.org/x/sync/semaphore"
)

// Server serves the API. Build it with New; it is an http.Handler.
type Server struct {
	db      store.DB
	id      *identity.Service
	authz   *authz.Authorizer
	audit   audit.Appender
	catalog *catalog.Service
	sites   *sites.Registry
	jobs    *jobs.Service
	// campaigns runs closed-loop campaigns; optional.
	campaigns *campaign.Service
	auditLog  AuditLog
	auditKey  string
	log       *slog.Logger
	now       func() time.Time
	mux       *http.ServeMux
	handler   http.Handler
	ready     func(ctx context.Context) error
	patterns  []string
	// localSock is the Unix socket the server also listens on, if any.
	localSock atomic.Pointer[string]
	localPuts chan struct{} // slots for same-host puts

	bodyGrace   time.Duration
	bodyMinRate int64
	// chunkMem bounds the bytes of chunk bodies held at once.
	chunkMem *semaphore.Weighted
	imports  chan struct{} // slots for catalog imports

	// instruments is the lab's instrument registry; optional.
	instruments *instruments.Registry
	// partners is the partnerships portfolio; optional.
	partners *partners.Service
	// mcp serves the Model Context Protocol at /mcp; optional.
	mcp http.Handler
	// mounts are the protocol endpoints outside the REST API (Mounts).
	mounts []string
	// agent runs research agents; optional.
	agent *agent.Service
	// challenges manages national challenges (issue 15); optional.
	challenges *mission.Service
	// lit is the literature; optional.
	lit *library.Service
	// mission is the mission plan, status and risks; optional.
	mission *plan.Service
	// reports makes the annual report; optional.
	reports *report.Service
	// console is the web console (internal/console), served for every
	// path outside the API; optional.
	console http.Handler

	// Telemetry (telemetry.go): metrics and tracer are optional;
	// readyChecks are /readyz's dependencies beyond the store.
	metrics     *telemetry.Metrics
	tracer      trace.Tracer
	readyChecks []ReadyCheck
}

// Config is what the server needs.
type Config struct {
	DB       store.DB
	Identity *identity.Service
	// Authz decides every access; New builds one over Identity if nil.
	Authz  *authz.Authorizer
	Logger *slog.Logger
	// AuditLog receives a record of every mutation and serves the audit
	// endpoints; AuditKey is its checkpoint verifier key. Optional.
	AuditLog AuditLog
	AuditKey string
	// Catalog serves datasets; optional.
	Catalog *catalog.Service
	// Sites is the compute-site registry; optional.
	Sites *sites.Registry
	// Jobs runs jobs; optional.
	Jobs *jobs.Service
	// Instruments is the lab's instrument registry; optional.
	Instruments *instruments.Registry
	// Campaigns runs closed-loop campaigns; optional.
	Campaigns *campaign.Service
	// MCP serves the Model Context Protocol (internal/mcp) at /mcp, as
	// the bearer token's principal; optional.
	MCP http.Handler
	// Agent runs research agents; optional.
	Agent *agent.Service
	// Literature serves publications, passages and facts; optional.
	Literature *library.Service
	// Mission serves the mission plan, its status and the risks; optional.
	Mission *plan.Service
	// Challenges manages national challenges; optional.
	Challenges *mission.Service
	// Reports makes the annual progress report; optional.
	Reports *report.Service
	// Partners is the partnerships portfolio; optional.
	Partners *partners.Service
	// Console is the web console (internal/console): it answers every
	// path no endpoint matches outside /api/ (those stay problem
	// documents); optional.
	Console http.Handler
	// Ready reports extra readiness conditions beyond the store answering.
	Ready func(ctx context.Context) error
	// BodyGrace and BodyMinRate bound how slowly a request body may
	// arrive (see limits.go); zero means DefaultBodyGrace and
	// DefaultBodyMinRate.
	BodyGrace   time.Duration
	BodyMinRate int64
	// Metrics receives request, authorization and chunk metrics; optional.
	Metrics *telemetry.Metrics
	// Tracer, if set, starts a span per request (route and status).
	Tracer trace.Tracer
	// ReadyChecks are dependencies /readyz checks besides the metadata
	// store (the blob store, the audit log), each reported by name.
	ReadyChecks []ReadyCheck
}

// New returns the API server.
func New(cfg Config) *Server {
	s := &Server{db: cfg.DB, id: cfg.Identity, authz: cfg.Authz, catalog: cfg.Catalog, sites: cfg.Sites, jobs: cfg.Jobs, campaigns: cfg.Campaigns, log: cfg.Logger, now: time.Now, ready: cfg.Ready}
	s.instruments = cfg.Instruments
	s.mcp = cfg.MCP
	s.agent = cfg.Agent
	s.lit = cfg.Literature
	s.mission = cfg.Mission
	s.challenges = cfg.Challenges
	s.reports = cfg.Reports
	s.partners = cfg.Partners
	s.console = cfg.Console
	if cfg.AuditLog != nil {
		s.audit, s.auditLog, s.auditKey = cfg.AuditLog, cfg.AuditLog, cfg.AuditKey
	}
	if s.authz == nil {
		az, err := authz.New(cfg.Identity, time.Now)
		if err != nil {
			panic("httpapi: the built-in policy does not load: " + err.Error())
		}
		s.authz = az
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = slog.New(telemetry.RequestIDHandler(s.log.Handler()))
	s.metrics, s.tracer, s.readyChecks = cfg.Metrics, cfg.Tracer, cfg.ReadyChecks
	s.bodyGrace, s.bodyMinRate = cfg.BodyGrace, cfg.BodyMinRate
	if s.bodyGrace <= 0 {
		s.bodyGrace = DefaultBodyGrace
	}
	if s.bodyMinRate <= 0 {
		s.bodyMinRate = DefaultBodyMinRate
	}
	s.localPuts = make(chan struct{}, localPutSlots)
	s.chunkMem = semaphore.NewWeighted(chunkMemory)
	s.imports = make(chan struct{}, importSlots)
	s.mux = http.NewServeMux()
	s.routes()
	s.handler = s.bodyDeadlines(s.requestIDs(s.observe(s.recoverer(s.logRequests(s.notFoundAsProblem(s.mux))))))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// handlerFunc is an endpoint that returns an error instead of writing one.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// public wraps an endpoint that needs no authentication.
func (s *Server) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// authed wraps an endpoint that needs an authenticated principal, honours
// Idempotency-Key on POST, and puts every mutation on the audit record
// before acknowledging it.
func (s *Server) authed(h handlerFunc) http.Handler { return s.authedWith(h, false) }

// catalogRoute is authed for catalog endpoints, which write their own,
// label-aware audit records (a generic record would carry the wrong label).
func (s *Server) catalogRoute(h handlerFunc) http.Handler {
	return s.authedWith(s.needs(s.catalog != nil, "catalog", h), true)
}

// needs answers 503 when an optional part of the server is not configured.
func (s *Server) needs(present bool, part string, h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if !present {
			return errors.E(errors.Op("httpapi"), errors.Unavailable, errors.Msg("this server has no "+part))
		}
		return h(w, r)
	}
}

func (s *Server) authedWith(h handlerFunc, selfAudited bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		ctx := genesis.NewContext(r.Context(), p)
		r = r.WithContext(catalog.WithRequestID(ctx, requestID(ctx)))
		serve := func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.Header.Get("Idempotency-Key") != "" {
				s.idempotent(w, r, p, h)
				return
			}
			if err := h(w, r); err != nil {
				s.writeError(w, r, err)
			}
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead || s.audit == nil || selfAudited {
			serve(w, r)
			return
		}
		// Mutations are on the record before they are acknowledged: one
		// whose record cannot be written is not acknowledged (AU-5; with a
		// shared log, this replica cannot reach it).
		rec := &recorder{ResponseWriter: w, header: http.Header{}}
		serve(rec, r)
		if err := s.recordMutation(r, p, rec.status, rec.body.Bytes()); err != nil && rec.status < 400 {
			s.writeError(w, r, errors.E(errors.Op("httpapi"), errors.Unavailable,
				errors.Msg("the audit log cannot be written, so the change is not acknowledged: it may or may not have been made; retry later"), err))
			return
		}
		rec.flushTo(w)
	})
}

// AuditLog is what the API needs of the audit log.
type AuditLog interface {
	audit.Interface
	Checkpoint(ctx context.Context) (audit.Checkpoint, []byte, error)
	Entry(ctx context.Context, index uint64) ([]byte, error)
	ProveInclusion(ctx context.Context, index, size uint64) ([]tlog.Hash, error)
	// LabelMatches reports whether a record was made under a label (in
	// canonical binary form); see audit.LabelKey.
	LabelMatches(rec audit.Record, label []byte) bool
	// ReadTile serves the log in the C2SP tlog-tiles layout.
	ReadTile(ctx context.Context, path string) ([]byte, error)
}

func (s *Server) authenticate(r *http.Request) (*genesis.Principal, error) {
	const op errors.Op = "httpapi.authenticate"
	h := r.Header.Get("Authorization")
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errors.E(op, errors.Unauthenticated)
	}
	p, err := s.id.Authenticate(r.Context(), strings.TrimSpace(cred))
	if err != nil {
		return nil, err
	}
	return p, nil
}

func requestID(ctx context.Context) string { return telemetry.RequestID(ctx) }

func (s *Server) requestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(telemetry.WithRequestID(r.Context(), id)))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		s.log.InfoContext(r.Context(), "http", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"bytes", sw.bytes, "ms", float64(time.Since(start).Microseconds())/1000)
	})
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, errors.E(errors.Op("httpapi"), errors.Internal, fmt.Errorf("panic: %v", v)))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// notFoundAsProblem answers unknown paths and wrong methods with problem
// documents instead of ServeMux's plain text.
func (s *Server) notFoundAsProblem(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		setRoute(r.Context(), pattern)
		if pattern != "" {
			mux.ServeHTTP(w, r) // (sets the path values; h alone would not)
			return
		}
		rec := &headerRecorder{h: http.Header{}}
		h.ServeHTTP(rec, r)
		if allow := rec.h.Get("Allow"); allow != "" {
			w.Header().Set("Allow", allow)
		}
		status := rec.status
		if status == 0 {
			status = http.StatusNotFound
		}
		if status == http.StatusNotFound && s.console != nil && !strings.HasPrefix(r.URL.Path, "/api/") {
			setRoute(r.Context(), routeConsole)
			s.console.ServeHTTP(w, r)
			return
		}
		if status == http.StatusNotFound {
			// Unknown paths under the API need a token like everything else,
			// so that the route table is not probed anonymously.
			if strings.HasPrefix(r.URL.Path, "/api/") {
				if _, err := s.authenticate(r); err != nil {
					s.writeError(w, r, err)
					return
				}
			}
			s.writeError(w, r, errors.E(errors.Op("httpapi"), errors.NotExist))
			return
		}
		writeProblem(w, Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, RequestID: requestID(r.Context())})
	})
}

type headerRecorder struct {
	h      http.Header
	status int
}

func (r *headerRecorder) Header() http.Header         { return r.h }
func (r *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (r *headerRecorder) WriteHeader(code int)        { r.status = code }
