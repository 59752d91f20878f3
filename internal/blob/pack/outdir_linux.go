package pack

import (
	"os"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux a restored file costs six system calls: openat, write, fchmod,
// utimensat, close, renameat, all on descriptors or single names in an
// open directory. Through *os.File an open also tries to register the file
// with the poller (two fcntl pairs and an epoll_ctl that fails for
// regular files), and the times would be set by name.

// openOutDir opens dir (a slash path relative to root) through root, so
// that it cannot lead out of it, and keeps its descriptor.
func openOutDir(root *os.Root, dir string) (outDir, error) {
	f, err := root.Open(dir)
	if err != nil {
		return nil, err
	}
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	var fd int
	if err := rc.Control(func(d uintptr) { fd = int(d) }); err != nil {
		f.Close()
		return nil, err
	}
	return &fdDir{f: f, fd: fd}, nil
}

// fdDir is an outDir by descriptor. Names are single components (a
// manifest's base names or temp names), opened with O_NOFOLLOW.
type fdDir struct {
	f  *os.File // owns fd
	fd int
}

func retry(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

func (d *fdDir) create(name string) (outFile, error) {
	var fd int
	err := retry(func() (err error) {
		fd, err = unix.Openat(d.fd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
		return err
	})
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: name, Err: err}
	}
	return fdFile(fd), nil
}

func (d *fdDir) rename(from, to string) error {
	if err := unix.Renameat(d.fd, from, d.fd, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

func (d *fdDir) remove(name string) { unix.Unlinkat(d.fd, name, 0) }

func (d *fdDir) chtimes(name string, t time.Time) {
	ts := []unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	unix.UtimesNanoAt(d.fd, name, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func (d *fdDir) close() { d.f.Close() }

// fdFile is an outFile by descriptor.
type fdFile int

func (f fdFile) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		m, err := unix.Write(int(f), p[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return n, &os.PathError{Op: "write", Path: "restored file", Err: err}
		}
		n += m
	}
	return n, nil
}

func (f fdFile) chmod(mode uint32) error {
	return retry(func() error { return unix.Fchmod(int(f), mode&0o7777) })
}

func (f fdFile) setTimes(t time.Time) error { return futimens(uintptr(f), t) }

func (f fdFile) sync() error { return retry(func() error { return unix.Fsync(int(f)) }) }

// close does not retry on EINTR: on Linux the descriptor is gone either way.
func (f fdFile) close() error { return unix.Close(int(f)) }

// futimens sets the access and modification times of the file open as fd:
// utimensat(fd, NULL, …).
func futimens(fd uintptr, t time.Time) error {
	ts := [2]unix.Timespec{unix.NsecToTimespec(t.UnixNano()), unix.NsecToTimespec(t.UnixNano())}
	_, _, e := unix.Syscall6(unix.SYS_UTIMENSAT, fd, 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// setFileTimes sets f's access and modification times to t through its
// descriptor.
func setFileTimes(f *os.File, t time.Time) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno error
	if err := rc.Control(func(fd uintptr) { errno = futimens(fd, t) }); err != nil {
		return err
	}
	return errno
}
