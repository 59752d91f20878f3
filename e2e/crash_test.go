package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/client"
	"github.com/genesis-science/genesis/internal/httpapi"
)

// TestPutCrash kills `genesis up` with SIGKILL at random moments during
// large `genesis dataset put`s. After every restart: each acknowledged
// version is still there and restores byte for byte, a version that was
// not acknowledged either does not exist or is complete, re-running the
// interrupted put finishes it, and fsck is clean.
func TestPutCrash(t *testing.T) {
	trials := 20
	if testing.Short() {
		trials = 4
	}
	if v, err := strconv.Atoi(os.Getenv("GENESIS_CRASH_TRIALS")); err == nil && v > 0 {
		trials = v
	}
	dir := filepath.Join(t.TempDir(), "data")
	work := t.TempDir()
	bin := genesisBinary(t)
	r := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))

	// A 32 MiB file; each trial changes a few random places.
	data := make([]byte, 32<<20)
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	file := filepath.Join(work, "big.bin")

	var token string
	acked := map[int64][32]byte{} // version → content hash, acknowledged
	seen := map[[32]byte]bool{}   // every content a put was started with
	verified := map[int64][32]byte{}
	var sys *proc
	run := func(args ...string) ([]byte, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "GENESIS_URL="+sys.url, "GENESIS_TOKEN="+token)
		return cmd.CombinedOutput()
	}
	for trial := range trials {
		sys = startUp(t, dir)
		if token == "" {
			b, _ := os.ReadFile(filepath.Join(dir, "admin.token"))
			token = strings.TrimSpace(string(b))
			if out, err := run("dataset", "create", "crash", "--label", "OPEN"); err != nil {
				t.Fatalf("create: %v\n%s", err, out)
			}
		}
		checkVersions(t, sys.url, token, acked, seen, verified)

		for range 8 {
			off := r.IntN(len(data) - 8)
			copy(data[off:], fmt.Sprint(trial))
		}
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		seen[sum] = true

		// Alternate trials pack on the server (the same-host path through
		// its Unix socket) and send chunks over TCP (--no-local): the
		// server dies in the middle of either.
		args := []string{"dataset", "put", "crash", file, "--json"}
		if trial%2 == 1 {
			args = append(args, "--no-local")
		}
		put := exec.Command(bin, args...)
		put.Env = append(os.Environ(), "GENESIS_URL="+sys.url, "GENESIS_TOKEN="+token)
		var out bytes.Buffer
		put.Stdout, put.Stderr = &out, &out
		if err := put.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+r.IntN(900)) * time.Millisecond)
		sys.cmd.Process.Kill()
		<-sys.done
		sys.done <- nil
		if err := put.Wait(); err == nil {
			// Acknowledged before the kill: it must survive.
			var v struct{ Version catalog.Version }
			if err := jsonUnmarshal(out.Bytes(), &v); err != nil {
				t.Fatalf("put output: %v\n%s", err, out.String())
			}
			acked[v.Version.Version] = sum
		}

		// Restart, check, and finish the interrupted put by re-running it.
		sys = startUp(t, dir)
		checkVersions(t, sys.url, token, acked, seen, verified)
		out2, err := run("dataset", "put", "crash", file, "--json")
		if err != nil {
			// The server's own warnings and errors say why (an audit log
			// that failed logs its cause there).
			t.Fatalf("trial %d: resumed put failed: %v\n%s\nserver stderr:\n%s", trial, err, out2, sys.stderr)
		}
		var v struct{ Version catalog.Version }
		jsonUnmarshal(out2, &v)
		acked[v.Version.Version] = sum
		sys.cmd.Process.Kill()
		<-sys.done
		sys.done <- nil
	}
	sys = startUp(t, dir)
	checkVersions(t, sys.url, token, acked, seen, nil) // everything, once more
	if out, err := run("fsck"); err != nil {
		t.Fatalf("fsck after %d kill -9 trials: %v\n%s", trials, err, out)
	}
	t.Logf("%d trials, %d acknowledged versions, all restored byte for byte; fsck clean", trials, len(acked))
}

// checkVersions checks that every acknowledged version exists, and reads
// back every version not read before (verified; nil reads all) to check it
// holds exactly one content that a put was started with — the
// acknowledged one, where it was acknowledged.
func checkVersions(t *testing.T, url, token string, acked map[int64][32]byte, seen map[[32]byte]bool, verified map[int64][32]byte) {
	t.Helper()
	c := client.New(url, token)
	var l httpapi.List[catalog.Version]
	if err := c.Do(context.Background(), "GET", "/api/v1/assets/crash/versions", nil, &l); err != nil {
		t.Fatal(err)
	}
	have := map[int64]bool{}
	for _, v := range l.Items {
		have[v.Version] = true
	}
	for v := range acked {
		if !have[v] {
			t.Fatalf("acknowledged version %d lost after kill -9", v)
		}
	}
	// Every existing version (acknowledged or not) is complete: it streams
	// back to exactly one content a put was started with.
	for _, v := range l.Items {
		if prev, ok := verified[v.Version]; ok {
			if want, ok := acked[v.Version]; ok && want != prev {
				t.Fatalf("version %d holds other bytes than acknowledged", v.Version)
			}
			continue
		}
		body, err := c.Stream(context.Background(), fmt.Sprintf("/api/v1/assets/crash/versions/%d/files/big.bin", v.Version))
		if err != nil {
			t.Fatalf("version %d: %v", v.Version, err)
		}
		h := sha256.New()
		_, err = copyAll(h, body)
		body.Close()
		if err != nil {
			t.Fatalf("version %d read: %v", v.Version, err)
		}
		var sum [32]byte
		copy(sum[:], h.Sum(nil))
		if want, ok := acked[v.Version]; ok && want != sum {
			t.Fatalf("version %d restored different bytes", v.Version)
		}
		if !seen[sum] {
			t.Fatalf("version %d holds bytes no put sent (a partial version)", v.Version)
		}
		if verified != nil {
			verified[v.Version] = sum
		}
	}
}
