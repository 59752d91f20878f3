package iri_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/compute/iri"
	"github.com/genesis-science/genesis/internal/errors"
)

const exampleConfig = `# A facility serving one local resource.
listen: 127.0.0.1:0
root: state
tokens_file: tokens.json
facility: {id: example, name: Example facility}
site: {id: main, operating_organization: Example Lab, country_name: USA}
resources:
  - id: cpu
    name: CPU partition
    description: jobs run on this machine
    kind: local
  - id: batch
    kind: slurm
    endpoint: http://127.0.0.1:6820
    partition: debug
    credentials_file: slurm.json
capabilities:
  - {id: cpu-hours, name: CPU hours, units: ["urn:doe-iri:allocation:node-hours"]}
projects:
  - id: chem
    name: Chemistry
    users: [alice]
    allocations:
      - id: a1
        capability: cpu-hours
        entries: [{allocation: 100, usage: 1.5, unit: "urn:doe-iri:allocation:node-hours"}]
allowed_dirs: [/scratch]
`

func TestParseProviderFile(t *testing.T) {
	c, err := iri.ParseProviderFile([]byte(exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:0" || len(c.Resources) != 2 || c.Resources[1].Partition != "debug" ||
		c.Projects[0].Allocations[0].Entries[0].Usage != 1.5 || c.AllowedDirs[0] != "/scratch" {
		t.Errorf("decoded %+v", c)
	}
	// JSON is accepted too, and the listen address defaults.
	j := `{"root": "/r", "tokens_file": "/t", "facility": {"id": "f"}, "site": {"id": "s", "operating_organization": "o"},
	       "resources": [{"id": "cpu", "kind": "local"}]}`
	c, err = iri.ParseProviderFile([]byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != iri.DefaultListen {
		t.Errorf("listen = %q", c.Listen)
	}
}

func TestParseProviderFileErrors(t *testing.T) {
	base := "root: /r\ntokens_file: /t\nfacility: {id: f}\nsite: {id: s, operating_organization: o}\n"
	local := "resources: [{id: cpu, kind: local}]\n"
	for _, tc := range []struct {
		name, doc, field, msg string
	}{
		{"empty", "", "", "empty config"},
		{"unknown top", base + local + "colour: blue\n", "colour", "unknown field"},
		{"unknown nested", base + "resources: [{id: cpu, kind: local, gpus: 4}]\n", "gpus", "unknown field"},
		{"inline tokens", base + local + "tokens: {abc: alice}\n", "tokens", "unknown field"},
		{"anchor", base + "resources: [&r {id: cpu, kind: local}]\n", "", "anchors"},
		{"no root", strings.Replace(base, "root: /r\n", "", 1) + local, "root", "root: required"},
		{"no tokens", strings.Replace(base, "tokens_file: /t\n", "", 1) + local, "tokens_file", "tokens_file: required"},
		{"no facility", strings.Replace(base, "facility: {id: f}\n", "", 1) + local, "facility.id", "facility.id"},
		{"no operator", strings.Replace(base, ", operating_organization: o", "", 1) + local, "site.operating_organization", "required"},
		{"no resources", base, "resources", "at least one"},
		{"no kind", base + "resources: [{id: cpu}]\n", "resources[0].kind", "local or slurm"},
		{"bad kind", base + "resources: [{id: cpu, kind: k8s}]\n", "resources[0].kind", "k8s"},
		{"dup id", base + "resources: [{id: cpu, kind: local}, {id: cpu, kind: local}]\n", "resources[1].id", "twice"},
		{"slash id", base + "resources: [{id: a/b, kind: local}]\n", "resources[0].id", "no '/'"},
		{"slurm no endpoint", base + "resources: [{id: b, kind: slurm, credentials_file: /c}]\n", "resources[0].endpoint", "slurmrestd URL"},
		{"slurm no creds", base + "resources: [{id: b, kind: slurm, endpoint: 'http://h:1'}]\n", "resources[0].credentials_file", "required for slurm"},
		{"local with endpoint", base + "resources: [{id: b, kind: local, endpoint: 'http://h:1'}]\n", "resources[0].kind", "no endpoint"},
		{"bad status", base + "resources: [{id: b, kind: local, status: broken}]\n", "resources[0].status", "one of up"},
		{"tls half", base + local + "tls_cert: c.pem\n", "tls_key", "go together"},
		{"bad base url", base + local + "base_url: ftp://x\n", "base_url", "http(s)"},
		{"alloc capability", base + local + "projects: [{id: p, allocations: [{id: a, capability: gpu}]}]\n", "projects[0].allocations[0].capability", "capabilities"},
		{"negative usage", base + local + "capabilities: [{id: c, units: [u]}]\nprojects: [{id: p, allocations: [{id: a, capability: c, entries: [{allocation: 1, usage: -1, unit: u}]}]}]\n",
			"projects[0].allocations[0].entries[0]", "≥ 0"},
		{"dup project", base + local + "projects: [{id: p}, {id: p}]\n", "projects[1].id", "twice"},
		{"empty user", base + local + "projects: [{id: p, users: ['']}]\n", "projects[0].users", "empty user"},
		{"empty allowed dir", base + local + "allowed_dirs: ['']\n", "allowed_dirs[0]", "empty"},
		{"not utf8", base + local + "# \xff\n", "", "UTF-8"},
		{"too large", base + local + "#" + strings.Repeat("x", iri.MaxProviderFileSize) + "\n", "", "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := iri.ParseProviderFile([]byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if f := errors.FieldOf(err); f != tc.field {
				t.Errorf("field %q, want %q (%v)", f, tc.field, err)
			}
			if msg := errors.SafeMessage(err); !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want it to contain %q", msg, tc.msg)
			}
		})
	}
}

// TestLoadAndOpen loads a file with relative paths, opens it (reading the
// tokens and building a local backend) and serves the facility document.
func TestLoadAndOpen(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "iri.yaml")
	doc := strings.Replace(exampleConfig, "  - id: batch\n    kind: slurm\n    endpoint: http://127.0.0.1:6820\n    partition: debug\n    credentials_file: slurm.json\n", "", 1)
	os.WriteFile(cfgPath, []byte(doc), 0o644)
	tokens := filepath.Join(dir, "tokens.json")
	os.WriteFile(tokens, []byte(`{"0123456789abcdef-alice": "alice"}`), 0o644)

	c, err := iri.LoadProviderFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if c.Root != filepath.Join(dir, "state") || c.TokensFile != tokens {
		t.Errorf("paths not resolved against the file's directory: %q %q", c.Root, c.TokensFile)
	}
	// Secrets readable by others are refused.
	if _, _, err := c.Open(); err == nil || errors.FieldOf(err) != "tokens_file" || !strings.Contains(errors.SafeMessage(err), "chmod 600") {
		t.Fatalf("world-readable tokens file: %v", err)
	}
	os.Chmod(tokens, 0o600)
	for _, bad := range []string{`{}`, `{"short": "alice"}`, `{"0123456789abcdef": ""}`, `["x"]`} {
		os.WriteFile(tokens, []byte(bad), 0o600)
		if _, _, err := c.Open(); err == nil || errors.FieldOf(err) != "tokens_file" {
			t.Errorf("tokens %s: %v", bad, err)
		}
	}
	os.WriteFile(tokens, []byte(`{"0123456789abcdef-alice": "alice"}`), 0o600)
	pc, closeBackends, err := c.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer closeBackends()
	if pc.Tokens["0123456789abcdef-alice"] != "alice" || len(pc.Resources) != 1 || pc.Resources[0].Backend == nil ||
		pc.Projects[0].Allocations[0].Capability != "cpu-hours" {
		t.Errorf("provider config %+v", pc)
	}
	p, err := iri.NewProvider(pc)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	p.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/api/v2/facility", nil))
	var f iri.Facility
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &f) != nil || f.ID != "example" || f.Name != "Example facility" {
		t.Errorf("facility: %d %s", rec.Code, rec.Body)
	}

	// A slurm resource's credentials file is checked too.
	os.WriteFile(cfgPath, []byte(exampleConfig), 0o644)
	c, err = iri.LoadProviderFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "slurm.json"), []byte(`{"user": "slurm"}`), 0o600)
	if _, _, err := c.Open(); err == nil || errors.FieldOf(err) != "resources[1].credentials_file" {
		t.Errorf("slurm credentials without a token: %v", err)
	}
	if _, err := iri.LoadProviderFile(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("missing file accepted")
	}
}

// FuzzParseProviderFile: the parser never panics, and what it accepts
// satisfies the invariants Validate promises.
func FuzzParseProviderFile(f *testing.F) {
	f.Add([]byte(exampleConfig))
	f.Add([]byte(`{"root": "/r", "tokens_file": "/t", "facility": {"id": "f"}, "site": {"id": "s", "operating_organization": "o"}, "resources": [{"id": "cpu", "kind": "local"}]}`))
	f.Add([]byte("root: /r\ntokens_file: /t\nfacility: {id: f}\nsite: {id: s, operating_organization: o}\nresources: [&a {id: x, kind: local}, *a]\n"))
	f.Add([]byte("resources: [[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]\n"))
	f.Add([]byte("root: !!binary AAAA\n"))
	f.Add([]byte("- a\n- b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := iri.ParseProviderFile(data)
		if err != nil {
			if c != nil {
				t.Fatal("config and error")
			}
			return
		}
		if c.Root == "" || c.TokensFile == "" || c.Facility.ID == "" || c.Site.ID == "" || c.Listen == "" || len(c.Resources) == 0 {
			t.Fatalf("accepted without a required field: %+v", c)
		}
		seen := map[string]bool{}
		for _, r := range c.Resources {
			if r.ID == "" || seen[r.ID] || strings.ContainsAny(r.ID, "/?#%") || (r.Kind != "local" && r.Kind != "slurm") {
				t.Fatalf("accepted resource %+v", r)
			}
			if r.Kind == "slurm" && (r.Endpoint == "" || r.CredentialsFile == "") {
				t.Fatalf("slurm resource without endpoint or credentials: %+v", r)
			}
			seen[r.ID] = true
		}
		if len(data) > iri.MaxProviderFileSize {
			t.Fatal("accepted an oversized document")
		}
	})
}
