//go:build !linux

package localdisk

import "os"

// startWriteback does nothing where sync_file_range(2) does not exist:
// Sync's fsync writes everything.
func startWriteback(*os.File) {}
