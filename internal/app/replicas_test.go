package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
)

// TestDeploymentKeyShared: the first replica records its key's
// fingerprint; replicas with the same key start, one with another key is
// refused with a message naming the setting, and the fingerprint does
// not reveal the key.
func TestDeploymentKeyShared(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		ctx := context.Background()
		k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
		for range 3 {
			if err := checkDeploymentKey(ctx, db, "site-credentials", k1, time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		err := checkDeploymentKey(ctx, db, "site-credentials", k2, time.Now())
		if !errors.Is(errors.Conflict, err) || !strings.Contains(errors.SafeMessage(err), "replica.secrets_key_file") {
			t.Fatalf("another key: %v", err)
		}
		if fp := keyFingerprint("site-credentials", k1); strings.Contains(fp, "0101") || len(fp) != 32 {
			t.Fatalf("fingerprint %q", fp)
		}
		// Another name is another key.
		if err := checkDeploymentKey(ctx, db, "other", k2, time.Now()); err != nil {
			t.Fatal(err)
		}
	})
}
