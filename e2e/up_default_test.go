package e2e

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute/jobs"
)

// TestUpDefaults is the README's first command as written: `genesis up`
// with no flags, in an empty directory, so the data directory is the
// relative ./genesis-data. A job with an input and an output then runs on
// the site it registers, as the tour does (a relative data directory once
// gave every job a relative working directory, which the local site
// refused).
func TestUpDefaults(t *testing.T) {
	base := t.TempDir()
	up := startUpIn(t, base)
	tok, err := os.ReadFile(filepath.Join(base, "genesis-data", "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir() // the CLI runs elsewhere, as a user's shell would
	env := append(os.Environ(), "GENESIS_URL="+up.url, "GENESIS_TOKEN="+strings.TrimSpace(string(tok)),
		"XDG_CONFIG_HOME="+filepath.Join(work, "config"), "HOME="+work)
	gen := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(genesisBinary(t), args...)
		cmd.Env, cmd.Dir = env, work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("genesis %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	os.WriteFile(filepath.Join(work, "in.csv"), []byte("a,b\n1,2\n"), 0o644)
	gen("dataset", "create", "pub", "--label", "OPEN", "--title", "public")
	gen("dataset", "put", "pub", "in.csv")
	out := gen("job", "submit", "--input", "pub@1", "--output", "out.txt=results", "--duration", "1m",
		"--exec", "/bin/sh", "-c", "cat inputs/pub/in.csv > out.txt; echo done")
	m := regexp.MustCompile(`Submitted (job_\w+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("job submit: %s", out)
	}
	var j jobs.Job
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if err := json.Unmarshal([]byte(gen("job", "show", m[1], "--json")), &j); err != nil {
			t.Fatal(err)
		}
		if j.State == jobs.Completed || j.State == jobs.Failed || j.State == jobs.Canceled {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still %s after 30 s", m[1], j.State)
		}
	}
	if j.State != jobs.Completed {
		t.Fatalf("job %s: %s %s %s", m[1], j.State, j.Reason, j.Detail)
	}
	if logs := gen("job", "logs", m[1]); logs != "done\n" {
		t.Errorf("job logs %q", logs)
	}
	if got := gen("dataset", "cat", "results", "out.txt"); got != "a,b\n1,2\n" {
		t.Errorf("output dataset holds %q", got)
	}

	// Other users may pass through the data directory and compute/ (a
	// Slurm site runs jobs as its own user there) and reach nothing: not
	// the metadata store, the keys, the audit log, the blobs, the
	// administrator's token or a job's directory. (What a directory they
	// cannot enter holds is out of their reach whatever its mode.)
	data := filepath.Join(base, "genesis-data")
	filepath.WalkDir(data, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // gone meanwhile (a -shm file, a temporary)
		}
		if err != nil {
			t.Error(err)
			return nil
		}
		rel, _ := filepath.Rel(data, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return nil // gone meanwhile (a -shm file)
		}
		others := fi.Mode().Perm() & 0o007
		switch {
		case fi.Mode()&fs.ModeSocket != 0:
		case d.IsDir() && others&^0o001 != 0, !d.IsDir() && others != 0:
			t.Errorf("%s: mode %v lets other users in", rel, fi.Mode().Perm())
		}
		if d.IsDir() && others&0o001 == 0 {
			return filepath.SkipDir
		}
		return nil
	})
	for _, rel := range []string{".", "compute", "compute/jobs"} {
		if fi, err := os.Stat(filepath.Join(data, rel)); err != nil || fi.Mode().Perm()&0o001 == 0 {
			t.Errorf("%s: other users cannot pass through (%v)", rel, err)
		}
	}
}
