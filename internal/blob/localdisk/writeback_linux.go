package localdisk

import (
	"os"

	"golang.org/x/sys/unix"
)

// startWriteback asks the kernel to start writing f's dirty pages to the
// disk now, without waiting (sync_file_range SYNC_FILE_RANGE_WRITE). The
// later fsync in Sync then finds most of a large upload already written
// and waits for little more than the journal, instead of for the whole
// upload at once after the last chunk: the disk works while the CPUs hash.
// It promises nothing about durability, and failing is harmless (fsync
// still does all of it).
func startWriteback(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		unix.SyncFileRange(int(fd), 0, 0, unix.SYNC_FILE_RANGE_WRITE)
	})
}
