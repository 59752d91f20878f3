package local_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/computetest"
	"github.com/genesis-science/genesis/internal/compute/local"
	"github.com/genesis-science/genesis/internal/errors"
)

func newBackend(t *testing.T) compute.Backend {
	b, err := local.New(t.TempDir(), local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestConformance(t *testing.T) { computetest.Run(t, newBackend) }

// A restarted backend answers for finished jobs, keeps Submit idempotent,
// and reports jobs it was running as lost (and kills them). The first
// backend runs in a child process that is killed with SIGKILL.
func TestRestart(t *testing.T) {
	if dir := os.Getenv("GENESIS_LOCAL_CRASH_DIR"); dir != "" {
		crashHelper(t, dir, os.Getenv("GENESIS_LOCAL_CRASH_WORK"))
		return
	}
	dir, work := t.TempDir(), computetest.WorkDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRestart$")
	cmd.Env = append(os.Environ(), "GENESIS_LOCAL_CRASH_DIR="+dir, "GENESIS_LOCAL_CRASH_WORK="+work)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		t.Fatalf("helper: %q, %v", line, err)
	}
	cmd.Process.Kill() // kill -9: no Close, no final records
	cmd.Wait()

	b2, err := local.New(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	ctx := context.Background()
	st, err := b2.Status(ctx, "done")
	if err != nil || st.State != compute.Failed || st.ExitCode != 4 {
		t.Fatalf("finished job after restart: %+v, %v", st, err)
	}
	if got := computetest.ReadLog(t, b2, "done", compute.Stdout, 0); got != "hi\n" {
		t.Fatalf("stdout after restart %q", got)
	}
	again, err := b2.Submit(ctx, compute.Request{ID: "done", Spec: computetest.Shell("echo again", time.Minute), WorkDir: work})
	if err != nil || again != "done" {
		t.Fatalf("resubmit after restart: %s, %v", again, err)
	}
	st, err = b2.Status(ctx, "running")
	if err != nil || st.State != compute.Failed || st.Reason != compute.ReasonLost {
		t.Fatalf("running job after restart: %+v, %v", st, err)
	}
	time.Sleep(4 * time.Second)
	if _, err := os.Stat(filepath.Join(work, "survived")); err == nil {
		t.Fatal("the lost job kept running")
	}
}

func crashHelper(t *testing.T, dir, work string) {
	b, err := local.New(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	done, err := b.Submit(ctx, compute.Request{ID: "done", Spec: computetest.Shell("echo hi; exit 4", time.Minute), WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	computetest.WaitFinal(t, b, done)
	running, err := b.Submit(ctx, compute.Request{ID: "running", Spec: computetest.Shell("sleep 3; touch survived", time.Minute), WorkDir: work})
	if err != nil {
		t.Fatal(err)
	}
	computetest.Wait(t, b, running, "running", func(s compute.Status) bool { return s.State == compute.Running })
	fmt.Println("ready")
	select {}
}

func TestRefusesMultiNode(t *testing.T) {
	b := newBackend(t)
	spec := computetest.Shell("true", time.Minute)
	spec.Resources.NodeCount = 2
	_, err := b.Submit(context.Background(), compute.Request{ID: "multi", Spec: spec, WorkDir: t.TempDir()})
	if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "resources.node_count" {
		t.Fatalf("got %v, want Invalid on resources.node_count", err)
	}
}

// The memory limit reaches the process (RLIMIT_AS), when prlimit exists.
func TestMemoryLimit(t *testing.T) {
	b := newBackend(t)
	spec := computetest.Shell("ulimit -v", time.Minute)
	spec.Resources.Memory = 256 << 20
	id, err := b.Submit(context.Background(), compute.Request{ID: "mem", Spec: spec, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	computetest.WaitFinal(t, b, id)
	got := computetest.ReadLog(t, b, id, compute.Stdout, 0)
	if _, err := os.Stat("/usr/bin/prlimit"); err != nil {
		t.Skipf("no prlimit: %q", got)
	}
	if got != "262144\n" {
		t.Fatalf("ulimit -v = %q, want 262144 (KiB)", got)
	}
}
