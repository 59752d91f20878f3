// Package madscitest starts cmd/madsci-node as a separate process for
// tests: the madsci driver's own tests and the lab conformance suite run
// against a real MADSci REST node over HTTP.
//
//	func TestMain(m *testing.M) { os.Exit(madscitest.Main(m)) }
//
//	url, stop := madscitest.StartNode(t, "--settings", `{"duration":"300ms"}`)
package madscitest

import (
	"bufio"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/testenv"
)

var program = testenv.Program{Pkg: "github.com/genesis-science/genesis/cmd/madsci-node", Name: "madsci-node"}

// Build compiles cmd/madsci-node once (go build into a temporary
// directory) and returns the binary's path.
func Build() (string, error) { return program.Build() }

// Main runs the tests and removes the binary the first StartNode built
// (built on first use, so fuzz workers, which start no node, build
// nothing).
func Main(m *testing.M) int {
	code := m.Run()
	program.Remove()
	return code
}

// StartNode starts madsci-node with args (plus --listen 127.0.0.1:0 and a
// fresh --state-dir unless given) and waits, generously, for it to listen.
// stop kills the process and waits for it; it is also a cleanup of t, and
// safe to call twice or after the node exited by itself.
func StartNode(t testing.TB, args ...string) (url string, stop func()) {
	t.Helper()
	bin, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	joined := " " + strings.Join(args, " ")
	if !strings.Contains(joined, " --listen") {
		args = append(args, "--listen", "127.0.0.1:0")
	}
	if !strings.Contains(joined, " --state-dir") {
		args = append(args, "--state-dir", t.TempDir())
	}
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &syncWriter{w: &stderr}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "listening on "); ok {
				lines <- u
			}
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Kill()
			<-done
		})
	}
	t.Cleanup(stop)
	select {
	case url = <-lines:
	case <-done:
		t.Fatalf("madsci-node %s exited before listening: %s", strings.Join(args, " "), stderr.String())
	case <-time.After(2 * time.Minute):
		stop()
		t.Fatalf("madsci-node did not listen within 2 minutes: %s", stderr.String())
	}
	return url, stop
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
