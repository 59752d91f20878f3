package app

import (
	"context"
	"io"
	"os"
	"strings"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/postgres"
	"github.com/genesis-science/genesis/internal/store/sqlite"
	"golang.org/x/mod/sumdb/note"
)

// AuditKeys are the audit log's keys as the configuration names them.
type AuditKeys struct {
	Signer   note.Signer
	Verifier note.Verifier
	// VerifierKey is the verifier key's text (origin+hash+base64).
	VerifierKey string
	// Label is the secret key of the records' label hashes.
	Label audit.LabelKey
}

// ConfiguredAuditKeys reads the audit keys from the environment
// (GENESIS_AUDIT_SIGNING_KEY, GENESIS_AUDIT_LABEL_KEY) or the files the
// configuration names (audit.signing_key_file, audit.label_key_file,
// mode 0600). A key that is configured nowhere is left zero; a key that is
// configured but unreadable or malformed is an error naming where it came
// from, never echoing it.
func ConfiguredAuditKeys(c config.Config, getenv func(string) string) (AuditKeys, error) {
	const op errors.Op = "app.ConfiguredAuditKeys"
	var k AuditKeys
	skey := ""
	switch v := getenv("GENESIS_AUDIT_SIGNING_KEY"); {
	case v != "":
		skey = v
	case c.Audit.SigningKeyFile != "":
		b, err := readKeyFile(c.Audit.SigningKeyFile, "audit.signing_key_file")
		if err != nil {
			return k, errors.E(op, err)
		}
		skey = string(b)
	}
	if skey != "" {
		var err error
		k.Signer, k.Verifier, err = audit.NewSigner(strings.TrimSpace(skey))
		if err == nil {
			k.VerifierKey, err = audit.VerifierKey(skey)
		}
		if err != nil {
			return AuditKeys{}, errors.E(op, errors.Invalid, errors.Field("audit.signing_key_file"),
				errors.Msg("the audit signing key (GENESIS_AUDIT_SIGNING_KEY or audit.signing_key_file) is not a PRIVATE+KEY+… Ed25519 note key"))
		}
	}
	switch v := getenv("GENESIS_AUDIT_LABEL_KEY"); {
	case v != "":
		lk, err := audit.ParseLabelKey(v)
		if err != nil {
			return AuditKeys{}, errors.E(op, errors.Invalid, errors.Field("audit.label_key_file"), errors.Msg("GENESIS_AUDIT_LABEL_KEY is not 64 hex digits"))
		}
		k.Label = lk
	case c.Audit.LabelKeyFile != "":
		b, err := readKeyFile(c.Audit.LabelKeyFile, "audit.label_key_file")
		if err != nil {
			return AuditKeys{}, errors.E(op, err)
		}
		lk, err := audit.ParseLabelKey(string(b))
		if err != nil {
			return AuditKeys{}, errors.E(op, errors.Invalid, errors.Field("audit.label_key_file"), errors.Msg("the audit label key file does not hold 64 hex digits"))
		}
		k.Label = lk
	}
	return k, nil
}

// openSharedAudit opens the audit log shared by every replica in the
// metadata store (audit.backend store), with the configured keys.
func (a *App) openSharedAudit(ctx context.Context, k AuditKeys) error {
	const op errors.Op = "app.openAudit"
	if k.Signer == nil {
		return errors.E(op, errors.Invalid, errors.Field("audit.signing_key_file"),
			errors.Msg("audit.backend store needs the shared signing key: set audit.signing_key_file or GENESIS_AUDIT_SIGNING_KEY (make one with genesis audit keygen)"))
	}
	if k.Label == nil {
		return errors.E(op, errors.Invalid, errors.Field("audit.label_key_file"),
			errors.Msg("audit.backend store needs the shared label key: set audit.label_key_file or GENESIS_AUDIT_LABEL_KEY (make one with genesis audit keygen)"))
	}
	l, err := audit.OpenStore(ctx, a.DB, audit.Options{Signer: k.Signer, Verifier: k.Verifier, LabelKey: k.Label, Logger: a.Log,
		OnAppend: a.Metrics.AuditAppend})
	if err != nil {
		return errors.E(op, errors.Msg("cannot open the shared audit log"), err)
	}
	a.Audit, a.AuditKey = l, k.VerifierKey
	a.Log.Info("audit log", "backend", "store", "origin", l.Origin())
	return nil
}

// VerifySharedAudit verifies the audit log shared through cfg's metadata
// store (audit.VerifyStore) with v, or, when v is nil, with the verifier
// of the configured signing key. It neither migrates the store nor takes
// the data-dir lock, so it runs beside live replicas.
func VerifySharedAudit(ctx context.Context, cfg config.Config, getenv func(string) string, v note.Verifier, opts audit.VerifyOptions) (audit.Report, error) {
	const op errors.Op = "app.VerifySharedAudit"
	if !cfg.AuditStore() {
		return audit.Report{}, errors.E(op, errors.Invalid, errors.Field("audit.backend"), errors.Msg("the config's audit log is in its data dir (audit.backend is not store): verify it with --data-dir"))
	}
	if v == nil {
		k, err := ConfiguredAuditKeys(cfg, getenv)
		if err != nil {
			return audit.Report{}, err
		}
		if k.Verifier == nil {
			return audit.Report{}, errors.E(op, errors.Invalid, errors.Msg("no verifier key: pass --key FILE.pub, or configure audit.signing_key_file or GENESIS_AUDIT_SIGNING_KEY"))
		}
		v = k.Verifier
	}
	db, err := openConfiguredDB(ctx, cfg)
	if err != nil {
		return audit.Report{}, errors.E(op, err)
	}
	defer db.Close()
	return audit.VerifyStore(ctx, db, v, opts)
}

// openConfiguredDB opens the configured metadata store's database, as is.
func openConfiguredDB(ctx context.Context, cfg config.Config) (store.DB, error) {
	kind, dsn, err := config.StoreDSN(cfg.Store.DSN)
	if err != nil {
		return nil, err
	}
	switch kind {
	case "sqlite":
		return sqlite.Open(ctx, dsn)
	case "postgres":
		return postgres.Open(ctx, dsn)
	}
	return nil, errors.E(errors.Invalid, errors.Field("store.dsn"), errors.Msg("unsupported metadata store"))
}

// readKeyFile reads a configured key file, refusing one that others may
// read or anyone but its owner may write. Group read is allowed: a
// Kubernetes Secret is mounted root-owned, readable through the pod's
// fsGroup (mode 0440).
func readKeyFile(path, field string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errors.E(errors.Invalid, errors.Field(field), errors.Msg("cannot read "+path))
	}
	if fi.Mode().Perm()&0o027 != 0 {
		return nil, errors.E(errors.Permission, errors.Field(field), errors.Msg(path+" may be read by others or written by its group: make it 0600 (or 0440 for a group such as a pod's fsGroup)"))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.E(errors.Invalid, errors.Field(field), errors.Msg("cannot read "+path))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, config.MaxSecretFile+1))
	if err != nil || len(b) > config.MaxSecretFile {
		return nil, errors.E(errors.Invalid, errors.Field(field), errors.Msg("cannot read "+path+", or longer than 8 KiB"))
	}
	return b, nil
}
