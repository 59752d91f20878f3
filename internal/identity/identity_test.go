package identity_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/identity"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/store/storetest"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

var ctx = context.Background()

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func TestIdentity(t *testing.T) {
	storetest.ForEachBackend(t, func(t *testing.T, db store.DB) {
		clk := &clock{t: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
		s := identity.New(db, identity.WithClock(clk.Now))

		secret, err := s.Bootstrap(ctx, "admin")
		if err != nil || secret == "" {
			t.Fatalf("Bootstrap = %q, %v", secret, err)
		}
		if again, err := s.Bootstrap(ctx, "admin"); err != nil || again != "" {
			t.Fatalf("second Bootstrap = %q, %v; want no new admin", again, err)
		}
		admin, err := s.Authenticate(ctx, secret)
		if err != nil || !admin.IsAdmin() {
			t.Fatalf("admin auth = %+v, %v", admin, err)
		}

		org, err := s.CreateOrg(ctx, genesis.Organization{Name: "ornl", Country: "usa", Kind: "laboratory"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateOrg(ctx, genesis.Organization{Name: "ornl", Country: "USA"}); !errors.Is(errors.Exist, err) {
			t.Errorf("duplicate org: %v", err)
		}
		for _, bad := range []genesis.Organization{
			{Name: "Bad Name", Country: "USA"}, {Name: "x", Country: "US"}, {Name: "y", Country: "USA", Kind: "pirate"},
		} {
			if _, err := s.CreateOrg(ctx, bad); !errors.Is(errors.Invalid, err) || errors.FieldOf(err) == "" {
				t.Errorf("CreateOrg(%+v) = %v; want Invalid naming a field", bad, err)
			}
		}

		alice, err := s.CreatePrincipal(ctx, genesis.Principal{Clearance: "OPEN", Name: "alice", Org: "ornl", Nationality: "usa", Roles: []genesis.Role{"contributor", "viewer", "viewer"}})
		if err != nil {
			t.Fatal(err)
		}
		if alice.Org != org.ID || alice.Nationality != "USA" || len(alice.Roles) != 2 {
			t.Errorf("alice = %+v", alice)
		}
		if _, err := s.CreatePrincipal(ctx, genesis.Principal{Clearance: "OPEN", Name: "bob", Org: "nowhere"}); errors.FieldOf(err) != "org" {
			t.Errorf("unknown org: %v", err)
		}
		if _, err := s.CreatePrincipal(ctx, genesis.Principal{Clearance: "OPEN", Name: "bob", Roles: []genesis.Role{"emperor"}}); errors.FieldOf(err) != "roles" {
			t.Errorf("unknown role: %v", err)
		}
		bob, err := s.CreatePrincipal(ctx, genesis.Principal{Clearance: "OPEN", Name: "bob", Nationality: "GBR"})
		if err != nil {
			t.Fatal(err)
		}

		// Tokens: shown once, hashed, revocable, expiring.
		tok, aliceSecret, err := s.CreateToken(ctx, alice.ID, "laptop", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if p, err := s.Authenticate(ctx, aliceSecret); err != nil || p.ID != alice.ID {
			t.Fatalf("alice auth: %v", err)
		}
		for _, bad := range []string{"", "gnt_nope", aliceSecret + "x", "Bearer " + aliceSecret, "eyJ.a.b"} {
			if _, err := s.Authenticate(ctx, bad); !errors.Is(errors.Unauthenticated, err) {
				t.Errorf("Authenticate(%q) = %v; want Unauthenticated", bad, err)
			}
		}
		clk.Add(2 * time.Hour)
		if _, err := s.Authenticate(ctx, aliceSecret); !errors.Is(errors.Unauthenticated, err) {
			t.Errorf("expired token authenticated: %v", err)
		}
		_, aliceSecret2, err := s.CreateToken(ctx, alice.ID, "ci", 0)
		if err != nil {
			t.Fatal(err)
		}
		toks, _ := s.Tokens(ctx, alice.ID)
		if len(toks) != 2 {
			t.Errorf("alice has %d tokens, want 2", len(toks))
		}
		if err := s.RevokeToken(ctx, bob.ID, tok.ID); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob revoked alice's token: %v", err)
		}
		if err := s.RevokeToken(ctx, alice.ID, toks[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, aliceSecret2); !errors.Is(errors.Unauthenticated, err) {
			t.Errorf("revoked token authenticated: %v", err)
		}

		// Visibility of principals.
		if _, err := s.Principal(ctx, bob, "alice"); !errors.Is(errors.NotExist, err) {
			t.Errorf("bob sees alice: %v", err)
		}
		if _, err := s.Principal(ctx, bob, "nobody"); !errors.Is(errors.NotExist, err) {
			t.Errorf("missing principal: %v", err)
		}
		if p, err := s.Principal(ctx, admin, "alice"); err != nil || p.ID != alice.ID {
			t.Errorf("admin cannot see alice: %v", err)
		}
		if ps, _ := s.Principals(ctx, bob); len(ps) != 1 || ps[0].ID != bob.ID {
			t.Errorf("bob lists %v", ps)
		}
		if ps, _ := s.Principals(ctx, admin); len(ps) != 3 {
			t.Errorf("admin lists %d principals, want 3", len(ps))
		}

		// Projects: members see them; others get NotExist; only project
		// admins add members.
		prj, err := s.CreateProject(ctx, alice, genesis.Project{Name: "fusion-ml", Title: "Fusion ML"})
		if err != nil {
			t.Fatal(err)
		}
		if prj.Org != org.ID {
			t.Errorf("project org = %q, want the creator's", prj.Org)
		}
		if _, err := s.Project(ctx, bob, "fusion-ml"); !errors.Is(errors.NotExist, err) {
			t.Errorf("non-member sees project: %v", err)
		}
		if _, err := s.AddMember(ctx, bob, "fusion-ml", "bob", genesis.RoleViewer); !errors.Is(errors.NotExist, err) {
			t.Errorf("non-member adds himself: %v", err)
		}
		if _, err := s.AddMember(ctx, alice, "fusion-ml", "bob", genesis.RoleViewer); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Project(ctx, bob, prj.Name); err != nil {
			t.Errorf("member cannot see project: %v", err)
		}
		if _, err := s.AddMember(ctx, bob, "fusion-ml", "bob", genesis.RoleAdmin); !errors.Is(errors.Permission, err) {
			t.Errorf("viewer promotes himself: %v", err)
		}
		ms, _ := s.Members(ctx, bob, "fusion-ml")
		if len(ms) != 2 {
			t.Errorf("members = %v", ms)
		}
		if ps, _ := s.Projects(ctx, bob); len(ps) != 1 {
			t.Errorf("bob's projects = %v", ps)
		}

		// Disabling revokes everything at once.
		_, bobSecret, _ := s.CreateToken(ctx, bob.ID, "", 0)
		if _, err := s.DisablePrincipal(ctx, "bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, bobSecret); !errors.Is(errors.Unauthenticated, err) {
			t.Errorf("disabled principal authenticated: %v", err)
		}
		if _, _, err := s.CreateToken(ctx, bob.ID, "", 0); err == nil {
			t.Error("token issued to disabled principal")
		}
	})
}

// TestOIDC runs a tiny issuer (discovery + JWKS) and checks that ID tokens
// map to principals by (issuer, subject), and that forged, expired or
// wrong-audience tokens do not authenticate.
func TestOIDC(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var srv *httptest.Server
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{
			"issuer": srv.URL, "jwks_uri": srv.URL + "/jwks",
			"authorization_endpoint": srv.URL + "/auth", "token_endpoint": srv.URL + "/token",
			"id_token_signing_alg_values_supported": []string{"ES256"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()

	sign := func(k *ecdsa.PrivateKey, c jwt.Claims) string {
		sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := jwt.Signed(sig).Claims(c).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	v, err := identity.NewOIDC(ctx, srv.URL, "genesis")
	if err != nil {
		t.Fatal(err)
	}
	db := storetest.Migrated(t, storetest.SQLite)
	s := identity.New(db, identity.WithOIDC(v))
	carol, err := s.CreatePrincipal(ctx, genesis.Principal{Clearance: "OPEN", Name: "carol", OIDCIssuer: srv.URL, OIDCSubject: "sub-carol"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	good := jwt.Claims{Issuer: srv.URL, Subject: "sub-carol", Audience: jwt.Audience{"genesis"}, Expiry: jwt.NewNumericDate(now.Add(time.Hour)), IssuedAt: jwt.NewNumericDate(now)}
	if p, err := s.Authenticate(ctx, sign(key, good)); err != nil || p.ID != carol.ID {
		t.Fatalf("valid ID token: %v, %v", p, err)
	}
	cases := map[string]string{}
	c := good
	c.Subject = "sub-unknown"
	cases["unknown subject"] = sign(key, c)
	c = good
	c.Audience = jwt.Audience{"someone-else"}
	cases["wrong audience"] = sign(key, c)
	c = good
	c.Expiry = jwt.NewNumericDate(now.Add(-time.Hour))
	cases["expired"] = sign(key, c)
	cases["forged"] = sign(other, good)
	for name, raw := range cases {
		if _, err := s.Authenticate(ctx, raw); !errors.Is(errors.Unauthenticated, err) {
			t.Errorf("%s: %v; want Unauthenticated", name, err)
		}
	}
}
