package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLocalPut: `dataset put` on the server's machine, as the server's OS
// user, has the server pack the files (through its Unix socket) and makes
// exactly the version the transfer protocol makes of the same files;
// standard input, --no-local and another OS user (who cannot reach the
// socket) use the transfer protocol; both restore byte for byte.
func TestLocalPut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := startUp(t, dir)
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	bin := genesisBinary(t)
	run := func(stdin []byte, args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "GENESIS_URL="+p.url, "GENESIS_TOKEN="+token)
		cmd.Stdin = bytes.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("genesis %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		var v map[string]any
		if strings.Contains(strings.Join(args, " "), "--json") {
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("genesis %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		return v
	}
	manifest := func(v map[string]any) string { return v["version"].(map[string]any)["manifest"].(string) }

	src := filepath.Join(t.TempDir(), "src")
	r := rand.New(rand.NewPCG(4, 2))
	for i := range 30 {
		d := filepath.Join(src, fmt.Sprintf("d%d", i%4))
		os.MkdirAll(d, 0o755)
		b := make([]byte, r.IntN(3<<20))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%02d", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run(nil, "dataset", "create", "loc", "--label", "OPEN")
	v1 := run(nil, "dataset", "put", "loc", src, "--json", "-m", "local")
	if v1["local"] != true {
		t.Fatalf("put on the server's machine did not pack there: %v", v1)
	}
	v2 := run(nil, "dataset", "put", "loc", src, "--json", "--no-local")
	if v2["local"] != nil || manifest(v2) != manifest(v1) || v2["new_bytes"].(float64) != 0 {
		t.Fatalf("--no-local put = %v; want the transfer protocol, the same manifest %s, nothing new", v2, manifest(v1))
	}
	if v := run([]byte("from stdin\n"), "dataset", "put", "loc", "-", "--json"); v["local"] != nil {
		t.Fatalf("a put of standard input went local: %v", v)
	}
	for _, ver := range []string{"1", "2"} {
		dst := filepath.Join(t.TempDir(), "out"+ver)
		run(nil, "dataset", "get", "loc@"+ver, dst)
		sameFiles(t, src, dst)
	}
	run(nil, "fsck")

	// A model registered from this machine is packed by the server too,
	// with its metadata; the same tree makes the same manifest.
	metrics := filepath.Join(t.TempDir(), "metrics.json")
	os.WriteFile(metrics, []byte(`{"rmse": 0.25}`), 0o644)
	out := runOut(t, p.url, token, "model", "register", "surrogate", "--from-dir", src, "--framework", "jax", "--task", "regression",
		"--trained-on", "loc@1", "--metrics", metrics)
	if !strings.Contains(out, "(packed by the server on this machine)") {
		t.Fatalf("model register on the server's machine did not pack there: %s", out)
	}
	var mv struct {
		Manifest string `json:"manifest"`
		Model    struct {
			Framework string          `json:"framework"`
			Metrics   json.RawMessage `json:"metrics"`
		} `json:"model"`
	}
	show := runOut(t, p.url, token, "model", "show", "surrogate", "--json")
	if err := json.Unmarshal([]byte(show), &mv); err != nil {
		t.Fatalf("model show: %v\n%s", err, show)
	}
	if mv.Manifest != manifest(v1) || mv.Model.Framework != "jax" || !strings.Contains(string(mv.Model.Metrics), "0.25") {
		t.Fatalf("model show = %s; want manifest %s, framework jax, the metrics", show, manifest(v1))
	}

	// Another OS user: the socket (0600) refuses it, the put goes over TCP.
	if os.Getuid() != 0 {
		t.Log("not root: the other-user case needs to run a process as nobody; not checked here")
		return
	}
	shared, err := os.MkdirTemp("", "genesis-local-other-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(shared)
	os.Chmod(shared, 0o755)
	nbin := filepath.Join(shared, "genesis")
	b, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(nbin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(shared, "note.txt")
	os.WriteFile(f, []byte("written by root, readable by all\n"), 0o644)
	cmd := exec.Command(nbin, "dataset", "put", "loc", f, "--json")
	cmd.Env = []string{"GENESIS_URL=" + p.url, "GENESIS_TOKEN=" + token, "HOME=" + shared, "PATH=/usr/bin:/bin"}
	cmd.Dir = shared
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	nout, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("put as nobody: %v\n%s", err, nout)
	}
	var v map[string]any
	if err := json.Unmarshal(nout, &v); err != nil || v["local"] != nil {
		t.Fatalf("put as nobody = %s (%v); want the transfer protocol", nout, err)
	}
}

// sameFiles checks that b holds exactly a's regular files, byte for byte.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	files := func(root string) map[string]string {
		m := map[string]string{}
		filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				rel, _ := filepath.Rel(root, p)
				c, _ := os.ReadFile(p)
				m[rel] = string(c)
			}
			return nil
		})
		return m
	}
	fa, fb := files(a), files(b)
	if len(fa) != len(fb) {
		t.Fatalf("%s has %d files, %s %d", a, len(fa), b, len(fb))
	}
	for k, v := range fa {
		if fb[k] != v {
			t.Fatalf("%s differs after the round trip", k)
		}
	}
}

// runOut runs the genesis binary against url with token and returns its
// output, failing the test if it fails.
func runOut(t *testing.T, url, token string, args ...string) string {
	t.Helper()
	cmd := exec.Command(genesisBinary(t), args...)
	cmd.Env = append(os.Environ(), "GENESIS_URL="+url, "GENESIS_TOKEN="+token)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("genesis %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
