package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestDockerfileMatchesImage checks that the Dockerfile (which CI cannot
// run: there is no Docker daemon here) builds what scripts/image builds:
// the same non-root user, entrypoint, command, working directory and
// port, a static build, an empty base and no HEALTHCHECK.
func TestDockerfileMatchesImage(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	var froms []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		word, rest, _ := strings.Cut(line, " ")
		word = strings.ToUpper(word)
		if word == "FROM" {
			froms = append(froms, rest)
		}
		got[word] = append(got[word], strings.TrimSpace(rest))
	}
	if n := len(froms); n < 2 || froms[n-1] != "scratch" {
		t.Errorf("FROM lines %q: want a multi-stage build ending FROM scratch", froms)
	}
	if _, ok := got["HEALTHCHECK"]; ok {
		t.Error("the Dockerfile has a HEALTHCHECK; readiness is /readyz")
	}
	jsonList := func(v []string) string { b, _ := json.Marshal(v); return string(b) }
	for _, c := range []struct{ word, want string }{
		{"USER", fmt.Sprintf("%d:%d", UID, GID)},
		{"ENTRYPOINT", jsonList([]string{BinaryPath})},
		{"CMD", jsonList([]string{"serve", "--config", ConfigPath})},
		{"WORKDIR", DataDir},
		{"EXPOSE", fmt.Sprint(Port)},
		{"VOLUME", DataDir},
	} {
		v := got[c.word]
		if c.word == "ENTRYPOINT" || c.word == "CMD" {
			for i := range v {
				var l []string
				if err := json.Unmarshal([]byte(v[i]), &l); err != nil {
					t.Errorf("Dockerfile %s %s is not the exec (JSON) form", c.word, v[i])
				}
				v[i] = jsonList(l)
			}
		}
		if len(v) == 0 || v[len(v)-1] != c.want {
			t.Errorf("Dockerfile %s = %q; scripts/image has %q", c.word, v, c.want)
		}
	}
	if !bytes.Contains(b, []byte("CGO_ENABLED=0 go build")) {
		t.Error("the Dockerfile's build is not CGO_ENABLED=0 (static)")
	}
	if !bytes.Contains(b, []byte("go run ./scripts/image -rootfs")) {
		t.Error("the Dockerfile does not take its files from scripts/image -rootfs")
	}
}

// TestRootFSMode checks -rootfs (the Dockerfile's build stage) writes the
// layer's files with the layer's contents and modes.
func TestRootFSMode(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	certs := filepath.Join(dir, "certs.pem")
	os.WriteFile(bin, []byte("\x7fELF not really"), 0o755)
	os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644)
	out := filepath.Join(dir, "out")
	if err := writeRootFS(out, bin, certs); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		BinaryPath:  "\x7fELF not really",
		CACertsPath: "-----BEGIN CERTIFICATE-----\n",
		ConfigPath:  DefaultConfig,
	} {
		b, err := os.ReadFile(filepath.Join(out, path))
		if err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", path, b, err, want)
		}
	}
	for path, want := range map[string]os.FileMode{BinaryPath: 0o755, DataDir: 0o700 | os.ModeDir, "/tmp": 0o777 | os.ModeDir | os.ModeSticky, "/etc/passwd": 0o644} {
		fi, err := os.Stat(filepath.Join(out, path))
		if err != nil || fi.Mode() != want {
			t.Errorf("%s mode %v, %v; want %v", path, fi.Mode(), err, want)
		}
	}
	if err := writeRootFS(out, "", certs); err == nil {
		t.Error("-rootfs without -binary succeeded")
	}
	// A dynamic or foreign binary is refused before it reaches an image.
	if _, err := Build(Spec{Binary: bin, CACerts: certs, Arch: "amd64", Created: time.Unix(0, 0)}); err == nil {
		t.Error("Build accepted a file that is not an ELF executable")
	}
	if runtime.GOOS == "linux" {
		self, err := os.Executable() // this test binary: any ELF file will do
		if err != nil {
			t.Fatal(err)
		}
		err = CheckStatic(self, "wrong-arch")
		if err == nil || !strings.Contains(err.Error(), "wrong-arch") {
			t.Errorf("CheckStatic for an unknown arch: %v", err)
		}
		for _, dyn := range []string{"/bin/ls", "/usr/bin/env"} {
			if _, err := os.Stat(dyn); err != nil {
				continue
			}
			err := CheckStatic(dyn, runtime.GOARCH)
			if err == nil || !strings.Contains(err.Error(), "dynamically linked") {
				t.Errorf("CheckStatic(%s) = %v; want it refused as dynamically linked", dyn, err)
			}
			break
		}
	}
}
