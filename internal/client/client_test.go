package client

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/errors"
)

// TestBaseURL: the server's root, its API URL (as `genesis up` prints it)
// and either with slashes reach the same paths.
func TestBaseURL(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.URL.Path)
		w.Write([]byte("{}"))
	}))
	defer srv.Close()
	for _, suffix := range []string{"", "/", "/api/v1", "/api/v1/", "//api/v1//", "/api/v1/api/v1", " "} {
		got = nil
		if err := New(srv.URL+suffix, "t").Do(context.Background(), "GET", "/api/v1/whoami", nil, nil); err != nil {
			t.Errorf("%q: %v", suffix, err)
			continue
		}
		if len(got) != 1 || got[0] != "/api/v1/whoami" {
			t.Errorf("%q: requested %q, want /api/v1/whoami", suffix, got)
		}
	}
}

func FuzzBaseURL(f *testing.F) {
	for _, s := range []string{"http://h:1", "http://h:1/api/v1/", "http://h/x/api/v1", " http://h// ", "/api/v1/api/v1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := BaseURL(s)
		if BaseURL(b) != b {
			t.Errorf("BaseURL(%q) = %q, but BaseURL of that is %q", s, b, BaseURL(b))
		}
		if strings.HasSuffix(b, "/") || strings.HasSuffix(b, "/api/v1") {
			t.Errorf("BaseURL(%q) = %q ends in / or /api/v1", s, b)
		}
		// Only a suffix is removed: what is left begins the trimmed input.
		if !strings.HasPrefix(strings.TrimSpace(s), b) {
			t.Errorf("BaseURL(%q) = %q is not a prefix of the input", s, b)
		}
	})
}

// TestRefusedToken: without a token the client says to set one; with one
// the server refuses, it says the token was refused and where it came
// from — never "set GENESIS_TOKEN" as if none were set.
func TestRefusedToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"title":"Unauthorized","status":401,"kind":"unauthenticated"}`))
	}))
	defer srv.Close()
	for _, tc := range []struct{ token, from, want string }{
		{"", "", "not authenticated: set GENESIS_TOKEN or run `genesis login`"},
		{"gnt_revoked", "GENESIS_TOKEN", "not authenticated: the server refused the token from GENESIS_TOKEN (invalid, expired or revoked)"},
		{"gnt_revoked", "", "not authenticated: the server refused the token from the client (invalid, expired or revoked)"},
	} {
		c := New(srv.URL, tc.token)
		c.TokenFrom = tc.from
		for name, call := range map[string]func() error{
			"Do":  func() error { return c.Do(context.Background(), "GET", "/api/v1/whoami", nil, nil) },
			"Get": func() error { _, _, err := c.Get(context.Background(), "/api/v1/whoami"); return err },
			"Stream": func() error {
				_, err := c.Stream(context.Background(), "/api/v1/whoami")
				return err
			},
		} {
			err := call()
			if !errors.Is(errors.Unauthenticated, err) || !strings.HasPrefix(errors.SafeMessage(err), tc.want) {
				t.Errorf("token %q from %q, %s: %v (%q), want Unauthenticated and %q", tc.token, tc.from, name, err, errors.SafeMessage(err), tc.want)
			}
		}
	}
}
