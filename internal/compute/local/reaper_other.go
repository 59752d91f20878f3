//go:build !linux

package local

import (
	"os/exec"
	"syscall"
)

// Without Linux's PR_SET_PDEATHSIG and /proc/self/exe there is no reaper:
// a job outlives this process if it is killed, until a backend restarted
// on the same directory kills its group (recover).
type reaper struct{}

func startReaper() (*reaper, error)            { return nil, nil }
func (r *reaper) send(op byte, pgid int) error { return nil }
func (r *reaper) close()                       {}

func jobAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func startJob(cmd *exec.Cmd) error { return cmd.Start() }
