package llmtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/testenv"
)

var program = testenv.Program{Pkg: "github.com/genesis-science/genesis/cmd/llm-script", Name: "llm-script"}

// Build compiles cmd/llm-script once per test binary (go build into a
// temporary directory) and returns the binary's path.
func Build() (string, error) { return program.Build() }

// Main runs the tests and removes the binary Build made:
//
//	func TestMain(m *testing.M) { os.Exit(llmtest.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	program.Remove()
	return code
}

// Start runs cmd/llm-script -script scriptPath (plus args, such as
// "-embed-corpus", dir) as a separate process listening on a free port of
// 127.0.0.1, killed at t's cleanup. It returns the base URL
// ("http://127.0.0.1:PORT/v1") and a function that reads back the requests
// the server has logged so far.
func Start(t testing.TB, scriptPath string, args ...string) (baseURL string, requests func() []RecordedRequest) {
	t.Helper()
	bin, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	logPath := filepath.Join(t.TempDir(), "requests.jsonl")
	args = append([]string{"-script", scriptPath, "-addr", "127.0.0.1:0", "-log", logPath}, args...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "LISTEN "); ok {
				urls <- u
			}
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cmd.Process.Kill()
			<-done
		})
	}
	t.Cleanup(stop)
	select {
	case baseURL = <-urls:
	case <-done:
		t.Fatalf("llm-script %s exited before listening: %s", strings.Join(args, " "), stderr.String())
	case <-time.After(2 * time.Minute):
		stop()
		t.Fatalf("llm-script did not listen within 2 minutes: %s", stderr.String())
	}
	requests = func() []RecordedRequest {
		t.Helper()
		recs, err := ReadLog(logPath)
		if err != nil {
			t.Fatal(err)
		}
		return recs
	}
	return baseURL, requests
}

// ReadLog reads a request log; a last line still being written is left
// out.
func ReadLog(path string) ([]RecordedRequest, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		b = b[:i+1]
	} else {
		return nil, nil
	}
	var out []RecordedRequest
	for n, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		var r RecordedRequest
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s line %d: %v", path, n+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

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
