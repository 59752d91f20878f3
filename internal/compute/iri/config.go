package iri

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/compute/slurm"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/yamlsafe"
)

// ProviderFile is the configuration file of a standalone provider
// (`genesis iri serve --config FILE`), in YAML or JSON. Secrets are never
// inline: bearer tokens live in TokensFile and Slurm credentials in each
// resource's CredentialsFile, both files readable by their owner only.
// Relative paths are relative to the configuration file's directory.
type ProviderFile struct {
	// Listen is the address to serve on (default 127.0.0.1:8090).
	Listen string `yaml:"listen"`
	// BaseURL is the public URL the provider is reached at (optional).
	BaseURL string `yaml:"base_url"`
	// TLSCert and TLSKey, both or neither, serve HTTPS.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Root holds job records and the work directories of jobs naming none.
	Root         string           `yaml:"root"`
	Facility     FileFacility     `yaml:"facility"`
	Site         FileSite         `yaml:"site"`
	Resources    []FileResource   `yaml:"resources"`
	TokensFile   string           `yaml:"tokens_file"`
	Projects     []FileProject    `yaml:"projects"`
	Capabilities []FileCapability `yaml:"capabilities"`
	AllowedDirs  []string         `yaml:"allowed_dirs"`
}

// FileFacility describes the facility (id required).
type FileFacility struct {
	ID               string `yaml:"id"`
	Name             string `yaml:"name"`
	ShortName        string `yaml:"short_name"`
	Description      string `yaml:"description"`
	OrganizationName string `yaml:"organization_name"`
	SupportURI       string `yaml:"support_uri"`
}

// FileSite describes the site the resources are at (id and
// operating_organization required).
type FileSite struct {
	ID                    string `yaml:"id"`
	Name                  string `yaml:"name"`
	ShortName             string `yaml:"short_name"`
	Description           string `yaml:"description"`
	OperatingOrganization string `yaml:"operating_organization"`
	CountryName           string `yaml:"country_name"`
	LocalityName          string `yaml:"locality_name"`
}

// FileResource is one compute resource over a Genesis backend: kind local
// (jobs run on this machine) or slurm (through slurmrestd at Endpoint, as
// the user in CredentialsFile's {"user", "token"}).
type FileResource struct {
	ID              string `yaml:"id"`
	Name            string `yaml:"name"`
	Description     string `yaml:"description"`
	Group           string `yaml:"group"`
	Status          Status `yaml:"status"`
	Kind            string `yaml:"kind"`
	Endpoint        string `yaml:"endpoint"`
	Partition       string `yaml:"partition"`
	CredentialsFile string `yaml:"credentials_file"`
}

// FileProject is a project, its members (user names from the tokens file)
// and allocations.
type FileProject struct {
	ID          string           `yaml:"id"`
	Name        string           `yaml:"name"`
	Description string           `yaml:"description"`
	Users       []string         `yaml:"users"`
	Allocations []FileAllocation `yaml:"allocations"`
}

// FileAllocation is a project's allocation of one declared capability.
type FileAllocation struct {
	ID         string      `yaml:"id"`
	Capability string      `yaml:"capability"`
	Entries    []FileEntry `yaml:"entries"`
}

// FileEntry is an amount granted and used, in a unit URN.
type FileEntry struct {
	Allocation float64 `yaml:"allocation"`
	Usage      float64 `yaml:"usage"`
	Unit       string  `yaml:"unit"`
}

// FileCapability is something allocations are counted in.
type FileCapability struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Description string   `yaml:"description"`
	Units       []string `yaml:"units"`
}

// MaxProviderFileSize bounds a configuration file.
const MaxProviderFileSize = 1 << 20

// DefaultListen is where a provider listens when its file names no address.
const DefaultListen = "127.0.0.1:8090"

// LoadProviderFile reads and checks a provider configuration file; relative
// paths in it become absolute against the file's directory. It reads no
// secret: Open does.
func LoadProviderFile(path string) (*ProviderFile, error) {
	const op errors.Op = "iri.LoadProviderFile"
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("cannot read config file: "+err.Error()))
	}
	defer f.Close()
	data := make([]byte, MaxProviderFileSize+1)
	n, _ := readFull(f, data)
	c, err := ParseProviderFile(data[:n])
	if err != nil {
		return nil, errors.E(op, errors.Msg(path+": "+errors.SafeMessage(err)), err)
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(dir, p)
	}
	c.Root, c.TokensFile, c.TLSCert, c.TLSKey = abs(c.Root), abs(c.TokensFile), abs(c.TLSCert), abs(c.TLSKey)
	for i := range c.AllowedDirs {
		c.AllowedDirs[i] = abs(c.AllowedDirs[i])
	}
	for i := range c.Resources {
		c.Resources[i].CredentialsFile = abs(c.Resources[i].CredentialsFile)
	}
	return c, nil
}

func readFull(f *os.File, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := f.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// ParseProviderFile decodes and checks a configuration document (YAML, or
// JSON, which is YAML). Unknown fields, YAML anchors and aliases, and
// documents over MaxProviderFileSize are refused; errors name the field.
func ParseProviderFile(data []byte) (*ProviderFile, error) {
	const op errors.Op = "iri.ParseProviderFile"
	if len(data) > MaxProviderFileSize {
		return nil, errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("config larger than %d bytes", MaxProviderFileSize)))
	}
	if !utf8.Valid(data) {
		return nil, errors.E(op, errors.Invalid, errors.Msg("config is not UTF-8"))
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("empty config"))
	}
	if msg := yamlsafe.Check(data); msg != "" {
		return nil, errors.E(op, errors.Invalid, errors.Msg("config: "+msg))
	}
	var c ProviderFile
	if err := yamlsafe.Decode(data, &c, yaml.Strict()); err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Field(yamlsafe.UnknownField(err)), errors.Msg("config: "+yamlsafe.Message(err)))
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if err := c.Validate(); err != nil {
		return nil, errors.E(op, err)
	}
	return &c, nil
}

// Validate checks the configuration; the error names the first bad field
// (e.g. resources[1].endpoint).
func (c *ProviderFile) Validate() error {
	const op errors.Op = "iri.ProviderFile.Validate"
	bad := func(field, msg string) error {
		return errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(field+": "+msg))
	}
	if c.Root == "" {
		return bad("root", "required: the directory for job records and work directories")
	}
	if c.TokensFile == "" {
		return bad("tokens_file", "required: a JSON file mapping bearer tokens to user names")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return bad("tls_key", "tls_cert and tls_key go together")
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return bad("base_url", "want http(s)://host[:port]")
		}
	}
	if c.Facility.ID == "" {
		return bad("facility.id", "required")
	}
	if c.Site.ID == "" {
		return bad("site.id", "required")
	}
	if c.Site.OperatingOrganization == "" {
		return bad("site.operating_organization", "required")
	}
	if len(c.Resources) == 0 {
		return bad("resources", "at least one compute resource is required")
	}
	ids := map[string]bool{}
	for i, r := range c.Resources {
		f := fmt.Sprintf("resources[%d]", i)
		switch {
		case r.ID == "":
			return bad(f+".id", "required")
		case strings.ContainsAny(r.ID, "/?#% \t\r\n"):
			return bad(f+".id", "no '/', '?', '#', '%' or spaces")
		case ids[r.ID]:
			return bad(f+".id", fmt.Sprintf("%q is used twice", r.ID))
		}
		ids[r.ID] = true
		switch r.Status {
		case "", StatusUp, StatusDown, StatusDegraded, StatusUnknown:
		default:
			return bad(f+".status", "one of up, down, degraded, unknown")
		}
		switch r.Kind {
		case "local":
			if r.Endpoint != "" || r.Partition != "" || r.CredentialsFile != "" {
				return bad(f+".kind", "a local resource takes no endpoint, partition or credentials_file")
			}
		case "slurm":
			if u, err := url.Parse(r.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return bad(f+".endpoint", "slurmrestd URL required: http(s)://host[:port]")
			}
			if r.CredentialsFile == "" {
				return bad(f+".credentials_file", `required for slurm: a JSON file {"user": …, "token": …}`)
			}
		case "":
			return bad(f+".kind", "required: local or slurm")
		default:
			return bad(f+".kind", fmt.Sprintf("%q: want local or slurm", truncate(r.Kind)))
		}
	}
	caps := map[string]bool{}
	for i, cp := range c.Capabilities {
		f := fmt.Sprintf("capabilities[%d]", i)
		if cp.ID == "" {
			return bad(f+".id", "required")
		}
		if caps[cp.ID] {
			return bad(f+".id", fmt.Sprintf("%q is used twice", truncate(cp.ID)))
		}
		caps[cp.ID] = true
		if len(cp.Units) == 0 || slices.Contains(cp.Units, "") {
			return bad(f+".units", "at least one unit URN, none empty")
		}
	}
	projects := map[string]bool{}
	for i, p := range c.Projects {
		f := fmt.Sprintf("projects[%d]", i)
		if p.ID == "" {
			return bad(f+".id", "required")
		}
		if projects[p.ID] {
			return bad(f+".id", fmt.Sprintf("%q is used twice", truncate(p.ID)))
		}
		projects[p.ID] = true
		if slices.Contains(p.Users, "") {
			return bad(f+".users", "empty user name")
		}
		allocs := map[string]bool{}
		for j, a := range p.Allocations {
			af := fmt.Sprintf("%s.allocations[%d]", f, j)
			if a.ID == "" || allocs[a.ID] {
				return bad(af+".id", "required and unique within the project")
			}
			allocs[a.ID] = true
			if !caps[a.Capability] {
				return bad(af+".capability", "must name one of capabilities[].id")
			}
			for k, e := range a.Entries {
				ef := fmt.Sprintf("%s.entries[%d]", af, k)
				if e.Unit == "" {
					return bad(ef+".unit", "required (a unit URN)")
				}
				if !(e.Allocation >= 0) || !(e.Usage >= 0) {
					return bad(ef, "allocation and usage must be ≥ 0")
				}
			}
		}
	}
	for i, d := range c.AllowedDirs {
		if d == "" {
			return bad(fmt.Sprintf("allowed_dirs[%d]", i), "empty directory")
		}
	}
	return nil
}

// Open reads the secrets the file points to and builds the provider's
// configuration with one Genesis backend per resource. close releases the
// backends (stopping jobs still running on local resources). The Root,
// AllowedDirs, TokensFile and CredentialsFile paths must be absolute, as
// LoadProviderFile makes them.
func (c *ProviderFile) Open() (cfg ProviderConfig, close func(), err error) {
	const op errors.Op = "iri.ProviderFile.Open"
	var closers []func()
	closeAll := func() {
		for _, f := range closers {
			f()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	tokens := map[string]string{}
	if err := readSecret(c.TokensFile, &tokens); err != nil {
		return cfg, nil, errors.E(op, errors.Invalid, errors.Field("tokens_file"), errors.Msg("tokens_file: "+err.Error()))
	}
	if len(tokens) == 0 {
		return cfg, nil, errors.E(op, errors.Invalid, errors.Field("tokens_file"), errors.Msg("tokens_file: no tokens: want {\"TOKEN\": \"USER\", …}"))
	}
	for tok, user := range tokens {
		if len(tok) < 16 || user == "" {
			return cfg, nil, errors.E(op, errors.Invalid, errors.Field("tokens_file"), errors.Msg("tokens_file: every token needs 16+ characters and a user name"))
		}
	}
	cfg = ProviderConfig{
		Facility: Facility{ID: c.Facility.ID, Name: c.Facility.Name, ShortName: c.Facility.ShortName, Description: c.Facility.Description,
			OrganizationName: c.Facility.OrganizationName, SupportURI: c.Facility.SupportURI},
		Site: Site{ID: c.Site.ID, Name: c.Site.Name, ShortName: c.Site.ShortName, Description: c.Site.Description,
			OperatingOrganization: c.Site.OperatingOrganization, CountryName: c.Site.CountryName, LocalityName: c.Site.LocalityName},
		Tokens:      tokens,
		Root:        c.Root,
		AllowedDirs: c.AllowedDirs,
		BaseURL:     c.BaseURL,
	}
	for _, cp := range c.Capabilities {
		cfg.Capabilities = append(cfg.Capabilities, Capability{ID: cp.ID, Name: cp.Name, Description: cp.Description, Units: cp.Units})
	}
	for _, p := range c.Projects {
		pp := ProviderProject{ID: p.ID, Name: p.Name, Description: p.Description, Users: p.Users}
		for _, a := range p.Allocations {
			pa := ProviderAllocation{ID: a.ID, Capability: a.Capability}
			for _, e := range a.Entries {
				pa.Entries = append(pa.Entries, AllocationEntry{Allocation: e.Allocation, Usage: e.Usage, Unit: e.Unit})
			}
			pp.Allocations = append(pp.Allocations, pa)
		}
		cfg.Projects = append(cfg.Projects, pp)
	}
	for i, r := range c.Resources {
		f := fmt.Sprintf("resources[%d]", i)
		var b compute.Backend
		switch r.Kind {
		case "local":
			lb, err := local.New(filepath.Join(c.Root, "backends", r.ID), local.Options{})
			if err != nil {
				return cfg, nil, errors.E(op, errors.Field(f), err)
			}
			closers = append(closers, func() { lb.Close() })
			b = lb
		case "slurm":
			var cred struct{ User, Token string }
			if err := readSecret(r.CredentialsFile, &cred); err != nil || cred.User == "" || cred.Token == "" {
				msg := `want {"user": …, "token": …}`
				if err != nil {
					msg = err.Error()
				}
				return cfg, nil, errors.E(op, errors.Invalid, errors.Field(f+".credentials_file"), errors.Msg(f+".credentials_file: "+msg))
			}
			sb, err := slurm.New(slurm.Config{URL: r.Endpoint, User: cred.User, Token: cred.Token, Partition: r.Partition})
			if err != nil {
				return cfg, nil, errors.E(op, errors.Field(f), err)
			}
			b = sb
		}
		cfg.Resources = append(cfg.Resources, ProviderResource{ID: r.ID, Name: r.Name, Description: r.Description,
			Group: r.Group, Status: r.Status, Backend: b})
	}
	return cfg, closeAll, nil
}

// readSecret decodes a small JSON file that only its owner may read.
func readSecret(path string, v any) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot read %s", path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is readable by others: chmod 600 it", path)
	}
	if fi.Size() > 1<<20 {
		return fmt.Errorf("%s is larger than 1 MiB", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read %s", path)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%s: not the expected JSON", path)
	}
	return nil
}
