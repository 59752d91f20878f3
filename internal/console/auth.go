package console

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
)

// Cookie names. The session cookie holds a random 256-bit ID (the store
// keeps its hash); the pre-session cookie is the sign-in form's CSRF
// token (double submit: no session exists yet to hold one).
const (
	SessionCookie    = "genesis_session"
	PreSessionCookie = "genesis_signin"
	// CSRFField is the hidden form field every form carries.
	CSRFField = "csrf"
	// maxForm bounds a form body.
	maxForm = 16 << 10
)

func (c *Console) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: c.secure(r), SameSite: http.SameSiteStrictMode})
}

// public wraps a page that needs no session (sign-in).
func (c *Console) public(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if err := sameSite(r); err != nil {
				c.fail(w, r, nil, err)
				return
			}
		}
		if err := h(w, r, nil); err != nil {
			c.fail(w, r, nil, err)
		}
	})
}

// authed wraps a page that needs a signed-in viewer: without a live
// session it redirects to the sign-in page; a POST must come from this
// site and carry the session's CSRF token.
func (c *Console) authed(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := c.viewerOf(r)
		if v == nil {
			if r.Method == http.MethodPost {
				c.fail(w, r, nil, errors.E(errors.Op("console"), errors.Permission, errors.Msg("this form needs a signed-in session from this site")))
				return
			}
			http.Redirect(w, r, "/signin", http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			if err := sameSite(r); err != nil {
				c.fail(w, r, v, err)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if !equalToken(r.PostFormValue(CSRFField), v.sess.CSRF) {
				c.fail(w, r, v, errCSRF)
				return
			}
		}
		r = r.WithContext(ctxWith(r.Context(), v.p))
		if err := h(w, r, v); err != nil {
			c.fail(w, r, v, err)
		}
	})
}

var errCSRF = errors.E(errors.Op("console"), errors.Permission, errors.Msg("the form's security token is missing or stale: reload the page and try again"))

// sameSite refuses a request the browser says came from another site:
// Sec-Fetch-Site cross-site or same-site (a sibling subdomain), or an
// Origin whose host is not this one.
func sameSite(r *http.Request) error {
	const op errors.Op = "console.sameSite"
	refuse := errors.E(op, errors.Permission, errors.Msg("cross-site form posts are refused"))
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return refuse
	}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || o == "null" || !strings.EqualFold(u.Host, r.Host) {
			return refuse
		}
	}
	return nil
}

// viewerOf returns the request's live session and its principal, or nil.
func (c *Console) viewerOf(r *http.Request) *viewer {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return nil
	}
	sess, err := c.sessions.Get(r.Context(), ck.Value)
	if err != nil {
		return nil
	}
	p, err := c.cfg.Identity.Principal(r.Context(), &genesis.Principal{ID: sess.Principal}, string(sess.Principal))
	if err != nil || p.Disabled {
		return nil
	}
	return &viewer{p: p, sess: sess, secret: ck.Value}
}

type signinData struct {
	Error string
	// OIDCHost names the OIDC issuer when its sign-in is offered.
	OIDCHost string
}

func (c *Console) signinPage(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	if v := c.viewerOf(r); v != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return nil
	}
	return c.renderSignin(w, r, http.StatusOK, "")
}

func (c *Console) renderSignin(w http.ResponseWriter, r *http.Request, status int, msg string) error {
	token := randomSecret()
	if ck, err := r.Cookie(PreSessionCookie); err == nil && len(ck.Value) == len(token) {
		token = ck.Value
	}
	c.setCookie(w, r, PreSessionCookie, token, int(OnceTTL.Seconds()))
	pg := c.newPage("Sign in", nil, token)
	d := signinData{Error: msg}
	if c.cfg.OIDC != nil {
		d.OIDCHost = c.cfg.OIDC.Host()
	}
	pg.Data = d
	return c.render(w, r, status, "signin", pg)
}

// signin checks the API token and starts a session. Every failure is the
// same message, as Authenticate's are.
func (c *Console) signin(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	form := r.PostFormValue(CSRFField)
	ck, err := r.Cookie(PreSessionCookie)
	if err != nil || !equalToken(form, ck.Value) {
		return errCSRF
	}
	p, err := c.cfg.Identity.Authenticate(r.Context(), strings.TrimSpace(r.PostFormValue("token")))
	if err != nil {
		if errors.Is(errors.Unauthenticated, err) {
			return c.renderSignin(w, r, http.StatusUnauthorized, "That token was not accepted.")
		}
		return err
	}
	return c.startSession(w, r, p.ID)
}

func (c *Console) startSession(w http.ResponseWriter, r *http.Request, p genesis.PrincipalID) error {
	secret, _, err := c.sessions.Create(r.Context(), p)
	if err != nil {
		return err
	}
	c.setCookie(w, r, SessionCookie, secret, int(SessionTTL.Seconds()))
	c.setCookie(w, r, PreSessionCookie, "", -1)
	http.Redirect(w, r, "/", http.StatusSeeOther)
	return nil
}

// signinOnce redeems a one-time sign-in code (genesis up's link).
func (c *Console) signinOnce(w http.ResponseWriter, r *http.Request, _ *viewer) error {
	p, err := c.sessions.RedeemOnce(r.Context(), r.URL.Query().Get("code"))
	if err != nil {
		if errors.Is(errors.NotExist, err) {
			return c.renderSignin(w, r, http.StatusUnauthorized, "That sign-in link was already used or has expired: sign in with a token.")
		}
		return err
	}
	return c.startSession(w, r, p)
}

func (c *Console) signout(w http.ResponseWriter, r *http.Request, v *viewer) error {
	if err := c.sessions.Delete(r.Context(), v.secret); err != nil {
		return err
	}
	c.setCookie(w, r, SessionCookie, "", -1)
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
	return nil
}
