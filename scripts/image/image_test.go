package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/store/storetest"
	"github.com/genesis-science/genesis/internal/testenv"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"sigs.k8s.io/yaml"
)

// testVersion is stamped into the test build, so `genesis version` in the
// unpacked image proves the image holds the binary that was built.
const testVersion = "0.0.0-imagetest"

// TestImageRuns builds cmd/genesis statically, builds the image from it,
// writes the OCI layout and reads it back, unpacks the image's layers into
// a directory and runs the binary from there: `genesis version` and a
// `genesis serve` on the image's own default config that answers /healthz
// and /readyz. As root it runs inside a chroot of the unpacked image as
// uid 65532, so a dynamic binary, a missing passwd entry or an unwritable
// data directory fails here as it would in a container.
func TestImageRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("SKIP (-short): builds cmd/genesis and an image")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "genesis")
	if err := BuildBinary(bin, runtime.GOARCH, testVersion); err != nil {
		t.Fatal(err)
	}
	certs := "/etc/ssl/certs/ca-certificates.crt"
	if _, err := os.Stat(certs); err != nil {
		t.Fatalf("the Debian CA bundle is missing (%v): apt-get install ca-certificates", err)
	}
	spec := Spec{Binary: bin, CACerts: certs, Arch: runtime.GOARCH, Version: testVersion, Created: time.Unix(0, 0).UTC()}
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "layout")
	if err := WriteLayout(out, img, "genesis:test"); err != nil {
		t.Fatal(err)
	}
	tarPath := filepath.Join(dir, "genesis.tar")
	if err := tarball.WriteToFile(tarPath, mustTag(t, "genesis:test"), img); err != nil {
		t.Fatal(err)
	}
	// The `docker load` tarball holds the same config and layer (its
	// manifest is Docker's, so the manifest digest differs).
	tag := mustTag(t, "genesis:test")
	fromTar, err := tarball.ImageFromPath(tarPath, &tag)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := configName(t, fromTar), configName(t, img); a != b {
		t.Errorf("tarball image config %s, built %s", a, b)
	}

	// Read the image back from the layout, as another tool would.
	p, err := layout.FromPath(out)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 || im.Manifests[0].Annotations["org.opencontainers.image.ref.name"] != "genesis:test" {
		t.Fatalf("layout index = %+v; want one image named genesis:test", im.Manifests)
	}
	got, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if d, _ := got.Digest(); d != want {
		t.Fatalf("layout image digest %s, built %s", d, want)
	}
	cf, err := got.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, cf)

	// Reproducible: the same inputs give the same digest.
	again, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := again.Digest(); d != want {
		t.Errorf("two builds of one binary: digests %s and %s", want, d)
	}

	root := filepath.Join(dir, "rootfs")
	unpack(t, got, root)
	for _, f := range []string{BinaryPath, CACertsPath, ConfigPath, "/etc/passwd", "/etc/group"} {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("image lacks %s: %v", f, err)
		}
	}
	pw, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^genesis:x:%d:%d:`, UID, GID)).Match(pw) {
		t.Errorf("/etc/passwd has no genesis user %d:%d:\n%s", UID, GID, pw)
	}

	chroot := os.Geteuid() == 0
	if !chroot {
		t.Logf("NOTE: not root, so the unpacked binary runs without chroot, as this user, on a copy of the default config")
	}
	run := func(args []string, env []string) *exec.Cmd {
		if chroot {
			cmd := exec.Command(BinaryPath, args...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: UID, Gid: GID}}
			cmd.Dir = "/"
			cmd.Env = append([]string{"PATH=/usr/local/bin", "HOME=" + DataDir}, env...)
			return cmd
		}
		cmd := exec.Command(filepath.Join(root, BinaryPath), args...)
		cmd.Env = append(os.Environ(), env...)
		return cmd
	}

	// genesis version
	vout, err := run([]string{"version"}, nil).CombinedOutput()
	if err != nil {
		t.Fatalf("genesis version in the image: %v\n%s", err, vout)
	}
	if strings.TrimSpace(string(vout)) != "genesis "+testVersion {
		t.Fatalf("genesis version printed %q; want %q", vout, "genesis "+testVersion)
	}

	// genesis serve on the image's command line and default config; only
	// the address is moved to a free loopback port.
	t.Run("default config", func(t *testing.T) {
		args := append([]string(nil), cf.Config.Cmd...)
		if !chroot {
			c := strings.Replace(DefaultConfig, DataDir, filepath.Join(dir, "data"), 1)
			path := filepath.Join(dir, "genesis.yaml")
			if err := os.WriteFile(path, []byte(c), 0o600); err != nil {
				t.Fatal(err)
			}
			args = []string{"serve", "--config", path}
		}
		stderr := serveAndProbe(t, run(args, []string{"GENESIS_ADDR=127.0.0.1:0"}))
		if chroot {
			// The server ran as genesis and wrote its data where the
			// image said: the data directory holds the SQLite file, owned
			// by 65532.
			fi, err := os.Stat(filepath.Join(root, DataDir, "genesis.db"))
			if err != nil {
				t.Fatalf("no SQLite file in the image's data directory: %v\n%s", err, stderr)
			}
			if st := fi.Sys().(*syscall.Stat_t); st.Uid != UID {
				t.Errorf("genesis.db owned by uid %d; want %d", st.Uid, UID)
			}
		}
	})

	// The image as the Kubernetes Deployment runs it: the ConfigMap's
	// genesis.yaml mounted over /etc/genesis, the store and blob URLs
	// from the environment (here the test PostgreSQL and S3 servers), the
	// replica named after its pod; /readyz must find all three reachable.
	t.Run("kubernetes config", func(t *testing.T) {
		if !chroot {
			t.Skip("SKIP (not root): the Kubernetes config's data_dir is the image's /var/lib/genesis, reached through a chroot")
		}
		text := configMapConfig(t)
		if err := os.WriteFile(filepath.Join(root, ConfigPath), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		installAuditKeys(t, root, text)
		blob := testenv.S3(t)
		u, err := url.Parse(blob)
		if err != nil {
			t.Fatalf("GENESIS_TEST_S3: %v", err)
		}
		u.Scheme = "s3"
		u.Path = strings.TrimSuffix(u.Path, "/") + fmt.Sprintf("/image-test-%d", time.Now().UnixNano())
		env := []string{
			"GENESIS_STORE_DSN=" + storetest.PostgresDSN(t),
			"GENESIS_BLOB_URL=" + u.String(),
			"GENESIS_REPLICA_ID=genesis-7c9d8f6b5-x2kqz",
			"GENESIS_ADDR=127.0.0.1:0",
			"GENESIS_METRICS_ADDR=127.0.0.2:0",
		}
		stderr := serveAndProbe(t, run(cf.Config.Cmd, env))
		if !strings.Contains(stderr, `"store":"postgres"`) {
			t.Errorf("the server's JSON log does not say it served PostgreSQL:\n%s", stderr)
		}
	})
}

// configMapConfig returns the genesis.yaml of deploy/kubernetes's
// ConfigMap.
func configMapConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../deploy/kubernetes/configmap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cm struct {
		Data map[string]string `json:"data"`
	}
	if err := yaml.Unmarshal(b, &cm); err != nil {
		t.Fatal(err)
	}
	text := cm.Data["genesis.yaml"]
	if text == "" {
		t.Fatal("the ConfigMap has no genesis.yaml")
	}
	return text
}

// installAuditKeys puts the shared audit log's keys where the config's
// audit section names them inside the image (as the Deployment mounts the
// Secret genesis-audit-keys), made by the image's own
// `genesis audit keygen`, readable by the genesis user only.
func installAuditKeys(t *testing.T, root, text string) {
	t.Helper()
	var raw struct {
		Audit struct {
			SigningKeyFile string `json:"signing_key_file"`
			LabelKeyFile   string `json:"label_key_file"`
		} `json:"audit"`
	}
	if err := yaml.Unmarshal([]byte(text), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Audit.SigningKeyFile == "" && raw.Audit.LabelKeyFile == "" {
		return
	}
	gen := filepath.Join(t.TempDir(), "keys")
	if out, err := exec.Command(filepath.Join(root, BinaryPath), "audit", "keygen", "--out", gen).CombinedOutput(); err != nil {
		t.Fatalf("genesis audit keygen: %v\n%s", err, out)
	}
	for src, dst := range map[string]string{"audit.key": raw.Audit.SigningKeyFile, "audit-label.key": raw.Audit.LabelKeyFile} {
		b, err := os.ReadFile(filepath.Join(gen, src))
		if err != nil {
			t.Fatalf("genesis audit keygen wrote no %s: %v", src, err)
		}
		p := filepath.Join(root, dst)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o400); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, UID, GID); err != nil {
			t.Fatal(err)
		}
	}
}

// serveAndProbe starts cmd (a genesis serve), waits for the address it
// prints, checks GET /healthz and /readyz answer 200, stops it with
// SIGTERM and checks it exits cleanly. It returns the server's stderr.
func serveAndProbe(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() { exited <- cmd.Wait() }()
	var base string
	serving := regexp.MustCompile(`serving on (http://127\.0\.0\.1:\d+)/api/v1`)
	for base == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				err := <-exited
				t.Fatalf("genesis serve ended before serving: %v\n%s", err, stderr.String())
			}
			if m := serving.FindStringSubmatch(l); m != nil {
				base = m[1]
			}
		case <-ctx.Done():
			cmd.Process.Kill()
			t.Fatalf("genesis serve did not report its address\n%s", stderr.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	for _, path := range []string{"/healthz", "/readyz"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s from the image's server = %d %s", path, resp.StatusCode, body)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("genesis serve after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatal("genesis serve did not stop on SIGTERM")
	}
	return stderr.String()
}

// syncBuffer is a bytes.Buffer safe for the process's writer and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func checkConfig(t *testing.T, cf *v1.ConfigFile) {
	t.Helper()
	c := cf.Config
	if c.User != fmt.Sprintf("%d:%d", UID, GID) {
		t.Errorf("User = %q; want the non-root %d:%d", c.User, UID, GID)
	}
	if c.Healthcheck != nil {
		t.Errorf("Healthcheck = %+v; readiness is /readyz, probed by the orchestrator", c.Healthcheck)
	}
	if strings.Join(c.Entrypoint, " ") != BinaryPath || strings.Join(c.Cmd, " ") != "serve --config "+ConfigPath {
		t.Errorf("Entrypoint %q Cmd %q", c.Entrypoint, c.Cmd)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("ExposedPorts = %v; want 8080/tcp", c.ExposedPorts)
	}
}

// unpack writes the image's filesystem (its layers flattened, as a
// container runtime does) under root, refusing paths that leave it. As
// root it keeps the owners the image gives.
func unpack(t *testing.T, img v1.Image, root string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	asRoot := os.Geteuid() == 0
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Clean("/" + h.Name)
		dst := filepath.Join(root, name)
		if !strings.HasPrefix(dst, root+string(filepath.Separator)) {
			t.Fatalf("layer entry %q leaves the root", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(dst, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("layer entry %q has type %q; the image holds only files and directories", h.Name, h.Typeflag)
		}
		if err := os.Chmod(dst, os.FileMode(h.Mode).Perm()|modeBits(h.Mode)); err != nil {
			t.Fatal(err)
		}
		if asRoot {
			if err := os.Lchown(dst, h.Uid, h.Gid); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func modeBits(m int64) os.FileMode {
	var fm os.FileMode
	if m&0o1000 != 0 {
		fm |= os.ModeSticky
	}
	return fm
}

func mustTag(t *testing.T, s string) name.Tag {
	t.Helper()
	tag, err := name.NewTag(s)
	if err != nil {
		t.Fatal(err)
	}
	return tag
}

func configName(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
