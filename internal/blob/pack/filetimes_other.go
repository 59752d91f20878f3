//go:build !linux

package pack

import (
	"errors"
	"os"
	"time"
)

// setFileTimes is not available here: Restore sets the times by name.
func setFileTimes(*os.File, time.Time) error { return errors.ErrUnsupported }
