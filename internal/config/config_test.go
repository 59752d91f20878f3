package config_test

import (
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
)

func TestParseAndValidate(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "c.pem")
	os.WriteFile(cert, []byte("x"), 0o600)
	cases := []struct {
		name, file, body string
		field            string // "" = valid
	}{
		{"yaml ok", "g.yaml", "data_dir: /var/lib/genesis\nstore:\n  dsn: postgres://genesis@db:5432/genesis\nlisten:\n  addr: 0.0.0.0:8443\n", ""},
		{"toml ok", "g.toml", "data_dir = \"/srv/g\"\n[store]\ndsn = \"sqlite:/srv/g/g.db\"\n[blob]\nurl = \"s3://k:s@127.0.0.1:9000/genesis\"\n", ""},
		{"yaml unknown", "g.yaml", "data_dir: /x\nstroe:\n  dsn: sqlite:/x\n", "parse"},
		{"toml unknown", "g.toml", "data_dir = \"/x\"\n[store]\ndns = \"x\"\n", "store.dns"},
		{"bad scheme", "g.yaml", "data_dir: /x\nstore:\n  dsn: mysql://x\n", "store.dsn"},
		{"bad addr", "g.yaml", "data_dir: /x\nlisten:\n  addr: eighty\n", "listen.addr"},
		{"half tls", "g.yaml", "data_dir: /x\nlisten:\n  tls_cert: " + cert + "\n", "listen.tls_key"},
		{"missing cert", "g.yaml", "data_dir: /x\nlisten:\n  tls_cert: /nope\n  tls_key: /nope\n", "listen.tls_"},
		{"bad blob", "g.yaml", "data_dir: /x\nblob:\n  url: ftp://x/y\n", "blob.url"},
		{"s3 no bucket", "g.yaml", "data_dir: /x\nblob:\n  url: s3://host:9000\n", "blob.url"},
		{"compression off", "g.yaml", "data_dir: /x\nblob:\n  compression: \"off\"\n", ""},
		{"compression best", "g.toml", "data_dir = \"/x\"\n[blob]\ncompression = \"best\"\n", ""},
		{"compression bad", "g.yaml", "data_dir: /x\nblob:\n  compression: gzip\n", "blob.compression"},
		{"compression number", "g.toml", "data_dir = \"/x\"\n[blob]\ncompression = \"3\"\n", "blob.compression"},
		{"oidc no audience", "g.yaml", "data_dir: /x\noidc:\n  issuer: https://login.example.org\n", "oidc.audience"},
		{"no data dir", "g.yaml", "store:\n  dsn: sqlite:/x.db\nblob:\n  url: /b\n", "data_dir"},
		{"dup key", "g.yaml", "data_dir: /x\ndata_dir: /y\n", "parse"},
		{"alias", "g.yaml", "data_dir: &d /x\nblob:\n  url: *d\n", "parse"}, // valid but for the alias
		{"deep nesting", "g.yaml", "data_dir: /x\nlog: " + strings.Repeat("{a: ", 100), "parse"},
		{"wrong ext", "g.json", "{}", "parse"},
		{"bad log", "g.toml", "data_dir = \"/x\"\n[log]\nlevel = \"loud\"\n", "log.level"},
		{"llm ok", "g.yaml", "data_dir: /x\nllm:\n  chat_url: http://127.0.0.1:8000/v1\n  chat_model: qwen\n  embed_url: https://api.example.org/v1\n  embed_model: bge\n  api_key_file: " + cert + "\n  timeout_seconds: 60\n", ""},
		{"llm toml ok", "g.toml", "data_dir = \"/x\"\n[llm]\nembed_url = \"http://h/v1\"\nembed_model = \"e\"\n", ""},
		{"llm unknown", "g.yaml", "data_dir: /x\nllm:\n  chat_uri: http://h/v1\n", "parse"},
		{"llm bad url", "g.yaml", "data_dir: /x\nllm:\n  chat_url: unix:///run/llm.sock\n  chat_model: m\n", "llm.chat_url"},
		{"llm no model", "g.toml", "data_dir = \"/x\"\n[llm]\nembed_url = \"http://h/v1\"\n", "llm.embed_model"},
		{"llm credentials", "g.yaml", "data_dir: /x\nllm:\n  chat_url: https://k:secret@h/v1\n  chat_model: m\n", "llm.chat_url"},
		{"llm key file", "g.yaml", "data_dir: /x\nllm:\n  api_key_file: /nope\n", "llm.api_key_file"},
		{"console ok", "g.yaml", "data_dir: /x\noidc:\n  issuer: https://login.example.org\n  audience: genesis\n  client_secret_file: " + cert + "\nconsole:\n  public_url: https://genesis.example.org\n", ""},
		{"console toml ok", "g.toml", "data_dir = \"/x\"\n[console]\npublic_url = \"http://127.0.0.1:8080/\"\n", ""},
		{"console relative", "g.yaml", "data_dir: /x\nconsole:\n  public_url: genesis.example.org\n", "console.public_url"},
		{"console path", "g.yaml", "data_dir: /x\nconsole:\n  public_url: https://example.org/genesis\n", "console.public_url"},
		{"console query", "g.yaml", "data_dir: /x\nconsole:\n  public_url: https://example.org?x=1\n", "console.public_url"},
		{"console creds", "g.yaml", "data_dir: /x\nconsole:\n  public_url: https://u:p@example.org\n", "console.public_url"},
		{"console scheme", "g.yaml", "data_dir: /x\nconsole:\n  public_url: ftp://example.org\n", "console.public_url"},
		{"oidc secret missing", "g.yaml", "data_dir: /x\noidc:\n  issuer: https://login.example.org\n  audience: genesis\n  client_secret_file: /nope\n", "oidc.client_secret_file"},
		{"oidc secret no issuer", "g.yaml", "data_dir: /x\noidc:\n  client_secret_file: " + cert + "\n", "oidc.client_secret_file"},
		{"oidc secret inline", "g.yaml", "data_dir: /x\noidc:\n  client_secret: hunter2\n", "parse"},
		{"llm timeout", "g.yaml", "data_dir: /x\nllm:\n  timeout_seconds: 100000\n", "llm.timeout_seconds"},
		{"audit store ok", "g.yaml", "data_dir: /x\naudit:\n  backend: store\n  signing_key_file: " + cert + "\n  label_key_file: " + cert + "\n", ""},
		{"audit toml ok", "g.toml", "data_dir = \"/x\"\n[audit]\nbackend = \"file\"\n", ""},
		{"audit bad backend", "g.yaml", "data_dir: /x\naudit:\n  backend: s3\n", "audit.backend"},
		{"audit key missing", "g.yaml", "data_dir: /x\naudit:\n  backend: store\n  signing_key_file: /nope\n", "audit.signing_key_file"},
		{"audit label key missing", "g.yaml", "data_dir: /x\naudit:\n  label_key_file: /nope\n", "audit.label_key_file"},
		{"audit key inline", "g.yaml", "data_dir: /x\naudit:\n  signing_key: PRIVATE+KEY+x+1+AQ\n", "parse"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := config.Parse(c.file, []byte(c.body))
			if err == nil {
				err = cfg.Validate()
			}
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("valid config refused: %v", err)
			case c.field == "":
			case err == nil:
				t.Fatalf("invalid config accepted: %+v", cfg)
			case !errors.Is(errors.Invalid, err):
				t.Errorf("kind = %v", errors.KindOf(err))
			case c.field != "parse" && !strings.HasPrefix(errors.FieldOf(err), c.field):
				t.Errorf("error %q names field %q, want %q", err, errors.FieldOf(err), c.field)
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	c := config.Default("/d")
	env := map[string]string{"GENESIS_ADDR": "127.0.0.1:0", "GENESIS_STORE_DSN": "postgres://x/y"}
	c.ApplyEnv(func(k string) string { return env[k] })
	if c.Listen.Addr != "127.0.0.1:0" || c.Store.DSN != "postgres://x/y" || c.Blob.URL != "file:///d/blobs" {
		t.Errorf("%+v", c)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	env = map[string]string{"GENESIS_LLM_CHAT_URL": "http://127.0.0.1:8000/v1", "GENESIS_LLM_CHAT_MODEL": "qwen", "GENESIS_LLM_EMBED_URL": "http://127.0.0.1:8001/v1", "GENESIS_LLM_EMBED_MODEL": "bge"}
	c.ApplyEnv(func(k string) string { return env[k] })
	if c.LLM.ChatURL != env["GENESIS_LLM_CHAT_URL"] || c.LLM.ChatModel != "qwen" || c.LLM.EmbedURL != env["GENESIS_LLM_EMBED_URL"] || c.LLM.EmbedModel != "bge" {
		t.Errorf("llm overrides: %+v", c.LLM)
	}
	if err := c.Validate(); err != nil {
		t.Error(err)
	}
	env = map[string]string{"GENESIS_LLM_CHAT_URL": "http://127.0.0.1:8000/v1?token=secret", "GENESIS_LLM_CHAT_MODEL": "qwen"}
	c.ApplyEnv(func(k string) string { return env[k] })
	if err := c.Validate(); errors.FieldOf(err) != "llm.chat_url" || strings.Contains(err.Error(), "secret") {
		t.Errorf("a chat URL with a token in its query: %v", err)
	}
}

// TestOIDCClientSecret reads the client secret from the environment
// first, then the file; a bad one is refused naming its source and
// without echoing it.
func TestOIDCClientSecret(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := config.Default("/d")
	none := func(string) string { return "" }
	if s, err := c.OIDCClientSecret(none); s != "" || err != nil {
		t.Errorf("no secret configured: %q %v", s, err)
	}
	c.OIDC.ClientSecretFile = write("ok", "  s3cr3t-From-File\n")
	if s, err := c.OIDCClientSecret(none); s != "s3cr3t-From-File" || err != nil {
		t.Errorf("from file: %q %v", s, err)
	}
	env := func(k string) string {
		if k == "GENESIS_OIDC_CLIENT_SECRET" {
			return "from-env"
		}
		return ""
	}
	if s, err := c.OIDCClientSecret(env); s != "from-env" || err != nil {
		t.Errorf("the environment wins: %q %v", s, err)
	}
	for name, body := range map[string]string{"empty": " \n", "space": "two words", "control": "a\x01b", "huge": strings.Repeat("k", config.MaxSecretFile+1)} {
		c.OIDC.ClientSecretFile = write(name, body)
		s, err := c.OIDCClientSecret(none)
		if err == nil || s != "" || errors.FieldOf(err) != "oidc.client_secret_file" || (len(body) > 4 && strings.Contains(err.Error(), body)) {
			t.Errorf("%s secret file: %q %v", name, s, err)
		}
	}
	c.OIDC.ClientSecretFile = filepath.Join(dir, "missing")
	if _, err := c.OIDCClientSecret(none); errors.FieldOf(err) != "oidc.client_secret_file" {
		t.Errorf("missing file: %v", err)
	}
	env2 := map[string]string{"GENESIS_CONSOLE_PUBLIC_URL": "https://genesis.example.org"}
	c = config.Default("/d")
	c.ApplyEnv(func(k string) string { return env2[k] })
	if c.Console.PublicURL != "https://genesis.example.org" {
		t.Errorf("GENESIS_CONSOLE_PUBLIC_URL: %+v", c.Console)
	}
	if u, err := config.ConsolePublicURL("https://genesis.example.org/"); err != nil || u.String() != "https://genesis.example.org" {
		t.Errorf("trailing slash: %v %v", u, err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("g.yaml", "data_dir: /x\nstore:\n  dsn: sqlite:/x.db\n")
	f.Add("g.toml", "data_dir = \"/x\"\n[listen]\naddr = \"127.0.0.1:1\"\n")
	f.Add("g.yaml", "listen: [1, 2]\n")
	f.Add("g.yaml", "data_dir: /x\nllm:\n  chat_url: http://h/v1\n  chat_model: m\n")
	f.Fuzz(func(t *testing.T, name, body string) {
		c, err := config.Parse(name, []byte(body))
		if err != nil {
			if !errors.Is(errors.Invalid, err) {
				t.Fatalf("parse error of kind %v: %v", errors.KindOf(err), err)
			}
			return
		}
		if err := c.Validate(); err != nil && !errors.Is(errors.Invalid, err) {
			t.Fatalf("validate error of kind %v: %v", errors.KindOf(err), err)
		}
	})
}

// TestReplicaID: replica.id comes from the file or GENESIS_REPLICA_ID,
// defaults to hostname-pid, and a bad one is refused naming the field.
func TestReplicaID(t *testing.T) {
	c, err := config.Parse("g.yaml", []byte("data_dir: /tmp/g\nreplica:\n  id: node-7\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ReplicaID(); got != "node-7" {
		t.Fatalf("ReplicaID = %q", got)
	}
	c.ApplyEnv(func(k string) string {
		if k == "GENESIS_REPLICA_ID" {
			return "node-8"
		}
		return ""
	})
	if got := c.ReplicaID(); got != "node-8" {
		t.Fatalf("after GENESIS_REPLICA_ID, ReplicaID = %q", got)
	}
	c.Replica.ID = ""
	def := c.ReplicaID()
	if !strings.HasSuffix(def, "-"+strconv.Itoa(os.Getpid())) || config.CheckReplicaID(def) != nil {
		t.Fatalf("default ReplicaID %q is not a valid hostname-pid", def)
	}
	c.Replica.ID = "bad\nid"
	if err := c.Validate(); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "replica.id" {
		t.Fatalf("Validate with a control character in replica.id: %v", err)
	}
}

// TestCompressionLevel: compression is on (zstd, fastest level) unless
// configured off, and every accepted name maps to its level.
func TestCompressionLevel(t *testing.T) {
	for in, want := range map[string]chunk.Level{"": chunk.Fastest, "off": chunk.Off, "fastest": chunk.Fastest, "default": chunk.Default, "better": chunk.Better, "best": chunk.Best} {
		c := config.Default("/x")
		c.Blob.Compression = in
		if err := c.Validate(); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if got := c.Blob.CompressionLevel(); got != want {
			t.Errorf("%q: level %v, want %v", in, got, want)
		}
	}
	c := config.Default("/x")
	c.ApplyEnv(func(k string) string {
		if k == "GENESIS_BLOB_COMPRESSION" {
			return "off"
		}
		return ""
	})
	if c.Blob.CompressionLevel() != chunk.Off {
		t.Fatalf("GENESIS_BLOB_COMPRESSION=off gave %v", c.Blob.CompressionLevel())
	}
}
