package pack

import (
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// setFileTimes sets f's access and modification times to t through its
// descriptor: utimensat(fd, NULL, …), which is futimens(3).
func setFileTimes(f *os.File, t time.Time) error {
	ts := [2]unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno error
	err = rc.Control(func(fd uintptr) {
		_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
		if e != 0 {
			errno = e
		}
	})
	if err != nil {
		return err
	}
	return errno
}
