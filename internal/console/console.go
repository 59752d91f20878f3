// Package console is Genesis's web console: server-rendered pages
// (html/template, templates and CSS embedded) mounted at "/" next to the
// API. A browser signs in with an API token (or genesis up's one-time
// link) and gets a server-side session (Sessions); every page reads
// through the services as the signed-in principal, so what a viewer may
// not read is missing on every page — the not-found page is the same for
// both — and every count and facet is computed over what it may read.
//
// Every page carries a classification banner, top and bottom: the join of
// the labels of everything it shows (invariant 2), colour-coded by level.
// Every response has a strict Content-Security-Policy (no inline script or
// style); every form carries a CSRF token and every POST is refused when
// its Origin or Sec-Fetch-Site says it came from another site.
package console

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/genesis-science/genesis/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Config is what the console needs. DB and Identity are required; every
// service is optional and its section says "not configured" without it.
type Config struct {
	// DB holds the sessions (migration 0030).
	DB store.DB
	// Identity authenticates sign-in tokens and loads session principals.
	Identity   *identity.Service
	Catalog    *catalog.Service
	Campaigns  *campaign.Service
	Challenges *mission.Service
	Sites      *sites.Registry
	// Instruments is the lab's instrument registry.
	Instruments *instruments.Registry
	// Activity is the audit trail as the viewer may read it (httpapi's
	// Server.AuditEvents applies the audit endpoint's rules).
	Activity plan.AuditSource
	// Jobs is the compute job service (jobs, allocations, placement).
	Jobs *jobs.Service
	// Authz decides role questions (administrator pages).
	Authz *authz.Authorizer
	// Audit is the tamper-evident log; AuditKey its checkpoints' verifier
	// key (the audit page verifies and shows proofs).
	Audit    audit.Backend
	AuditKey string
	Logger   *slog.Logger
	Now      func() time.Time
	// OIDC, if set, offers "Sign in with <issuer>" (NewOIDCSignIn).
	OIDC *OIDCSignIn
	// PublicURL is the console's base URL as browsers reach it
	// (console.public_url); an https one makes cookies Secure behind a
	// TLS-terminating proxy.
	PublicURL string
}

// Console is the web console; it is an http.Handler.
type Console struct {
	cfg      Config
	sessions *Sessions
	log      *slog.Logger
	now      func() time.Time
	pages    *pages
	mux      *http.ServeMux
	handler  http.Handler
}

// New returns the console.
func New(cfg Config) *Console {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Console{cfg: cfg, sessions: NewSessions(cfg.DB, cfg.Now), log: cfg.Logger, now: cfg.Now, pages: mustParsePages()}
	c.mux = http.NewServeMux()
	c.routes()
	c.handler = securityHeaders(c.mux)
	return c
}

// SetActivity sets the dashboard's audit source after New (the API
// server, which applies the audit rules, is built with the console in
// it). Call it before serving.
func (c *Console) SetActivity(src plan.AuditSource) { c.cfg.Activity = src }

// Sessions returns the console's session store (genesis up makes the
// first administrator's one-time sign-in code with it).
func (c *Console) Sessions() *Sessions { return c.sessions }

func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.handler.ServeHTTP(w, r) }

// CSP is the Content-Security-Policy of every console response.
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// handler is a page that returns an error instead of writing one.
type handler func(w http.ResponseWriter, r *http.Request, v *viewer) error

// viewer is the signed-in principal and its session.
type viewer struct {
	p    *genesis.Principal
	sess *Session
	// secret is the cookie value (for sign-out).
	secret string
}

func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	files := http.FileServerFS(static)
	c.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheStatic(files)))

	c.mux.Handle("GET /signin", c.public(c.signinPage))
	c.mux.Handle("POST /signin", c.public(c.signin))
	c.mux.Handle("GET /signin/once", c.public(c.signinOnce))
	c.mux.Handle("POST /signout", c.authed(c.signout))

	c.mux.Handle("GET /{$}", c.authed(c.dashboard))
	c.mux.Handle("GET /search", c.authed(c.search))
	c.mux.Handle("GET /assets/{asset}", c.authed(c.asset))
	c.mux.Handle("GET /assets/{asset}/versions/{version}/files/{path...}", c.authed(c.download))
	c.mux.Handle("GET /campaigns", c.authed(c.campaigns))
	c.mux.Handle("GET /campaigns/{name}", c.authed(c.campaign))
	c.mux.Handle("GET /campaigns/{name}/plot.svg", c.authed(c.campaignPlot))
	c.mux.Handle("GET /campaigns/{name}/live", c.authed(c.campaignLive))
	// Lineage graph (asset page): the graph as JSON, as the viewer.
	c.mux.Handle("GET /assets/{asset}/lineage.json", c.authed(c.lineageJSON))
	// Operations (ops.go): compute sites, allocations and jobs; the lab's
	// instruments and workcells with the emergency stop.
	c.mux.Handle("GET /compute", c.authed(c.compute))
	c.mux.Handle("GET /compute/jobs/{id}", c.authed(c.job))
	c.mux.Handle("GET /compute/jobs/{id}/live", c.authed(c.jobLivePart))
	c.mux.Handle("POST /compute/jobs/{id}/cancel", c.authed(c.cancelJob))
	c.mux.Handle("GET /labs", c.authed(c.labs))
	c.mux.Handle("GET /labs/estop", c.authed(c.estopConfirm))
	c.mux.Handle("POST /labs/estop", c.authed(c.estopAll))
	c.mux.Handle("GET /labs/instruments/{name}", c.authed(c.instrument))
	c.mux.Handle("GET /labs/instruments/{name}/estop", c.authed(c.estopConfirm))
	c.mux.Handle("POST /labs/instruments/{name}/estop", c.authed(c.estop))
	c.mux.Handle("POST /labs/instruments/{name}/reset", c.authed(c.resetInstrument))
	// Campaign steering and models (issue 16, second increment: steer).
	c.mux.Handle("POST /campaigns/{name}/{action}", c.authed(c.steer))
	c.mux.Handle("GET /campaigns/{name}/params/{param}", c.authed(c.campaignParamPlot))
	c.mux.Handle("GET /models", c.authed(c.models))
	c.mux.Handle("GET /models/{name}", c.authed(c.model))
	c.mux.Handle("GET /models/{name}/metrics/{metric}", c.authed(c.modelMetricPlot))
	// Governance: the audit log with proofs, declassification requests,
	// and administration (principals, organisations, agreements).
	c.mux.Handle("GET /audit", c.authed(c.audit))
	c.mux.Handle("GET /audit/entries/{index}", c.authed(c.auditEntry))
	c.mux.Handle("GET /releases", c.authed(c.releases))
	c.mux.Handle("GET /releases/new", c.authed(c.releaseNew))
	c.mux.Handle("POST /releases", c.authed(c.requestRelease))
	c.mux.Handle("GET /releases/{id}", c.authed(c.release))
	c.mux.Handle("POST /releases/{id}/decide", c.authed(c.decideRelease))
	c.mux.Handle("GET /admin", c.authed(c.admin))
	c.mux.Handle("POST /admin/principals/{id}/disable", c.authed(c.disablePrincipal))
	c.mux.Handle("POST /admin/principals/{id}/clearance", c.authed(c.setClearance))
	c.mux.Handle("POST /admin/organizations", c.authed(c.createOrg))
	c.mux.Handle("POST /admin/agreements", c.authed(c.createAgreement))
	c.mux.Handle("POST /admin/agreements/{id}/end", c.authed(c.endAgreement))
	// Access: OIDC sign-in (authorization code with PKCE).
	c.mux.Handle("GET /signin/oidc", c.public(c.oidcStart))
	c.mux.Handle("GET "+OIDCCallbackPath, c.public(c.oidcCallback))
	c.mux.Handle("/", c.authed(c.notFound))
}

func cacheStatic(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}

// ctxWith puts the principal in ctx, as the API does for its handlers.
func ctxWith(ctx context.Context, p *genesis.Principal) context.Context {
	return genesis.NewContext(ctx, p)
}
