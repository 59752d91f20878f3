package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/genesis-science/genesis/internal/store/storetest"
)

func stripRequestID(b []byte) []byte {
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return b
	}
	delete(m, "request_id")
	out, _ := json.Marshal(m)
	return out
}

// freshPostgres returns the DSN of a new, migrated database on the test server
// (dropped at cleanup), or skips/fails per testenv.
func freshPostgres(t *testing.T) string {
	return storetest.PostgresDSN(t)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func copyAll(w io.Writer, r io.Reader) (int64, error) { return io.Copy(w, r) }

// sharedSecretsKey writes a key file for site credentials that several
// replicas of one deployment share (replica.secrets_key_file) and
// returns its path.
func sharedSecretsKey(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secrets.key")
	if err := os.WriteFile(path, bytes.Repeat([]byte{0x5a}, 32), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
