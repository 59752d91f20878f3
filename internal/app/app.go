// Package app is the one place that wires Genesis together by hand: config
// → metadata store (migrated) → services → HTTP API. cmd/genesis and the
// end-to-end tests both build the system through it, so what the tests boot
// is what users run.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/authz/policystore"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/blob/localdisk"
	"github.com/genesis-science/genesis/internal/blob/s3"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/iri"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/sites"
	"github.com/genesis-science/genesis/internal/compute/slurm"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/console"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/lab/instruments"
	_ "github.com/genesis-science/genesis/internal/lab/madsci" // instrument kind madsci: MADSci REST lab nodes
	_ "github.com/genesis-science/genesis/internal/lab/sim"    // instrument kind sim: digital twins
	_ "github.com/genesis-science/genesis/internal/lab/table"  // instrument kind table: replay of published experiments
	"github.com/genesis-science/genesis/internal/lease"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/mcp"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/mission/partners"
	"github.com/genesis-science/genesis/internal/mission/plan"
	"github.com/genesis-science/genesis/internal/mission/report"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
	"github.com/genesis-science/genesis/internal/store/sqlite"
	"github.com/genesis-science/genesis/internal/telemetry"
)

// Version is the Genesis version, set at build time with -ldflags.
var Version = "0.1.0-dev"

// App is a running Genesis server's parts.
type App struct {
	Config   config.Config
	Log      *slog.Logger
	DB       store.DB
	Identity *identity.Service
	Authz    *authz.Authorizer
	// Audit is the audit log: in DATA_DIR/audit (*audit.Log) or shared
	// by every replica in the metadata store (*audit.StoreLog), per
	// audit.backend.
	Audit   audit.Backend
	Blobs   blob.Store
	Catalog *catalog.Service
	Sites   *sites.Registry
	Jobs    *jobs.Service
	// Instruments is the lab's instrument registry (drivers keep their
	// state under DATA_DIR/lab).
	Instruments *instruments.Registry
	// Campaigns runs closed-loop campaigns on instruments and sites.
	Campaigns *campaign.Service
	// Literature is the literature service (publications, passages, facts).
	Literature *library.Service
	// AuditKey is the verifier key of the audit log's checkpoints.
	AuditKey string
	// Agent runs research agents; Chat is its chat model (nil: none).
	Agent *agent.Service
	Chat  llm.Chatter
	// MCP serves the Model Context Protocol at /mcp.
	MCP *mcp.Server
	// Mission is the mission plan, its live status and the risk register.
	Mission *plan.Service
	// Challenges manages the national challenges (issue 15).
	Challenges *mission.Service
	// Reports makes the annual progress report; the mission services
	// reach it through Reports.SetSources.
	Reports *report.Service
	// Partners is the partnerships portfolio (issue 15).
	Partners *partners.Service
	API      *httpapi.Server
	// Console is the web console, served by API at every path outside
	// /api/.
	Console *console.Console
	// Leases decide which replica runs each background loop; ReplicaID
	// (config replica.id, default hostname-pid) names this one in them.
	Leases    *lease.Leases
	ReplicaID string
	// loops counts the leased background loops still running, so that
	// Serve returns after they have released their leases.
	loops sync.WaitGroup

	// Metrics are the server's Prometheus metrics, served at /metrics on
	// telemetry.metrics_addr when that is set (see ServeMetrics).
	Metrics *telemetry.Metrics
	// stopTracing flushes and stops the OTLP exporter (nil: tracing off).
	stopTracing func(context.Context) error

	lock *os.File
	// storeLock guards a SQLite store file against a second process
	// (with another data directory).
	storeLock *os.File

	backendsMu sync.Mutex
	backends   map[string]builtBackend // by site ID
	search     search.Index
}

// Open builds the system from cfg: it takes the data-dir lock, opens and
// migrates the metadata store and constructs the services. Close releases
// everything.
func Open(ctx context.Context, cfg config.Config, log *slog.Logger) (_ *App, err error) {
	const op errors.Op = "app.Open"
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Paths made from the data directory outlive this call — job working
	// directories are handed to compute sites, which need them absolute.
	abs, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("data_dir"), errors.Msg("cannot resolve data dir: "+err.Error()))
	}
	cfg.DataDir = abs
	log = slog.New(telemetry.RequestIDHandler(log.Handler())) // every line of a request carries its ID
	a := &App{Config: cfg, Log: log, Metrics: telemetry.NewMetrics()}
	defer func() {
		if err != nil {
			a.Close()
		}
	}()
	// Traversable by others, not listable: a site that runs jobs as its
	// own user on this file system (Slurm, IRI) reaches their working
	// directories under compute/; everything else in it is in a 0750
	// directory or a 0600 file.
	if err := os.MkdirAll(cfg.DataDir, 0o711); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("data_dir"), errors.Msg("cannot create data dir: "+err.Error()))
	}
	if a.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	for sub, mode := range map[string]os.FileMode{"audit": 0o750, "keys": 0o750, "compute": 0o711, "compute/jobs": 0o711, "campaigns": 0o750} {
		if err := os.MkdirAll(filepath.Join(cfg.DataDir, sub), mode); err != nil {
			return nil, errors.E(op, errors.Internal, err)
		}
	}
	if u, _ := config.BlobURL(cfg.Blob.URL); u != nil && u.Scheme == "file" {
		if err := os.MkdirAll(u.Path, 0o750); err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("blob.url"), errors.Msg("cannot create blob dir: "+err.Error()))
		}
	}

	kind, dsn, _ := config.StoreDSN(cfg.Store.DSN)
	switch kind {
	case "sqlite":
		if a.storeLock, err = lockSQLite(dsn); err != nil {
			return nil, err
		}
		a.DB, err = sqlite.Open(ctx, dsn)
	case "postgres":
		a.DB, err = postgres.Open(ctx, dsn)
	}
	if err != nil {
		return nil, err
	}
	n, err := store.Migrate(ctx, a.DB)
	if err != nil {
		return nil, err
	}
	if n > 0 {
		log.Info("migrated the metadata store", "steps", n, "backend", kind)
	}

	var idOpts []identity.Option
	if cfg.OIDC.Issuer != "" {
		v, err := identity.NewOIDC(ctx, cfg.OIDC.Issuer, cfg.OIDC.Audience)
		if err != nil {
			return nil, err
		}
		idOpts = append(idOpts, identity.WithOIDC(v))
	}
	a.Identity = identity.New(a.DB, idOpts...)
	if a.Authz, err = authz.New(a.Identity, time.Now); err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	pv, err := policystore.Active(ctx, a.DB)
	if err != nil {
		return nil, err
	}
	if pv.Version > 0 {
		// A stored policy that no longer loads stops the start: running on
		// a different policy than the one on record would not fail closed.
		if err := a.Authz.SetPolicySource([]byte(pv.Source)); err != nil {
			return nil, errors.E(op, errors.Internal, errors.Msg(fmt.Sprintf("stored policy version %d does not load: %v", pv.Version, err)))
		}
		log.Info("authorization policy", "version", pv.Version)
	}
	if err := a.openAudit(ctx); err != nil {
		return nil, err
	}
	if a.Blobs, err = openBlobs(ctx, cfg.Blob.URL, cfg.Blob.CompressionLevel()); err != nil {
		return nil, err
	}
	a.Catalog = catalog.New(catalog.Config{DB: a.DB, Blobs: a.Blobs, Authz: a.Authz, Principals: a.Identity, Audit: a.Audit})
	if err := a.Catalog.LoadExtensionSchemas(ctx); err != nil {
		return nil, err
	}
	ix, err := search.New(a.DB)
	if err != nil {
		return nil, err
	}
	a.Catalog.SetSearch(ix)
	a.search = ix
	keyPath, makeKey := cfg.Replica.SecretsKeyFile, false
	if keyPath == "" {
		keyPath, makeKey = filepath.Join(cfg.DataDir, "keys", "secrets.key"), true
	}
	secret, err := secretsKey(keyPath, makeKey)
	if err != nil {
		return nil, errors.E(op, errors.Internal, errors.Field("replica.secrets_key_file"), errors.Msg("cannot load the secrets key: "+err.Error()))
	}
	// Replicas on one store must encrypt site credentials with one key.
	if err := checkDeploymentKey(ctx, a.DB, "site-credentials", secret, time.Now()); err != nil {
		return nil, err
	}
	if a.Sites, err = sites.New(a.DB, a.Authz, a.Identity, secret); err != nil {
		return nil, err
	}
	// A site's backend is built from its credentials: when they change,
	// or the site goes, the next use builds it again.
	a.Sites.OnCredentials(func(siteID string) {
		a.backendsMu.Lock()
		defer a.backendsMu.Unlock()
		delete(a.backends, siteID)
	})
	if err := os.MkdirAll(cfg.JobsDir(), 0o711); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field("replica.jobs_dir"), errors.Msg("cannot create the jobs dir: "+err.Error()))
	}
	a.Jobs = jobs.New(a.DB, a.Authz, a.Identity, a.Catalog, a.Sites, cfg.JobsDir())
	a.Jobs.Backend = a.backendFor
	a.Jobs.Audit = a.Audit
	a.Instruments = instruments.New(a.DB, a.Authz, a.Identity, filepath.Join(cfg.DataDir, "lab"))
	a.Instruments.Audit, a.Instruments.Log = a.Audit, log
	if err := os.MkdirAll(filepath.Join(cfg.DataDir, "campaigns"), 0o750); err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	a.Campaigns = campaign.New(a.DB, a.Authz, a.Identity, a.Catalog, a.Audit)
	a.Campaigns.WorkDir = filepath.Join(cfg.DataDir, "campaigns")
	a.Campaigns.SetFleet(a.Instruments)
	a.Campaigns.SetJobs(campaign.NewJobExecutor(a.Jobs, a.Identity))
	a.Campaigns.OnError = func(err error) { log.Warn("campaign runner", "err", err) }
	// A restarted process keeps its runner ID (kept in the data dir), so it
	// takes its campaigns back at once rather than after their leases expire.
	rid, err := runnerID(filepath.Join(cfg.DataDir, "keys", "runner.id"))
	if err != nil {
		return nil, errors.E(op, errors.Internal, errors.Msg("cannot read or write the runner ID"), err)
	}
	a.Campaigns.SetRunnerID(rid)
	// Background loops run on one replica at a time, under leases.
	a.Leases, a.ReplicaID = lease.New(a.DB), cfg.ReplicaID()
	// A scheduling round records its placements only while this replica
	// still holds the scheduler's lease with the round's token (rounds
	// run outside a lease only in tests and benchmarks).
	// An administrator's gc runs on one replica at a time.
	a.Catalog.SetExclusive(func(ctx context.Context, name string, work func(context.Context) error) error {
		return a.Leases.Do(ctx, name, a.ReplicaID, 0, work)
	})
	a.Jobs.Fence = func(ctx context.Context, tx store.Tx) error {
		l, ok := lease.FromContext(ctx)
		if !ok {
			return nil
		}
		return a.Leases.Fence(ctx, tx, l.Name, l.Token)
	}
	// National challenges: progress computed from campaigns and models.
	if a.Challenges, err = mission.New(mission.Config{DB: a.DB, Authz: a.Authz, Identity: a.Identity, Catalog: a.Catalog, Campaigns: a.Campaigns,
		Sites: a.Sites, Fleet: a.Instruments, Audit: a.Audit}); err != nil {
		return nil, errors.E(op, err)
	}
	// The literature embeds passages when an embedding endpoint is
	// configured (hybrid search); without one it searches by BM25 alone.
	var emb llm.Embedder
	if cfg.LLM.EmbedURL != "" {
		lc, err := llm.New(cfg.LLM)
		if err != nil {
			return nil, errors.E(op, err)
		}
		emb = lc.Embedder()
		log.Info("literature: hybrid search", "embedding_model", cfg.LLM.EmbedModel)
	} else {
		log.Info("literature: no embedding endpoint configured (llm.embed_url); passage search is BM25 only")
	}
	if a.Literature, err = library.New(library.Config{DB: a.DB, Catalog: a.Catalog, Index: ix, Authz: a.Authz, Principals: a.Identity,
		Audit: a.Audit, Embedder: emb, Logger: log}); err != nil {
		return nil, errors.E(op, err)
	}
	if err := a.openAgents(cfg, log); err != nil {
		return nil, errors.E(op, err)
	}
	// Synthetic dataset versions name jobs, campaigns and simulators as
	// their generators; the portfolio reads what partners hold and use.
	a.Catalog.SetGenerators(generators{jobs: a.Jobs, campaigns: a.Campaigns, instruments: a.Instruments})
	a.Partners = partners.New(a.DB, a.Authz, a.Identity, nil)
	// The MCP server's tools run as the caller through the services above.
	a.MCP = mcp.New(mcp.Config{Catalog: a.Catalog, Campaigns: a.Campaigns, Library: a.Literature, Agent: a.Agent, Audit: a.Audit, Logger: log, Version: Version})
	a.Reports = report.New(report.Config{Catalog: a.Catalog, Jobs: a.Jobs, Campaigns: a.Campaigns, Audit: a.Audit})
	if err := a.openMission(ctx); err != nil {
		return nil, errors.E(op, err)
	}
	consoleOIDC, err := openConsoleOIDC(ctx, cfg, a.DB) // the console's OIDC sign-in (nil when not configured)
	if err != nil {
		return nil, errors.E(op, err)
	}
	a.Console = console.New(console.Config{DB: a.DB, Identity: a.Identity, Catalog: a.Catalog, Campaigns: a.Campaigns, Challenges: a.Challenges,
		Sites: a.Sites, Instruments: a.Instruments, Jobs: a.Jobs, Authz: a.Authz, Audit: a.Audit, AuditKey: a.AuditKey, Logger: log,
		OIDC: consoleOIDC, PublicURL: cfg.Console.PublicURL,
	})
	tracer, err := a.openTelemetry(ctx)
	if err != nil {
		return nil, errors.E(op, err)
	}
	a.API = httpapi.New(httpapi.Config{DB: a.DB, Identity: a.Identity, Authz: a.Authz, AuditLog: a.Audit, AuditKey: a.AuditKey,
		Catalog: a.Catalog, Sites: a.Sites, Jobs: a.Jobs, Instruments: a.Instruments, Campaigns: a.Campaigns, Literature: a.Literature, Agent: a.Agent,
		MCP: a.MCP.Handler(), Challenges: a.Challenges, Logger: log, Mission: a.Mission, Reports: a.Reports, Partners: a.Partners,
		Console: a.Console,
		Metrics: a.Metrics, Tracer: tracer, ReadyChecks: a.readyChecks()})
	a.Console.SetActivity(a.API) // the API decides who reads which audit record
	a.Mission.Audit = a.API      // the API decides who reads which audit record
	a.Reports.SetSources(a.reportSources())
	return a, nil
}

// openConsoleOIDC sets up the console's "Sign in with <issuer>" when
// oidc.issuer and console.public_url are both configured; the client ID is
// oidc.audience and the secret GENESIS_OIDC_CLIENT_SECRET or
// oidc.client_secret_file.
func openConsoleOIDC(ctx context.Context, cfg config.Config, db store.DB) (*console.OIDCSignIn, error) {
	if cfg.OIDC.Issuer == "" || cfg.Console.PublicURL == "" {
		return nil, nil
	}
	secret, err := cfg.OIDCClientSecret(os.Getenv)
	if err != nil {
		return nil, err
	}
	pub, err := config.ConsolePublicURL(cfg.Console.PublicURL)
	if err != nil {
		return nil, err
	}
	return console.NewOIDCSignIn(ctx, console.OIDCConfig{Issuer: cfg.OIDC.Issuer, ClientID: cfg.OIDC.Audience, ClientSecret: secret, PublicURL: pub.String(), DB: db})
}

// abandonLocalJobs kills the jobs running on this replica's local sites
// and records them lost (local.Backend.Abandon).
func (a *App) abandonLocalJobs(why string) {
	a.backendsMu.Lock()
	var lbs []*local.Backend
	for _, bb := range a.backends {
		if lb, ok := bb.b.(*local.Backend); ok {
			lbs = append(lbs, lb)
		}
	}
	a.backendsMu.Unlock()
	for _, lb := range lbs {
		if n := lb.Abandon(why); n > 0 {
			a.Log.Warn("killed local jobs: the scheduler's lease was lost", "jobs", n)
		}
	}
}

// backendFor returns (and keeps) the backend that runs jobs on a site.
func (a *App) backendFor(ctx context.Context, s *sites.Site) (compute.Backend, error) {
	a.backendsMu.Lock()
	defer a.backendsMu.Unlock()
	if a.backends == nil {
		a.backends = map[string]builtBackend{}
	}
	// By ID: a site removed and added again under its name is new (a
	// site's kind and endpoint never change).
	key := s.ID
	// A site's credentials may have been rotated through another replica
	// (OnCredentials tells only the one that did it): a backend built
	// from credentials is used only while they are still the stored ones.
	var cred string
	if s.Kind != sites.KindLocal {
		var err error
		if cred, err = a.Sites.Credentials(ctx, s.ID); err != nil {
			return nil, err
		}
	}
	if bb, ok := a.backends[key]; ok && bb.cred == cred {
		return bb.b, nil
	}
	var b compute.Backend
	switch s.Kind {
	case sites.KindLocal:
		lb, err := local.New(filepath.Join(a.Config.DataDir, "compute", "local", s.Name), local.Options{})
		if err != nil {
			return nil, err
		}
		b = lb
	case sites.KindSlurm:
		var c struct{ User, Token, Partition string }
		if err := json.Unmarshal([]byte(cred), &c); err != nil || c.User == "" || c.Token == "" {
			return nil, errors.E(errors.Op("app.backendFor"), errors.Invalid, errors.Msg("slurm site credentials must be JSON {\"user\": …, \"token\": …}"))
		}
		sb, err := slurm.New(slurm.Config{URL: s.Endpoint, User: c.User, Token: c.Token, Partition: c.Partition})
		if err != nil {
			return nil, err
		}
		b = sb
	case sites.KindIRI:
		// A DOE IRI Facility API v2 endpoint. Job directories must be on a
		// file system the facility's compute nodes share with this server
		// (as for Slurm).
		var c struct{ Token, Resource, Project string }
		if err := json.Unmarshal([]byte(cred), &c); err != nil || c.Token == "" || c.Resource == "" {
			return nil, errors.E(errors.Op("app.backendFor"), errors.Invalid, errors.Msg("iri site credentials must be JSON {\"token\": …, \"resource\": …, \"project\": …}"))
		}
		ib, err := iri.NewClient(iri.ClientConfig{URL: s.Endpoint, Token: c.Token, Resource: c.Resource, Project: c.Project})
		if err != nil {
			return nil, err
		}
		b = ib
	default:
		return nil, errors.E(errors.Op("app.backendFor"), errors.Unavailable, errors.Msg("no backend for "+s.Kind+" sites yet"))
	}
	a.backends[key] = builtBackend{b: b, cred: cred}
	return b, nil
}

// builtBackend is a site's backend and the credentials it was built from.
type builtBackend struct {
	b    compute.Backend
	cred string
}

// secretsKey loads (creating on first start when create is set, mode 0600)
// the 32-byte key that encrypts site credentials at rest.
func secretsKey(path string, create bool) ([]byte, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) && create {
		b = make([]byte, 32)
		rand.Read(b)
		if err := WriteSecretFile(path, b); err != nil {
			return nil, err
		}
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	if len(b) != 32 {
		return nil, fmt.Errorf("%s must hold 32 bytes", path)
	}
	return b, nil
}

// openBlobs opens the blob store named by a blob URL: a local directory
// (file:///path or a plain path) or S3-compatible storage (s3://…); new
// chunks are stored at the given compression level.
func openBlobs(ctx context.Context, raw string, level chunk.Level) (blob.Store, error) {
	const op errors.Op = "app.openBlobs"
	u, err := config.BlobURL(raw)
	if err != nil {
		return nil, err
	}
	switch u.Scheme {
	case "file":
		st, err := localdisk.Open(u.Path, localdisk.Options{Compression: level})
		if err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("blob.url"), errors.Msg("cannot open the blob directory: "+errors.SafeMessage(err)), err)
		}
		return st, nil
	case "s3":
		// s3://ACCESS:SECRET@host:port/bucket[/prefix][?secure=true]
		hu := *u
		hu.Scheme = "http"
		if hu.Query().Get("secure") == "true" {
			hu.Scheme = "https"
		}
		hu.RawQuery = ""
		c, err := s3.ParseURL(hu.String())
		if err != nil {
			return nil, errors.E(op, errors.Invalid, errors.Field("blob.url"), err)
		}
		c.CreateBucket = true
		c.Compression = level
		st, err := s3.Open(ctx, c)
		if err != nil {
			return nil, errors.E(op, errors.Transient, errors.Field("blob.url"), errors.Msg("cannot reach the S3 blob store"), err)
		}
		return st, nil
	}
	return nil, errors.E(op, errors.Invalid, errors.Field("blob.url"), errors.Msg("unsupported blob store"))
}

// openAudit opens the audit log in DATA_DIR/audit, creating on first start
// the deployment ID, the Ed25519 checkpoint key (DATA_DIR/keys/audit.key,
// mode 0600; the verifier key beside it as audit.key.pub) and the secret
// key of the records' label hashes (DATA_DIR/keys/audit-label.key, 0600).
//
// The keys come from the configuration instead when it names them
// (ConfiguredAuditKeys); with audit.backend store they must.
func (a *App) openAudit(ctx context.Context) error {
	const op errors.Op = "app.openAudit"
	keys, err := ConfiguredAuditKeys(a.Config, os.Getenv)
	if err != nil {
		return err
	}
	if a.Config.AuditStore() {
		if err := a.openSharedAudit(ctx, keys); err != nil {
			return err
		}
		a.auditQueueGauge()
		return nil
	}
	idPath := filepath.Join(a.Config.DataDir, "deployment-id")
	id, err := os.ReadFile(idPath)
	if os.IsNotExist(err) {
		var b [8]byte
		rand.Read(b[:])
		id = []byte(hex.EncodeToString(b[:]))
		if err := WriteSecretFile(idPath, append(id, '\n')); err != nil {
			return errors.E(op, errors.Internal, err)
		}
	} else if err != nil {
		return errors.E(op, errors.Internal, err)
	}
	keyPath := filepath.Join(a.Config.DataDir, "keys", "audit.key")
	if _, err := os.Stat(keyPath); os.IsNotExist(err) && keys.Signer == nil {
		if _, err := audit.WriteKeyFiles(keyPath, audit.Origin(strings.TrimSpace(string(id)))); err != nil {
			return errors.E(op, errors.Internal, err)
		}
	}
	signer, verifier := keys.Signer, keys.Verifier
	a.AuditKey = keys.VerifierKey
	if signer == nil {
		if signer, verifier, err = audit.LoadSigner(keyPath); err != nil {
			return errors.E(op, errors.Internal, errors.Msg("cannot load the audit key "+keyPath), err)
		}
		pub, err := os.ReadFile(keyPath + ".pub")
		if err != nil {
			return errors.E(op, errors.Internal, err)
		}
		a.AuditKey = strings.TrimSpace(string(pub))
	}
	// The secret key of the records' label hashes lives beside the signing
	// key (and is made on first start, also for a log written before it).
	labelKey := keys.Label
	if labelKey == nil {
		labelKeyPath := filepath.Join(a.Config.DataDir, "keys", "audit-label.key")
		if _, err := os.Stat(labelKeyPath); os.IsNotExist(err) {
			if err := audit.WriteLabelKeyFile(labelKeyPath); err != nil {
				return errors.E(op, errors.Internal, err)
			}
		}
		if labelKey, err = audit.LoadLabelKey(labelKeyPath); err != nil {
			return errors.E(op, errors.Internal, errors.Msg("cannot load the audit label key "+labelKeyPath), err)
		}
	}
	l, err := audit.Open(ctx, filepath.Join(a.Config.DataDir, "audit"), audit.Options{Signer: signer, Verifier: verifier, LabelKey: labelKey, Logger: a.Log,
		OnAppend: a.Metrics.AuditAppend})
	if err != nil {
		return errors.E(op, errors.Internal, errors.Msg("cannot open the audit log"), err)
	}
	a.Audit = l
	a.auditQueueGauge()
	return nil
}

// auditQueueGauge exports the audit writer's queue length.
func (a *App) auditQueueGauge() {
	l := a.Audit
	a.Metrics.Gauge("genesis_audit_queue_records", "Audit records sequenced but not yet written (the writer's queue).",
		func() float64 { return float64(l.Pending()) })
}

// Close releases the store, the audit log (flushing it) and the data-dir
// lock.
func (a *App) Close() error {
	var err error
	if a.stopTracing != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.stopTracing(ctx) // spans not sent by then are dropped
		cancel()
		a.stopTracing = nil
	}
	if a.Instruments != nil {
		a.Instruments.Close()
	}
	if a.Audit != nil {
		err = a.Audit.Close()
		a.Audit = nil
	}
	if a.DB != nil {
		if e := a.DB.Close(); err == nil {
			err = e
		}
		a.DB = nil
	}
	if a.storeLock != nil {
		a.storeLock.Close()
		a.storeLock = nil
	}
	if a.lock != nil {
		a.lock.Close() // releases the flock
		a.lock = nil
	}
	return err
}

// maxConnections bounds the connections the API serves at once.
const maxConnections = 4096

// limitListener accepts at most n connections at a time.
func limitListener(ln net.Listener, n int) net.Listener {
	return &limitedListener{Listener: ln, slots: make(chan struct{}, n)}
}

type limitedListener struct {
	net.Listener
	slots chan struct{}
}

func (l *limitedListener) Accept() (net.Conn, error) {
	l.slots <- struct{}{}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
}

type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// Serve serves the API on ln until ctx ends, then shuts down gracefully:
// it stops accepting, lets in-flight requests finish (up to drain), and
// returns.
func (a *App) Serve(ctx context.Context, ln net.Listener, drain time.Duration) error {
	server := func() *http.Server {
		return &http.Server{
			Handler:           a.API,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       2 * time.Minute,
			ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
			BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		}
	}
	srv := server()
	// Connections beyond maxConnections wait in the listen backlog: a
	// flood of clients can slow the server down but not exhaust its file
	// descriptors. (Request bodies have read deadlines that move with
	// their progress; see httpapi/limits.go.)
	ln = limitListener(ln, maxConnections)
	if a.Config.Listen.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(a.Config.Listen.TLSCert, a.Config.Listen.TLSKey)
		if err != nil {
			return errors.E(errors.Op("app.Serve"), errors.Invalid, errors.Field("listen.tls_cert"), errors.Msg("cannot load the TLS key pair: "+err.Error()))
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	// Prometheus scrapes /metrics on a listener of its own.
	if addr := a.Config.Telemetry.MetricsAddr; addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			return errors.E(errors.Op("app.Serve"), errors.Invalid, errors.Field("telemetry.metrics_addr"), errors.Msg("cannot listen on "+addr+": "+err.Error()))
		}
		a.Log.Info("serving Prometheus metrics", "url", "http://"+mln.Addr().String()+"/metrics")
		go func() {
			if err := a.ServeMetrics(ctx, mln); err != nil && ctx.Err() == nil {
				a.Log.Error("metrics listener stopped", "err", err)
			}
		}()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// Same-host clients may also come through a Unix socket in the data
	// directory (see httpapi/local.go).
	var usrv *http.Server
	if uln := a.listenLocal(); uln != nil {
		usrv = server()
		usrv.ConnContext = httpapi.PeerConnContext
		go usrv.Serve(uln)
	}
	// Background loops stop with ctx. Those that work on the shared store
	// run under a lease each (see leased), so that of several replicas one
	// does each at a time and another takes over when it dies.
	mon := &sites.Monitor{Registry: a.Sites, Every: 10 * time.Second, OnError: func(err error) { a.Log.Warn("site heartbeat monitor", "err", err) }}
	a.leased(ctx, LeaseSiteMonitor, mon.Run)
	// Slurm and IRI sites that send no heartbeats are probed instead.
	probe := &sites.Prober{Registry: a.Sites, Backend: a.backendFor, Every: 15 * time.Second, OnError: func(err error) { a.Log.Warn("site prober", "err", err) }}
	a.leased(ctx, LeaseSiteProbes, probe.Run)
	// Instruments' live status (and halts: error, offline, e-stopped).
	poll := &instruments.Poller{Registry: a.Instruments, Every: 5 * time.Second, OnError: func(err error) { a.Log.Warn("instrument poller", "err", err) }}
	a.leased(ctx, LeaseInstrumentPoller, poll.Run)
	// Temporary chunk files older than this start were left by an earlier
	// process (a crash before their upload committed): nothing can commit
	// them any more.
	if ld, ok := a.Blobs.(*localdisk.Store); ok {
		start := time.Now()
		go func() {
			n, err := ld.CleanTemp(ctx, time.Since(start))
			if err != nil && ctx.Err() == nil {
				a.Log.Warn("blob temp clean-up", "err", err)
			} else if n > 0 {
				a.Log.Info("removed temporary chunk files left by an earlier process", "files", n)
			}
		}()
	}
	// Search postings for documents indexed by an older version, and the
	// index's caches, are brought up to date in the background.
	if r, ok := a.search.(search.Reindexer); ok {
		a.leased(ctx, LeaseSearchReindex, func(ctx context.Context) error {
			if err := r.Reindex(ctx); err != nil && ctx.Err() == nil {
				a.Log.Warn("search reindex", "err", err)
			}
			return nil
		})
	}
	// Every replica loads its own search document cache (issue 17).
	if w, ok := a.search.(search.Warmer); ok {
		go func() {
			if err := w.Warm(ctx); err != nil && ctx.Err() == nil {
				a.Log.Warn("search cache warm-up", "err", err)
			}
		}()
	}
	if a.Literature != nil && a.Config.LLM.EmbedURL != "" {
		// Passages stored while no embedder was configured, or while the
		// endpoint was down, get their vectors (a search tolerates their
		// absence meanwhile).
		a.leased(ctx, LeaseLiteratureEmbed, func(ctx context.Context) error {
			n, err := a.Literature.ReindexVectors(ctx)
			if err != nil && ctx.Err() == nil {
				a.Log.Warn("literature: embedding stored passages", "err", err, "embedded", n)
			} else if n > 0 {
				a.Log.Info("literature: embedded stored passages", "passages", n)
			}
			return nil
		})
	}
	a.leased(ctx, LeaseScheduler, func(lctx context.Context) error {
		// The scheduler's lease lost while this replica lives on (its
		// store stalled or partitioned): the next holder will not know
		// the jobs running on this replica's local sites and will place
		// them again, so they are killed now — before the lease can
		// expire in the store — and recorded lost (abandonLocalJobs).
		stop := context.AfterFunc(lctx, func() {
			if ctx.Err() == nil {
				a.abandonLocalJobs("this replica lost the scheduler's lease; the job runs again where the scheduler places it")
			}
		})
		defer stop()
		return a.Jobs.Run(lctx, 500*time.Millisecond, func(err error) { a.Log.Warn("scheduler", "err", err) })
	})
	// Every replica follows the stored policy: one replaced through
	// another replica is in force here within a second.
	fol := &policystore.Follower{DB: a.DB, Authz: a.Authz, OnError: func(err error) { a.Log.Warn("policy follower", "err", err) }}
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		fol.Run(ctx)
	}()
	// The campaign runner holds a lease per campaign ("campaign:ID" in
	// internal/lease): every replica runs it, and each campaign is driven
	// by one of them at a time.
	go func() {
		if err := a.Campaigns.Run(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("campaign runner stopped", "err", err)
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: finishing in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), drain)
	defer cancel()
	if usrv != nil {
		usrv.Shutdown(sctx)
	}
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	<-errc
	// The leased loops release their leases as they stop, so that another
	// replica (or this one restarted) takes them over at once.
	loopsDone := make(chan struct{})
	go func() { a.loops.Wait(); close(loopsDone) }()
	select {
	case <-loopsDone:
	case <-sctx.Done():
		a.Log.Warn("background loops still running after the drain period; their leases will expire")
	}
	return nil
}

// Lease names of the background loops (table leases).
const (
	LeaseScheduler        = "scheduler"
	LeaseSiteMonitor      = "site-monitor"
	LeaseSiteProbes       = "site-probes"
	LeaseInstrumentPoller = "instrument-poller"
	LeaseSearchReindex    = "search-reindex"
	LeaseLiteratureEmbed  = "literature-embed"
)

// leased runs work in the background under the lease name, held by this
// replica: with several replicas on one store exactly one runs it at a
// time, and when that one dies another takes over within
// lease.DefaultTTL+lease.DefaultRetry (8 s). With one process it simply
// runs. Work that returns by itself (one-shot work such as a reindex)
// releases the lease and is not run again by this replica.
func (a *App) leased(ctx context.Context, name string, work func(context.Context) error) {
	r := &lease.Runner{Leases: a.Leases, Name: name, Holder: a.ReplicaID,
		OnError: func(err error) { a.Log.Warn("lease", "lease", name, "err", err) },
		OnChange: func(l lease.Lease, held bool) {
			if held {
				a.Log.Info("holding lease", "lease", name, "replica", l.Holder, "token", l.Token)
			} else {
				a.Log.Info("no longer holding lease", "lease", name, "replica", l.Holder, "token", l.Token)
			}
		}}
	a.loops.Add(1)
	go func() {
		defer a.loops.Done()
		if err := r.Run(ctx, work); err != nil && ctx.Err() == nil {
			a.Log.Error("background loop stopped", "lease", name, "err", err)
		}
	}()
}

// maxSocketPath bounds a Unix socket's path (sun_path, with its NUL).
const maxSocketPath = 108

// listenLocal listens on DataDir/api.sock, readable and writable by this
// OS user only, and tells the API about it; nil (logged) when there is no
// data directory or the socket cannot be made — clients then use TCP.
func (a *App) listenLocal() net.Listener {
	if a.Config.DataDir == "" {
		return nil
	}
	dir, err := filepath.Abs(a.Config.DataDir)
	if err != nil {
		return nil
	}
	path := filepath.Join(dir, "api.sock")
	if len(path) >= maxSocketPath {
		a.Log.Info("no same-host socket: the data directory's path is too long for one", "path", path)
		return nil
	}
	// The data directory is this server's (it holds the flock): a socket
	// left there by an earlier process is stale.
	os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err == nil {
		err = os.Chmod(path, 0o600)
	}
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		a.Log.Warn("no same-host socket", "path", path, "err", err)
		return nil
	}
	a.API.SetLocalSocket(path)
	return ln
}

// lockDataDir takes an exclusive, non-blocking flock on DIR/genesis.lock.
// The kernel releases it when the process dies, even by kill -9, so a
// stale lock file never blocks a restart.
func lockDataDir(dir string) (*os.File, error) {
	return lockFile(filepath.Join(dir, "genesis.lock"), "data dir "+dir, "choose another --data-dir")
}

// lockSQLite takes an exclusive, non-blocking flock on PATH.lock beside a
// SQLite store file: SQLite is embedded in one process, and replicas
// (each with its own data directory) share a store only on PostgreSQL.
func lockSQLite(path string) (*os.File, error) {
	path, _, _ = strings.Cut(path, "?")
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file::memory:") {
		return nil, nil
	}
	return lockFile(path+".lock", "SQLite store "+path, "several replicas share a store only on PostgreSQL (store.dsn: postgres://…)")
}

// lockFile takes an exclusive, non-blocking flock on path, naming what it
// guards and what to do instead in the refusal.
func lockFile(path, what, instead string) (*os.File, error) {
	const op errors.Op = "app.lock"
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := io.ReadAll(io.LimitReader(f, 32))
		f.Close()
		holder := strings.TrimSpace(string(b))
		msg := what + " is in use by another genesis process"
		if _, err := strconv.Atoi(holder); err == nil {
			msg += " (pid " + holder + ")"
		}
		return nil, errors.E(op, errors.Conflict, errors.Msg(msg+"; stop it first or "+instead))
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	f.Sync()
	return f, nil
}

// WriteSecretFile writes data to path with mode 0600, atomically (temp
// file, fsync, rename), so a crash never leaves half a token.
func WriteSecretFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// NewLogger builds the server logger from the config.
func NewLogger(w io.Writer, c config.Log) *slog.Logger {
	var lvl slog.Level
	switch c.Level {
	case "debug":
		lvl = slog.LevelDebug
	case "warn":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// runnerID reads this data dir's campaign runner ID, making it on first use.
func runnerID(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil {
		if id := strings.TrimSpace(string(b)); id != "" {
			return id, nil
		}
	}
	id := identity.NewID("runner")
	if err := WriteSecretFile(path, []byte(id+"\n")); err != nil {
		return "", err
	}
	return id, nil
}
