package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// Session lifetimes.
const (
	// SessionTTL is how long a console session lasts from sign-in
	// (absolute: it is not extended by use).
	SessionTTL = 12 * time.Hour
	// OnceTTL is how long a one-time sign-in code stays usable.
	OnceTTL = 15 * time.Minute
)

const (
	kindSession = "session"
	kindOnce    = "once"
)

// Session is a signed-in browser: who, its form token, until when.
type Session struct {
	Principal genesis.PrincipalID
	CSRF      string
	Expires   time.Time
}

// Sessions keeps console sessions and one-time sign-in codes in the
// metadata store (migration 0030). Secrets are random 256-bit values the
// browser (or the sign-in link) holds; the store holds their SHA-256 only.
type Sessions struct {
	db  store.DB
	now func() time.Time
}

// NewSessions returns the session store over db.
func NewSessions(db store.DB, now func() time.Time) *Sessions {
	if now == nil {
		now = time.Now
	}
	return &Sessions{db: db, now: now}
}

func randomSecret() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("console: no randomness: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

func hashSecret(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// validSecret reports whether s has the shape randomSecret makes, so that
// arbitrary cookie or query text is never hashed or looked up.
func validSecret(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

func (s *Sessions) insert(ctx context.Context, kind string, p genesis.PrincipalID, ttl time.Duration) (secret string, sess *Session, err error) {
	secret = randomSecret()
	now := s.now()
	sess = &Session{Principal: p, CSRF: randomSecret(), Expires: now.Add(ttl)}
	err = s.db.Update(ctx, func(tx store.Tx) error {
		// Expired rows go as new ones come: the table stays bounded by the
		// sessions alive in one TTL.
		if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE expires_at <= ?`, store.T(now)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO console_sessions (id_hash, kind, principal_id, csrf, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			hashSecret(secret), kind, string(p), sess.CSRF, store.T(now), store.T(sess.Expires))
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return secret, sess, nil
}

// Create starts a session for p and returns the cookie value.
func (s *Sessions) Create(ctx context.Context, p genesis.PrincipalID) (string, *Session, error) {
	const op errors.Op = "console.Sessions.Create"
	secret, sess, err := s.insert(ctx, kindSession, p, SessionTTL)
	if err != nil {
		return "", nil, errors.E(op, err)
	}
	return secret, sess, nil
}

// Get returns the live session the cookie value names; any unknown,
// malformed or expired value is NotExist.
func (s *Sessions) Get(ctx context.Context, secret string) (*Session, error) {
	const op errors.Op = "console.Sessions.Get"
	if !validSecret(secret) {
		return nil, errors.E(op, errors.NotExist)
	}
	var sess Session
	var p string
	var exp int64
	err := s.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT principal_id, csrf, expires_at FROM console_sessions WHERE id_hash = ? AND kind = ?`,
			hashSecret(secret), kindSession).Scan(&p, &sess.CSRF, &exp)
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	sess.Principal, sess.Expires = genesis.PrincipalID(p), store.FromT(exp)
	if !s.now().Before(sess.Expires) {
		return nil, errors.E(op, errors.NotExist)
	}
	return &sess, nil
}

// Delete ends the session the cookie value names (signing out); ending
// one that does not exist is not an error.
func (s *Sessions) Delete(ctx context.Context, secret string) error {
	const op errors.Op = "console.Sessions.Delete"
	if !validSecret(secret) {
		return nil
	}
	err := s.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE id_hash = ? AND kind = ?`, hashSecret(secret), kindSession)
		return err
	})
	if err != nil {
		return errors.E(op, err)
	}
	return nil
}

// CreateOnce makes a one-time sign-in code for p, valid once and for
// OnceTTL.
func (s *Sessions) CreateOnce(ctx context.Context, p genesis.PrincipalID) (string, error) {
	const op errors.Op = "console.Sessions.CreateOnce"
	secret, _, err := s.insert(ctx, kindOnce, p, OnceTTL)
	if err != nil {
		return "", errors.E(op, err)
	}
	return secret, nil
}

// RedeemOnce consumes a one-time code and returns its principal. The code
// is deleted in the same transaction that reads it, so two concurrent
// uses cannot both succeed; an unknown, used or expired code is NotExist.
func (s *Sessions) RedeemOnce(ctx context.Context, code string) (genesis.PrincipalID, error) {
	const op errors.Op = "console.Sessions.RedeemOnce"
	if !validSecret(code) {
		return "", errors.E(op, errors.NotExist)
	}
	var p string
	err := s.db.Update(ctx, func(tx store.Tx) error {
		var exp int64
		if err := tx.QueryRow(ctx, `SELECT principal_id, expires_at FROM console_sessions WHERE id_hash = ? AND kind = ?`,
			hashSecret(code), kindOnce).Scan(&p, &exp); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE id_hash = ? AND kind = ?`, hashSecret(code), kindOnce)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return errors.E(errors.NotExist)
		}
		if !s.now().Before(store.FromT(exp)) {
			return errors.E(errors.NotExist)
		}
		return nil
	})
	if err != nil {
		return "", errors.E(op, err)
	}
	return genesis.PrincipalID(p), nil
}

// equalToken compares two form tokens in constant time.
func equalToken(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
