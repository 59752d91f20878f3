// Package config is Genesis's one configuration struct: defaults, then a
// YAML or TOML file, then environment and flags, then Validate, whose errors
// name the offending field.
package config

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/llm"
	"github.com/genesis-science/genesis/internal/yamlsafe"
	"github.com/goccy/go-yaml"
)

// Config configures a Genesis server.
type Config struct {
	// DataDir holds the embedded defaults' state: the SQLite file, the
	// blob directory, the audit log, keys, the admin token and the lock.
	DataDir string `yaml:"data_dir" toml:"data_dir"`
	Listen  Listen `yaml:"listen" toml:"listen"`
	Store   Store  `yaml:"store" toml:"store"`
	Blob    Blob   `yaml:"blob" toml:"blob"`
	OIDC    OIDC   `yaml:"oidc" toml:"oidc"`
	Log     Log    `yaml:"log" toml:"log"`
	// LLM optionally names OpenAI-compatible language-model endpoints
	// (embeddings for hybrid literature search, chat for agents).
	LLM llm.Config `yaml:"llm" toml:"llm"`
	// Console configures the web console's public address (OIDC sign-in's
	// redirect URI, Secure cookies behind a TLS-terminating proxy).
	Console Console `yaml:"console" toml:"console"`
	// Replica names this process among the replicas sharing one store
	// (leases for background work); see Replica.
	Replica Replica `yaml:"replica" toml:"replica"`
	// Telemetry configures Prometheus metrics and OpenTelemetry traces.
	Telemetry Telemetry `yaml:"telemetry" toml:"telemetry"`
	// Audit chooses where the audit log lives and where its keys come
	// from; see Audit.
	Audit Audit `yaml:"audit" toml:"audit"`
	// NoDemo keeps `genesis up` from setting up its demo lab (a workcell of
	// simulated reactors and a campaign on them); not a file setting.
	NoDemo bool `yaml:"-" toml:"-"`
}

// Listen is where the API serves.
type Listen struct {
	Addr    string `yaml:"addr" toml:"addr"`
	TLSCert string `yaml:"tls_cert" toml:"tls_cert"`
	TLSKey  string `yaml:"tls_key" toml:"tls_key"`
}

// Store selects the metadata store: "sqlite:PATH" or "postgres://…".
type Store struct {
	DSN string `yaml:"dsn" toml:"dsn"`
}

// Blob selects the blob store: "file:///path" (or a plain path) or
// "s3://ACCESS:SECRET@host:port/bucket" (add "?secure=true" for TLS).
type Blob struct {
	URL string `yaml:"url" toml:"url"`
	// Compression is how new chunks are stored: "off" (raw), or a zstd
	// level — "fastest" (when empty), "default", "better", "best". On a
	// CSV + numeric-array mix "fastest" stores 1.5 % more than "default"
	// (and about what restic stores) at nearly half the CPU. Chunks that do
	// not shrink are stored raw at every level, and chunks stored under any
	// setting stay readable under every other.
	Compression string `yaml:"compression" toml:"compression"`
}

// CompressionLevel returns the configured level of new chunks
// (chunk.Fastest when unset). Validate has checked it.
func (b Blob) CompressionLevel() chunk.Level {
	if b.Compression == "" {
		return chunk.Fastest
	}
	l, err := chunk.ParseLevel(b.Compression)
	if err != nil {
		return chunk.Fastest
	}
	return l
}

// OIDC optionally accepts ID tokens from one issuer. With
// console.public_url set the console also offers "Sign in with <issuer>"
// (the authorization-code flow with PKCE, client ID = Audience).
type OIDC struct {
	Issuer   string `yaml:"issuer" toml:"issuer"`
	Audience string `yaml:"audience" toml:"audience"`
	// ClientSecretFile names a file holding the OIDC client's secret for
	// the console's sign-in (GENESIS_OIDC_CLIENT_SECRET overrides it; the
	// secret itself is never a config setting). A public client (PKCE
	// only) needs none.
	ClientSecretFile string `yaml:"client_secret_file" toml:"client_secret_file"`
}

// Console configures the web console.
type Console struct {
	// PublicURL is the console's address as browsers reach it
	// (https://genesis.example.org, no path): OIDC sign-in's redirect URI
	// is PublicURL/signin/oidc/callback, and an https URL makes session
	// cookies Secure even when a proxy terminates TLS.
	PublicURL string `yaml:"public_url" toml:"public_url"`
}

// Replica identifies one of several processes serving the same store.
type Replica struct {
	// ID names the replica in leases (who runs the scheduler, the site
	// probes…): unique among live replicas, at most 128 bytes, printable.
	// Empty means hostname-pid (ReplicaID).
	ID string `yaml:"id" toml:"id"`
	// SecretsKeyFile names the file (32 bytes, mode 0600) holding the key
	// that encrypts site credentials at rest. Every replica on one store
	// must have the same key: a replica whose key differs from the one
	// recorded in the store refuses to start. Empty means
	// DATA_DIR/keys/secrets.key, made on first start (one process).
	SecretsKeyFile string `yaml:"secrets_key_file" toml:"secrets_key_file"`
	// JobsDir is where jobs get their working directories (outputs are
	// committed from there, logs read from there). The replica that
	// completes a job may not be the one that placed it, so with several
	// replicas it must be one path on a file system they share (with the
	// Slurm or IRI facility's nodes too, as for one process). Empty means
	// DATA_DIR/compute/jobs.
	JobsDir string `yaml:"jobs_dir" toml:"jobs_dir"`
}

// JobsDir returns replica.jobs_dir, or DATA_DIR/compute/jobs.
func (c *Config) JobsDir() string {
	if c.Replica.JobsDir != "" {
		return c.Replica.JobsDir
	}
	return filepath.Join(c.DataDir, "compute", "jobs")
}

// ReplicaID returns replica.id, or hostname-pid when it is empty, so that
// two processes on one host never share an ID by default.
func (c *Config) ReplicaID() string {
	if c.Replica.ID != "" {
		return c.Replica.ID
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "genesis"
	}
	host = strings.Map(func(r rune) rune {
		if r < 0x21 || r > 0x7e {
			return '_'
		}
		return r
	}, host)
	if len(host) > 100 {
		host = host[:100]
	}
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// CheckReplicaID reports whether s may be a replica.id: 1 to 128 bytes of
// printable UTF-8 (no control characters).
func CheckReplicaID(s string) error {
	if s == "" {
		return bad("replica.id", "is empty")
	}
	if len(s) > 128 {
		return bad("replica.id", "is longer than 128 bytes")
	}
	if !utf8.ValidString(s) {
		return bad("replica.id", "is not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 {
			return bad("replica.id", "holds a control character")
		}
	}
	return nil
}

// Telemetry configures how operators watch the server. Both are off when
// empty.
type Telemetry struct {
	// MetricsAddr is a host:port where GET /metrics serves Prometheus
	// metrics, unauthenticated, on a listener of its own (as Prometheus
	// scrapes): keep it on a private network or 127.0.0.1.
	MetricsAddr string `yaml:"metrics_addr" toml:"metrics_addr"`
	// OTLPEndpoint is an OTLP/HTTP collector's URL
	// (http://collector:4318) to which a span per request is exported.
	OTLPEndpoint string `yaml:"otlp_endpoint" toml:"otlp_endpoint"`
}

// Audit configures the audit log.
type Audit struct {
	// Backend is "file" (the default: the log in DATA_DIR/audit, for one
	// process) or "store": the log shared by every replica, in the
	// metadata store's database (PostgreSQL for several replicas). Every
	// replica of a deployment must use "store" and the same keys.
	Backend string `yaml:"backend" toml:"backend"`
	// SigningKeyFile names the Ed25519 checkpoint key in signed-note
	// form (PRIVATE+KEY+origin+…, mode 0600, as `genesis audit keygen`
	// writes it); GENESIS_AUDIT_SIGNING_KEY (the same text) overrides it.
	// LabelKeyFile names the secret key of the records' label hashes (64
	// hex digits, mode 0600); GENESIS_AUDIT_LABEL_KEY overrides it. The
	// keys themselves are never config settings. Backend "store" needs
	// both; backend "file" uses them when given and otherwise makes its
	// own under DATA_DIR/keys on first start.
	SigningKeyFile string `yaml:"signing_key_file" toml:"signing_key_file"`
	LabelKeyFile   string `yaml:"label_key_file" toml:"label_key_file"`
}

// AuditStore reports whether the audit log is the shared one in the
// metadata store (audit.backend "store").
func (c *Config) AuditStore() bool { return c.Audit.Backend == "store" }

// MaxSecretFile bounds a secret file's size.
const MaxSecretFile = 8 << 10

// OIDCClientSecret returns the OIDC client's secret: the environment
// variable GENESIS_OIDC_CLIENT_SECRET if set, else the contents of
// oidc.client_secret_file (surrounding white space trimmed), else "".
func (c *Config) OIDCClientSecret(getenv func(string) string) (string, error) {
	if v := getenv("GENESIS_OIDC_CLIENT_SECRET"); v != "" {
		return checkSecret("GENESIS_OIDC_CLIENT_SECRET", v)
	}
	if c.OIDC.ClientSecretFile == "" {
		return "", nil
	}
	f, err := os.Open(c.OIDC.ClientSecretFile)
	if err != nil {
		return "", bad("oidc.client_secret_file", "cannot read "+c.OIDC.ClientSecretFile)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSecretFile+1))
	if err != nil {
		return "", bad("oidc.client_secret_file", "cannot read "+c.OIDC.ClientSecretFile)
	}
	if len(b) > MaxSecretFile {
		return "", bad("oidc.client_secret_file", "longer than 8 KiB; is it the secret?")
	}
	return checkSecret("oidc.client_secret_file", string(b))
}

func checkSecret(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", bad(field, "is empty")
	}
	for _, r := range s {
		if r < 0x21 || r > 0x7e {
			return "", bad(field, "holds a character not allowed in a client secret (spaces, control characters or non-ASCII)")
		}
	}
	return s, nil
}

// ConsolePublicURL parses console.public_url: "" is nil; otherwise an
// absolute http(s) URL with a host and no path, query, fragment or
// credentials.
func ConsolePublicURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, bad("console.public_url", "must be the console's absolute https:// URL, e.g. https://genesis.example.org")
	}
	if u.User != nil {
		return nil, bad("console.public_url", "must not hold credentials")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, bad("console.public_url", "must be scheme and host only (the console is served at /), without path, query or fragment")
	}
	u.Path = ""
	return u, nil
}

// Log configures the server log.
type Log struct {
	Level  string `yaml:"level" toml:"level"`   // debug, info, warn, error
	Format string `yaml:"format" toml:"format"` // text, json
}

// Default returns the embedded defaults rooted at dataDir.
func Default(dataDir string) Config {
	if dataDir == "" {
		dataDir = "./genesis-data"
	}
	return Config{
		DataDir: dataDir,
		Listen:  Listen{Addr: "127.0.0.1:8080"},
		Store:   Store{DSN: "sqlite:" + filepath.Join(dataDir, "genesis.db")},
		Blob:    Blob{URL: "file://" + filepath.Join(dataDir, "blobs")},
		Log:     Log{Level: "info", Format: "text"},
	}
}

// Load reads a YAML (.yaml, .yml) or TOML (.toml) file over the defaults.
// Unknown keys are errors.
func Load(path string) (Config, error) {
	const op errors.Op = "config.Load"
	b, err := os.ReadFile(path)
	if err != nil {
		return Config{}, errors.E(op, errors.Invalid, errors.Msg("cannot read config file: "+err.Error()))
	}
	return Parse(path, b)
}

// Parse decodes config file contents; name's extension picks the format.
func Parse(name string, b []byte) (Config, error) {
	const op errors.Op = "config.Parse"
	c := Config{Log: Log{Level: "info", Format: "text"}, Listen: Listen{Addr: "127.0.0.1:8080"}}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml":
		if msg := yamlsafe.Check(b); msg != "" {
			return Config{}, errors.E(op, errors.Invalid, errors.Msg(name+": "+msg))
		}
		if err := yamlsafe.Decode(b, &c, yaml.Strict()); err != nil {
			return Config{}, errors.E(op, errors.Invalid, errors.Msg(name+": "+firstLine(yaml.FormatError(err, false, true))))
		}
	case ".toml":
		md, err := toml.NewDecoder(bytes.NewReader(b)).Decode(&c)
		if err != nil {
			return Config{}, errors.E(op, errors.Invalid, errors.Msg(name+": "+firstLine(err.Error())))
		}
		if un := md.Undecoded(); len(un) > 0 {
			return Config{}, errors.E(op, errors.Invalid, errors.Field(un[0].String()), errors.Msg(fmt.Sprintf("%s: unknown field %q", name, un[0].String())))
		}
	default:
		return Config{}, errors.E(op, errors.Invalid, errors.Msg(name+": config files must end in .yaml, .yml or .toml"))
	}
	if c.DataDir != "" {
		d := Default(c.DataDir)
		if c.Store.DSN == "" {
			c.Store.DSN = d.Store.DSN
		}
		if c.Blob.URL == "" {
			c.Blob.URL = d.Blob.URL
		}
	}
	return c, nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// ApplyEnv overrides fields from GENESIS_* variables. (The language
// model's key, GENESIS_LLM_API_KEY, is read by llm.New, never stored here.)
func (c *Config) ApplyEnv(getenv func(string) string) {
	set := func(dst *string, name string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	set(&c.Listen.Addr, "GENESIS_ADDR")
	set(&c.Store.DSN, "GENESIS_STORE_DSN")
	set(&c.Blob.URL, "GENESIS_BLOB_URL")
	set(&c.Blob.Compression, "GENESIS_BLOB_COMPRESSION")
	set(&c.Log.Level, "GENESIS_LOG_LEVEL")
	set(&c.Log.Format, "GENESIS_LOG_FORMAT")
	set(&c.Telemetry.MetricsAddr, "GENESIS_METRICS_ADDR")
	set(&c.Telemetry.OTLPEndpoint, "GENESIS_OTLP_ENDPOINT")
	set(&c.Console.PublicURL, "GENESIS_CONSOLE_PUBLIC_URL")
	set(&c.LLM.ChatURL, "GENESIS_LLM_CHAT_URL")
	set(&c.LLM.ChatModel, "GENESIS_LLM_CHAT_MODEL")
	set(&c.LLM.EmbedURL, "GENESIS_LLM_EMBED_URL")
	set(&c.LLM.EmbedModel, "GENESIS_LLM_EMBED_MODEL")
	set(&c.Replica.ID, "GENESIS_REPLICA_ID")
	set(&c.Replica.SecretsKeyFile, "GENESIS_SECRETS_KEY_FILE")
	set(&c.Replica.JobsDir, "GENESIS_JOBS_DIR")
	set(&c.Audit.Backend, "GENESIS_AUDIT_BACKEND")
}

func bad(field, msg string) error {
	return errors.E(errors.Op("config.Validate"), errors.Invalid, errors.Field(field), errors.Msg(field+": "+msg))
}

// Validate checks the configuration; errors name the bad field.
func (c *Config) Validate() error {
	if c.DataDir == "" {
		return bad("data_dir", "is required (it holds the audit log, keys and the lock file)")
	}
	if _, port, err := net.SplitHostPort(c.Listen.Addr); err != nil || port == "" {
		return bad("listen.addr", fmt.Sprintf("%q is not host:port", c.Listen.Addr))
	}
	if (c.Listen.TLSCert == "") != (c.Listen.TLSKey == "") {
		return bad("listen.tls_key", "tls_cert and tls_key go together")
	}
	for field, p := range map[string]string{"listen.tls_cert": c.Listen.TLSCert, "listen.tls_key": c.Listen.TLSKey} {
		if p != "" {
			if _, err := os.Stat(p); err != nil {
				return bad(field, "cannot read "+p)
			}
		}
	}
	if _, _, err := StoreDSN(c.Store.DSN); err != nil {
		return err
	}
	if _, err := BlobURL(c.Blob.URL); err != nil {
		return err
	}
	if c.Blob.Compression != "" {
		if _, err := chunk.ParseLevel(c.Blob.Compression); err != nil {
			return bad("blob.compression", "must be off, fastest, default, better or best")
		}
	}
	if c.OIDC.Issuer != "" || c.OIDC.Audience != "" {
		u, err := url.Parse(c.OIDC.Issuer)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return bad("oidc.issuer", "must be the issuer's https:// URL")
		}
		if c.OIDC.Audience == "" {
			return bad("oidc.audience", "is required with oidc.issuer (the client ID tokens are issued for)")
		}
	}
	if c.OIDC.ClientSecretFile != "" {
		if c.OIDC.Issuer == "" {
			return bad("oidc.client_secret_file", "needs oidc.issuer and oidc.audience (the client the secret belongs to)")
		}
		if _, err := os.Stat(c.OIDC.ClientSecretFile); err != nil {
			return bad("oidc.client_secret_file", "cannot read "+c.OIDC.ClientSecretFile)
		}
	}
	if _, err := ConsolePublicURL(c.Console.PublicURL); err != nil {
		return err
	}
	switch c.Audit.Backend {
	case "", "file", "store":
	default:
		return bad("audit.backend", "must be file or store")
	}
	for field, p := range map[string]string{"audit.signing_key_file": c.Audit.SigningKeyFile, "audit.label_key_file": c.Audit.LabelKeyFile} {
		if p != "" {
			if _, err := os.Stat(p); err != nil {
				return bad(field, "cannot read "+p)
			}
		}
	}
	if c.Replica.ID != "" {
		if err := CheckReplicaID(c.Replica.ID); err != nil {
			return err
		}
	}
	if c.Replica.JobsDir != "" && !filepath.IsAbs(c.Replica.JobsDir) {
		return bad("replica.jobs_dir", "must be an absolute path (it is handed to compute sites)")
	}
	if c.Replica.SecretsKeyFile != "" {
		if _, err := os.Stat(c.Replica.SecretsKeyFile); err != nil {
			return bad("replica.secrets_key_file", "cannot read "+c.Replica.SecretsKeyFile)
		}
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		return bad("log.level", "must be debug, info, warn or error")
	}
	switch c.Log.Format {
	case "", "text", "json":
	default:
		return bad("log.format", "must be text or json")
	}
	if a := c.Telemetry.MetricsAddr; a != "" {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			return bad("telemetry.metrics_addr", fmt.Sprintf("%q is not host:port", a))
		}
		if a == c.Listen.Addr {
			return bad("telemetry.metrics_addr", "must differ from listen.addr (metrics have a listener of their own)")
		}
	}
	if e := c.Telemetry.OTLPEndpoint; e != "" {
		u, err := url.Parse(e)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("telemetry.otlp_endpoint", "must be an http:// or https:// URL such as http://collector:4318")
		}
	}
	if err := c.LLM.Validate(); err != nil {
		return err
	}
	if c.LLM.APIKeyFile != "" {
		if _, err := os.Stat(c.LLM.APIKeyFile); err != nil {
			return bad("llm.api_key_file", "cannot read "+c.LLM.APIKeyFile)
		}
	}
	return nil
}

// StoreDSN splits a metadata-store DSN into its kind ("sqlite" or
// "postgres") and the backend's own DSN.
func StoreDSN(dsn string) (kind, rest string, err error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		p := strings.TrimPrefix(dsn, "sqlite:")
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return "", "", bad("store.dsn", "sqlite: needs a file path, e.g. sqlite:/var/lib/genesis/genesis.db")
		}
		return "sqlite", p, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if _, err := url.Parse(dsn); err != nil {
			return "", "", bad("store.dsn", "is not a valid postgres:// URL")
		}
		return "postgres", dsn, nil
	case dsn == "":
		return "", "", bad("store.dsn", "is required (sqlite:PATH or postgres://…)")
	}
	// Only a scheme is echoed: anything else may hold a password (as in
	// the keyword=value form "host=db password=…").
	scheme, _, found := strings.Cut(dsn, ":")
	if !found || !isScheme(scheme) {
		return "", "", bad("store.dsn", "must be sqlite:PATH or a postgres:// URL (keyword=value connection strings are not accepted)")
	}
	return "", "", bad("store.dsn", fmt.Sprintf("unsupported scheme %q (want sqlite: or postgres://)", scheme))
}

// isScheme reports whether s has the form of a URL scheme (RFC 3986).
func isScheme(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'):
		default:
			return false
		}
	}
	return true
}

// BlobURL checks a blob-store URL and returns it parsed. A plain path means
// a local directory.
func BlobURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, bad("blob.url", "is required (file:///path or s3://…)")
	}
	if !strings.Contains(s, "://") {
		return &url.URL{Scheme: "file", Path: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, bad("blob.url", "is not a valid URL")
	}
	switch u.Scheme {
	case "file":
		if u.Path == "" && u.Host == "" {
			return nil, bad("blob.url", "file:// needs a directory path")
		}
		if u.Host != "" { // file://relative/dir
			u.Path = u.Host + u.Path
			u.Host = ""
		}
	case "s3":
		if u.Host == "" || strings.Trim(u.Path, "/") == "" {
			return nil, bad("blob.url", "s3:// needs host and bucket: s3://ACCESS:SECRET@host:port/bucket")
		}
	default:
		return nil, bad("blob.url", fmt.Sprintf("unsupported scheme %q (want file:// or s3://)", u.Scheme))
	}
	return u, nil
}
