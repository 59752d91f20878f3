// Package e2e boots the whole system — through internal/app, as
// `genesis up` does — and checks it from the outside: over HTTP with the Go
// client, through the CLI as scripts, and as a real process killed with -9.
package e2e

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/app"
	"github.com/genesis-science/genesis/internal/cli"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/httpapi"
	"github.com/genesis-science/genesis/internal/lab/madsci/madscitest"
	"github.com/genesis-science/genesis/internal/testenv"
	"github.com/rogpeppe/go-internal/testscript"
)

func TestMain(m *testing.M) {
	// madscitest.Main removes the madsci-node binary the tests built.
	testscript.Main(runWith(func() int { return madscitest.Main(m) }), map[string]func(){
		"genesis": func() {
			os.Exit(cli.Run(context.Background(), os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// runWith is a testscript.TestingM whose Run is run.
type runWith func() int

func (r runWith) Run() int { return r() }

// system is a booted Genesis with its admin token.
type system struct {
	URL, AdminToken string
	App             *app.App
}

// boot opens the system in a temp data dir on the given store DSN ("" for
// the embedded SQLite default), serves it on a loopback port, and creates
// the first administrator.
func boot(t testing.TB, dsn string) *system {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cfg := config.Default(t.TempDir())
	cfg.Listen.Addr = "127.0.0.1:0"
	if dsn != "" {
		cfg.Store.DSN = dsn
	}
	a, err := app.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := a.Identity.Bootstrap(ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", cfg.Listen.Addr)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() {
		cancel()
		<-done
		a.Close()
	})
	return &system{URL: "http://" + ln.Addr().String(), AdminToken: secret, App: a}
}

// backends yields the embedded default and, when available, PostgreSQL
// (a fresh database per run).
func backends(t *testing.T) map[string]string {
	out := map[string]string{"sqlite": ""}
	if dsn := os.Getenv("GENESIS_TEST_POSTGRES"); dsn != "" || testenv.Required("postgres") {
		out["postgres"] = freshPostgres(t)
	}
	return out
}

func TestSystem(t *testing.T) {
	for name, dsn := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			sys := boot(t, dsn)
			admin := client.New(sys.URL, sys.AdminToken)

			var alice genesis.Principal
			if err := admin.Do(ctx, "POST", "/api/v1/principals", httpapi.CreatePrincipalRequest{Name: "alice", Nationality: "USA"}, &alice); err != nil {
				t.Fatal(err)
			}
			var nt httpapi.CreateTokenResponse
			if err := admin.Do(ctx, "POST", "/api/v1/principals/alice/tokens", httpapi.CreateTokenRequest{Name: "e2e"}, &nt); err != nil {
				t.Fatal(err)
			}
			ac := client.New(sys.URL, nt.Secret)
			var me genesis.Principal
			if err := ac.Do(ctx, "GET", "/api/v1/whoami", nil, &me); err != nil || me.ID != alice.ID {
				t.Fatalf("alice's token: %+v, %v", me, err)
			}

			// 401: no token, a wrong token.
			for _, tok := range []string{"", "gnt_wrong"} {
				err := client.New(sys.URL, tok).Do(ctx, "GET", "/api/v1/whoami", nil, nil)
				if !errors.Is(errors.Unauthenticated, err) {
					t.Errorf("token %q: %v, want Unauthenticated", tok, err)
				}
			}
			// 404 for what alice may not see, the same as for what is not there.
			var p genesis.Project
			if err := admin.Do(ctx, "POST", "/api/v1/projects", httpapi.CreateProjectRequest{Name: "secret-project"}, &p); err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/api/v1/projects/secret-project", "/api/v1/projects/" + string(p.ID), "/api/v1/principals/admin"} {
				hidden := rawGet(t, sys.URL+path, nt.Secret)
				missing := rawGet(t, sys.URL+path+"-missing", nt.Secret)
				if hidden.status != 404 || hidden.body != missing.body {
					t.Errorf("%s: hidden %d %q vs missing %d %q", path, hidden.status, hidden.body, missing.status, missing.body)
				}
			}
			// The admin sees it.
			if err := admin.Do(ctx, "GET", "/api/v1/projects/secret-project", nil, nil); err != nil {
				t.Errorf("admin: %v", err)
			}
		})
	}
}

type rawResp struct {
	status int
	body   string
}

// rawGet returns the status and the body without the per-request ID.
func rawGet(t *testing.T, url, token string) rawResp {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return rawResp{res.StatusCode, string(stripRequestID(b))}
}

// TestCLI runs the CLI scripts in testdata/script against a booted system.
func TestCLI(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(e *testscript.Env) error {
			sys := boot(e.T().(testing.TB), "")
			e.Setenv("GENESIS_URL", sys.URL)
			e.Setenv("ADMIN_TOKEN", sys.AdminToken)
			e.Setenv("GENESIS_TOKEN", sys.AdminToken)
			e.Setenv("XDG_CONFIG_HOME", filepath.Join(e.WorkDir, ".config"))
			e.Setenv("DATA_DIR", sys.App.Config.DataDir)
			fixtures, _ := filepath.Abs("../internal/catalog/meta/testdata")
			e.Setenv("CATALOG_FIXTURES", fixtures)
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// token NAME: set NAME_TOKEN from the "Token (shown once)" line of
			// the last command's stdout.
			"token": func(ts *testscript.TestScript, neg bool, args []string) {
				m := regexp.MustCompile(`Token \(shown once\): (gnt_\S+)`).FindStringSubmatch(ts.ReadFile("stdout"))
				if m == nil {
					ts.Fatalf("no token in stdout")
				}
				ts.Setenv(strings.ToUpper(args[0])+"_TOKEN", m[1])
			},
			// capture VAR REGEXP: set VAR to the first submatch of REGEXP in
			// the last command's stdout.
			"capture": func(ts *testscript.TestScript, neg bool, args []string) {
				m := regexp.MustCompile(args[1]).FindStringSubmatch(ts.ReadFile("stdout"))
				if len(m) < 2 {
					ts.Fatalf("no match for %s in stdout", args[1])
				}
				ts.Setenv(args[0], m[1])
			},
			"sleep": func(ts *testscript.TestScript, neg bool, args []string) {
				d, err := time.ParseDuration(args[0])
				ts.Check(err)
				time.Sleep(d)
			},
		},
	})
}
