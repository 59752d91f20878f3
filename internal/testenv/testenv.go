// Package testenv tells tests which real services (PostgreSQL, S3, Slurm, a
// browser) this run has, and enforces GENESIS_TEST_REQUIRE: a test that needs
// an absent service skips loudly, except when the service is required, where
// absence is a failure. CI sets GENESIS_TEST_REQUIRE=all.
//
// The test set-up script (scripts/test.sh) starts the services and exports:
//
//	GENESIS_TEST_POSTGRES   a PostgreSQL DSN for a database the tests may fill
//	GENESIS_TEST_S3         http://ACCESS:SECRET@HOST:PORT/BUCKET (path-style)
//	GENESIS_TEST_SLURM      slurmrestd URL
//	GENESIS_TEST_CHROMIUM   path to a Chromium binary
package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Required reports whether service must be present in this run:
// GENESIS_TEST_REQUIRE is "all" or a comma-separated list naming it.
func Required(service string) bool {
	req := os.Getenv("GENESIS_TEST_REQUIRE")
	for _, s := range strings.Split(req, ",") {
		s = strings.TrimSpace(s)
		if s == "all" || strings.EqualFold(s, service) {
			return true
		}
	}
	return false
}

// Need returns the value of env var name for service, or skips the test
// with a loud reason when it is unset — or fails it when the service is
// required.
func Need(t testing.TB, service, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v != "" {
		return v
	}
	msg := "SERVICE MISSING: " + service + " tests need " + name + " (run scripts/test.sh, which starts it)"
	if Required(service) {
		t.Fatalf("%s; GENESIS_TEST_REQUIRE=%s makes this a failure", msg, os.Getenv("GENESIS_TEST_REQUIRE"))
	}
	t.Skip(msg)
	return ""
}

// Postgres returns the test PostgreSQL DSN, or skips/fails.
func Postgres(t testing.TB) string { return Need(t, "postgres", "GENESIS_TEST_POSTGRES") }

// S3 returns the test S3 URL, or skips/fails.
func S3(t testing.TB) string { return Need(t, "s3", "GENESIS_TEST_S3") }

// Slurm returns the slurmrestd URL, or skips/fails.
func Slurm(t testing.TB) string { return Need(t, "slurm", "GENESIS_TEST_SLURM") }

// Short reports whether this is a quick local run (go test -short).
func Short() bool { return testing.Short() }

// Tool returns the path of the program name on PATH (pdftotext, …), or
// skips the test with a loud reason when it is missing — or fails it when
// GENESIS_TEST_REQUIRE is "all" or names the program. scripts/services.sh
// installs the programs the tests use.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := "TOOL MISSING: " + name + " is not on PATH (scripts/services.sh installs it)"
	if Required(name) {
		t.Fatalf("%s; GENESIS_TEST_REQUIRE=%s makes this a failure", msg, os.Getenv("GENESIS_TEST_REQUIRE"))
	}
	t.Skip(msg)
	return ""
}

// Program is a main package the tests run as a separate process (a
// scripted server, a lab node): built with go build once per test binary,
// on first use, into a temporary directory that Remove deletes.
type Program struct {
	Pkg  string // import path, "github.com/genesis-science/genesis/cmd/…"
	Name string // binary name

	once sync.Once
	dir  string
	path string
	err  error
}

// Build compiles the program the first time it is called and returns the
// binary's path.
func (p *Program) Build() (string, error) {
	p.once.Do(func() {
		p.dir, p.err = os.MkdirTemp("", p.Name+"-")
		if p.err != nil {
			return
		}
		p.path = filepath.Join(p.dir, p.Name)
		if out, err := exec.Command("go", "build", "-o", p.path, p.Pkg).CombinedOutput(); err != nil {
			p.err = fmt.Errorf("go build %s: %v\n%s", p.Pkg, err, out)
		}
	})
	return p.path, p.err
}

// Remove deletes what Build made, if anything (from TestMain, after m.Run).
func (p *Program) Remove() {
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// Chromium returns the path of the Chromium binary the browser tests drive
// (GENESIS_TEST_CHROMIUM, which scripts/services.sh exports after checking
// that it runs a page headless), or skips/fails per GENESIS_TEST_REQUIRE
// ("chromium" or "all"). A set path that is not an executable file fails
// the test: the run was configured wrongly.
func Chromium(t testing.TB) string {
	t.Helper()
	p := Need(t, "chromium", "GENESIS_TEST_CHROMIUM")
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("GENESIS_TEST_CHROMIUM=%s is not an executable file (%v)", p, err)
	}
	return p
}
