package store_test

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/store"
)

// FuzzParseRequires fuzzes the reader of a migration's
// "-- store: requires NNNN" line, seeded with every shipped migration:
// it returns 0 exactly when no line starts with the marker, otherwise a
// positive version that the line spells, and one body with the line
// printed back reads the same.
func FuzzParseRequires(f *testing.F) {
	fsys := store.MigrationFiles()
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if b, err := fs.ReadFile(fsys, p); err == nil {
				f.Add(string(b))
			}
		}
		return nil
	})
	f.Add(store.RequiresLine + "34\nALTER TABLE x DROP COLUMN y;")
	f.Add("  " + store.RequiresLine + " 0007 \n")
	f.Add(store.RequiresLine + "-1\n")
	f.Add(store.RequiresLine + "1\n" + store.RequiresLine + "1\n")
	f.Fuzz(func(t *testing.T, body string) {
		n, err := store.ParseRequires(body)
		lines := 0
		for _, l := range strings.Split(body, "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), store.RequiresLine) {
				lines++
			}
		}
		switch {
		case err != nil:
			if lines == 0 {
				t.Fatalf("error %v for a body without the marker", err)
			}
			if n != 0 {
				t.Fatalf("error %v with version %d", err, n)
			}
			return
		case lines == 0:
			if n != 0 {
				t.Fatalf("version %d without the marker", n)
			}
			return
		case lines > 1:
			t.Fatalf("%d marker lines accepted", lines)
		}
		if n <= 0 {
			t.Fatalf("version %d accepted", n)
		}
		if !strings.Contains(body, strconv.Itoa(n)) { // "0007" and "+7" hold "7"
			t.Fatalf("version %d not spelt in %q", n, body)
		}
		m, err := store.ParseRequires(fmt.Sprintf("%s%d\nSELECT 1;", store.RequiresLine, n))
		if err != nil || m != n {
			t.Fatalf("printed back: %d, %v; want %d", m, err, n)
		}
	})
}
