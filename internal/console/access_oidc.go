package console

import (
	"context"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/store"
	"golang.org/x/oauth2"
)

// OIDC sign-in: the authorization-code flow with PKCE (S256), state and
// nonce. /signin/oidc keeps the attempt's state, nonce and PKCE verifier
// server-side (the store's table console_oidc_flows, so that the
// provider's redirect back may reach any replica: bounded, single use,
// OIDCFlowTTL) and
// binds it to the browser with a random value in a short-lived HttpOnly
// cookie; /signin/oidc/callback checks state and binding, exchanges the
// code, verifies the ID token (signature, issuer, audience, expiry) and
// its nonce, and maps (issuer, subject) to the registered principal —
// an unknown or disabled subject is refused and no account is created.

const (
	// OIDCCookie binds an OIDC sign-in attempt to the browser that began
	// it. It is SameSite=Lax: the provider's redirect back is a cross-site
	// top-level navigation, on which Strict cookies are not sent.
	OIDCCookie = "genesis_oidc"
	// OIDCFlowTTL is how long a started OIDC sign-in may take.
	OIDCFlowTTL = 10 * time.Minute
	// maxOIDCFlows bounds the attempts in progress (rows).
	maxOIDCFlows = 10000
	// OIDCCallbackPath is where the provider sends the browser back.
	OIDCCallbackPath = "/signin/oidc/callback"
)

// OIDCConfig configures the console's OIDC sign-in.
type OIDCConfig struct {
	// Issuer is the provider's issuer URL (discovered at start).
	Issuer string
	// ClientID is the console's client ID (oidc.audience: the audience
	// ID tokens must carry); ClientSecret its secret ("" for a public
	// client, which PKCE protects).
	ClientID, ClientSecret string
	// PublicURL is the console's base URL; the redirect URI is
	// PublicURL + OIDCCallbackPath.
	PublicURL string
	// HTTPClient, if set, is used to reach the provider.
	HTTPClient *http.Client
	// DB keeps the attempts in progress (table console_oidc_flows), shared
	// by every replica. Required.
	DB store.DB
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// OIDCSignIn is the console's "Sign in with <issuer host>".
type OIDCSignIn struct {
	host     string
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	client   *http.Client
	now      func() time.Time
	db       store.DB
	// max bounds the attempts in progress (maxOIDCFlows; tests lower it).
	max int
}

type oidcFlow struct {
	nonce, pkce, binding string // binding: SHA-256 of the cookie value
	expires              time.Time
}

// NewOIDCSignIn discovers the issuer and returns the sign-in flow.
func NewOIDCSignIn(ctx context.Context, cfg OIDCConfig) (*OIDCSignIn, error) {
	const op errors.Op = "console.NewOIDCSignIn"
	if cfg.DB == nil {
		return nil, errors.E(op, errors.Internal, errors.Msg("OIDC sign-in needs the store for its attempts in progress"))
	}
	if cfg.ClientID == "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("oidc.audience"), errors.Msg("OIDC sign-in needs the client ID (oidc.audience)"))
	}
	pub, err := url.Parse(cfg.PublicURL)
	if err != nil || (pub.Scheme != "https" && pub.Scheme != "http") || pub.Host == "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("console.public_url"), errors.Msg("OIDC sign-in needs console.public_url, the console's absolute URL"))
	}
	iss, err := url.Parse(cfg.Issuer)
	if err != nil || iss.Host == "" {
		return nil, errors.E(op, errors.Invalid, errors.Field("oidc.issuer"), errors.Msg("oidc.issuer must be the issuer's URL"))
	}
	if cfg.HTTPClient != nil {
		ctx = oidc.ClientContext(ctx, cfg.HTTPClient)
	}
	p, err := oidc.NewProvider(ctx, cfg.Issuer)
	if err != nil {
		return nil, errors.E(op, errors.Transient, errors.Msg("cannot discover the OIDC issuer"), err)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &OIDCSignIn{
		host: iss.Hostname(),
		oauth: oauth2.Config{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret, Endpoint: p.Endpoint(),
			RedirectURL: strings.TrimSuffix(pub.String(), "/") + OIDCCallbackPath, Scopes: []string{oidc.ScopeOpenID}},
		verifier: p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: now}),
		client:   cfg.HTTPClient,
		now:      now,
		db:       cfg.DB,
		max:      maxOIDCFlows,
	}, nil
}

// Host is the issuer's host name, as the sign-in button names it.
func (o *OIDCSignIn) Host() string { return o.host }

// start records a new attempt and returns its state, nonce, PKCE
// verifier and browser binding (the cookie value). Expired attempts go
// as new ones come; when max attempts are still in progress the oldest
// gives way rather than every new one being refused, so a stream of
// unauthenticated starts cannot shut sign-in out for OIDCFlowTTL — it
// would have to outpace people completing their sign-in at the provider.
func (o *OIDCSignIn) start(ctx context.Context) (state, nonce, pkce, binding string, err error) {
	const op errors.Op = "console.oidcStart"
	now := o.now()
	state, nonce, pkce, binding = randomSecret(), randomSecret(), oauth2.GenerateVerifier(), randomSecret()
	err = o.db.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM console_oidc_flows WHERE expires_at <= ?`, store.T(now)); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM console_oidc_flows`).Scan(&n); err != nil {
			return err
		}
		if excess := n - o.max + 1; excess > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM console_oidc_flows WHERE state_hash IN
				(SELECT state_hash FROM console_oidc_flows ORDER BY created_at, state_hash LIMIT ?)`, excess); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO console_oidc_flows (state_hash, nonce, pkce, binding_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
			hashSecret(state), nonce, pkce, hashSecret(binding), store.T(now), store.T(now.Add(OIDCFlowTTL)))
		return err
	})
	if err != nil {
		return "", "", "", "", errors.E(op, err)
	}
	return state, nonce, pkce, binding, nil
}

// take removes and returns the attempt state names if the browser's
// binding matches and it has not expired; any other state is nil (and no
// error). An attempt is usable once, whatever the outcome: of two
// callbacks with one state, on one replica or two, one at most gets it.
func (o *OIDCSignIn) take(ctx context.Context, state, binding string) (*oidcFlow, error) {
	const op errors.Op = "console.oidcCallback"
	if !validSecret(state) {
		return nil, nil
	}
	var f *oidcFlow
	err := o.db.Update(ctx, func(tx store.Tx) error {
		f = nil
		var g oidcFlow
		var expires int64
		err := tx.QueryRow(ctx, `SELECT nonce, pkce, binding_hash, expires_at FROM console_oidc_flows WHERE state_hash = ?`, hashSecret(state)).
			Scan(&g.nonce, &g.pkce, &g.binding, &expires)
		if errors.Is(errors.NotExist, err) {
			return nil
		}
		if err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `DELETE FROM console_oidc_flows WHERE state_hash = ?`, hashSecret(state))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return err // another callback took it first
		}
		g.expires = store.FromT(expires)
		f = &g
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if f == nil || !validSecret(binding) || subtle.ConstantTimeCompare([]byte(f.binding), []byte(hashSecret(binding))) != 1 || !o.now().Before(f.expires) {
		return nil, nil
	}
	return f, nil
}

// callbackQuery is the provider's answer, as the callback reads it.
type callbackQuery struct {
	State, Code string
	// Error is the provider's error code ("access_denied"), if any.
	Error string
}

// parseCallback reads the callback's query: an error code (letters and
// underscores, at most 64), or a state (the shape randomSecret makes) and
// a code (1 to 2048 printable ASCII characters). Anything else is
// Invalid, naming the parameter.
func parseCallback(raw string) (callbackQuery, error) {
	const op errors.Op = "console.oidcCallback"
	bad := func(field, msg string) (callbackQuery, error) {
		return callbackQuery{}, errors.E(op, errors.Invalid, errors.Field(field), errors.Msg(msg))
	}
	if len(raw) > 8192 {
		return bad("query", "the sign-in answer is too long")
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return bad("query", "the sign-in answer is not a valid query string")
	}
	for _, k := range []string{"state", "code", "error"} {
		if len(q[k]) > 1 {
			return bad(k, "the sign-in answer repeats "+k)
		}
	}
	if e, ok := q["error"]; ok {
		if len(e[0]) == 0 || len(e[0]) > 64 || strings.TrimFunc(e[0], func(r rune) bool { return r == '_' || (r >= 'a' && r <= 'z') }) != "" {
			return bad("error", "the provider's error code is malformed")
		}
		return callbackQuery{Error: e[0]}, nil
	}
	cq := callbackQuery{State: q.Get("state"), Code: q.Get("code")}
	if !validSecret(cq.State) {
		return bad("state", "the sign-in answer's state is missing or malformed")
	}
	if len(cq.Code) == 0 || len(cq.Code) > 2048 || strings.TrimFunc(cq.Code, func(r rune) bool { return r > 0x20 && r < 0x7f }) != "" {
		return bad("code", "the sign-in answer's code is missing or malformed")
	}
	return cq, nil
}

// secure reports whether cookies must be Secure: the request came over
// TLS, or the console's public URL is https (a TLS-terminating proxy).
func (c *Console) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(strings.ToLower(c.cfg.PublicURL), "https://")
}

// oidcStart begins an OIDC sign-in: it redirects to the provider.
func (c *Console) oidcStart(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	o := c.cfg.OIDC
	if o == nil {
		return errors.E(errors.Op("console.oidc"), errors.NotExist)
	}
	state, nonce, pkce, binding, err := o.start(r.Context())
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: OIDCCookie, Value: binding, Path: "/signin/oidc", MaxAge: int(OIDCFlowTTL.Seconds()),
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, o.oauth.AuthCodeURL(state, oauth2.S256ChallengeOption(pkce), oidc.Nonce(nonce)), http.StatusSeeOther)
	return nil
}

// oidcRefusal is the sign-in page with a refusal.
func (c *Console) oidcRefusal(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	http.SetCookie(w, &http.Cookie{Name: OIDCCookie, Value: "", Path: "/signin/oidc", MaxAge: -1,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	return c.renderSignin(w, r, status, msg)
}

// oidcCallback finishes an OIDC sign-in.
func (c *Console) oidcCallback(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	o := c.cfg.OIDC
	if o == nil {
		return errors.E(errors.Op("console.oidc"), errors.NotExist)
	}
	cq, err := parseCallback(r.URL.RawQuery)
	if err != nil {
		return c.oidcRefusal(w, r, http.StatusBadRequest, "The sign-in answer from "+o.host+" is not valid: "+errors.SafeMessage(err)+". Start again.")
	}
	if cq.Error != "" {
		return c.oidcRefusal(w, r, http.StatusUnauthorized, o.host+" did not sign you in ("+cq.Error+").")
	}
	var binding string
	if ck, err := r.Cookie(OIDCCookie); err == nil {
		binding = ck.Value
	}
	flow, err := o.take(r.Context(), cq.State, binding)
	if err != nil {
		return err
	}
	if flow == nil {
		return c.oidcRefusal(w, r, http.StatusBadRequest, "This sign-in attempt is unknown, expired, already used or was started in another browser. Start again.")
	}
	ctx := r.Context()
	if o.client != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, o.client)
	}
	tok, err := o.oauth.Exchange(ctx, cq.Code, oauth2.VerifierOption(flow.pkce))
	if err != nil {
		c.log.WarnContext(r.Context(), "console OIDC code exchange failed", "err", err)
		return c.oidcRefusal(w, r, http.StatusUnauthorized, o.host+" did not accept the sign-in code. Start again.")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return c.oidcRefusal(w, r, http.StatusUnauthorized, o.host+" returned no ID token. Start again.")
	}
	idt, err := o.verifier.Verify(oidc.ClientContext(r.Context(), o.httpClient()), raw)
	if err != nil {
		c.log.WarnContext(r.Context(), "console OIDC ID token refused", "err", err)
		return c.oidcRefusal(w, r, http.StatusUnauthorized, "The ID token from "+o.host+" was not valid (signature, issuer, audience or expiry). Start again.")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(flow.nonce)) != 1 {
		return c.oidcRefusal(w, r, http.StatusUnauthorized, "The ID token from "+o.host+" does not belong to this sign-in attempt (nonce). Start again.")
	}
	p, err := c.cfg.Identity.PrincipalByOIDC(r.Context(), idt.Issuer, idt.Subject)
	if err != nil && !errors.Is(errors.NotExist, err) {
		return err
	}
	if err != nil || p.Disabled {
		return c.oidcRefusal(w, r, http.StatusForbidden, "You signed in at "+o.host+", but no active Genesis account is registered for that identity. Ask an administrator to register it (genesis principal create NAME --oidc-issuer … --oidc-subject …).")
	}
	http.SetCookie(w, &http.Cookie{Name: OIDCCookie, Value: "", Path: "/signin/oidc", MaxAge: -1,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteLaxMode})
	secret, _, err := c.sessions.Create(r.Context(), p.ID)
	if err != nil {
		return err
	}
	c.setCookie(w, r, SessionCookie, secret, int(SessionTTL.Seconds()))
	c.setCookie(w, r, PreSessionCookie, "", -1)
	// The browser arrived here by a cross-site redirect, so it would not
	// send the (SameSite=Strict) session cookie on a redirect to "/": a
	// page of this site moves on instead.
	pg := c.newPage("Signed in", nil, "")
	pg.Data = p.Name
	return c.render(w, r, http.StatusOK, "access_signedin", pg)
}

func (o *OIDCSignIn) httpClient() *http.Client {
	if o.client != nil {
		return o.client
	}
	return http.DefaultClient
}
