// Command image builds Genesis's container image without Docker: a static
// (CGO_ENABLED=0) build of cmd/genesis on an empty base, plus the Debian
// system's CA certificates, an /etc/passwd naming the non-root user
// genesis (uid 65532) and a default config, written as an OCI image layout
// (a directory any OCI tool reads: skopeo, crane, podman, containerd's
// ctr import) and optionally as a `docker load` tarball.
//
//	go run ./scripts/image -out genesis-image            # OCI layout
//	go run ./scripts/image -out genesis-image -tar genesis.tar -tag genesis:0.1.0
//	crane push genesis-image registry.example.org/genesis:0.1.0   # (crane/skopeo copy oci:genesis-image …)
//
// The image is what the Dockerfile at the repository root builds: the same
// user, entrypoint, command, files and port. It is reproducible: the same
// binary, certificates and SOURCE_DATE_EPOCH give the same digest.
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The image's fixed facts, shared with the Dockerfile (image_test checks
// that the two agree).
const (
	// UID and GID of the user genesis: 65532 is the "nonroot" user of
	// distroless images, so volume permissions carry over between them.
	UID = 65532
	GID = 65532
	// BinaryPath is where the binary lives in the image.
	BinaryPath = "/usr/local/bin/genesis"
	// ConfigPath is the default config file; Kubernetes mounts the
	// ConfigMap over /etc/genesis.
	ConfigPath = "/etc/genesis/genesis.yaml"
	// DataDir is the default data_dir, owned by genesis.
	DataDir = "/var/lib/genesis"
	// CACertsPath is where Go's crypto/x509 looks first on Linux.
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// Port is the API port of the default config.
	Port = 8080
)

// DefaultConfig is the image's /etc/genesis/genesis.yaml: a single
// server with embedded SQLite and local blobs under DataDir, listening
// on every interface. Production mounts its own (deploy/kubernetes).
const DefaultConfig = `# Genesis container default: one server, SQLite and local blobs under
# /var/lib/genesis (mount a volume there). For several replicas on
# PostgreSQL and S3 mount your own config over /etc/genesis (see
# deploy/kubernetes/configmap.yaml). Environment variables override it:
# GENESIS_STORE_DSN, GENESIS_BLOB_URL, GENESIS_ADDR, GENESIS_REPLICA_ID…
data_dir: /var/lib/genesis
listen:
  addr: 0.0.0.0:8080
log:
  level: info
  format: json
`

// Spec describes one image build.
type Spec struct {
	Binary  string    // a static linux binary of cmd/genesis
	CACerts string    // a PEM bundle (the Debian system's)
	Arch    string    // GOARCH of Binary
	Version string    // org.opencontainers.image.version ("" leaves it out)
	Created time.Time // every timestamp in the image (reproducibility)
}

func main() {
	out := flag.String("out", "genesis-image", "write the OCI image layout to this directory (replaced)")
	tarPath := flag.String("tar", "", "also write a `docker load` tarball here")
	tag := flag.String("tag", "genesis:latest", "image name in the tarball and the layout's ref annotation")
	bin := flag.String("binary", "", "use this static linux binary instead of building ./cmd/genesis")
	arch := flag.String("arch", runtime.GOARCH, "GOARCH to build for")
	version := flag.String("version", "", "set the binary's version (internal/app.Version; not with -binary) and the image's version label")
	certs := flag.String("ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle to copy into the image (apt-get install ca-certificates)")
	rootfs := flag.String("rootfs", "", "instead of an image, write the image's files (binary from -binary) under this directory (the Dockerfile's build stage)")
	flag.Parse()
	var err error
	if *rootfs != "" {
		err = writeRootFS(*rootfs, *bin, *certs)
	} else {
		err = run(*out, *tarPath, *tag, *bin, *arch, *version, *certs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(out, tarPath, tag, bin, arch, version, certs string) error {
	created, err := sourceDateEpoch(os.Getenv("SOURCE_DATE_EPOCH"))
	if err != nil {
		return err
	}
	if bin == "" {
		dir, err := os.MkdirTemp("", "genesis-image")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "genesis")
		if err := BuildBinary(bin, arch, version); err != nil {
			return err
		}
	}
	img, err := Build(Spec{Binary: bin, CACerts: certs, Arch: arch, Version: version, Created: created})
	if err != nil {
		return err
	}
	if err := WriteLayout(out, img, tag); err != nil {
		return err
	}
	d, _ := img.Digest()
	fmt.Printf("wrote OCI layout %s (%s %s)\n", out, tag, d)
	if tarPath != "" {
		ref, err := name.NewTag(tag)
		if err != nil {
			return fmt.Errorf("-tag %q: %w", tag, err)
		}
		if err := tarball.WriteToFile(tarPath, ref, img); err != nil {
			return err
		}
		fmt.Printf("wrote %s (docker load -i %s)\n", tarPath, tarPath)
	}
	return nil
}

// writeRootFS writes the files of the image's layer under dir, with their
// modes (owners are the Dockerfile's COPY --chown).
func writeRootFS(dir, bin, certs string) error {
	if bin == "" {
		return fmt.Errorf("-rootfs needs -binary")
	}
	b, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	c, err := os.ReadFile(certs)
	if err != nil {
		return err
	}
	layer, err := RootFS(b, c, time.Unix(0, 0))
	if err != nil {
		return err
	}
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(dst, 0o755); err != nil {
				return err
			}
		} else {
			if err := os.WriteFile(dst, nil, 0o600); err != nil {
				return err
			}
			f, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
		mode := os.FileMode(h.Mode).Perm()
		if h.Mode&0o1000 != 0 {
			mode |= os.ModeSticky
		}
		if err := os.Chmod(dst, mode); err != nil {
			return err
		}
	}
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (reproducible-builds.org); unset
// means the Unix epoch, so builds of one binary are bit-for-bit equal.
func sourceDateEpoch(s string) (time.Time, error) {
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a count of seconds", s)
	}
	return time.Unix(n, 0).UTC(), nil
}

// BuildBinary builds ./cmd/genesis (run from the repository root, or any
// directory of the module) as a static, stripped linux binary.
func BuildBinary(out, arch, version string) error {
	ldflags := "-s -w"
	if version != "" {
		ldflags += " -X github.com/genesis-science/genesis/internal/app.Version=" + version
	}
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, "github.com/genesis-science/genesis/cmd/genesis")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build ./cmd/genesis: %w", err)
	}
	return nil
}

// CheckStatic returns an error unless path is a linux ELF executable for
// arch with no program interpreter (a dynamic binary cannot run on an empty
// base: there is no ld.so in the image).
func CheckStatic(path, arch string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not an ELF executable: %w", path, err)
	}
	defer f.Close()
	want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64, "386": elf.EM_386, "arm": elf.EM_ARM, "riscv64": elf.EM_RISCV, "ppc64le": elf.EM_PPC64, "s390x": elf.EM_S390}
	if m, ok := want[arch]; !ok {
		return fmt.Errorf("arch %q is not one this builder knows", arch)
	} else if f.Machine != m {
		return fmt.Errorf("%s is built for %v, not %s", path, f.Machine, arch)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked (it needs a program interpreter); build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// Build makes the image: one layer on an empty base.
func Build(s Spec) (v1.Image, error) {
	if err := CheckStatic(s.Binary, s.Arch); err != nil {
		return nil, err
	}
	binary, err := os.ReadFile(s.Binary)
	if err != nil {
		return nil, err
	}
	certs, err := os.ReadFile(s.CACerts)
	if err != nil {
		return nil, fmt.Errorf("CA certificates: %w (apt-get install ca-certificates, or pass -ca-certs)", err)
	}
	if !bytes.Contains(certs, []byte("-----BEGIN CERTIFICATE-----")) {
		return nil, fmt.Errorf("%s holds no PEM certificate", s.CACerts)
	}
	layerTar, err := RootFS(binary, certs, s.Created)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:     layer,
		MediaType: types.OCILayer,
		History:   v1.History{Created: v1.Time{Time: s.Created}, CreatedBy: "scripts/image: genesis, CA certificates, /etc/passwd, default config"},
	})
	if err != nil {
		return nil, err
	}
	labels := map[string]string{
		"org.opencontainers.image.title":       "genesis",
		"org.opencontainers.image.description": "Genesis: labelled, audited science data, compute and labs",
		"org.opencontainers.image.source":      "https://github.com/genesis-science/genesis",
	}
	if s.Version != "" {
		labels["org.opencontainers.image.version"] = s.Version
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture = s.Arch
	cf.OS = "linux"
	cf.Created = v1.Time{Time: s.Created}
	cf.Config = v1.Config{
		User:         fmt.Sprintf("%d:%d", UID, GID),
		Entrypoint:   []string{BinaryPath},
		Cmd:          []string{"serve", "--config", ConfigPath},
		WorkingDir:   DataDir,
		Env:          []string{"PATH=/usr/local/bin"},
		ExposedPorts: map[string]struct{}{strconv.Itoa(Port) + "/tcp": {}},
		Volumes:      map[string]struct{}{DataDir: {}},
		Labels:       labels,
		StopSignal:   "SIGTERM",
	}
	return mutate.ConfigFile(img, cf)
}

// RootFS returns the layer's tar: directories, the binary, the CA
// bundle, passwd/group and the default config, in a fixed order with
// fixed times, so equal inputs give equal bytes.
func RootFS(binary, certs []byte, created time.Time) ([]byte, error) {
	type entry struct {
		name     string
		mode     int64
		uid, gid int
		body     []byte
		dir      bool
	}
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\ngenesis:x:%d:%d:Genesis:%s:/sbin/nologin\n", UID, GID, DataDir)
	group := fmt.Sprintf("root:x:0:\ngenesis:x:%d:\n", GID)
	entries := []entry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/genesis/", mode: 0o755, dir: true},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "tmp/", mode: 0o1777, dir: true},
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: "usr/local/bin/", mode: 0o755, dir: true},
		{name: "var/", mode: 0o755, dir: true},
		{name: "var/lib/", mode: 0o755, dir: true},
		{name: strings.TrimPrefix(DataDir, "/") + "/", mode: 0o700, uid: UID, gid: GID, dir: true},
		{name: "etc/passwd", mode: 0o644, body: []byte(passwd)},
		{name: "etc/group", mode: 0o644, body: []byte(group)},
		{name: strings.TrimPrefix(ConfigPath, "/"), mode: 0o644, body: []byte(DefaultConfig)},
		{name: strings.TrimPrefix(CACertsPath, "/"), mode: 0o644, body: certs},
		{name: strings.TrimPrefix(BinaryPath, "/"), mode: 0o755, body: binary},
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].name < entries[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: e.mode, Uid: e.uid, Gid: e.gid, ModTime: created, Format: tar.FormatUSTAR}
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteLayout writes img as the only image of a fresh OCI layout at dir,
// annotated with its reference name (tag).
func WriteLayout(dir string, img v1.Image, tag string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	return p.AppendImage(img,
		layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": tag}),
		layout.WithPlatform(v1.Platform{OS: cf.OS, Architecture: cf.Architecture}))
}
