package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// keyFingerprint names a secret key without revealing it.
func keyFingerprint(name string, key []byte) string {
	h := sha256.New()
	h.Write([]byte("genesis deployment key fingerprint\n" + name + "\n"))
	h.Write(key)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// checkDeploymentKey records the fingerprint of the secret every replica
// on the store must share (table deployment_keys) when none is recorded,
// and otherwise refuses a key whose fingerprint differs: a replica with
// its own key would write secrets the others cannot read, and fail to
// read theirs.
func checkDeploymentKey(ctx context.Context, db store.DB, name string, key []byte, now time.Time) error {
	const op errors.Op = "app.checkDeploymentKey"
	fp := keyFingerprint(name, key)
	var recorded string
	err := db.Update(ctx, func(tx store.Tx) error {
		recorded = ""
		err := tx.QueryRow(ctx, `SELECT fingerprint FROM deployment_keys WHERE name = ?`, name).Scan(&recorded)
		if errors.Is(errors.NotExist, err) {
			_, err = tx.Exec(ctx, `INSERT INTO deployment_keys (name, fingerprint, created_at) VALUES (?, ?, ?)`, name, fp, store.T(now))
			recorded = fp
		}
		return err
	})
	if err != nil {
		return errors.E(op, err)
	}
	if recorded != fp {
		return errors.E(op, errors.Conflict, errors.Field("replica.secrets_key_file"),
			errors.Msg("this replica's "+name+" key (fingerprint "+fp+") is not the one the store's other replicas use (fingerprint "+recorded+
				"): give every replica the same key file (replica.secrets_key_file or GENESIS_SECRETS_KEY_FILE)"))
	}
	return nil
}
