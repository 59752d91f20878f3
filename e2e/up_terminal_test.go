package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestUpTerminal is `genesis up` as a newcomer starts it, without
// GENESIS_LOG_LEVEL: the CLI works with either URL it prints (the server's
// and the API's), and the requests the CLI makes are logged to the log
// file in the data dir, not into the terminal.
func TestUpTerminal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GENESIS_") {
			env = append(env, kv)
		}
	}
	cmd := exec.Command(genesisBinary(t), "up", "--addr", "127.0.0.1:0", "--data-dir", dir)
	cmd.Env = env
	var mu sync.Mutex
	var stdout, stderr strings.Builder
	cmd.Stderr = writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return stderr.Write(b) })
	pipe, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	listening := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			mu.Lock()
			stdout.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.HasPrefix(sc.Text(), "Listening on ") {
				close(listening)
			}
		}
		done <- cmd.Wait()
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	select {
	case <-listening:
	case <-done:
		t.Fatalf("genesis up ended: %s", stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("genesis up did not start listening")
	}
	mu.Lock()
	printed := stdout.String()
	mu.Unlock()
	url := regexp.MustCompile(`(?m)^  URL: +(\S+) +\(for the CLI: GENESIS_URL=(\S+)\)$`).FindStringSubmatch(printed)
	api := regexp.MustCompile(`(?m)^  API: +(\S+)`).FindStringSubmatch(printed)
	if url == nil || api == nil || url[1] != url[2] || api[1] != url[1]+"/api/v1" {
		t.Fatalf("genesis up printed no URL for the CLI and its API:\n%s", printed)
	}
	tok, err := os.ReadFile(filepath.Join(dir, "admin.token"))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{url[1], api[1], api[1] + "/"} {
		c := exec.Command(genesisBinary(t), "whoami")
		c.Env = append(env, "GENESIS_URL="+u, "GENESIS_TOKEN="+strings.TrimSpace(string(tok)), "HOME="+t.TempDir())
		if out, err := c.CombinedOutput(); err != nil || !strings.Contains(string(out), "admin") {
			t.Errorf("GENESIS_URL=%s genesis whoami: %v\n%s", u, err, out)
		}
	}
	// Once the server has stopped (after finishing, and logging, every
	// request), the log file has the requests and the terminal none.
	cmd.Process.Signal(os.Interrupt)
	if err := <-done; err != nil {
		t.Fatalf("genesis up after SIGINT: %v\n%s", err, stderr.String())
	}
	done <- nil // for the clean-up
	log, err := os.ReadFile(filepath.Join(dir, "genesis.log"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(log), "path=/api/v1/whoami"); n != 3 {
		t.Errorf("the log file has %d requests for /api/v1/whoami, want 3:\n%s", n, log)
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Contains(stderr.String(), "/api/v1/") || strings.Contains(stdout.String(), "/api/v1/whoami") {
		t.Errorf("genesis up logged requests on the terminal:\n%s\n%s", stdout.String(), stderr.String())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
