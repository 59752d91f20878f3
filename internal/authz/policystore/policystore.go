// Package policystore keeps the authorization policy's versions in the
// metadata store, so that a replaced policy survives restarts and every
// replica activates the same one. Versions are append-only: the latest is
// active, and every earlier one stays on record.
package policystore

import (
	"context"
	"time"

	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// Version is one stored policy.
type Version struct {
	Version   int64     `json:"version"`
	Source    string    `json:"source"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// Active returns the latest stored policy, or the built-in default as
// version 0 when none was ever set.
func Active(ctx context.Context, db store.DB) (Version, error) {
	const op errors.Op = "policystore.Active"
	var v Version
	err := db.View(ctx, func(tx store.Tx) error {
		var created int64
		err := tx.QueryRow(ctx, `SELECT version, source, created_by, created_at FROM policies ORDER BY version DESC LIMIT 1`).
			Scan(&v.Version, &v.Source, &v.CreatedBy, &created)
		v.CreatedAt = store.FromT(created)
		return err
	})
	if errors.Is(errors.NotExist, err) {
		return Version{Version: 0, Source: string(authz.DefaultPolicy()), CreatedBy: "genesis"}, nil
	}
	if err != nil {
		return Version{}, errors.E(op, err)
	}
	return v, nil
}

// Save validates src as a policy and stores it as the next version. It does
// not activate it in any authorizer; the caller does (SetPolicy).
func Save(ctx context.Context, db store.DB, by string, src []byte, now time.Time) (Version, *authz.Policy, error) {
	const op errors.Op = "policystore.Save"
	pol, err := authz.ParsePolicy(src)
	if err != nil {
		return Version{}, nil, errors.E(op, errors.Invalid, errors.Field("source"), err)
	}
	v := Version{Source: string(src), CreatedBy: by, CreatedAt: now.UTC().Truncate(time.Microsecond)}
	err = db.Update(ctx, func(tx store.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM policies`).Scan(&v.Version); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO policies (version, source, created_by, created_at) VALUES (?, ?, ?, ?)`,
			v.Version, v.Source, v.CreatedBy, store.T(v.CreatedAt))
		return err
	})
	if err != nil {
		return Version{}, nil, errors.E(op, err)
	}
	return v, pol, nil
}
