//go:build linux

package local_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/genesis-science/genesis/internal/compute"
	"github.com/genesis-science/genesis/internal/compute/computetest"
	"github.com/genesis-science/genesis/internal/compute/local"
)

// treeScript is a job whose first attempt starts a grandchild that keeps
// writing, then waits for ever; a later attempt just records that it ran.
const treeScript = `echo "$GENESIS_JOB_ID" >> runs
if [ "$GENESIS_JOB_ID" = tree ]; then
	(while :; do echo x >> grandchild.out; sleep 0.05; done) &
	echo $! > g.tmp && mv g.tmp grandchild.pid
	echo $$ > j.tmp && mv j.tmp job.pid
	while :; do sleep 1; done
fi`

// TestJobTreeDiesWithBackend: the process running a local backend (a
// replica holding the scheduler's lease) is killed with SIGKILL while a job
// runs that started a process of its own. Every process of the job goes
// with it — none keeps running, or writing, while the job is run again —
// and the job, reported lost by the backend restarted on the directory, is
// run again once under its next submission ID (what the scheduler does
// with a lost job: jobs.submissionID).
func TestJobTreeDiesWithBackend(t *testing.T) {
	if dir := os.Getenv("GENESIS_LOCAL_TREE_DIR"); dir != "" {
		treeHelper(t, dir, os.Getenv("GENESIS_LOCAL_TREE_WORK"))
		return
	}
	dir, work := t.TempDir(), computetest.WorkDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestJobTreeDiesWithBackend$")
	cmd.Env = append(os.Environ(), "GENESIS_LOCAL_TREE_DIR="+dir, "GENESIS_LOCAL_TREE_WORK="+work)
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
	// Every process the backend's process started, and theirs: the
	// reaper, the job's shell and its grandchild (with whatever sleep it
	// runs at the moment).
	procs := descendants(cmd.Process.Pid)
	for _, name := range []string{"job.pid", "grandchild.pid"} {
		pid := readPID(t, work, name)
		if _, ok := procs[pid]; !ok {
			cmd.Process.Kill()
			t.Fatalf("%s %d is not among the helper's descendants %v", name, pid, procs)
		}
	}
	reapers := 0
	for pid := range procs {
		if argv, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); strings.HasPrefix(string(argv), "genesis-local-reaper\x00") {
			reapers++
		}
	}
	if reapers != 1 {
		cmd.Process.Kill()
		t.Fatalf("%d reapers among the helper's descendants, want 1", reapers)
	}

	cmd.Process.Kill() // kill -9: nothing of the backend runs any more
	cmd.Wait()
	for pid, start := range procs {
		// Gone, a zombie, or the PID reused: not this process running.
		alive := func() bool { return procStart(pid) == start && procState(pid) != "Z" }
		for deadline := time.Now().Add(time.Minute); alive() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		if alive() {
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("process %d (%q) outlived the backend's process", pid, cmdline)
		}
	}
	written := fileSize(t, filepath.Join(work, "grandchild.out"))

	b2, err := local.New(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b2.Close()
	ctx := context.Background()
	if st, err := b2.Status(ctx, "tree"); err != nil || st.State != compute.Failed || st.Reason != compute.ReasonLost {
		t.Fatalf("the job after the restart: %+v, %v; want lost", st, err)
	}
	for range 2 { // Submit is idempotent: the second is the same run
		if _, err := b2.Submit(ctx, compute.Request{ID: "tree.a1", Spec: computetest.Shell(treeScript, time.Minute), WorkDir: work}); err != nil {
			t.Fatal(err)
		}
	}
	if st := computetest.WaitFinal(t, b2, "tree.a1"); st.State != compute.Completed {
		t.Fatalf("rerun: %+v", st)
	}
	runs, err := os.ReadFile(filepath.Join(work, "runs"))
	if err != nil || string(runs) != "tree\ntree.a1\n" {
		t.Errorf("runs = %q, %v; want the first attempt and one rerun", runs, err)
	}
	if n := fileSize(t, filepath.Join(work, "grandchild.out")); n != written {
		t.Errorf("the first attempt's grandchild wrote on after its backend died (%d bytes, then %d)", written, n)
	}
}

func treeHelper(t *testing.T, dir, work string) {
	b, err := local.New(dir, local.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Submit(context.Background(), compute.Request{ID: "tree", Spec: computetest.Shell(treeScript, time.Hour), WorkDir: work}); err != nil {
		t.Fatal(err)
	}
	for {
		_, e1 := os.Stat(filepath.Join(work, "job.pid"))
		_, e2 := os.Stat(filepath.Join(work, "grandchild.out"))
		if e1 == nil && e2 == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	fmt.Println("ready")
	select {}
}

// descendants returns the processes descending from pid, with their start
// times.
func descendants(pid int) map[int]string {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if f := procStat(p); len(f) > 1 {
			ppid, _ := strconv.Atoi(f[1])
			children[ppid] = append(children[ppid], p)
		}
	}
	out := map[int]string{}
	var walk func(int)
	walk = func(p int) {
		for _, c := range children[p] {
			if _, seen := out[c]; !seen {
				out[c] = procStart(c)
				walk(c)
			}
		}
	}
	walk(pid)
	return out
}

func readPID(t *testing.T, dir, name string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, name))
	n, err2 := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || err2 != nil {
		t.Fatalf("%s: %q, %v", name, data, err)
	}
	return n
}

// procStat returns the fields of /proc/PID/stat after the command name.
func procStat(pid int) []string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(string(data[i+1:]))
}

// procStart is the process's start time (against PID reuse), "" if none.
func procStart(pid int) string {
	if f := procStat(pid); len(f) > 19 {
		return f[19]
	}
	return ""
}

func procState(pid int) string {
	if f := procStat(pid); len(f) > 0 {
		return f[0]
	}
	return ""
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
