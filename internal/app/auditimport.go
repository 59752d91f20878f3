package app

import (
	"context"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"golang.org/x/mod/sumdb/note"
)

// ImportSharedAudit copies the file audit log in dir (checked with the
// source's verifier key v; lk is the source's label key) into the shared
// log of cfg's metadata store (audit.backend store), with the configured
// keys: see audit.StoreLog.Import. The source is checked before the store
// is touched; then the store is migrated, as a replica's start would. A SQLite store must not be open in a running
// genesis (its lock is taken).
func ImportSharedAudit(ctx context.Context, cfg config.Config, getenv func(string) string, dir string, v note.Verifier, lk audit.LabelKey) (audit.ImportReport, error) {
	const op errors.Op = "app.ImportSharedAudit"
	var rep audit.ImportReport
	if !cfg.AuditStore() {
		return rep, errors.E(op, errors.Invalid, errors.Field("audit.backend"), errors.Msg("the config's audit log is not the shared one (audit.backend is not store): import into the replicas' config"))
	}
	k, err := ConfiguredAuditKeys(cfg, getenv)
	if err != nil {
		return rep, err
	}
	if k.Signer == nil || k.Label == nil {
		return rep, errors.E(op, errors.Invalid, errors.Msg("the shared log's keys are needed: set audit.signing_key_file and audit.label_key_file (or GENESIS_AUDIT_SIGNING_KEY and GENESIS_AUDIT_LABEL_KEY)"))
	}
	// The source first: nothing is written if it does not verify or the
	// label keys differ.
	src, err := audit.OpenImportSource(ctx, dir, v, lk)
	if err != nil {
		return rep, err
	}
	defer src.Close()
	if err := src.CheckLabelKey(k.Label); err != nil {
		return rep, errors.E(op, errors.Field("audit.label_key_file"), err)
	}
	kind, dsn, err := config.StoreDSN(cfg.Store.DSN)
	if err != nil {
		return rep, err
	}
	if kind == "sqlite" {
		lock, err := lockSQLite(dsn)
		if err != nil {
			return rep, err
		}
		if lock != nil {
			defer lock.Close()
		}
	}
	db, err := openConfiguredDB(ctx, cfg)
	if err != nil {
		return rep, errors.E(op, err)
	}
	defer db.Close()
	if _, err := store.Migrate(ctx, db); err != nil {
		return rep, errors.E(op, err)
	}
	l, err := audit.OpenStore(ctx, db, audit.Options{Signer: k.Signer, Verifier: k.Verifier, LabelKey: k.Label})
	if err != nil {
		return rep, errors.E(op, err)
	}
	defer l.Close()
	return l.Import(ctx, src)
}
