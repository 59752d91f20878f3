package formats

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/genesis-science/genesis/internal/errors"
)

const (
	bibSample = "@article{k, title = {A title}}\n"
	risSample = "TY  - JOUR\nTI  - R title\nER  - \n"
)

// collect walks path and returns name → contents of every file fn saw.
func collect(t *testing.T, path string) (map[string]string, []string, error) {
	t.Helper()
	got := map[string]string{}
	var order []string
	err := Walk(context.Background(), path, func(name string, r io.Reader) error {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		got[name] = string(b)
		order = append(order, name)
		return nil
	})
	return got, order, err
}

func TestWalkDirectory(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("b.ris", risSample)
	write("a/x.bib", bibSample)
	write("a/notes.txt", "Notes\n\nplain text is a publication too")
	write("image.png", "\x89PNG\r\n\x1a\n")
	write("README.md", "# About this collection\n")
	write("a/LICENSE.txt", "CC BY 4.0\n")
	write(".git/config.bib", bibSample) // hidden directories are skipped
	outside := filepath.Join(t.TempDir(), "secret.bib")
	if err := os.WriteFile(outside, []byte(bibSample), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "link.bib")); err != nil {
		t.Fatal(err)
	}
	got, order, err := collect(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{filepath.Join(dir, "a/notes.txt"), filepath.Join(dir, "a/x.bib"), filepath.Join(dir, "b.ris")}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Fatalf("visited (-want +got):\n%s", diff)
	}
	if got[filepath.Join(dir, "b.ris")] != risSample {
		t.Errorf("contents: %q", got[filepath.Join(dir, "b.ris")])
	}
	// A single file is visited as itself; a missing path is NotExist.
	if _, order, err := collect(t, filepath.Join(dir, "b.ris")); err != nil || len(order) != 1 {
		t.Errorf("single file: %v %v", order, err)
	}
	if _, _, err := collect(t, filepath.Join(dir, "missing")); !errors.Is(errors.NotExist, err) {
		t.Errorf("missing path: %v", err)
	}
	// A device is never read (/dev/zero would never end).
	if _, _, err := collect(t, "/dev/zero"); !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "not a regular file") {
		t.Errorf("device: %v", err)
	}
}

type zipEntry struct {
	name string
	body []byte
	mode fs.FileMode
}

func writeZip(t *testing.T, entries []zipEntry) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.zip")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

type tarEntry struct {
	name, link string
	typ        byte
	body       []byte
}

func writeTar(t *testing.T, gz bool, entries []tarEntry) string {
	t.Helper()
	name := "a.tar"
	if gz {
		name = "a.tgz"
	}
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(f)
		w = zw
	}
	tw := tar.NewWriter(w)
	for _, e := range entries {
		typ := e.typ
		if typ == 0 {
			typ = tar.TypeReg
		}
		h := &tar.Header{Name: e.name, Linkname: e.link, Typeflag: typ, Mode: 0o644}
		if typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// Entries with traversal names and symbolic links are ignored; the rest
// are visited in name order as ARCHIVE/ENTRY.
func TestWalkArchives(t *testing.T) {
	zp := writeZip(t, []zipEntry{
		{name: "papers/b.ris", body: []byte(risSample)},
		{name: "papers/a.bib", body: []byte(bibSample)},
		{name: "../escape.bib", body: []byte(bibSample)},
		{name: "/abs.bib", body: []byte(bibSample)},
		{name: "papers/../../up.bib", body: []byte(bibSample)},
		{name: "link.bib", body: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777},
		{name: "papers/", mode: fs.ModeDir | 0o755},
		{name: "logo.png", body: []byte("\x89PNG\r\n\x1a\n")},
	})
	got, order, err := collect(t, zp)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{zp + "/papers/a.bib", zp + "/papers/b.ris"}, order); diff != "" {
		t.Fatalf("zip visited (-want +got):\n%s", diff)
	}
	if got[zp+"/papers/a.bib"] != bibSample {
		t.Errorf("zip contents %q", got[zp+"/papers/a.bib"])
	}
	for _, gz := range []bool{false, true} {
		tp := writeTar(t, gz, []tarEntry{
			{name: "b.ris", body: []byte(risSample)},
			{name: "../../etc/evil.bib", body: []byte(bibSample)},
			{name: "/abs.bib", body: []byte(bibSample)},
			{name: "sym.bib", link: "/etc/passwd", typ: tar.TypeSymlink},
			{name: "hard.bib", link: "b.ris", typ: tar.TypeLink},
			{name: "dir/", typ: tar.TypeDir},
			{name: "dir/a.bib", body: []byte(bibSample)},
		})
		got, order, err := collect(t, tp)
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		if diff := cmp.Diff([]string{tp + "/b.ris", tp + "/dir/a.bib"}, order); diff != "" {
			t.Fatalf("tar gz=%v visited (-want +got):\n%s", gz, diff)
		}
		if got[tp+"/dir/a.bib"] != bibSample {
			t.Errorf("tar contents %q", got[tp+"/dir/a.bib"])
		}
	}
}

// Each file reaches Parse whole, and Parse reads it: Walk and Parse
// together import an archive.
func TestWalkParse(t *testing.T) {
	tp := writeTar(t, true, []tarEntry{{name: "x.bib", body: []byte(bibSample)}, {name: "y.ris", body: []byte(risSample)}})
	var titles []string
	err := Walk(context.Background(), tp, func(name string, r io.Reader) error {
		docs, err := Parse(context.Background(), name, r, "")
		if err != nil {
			return err
		}
		titles = append(titles, docs[0].Title)
		return nil
	})
	if err != nil || strings.Join(titles, "|") != "A title|R title" {
		t.Fatalf("titles %v, err %v", titles, err)
	}
	// An error from fn stops the walk and comes back.
	stop := errors.E(errors.Invalid, "stop here")
	n := 0
	err = Walk(context.Background(), tp, func(string, io.Reader) error { n++; return stop })
	if n != 1 || !errors.Is(errors.Invalid, err) || !strings.Contains(err.Error(), "stop here") {
		t.Fatalf("fn error: n=%d err=%v", n, err)
	}
}

func TestWalkZipBomb(t *testing.T) {
	zeros := make([]byte, 16<<20) // deflates about 1000:1
	zp := writeZip(t, []zipEntry{{name: "bomb.txt", body: zeros}})
	_, _, err := collect(t, zp)
	if !errors.Is(errors.TooLarge, err) || !strings.Contains(errors.SafeMessage(err), "compressed more than 200:1") {
		t.Fatalf("zip bomb: %v", err)
	}
	// The same in a tar.gz, where only the bytes actually inflated count.
	tp := writeTar(t, true, []tarEntry{{name: "bomb.txt", body: zeros}})
	called := false
	err = Walk(context.Background(), tp, func(name string, r io.Reader) error {
		called = true
		_, err := io.Copy(io.Discard, r)
		return err
	})
	if !errors.Is(errors.TooLarge, err) || !strings.Contains(errors.SafeMessage(err), "compressed more than 200:1") {
		t.Fatalf("tgz bomb: %v (fn called: %v)", err, called)
	}
	// A big but ordinary entry (text compresses far less) passes.
	var text bytes.Buffer
	for i := 0; text.Len() < 3<<20; i++ {
		text.WriteString(strings.Repeat("word", i%7+1) + " ")
		text.WriteString(string(rune('a' + i%26)))
		if i%13 == 0 {
			text.WriteString(".\n\n")
		}
	}
	tp = writeTar(t, true, []tarEntry{{name: "big.txt", body: text.Bytes()}})
	if _, order, err := collect(t, tp); err != nil || len(order) != 1 {
		t.Fatalf("ordinary large text: %v %v", order, err)
	}
}

// The budget refuses more than MaxArchiveBytes whatever the ratio.
func TestArchiveBudget(t *testing.T) {
	b := &budget{archive: "x.tar", compressed: func() int64 { return 1 << 40 }}
	if err := b.add(MaxArchiveBytes); err != nil {
		t.Fatalf("at the bound: %v", err)
	}
	if err := b.add(1); !errors.Is(errors.TooLarge, err) || !strings.Contains(errors.SafeMessage(err), "more than 1024 MiB uncompressed") {
		t.Fatalf("past the bound: %v", err)
	}
	b = &budget{archive: "x.zip", compressed: func() int64 { return 1000 }}
	if err := b.add(ratioSlack); err != nil {
		t.Fatalf("within the slack: %v", err)
	}
	if err := b.add(1); !errors.Is(errors.TooLarge, err) {
		t.Fatalf("past the ratio: %v", err)
	}
}

func TestWalkTooManyEntries(t *testing.T) {
	entries := make([]zipEntry, MaxArchiveEntries+1)
	for i := range entries {
		entries[i] = zipEntry{name: "f" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + ".bib"}
	}
	_, _, err := collect(t, writeZip(t, entries))
	if !errors.Is(errors.TooLarge, err) || !strings.Contains(errors.SafeMessage(err), "10001 entries, more than the 10000") {
		t.Fatalf("zip: %v", err)
	}
	tentries := make([]tarEntry, MaxArchiveEntries+1)
	for i := range tentries {
		tentries[i] = tarEntry{name: "e.txt"}
	}
	_, _, err = collect(t, writeTar(t, false, tentries))
	if !errors.Is(errors.TooLarge, err) || !strings.Contains(errors.SafeMessage(err), "more than 10000 entries") {
		t.Fatalf("tar: %v", err)
	}
}

func TestWalkNestedArchive(t *testing.T) {
	inner := writeZip(t, []zipEntry{{name: "a.bib", body: []byte(bibSample)}})
	innerBytes, err := os.ReadFile(inner)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(bibSample))
	zw.Close()
	for _, tc := range []struct {
		name string
		body []byte
	}{
		{"inner.zip", innerBytes},
		{"disguised.xml", innerBytes}, // a zip by its magic number
		{"paper.bib.gz", gz.Bytes()},
		{"x.tar", []byte("not even a tar")},
	} {
		zp := writeZip(t, []zipEntry{{name: "a.ris", body: []byte(risSample)}, {name: tc.name, body: tc.body}})
		_, _, err := collect(t, zp)
		if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "nested archives are refused") {
			t.Errorf("%s in a zip: %v", tc.name, err)
		}
		tp := writeTar(t, true, []tarEntry{{name: tc.name, body: tc.body}})
		_, _, err = collect(t, tp)
		if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "nested archives are refused") {
			t.Errorf("%s in a tgz: %v", tc.name, err)
		}
	}
}

func TestWalkCorruptArchive(t *testing.T) {
	p := filepath.Join(t.TempDir(), "broken.zip")
	os.WriteFile(p, []byte("PK\x03\x04 this is not a zip"), 0o644)
	if _, _, err := collect(t, p); !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "not a readable zip archive") {
		t.Errorf("zip: %v", err)
	}
	p = filepath.Join(t.TempDir(), "broken.tgz")
	os.WriteFile(p, []byte("not gzip"), 0o644)
	if _, _, err := collect(t, p); !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "not a gzip file") {
		t.Errorf("tgz: %v", err)
	}
}

// A truncated archive fails naming the archive, not as an internal error.
func TestWalkTruncated(t *testing.T) {
	var text bytes.Buffer
	for i := 0; text.Len() < 200<<10; i++ {
		fmt.Fprintf(&text, "line %d of a long text file\n", i*7919%10007)
	}
	tp := writeTar(t, true, []tarEntry{{name: "a.txt", body: text.Bytes()}, {name: "b.txt", body: text.Bytes()}})
	data, _ := os.ReadFile(tp)
	cut := filepath.Join(t.TempDir(), "cut.tgz")
	os.WriteFile(cut, data[:len(data)/2], 0o644)
	err := Walk(context.Background(), cut, func(name string, r io.Reader) error {
		_, err := io.Copy(io.Discard, io.LimitReader(r, 100))
		return err
	})
	if !errors.Is(errors.Invalid, err) || !strings.Contains(errors.SafeMessage(err), "cut.tgz") {
		t.Fatalf("got %v (kind %v)", err, errors.KindOf(err))
	}
}
