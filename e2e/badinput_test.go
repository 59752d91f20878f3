package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/cli"
)

// TestPutBadInput feeds `genesis dataset put` what users bring by mistake
// and checks each gets one clear error (or is stored correctly) and that no
// partial version is ever committed.
func TestPutBadInput(t *testing.T) {
	sys := boot(t, "")
	env := map[string]string{"GENESIS_URL": sys.URL, "GENESIS_TOKEN": sys.AdminToken, "HOME": t.TempDir()}
	run := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := cli.Run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errb)
		return out.String(), errb.String(), code
	}
	if _, e, code := run("dataset", "create", "bad", "--label", "OPEN"); code != 0 {
		t.Fatal(e)
	}
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("s"), 0o600)

	cases := []struct {
		name  string
		setup func(dir string) []string // returns put arguments
		fail  string                    // "" = must succeed
	}{
		{"symlink pointing outside", func(d string) []string {
			os.WriteFile(filepath.Join(d, "ok.txt"), []byte("ok"), 0o644)
			os.Symlink(filepath.Join(outside, "secret"), filepath.Join(d, "link"))
			return []string{d}
		}, "outside"},
		{"control character in a name", func(d string) []string {
			os.WriteFile(filepath.Join(d, "bad\x01name"), []byte("x"), 0o644)
			return []string{d}
		}, "control"},
		{"missing path", func(d string) []string { return []string{filepath.Join(d, "nope")} }, "cannot read"},
		{"empty file", func(d string) []string {
			os.WriteFile(filepath.Join(d, "empty"), nil, 0o644)
			return []string{filepath.Join(d, "empty")}
		}, ""},
		{"relative symlink inside", func(d string) []string {
			os.WriteFile(filepath.Join(d, "target.txt"), []byte("t"), 0o644)
			os.Symlink("target.txt", filepath.Join(d, "alias"))
			return []string{d}
		}, ""},
	}
	versions := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"dataset", "put", "bad"}, c.setup(t.TempDir())...)
			out, errOut, code := run(args...)
			if c.fail == "" {
				if code != 0 {
					t.Fatalf("refused: %s", errOut)
				}
				versions++
				return
			}
			if code == 0 {
				t.Fatalf("accepted: %s", out)
			}
			if !strings.Contains(strings.ToLower(errOut), c.fail) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.HasPrefix(errOut, "genesis: ") {
				t.Errorf("error = %q, want one line mentioning %q", errOut, c.fail)
			}
		})
	}
	// Only the successful puts made versions: nothing partial.
	out, _, _ := run("dataset", "versions", "bad", "--json")
	if n := strings.Count(out, `"version":`); n != versions {
		t.Errorf("%d versions committed, want %d:\n%s", n, versions, out)
	}
	// The symlink round-trips as a symlink.
	dest := filepath.Join(t.TempDir(), "out")
	if _, e, code := run("dataset", "get", "bad", dest); code != 0 {
		t.Fatal(e)
	}
	if target, err := os.Readlink(filepath.Join(dest, "alias")); err != nil || target != "target.txt" {
		t.Errorf("symlink restored as %q, %v", target, err)
	}
	// Restoring over a path outside DEST is impossible by construction; a
	// DEST that is a file is a clear error.
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, e, code := run("dataset", "get", "bad", f); code == 0 || !strings.HasPrefix(e, "genesis: ") {
		t.Errorf("get into a file: %d %q", code, e)
	}
}
