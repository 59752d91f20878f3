package e2e

import (
	"encoding/json"
	"io"
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

// freshPostgres returns the DSN of a new empty database on the test server
// (dropped at cleanup), or skips/fails per testenv.
func freshPostgres(t *testing.T) string {
	return storetest.PostgresDSN(t)
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func copyAll(w io.Writer, r io.Reader) (int64, error) { return io.Copy(w, r) }
