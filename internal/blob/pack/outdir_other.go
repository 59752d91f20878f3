//go:build !linux

package pack

import (
	"errors"
	"os"
	"time"
)

// openOutDir opens dir as an os.Root of its own.
func openOutDir(root *os.Root, dir string) (outDir, error) { return openRootDir(root, dir) }

// setFileTimes is not available here: Restore sets the times by name.
func setFileTimes(*os.File, time.Time) error { return errors.ErrUnsupported }
