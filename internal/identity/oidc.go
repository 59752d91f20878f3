package identity

import (
	"context"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
)

// OIDC verifies ID tokens (JWTs) from one issuer, whose keys it fetches from
// the issuer's JWKS (go-oidc caches and refreshes them). A verified token's
// (issuer, subject) is mapped to the principal registered with them.
type OIDC struct {
	issuer   string
	verifier *oidc.IDTokenVerifier
}

// NewOIDC discovers issuer's configuration. audience is the client ID the
// tokens must be issued for.
func NewOIDC(ctx context.Context, issuer, audience string) (*OIDC, error) {
	const op errors.Op = "identity.NewOIDC"
	if audience == "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("oidc.audience"), errors.Msg("an OIDC audience (client ID) is required"))
	}
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, errors.E(op, errors.Transient, errors.Msg("cannot discover the OIDC issuer"), err)
	}
	return &OIDC{issuer: issuer, verifier: p.Verifier(&oidc.Config{ClientID: audience})}, nil
}

// Verify checks a raw ID token and returns its issuer and subject.
func (o *OIDC) Verify(ctx context.Context, raw string) (issuer, subject string, err error) {
	tok, err := o.verifier.Verify(ctx, raw)
	if err != nil {
		return "", "", errors.E(errors.Op("identity.OIDC.Verify"), errors.Unauthenticated, err)
	}
	return tok.Issuer, tok.Subject, nil
}

// PrincipalByOIDC returns the principal registered with (issuer,
// subject): the console's OIDC sign-in maps a verified ID token with it.
// An unregistered subject is NotExist (no account is created); a disabled
// principal is returned as it is and the caller refuses it.
func (s *Service) PrincipalByOIDC(ctx context.Context, issuer, subject string) (*genesis.Principal, error) {
	const op errors.Op = "identity.PrincipalByOIDC"
	if issuer == "" || subject == "" {
		return nil, errors.E(op, errors.NotExist)
	}
	var p *genesis.Principal
	err := s.db.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = scanPrincipal(tx.QueryRow(ctx, `SELECT `+principalCols+` FROM principals WHERE oidc_issuer = ? AND oidc_subject = ?`, issuer, subject))
		return err
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return p, nil
}
