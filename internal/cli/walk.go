package cli

import (
	"io/fs"
	"path/filepath"
)

func walkSizes(root string, n *int64) {
	filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				*n += fi.Size()
			}
		}
		return nil
	})
}
