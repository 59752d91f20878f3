package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// TestReplicaShared: the settings replicas of one deployment share come
// from the file or the environment, and bad values name their field.
func TestReplicaShared(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "secrets.key")
	os.WriteFile(key, make([]byte, 32), 0o600)
	c := Default(dir)
	if got := c.JobsDir(); got != filepath.Join(dir, "compute", "jobs") {
		t.Errorf("default jobs dir %q", got)
	}
	c.ApplyEnv(func(k string) string {
		return map[string]string{"GENESIS_SECRETS_KEY_FILE": key, "GENESIS_JOBS_DIR": "/shared/jobs"}[k]
	})
	if c.Replica.SecretsKeyFile != key || c.JobsDir() != "/shared/jobs" {
		t.Errorf("from the environment: %+v", c.Replica)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		mutate func(*Config)
		field  string
	}{
		{func(c *Config) { c.Replica.JobsDir = "relative/jobs" }, "replica.jobs_dir"},
		{func(c *Config) { c.Replica.SecretsKeyFile = filepath.Join(dir, "missing.key") }, "replica.secrets_key_file"},
	} {
		bad := Default(dir)
		tc.mutate(&bad)
		err := bad.Validate()
		if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != tc.field || !strings.Contains(errors.SafeMessage(err), tc.field) {
			t.Errorf("want Invalid naming %s, got %v", tc.field, err)
		}
	}
}
