//go:build linux

package local

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

// On Linux a job does not outlive the process that started it, even when
// that process is killed with SIGKILL and nothing of it can clean up: a
// replica killed while holding the scheduler's lease must not leave its
// jobs running while the next holder runs them again. Two mechanisms:
//
//   - Each backend has a reaper: this same executable started again
//     (/proc/self/exe, argv[0] = reaperArg0, so this package's init runs
//     reap instead of the program), reading a pipe on which the backend
//     names each running job's process group. When the backend's process
//     dies, the kernel closes the pipe's write end; the reaper reads EOF
//     and kills every group still named — the job and whatever it started
//     that stayed in its group (what leaves it, by setsid or setpgid, is
//     beyond this; a cgroup would be needed).
//   - The job itself (its group's leader) carries PR_SET_PDEATHSIG =
//     SIGKILL, for the moment between its start and its group being named
//     to the reaper. PR_SET_PDEATHSIG fires when the *thread* that forked
//     the child exits, not the process, so jobs are started from one
//     goroutine locked to its OS thread for good (spawner).
const reaperArg0 = "genesis-local-reaper"

func init() {
	if len(os.Args) > 0 && os.Args[0] == reaperArg0 {
		os.Exit(reap(os.Stdin))
	}
}

// reap reads "+PGID" and "-PGID" lines until EOF, then kills each group
// named and not yet withdrawn.
func reap(in *os.File) int {
	groups := map[int]bool{}
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		line := sc.Text()
		if len(line) < 2 {
			continue
		}
		pgid, err := strconv.Atoi(line[1:])
		if err != nil || pgid <= 1 {
			continue
		}
		switch line[0] {
		case '+':
			groups[pgid] = true
		case '-':
			delete(groups, pgid)
		}
	}
	for pgid := range groups {
		syscall.Kill(-pgid, syscall.SIGKILL)
	}
	return 0
}

// reaper is the backend's end of its reaper process.
type reaper struct {
	cmd *exec.Cmd
	w   *os.File
}

func startReaper() (*reaper, error) {
	rd, wr, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	cmd := &exec.Cmd{
		Path:  "/proc/self/exe",
		Args:  []string{reaperArg0},
		Stdin: rd,
		// Its own group: a signal to this process's group (a terminal's
		// ^C) is not its end; EOF is.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		wr.Close()
		return nil, fmt.Errorf("starting the job reaper: %w", err)
	}
	return &reaper{cmd: cmd, w: wr}, nil
}

// send names (+) or withdraws (-) a job's process group.
func (r *reaper) send(op byte, pgid int) error {
	_, err := r.w.Write([]byte(string(op) + strconv.Itoa(pgid) + "\n"))
	return err
}

// close ends the reaper: it kills the groups still named (none, after
// Close killed and reaped every job) and exits.
func (r *reaper) close() {
	r.w.Close()
	r.cmd.Wait()
}

// jobAttr is the SysProcAttr of a job: the leader of its own process
// group, killed if the thread that started it (spawner's) ends.
func jobAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// spawner starts jobs from one goroutine locked to its OS thread for the
// life of the process (see PR_SET_PDEATHSIG above).
var spawner struct {
	once sync.Once
	reqs chan spawnRequest
}

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

func startJob(cmd *exec.Cmd) error {
	spawner.once.Do(func() {
		spawner.reqs = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must not end
			for r := range spawner.reqs {
				r.done <- r.cmd.Start()
			}
		}()
	})
	r := spawnRequest{cmd, make(chan error, 1)}
	spawner.reqs <- r
	return <-r.done
}
