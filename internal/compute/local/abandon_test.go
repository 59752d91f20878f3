package local_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/computetest"
	"github.com/genesis-science/genesis/internal/compute/local"
)

// Abandon (a replica that lost the scheduler's lease while alive) kills
// every running job's whole process group at once and records each as
// lost, so the scheduler places it again; finished and canceled jobs
// keep their state, and the backend runs new jobs afterwards.
func TestAbandon(t *testing.T) {
	b, err := local.New(t.TempDir(), local.Options{KillGrace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ctx := context.Background()
	if n := b.Abandon("nothing runs"); n != 0 {
		t.Fatalf("Abandon with no jobs killed %d", n)
	}
	work := computetest.WorkDir(t)
	submit := func(id, script string) compute.BackendJobID {
		t.Helper()
		bid, err := b.Submit(ctx, compute.Request{ID: compute.JobID(id), Spec: computetest.Shell(script, time.Hour), WorkDir: work})
		if err != nil {
			t.Fatal(err)
		}
		return bid
	}
	done := submit("done", "echo hi")
	computetest.WaitFinal(t, b, done)
	// Each running job starts a grandchild that ignores SIGTERM and
	// writes its process ID, so the test can watch it die.
	var running []compute.BackendJobID
	for _, id := range []string{"r1", "r2"} {
		running = append(running, submit(id, `(trap '' TERM; sh -c 'echo $PPID' > `+id+`.pid; sleep 600) & while ! [ -s `+id+`.pid ]; do sleep 0.01; done; echo started; sleep 600`))
	}
	// A job being canceled: SIGTERM sent, SIGKILL an hour away (KillGrace).
	canceled := submit("canceled", `trap '' TERM; echo started; sleep 600`)
	for _, id := range append(running, canceled) {
		computetest.Wait(t, b, id, "running with output", func(s compute.Status) bool {
			return s.State == compute.Running && computetest.ReadLog(t, b, id, compute.Stdout, 0) == "started\n"
		})
	}
	if err := b.Cancel(ctx, canceled); err != nil {
		t.Fatal(err)
	}
	if n := b.Abandon("lost the scheduler's lease"); n != 3 {
		t.Fatalf("Abandon killed %d jobs, want 3", n)
	}
	// Abandon returns after each job is reaped and recorded.
	for _, id := range running {
		st, err := b.Status(ctx, id)
		if err != nil || st.State != compute.Failed || st.Reason != compute.ReasonLost || st.Detail != "lost the scheduler's lease" {
			t.Fatalf("%s after Abandon: %+v, %v", id, st, err)
		}
		raw, err := os.ReadFile(filepath.Join(work, string(id)+".pid"))
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
		if err != nil {
			t.Fatalf("%s.pid: %q", id, raw)
		}
		// SIGKILL went to the group before Abandon returned; the kernel
		// and init may take a moment to remove the grandchild.
		for deadline := time.Now().Add(time.Minute); alive(pid); time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("grandchild %d of %s still runs a minute after Abandon", pid, id)
			}
		}
	}
	if st, err := b.Status(ctx, canceled); err != nil || st.State != compute.Canceled {
		t.Fatalf("canceled job after Abandon: %+v, %v", st, err)
	}
	if st, err := b.Status(ctx, done); err != nil || st.State != compute.Completed {
		t.Fatalf("finished job after Abandon: %+v, %v", st, err)
	}
	if n := b.Abandon("again"); n != 0 {
		t.Fatalf("second Abandon killed %d", n)
	}
	if st := computetest.WaitFinal(t, b, submit("after", "echo after")); st.State != compute.Completed {
		t.Fatalf("job after Abandon: %+v", st)
	}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
